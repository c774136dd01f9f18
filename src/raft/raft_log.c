/* raft_log.c - the in-memory log window of the Raft core: entries after the
 * compaction point, term lookups, conflict search. Pure: no I/O, no clock. */
#include "raft/raft_private.h"

#include <string.h>

uint64_t raft_log_last_index(const struct raft_log *l)
{
	return l->base_index + l->n;
}

uint64_t raft_log_last_term(const struct raft_log *l)
{
	return l->n ? l->ents[l->n - 1].term : l->base_term;
}

const struct raft_entry *raft_log_entry(const struct raft_log *l, uint64_t index)
{
	if (index <= l->base_index || index > raft_log_last_index(l))
		return NULL;
	return &l->ents[index - l->base_index - 1];
}

bool raft_log_term(const struct raft_log *l, uint64_t index, uint64_t *term)
{
	if (index == l->base_index) {
		*term = l->base_term;
		return true;
	}
	const struct raft_entry *e = raft_log_entry(l, index);
	if (e == NULL)
		return false;
	*term = e->term;
	return true;
}

uint64_t raft_log_term_or_zero(const struct raft_log *l, uint64_t index)
{
	uint64_t t = 0;
	return raft_log_term(l, index, &t) ? t : 0;
}

bool raft_log_matches(const struct raft_log *l, uint64_t index, uint64_t term)
{
	uint64_t t;
	return raft_log_term(l, index, &t) && t == term;
}

/* Raft §5.4.1: the later last term wins; equal terms, the longer log. */
bool raft_log_up_to_date(const struct raft_log *l, uint64_t last_index, uint64_t last_term)
{
	uint64_t my_term = raft_log_last_term(l);
	if (last_term != my_term)
		return last_term > my_term;
	return last_index >= raft_log_last_index(l);
}

void raft_log_append_copy(struct raft *r, const struct raft_entry *e)
{
	struct raft_log *l = &r->log;
	RAFT_GROW(l->ents, l->cap, l->n + 1);
	struct raft_entry *dst = &l->ents[l->n++];
	*dst = *e;
	dst->data = raft_xmemdup(e->data, e->len);
}

void raft_log_truncate_from(struct raft *r, uint64_t from)
{
	struct raft_log *l = &r->log;
	while (l->n > 0 && raft_log_last_index(l) >= from) {
		raft_garbage(r, (void *)l->ents[l->n - 1].data);
		l->n--;
	}
	if (l->unsaved > from)
		l->unsaved = from;
	/* anything durable at or after `from` no longer describes this log */
	uint64_t keep = from - 1;
	if (r->stable_index > keep)
		r->stable_index = keep;
	for (size_t i = 0; i < r->n_pw; i++)
		if (r->pw[i].last > keep)
			r->pw[i].last = keep;
}

void raft_log_compact(struct raft *r, uint64_t upto)
{
	struct raft_log *l = &r->log;
	if (upto <= l->base_index)
		return;
	uint64_t term = 0;
	raft_log_term(l, upto, &term);
	size_t drop = (size_t)(upto - l->base_index);
	for (size_t i = 0; i < drop; i++)
		raft_garbage(r, (void *)l->ents[i].data);
	if (drop < l->n)
		memmove(l->ents, l->ents + drop, (l->n - drop) * sizeof(*l->ents));
	l->n -= drop;
	l->base_index = upto;
	l->base_term = term;
}

void raft_log_reset(struct raft *r, uint64_t index, uint64_t term)
{
	struct raft_log *l = &r->log;
	for (size_t i = 0; i < l->n; i++)
		raft_garbage(r, (void *)l->ents[i].data);
	l->n = 0;
	l->base_index = index;
	l->base_term = term;
	l->unsaved = index + 1;
}

uint64_t raft_log_find_conflict_by_term(const struct raft_log *l, uint64_t index, uint64_t term)
{
	uint64_t last = raft_log_last_index(l);
	if (index > last)
		index = last;
	for (;;) {
		uint64_t t;
		if (!raft_log_term(l, index, &t))
			return index; /* compacted: the hint cannot go lower */
		if (t <= term || index == 0)
			return index;
		index--;
	}
}
