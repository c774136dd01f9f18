#!/bin/sh
# lock.sh - run a command while holding a distributed lock (doc/recipes.md).
#
#   lock.sh NAME COMMAND [ARGS...]
#
# Uses cetcdctl lock: an in-order key under NAME with a TTL kept alive while
# waiting and while holding; the lowest key holds the lock; each waiter
# watches only the key before its own. COMMAND runs with CETCDCTL_LOCK_KEY
# set; the key is deleted when COMMAND ends; the exit status is COMMAND's.
# A holder killed with SIGKILL loses the lock after TTL seconds.
# Environment: ENDPOINT (default http://127.0.0.1:2379), CETCDCTL (default
# cetcdctl on PATH), LOCK_TTL (default 10).
set -u
[ $# -ge 2 ] || { echo "usage: lock.sh NAME COMMAND [ARGS...]" >&2; exit 2; }
exec "${CETCDCTL:-cetcdctl}" --endpoints "${ENDPOINT:-http://127.0.0.1:2379}" \
	lock --ttl "${LOCK_TTL:-10}" "$@"
