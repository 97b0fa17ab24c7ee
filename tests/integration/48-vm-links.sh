#!/bin/sh
# VM nodes on the demo substrate, where every agent runs in its host's
# network namespace and libvirtd in the root one: two TCG VMs on
# different hosts of pip1 (p1h1 and p1h2, the only hosts given the qemu
# driver; 3 CPUs each on 4-CPU hosts, so that one host cannot take both)
# joined by a GRE link, pinging each other.  Once on
# demand (the libvirt driver moves each tap libvirtd made into the
# agent's namespace after start) and once claimed from the agents' VM
# pools (depth 1; the claim hot-adds the interface, moves its tap and
# configures the address inside the guest through the console).  Checks
# where the taps are, that nothing is left after vno delete, and that
# demo-down leaves no domain, namespace or daemon it started.
#
# Uses scripts/demo.sh with VNSM_DEMO_DRIVERS="netns qemu" (it starts
# libvirtd if none runs and stops only what it started).  Skips when
# libvirt is missing or the router image cannot be built.
#
# Usage: 48-vm-links.sh BUILD_DIR
set -u
. "$(dirname "$0")/stack.inc"
cd "$top" || exit 1
stack_need_root
stack_need vno vnpd pipd substrated vnsm-ca
stack_need_vm
export VNSM_DEMO_NAME=${VNSM_DEMO_NAME:-vnsm-v$$}
export VNSM_DEMO_NET=${VNSM_DEMO_NET:-10.85.$(($$ % 200 + 20))}
export VNSM_DEMO_TAG=${VNSM_DEMO_TAG:-v$$}
export VNSM_DEMO_DRIVERS="netns qemu"
export VNSM_DEMO_VM_HOSTS="p1h1 p1h2"
export VNSM_DEMO_VM_CPU=3
export VNSM_DEMO_VM_POOL=1
export VNSM_DEMO_IMAGES=$img
export POOL_DEPTH=1
NAME=$VNSM_DEMO_NAME
TAG=$VNSM_DEMO_TAG
D=/run/$NAME
stack_init vm-links
stack_teardown() { stack_demo_down; }
vno() { timeout 200 "$B/bin/vno" "$@"; }
paused_members() {	# both hosts' VM pool members booted and paused
	[ "$($VIRSH list --state-paused --name 2>/dev/null |
	    grep -cE "^vn-${TAG}p1h[12]p")" -ge 2 ]
}
# tap_where HOST NODEID: "agent", "root" or "none": where its tap is.
tap_where() {
	t=$(tap_of "$2")
	if [ -z "$t" ]; then echo none
	elif ip -n "$NAME-$1" link show "$t" >/dev/null 2>&1; then echo agent
	elif ip link show "$t" >/dev/null 2>&1; then echo root
	else echo none; fi
}
node_id() {	# node_id VNET NODE: its vnsm id, from the manifest
	vno status "$1" --output xml 2>/dev/null |
	    sed -n "s/.*<node name=\"$2\"[^>]* id=\"\([^\"]*\)\".*/\1/p;
	    s/.*<node [^>]*id=\"\([^\"]*\)\"[^>]* name=\"$2\".*/\1/p" | head -1
}

if ! timeout 180 sh scripts/demo.sh up "$B" >"$T/up.log" 2>&1; then
	tail -20 "$T/up.log"
	die "the demo substrate with the qemu driver did not come up"
fi
ok "demo substrate up, qemu driver on p1h1 and p1h2"
export VNO_CONFIG=$D/etc/vno.conf
vno delete ref5 >/dev/null 2>&1
grep -q "^drivers netns qemu" "$D/etc/p1h1.conf" &&
    grep -q "^drivers netns$" "$D/etc/p2h2.conf" &&
    grep -q "^\[pool vm\]" "$D/etc/p1h2.conf" &&
    ok "agent configs: qemu and a VM pool only where asked" ||
    bad "agent configs"
t0=$(date +%s)
wait_for 150 paused_members ||
    die "the VM pools did not fill in 150 s: $($VIRSH list --all)"
ok "VM pool members booted and paused in $(( $(date +%s) - t0 )) s"

# run_vnet VNET POOLATTR: create, check, ping both ways, delete.
run_vnet() {
	v=$1
	cat >"$T/$v.xml" <<EOF
<vnet xmlns="urn:vnsm:1" name="$v">
  <node name="a" kind="vm" cpu="3" memory="128MiB" image="router" pip="pip1"$2/>
  <node name="b" kind="vm" cpu="3" memory="128MiB" image="router" pip="pip1"$2/>
  <link name="a-b" encap="gre"><end node="a" address="10.9.1.1/24"/><end node="b" address="10.9.1.2/24"/></link>
</vnet>
EOF
	t1=$(date +%s%N)
	if ! vno create "$T/$v.xml" --wait --timeout 180 >"$T/$v.out" 2>&1; then
		tail -5 "$T/$v.out"
		bad "$v: vno create"
		return
	fi
	ok "$v: ready in $(( ($(date +%s%N) - t1) / 1000000 )) ms"
	grep -E "step (virtualization|console|total) " "$T/$v.out" |
	    tail -3 | sed 's/^/    /'
	ha=$(vno status "$v" --output xml 2>/dev/null |
	    sed -n 's/.*<node name="a".* host="\([^"]*\)".*/\1/p')
	hb=$(vno status "$v" --output xml 2>/dev/null |
	    sed -n 's/.*<node name="b".* host="\([^"]*\)".*/\1/p')
	[ -n "$ha" ] && [ -n "$hb" ] && [ "$ha" != "$hb" ] &&
	    ok "$v: a on $ha, b on $hb (different hosts)" ||
	    bad "$v: placement: a on '$ha', b on '$hb'"
	ida=$(node_id "$v" a)
	idb=$(node_id "$v" b)
	np=$(vno status "$v" --output xml 2>/dev/null | grep -c '<node .*pooled="yes"')
	if [ -n "$2" ]; then
		[ "$np" = 0 ] && ok "$v: both VMs made on demand" ||
		    bad "$v: $np pooled nodes on demand"
	else
		[ "$np" = 2 ] && ok "$v: both VMs claimed from the pools" ||
		    bad "$v: $np of 2 nodes claimed from a pool"
	fi
	ta=$(tap_of "$ida")
	tb=$(tap_of "$idb")
	wa=$(tap_where "$ha" "$ida")
	wb=$(tap_where "$hb" "$idb")
	[ "$wa" = agent ] && [ "$wb" = agent ] &&
	    ok "$v: both taps in their agents' namespaces" ||
	    bad "$v: taps: a ($ida) in $wa, b ($idb) in $wb"
	out=$(vno exec "$v" a -- ip addr show eth0 2>&1)
	echo "$out" | grep -q "inet 10\.9\.1\.1/24" &&
	    ok "$v: a has 10.9.1.1/24 on eth0" || bad "$v: a's address: $out"
	out=$(vno exec "$v" a -- ping -c 3 -W 2 10.9.1.2 2>&1)
	echo "$out" | grep -q " 0% packet loss" &&
	    ok "$v: a (VM, $ha) pings b (VM, $hb) over GRE" ||
	    bad "$v: ping a -> b: $out"
	out=$(vno exec "$v" b -- ping -c 2 -W 2 10.9.1.1 2>&1)
	echo "$out" | grep -q " 0% packet loss" &&
	    ok "$v: b pings a" || bad "$v: ping b -> a: $out"
	vno delete "$v" >/dev/null 2>&1 && ok "$v: deleted" ||
	    bad "$v: vno delete"
	sleep 1
	left=$(doms | grep -E "vn-($ida|$idb)$" || true)
	[ -z "$left" ] && ok "$v: no domain left" || bad "$v: left: $left"
	# This run's taps, wherever they were: none may outlive the VNet.
	tr=""
	for t in $ta $tb; do
		if ip link show "$t" >/dev/null 2>&1 ||
		    ip -n "$NAME-$ha" link show "$t" >/dev/null 2>&1 ||
		    ip -n "$NAME-$hb" link show "$t" >/dev/null 2>&1; then
			tr="$tr $t"
		fi
	done
	[ -n "$ta$tb" ] && [ -z "$tr" ] && ok "$v: no tap of its VMs left" ||
	    bad "$v: taps left:${tr:- (none found to check)}"
}

run_vnet vmod ' pool="never"'
# The pools refill after the on-demand run left them alone; claim now.
wait_for 150 paused_members || bad "VM pools not full before the claim"
run_vnet vmpl ''

pids=$(awk '{print $1}' "$D/pids")
sh scripts/demo.sh down "$B" >/dev/null 2>&1
sleep 1
[ -z "$(doms)" ] && ok "demo-down: no domain left" ||
    bad "demo-down left domains: $(doms)"
ip netns list | grep -qE "^($NAME-|vn-$TAG)" &&
    bad "demo-down left namespaces" || ok "demo-down: no namespace left"
for p in $pids; do
	grep -qs '^State:[[:space:]]*[^Z[:space:]]' "/proc/$p/status" &&
	    bad "daemon $p still runs"
done
echo "$fails failure(s)"
[ "$fails" = 0 ]
