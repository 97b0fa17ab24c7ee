#!/bin/sh
# mkimage.sh OUTDIR: the vnsm router guest, from Debian packages only.
#
#   OUTDIR/vmlinuz      Debian's kernel (linux-image-amd64), from /boot
#   OUTDIR/initrd.img   busybox-static initramfs with the virtio modules
#   OUTDIR/rootfs/      the same tree, unpacked, for LXC containers
#   OUTDIR/STAMP        the kernel version and this script's checksum
#
# An image whose STAMP matches is up to date and left alone, so callers
# may run this every time: a kernel upgrade (modules that no longer fit
# the copied kernel leave a guest without its network card) or a change
# to this script rebuilds it.
#
# The guest's /init reads its interfaces from the kernel command line
# (VMs) or its arguments (containers), in the words the drivers write:
#   vnsm.id=ID vnsm.if=NAME,MAC,ADDR/PREFIX[,MTU] vnsm.route=DST/PREFIX,GW
# finds each interface by MAC, renames it, addresses it, adds the routes,
# turns forwarding on, prints "vnsm: router ID ready" and keeps a shell
# on the console.  SIGTERM or the ACPI power button powers it off.
set -eu
out=${1:?usage: mkimage.sh OUTDIR}
bb=/bin/busybox
[ -x "$bb" ] && "$bb" --list | grep -qx cttyhack || {
	echo "mkimage: needs busybox-static (make deps)" >&2; exit 1; }
kver=$(ls /lib/modules 2>/dev/null | grep -- '-amd64$' | sort -V | tail -1)
[ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ] || {
	echo "mkimage: needs linux-image-amd64 (make deps)" >&2; exit 1; }
stamp="$kver $(cksum <"$0" | cut -d' ' -f1)"
if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.img" ] && [ -d "$out/rootfs" ] &&
    [ "$(cat "$out/STAMP" 2>/dev/null)" = "$stamp" ]; then
	echo "mkimage: $out is up to date (kernel $kver)"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" \
    "$root/tmp" "$root/run" "$root/etc" "$root/root" "$root/lib/modules"
cp "$bb" "$root/bin/busybox"
for a in sh ip mount insmod poweroff setsid cttyhack sleep cat echo \
    hostname acpid ls ps ping grep sed stty base64; do
	ln -s busybox "$root/bin/$a"
done
# virtio-net and what it needs, in load order (virtio needs virtio_ring).
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
    virtio_pci failover net_failover virtio_net; do
	f=$(find "/lib/modules/$kver/kernel" -name "$m.ko" -o -name "$m.ko.xz" |
	    head -1)
	[ -n "$f" ] && cp "$f" "$root/lib/modules/"
done
echo "$kver" > "$root/lib/modules/VERSION"
echo 'PWRF/00000080 poweroff' > "$root/etc/acpid.conf"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"

cat > "$root/init" <<'INIT'
#!/bin/sh
# vnsm router guest init (scripts/mkimage.sh).  PID 1 in a VM or an LXC
# container.
export PATH=/bin:/sbin
mount -t proc proc /proc 2>/dev/null
mount -t sysfs sys /sys 2>/dev/null
mount -t devtmpfs dev /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts 2>/dev/null
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
    virtio_pci failover net_failover virtio_net; do
	[ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko 2>/dev/null
done
off() {
	echo "vnsm: powering off"
	poweroff -f 2>/dev/null
	exit 0
}
trap off TERM INT USR2
# A container gets its words as arguments; a VM on its kernel command line.
container=""
[ $# -gt 0 ] && { words="$*"; container=1; } || words=$(cat /proc/cmdline)
ip link set lo up
id=""
for w in $words; do
	case $w in
	vnsm.id=*) id=${w#vnsm.id=}; hostname "$id" ;;
	vnsm.if=*)
		IFS=, read -r name mac addr mtu <<EOF2
${w#vnsm.if=}
EOF2
		dev=""
		for i in 1 2 3 4 5 6 7 8 9 10; do
			for d in /sys/class/net/*; do
				[ "$(cat $d/address)" = "$mac" ] && dev=${d##*/}
			done
			[ -n "$dev" ] && break
			sleep 0.2
		done
		[ -z "$dev" ] && { echo "vnsm: no interface with MAC $mac"; continue; }
		ip link set "$dev" down
		[ "$dev" != "$name" ] && ip link set "$dev" name "$name"
		[ -n "$mtu" ] && ip link set "$name" mtu "$mtu"
		[ "$addr" != "0.0.0.0/0" ] && ip addr add "$addr" dev "$name"
		ip link set "$name" up
		;;
	esac
done
for w in $words; do
	case $w in
	vnsm.route=*) r=${w#vnsm.route=}; ip route add "${r%,*}" via "${r#*,}" ;;
	esac
done
echo 1 > /proc/sys/net/ipv4/ip_forward
acpid -c /etc/acpi -a /etc/acpid.conf 2>/dev/null
echo "vnsm: router $id ready"
# cttyhack finds the VM's serial console; a container's is /dev/console.
# libvirt gives a container's init the console as stdin; a background
# job would get /dev/null, so keep it on fd 3.
if [ -n "$container" ]; then
	exec 3<&0
	( while :; do sh -l <&3; sleep 1; done ) &
else
	( while :; do setsid cttyhack sh -l; sleep 1; done ) &
fi
while :; do wait; done
INIT
chmod 755 "$root/init"

mkdir -p "$out"
cp "/boot/vmlinuz-$kver" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -9 > "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
rm -rf "$out/rootfs"
cp -a "$root" "$out/rootfs"
chmod 755 "$out" "$out/rootfs"
chmod 644 "$out/vmlinuz" "$out/initrd.img"
echo "$stamp" >"$out/STAMP"
echo "mkimage: $out (kernel $kver, $(du -k "$out/initrd.img" | cut -f1) KiB initrd)"
