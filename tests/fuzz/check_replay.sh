#!/bin/sh
# tests/fuzz/check_replay.sh - make check: runs every fuzz target once over
# each input of its seed corpus (tests/fuzz/corpus/<target>/) and of its
# regression set (tests/fuzz/regress/<target>/: inputs that once found a
# bug). In the ordinary and sanitizer builds the targets are replay
# programs (replay_main.c); in the --enable-fuzzing build libFuzzer's main
# runs the files given to it the same way.
src="${TOP_SRCDIR:-.}/tests/fuzz"
status=0
for t in ${FUZZ_TARGETS:?FUZZ_TARGETS is set by make check}; do
	files=$(find "$src/corpus/$t" "$src/regress/$t" -type f 2>/dev/null | sort)
	if [ -z "$files" ]; then
		echo "FAIL $t: no corpus in $src/corpus/$t"
		status=1
		continue
	fi
	n=$(echo "$files" | wc -l)
	# shellcheck disable=SC2086 # one argument per file (names have no blanks)
	if ./tests/fuzz/$t $files >"tests/fuzz/$t.replay.log" 2>&1; then
		echo "ok   $t: $n inputs"
	else
		echo "FAIL $t ($n inputs):"
		tail -30 "tests/fuzz/$t.replay.log"
		status=1
	fi
done
exit $status
