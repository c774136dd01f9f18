/* node.c - the driver of the Raft core (see node.h). The only file that knows
 * the ordering rules (doc/raft-core.md has them numbered):
 *   1. persist the hard state, snapshot and entries of an update, in that
 *      order; fdatasync when must_sync (durability issue: until the WAL lands
 *      the log is kept in memory and "durable" at once);
 *   2. send `messages` at once; send `messages_after_persist` only after
 *      the core has been told that persist_seq is durable;
 *   3. apply `committed` entries in order (apply.c), each with its entry time;
 *   4. answer reads whose index is applied.
 * Pointers in an update die at the next raft_step: everything is consumed
 * before stepping again. */
#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "clock.h"
#include "raft.h"
#include "server.h"

struct pending_read {
	uint64_t id;
	uint64_t index;		/* 0 until the core answers */
	bool ready;
	node_read_fn done;
	void *ctx;
	struct pending_read *next;
};

struct node {
	struct server *srv;
	struct raft *raft;
	struct raft_update upd;
	uint64_t requested_seq;	/* highest persist_seq asked for */
	uint64_t durable_seq;	/* highest persist_seq reported durable */
	uint64_t applied;
	uint64_t next_read_id;
	struct pending_read *reads;
	uint64_t term;		/* soft state after the last step */
	uint64_t leader;
	uint8_t role;
	bool stepping;		/* guards against re-entry from apply callbacks */
};

static struct raft_event event(uint8_t type)
{
	struct raft_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.now_ms = clock_mono_ms();
	ev.wall_ns = clock_wall_ns();
	return ev;
}

/* ---- consuming an update ----------------------------------------------- */

static void persist(struct node *n, const struct raft_update *u)
{
	/* rule 1: no WAL yet; the core's own memory holds the log. */
	if (u->persist_seq > n->requested_seq)
		n->requested_seq = u->persist_seq;
}

static void send_messages(struct node *n, const struct raft_message *m, size_t count)
{
	/* rule 2: peers arrive with the cluster issue; a single member sends nothing. */
	(void)n;
	(void)m;
	(void)count;
}

static void apply_committed(struct node *n, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_committed; i++) {
		const struct raft_entry *e = &u->committed[i];
		n->applied = e->index;	/* X-Raft-Index of the reply is this entry's */
		if (e->type == RAFT_ENTRY_NORMAL)
			apply_entry(n->srv, e->index, e->time, e->data, e->len);
	}
}

static void note_reads(struct node *n, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_reads; i++) {
		for (struct pending_read *r = n->reads; r; r = r->next) {
			if (r->id != u->reads[i].context)
				continue;
			r->ready = true;
			r->index = u->reads[i].status == RAFT_OK ? u->reads[i].index : 0;
			if (u->reads[i].status != RAFT_OK)
				r->index = UINT64_MAX;	/* failed: answered below */
		}
	}
}

/* Answers reads whose index is applied (or that failed). */
static void answer_reads(struct node *n)
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

static void consume(struct node *n, const struct raft_update *u)
{
	persist(n, u);
	send_messages(n, u->messages, u->n_messages);
	/* durable at once while the log lives in memory (see persist) */
	send_messages(n, u->messages_after_persist, u->n_messages_after_persist);
	apply_committed(n, u);
	note_reads(n, u);
}

static int step(struct node *n, const struct raft_event *ev)
{
	int rc = raft_step(n->raft, ev, &n->upd);
	n->term = n->upd.term;
	n->leader = n->upd.leader;
	n->role = n->upd.role;
	consume(n, &n->upd);
	return rc;
}

/* Tells the core what became durable (which may commit entries). */
static void feed_durable(struct node *n)
{
	while (n->durable_seq < n->requested_seq) {
		n->durable_seq = n->requested_seq;
		struct raft_event ev = event(RAFT_EV_PERSISTED);
		ev.u.persisted.seq = n->durable_seq;
		step(n, &ev);
	}
}

/* ---- public ------------------------------------------------------------ */

static struct raft_membership single_member(uint64_t id)
{
	struct raft_membership m;
	memset(&m, 0, sizeof(m));
	m.n_voters = 1;
	m.voters[0] = id;
	return m;
}

struct node *node_new(struct server *srv)
{
	struct node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		abort();
	n->srv = srv;
	struct raft_config cfg = {
		.id = srv->self_id,
		.election_ms = srv->opts.election_ms,
		.heartbeat_ms = srv->opts.heartbeat_ms,
		.seed = srv->self_id ^ (uint64_t)clock_wall_ns(),
	};
	n->raft = raft_new(&cfg);
	if (n->raft == NULL) {
		free(n);
		return NULL;
	}
	struct raft_membership m = single_member(srv->self_id);
	raft_bootstrap(n->raft, &m, clock_mono_ms(), &n->upd);
	consume(n, &n->upd);
	feed_durable(n);
	/* the only voter need not wait an election timeout */
	struct raft_event ev = event(RAFT_EV_CAMPAIGN);
	step(n, &ev);
	node_process(n);
	return n;
}

void node_free(struct node *n)
{
	if (n == NULL)
		return;
	while (n->reads) {
		struct pending_read *r = n->reads;
		n->reads = r->next;
		r->done(r->ctx, -1);
		free(r);
	}
	raft_free(n->raft);
	free(n);
}

int node_propose(struct node *n, const void *data, size_t len)
{
	struct raft_event ev = event(RAFT_EV_PROPOSE);
	ev.u.propose.data = data;
	ev.u.propose.len = len;
	return step(n, &ev) == RAFT_OK ? 0 : -1;
}

uint64_t node_read(struct node *n, node_read_fn done, void *ctx)
{
	struct pending_read *r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	r->id = ++n->next_read_id;
	r->done = done;
	r->ctx = ctx;
	r->next = n->reads;
	n->reads = r;
	struct raft_event ev = event(RAFT_EV_READ_INDEX);
	ev.u.read_index.context = r->id;
	uint64_t id = r->id;
	if (step(n, &ev) != RAFT_OK) {
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

void node_process(struct node *n)
{
	if (n->stepping)
		return;
	n->stepping = true;
	feed_durable(n);
	answer_reads(n);
	n->stepping = false;
}

void node_tick(struct node *n)
{
	struct raft_event ev = event(RAFT_EV_TICK);
	step(n, &ev);
}

bool node_is_leader(const struct node *n)
{
	return n->role == RAFT_LEADER;
}

uint64_t node_leader_id(const struct node *n)
{
	return n->leader;
}

uint64_t node_term(const struct node *n)
{
	return n->term;
}

uint64_t node_applied_index(const struct node *n)
{
	return n->applied;
}

uint64_t node_commit_index(const struct node *n)
{
	struct raft_status st;
	raft_status(n->raft, &st);
	return st.commit;
}
