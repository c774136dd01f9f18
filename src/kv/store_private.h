/* store_private.h - the layout of struct store, shared by the files that make
 * up the store (store.c: operations; store_codec.c: snapshot encode/decode).
 * Nothing outside src/store*.c may include it. Pure: no I/O, no clock. */
#ifndef CETCD_STORE_PRIVATE_H
#define CETCD_STORE_PRIVATE_H

#include "util/buf.h"
#include "kv/store.h"
#include "kv/store_node.h"
#include "kv/store_ttl.h"
#include "kv/watch.h"
#include "kv/watch_history.h"

struct store {
	struct snode *root; /* owned tree */
	uint64_t index;	    /* the etcd index */
	struct ttl_heap ttl;
	struct watch_history history;
	struct watch_hub *hub;	  /* owned */
	struct store_stats stats; /* .watchers is read from the hub */
	uint64_t bytes;		  /* accounted size: snode_tree_bytes(root), kept current */
	struct buf path;	  /* scratch: the cleaned request path */
	struct buf key;		  /* scratch: keys while removing subtrees */
};

#endif /* CETCD_STORE_PRIVATE_H */
