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
	util) echo "" ;;
	raft|kv|net) echo "util" ;;
	disk) echo "raft util" ;;
	member) echo "raft kv disk net util" ;;
	api) echo "member raft kv disk net util" ;;
	proxy) echo "net util" ;;
	ctl) echo "util" ;;
	cetcd) echo "api member raft kv disk net util proxy" ;;
	*) echo "?" ;;
	esac
}

status=0
fail() {
	echo "check-layers: $*"
	status=1
}

libs=$(cd "$srcdir/src" && for d in */; do echo "${d%/}"; done)

# 1. includes
for lib in $libs; do
	ok=$(allowed "$lib")
	[ "$ok" = "?" ] && { fail "src/$lib is not in the layer rule (add it to tests/build/check_layers.sh)"; continue; }
	for f in "$srcdir/src/$lib"/*.c "$srcdir/src/$lib"/*.h; do
		[ -f "$f" ] || continue
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		sed 's/^\([0-9]*\):.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1 \2/' |
		while read -r line inc; do
			dir=${inc%%/*}
			if [ "$dir" = "$inc" ]; then
				echo "check-layers: ${f#$srcdir/}:$line: #include \"$inc\" must name its directory"
				continue
			fi
			[ "$dir" = "$lib" ] && continue
			case " $ok " in
			*" $dir "*) ;;
			*) echo "check-layers: ${f#$srcdir/}:$line: $lib may not include $inc (allowed: ${ok:-libc only})" ;;
			esac
		done
	done
done > check_layers.out.$$
if [ -s check_layers.out.$$ ]; then
	cat check_layers.out.$$
	status=1
fi
rm -f check_layers.out.$$

# 2. links: which archive defines each symbol
archives=
for lib in $libs; do
	a="$builddir/src/$lib/lib$lib.a"
	[ -f "$a" ] && archives="$archives $lib"
done
defs=$(for lib in $archives; do
	$NM --defined-only "$builddir/src/$lib/lib$lib.a" 2>/dev/null |
	awk -v lib="$lib" 'NF == 3 && $2 ~ /[TDBRCVW]/ { print $3, lib }'
done | sort -u)
for lib in $archives; do
	ok=$(allowed "$lib")
	$NM -u "$builddir/src/$lib/lib$lib.a" 2>/dev/null | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u |
	while read -r sym; do
		owner=$(printf '%s\n' "$defs" | awk -v s="$sym" '$1 == s { print $2; exit }')
		[ -z "$owner" ] || [ "$owner" = "$lib" ] && continue
		case " $ok " in
		*" $owner "*) ;;
		*) echo "check-layers: lib$lib.a uses $sym from lib$owner.a (allowed: ${ok:-libc only})" ;;
		esac
	done
done > check_layers.out.$$
if [ -s check_layers.out.$$ ]; then
	cat check_layers.out.$$
	status=1
fi
rm -f check_layers.out.$$

if [ $status -eq 0 ]; then
	echo "check-layers: $(echo $libs | wc -w) libraries follow the rule (archives checked:$archives)"
fi
exit $status
