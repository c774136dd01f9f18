/* cluster.h - cluster membership: members, their URLs, and etcd-compatible
 * member and cluster IDs (sha1 of sorted peer URLs + cluster token; cluster
 * ID = sha1 of the sorted member IDs). Pure. */
#ifndef CETCD_CLUSTER_H
#define CETCD_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct member {
	uint64_t id;
	char *name;	  /* owned; "" for a member not started yet */
	char **peer_urls; /* owned, sorted */
	size_t n_peer_urls;
	char **client_urls; /* owned */
	size_t n_client_urls;
};

struct cluster {
	uint64_t id;
	struct member *members; /* owned, sorted by id */
	size_t n_members;
	uint64_t *removed; /* ids removed at runtime: never allowed back */
	size_t n_removed;
};

/* etcd's NewMember ID (no time component: static bootstrap). */
uint64_t cluster_member_id(char *const *peer_urls, size_t n, const char *token);
/* Adds a member (copies everything) and recomputes the cluster ID. */
void cluster_add_member(struct cluster *c, const char *name, char *const *peer_urls, size_t n_peer,
			char *const *client_urls, size_t n_client, const char *token);
/* The member with id, or NULL. */
const struct member *cluster_find(const struct cluster *c, uint64_t id);
/* Adds a member with a known id (runtime add, decode). Copies; keeps the
 * cluster id. Replaces an existing entry with the same id. */
void cluster_put_member(struct cluster *c, uint64_t id, const char *name, char *const *peer_urls,
			size_t n_peer, char *const *client_urls, size_t n_client);
/* Whether a member other than `except` has one of urls among its peer URLs. */
bool cluster_peer_url_taken(const struct cluster *c, char *const *urls, size_t n, uint64_t except);
/* Replaces member id's peer URLs (copied, kept sorted; PUT /v2/members).
 * Returns 0, or -1 when id is not a member. */
int cluster_set_peer_urls(struct cluster *c, uint64_t id, char *const *urls, size_t n);
/* Removes id and remembers it as removed. */
void cluster_remove_member(struct cluster *c, uint64_t id);
bool cluster_is_removed(const struct cluster *c, uint64_t id);
/* Sets a member's published attributes (name, client URLs). */
void cluster_publish(struct cluster *c, uint64_t id, const char *name, char *const *client_urls,
		     size_t n_client);

/* The member table as bytes (cluster id, members, removed ids): the context
 * of the bootstrap entry and part of every snapshot. Versioned. */
void cluster_encode(const struct cluster *c, struct buf *out);
/* Replaces *c with the decoded table. Returns 0, or -1 (c untouched). */
int cluster_decode(struct cluster *c, const void *data, size_t len);
void cluster_free(struct cluster *c);

#endif /* CETCD_CLUSTER_H */
