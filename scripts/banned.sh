#!/bin/sh
# Refuse the C string functions that cannot be used safely.
set -u
hits=$(grep -rnE '\b(strcpy|sprintf|strcat|gets|vsprintf)[[:space:]]*\(' \
    --include='*.c' --include='*.h' lib tunnels pip-mgmt vnp-noc \
    vno-console substrate-agent tests bench 2>/dev/null)
if [ -n "$hits" ]; then
	echo "banned string functions (use snprintf / str_lcpy):"
	echo "$hits"
	exit 1
fi
echo "no banned functions"
