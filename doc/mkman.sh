#!/bin/sh
# mkman.sh - builds a man page from its hand-written template (doc/*.1.in)
# and the program's own help, so that the page lists every flag and
# environment variable the program has and cannot drift from it.
#   @VERSION@   the package version (third argument)
#   @HELP@      (a line of its own) PROGRAM --help, verbatim
#   @COMMANDS@  (a line of its own) PROGRAM help CMD (PROGRAM CMD SUB --help
#               for a subcommand) for every entry of the usage table in
#               HELP_TEXT_C (cetcdctl's src/ctl/help_text.c)
# usage: mkman.sh TEMPLATE PROGRAM VERSION [HELP_TEXT_C] > page.1
# Makefile.am (doc/man.am) runs it after the programs are built.
set -eu
template=$1
prog=$2
version=$3
helptext=${4:-}

# Help text as a no-fill roff block: backslashes escaped, dashes as \- (a
# minus, so that flags copy and paste), a leading . or ' protected so that no
# line of the help can be read as a request.
verbatim() {
	echo '.PP'
	echo '.nf'
	sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
	echo '.fi'
}

# PROGRAM ARGS..., usage (stderr) before the flags (stdout).
help_of() {
	tmp=$(mktemp)
	"$prog" "$@" 2>"$tmp.err" >"$tmp" || {
		echo "mkman.sh: $prog $* failed" >&2
		rm -f "$tmp" "$tmp.err"
		exit 1
	}
	cat "$tmp.err" "$tmp"
	rm -f "$tmp" "$tmp.err"
}

# A failing help stops the page (no pipeline: exit must leave the script).
section() {
	out=$(mktemp)
	help_of "$@" >"$out"
	verbatim <"$out"
	rm -f "$out"
}

commands() {
	[ -n "$helptext" ] || return 0
	for cmd in $(sed -n 's/^	{"\([a-z][a-z -]*\)".*/\1/p' "$helptext" | tr ' ' '+'); do
		words=$(echo "$cmd" | tr '+' ' ')
		echo ".SS $words"
		case $cmd in
		*+*) section $words --help ;; # "member add"
		*) section help "$cmd" ;;
		esac
	done
}

while IFS= read -r line; do
	case $line in
	@HELP@) section --help ;;
	@COMMANDS@) commands ;;
	*) printf '%s\n' "$line" | sed "s/@VERSION@/$version/g" ;;
	esac
done <"$template"
