/* force_new.c - --force-new-cluster (etcd's restartAsStandaloneNode): a
 * member restarted on its data dir becomes the only member of its cluster
 * with everything its log holds (etcd drops the entries past the logged
 * commit index; see commit_all). Configuration entries appended after the
 * last entry add this
 * member (when its log does not hold it, as after cetcdctl backup) and remove
 * every other member; they are written to the WAL committed, so the core
 * applies them on replay and the member table follows through apply.c like
 * any runtime change. The member keeps its id and cluster id. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/wal.h"
#include "kv/cluster.h"
#include "kv/command.h"
#include "member/node_private.h"
#include "member/server.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The member ids the log ends with: the snapshot's configuration, then every
 * configuration entry after it (etcd's getIDs; learners count too). */
static void ids_in_log(const struct raft_snapshot_meta *snap, const struct wal_recovered *rec,
		       struct raft_membership *m)
{
	memset(m, 0, sizeof(*m));
	if (snap)
		*m = snap->conf;
	for (size_t i = 0; i < rec->n_entries; i++) {
		struct raft_conf_change cc;
		if (rec->entries[i].type != RAFT_ENTRY_CONF ||
		    raft_conf_change_decode(&rec->entries[i], &cc) != RAFT_OK)
			continue;
		if (cc.type == RAFT_CONF_SET) {
			*m = cc.membership;
			continue;
		}
		bool known = raft_membership_is_voter(m, cc.node) ||
			     raft_membership_is_learner(m, cc.node);
		if (cc.type == RAFT_CONF_REMOVE && known) {
			struct raft_membership keep = {0};
			for (size_t v = 0; v < m->n_voters; v++)
				if (m->voters[v] != cc.node)
					keep.voters[keep.n_voters++] = m->voters[v];
			for (size_t l = 0; l < m->n_learners; l++)
				if (m->learners[l] != cc.node)
					keep.learners[keep.n_learners++] = m->learners[l];
			*m = keep;
		} else if (cc.type == RAFT_CONF_ADD_VOTER && !known &&
			   m->n_voters < RAFT_MAX_MEMBERS) {
			m->voters[m->n_voters++] = cc.node;
		} else if (cc.type == RAFT_CONF_ADD_LEARNER && !known &&
			   m->n_learners < RAFT_MAX_MEMBERS) {
			m->learners[m->n_learners++] = cc.node;
		} else if (cc.type == RAFT_CONF_PROMOTE && raft_membership_is_learner(m, cc.node) &&
			   m->n_voters < RAFT_MAX_MEMBERS) {
			struct raft_membership keep = *m;
			keep.n_learners = 0;
			for (size_t l = 0; l < m->n_learners; l++)
				if (m->learners[l] != cc.node)
					keep.learners[keep.n_learners++] = m->learners[l];
			keep.voters[keep.n_voters++] = cc.node;
			*m = keep;
		}
	}
}

/* etcd drops the entries after the WAL's commit index ("discarding N
 * uncommitted WAL entries"). cetcd's WAL commit index can lag what the member
 * applied and answered: a hard state that only moves the commit index rides
 * with the next batch (node.c persist). So every entry the member has is
 * committed instead, and the log says how many were past the logged commit
 * index (doc/api-compat.md). */
static void commit_all(struct wal_recovered *rec)
{
	size_t past = 0;
	while (past < rec->n_entries &&
	       rec->entries[rec->n_entries - 1 - past].index > rec->hard_state.commit)
		past++;
	if (past == 0)
		return;
	log_info("etcdserver",
		 "committing %zu WAL entries past the logged commit index %" PRIu64
		 " (etcd discards them; the logged commit index is not synced, so they may have "
		 "been committed and answered)",
		 past, rec->hard_state.commit);
	rec->hard_state.commit = rec->entries[rec->n_entries - 1].index;
}

/* Appends one configuration entry to rec (owned by rec from now on). */
static void push_conf(struct wal_recovered *rec, uint64_t index, uint64_t term, uint8_t type,
		      uint64_t node, const struct buf *ctx)
{
	struct raft_conf_change cc = {.type = type, .node = node};
	cc.context = ctx->data;
	cc.context_len = ctx->len;
	size_t cap = 16 + ctx->len;
	uint8_t *data = xmalloc(cap);
	size_t len = raft_conf_encode(&cc, data, cap);
	rec->entries = xrealloc(rec->entries, (rec->n_entries + 1) * sizeof(*rec->entries));
	rec->entries[rec->n_entries++] = (struct raft_entry){
		.term = term,
		.index = index,
		.type = RAFT_ENTRY_CONF,
		.time = clock_wall_ns(),
		.data = data,
		.len = len,
	};
}

/* The context of a forced change (kv/command.c's conf context): proposed by
 * this member, nobody waits (request 0), and for an add this member's own
 * table entry with the peer URLs it advertises. */
static void conf_context(const struct server *srv, uint64_t self, bool add, struct buf *out)
{
	struct buf payload = BUF_INIT;
	struct cluster one = {0};
	if (add)
		cluster_put_member(&one, self, "", srv->opts.initial_advertise_peer_urls,
				   srv->opts.n_initial_advertise_peer_urls, NULL, 0);
	command_encode_conf(&payload, self, 0, add ? RAFT_CONF_ADD_VOTER : RAFT_CONF_REMOVE, self,
			    add ? &one : NULL);
	struct command c;
	if (command_decode(payload.data, payload.len, &c) == 0) {
		buf_append(out, c.attrs, c.attrs_len);
		command_free(&c);
	}
	cluster_free(&one);
	buf_free(&payload);
}

int force_new_cluster(const struct server *srv, struct wal *w,
		      const struct raft_snapshot_meta *snap, struct wal_recovered *rec, char *err,
		      size_t cap)
{
	uint64_t self = rec->meta.member_id;
	commit_all(rec);
	struct raft_membership ids;
	ids_in_log(snap, rec, &ids);
	uint64_t base = rec->hard_state.commit;
	if (snap && snap->index > base)
		base = snap->index;
	uint64_t term = rec->hard_state.term;
	size_t first = rec->n_entries;
	uint64_t next = base + 1;
	bool voter = raft_membership_is_voter(&ids, self);
	if (!voter) { /* self first: the voters never become empty */
		struct buf ctx = BUF_INIT;
		bool learner = raft_membership_is_learner(&ids, self);
		conf_context(srv, self, !learner, &ctx);
		push_conf(rec, next++, term, learner ? RAFT_CONF_PROMOTE : RAFT_CONF_ADD_VOTER,
			  self, &ctx);
		buf_free(&ctx);
	}
	for (int pass = 0; pass < 2; pass++) {
		const raft_id *list = pass == 0 ? ids.voters : ids.learners;
		size_t n = pass == 0 ? ids.n_voters : ids.n_learners;
		for (size_t i = 0; i < n; i++) {
			if (list[i] == self)
				continue;
			struct buf ctx = BUF_INIT;
			conf_context(srv, self, false, &ctx);
			push_conf(rec, next++, term, RAFT_CONF_REMOVE, list[i], &ctx);
			buf_free(&ctx);
		}
	}
	if (rec->n_entries)
		rec->hard_state.commit = rec->entries[rec->n_entries - 1].index;
	rec->has_hard_state = true;
	if (wal_append(w, &rec->hard_state, rec->entries + first, rec->n_entries - first) != 0 ||
	    wal_sync(w) != 0) {
		snprintf(err, cap, "%s", wal_error(w));
		return -1;
	}
	log_info("etcdserver",
		 "forcing restart of member %" PRIx64 " in cluster %" PRIx64
		 " at commit index %" PRIu64,
		 self, rec->meta.cluster_id, rec->hard_state.commit);
	return 0;
}
