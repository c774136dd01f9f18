/* watch_history.c - the event ring and its scan (see watch_history.h).
 * Pure: no I/O, no clock. */
#include "kv/watch_history.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void watch_history_init(struct watch_history *h, size_t capacity)
{
	h->ring = xcalloc(capacity, sizeof(*h->ring));
	h->cap = capacity;
	h->head = h->len = 0;
}

void watch_history_free(struct watch_history *h)
{
	for (size_t i = 0; i < h->len; i++)
		store_event_unref(h->ring[(h->head + i) % h->cap]);
	free(h->ring);
	h->ring = NULL;
	h->cap = h->head = h->len = 0;
}

void watch_history_add(struct watch_history *h, struct store_event *ev)
{
	store_event_ref(ev);
	if (h->len == h->cap) {
		store_event_unref(h->ring[h->head]);
		h->ring[h->head] = ev;
		h->head = (h->head + 1) % h->cap;
		return;
	}
	h->ring[(h->head + h->len) % h->cap] = ev;
	h->len++;
}

uint64_t watch_history_start(const struct watch_history *h)
{
	return h->len ? h->ring[h->head]->index : 0;
}

uint64_t watch_history_last(const struct watch_history *h)
{
	return h->len ? h->ring[(h->head + h->len - 1) % h->cap]->index : 0;
}

static bool history_match(const struct store_event *ev, const char *key, size_t key_len,
			  bool recursive)
{
	size_t ev_len = strlen(ev->key);
	if (ev_len == key_len && memcmp(ev->key, key, key_len) == 0)
		return true;
	if (recursive) {
		/* key + "/" is a prefix of the event's key ("/" itself ends in '/') */
		bool root = key_len == 1 && key[0] == '/';
		size_t plen = root ? 1 : key_len + 1;
		if (ev_len >= plen && memcmp(ev->key, key, key_len) == 0 &&
		    (root || ev->key[key_len] == '/'))
			return true;
	}
	/* etcd: a deleted or expired dir matches every key it is a string prefix of */
	if ((ev->action == ACT_DELETE || ev->action == ACT_EXPIRE) && ev->dir &&
	    key_len >= ev_len && memcmp(key, ev->key, ev_len) == 0)
		return true;
	return false;
}

int watch_history_scan(const struct watch_history *h, const char *key, size_t key_len,
		       bool recursive, uint64_t since, struct store_event **found,
		       uint64_t *start_index)
{
	*found = NULL;
	*start_index = watch_history_start(h);
	if (h->len == 0)
		return 0;
	if (since < *start_index)
		return -1;
	if (since > watch_history_last(h))
		return 0;
	/* indexes are contiguous in practice; jump there, then skip any below since */
	uint64_t offset = since - *start_index;
	size_t i = offset < h->len ? (size_t)offset : 0;
	while (i > 0 && h->ring[(h->head + i - 1) % h->cap]->index >= since)
		i--;
	for (; i < h->len; i++) {
		struct store_event *ev = h->ring[(h->head + i) % h->cap];
		if (ev->index < since || ev->refresh)
			continue;
		if (history_match(ev, key, key_len, recursive)) {
			*found = ev;
			return 0;
		}
	}
	return 0;
}
