#!/bin/sh
# The whole of `make check`: strict build, static checks, unit tests, XML
# fixtures, integration tests, a short fuzz run, then the unit tests and
# fixtures again under ASan+UBSan.  Prints one line per step and a final
# "N passed, N failed" line; exits non-zero if any step failed.
#
# Usage: tests/run.sh BUILD_DIR     (FAST=1 skips the sanitizer pass)
set -u
B=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
pass=0
fail=0
failed=""
log_dir="$B/test-logs"
mkdir -p "$log_dir"

# step NAME CMD...: run CMD with output to a log; on failure show its tail.
step() {
	name=$1
	shift
	logf="$log_dir/$(echo "$name" | tr ' /' '__').log"
	t0=$(date +%s)
	if "$@" >"$logf" 2>&1; then
		pass=$((pass + 1))
		printf 'PASS  %-40s %3ss\n' "$name" $(($(date +%s) - t0))
	else
		fail=$((fail + 1))
		failed="$failed
  $name ($logf)"
		printf 'FAIL  %-40s %3ss\n' "$name" $(($(date +%s) - t0))
		tail -n 30 "$logf" | sed 's/^/      /'
	fi
}

# Build first; nothing else makes sense if it fails.
if ! make -j"$(nproc)" --no-print-directory BUILD="$B" WERROR=1 all; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi

step "banned functions" sh scripts/banned.sh
step "cppcheck" sh scripts/cppcheck.sh
step "schemas (xmllint on every fixture)" sh tests/xml/xmllint.sh
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	step "unit $(basename "$t")" env CK_FORK=yes "$t"
	grep -h '%: Checks:' "$log_dir/unit_$(basename "$t").log"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	step "integration $(basename "$t" .sh)" sh "$t" "$B"
done
[ -f tests/fuzz/run.sh ] &&
	step "fuzz (short)" sh tests/fuzz/run.sh "$B" "${FUZZ_SECONDS:-10}"

if [ "${FAST:-0}" != 1 ]; then
	A="$B/asan"
	step "build asan+ubsan" make -j"$(nproc)" --no-print-directory \
	    BUILD="$A" WERROR=1 SANITIZE=address,undefined all
	for t in "$A"/tests/test_*; do
		[ -x "$t" ] || continue
		step "asan $(basename "$t")" env CK_FORK=yes \
		    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$t"
	done
fi

if [ $fail -gt 0 ]; then
	printf '\nFailed:%s\n' "$failed"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
