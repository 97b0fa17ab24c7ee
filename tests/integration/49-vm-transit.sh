#!/bin/sh
# A VM behind a transit: on the demo substrate (pip1 peers through p1h3,
# pip2 through p2h1) only p1h1 and p2h2 get the qemu driver, so the TCG
# VMs a (pip1) and b (pip2) land on hosts that are not their PIPs'
# peering hosts, and the netns node c (pip2) on any host of pip2.  The
# GRE links a-b and a-c leave the PIP: each runs VM host -> p1h3 -> p2h1
# -> the other node's host, p1h3 and p2h1 stitching the legs with
# transits.  A VM's end of a link is its tap, which the libvirt driver
# moves into the agent's namespace; the ebpf backend (tunnel-backend
# auto picks it here) redirects into a tap with bpf_redirect, into c's
# veth with bpf_redirect_peer.  Run twice, like 48-vm-links: once made
# on demand (pool="never": the VMs boot with their interfaces), once
# claimed from the agents' pools (depth 1 on p1h1 and p2h2: the claim
# hot-adds the interface, moves its tap and configures the guest through
# its console).
#
# Asserts, each time: the VNet is ready with its 3 nodes running (made
# on demand, or all claimed), a and b on p1h1 and p2h2; the manifest
# puts a-b's tunnel ends on the peering hosts and gives a-b the VNP's
# key; the agents of p1h3 and p2h1 each hold a transit of a-b with that
# key; the taps are in the agents' namespaces; a and b ping each other
# and a and c ping each other (through the consoles, vno exec), b and c
# with 1472-byte packets (the links' MTU); tshark on both peering hosts
# sees a-b between the two peering hosts with the VNP's key (the
# full-size packets at 1500 bytes, unfragmented) and the legs to the
# VMs' hosts; after vno delete no domain, tap, node namespace or
# peering-host slice is left and every host has exactly the links it had
# before; demo-down leaves no domain, namespace or daemon it started
# (libvirtd and virtlogd included, if it started them).
#
# Uses scripts/demo.sh with VNSM_DEMO_DRIVERS="netns qemu" (it starts
# libvirtd if none runs and stops only what it started).  Skips when
# libvirt, tshark or the router image are missing.  About 1 min.
#
# Usage: 49-vm-transit.sh BUILD_DIR
set -u
. "$(dirname "$0")/stack.inc"
cd "$top" || exit 1
stack_need_root
stack_need vno vnpd pipd substrated vnsm-ca
command -v tshark >/dev/null || { echo "SKIP: no tshark"; exit 0; }
stack_need_vm
export VNSM_DEMO_NAME=${VNSM_DEMO_NAME:-vnsm-x$$}
export VNSM_DEMO_NET=${VNSM_DEMO_NET:-10.86.$(($$ % 200 + 20))}
export VNSM_DEMO_TAG=${VNSM_DEMO_TAG:-x$$}
export VNSM_DEMO_DRIVERS="netns qemu"
export VNSM_DEMO_VM_HOSTS="p1h1 p2h2"
export VNSM_DEMO_VM_POOL=1
export VNSM_DEMO_IMAGES=$img
export POOL_DEPTH=1
NAME=$VNSM_DEMO_NAME
NET=$VNSM_DEMO_NET
TAG=$VNSM_DEMO_TAG
D=/run/$NAME
HOSTS="p1h1 p1h2 p1h3 p2h1 p2h2 p2h3"
stack_init vm-transit
stack_teardown() { stack_demo_down; }
vno() { timeout 200 "$B/bin/vno" "$@"; }
# links: every host namespace's links (name, kind of device), sorted.
links() {
	for h in $HOSTS; do
		ip -n "$NAME-$h" -o link show 2>/dev/null |
		    awk -v h="$h" '{sub(/@.*/, "", $2); print h, $2}'
	done | sort
}
# agent HOST PATH: GET PATH from HOST's agent as its pipd; the body in
# $T/agent.out, the HTTP status on stdout.
agent() {
	case $1 in p1h3) o=14 p=pip1 ;; p2h1) o=22 p=pip2 ;; esac
	curl -s -o "$T/agent.out" -w '%{http_code}' --max-time 20 \
	    --cacert "$D/ca/ca.crt" --cert "$D/ca/$p.crt" --key "$D/ca/$p.key" \
	    "https://$NET.$o:8443$2"
}
same_links() { links >"$T/links.now"; cmp -s "$T/links.0" "$T/links.now"; }

if ! timeout 180 sh scripts/demo.sh up "$B" >"$T/up.log" 2>&1; then
	tail -20 "$T/up.log"
	die "the demo substrate with the qemu driver did not come up"
fi
ok "demo substrate up, qemu driver on p1h1 and p2h2"
# What the tap path runs on: the ebpf direct attach, if auto chose ebpf.
for h in p1h1 p1h3 p2h1 p2h2; do
	printf ' %s:%s' "$h" "$(sed -n 's/.*tunnels: using the \([a-z]*\) backend.*/\1/p' \
	    "$D/log/$h.log" | head -1)"
done | sed 's/^/    tunnel backends:/'
echo
export VNO_CONFIG=$D/etc/vno.conf
grep -q "^drivers netns qemu" "$D/etc/p1h1.conf" &&
    grep -q "^drivers netns qemu" "$D/etc/p2h2.conf" &&
    grep -q "^drivers netns$" "$D/etc/p1h3.conf" &&
    grep -q "^drivers netns$" "$D/etc/p2h1.conf" &&
    ok "agent configs: qemu on p1h1 and p2h2 only" || bad "agent configs"

# run_vnet VNET POOLATTR: create the VNet, check it, delete it.
run_vnet() {
	v=$1
	# What the hosts hold before the VNet, to compare after its delete (ref5,
	# made by demo up, stays; a pool member has no interface until claimed).
	links >"$T/links.0"
	sleep 2
	wait_for 20 same_links || bad "$v: host links still changing before it"
	links >"$T/links.0"

	cat >"$T/$v.xml" <<EOF
<vnet xmlns="urn:vnsm:1" name="$v">
  <node name="a" kind="vm" cpu="1" memory="128MiB" image="router" pip="pip1" $2 interfaces="2"/>
  <node name="b" kind="vm" cpu="1" memory="128MiB" image="router" pip="pip2" $2/>
  <node name="c" kind="netns" cpu="1" memory="64MiB" pip="pip2" $2/>
  <link name="a-b" encap="gre"><end node="a" address="10.9.2.1/24"/><end node="b" address="10.9.2.2/24"/></link>
  <link name="a-c" encap="gre"><end node="a" address="10.9.3.1/24"/><end node="c" address="10.9.3.2/24"/></link>
</vnet>
EOF
	t1=$(date +%s%N)
	if ! vno create "$T/$v.xml" --wait --timeout 180 >"$T/$v.out" 2>&1; then
		tail -5 "$T/$v.out"
		bad "$v: vno create"
		vno delete "$v" >/dev/null 2>&1
		return
	fi
	ok "$v: ready in $(( ($(date +%s%N) - t1) / 1000000 )) ms"
	vno status "$v" --output xml >"$T/$v.manifest" 2>&1
	grep -q '<manifest [^>]*state="ready"' "$T/$v.manifest" &&
	    [ "$(grep -c '<node [^>]*state="running"' "$T/$v.manifest")" = 3 ] &&
	    ok "$v: ready, its 3 nodes running" ||
	    bad "$v: not running: $(grep -E '<(manifest|node) ' "$T/$v.manifest")"
	attr() {	# attr NODE ATTR: from the manifest
		sed -n "s/.*<node [^>]*name=\"$1\"[^>]* $2=\"\([^\"]*\)\".*/\1/p" \
		    "$T/$v.manifest" | head -1
	}
	ha=$(attr a host)
	hb=$(attr b host)
	ida=$(attr a id)
	idb=$(attr b id)
	idc=$(attr c id)
	np=$(grep -c '<node [^>]*pooled="yes"' "$T/$v.manifest")
	if [ -n "$2" ]; then
		[ "$np" = 0 ] && ok "$v: its nodes made on demand" ||
		    bad "$v: $np pooled nodes on demand"
	else
		[ "$np" = 3 ] && ok "$v: its 3 nodes claimed from the pools" ||
		    bad "$v: $np of 3 nodes claimed from a pool"
	fi
	[ "$ha" = p1h1 ] && [ "$hb" = p2h2 ] && [ "$(attr a kind)" = vm ] &&
	    [ "$(attr b kind)" = vm ] && [ "$(attr a driver)" = libvirt ] &&
	    [ "$(attr b driver)" = libvirt ] &&
	    ok "$v: VM a on p1h1, VM b on p2h2 (neither a peering host)" ||
	    bad "$v: placement: a on '$ha' ($(attr a driver)), b on '$hb' ($(attr b driver))"
	# The link's ends in the manifest: each PIP's tunnel end of a-b is its
	# peering host (p1h3 = .14, p2h1 = .22), not the VM's host.
	lk=$(tr '\n' ' ' <"$T/$v.manifest" |
	    sed -n 's/.*\(<link name="a-b".*<\/link>\).*/\1/p' | sed 's/<\/link>.*//')
	KEY=$(echo "$lk" | sed -n 's/.*<link [^>]*key="\([0-9]*\)".*/\1/p')
	ends=$(echo "$lk" | grep -o '<end [^>]*>' |
	    sed -n 's/.* node="\([ab]\)".* underlay="\([0-9.]*\)".*/\1=\2/p' |
	    sort | tr '\n' ' ')
	[ -n "$KEY" ] && ok "$v: a-b has the VNP's key $KEY" ||
	    bad "$v: no key on a-b: $lk"
	[ "$ends" = "a=$NET.14 b=$NET.22 " ] &&
	    ok "$v: a-b's tunnel ends are the peering hosts p1h3 and p2h1" ||
	    bad "$v: a-b's ends '$ends', not a=$NET.14 b=$NET.22: $lk"
	# Each peering host holds a transit of a-b (an end with no node) in its
	# slice of the VNet, with the VNP's key.
	for hp in p1h3:pip1 p2h1:pip2; do
		h=${hp%:*}
		code=$(agent "$h" "/v1/slices/$v.${hp#*:}.$h")
		tr '\n' ' ' <"$T/agent.out" | grep -o '<link name="a-b"[^>]*key="[0-9]*">[^<]*<end [^>]*>' |
		    grep -v 'node=' | grep -q "key=\"$KEY\"" &&
		    ok "$v: $h's agent holds a transit of a-b with key $KEY" ||
		    bad "$v: $h: no transit of a-b (HTTP $code): $(cat "$T/agent.out")"
	done
	if links >"$T/links.now" && ! cmp -s "$T/links.0" "$T/links.now"; then
		ok "$v: the hosts have its links (taps, veths)"
	else
		bad "$v: the hosts' links did not change"
	fi
	ta=$(tap_of "$ida")
	tb=$(tap_of "$idb")
	[ -n "$ta" ] && ip -n "$NAME-$ha" link show "$ta" >/dev/null 2>&1 &&
	    [ -n "$tb" ] && ip -n "$NAME-$hb" link show "$tb" >/dev/null 2>&1 &&
	    ok "$v: both taps ($ta, $tb) in their agents' namespaces" ||
	    bad "$v: taps: a's '$ta' not in $NAME-$ha or b's '$tb' not in $NAME-$hb"

	# Watch both peering hosts' underlays while a and b ping each other.
	for h in p1h3 p2h1; do
		timeout 25 nsenter --net="/run/netns/$NAME-$h" tshark -i ul0 \
		    -n -f 'proto 47' -T fields -E occurrence=f -e ip.src -e ip.dst \
		    -e gre.key -e ip.len >"$T/$h.cap" 2>"$T/$h.tshark" &
	done
	# tshark is listening once it says so on stderr.
	for h in p1h3 p2h1; do
		wait_for 15 grep -q "Capturing on" "$T/$h.tshark" ||
		    bad "tshark on $h did not start: $(cat "$T/$h.tshark")"
	done
	out=$(vno exec "$v" a -- ping -c 3 -W 2 10.9.2.2 2>&1)
	echo "$out" | grep -q " 0% packet loss" &&
	    ok "$v: a (VM, p1h1) pings b (VM, p2h2) across the PIPs" ||
	    bad "$v: ping a -> b: $out"
	# Full-size packets (1472 bytes, the link's MTU) must cross unfragmented.
	out=$(vno exec "$v" b -- ping -c 3 -s 1444 -W 2 10.9.2.1 2>&1)
	echo "$out" | grep -q " 0% packet loss" &&
	    ok "$v: b pings a with 1472-byte packets" || bad "$v: ping b -> a: $out"
	# The netns node c (pip2) and the VM a, a veth and a tap, both ways.
	hc=$(attr c host)
	out=$(vno exec "$v" a -- ping -c 2 -W 2 10.9.3.2 2>&1)
	echo "$out" | grep -q " 0% packet loss" &&
	    ok "$v: a (VM, p1h1) pings c (netns, $hc)" || bad "$v: ping a -> c: $out"
	out=$(vno exec "$v" c -- ping -c 2 -s 1444 -W 2 10.9.3.1 2>&1)
	echo "$out" | grep -q " 0% packet loss" &&
	    ok "$v: c pings a with 1472-byte packets" || bad "$v: ping c -> a: $out"
	sleep 1
	pkill -INT -P $$ -x timeout 2>/dev/null
	wait
	# GRE with the VNP's key runs between the two peering hosts; each also
	# carries the leg to its VM's host (a: .12 behind p1h3, b: .23 behind
	# p2h1).
	hex=$(printf '0x%08x' "${KEY:-0}")
	for hl in p1h3:12 p2h1:23; do
		h=${hl%:*}
		o=${hl#*:}
		pp="^$NET\.(14|22)[[:space:]]+$NET\.(14|22)[[:space:]]+($KEY|$hex)[[:space:]]"
		n=$(grep -Ec "$pp" "$T/$h.cap")
		[ "$n" -ge 12 ] &&
		    ok "$h: $n GRE packets of a-b between the peering hosts, key $KEY" ||
		    { bad "$h: $n GRE packets with key $KEY between the peering hosts"
		      head -n 5 "$T/$h.cap"; }
		# b's 1472-byte pings and a's answers: 1500 bytes on the wire.
		n=$(grep -E "$pp" "$T/$h.cap" | grep -Ec "[[:space:]]1500$")
		[ "$n" -ge 6 ] &&
		    ok "$h: $n of them full-size (1500 bytes outside), unfragmented" ||
		    bad "$h: $n full-size GRE packets of a-b, not 6"
		n=$(grep -Ec "^$NET\.(14|22)[[:space:]]+$NET\.$o[[:space:]]|^$NET\.$o[[:space:]]+$NET\.(14|22)[[:space:]]" \
		    "$T/$h.cap")
		[ "$n" -ge 12 ] &&
		    ok "$h: $n GRE packets on the leg to the VM's host ($NET.$o)" ||
		    bad "$h: $n GRE packets on the leg to $NET.$o"
	done

	vno delete "$v" >/dev/null 2>&1 && ok "$v: deleted" || bad "$v: vno delete"
	wait_for 10 sh -c "! $VIRSH list --all --name | grep -qE '^vn-($ida|$idb)\$'" &&
	    ok "$v: no domain left" || bad "$v: domains left: $(doms)"
	tl=""
	for t in $ta $tb; do
		ip link show "$t" >/dev/null 2>&1 && tl="$tl $t"
		for h in $HOSTS; do
			ip -n "$NAME-$h" link show "$t" >/dev/null 2>&1 && tl="$tl $h:$t"
		done
	done
	[ -z "$tl" ] && ok "$v: no tap of its VMs left" || bad "$v: taps left:$tl"
	ip netns list 2>/dev/null | grep -qE "^vn-($ida|$idb|$idc)( |$)" &&
	    bad "$v: a namespace of its nodes is left" ||
	    ok "$v: no namespace of its nodes left"
	for hp in p1h3:pip1 p2h1:pip2; do
		h=${hp%:*}
		code=$(agent "$h" "/v1/slices/$v.${hp#*:}.$h")
		[ "$code" = 404 ] && ok "$v: $h's agent has no slice (transit) left" ||
		    bad "$v: $h still has its slice (HTTP $code): $(cat "$T/agent.out")"
	done
	if wait_for 10 same_links; then
		ok "$v: every host (VM hosts, peering hosts) has the links it had before"
	else
		bad "$v: links changed:"
		diff "$T/links.0" "$T/links.now" | sed 's/^/    /'
	fi
}

paused_members() {	# both VM hosts' pool members booted and paused
	[ "$($VIRSH list --state-paused --name 2>/dev/null |
	    grep -cE "^vn-${TAG}(p1h1|p2h2)p")" -ge 2 ]
}
t0=$(date +%s)
wait_for 150 paused_members ||
    die "the VM pools did not fill in 150 s: $($VIRSH list --all)"
ok "VM pool members booted and paused in $(( $(date +%s) - t0 )) s"
run_vnet vxod ' pool="never"'
wait_for 150 paused_members || bad "VM pools not full before the claim"
run_vnet vxpl ''

pids=$(awk '{print $1}' "$D/pids"; cat "$D/libvirt.pids" 2>/dev/null)
cp -r "$D/log" "$T/" 2>/dev/null
sh scripts/demo.sh down "$B" >/dev/null 2>&1
sleep 1
[ -z "$(doms)" ] && ok "demo-down: no domain left" ||
    bad "demo-down left domains: $(doms)"
ip netns list 2>/dev/null | grep -qE "^($NAME-|vn-$TAG)" &&
    bad "demo-down left namespaces" || ok "demo-down: no namespace left"
for p in $pids; do
	grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$p/status" &&
	    bad "daemon $p still runs"
done
echo "$fails failure(s)"
[ "$fails" = 0 ]
