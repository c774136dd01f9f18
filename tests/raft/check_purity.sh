#!/bin/sh
# check_purity.sh - a pure library (the Raft core, kv) must stay pure: its
# undefined symbols may name only memory and string helpers from libc and
# what the pure part of libutil defines (buffers, hash table, allocation or
# abort, crc32c, sha1, Go value and URL parsing; list.h and le.h are
# header-only), never a clock, a socket, a file, a thread or a random
# generator. util/clock.o and util/log.o are not pure.
# usage: check_purity.sh [ARCHIVE [UTIL_ARCHIVE]]
#   (defaults: src/raft/libraft.a src/util/libutil.a, from the build tree)
set -u
lib=${1:-src/raft/libraft.a}
util=${2:-src/util/libutil.a}
NM=${NM:-nm}
pure_util_members='buf.o hash.o xalloc.o crc32c.o sha1.o goparse.o url.o url_escape.o'
for f in "$lib" "$util"; do
	[ -f "$f" ] || { echo "check-purity: $f not found"; exit 1; }
done

# undefined in some member and not defined by another: what must come from outside
undef=$($NM -u "$lib" | awk 'NF == 2 && $1 == "U" { print $2 }' | sed 's/@.*//' | sort -u)
defined=$($NM --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
syms=$(printf '%s\n' $undef | grep -vxF -e "$(printf '%s\n' $defined)" | sort -u)

# global symbols defined by the pure members of the util archive
util_syms=$($NM --defined-only "$util" | awk -v pure=" $pure_util_members " '
	/:$/ { member = substr($0, 1, length($0) - 1); next }
	NF == 3 && $2 ~ /^[A-Z]$/ && index(pure, " " member " ") { print $3 }' | sort -u)

# calls that would make the library impure (I/O, time, threads, randomness)
deny='^(clock_gettime|clock|time|gettimeofday|times|nanosleep|sleep|usleep|socket|connect|bind|listen|accept4?|send|sendto|sendmsg|recv|recvfrom|recvmsg|open|open64|openat|creat|close|read|write|pread|pwrite|readv|writev|fsync|fdatasync|lseek|fopen|fopen64|fdopen|fclose|fread|fwrite|fprintf|printf|puts|fputs|putchar|perror|stat|fstat|mmap|ioctl|epoll_.*|poll|select|pthread_.*|thrd_.*|mtx_.*|fork|getpid|getenv|rand|rand_r|random|srand|srandom|drand48|lrand48|getrandom|arc4random.*|syscall|signal|sigaction)$'
# what a pure library is expected to use from libc; anything else needs a look
allow='^(malloc|calloc|realloc|free|memcpy|memmove|memset|memcmp|memchr|abort|qsort|strlen|strcmp|strchr|strdup|snprintf|vsnprintf|__stack_chk_fail|__.*_chk|__asan_.*|__ubsan_.*|__sanitizer_.*|__lsan_.*)$'

status=0
for s in $syms; do
	base=$(printf '%s\n' "$s" | sed 's/^__\(.*\)_chk$/\1/')	# fortified calls
	if printf '%s\n%s\n' "$s" "$base" | grep -Eq "$deny"; then
		echo "check-purity: FORBIDDEN symbol in $lib: $s"
		status=1
	elif printf '%s\n' "$util_syms" | grep -qxF -e "$s"; then
		:
	elif ! printf '%s\n' "$s" | grep -Eq "$allow"; then
		echo "check-purity: unexpected symbol in $lib: $s (add to the allow list if pure)"
		status=1
	fi
done
if [ $status -eq 0 ]; then
	libc=$(printf '%s\n' $syms | grep -vxF -e "$util_syms" | tr '\n' ' ')
	echo "check-purity: $lib is pure (libc: $libc)"
fi
exit $status
