#!/bin/sh
# make demo — the first thing a new user runs.
#
# The full demo (two PIPs with three hosts each in network namespaces,
# ref5 created through vno, a ping from a to e across the PIP boundary)
# needs substrated, pipd and vnpd, which are being built (README, "What
# works today").  Until then this checks the reference VNet with the
# same code the daemons use, and says what is next.
set -eu
B=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "== vnsm demo"
echo "-- the reference VNet, examples/ref5.xml:"
"$B/bin/vno" validate -v examples/ref5.xml
sed -n 's/.*<node name="\([^"]*\)".*pip="\([^"]*\)".*/   node \1 on \2/p' \
    examples/ref5.xml
sed -n 's/.*<link name="\([^"]*\)".*/   link \1/p' examples/ref5.xml
echo "-- every example document:"
"$B/bin/vno" validate -v examples/*.xml
echo
echo "The multi-PIP demo (vnpd, two pipd, six substrated on namespaces)"
echo "is not built yet; README.md says what works today."
