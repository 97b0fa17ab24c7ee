#!/bin/sh
# The libvirt driver for real: an LXC container (lxc:///system) and a
# software-emulated QEMU VM (qemu:///system, TCG) made from the router
# image, each created through the driver, waited for until its console
# answers a shell command, then deleted.  Starts virtlogd/libvirtd if
# they are not running (libvirtd in a private mount namespace without
# /sys/fs/cgroup/unified, which LXC needs here, and with QEMU run as
# root since the libvirt-qemu user comes only with libvirt-daemon-system)
# and stops what it started.  Skips (exit 0) when the image cannot be built.
#
# Usage: tests/integration/50-drivers-vm.sh BUILD_DIR
set -u
B=$(cd "${1:-build}" && pwd)
top=$(cd "$(dirname "$0")/../.." && pwd)
img=$B/images
node=$B/bench/node
tag=vt$$
started=""

cleanup() {
	for u in lxc qemu; do
		for d in vn-${tag}l vn-${tag}q; do
			virsh -q -c $u:///system destroy "$d" >/dev/null 2>&1
			virsh -q -c $u:///system undefine "$d" >/dev/null 2>&1
		done
	done
	for p in $started; do
		kill "$p" 2>/dev/null
	done
	return 0
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if ! sh "$top/scripts/mkimage.sh" "$img/router"; then
	echo "SKIP: cannot build the router image (make deps)"
	exit 0
fi
[ -x "$node" ] || { echo "FAIL: $node not built"; exit 1; }

# Daemons: start what is missing, remember their pids.
mkdir -p /var/log/libvirt/qemu /var/log/libvirt/lxc
if ! pgrep -r R,S,D -x virtlogd >/dev/null; then
	virtlogd -d && start_vl=1
fi
if ! pgrep -r R,S,D -x libvirtd >/dev/null; then
	# libvirt 9 resolves its default QEMU user before reading qemu.conf,
	# and only libvirt-daemon-system (not installed: it would also start
	# a NAT network) creates it: make it as that package would.  QEMU
	# then runs as root, through a qemu.conf seen only by this libvirtd,
	# so the image under the build dir needs no chown.
	id libvirt-qemu >/dev/null 2>&1 ||
	    useradd --system --user-group --no-create-home \
	    --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
	etc=$B/vt-etc-libvirt
	rm -rf "$etc" && cp -a /etc/libvirt "$etc"
	printf 'user = "root"\ngroup = "root"\n' > "$etc/qemu.conf"
	unshare -m --propagation private sh -c \
	    'umount /sys/fs/cgroup/unified 2>/dev/null
	     mount --bind "$1" /etc/libvirt || exit 1
	     exec libvirtd -d' sh "$etc" && start_lv=1
fi
i=0
until virsh -q -c qemu:///system version >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 50 ] && { echo "FAIL: libvirtd did not come up in 10 s"; exit 1; }
	sleep 0.2
done
# -d forks: the daemons' pids are known once they answer.
[ -n "${start_vl:-}" ] && started="$started $(pgrep -r R,S,D -o -x virtlogd)"
[ -n "${start_lv:-}" ] && started="$started $(pgrep -r R,S,D -o -x libvirtd)"

rc=0
echo "== LXC container through the libvirt driver"
if ! timeout 60 "$node" -i "$img" check lxc "${tag}l"; then
	echo "FAIL: LXC node"
	rc=1
fi
echo "== QEMU (TCG) VM through the libvirt driver"
if ! timeout 120 "$node" -i "$img" check qemu "${tag}q"; then
	echo "FAIL: QEMU node"
	rc=1
fi
# Nothing of ours may be left.
for u in lxc qemu; do
	if virsh -q -c $u:///system list --all --name | grep -q "^vn-$tag"; then
		echo "FAIL: domain left at $u:///system"
		rc=1
	fi
done
[ $rc -eq 0 ] && echo "PASS"
exit $rc
