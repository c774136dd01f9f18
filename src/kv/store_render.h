/* store_render.h - etcd 3.4 v2 JSON for nodes and events, written straight into a
 * struct buf (field order key, value, dir, expiration, ttl, nodes, modifiedIndex,
 * createdIndex; Go omitempty rules). Pure: no I/O, no clock (now comes in). */
#ifndef CETCD_STORE_RENDER_H
#define CETCD_STORE_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "kv/store_node.h"

/* A flat description of one node as an event shows it; all pointers borrowed. */
struct node_view {
	const char *key; /* full key; key_len 0 = omitted (the root) */
	size_t key_len;
	const char *value; /* NULL = no "value" field */
	size_t value_len;  /* bytes of value (may contain NULs) */
	bool dir;
	bool has_expiration;
	int64_t expire_ns;
	uint64_t modified_index; /* 0 = omitted */
	uint64_t created_index;	 /* 0 = omitted */
};

/* Appends unix_ns as Go's RFC3339Nano in UTC: 2016-05-24T09:35:30.752422783Z
 * (fraction trailing zeros trimmed, no fraction when zero). No quotes. */
void render_rfc3339nano(struct buf *b, int64_t unix_ns);

/* ceil((expire - now) / 1s), or 0 when that is <= 0 (then "ttl" is omitted). */
int64_t render_ttl_seconds(int64_t expire_ns, int64_t now_ns);

/* The view of a stored node (value, dir, expiration, indexes) under key. */
void snode_view_of(struct node_view *v, const struct snode *n, const char *key, size_t key_len);

/* {"key":..,...} for v, with no "nodes". */
void render_node_view(struct buf *b, const struct node_view *v, int64_t now_ns);

/* {"action":"<action>","node":{..}[,"prevNode":{..}]}\n ; prev may be NULL. */
void render_event(struct buf *b, const char *action, const struct node_view *node,
		  const struct node_view *prev, int64_t now_ns);

/* {"action":"get","node":{..}}\n for n at key (key_len 0 for the root): a dir
 * lists its children (all levels when recursive), hidden children left out,
 * byte-sorted at every level when sorted, otherwise in insertion order. */
void render_get(struct buf *b, const struct snode *n, const char *key, size_t key_len,
		bool recursive, bool sorted, int64_t now_ns);

#endif /* CETCD_STORE_RENDER_H */
