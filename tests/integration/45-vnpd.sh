#!/bin/sh
# vnpd end to end on real namespaces: two PIPs (pipd each), three
# substrate hosts (substrated with the netns driver, each in its own
# namespace on one switched underlay), one vnpd, two VNOs, driven with
# vno.  Checks the Done-when of issue 6:
#   - examples/ref5.xml created with discovery at PIP and at VNP; ping
#     from a to e crosses the PIP boundary
#   - vno exec (exit status) and vno console against a netns node
#   - vno apply adds a link and removes a node; untouched nodes keep
#     their namespace and processes
#   - vno migrate moves a node to another host; ping works again
#   - a PIP that refuses: the VNet lands on the other PIP, or is refused
#     with the reason, and no PIP keeps anything
#   - another VNO gets 403
#   - kill -9 of vnpd during a create, restart: rolled back or completed
#     at every PIP
#
# Usage: 45-vnpd.sh BUILD_DIR       (root; a few namespaces; ~1 minute)
set -u
. "$(dirname "$0")/stack.inc"
stack_need vno vnpd pipd substrated
stack_need_root

ID=$$
P=vp$((ID % 100000))			# namespace / interface prefix
NET=172.31.$((ID % 200 + 20))		# underlay /24 of this run
stack_init vnpd
# Nodes our agents made (id-prefix $P), then our host namespaces.
STACK_NS="^vn-${P}[a-z]|^$P-"
STACK_LINKS="$P-r"
t_start=$(date +%s)

check() {	# check DESCRIPTION CMD...
	d=$1
	shift
	if "$@" >>"$T/check.log" 2>&1; then ok "$d"; else bad "$d"; fi
}

# Certificates -----------------------------------------------------------
stack_ca
ca issue "$CA" --role pipd --name pip1 --san "IP:$NET.254"
ca issue "$CA" --role pipd --name pip2 --san "IP:$NET.254"
ca issue "$CA" --role substrated --name p1h1 --san "IP:$NET.12"
ca issue "$CA" --role substrated --name p1h2 --san "IP:$NET.13"
ca issue "$CA" --role substrated --name p2h1 --san "IP:$NET.22"
ca issue "$CA" --role vnpd --name vnp1 --san IP:127.0.0.1
ca issue "$CA" --role vno --name alice
ca issue "$CA" --role vno --name bob

# The underlay: a bridge in its own namespace, one namespace per host,
# and the root namespace (pipds, vnpd, vno) on it as .254.
stack_underlay p1h1:12 p1h2:13 p2h1:22
for n in p1h1 p1h2 p2h1; do
	ip netns exec "$P-$n" sysctl -qw net.ipv4.ip_forward=1
done

PORT1=$(free_port)
PORT2=$(free_port)
while [ "$PORT2" = "$PORT1" ]; do PORT2=$(free_port); done
VPORT=$(free_port)

# Agents ------------------------------------------------------------------
agent() {	# agent HOST OCTET PIP PIPD_PORT CPUS INTERFACES
	stack_agent_conf "$1" "$NET.$2:7443" "$3" "$NET.254:$4" "$NET.$2" \
	    "$P" <<EOF
drivers netns
report-interval 500ms
cpu $5
memory 8GiB
interfaces $6
EOF
	stack_ns_agent "$1"
}
agent p1h1 12 pip1 "$PORT1" 16 64
agent p1h2 13 pip1 "$PORT1" 16 64
agent p2h1 22 pip2 "$PORT2" 64 6

# PIPs: pip1 has two hosts with modest CPU; pip2 one host with much CPU
# (so that a split prefers it) but few interfaces (so that a node with
# many interfaces is refused there).  The agents report these figures.
stack_pipd_conf pip1 "$NET.254:$PORT1" <<EOF
lease 600
[host p1h1]
agent $NET.12:7443
underlay $NET.12
location paris
cpu 8
memory 8GiB
interfaces 64
kinds netns
[host p1h2]
agent $NET.13:7443
underlay $NET.13
location paris
cpu 8
memory 8GiB
interfaces 64
kinds netns
[link l1]
from p1h1
to p1h2
bandwidth 1Gbit
[peering pip2]
host p1h1
bandwidth 1Gbit
[vnp vnp1]
advertise full
EOF
stack_pipd_conf pip2 "$NET.254:$PORT2" <<EOF
lease 600
[host p2h1]
agent $NET.22:7443
underlay $NET.22
location berlin
cpu 32
memory 8GiB
interfaces 6
kinds netns
[peering pip1]
host p2h1
bandwidth 1Gbit
[vnp vnp1]
advertise full
EOF
for p in pip1 pip2; do
	stack_bg "$T/$p.log" "$BIN/pipd" -dv -f "$T/$p.conf"
done

stack_vnpd_conf "$VPORT" <<EOF
discovery pip
lease 600
timeout 20000
[pip pip1]
address $NET.254:$PORT1
[pip pip2]
address $NET.254:$PORT2
EOF
"$BIN/vnpd" -n -f "$T/vnpd.conf" || die "vnpd -n refuses the config"
start_vnpd() {
	stack_bg "$T/vnpd.log" "$BIN/vnpd" -dv -f "$T/vnpd.conf"
	VNPD=$!
	for _ in $(seq 50); do
		grep -q "listening on" "$T/vnpd.log" 2>/dev/null && return 0
		sleep 0.1
	done
	die "vnpd did not start"
}
start_vnpd

# vno as alice (environment) and as bob (a config file).
stack_vno "$VPORT"
cat >"$T/bob.conf" <<EOF
endpoint 127.0.0.1:$VPORT
ca $CA/ca.crt
cert $CA/bob.crt
key $CA/bob.key
EOF
bob() { VNO_CERT= VNO_KEY= "$BIN/vno" --config "$T/bob.conf" \
    --cert "$CA/bob.crt" --key "$CA/bob.key" "$@"; }
# A pipd's view, with vnpd's certificate.
pipget() {	# pipget PORT PATH -> prints HTTP status
	curl -s -o "$T/pipget.out" -w '%{http_code}' --cacert "$CA/ca.crt" \
	    --cert "$CA/vnp1.crt" --key "$CA/vnp1.key" "https://$NET.254:$1$2"
}

# Wait for the agents to report (pipd advertises their hosts).
for _ in $(seq 100); do
	[ "$(pipget "$PORT1" /v1/advertisement)" = 200 ] &&
	    grep -q p1h2 "$T/pipget.out" &&
	    [ "$(pipget "$PORT2" /v1/advertisement)" = 200 ] && break
	sleep 0.1
done

# 1. ref5, discovery at PIP, then at VNP -----------------------------------
for mode in pip vnp; do
	t0=$(date +%s%N)
	if vno create "$top/examples/ref5.xml" --discovery $mode --wait \
	    >"$T/create-$mode.out" 2>&1; then
		ms=$(( ($(date +%s%N) - t0) / 1000000 ))
		ok "ref5 created with discovery at $mode ($ms ms wall)"
	else
		bad "ref5 created with discovery at $mode"
		cat "$T/create-$mode.out"
		tail -20 "$T/vnpd.log"
		exit 1
	fi
	vno status ref5 >"$T/status-$mode.out" 2>&1
	check "ref5 ($mode): a at pip1, e at pip2" \
	    grep -Eq '^  a +running +pip1/p1h' "$T/status-$mode.out"
	grep -Eq '^  e +running +pip2/p2h1' "$T/status-$mode.out" ||
	    bad "ref5 ($mode): e not running at pip2"
	check "ref5 ($mode): ping a -> e (10.0.5.2) across the PIPs" \
	    vno exec ref5 a -- ping -c1 -W2 10.0.5.2
	check "ref5 ($mode): manifest has every step" \
	    sh -c "$BIN/vno --output xml status ref5 > '$T/mf-$mode.xml' &&
	        for s in exchange mapping allocation virtualization console total; do
	            grep -q \"step name=\\\"\$s\\\"\" '$T/mf-$mode.xml' || exit 1; done"
	[ $mode = vnp ] && break
	check "ref5 ($mode): deleted" vno delete ref5
	check "nothing left at pip1 after delete" \
	    test "$(pipget "$PORT1" /v1/slices/ref5.pip1)" = 404
	check "nothing left at pip2 after delete" \
	    test "$(pipget "$PORT2" /v1/slices/ref5.pip2)" = 404
done
sed -n 's/.*step name="\([a-z]*\)" ms="\([0-9.]*\)"\( pip="\([a-z0-9]*\)"\)\{0,1\}.*/  step \1 \2 ms \4/p' \
    "$T/mf-vnp.xml"

# 2. exec and console --------------------------------------------------------
vno exec ref5 a -- exit 7 >/dev/null 2>&1
rc=$?
[ $rc = 7 ] && ok "vno exec returns the command's exit status (7)" ||
    bad "vno exec exit status: $rc, expected 7"
out=$(printf 'cd /tmp\npwd\nhostname >/dev/null; echo hi-$((6*7))\nexit\n' |
    vno console ref5 d 2>&1)
echo "$out" | grep -qx /tmp && echo "$out" | grep -qx hi-42 &&
    ok "vno console: lines run in order, working directory kept" ||
    bad "vno console output: $out"
check "vno topo --format dot" sh -c "$BIN/vno topo ref5 --format dot | grep -q 'style=dashed'"
check "vno locate" sh -c "$BIN/vno locate ref5 c | grep -q running"

# Exit codes of vno's own failures.
vno --endpoint 127.0.0.1:1 list >/dev/null 2>&1
[ $? = 5 ] && ok "vno: vnpd unreachable -> exit 5" || bad "unreachable: exit not 5"
VNO_ENDPOINT= "$BIN/vno" --config /dev/null list >/dev/null 2>&1
[ $? = 2 ] && ok "vno: no endpoint -> exit 2" || bad "no endpoint: exit not 2"
vno status nosuch >/dev/null 2>&1
[ $? = 3 ] && ok "vno status of an unknown VNet -> exit 3" || bad "unknown VNet: exit not 3"

# 3. another VNO --------------------------------------------------------------
bob status ref5 >"$T/bob.out" 2>&1
rc=$?
[ $rc = 4 ] && grep -q "not yours" "$T/bob.out" &&
    ok "bob gets 403 on alice's VNet (exit 4)" || bad "bob: exit $rc: $(cat "$T/bob.out")"
bob exec ref5 a -- true >/dev/null 2>&1
[ $? = 255 ] && ok "bob cannot exec on alice's node" || bad "bob exec"
check "bob sees no VNet" sh -c "test -z \"\$(VNO_CERT=$CA/bob.crt VNO_KEY=$CA/bob.key $BIN/vno list)\""

# 4. apply: add a link, remove a node; untouched nodes untouched --------------
nodeid() {	# nodeid NODE -> the node's vnsm id from the manifest
	vno --output xml status ref5 |
	    sed -n "s/.*<node name=\"$1\" [^>]*id=\"\([^\"]*\)\".*/\1/p"
}
identity() {	# identity NODE -> netns inode and process ids
	i=$(nodeid "$1")
	echo "$i $(stat -L -c %i "/run/netns/vn-$i" 2>/dev/null) $(ip netns pids "vn-$i" 2>/dev/null | sort | tr '\n' ' ')"
}
before_c=$(identity c)
before_e=$(identity e)
before_a=$(identity a)
sed -e '/<node name="b"/d' -e '/<link name="a-b"/,/<\/link>/d' \
    -e '/<link name="b-c"/,/<\/link>/d' \
    -e 's|</vnet>|  <link name="a-d" bandwidth="10Mbit" encap="gre"><end node="a" address="10.0.6.1/24"/><end node="d" address="10.0.6.2/24"/></link>\n</vnet>|' \
    -e 's|name="\([ad]\)" kind="netns" cpu="1" memory="64MiB" interfaces="2"|name="\1" kind="netns" cpu="1" memory="64MiB" interfaces="3"|' \
    "$top/examples/ref5.xml" >"$T/ref5-b.xml"
if vno apply ref5 "$T/ref5-b.xml" >"$T/apply.out" 2>&1; then
	ok "vno apply: b removed, a-d added"
else
	bad "vno apply"; cat "$T/apply.out"
fi
check "after apply: no node b" sh -c "! vno status ref5 | grep -q '^  b '"
check "after apply: a reaches d over the new link a-d" \
    vno exec ref5 a -- ping -c1 -W2 10.0.6.2
[ "$(identity c)" = "$before_c" ] && [ "$(identity e)" = "$before_e" ] &&
    ok "untouched nodes c, e: same namespace, same processes ($before_c)" ||
    bad "untouched nodes changed: c '$before_c' -> '$(identity c)', e '$before_e' -> '$(identity e)'"
echo "  (a, which got an interface: '$before_a' -> '$(identity a)')"

# 5. migrate ------------------------------------------------------------------
from=$(vno locate ref5 c | awk '{print $3}')
case $from in pip1/p1h1) to=p1h2 ;; *) to=p1h1 ;; esac
t0=$(date +%s%N)
if vno migrate ref5 c --to "pip1:$to" >"$T/migrate.out" 2>&1; then
	ok "vno migrate c from $from to pip1/$to ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
	bad "vno migrate"; cat "$T/migrate.out"
fi
check "c is now on $to" sh -c "$BIN/vno locate ref5 c | grep -q 'pip1/$to'"
check "after migrate: ping a -> e through c again" \
    vno exec ref5 a -- ping -c1 -W2 10.0.5.2
t0=$(date +%s%N)
if vno migrate ref5 e --to pip1:p1h1 >"$T/migrate2.out" 2>&1; then
	ok "vno migrate e from pip2 to pip1/p1h1, across PIPs ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
else
	bad "vno migrate across PIPs"; cat "$T/migrate2.out"
fi
check "e is now on pip1/p1h1" sh -c "$BIN/vno locate ref5 e | grep -q 'pip1/p1h1'"
check "after migrate across PIPs: d reaches e over d-e, now between PIPs" \
    vno exec ref5 d -- ping -c1 -W2 10.0.5.2
check "  and e reaches d" vno exec ref5 e -- ping -c1 -W2 10.0.5.1
check "  and a reaches e through c and d (out of p1h1 to p2h1 and back)" \
    vno exec ref5 a -- ping -c1 -W2 10.0.5.2
check "vno terminate d: the node goes, its links with it" vno terminate ref5 d
check "after terminate: d gone, a and e run" sh -c "! $BIN/vno status ref5 | grep -q '^  d ' && $BIN/vno status ref5 | grep -Eq '^  e +running'"
check "pip2 holds nothing once it hosts no node" \
    test "$(pipget "$PORT2" /v1/slices/ref5.pip2)" = 404
check "ref5 deleted" vno delete ref5

# 6. a PIP refuses ------------------------------------------------------------
ad1=$(pipget "$PORT1" /v1/advertisement >/dev/null; sed 's/ time="[^"]*"//' "$T/pipget.out")
ad2=$(pipget "$PORT2" /v1/advertisement >/dev/null; sed 's/ time="[^"]*"//' "$T/pipget.out")
cat >"$T/wide.xml" <<EOF
<vnet xmlns="urn:vnsm:1" name="wide">
  <node name="w" cpu="1" memory="32MiB" interfaces="10"/>
  <node name="v" cpu="1" memory="32MiB"/>
  <link name="w-v"><end node="w" address="10.9.0.1/30"/><end node="v" address="10.9.0.2/30"/></link>
</vnet>
EOF
if vno create "$T/wide.xml" --discovery pip --wait >"$T/wide.out" 2>&1 &&
    vno status wide | grep -Eq '^  w +running +pip1/'; then
	ok "pip2 refused w (10 interfaces, it has 6): the VNet landed on pip1"
else
	bad "re-map after a refusal"; cat "$T/wide.out"
fi
grep -q "refused" "$T/vnpd.log" && ok "vnpd logged the refusal and re-mapped" ||
    bad "no refusal in vnpd's log"
check "wide deleted" vno delete wide
sed 's/<node name="w" /<node name="w" pip="pip2" /' "$T/wide.xml" >"$T/wide2.xml"
vno create "$T/wide2.xml" --discovery pip --wait >"$T/wide2.out" 2>&1
rc=$?
[ $rc = 6 ] && grep -q "PIP pip2" "$T/wide2.out" &&
    ok "w pinned to pip2: refused with the reason (exit 6)" ||
    { bad "refusal: exit $rc"; cat "$T/wide2.out"; }
sed -n 's/^/    /p' "$T/wide2.out" | head -4
check "refused: nothing at pip1" test "$(pipget "$PORT1" /v1/slices/wide.pip1)" = 404
check "refused: nothing at pip2" test "$(pipget "$PORT2" /v1/slices/wide.pip2)" = 404
sleep 1.2	# a report or two, so that the advertisements are fresh
a1=$(pipget "$PORT1" /v1/advertisement >/dev/null; sed 's/ time="[^"]*"//' "$T/pipget.out")
a2=$(pipget "$PORT2" /v1/advertisement >/dev/null; sed 's/ time="[^"]*"//' "$T/pipget.out")
[ "$a1" = "$ad1" ] && [ "$a2" = "$ad2" ] &&
    ok "both PIPs advertise exactly what they did before (no reservation kept)" ||
    { bad "advertisements changed"; echo "$ad1"; echo "$a1"; echo "$ad2"; echo "$a2"; }
check "failed VNet removed by delete" vno delete wide

# 7. kill -9 during a create ----------------------------------------------------
# Three rounds, killed at different moments after the 202: each ends
# rolled back or completed, consistently at every PIP.
for delay in 0 0.03 0.08; do
	vno create "$top/examples/ref5.xml" --discovery vnp >/dev/null 2>&1 ||
	    bad "create for the crash test"
	sleep $delay
	kill -9 "$VNPD"
	wait "$VNPD" 2>/dev/null
	start_vnpd
	state=""
	for _ in $(seq 150); do
		state=$(vno list 2>/dev/null | awk '$1 == "ref5" {print $2}')
		case $state in ready|failed) break ;; esac
		sleep 0.1
	done
	case $state in
	ready)
		ok "kill -9 ${delay}s after the 202, restart: ref5 completed"
		check "  and it works" vno exec ref5 a -- ping -c1 -W2 10.0.5.2
		;;
	failed)
		ok "kill -9 ${delay}s after the 202, restart: ref5 rolled back"
		check "  nothing at pip1" test "$(pipget "$PORT1" /v1/slices/ref5.pip1)" = 404
		check "  nothing at pip2" test "$(pipget "$PORT2" /v1/slices/ref5.pip2)" = 404
		;;
	*)
		bad "kill -9 ${delay}s after the 202, restart: ref5 is '$state'"
		;;
	esac
	check "  ref5 deleted" vno delete ref5
done
check "nothing left at pip1 in the end" test "$(pipget "$PORT1" /v1/slices/ref5.pip1)" = 404
check "nothing left at pip2 in the end" test "$(pipget "$PORT2" /v1/slices/ref5.pip2)" = 404
sleep 0.5
left=$(ip netns list | awk '{print $1}' | grep -c "^vn-$P" || true)
[ "$left" = 0 ] && ok "no node namespace left on any host" ||
    bad "$left node namespaces left"

echo "$fails failure(s) in $(( $(date +%s) - t_start )) s"
[ "$fails" = 0 ]
