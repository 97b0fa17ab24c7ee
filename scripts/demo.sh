#!/bin/sh
# make demo / make demo-down: a whole multi-PIP substrate on one machine.
#
#   demo.sh up BUILD     build the substrate, start the daemons, create
#                        examples/ref5.xml through vno and prove it works
#   demo.sh down BUILD   remove everything up made
#
# Two PIPs with three hosts each, every daemon in its own network
# namespace with its own address (scripts/demo-net.sh), one vnpd, a local
# CA.  Everything it makes lives in network namespaces named vnsm-demo-*
# and vn-p[12]h[123]* and under /run/vnsm-demo; `down` removes all of it.
#
# The environment may rename it all, so that a test can run its own copy
# beside a user's demo: VNSM_DEMO_NAME (vnsm-demo), VNSM_DEMO_NET
# (10.77.0), VNSM_DEMO_TAG (prefix of every node id; empty).
#
# VMs (off by default): VNSM_DEMO_DRIVERS="netns qemu" gives the agents
# of VNSM_DEMO_VM_HOSTS (default: all six) the qemu driver too (TCG:
# qemu-type qemu) with images from VNSM_DEMO_IMAGES (default
# BUILD/images, made by make images) and a warm pool "vm" of
# VNSM_DEMO_VM_POOL (0) VMs of image router, VNSM_DEMO_VM_CPU (1) CPUs,
# VNSM_DEMO_VM_MEM (128MiB).  virtlogd and libvirtd are started if they are not running
# (libvirtd in a private mount namespace, QEMU as root, as
# tests/integration/50-drivers-vm.sh does) and stopped by `down` only if
# this script started them; `down` also removes the demo's domains.
set -eu

B=${2:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=$(cd "$B" && pwd)
NAME=${VNSM_DEMO_NAME:-vnsm-demo}
NET=${VNSM_DEMO_NET:-10.77.0}
TAG=${VNSM_DEMO_TAG:-}
export VNSM_DEMO_NAME=$NAME VNSM_DEMO_NET=$NET
D=/run/$NAME
HOSTS="p1h1:12 p1h2:13 p1h3:14 p2h1:22 p2h2:23 p2h3:24"
PORT=8443
VNO="$B/bin/vno"
DRIVERS=${VNSM_DEMO_DRIVERS:-netns}
VM_HOSTS=${VNSM_DEMO_VM_HOSTS:-p1h1 p1h2 p1h3 p2h1 p2h2 p2h3}
IMAGES=${VNSM_DEMO_IMAGES:-$B/images}
VM_POOL=${VNSM_DEMO_VM_POOL:-0}
VM_MEM=${VNSM_DEMO_VM_MEM:-128MiB}
VM_CPU=${VNSM_DEMO_VM_CPU:-1}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

# run NAME NS PROG ARGS...: start a daemon in the foreground of namespace
# NS, in the background of this shell, logging to $D/log/NAME.log.
run() {
	name=$1 ns=$2
	shift 2
	nsenter --net=/run/netns/"$NAME-$ns" "$@" \
	    >"$D/log/$name.log" 2>&1 &
	echo "$! $name" >>"$D/pids"
}

certs() {
	ca="$B/bin/vnsm-ca"
	"$ca" init "$D/ca" --name "vnsm demo CA" >/dev/null
	"$ca" issue "$D/ca" --role vnpd --name vnp1 --san IP:$NET.1 >/dev/null
	"$ca" issue "$D/ca" --role pipd --name pip1 --san IP:$NET.11 >/dev/null
	"$ca" issue "$D/ca" --role pipd --name pip2 --san IP:$NET.21 >/dev/null
	for h in $HOSTS; do
		"$ca" issue "$D/ca" --role substrated --name "${h%%:*}" \
		    --san "IP:$NET.${h#*:}" >/dev/null
	done
	"$ca" issue "$D/ca" --role vno --name alice >/dev/null
}

tls() {	# tls NAME: the certificate lines of a config
	printf 'ca %s/ca/ca.crt\ncert %s/ca/%s.crt\nkey %s/ca/%s.key\n' \
	    "$D" "$D" "$1" "$D" "$1"
}

agent_conf() {	# agent_conf HOST OCTET PIP PIPOCTET
	{
		echo "listen $NET.$2:$PORT"
		tls "$1"
		echo "pipd $3"
		echo "pipd-address $NET.$4:$PORT"
		echo "report-interval 1s"
		echo "host $1"
		echo "pip $3"
		echo "underlay $NET.$2"
		echo "underlay-interface ul0"
		echo "cpu 4"
		echo "memory 4GiB"
		echo "interfaces 64"
		if [ "$DRIVERS" != netns ] && vm_host "$1"; then
			echo "drivers $DRIVERS"
			echo "qemu-type qemu"
			echo "image-dir $IMAGES"
		else
			echo "drivers netns"
		fi
		echo "tunnel-backend auto"
		echo "state $D/state/$1.db"
		echo "run-dir $D/run/$1"
		echo "pidfile $D/run/$1.pid"
		echo "id-prefix $TAG$1"
		echo "[pool router]"
		echo "kind netns"
		echo "image router"
		echo "cpu 1"
		echo "memory 64MiB"
		echo "depth ${POOL_DEPTH:-2}"
		if [ "$DRIVERS" != netns ] && vm_host "$1" &&
		    [ "$VM_POOL" -gt 0 ]; then
			echo "[pool vm]"
			echo "kind vm"
			echo "image router"
			echo "cpu $VM_CPU"
			echo "memory $VM_MEM"
			echo "depth $VM_POOL"
		fi
	} >"$D/etc/$1.conf"
}

vm_host() {	# vm_host HOST: does HOST run VMs?
	case " $VM_HOSTS " in *" $1 "*) return 0 ;; esac
	return 1
}

# libvirt_up: virtlogd and libvirtd for the qemu driver, started if they
# do not run (their pids in $D/libvirt.pids, for down).
libvirt_up() {
	command -v libvirtd >/dev/null || die "VNSM_DEMO_DRIVERS asks for " \
	    "qemu: install libvirt-daemon-driver-qemu (make deps)"
	sh scripts/mkimage.sh "$IMAGES/router" >/dev/null ||
	    die "cannot build the router image in $IMAGES (make deps)"
	mkdir -p /var/log/libvirt/qemu
	: >"$D/libvirt.pids"
	if ! pgrep -r R,S,D -x virtlogd >/dev/null; then
		virtlogd -d
		wait_for 5 pgrep -r R,S,D -x virtlogd || die "virtlogd did not start"
		pgrep -r R,S,D -o -x virtlogd >>"$D/libvirt.pids"
	fi
	if ! pgrep -r R,S,D -x libvirtd >/dev/null; then
		# libvirt 9 needs the libvirt-qemu user to exist even when
		# qemu.conf (seen only by this libvirtd) says root.
		id libvirt-qemu >/dev/null 2>&1 ||
		    useradd --system --user-group --no-create-home \
		    --home-dir /var/lib/libvirt --shell /usr/sbin/nologin \
		    libvirt-qemu
		rm -rf "$D/libvirt-etc"
		cp -a /etc/libvirt "$D/libvirt-etc"
		printf 'user = "root"\ngroup = "root"\n' \
		    >"$D/libvirt-etc/qemu.conf"
		unshare -m --propagation private sh -c \
		    'umount /sys/fs/cgroup/unified 2>/dev/null
		     mount --bind "$1" /etc/libvirt || exit 1
		     exec libvirtd -d' sh "$D/libvirt-etc"
		wait_for 10 virsh -q -c qemu:///system version ||
		    die "libvirtd did not come up"
		pgrep -r R,S,D -o -x libvirtd >>"$D/libvirt.pids"
	fi
	wait_for 10 virsh -q -c qemu:///system version ||
	    die "libvirtd does not answer"
}

# libvirt_down: the demo's domains, then the daemons libvirt_up started.
libvirt_down() {
	if pgrep -r R,S,D -x libvirtd >/dev/null && command -v virsh >/dev/null; then
		for d in $(virsh -q -c qemu:///system list --all --name \
		    2>/dev/null | grep -E "^vn-${TAG}p[12]h[123]" || true); do
			virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1 ||
			    true
			virsh -q -c qemu:///system undefine "$d" >/dev/null \
			    2>&1 || true
		done
	fi
	[ -f "$D/libvirt.pids" ] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
	done <"$D/libvirt.pids"
	# Gone before we return, so that an `up` right after starts its own.
	while read -r pid; do
		wait_for 10 sh -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null ||
		    true
	done <"$D/libvirt.pids"
}

pip_conf() {	# pip_conf PIP OCTET PEER PEEROCTET
	p=$1
	n=${p#pip}
	{
		echo "name $p"
		echo "listen $NET.$2:$PORT"
		tls "$p"
		echo "state $D/state/$p.db"
		echo "pidfile $D/run/$p.pid"
		echo "report-interval 1s"
		echo "advertise full"
		for i in 1 2 3; do
			echo "[host p${n}h$i]"
			echo "agent $NET.$((${2} + i)):$PORT"
			echo "underlay $NET.$((${2} + i))"
			echo "location site$n"
			echo "cpu 4"
			echo "memory 4GiB"
			echo "interfaces 64"
		done
		for l in 1-2 2-3 3-1; do
			echo "[link p${n}h${l%-*}-p${n}h${l#*-}]"
			echo "from p${n}h${l%-*}"
			echo "to p${n}h${l#*-}"
			echo "bandwidth 1Gbit"
		done
		# Hosts 3 of pip1 and 1 of pip2 face each other.
		if [ "$n" = 1 ]; then h=3; else h=1; fi
		echo "[peering $3]"
		echo "host p${n}h$h"
		echo "address $NET.$((${2} + h))"
		echo "bandwidth 1Gbit"
	} >"$D/etc/$p.conf"
}

vnp_conf() {
	{
		echo "listen $NET.1:$PORT"
		tls vnp1
		echo "state $D/state/vnp1.db"
		echo "pidfile $D/run/vnp1.pid"
		echo "discovery ${DISCOVERY:-pip}"
		echo "[pip pip1]"
		echo "address $NET.11:$PORT"
		echo "[pip pip2]"
		echo "address $NET.21:$PORT"
	} >"$D/etc/vnp1.conf"
	{
		echo "endpoint $NET.1:$PORT"
		echo "ca $D/ca/ca.crt"
		echo "cert $D/ca/alice.crt"
		echo "key $D/ca/alice.key"
		echo "vnpd-name vnp1"
	} >"$D/etc/vno.conf"
}

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
	n=$(($1 * 5))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}

running() {
	[ -f "$D/pids" ] || return 1
	while read -r pid name; do
		kill -0 "$pid" 2>/dev/null && return 0
	done <"$D/pids"
	return 1
}

up() {
	[ "$(id -u)" -eq 0 ] || die "run me as root (make demo)"
	if running; then
		echo "A vnsm demo is already running (see $D/pids)."
		echo "Use it (. $D/env), or remove it with: make demo-down"
		exit 1
	fi
	down quiet
	mkdir -p "$D/ca" "$D/etc" "$D/state" "$D/log" "$D/run"
	: >"$D/pids"
	trap 'echo "demo: failed; logs are in $D/log; make demo-down removes it" >&2' EXIT

	say "Substrate: 2 PIPs x 3 hosts, 1 VNP, each in its own namespace"
	sh scripts/demo-net.sh up
	sh scripts/demo-net.sh list | sed 's/^/   /'

	say "Local CA and certificates ($D/ca)"
	certs
	"$B/bin/vnsm-ca" list "$D/ca" | sed 's/^/   /'

	if [ "$DRIVERS" != netns ]; then
		say "libvirt for the qemu driver ($VM_HOSTS)"
		libvirt_up
	fi

	say "Starting 6 substrated, 2 pipd, 1 vnpd"
	pip_conf pip1 11 pip2 20
	pip_conf pip2 21 pip1 10
	for h in $HOSTS; do
		name=${h%%:*}
		case $name in p1*) pip=pip1 po=11 ;; *) pip=pip2 po=21 ;; esac
		agent_conf "$name" "${h#*:}" "$pip" "$po"
		mkdir -p "$D/run/$name"
		run "$name" "$name" "$B/bin/substrated" -d -f "$D/etc/$name.conf"
	done
	run pip1 pip1 "$B/bin/pipd" -d -f "$D/etc/pip1.conf"
	run pip2 pip2 "$B/bin/pipd" -d -f "$D/etc/pip2.conf"
	vnp_conf
	run vnp1 vnp "$B/bin/vnpd" -d -f "$D/etc/vnp1.conf"
	cat >"$D/env" <<EOF
export VNO_CONFIG=$D/etc/vno.conf
export PATH=$B/bin:\$PATH
EOF
	export VNO_CONFIG="$D/etc/vno.conf"
	wait_for 20 "$VNO" list || die "vnpd does not answer; see $D/log/vnp1.log"
	# Let every agent report (and fill its pool) before the first VNet.
	sleep 2
	sed 's/^/   /' "$D/pids"

	say "vno create examples/ref5.xml --wait"
	"$VNO" create examples/ref5.xml --wait

	say "vno status ref5"
	"$VNO" status ref5

	say "Proof: a pings e across the PIP boundary (a on pip1, e on pip2)"
	"$VNO" exec ref5 a -- ping -c 3 -W 2 10.0.5.2

	say "Proof: a command through e's console"
	"$VNO" exec ref5 e -- ip -br addr

	trap - EXIT
	say "The demo is running. Drive it with vno:"
	cat <<EOF
   . $D/env                      # sets VNO_CONFIG and PATH
   vno list
   vno status ref5
   vno topo ref5 --format dot
   vno console ref5 a            # an interactive console on node a
   vno exec ref5 c -- ip route
   vno migrate ref5 b --to p1h3
   vno delete ref5
   make demo-down                # removes everything the demo made
EOF
}

down() {
	if [ -f "$D/pids" ]; then
		[ "${1:-}" = quiet ] || echo "stopping the demo's daemons"
		while read -r pid name; do
			kill "$pid" 2>/dev/null || true
		done <"$D/pids"
		sleep 0.5
		while read -r pid name; do
			kill -9 "$pid" 2>/dev/null || true
		done <"$D/pids"
	fi
	# Virtual nodes the demo's agents made (their ids start with the
	# host name), then the substrate's own namespaces.
	for ns in $(ip netns list | awk '{print $1}' |
	    grep -E "^vn-${TAG}p[12]h[123]" || true); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null ||
		    true
		ip netns del "$ns" 2>/dev/null || true
	done
	libvirt_down
	sh scripts/demo-net.sh down
	rm -rf "$D"
	[ "${1:-}" = quiet ] || echo "demo removed"
}

case "${1:-}" in
up) up ;;
down) down ;;
*) echo "usage: demo.sh up|down [BUILD]" >&2; exit 2 ;;
esac
