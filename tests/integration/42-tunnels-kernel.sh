#!/bin/sh
# Virtual links, kernel backend: this kernel has VXLAN but no ipip, gre or
# gretap devices (their rtnetlink requests are unit-tested in
# tests/unit/test_tunnel.c).  VXLAN with both VNets bridged, then a direct
# link whose VXLAN device is made inside the node's namespace.  The kernel
# does not expose a count of unknown-VNI drops, so only the drop itself is
# checked.  A link with an inner-address filter is refused (this backend
# cannot filter).  See tunnels.inc.  Usage: 42-tunnels-kernel.sh BUILD_DIR
B=${1:-build}
. "$(dirname "$0")/tunnels.inc"

tun_setup
# No inner-address filter in this backend: refused, saying what to do.
if o=$(nsx "${P}h1" "$VTUN" -b kernel \
    "name=f,encap=vxlan,key=800,local=10.99.0.1,remote=10.99.0.2,attach=bridge,bridge=${P}brf,inner=192.168.7.0/29" 2>&1 </dev/null); then
	bad "kernel: a link with inner= was accepted"
else
	case $o in
	*"kernel backend cannot filter inner addresses"*"use the ebpf or user backend"*)
		ok "kernel: inner= refused: $(echo "$o" | tail -n 1)" ;;
	*) bad "kernel: inner= refused without saying why: $o" ;;
	esac
fi
NO_UNKNOWN_COUNT=1 check_encap kernel vxlan 500 600 ",attach=bridge,bridge=${P}br%"

# Direct: the node's interface is the VXLAN device itself.
for h in 1 2; do
	ip netns add "${P}n${h}c" || die "netns"
	ip -n "${P}n${h}c" link set lo up
done
vtun_start k1 h1 -b kernel \
    "name=c,encap=vxlan,key=700,local=10.99.0.1,remote=10.99.0.2,node=vx0,netns=/run/netns/${P}n1c"
vtun_start k2 h2 -b kernel \
    "name=c,encap=vxlan,key=700,local=10.99.0.2,remote=10.99.0.1,node=vx0,netns=/run/netns/${P}n2c"
ip -n "${P}n1c" addr add 192.168.7.1/24 dev vx0
ip -n "${P}n2c" addr add 192.168.7.2/24 dev vx0
[ "$(ip -n "${P}n1c" -o link show vx0 | grep -o 'mtu [0-9]*')" = "mtu 1450" ] &&
	ok "kernel direct: vx0 in the node with MTU 1450" ||
	bad "kernel direct: vx0 missing or wrong MTU"
ping_ok n1c 192.168.7.2 && ok "kernel direct: ping 1->2" || bad "kernel direct: ping 1->2"
ping_ok n2c 192.168.7.1 -M do -s 1422 && ok "kernel direct: DF ping of 1450 bytes" ||
	bad "kernel direct: DF ping of 1450 bytes"
vtun_stop k1
ip -n "${P}n1c" link show vx0 >/dev/null 2>&1 &&
	bad "kernel direct: vx0 left behind" || ok "kernel direct: vx0 removed"
vtun_stop k2
for h in 1 2; do
	ip netns del "${P}n${h}c"
done
finish
