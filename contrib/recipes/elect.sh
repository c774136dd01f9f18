#!/bin/sh
# elect.sh - leader election (doc/recipes.md).
#
#   elect.sh NAME PROPOSAL   campaign; once elected print the leader's key and
#                            PROPOSAL (two lines) and stay leader until
#                            SIGTERM/SIGINT/SIGHUP, then resign (delete the key)
#   elect.sh -l NAME         print the leader's key and proposal at each change
#
# Uses cetcdctl elect (the lock's mechanism, PROPOSAL as the key's value; the
# candidate whose in-order key is lowest leads). A leader killed with SIGKILL
# is replaced after TTL seconds.
# Environment: ENDPOINT (default http://127.0.0.1:2379), CETCDCTL (default
# cetcdctl on PATH), ELECT_TTL (default 10).
set -u
CTL=${CETCDCTL:-cetcdctl}
EP=${ENDPOINT:-http://127.0.0.1:2379}
if [ "${1:-}" = -l ]; then
	[ $# -eq 2 ] || { echo "usage: elect.sh -l NAME" >&2; exit 2; }
	exec "$CTL" --endpoints "$EP" elect --listen "$2"
fi
[ $# -eq 2 ] || { echo "usage: elect.sh NAME PROPOSAL" >&2; exit 2; }
exec "$CTL" --endpoints "$EP" elect --ttl "${ELECT_TTL:-10}" "$1" "$2"
