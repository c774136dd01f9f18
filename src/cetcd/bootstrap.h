/* bootstrap.h - where a new member's initial cluster comes from:
 * --initial-cluster, --discovery (cetcd/discovery.h) or --discovery-srv
 * (cetcd/discovery_srv.h), and the peer URLs a new proxy starts from. The
 * log lines and messages of a failure are etcd 3.4's (etcdmain). */
#ifndef CETCD_BOOTSTRAP_H
#define CETCD_BOOTSTRAP_H

#include "cetcd/config.h"
#include "util/url.h"

enum boot_result {
	BOOT_OK,    /* *initial set (owned by the caller: url_map_free) */
	BOOT_PROXY, /* the discovery cluster is full: run as a proxy */
	BOOT_FAIL,  /* already logged; exit 1 */
};

/* A new member (no WAL). *token is the cluster token for member ids: the
 * discovery URL with --discovery (as etcd), else --initial-cluster-token. */
enum boot_result bootstrap_member(const struct config *c, struct url_map *initial,
				  const char **token);

/* A new or restarted proxy: the peer URLs to start from, as a URLs map.
 * A proxy whose data dir has a cluster file ignores discovery. Returns 0,
 * or -1 (logged). */
int bootstrap_proxy_peers(const struct config *c, struct url_map *initial);

#endif /* CETCD_BOOTSTRAP_H */
