#!/bin/sh
# fleet-demo.sh - a fleet-style scheduler in miniature (doc/recipes.md), all
# on 127.0.0.1: one cetcd member; a cetcd proxy (--proxy on) as every host
# would run; two services (web, db) registering themselves with a TTL
# through the proxy (presence.sh); a watcher (watcher.sh) through the proxy.
# Then "web" stops refreshing (SIGKILL: no goodbye); its key expires, the
# watcher reports "failed", and the scheduler reschedules web on a spare
# host. Exits 0 when the replacement is up, 1 on any step's timeout.
#
#   CETCD=/path/to/cetcd CETCDCTL=/path/to/cetcdctl fleet-demo.sh
#
# Environment: CETCD, CETCDCTL (default: on PATH), MEMBER_PORT (2379),
# PEER_PORT (2380), PROXY_PORT (23790), TTL (3), WORKDIR (a temp dir, removed
# at exit). Needs curl; uses sleep with fractions of a second.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CETCD=${CETCD:-cetcd}
export CETCDCTL=${CETCDCTL:-cetcdctl}
MP=${MEMBER_PORT:-2379} PP=${PEER_PORT:-2380} XP=${PROXY_PORT:-23790} TTL=${TTL:-3}
MEMBER=http://127.0.0.1:$MP PEER=http://127.0.0.1:$PP PROXY=http://127.0.0.1:$XP
OWNDIR=
if [ -z "${WORKDIR:-}" ]; then WORKDIR=$(mktemp -d); OWNDIR=1; fi
PIDS=

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -z "$OWNDIR" ] || rm -rf "$WORKDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() { echo "fleet: $*"; }
bg() { # LOG CMD...: start in the background, remember the pid
	log=$1; shift
	"$@" >"$WORKDIR/$log" 2>&1 &
	PIDS="$PIDS $!"
	LAST=$!
}
wait_for() { # SECONDS DESCRIPTION TEST...: poll until TEST succeeds
	n=$(($1 * 5)) what=$2; shift 2
	while [ "$n" -gt 0 ]; do
		if "$@"; then return 0; fi
		sleep 0.2
		n=$((n - 1))
	done
	say "timed out: $what"
	for f in "$WORKDIR"/*.log; do echo "--- $f"; tail -5 "$f"; done
	exit 1
}
answers() { curl -s -o /dev/null -m 1 "$1/v2/keys/"; }
seen() { grep -q "$1" "$WORKDIR/watcher.log"; }

bg member.log "$CETCD" --name m1 --data-dir "$WORKDIR/m1" \
	--listen-client-urls "$MEMBER" --advertise-client-urls "$MEMBER" \
	--listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" \
	--initial-cluster "m1=$PEER"
wait_for 15 "the member answers" answers "$MEMBER"
say "member up on $MEMBER"
bg proxy.log "$CETCD" --proxy on --name proxy --data-dir "$WORKDIR/proxy" \
	--listen-client-urls "$PROXY" --initial-cluster "m1=$PEER"
wait_for 15 "the proxy answers" answers "$PROXY"
say "proxy up on $PROXY"

export ENDPOINT=$PROXY
curl -s -o /dev/null -m 5 -X PUT "$PROXY/v2/keys/fleet/services?dir=true"
bg watcher.log "$HERE/watcher.sh" /fleet/services
sleep 0.5 # let the watch reach the member before the first registration
bg web.log "$HERE/presence.sh" /fleet/services/web host1 "$TTL"
WEB=$LAST
bg db.log "$HERE/presence.sh" /fleet/services/db host1 "$TTL"
wait_for 10 "web and db register" sh -c \
	"grep -q 'up /fleet/services/web host1' '$WORKDIR/watcher.log' &&
	 grep -q 'up /fleet/services/db host1' '$WORKDIR/watcher.log'"
say "web and db registered (TTL ${TTL}s, refreshed every $((TTL / 3 > 0 ? TTL / 3 : 1))s)"

kill -KILL "$WEB"
say "web on host1 stopped refreshing"
wait_for $((TTL + 10)) "the watcher sees web fail" seen "failed /fleet/services/web"
say "watcher: web failed (TTL expired)"
bg web2.log "$HERE/presence.sh" /fleet/services/web host2 "$TTL"
wait_for 10 "web is rescheduled" seen "up /fleet/services/web host2"
say "rescheduled web on host2"
if seen "failed /fleet/services/db"; then
	say "db failed too, but it kept refreshing"
	exit 1
fi
say "db still registered: $(curl -s -m 5 "$PROXY/v2/keys/fleet/services/db")"
