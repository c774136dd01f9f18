/* store_ttl.h - min-heap of TTL nodes ordered by (expiration, insertion sequence).
 * Pure: no I/O, no clock. The heap borrows node pointers; each node records its
 * heap position in snode.heap_pos (SNODE_NO_TTL when not in the heap). */
#ifndef CETCD_STORE_TTL_H
#define CETCD_STORE_TTL_H

#include <stddef.h>
#include <stdint.h>

#include "kv/store_node.h"

struct ttl_entry {
	int64_t expire_ns;
	uint64_t seq;	    /* tie-break: earlier (re)scheduling expires first */
	struct snode *node; /* borrowed */
};

struct ttl_heap {
	struct ttl_entry *v; /* owned array */
	size_t len, cap;
	uint64_t next_seq;
};

void ttl_heap_init(struct ttl_heap *h);
void ttl_heap_free(struct ttl_heap *h); /* frees the array only */
/* Sets n->expire_ns and puts n in the heap (or moves it if already there). */
void ttl_heap_set(struct ttl_heap *h, struct snode *n, int64_t expire_ns);
/* Takes n out of the heap if it is there (n becomes permanent). */
void ttl_heap_remove(struct ttl_heap *h, struct snode *n);
/* The tie-break sequence number of n, which must be in the heap. */
uint64_t ttl_heap_seq(const struct ttl_heap *h, const struct snode *n);
/* Snapshot restore: puts n (not in the heap) in with the given deadline and
 * sequence number, leaving next_seq alone (the caller restores it). */
void ttl_heap_restore(struct ttl_heap *h, struct snode *n, int64_t expire_ns, uint64_t seq);
/* Earliest node, or NULL. */
struct snode *ttl_heap_top(const struct ttl_heap *h);

#endif /* CETCD_STORE_TTL_H */
