#!/bin/sh
# Run every document fuzzer for SECONDS each, seeded from the fixtures and
# examples.  Fails on the first finding; the crashing input is kept in
# BUILD/fuzz/findings/.
# Usage: tests/fuzz/run.sh BUILD [SECONDS]
set -u
B=${1:-build}
secs=${2:-10}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
make --no-print-directory BUILD="$B" fuzz-build || exit 1
mkdir -p "$B/fuzz/findings"
rc=0
for f in "$B"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	doc=${f##*/fuzz_}
	corpus="$B/fuzz/corpus/$doc"
	mkdir -p "$corpus"
	cp tests/xml/"$doc"/in/*.xml tests/xml/"$doc"/out/*.xml \
	    tests/xml/"$doc"/invalid/*/*.xml "$corpus"/ 2>/dev/null
	cp examples/*.xml "$corpus"/ 2>/dev/null
	if "$f" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	    -rss_limit_mb=1024 -dict=tests/fuzz/vnsm.dict \
	    -artifact_prefix="$B/fuzz/findings/$doc-" "$corpus" \
	    >"$B/fuzz/$doc.log" 2>&1; then
		echo "fuzz_$doc: $(grep -o 'Done [0-9]* runs' "$B/fuzz/$doc.log")"
	else
		echo "fuzz_$doc: FINDING (see $B/fuzz/$doc.log)"
		tail -n 30 "$B/fuzz/$doc.log"
		rc=1
	fi
done
exit $rc
