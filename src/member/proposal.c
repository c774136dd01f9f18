/* proposal.c - pending-proposal table (see proposal.h). Entries are kept in a
 * hash table by id and in a FIFO list by deadline (ids and deadlines both
 * grow, so the list stays sorted). */
#include "member/proposal.h"
#include "util/xalloc.h"

#include <stdlib.h>

#define NBUCKETS 4096

struct pending {
	uint64_t id;
	uint64_t deadline_ms;
	proposal_done_fn fn;
	void *ctx;
	struct pending *hnext;		/* bucket chain */
	struct pending *prev, *next;	/* deadline order */
};

struct proposals {
	struct pending *buckets[NBUCKETS];
	struct pending *head, *tail;
	uint64_t next_id;
	uint64_t count;
};

struct proposals *proposals_new(uint64_t first_id)
{
	struct proposals *p = xcalloc(1, sizeof(*p));
	p->next_id = first_id ? first_id : 1;
	return p;
}

void proposals_free(struct proposals *p)
{
	if (p == NULL)
		return;
	struct pending *e = p->head;
	while (e) {
		struct pending *n = e->next;
		free(e);
		e = n;
	}
	free(p);
}

uint64_t proposals_add(struct proposals *p, uint64_t now_ms, uint64_t timeout_ms,
		       proposal_done_fn fn, void *ctx)
{
	struct pending *e = xcalloc(1, sizeof(*e));
	e->id = p->next_id++;
	e->deadline_ms = now_ms + timeout_ms;
	e->fn = fn;
	e->ctx = ctx;
	struct pending **b = &p->buckets[e->id % NBUCKETS];
	e->hnext = *b;
	*b = e;
	e->prev = p->tail;
	if (p->tail)
		p->tail->next = e;
	else
		p->head = e;
	p->tail = e;
	p->count++;
	return e->id;
}

/* Unlinks id from both structures and returns it (caller frees), or NULL. */
static struct pending *take(struct proposals *p, uint64_t id)
{
	for (struct pending **b = &p->buckets[id % NBUCKETS]; *b; b = &(*b)->hnext) {
		struct pending *e = *b;
		if (e->id != id)
			continue;
		*b = e->hnext;
		if (e->prev)
			e->prev->next = e->next;
		else
			p->head = e->next;
		if (e->next)
			e->next->prev = e->prev;
		else
			p->tail = e->prev;
		p->count--;
		return e;
	}
	return NULL;
}

void proposals_cancel(struct proposals *p, uint64_t id)
{
	free(take(p, id));
}

void proposals_complete(struct proposals *p, uint64_t id, struct store_event *ev,
			const struct store_error *err)
{
	struct pending *e = take(p, id);
	if (e == NULL)
		return;
	e->fn(e->ctx, ev, err);
	free(e);
}

void proposals_expire(struct proposals *p, uint64_t now_ms, const struct store_error *err)
{
	while (p->head && p->head->deadline_ms <= now_ms)
		proposals_complete(p, p->head->id, NULL, err);
}

void proposals_fail_all(struct proposals *p, const struct store_error *err)
{
	while (p->head)
		proposals_complete(p, p->head->id, NULL, err);
}

uint64_t proposals_pending(const struct proposals *p)
{
	return p->count;
}
