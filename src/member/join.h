/* join.h - joining an existing cluster (--initial-cluster-state existing):
 * learn this member's id, the cluster id and the member table from the
 * other members (GET <peer-url>/members), as etcd does. Start-up only; it
 * blocks (a couple of seconds per unreachable peer at most). */
#ifndef CETCD_JOIN_H
#define CETCD_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "kv/cluster.h"

/* c holds the --initial-cluster table on entry (whom to ask); on success it
 * is replaced by the cluster's own table and *self_id is the id the cluster
 * gave this member (the one listing own_peer_urls). Returns 0 or -1. */
int join_existing_cluster(struct cluster *c, char *const *own_peer_urls, size_t n_own,
			  uint64_t *self_id);

#endif /* CETCD_JOIN_H */
