/* raft_membership.c - configuration: voters and learners, single-member
 * changes (add voter, add learner, promote, remove) proposed one at a time
 * and in effect once committed, the history needed to describe snapshots,
 * and the byte encoding of configuration entries. Pure: no I/O, no clock. */
#include "raft/raft_private.h"

#include <stdlib.h>
#include <string.h>

#include "util/le.h"

/* ---- membership sets ------------------------------------------------------ */

static bool list_has(const raft_id *ids, size_t n, raft_id id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void list_remove(raft_id *ids, size_t *n, raft_id id)
{
	for (size_t i = 0; i < *n; i++) {
		if (ids[i] == id) {
			memmove(&ids[i], &ids[i + 1], (*n - i - 1) * sizeof(*ids));
			(*n)--;
			return;
		}
	}
}

bool raft_membership_is_voter(const struct raft_membership *m, raft_id id)
{
	return list_has(m->voters, m->n_voters, id);
}

bool raft_membership_is_learner(const struct raft_membership *m, raft_id id)
{
	return list_has(m->learners, m->n_learners, id);
}

bool raft_is_voter(const struct raft *r, raft_id id)
{
	return raft_membership_is_voter(&r->conf, id);
}

/* Applies cc to m. Returns RAFT_OK or RAFT_ERR_BAD_CONF (m unchanged). */
static int membership_change(struct raft_membership *m, const struct raft_conf_change *cc)
{
	bool voter = raft_membership_is_voter(m, cc->node);
	bool learner = raft_membership_is_learner(m, cc->node);
	if (cc->node == RAFT_NONE && cc->type != RAFT_CONF_SET)
		return RAFT_ERR_BAD_CONF;
	switch (cc->type) {
	case RAFT_CONF_ADD_VOTER:
		if (voter || learner || m->n_voters >= RAFT_MAX_MEMBERS)
			return RAFT_ERR_BAD_CONF;
		m->voters[m->n_voters++] = cc->node;
		return RAFT_OK;
	case RAFT_CONF_ADD_LEARNER:
		if (voter || learner || m->n_learners >= RAFT_MAX_MEMBERS)
			return RAFT_ERR_BAD_CONF;
		m->learners[m->n_learners++] = cc->node;
		return RAFT_OK;
	case RAFT_CONF_PROMOTE:
		if (!learner || m->n_voters >= RAFT_MAX_MEMBERS)
			return RAFT_ERR_BAD_CONF;
		list_remove(m->learners, &m->n_learners, cc->node);
		m->voters[m->n_voters++] = cc->node;
		return RAFT_OK;
	case RAFT_CONF_REMOVE:
		if (voter && m->n_voters == 1)
			return RAFT_ERR_BAD_CONF; /* never remove the last voter */
		if (!voter && !learner)
			return RAFT_ERR_BAD_CONF;
		list_remove(m->voters, &m->n_voters, cc->node);
		list_remove(m->learners, &m->n_learners, cc->node);
		return RAFT_OK;
	case RAFT_CONF_SET:
		if (cc->membership.n_voters == 0)
			return RAFT_ERR_BAD_CONF;
		*m = cc->membership;
		return RAFT_OK;
	default:
		return RAFT_ERR_BAD_CONF;
	}
}

/* ---- encoding ------------------------------------------------------------------ */

/* Layout: type byte, then for SET: n_voters, n_learners, ids (u64 LE) and the
 * context bytes;
 * otherwise: node id (u64 LE) followed by the context bytes. Returns the
 * encoded size (0 if cap is too small). */
size_t raft_conf_encode(const struct raft_conf_change *cc, uint8_t *buf, size_t cap)
{
	if (cc->type == RAFT_CONF_SET) {
		const struct raft_membership *m = &cc->membership;
		size_t ids = 3 + 8 * (m->n_voters + m->n_learners);
		size_t need = ids + cc->context_len;
		if (need > cap)
			return 0;
		if (cc->context_len)
			memcpy(buf + ids, cc->context, cc->context_len);
		buf[0] = cc->type;
		buf[1] = (uint8_t)m->n_voters;
		buf[2] = (uint8_t)m->n_learners;
		uint8_t *p = buf + 3;
		for (size_t i = 0; i < m->n_voters; i++, p += 8)
			le_put_u64(p, m->voters[i]);
		for (size_t i = 0; i < m->n_learners; i++, p += 8)
			le_put_u64(p, m->learners[i]);
		return need;
	}
	size_t need = 9 + cc->context_len;
	if (need > cap)
		return 0;
	buf[0] = cc->type;
	le_put_u64(buf + 1, cc->node);
	if (cc->context_len)
		memcpy(buf + 9, cc->context, cc->context_len);
	return need;
}

int raft_conf_change_decode(const struct raft_entry *e, struct raft_conf_change *out)
{
	memset(out, 0, sizeof(*out));
	const uint8_t *b = e->data;
	if (e->type != RAFT_ENTRY_CONF || e->len < 1)
		return RAFT_ERR_INVALID;
	out->type = b[0];
	if (out->type == RAFT_CONF_SET) {
		if (e->len < 3 || b[1] > RAFT_MAX_MEMBERS || b[2] > RAFT_MAX_MEMBERS)
			return RAFT_ERR_INVALID;
		size_t nv = b[1], nl = b[2];
		size_t ids = 3 + 8 * (nv + nl);
		if (e->len < ids)
			return RAFT_ERR_INVALID;
		out->context = e->len > ids ? b + ids : NULL; /* app bytes after the ids */
		out->context_len = e->len - ids;
		out->membership.n_voters = nv;
		out->membership.n_learners = nl;
		const uint8_t *p = b + 3;
		for (size_t i = 0; i < nv; i++, p += 8)
			out->membership.voters[i] = le_get_u64(p);
		for (size_t i = 0; i < nl; i++, p += 8)
			out->membership.learners[i] = le_get_u64(p);
		return RAFT_OK;
	}
	if (out->type < RAFT_CONF_ADD_VOTER || out->type > RAFT_CONF_REMOVE || e->len < 9)
		return RAFT_ERR_INVALID;
	out->node = le_get_u64(b + 1);
	out->context = e->len > 9 ? b + 9 : NULL;
	out->context_len = e->len - 9;
	return RAFT_OK;
}

/* ---- the configuration in effect ---------------------------------------------- */

/* Rebuilds the peer table for r->conf, keeping known peers' progress. */
static void rebuild_peers(struct raft *r)
{
	const struct raft_membership *m = &r->conf;
	size_t n = m->n_voters + m->n_learners;
	struct raft_peer *np = xcalloc(n, sizeof(*np));
	for (size_t i = 0; i < n; i++) {
		raft_id id = i < m->n_voters ? m->voters[i] : m->learners[i - m->n_voters];
		struct raft_peer *old = raft_peer_find(r, id);
		if (old) {
			np[i] = *old;
			old->inflight = NULL; /* moved */
		} else {
			np[i].id = id;
			raft_pr_reset(r, &np[i]);
			np[i].recent_active = true; /* give a new member one quorum period */
		}
		np[i].voter = i < m->n_voters;
	}
	for (size_t i = 0; i < r->n_peers; i++)
		free(r->peers[i].inflight);
	free(r->peers);
	r->peers = np;
	r->n_peers = r->cap_peers = n;
}

static void hist_push(struct raft *r, uint64_t index)
{
	RAFT_GROW(r->hist, r->cap_hist, r->n_hist + 1);
	r->hist[r->n_hist].index = index;
	r->hist[r->n_hist].conf = r->conf;
	r->n_hist++;
}

/* Replaces the whole configuration (bootstrap, restart, snapshot). */
void raft_conf_set(struct raft *r, const struct raft_membership *m, uint64_t index)
{
	bool was_member = raft_membership_is_voter(&r->conf, r->id) ||
			  raft_membership_is_learner(&r->conf, r->id);
	bool member = raft_membership_is_voter(m, r->id) || raft_membership_is_learner(m, r->id);
	r->conf = *m;
	r->conf_index = index;
	r->n_hist = 0;
	hist_push(r, index);
	rebuild_peers(r);
	if (member)
		r->removed = false;
	else if (was_member)
		r->removed = true;
}

/* A committed configuration entry takes effect. */
void raft_conf_apply_entry(struct raft *r, const struct raft_entry *e)
{
	struct raft_conf_change cc;
	if (raft_conf_change_decode(e, &cc) != RAFT_OK)
		return;
	struct raft_membership m = r->conf;
	if (membership_change(&m, &cc) != RAFT_OK)
		return; /* refused at proposal time by a correct leader */
	bool was_member = raft_membership_is_voter(&r->conf, r->id) ||
			  raft_membership_is_learner(&r->conf, r->id);
	r->conf = m;
	r->conf_index = e->index;
	hist_push(r, e->index);
	rebuild_peers(r);
	bool member = raft_membership_is_voter(&m, r->id) || raft_membership_is_learner(&m, r->id);
	if (was_member && !member)
		r->removed = true;
	if (member)
		r->removed = false;
}

/* The configuration in effect after applying entries up to index. */
const struct raft_membership *raft_conf_at(const struct raft *r, uint64_t index)
{
	const struct raft_membership *m = NULL;
	for (size_t i = 0; i < r->n_hist && r->hist[i].index <= index; i++)
		m = &r->hist[i].conf;
	return m ? m : &r->conf;
}

/* Drops history a snapshot at index made unnecessary (keeps the config in
 * effect at index). */
void raft_conf_forget_before(struct raft *r, uint64_t index)
{
	size_t k = 0;
	while (k + 1 < r->n_hist && r->hist[k + 1].index <= index)
		k++;
	if (k == 0)
		return;
	memmove(r->hist, r->hist + k, (r->n_hist - k) * sizeof(*r->hist));
	r->n_hist -= k;
}

/* ---- proposing -------------------------------------------------------------------- */

int raft_propose_conf_change(struct raft *r, const struct raft_conf_change *cc)
{
	if (r->role != RAFT_LEADER)
		return r->leader != RAFT_NONE ? RAFT_ERR_NOT_LEADER : RAFT_ERR_NO_LEADER;
	if (r->transfer_target != RAFT_NONE)
		return RAFT_ERR_TRANSFERRING;
	if (cc->type == RAFT_CONF_SET)
		return RAFT_ERR_INVALID;
	/* one at a time, and only after our term's no-op committed */
	if (r->pending_conf_index > r->log.committed)
		return RAFT_ERR_CONF_PENDING;
	struct raft_membership m = r->conf;
	if (membership_change(&m, cc) != RAFT_OK)
		return RAFT_ERR_BAD_CONF;
	size_t cap = 9 + cc->context_len;
	uint8_t *buf = xmalloc(cap);
	size_t len = raft_conf_encode(cc, buf, cap);
	uint64_t index = raft_leader_append(r, RAFT_ENTRY_CONF, buf, len);
	free(buf);
	r->pending_conf_index = index;
	r->proposed_index = index;
	r->proposed_term = r->term;
	raft_bcast_append(r, false);
	raft_maybe_commit(r);
	return RAFT_OK;
}

/* ---- learners that caught up become voters -------------------------------------- */

/* Whether learner p is close enough to the leader's log to vote without
 * slowing commits: it holds the configuration entry that added it, is
 * within promote_lag entries of our last one, and answered recently. */
static bool caught_up(const struct raft *r, const struct raft_peer *p)
{
	uint64_t last = raft_log_last_index(&r->log);
	return p->state == PR_REPLICATE && p->match >= r->conf_index &&
	       p->match + r->cfg.promote_lag >= last && p->heard_at != 0 &&
	       r->now - p->heard_at <= r->cfg.election_ms;
}

/* Leader, after every step: proposes PROMOTE for the first learner that
 * caught up (one configuration change at a time, like any other). The
 * result fields of the call (proposed_index) stay the caller's. */
void raft_maybe_promote(struct raft *r)
{
	if (r->cfg.promote_lag == 0 || r->role != RAFT_LEADER || r->conf.n_learners == 0 ||
	    r->transfer_target != RAFT_NONE || r->pending_conf_index > r->log.committed ||
	    !raft_is_voter(r, r->id))
		return;
	for (size_t i = 0; i < r->n_peers; i++) {
		const struct raft_peer *p = &r->peers[i];
		if (p->voter || p->id == r->id || !caught_up(r, p))
			continue;
		struct raft_conf_change cc = {.type = RAFT_CONF_PROMOTE, .node = p->id};
		uint64_t pi = r->proposed_index, pt = r->proposed_term;
		raft_propose_conf_change(r, &cc); /* rebuilds nothing until committed */
		r->proposed_index = pi;
		r->proposed_term = pt;
		return;
	}
}

bool raft_heard_from(const struct raft *r, raft_id id, uint64_t *at_ms)
{
	if (r->role != RAFT_LEADER)
		return false;
	for (size_t i = 0; i < r->n_peers; i++) {
		if (r->peers[i].id != id)
			continue;
		if (id == r->id) {
			*at_ms = r->now;
			return true;
		}
		if (r->peers[i].heard_at == 0)
			return false;
		*at_ms = r->peers[i].heard_at;
		return true;
	}
	return false;
}
