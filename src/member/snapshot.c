/* snapshot.c - the member's snapshots (rule 8 of doc/raft-core.md): when to
 * take one (snapshot_due), taking it in a forked child, installing one the
 * leader sent, sending ours to a member that fell behind, and restoring the
 * state from one. The bytes of the state snapshot are kv/command.c's (the
 * envelope) and kv/store_codec.c's (the store). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "disk/snap.h"
#include "disk/wal_sync.h"
#include "kv/auth.h"
#include "kv/command.h"
#include "kv/store.h"
#include "kv/store_codec.h"
#include "member/node_private.h"
#include "member/peer_send.h"
#include "member/server.h"
#include "net/loop.h"
#include "util/clock.h"
#include "util/log.h"

int snapshot_restore(struct node *n, const void *data, size_t len, bool replace,
		     struct cluster *table, char *err, size_t cap)
{
	struct cluster t = {0};
	struct auth_state *auth = auth_state_new();
	const void *store;
	size_t store_len;
	if (command_decode_snapshot(data, len, &t, auth, &store, &store_len, err, cap) != 0) {
		auth_state_free(auth);
		return -1;
	}
	struct store *st = n->srv->store;
	int rc = replace ? store_snapshot_replace(st, store, store_len, err, cap) :
			   store_snapshot_read(st, store, store_len, err, cap);
	if (rc != 0) {
		cluster_free(&t);
		auth_state_free(auth);
		return -1;
	}
	/* the auth table is replaced with the store: both are the snapshot's */
	auth_state_move(n->srv->auth, auth);
	auth_state_free(auth);
	*table = t;
	return 0;
}

/* A leader's snapshot for a member that fell behind. The file is made
 * durable first (the WAL marker that follows points at it), then the state
 * machine is replaced; the committed entries of the same update follow. */
int snapshot_install(struct node *n, const struct raft_snapshot *snap)
{
	char err[512];
	struct cluster table;
	if (snap_save(n->snap_dir, &snap->meta, snap->data, snap->len, err, sizeof(err)) != 0) {
		node_fail(n, "install snapshot", err);
		return -1;
	}
	if (snapshot_restore(n, snap->data, snap->len, true, &table, err, sizeof(err)) != 0) {
		node_fail(n, "install snapshot", err);
		return -1;
	}
	server_replace_members(n->srv, &table);
	n->applied = snap->meta.index;
	n->snap_index = snap->meta.index;
	n->snap_bytes = snap->len;
	n->applied_bytes = 0;
	log_info("etcdserver", "applied incoming snapshot at index %" PRIu64, snap->meta.index);
	return 0;
}

/* The core holds a snapshot it took as metadata only: the state is in the
 * snapshot file the forked child wrote, read here when a member needs it.
 * While the file is still being written (or if it is gone) the message is
 * dropped; the core sends the snapshot again after an election timeout. */
void snapshot_send(struct node *n, const struct raft_message *m)
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
		log_error("etcdserver",
			  "snapshot %" PRIu64 " for member %" PRIx64 " is not on disk: %s", index,
			  m->to, found < 0 ? err : "not found");
	}
	if (found > 0)
		snap_loaded_free(&sl);
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
	if (rc == 0) {
		n->snap_bytes = bytes;
		prom_hist_observe(&n->snap_save_seconds, NODE_SNAP_HIST_START, NODE_SNAP_HIST_N,
				  (double)(clock_mono_us() - n->snap_started_us) / 1e6);
	}
	if (rc != 0) {
		log_error("etcdserver", "snapshot save failed: %s (will retry)", err);
		return;
	}
	log_info("etcdserver", "saved snapshot at index %" PRIu64, n->snap_job_index);
	if (snap_purge(n->snap_dir, (unsigned)n->srv->opts.max_snapshots, err, sizeof(err)) < 0)
		log_warn("pkg/fileutil", "snapshot purge: %s", err);
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
	command_encode_snapshot_head(&head, &srv->cluster, srv->auth);
	int rc = snap_writer_write(sw, head.data, head.len);
	buf_free(&head);
	return rc == 0 ? store_snapshot_write_stream(srv->store, emit_to_writer, sw) : rc;
}

/* Entries kept in the log after a snapshot for slow followers, as etcd's
 * SnapshotCatchUpEntries. */
#define SNAP_TRAILING_ENTRIES 5000u

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
#define SNAP_CHEAP_BYTES   (1u << 20)
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
 * metadata only, see snapshot_send), and a forked child writes the state to
 * disk from its copy-on-write image while the loop serves on. */
void snapshot_maybe_take(struct node *n)
{
	if (!snapshot_due(n))
		return;
	/* etcd's line; benchmarks read it to know a snapshot is in progress */
	log_info("etcdserver", "start to snapshot (applied: %" PRIu64 ", lastsnap: %" PRIu64 ")",
		 n->applied, n->snap_index);
	struct raft_event ev = node_event(RAFT_EV_SNAPSHOT);
	ev.u.snapshot.index = n->applied;
	ev.u.snapshot.trailing = SNAP_TRAILING_ENTRIES;
	struct raft_snapshot_meta meta;
	char err[512];
	if (node_step(n, &ev) != RAFT_OK || !raft_snapshot_meta(n->raft, &meta))
		return;
	log_info("etcdserver", "compacted raft log at %" PRIu64,
		 meta.index > SNAP_TRAILING_ENTRIES ? meta.index - SNAP_TRAILING_ENTRIES : 1);
	if (snap_save_async(n->snap_dir, &meta, write_state_stream, n->srv, &n->snap_job, err,
			    sizeof(err)) != 0) {
		log_error("etcdserver", "snapshot at %llu: %s", (unsigned long long)meta.index,
			  err);
		return;
	}
	n->snap_index = meta.index;
	n->snap_job_index = meta.index;
	n->applied_bytes = 0;
	n->snap_started_us = clock_mono_us();
	n->snap_watch =
		loop_add_fd(n->srv->loop, snap_job_fd(n->snap_job), EPOLLIN, on_snapshot_done, n);
}

void snapshot_stop(struct node *n)
{
	if (n->snap_job) {
		char err[256];
		snap_job_finish(n->snap_job, NULL, err, sizeof(err)); /* waits for the child */
	}
	if (n->snap_watch)
		loop_del_fd(n->srv->loop, n->snap_watch);
}
