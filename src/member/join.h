/* join.h - joining an existing cluster (--initial-cluster-state existing):
 * learn this member's id, the cluster id and the member table from the
 * other members (GET <peer-url>/members), as etcd does. Start-up only; it
 * blocks (a couple of seconds per unreachable peer at most). */
#ifndef CETCD_JOIN_H
#define CETCD_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "kv/cluster.h"

struct http_client_tls;

/* What a joining member learns from the cluster. */
struct join_result {
	uint64_t self_id;     /* the id the cluster gave this member */
	struct cluster table; /* the cluster's member table, with its id (owned) */
};

/* initial: the --initial-cluster table (whom to ask). On success fills out
 * (the member listing own_peer_urls is this one). Returns 0 or -1. tls:
 * the peer certificate presented to https:// peers and the CA they must
 * have theirs from (NULL: libcurl's defaults). */
int join_existing_cluster(const struct cluster *initial, char *const *own_peer_urls, size_t n_own,
			  const struct http_client_tls *tls, struct join_result *out);

/* The member table in a peer's GET /members answer (JSON, uint64 ids as
 * numbers) into c; returns the id of the member whose peer URLs include one
 * of own_urls (0 if none). Exposed for tests/fuzz/fuzz_members.c. */
uint64_t join_table_from_json(const char *json, size_t len, char *const *own_urls, size_t n_own,
			      struct cluster *c);

#endif /* CETCD_JOIN_H */
