/* boot.c - start-up of the Raft driver (node_open, node_start): the data
 * paths, a new log or the recovery of an existing one (newest valid
 * snapshot + the WAL after it; rule 11 of doc/raft-core.md: never bootstrap
 * over an existing log), the WAL thread, and the core's first update
 * (bootstrap, join, or replay). It returns who the member is as a value:
 * server.c stores it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "disk/snap.h"
#include "disk/wal.h"
#include "disk/wal_sync.h"
#include "member/node_private.h"
#include "member/server.h"
#include "net/loop.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

/* What node_open read for node_start: the newest snapshot and the log. */
struct boot_recovery {
	bool restarting; /* the data dir had a log */
	bool has_snap;
	struct snap_loaded sl;
	struct wal_recovered rec;
};

static void data_paths(struct node *n)
{
	const struct server_opts *o = &n->srv->opts;
	if (o->wal_dir && *o->wal_dir)
		snprintf(n->wal_dir, sizeof(n->wal_dir), "%s", o->wal_dir);
	else
		snprintf(n->wal_dir, sizeof(n->wal_dir), "%s/member/wal", o->data_dir);
	snprintf(n->snap_dir, sizeof(n->snap_dir), "%s/member/snap", o->data_dir);
}

static int start_wal_thread(struct node *n, struct wal *w)
{
	char err[512];
	if (wal_sync_start(w, &n->wal, err, sizeof(err)) != 0) {
		log_crit("etcdserver", "%s", err);
		return -1;
	}
	n->wal_file = w;
	n->wal_watch =
		loop_add_fd(n->srv->loop, wal_sync_fd(n->wal), EPOLLIN, node_on_wal_durable, n);
	return n->wal_watch ? 0 : -1;
}

/* A new member: the log starts with the identity the server was given. */
static int create_log(struct node *n, struct node_identity *who)
{
	const struct server *srv = n->srv;
	struct wal_meta meta = {srv->self_id, srv->cluster.id};
	struct wal_options o = {.max_wals = (unsigned)srv->opts.max_wals};
	struct wal *w;
	char err[512];
	if (wal_create(n->wal_dir, &meta, &o, &w, err, sizeof(err)) != 0) {
		log_crit("etcdserver", "cannot create the write-ahead log: %s", err);
		return -1;
	}
	who->self_id = meta.member_id;
	who->cluster_id = meta.cluster_id;
	return start_wal_thread(n, w);
}

/* What to do about a data dir that cannot be trusted (doc/operations.md,
 * "Corrupted data dir"): the member serves nothing from it. */
static void damaged_hint(const struct node *n)
{
	log_crit("etcdserver",
		 "the data dir %s is damaged and this member will not start on it: restore it "
		 "from a backup (cetcdctl backup, then start with --force-new-cluster), or remove "
		 "this member (etcdctl member remove <id>), add it back (etcdctl member add) and "
		 "start it with an empty data dir and --initial-cluster-state existing",
		 n->srv->opts.data_dir);
}

/* A member with a log: the newest valid snapshot restores the store and
 * gives the member table; etcd ignores the --initial-cluster flags then:
 * who the member is comes from its WAL. */
static int recover_log(struct node *n, struct boot_recovery *b, struct node_identity *who)
{
	struct wal *w;
	char err[1024];
	int found = snap_load(n->snap_dir, UINT64_MAX, &b->sl, err, sizeof(err));
	if (found < 0) {
		log_crit("etcdserver", "cannot read snapshots: %s", err);
		return -1;
	}
	b->has_snap = found > 0;
	if (b->sl.note[0]) /* also when no snapshot was left: say which failed */
		log_warn("etcdserver", "%s", b->sl.note);
	if (b->has_snap && snapshot_restore(n, b->sl.snap.data, b->sl.snap.len, false, &who->table,
					    err, sizeof(err)) != 0) {
		log_crit("etcdserver", "snapshot %s: %s", b->sl.name, err);
		damaged_hint(n);
		return -1;
	}
	who->has_table = b->has_snap;
	struct wal_options o = {.max_wals = (unsigned)n->srv->opts.max_wals};
	uint64_t si = b->has_snap ? b->sl.snap.meta.index : 0;
	uint64_t st = b->has_snap ? b->sl.snap.meta.term : 0;
	if (wal_open(n->wal_dir, &o, si, st, &w, &b->rec, err, sizeof(err)) != 0) {
		log_crit("etcdserver", "cannot recover the write-ahead log: %s", err);
		damaged_hint(n);
		return -1;
	}
	b->restarting = true;
	if (b->rec.note[0])
		log_warn("wal", "write-ahead log repaired: %s", b->rec.note);
	if (n->srv->opts.force_new_cluster &&
	    force_new_cluster(n->srv, w, b->has_snap ? &b->sl.snap.meta : NULL, &b->rec, err,
			      sizeof(err)) != 0) {
		log_crit("etcdserver", "--force-new-cluster: %s", err);
		wal_close(w, NULL, 0);
		return -1;
	}
	who->self_id = b->rec.meta.member_id;
	who->cluster_id = b->rec.meta.cluster_id;
	n->snap_index = si;
	n->snap_bytes = b->has_snap ? b->sl.snap.len : 0;
	n->applied = si;
	/* what the log says was committed: replayed at once, never written lower */
	n->commit_written = b->rec.hard_state.commit > si ? b->rec.hard_state.commit : si;
	return start_wal_thread(n, w);
}

void boot_free(struct node *n)
{
	struct boot_recovery *b = n->boot;
	if (b == NULL)
		return;
	if (b->restarting)
		wal_recovered_free(&b->rec);
	if (b->has_snap)
		snap_loaded_free(&b->sl);
	free(b);
	n->boot = NULL;
}

struct node *node_open(struct server *srv, struct node_identity *who)
{
	struct node *n = xcalloc(1, sizeof(*n));
	n->boot = xcalloc(1, sizeof(*n->boot));
	n->srv = srv;
	memset(who, 0, sizeof(*who));
	data_paths(n);
	if (srv->opts.force_new_cluster)
		log_info("embed", "force new cluster");
	int rc = wal_exists(n->wal_dir) ? recover_log(n, n->boot, who) : create_log(n, who);
	if (rc != 0) {
		cluster_free(&who->table);
		who->has_table = false;
		node_free(n);
		return NULL;
	}
	return n;
}

static struct raft *new_raft(const struct server *srv)
{
	struct raft_config cfg = {
		.id = srv->self_id,
		.election_ms = srv->opts.election_ms,
		.heartbeat_ms = srv->opts.heartbeat_ms,
		.seed = srv->self_id ^ (uint64_t)clock_wall_ns(),
		/* members added at runtime join as learners and vote once their
		 * log is this close to the leader's (doc/operations.md) */
		.promote_lag = 128,
	};
	return raft_new(&cfg);
}

/* Every member of a new cluster bootstraps the same entry 1: the member ids
 * and, as its context, the member table (names, peer URLs). */
static void bootstrap(struct node *n)
{
	const struct cluster *c = &n->srv->cluster;
	struct raft_membership m;
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < c->n_members && i < RAFT_MAX_MEMBERS; i++)
		m.voters[m.n_voters++] = c->members[i].id;
	struct buf ctx = BUF_INIT;
	cluster_encode(c, &ctx);
	raft_bootstrap_ctx(n->raft, &m, ctx.data, ctx.len, clock_mono_ms(), &n->upd);
	buf_free(&ctx);
}

/* The core hands the committed entries after the snapshot back to re-apply.
 * It gets the snapshot's metadata only, as when the member takes one
 * (snapshot.c): the store was restored from it already, and a follower
 * that needs it is sent the file from disk (snapshot_send). A copy of the
 * data kept in the core would stay until the next snapshot: as much
 * memory again as the snapshot file (121 MB with 1M keys, +50 % RSS
 * after a restart, in the scale sweep). */
static void replay(struct node *n)
{
	struct boot_recovery *b = n->boot;
	struct raft_persisted p;
	struct raft_snapshot meta_only = {0};
	if (b->has_snap)
		meta_only.meta = b->sl.snap.meta;
	wal_recovered_to_persisted(&b->rec, b->has_snap ? &meta_only : NULL, &p);
	raft_restart(n->raft, &p, clock_mono_ms(), &n->upd);
}

int node_start(struct node *n)
{
	struct server *srv = n->srv;
	n->raft = new_raft(srv);
	if (n->raft == NULL)
		return -1;
	if (n->boot->restarting)
		replay(n);
	else if (srv->opts.join_existing) /* the leader sends the log or a snapshot */
		raft_join(n->raft, clock_mono_ms(), &n->upd);
	else
		bootstrap(n);
	node_consume(n, &n->upd);
	boot_free(n);
	/* rule 12: the only voter need not wait an election timeout */
	struct raft_status st;
	raft_status(n->raft, &st);
	if (st.conf.n_voters == 1 && st.conf.voters[0] == srv->self_id) {
		struct raft_event ev = node_event(RAFT_EV_CAMPAIGN);
		node_step(n, &ev);
	}
	loop_add_timeout_source(srv->loop, node_wal_timeout, node_wal_due, n);
	return 0;
}
