#!/bin/sh
# A link that leaves a PIP is built at the PIP's peering host (issue 5):
# on the demo substrate (pip1 peers through p1h3, pip2 through p2h1) this
# test plays the VNP itself and pins c on p1h1 and d on p2h2, neither a
# peering host, joined by the link c-d.  Each pipd must then stitch the
# link at its peering host: c's host tunnels to p1h3, p1h3 to p2h1, p2h1
# to d's host.  Asserts that c reaches d, that the traffic crossed both
# peering hosts with the VNP's key between them, and that c still reaches
# d after moving onto the peering host and back off it.
set -u
B=$(cd "${1:-build}" && pwd)
cd "$(dirname "$0")/../.." || exit 1
export VNSM_DEMO_NAME="vnsm-p$$"
export VNSM_DEMO_NET="10.79.$(($$ % 200 + 20))"
export VNSM_DEMO_TAG="p$$"
export POOL_DEPTH=1
D=/run/$VNSM_DEMO_NAME
NET=$VNSM_DEMO_NET
T=$(mktemp -d)
KEY=901
fail=0
trap 'sh scripts/demo.sh down "$B" >/dev/null 2>&1; rm -rf "$T"' EXIT

ok() { echo "ok    $*"; }
no() { echo "FAIL  $*"; fail=1; }

# vnp METHOD PIPOCTET PATH [FILE]: call a pipd as the VNP; body in $T/out.
vnp() {
	curl -s -o "$T/out" -D "$T/hdr" -w '%{http_code}' --max-time 30 \
	    --cacert "$D/ca/ca.crt" --cert "$D/ca/vnp1.crt" \
	    --key "$D/ca/vnp1.key" -X "$1" ${4:+--data-binary "@$4"} \
	    ${4:+-H 'Content-Type: application/xml'} \
	    "https://$NET.$2:8443$3"
}

# slice PIP NODE HOST ADDR PEERPIP PEERNODE [PEERUNDERLAY]
slice() {
	cat <<EOF
<slice xmlns="urn:vnsm:1" name="px.$1" vnet="px" pip="$1" mapping="vnp">
  <node name="$2" cpu="1" memory="64MiB" host="$3"/>
  <stub name="c-d" encap="gre" key="$KEY">
    <end node="$2" address="$4/24"/>
    <peer pip="$5" node="$6"${7:+ underlay=\"$7\"}/>
  </stub>
</slice>
EOF
}

# Our tunnel end of link c-d in the manifest in $T/out.
underlay() {
	tr '\n' ' ' <"$T/out" | sed -n \
	    's/.*<link name="c-d"[^>]*>[^<]*<end [^>]*underlay="\([0-9.]*\)".*/\1/p'
}

if ! timeout 120 sh scripts/demo.sh up "$B" >"$T/demo.log" 2>&1; then
	echo "FAIL  the demo substrate did not come up"
	tail -n 30 "$T/demo.log"
	exit 1
fi

slice pip1 c p1h1 10.9.1.1 pip2 d >"$T/s1.xml"
slice pip2 d p2h2 10.9.1.2 pip1 c >"$T/s2.xml"
[ "$(vnp POST 11 /v1/slices "$T/s1.xml")" = 201 ] && u1=$(underlay) ||
	{ no "allocate at pip1: $(cat "$T/out")"; exit 1; }
[ "$(vnp POST 21 /v1/slices "$T/s2.xml")" = 201 ] && u2=$(underlay) ||
	{ no "allocate at pip2: $(cat "$T/out")"; exit 1; }
# The peering hosts, not the nodes' hosts, are the PIPs' tunnel ends.
[ "$u1" = "$NET.14" ] && ok "pip1's end of c-d is its peering host p1h3" ||
	no "pip1's end of c-d is '$u1', not p1h3 ($NET.14)"
[ "$u2" = "$NET.22" ] && ok "pip2's end of c-d is its peering host p2h1" ||
	no "pip2's end of c-d is '$u2', not p2h1 ($NET.22)"

slice pip1 c p1h1 10.9.1.1 pip2 d "$u2" >"$T/s1.xml"
slice pip2 d p2h2 10.9.1.2 pip1 c "$u1" >"$T/s2.xml"
for p in "pip1 11 s1" "pip2 21 s2"; do
	set -- $p
	[ "$(vnp PUT "$2" "/v1/slices/px.$1" "$T/$3.xml")" = 200 ] ||
		no "give $1 its peer: $(cat "$T/out")"
done
for p in "pip1 11" "pip2 21"; do
	set -- $p
	[ "$(vnp POST "$2" "/v1/slices/px.$1/provision")" = 200 ] &&
		ok "provision at $1" || no "provision at $1: $(cat "$T/out")"
done

# Watch both peering hosts' underlays while c pings d.
for h in p1h3 p2h1; do
	timeout 8 nsenter --net="/run/netns/$VNSM_DEMO_NAME-$h" tshark -i ul0 \
	    -n -f 'proto 47' -T fields -E occurrence=f -e ip.src -e ip.dst \
	    -e gre.key \
	    >"$T/$h.cap" 2>/dev/null &
done
sleep 2
printf 'ping -c 3 -W 2 10.9.1.2' >"$T/cmd"
code=$(vnp POST 11 /v1/slices/px.pip1/nodes/c/exec "$T/cmd")
status=$(tr -d '\r' <"$T/hdr" | sed -n 's/^[Xx]-[Ee]xit-[Ss]tatus: *//p')
[ "$code" = 200 ] && [ "$status" = 0 ] && ok "c pings d across the PIP boundary" ||
	no "c does not reach d (HTTP $code, exit '$status'): $(cat "$T/out")"
wait
# GRE with the VNP's key runs between the two peering hosts only.
hex=$(printf '0x%08x' $KEY)
for h in p1h3 p2h1; do
	if grep -Eq "$NET\.(14|22)[[:space:]]+$NET\.(14|22)[[:space:]]+($KEY|$hex)" \
	    "$T/$h.cap"; then
		ok "$h carries c-d between the peering hosts with key $KEY"
	else
		no "$h saw no GRE key $KEY between the peering hosts"
		head -n 5 "$T/$h.cap"
	fi
	if grep -Eq "$NET\.(12|23)" "$T/$h.cap"; then
		ok "$h also carries the leg to the node's host (stitched there)"
	else
		no "$h saw no leg to the node's host"
	fi
done

# The node moves onto the peering host (its transit there becomes its
# stub) and back off it (the stub becomes a transit again); c reaches d
# after each move.
ping_d() {
	code=$(vnp POST 11 /v1/slices/px.pip1/nodes/c/exec "$T/cmd")
	status=$(tr -d '\r' <"$T/hdr" | sed -n 's/^[Xx]-[Ee]xit-[Ss]tatus: *//p')
	[ "$code" = 200 ] && [ "$status" = 0 ]
}
for h in p1h3 p1h1; do
	if [ "$(vnp POST 11 "/v1/slices/px.pip1/nodes/c/migrate?host=$h")" = 200 ]
	then
		ping_d && ok "c moved to $h, and reaches d" ||
		    no "c moved to $h, but does not reach d: $(cat "$T/out")"
	else
		no "migrate c to $h: $(cat "$T/out")"
	fi
done

for p in "pip1 11" "pip2 21"; do
	set -- $p
	[ "$(vnp DELETE "$2" "/v1/slices/px.$1")" = 200 ] ||
		no "delete at $1: $(cat "$T/out")"
done
[ $fail -eq 0 ] && echo "peering: every link leaving a PIP went through its peering host"
exit $fail
