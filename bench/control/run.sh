#!/bin/sh
# bench/control: the control plane at scale (BENCH.md §4).
#
# Substrate agents with the sim driver (drivers sim: no namespaces, no
# devices, nodes in memory), PIPS pipd with HOSTS agents each, one vnpd,
# all on loopback (agent h of PIP p listens on 127.1+h/250.p.h%250+1:7443),
# run as one process per host.  Phases:
#
#   1. churn: C clients for D seconds: create a VNet through vnpd
#      (POST, then GET until ready), delete it.  VNets per second, p50 /
#      p99 of create (to ready) and of delete.  The VNet: two netns nodes
#      and one link (1 Mbit), which discovery at PIP places on one host.
#   2. admission at pipd, straight (as its VNP, no vnpd): C clients for
#      D seconds POST /v1/slices (allocate = the admission decision, with
#      the state write) and delete what was accepted; one request in three
#      asks for more CPU than the PIP has (409).  On pip1.
#   3. memory: VmRSS of vnpd and of each pipd (and the agents' summed
#      Pss) with 0 live VNets and after filling to each K of KS;
#      bytes per live VNet = (RSS at K - RSS at 0) / K (per pipd: / the
#      VNets it holds).
#   4. restart of pip1 with its share of the largest K in its store:
#      SIGTERM then start, and kill -9 then start; time from the start
#      until GET /v1/advertisement answers, and the slices it reports
#      (pipd_slices) against the number before.
#
# Usage: sh bench/control/run.sh BUILD_DIR     (root not needed)
# Env: PIPS (10), HOSTS per PIP (10), C (8), D seconds (20), KS ("1000
# 10000"), REPORT report interval of the agents, told to the pipds too
# (30s; a pipd takes a host for down after 3 silent intervals), KEEP=1 keeps the scratch
# dir.
set -u
B=${1:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
BIN=$B/bin
top=$(cd "$(dirname "$0")/../.." && pwd)
PIPS=${PIPS:-10}
HOSTS=${HOSTS:-10}
C=${C:-8}
D=${D:-20}
KS=${KS:-"1000 10000"}
REPORT=${REPORT:-30s}
BASE=${BASE_PORT:-$((20000 + $$ % 20000))}	# pipd p: BASE+p, vnpd: BASE
T=$(mktemp -d /tmp/vnsm-control.XXXXXX)
PIDS=""
LOAD="python3 $top/bench/control/load.py"

for p in vnpd pipd substrated; do
	[ -x "$BIN/$p" ] || { echo "bench/control: $BIN/$p not built"; exit 1; }
done
for t in python3 curl openssl; do
	command -v $t >/dev/null || { echo "bench/control: $t missing"; exit 1; }
done
[ "$PIPS" -ge 1 ] && [ "$PIPS" -le 250 ] && [ "$HOSTS" -ge 1 ] &&
    [ "$HOSTS" -le 2000 ] || { echo "bench/control: PIPS 1..250, HOSTS 1..2000"; exit 1; }

cleanup() {
	for p in $PIDS; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

now_ms() { echo $(($(date +%s%N) / 1000000)); }
ca() { sh "$top/scripts/vnsm-ca" "$@" >/dev/null || { echo "vnsm-ca $* failed"; exit 1; }; }
aaddr() {	# aaddr PIP HOST -> the agent's address
	echo "127.$((1 + ($2 - 1) / 250)).$1.$((($2 - 1) % 250 + 1))"
}
rss() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/^.*) //' "/proc/$1/stat" | grep -q '^Z'; }
CURL="curl -s -m 2 --cacert $T/ca/ca.crt --cert $T/ca/vnp1.crt --key $T/ca/vnp1.key"
slices() {	# slices PORT: the slices a pipd reports, every state
	$CURL "https://127.0.0.1:$1/metrics" |
	    awk '/^pipd_slices\{/ {s += $2} END {print s + 0}'
}

echo "bench/control: PIPS=$PIPS HOSTS=$HOSTS (agents $((PIPS * HOSTS))) C=$C D=$D KS=\"$KS\" REPORT=$REPORT"
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"

# Certificates and configurations ----------------------------------------
t0=$(now_ms)
ca init "$T/ca"
ca issue "$T/ca" --role vnpd --name vnp1 --san IP:127.0.0.1
ca issue "$T/ca" --role vno --name alice
p=1
while [ $p -le "$PIPS" ]; do
	ca issue "$T/ca" --role pipd --name "pip$p" --san IP:127.0.0.1
	cat >"$T/pip$p.conf" <<E2
name pip$p
listen 127.0.0.1:$((BASE + p))
ca $T/ca/ca.crt
cert $T/ca/pip$p.crt
key $T/ca/pip$p.key
state $T/pip$p.db
pidfile $T/pip$p.pid
lease 86400
report-interval $REPORT
[vnp vnp1]
advertise full
E2
	h=1
	while [ $h -le "$HOSTS" ]; do
		n=p${p}h$h
		a=$(aaddr $p $h)
		ca issue "$T/ca" --role substrated --name $n --san IP:$a
		cat >>"$T/pip$p.conf" <<E2
[host $n]
agent $a:7443
underlay $a
cpu 1000
memory 1TiB
interfaces 60000
kinds netns
E2
		cat >"$T/$n.conf" <<E2
listen $a:7443
ca $T/ca/ca.crt
cert $T/ca/$n.crt
key $T/ca/$n.key
pipd pip$p
pipd-address 127.0.0.1:$((BASE + p))
host $n
pip pip$p
underlay $a
underlay-interface lo
id-prefix bc
state $T/$n.db
pidfile $T/$n.pid
run-dir $T/$n.run
drivers sim
tunnel-backend none
report-interval $REPORT
cpu 1000
memory 1TiB
interfaces 60000
E2
		h=$((h + 1))
	done
	p=$((p + 1))
done
{
	cat <<E2
listen 127.0.0.1:$BASE
ca $T/ca/ca.crt
cert $T/ca/vnp1.crt
key $T/ca/vnp1.key
state $T/vnpd.db
pidfile $T/vnpd.pid
discovery pip
lease 86400
timeout 30000
E2
	p=1
	while [ $p -le "$PIPS" ]; do
		printf '[pip pip%s]\naddress 127.0.0.1:%s\n' $p $((BASE + p))
		p=$((p + 1))
	done
} >"$T/vnpd.conf"
echo "setup: $((PIPS * HOSTS)) agent certificates and configurations in $(($(now_ms) - t0)) ms"

# Daemons -------------------------------------------------------------------
t0=$(now_ms)
p=1
while [ $p -le "$PIPS" ]; do
	"$BIN/pipd" -d -f "$T/pip$p.conf" >>"$T/pip$p.log" 2>&1 &
	PIDS="$PIDS $!"
	eval "PIPD$p=$!"
	h=1
	while [ $h -le "$HOSTS" ]; do
		"$BIN/substrated" -d -f "$T/p${p}h$h.conf" >>"$T/p${p}h$h.log" 2>&1 &
		PIDS="$PIDS $!"
		AGENTS="${AGENTS:-} $!"
		h=$((h + 1))
	done
	p=$((p + 1))
done
"$BIN/vnpd" -d -f "$T/vnpd.conf" >>"$T/vnpd.log" 2>&1 &
VNPD=$!
PIDS="$PIDS $VNPD"
# Up: vnpd answers, and every agent listens (ss), bounded to 120 s.
i=0
want=$((PIPS * HOSTS))
while :; do
	n=$(ss -Hltn 'sport = :7443' 2>/dev/null | grep -c '127\.[1-9]')
	$CURL --cert "$T/ca/alice.crt" --key "$T/ca/alice.key" \
	    "https://127.0.0.1:$BASE/v1/vnets" >/dev/null 2>&1 &&
	    [ "$n" -ge "$want" ] && break
	i=$((i + 1))
	[ $i -lt 1200 ] || { echo "bench/control: not up after 120 s ($n/$want agents listen)"; exit 1; }
	if [ $((i % 20)) = 1 ]; then
		for x in $AGENTS; do
			alive "$x" && continue
			echo "bench/control: an agent died:"
			tail -n 3 "$T"/p*h*.log | grep -v '^$' | sort | uniq -c | head -5
			exit 1
		done
	fi
	sleep 0.1
done
for x in $AGENTS; do alive "$x" || { echo "bench/control: an agent died (logs: KEEP=1)"; exit 1; }; done
echo "started: $PIPS pipd, $want substrated, vnpd in $(($(now_ms) - t0)) ms"
apss() {	# summed Pss of the agents, bytes
	for x in $AGENTS; do
		awk '/^Pss:/ {print $2}' "/proc/$x/smaps_rollup" 2>/dev/null
	done | awk '{s += $1} END {printf "%.0f\n", s * 1024}'
}
sleep 1
set -- $AGENTS
echo "substrated: one $(( $(rss "$1") / 1024 )) KiB RSS; all $want: $(( $(apss) / 1048576 )) MiB Pss"

VNO="$T/ca/ca.crt $T/ca/alice.crt $T/ca/alice.key"
VNP="$T/ca/ca.crt $T/ca/vnp1.crt $T/ca/vnp1.key"

# 1. churn -------------------------------------------------------------------
adm0=$($CURL "https://127.0.0.1:$((BASE + 1))/metrics" | awk '/^pipd_admission_total/ {s += $2} END {print s + 0}')
$LOAD churn "127.0.0.1:$BASE" $VNO "$C" "$D" ch >"$T/churn.out" || exit 1
adm1=$($CURL "https://127.0.0.1:$((BASE + 1))/metrics" | awk '/^pipd_admission_total/ {s += $2} END {print s + 0}')
# 2. admission at pip1 ---------------------------------------------------------
$LOAD admit "127.0.0.1:$((BASE + 1))" $VNP "$C" "$D" pip1 >"$T/admit.out" || exit 1

# 3. memory ---------------------------------------------------------------------
mem_row() {	# mem_row K
	v=$(rss $VNPD)
	ps=0
	p=1
	pl=""
	while [ $p -le "$PIPS" ]; do
		eval "x=\$PIPD$p"
		pl="$pl $(rss "$x"):$(slices $((BASE + p)))"
		p=$((p + 1))
	done
	echo "$1 $v $(apss)$pl" >>"$T/mem"
}
: >"$T/mem"
mem_row 0
have=0
held=0
for k in $KS; do
	$LOAD fill "127.0.0.1:$BASE" $VNO "$C" "$have" "$k" lv >>"$T/fill.out" || exit 1
	have=$k
	# The row is labelled with the VNets really held, not the K asked.
	held=$((held + $(awk '/^made/ {n = $2} END {print n + 0}' "$T/fill.out")))
	sleep 1
	mem_row "$held"
done

# 4. restart of pip1 -------------------------------------------------------------
# Not in a subshell: it records the new pipd in PIPD1 and PIDS.
restart() {	# restart SIGNAL -> R="ms slices_after"
	R="timeout -"
	x=$PIPD1
	kill "-$1" "$x"
	j=0
	while alive "$x" && [ $j -lt 600 ]; do sleep 0.05; j=$((j + 1)); done
	alive "$x" && return
	s=$(now_ms)
	"$BIN/pipd" -d -f "$T/pip1.conf" >>"$T/pip1.log" 2>&1 &
	PIPD1=$!
	PIDS="$PIDS $!"
	j=0
	until $CURL -o /dev/null -f "https://127.0.0.1:$((BASE + 1))/v1/advertisement"; do
		j=$((j + 1))
		[ $j -lt 6000 ] || return
		sleep 0.01
	done
	R="$(($(now_ms) - s)) $(slices $((BASE + 1)))"
}
before=$(slices $((BASE + 1)))
restart TERM
r_term=$R
restart KILL
r_kill=$R

# Report ------------------------------------------------------------------------
echo
echo "Control plane at scale: $PIPS PIPs x $HOSTS hosts = $want sim agents, vnpd, on loopback"
echo
echo "1. VNet create + delete through vnpd -> pipd -> agents, $C clients, $D s"
echo "   (VNet: 2 netns nodes + 1 link, discovery at PIP)"
awk -v a0="$adm0" -v a1="$adm1" '
/^cycles/ {printf "   %d VNets created and deleted (%d failed) in %.1f s: %.1f VNets/s\n", $2, $4, $6, $2 / $6; s = $6}
/^create|^delete/ {printf "   %-7s p50 %7.1f ms   p99 %7.1f ms   max %7.1f ms\n", $1, $5, $7, $9}
END {printf "   admission decisions at pip1 meanwhile: %d (%.1f/s)\n", a1 - a0, (a1 - a0) / s}' "$T/churn.out"
echo
echo "2. Admission at pip1 (POST /v1/slices as its VNP, no provisioning; one in three"
echo "   refused: 2 TiB asked), $C clients, $D s"
awk '/^decisions/ {printf "   %d decisions (%d accepted, %d refused, %d errors) in %.1f s: %.0f decisions/s\n", $2, $4, $6, $8, $10, $2 / $10}
/^allocate/ {printf "   allocate p50 %.1f ms   p99 %.1f ms   max %.1f ms\n", $5, $7, $9}' "$T/admit.out"
echo
echo "3. Memory with K live VNets (RSS; K = VNets really held; per VNet = (RSS(K) - RSS(0)) / K)"
awk '/^made/ {printf "   fill: %d VNets made (%d failed) in %.1f s (%.1f/s)\n", $2, $4, $6, $2 / $6}
/^failed/ {print "     " $0}' "$T/fill.out"
printf '   %8s %12s %10s %12s %10s %12s %10s\n' K "vnpd MiB" "B/VNet" "pipd MiB" "B/slice" "agents MiB" "B/VNet"
awk 'NR == 1 {v0 = $2; a0 = $3; for (i = 4; i <= NF; i++) {split($i, x, ":"); p0[i] = x[1]}; n = NF - 3}
{	ps = 0; pn = 0; pd = 0
	for (i = 4; i <= NF; i++) {split($i, x, ":"); ps += x[1]; pn += x[2]; pd += x[1] - p0[i]}
	printf "   %8d %12.1f %10s %12.1f %10s %12.1f %10s\n", $1, $2 / 1048576,
	    $1 ? sprintf("%.0f", ($2 - v0) / $1) : "-", ps / n / 1048576,
	    pn ? sprintf("%.0f", pd / pn) : "-", $3 / 1048576,
	    $1 ? sprintf("%.0f", ($3 - a0) / $1) : "-"
}' "$T/mem"
echo "   (pipd MiB: mean over the $PIPS pipd; B/slice: summed growth / summed slices)"
echo
echo "4. Restart of pip1 with $before slices in its store: start -> GET /v1/advertisement answers"
echo "   after SIGTERM:  ${r_term% *} ms, slices known after: ${r_term#* } (before: $before)"
echo "   after kill -9:  ${r_kill% *} ms, slices known after: ${r_kill#* } (before: $before)"
echo
echo "load now $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
