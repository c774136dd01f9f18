/* node.c - the driver of the Raft core (see node.h). The only file that knows
 * the ordering rules (doc/raft-core.md has them numbered):
 *   1. persist the hard state, snapshot and entries of an update, in that
 *      order, as one WAL batch, queued; before the loop sleeps, a lone batch
 *      is written and synced by the loop itself, several go to the WAL
 *      thread, which shares one fdatasync among every batch queued
 *      meanwhile (flush_wal); either way batches become durable in order;
 *   2. send `messages` at once; send `messages_after_persist` only after
 *      the core has been told that persist_seq is durable;
 *   3. apply `committed` entries in order (apply.c), each with its entry time;
 *   4. answer reads whose index is applied.
 * Pointers in an update die at the next raft_step: everything is consumed
 * before stepping again. */
#include "member/node.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "member/apply.h"
#include "util/buf.h"
#include "util/clock.h"
#include "kv/cluster.h"
#include "util/le.h"
#include "net/loop.h"
#include "kv/command.h"
#include "member/peer_send.h"
#include "member/proposal.h"
#include "raft/raft.h"
#include "member/server.h"
#include "disk/snap.h"
#include "kv/store.h"
#include "kv/store_codec.h"
#include "disk/wal.h"
#include "disk/wal_sync.h"

struct pending_read {
	uint64_t id;
	uint64_t index;		/* 0 until the core answers */
	bool ready;
	node_read_fn done;
	void *ctx;
	struct pending_read *next;
};

/* A message that may leave only once raft_seq is durable. Only responses
 * (votes, append acks) are parked: they carry no entries, so a struct copy
 * is a full copy. */
struct parked {
	uint64_t raft_seq;
	struct raft_message msg;
};

/* A client write proposed while no leader was known: forwarded (or proposed)
 * once one is. The proposal's own timeout bounds the wait. */
struct waiting {
	void *data;
	size_t len;
};

#define MAX_WAITING 4096

/* A WAL batch in flight and the Raft persist_seq it makes durable. */
struct inflight {
	uint64_t wal_seq;
	uint64_t raft_seq;
};

struct node {
	struct server *srv;
	struct raft *raft;
	struct raft_update upd;
	char wal_dir[4096];
	char snap_dir[4096];
	struct wal_sync *wal;		/* owns the WAL: its thread or flush_wal writes */
	struct wal *wal_file;		/* the log: wal_sync's until wal_sync_stop */
	struct loop_fd *wal_watch;	/* its eventfd: the thread made batches durable */
	uint64_t wal_seq;		/* last batch queued */
	uint64_t flushed_seq;	/* last batch written or handed to the thread */
	bool sent_to_peers;	/* messages queued for peers since the last flush */
	struct inflight *inflight;	/* submitted, not yet durable, in order */
	size_t n_inflight, cap_inflight;
	uint64_t requested_seq;	/* highest persist_seq handed to the WAL */
	struct raft_hard_state hs;	/* the latest hard state the core asked for */
	bool has_hs;
	bool hs_unwritten;	/* hs differs from the WAL only in its commit index */
	uint64_t durable_seq;	/* highest persist_seq reported durable */
	uint64_t snap_index;	/* index of the newest snapshot taken */
	uint64_t snap_bytes;	/* size of the newest snapshot (0: none yet) */
	uint64_t applied_bytes;	/* bytes of entries applied since snap_index */
	struct snap_job *snap_job;	/* a forked snapshot save in progress */
	struct loop_fd *snap_watch;
	bool failed;		/* a disk error: the member stops */
	struct parked *parked;	/* acks and votes waiting for durability (rule 4) */
	size_t n_parked, cap_parked;
	struct buf prop_bytes;	/* a leader's proposals not yet stepped, back to back */
	size_t *prop_lens;	/* their lengths, in order */
	size_t n_props, cap_props;
	struct waiting *waiting;	/* writes waiting for a leader to exist */
	size_t n_waiting;
	uint64_t applied;
	uint64_t next_read_id;
	struct pending_read *reads;
	uint64_t term;		/* soft state after the last step */
	uint64_t leader;
	uint8_t role;
	bool stepping;		/* guards against re-entry from apply callbacks */
};

static struct raft_event event(uint8_t type)
{
	struct raft_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.now_ms = clock_mono_ms();
	ev.wall_ns = clock_wall_ns();
	return ev;
}

/* A disk error is fatal, as in etcd: acknowledging writes that may not be
 * durable is worse than stopping. */
static void fail(struct node *n, const char *what, const char *why)
{
	fprintf(stderr, "cetcd: %s: %s; stopping\n", what, why);
	n->failed = true;
	loop_stop(n->srv->loop);
}

/* ---- consuming an update ----------------------------------------------- */

static void push_inflight(struct node *n, uint64_t wal_seq, uint64_t raft_seq)
{
	if (n->n_inflight == n->cap_inflight) {
		n->cap_inflight = n->cap_inflight ? 2 * n->cap_inflight : 64;
		n->inflight = realloc(n->inflight, n->cap_inflight * sizeof(*n->inflight));
		if (n->inflight == NULL)
			abort();
	}
	n->inflight[n->n_inflight++] = (struct inflight){wal_seq, raft_seq};
	n->requested_seq = raft_seq;
}

static int decode_state(struct server *srv, struct store *st, const void *data, size_t len,
			bool replace, char *err, size_t cap);
static void sync_peers(struct node *n);

/* Rule 8: a leader's snapshot for a member that fell behind. The file is made
 * durable first (the WAL marker that follows points at it), then the state
 * machine is replaced; the committed entries of the same update follow. */
static int install_snapshot(struct node *n, const struct raft_snapshot *snap)
{
	char err[512];
	if (snap_save(n->snap_dir, &snap->meta, snap->data, snap->len, err, sizeof(err)) != 0) {
		fail(n, "install snapshot", err);
		return -1;
	}
	if (decode_state(n->srv, n->srv->store, snap->data, snap->len, true, err,
			 sizeof(err)) != 0) {
		fail(n, "install snapshot", err);
		return -1;
	}
	server_note_self(n->srv);
	sync_peers(n);
	n->applied = snap->meta.index;
	n->snap_index = snap->meta.index;
	n->snap_bytes = snap->len;
	n->applied_bytes = 0;
	fprintf(stderr, "cetcd: applied snapshot at index %" PRIu64 " from the leader\n",
		snap->meta.index);
	return 0;
}

/* Rule 1: one update = one WAL batch, queued here and written before the
 * loop sleeps (flush_wal). */
static void persist(struct node *n, const struct raft_update *u)
{
	if (n->failed)
		return;
	if (u->snapshot && install_snapshot(n, u->snapshot) != 0)
		return;
	/* A hard state that only moves the commit index needs no write of its
	 * own (commit is volatile in Raft: a restarted member learns it again):
	 * it rides with the next batch, halving WAL round trips per write. */
	bool commit_only = u->hard_state_changed && u->n_entries == 0 && !u->snapshot &&
			   !u->must_sync && n->has_hs && u->hard_state.term == n->hs.term &&
			   u->hard_state.vote == n->hs.vote;
	if (u->hard_state_changed) {
		n->hs = u->hard_state;
		n->has_hs = true;
		n->hs_unwritten = commit_only;
	}
	bool write = (u->hard_state_changed && !commit_only) || u->n_entries > 0 || u->snapshot;
	if (!write && u->persist_seq <= n->requested_seq)
		return;
	if (!write) {
		/* nothing new to write: durable once what is in flight is */
		push_inflight(n, n->wal_seq, u->persist_seq);
		return;
	}
	struct wal_batch b = {
		.seq = ++n->wal_seq,
		.hard_state = (u->hard_state_changed || n->hs_unwritten) ? &n->hs : NULL,
		.snapshot_marker = u->snapshot != NULL,
		.snap_index = u->snapshot ? u->snapshot->meta.index : 0,
		.snap_term = u->snapshot ? u->snapshot->meta.term : 0,
		.entries = u->entries,
		.n_entries = u->n_entries,
		.must_sync = u->must_sync,
	};
	if (wal_sync_queue(n->wal, &b) != 0) {
		char why[256] = "WAL thread refused the write";
		wal_sync_failed(n->wal, why, sizeof(why));
		fail(n, "write-ahead log", why);
		return;
	}
	n->hs_unwritten = false;
	push_inflight(n, b.seq, u->persist_seq);
}

/* The core holds a snapshot it took as metadata only: the state is in the
 * snapshot file the forked child wrote, read here when a member needs it.
 * While the file is still being written (or if it is gone) the message is
 * dropped; the core sends the snapshot again after an election timeout. */
static void send_snapshot(struct node *n, const struct raft_message *m)
{
	uint64_t index = m->snapshot->meta.index;
	if (n->snap_job && n->snap_index == index)
		return;
	struct snap_loaded sl;
	char err[512];
	int found = snap_load(n->snap_dir, index, &sl, err, sizeof(err));
	if (found > 0 && sl.snap.meta.index == index) {
		struct raft_snapshot snap = *m->snapshot;
		snap.data = sl.snap.data;
		snap.len = sl.snap.len;
		struct raft_message with_data = *m;
		with_data.snapshot = &snap;
		peer_sender_send(n->srv->peers, m->to, &with_data);
	} else {
		fprintf(stderr, "cetcd: snapshot %" PRIu64 " for member %" PRIx64
			" is not on disk: %s\n", index, m->to, found < 0 ? err : "not found");
	}
	if (found > 0)
		snap_loaded_free(&sl);
}

static void send_messages(struct node *n, const struct raft_message *m, size_t count)
{
	if (n->srv->peers == NULL)
		return;	/* start-up: the transport comes up right after the log */
	if (count > 0)
		n->sent_to_peers = true;
	for (size_t i = 0; i < count; i++) {
		if (m[i].snapshot && m[i].snapshot->len == 0)
			send_snapshot(n, &m[i]);
		else
			peer_sender_send(n->srv->peers, m[i].to, &m[i]);
	}
}

static void park_messages(struct node *n, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_messages_after_persist; i++) {
		const struct raft_message *m = &u->messages_after_persist[i];
		if (u->persist_seq <= n->durable_seq) {
			send_messages(n, m, 1);
			continue;
		}
		if (n->n_parked == n->cap_parked) {
			n->cap_parked = n->cap_parked ? 2 * n->cap_parked : 64;
			n->parked = realloc(n->parked, n->cap_parked * sizeof(*n->parked));
			if (n->parked == NULL)
				abort();
		}
		struct parked *p = &n->parked[n->n_parked++];
		p->raft_seq = u->persist_seq;
		p->msg = *m;
		p->msg.entries = NULL;	/* responses carry none */
		p->msg.n_entries = 0;
		p->msg.snapshot = NULL;
	}
}

/* Sends what waited for durability up to n->durable_seq. */
static void release_parked(struct node *n)
{
	size_t done = 0;
	while (done < n->n_parked && n->parked[done].raft_seq <= n->durable_seq) {
		send_messages(n, &n->parked[done].msg, 1);
		done++;
	}
	if (done == 0)
		return;
	memmove(n->parked, n->parked + done, (n->n_parked - done) * sizeof(*n->parked));
	n->n_parked -= done;
}

/* ---- membership from the log -------------------------------------------- */

static void sync_peers(struct node *n)
{
	/* NULL at start-up: start_peers reads the table itself */
	if (n->srv->peers)
		peer_sender_sync_members(n->srv->peers, &n->srv->cluster);
}

/* Runtime changes (members API) start their context with the proposing
 * member and its request id, so that member can answer its client. */
#define CONF_CTX_HEAD 16

static void complete_conf(struct server *srv, const struct raft_conf_change *cc)
{
	if (cc->type == RAFT_CONF_SET || cc->context_len < CONF_CTX_HEAD)
		return;
	const uint8_t *p = cc->context;
	if (le_get_u64(p) == srv->self_id)
		proposals_complete(srv->props, le_get_u64(p + 8), NULL, NULL);
}

/* A committed configuration entry: the member table follows the log. */
static void apply_conf(struct node *n, const struct raft_entry *e)
{
	struct server *srv = n->srv;
	struct raft_conf_change cc;
	if (raft_conf_change_decode(e, &cc) != RAFT_OK)
		return;
	switch (cc.type) {
	case RAFT_CONF_SET:
		if (cc.context_len && cluster_decode(&srv->cluster, cc.context, cc.context_len) == 0) {
			server_note_self(srv);
			sync_peers(n);
		}
		break;
	case RAFT_CONF_ADD_VOTER:
	case RAFT_CONF_ADD_LEARNER: {
		struct cluster added = {0};
		if (cc.context_len > CONF_CTX_HEAD &&
		    cluster_decode(&added, (const uint8_t *)cc.context + CONF_CTX_HEAD,
				   cc.context_len - CONF_CTX_HEAD) == 0 &&
		    added.n_members == 1) {
			const struct member *m = &added.members[0];
			cluster_put_member(&srv->cluster, cc.node, m->name, m->peer_urls,
					   m->n_peer_urls, m->client_urls, m->n_client_urls);
			sync_peers(n);
		}
		cluster_free(&added);
		break;
	}
	case RAFT_CONF_REMOVE:
		cluster_remove_member(&srv->cluster, cc.node);
		sync_peers(n);
		if (cc.node == srv->self_id)
			srv->removed_ms = clock_mono_ms();	/* stops after a grace */
		break;
	default:
		break;
	}
	complete_conf(srv, &cc);
}

static void apply_committed(struct node *n, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_committed; i++) {
		const struct raft_entry *e = &u->committed[i];
		n->applied = e->index;	/* X-Raft-Index of the reply is this entry's */
		n->applied_bytes += e->len;
		if (e->type == RAFT_ENTRY_NORMAL)
			apply_entry(n->srv, e->index, e->time, e->data, e->len);
		else if (e->type == RAFT_ENTRY_CONF)
			apply_conf(n, e);
	}
}

static void note_reads(struct node *n, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_reads; i++) {
		for (struct pending_read *r = n->reads; r; r = r->next) {
			if (r->id != u->reads[i].context)
				continue;
			r->ready = true;
			r->index = u->reads[i].status == RAFT_OK ? u->reads[i].index : UINT64_MAX;
		}
	}
}

/* Answers reads whose index is applied (or that failed). */
static void answer_reads(struct node *n)
{
	struct pending_read **p = &n->reads;
	while (*p) {
		struct pending_read *r = *p;
		bool failed = r->ready && r->index == UINT64_MAX;
		if (!r->ready || (!failed && r->index > n->applied)) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		r->done(r->ctx, failed ? -1 : 0);
		free(r);
	}
}

static void consume(struct node *n, const struct raft_update *u)
{
	persist(n, u);
	send_messages(n, u->messages, u->n_messages);
	park_messages(n, u);
	apply_committed(n, u);
	note_reads(n, u);
}

static void leader_changed(struct node *n);

static int step(struct node *n, const struct raft_event *ev)
{
	int rc = raft_step(n->raft, ev, &n->upd);
	bool became_leader = n->upd.role == RAFT_LEADER && n->role != RAFT_LEADER;
	bool changed = n->upd.leader != n->leader;
	n->term = n->upd.term;
	n->leader = n->upd.leader;
	n->role = n->upd.role;
	if (became_leader)
		n->srv->expire_hold_until_ms = clock_mono_ms() + n->srv->opts.election_ms;
	consume(n, &n->upd);
	if (changed && n->leader != RAFT_NONE)
		leader_changed(n);
	return rc;
}

/* ---- durability feedback (rule 5) --------------------------------------- */

/* WAL batches up to `durable` are on disk: tell the core the persist_seq
 * they cover (rule 5) and send what waited for it (rule 4). */
static void note_durable(struct node *n, uint64_t durable)
{
	uint64_t raft_seq = 0;
	size_t done = 0;
	while (done < n->n_inflight && n->inflight[done].wal_seq <= durable)
		raft_seq = n->inflight[done++].raft_seq;
	if (done > 0) {
		memmove(n->inflight, n->inflight + done,
			(n->n_inflight - done) * sizeof(*n->inflight));
		n->n_inflight -= done;
	}
	if (raft_seq <= n->durable_seq)
		return;
	n->durable_seq = raft_seq;
	release_parked(n);	/* rule 4: acks and votes leave only now */
	struct raft_event ev = event(RAFT_EV_PERSISTED);
	ev.u.persisted.seq = raft_seq;
	step(n, &ev);
}

static void wal_failed(struct node *n)
{
	char why[256] = "the write-ahead log failed";
	wal_sync_failed(n->wal, why, sizeof(why));
	fail(n, "write-ahead log", why);
}

/* The WAL thread's eventfd: a round it ran is durable (or failed). */
static void on_wal_durable(void *ctx, uint32_t events)
{
	struct node *n = ctx;
	if (n->failed)
		return;
	uint64_t durable = wal_sync_durable(n->wal);
	if (wal_sync_failed(n->wal, NULL, 0)) {
		wal_failed(n);
		return;
	}
	note_durable(n, durable);
}

/* Before the loop sleeps, the batches queued by this iteration's steps go
 * to disk (rule 1). A lone batch with the WAL thread idle (one client
 * writing to a single member) is written here, by the loop: one
 * write + fdatasync, then commit, apply and reply in this same iteration,
 * without the two thread wake-ups of a hand-off (tens of us each on a small
 * VM). Several batches mean load: they go to the thread, which syncs them
 * as one group while the loop serves reads and parses the next writes (a
 * loop that synced under load would stall every GET behind the disk). They
 * also go to the thread when this iteration queued messages for peers (a
 * leader's appends): those leave only after the loop returns, and the
 * leader's own write must overlap them (rule 4 allows it). A follower's
 * batches always go to the thread: its loop keeps taking the leader's next
 * appends and serving clients meanwhile (3 members at 64 connections: 2-9 %
 * more writes than with a follower syncing on its loop). Stepping
 * PERSISTED may queue more (a new leader's no-op): a few inline rounds at
 * most, then the thread. */
#define INLINE_MAX_BATCHES 1
#define INLINE_MAX_ROUNDS 4

static void flush_wal(struct node *n)
{
	int rounds = 0;
	while (!n->failed && n->flushed_seq < n->wal_seq) {
		bool here = !n->sent_to_peers && n->role != RAFT_FOLLOWER &&
			    rounds < INLINE_MAX_ROUNDS;
		uint64_t durable = 0;
		n->flushed_seq = n->wal_seq;
		int rc = wal_sync_flush(n->wal, here ? INLINE_MAX_BATCHES : 0, &durable);
		if (rc < 0) {
			wal_failed(n);
			return;
		}
		if (rc > 0) {
			rounds++;
			note_durable(n, durable);
		}
	}
	n->sent_to_peers = false;
}

static void flush_proposals(struct node *n);

/* A loop timeout source: while proposals or batches are queued the loop
 * must not sleep (a step after node_process, e.g. in a later before-sleep
 * hook or a timer, queued them); its due callback flushes them. */
static int64_t wal_timeout(void *ctx)
{
	struct node *n = ctx;
	return !n->failed && (n->n_props > 0 || n->wal_seq > n->flushed_seq) ? 0 : -1;
}

static void wal_due(void *ctx)
{
	flush_proposals(ctx);
	flush_wal(ctx);
}

/* ---- snapshots (rule 8) ------------------------------------------------- */

/* The state machine's snapshot: "CETCDSN1", u32 length + the member table
 * (cluster_encode), then the store (store_codec). */
#define STATE_MAGIC "CETCDSN1"

/* The part before the store: magic, length and the member table. */
static void encode_state_head(const struct server *srv, struct buf *out)
{
	struct buf table = BUF_INIT;
	cluster_encode(&srv->cluster, &table);
	buf_append(out, STATE_MAGIC, 8);
	uint8_t len[4];
	le_put_u32(len, (uint32_t)table.len);
	buf_append(out, len, 4);
	buf_append(out, table.data, table.len);
	buf_free(&table);
}

/* Restores the store (empty, or replaced) and the member table from a state
 * snapshot (write_state_stream's bytes). */
static int decode_state(struct server *srv, struct store *st, const void *data, size_t len,
			bool replace, char *err, size_t cap)
{
	const uint8_t *p = data;
	if (len < 12 || memcmp(p, STATE_MAGIC, 8) != 0) {
		snprintf(err, cap, "not a cetcd state snapshot");
		return -1;
	}
	size_t tlen = le_get_u32(p + 8);
	if (tlen > len - 12 || cluster_decode(&srv->cluster, p + 12, tlen) != 0) {
		snprintf(err, cap, "bad member table in snapshot");
		return -1;
	}
	const uint8_t *body = p + 12 + tlen;
	size_t blen = len - 12 - tlen;
	return replace ? store_snapshot_replace(st, body, blen, err, cap)
		       : store_snapshot_read(st, body, blen, err, cap);
}

static void on_snapshot_done(void *ctx, uint32_t events)
{
	struct node *n = ctx;
	char err[512] = "";
	loop_del_fd(n->srv->loop, n->snap_watch);
	n->snap_watch = NULL;
	uint64_t bytes = 0;
	int rc = snap_job_finish(n->snap_job, &bytes, err, sizeof(err));
	n->snap_job = NULL;
	if (rc == 0)
		n->snap_bytes = bytes;
	if (rc != 0) {
		fprintf(stderr, "cetcd: snapshot save failed: %s (will retry)\n", err);
		return;
	}
	if (snap_purge(n->snap_dir, (unsigned)n->srv->opts.max_snapshots, err, sizeof(err)) < 0)
		fprintf(stderr, "cetcd: snapshot purge: %s\n", err);
	/* WAL segments wholly before the oldest kept snapshot are not needed */
	wal_sync_release_before(n->wal, snap_oldest_index(n->snap_dir));
}

/* The child's serializer: the state is streamed from the frozen
 * copy-on-write image, the loop never pays for it. */
static int emit_to_writer(void *ctx, const void *data, size_t len)
{
	return snap_writer_write(ctx, data, len);
}

static int write_state_stream(struct snap_writer *sw, void *arg)
{
	const struct server *srv = arg;
	struct buf head = BUF_INIT;
	encode_state_head(srv, &head);
	int rc = snap_writer_write(sw, head.data, head.len);
	buf_free(&head);
	return rc == 0 ? store_snapshot_write_stream(srv->store, emit_to_writer, sw) : rc;
}

/* A snapshot rewrites the whole store. Taken every snapshot_count entries
 * alone, a large store under heavy writes would be rewritten back to back
 * (450k keys at 50k writes/s: a 26 MB file five times a second; the forked
 * child, the disk writes and the copy-on-write faults cost a fifth of the
 * write rate on 2 cores, and three members on one disk more). So beyond
 * SNAP_CHEAP_BYTES (a save of a few ms), the next snapshot also waits until
 * the entries applied since the last one add up to its size: snapshots
 * write at most one byte per byte of log. But never more than
 * SNAP_MAX_LOG_BYTES of log (a quarter of a WAL segment) since the last one:
 * the watch history can make a snapshot much larger than the keys (1,000
 * events of 1 MB values), and the WAL must still be released segment by
 * segment with --max-snapshots 2. */
#define SNAP_CHEAP_BYTES (1u << 20)
#define SNAP_MAX_LOG_BYTES (16u << 20)

static bool snapshot_due(const struct node *n)
{
	uint64_t every = n->srv->opts.snapshot_count;
	uint64_t big = n->snap_bytes > SNAP_CHEAP_BYTES ? n->snap_bytes - SNAP_CHEAP_BYTES : 0;
	uint64_t log_needed = big < SNAP_MAX_LOG_BYTES ? big : SNAP_MAX_LOG_BYTES;
	return !n->snap_job && every != 0 && n->applied >= n->snap_index + every &&
	       n->applied_bytes >= log_needed;
}

/* When due (above): the core compacts its log (it keeps the snapshot's
 * metadata only, see send_snapshot), and a forked child writes the state to
 * disk from its copy-on-write image while the loop serves on. */
static void maybe_snapshot(struct node *n)
{
	if (!snapshot_due(n))
		return;
	struct raft_event ev = event(RAFT_EV_SNAPSHOT);
	ev.u.snapshot.index = n->applied;
	ev.u.snapshot.trailing = 5000;	/* entries kept for slow followers, as etcd */
	struct raft_snapshot_meta meta;
	char err[512];
	if (step(n, &ev) != RAFT_OK || !raft_snapshot_meta(n->raft, &meta))
		return;
	if (snap_save_async(n->snap_dir, &meta, write_state_stream, n->srv, &n->snap_job, err,
			    sizeof(err)) != 0) {
		fprintf(stderr, "cetcd: snapshot at %llu: %s\n", (unsigned long long)meta.index, err);
		return;
	}
	n->snap_index = meta.index;
	n->applied_bytes = 0;
	n->snap_watch = loop_add_fd(n->srv->loop, snap_job_fd(n->snap_job), EPOLLIN,
				    on_snapshot_done, n);
}

/* ---- start-up ----------------------------------------------------------- */

static struct raft *new_raft(const struct server *srv)
{
	struct raft_config cfg = {
		.id = srv->self_id,
		.election_ms = srv->opts.election_ms,
		.heartbeat_ms = srv->opts.heartbeat_ms,
		.seed = srv->self_id ^ (uint64_t)clock_wall_ns(),
	};
	return raft_new(&cfg);
}

static int start_wal_thread(struct node *n, struct wal *w)
{
	char err[512];
	if (wal_sync_start(w, &n->wal, err, sizeof(err)) != 0) {
		fprintf(stderr, "cetcd: %s\n", err);
		return -1;
	}
	n->wal_file = w;
	n->wal_watch = loop_add_fd(n->srv->loop, wal_sync_fd(n->wal), EPOLLIN, on_wal_durable, n);
	return n->wal_watch ? 0 : -1;
}

static int start_fresh(struct node *n)
{
	struct server *srv = n->srv;
	struct wal_meta meta = {srv->self_id, srv->cluster.id};
	struct wal_options o = {.max_wals = (unsigned)srv->opts.max_wals};
	struct wal *w;
	char err[512];
	n->raft = new_raft(srv);
	if (n->raft == NULL)
		return -1;
	if (wal_create(n->wal_dir, &meta, &o, &w, err, sizeof(err)) != 0) {
		fprintf(stderr, "cetcd: cannot create the write-ahead log: %s\n", err);
		return -1;
	}
	if (start_wal_thread(n, w) != 0)
		return -1;
	if (srv->opts.join_existing) {
		/* added through /v2/members: the leader sends the log or a snapshot */
		raft_join(n->raft, clock_mono_ms(), &n->upd);
		consume(n, &n->upd);
		return 0;
	}
	/* every member bootstraps the same entry 1: the member ids and, as its
	 * context, the member table (names, peer URLs) */
	struct raft_membership m;
	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < srv->cluster.n_members && i < RAFT_MAX_MEMBERS; i++)
		m.voters[m.n_voters++] = srv->cluster.members[i].id;
	struct buf ctx = BUF_INIT;
	cluster_encode(&srv->cluster, &ctx);
	raft_bootstrap_ctx(n->raft, &m, ctx.data, ctx.len, clock_mono_ms(), &n->upd);
	buf_free(&ctx);
	consume(n, &n->upd);
	return 0;
}

/* Newest valid snapshot + the WAL after it (rule 11: never bootstrap over an
 * existing log). The core hands the committed entries back to re-apply. */
static int restart(struct node *n)
{
	struct server *srv = n->srv;
	struct snap_loaded sl;
	struct wal_recovered rec;
	struct wal *w;
	char err[1024];
	int found = snap_load(n->snap_dir, UINT64_MAX, &sl, err, sizeof(err));
	if (found < 0) {
		fprintf(stderr, "cetcd: cannot read snapshots: %s\n", err);
		return -1;
	}
	if (found && sl.note[0])
		fprintf(stderr, "cetcd: %s\n", sl.note);
	if (found && decode_state(srv, srv->store, sl.snap.data, sl.snap.len, false, err,
				  sizeof(err)) != 0) {
		fprintf(stderr, "cetcd: snapshot %s: %s\n", sl.name, err);
		snap_loaded_free(&sl);
		return -1;
	}
	struct wal_options o = {.max_wals = (unsigned)srv->opts.max_wals};
	uint64_t si = found ? sl.snap.meta.index : 0, st = found ? sl.snap.meta.term : 0;
	if (wal_open(n->wal_dir, &o, si, st, &w, &rec, err, sizeof(err)) != 0) {
		fprintf(stderr, "cetcd: cannot recover the write-ahead log: %s\n", err);
		if (found)
			snap_loaded_free(&sl);
		return -1;
	}
	if (rec.note[0])
		fprintf(stderr, "cetcd: write-ahead log repaired: %s\n", rec.note);
	/* etcd: a member with a data dir ignores the --initial-cluster flags;
	 * who it is comes from its WAL, the member table from its log */
	srv->self_id = rec.meta.member_id;
	srv->cluster.id = rec.meta.cluster_id;
	n->raft = new_raft(srv);
	n->snap_index = si;
	n->snap_bytes = found ? sl.snap.len : 0;
	n->applied = si;
	struct raft_persisted p;
	wal_recovered_to_persisted(&rec, found ? &sl.snap : NULL, &p);
	int rc = n->raft ? start_wal_thread(n, w) : -1;
	if (rc == 0) {
		raft_restart(n->raft, &p, clock_mono_ms(), &n->upd);
		consume(n, &n->upd);
	}
	wal_recovered_free(&rec);
	if (found)
		snap_loaded_free(&sl);
	return rc;
}

static void data_paths(struct node *n)
{
	const struct server_opts *o = &n->srv->opts;
	if (o->wal_dir && *o->wal_dir)
		snprintf(n->wal_dir, sizeof(n->wal_dir), "%s", o->wal_dir);
	else
		snprintf(n->wal_dir, sizeof(n->wal_dir), "%s/member/wal", o->data_dir);
	snprintf(n->snap_dir, sizeof(n->snap_dir), "%s/member/snap", o->data_dir);
}

/* ---- public ------------------------------------------------------------ */

struct node *node_new(struct server *srv)
{
	struct node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		abort();
	n->srv = srv;
	data_paths(n);
	int rc = wal_exists(n->wal_dir) ? restart(n) : start_fresh(n);
	if (rc != 0) {
		node_free(n);
		return NULL;
	}
	/* rule 12: the only voter need not wait an election timeout */
	struct raft_status st;
	raft_status(n->raft, &st);
	if (st.conf.n_voters == 1 && st.conf.voters[0] == srv->self_id) {
		struct raft_event ev = event(RAFT_EV_CAMPAIGN);
		step(n, &ev);
	}
	loop_add_timeout_source(srv->loop, wal_timeout, wal_due, n);
	return n;
}

void node_free(struct node *n)
{
	if (n == NULL)
		return;
	while (n->reads) {
		struct pending_read *r = n->reads;
		n->reads = r->next;
		r->done(r->ctx, -1);
		free(r);
	}
	if (n->snap_job) {
		char err[256];
		snap_job_finish(n->snap_job, NULL, err, sizeof(err));	/* waits for the child */
	}
	if (n->snap_watch)
		loop_del_fd(n->srv->loop, n->snap_watch);
	if (n->wal_watch)
		loop_del_fd(n->srv->loop, n->wal_watch);
	if (n->wal) {
		/* the thread syncs what is queued and hands the log back; then a
		 * graceful stop cuts the segment's unused preallocated tail */
		char err[256];
		int rc = wal_sync_stop(n->wal, err, sizeof(err));
		if (rc == 0)
			rc = wal_close_trim(n->wal_file, err, sizeof(err));
		else
			wal_close(n->wal_file, NULL, 0);	/* failed: only frees */
		if (rc != 0)
			fprintf(stderr, "cetcd: closing the write-ahead log: %s\n", err);
	}
	raft_free(n->raft);
	for (size_t i = 0; i < n->n_waiting; i++)
		free(n->waiting[i].data);
	free(n->waiting);
	buf_free(&n->prop_bytes);	/* proposals never stepped: their requests are gone too */
	free(n->prop_lens);
	free(n->parked);
	free(n->inflight);
	free(n);
}

/* Rule 13: a follower sends the write to the leader over the peer channel;
 * the entry comes back through the log with this member's request id, and
 * apply answers the client here. With no leader, the write waits. */
static int forward_or_wait(struct node *n, const void *data, size_t len)
{
	if (n->leader != RAFT_NONE && n->leader != n->srv->self_id)
		return peer_sender_forward_proposal(n->srv->peers, n->leader, data, len);
	if (n->n_waiting == MAX_WAITING)
		return -1;
	if (n->waiting == NULL) {
		n->waiting = calloc(MAX_WAITING, sizeof(*n->waiting));
		if (n->waiting == NULL)
			abort();
	}
	struct waiting *w = &n->waiting[n->n_waiting++];
	w->data = malloc(len ? len : 1);
	if (w->data == NULL)
		abort();
	memcpy(w->data, data, len);
	w->len = len;
	return 0;
}

/* The core refused a proposal because another member leads, or will. */
static bool leader_elsewhere(int rc)
{
	return rc == RAFT_ERR_NOT_LEADER || rc == RAFT_ERR_NO_LEADER || rc == RAFT_ERR_TRANSFERRING;
}

/* A leader's proposals wait here until the loop is about to sleep
 * (flush_proposals): one PROPOSE for all the writes of a loop iteration, so
 * one append message per follower carries them all, and a follower syncs
 * and acknowledges them once. */
static void queue_proposal(struct node *n, const void *data, size_t len)
{
	if (n->n_props == n->cap_props) {
		n->cap_props = n->cap_props ? 2 * n->cap_props : 64;
		n->prop_lens = realloc(n->prop_lens, n->cap_props * sizeof(*n->prop_lens));
		if (n->prop_lens == NULL)
			abort();
	}
	buf_append(&n->prop_bytes, data, len);
	n->prop_lens[n->n_props++] = len;
}

static void flush_proposals(struct node *n)
{
	if (n->n_props == 0 || n->failed)
		return;
	/* taken out first: stepping may queue more (leader_changed) */
	struct buf bytes = n->prop_bytes;
	size_t *lens = n->prop_lens, count = n->n_props;
	n->prop_bytes = (struct buf)BUF_INIT;
	n->prop_lens = NULL;
	n->n_props = n->cap_props = 0;
	struct raft_payload *v = malloc(count * sizeof(*v));
	if (v == NULL)
		abort();
	size_t off = 0;
	for (size_t i = 0; i < count; i++) {
		v[i].data = bytes.data + off;
		v[i].len = lens[i];
		off += lens[i];
	}
	struct raft_event ev = event(RAFT_EV_PROPOSE);
	ev.u.propose.batch = v;
	ev.u.propose.n_batch = count;
	int rc = step(n, &ev);
	/* leadership moved on since they were queued: as node_propose would
	 * have; anything else is lost, and the client's request times out */
	if (leader_elsewhere(rc))
		for (size_t i = 0; i < count; i++)
			forward_or_wait(n, v[i].data, v[i].len);
	free(v);
	free(lens);
	buf_free(&bytes);
}

static bool is_conf_command(const void *data, size_t len)
{
	return len > 1 && ((const uint8_t *)data)[1] == CMD_CONF;
}

/* A membership change (CMD_CONF) becomes a Raft configuration entry here. */
static int propose_conf(struct node *n, const void *data, size_t len)
{
	struct command c;
	if (command_decode(data, len, &c) != 0)
		return RAFT_ERR_INVALID;
	struct raft_event ev = event(RAFT_EV_CONF_CHANGE);
	ev.u.conf_change.type = c.conf_type;
	ev.u.conf_change.node = c.conf_node;
	ev.u.conf_change.context = c.attrs;
	ev.u.conf_change.context_len = c.attrs_len;
	int rc = step(n, &ev);
	command_free(&c);
	return rc;
}

/* A membership change is stepped at once; a leader's write is queued for
 * flush_proposals; anyone else's write steps PROPOSE, which refuses it. */
static int propose_here(struct node *n, const void *data, size_t len)
{
	if (is_conf_command(data, len))
		return propose_conf(n, data, len);
	if (n->role == RAFT_LEADER) {
		queue_proposal(n, data, len);
		return RAFT_OK;
	}
	struct raft_event ev = event(RAFT_EV_PROPOSE);
	ev.u.propose.data = data;
	ev.u.propose.len = len;
	return step(n, &ev);
}

int node_propose(struct node *n, const void *data, size_t len)
{
	if (n->failed)
		return -1;
	int rc = propose_here(n, data, len);
	if (rc == RAFT_OK)
		return 0;
	if (leader_elsewhere(rc))
		return forward_or_wait(n, data, len);
	return -1;
}

/* A leader is known again: hand over the writes that waited for one. */
static void leader_changed(struct node *n)
{
	size_t count = n->n_waiting;
	struct waiting *w = n->waiting;
	n->waiting = NULL;
	n->n_waiting = 0;
	for (size_t i = 0; i < count; i++) {
		node_propose(n, w[i].data, w[i].len);
		free(w[i].data);
	}
	free(w);
}

void node_receive(struct node *n, const struct raft_message *m)
{
	if (n->failed)
		return;
	struct raft_event ev = event(RAFT_EV_RECEIVE);
	ev.u.receive.msg = m;
	step(n, &ev);
}

void node_receive_proposal(struct node *n, const void *payload, size_t len)
{
	/* proposed only by the leader; a stale forward is dropped (the client's
	 * member times the request out, as etcd does for a lost proposal) */
	if (!n->failed && n->role == RAFT_LEADER)
		propose_here(n, payload, len);
}

uint64_t node_read(struct node *n, node_read_fn done, void *ctx)
{
	struct pending_read *r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	r->id = ++n->next_read_id;
	r->done = done;
	r->ctx = ctx;
	r->next = n->reads;
	n->reads = r;
	struct raft_event ev = event(RAFT_EV_READ_INDEX);
	ev.u.read_index.context = r->id;
	uint64_t id = r->id;
	if (step(n, &ev) != RAFT_OK) {
		node_read_cancel(n, id);
		done(ctx, -1);
		return 0;
	}
	return id;
}

void node_read_cancel(struct node *n, uint64_t handle)
{
	for (struct pending_read **p = &n->reads; *p; p = &(*p)->next) {
		if ((*p)->id == handle) {
			struct pending_read *r = *p;
			*p = r->next;
			free(r);
			return;
		}
	}
}

void node_process(struct node *n)
{
	if (n->stepping)
		return;
	n->stepping = true;
	flush_proposals(n);
	flush_wal(n);
	answer_reads(n);
	maybe_snapshot(n);
	n->stepping = false;
}

void node_tick(struct node *n)
{
	struct raft_event ev = event(RAFT_EV_TICK);
	step(n, &ev);
}

void node_wal_stats(const struct node *n, struct wal_sync_stats *out)
{
	wal_sync_get_stats(n->wal, out);
}

bool node_failed(const struct node *n)
{
	return n->failed;
}

bool node_is_leader(const struct node *n)
{
	return n->role == RAFT_LEADER;
}

uint64_t node_leader_id(const struct node *n)
{
	return n->leader;
}

uint64_t node_term(const struct node *n)
{
	return n->term;
}

uint64_t node_applied_index(const struct node *n)
{
	return n->applied;
}

uint64_t node_commit_index(const struct node *n)
{
	struct raft_status st;
	raft_status(n->raft, &st);
	return st.commit;
}
