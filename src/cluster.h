/* cluster.h - cluster membership: members, their URLs, and etcd-compatible
 * member and cluster IDs (sha1 of sorted peer URLs + cluster token; cluster
 * ID = sha1 of the sorted member IDs). Pure. */
#ifndef CETCD_CLUSTER_H
#define CETCD_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct member {
	uint64_t id;
	char *name;		/* owned; "" for a member not started yet */
	char **peer_urls;	/* owned, sorted */
	size_t n_peer_urls;
	char **client_urls;	/* owned */
	size_t n_client_urls;
};

struct cluster {
	uint64_t id;
	struct member *members;	/* owned, sorted by id */
	size_t n_members;
};

/* etcd's NewMember ID (no time component: static bootstrap). */
uint64_t cluster_member_id(char *const *peer_urls, size_t n, const char *token);
/* Adds a member (copies everything) and recomputes the cluster ID. */
void cluster_add_member(struct cluster *c, const char *name, char *const *peer_urls,
			size_t n_peer, char *const *client_urls, size_t n_client,
			const char *token);
struct member *cluster_find(struct cluster *c, uint64_t id);
void cluster_free(struct cluster *c);

#endif /* CETCD_CLUSTER_H */
