/* proposal.c - pending-proposal table (see proposal.h). Entries are kept in a
 * hash table by id and in a FIFO list by deadline (ids and deadlines both
 * grow, so the list stays sorted). */
#include "member/proposal.h"

#include <stdlib.h>

#include "util/hash.h"
#include "util/list.h"
#include "util/xalloc.h"

struct pending {
	uint64_t id;
	uint32_t hash; /* hmap_hash of id */
	uint64_t deadline_ms;
	proposal_done_fn fn;
	void *ctx;
	struct list link; /* deadline order */
};

struct proposals {
	struct hmap by_id;	 /* struct pending */
	struct list by_deadline; /* struct pending.link */
	uint64_t next_id;
	uint64_t failed; /* completed by a timeout or a stop */
};

struct proposals *proposals_new(uint64_t first_id)
{
	struct proposals *p = xcalloc(1, sizeof(*p));
	hmap_init(&p->by_id, offsetof(struct pending, hash));
	list_init(&p->by_deadline);
	p->next_id = first_id ? first_id : 1;
	return p;
}

void proposals_free(struct proposals *p)
{
	if (p == NULL)
		return;
	struct pending *e, *tmp;
	list_for_each_safe(e, tmp, &p->by_deadline, link) free(e);
	hmap_free(&p->by_id);
	free(p);
}

uint64_t proposals_add(struct proposals *p, uint64_t now_ms, uint64_t timeout_ms,
		       proposal_done_fn fn, void *ctx)
{
	struct pending *e = xcalloc(1, sizeof(*e));
	e->id = p->next_id++;
	e->hash = hmap_hash(&e->id, sizeof(e->id));
	e->deadline_ms = now_ms + timeout_ms;
	e->fn = fn;
	e->ctx = ctx;
	hmap_insert(&p->by_id, e);
	list_add_tail(&p->by_deadline, &e->link);
	return e->id;
}

static bool id_eq(const void *entry, const void *key, size_t len)
{
	(void)len;
	return ((const struct pending *)entry)->id == *(const uint64_t *)key;
}

/* Unlinks id from both structures and returns it (caller frees), or NULL. */
static struct pending *take(struct proposals *p, uint64_t id)
{
	struct pending *e =
		hmap_find(&p->by_id, hmap_hash(&id, sizeof(id)), &id, sizeof(id), id_eq);
	if (e == NULL)
		return NULL;
	hmap_remove(&p->by_id, e);
	list_del(&e->link);
	return e;
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
	struct pending *e;
	while ((e = list_first(&p->by_deadline, struct pending, link)) != NULL &&
	       e->deadline_ms <= now_ms) {
		p->failed++;
		proposals_complete(p, e->id, NULL, err);
	}
}

void proposals_fail_all(struct proposals *p, const struct store_error *err)
{
	struct pending *e;
	while ((e = list_first(&p->by_deadline, struct pending, link)) != NULL) {
		p->failed++;
		proposals_complete(p, e->id, NULL, err);
	}
}

uint64_t proposals_pending(const struct proposals *p)
{
	return p->by_id.count;
}

uint64_t proposals_failed(const struct proposals *p)
{
	return p->failed;
}
