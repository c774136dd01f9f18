/* raft_snapshot.c - snapshots: the application hands the core its state at
 * an applied index, the core compacts its log, sends the snapshot to
 * followers behind the compaction point, and installs received ones.
 * Pure: no I/O, no clock. */
#include "raft/raft_private.h"

#include <stdlib.h>
#include <string.h>

/* Keeps a private copy of s as the latest snapshot; the old one (which an
 * update or message may still point to) is freed with the update. */
void raft_snapshot_replace(struct raft *r, const struct raft_snapshot *s)
{
	struct raft_snapshot *copy = xmalloc(sizeof(*copy));
	copy->meta = s->meta;
	copy->len = s->len;
	copy->data = raft_xmemdup(s->data, s->len);
	if (r->snap) {
		raft_garbage(r, (void *)r->snap->data);
		raft_garbage(r, r->snap);
	}
	r->snap = copy;
}

int raft_take_snapshot(struct raft *r, uint64_t index, const void *data, size_t len,
		       uint64_t trailing)
{
	if (index > r->log.applied)
		return RAFT_ERR_INVALID; /* only what the app has applied */
	if (r->snap && index <= r->snap->meta.index)
		return RAFT_ERR_STALE;
	uint64_t term;
	if (!raft_log_term(&r->log, index, &term))
		return RAFT_ERR_STALE;
	struct raft_snapshot s = {.data = data, .len = len};
	s.meta.index = index;
	s.meta.term = term;
	s.meta.conf = *raft_conf_at(r, index);
	raft_snapshot_replace(r, &s);
	uint64_t upto = index > trailing ? index - trailing : 0;
	if (upto > r->log.base_index) {
		raft_log_compact(r, upto);
		r->compacted_to = upto + 1;
	}
	raft_conf_forget_before(r, index);
	return RAFT_OK;
}

bool raft_send_snapshot(struct raft *r, struct raft_peer *p)
{
	if (r->snap == NULL || !p->recent_active)
		return false; /* wait until the follower is known to be alive */
	struct raft_message *m = raft_send(r, RAFT_MSG_SNAPSHOT, p->id);
	m->snapshot = r->snap;
	raft_pr_become_snapshot(p, r->snap->meta.index, r->now);
	return true;
}

/* Follower: install a snapshot from the leader unless our log already
 * holds its last entry. The acknowledgement waits for persistence. */
void raft_recv_snapshot(struct raft *r, const struct raft_message *m)
{
	const struct raft_snapshot *s = m->snapshot;
	struct raft_message *resp;
	if (s == NULL)
		return;
	if (s->meta.index <= r->log.committed) {
		resp = raft_send_after_persist(r, RAFT_MSG_APPEND_RESP, m->from);
		resp->index = r->log.committed;
		return;
	}
	if (raft_log_matches(&r->log, s->meta.index, s->meta.term)) {
		raft_commit_to(r, s->meta.index); /* we have it all: fast-forward */
		resp = raft_send_after_persist(r, RAFT_MSG_APPEND_RESP, m->from);
		resp->index = r->log.committed;
		return;
	}
	/* entries up to our commit index are identical in the snapshot's
	 * history; anything durable beyond that is no longer trusted */
	uint64_t keep = r->log.committed;
	if (r->stable_index > keep)
		r->stable_index = keep;
	for (size_t i = 0; i < r->n_pw; i++)
		if (r->pw[i].last > keep)
			r->pw[i].last = keep;
	raft_log_reset(r, s->meta.index, s->meta.term);
	raft_snapshot_replace(r, s);
	r->snap_install = true;
	r->log.committed = s->meta.index;
	raft_conf_set(r, &s->meta.conf, s->meta.index);
	resp = raft_send_after_persist(r, RAFT_MSG_APPEND_RESP, m->from);
	resp->index = s->meta.index;
}
