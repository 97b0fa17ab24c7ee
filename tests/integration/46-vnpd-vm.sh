#!/bin/sh
# vno console and vno exec against a VM node, through vnpd, pipd and
# substrated (qemu driver, TCG): one PIP with one host (the agent in the
# root namespace), a VNet of one VM and one netns node.  vnpd checks
# every node's console with exec before the VNet is ready (on the VM
# through its serial console: substrate-agent/lv_console.c); then vno
# exec runs real commands on the VM (output, exit status, its address,
# a ping across the link) and vno console is fed lines on stdin.
# Starts virtlogd/libvirtd if they are not running (as 50-drivers-vm.sh
# does) and stops what it started.  Skips when the
# router image cannot be built or libvirt is missing.
#
# Usage: 46-vnpd-vm.sh BUILD_DIR
set -u
. "$(dirname "$0")/stack.inc"
stack_need vno vnpd pipd substrated
stack_need_root
stack_need_vm

ID=$$
P=vm$((ID % 100000))
stack_init vnpd-vm
STACK_NS="^vn-$P"
STACK_LINKS="$P-u"
STACK_WAIT=0.5
started=""
stack_teardown() {
	for d in $(virsh -q -c qemu:///system list --all --name 2>/dev/null |
	    grep "^vn-$P" || true); do
		virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
		virsh -q -c qemu:///system undefine "$d" >/dev/null 2>&1
	done
	for p in $started; do kill "$p" 2>/dev/null; done
}

# libvirt, as 50-drivers-vm.sh starts it.
mkdir -p /var/log/libvirt/qemu
if ! pgrep -r R,S,D -x virtlogd >/dev/null; then
	virtlogd -d && start_vl=1
fi
if ! pgrep -r R,S,D -x libvirtd >/dev/null; then
	id libvirt-qemu >/dev/null 2>&1 ||
	    useradd --system --user-group --no-create-home \
	    --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
	etc=$T/etc-libvirt
	cp -a /etc/libvirt "$etc"
	printf 'user = "root"\ngroup = "root"\n' > "$etc/qemu.conf"
	unshare -m --propagation private sh -c \
	    'umount /sys/fs/cgroup/unified 2>/dev/null
	     mount --bind "$1" /etc/libvirt || exit 1
	     exec libvirtd -d' sh "$etc" && start_lv=1
fi
i=0
until virsh -q -c qemu:///system version >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -gt 50 ] && die "libvirtd did not come up in 10 s"
	sleep 0.2
done
[ -n "${start_vl:-}" ] && started="$started $(pgrep -r R,S,D -o -x virtlogd)"
[ -n "${start_lv:-}" ] && started="$started $(pgrep -r R,S,D -o -x libvirtd)"

# The host's underlay: one end of a veth pair (lo's MTU is out of range
# for a report).
UL=172.30.$((ID % 200 + 20)).1
ip link add "$P-u" type veth peer name "$P-v" || die "veth"
ip addr add "$UL/24" dev "$P-u"
ip link set "$P-u" up
ip link set "$P-v" up

stack_ca
ca issue "$CA" --role pipd --name pip1 --san IP:127.0.0.1
ca issue "$CA" --role substrated --name h1 --san "IP:$UL"
ca issue "$CA" --role vnpd --name vnp1 --san IP:127.0.0.1
ca issue "$CA" --role vno --name alice
APORT=$(free_port)
PPORT=$(free_port)
VPORT=$(free_port)

stack_agent_conf h1 "$UL:$APORT" pip1 "127.0.0.1:$PPORT" "$UL" "$P" <<EOF
drivers netns qemu
qemu-type qemu
image-dir $img
cpu 8
memory 4GiB
report-interval 500ms
EOF
stack_bg "$T/h1.log" "$BIN/substrated" -dv -f "$T/h1.conf"
stack_pipd_conf pip1 "127.0.0.1:$PPORT" <<EOF
agent-timeout 120s
[host h1]
agent $UL:$APORT
underlay $UL
[vnp vnp1]
advertise full
EOF
stack_bg "$T/pip1.log" "$BIN/pipd" -dv -f "$T/pip1.conf"
stack_vnpd_conf "$VPORT" <<EOF
timeout 120000
[pip pip1]
address 127.0.0.1:$PPORT
EOF
stack_bg "$T/vnpd.log" "$BIN/vnpd" -dv -f "$T/vnpd.conf"
stack_vno "$VPORT"
# Wait until pipd advertises the host, with VMs among its kinds.
for _ in $(seq 100); do
	curl -s --cacert "$CA/ca.crt" --cert "$CA/vnp1.crt" \
	    --key "$CA/vnp1.key" "https://127.0.0.1:$PPORT/v1/advertisement" \
	    >"$T/ad.xml" 2>/dev/null && grep -q 'kinds="[^"]*vm' "$T/ad.xml" &&
	    break
	sleep 0.1
done
grep -q 'kinds="[^"]*vm' "$T/ad.xml" ||
    { bad "pipd does not advertise VMs"; cat "$T/ad.xml"; tail "$T/h1.log"; exit 1; }

cat >"$T/vmnet.xml" <<EOF
<vnet xmlns="urn:vnsm:1" name="vmnet">
  <node name="vm" kind="vm" cpu="1" memory="128MiB" image="router" pool="never"/>
  <node name="ns" cpu="1" memory="32MiB"/>
  <link name="vm-ns"><end node="vm" address="10.8.0.1/30"/><end node="ns" address="10.8.0.2/30"/></link>
</vnet>
EOF
t0=$(date +%s)
if vno create "$T/vmnet.xml" --wait --timeout 180 >"$T/create.out" 2>&1; then
	ok "VNet with a VM node and a netns node ready in $(( $(date +%s) - t0 )) s"
else
	bad "VNet with a VM node"; cat "$T/create.out"; tail -20 "$T/vnpd.log"
	exit 1
fi
grep -E "step (virtualization|console|total)" "$T/create.out" | sed 's/^/    /'
t1=$(date +%s%N)
out=$(vno exec vmnet vm -- uname -s 2>"$T/exec.err")
rc=$?
[ $rc = 0 ] && [ "$out" = Linux ] &&
    ok "vno exec on the VM: '$out' ($(( ($(date +%s%N) - t1) / 1000000 )) ms)" ||
    bad "vno exec on the VM: exit $rc, '$out' $(cat "$T/exec.err")"
out=$(vno exec vmnet vm -- ip -o addr 2>&1)
echo "$out" | grep -q "inet 10\.8\.0\.1/30" &&
    ok "vno exec on the VM: ip addr shows 10.8.0.1/30" ||
    bad "vno exec ip addr on the VM: $out"
vno exec vmnet vm -- false >/dev/null 2>&1
[ $? = 1 ] && ok "vno exec false on the VM returns 1" ||
    bad "vno exec false on the VM"
vno exec vmnet vm -- exit 5 >/dev/null 2>&1
[ $? = 5 ] && ok "vno exec on the VM returns the exit status (5)" ||
    bad "vno exec exit status on the VM"
out=$(vno exec vmnet vm -- ping -c1 -W2 10.8.0.2 2>&1)
[ $? = 0 ] && ok "vno exec ping from the VM to the netns node" ||
    bad "ping from the VM: $out"
out=$(printf 'echo hi-$((6*7))\ncd /tmp\npwd\nexit\n' | vno console vmnet vm 2>&1)
echo "$out" | grep -qx hi-42 && echo "$out" | grep -qx /tmp &&
    ok "vno console on the VM" || bad "vno console on the VM: $out"
out=$(vno exec vmnet ns -- uname -s)
[ "$out" = Linux ] && ok "vno exec on the netns node of the same VNet" ||
    bad "exec on the netns node"
vno delete vmnet >/dev/null 2>&1 && ok "vmnet deleted" || bad "delete"
sleep 1
if virsh -q -c qemu:///system list --all --name | grep -q "^vn-$P"; then
	bad "a domain is left"
else
	ok "no domain left"
fi
echo "$fails failure(s)"
[ "$fails" = 0 ]
