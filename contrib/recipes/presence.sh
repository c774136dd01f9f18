#!/bin/sh
# presence.sh - service presence with a TTL refreshed while the service runs
# (doc/recipes.md). POSIX sh + curl, against any etcd v2 API (cetcd, a cetcd
# proxy, etcd 3.x --enable-v2).
#
#   presence.sh KEY VALUE [TTL]
#
# Sets KEY=VALUE with ttl=TTL (default 10), then refreshes the TTL every
# TTL/3 seconds (refresh=true&prevExist=true: no watcher is woken, the value
# stays). On SIGINT/SIGTERM/SIGHUP it deletes KEY and exits 0. If it dies
# without deleting (SIGKILL, host gone), KEY expires after TTL seconds and
# watchers see an "expire" event. Exits 1 if the key vanished under it.
# Environment: ENDPOINT (default http://127.0.0.1:2379).
set -u
EP=${ENDPOINT:-http://127.0.0.1:2379}
[ $# -ge 2 ] || { echo "usage: presence.sh KEY VALUE [TTL]" >&2; exit 2; }
KEY=$1 VALUE=$2 TTL=${3:-10}
PERIOD=$((TTL / 3)); [ "$PERIOD" -ge 1 ] || PERIOD=1

api() { # METHOD QUERY [curl args...]: prints the HTTP status
	m=$1 q=$2; shift 2
	curl -s -o /dev/null -w '%{http_code}' -m 5 -X "$m" "$EP/v2/keys$KEY$q" "$@"
}
leave() {
	api DELETE "" >/dev/null
	exit 0
}
trap leave INT TERM HUP

st=$(api PUT "" --data-urlencode "value=$VALUE" -d "ttl=$TTL")
case $st in 200 | 201) ;; *) echo "presence: register $KEY: HTTP $st" >&2; exit 1 ;; esac
echo "registered $KEY"
while :; do
	sleep "$PERIOD" &
	wait $! # a trapped signal interrupts wait at once
	st=$(api PUT "" -d "ttl=$TTL" -d refresh=true -d prevExist=true)
	case $st in
	200) ;;
	404) echo "presence: $KEY is gone" >&2; exit 1 ;;
	*) echo "presence: refresh $KEY: HTTP $st (retrying)" >&2 ;;
	esac
done
