/* raft_cluster.c - the in-memory cluster fixture (see raft_cluster.h). It plays the
 * driver's part exactly as doc/raft-core.md asks: persist, then send the
 * after-persist messages and report RAFT_EV_PERSISTED; apply committed
 * entries in order; install snapshots. The persist/send ordering runs
 * through raft/raft_pipeline.c, the code cetcd's driver ships. */
#include "raft_cluster.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cl_write {
	uint64_t done_at;
	uint64_t write_seq; /* this member's numbering (raft_pipeline) */
	bool hs_changed;
	struct raft_hard_state hs;
	bool has_snap;
	struct raft_snapshot snap; /* data owned */
	struct raft_entry *ents;   /* data owned */
	size_t n;
};

struct cl_msg {
	uint64_t at;
	uint64_t order;
	struct raft_message m; /* deep copy */
};

struct cl_lm {
	uint64_t index, term, hash, prev_term;
	bool used;
};

struct cl_committed {
	bool set; /* applied by some member: term, hash, chain */
	uint64_t term, hash, chain;
	uint64_t decided_term; /* term of the leader that committed it */
	uint64_t entry_term;   /* the entry's term, as that leader saw it */
};

static void *xdup(const void *p, size_t n)
{
	if (n == 0 || p == NULL)
		return NULL;
	void *q = xmalloc(n);
	memcpy(q, p, n);
	return q;
}

#define GROW(arr, cap, need)                                                        \
	do {                                                                        \
		if ((need) > (cap)) {                                               \
			size_t ncap_ = (cap) ? (cap)*2 : 8;                         \
			while (ncap_ < (need))                                      \
				ncap_ *= 2;                                         \
			(arr) = xrealloc((arr), ncap_ * sizeof(*(arr)));            \
			memset((arr) + (cap), 0, (ncap_ - (cap)) * sizeof(*(arr))); \
			(cap) = ncap_;                                              \
		}                                                                   \
	} while (0)

uint64_t fixture_rand(struct raft_fixture *c)
{
	uint64_t z = (c->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rand_range(struct raft_fixture *c, uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + fixture_rand(c) % (hi - lo + 1);
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t entry_hash(const struct raft_entry *e)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	h = hash_bytes(h, &e->type, 1);
	h = hash_bytes(h, &e->time, sizeof(e->time));
	return hash_bytes(h, e->data, e->len);
}

/* ---- trace and violations --------------------------------------------------- */

void fixture_tracef(struct raft_fixture *c, const char *fmt, ...)
{
	if (!c->trace)
		return;
	char line[512];
	int n = snprintf(line, sizeof(line), "%6" PRIu64 "ms ", c->now);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	GROW(c->trace_buf, c->trace_cap, c->trace_len + (size_t)n + 1);
	memcpy(c->trace_buf + c->trace_len, line, (size_t)n);
	c->trace_len += (size_t)n;
	c->trace_buf[c->trace_len] = 0;
}

void fixture_print_trace(const struct raft_fixture *c)
{
	if (c->trace_buf)
		fputs(c->trace_buf, stderr);
}

static void violate(struct raft_fixture *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void violate(struct raft_fixture *c, const char *fmt, ...)
{
	if (c->violation[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(c->violation, sizeof(c->violation), "t=%" PRIu64 " ", c->now);
	vsnprintf(c->violation + n, sizeof(c->violation) - (size_t)n, fmt, ap);
	va_end(ap);
	fixture_tracef(c, "VIOLATION %s", c->violation);
}

bool fixture_ok(const struct raft_fixture *c)
{
	if (c->violation[0])
		fprintf(stderr, "  invariant violated (seed %" PRIu64 "): %s\n", c->seed,
			c->violation);
	return c->violation[0] == 0;
}

/* ---- messages: deep copies ------------------------------------------------------ */

static void msg_copy(struct raft_message *dst, const struct raft_message *src)
{
	*dst = *src;
	if (src->n_entries) {
		struct raft_entry *e = xcalloc(src->n_entries, sizeof(*e));
		for (size_t i = 0; i < src->n_entries; i++) {
			e[i] = src->entries[i];
			e[i].data = xdup(src->entries[i].data, src->entries[i].len);
		}
		dst->entries = e;
	} else {
		dst->entries = NULL;
	}
	if (src->snapshot) {
		struct raft_snapshot *s = xcalloc(1, sizeof(*s));
		*s = *src->snapshot;
		s->data = xdup(src->snapshot->data, src->snapshot->len);
		dst->snapshot = s;
	}
}

static void msg_free(struct raft_message *m)
{
	for (size_t i = 0; i < m->n_entries; i++)
		free((void *)m->entries[i].data);
	free((void *)m->entries);
	if (m->snapshot) {
		free((void *)m->snapshot->data);
		free((void *)m->snapshot);
	}
}

static bool net_less(const struct cl_msg *a, const struct cl_msg *b)
{
	return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void net_push(struct raft_fixture *c, const struct raft_message *m, uint64_t at)
{
	GROW(c->net, c->cap_net, c->n_net + 1);
	size_t i = c->n_net++;
	struct cl_msg x = {.at = at, .order = c->order++};
	msg_copy(&x.m, m);
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!net_less(&x, &c->net[parent]))
			break;
		c->net[i] = c->net[parent];
		i = parent;
	}
	c->net[i] = x;
}

static struct cl_msg net_pop(struct raft_fixture *c)
{
	struct cl_msg top = c->net[0];
	struct cl_msg last = c->net[--c->n_net];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		const struct cl_msg *best = &last;
		if (l < c->n_net && net_less(&c->net[l], best)) {
			s = l;
			best = &c->net[l];
		}
		if (r < c->n_net && net_less(&c->net[r], best))
			s = r;
		if (s == i)
			break;
		c->net[i] = c->net[s];
		i = s;
	}
	if (c->n_net > 0)
		c->net[i] = last;
	return top;
}

static void net_send(struct raft_fixture *c, const struct raft_message *m)
{
	if (m->to == 0 || m->to > CL_MAX || m->from > CL_MAX)
		return;
	const struct cl_link *l = &c->link[m->from][m->to];
	if (l->cut)
		return;
	if (l->drop_pct && fixture_rand(c) % 100 < l->drop_pct)
		return;
	net_push(c, m, c->now + rand_range(c, l->delay_min, l->delay_max));
	if (l->dup_pct && fixture_rand(c) % 100 < l->dup_pct)
		net_push(c, m, c->now + rand_range(c, l->delay_min, l->delay_max));
}

/* ---- invariants ------------------------------------------------------------------ */

static struct cl_committed *committed_at(struct raft_fixture *c, uint64_t index)
{
	GROW(c->committed, c->cap_committed, index + 1);
	return &c->committed[index];
}

static void lm_insert(struct raft_fixture *c, uint64_t index, uint64_t term, uint64_t hash,
		      uint64_t prev_term);

static void lm_grow(struct raft_fixture *c)
{
	struct cl_lm *old = c->lm;
	size_t old_cap = c->lm_cap;
	c->lm_cap = old_cap ? old_cap * 2 : 1024;
	c->lm = xcalloc(c->lm_cap, sizeof(*c->lm));
	c->lm_n = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].used)
			lm_insert(c, old[i].index, old[i].term, old[i].hash, old[i].prev_term);
	free(old);
}

/* Log matching: (index, term) names one entry and one predecessor term. */
static void lm_insert(struct raft_fixture *c, uint64_t index, uint64_t term, uint64_t hash,
		      uint64_t prev_term)
{
	if (2 * (c->lm_n + 1) > c->lm_cap)
		lm_grow(c);
	size_t i = (size_t)((index * 0x9e3779b97f4a7c15ULL) ^ (term * 0xc2b2ae3d27d4eb4fULL));
	for (;; i++) {
		struct cl_lm *s = &c->lm[i & (c->lm_cap - 1)];
		if (!s->used) {
			*s = (struct cl_lm){index, term, hash, prev_term, true};
			c->lm_n++;
			return;
		}
		if (s->index == index && s->term == term) {
			if (s->hash != hash || s->prev_term != prev_term)
				violate(c,
					"log matching: two entries at index %" PRIu64
					" term %" PRIu64 " differ",
					index, term);
			return;
		}
	}
}

static void check_entries(struct raft_fixture *c, struct cl_member *m, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_entries; i++) {
		const struct raft_entry *e = &u->entries[i];
		uint64_t prev = 0;
		if (i > 0)
			prev = u->entries[i - 1].term;
		else if (!raft_term_at(m->r, e->index - 1, &prev))
			continue; /* predecessor compacted: nothing to compare */
		lm_insert(c, e->index, e->term, entry_hash(e), prev);
	}
}

static void check_leader(struct raft_fixture *c, struct cl_member *m, const struct raft_update *u)
{
	if (u->role != RAFT_LEADER)
		return;
	GROW(c->term_leader, c->cap_terms, u->term + 1);
	if (c->term_leader[u->term] && c->term_leader[u->term] != m->id)
		violate(c, "election safety: %" PRIu64 " and %" PRIu64 " lead term %" PRIu64,
			c->term_leader[u->term], m->id, u->term);
	c->term_leader[u->term] = m->id;
	struct raft_status st;
	raft_status(m->r, &st);
	/* remember which term decided each commit (a leader decides first) */
	for (uint64_t i = c->max_decided + 1; i <= st.commit; i++) {
		struct cl_committed *k = committed_at(c, i);
		k->decided_term = u->term;
		raft_term_at(m->r, i, &k->entry_term);
	}
	if (st.commit > c->max_decided)
		c->max_decided = st.commit;
	if (m->last_role == RAFT_LEADER && m->last_term == u->term)
		return;
	/* leader completeness: every entry committed in an earlier term is in
	 * the new leader's log (a leader of an old term elected late may
	 * lack entries committed in later terms) */
	for (uint64_t i = st.first_index; i <= c->max_decided; i++) {
		struct cl_committed *k = committed_at(c, i);
		uint64_t t;
		if (!k->decided_term || k->decided_term >= u->term)
			continue;
		if (!raft_term_at(m->r, i, &t) || t != k->entry_term) {
			violate(c,
				"leader completeness: leader %" PRIu64 " of term %" PRIu64
				" lacks committed index %" PRIu64,
				m->id, u->term, i);
			return;
		}
	}
}

/* ---- the state machine ---------------------------------------------------------- */

static void sm_apply(struct raft_fixture *c, struct cl_member *m, const struct raft_entry *e)
{
	if (e->index != m->sm_index + 1) {
		violate(c, "member %" PRIu64 " applies %" PRIu64 " after %" PRIu64, m->id, e->index,
			m->sm_index);
		return;
	}
	uint64_t h = entry_hash(e);
	uint64_t chain = hash_bytes(m->sm_hash, &h, sizeof(h));
	struct cl_committed *k = committed_at(c, e->index);
	if (k->set) {
		if (k->term != e->term || k->hash != h || k->chain != chain)
			violate(c,
				"state machine safety: member %" PRIu64 " applies a different "
				"entry at %" PRIu64,
				m->id, e->index);
	} else {
		k->set = true;
		k->term = e->term;
		k->hash = h;
		k->chain = chain;
	}
	if (e->index > c->max_commit)
		c->max_commit = e->index;
	m->sm_index = e->index;
	m->sm_hash = chain;
}

static void sm_restore(struct raft_fixture *c, struct cl_member *m, const struct raft_snapshot *s)
{
	uint64_t v[2] = {0, 0};
	if (s->len == sizeof(v))
		memcpy(v, s->data, sizeof(v));
	if (v[0] != s->meta.index)
		violate(c, "snapshot data does not match its index");
	struct cl_committed *k = committed_at(c, s->meta.index);
	if (k->set && k->chain != v[1])
		violate(c, "state machine safety: snapshot at %" PRIu64 " differs", s->meta.index);
	m->sm_index = v[0];
	m->sm_hash = v[1];
}

/* ---- the disk ------------------------------------------------------------------- */

static uint64_t disk_base(const struct cl_disk *d)
{
	return d->has_snap ? d->snap.meta.index : 0;
}

static void disk_truncate(struct cl_disk *d, size_t keep)
{
	while (d->n > keep)
		free((void *)d->ents[--d->n].data);
}

static void disk_set_snapshot(struct cl_disk *d, const struct raft_snapshot *s, bool reset_log)
{
	if (d->has_snap)
		free((void *)d->snap.data);
	uint64_t old_base = disk_base(d);
	d->snap = *s;
	d->snap.data = xdup(s->data, s->len);
	d->has_snap = true;
	if (reset_log || s->meta.index >= old_base + d->n) {
		disk_truncate(d, 0);
		return;
	}
	size_t drop = (size_t)(s->meta.index - old_base);
	for (size_t i = 0; i < drop; i++)
		free((void *)d->ents[i].data);
	memmove(d->ents, d->ents + drop, (d->n - drop) * sizeof(*d->ents));
	d->n -= drop;
}

static void disk_append(struct raft_fixture *c, struct cl_disk *d, const struct raft_entry *e)
{
	uint64_t base = disk_base(d);
	if (e->index <= base)
		return;
	if (e->index <= base + d->n)
		disk_truncate(d, (size_t)(e->index - base - 1));
	if (e->index != base + d->n + 1) {
		violate(c, "fixture: disk gap before %" PRIu64, e->index);
		return;
	}
	GROW(d->ents, d->cap, d->n + 1);
	d->ents[d->n] = *e;
	d->ents[d->n].data = xdup(e->data, e->len);
	d->n++;
}

static void write_free(struct cl_write *w)
{
	if (w->has_snap)
		free((void *)w->snap.data);
	for (size_t i = 0; i < w->n; i++)
		free((void *)w->ents[i].data);
	free(w->ents);
}

/* ---- driving one member ------------------------------------------------------------ */

static void handle_update(struct raft_fixture *c, struct cl_member *m, const struct raft_update *u);

static void queue_write(struct raft_fixture *c, struct cl_member *m, const struct raft_update *u)
{
	bool any =
		u->hard_state_changed || u->snapshot || u->n_entries || u->n_messages_after_persist;
	if (!any)
		return;
	GROW(m->writes, m->cap_writes, m->n_writes + 1);
	struct cl_write *w = &m->writes[m->n_writes++];
	memset(w, 0, sizeof(*w));
	uint64_t start = c->now > m->disk_busy_until ? c->now : m->disk_busy_until;
	w->done_at = start + rand_range(c, c->disk_min, c->disk_max);
	m->disk_busy_until = w->done_at;
	w->write_seq = ++m->write_seq;
	raft_pipeline_submit(&m->pipe, w->write_seq, u->persist_seq);
	w->hs_changed = u->hard_state_changed;
	w->hs = u->hard_state;
	if (u->snapshot) {
		w->has_snap = true;
		w->snap = *u->snapshot;
		w->snap.data = xdup(u->snapshot->data, u->snapshot->len);
	}
	if (u->n_entries) {
		w->ents = xcalloc(u->n_entries, sizeof(*w->ents));
		for (size_t i = 0; i < u->n_entries; i++) {
			w->ents[i] = u->entries[i];
			w->ents[i].data = xdup(u->entries[i].data, u->entries[i].len);
		}
		w->n = u->n_entries;
	}
}

/* Rule 4, checked on every message a member sends: an append ack never
 * runs ahead of its disk, a granted vote is on its disk. */
static void send(struct raft_fixture *c, struct cl_member *m, const struct raft_message *msg)
{
	const struct cl_disk *d = &m->disk;
	uint64_t last = d->n ? d->ents[d->n - 1].index : disk_base(d);
	if (msg->type == RAFT_MSG_APPEND_RESP && !msg->reject && msg->index > last)
		violate(c,
			"durability: n%" PRIu64 " acked index %" PRIu64
			", its disk ends at %" PRIu64,
			m->id, msg->index, last);
	if (msg->type == RAFT_MSG_VOTE_RESP && !msg->reject &&
	    (d->hs.term != msg->term || d->hs.vote != msg->to))
		violate(c,
			"durability: n%" PRIu64 " granted its vote to n%" PRIu64 " in term %" PRIu64
			" before its disk held it",
			m->id, msg->to, msg->term);
	net_send(c, msg);
}

/* Acks and votes whose persist_seq is durable leave now. */
static void send_ready(struct raft_fixture *c, struct cl_member *m)
{
	const struct raft_message *msg;
	while ((msg = raft_pipeline_next_ready(&m->pipe)) != NULL)
		send(c, m, msg);
}

static void trace_soft_state(struct raft_fixture *c, struct cl_member *m,
			     const struct raft_update *u)
{
	static const char *const roles[] = {"follower", "pre-candidate", "candidate", "leader"};
	if (u->role != m->last_role || u->term != m->last_term || u->leader != m->last_leader)
		fixture_tracef(c, "n%" PRIu64 " %s term %" PRIu64 " (leader %" PRIu64 ")", m->id,
			       roles[u->role], u->term, u->leader);
}

static void maybe_snapshot(struct raft_fixture *c, struct cl_member *m)
{
	if (!m->snap_every || m->sm_index < m->last_snap + m->snap_every)
		return;
	uint64_t data[2] = {m->sm_index, m->sm_hash};
	struct raft_event ev = {.type = RAFT_EV_SNAPSHOT};
	ev.u.snapshot.index = m->sm_index;
	ev.u.snapshot.data = data;
	ev.u.snapshot.len = sizeof(data);
	ev.u.snapshot.trailing = m->snap_trailing;
	m->last_snap = m->sm_index;
	if (fixture_event(c, m->id, &ev) != RAFT_OK)
		return;
	/* the app writes its snapshot file and may then drop covered entries */
	struct raft_snapshot s = {.data = data, .len = sizeof(data)};
	raft_snapshot_meta(m->r, &s.meta);
	if (m->hook && !m->power_lost && m->hook->snapshot(m->hook->ctx, m->id, &s) != 0)
		m->power_lost = true;
	if (m->power_lost)
		return;
	if (s.meta.index > disk_base(&m->disk))
		disk_set_snapshot(&m->disk, &s, false);
}

/* Handles one update the way doc/raft-core.md asks a driver to. Nothing
 * in u is used after the next raft_step (maybe_snapshot comes last). */
static void handle_update(struct raft_fixture *c, struct cl_member *m, const struct raft_update *u)
{
	trace_soft_state(c, m, u);
	if (c->trace && getenv("CETCD_TRACE_ALL")) {
		struct raft_status st;
		raft_status(m->r, &st);
		fixture_tracef(c,
			       "  n%" PRIu64 " upd: ents %zu (%" PRIu64 "..) commit %" PRIu64
			       " last %" PRIu64 " first %" PRIu64 " msgs %zu+%zu seq %" PRIu64
			       " snap %d compacted %" PRIu64,
			       m->id, u->n_entries, u->n_entries ? u->entries[0].index : 0,
			       st.commit, st.last_index, st.first_index, u->n_messages,
			       u->n_messages_after_persist, u->persist_seq, u->snapshot != NULL,
			       u->compacted_to);
	}
	check_leader(c, m, u);
	check_entries(c, m, u);
	m->last_role = u->role;
	m->last_term = u->term;
	m->last_leader = u->leader;
	if (u->removed && !m->removed) {
		m->removed_at = c->now;
		fixture_tracef(c, "n%" PRIu64 " learns it was removed", m->id);
	}
	m->removed = u->removed;
	queue_write(c, m, u);
	for (size_t i = 0; i < u->n_messages; i++)
		send(c, m, &u->messages[i]);
	raft_pipeline_park(&m->pipe, u);
	send_ready(c, m);
	if (u->snapshot)
		sm_restore(c, m, u->snapshot);
	for (size_t i = 0; i < u->n_committed; i++)
		sm_apply(c, m, &u->committed[i]);
	for (size_t i = 0; i < u->n_reads; i++) {
		const struct raft_read_state *rs = &u->reads[i];
		for (size_t k = 0; k < m->n_reads; k++) {
			struct cl_read *rd = &m->reads[k];
			if (rd->context != rs->context || rd->done)
				continue;
			rd->done = true;
			rd->index = rs->index;
			rd->status = rs->status;
			if (rs->status == RAFT_OK && rs->index < rd->min_index)
				violate(c,
					"linearizability: read %" PRIu64 " at %" PRIu64
					" got index %" PRIu64 " < %" PRIu64 " committed before",
					rd->context, m->id, rs->index, rd->min_index);
		}
	}
	maybe_snapshot(c, m);
}

int fixture_event(struct raft_fixture *c, raft_id id, struct raft_event *ev)
{
	struct cl_member *m = &c->m[id];
	if (!m->exists || !m->up)
		return RAFT_ERR_INVALID;
	struct raft_update u;
	ev->now_ms = c->now;
	ev->wall_ns = (int64_t)(1700000000000ULL + c->now) * 1000000;
	int rv = raft_step(m->r, ev, &u);
	c->steps++;
	handle_update(c, m, &u);
	return rv;
}

static void disk_write(struct raft_fixture *c, struct cl_member *m, const struct cl_write *w)
{
	if (m->hook && m->power_lost)
		return;
	if (m->hook && m->hook->write(m->hook->ctx, m->id, w->hs_changed ? &w->hs : NULL,
				      w->has_snap ? &w->snap : NULL, w->ents, w->n) != 0) {
		m->power_lost = true;
		return;
	}
	if (w->hs_changed)
		m->disk.hs = w->hs;
	if (w->has_snap && w->snap.meta.index > disk_base(&m->disk))
		disk_set_snapshot(&m->disk, &w->snap, true);
	for (size_t i = 0; i < w->n; i++)
		disk_append(c, &m->disk, &w->ents[i]);
}

static void member_drop_state(struct cl_member *m);

/* A hooked member whose disk lost power: it stops where it is. */
static void power_off(struct raft_fixture *c, struct cl_member *m)
{
	fixture_tracef(c, "n%" PRIu64 " loses power", m->id);
	member_drop_state(m);
	m->up = false;
	m->disk_busy_until = 0;
}

static void complete_write(struct raft_fixture *c, struct cl_member *m)
{
	struct cl_write w = m->writes[0];
	memmove(m->writes, m->writes + 1, (m->n_writes - 1) * sizeof(*m->writes));
	m->n_writes--;
	disk_write(c, m, &w);
	write_free(&w);
	if (m->power_lost) {
		power_off(c, m);
		return;
	}
	uint64_t persist_seq = raft_pipeline_durable(&m->pipe, w.write_seq);
	if (persist_seq != 0) {
		send_ready(c, m);
		struct raft_event ev = {.type = RAFT_EV_PERSISTED};
		ev.u.persisted.seq = persist_seq;
		fixture_event(c, m->id, &ev);
	}
}

static struct raft *new_core(struct raft_fixture *c, struct cl_member *m)
{
	struct raft_config cfg = c->base;
	cfg.id = m->id;
	cfg.seed = c->seed * 1000003 + m->id * 7919 + m->restarts;
	return raft_new(&cfg);
}

/* ---- lifecycle ----------------------------------------------------------------------- */

struct raft_fixture *fixture_new(unsigned n, uint64_t seed, const struct raft_config *base)
{
	struct raft_fixture *c = xcalloc(1, sizeof(*c));
	c->seed = seed;
	c->rng = seed ^ 0x5851f42d4c957f2dULL;
	if (base)
		c->base = *base;
	if (!c->base.election_ms)
		c->base.election_ms = 100;
	if (!c->base.heartbeat_ms)
		c->base.heartbeat_ms = 10;
	c->disk_min = 1;
	c->disk_max = 2;
	c->trace = getenv("CETCD_TRACE") != NULL;
	struct cl_link l = {.delay_min = 1, .delay_max = 3};
	fixture_set_all_links(c, &l);
	struct raft_membership conf = {.n_voters = n};
	for (unsigned i = 0; i < n; i++)
		conf.voters[i] = i + 1;
	c->initial = conf;
	for (unsigned i = 1; i <= n; i++) {
		struct cl_member *m = &c->m[i];
		m->id = i;
		m->exists = m->up = true;
		m->bootstrapped = true;
		m->r = new_core(c, m);
		struct raft_update u;
		raft_bootstrap(m->r, &conf, c->now, &u);
		handle_update(c, m, &u);
	}
	return c;
}

static void member_drop_state(struct cl_member *m)
{
	raft_free(m->r);
	m->r = NULL;
	for (size_t i = 0; i < m->n_writes; i++)
		write_free(&m->writes[i]);
	m->n_writes = 0;
	raft_pipeline_reset(&m->pipe); /* parked acks and votes are lost */
}

void fixture_free(struct raft_fixture *c)
{
	for (unsigned i = 1; i <= CL_MAX; i++) {
		struct cl_member *m = &c->m[i];
		member_drop_state(m);
		free(m->writes);
		disk_truncate(&m->disk, 0);
		free(m->disk.ents);
		if (m->disk.has_snap)
			free((void *)m->disk.snap.data);
		free(m->reads);
	}
	while (c->n_net) {
		struct cl_msg x = net_pop(c);
		msg_free(&x.m);
	}
	free(c->net);
	free(c->term_leader);
	free(c->committed);
	free(c->lm);
	free(c->trace_buf);
	free(c);
}

void fixture_crash(struct raft_fixture *c, raft_id id)
{
	struct cl_member *m = &c->m[id];
	if (!m->up)
		return;
	/* writes reach the disk in order: a random prefix of the pending ones
	 * made it before the crash (their after-persist messages never left) */
	size_t made_it = (size_t)rand_range(c, 0, m->n_writes);
	if (m->hook)
		made_it = 0; /* the hook's disk keeps what it made durable */
	for (size_t i = 0; i < made_it; i++)
		disk_write(c, m, &m->writes[i]);
	fixture_tracef(c, "n%" PRIu64 " crashes (%zu of %zu pending disk writes lost)", id,
		       m->n_writes - made_it, m->n_writes);
	member_drop_state(m);
	m->up = false;
	m->disk_busy_until = 0;
}

void fixture_restart(struct raft_fixture *c, raft_id id)
{
	struct cl_member *m = &c->m[id];
	if (m->up || !m->exists)
		return;
	if (m->hook) {
		char err[512] = "";
		disk_truncate(&m->disk, 0);
		if (m->disk.has_snap)
			free((void *)m->disk.snap.data);
		free(m->disk.ents);
		memset(&m->disk, 0, sizeof(m->disk));
		m->power_lost = false;
		if (m->hook->load(m->hook->ctx, id, &m->disk, err, sizeof(err)) != 0) {
			violate(c, "n%" PRIu64 " does not start after a power cut: %s", id, err);
			return;
		}
	}
	m->restarts++;
	m->up = true;
	m->r = new_core(c, m);
	m->sm_index = m->sm_hash = 0;
	m->last_role = RAFT_FOLLOWER;
	m->last_leader = RAFT_NONE;
	struct raft_persisted p = {
		.hard_state = m->disk.hs,
		.snapshot = m->disk.has_snap ? &m->disk.snap : NULL,
		.entries = m->disk.ents,
		.n_entries = m->disk.n,
	};
	if (m->disk.has_snap) {
		sm_restore(c, m, &m->disk.snap);
		m->last_snap = m->disk.snap.meta.index;
	}
	fixture_tracef(c, "n%" PRIu64 " restarts (term %" PRIu64 ", %zu entries on disk)", id,
		       m->disk.hs.term, m->disk.n);
	struct raft_update u;
	if (m->disk.hs.term == 0 && m->disk.n == 0 && !m->disk.has_snap) {
		/* nothing became durable, not even the bootstrap: start afresh */
		if (m->bootstrapped)
			raft_bootstrap(m->r, &c->initial, c->now, &u);
		else
			raft_join(m->r, c->now, &u);
		handle_update(c, m, &u);
		return;
	}
	if (raft_restart(m->r, &p, c->now, &u) != RAFT_OK) {
		violate(c, "restart of %" PRIu64 " failed", id);
		return;
	}
	handle_update(c, m, &u);
}

void fixture_join(struct raft_fixture *c, raft_id id)
{
	struct cl_member *m = &c->m[id];
	if (m->exists)
		return;
	m->id = id;
	m->exists = m->up = true;
	m->r = new_core(c, m);
	struct raft_update u;
	raft_join(m->r, c->now, &u);
	handle_update(c, m, &u);
	fixture_tracef(c, "n%" PRIu64 " starts empty, joining", id);
}

void fixture_set_disk_hook(struct raft_fixture *c, raft_id id, const struct cl_disk_hook *hook)
{
	c->m[id].hook = hook;
}

struct raft *fixture_raft(struct raft_fixture *c, raft_id id)
{
	return c->m[id].up ? c->m[id].r : NULL;
}

void fixture_status(struct raft_fixture *c, raft_id id, struct raft_status *st)
{
	memset(st, 0, sizeof(*st));
	if (c->m[id].up)
		raft_status(c->m[id].r, st);
}

/* ---- network control ----------------------------------------------------------------- */

void fixture_set_link(struct raft_fixture *c, raft_id from, raft_id to, const struct cl_link *l)
{
	c->link[from][to] = *l;
}

void fixture_set_all_links(struct raft_fixture *c, const struct cl_link *l)
{
	for (unsigned a = 0; a <= CL_MAX; a++)
		for (unsigned b = 0; b <= CL_MAX; b++)
			c->link[a][b] = *l;
}

void fixture_cut(struct raft_fixture *c, raft_id a, raft_id b)
{
	c->link[a][b].cut = c->link[b][a].cut = true;
}

void fixture_isolate(struct raft_fixture *c, raft_id id)
{
	fixture_tracef(c, "n%" PRIu64 " isolated", id);
	for (unsigned o = 1; o <= CL_MAX; o++)
		if (o != id)
			fixture_cut(c, id, o);
}

void fixture_heal(struct raft_fixture *c)
{
	fixture_tracef(c, "network healed");
	struct cl_link l = {.delay_min = 1, .delay_max = 3};
	fixture_set_all_links(c, &l);
}

/* ---- running -------------------------------------------------------------------------- */

/* Processes the earliest event due at or before limit. */
static bool step_once(struct raft_fixture *c, uint64_t limit)
{
	for (unsigned i = 1; i <= CL_MAX; i++) /* a hook failed during the last step */
		if (c->m[i].up && c->m[i].power_lost)
			power_off(c, &c->m[i]);
	uint64_t best = UINT64_MAX;
	int kind = 0; /* 1 write, 2 message, 3 tick */
	raft_id who = 0;
	for (unsigned i = 1; i <= CL_MAX; i++) {
		struct cl_member *m = &c->m[i];
		if (!m->up)
			continue;
		if (m->n_writes && m->writes[0].done_at < best) {
			best = m->writes[0].done_at;
			kind = 1;
			who = i;
		}
	}
	if (c->n_net && c->net[0].at < best) {
		best = c->net[0].at;
		kind = 2;
	}
	for (unsigned i = 1; i <= CL_MAX; i++) {
		struct cl_member *m = &c->m[i];
		if (!m->up)
			continue;
		uint64_t t = raft_next_tick(m->r);
		if (t <= c->now)
			t = c->now + 1;
		if (t < best) {
			best = t;
			kind = 3;
			who = i;
		}
	}
	if (best > limit)
		return false;
	if (best > c->now)
		c->now = best;
	if (kind == 1) {
		complete_write(c, &c->m[who]);
	} else if (kind == 2) {
		struct cl_msg x = net_pop(c);
		struct cl_member *m = &c->m[x.m.to];
		/* a partition also kills what is on the wire */
		if (m->exists && m->up && !c->link[x.m.from][x.m.to].cut) {
			struct raft_event ev = {.type = RAFT_EV_RECEIVE};
			ev.u.receive.msg = &x.m;
			fixture_event(c, x.m.to, &ev);
		}
		msg_free(&x.m);
	} else {
		struct raft_event ev = {.type = RAFT_EV_TICK};
		fixture_event(c, who, &ev);
	}
	return true;
}

void fixture_run(struct raft_fixture *c, uint64_t ms)
{
	uint64_t limit = c->now + ms;
	while (step_once(c, limit))
		;
	c->now = limit;
}

bool fixture_run_until(struct raft_fixture *c, bool (*pred)(struct raft_fixture *, void *),
		       void *arg, uint64_t max_ms)
{
	uint64_t limit = c->now + max_ms;
	if (pred(c, arg))
		return true;
	while (step_once(c, limit))
		if (pred(c, arg))
			return true;
	c->now = limit;
	return pred(c, arg);
}

raft_id fixture_leader(struct raft_fixture *c)
{
	raft_id leader = RAFT_NONE;
	uint64_t term = 0;
	for (unsigned i = 1; i <= CL_MAX; i++) {
		struct cl_member *m = &c->m[i];
		if (!m->up)
			continue;
		struct raft_status st;
		raft_status(m->r, &st);
		if (st.role == RAFT_LEADER && st.term >= term) {
			leader = i;
			term = st.term;
		}
	}
	return leader;
}

bool fixture_has_leader(struct raft_fixture *c, void *unused)
{
	(void)unused;
	return fixture_leader(c) != RAFT_NONE;
}

/* Members of the leader's configuration (all live ones if no leader): a
 * member removed without learning it is not waited for. */
bool fixture_applied_everywhere(struct raft_fixture *c, uint64_t index)
{
	raft_id l = fixture_leader(c);
	struct raft_status st;
	if (l != RAFT_NONE)
		raft_status(c->m[l].r, &st);
	for (unsigned i = 1; i <= CL_MAX; i++) {
		struct cl_member *m = &c->m[i];
		if (!m->up || m->removed)
			continue;
		if (l != RAFT_NONE && !raft_membership_is_voter(&st.conf, i) &&
		    !raft_membership_is_learner(&st.conf, i))
			continue;
		if (m->sm_index < index)
			return false;
	}
	return true;
}

bool fixture_committed_term(struct raft_fixture *c, uint64_t index, uint64_t *term)
{
	if (index >= c->cap_committed || !c->committed[index].set)
		return false;
	*term = c->committed[index].term;
	return true;
}

/* ---- app events ------------------------------------------------------------------------- */

int fixture_propose(struct raft_fixture *c, raft_id id, const char *payload, uint64_t *index)
{
	struct raft_event ev = {.type = RAFT_EV_PROPOSE};
	ev.u.propose.data = payload;
	ev.u.propose.len = strlen(payload);
	struct cl_member *m = &c->m[id];
	if (!m->up)
		return RAFT_ERR_INVALID;
	struct raft_update u;
	ev.now_ms = c->now;
	ev.wall_ns = (int64_t)(1700000000000ULL + c->now) * 1000000;
	int rv = raft_step(m->r, &ev, &u);
	c->steps++;
	if (index)
		*index = u.proposed_index;
	handle_update(c, m, &u);
	return rv;
}

int fixture_conf_change(struct raft_fixture *c, raft_id id, uint8_t type, raft_id node)
{
	struct raft_event ev = {.type = RAFT_EV_CONF_CHANGE};
	ev.u.conf_change.type = type;
	ev.u.conf_change.node = node;
	fixture_tracef(c, "n%" PRIu64 " proposes conf change %u of n%" PRIu64, id, type, node);
	return fixture_event(c, id, &ev);
}

static uint64_t highest_commit(struct raft_fixture *c)
{
	uint64_t h = 0;
	for (unsigned i = 1; i <= CL_MAX; i++) {
		struct cl_member *m = &c->m[i];
		if (!m->up)
			continue;
		struct raft_status st;
		raft_status(m->r, &st);
		if (st.commit > h)
			h = st.commit;
	}
	return h;
}

int fixture_read(struct raft_fixture *c, raft_id id, uint64_t context)
{
	struct cl_member *m = &c->m[id];
	if (!m->up)
		return RAFT_ERR_INVALID;
	GROW(m->reads, m->cap_reads, m->n_reads + 1);
	struct cl_read *rd = &m->reads[m->n_reads++];
	memset(rd, 0, sizeof(*rd));
	rd->context = context;
	rd->min_index = highest_commit(c);
	struct raft_event ev = {.type = RAFT_EV_READ_INDEX};
	ev.u.read_index.context = context;
	int rv = fixture_event(c, id, &ev);
	if (rv != RAFT_OK)
		m->n_reads--;
	return rv;
}

int fixture_transfer(struct raft_fixture *c, raft_id id, raft_id target)
{
	struct raft_event ev = {.type = RAFT_EV_TRANSFER};
	ev.u.transfer.target = target;
	fixture_tracef(c, "n%" PRIu64 " transfers leadership to n%" PRIu64, id, target);
	return fixture_event(c, id, &ev);
}

int fixture_campaign(struct raft_fixture *c, raft_id id)
{
	struct raft_event ev = {.type = RAFT_EV_CAMPAIGN};
	return fixture_event(c, id, &ev);
}
