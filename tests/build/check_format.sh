#!/bin/sh
# check_format.sh - every C file under src/, tests/ and contrib/ is as
# clang-format (.clang-format) writes it; `make format` rewrites them.
# Skipped (77) when clang-format is not installed.
set -u
srcdir=${1:-${srcdir:-.}}
command -v clang-format >/dev/null 2>&1 || { echo "check-format: clang-format not found"; exit 77; }
cd "$srcdir" || exit 1
files=$(find src tests contrib -name '*.[ch]' | sort)
out=$(mktemp) || exit 1
if ! clang-format --dry-run -Werror $files 2>"$out"; then
	grep -o '^[^:]*\.[ch]' "$out" | sort -u | sed 's/^/check-format: not formatted: /'
	head -40 "$out"
	rm -f "$out"
	echo "check-format: run 'make format'"
	exit 1
fi
rm -f "$out"
echo "check-format: $(echo $files | wc -w) files formatted"
