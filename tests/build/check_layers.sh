#!/bin/sh
# check_layers.sh - the one direction of dependencies between cetcd's
# libraries (doc/architecture.md draws it). A library may include headers of,
# and link symbols from, only itself and the libraries listed for it below.
#   1. includes: every #include "dir/file.h" in src/<lib>/ names an allowed dir
#      (and every project include names its directory);
#   2. links: every symbol a library archive leaves undefined that another
#      project archive defines comes from an allowed library (nm).
# usage: check_layers.sh [SRCDIR [BUILDDIR]]; make check runs it.
set -u
srcdir=${1:-${srcdir:-.}}
builddir=${2:-.}
NM=${NM:-nm}

# The rule. Everything a library may use, the library itself excepted.
allowed() {
	case $1 in
	util) echo "libc-only" ;;
	raft|kv|net) echo "util" ;;
	disk) echo "raft util" ;;
	member) echo "raft kv disk net util" ;;
	api) echo "member raft kv disk net util" ;;
	proxy) echo "net util" ;;
	# ctl: disk (+ raft types) for backup, net for dns_srv only (--discovery-srv)
	ctl) echo "disk raft net util" ;;
	cetcd) echo "api member raft kv disk net util proxy" ;;
	*) echo "?" ;;
	esac
}

# may_use LIB DEP: DEP is LIB itself or allowed for it
may_use() {
	[ "$1" = "$2" ] && return 0
	case " $(allowed "$1") " in
	*" $2 "*) return 0 ;;
	esac
	return 1
}

libs=$(cd "$srcdir/src" && for d in */; do echo "${d%/}"; done)

# 1. includes: one line per violation
check_includes() {
	for lib in $libs; do
		if [ "$(allowed "$lib")" = "?" ]; then
			echo "check-layers: src/$lib is not in the layer rule (add it to $0)"
			continue
		fi
		for f in "$srcdir/src/$lib"/*.c "$srcdir/src/$lib"/*.h; do
			[ -f "$f" ] || continue
			grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
			sed 's/^\([0-9]*\):.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1 \2/' |
			while read -r line inc; do
				dir=${inc%%/*}
				where="${f#"$srcdir"/}:$line"
				if [ "$dir" = "$inc" ]; then
					echo "check-layers: $where: #include \"$inc\" must name its directory"
				elif ! may_use "$lib" "$dir"; then
					echo "check-layers: $where: $lib may not include $inc (allowed: $(allowed "$lib"))"
				fi
			done
		done
	done
}

archive() {
	echo "$builddir/src/$1/lib$1.a"
}

# 2. links: every symbol an archive needs from another archive
check_links() {
	archives=
	for lib in $libs; do
		[ -f "$(archive "$lib")" ] && archives="$archives $lib"
	done
	defs=$(for lib in $archives; do
		$NM --defined-only "$(archive "$lib")" 2>/dev/null |
		awk -v lib="$lib" 'NF == 3 && $2 ~ /[TDBRCVW]/ { print $3, lib }'
	done | sort -u)
	for lib in $archives; do
		$NM -u "$(archive "$lib")" 2>/dev/null | awk 'NF == 2 && $1 == "U" { print $2 }' |
		sort -u | while read -r sym; do
			owner=$(printf '%s\n' "$defs" | awk -v s="$sym" '$1 == s { print $2; exit }')
			if [ -n "$owner" ] && ! may_use "$lib" "$owner"; then
				echo "check-layers: lib$lib.a uses $sym from lib$owner.a (allowed: $(allowed "$lib"))"
			fi
		done
	done
	echo "archives:$archives" >&3
}

checked=$(mktemp) || exit 1
violations=$( { check_includes; check_links; } 3>"$checked")
if [ -n "$violations" ]; then
	printf '%s\n' "$violations"
	rm -f "$checked"
	exit 1
fi
echo "check-layers: $(echo $libs | wc -w) libraries follow the rule ($(cat "$checked"))"
rm -f "$checked"
