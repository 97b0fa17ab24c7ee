#!/bin/sh
# Virtual links, ebpf backend: every encapsulation between two namespaced
# hosts, two VNets with the same inner addresses, then gretap and vxlan
# through a bridge and a veth pair per link.  See tunnels.inc.
# Usage: 40-tunnels-ebpf.sh BUILD_DIR
B=${1:-build}
. "$(dirname "$0")/tunnels.inc"

CHECK_SUPER=1
# h1's link of VNet A filters inner destinations (tunnels.inc).
INNER_FILTER=1
INNER_PREFIX=192.168.7.0/29
tun_setup
check_encap ebpf ipip 0 0
check_encap ebpf gre 100 200
check_encap ebpf gretap 300 400
check_encap ebpf vxlan 500 600
# Bridge attach: the node port and the link's veth pair on one bridge
# (vxlan: the bridge port named by port=).
check_encap ebpf gretap 301 401 ",attach=bridge,bridge=${P}br%"
check_encap ebpf vxlan 501 601 ",attach=bridge,bridge=${P}br%,port=${P}p%"
finish
