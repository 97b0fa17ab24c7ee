#!/bin/sh
# bench/links: data-plane benchmark of the virtual links (BENCH.md §3).
#
# Two substrate hosts (namespaces) joined by one veth pair, one virtual
# node on each.  Configurations, side by side in one run:
#   plain          the node's packets routed over the same veth pair
#   kernel-vxlan   kernel VXLAN devices, bridged to the node's veth
#   ebpf-*/user-*  vnsm's backends, attached directly to the node's veth
# Per configuration: TCP throughput (iperf3), 64-byte UDP rate (iperf3 -u
# -l 64, packets received per second) and ping RTT.
#
# The machine is shared and noisy, so the runs are interleaved: round r
# sets up and measures every configuration once (in an order rotated by
# one each round), then round r + 1 does it again.  A slow minute hurts
# every configuration alike instead of one.  Reported: the median over the
# rounds with min and max, the ratios of medians to plain and to kernel
# VXLAN, and paired ratios: per round, each configuration against plain
# and kernel VXLAN of that same round, median (min-max) over the rounds.  With PIN=1 (default) the iperf3 client is pinned to CPU 0
# and the server to CPU 1, so every configuration gets the same placement.
# Steal time and load average are printed so a noisy run shows itself.
#
# With LINKS=N (N > 1) it measures N links at once instead: N node pairs,
# one link (own key) each, N parallel iperf3 TCP streams and N parallel
# UDP senders; the figure is the sum over the links.
#
# Usage: sh bench/links/run.sh BUILD_DIR     (make bench runs it through
# $(BUILD)/bench/links).  Env: RUNS rounds (5), DUR seconds per
# measurement (3), PIN (1), LINKS (1), CONFIGS (all), e.g.
# CONFIGS="plain kernel-vxlan ebpf-gre".
set -u
B=${1:-build}
RUNS=${RUNS:-5}
DUR=${DUR:-3}
PIN=${PIN:-1}
LINKS=${LINKS:-1}
CONFIGS=${CONFIGS:-"plain kernel-vxlan ebpf-ipip ebpf-gre ebpf-vxlan user-ipip user-gre user-vxlan"}
VTUN="$B/tools/vtun"
P="vt$$"
T=$(mktemp -d "/tmp/${P}.XXXXXX")
PIDS=""
NCPU=$(nproc)

for t in iperf3 ping taskset; do
	command -v $t >/dev/null || { echo "bench/links: $t missing (make deps)"; exit 1; }
done
[ -x "$VTUN" ] || { echo "bench/links: $VTUN not built"; exit 1; }
[ "$LINKS" -ge 1 ] && [ "$LINKS" -le 32 ] || { echo "bench/links: LINKS 1..32"; exit 1; }

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	for ns in h1 h2; do ip netns del "${P}$ns" 2>/dev/null; done
	k=1
	while [ $k -le "$LINKS" ]; do
		ip netns del "${P}n1_$k" 2>/dev/null
		ip netns del "${P}n2_$k" 2>/dev/null
		k=$((k + 1))
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

nsx() { ns=$1; shift; ip netns exec "${P}$ns" "$@"; }

# Prefixes that pin a command to CPU 0 (clients) or CPU 1 (servers).
CPU0=""
CPU1=""
if [ "$PIN" = 1 ] && [ "$NCPU" -ge 2 ]; then
	CPU0="taskset -c 0"
	CPU1="taskset -c 1"
fi

# Topology ---------------------------------------------------------------
# Node pair k: n1_k on h1, n2_k on h2; host ports ${P}a1_k / ${P}a2_k.  Inner
# addresses are the same for every pair: only the keys keep them apart.
for ns in h1 h2; do
	ip netns add "${P}$ns" || exit 1
	ip -n "${P}$ns" link set lo up
done
ip -n "${P}h1" link add "${P}u1" type veth peer name "${P}u2" netns "${P}h2"
ip -n "${P}h1" addr add 10.99.0.1/24 dev "${P}u1"
ip -n "${P}h2" addr add 10.99.0.2/24 dev "${P}u2"
ip -n "${P}h1" link set "${P}u1" up
ip -n "${P}h2" link set "${P}u2" up
for i in 1 2; do
	nsx "h$i" sysctl -qw net.ipv4.ip_forward=1
	k=1
	while [ $k -le "$LINKS" ]; do
		n="n${i}_$k"
		a="${P}a${i}_$k"
		ip netns add "${P}$n" || exit 1
		ip -n "${P}$n" link set lo up
		ip -n "${P}h$i" link add "$a" type veth peer name eth0 netns "${P}$n"
		ip -n "${P}h$i" link set "$a" up
		ip -n "${P}$n" link set eth0 up
		# Tunnelled VNet address, and a routed one for the baseline:
		# 10.$((10 + k)).i.2 behind 10.$((10 + k)).i.1 on the host.
		ip -n "${P}$n" addr add "192.168.7.$i/24" dev eth0
		ip -n "${P}$n" addr add "10.$((10 + k)).$i.2/24" dev eth0
		ip -n "${P}$n" route add "10.$((10 + k)).$((3 - i)).0/24" via "10.$((10 + k)).$i.1"
		ip -n "${P}h$i" addr add "10.$((10 + k)).$i.1/24" dev "$a"
		ip -n "${P}h$i" route add "10.$((10 + k)).$((3 - i)).0/24" via "10.99.0.$((3 - i))"
		k=$((k + 1))
	done
done

# One configuration: set it up; dst K prints the address to measure on
# pair K.
setup() {
	case $1 in
	plain)
		mtu=1500
		;;
	kernel-vxlan)
		mtu=1450
		for i in 1 2; do
			spec=""
			k=1
			while [ $k -le "$LINKS" ]; do
				spec="$spec name=l$k,encap=vxlan,key=$((41 + k)),local=10.99.0.$i,remote=10.99.0.$((3 - i)),attach=bridge,bridge=${P}br$k,node=${P}a${i}_$k"
				k=$((k + 1))
			done
			# shellcheck disable=SC2086
			vtun_up "$i" -b kernel $spec || return 1
		done
		;;
	*)
		be=${1%%-*}
		enc=${1#*-}
		case $enc in
		ipip) mtu=1480 ;;
		gre) mtu=1472 ;;
		vxlan) mtu=1450 ;;
		esac
		for i in 1 2; do
			spec=""
			k=1
			while [ $k -le "$LINKS" ]; do
				# IPIP has no key: one underlay address pair per link.
				if [ "$enc" = ipip ]; then
					key=
					lo="10.99.$((k - 1)).$i"
					re="10.99.$((k - 1)).$((3 - i))"
				else
					key="key=$((41 + k)),"
					lo="10.99.0.$i"
					re="10.99.0.$((3 - i))"
				fi
				spec="$spec name=l$k,encap=$enc,${key}local=$lo,remote=$re,node=${P}a${i}_$k"
				k=$((k + 1))
			done
			# shellcheck disable=SC2086
			vtun_up "$i" -b "$be" $spec || return 1
		done
		;;
	esac
	k=1
	while [ $k -le "$LINKS" ]; do
		for i in 1 2; do
			ip -n "${P}n${i}_$k" link set eth0 mtu "$mtu"
			ip -n "${P}n${i}_$k" neigh flush all
		done
		k=$((k + 1))
	done
	return 0
}
dst() {
	if [ "$CUR" = plain ]; then
		echo "10.$((10 + $1)).2.2"
	else
		echo 192.168.7.2
	fi
}

# Extra underlay addresses for IPIP's one-pair-per-link.
k=2
while [ $k -le "$LINKS" ]; do
	ip -n "${P}h1" addr add "10.99.$((k - 1)).1/24" dev "${P}u1"
	ip -n "${P}h2" addr add "10.99.$((k - 1)).2/24" dev "${P}u2"
	k=$((k + 1))
done

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
			echo "bench/links: vtun did not come up" >&2
			return 1
		fi
		sleep 0.1
	done
	return 0
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
		k=1
		while [ $k -le "$LINKS" ]; do
			ip -n "${P}h$i" link del "${P}br$k" 2>/dev/null
			ip -n "${P}h$i" link set "${P}a${i}_$k" up
			# The user backend turns routing off on its node ports.
			nsx "h$i" sysctl -qw "net.ipv4.conf.${P}a${i}_$k.forwarding=1"
			k=$((k + 1))
		done
	done
}

# "min med max" of the numbers on stdin.
stats3() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "0 0 0"; exit }
		printf "%s %s %s\n", v[1], v[int((NR + 1) / 2)], v[NR] }'
}

# Steal and total jiffies from /proc/stat.
cpustat() {
	awk '$1 == "cpu" { t = 0; for (i = 2; i <= NF; i++) t += $i; print $9, t }' /proc/stat
}

# One measurement of configuration $CUR (set up): appends one line to
# $T/$CUR.tcp, .udp and .rtt.  Servers on CPU 1, clients on CPU 0.
measure() {
	c=$CUR
	k=1
	srv=""
	while [ $k -le "$LINKS" ]; do
		$CPU1 ip netns exec "${P}n2_$k" iperf3 -s -p 5201 >/dev/null 2>&1 &
		srv="$srv $!"
		PIDS="$PIDS $!"
		k=$((k + 1))
	done
	sleep 0.3
	# Warm the neighbour caches and check every path works at all.
	k=1
	while [ $k -le "$LINKS" ]; do
		if ! nsx "n1_$k" ping -n -q -c 2 -i 0.2 -w 4 "$(dst $k)" >/dev/null 2>&1; then
			echo "bench/links: $c: no connectivity on link $k" >&2
			echo 0 >>"$T/$c.tcp"
			echo 0 >>"$T/$c.udp"
			for p in $srv; do kill "$p" 2>/dev/null; done
			return
		fi
		k=$((k + 1))
	done
	# TCP: every pair at once, the sum of the receivers' rates.
	cli=""
	k=1
	while [ $k -le "$LINKS" ]; do
		timeout $((DUR + 10)) $CPU0 ip netns exec "${P}n1_$k" \
		    iperf3 -c "$(dst $k)" -t "$DUR" -f m >"$T/tcp.$k" 2>/dev/null &
		cli="$cli $!"
		k=$((k + 1))
	done
	wait_clients
	cat_clients tcp | awk '/receiver/ { for (i = 1; i <= NF; i++)
	    if ($i == "Mbits/sec") s += $(i - 1) / 1000 } END { print s + 0 }' \
	    >>"$T/$c.tcp"
	# 64-byte UDP, unlimited rate: packets received per second, summed.
	cli=""
	k=1
	while [ $k -le "$LINKS" ]; do
		timeout $((DUR + 10)) $CPU0 ip netns exec "${P}n1_$k" \
		    iperf3 -c "$(dst $k)" -u -l 64 -b 0 -t "$DUR" >"$T/udp.$k" 2>/dev/null &
		cli="$cli $!"
		k=$((k + 1))
	done
	wait_clients
	cat_clients udp | awk -v d="$DUR" '/receiver/ { for (i = 1; i <= NF; i++)
	    if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, a, "/"); s += (a[2] - a[1]) / d / 1000 } }
	    END { print s + 0 }' >>"$T/$c.udp"
	nsx n1_1 ping -n -q -c 10 -i 0.05 -w 5 "$(dst 1)" 2>/dev/null |
	    awk -F/ '/^rtt/ { print $5 * 1000 }' >>"$T/$c.rtt"
	for p in $srv; do kill "$p" 2>/dev/null; done
	for p in $srv; do wait "$p" 2>/dev/null; done
}
wait_clients() {
	for j in $cli; do
		wait "$j" 2>/dev/null
	done
}
cat_clients() {
	k=1
	while [ $k -le "$LINKS" ]; do
		cat "$T/$1.$k"
		k=$((k + 1))
	done
}

s0=$(cpustat)
l0=$(cut -d' ' -f1-3 /proc/loadavg)
set -- $CONFIGS
ncfg=$#
rnd=0
while [ $rnd -lt "$RUNS" ]; do
	# Rotate the order by the round so no configuration always goes first.
	# (The helpers use i, j, k and n: the loop has names of its own.)
	ci=0
	while [ $ci -lt $ncfg ]; do
		cj=$(((ci + rnd) % ncfg + 1))
		eval "CUR=\${$cj}"
		echo "bench/links: round $((rnd + 1))/$RUNS: $CUR" >&2
		if setup "$CUR"; then
			measure
		else
			echo 0 >>"$T/$CUR.tcp"
			echo 0 >>"$T/$CUR.udp"
		fi
		echo "$rnd $CUR $(tail -n 1 "$T/$CUR.tcp") $(tail -n 1 "$T/$CUR.udp")" >>"$T/rounds"
		teardown
		ci=$((ci + 1))
	done
	rnd=$((rnd + 1))
done
s1=$(cpustat)
l1=$(cut -d' ' -f1-3 /proc/loadavg)

: >"$T/results"
for c in $CONFIGS; do
	echo "$c $(stats3 <"$T/$c.tcp") $(stats3 <"$T/$c.udp") $(stats3 <"$T/$c.rtt" | cut -d' ' -f2)" >>"$T/results"
done

echo
echo "bench/links: $RUNS interleaved rounds x ${DUR}s, $LINKS link(s) at once, PIN=$PIN," \
    "$NCPU CPUs; TCP Gbit/s, UDP 64-byte kpps received (sums over the links), RTT us (link 1)"
echo "$s0 $s1" | awk '{ st = $3 - $1; t = $4 - $2; printf "steal %.1f%% of CPU time during the run; ", t ? 100 * st / t : 0 }'
echo "load average $l0 before, $l1 after"
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

# Paired ratios: each configuration against plain and kernel VXLAN of the
# same round (measured within a minute of it), median over the rounds.
# Slow drifts of the machine's load cancel out of these.
echo
echo "paired ratios, median over rounds (min-max): TCP vs plain, TCP vs kvxlan, UDP vs plain, UDP vs kvxlan"
awk '
	{ v[$1, $2, "t"] = $3; v[$1, $2, "u"] = $4; cfg[$2] = 1; if (!($2 in ord)) { ord[$2] = ++nc; name[nc] = $2 }
	  if ($1 + 1 > nr) nr = $1 + 1 }
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return sprintf("%5.2fx (%4.2f-%4.2f)", a[int((n + 1) / 2)], a[1], a[n])
	}
	function col(c, base, f,   r, n, a) {
		n = 0
		for (r = 0; r < nr; r++)
			if (v[r, base, f] > 0 && ((r, c, f) in v)) a[++n] = v[r, c, f] / v[r, base, f]
		return n ? med(a, n) : "        -         "
	}
	END {
		for (i = 1; i <= nc; i++) {
			c = name[i]
			printf "%-13s %s  %s  %s  %s\n", c, col(c, "plain", "t"), col(c, "kernel-vxlan", "t"),
			    col(c, "plain", "u"), col(c, "kernel-vxlan", "u")
		}
	}' "$T/rounds"
