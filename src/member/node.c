/* node.c - the driver loop of the Raft core (see node.h): step, consume an
 * update, durability feedback. The only file that knows the ordering rules
 * (doc/raft-core.md has them numbered):
 *   1. persist the hard state, snapshot and entries of an update, in that
 *      order, as one WAL batch, queued; before the loop sleeps, a lone batch
 *      is written and synced by the loop itself, several go to the WAL
 *      thread, which shares one fdatasync among every batch queued
 *      meanwhile (flush_wal); either way batches become durable in order;
 *   2. send `messages` at once; send `messages_after_persist` only after
 *      the core has been told that persist_seq is durable (the bookkeeping
 *      is raft/raft_pipeline.c, pure, which the test cluster runs too);
 *   3. apply `committed` entries in order (apply.c), each with its entry time;
 *   4. answer reads whose index is applied (reads.c).
 * Pointers in an update die at the next raft_step: everything is consumed
 * before stepping again. Start-up is boot.c, the ways into the log
 * forward.c, snapshots snapshot.c. */
#include "member/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/wal.h"
#include "disk/wal_sync.h"
#include "member/apply.h"
#include "member/node_private.h"
#include "member/peer_send.h"
#include "member/server.h"
#include "net/loop.h"
#include "util/clock.h"
#include "util/log.h"

struct raft_event node_event(uint8_t type)
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
void node_fail(struct node *n, const char *what, const char *why)
{
	log_crit("etcdserver", "%s: %s; stopping", what, why);
	n->failed = true;
	loop_stop(n->srv->loop);
}

/* ---- consuming an update ----------------------------------------------- */

/* The only voter's log is committed as far as it is durable: its own
 * vote is the majority (learners never count). */
static bool sole_voter(const struct node *n)
{
	if (n->role != RAFT_LEADER)
		return false;
	struct raft_status st;
	raft_status(n->raft, &st);
	return st.conf.n_voters == 1 && st.conf.voters[0] == n->srv->self_id;
}

/* Rule 1: one update = one WAL batch, queued here and written before the
 * loop sleeps (flush_wal). A hard state that only moves the commit index
 * is queued too, with the apply it allows, but not synced (etcd writes
 * HardState.Commit with every Ready and syncs it only with entries or a
 * vote): a member stopped gracefully (wal_sync_stop syncs the queue)
 * replays up to what it served, and so does a killed one but for the round
 * in flight; after a power cut it may replay less until a leader tells it
 * the commit again (doc/testing.md, "Power cuts"). Under load the hard state rides in the round of the
 * entries queued meanwhile. The only voter's batch of entries carries a
 * commit index that covers them (they commit exactly when they are
 * durable; a torn batch clamps it on replay to what survived, which the
 * restarted voter commits anyway). */
static void persist(struct node *n, const struct raft_update *u)
{
	if (n->failed)
		return;
	if (u->snapshot && snapshot_install(n, u->snapshot) != 0)
		return;
	bool vote_moved = false;
	if (u->hard_state_changed) {
		vote_moved = !n->has_hs || u->hard_state.term != n->hs.term ||
			     u->hard_state.vote != n->hs.vote;
		n->hs = u->hard_state;
		n->has_hs = true;
	}
	uint64_t commit = n->hs.commit;
	if (u->n_entries > 0 && sole_voter(n) && u->entries[u->n_entries - 1].index > commit)
		commit = u->entries[u->n_entries - 1].index;
	bool commit_moved = commit > n->commit_written;
	bool write = vote_moved || commit_moved || u->n_entries > 0 || u->snapshot;
	if (!write && raft_pipeline_submitted(&n->pipe, u->persist_seq))
		return;
	if (!write) {
		/* nothing new to write: durable once what is in flight is */
		raft_pipeline_submit(&n->pipe, n->wal_seq, u->persist_seq);
		return;
	}
	/* the log's commit never goes down, even when the core's lags it */
	struct raft_hard_state hs = n->hs;
	if (commit_moved)
		n->commit_written = commit;
	hs.commit = n->commit_written;
	struct wal_batch b = {
		.seq = ++n->wal_seq,
		.hard_state = (u->hard_state_changed || commit_moved) && n->has_hs ? &hs : NULL,
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
		node_fail(n, "write-ahead log", why);
		return;
	}
	raft_pipeline_submit(&n->pipe, b.seq, u->persist_seq);
}

static void send_message(struct node *n, const struct raft_message *m)
{
	if (n->srv->peers == NULL)
		return; /* start-up: the transport comes up right after the log */
	n->sent_to_peers = true;
	if (m->snapshot && m->snapshot->len == 0)
		snapshot_send(n, m);
	else
		peer_sender_send(n->srv->peers, m->to, m);
}

/* Rule 4: acks and votes whose persist_seq is durable leave now. */
static void send_ready(struct node *n)
{
	const struct raft_message *m;
	while ((m = raft_pipeline_next_ready(&n->pipe)) != NULL)
		send_message(n, m);
}

static void apply_committed(struct node *n, const struct raft_update *u)
{
	for (size_t i = 0; i < u->n_committed; i++) {
		const struct raft_entry *e = &u->committed[i];
		n->applied = e->index; /* X-Raft-Index of the reply is this entry's */
		n->applied_bytes += e->len;
		if (e->type == RAFT_ENTRY_NORMAL)
			apply_entry(n->srv, e->index, e->time, e->data, e->len);
		else if (e->type == RAFT_ENTRY_CONF)
			apply_conf(n->srv, e);
	}
}

void node_consume(struct node *n, const struct raft_update *u)
{
	persist(n, u);
	for (size_t i = 0; i < u->n_messages; i++)
		send_message(n, &u->messages[i]);
	raft_pipeline_park(&n->pipe, u);
	send_ready(n);
	apply_committed(n, u);
	reads_note(n, u);
}

int node_step(struct node *n, const struct raft_event *ev)
{
	int rc = raft_step(n->raft, ev, &n->upd);
	bool became_leader = n->upd.role == RAFT_LEADER && n->role != RAFT_LEADER;
	bool changed = n->upd.leader != n->leader;
	n->term = n->upd.term;
	n->leader = n->upd.leader;
	n->role = n->upd.role;
	if (became_leader)
		server_became_leader(n->srv);
	node_consume(n, &n->upd);
	if (changed && n->leader != RAFT_NONE) {
		n->leader_changes++;
		forward_leader_known(n);
	}
	return rc;
}

/* ---- durability feedback (rule 5) --------------------------------------- */

/* WAL batches up to `durable` are on disk: send what waited for them
 * (rule 4), then tell the core the persist_seq they cover (rule 5). */
static void note_durable(struct node *n, uint64_t durable)
{
	uint64_t persist_seq = raft_pipeline_durable(&n->pipe, durable);
	if (persist_seq == 0)
		return;
	send_ready(n);
	struct raft_event ev = node_event(RAFT_EV_PERSISTED);
	ev.u.persisted.seq = persist_seq;
	node_step(n, &ev);
}

static void wal_failed(struct node *n)
{
	char why[256] = "the write-ahead log failed";
	wal_sync_failed(n->wal, why, sizeof(why));
	node_fail(n, "write-ahead log", why);
}

/* The WAL thread's eventfd: a round it ran is durable (or failed). */
void node_on_wal_durable(void *ctx, uint32_t events)
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
#define INLINE_MAX_ROUNDS  4

static void flush_wal(struct node *n)
{
	int rounds = 0;
	while (!n->failed && n->flushed_seq < n->wal_seq) {
		bool here =
			!n->sent_to_peers && n->role != RAFT_FOLLOWER && rounds < INLINE_MAX_ROUNDS;
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

/* A loop timeout source: while proposals or batches are queued the loop
 * must not sleep (a step after node_process, e.g. in a later before-sleep
 * hook or a timer, queued them); its due callback flushes them. */
int64_t node_wal_timeout(void *ctx)
{
	struct node *n = ctx;
	return !n->failed && (n->n_props > 0 || n->wal_seq > n->flushed_seq) ? 0 : -1;
}

void node_wal_due(void *ctx)
{
	forward_flush(ctx);
	flush_wal(ctx);
}

/* ---- public ------------------------------------------------------------ */

void node_process(struct node *n)
{
	if (n->stepping)
		return;
	n->stepping = true;
	forward_flush(n);
	flush_wal(n);
	reads_answer(n);
	snapshot_maybe_take(n);
	n->stepping = false;
}

void node_tick(struct node *n)
{
	struct raft_event ev = node_event(RAFT_EV_TICK);
	node_step(n, &ev);
}

void node_receive(struct node *n, const struct raft_message *m)
{
	if (n->failed)
		return;
	struct raft_event ev = node_event(RAFT_EV_RECEIVE);
	ev.u.receive.msg = m;
	node_step(n, &ev);
}

void node_free(struct node *n)
{
	if (n == NULL)
		return;
	reads_fail_all(n);
	snapshot_stop(n);
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
			wal_close(n->wal_file, NULL, 0); /* failed: only frees */
		if (rc != 0)
			log_error("wal", "closing the write-ahead log: %s", err);
	}
	boot_free(n);
	raft_free(n->raft);
	forward_free(n);
	raft_pipeline_reset(&n->pipe);
	free(n);
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

const struct prom_hist *node_snap_save_seconds(const struct node *n)
{
	return &n->snap_save_seconds;
}

uint64_t node_leader_changes(const struct node *n)
{
	return n->leader_changes;
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
