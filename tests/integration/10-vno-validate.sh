#!/bin/sh
# vno validate from the command line: exit codes and the FILE:LINE form.
#   - every example is valid (exit 0, no output);
#   - every *-invalid.xml fixture exits 1 and prints exactly its .err
#     (or its .cli, where the command line words it differently from a
#     parser that knows which document to expect);
#   - a hostile document gets one line, in under a second.
set -u
B=${1:-build}
VNO="$B/bin/vno"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$VNO" validate examples/*.xml 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL: vno validate examples/*.xml: exit $rc"
	echo "$out"
	fail=1
fi

for f in tests/xml/*/invalid/*/*-invalid.xml; do
	exp="${f%.xml}.err"
	[ -f "${f%.xml}.cli" ] && exp="${f%.xml}.cli"
	out=$("$VNO" validate "$f" 2>&1)
	rc=$?
	if [ $rc -ne 1 ]; then
		echo "FAIL: $f: exit $rc, expected 1"
		fail=1
	elif [ "$out" != "$(cat "$exp")" ]; then
		echo "FAIL: $f printed:"
		echo "$out"
		fail=1
	fi
done

# An entity bomb and an external entity: one line each, fast.
cat > "$tmp/bomb.xml" <<'XML'
<?xml version="1.0"?>
<!DOCTYPE v [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>
<vnet xmlns="urn:vnsm:1" name="x"><description>&d;</description></vnet>
XML
cat > "$tmp/xxe.xml" <<'XML'
<!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<vnet xmlns="urn:vnsm:1" name="x"><description>&x;</description></vnet>
XML
for f in "$tmp/bomb.xml" "$tmp/xxe.xml"; do
	t0=$(date +%s%N)
	out=$("$VNO" validate "$f" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	lines=$(printf '%s\n' "$out" | wc -l)
	if [ $rc -ne 1 ] || [ "$lines" -ne 1 ] || [ $ms -ge 1000 ] ||
	    printf '%s' "$out" | grep -q "root:"; then
		echo "FAIL: $f: exit $rc, $lines lines, $ms ms: $out"
		fail=1
	fi
done

# Usage errors are exit 2.
"$VNO" validate >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: vno validate without files is not exit 2"; fail=1; }
"$VNO" no-such-command >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: an unknown command is not exit 2"; fail=1; }

[ $fail -eq 0 ] && echo "vno validate: all cases as expected"
exit $fail
