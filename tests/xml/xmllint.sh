#!/bin/sh
# Check every fixture and example with xmllint against the schemas, so the
# schemas are proven by a second implementation:
#   DOC/in, DOC/out, examples      must validate;
#   DOC/invalid/schema/*.xml       must be refused by xmllint too;
#   DOC/invalid/meaning/*.xml      must validate (only meaning is wrong).
set -u
cd "$(dirname "$0")/../.."
fail=0
n=0

schema_of() {
	case $1 in
	advertisement) echo schemas/advertisement.rng ;;
	*) echo "schemas/$1.rng" ;;
	esac
}

lint() {	# lint EXPECT SCHEMA FILE
	n=$((n + 1))
	if xmllint --noout --nonet --relaxng "$2" "$3" >/dev/null 2>&1; then
		got=valid
	else
		got=invalid
	fi
	if [ "$got" != "$1" ]; then
		echo "FAIL: xmllint says $3 is $got, expected $1"
		fail=1
	fi
}

for dir in tests/xml/*/; do
	doc=$(basename "$dir")
	rng=$(schema_of "$doc")
	for f in "$dir"in/*.xml "$dir"out/*.xml "$dir"invalid/meaning/*.xml; do
		[ -f "$f" ] && lint valid "$rng" "$f"
	done
	for f in "$dir"invalid/schema/*.xml; do
		[ -f "$f" ] && lint invalid "$rng" "$f"
	done
done
for f in examples/*.xml; do
	root=$(sed -n 's/^<\([a-z-]*\) xmlns="urn:vnsm:1".*/\1/p' "$f" | head -1)
	lint valid "$(schema_of "$root")" "$f"
done
echo "xmllint: $n files checked"
exit $fail
