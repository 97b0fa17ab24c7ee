#!/bin/sh
# bench/links: data-plane benchmark of the virtual links (BENCH.md §3).
#
# Two substrate hosts (namespaces) joined by one veth pair, one virtual
# node on each.  For each configuration, side by side in one run:
#   plain          the node's packets routed over the same veth pair
#   kernel-vxlan   kernel VXLAN devices, bridged to the node's veth
#   ebpf-*/user-*  vnsm's backends, attached directly to the node's veth
# it measures TCP throughput (iperf3), 64-byte UDP rate (iperf3 -u -l 64,
# packets received per second) and ping RTT, RUNS times each, and prints
# min/median/max and the ratios of the medians to plain and kernel-vxlan.
#
# Usage: sh bench/links/run.sh BUILD_DIR     (make bench runs it through
# $(BUILD)/bench/links).  Env: RUNS (3), DUR seconds per run (3),
# CONFIGS (all) e.g. "plain kernel-vxlan ebpf-gre".
set -u
B=${1:-build}
RUNS=${RUNS:-3}
DUR=${DUR:-3}
CONFIGS=${CONFIGS:-"plain kernel-vxlan ebpf-ipip ebpf-gre ebpf-vxlan user-ipip user-gre user-vxlan"}
VTUN="$B/tools/vtun"
P="vt$$"
T=$(mktemp -d "/tmp/${P}.XXXXXX")
PIDS=""

for t in iperf3 ping; do
	command -v $t >/dev/null || { echo "bench/links: $t missing (make deps)"; exit 1; }
done
[ -x "$VTUN" ] || { echo "bench/links: $VTUN not built"; exit 1; }

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for ns in h1 h2 n1 n2; do ip netns del "${P}$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

nsx() { ns=$1; shift; ip netns exec "${P}$ns" "$@"; }

# Topology ---------------------------------------------------------------
for ns in h1 h2 n1 n2; do
	ip netns add "${P}$ns" || exit 1
	ip -n "${P}$ns" link set lo up
done
ip -n "${P}h1" link add "${P}u1" type veth peer name "${P}u2" netns "${P}h2"
ip -n "${P}h1" addr add 10.99.0.1/24 dev "${P}u1"
ip -n "${P}h2" addr add 10.99.0.2/24 dev "${P}u2"
ip -n "${P}h1" link set "${P}u1" up
ip -n "${P}h2" link set "${P}u2" up
for i in 1 2; do
	ip -n "${P}h$i" link add "${P}a$i" type veth peer name eth0 netns "${P}n$i"
	ip -n "${P}h$i" link set "${P}a$i" up
	ip -n "${P}n$i" link set eth0 up
	# Tunnelled VNet address, and a routed one for the plain baseline.
	ip -n "${P}n$i" addr add "192.168.7.$i/24" dev eth0
	ip -n "${P}n$i" addr add "10.10.$i.2/24" dev eth0
	ip -n "${P}n$i" route add "10.10.$((3 - i)).0/24" via "10.10.$i.1"
	ip -n "${P}h$i" addr add "10.10.$i.1/24" dev "${P}a$i"
	ip -n "${P}h$i" route add "10.10.$((3 - i)).0/24" via "10.99.0.$((3 - i))"
	nsx "h$i" sysctl -qw net.ipv4.ip_forward=1
done

# One configuration: set it up, print DST (the address to measure) ------
setup() {
	case $1 in
	plain)
		mtu=1500
		DST=10.10.2.2
		;;
	kernel-vxlan)
		mtu=1450
		DST=192.168.7.2
		for i in 1 2; do
			vtun_up "$i" -b kernel "name=l,encap=vxlan,key=42,local=10.99.0.$i,remote=10.99.0.$((3 - i)),attach=bridge,bridge=${P}br,node=${P}a$i"
		done
		;;
	*)
		be=${1%%-*}
		enc=${1#*-}
		case $enc in
		ipip) mtu=1480; key= ;;
		gre) mtu=1472; key=key=42, ;;
		vxlan) mtu=1450; key=key=42, ;;
		esac
		DST=192.168.7.2
		for i in 1 2; do
			vtun_up "$i" -b "$be" "name=l,encap=$enc,${key}local=10.99.0.$i,remote=10.99.0.$((3 - i)),node=${P}a$i"
		done
		;;
	esac
	for i in 1 2; do
		ip -n "${P}n$i" link set eth0 mtu "$mtu"
		ip -n "${P}n$i" neigh flush all
	done
}

VT=""
vtun_up() {
	i=$1
	shift
	ip netns exec "${P}h$i" "$VTUN" "$@" >"$T/vt$i.out" 2>"$T/vt$i.err" &
	VT="$VT $!"
	PIDS="$PIDS $!"
	n=0
	while ! grep -q '^ready' "$T/vt$i.out" 2>/dev/null; do
		n=$((n + 1))
		if [ $n -gt 100 ]; then
			cat "$T/vt$i.err"
			echo "bench/links: vtun did not come up"
			exit 1
		fi
		sleep 0.1
	done
}

teardown() {
	for p in $VT; do kill "$p" 2>/dev/null; done
	for p in $VT; do
		n=0
		while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
	done
	VT=""
	for i in 1 2; do
		ip -n "${P}h$i" link del "${P}br" 2>/dev/null
		ip -n "${P}h$i" link set "${P}a$i" up
	done
}

# median/min/max of numbers on stdin: "min med max"
stats3() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "0 0 0"; exit }
		printf "%s %s %s\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

measure() {
	name=$1
	nsx n2 iperf3 -s -p 5201 >/dev/null 2>&1 &
	srv=$!
	PIDS="$PIDS $srv"
	sleep 0.5
	# Warm the neighbour caches and check the path works at all.
	if ! nsx n1 ping -n -q -c 2 -i 0.2 -w 4 "$DST" >/dev/null 2>&1; then
		echo "$name: no connectivity" >&2
		echo "$name 0 0 0 0 0 0 0" >>"$T/results"
		kill "$srv"
		return
	fi
	: >"$T/tcp"
	: >"$T/udp"
	r=0
	while [ $r -lt "$RUNS" ]; do
		timeout $((DUR + 10)) ip netns exec "${P}n1" iperf3 -c "$DST" -t "$DUR" -f m 2>/dev/null |
		    awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) / 1000 }' >>"$T/tcp"
		timeout $((DUR + 10)) ip netns exec "${P}n1" iperf3 -c "$DST" -u -l 64 -b 0 -t "$DUR" 2>/dev/null |
		    awk -v d="$DUR" '/receiver/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) {
			split($i, a, "/"); print (a[2] - a[1]) / d / 1000 } }' >>"$T/udp"
		r=$((r + 1))
	done
	rtt=$(nsx n1 ping -n -q -c 20 -i 0.05 -w 10 "$DST" 2>/dev/null |
	    awk -F/ '/^rtt/ { print $5 * 1000 }')
	echo "$name $(stats3 <"$T/tcp") $(stats3 <"$T/udp") ${rtt:-0}" >>"$T/results"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
}

: >"$T/results"
for c in $CONFIGS; do
	echo "bench/links: $c ..." >&2
	setup "$c"
	measure "$c"
	teardown
done

echo
echo "bench/links: $RUNS runs x ${DUR}s per figure; TCP in Gbit/s, UDP 64-byte in kpps received, RTT in us"
awk '
	{ n[NR] = $1; tmin[NR] = $2; t[NR] = $3; tmax[NR] = $4
	  umin[NR] = $5; u[NR] = $6; umax[NR] = $7; rtt[NR] = $8
	  if ($1 == "plain") { pt = $3; pu = $6 }
	  if ($1 == "kernel-vxlan") { kt = $3; ku = $6 } }
	END {
	  printf "%-13s %20s %20s %7s  %-21s %-21s\n", "config", "TCP min/med/max",
	      "UDP64 min/med/max", "RTT", "TCP vs plain/kvxlan", "UDP vs plain/kvxlan"
	  for (i = 1; i <= NR; i++)
		printf "%-13s %6.2f/%6.2f/%6.2f %6.0f/%6.0f/%6.0f %7.0f  %5.2fx / %5.2fx      %5.2fx / %5.2fx\n",
		    n[i], tmin[i], t[i], tmax[i], umin[i], u[i], umax[i], rtt[i],
		    pt ? t[i] / pt : 0, kt ? t[i] / kt : 0,
		    pu ? u[i] / pu : 0, ku ? u[i] / ku : 0
	}' "$T/results"
