/* raft_replication.c - log replication: the leader's appends (pipelined,
 * bounded in flight), the follower's log-matching checks and conflict
 * repair with fast back-off, heartbeats, and the commit rule. Pure: no I/O,
 * no clock. */
#include "raft/raft_private.h"

#include <stdlib.h>
#include <string.h>

/* ---- leader: appending and sending --------------------------------------- */

/* Appends one entry at the end of the leader's log, stamped with the
 * leader's wall clock from the current event. Returns its index. */
uint64_t raft_leader_append(struct raft *r, uint8_t type, const void *data, size_t len)
{
	struct raft_entry e = {
		.term = r->term,
		.index = raft_log_last_index(&r->log) + 1,
		.type = type,
		.time = r->wall,
		.data = data,
		.len = len,
	};
	raft_log_append_copy(r, &e);
	return e.index;
}

/* Entries [from, ...] that fit in one message (at least one). The array is
 * a shallow copy owned by the update (data stays in the log). */
static size_t collect_entries(struct raft *r, uint64_t from, struct raft_entry **out)
{
	uint64_t last = raft_log_last_index(&r->log);
	size_t n = 0, bytes = 0;
	while (from + n <= last) {
		const struct raft_entry *e = raft_log_entry(&r->log, from + n);
		if (n > 0 && bytes + e->len > r->cfg.max_msg_bytes)
			break;
		bytes += e->len;
		n++;
	}
	*out = NULL;
	if (n == 0)
		return 0;
	*out = xmalloc(n * sizeof(**out));
	memcpy(*out, raft_log_entry(&r->log, from), n * sizeof(**out));
	raft_garbage(r, *out);
	return n;
}

/* Sends the next append to p if its flow state allows. allow_empty sends
 * an entry-less append (to probe or carry the commit index). */
bool raft_send_append(struct raft *r, struct raft_peer *p, bool allow_empty)
{
	if (p->id == r->id || raft_pr_paused(r, p))
		return false;
	uint64_t prev = p->next - 1;
	uint64_t prev_term;
	if (!raft_log_term(&r->log, prev, &prev_term))
		return raft_send_snapshot(r, p); /* behind our compaction point */
	struct raft_entry *ents;
	size_t n = collect_entries(r, p->next, &ents);
	if (n == 0 && !allow_empty)
		return false;
	struct raft_message *m = raft_send(r, RAFT_MSG_APPEND, p->id);
	m->index = prev;
	m->log_term = prev_term;
	m->entries = ents;
	m->n_entries = n;
	m->commit = r->log.committed;
	if (p->state == PR_REPLICATE) {
		if (n > 0) {
			/* pipelining: assume it arrives, bounded by max_inflight */
			uint64_t last = ents[n - 1].index;
			p->next = last + 1;
			raft_pr_inflight_add(r, p, last);
		}
	} else {
		p->probe_sent = true; /* one probe at a time */
	}
	return true;
}

void raft_bcast_append(struct raft *r, bool allow_empty)
{
	for (size_t i = 0; i < r->n_peers; i++)
		raft_send_append(r, &r->peers[i], allow_empty);
}

void raft_bcast_heartbeat(struct raft *r, uint64_t context)
{
	for (size_t i = 0; i < r->n_peers; i++) {
		struct raft_peer *p = &r->peers[i];
		if (p->id == r->id)
			continue;
		struct raft_message *m = raft_send(r, RAFT_MSG_HEARTBEAT, p->id);
		/* never tell a follower to commit past what it is known to hold */
		m->commit = p->match < r->log.committed ? p->match : r->log.committed;
		m->context = context;
	}
}

/* Appends the payloads in order, then one round of append messages. */
int raft_propose(struct raft *r, const struct raft_payload *payloads, size_t n)
{
	if (r->role != RAFT_LEADER)
		return r->leader != RAFT_NONE ? RAFT_ERR_NOT_LEADER : RAFT_ERR_NO_LEADER;
	if (r->transfer_target != RAFT_NONE)
		return RAFT_ERR_TRANSFERRING;
	if (!raft_is_voter(r, r->id))
		return RAFT_ERR_REMOVED;
	for (size_t i = 0; i < n; i++)
		r->proposed_index =
			raft_leader_append(r, RAFT_ENTRY_NORMAL, payloads[i].data, payloads[i].len);
	r->proposed_term = r->term;
	raft_bcast_append(r, false);
	raft_maybe_commit(r);
	return RAFT_OK;
}

/* ---- commit ---------------------------------------------------------------- */

/* Makes entries up to index committed; configuration entries take effect
 * here, in log order. */
void raft_commit_to(struct raft *r, uint64_t index)
{
	struct raft_log *l = &r->log;
	uint64_t last = raft_log_last_index(l);
	if (index > last)
		index = last;
	while (l->committed < index) {
		l->committed++;
		const struct raft_entry *e = raft_log_entry(l, l->committed);
		if (e && e->type == RAFT_ENTRY_CONF)
			raft_conf_apply_entry(r, e);
	}
	raft_reads_on_commit(r);
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : (x > y ? -1 : 0);
}

/* The highest index a quorum of voters holds durably. */
static uint64_t quorum_match(struct raft *r)
{
	uint64_t m[RAFT_MAX_MEMBERS];
	size_t n = 0;
	for (size_t i = 0; i < r->n_peers && n < RAFT_MAX_MEMBERS; i++)
		if (r->peers[i].voter)
			m[n++] = r->peers[i].match;
	if (n == 0)
		return 0;
	qsort(m, n, sizeof(m[0]), cmp_desc);
	return m[raft_quorum(r) - 1];
}

/* Raft §5.4.2: a leader commits by counting replicas only entries of its
 * own term; earlier ones commit with them. Returns true if commit moved. */
bool raft_maybe_commit(struct raft *r)
{
	bool moved = false;
	while (r->role == RAFT_LEADER) {
		uint64_t q = quorum_match(r);
		if (q <= r->log.committed || raft_log_term_or_zero(&r->log, q) != r->term)
			break;
		raft_commit_to(r, q); /* may change the configuration, so loop */
		moved = true;
	}
	if (moved && r->role == RAFT_LEADER) {
		raft_bcast_append(r, true); /* tell followers the new commit */
		/* we removed ourselves: keep leading (not counting ourselves) so
		 * the commit reaches everyone, and hand over to a voter */
		if (!raft_is_voter(r, r->id) && r->transfer_target == RAFT_NONE)
			raft_transfer_to_successor(r);
	}
	return moved;
}

/* ---- leader: responses ------------------------------------------------------------ */

void raft_recv_append_resp(struct raft *r, const struct raft_message *m)
{
	struct raft_peer *p = raft_peer_find(r, m->from);
	if (p == NULL)
		return;
	p->recent_active = true;
	p->heard_at = r->now;
	if (m->reject) {
		uint64_t hint = m->reject_hint;
		if (m->log_term > 0)
			hint = raft_log_find_conflict_by_term(&r->log, hint, m->log_term);
		if (raft_pr_maybe_decr(p, m->index, hint)) {
			if (p->state == PR_REPLICATE)
				raft_pr_become_probe(p);
			raft_send_append(r, p, true);
		}
		return;
	}
	bool was_paused = raft_pr_paused(r, p);
	if (!raft_pr_maybe_update(p, m->index))
		return;
	if (p->state == PR_PROBE)
		raft_pr_become_replicate(p);
	else if (p->state == PR_SNAPSHOT && p->match >= p->pending_snapshot) {
		raft_pr_become_probe(p);
		raft_pr_become_replicate(p);
	} else if (p->state == PR_REPLICATE)
		raft_pr_inflight_free_le(p, m->index);
	raft_id id = p->id;
	if (raft_maybe_commit(r) && r->role != RAFT_LEADER)
		return;
	p = raft_peer_find(r, id); /* a committed conf change rebuilds the table */
	if (p == NULL)
		return;
	if (was_paused)
		raft_send_append(r, p, true);
	while (raft_send_append(r, p, false))
		;
	if (p->id == r->transfer_target)
		raft_transfer_check(r, p);
}

void raft_recv_heartbeat_resp(struct raft *r, const struct raft_message *m)
{
	struct raft_peer *p = raft_peer_find(r, m->from);
	if (p == NULL)
		return;
	p->recent_active = true;
	p->heard_at = r->now;
	p->probe_sent = false;
	if (p->state == PR_REPLICATE && p->infl_count >= p->infl_cap && p->infl_cap > 0)
		raft_pr_inflight_free_first(p);
	if (p->state == PR_SNAPSHOT && r->now >= p->snapshot_sent_at + r->cfg.election_ms)
		raft_pr_become_probe(p); /* the snapshot was probably lost */
	if (p->match < raft_log_last_index(&r->log))
		raft_send_append(r, p, true);
	if (m->context > p->read_acked)
		p->read_acked = m->context;
	raft_reads_on_ack(r);
}

/* ---- follower ------------------------------------------------------------------ */

/* Entries of m that are not in our log yet, after removing a conflicting
 * suffix (never a committed one: the leader holds all of those). */
static void append_new_entries(struct raft *r, const struct raft_message *m)
{
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *e = &m->entries[i];
		uint64_t t;
		if (raft_log_term(&r->log, e->index, &t)) {
			if (t == e->term)
				continue;
			if (e->index <= r->log.committed)
				return; /* impossible with a correct leader: refuse */
			raft_log_truncate_from(r, e->index);
		}
		if (e->index <= r->log.base_index)
			continue;
		if (e->index != raft_log_last_index(&r->log) + 1)
			return;
		raft_log_append_copy(r, e);
	}
}

void raft_recv_append(struct raft *r, const struct raft_message *m)
{
	struct raft_message *resp;
	if (m->index < r->log.committed) {
		resp = raft_send_after_persist(r, RAFT_MSG_APPEND_RESP, m->from);
		resp->index = r->log.committed;
		return;
	}
	if (raft_log_matches(&r->log, m->index, m->log_term)) {
		append_new_entries(r, m);
		uint64_t last_new = m->index + m->n_entries;
		if (last_new > raft_log_last_index(&r->log))
			last_new = raft_log_last_index(&r->log);
		raft_commit_to(r, m->commit < last_new ? m->commit : last_new);
		/* acknowledged only once durable: the leader counts it for commit */
		resp = raft_send_after_persist(r, RAFT_MSG_APPEND_RESP, m->from);
		resp->index = last_new;
		return;
	}
	/* fast back-off: point the leader at the last index whose term is no
	 * newer than the term it expected, skipping a whole conflicting term */
	uint64_t hint =
		m->index < raft_log_last_index(&r->log) ? m->index : raft_log_last_index(&r->log);
	hint = raft_log_find_conflict_by_term(&r->log, hint, m->log_term);
	resp = raft_send_after_persist(r, RAFT_MSG_APPEND_RESP, m->from);
	resp->index = m->index;
	resp->reject = true;
	resp->reject_hint = hint;
	resp->log_term = raft_log_term_or_zero(&r->log, hint);
}

void raft_recv_heartbeat(struct raft *r, const struct raft_message *m)
{
	uint64_t c = m->commit;
	if (c > raft_log_last_index(&r->log))
		c = raft_log_last_index(&r->log);
	raft_commit_to(r, c);
	struct raft_message *resp = raft_send(r, RAFT_MSG_HEARTBEAT_RESP, m->from);
	resp->context = m->context;
}

/* ---- durability ---------------------------------------------------------------- */

/* The driver made updates up to seq durable: advance the stable prefix, let
 * our own vote count, and let the leader count itself for commit. */
void raft_on_persisted(struct raft *r, uint64_t seq)
{
	if (seq > r->seq)
		seq = r->seq;
	if (seq <= r->persisted_seq)
		return;
	r->persisted_seq = seq;
	size_t k = 0;
	while (k < r->n_pw && r->pw[k].seq <= seq) {
		r->stable_index = r->pw[k].last;
		k++;
	}
	if (k > 0)
		memmove(r->pw, r->pw + k, (r->n_pw - k) * sizeof(*r->pw));
	r->n_pw -= k;
	if (r->role == RAFT_CANDIDATE) {
		raft_maybe_win(r);
		return;
	}
	if (r->role != RAFT_LEADER)
		return;
	struct raft_peer *self = raft_peer_find(r, r->id);
	if (self && raft_pr_maybe_update(self, r->stable_index))
		raft_maybe_commit(r);
}
