/* raft_transfer.c - leadership transfer (Raft thesis §3.10): the leader
 * stops taking proposals, brings the target up to date, then tells it to
 * campaign at once. Pure: no I/O, no clock. */
#include "raft/raft_private.h"

static void send_timeout_now(struct raft *r, raft_id to)
{
	raft_send(r, RAFT_MSG_TIMEOUT_NOW, to);
}

int raft_transfer(struct raft *r, raft_id target)
{
	if (r->role != RAFT_LEADER)
		return r->leader != RAFT_NONE ? RAFT_ERR_NOT_LEADER : RAFT_ERR_NO_LEADER;
	if (target == r->id)
		return RAFT_OK;
	struct raft_peer *p = raft_peer_find(r, target);
	if (p == NULL || !p->voter)
		return RAFT_ERR_BAD_CONF;
	if (r->transfer_target == target)
		return RAFT_OK;
	r->transfer_target = target;
	r->transfer_deadline = r->now + r->cfg.election_ms;
	raft_transfer_check(r, p);
	return RAFT_OK;
}

/* Sends TIMEOUT_NOW to p once it holds our whole log, or helps it catch up. */
void raft_transfer_check(struct raft *r, struct raft_peer *p)
{
	if (p->match == raft_log_last_index(&r->log))
		send_timeout_now(r, p->id);
	else
		raft_send_append(r, p, true);
}

/* A leader no longer in the configuration hands over to the voter with
 * the longest log (retried from the tick if the transfer times out). */
void raft_transfer_to_successor(struct raft *r)
{
	struct raft_peer *best = NULL;
	for (size_t i = 0; i < r->n_peers; i++) {
		struct raft_peer *q = &r->peers[i];
		if (q->voter && q->id != r->id && (best == NULL || q->match > best->match))
			best = q;
	}
	if (best == NULL)
		return;
	r->transfer_target = best->id;
	r->transfer_deadline = r->now + r->cfg.election_ms;
	raft_transfer_check(r, best);
}

void raft_recv_timeout_now(struct raft *r, const struct raft_message *m)
{
	if (r->role == RAFT_LEADER || !raft_promotable(r))
		return;
	raft_campaign(r, false, true); /* skip pre-vote; bypass the lease */
}
