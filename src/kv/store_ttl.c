/* store_ttl.c - min-heap of TTL deadlines (see store_ttl.h). Pure: no I/O, no clock. */
#include "kv/store_ttl.h"

#include <stdlib.h>

#include "util/xalloc.h"

void ttl_heap_init(struct ttl_heap *h)
{
	h->v = NULL;
	h->len = h->cap = 0;
	h->next_seq = 0;
}

void ttl_heap_free(struct ttl_heap *h)
{
	free(h->v);
	ttl_heap_init(h);
}

static bool entry_less(const struct ttl_entry *a, const struct ttl_entry *b)
{
	if (a->expire_ns != b->expire_ns)
		return a->expire_ns < b->expire_ns;
	return a->seq < b->seq;
}

static void place(struct ttl_heap *h, size_t i, struct ttl_entry e)
{
	h->v[i] = e;
	e.node->heap_pos = (uint32_t)i;
}

static void sift_up(struct ttl_heap *h, size_t i)
{
	struct ttl_entry e = h->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!entry_less(&e, &h->v[parent]))
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, e);
}

static void sift_down(struct ttl_heap *h, size_t i)
{
	struct ttl_entry e = h->v[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->len)
			break;
		if (child + 1 < h->len && entry_less(&h->v[child + 1], &h->v[child]))
			child++;
		if (!entry_less(&h->v[child], &e))
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, e);
}

static void push(struct ttl_heap *h, struct ttl_entry e)
{
	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->len] = e;
	sift_up(h, h->len++);
}

void ttl_heap_set(struct ttl_heap *h, struct snode *n, int64_t expire_ns)
{
	n->expire_ns = expire_ns;
	struct ttl_entry e = {expire_ns, h->next_seq++, n};
	if (n->heap_pos != SNODE_NO_TTL) {
		size_t i = n->heap_pos;
		h->v[i] = e;
		sift_up(h, i);
		sift_down(h, n->heap_pos);
		return;
	}
	push(h, e);
}

uint64_t ttl_heap_seq(const struct ttl_heap *h, const struct snode *n)
{
	return h->v[n->heap_pos].seq;
}

void ttl_heap_restore(struct ttl_heap *h, struct snode *n, int64_t expire_ns, uint64_t seq)
{
	n->expire_ns = expire_ns;
	push(h, (struct ttl_entry){expire_ns, seq, n});
}

void ttl_heap_remove(struct ttl_heap *h, struct snode *n)
{
	if (n->heap_pos == SNODE_NO_TTL)
		return;
	size_t i = n->heap_pos;
	n->heap_pos = SNODE_NO_TTL;
	h->len--;
	if (i == h->len)
		return;
	struct snode *moved = h->v[h->len].node;
	place(h, i, h->v[h->len]);
	sift_up(h, i);
	sift_down(h, moved->heap_pos);
}

struct snode *ttl_heap_top(const struct ttl_heap *h)
{
	return h->len ? h->v[0].node : NULL;
}
