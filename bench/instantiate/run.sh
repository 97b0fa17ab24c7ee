#!/bin/sh
# bench/instantiate: VNet instantiation, the paper's Tables I-III
# (BENCH.md §1).
#
# The substrate is the demo's (scripts/demo.sh: two PIPs x three hosts in
# network namespaces, six substrated, two pipd, one vnpd) under names of
# its own.  The VNet is examples/ref5.xml (five nodes, five links, c-d
# crossing the PIPs), renamed per run.  One run:
#
#   1. wait until every agent's pool is full again and nothing of the
#      previous run is left (netns nodes == pool members, no VNet listed);
#   2. t0; vno create FILE [--discovery X] --wait;
#   3. *ready*: one vno exec per node, all five at once, pinging the far
#      end of every link the node is the first end of (a-b, b-c, c-a, c-d,
#      d-e: each link pinged once, through the consoles of a, b, c, d),
#      and e answering `true` -- so every node runs, every link passes a
#      ping and every console answers; t1 when all five returned 0;
#   4. vno status --output xml: the manifest's <step>s;
#   5. vno delete.
# CPU: utime+stime of vnpd and of substrated p1h3 (/proc/PID/stat) over
# t0..t1, summed over the runs of a variant, divided by the summed wall
# time (Table III).
#
# Variants (VARIANTS, default all netns ones):
#   pooled         netns nodes from the agents' warm pools, discovery at PIP
#   ondemand       pool="never" on every node, discovery at PIP
#   pooled-vnp     as pooled, vno create --discovery vnp
#   ondemand-vnp   as ondemand, vno create --discovery vnp
#   vm-pooled      VNet vm2 (below) with both VMs claimed from the agents'
#                  VM pools (depth VM_POOL, default 1)
#   vm-ondemand    vm2 with pool="never": both VMs booted on demand
#   vm             both vm variants
# vm2 instead of ref5 for VMs: five TCG VMs booting at once on 2 CPUs take
# minutes, so the VM variants use two VMs (libvirt QEMU, TCG, 3 CPUs and
# 128 MiB each, so that one 4-CPU host cannot take both) on p1h1 and
# p1h2, the only hosts given the qemu driver, joined by a GRE link; ready
# = a pings b over the link and b's console answers.  They run VM_RUNS
# (3) times, in the same rounds as the others; the CPU column of the
# agent is p1h1's for them.
#
# Usage: sh bench/instantiate/run.sh BUILD_DIR [--quick]
# Env: RUNS (10; --quick: 3), VM_RUNS (3), VARIANTS, POOL_DEPTH (3: the
# VNP mapping may put a, b, c on one host), VM_POOL (1), and the demo's
# VNSM_DEMO_NAME (vnsm-bench), VNSM_DEMO_NET (10.76.0), VNSM_DEMO_TAG (bn).
set -u
B=${1:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
RUNS=${RUNS:-10}
for a in "$@"; do
	[ "$a" = --quick ] && RUNS=${QUICK_RUNS:-3}
done
VARIANTS=${VARIANTS:-"pooled ondemand pooled-vnp ondemand-vnp vm-pooled vm-ondemand"}
VM_RUNS=${VM_RUNS:-3}
[ "$VM_RUNS" -le "$RUNS" ] || VM_RUNS=$RUNS
VM_POOL=${VM_POOL:-1}
vm=0
NV=""
for v in $VARIANTS; do
	case $v in
	vm) vm=1; NV="$NV vm-pooled vm-ondemand" ;;
	vm-pooled|vm-ondemand) vm=1; NV="$NV $v" ;;
	pooled|ondemand|pooled-vnp|ondemand-vnp) NV="$NV $v" ;;
	*) echo "unknown variant $v"; exit 2 ;;
	esac
done
if [ $vm = 1 ] && ! command -v libvirtd >/dev/null; then
	echo "bench/instantiate: no libvirtd: the vm variants are left out"
	NV=$(echo "$NV" | tr ' ' '\n' | grep -v '^vm-' | tr '\n' ' ')
	vm=0
fi
if [ $vm = 1 ]; then
	export VNSM_DEMO_DRIVERS="netns qemu" VNSM_DEMO_VM_HOSTS="p1h1 p1h2"
	export VNSM_DEMO_VM_CPU=3 VNSM_DEMO_VM_POOL=$VM_POOL
	export VNSM_DEMO_IMAGES=$B/images
fi
export VNSM_DEMO_NAME=${VNSM_DEMO_NAME:-vnsm-bench}
export VNSM_DEMO_NET=${VNSM_DEMO_NET:-10.76.0}
export VNSM_DEMO_TAG=${VNSM_DEMO_TAG:-bn}
export POOL_DEPTH=${POOL_DEPTH:-3}
D=/run/$VNSM_DEMO_NAME
export VNO_CONFIG=$D/etc/vno.conf
VNO=$B/bin/vno
T=$(mktemp -d /tmp/vnsm-inst.XXXXXX)
AGENTS="p1h1:12 p1h2:13 p1h3:14 p2h1:22 p2h2:23 p2h3:24"
HZ=$(getconf CLK_TCK)

[ "$(id -u)" = 0 ] || { echo "bench/instantiate: needs root"; exit 1; }
for p in vno vnpd pipd substrated vnsm-ca; do
	[ -x "$B/bin/$p" ] || { echo "bench/instantiate: $B/bin/$p not built"; exit 1; }
done

cleanup() {
	sh scripts/demo.sh down "$B" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

now_us() { echo $(($(date +%s%N) / 1000)); }	# microseconds, really
cpu_ticks() {	# utime + stime of PID (fields 14, 15 after the comm)
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}
pid_of() { awk -v n="$1" '$2 == n {print $1}' "$D/pids"; }

# Sum of the agents' pool depths (Prometheus gauge), or -1.
pool_sum() {
	s=0
	for h in $AGENTS; do
		c=pip${h#p}; c=${c%%h*}	# an agent answers its own pipd
		n=$(curl -s -m 2 --cacert "$D/ca/ca.crt" --cert "$D/ca/$c.crt" \
		    --key "$D/ca/$c.key" "https://$VNSM_DEMO_NET.${h#*:}:8443/metrics" |
		    awk '/^vnsm_substrated_pool_depth/ {s += $2} END {print s + 0}')
		s=$((s + n))
	done
	echo "$s"
}
nodes_left() { ip netns list 2>/dev/null | awk '{print $1}' | grep -c "^vn-$VNSM_DEMO_TAG"; }
doms_left() {	# the demo's libvirt domains (VM pool members and nodes)
	[ $vm = 1 ] || { echo 0; return; }
	virsh -q -c qemu:///system list --all --name 2>/dev/null |
	    grep -c "^vn-$VNSM_DEMO_TAG"
}

# Wait (<= 60 s; 240 s with VMs, which boot under TCG) until every pool
# is full and only pool members exist.
settle() {
	want=$((POOL_DEPTH * 6))
	wvm=0
	lim=300
	[ $vm = 1 ] && { wvm=$((VM_POOL * 2)); lim=1200; }
	i=0
	while :; do
		p=$(pool_sum)
		n=$(nodes_left)
		dm=$(doms_left)
		l=$("$VNO" list 2>/dev/null | grep -c .)
		[ "$p" = "$((want + wvm))" ] && [ "$n" = "$want" ] &&
		    [ "$dm" = "$wvm" ] && [ "$l" = 0 ] && return 0
		i=$((i + 1))
		if [ $i -ge $lim ]; then
			echo "  not settled: pools $p/$((want + wvm)), node" \
			    "namespaces $n, domains $dm/$wvm, VNets listed $l" >&2
			return 1
		fi
		sleep 0.2
	done
}

# The ready check: one exec per node, all at once.
ready_check() {	# ready_check VNET
	p() {	# p ADDRESSES: the node's command pinging each (5 tries)
		printf 'for h in %s; do i=0; until ping -c1 -W1 -q $h >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 5 ] || exit 1; done; done' "$1"
	}
	"$VNO" exec "$1" a -- "$(p 10.0.1.2)" >/dev/null 2>&1 & pa=$!
	"$VNO" exec "$1" b -- "$(p 10.0.2.2)" >/dev/null 2>&1 & pb=$!
	"$VNO" exec "$1" c -- "$(p '10.0.3.2 10.0.4.2')" >/dev/null 2>&1 & pc=$!
	"$VNO" exec "$1" d -- "$(p 10.0.5.2)" >/dev/null 2>&1 & pd=$!
	"$VNO" exec "$1" e -- true >/dev/null 2>&1 & pe=$!
	rc=0
	for x in $pa $pb $pc $pd $pe; do wait "$x" || rc=1; done
	return $rc
}

# The same for vm2: a pings b over a-b, b's console answers.
ready_check_vm() {	# ready_check_vm VNET
	"$VNO" exec "$1" a -- 'i=0; until ping -c1 -W1 -q 10.9.1.2 >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 5 ] || exit 1; done' >/dev/null 2>&1 & pa=$!
	"$VNO" exec "$1" b -- true >/dev/null 2>&1 & pb=$!
	rc=0
	for x in $pa $pb; do wait "$x" || rc=1; done
	return $rc
}

# The request for a variant: ref5 renamed, pool="never" for on demand.
request() {	# request VARIANT NAME FILE
	case $1 in
	vm-*)
		pl=""
		[ "$1" = vm-ondemand ] && pl=' pool="never"'
		cat >"$3" <<EOF
<vnet xmlns="urn:vnsm:1" name="$2">
  <node name="a" kind="vm" cpu="3" memory="128MiB" image="router" pip="pip1"$pl/>
  <node name="b" kind="vm" cpu="3" memory="128MiB" image="router" pip="pip1"$pl/>
  <link name="a-b" bandwidth="10Mbit" encap="gre">
    <end node="a" address="10.9.1.1/24"/>
    <end node="b" address="10.9.1.2/24"/>
  </link>
</vnet>
EOF
		return ;;
	ondemand*) s='s/kind="netns"/kind="netns" pool="never"/' ;;
	*) s='s/^//' ;;
	esac
	sed -e "s/name=\"ref5\"/name=\"$2\"/" -e "$s" examples/ref5.xml >"$3"
}

# Step means from the manifests: top-level steps (vnpd's summary) by
# name; PIP-level mapping as mapping@pip (max over the PIPs).
steps_of() {	# steps_of MANIFEST -> "name ms" lines
	grep '<step ' "$1" | awk '{
		n = ""; ms = ""; pip = 0; host = 0
		if (match($0, /name="[^"]*"/)) n = substr($0, RSTART + 6, RLENGTH - 7)
		if (match($0, /ms="[^"]*"/)) ms = substr($0, RSTART + 4, RLENGTH - 5)
		if ($0 ~ / pip="/) pip = 1
		if ($0 ~ / host="/) host = 1
		if (!pip) print n, ms
		else if (!host && n == "mapping" && ms > pm) pm = ms
	} END { if (pm != "") print "mapping@pip", pm }'
}

# min avg max stddev (sample) median of the numbers in FILE.
stats() {
	sort -n "$1" | awk '{v[NR] = $1; s += $1; q += $1 * $1}
	END {
		if (NR == 0) { print "-"; exit }
		m = s / NR; sd = NR > 1 ? sqrt((q - NR * m * m) / (NR - 1)) : 0
		if (sd != sd) sd = 0
		med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%9.1f %9.1f %9.1f %9.1f %9.1f\n", v[1], m, v[NR], sd, med
	}'
}

# One run of a variant: appends to $T/VARIANT.*; returns 1 on a failure.
run_one() {	# run_one VARIANT RUN
	v=$1 r=$2
	disc=pip
	case $v in *-vnp) disc=vnp ;; esac
	name="i$v-$r"
	request "$v" "$name" "$T/req.xml"
	settle || return 1
	a=$ap
	chk=ready_check
	case $v in vm-*) a=$vp1; chk=ready_check_vm ;; esac
	c0v=$(cpu_ticks "$vp"); c0a=$(cpu_ticks "$a")
	t0=$(now_us)
	if ! "$VNO" create "$T/req.xml" --discovery "$disc" --wait \
	    --timeout 300 >"$T/create.out" 2>&1; then
		echo "  $v run $r: vno create failed:"; tail -5 "$T/create.out"
		"$VNO" delete "$name" >/dev/null 2>&1
		return 1
	fi
	t1=$(now_us)
	if ! $chk "$name"; then
		echo "  $v run $r: a link or console failed the ready check"
		"$VNO" delete "$name" >/dev/null 2>&1
		return 1
	fi
	t2=$(now_us)
	c1v=$(cpu_ticks "$vp"); c1a=$(cpu_ticks "$a")
	echo "$(((t2 - t0) / 1000)).$(((t2 - t0) % 1000 / 100))" >>"$T/$v.ready"
	echo "$(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))" >>"$T/$v.create"
	echo "$((c1v - c0v)) $((c1a - c0a)) $((t2 - t0))" >>"$T/$v.cpu"
	"$VNO" status "$name" --output xml >"$T/m.xml" 2>/dev/null &&
	    steps_of "$T/m.xml" >>"$T/$v.steps"
	grep -c 'pooled="yes"' "$T/m.xml" >>"$T/$v.pooled"
	printf '  %-13s run %2s: ready %6s ms (vno create --wait %s ms)\n' \
	    "$v" "$r" "$(tail -1 "$T/$v.ready")" "$(tail -1 "$T/$v.create")"
	if ! "$VNO" delete "$name" >/dev/null 2>&1; then
		echo "  $v run $r: vno delete failed"
		return 1
	fi
	return 0
}

report_variant() {	# report_variant VARIANT
	v=$1
	n=$(grep -c . "$T/$v.ready")
	nr=$RUNS
	case $v in vm-*) nr=$VM_RUNS ;; esac
	printf '%-13s %4s/%-4s %s\n' "$v" "$n" "$nr" \
	    "$(stats "$T/$v.ready")" >>"$T/table1"
	printf '%-13s %s\n' "$v" "$(stats "$T/$v.create")" >>"$T/tablec"
	line=$(printf '%-13s' "$v")
	for s in exchange mapping mapping@pip allocation virtualization \
	    topology console total; do
		m=$(awk -v s="$s" '$1 == s {t += $2; n++}
		    END {if (n) printf "%.1f", t / n; else printf "-"}' \
		    "$T/$v.steps")
		line="$line $(printf '%8s' "$m")"
	done
	echo "$line" >>"$T/table2"
	awk -v v="$v" -v hz="$HZ" '{a += $1; b += $2; w += $3}
	    END {if (w > 0) printf "%-13s %8.1f %%   %8.1f %%   %8.1f s\n", v,
	        100 * a / hz / (w / 1e6), 100 * b / hz / (w / 1e6), w / 1e6}' \
	    "$T/$v.cpu" >>"$T/table3"
	pl=$(sort -u "$T/$v.pooled" 2>/dev/null | tr '\n' ' ')
	echo "$v: nodes from pools per run: ${pl:-none}; failed runs:" \
	    "$(cat "$T/$v.fails")" >>"$T/notes"
}

echo "bench/instantiate: $RUNS runs per variant; variants: $VARIANTS"
echo "substrate: $VNSM_DEMO_NAME ($VNSM_DEMO_NET.0/24), pool depth $POOL_DEPTH per host"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
if ! timeout 180 sh scripts/demo.sh up "$B" >"$T/demo.out" 2>&1; then
	echo "bench/instantiate: the demo substrate did not come up:"
	tail -20 "$T/demo.out"
	exit 1
fi
"$VNO" delete ref5 >/dev/null 2>&1 || { echo "cannot delete the demo's ref5"; exit 1; }
: >"$T/table1"; : >"$T/tablec"; : >"$T/table2"; : >"$T/table3"; : >"$T/notes"
vp=$(pid_of vnp1)
ap=$(pid_of p1h3)
vp1=$(pid_of p1h1)
for v in $NV; do
	for f in ready create steps cpu pooled; do : >"$T/$v.$f"; done
	echo 0 >"$T/$v.fails"
done
# Round r runs every variant once, in an order rotated each round, so
# that a noisy minute on the shared machine hurts every variant alike.
r=1
while [ $r -le "$RUNS" ]; do
	set -- $NV
	k=$(((r - 1) % $#))
	while [ $k -gt 0 ]; do x=$1; shift; set -- "$@" "$x"; k=$((k - 1)); done
	for v in "$@"; do
		case $v in vm-*) [ $r -le "$VM_RUNS" ] || continue ;; esac
		run_one "$v" "$r" ||
		    echo $(($(cat "$T/$v.fails") + 1)) >"$T/$v.fails"
	done
	r=$((r + 1))
done
settle || echo "  after the last run: something was left (see above)"
for v in $NV; do report_variant "$v"; done
echo
echo "Table I: time from vno create to ready (every node running, every"
echo "link passing a ping, every console answering), ms"
printf '%-13s %9s %9s %9s %9s %9s %9s\n' variant runs min avg max stddev median
cat "$T/table1"
echo
echo "vno create --wait alone (vnpd says ready), ms"
printf '%-13s %9s %9s %9s %9s %9s\n' variant min avg max stddev median
cat "$T/tablec"
echo
echo "Table II: steps from the manifests (vnpd's <step>s), mean ms"
printf '%-13s %8s %8s %8s %8s %8s %8s %8s %8s\n' variant exchange \
    mapping map@pip alloc virt links console total
cat "$T/table2"
echo
echo "Table III: CPU share during the instantiation windows (utime+stime / wall)"
printf '%-13s %10s   %10s   %10s\n' variant vnpd "substrated" window
cat "$T/table3"
echo "(substrated = the agent of p1h3, of p1h1 for vm-*; CPU ticks are 1/$HZ s)"
echo
cat "$T/notes"
# The targets, on the average (as the paper) and on the median (what a
# noisy shared machine allows to compare).
avg() { awk '{s += $1} END {if (NR) printf "%.1f", s / NR}' "$1" 2>/dev/null; }
med() { sort -n "$1" | awk '{v[NR] = $1} END {
    printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo
echo "Targets (load now $(cut -d' ' -f1-3 /proc/loadavg)):"
target() {	# target VARIANT LIMIT_MS TEXT
	[ -s "$T/$1.ready" ] || return 0
	a=$(avg "$T/$1.ready"); m=$(med "$T/$1.ready")
	awk -v a="$a" -v m="$m" -v l="$2" -v t="$3" 'BEGIN {
	    printf "  %s <= %d ms: avg %s ms (%s), median %s ms (%s)\n", t, l,
	    a, a <= l ? "met" : "NOT met", m, m <= l ? "met" : "NOT met"}'
}
target pooled 100 "pooled netns ready"
target ondemand 500 "on-demand netns ready"
for m in pooled ondemand; do
	if [ -s "$T/$m.ready" ] && [ -s "$T/$m-vnp.ready" ]; then
		awk -v p="$(avg "$T/$m.ready")" -v q="$(avg "$T/$m-vnp.ready")" \
		    -v pm="$(med "$T/$m.ready")" -v qm="$(med "$T/$m-vnp.ready")" \
		    -v m="$m" 'BEGIN {r = 100 * (q / p - 1); rm = 100 * (qm / pm - 1)
		    printf "  discovery at VNP vs PIP (%s) <= +10 %%: avg %+.1f %% (%s), median %+.1f %% (%s)\n",
		    m, r, r <= 10 ? "met" : "NOT met", rm, rm <= 10 ? "met" : "NOT met"}'
	fi
done
target vm-pooled 1000 "pooled VMs (vm2) ready"
exit 0
