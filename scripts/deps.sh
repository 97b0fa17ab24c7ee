#!/bin/sh
# Install every Debian package vnsm needs to build, test and run its demo.
# Idempotent: packages already present are not reinstalled, and apt is
# only consulted when something is missing.  Must run as root.
set -eu

PKGS="
build-essential pkg-config clang llvm
libxml2-dev libxml2-utils
libssl-dev openssl
libevent-dev
libsqlite3-dev sqlite3
libnl-3-dev libnl-route-3-dev
libssh2-1-dev
libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-driver-lxc libvirt-clients
libxen-dev
libbpf-dev bpftool
libnftables-dev
check
cppcheck
iproute2 iputils-ping procps psmisc
curl python3
tshark iperf3
openssh-server openssh-client
dnsmasq nftables isc-dhcp-client
busybox-static cpio
linux-image-amd64 qemu-system-x86
"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run 'make deps' as root to install them" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
