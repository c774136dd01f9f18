/* raft_readindex.c - ReadIndex (Raft thesis §6.4): linearizable reads
 * without writing to the log. The leader records its commit index, proves
 * it is still leader with one heartbeat round acknowledged by a quorum, and
 * then releases the read at that index. Followers forward to the leader.
 * Pure: no I/O, no clock. */
#include "raft/raft_private.h"

#include <string.h>

/* The leader may serve reads only after it has committed an entry of its
 * own term: before that its commit index may be behind the cluster's. */
static bool committed_in_term(const struct raft *r)
{
	return raft_log_term_or_zero(&r->log, r->log.committed) == r->term;
}

static void release(struct raft *r, const struct pending_read *pr)
{
	if (pr->from == r->id) {
		raft_read_ready(r, pr->context, pr->index, RAFT_OK);
		return;
	}
	struct raft_message *m = raft_send(r, RAFT_MSG_READ_INDEX_RESP, pr->from);
	m->context = pr->context;
	m->index = pr->index;
}

/* Starts the heartbeat round for every queued read that has none yet. */
static void start_round(struct raft *r)
{
	bool any = false;
	for (size_t i = 0; i < r->n_reads; i++) {
		if (r->reads[i].round == 0) {
			if (!any)
				r->read_round++;
			any = true;
			r->reads[i].round = r->read_round;
			r->reads[i].index = r->log.committed;
		}
	}
	if (any) {
		raft_bcast_heartbeat(r, r->read_round);
		raft_reads_on_ack(r); /* single voter: ready at once */
	}
}

static void enqueue(struct raft *r, uint64_t context, raft_id from)
{
	RAFT_GROW(r->reads, r->cap_reads, r->n_reads + 1);
	struct pending_read *pr = &r->reads[r->n_reads++];
	pr->context = context;
	pr->from = from;
	pr->index = 0;
	pr->round = 0;
	if (committed_in_term(r))
		start_round(r);
}

static bool round_acked(struct raft *r, uint64_t round)
{
	size_t acks = 0;
	for (size_t i = 0; i < r->n_peers; i++) {
		const struct raft_peer *p = &r->peers[i];
		if (p->voter && (p->id == r->id || p->read_acked >= round))
			acks++;
	}
	return acks >= raft_quorum(r);
}

/* Releases, oldest first, every read whose round a quorum acknowledged. */
void raft_reads_on_ack(struct raft *r)
{
	if (r->role != RAFT_LEADER)
		return;
	size_t k = 0;
	while (k < r->n_reads && r->reads[k].round != 0 && round_acked(r, r->reads[k].round)) {
		release(r, &r->reads[k]);
		k++;
	}
	if (k == 0)
		return;
	memmove(r->reads, r->reads + k, (r->n_reads - k) * sizeof(*r->reads));
	r->n_reads -= k;
}

void raft_reads_on_commit(struct raft *r)
{
	if (r->role == RAFT_LEADER && r->n_reads > 0 && committed_in_term(r))
		start_round(r);
}

/* Leadership (or the leader we forwarded to) is gone: fail what waits. */
void raft_reads_fail_all(struct raft *r, int status)
{
	for (size_t i = 0; i < r->n_reads; i++) {
		const struct pending_read *pr = &r->reads[i];
		if (pr->from == r->id) {
			raft_read_ready(r, pr->context, 0, status);
		} else {
			struct raft_message *m = raft_send(r, RAFT_MSG_READ_INDEX_RESP, pr->from);
			m->context = pr->context;
			m->reject = true;
		}
	}
	r->n_reads = 0;
	for (size_t i = 0; i < r->n_fwd; i++)
		raft_read_ready(r, r->fwd_reads[i], 0, status);
	r->n_fwd = 0;
}

int raft_read_index(struct raft *r, uint64_t context)
{
	if (r->role == RAFT_LEADER) {
		if (r->transfer_target != RAFT_NONE)
			return RAFT_ERR_TRANSFERRING;
		enqueue(r, context, r->id);
		return RAFT_OK;
	}
	if (r->leader == RAFT_NONE)
		return RAFT_ERR_NO_LEADER;
	RAFT_GROW(r->fwd_reads, r->cap_fwd, r->n_fwd + 1);
	r->fwd_reads[r->n_fwd++] = context;
	struct raft_message *m = raft_send(r, RAFT_MSG_READ_INDEX, r->leader);
	m->context = context;
	return RAFT_OK;
}

void raft_recv_read_index(struct raft *r, const struct raft_message *m)
{
	if (r->role != RAFT_LEADER || r->transfer_target != RAFT_NONE) {
		struct raft_message *resp = raft_send(r, RAFT_MSG_READ_INDEX_RESP, m->from);
		resp->context = m->context;
		resp->reject = true;
		return;
	}
	enqueue(r, m->context, m->from);
}

void raft_recv_read_index_resp(struct raft *r, const struct raft_message *m)
{
	for (size_t i = 0; i < r->n_fwd; i++) {
		if (r->fwd_reads[i] != m->context)
			continue;
		raft_read_ready(r, m->context, m->index, m->reject ? RAFT_ERR_NOT_LEADER : RAFT_OK);
		r->fwd_reads[i] = r->fwd_reads[--r->n_fwd];
		return;
	}
}
