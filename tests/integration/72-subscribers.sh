#!/bin/sh
# Homes attach to a VNet (docs/subscribers.md), end to end on a stack of
# its own: one vnpd, one pipd, two agents (with a gateway pool), each in
# its own namespace on one switched underlay; homes are namespaces on the
# same underlay: a home router (runs `vno attach`, nothing else) and a
# LAN host behind it (a plain DHCP client, busybox udhcpc).
#
# Checks: VNO-initiated enrolment (vno apply with <subscriber>s, vno
# subscriber add/list/set/remove/token); a home attaching with its
# certificate gets a lease from its own gateway through the tunnel,
# reaches the VNet, and reaches neither another home nor the underlay;
# 30 homes attaching at once with one-time tokens all get leases; a used
# token, an unknown token and a revoked certificate are refused with
# nothing but "refused"; a DHCP range change keeps the tunnel (same
# tunnel end, a ping across it loses at most a few packets, the renewed
# lease is from the new range); vno detach tears the home down.  Prints
# the attach-to-lease times and pipd's claim latency.
set -u
B=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/../.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 0; }
command -v busybox >/dev/null || { echo "skip: no busybox"; exit 0; }
command -v dnsmasq >/dev/null || { echo "skip: no dnsmasq"; exit 0; }

T=at$$
NET=10.$(( $$ % 50 + 150 )).$(( $$ % 200 + 20 ))
D=/run/vnsm-$T
N=${SUBS_HOMES:-30}
PORT=8443
VNO="$B/bin/vno"
CA="$B/bin/vnsm-ca"
fail=0
pids=""

cleanup() {
	[ -n "${SUBS_KEEP:-}" ] && rm -rf "$SUBS_KEEP" && cp -r "$D/log" "$SUBS_KEEP"
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	for ns in $(ip netns list | awk '{print $1}' |
	    grep -E "^($T-|vn-${T})" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	# The gateways' dnsmasq run in node namespaces that agents started
	# with `ip netns exec` keep in private mounts, out of reach above;
	# everything started from this run's own directory ends here.
	pkill -9 -f -- "$D/" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT
trap "exit 1" INT TERM

ok() { echo "ok    $*"; }
bad() { echo "FAIL  $*"; fail=1; }
check() {	# check DESCRIPTION COMMAND...
	what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}
wait_for() {	# wait_for SECONDS CMD...
	n=$(($1 * 5))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}
ms() { date +%s%3N; }
in_ns() { ns=$1; shift; ip netns exec "$T-$ns" "$@"; }
dump() {
	for f in "$D"/log/*.log; do echo "--- $f"; tail -n 25 "$f"; done
}

mkdir -p "$D/ca" "$D/log" "$D/run" "$D/state"

# --- Underlay: a switch, one namespace per daemon ---------------------
ip netns add "$T-sw"
ip -n "$T-sw" link add br0 type bridge
ip -n "$T-sw" link set br0 up
plug() {	# plug NS OCTET
	ip netns add "$T-$1"
	ip -n "$T-$1" link set lo up
	ip link add "u$2" netns "$T-sw" type veth peer name ul0 \
	    netns "$T-$1"
	ip -n "$T-sw" link set "u$2" master br0 up
	ip -n "$T-$1" addr add "$NET.$2/24" dev ul0
	ip -n "$T-$1" link set ul0 up
}
plug vnp 1
plug pip 11
plug h1 12
plug h2 13
for h in h1 h2; do in_ns $h sysctl -qw net.ipv4.ip_forward=1; done

# --- Certificates -----------------------------------------------------
"$CA" init "$D/ca" --name "$T CA" >/dev/null
"$CA" issue "$D/ca" --role vnpd --name vnp1 --san "IP:$NET.1" >/dev/null
"$CA" issue "$D/ca" --role pipd --name pip1 --san "IP:$NET.11" >/dev/null
"$CA" issue "$D/ca" --role substrated --name h1 --san "IP:$NET.12" >/dev/null
"$CA" issue "$D/ca" --role substrated --name h2 --san "IP:$NET.13" >/dev/null
"$CA" issue "$D/ca" --role vno --name isp >/dev/null
"$CA" issue "$D/ca" --role subscriber --name alice >/dev/null
"$CA" issue "$D/ca" --role subscriber --name mallory >/dev/null
"$CA" issue "$D/ca" --role subscriber --name enrol >/dev/null
"$CA" crl "$D/ca" >/dev/null
tls() { printf 'ca %s/ca/ca.crt\ncert %s/ca/%s.crt\nkey %s/ca/%s.key\n' \
    "$D" "$D" "$1" "$D" "$1"; }

# --- Daemons ----------------------------------------------------------
run() {	# run NAME NS PROG ARGS...
	name=$1 ns=$2
	shift 2
	ip netns exec "$T-$ns" "$@" >"$D/log/$name.log" 2>&1 &
	pids="$pids $!"
}
for h in h1:12 h2:13; do
	n=${h%%:*} o=${h#*:}
	{
		echo "listen $NET.$o:$PORT"; tls "$n"
		echo "pipd pip1"; echo "pipd-address $NET.11:$PORT"
		echo "report-interval 1s"; echo "host $n"; echo "pip pip1"
		echo "underlay $NET.$o"; echo "underlay-interface ul0"
		echo "cpu 16"; echo "memory 8GiB"; echo "interfaces 256"
		echo "drivers netns"; echo "tunnel-backend auto"
		echo "state $D/state/$n.db"; echo "run-dir $D/run/$n"
		echo "pidfile $D/run/$n.pid"; echo "id-prefix $T$n"
		echo "[pool gw]"; echo "kind gateway"; echo "cpu 0.05"
		echo "memory 16MiB"; echo "depth 4"
	} >"$D/$n.conf"
	mkdir -p "$D/run/$n"
	run "$n" "$n" "$B/bin/substrated" -d -f "$D/$n.conf"
done
{
	echo "name pip1"; echo "listen $NET.11:$PORT"; tls pip1
	echo "crl $D/ca/crl.pem"
	echo "state $D/state/pip1.db"; echo "pidfile $D/run/pip1.pid"
	echo "report-interval 1s"; echo "advertise full"
	for h in h1:12 h2:13; do
		echo "[host ${h%%:*}]"; echo "agent $NET.${h#*:}:$PORT"
		echo "underlay $NET.${h#*:}"; echo "location site1"
		echo "cpu 16"; echo "memory 8GiB"; echo "interfaces 256"
	done
	echo "[link h1-h2]"; echo "from h1"; echo "to h2"
	echo "bandwidth 10Gbit"
} >"$D/pip1.conf"
run pip1 pip "$B/bin/pipd" -d -f "$D/pip1.conf"
PIPD_PID=$!
{
	echo "listen $NET.1:$PORT"; tls vnp1
	echo "state $D/state/vnp1.db"; echo "pidfile $D/run/vnp1.pid"
	echo "discovery pip"; echo "[pip pip1]"; echo "address $NET.11:$PORT"
} >"$D/vnp1.conf"
run vnp1 vnp "$B/bin/vnpd" -d -f "$D/vnp1.conf"
{
	echo "endpoint $NET.1:$PORT"; echo "ca $D/ca/ca.crt"
	echo "cert $D/ca/isp.crt"; echo "key $D/ca/isp.key"
	echo "vnpd-name vnp1"
} >"$D/vno.conf"
export VNO_CONFIG="$D/vno.conf"
ip link add "$T-root" type veth peer name "$T-uroot" netns "$T-sw"
ip -n "$T-sw" link set "$T-uroot" master br0 up
ip addr add "$NET.254/24" dev "$T-root"
ip link set "$T-root" up
if ! wait_for 20 "$VNO" list; then
	bad "vnpd answers"; dump; exit 1
fi
sleep 2	# every agent reports and fills its pool

# --- The VNet, and homes the VNO enrols itself -------------------------
subs() {	# the <subscriber> elements of home1..homeN
	i=1
	while [ $i -le "$N" ]; do
		echo "  <subscriber name=\"home$i\" access-point=\"ap$((2 + i % 2))\" line=\"dsl-$i\" c-vlan=\"$((100 + i))\" s-vlan=\"10\"/>"
		i=$((i + 1))
	done
}
vnet() {	# vnet [WITH_HOMES]
	cat <<EOF
<vnet xmlns="urn:vnsm:1" name="$T" routing="static">
  <node name="core" cpu="0.1" memory="32MiB" pip="pip1"/>
  <node name="access" cpu="0.1" memory="32MiB" pip="pip1"/>
  <node name="access2" cpu="0.1" memory="32MiB" pip="pip1"/>
  <node name="access3" cpu="0.1" memory="32MiB" pip="pip1"/>
  <link name="core-access" encap="gre">
    <end node="core" address="10.20.0.1/30"/>
    <end node="access" address="10.20.0.2/30"/>
  </link>
  <link name="core-access2" encap="gre">
    <end node="core" address="10.20.0.5/30"/>
    <end node="access2" address="10.20.0.6/30"/>
  </link>
  <link name="core-access3" encap="gre">
    <end node="core" address="10.20.0.9/30"/>
    <end node="access3" address="10.20.0.10/30"/>
  </link>
  <access-point name="ap1" node="access" layer="l2" encap="gretap" bandwidth="100Mbit"/>
  <!-- A netns node has at most 16 interfaces: one per home, so homes
       are spread over access nodes (15 homes each at most). -->
  <access-point name="ap2" node="access2" layer="l2" encap="gretap"/>
  <access-point name="ap3" node="access3" layer="l2" encap="gretap"/>
  <subscriber name="alice" access-point="ap1" line="dsl-alice" c-vlan="100" s-vlan="10">
    <gateway lan="192.168.7.1/24" dhcp-from="192.168.7.100" dhcp-to="192.168.7.150" lease="600"/>
  </subscriber>
EOF
	[ -n "${1:-}" ] && subs
	echo "</vnet>"
}
vnet >"$D/vnet.xml"
if ! timeout 60 "$VNO" create "$D/vnet.xml" --wait >"$D/log/create.out" 2>&1; then
	bad "the VNet with one subscriber comes up"
	cat "$D/log/create.out"; dump; exit 1
fi
ok "the VNet with subscriber alice comes up (vno create)"
"$VNO" subscriber list "$T" >"$D/subs.txt" 2>&1
check "vno subscriber list shows alice waiting with her gateway, key and VLANs" \
    grep -Eq "^alice ap1 dsl-alice 100 10 gw-alice pip1 h[12] [0-9]+ waiting" "$D/subs.txt"
t=$(ms)
vnet 1 >"$D/vnet30.xml"
if timeout 90 "$VNO" apply "$T" "$D/vnet30.xml" >"$D/log/apply.out" 2>&1; then
	ok "vno apply with $N more <subscriber>s ($(($(ms) - t)) ms)"
else
	bad "vno apply with $N more <subscriber>s"; cat "$D/log/apply.out"
fi
"$VNO" subscriber list "$T" >"$D/subs.txt" 2>&1
check "every home has a gateway ($((N + 1)) listed)" \
    test "$(grep -c " gw-" "$D/subs.txt")" -eq $((N + 1))
check "vno subscriber add mallory" "$VNO" subscriber add "$T" mallory \
    --access-point ap1 --line dsl-m
check "vno subscriber add refuses a second mallory" \
    sh -c "! '$VNO' subscriber add '$T' mallory --access-point ap1"
check "vno subscriber add refuses an unknown access point" \
    sh -c "! '$VNO' subscriber add '$T' bob --access-point nope"

# --- Homes ----------------------------------------------------------
# home NAME OCTET: router $T-rNAME on the underlay, LAN host $T-lNAME.
home() {
	plug "r$1" "$2"
	ip netns add "$T-l$1"
	ip -n "$T-r$1" link add lan0 type veth peer name eth0 netns "$T-l$1"
	ip -n "$T-r$1" link set lan0 up
	ip -n "$T-l$1" link set eth0 mtu 1400
	ip -n "$T-l$1" link set eth0 up
	ip -n "$T-l$1" link set lo up
}
cat >"$D/dhcp.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/$mask" dev "$interface"
	ip route replace default via "$router" dev "$interface"
	echo "$ip $serverid" >"$LEASE" ;;
esac
exit 0
EOF
chmod +x "$D/dhcp.sh"
lease() {	# lease NAME: a DHCP lease on the LAN host, into $D/lease-NAME
	rm -f "$D/lease-$1"
	LEASE="$D/lease-$1" ip netns exec "$T-l$1" busybox udhcpc -f -q -n \
	    -t 20 -T 1 -i eth0 -s "$D/dhcp.sh" >/dev/null 2>&1
	test -s "$D/lease-$1"
}
attach() {	# attach NAME CERT [ARGS...]
	n=$1 c=$2
	shift 2
	ip netns exec "$T-r$n" "$VNO" attach --pip "$NET.11:$PORT" \
	    --ca "$D/ca/ca.crt" --cert "$D/ca/$c.crt" --key "$D/ca/$c.key" \
	    --lan lan0 --pidfile "$D/run/attach-$n.pid" "$@"
}

home alice 100
t=$(ms)
if attach alice alice >"$D/log/attach-alice.out" 2>&1; then
	ok "alice attaches with her certificate: $(cat "$D/log/attach-alice.out")"
else
	bad "alice attaches"; cat "$D/log/attach-alice.out"; dump
fi
if lease alice; then
	t_alice=$(($(ms) - t))
	ok "alice's LAN host gets a lease from her gateway: $(cat "$D/lease-alice") (attach to lease $t_alice ms)"
else
	bad "alice's LAN host gets a lease"
fi
check "alice's lease is in her own range 192.168.7.100-150" \
    awk '{split($1,a,"."); exit !(a[1]==192 && a[3]==7 && a[4]>=100 && a[4]<=150)}' "$D/lease-alice"
check "alice reaches the VNet (ping core 10.20.0.1)" \
    in_ns lalice ping -c 2 -W 2 10.20.0.1
check "alice cannot reach the underlay (pipd $NET.11)" \
    sh -c "! ip netns exec $T-lalice ping -c 1 -W 1 $NET.11"
check "alice cannot reach the management address of her gateway's host" \
    sh -c "! ip netns exec $T-lalice ping -c 1 -W 1 $NET.12 && ! ip netns exec $T-lalice ping -c 1 -W 1 $NET.13"

# --- Refusals ---------------------------------------------------------
home mallory 101
check "mallory attaches while her certificate is good" \
    attach mallory mallory
check "vno detach mallory" ip netns exec "$T-rmallory" "$VNO" detach \
    --pidfile "$D/run/attach-mallory.pid"
"$CA" revoke "$D/ca" mallory >/dev/null 2>&1
kill -HUP "$PIPD_PID"
sleep 0.5
check "a revoked certificate is refused (vnsm-ca revoke + SIGHUP pipd)" \
    sh -c "! ip netns exec $T-rmallory '$VNO' attach --pip $NET.11:$PORT --ca $D/ca/ca.crt --cert $D/ca/mallory.crt --key $D/ca/mallory.key --lan lan0 --pidfile $D/run/m.pid --foreground"
attach mallory enrol --token "$(printf '%064d' 7)" >"$D/log/unknown.out" 2>&1
check "an unknown token is refused" grep -q "refused" "$D/log/unknown.out"
check "the refusal names no VNet and no address" \
    sh -c "! grep -Eq '$T|ap1|[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' $D/log/unknown.out"
attach mallory enrol >"$D/log/nosub.out" 2>&1
check "a certificate that is no subscriber's is refused" grep -q "refused" "$D/log/nosub.out"

# --- 30 homes with one-time tokens, at once ----------------------------
i=1
while [ $i -le "$N" ]; do
	"$VNO" subscriber token "$T" "home$i" --seconds 600 >"$D/token$i" 2>&1 ||
	    bad "token for home$i"
	home "$i" $((110 + i)) 2>/dev/null
	i=$((i + 1))
done
check "a token is 64 hex digits" grep -Eq "^token [0-9a-f]{64}$" "$D/token1"
# One home's attach and lease, in a shell of its own (no inherited traps).
cat >"$D/one.sh" <<EOF
i=\$1
t0=\$(date +%s%3N)
ip netns exec "$T-r\$i" "$VNO" attach --pip "$NET.11:$PORT" \\
    --ca "$D/ca/ca.crt" --cert "$D/ca/enrol.crt" --key "$D/ca/enrol.key" \\
    --lan lan0 --pidfile "$D/run/attach-\$i.pid" \\
    --token "\$(awk '/^token/ {print \$2}' "$D/token\$i")" \\
    --save-credential "$D/cred\$i" >"$D/log/attach-\$i.out" 2>&1 || exit 1
LEASE="$D/lease-\$i" ip netns exec "$T-l\$i" busybox udhcpc -f -q -n \\
    -t 20 -T 1 -i eth0 -s "$D/dhcp.sh" >/dev/null 2>&1
test -s "$D/lease-\$i" && echo \$((\$(date +%s%3N) - t0)) >"$D/t\$i"
EOF
t=$(ms)
i=1
hp=""
while [ $i -le "$N" ]; do
	sh "$D/one.sh" "$i" &
	hp="$hp $!"
	i=$((i + 1))
done
for p in $hp; do wait "$p"; done
took=$(($(ms) - t))
got=0
i=1
while [ $i -le "$N" ]; do
	[ -s "$D/t$i" ] && got=$((got + 1))
	i=$((i + 1))
done
if [ "$got" -eq "$N" ]; then
	ok "$N homes attached at once with tokens, all leased ($took ms for all)"
else
	bad "$N homes at once: only $got leased"
	for i in 1 2 3; do cat "$D/log/attach-$i.out"; done
fi
cat "$D"/t[0-9]* 2>/dev/null | sort -n >"$D/times"
if [ -s "$D/times" ]; then
	echo "      attach to lease, $N at once: min $(head -1 "$D/times") ms, median $(sed -n "$(( ($(wc -l <"$D/times") + 1) / 2 ))p" "$D/times") ms, max $(tail -1 "$D/times") ms"
fi
check "home1 reaches the VNet" in_ns l1 ping -c 1 -W 2 10.20.0.1
# Every home's LAN is 192.168.1.0/24 behind its own gateway, so home2 may
# have leased the very address home1 has (dnsmasq picks by a hash of the
# MAC: about 1 run in 100) and would then ping itself; this check failed
# once in ~30 runs with no record of the addresses.  Give home1 an
# address no lease can be (outside .100-.199, not the gateway's .1):
# only a home bridged into home1's LAN could get an answer from it.
ip -n "$T-l1" addr add 192.168.1.251/24 dev eth0
check "home2 ($(awk '{print $1}' "$D/lease-2")) cannot reach home1's LAN ($(awk '{print $1}' "$D/lease-1"), 192.168.1.251) or alice's" \
    sh -c "! ip netns exec $T-l2 ping -c 1 -W 1 192.168.1.251 && ! ip netns exec $T-l2 ping -c 1 -W 1 $(awk '{print $1}' "$D/lease-alice")"
check "home2 cannot reach home1's gateway WAN (100.64.0.0/16)" \
    sh -c "! ip netns exec $T-l2 ping -c 1 -W 1 100.64.0.6"
attach 1 enrol --token "$(awk '/^token/ {print $2}' "$D/token1")" \
    --pidfile "$D/run/x.pid" >"$D/log/reuse.out" 2>&1
check "a used token is refused the second time" grep -q "refused" "$D/log/reuse.out"
check "a token attach left a credential (mode 0600)" \
    sh -c "test \"\$(stat -c %a $D/cred1)\" = 600 && grep -Eq '^[0-9a-f]{64}$' $D/cred1"

# --- A DHCP range change keeps alice's tunnel --------------------------
pid_before=$(cat "$D/run/attach-alice.pid")
in_ns lalice ping -i 0.1 -c 60 -W 1 10.20.0.1 >"$D/ping.out" 2>&1 &
pp=$!
sleep 1
t=$(ms)
if "$VNO" subscriber set "$T" alice --lan 192.168.7.1/24 \
    --dhcp-from 192.168.7.200 --dhcp-to 192.168.7.220 --lease 600 \
    >"$D/log/set.out" 2>&1; then
	ok "vno subscriber set alice: new DHCP range ($(($(ms) - t)) ms)"
else
	bad "vno subscriber set alice"; cat "$D/log/set.out"
fi
wait $pp
lost=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$D/ping.out")
check "a ping across the change loses at most 5 of 60 (got ${lost:-0})" \
    test "${lost:-0}" -ge 55
check "alice's vno attach is the same process (same tunnel end)" \
    kill -0 "$pid_before"
lease alice
check "alice's renewed lease is from the new range: $(cat "$D/lease-alice" 2>/dev/null)" \
    awk '{split($1,a,"."); exit !(a[4]>=200 && a[4]<=220)}' "$D/lease-alice"

# --- Claim latency at pipd, teardown -----------------------------------
grep -o "attached (.*) in [0-9.]* ms" "$D/log/pip1.log" |
    sed 's/.* in \([0-9.]*\) ms/\1/' | sort -n >"$D/claims"
if [ -s "$D/claims" ]; then
	echo "      claim latency at pipd ($(wc -l <"$D/claims") claims): min $(head -1 "$D/claims") ms, median $(sed -n "$(( ($(wc -l <"$D/claims") + 1) / 2 ))p" "$D/claims") ms, max $(tail -1 "$D/claims") ms"
fi
check "vno detach ends alice's attach" \
    ip netns exec "$T-ralice" "$VNO" detach --pidfile "$D/run/attach-alice.pid"
check "alice is detached at pipd" grep -q "subscriber alice: detached" "$D/log/pip1.log"
check "vno subscriber remove home$N" "$VNO" subscriber remove "$T" "home$N"
check "vno delete the VNet" timeout 60 "$VNO" delete "$T"
[ $fail -eq 0 ] || dump
exit $fail
