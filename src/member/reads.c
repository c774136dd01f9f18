/* reads.c - linearizable reads (quorum=true): each asks the core for a
 * ReadIndex (no log write) and is answered once this member has applied up
 * to it (rule 4 of doc/raft-core.md), or fails when the core cannot serve it. */
#include <stdlib.h>

#include "member/node_private.h"
#include "util/xalloc.h"

struct pending_read {
	uint64_t id;
	uint64_t index; /* 0 until the core answers; UINT64_MAX: failed */
	bool ready;
	node_read_fn done;
	void *ctx;
	struct pending_read *next;
};

uint64_t node_read(struct node *n, node_read_fn done, void *ctx)
{
	struct pending_read *r = xcalloc(1, sizeof(*r));
	r->id = ++n->next_read_id;
	r->done = done;
	r->ctx = ctx;
	r->next = n->reads;
	n->reads = r;
	struct raft_event ev = node_event(RAFT_EV_READ_INDEX);
	ev.u.read_index.context = r->id;
	uint64_t id = r->id;
	if (node_step(n, &ev) != RAFT_OK) {
		node_read_cancel(n, id);
		done(ctx, -1);
		return 0;
	}
	return id;
}

void node_read_cancel(struct node *n, uint64_t handle)
{
	for (struct pending_read **p = &n->reads; *p; p = &(*p)->next) {
		if ((*p)->id == handle) {
			struct pending_read *r = *p;
			*p = r->next;
			free(r);
			return;
		}
	}
}

void reads_note(struct node *n, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_reads; i++) {
		for (struct pending_read *r = n->reads; r; r = r->next) {
			if (r->id != u->reads[i].context)
				continue;
			r->ready = true;
			r->index = u->reads[i].status == RAFT_OK ? u->reads[i].index : UINT64_MAX;
		}
	}
}

/* Answers reads whose index is applied (or that failed). */
void reads_answer(struct node *n)
{
	struct pending_read **p = &n->reads;
	while (*p) {
		struct pending_read *r = *p;
		bool failed = r->ready && r->index == UINT64_MAX;
		if (!r->ready || (!failed && r->index > n->applied)) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		r->done(r->ctx, failed ? -1 : 0);
		free(r);
	}
}

void reads_fail_all(struct node *n)
{
	while (n->reads) {
		struct pending_read *r = n->reads;
		n->reads = r->next;
		r->done(r->ctx, -1);
		free(r);
	}
}
