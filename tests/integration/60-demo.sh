#!/bin/sh
# End to end, as `make demo` runs it, under its own names so that it can
# run beside a user's demo: two PIPs, six agents, one vnpd, ref5 created
# through vno.  Asserts every step, then that demo-down leaves nothing.
set -u
B=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/../.." || exit 1
export VNSM_DEMO_NAME="vnsm-t$$"
export VNSM_DEMO_NET="10.78.$(($$ % 200 + 20))"
export VNSM_DEMO_TAG="t$$"
export POOL_DEPTH=1
D=/run/$VNSM_DEMO_NAME
log=$(mktemp)
fail=0
trap 'sh scripts/demo.sh down "$B" >/dev/null 2>&1; rm -f "$log"' EXIT

check() {	# check DESCRIPTION COMMAND...
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then
		echo "ok    $what"
	else
		echo "FAIL  $what"
		fail=1
	fi
}
has() { grep -q -- "$1" "$log"; }
# A process that still runs (this machine's init may leave zombies).
alive() { grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$1/status"; }

if ! timeout 120 sh scripts/demo.sh up "$B" >"$log" 2>&1; then
	echo "FAIL  the demo did not come up; its output:"
	tail -n 40 "$log"
	for f in "$D"/log/*.log; do echo "--- $f"; tail -n 15 "$f"; done
	exit 1
fi
check "nine daemons running" test "$(wc -l <"$D/pids")" -eq 9
check "vno create reports ready" has "ref5: ready in"
check "every node running" test "$(grep -c '^  [a-e]  *running' "$log")" -ge 5
check "every link up" test "$(grep -c '^  [a-e]-[a-e]  *up ' "$log")" -eq 5
check "step times reported" has "virtualization"
check "a pings e across the PIP boundary" has "3 received"
check "e's console answers" has "10.0.5.2/24"

export VNO_CONFIG="$D/etc/vno.conf"
status=$(timeout 20 "$B/bin/vno" status ref5 --output xml 2>&1)
check "manifest says ready" sh -c "printf '%s' '$status' | grep -q 'state=\"ready\"'"
check "vno exec returns the command's exit code" sh -c \
    "! timeout 20 '$B/bin/vno' exec ref5 a -- false"
out=$(timeout 20 sh scripts/demo.sh up "$B" 2>&1)
rc=$?
check "a second demo exits non-zero" test $rc -ne 0
check "a second demo says so" sh -c "printf '%s' '$out' | grep -q 'already running'"

pids=$(awk '{print $1}' "$D/pids")
sh scripts/demo.sh down "$B" >/dev/null 2>&1
check "no namespace left" sh -c \
    "! ip netns list | grep -qE '^($VNSM_DEMO_NAME|vn-$VNSM_DEMO_TAG)'"
left=""
for p in $pids; do alive "$p" && left="$left $p"; done
check "no daemon left" test -z "$left"
check "nothing left under /run" test ! -e "$D"
check "no link left in the root namespace" sh -c \
    "! ip link show '$VNSM_DEMO_NAME' 2>/dev/null | grep -q ."
[ $fail -eq 0 ] && echo "demo end to end: every step as expected"
exit $fail
