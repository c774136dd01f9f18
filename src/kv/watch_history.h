/* watch_history.h - ring of the last N store events (N = 1000 like etcd) and the
 * history half of a watch: scan from a waitIndex. Pure: no I/O, no clock. */
#ifndef CETCD_WATCH_HISTORY_H
#define CETCD_WATCH_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/store.h"

#define WATCH_HISTORY_CAPACITY 1000

struct watch_history {
	struct store_event **ring; /* owned array; each slot holds one reference */
	size_t cap, head, len;	   /* head = oldest */
};

void watch_history_init(struct watch_history *h, size_t capacity);
void watch_history_free(struct watch_history *h); /* drops every reference */
/* Appends ev (takes its own reference), evicting the oldest when full. */
void watch_history_add(struct watch_history *h, struct store_event *ev);
/* Index of the oldest / newest event held; 0 when empty. */
uint64_t watch_history_start(const struct watch_history *h);
uint64_t watch_history_last(const struct watch_history *h);

/* Looks for the first non-refresh event with index >= since that matches a
 * watch on key (exact; key/... when recursive; a deleted/expired dir whose key
 * is a string prefix of key - etcd's history rule, hidden keys included).
 * Returns -1 when since is older than the window (*start_index set), else 0
 * with *found = the event (borrowed) or NULL. */
int watch_history_scan(const struct watch_history *h, const char *key, size_t key_len,
		       bool recursive, uint64_t since, struct store_event **found,
		       uint64_t *start_index);

#endif /* CETCD_WATCH_HISTORY_H */
