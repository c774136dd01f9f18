/* raft_election.c - roles and elections: randomized timeouts, pre-vote,
 * votes, becoming leader, and the check-quorum step-down. Pure: no I/O, no
 * clock (time is r->now, randomness r->rng). */
#include "raft/raft_private.h"

/* ---- small predicates -------------------------------------------------------- */

bool raft_promotable(const struct raft *r)
{
	return raft_is_voter(r, r->id);
}

size_t raft_quorum(const struct raft *r)
{
	return r->conf.n_voters / 2 + 1;
}

/* With check-quorum on, a member that heard from a live leader within one
 * election timeout (or is that leader) refuses to help disrupt it. */
bool raft_in_lease(const struct raft *r)
{
	if (r->cfg.no_check_quorum)
		return false;
	if (r->role == RAFT_LEADER)
		return true;
	return r->leader != RAFT_NONE && r->now < r->leader_contact + r->cfg.election_ms;
}

/* Next election in [ET, 2ET) from now. */
void raft_reset_election_timer(struct raft *r)
{
	uint64_t et = r->cfg.election_ms;
	r->election_deadline = r->now + et + raft_rand(r) % et;
}

/* Term and vote change: they must be durable before they count (our own
 * vote) or leave the process (vote responses). The update finishing this
 * step will carry them as persist_seq == r->seq + 1. */
static void set_term_vote(struct raft *r, uint64_t term, raft_id vote)
{
	if (term == r->term && vote == r->vote)
		return;
	r->term = term;
	r->vote = vote;
	r->hs_seq = r->seq + 1;
}

static void set_leader(struct raft *r, raft_id leader, uint64_t old_term)
{
	if (r->role == RAFT_LEADER && leader != r->id)
		raft_reads_fail_all(r, RAFT_ERR_NOT_LEADER);
	else if (leader != r->leader || r->term != old_term)
		raft_reads_fail_all(r, RAFT_ERR_NO_LEADER);
	r->leader = leader;
}

/* ---- role changes --------------------------------------------------------------- */

void raft_become_follower(struct raft *r, uint64_t term, raft_id leader)
{
	uint64_t old_term = r->term;
	if (term != r->term)
		set_term_vote(r, term, RAFT_NONE);
	set_leader(r, leader, old_term);
	r->role = RAFT_FOLLOWER;
	r->transfer_target = RAFT_NONE;
	if (leader != RAFT_NONE)
		r->leader_contact = r->now;
	raft_reset_election_timer(r);
}

static void reset_votes(struct raft *r)
{
	for (size_t i = 0; i < r->n_peers; i++) {
		r->peers[i].vote_responded = false;
		r->peers[i].vote_granted = false;
	}
	struct raft_peer *self = raft_peer_find(r, r->id);
	if (self) {
		self->vote_responded = true;
		self->vote_granted = true;
	}
}

static void send_vote_requests(struct raft *r, uint8_t type, uint64_t term, bool transfer)
{
	for (size_t i = 0; i < r->n_peers; i++) {
		struct raft_peer *p = &r->peers[i];
		if (!p->voter || p->id == r->id)
			continue;
		struct raft_message *m = raft_send(r, type, p->id);
		m->term = term;
		m->index = raft_log_last_index(&r->log);
		m->log_term = raft_log_last_term(&r->log);
		m->transfer = transfer;
	}
}

/* Pre-vote (Raft thesis §9.6): ask whether we could win term+1 before
 * bumping our term, so a member back from a partition cannot force a
 * healthy leader to step down. */
void raft_campaign(struct raft *r, bool pre_vote, bool transfer)
{
	uint64_t old_term = r->term;
	if (pre_vote) {
		r->role = RAFT_PRE_CANDIDATE;
		set_leader(r, RAFT_NONE, old_term);
		reset_votes(r);
		raft_reset_election_timer(r);
		send_vote_requests(r, RAFT_MSG_PREVOTE, r->term + 1, false);
	} else {
		set_term_vote(r, r->term + 1, r->id);
		r->role = RAFT_CANDIDATE;
		set_leader(r, RAFT_NONE, old_term);
		reset_votes(r);
		raft_reset_election_timer(r);
		send_vote_requests(r, RAFT_MSG_VOTE, r->term, transfer);
	}
	r->transfer_target = RAFT_NONE;
	raft_maybe_win(r);
}

static void become_leader(struct raft *r)
{
	r->role = RAFT_LEADER;
	set_leader(r, r->id, r->term);
	r->transfer_target = RAFT_NONE;
	r->read_round = 0;
	for (size_t i = 0; i < r->n_peers; i++)
		raft_pr_reset(r, &r->peers[i]);
	struct raft_peer *self = raft_peer_find(r, r->id);
	if (self) {
		raft_pr_become_replicate(self);
		self->match = r->stable_index;
		self->next = raft_log_last_index(&r->log) + 1;
		self->recent_active = true;
	}
	/* the no-op commits our term; conf changes wait for it (the fix for
	 * single-server changes in Ongaro's raft-dev note of 2015) */
	r->pending_conf_index = raft_leader_append(r, RAFT_ENTRY_NOOP, NULL, 0);
	r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
	r->quorum_deadline = r->now + r->cfg.election_ms;
	raft_bcast_append(r, true);
	raft_maybe_commit(r);
}

/* Count the votes; win, continue, or give up. Our own vote for a real
 * election counts, and we take office, only once our term and vote are
 * durable. */
void raft_maybe_win(struct raft *r)
{
	if (r->role != RAFT_PRE_CANDIDATE && r->role != RAFT_CANDIDATE)
		return;
	size_t granted = 0, rejected = 0;
	for (size_t i = 0; i < r->n_peers; i++) {
		const struct raft_peer *p = &r->peers[i];
		if (!p->voter || !p->vote_responded)
			continue;
		if (p->id == r->id && r->role == RAFT_CANDIDATE && !raft_hs_durable(r))
			continue;
		if (p->vote_granted)
			granted++;
		else
			rejected++;
	}
	size_t q = raft_quorum(r);
	if (granted >= q) {
		if (r->role == RAFT_PRE_CANDIDATE)
			raft_campaign(r, false, false);
		else if (raft_hs_durable(r))
			become_leader(r);
		/* else: a majority of others may have voted, but we lead term T
		 * only once T is on our disk; otherwise a crash could make us
		 * forget T and lead it a second time with a different log.
		 * RAFT_EV_PERSISTED brings us back here. */
	} else if (rejected >= q) {
		raft_become_follower(r, r->term, RAFT_NONE);
	}
}

/* ---- votes ---------------------------------------------------------------------- */

void raft_recv_vote(struct raft *r, const struct raft_message *m)
{
	bool pre = m->type == RAFT_MSG_PREVOTE;
	bool can_vote = r->vote == m->from || (r->vote == RAFT_NONE && r->leader == RAFT_NONE) ||
			(pre && m->term > r->term);
	bool grant = can_vote && raft_log_up_to_date(&r->log, m->index, m->log_term);
	struct raft_message *resp;
	if (pre) {
		resp = raft_send(r, RAFT_MSG_PREVOTE_RESP, m->from);
		resp->term = grant ? m->term : r->term;
		resp->reject = !grant;
		return;
	}
	if (grant) {
		set_term_vote(r, r->term, m->from);
		raft_reset_election_timer(r);
	}
	/* a granted vote must be durable before the candidate can count it */
	resp = raft_send_after_persist(r, RAFT_MSG_VOTE_RESP, m->from);
	resp->reject = !grant;
}

void raft_recv_vote_resp(struct raft *r, const struct raft_message *m)
{
	bool pre = m->type == RAFT_MSG_PREVOTE_RESP;
	if ((pre && r->role != RAFT_PRE_CANDIDATE) || (!pre && r->role != RAFT_CANDIDATE))
		return;
	struct raft_peer *p = raft_peer_find(r, m->from);
	if (p == NULL || !p->voter || p->vote_responded)
		return;
	p->vote_responded = true;
	p->vote_granted = !m->reject;
	raft_maybe_win(r);
}

/* ---- time ------------------------------------------------------------------------- */

static bool quorum_active(struct raft *r)
{
	size_t active = 0;
	for (size_t i = 0; i < r->n_peers; i++) {
		struct raft_peer *p = &r->peers[i];
		if (p->voter && (p->id == r->id || p->recent_active))
			active++;
		if (p->id != r->id)
			p->recent_active = false;
	}
	return active >= raft_quorum(r);
}

static void tick_leader(struct raft *r)
{
	if (r->now >= r->quorum_deadline) {
		r->quorum_deadline = r->now + r->cfg.election_ms;
		bool ok = quorum_active(r);
		if (!r->cfg.no_check_quorum && !ok) {
			/* we cannot hear a majority: stop accepting writes and reads
			 * that would hang, let the majority elect someone */
			raft_become_follower(r, r->term, RAFT_NONE);
			return;
		}
	}
	if (r->transfer_target != RAFT_NONE && r->now >= r->transfer_deadline) {
		r->transfer_target = RAFT_NONE; /* give up the transfer */
		if (!raft_is_voter(r, r->id))
			raft_transfer_to_successor(r); /* removed: try again */
	}
	if (r->now >= r->heartbeat_deadline) {
		r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
		raft_bcast_heartbeat(r, r->read_round);
	}
}

void raft_tick(struct raft *r)
{
	if (r->role == RAFT_LEADER) {
		tick_leader(r);
		return;
	}
	if (r->now < r->election_deadline)
		return;
	if (raft_promotable(r))
		raft_campaign(r, !r->cfg.no_pre_vote, false);
	else
		raft_reset_election_timer(r);
}
