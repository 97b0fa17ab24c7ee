#!/bin/sh
# Transits (tunnels/tunnel.h): three hosts on one L2 underlay, A -- T -- B.
# A node on A and one on B; their link ends both point at T, where a
# transit joins (key KA from A) with (key KB to B).  Ping A <-> B must
# pass, tshark on T's underlay must show both legs with their own keys,
# the transit's counters must move, and a wrong key must still be dropped
# and counted at T.  The kernel and user backends must refuse a transit.
# Usage: 43-tunnels-transit.sh BUILD_DIR
set -u
B=${1:-build}
P="vx$$"
T=$(mktemp -d "/tmp/${P}.XXXXXX")
VTUN="$B/tools/vtun"
fails=0
PIDS=""

nsx() { ns=$1; shift; ip netns exec "$ns" "$@"; }
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
die() { echo "FAIL $*"; exit 1; }

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
	done
	for ns in sw ha ht hb na nb; do
		ip netns del "${P}$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ -x "$VTUN" ] || die "$VTUN not built"
command -v tshark >/dev/null || die "tshark not installed"

# The underlay: a bridge in ${P}sw, one port per host, 10.98.0.1/.2/.3.
ip netns add "${P}sw" || die "netns sw"
ip -n "${P}sw" link add br0 type bridge && ip -n "${P}sw" link set br0 up
n=1
for h in ha ht hb; do
	ip netns add "${P}$h" || die "netns $h"
	ip -n "${P}$h" link set lo up
	ip -n "${P}sw" link add "s$h" type veth peer name "${P}u" netns "${P}$h" ||
		die "veth $h"
	ip -n "${P}sw" link set "s$h" master br0 up
	ip -n "${P}$h" addr add "10.98.0.$n/24" dev "${P}u"
	ip -n "${P}$h" link set "${P}u" up
	n=$((n + 1))
done
# Nodes: na on ha (192.168.8.1), nb on hb (192.168.8.2), port ${P}p.
for x in a b; do
	ip netns add "${P}n$x" || die "netns n$x"
	ip -n "${P}h$x" link add "${P}p" type veth peer name eth0 netns "${P}n$x" ||
		die "node veth $x"
	ip -n "${P}h$x" link set "${P}p" up
	ip -n "${P}n$x" link set lo up
	ip -n "${P}n$x" link set eth0 up
done
ip -n "${P}na" addr add 192.168.8.1/24 dev eth0
ip -n "${P}nb" addr add 192.168.8.2/24 dev eth0

# vtun_start TAG HOSTNS ARGS...: wait (<= 10 s) for "ready".
vtun_start() {
	tag=$1
	h=$2
	shift 2
	# Emptied here, not by the redirection (done in the child, maybe
	# after the first grep): the last vtun of this tag said "ready" too.
	: >"$T/$tag.out"
	ip netns exec "${P}$h" "$VTUN" -s "$T/$tag.stats" "$@" \
	    >"$T/$tag.out" 2>"$T/$tag.err" &
	eval "PID_$tag=$!"
	PIDS="$PIDS $!"
	i=0
	while ! grep -q '^ready' "$T/$tag.out" 2>/dev/null; do
		if [ $i -ge 100 ] || ! kill -0 "$(eval echo \$PID_$tag)" 2>/dev/null; then
			cat "$T/$tag.err"
			die "vtun $tag did not come up"
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

vtun_stop() {
	p=$(eval echo \$PID_$1)
	kill "$p" 2>/dev/null
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$p" 2>/dev/null
	wait "$p"
	rc=$?
	[ $rc -eq 0 ] || { bad "vtun $1 exited with status $rc"; tail -n 20 "$T/$1.err"; }
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$p" | tr '\n' ' ')
}

# stat TAG KIND NAME FIELD: one counter, fresh (KIND link or transit;
# "stat TAG - - -" for unknown_drops).
stat() {
	p=$(eval echo \$PID_$1)
	rm -f "$T/$1.stats"
	kill -USR1 "$p"
	i=0
	while [ ! -f "$T/$1.stats" ] && [ $i -lt 50 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if [ "$2" = - ]; then
		awk '$1 == "unknown_drops" { print $2 }' "$T/$1.stats"
	else
		awk -v k="$2" -v l="$3" -v f="$4" '$1 == k && $2 == l {
			for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }' \
		    "$T/$1.stats"
	fi
}

in_echos() {
	nsx "${P}$1" awk '$1 == "Icmp:" && !n++ {
		for (i = 2; i <= NF; i++) if ($i == "InEchos") c = i }
	    $1 == "Icmp:" && n == 2 { print $c }' /proc/net/snmp
}

ping_ok() {
	nsx "${P}$1" ping -n -q -c 3 -i 0.2 -w 5 "$2" >/dev/null 2>&1
}

capture_start() {
	rm -f "$T/cap.pcap" "$T/cap.err"
	ip netns exec "${P}ht" tshark -n -q -i "${P}u" -a duration:20 \
	    -w "$T/cap.pcap" >/dev/null 2>"$T/cap.err" &
	CAP=$!
	PIDS="$PIDS $CAP"
	i=0
	while ! grep -q "Capturing on" "$T/cap.err" 2>/dev/null; do
		[ $i -ge 100 ] && die "tshark did not start"
		sleep 0.1
		i=$((i + 1))
	done
}

capture_stop() {
	sleep 0.3
	kill -INT "$CAP" 2>/dev/null
	i=0
	while kill -0 "$CAP" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$CAP" | tr '\n' ' ')
}

count() {
	tshark -n -r "$T/cap.pcap" -Y "$1" -T fields -e frame.number 2>/dev/null |
	    wc -l
}

# check ENCAP KA KB MTU FILTERA FILTERB: one encapsulation end to end.
check() {
	enc=$1
	ka=$2
	kb=$3
	for x in a b; do
		ip -n "${P}n$x" link set eth0 mtu "$4"
		ip -n "${P}n$x" neigh flush all
	done
	vtun_start a ha "name=l,encap=$enc,key=$ka,local=10.98.0.1,remote=10.98.0.2,node=${P}p"
	vtun_start b hb "name=l,encap=$enc,key=$kb,local=10.98.0.3,remote=10.98.0.2,node=${P}p"
	vtun_start t ht "transit=t,encap=$enc,local=10.98.0.2,remote1=10.98.0.1,key1=$ka,remote2=10.98.0.3,key2=$kb"

	capture_start
	ping_ok na 192.168.8.2 && ok "$enc: ping A -> B through the transit" ||
		bad "$enc: ping A -> B through the transit"
	ping_ok nb 192.168.8.1 && ok "$enc: ping B -> A through the transit" ||
		bad "$enc: ping B -> A through the transit"
	capture_stop
	a=$(count "$5 && ip.src == 10.98.0.1 && ip.dst == 10.98.0.2 && icmp.type == 8")
	b=$(count "$6 && ip.src == 10.98.0.2 && ip.dst == 10.98.0.3 && icmp.type == 8")
	[ "$a" -gt 0 ] && [ "$b" -gt 0 ] &&
		ok "$enc: tshark on T: leg A->T key $ka ($a), leg T->B key $kb ($b)" ||
		bad "$enc: tshark on T: leg A->T key $ka: $a, leg T->B key $kb: $b"
	a=$(count "$6 && ip.src == 10.98.0.3 && ip.dst == 10.98.0.2 && icmp.type == 8")
	b=$(count "$5 && ip.src == 10.98.0.2 && ip.dst == 10.98.0.1 && icmp.type == 8")
	[ "$a" -gt 0 ] && [ "$b" -gt 0 ] &&
		ok "$enc: tshark on T: leg B->T key $kb ($a), leg T->A key $ka ($b)" ||
		bad "$enc: tshark on T: leg B->T key $kb: $a, leg T->A key $ka: $b"
	p1=$(stat t transit t packets1)
	p2=$(stat t transit t packets2)
	[ "${p1:-0}" -ge 6 ] && [ "${p2:-0}" -ge 6 ] &&
		ok "$enc: transit counters: $p1 from A, $p2 from B" ||
		bad "$enc: transit counters: '$p1' from A, '$p2' from B, want >= 6"

	# A wrong key from A: dropped and counted at T, reaches no node.
	d0=$(stat t - - -)
	e0=$(in_echos nb)
	nsx "${P}ha" "$VTUN" inject "name=x,encap=$enc,key=$((ka + 1)),local=10.98.0.1,remote=10.98.0.2" 5 ||
		bad "$enc: inject"
	sleep 0.3
	d1=$(stat t - - -)
	[ "$(in_echos nb)" = "$e0" ] && [ $((d1 - d0)) -ge 5 ] &&
		ok "$enc: wrong key dropped at T ($((d1 - d0)) unknown-key drops)" ||
		bad "$enc: wrong key: drops $d0 -> $d1, B's echos $e0 -> $(in_echos nb)"
	# The right key injected from A is carried on (vtun's inner packet is
	# not addressed to B's node, so the transit's counter tells).
	c0=$(stat t transit t packets1)
	nsx "${P}ha" "$VTUN" inject "name=x,encap=$enc,key=$ka,local=10.98.0.1,remote=10.98.0.2" 2
	sleep 0.3
	c1=$(stat t transit t packets1)
	[ $((c1 - c0)) -ge 2 ] && ok "$enc: injected right key crosses T" ||
		bad "$enc: injected right key: transit counter $c0 -> $c1"
	vtun_stop t
	vtun_stop a
	vtun_stop b
}

# Started directly, not through nsx: $! must be the process that becomes
# vtun (ip netns exec execs it), or the kill below misses it.
ip netns exec "${P}ht" "$VTUN" -b ebpf -s "$T/probe.stats" \
    "transit=t,encap=gre,local=10.98.0.2,remote1=10.98.0.1,key1=1,remote2=10.98.0.3,key2=2" \
    >"$T/probe.out" 2>"$T/probe.err" </dev/null &
pp=$!
PIDS="$PIDS $pp"
i=0
while ! grep -q '^ready' "$T/probe.out" 2>/dev/null && kill -0 $pp 2>/dev/null &&
    [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill $pp 2>/dev/null
wait $pp 2>/dev/null
PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$pp" | tr '\n' ' ')
grep -q '^ready' "$T/probe.out" || { cat "$T/probe.err"; die "ebpf transit does not come up"; }

check gre 100 200 1472 "gre.key == 100" "gre.key == 200"
check gretap 300 400 1458 "gre.key == 300" "gre.key == 400"
check vxlan 500 600 1450 "vxlan.vni == 500" "vxlan.vni == 600"

# Same-side duplicate and the backends without transits.
for be in kernel user; do
	o=$(nsx "${P}ht" "$VTUN" -b "$be" "transit=t,encap=gre,local=10.98.0.2,remote1=10.98.0.1,key1=1,remote2=10.98.0.3,key2=2" 2>&1 </dev/null)
	case $o in
	*"cannot join two tunnels"*) ok "$be backend refuses a transit clearly" ;;
	*) bad "$be backend: transit: $o" ;;
	esac
done
o=$(nsx "${P}ht" "$VTUN" -b ebpf "name=l,encap=gre,key=7,local=10.98.0.2,remote=10.98.0.1,node=lo" \
    "transit=t,encap=gre,local=10.98.0.2,remote1=10.98.0.1,key1=7,remote2=10.98.0.3,key2=2" 2>&1 </dev/null)
case $o in
*"already uses gre key 7"*) ok "a transit cannot take a link's key" ;;
*) bad "transit over a link's key: $o" ;;
esac

[ $fails -eq 0 ] && echo "PASS 43-tunnels-transit" || echo "FAIL 43-tunnels-transit: $fails"
[ $fails -eq 0 ]
