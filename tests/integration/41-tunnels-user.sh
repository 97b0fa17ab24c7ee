#!/bin/sh
# Virtual links, user backend (forwarder thread in vtun): every
# encapsulation between two namespaced hosts, two VNets with the same
# inner addresses, then gretap and vxlan through a bridge and a TAP port.
# See tunnels.inc.  Usage: 41-tunnels-user.sh BUILD_DIR
B=${1:-build}
. "$(dirname "$0")/tunnels.inc"

CHECK_SUPER=1
# h1's link of VNet A filters inner destinations (tunnels.inc).
INNER_FILTER=1
INNER_PREFIX=192.168.7.0/29
tun_setup
check_encap user ipip 0 0
check_encap user gre 100 200
check_encap user gretap 300 400
check_encap user vxlan 500 600
# Bridge attach: the node port and a TAP port of the link on one bridge.
check_encap user gretap 301 401 ",attach=bridge,bridge=${P}br%"
check_encap user vxlan 501 601 ",attach=bridge,bridge=${P}br%"
finish
