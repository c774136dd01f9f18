#!/bin/sh
# check_install.sh - make install, into a temporary DESTDIR, puts in place
# cetcd, cetcdctl, the man pages cetcd(1) and cetcdctl(1) and the documents;
# groff renders both pages without a warning; cetcd(1) lists every flag of the
# flag table (src/cetcd/config_table.c) and cetcdctl(1) every environment
# variable cetcdctl reads or sets (src/ctl/*.c). Run from the build directory
# (make check does); the temporary directory is removed at the end.
set -u
srcdir=${TOP_SRCDIR:-${srcdir:-.}}
builddir=$(pwd)
dest=$(mktemp -d) || exit 1
trap 'rm -rf "$dest"' EXIT
fail=0
bad() {
	echo "check-install: $*"
	fail=1
}

# A make of its own, not part of make check's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL
if ! ${MAKE:-make} -s -C "$builddir" install DESTDIR="$dest" >"$dest.log" 2>&1; then
	cat "$dest.log"
	rm -f "$dest.log"
	echo "check-install: make install DESTDIR=$dest failed"
	exit 1
fi
rm -f "$dest.log"

# The file of that name under DESTDIR, in a directory matching $2.
installed() {
	find "$dest" -type f -name "$1" -path "*/$2/$1" | head -n 1
}
for p in cetcd cetcdctl; do
	f=$(installed "$p" bin)
	[ -n "$f" ] || bad "not installed: bin/$p"
	[ -z "$f" ] || [ -x "$f" ] || bad "not executable: $f"
done
# README and every doc/*.md (a new document goes into doc/doc.am's list).
ndocs=0
for d in README $(cd "$srcdir/doc" && ls -- *.md); do
	if [ -n "$(installed "$d" "doc/*")" ]; then
		ndocs=$((ndocs + 1))
	else
		bad "not installed: $d (add it to dist_doc_DATA in doc/doc.am)"
	fi
done
cetcd1=$(installed cetcd.1 man1)
cetcdctl1=$(installed cetcdctl.1 man1)
if [ -z "$cetcd1" ] || [ -z "$cetcdctl1" ]; then
	echo "check-install: man pages not installed in man1"
	exit 1
fi

for page in "$cetcd1" "$cetcdctl1"; do
	head -n 5 "$page" | grep -q '^\.TH ' || bad "no .TH line: $page"
	if command -v groff >/dev/null 2>&1; then
		warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		[ -z "$warn" ] || bad "groff warns on ${page##*/}: $(echo "$warn" | head -n 5)"
		lines=$(groff -man -Tutf8 "$page" 2>/dev/null | wc -l)
		[ "$lines" -gt 100 ] || bad "${page##*/} renders to $lines lines"
	else
		echo "check-install: groff not found, pages not rendered"
	fi
done

# Every flag of the table, and its variable, in cetcd(1).
flags=$(sed -n 's/^	{"\([a-z0-9.-]*\)", FT_.*/\1/p' "$srcdir/src/cetcd/config_table.c")
[ -n "$flags" ] || bad "no flag read from config_table.c"
for f in $flags; do
	# in roff every dash of the help is \- (a minus)
	grep -q -F "$(echo "--$f " | sed 's/-/\\-/g')" "$cetcd1" || bad "cetcd.1 lacks --$f"
	v=ETCD_$(echo "$f" | tr 'a-z.-' 'A-Z__')
	grep -q "$v\\]" "$cetcd1" || bad "cetcd.1 lacks $v"
done
# Every variable cetcdctl reads or sets, in cetcdctl(1).
vars=$(cat "$srcdir"/src/ctl/*.c | grep -o 'etenv("[A-Z_]*ETCDCTL_[A-Z_]*"' | sed 's/.*"\(.*\)"/\1/' | sort -u)
[ -n "$vars" ] || bad "no variable read from src/ctl/*.c"
for v in $vars; do
	grep -q "^\.B $v\$" "$cetcdctl1" || bad "cetcdctl.1 lacks $v (doc/cetcdctl.1.in, ENVIRONMENT)"
done
# And every command of cetcdctl.
for c in $(sed -n 's/^	{"\([a-z][a-z -]*\)".*/\1/p' "$srcdir/src/ctl/help_text.c" | tr ' ' '_'); do
	grep -q "^\.SS $(echo "$c" | tr '_' ' ')\$" "$cetcdctl1" || bad "cetcdctl.1 lacks the command $c"
done

[ "$fail" = 0 ] && echo "check-install: programs, man pages and $ndocs documents installed; $(echo $flags | wc -w) flags and $(echo $vars | wc -w) cetcdctl variables documented"
exit $fail
