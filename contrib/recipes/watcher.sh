#!/bin/sh
# watcher.sh - the fleet demo's failure detector (doc/recipes.md).
#
#   watcher.sh DIR
#
# Watches DIR recursively (cetcdctl exec-watch) and prints one line per
# change: "up KEY VALUE" when a service registers, "down KEY" when one
# resigns (delete), "failed KEY" when one stopped refreshing (its TTL
# expired). TTL refreshes (refresh=true) wake no watcher, so a healthy
# service makes no noise. Replace the echo lines with the reaction you want
# (start the service elsewhere, page someone).
# Environment: ENDPOINT (default http://127.0.0.1:2379), CETCDCTL.
set -u
[ $# -eq 1 ] || { echo "usage: watcher.sh DIR" >&2; exit 2; }
exec "${CETCDCTL:-cetcdctl}" --endpoints "${ENDPOINT:-http://127.0.0.1:2379}" \
	exec-watch --recursive "$1" -- sh -c '
	case $ETCD_WATCH_ACTION in
	set | create | update) echo "up $ETCD_WATCH_KEY $ETCD_WATCH_VALUE" ;;
	delete) echo "down $ETCD_WATCH_KEY" ;;
	expire) echo "failed $ETCD_WATCH_KEY" ;;
	esac'
