#!/bin/sh
# tests/fuzz/smoke.sh SRCDIR TARGET... - make fuzz-smoke: runs each libFuzzer
# target for FUZZ_SECONDS (default 30) on its seed corpus plus a scratch
# corpus, FUZZ_JOBS (default 2) targets at a time. Any crash, leak, timeout
# or failed invariant fails the run; the input is kept as
# fuzz-findings/<target>/crash-* (copy it to tests/fuzz/regress/<target>/
# once the bug is fixed). Prints one line per target with its executions.
src=$1
shift
secs=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-2}
out=fuzz-smoke
one() {
	t=$1
	mkdir -p "$out/$t.corpus" "fuzz-findings/$t"
	if ./tests/fuzz/$t -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="fuzz-findings/$t/" \
		"$out/$t.corpus" "$src/corpus/$t" >"$out/$t.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
		echo "ok   $t: ${secs}s, $execs executions"
	else
		echo "FAIL $t: finding in fuzz-findings/$t/ (log $out/$t.log):"
		grep -m1 -A6 'ERROR\|invariant failed\|Timeout\|leak' "$out/$t.log"
		touch "$out/$t.failed"
	fi
}
if [ "$1" = --one ]; then
	one "$2"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out" fuzz-findings
for t in "$@"; do echo "$t"; done | xargs -P "$jobs" -n 1 sh "$0" "$src" --one
if ls "$out"/*.failed >/dev/null 2>&1; then
	echo "fuzz-smoke: FAILED"
	exit 1
fi
echo "fuzz-smoke: no findings ($# targets, ${secs}s each)"
