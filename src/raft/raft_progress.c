/* raft_progress.c - the leader's view of each follower: match/next, the
 * probe / replicate / snapshot states and the bounded ring of appends in
 * flight (pipelining). Pure: no I/O, no clock. */
#include "raft/raft_private.h"

#include <stdlib.h>

struct raft_peer *raft_peer_find(struct raft *r, raft_id id)
{
	for (size_t i = 0; i < r->n_peers; i++)
		if (r->peers[i].id == id)
			return &r->peers[i];
	return NULL;
}

/* A new term of leadership: everyone is probed from our last index. */
void raft_pr_reset(struct raft *r, struct raft_peer *p)
{
	p->state = PR_PROBE;
	p->match = 0;
	p->next = raft_log_last_index(&r->log) + 1;
	p->probe_sent = false;
	p->recent_active = false;
	p->pending_snapshot = 0;
	p->infl_start = p->infl_count = 0;
	p->read_acked = 0;
	p->vote_responded = p->vote_granted = false;
}

void raft_pr_become_probe(struct raft_peer *p)
{
	/* after a snapshot, resume right after what it covered */
	if (p->state == PR_SNAPSHOT) {
		uint64_t after = p->pending_snapshot + 1;
		p->next = p->match + 1 > after ? p->match + 1 : after;
	} else {
		p->next = p->match + 1;
	}
	p->state = PR_PROBE;
	p->probe_sent = false;
	p->pending_snapshot = 0;
	p->infl_start = p->infl_count = 0;
}

void raft_pr_become_replicate(struct raft_peer *p)
{
	p->state = PR_REPLICATE;
	p->next = p->match + 1;
	p->probe_sent = false;
	p->pending_snapshot = 0;
	p->infl_start = p->infl_count = 0;
}

void raft_pr_become_snapshot(struct raft_peer *p, uint64_t index, uint64_t now)
{
	p->state = PR_SNAPSHOT;
	p->pending_snapshot = index;
	p->snapshot_sent_at = now;
	p->probe_sent = false;
	p->infl_start = p->infl_count = 0;
}

bool raft_pr_paused(const struct raft *r, const struct raft_peer *p)
{
	switch (p->state) {
	case PR_PROBE:
		return p->probe_sent;
	case PR_REPLICATE:
		return p->infl_count >= r->cfg.max_inflight;
	default:
		return true;
	}
}

/* An acknowledgement up to index: true if it taught us something. */
bool raft_pr_maybe_update(struct raft_peer *p, uint64_t index)
{
	bool updated = false;
	if (p->match < index) {
		p->match = index;
		updated = true;
		p->probe_sent = false;
	}
	if (p->next < index + 1)
		p->next = index + 1;
	return updated;
}

/* A rejection of the append whose previous entry was `rejected`; hint is
 * the follower's (term-aware) guess of where the logs agree. Returns false
 * for stale rejections (duplicated or reordered messages). */
bool raft_pr_maybe_decr(struct raft_peer *p, uint64_t rejected, uint64_t hint)
{
	if (p->state == PR_REPLICATE) {
		if (rejected <= p->match)
			return false;
		p->next = p->match + 1;
		return true;
	}
	if (p->next - 1 != rejected)
		return false;
	uint64_t n = hint + 1 < rejected ? hint + 1 : rejected;
	p->next = n > p->match + 1 ? n : p->match + 1;
	if (p->next < 1)
		p->next = 1;
	p->probe_sent = false;
	return true;
}

void raft_pr_inflight_add(struct raft *r, struct raft_peer *p, uint64_t last)
{
	if (p->inflight == NULL) {
		p->infl_cap = r->cfg.max_inflight;
		p->inflight = xmalloc(p->infl_cap * sizeof(*p->inflight));
	}
	if (p->infl_count >= p->infl_cap)
		return;
	p->inflight[(p->infl_start + p->infl_count) % p->infl_cap] = last;
	p->infl_count++;
}

void raft_pr_inflight_free_le(struct raft_peer *p, uint64_t index)
{
	while (p->infl_count > 0 && p->inflight[p->infl_start] <= index)
		raft_pr_inflight_free_first(p);
}

void raft_pr_inflight_free_first(struct raft_peer *p)
{
	if (p->infl_count == 0)
		return;
	p->infl_start = (p->infl_start + 1) % p->infl_cap;
	p->infl_count--;
}
