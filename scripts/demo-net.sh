#!/bin/sh
# The demo's substrate network: one network namespace per daemon, all on
# one switched underlay (a bridge in its own namespace), and the root
# namespace attached too, so that `vno` works from the user's shell.
#
#   demo-net.sh up      make it (fails if it exists)
#   demo-net.sh down    remove it: every namespace named vnsm-demo-*
#   demo-net.sh list    the namespaces and their underlay addresses
#
# Underlay 10.77.0.0/24:  .254 root namespace   .1 vnpd
#                         .11 pipd of pip1      .21 pipd of pip2
#                         .12-.14 pip1's hosts  .22-.24 pip2's hosts
set -eu

# VNSM_DEMO_NAME and VNSM_DEMO_NET let a test build its own copy beside
# a running demo.
PFX=${VNSM_DEMO_NAME:-vnsm-demo}
SW=$PFX-sw			# namespace holding the underlay switch
NET=${VNSM_DEMO_NET:-10.77.0}
HOSTS="vnp:1 pip1:11 p1h1:12 p1h2:13 p1h3:14 pip2:21 p2h1:22 p2h2:23 p2h3:24"

ns_up() {	# ns_up NAME OCTET
	ns=$PFX-$1
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip link add "u-$1" netns "$SW" type veth peer name ul0 netns "$ns"
	ip -n "$SW" link set "u-$1" master br0 up
	ip -n "$ns" addr add "$NET.$2/24" dev ul0
	ip -n "$ns" link set ul0 up
	# Substrate hosts forward between their virtual nodes and tunnels.
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
}

up() {
	if ip netns list | grep -q "^$SW\b"; then
		echo "demo-net: the demo network exists already" >&2
		exit 1
	fi
	ip netns add "$SW"
	ip -n "$SW" link set lo up
	ip -n "$SW" link add br0 type bridge
	ip -n "$SW" link set br0 up
	for h in $HOSTS; do
		ns_up "${h%%:*}" "${h#*:}"
	done
	ip link add "$PFX" type veth peer name u-root netns "$SW"
	ip -n "$SW" link set u-root master br0 up
	ip addr add "$NET.254/24" dev "$PFX"
	ip link set "$PFX" up
}

down() {
	ip link del "$PFX" 2>/dev/null || true
	for ns in $(ip netns list | awk '{print $1}' | grep "^$PFX-" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
}

list() {
	for h in $HOSTS; do
		printf '%-20s %s.%s\n' "$PFX-${h%%:*}" "$NET" "${h#*:}"
	done
}

case "${1:-}" in
up) up ;;
down) down ;;
list) list ;;
*) echo "usage: demo-net.sh up|down|list" >&2; exit 2 ;;
esac
