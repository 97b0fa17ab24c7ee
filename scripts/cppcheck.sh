#!/bin/sh
# Static analysis of our own sources; any finding fails the check.
set -u
exec cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
    --enable=warning,portability,performance \
    --suppress=missingIncludeSystem --suppress=unknownMacro \
    -D__GNUC__ -Ilib -Itunnels \
    lib tunnels pip-mgmt vnp-noc vno-console substrate-agent bench
