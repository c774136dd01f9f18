/* raft.c - the Raft core's one door: construction, raft_step dispatch, and
 * assembly of the update handed to the driver. Pure: no I/O, no clock. */
#include "raft/raft_private.h"

#include <stdlib.h>
#include <string.h>

/* ---- errors and names ------------------------------------------------------ */

const char *raft_strerror(int err)
{
	switch (err) {
	case RAFT_OK:
		return "ok";
	case RAFT_ERR_NOT_LEADER:
		return "not the leader";
	case RAFT_ERR_NO_LEADER:
		return "no leader";
	case RAFT_ERR_TRANSFERRING:
		return "leadership transfer in progress";
	case RAFT_ERR_CONF_PENDING:
		return "a configuration change is pending";
	case RAFT_ERR_BAD_CONF:
		return "configuration change does not apply";
	case RAFT_ERR_INVALID:
		return "invalid argument";
	case RAFT_ERR_STALE:
		return "stale snapshot";
	case RAFT_ERR_REMOVED:
		return "member removed";
	default:
		return "unknown error";
	}
}

const char *raft_msg_type_name(int type)
{
	static const char *const names[] = {
		"?",	       "append",       "append_resp",	  "vote",	    "vote_resp",
		"prevote",     "prevote_resp", "heartbeat",	  "heartbeat_resp", "snapshot",
		"timeout_now", "read_index",   "read_index_resp",
	};
	if (type < 0 || (size_t)type >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[type];
}

/* ---- construction ------------------------------------------------------------ */

struct raft *raft_new(const struct raft_config *cfg)
{
	if (cfg == NULL || cfg->id == RAFT_NONE)
		return NULL;
	struct raft *r = xcalloc(1, sizeof(*r));
	r->cfg = *cfg;
	if (r->cfg.election_ms == 0)
		r->cfg.election_ms = 1000;
	if (r->cfg.heartbeat_ms == 0)
		r->cfg.heartbeat_ms = 100;
	if (r->cfg.max_inflight == 0)
		r->cfg.max_inflight = 256;
	if (r->cfg.max_msg_bytes == 0)
		r->cfg.max_msg_bytes = 1024 * 1024;
	r->id = cfg->id;
	r->rng = cfg->seed ^ (cfg->id * 0x2545f4914f6cdd1dULL);
	return r;
}

static void release_update(struct raft *r)
{
	for (size_t i = 0; i < r->n_garbage; i++)
		free(r->garbage[i]);
	r->n_garbage = 0;
	r->n_msgs = r->n_after = 0;
	r->n_out_reads = 0;
}

void raft_update_done(struct raft *r)
{
	release_update(r);
}

void raft_free(struct raft *r)
{
	if (r == NULL)
		return;
	release_update(r);
	for (size_t i = 0; i < r->log.n; i++)
		free((void *)r->log.ents[i].data);
	free(r->log.ents);
	for (size_t i = 0; i < r->n_peers; i++)
		free(r->peers[i].inflight);
	free(r->peers);
	free(r->hist);
	free(r->pw);
	if (r->snap) {
		free((void *)r->snap->data);
		free(r->snap);
	}
	free(r->reads);
	free(r->fwd_reads);
	free(r->msgs);
	free(r->msgs_after);
	free(r->out_entries);
	free(r->out_committed);
	free(r->out_reads);
	free(r->garbage);
	free(r);
}

/* ---- update assembly ---------------------------------------------------------- */

void raft_garbage(struct raft *r, void *p)
{
	if (p == NULL)
		return;
	RAFT_GROW(r->garbage, r->cap_garbage, r->n_garbage + 1);
	r->garbage[r->n_garbage++] = p;
}

static struct raft_message *push_msg(struct raft_message **v, size_t *n, size_t *cap)
{
	raft_grow((void **)v, cap, *n + 1, sizeof(**v));
	struct raft_message *m = &(*v)[(*n)++];
	memset(m, 0, sizeof(*m));
	return m;
}

static struct raft_message *address(struct raft *r, struct raft_message *m, uint8_t type,
				    raft_id to)
{
	m->type = type;
	m->from = r->id;
	m->to = to;
	m->term = r->term;
	return m;
}

/* The returned pointer is valid until the next raft_send* call. */
struct raft_message *raft_send(struct raft *r, uint8_t type, raft_id to)
{
	return address(r, push_msg(&r->msgs, &r->n_msgs, &r->cap_msgs), type, to);
}

struct raft_message *raft_send_after_persist(struct raft *r, uint8_t type, raft_id to)
{
	return address(r, push_msg(&r->msgs_after, &r->n_after, &r->cap_after), type, to);
}

void raft_read_ready(struct raft *r, uint64_t context, uint64_t index, int status)
{
	RAFT_GROW(r->out_reads, r->cap_out_reads, r->n_out_reads + 1);
	struct raft_read_state *rs = &r->out_reads[r->n_out_reads++];
	rs->context = context;
	rs->index = index;
	rs->status = status;
}

bool raft_hs_durable(const struct raft *r)
{
	return r->persisted_seq >= r->hs_seq;
}

static void begin(struct raft *r, uint64_t now, int64_t wall)
{
	release_update(r);
	if (now > r->now)
		r->now = now;
	r->wall = wall;
	r->prev_hs.term = r->term;
	r->prev_hs.vote = r->vote;
	r->prev_hs.commit = r->log.committed;
	r->prev_leader = r->leader;
	r->prev_role = r->role;
	r->proposed_index = r->proposed_term = 0;
	r->compacted_to = 0;
	r->snap_install = false;
}

static void finish_persist(struct raft *r, struct raft_update *out)
{
	struct raft_log *l = &r->log;
	bool term_vote = r->term != r->prev_hs.term || r->vote != r->prev_hs.vote;
	out->hard_state_changed = term_vote || l->committed != r->prev_hs.commit;
	out->hard_state.term = r->term;
	out->hard_state.vote = r->vote;
	out->hard_state.commit = l->committed;
	out->snapshot = r->snap_install ? r->snap : NULL;

	uint64_t last = raft_log_last_index(l);
	if (l->unsaved < l->base_index + 1)
		l->unsaved = l->base_index + 1;
	size_t n = l->unsaved <= last ? (size_t)(last - l->unsaved + 1) : 0;
	RAFT_GROW(r->out_entries, r->cap_out_entries, n);
	if (n)
		memcpy(r->out_entries, raft_log_entry(l, l->unsaved), n * sizeof(*r->out_entries));
	out->entries = r->out_entries;
	out->n_entries = n;
	l->unsaved = last + 1;

	out->must_sync = term_vote || n > 0 || out->snapshot != NULL;
	if (out->must_sync) {
		r->seq++;
		RAFT_GROW(r->pw, r->cap_pw, r->n_pw + 1);
		r->pw[r->n_pw].seq = r->seq;
		r->pw[r->n_pw].last = last;
		r->n_pw++;
		if (term_vote)
			r->hs_seq = r->seq;
	}
	out->persist_seq = r->seq;
	out->compacted_to = r->compacted_to;
}

static void finish_apply(struct raft *r, struct raft_update *out)
{
	struct raft_log *l = &r->log;
	if (r->snap_install && l->applied < r->snap->meta.index)
		l->applied = r->snap->meta.index;
	size_t n = l->committed > l->applied ? (size_t)(l->committed - l->applied) : 0;
	RAFT_GROW(r->out_committed, r->cap_out_committed, n);
	if (n)
		memcpy(r->out_committed, raft_log_entry(l, l->applied + 1),
		       n * sizeof(*r->out_committed));
	out->committed = r->out_committed;
	out->n_committed = n;
	l->applied = l->committed;
}

static void finish(struct raft *r, struct raft_update *out)
{
	memset(out, 0, sizeof(*out));
	finish_persist(r, out);
	out->messages = r->msgs;
	out->n_messages = r->n_msgs;
	out->messages_after_persist = r->msgs_after;
	out->n_messages_after_persist = r->n_after;
	finish_apply(r, out);
	out->reads = r->out_reads;
	out->n_reads = r->n_out_reads;
	out->proposed_index = r->proposed_index;
	out->proposed_term = r->proposed_term;
	out->leader = r->leader;
	out->term = r->term;
	out->role = r->role;
	out->soft_state_changed = r->leader != r->prev_leader || r->role != r->prev_role;
	out->removed = r->removed;
}

/* ---- starting ------------------------------------------------------------------- */

static void start_common(struct raft *r, uint64_t now)
{
	r->started = true;
	r->now = now;
	r->role = RAFT_FOLLOWER;
	r->leader = RAFT_NONE;
	raft_reset_election_timer(r);
}

int raft_bootstrap(struct raft *r, const struct raft_membership *initial, uint64_t now_ms,
		   struct raft_update *out)
{
	return raft_bootstrap_ctx(r, initial, NULL, 0, now_ms, out);
}

int raft_bootstrap_ctx(struct raft *r, const struct raft_membership *initial, const void *context,
		       size_t context_len, uint64_t now_ms, struct raft_update *out)
{
	if (r->started || initial == NULL || initial->n_voters == 0 ||
	    initial->n_voters > RAFT_MAX_MEMBERS || initial->n_learners > RAFT_MAX_MEMBERS)
		return RAFT_ERR_INVALID;
	begin(r, now_ms, 0);
	start_common(r, now_ms);
	/* one SET entry, identical on every member, committed from the start */
	struct raft_conf_change cc = {.type = RAFT_CONF_SET,
				      .membership = *initial,
				      .context = context,
				      .context_len = context_len};
	size_t cap = 3 + 16 * RAFT_MAX_MEMBERS + context_len;
	uint8_t *buf = xmalloc(cap);
	struct raft_entry e = {.term = 1, .index = 1, .type = RAFT_ENTRY_CONF, .time = 0};
	e.len = raft_conf_encode(&cc, buf, cap);
	e.data = buf;
	raft_log_reset(r, 0, 0);
	raft_log_append_copy(r, &e);
	free(buf);
	r->term = 1;
	raft_commit_to(r, 1);
	finish(r, out);
	return RAFT_OK;
}

int raft_join(struct raft *r, uint64_t now_ms, struct raft_update *out)
{
	if (r->started)
		return RAFT_ERR_INVALID;
	begin(r, now_ms, 0);
	start_common(r, now_ms);
	raft_log_reset(r, 0, 0);
	finish(r, out);
	return RAFT_OK;
}

int raft_restart(struct raft *r, const struct raft_persisted *p, uint64_t now_ms,
		 struct raft_update *out)
{
	if (r->started || p == NULL)
		return RAFT_ERR_INVALID;
	uint64_t base = 0, base_term = 0;
	if (p->snapshot) {
		base = p->snapshot->meta.index;
		base_term = p->snapshot->meta.term;
	}
	for (size_t i = 0; i < p->n_entries; i++)
		if (p->entries[i].index != base + 1 + i)
			return RAFT_ERR_INVALID;
	begin(r, now_ms, 0);
	start_common(r, now_ms);
	raft_log_reset(r, base, base_term);
	if (p->snapshot) {
		raft_snapshot_replace(r, p->snapshot);
		raft_conf_set(r, &p->snapshot->meta.conf, base);
	}
	for (size_t i = 0; i < p->n_entries; i++)
		raft_log_append_copy(r, &p->entries[i]);
	r->log.unsaved = raft_log_last_index(&r->log) + 1; /* already durable */
	r->stable_index = raft_log_last_index(&r->log);
	r->log.committed = base;
	r->log.applied = base;
	r->term = p->hard_state.term;
	r->vote = p->hard_state.vote;
	uint64_t commit = p->hard_state.commit;
	if (commit > raft_log_last_index(&r->log))
		commit = raft_log_last_index(&r->log);
	raft_commit_to(r, commit);
	/* what we read back is on disk: nothing of it to persist again */
	r->prev_hs.term = r->term;
	r->prev_hs.vote = r->vote;
	r->prev_hs.commit = r->log.committed;
	finish(r, out);
	return RAFT_OK;
}

/* ---- the step function ---------------------------------------------------------- */

static int step_receive(struct raft *r, const struct raft_message *m);

int raft_step(struct raft *r, const struct raft_event *ev, struct raft_update *out)
{
	int rv = RAFT_OK;
	begin(r, ev->now_ms, ev->wall_ns);
	if (!r->started) {
		finish(r, out);
		return RAFT_ERR_INVALID;
	}
	switch (ev->type) {
	case RAFT_EV_TICK:
		raft_tick(r);
		break;
	case RAFT_EV_RECEIVE:
		rv = ev->u.receive.msg ? step_receive(r, ev->u.receive.msg) : RAFT_ERR_INVALID;
		break;
	case RAFT_EV_PROPOSE:
		if (ev->u.propose.n_batch > 0) {
			rv = ev->u.propose.batch ?
				     raft_propose(r, ev->u.propose.batch, ev->u.propose.n_batch) :
				     RAFT_ERR_INVALID;
		} else {
			struct raft_payload one = {ev->u.propose.data, ev->u.propose.len};
			rv = raft_propose(r, &one, 1);
		}
		break;
	case RAFT_EV_CONF_CHANGE:
		rv = raft_propose_conf_change(r, &ev->u.conf_change);
		break;
	case RAFT_EV_PERSISTED:
		raft_on_persisted(r, ev->u.persisted.seq);
		break;
	case RAFT_EV_SNAPSHOT:
		rv = raft_take_snapshot(r, ev->u.snapshot.index, ev->u.snapshot.data,
					ev->u.snapshot.len, ev->u.snapshot.trailing);
		break;
	case RAFT_EV_CAMPAIGN:
		if (r->role == RAFT_LEADER)
			break;
		if (!raft_promotable(r))
			rv = RAFT_ERR_REMOVED;
		else
			raft_campaign(r, !r->cfg.no_pre_vote, false);
		break;
	case RAFT_EV_TRANSFER:
		rv = raft_transfer(r, ev->u.transfer.target);
		break;
	case RAFT_EV_READ_INDEX:
		rv = raft_read_index(r, ev->u.read_index.context);
		break;
	default:
		rv = RAFT_ERR_INVALID;
	}
	raft_maybe_promote(r);
	finish(r, out);
	return rv;
}

/* Term rules common to every message (Raft §5.1, plus pre-vote and the
 * leader lease that check-quorum enables). Returns false to drop m. */
static bool check_term(struct raft *r, const struct raft_message *m)
{
	bool vote_req = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE;
	if (m->term > r->term) {
		if (vote_req && !m->transfer && raft_in_lease(r))
			return false; /* a healthy leader exists: ignore the disruption */
		if (m->type == RAFT_MSG_PREVOTE)
			return true; /* never change our term for a pre-vote */
		if (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject)
			return true; /* granted for the term we will use */
		bool from_leader = m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT ||
				   m->type == RAFT_MSG_SNAPSHOT;
		raft_become_follower(r, m->term, from_leader ? m->from : RAFT_NONE);
		return true;
	}
	if (m->term < r->term) {
		bool pre_or_cq = !r->cfg.no_pre_vote || !r->cfg.no_check_quorum;
		if (pre_or_cq && (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_HEARTBEAT)) {
			/* a stale leader (e.g. back from a partition) learns our term */
			raft_send(r, RAFT_MSG_APPEND_RESP, m->from);
		} else if (m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_VOTE) {
			/* Raft §5.1: reply with our term so a candidate stuck in the
			 * past catches up instead of campaigning forever below us */
			uint8_t type = m->type == RAFT_MSG_VOTE ? RAFT_MSG_VOTE_RESP :
								  RAFT_MSG_PREVOTE_RESP;
			struct raft_message *resp = raft_send(r, type, m->from);
			resp->reject = true;
		}
		return false;
	}
	return true;
}

static void follower_heard_leader(struct raft *r, raft_id from)
{
	if (r->role != RAFT_FOLLOWER)
		raft_become_follower(r, r->term, from);
	r->leader = from;
	r->leader_contact = r->now;
	raft_reset_election_timer(r);
}

static int step_receive(struct raft *r, const struct raft_message *m)
{
	if (m->to != r->id || m->from == r->id)
		return RAFT_ERR_INVALID;
	if (!check_term(r, m))
		return RAFT_OK;
	switch (m->type) {
	case RAFT_MSG_VOTE:
	case RAFT_MSG_PREVOTE:
		raft_recv_vote(r, m);
		break;
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_PREVOTE_RESP:
		raft_recv_vote_resp(r, m);
		break;
	case RAFT_MSG_APPEND:
	case RAFT_MSG_HEARTBEAT:
	case RAFT_MSG_SNAPSHOT:
		if (r->role == RAFT_LEADER)
			break; /* cannot happen: two leaders in one term */
		follower_heard_leader(r, m->from);
		if (m->type == RAFT_MSG_APPEND)
			raft_recv_append(r, m);
		else if (m->type == RAFT_MSG_HEARTBEAT)
			raft_recv_heartbeat(r, m);
		else
			raft_recv_snapshot(r, m);
		break;
	case RAFT_MSG_APPEND_RESP:
		if (r->role == RAFT_LEADER)
			raft_recv_append_resp(r, m);
		break;
	case RAFT_MSG_HEARTBEAT_RESP:
		if (r->role == RAFT_LEADER)
			raft_recv_heartbeat_resp(r, m);
		break;
	case RAFT_MSG_TIMEOUT_NOW:
		raft_recv_timeout_now(r, m);
		break;
	case RAFT_MSG_READ_INDEX:
		raft_recv_read_index(r, m);
		break;
	case RAFT_MSG_READ_INDEX_RESP:
		raft_recv_read_index_resp(r, m);
		break;
	default:
		return RAFT_ERR_INVALID;
	}
	return RAFT_OK;
}

/* ---- introspection ---------------------------------------------------------------- */

uint64_t raft_next_tick(const struct raft *r)
{
	if (r->role != RAFT_LEADER)
		return r->election_deadline;
	uint64_t t = r->heartbeat_deadline;
	if (r->quorum_deadline < t)
		t = r->quorum_deadline;
	if (r->transfer_target != RAFT_NONE && r->transfer_deadline < t)
		t = r->transfer_deadline;
	return t;
}

void raft_status(const struct raft *r, struct raft_status *out)
{
	memset(out, 0, sizeof(*out));
	out->id = r->id;
	out->leader = r->leader;
	out->role = r->role;
	out->term = r->term;
	out->vote = r->vote;
	out->commit = r->log.committed;
	out->applied = r->log.applied;
	out->first_index = r->log.base_index + 1;
	out->last_index = raft_log_last_index(&r->log);
	out->snapshot_index = r->snap ? r->snap->meta.index : 0;
	out->transfer_target = r->transfer_target;
	out->conf = r->conf;
}

bool raft_progress_of(const struct raft *r, raft_id id, uint64_t *match, uint64_t *next)
{
	if (r->role != RAFT_LEADER)
		return false;
	for (size_t i = 0; i < r->n_peers; i++) {
		if (r->peers[i].id == id) {
			*match = r->peers[i].match;
			*next = r->peers[i].next;
			return true;
		}
	}
	return false;
}

bool raft_snapshot_meta(const struct raft *r, struct raft_snapshot_meta *out)
{
	if (r->snap == NULL)
		return false;
	*out = r->snap->meta;
	return true;
}

bool raft_term_at(const struct raft *r, uint64_t index, uint64_t *term)
{
	if (raft_log_term(&r->log, index, term))
		return true;
	if (r->snap && r->snap->meta.index == index) {
		*term = r->snap->meta.term;
		return true;
	}
	return false;
}
