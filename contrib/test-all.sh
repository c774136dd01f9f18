#!/bin/sh
# contrib/test-all.sh - installs everything the tests need, then builds cetcd
# twice out of tree (plain, and with ASan+UBSan) and runs the whole suite in
# both builds, then `make distcheck` in the plain build (the tarball builds,
# passes the quick test set -- all but the e2e tests, plus the keys e2e test --
# from a read-only source tree, installs and uninstalls; CETCD_TEST_DISTCHECK=no
# skips it), then, when clang is installed, a third build with libFuzzer
# (configure CC=clang --enable-fuzzing) that runs `make fuzz-smoke`: each fuzz
# target for CETCD_FUZZ_SECONDS (default 30), two at a time, about 3 minutes
# with the build (CETCD_TEST_FUZZ=no skips it; doc/testing.md). Ends with one
# line "N passed, N failed".
# Exit 0 only if all pass.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/contrib/install-deps.sh" --test
cd "$top"
# An in-tree configure (./configure in the clone) blocks every out-of-tree
# build; clean it first (contrib/quickstart.sh builds in ./build instead).
if [ -f config.status ]; then
	echo "test-all: the source tree was configured in place; running make distclean"
	make distclean >/dev/null 2>&1 || rm -f config.status
fi
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
builds="${CETCD_TEST_BUILDS:-plain sanitizers}"
work=$(mktemp -d /tmp/cetcd-test.XXXXXX)
status=0
for b in $builds; do
	mkdir -p "$work/$b"
	cd "$work/$b"
	flags=
	[ "$b" = sanitizers ] && flags=--enable-sanitizers
	echo "== $b build"
	"$top/configure" -q $flags
	make -j"$(nproc)" >/dev/null
	make -j"$(nproc)" check || status=1
	for f in $(find . -name '*.log' ! -name 'test-suite.log' ! -name config.log); do
		[ -s "$f" ] && [ -f "${f%.log}.trs" ] || continue
		grep -q '^:test-result: FAIL\|^:test-result: ERROR' "${f%.log}.trs" && { echo "---- $b: $f"; tail -40 "$f"; }
	done
	cd "$top"
done
if [ "${CETCD_TEST_DISTCHECK:-yes}" = yes ] && [ -d "$work/plain" ]; then
	echo "== distcheck (plain build)"
	quick=$(cd "$work/plain" && make -s print-quick-tests)
	if (cd "$work/plain" && make -j"$(nproc)" distcheck TESTS="$quick" >distcheck.log 2>&1); then
		echo "distcheck: passed"
	else
		status=1
		echo "---- distcheck failed:"
		tail -60 "$work/plain/distcheck.log"
	fi
fi
fuzzpass=0
fuzzfail=0
if [ "${CETCD_TEST_FUZZ:-yes}" = yes ] && command -v clang >/dev/null 2>&1; then
	echo "== fuzz build (clang, libFuzzer): make fuzz-smoke"
	mkdir -p "$work/fuzz"
	cd "$work/fuzz"
	if "$top/configure" -q CC=clang --enable-fuzzing &&
		make -j"$(nproc)" fuzz-smoke FUZZ_SECONDS="${CETCD_FUZZ_SECONDS:-30}" >fuzz-smoke.log 2>&1; then
		grep '^ok ' fuzz-smoke.log || true
	else
		status=1
		echo "---- fuzz-smoke failed:"
		grep -v '^    #' fuzz-smoke.log | tail -60
	fi
	fuzzpass=$(grep -c '^ok ' fuzz-smoke.log 2>/dev/null || true)
	fuzzfail=$(grep -c '^FAIL ' fuzz-smoke.log 2>/dev/null || true)
	cd "$top"
elif [ "${CETCD_TEST_FUZZ:-yes}" = yes ]; then
	echo "== fuzz build skipped: clang is not installed"
fi
# count from automake's .trs files (one per test program; a distcheck that
# passed has removed its own)
results=$(find "$work" -name '*.trs' -exec grep -h '^:test-result:' {} +)
pass=$(echo "$results" | grep -c 'PASS' || true)
fail=$(echo "$results" | grep -c 'FAIL\|ERROR' || true)
skip=$(echo "$results" | grep -c 'SKIP' || true)
pass=$((pass + ${fuzzpass:-0}))
fail=$((fail + ${fuzzfail:-0}))
rm -rf "$work"
echo "$pass passed, $fail failed, $skip skipped"
[ "$status" = 0 ] && [ "$fail" = 0 ]
