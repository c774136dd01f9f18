#!/bin/sh
# check_purity.sh - the Raft core must stay pure: its undefined symbols may
# name only memory and string helpers from libc, never a clock, a socket, a
# file, a thread or a random generator. usage: check_purity.sh src/raft/libraft.a
set -u
lib=${1:-src/raft/libraft.a}	# make check runs it from the build tree
NM=${NM:-nm}
[ -f "$lib" ] || { echo "check-purity: $lib not found"; exit 1; }
# undefined in some member and not defined by another: what libc must provide
undef=$($NM -u "$lib" | awk 'NF == 2 && $1 == "U" { print $2 }' | sed 's/@.*//' | sort -u)
defined=$($NM --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
syms=$(printf '%s\n' $undef | grep -vxF -e "$(printf '%s\n' $defined)" | sort -u)

# calls that would make the core impure (I/O, time, threads, randomness)
deny='^(clock_gettime|clock|time|gettimeofday|times|nanosleep|sleep|usleep|socket|connect|bind|listen|accept4?|send|sendto|sendmsg|recv|recvfrom|recvmsg|open|open64|openat|creat|close|read|write|pread|pwrite|readv|writev|fsync|fdatasync|lseek|fopen|fopen64|fdopen|fclose|fread|fwrite|fprintf|printf|puts|fputs|putchar|perror|stat|fstat|mmap|ioctl|epoll_.*|poll|select|pthread_.*|thrd_.*|mtx_.*|fork|getpid|getenv|rand|rand_r|random|srand|srandom|drand48|lrand48|getrandom|arc4random.*|syscall|signal|sigaction)$'
# what the core is expected to use; anything else needs a look
allow='^(malloc|calloc|realloc|free|memcpy|memmove|memset|memcmp|abort|qsort|strlen|__stack_chk_fail|__.*_chk|__asan_.*|__ubsan_.*|__sanitizer_.*|__lsan_.*)$'

status=0
for s in $syms; do
	if printf '%s\n' "$s" | grep -Eq "$deny"; then
		echo "check-purity: FORBIDDEN symbol in $lib: $s"
		status=1
	elif ! printf '%s\n' "$s" | grep -Eq "$allow"; then
		echo "check-purity: unexpected symbol in $lib: $s (add to the allow list if pure)"
		status=1
	fi
done
if [ $status -eq 0 ]; then
	echo "check-purity: $lib is pure ($(printf '%s\n' $syms | wc -l) libc symbols:" $syms ")"
fi
exit $status
