/* test_wal_sync.c - unit tests of wal_sync's two writers (over crashfs): the
 * caller's inline round (wal_sync_flush) and the WAL thread; order, group
 * commit, failures and stats. test_wal.c covers the thread-only API. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/harness.h"
#include "crashfs.h"
#include "disk/fs.h"
#include "disk/wal.h"
#include "disk/wal_sync.h"

#define DIR	 "/data/wal"
#define SEG_SIZE (1u << 16)

/* ---- fixtures ------------------------------------------------------------------ */

static uint8_t payload[64];
static struct wal *cur_w; /* the wal under the wal_sync of the test */

static struct raft_entry entry(uint64_t index)
{
	memset(payload, (int)index, sizeof(payload));
	return (struct raft_entry){
		.term = 1, .index = index, .data = payload, .len = sizeof(payload)};
}

/* Batch seq carries entry seq (one entry per batch). */
static int queue_entry(struct wal_sync *s, uint64_t seq, bool thread)
{
	struct raft_entry e = entry(seq);
	struct wal_batch b = {.seq = seq, .entries = &e, .n_entries = 1, .must_sync = true};
	return thread ? wal_sync_submit(s, &b) : wal_sync_queue(s, &b);
}

static struct wal_sync *start(void)
{
	crashfs_init(42);
	CHECK(fs_ops->mkdir("/data", 0700) == 0);
	CHECK(fs_ops->fsync_dir("/") == 0);
	struct wal_meta meta = {0x1111, 0x2222};
	struct wal_options o = {.segment_size = SEG_SIZE};
	struct wal *w = NULL;
	struct wal_sync *s = NULL;
	char err[512] = "";
	CHECK(wal_create(DIR, &meta, &o, &w, err, sizeof(err)) == 0);
	CHECK(wal_sync_start(w, &s, err, sizeof(err)) == 0);
	cur_w = w;
	return s;
}

/* Stops s and closes its wal; returns wal_sync_stop's result. */
static int stop(struct wal_sync *s)
{
	int rc = wal_sync_stop(s, NULL, 0);
	wal_close(cur_w, NULL, 0);
	cur_w = NULL;
	return rc;
}

/* Power loss now (only synced data survives; s is stopped after it), then
 * replay: true when the log holds exactly entries 1..last. */
static bool survives_crash(struct wal_sync *s, uint64_t last)
{
	crashfs_crash(CRASHFS_DROP);
	stop(s); /* fails or not: what is on the fake disk counts */
	struct wal_options o = {.segment_size = SEG_SIZE};
	struct wal *w = NULL;
	struct wal_recovered rec;
	char err[512] = "";
	if (wal_open(DIR, &o, 0, 0, &w, &rec, err, sizeof(err)) != 0) {
		fprintf(stderr, "wal_open: %s\n", err);
		return false;
	}
	bool ok = rec.n_entries == last;
	for (size_t i = 0; ok && i < rec.n_entries; i++)
		ok = rec.entries[i].index == i + 1 && rec.entries[i].len == sizeof(payload) &&
		     ((const uint8_t *)rec.entries[i].data)[0] == (uint8_t)(i + 1);
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	return ok;
}

static bool eventfd_ready(struct wal_sync *s)
{
	struct pollfd pfd = {.fd = wal_sync_fd(s), .events = POLLIN};
	return poll(&pfd, 1, 0) == 1;
}

/* ---- a gate on fdatasync: holds the WAL thread inside its round ------------------ */

static struct fs_ops gated_ops;
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_closed, gate_entered;

static int gated_fdatasync(int fd)
{
	pthread_mutex_lock(&gate_mu);
	gate_entered = true;
	pthread_cond_broadcast(&gate_cv);
	while (gate_closed)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
	return crashfs_ops.fdatasync(fd);
}

static void gate_set(bool closed)
{
	pthread_mutex_lock(&gate_mu);
	gate_closed = closed;
	gate_entered = false;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

static void gate_wait_entered(void)
{
	pthread_mutex_lock(&gate_mu);
	while (!gate_entered)
		pthread_cond_wait(&gate_cv, &gate_mu);
	pthread_mutex_unlock(&gate_mu);
}

/* ---- tests ----------------------------------------------------------------------- */

/* A lone batch with the thread idle: written and synced by the caller,
 * durable on return, no eventfd signal, counted as an inline round. */
static void test_inline_lone_batch(void)
{
	struct wal_sync *s = start();
	uint64_t syncs = crashfs_sync_count(), durable = 0;
	CHECK(wal_sync_flush(s, 1, &durable) == 0); /* nothing queued */
	CHECK(queue_entry(s, 1, false) == 0);
	CHECK(wal_sync_flush(s, 1, &durable) == 1);
	CHECK(durable == 1 && wal_sync_durable(s) == 1);
	CHECK(crashfs_sync_count() == syncs + 1);
	CHECK(!eventfd_ready(s));
	struct wal_sync_stats st;
	wal_sync_get_stats(s, &st);
	CHECK(st.rounds == 1 && st.inline_rounds == 1 && st.batches == 1 && st.entries == 1);
	CHECK(st.fsyncs >= 1);
	CHECK(wal_sync_wait(s, 1) == 0);
	CHECK(survives_crash(s, 1)); /* durable without stop's final sync */
	crashfs_reset();
}

/* A commit-only batch (must_sync false) inline: written, not synced. */
static void test_inline_commit_only(void)
{
	struct wal_sync *s = start();
	uint64_t durable = 0;
	CHECK(queue_entry(s, 1, false) == 0);
	CHECK(wal_sync_flush(s, 1, &durable) == 1);
	uint64_t syncs = crashfs_sync_count();
	struct raft_hard_state hs = {.term = 1, .vote = 1, .commit = 1};
	struct wal_batch c = {.seq = 2, .hard_state = &hs, .must_sync = false};
	CHECK(wal_sync_queue(s, &c) == 0);
	CHECK(wal_sync_flush(s, 1, &durable) == 1 && durable == 2);
	CHECK(crashfs_sync_count() == syncs);
	CHECK(stop(s) == 0);
	crashfs_reset();
}

/* More batches than the caller takes: the thread writes them as one group
 * and signals the eventfd. */
static void test_many_go_to_thread(void)
{
	struct wal_sync *s = start();
	uint64_t durable = 0;
	for (uint64_t i = 1; i <= 3; i++)
		CHECK(queue_entry(s, i, false) == 0);
	CHECK(wal_sync_flush(s, 1, &durable) == 0);
	CHECK(wal_sync_wait(s, 3) == 0);
	struct pollfd pfd = {.fd = wal_sync_fd(s), .events = POLLIN};
	CHECK(poll(&pfd, 1, 1000) == 1);
	CHECK(wal_sync_durable(s) == 3);
	struct wal_sync_stats st;
	wal_sync_get_stats(s, &st);
	CHECK(st.inline_rounds == 0 && st.rounds == 1 && st.max_group == 3);
	CHECK(survives_crash(s, 3));
	crashfs_reset();
}

/* A started wal_sync whose thread has taken batch 1 and is held inside its
 * fdatasync until gate_set(false). */
static struct wal_sync *start_with_thread_in_fdatasync(void)
{
	struct wal_sync *s = start();
	gated_ops = crashfs_ops;
	gated_ops.fdatasync = gated_fdatasync;
	fs_set_ops(&gated_ops);
	gate_set(true);
	CHECK(queue_entry(s, 1, true) == 0);
	gate_wait_entered();
	return s;
}

/* While the thread is inside a round, the caller never writes: what it
 * queues waits for the thread's next round, and seqs become durable in
 * order. Once the thread is idle again, the caller writes inline. */
static void test_busy_thread_keeps_order(void)
{
	struct wal_sync *s = start_with_thread_in_fdatasync();
	uint64_t durable = 0;
	CHECK(queue_entry(s, 2, false) == 0);
	CHECK(wal_sync_flush(s, 1, &durable) == 0);
	CHECK(queue_entry(s, 3, false) == 0);
	CHECK(wal_sync_flush(s, 8, &durable) == 0);
	CHECK(wal_sync_durable(s) == 0);
	gate_set(false);
	CHECK(wal_sync_wait(s, 3) == 0);
	struct wal_sync_stats st;
	wal_sync_get_stats(s, &st);
	CHECK(st.inline_rounds == 0 && st.rounds == 2 && st.max_group == 2);
	/* the thread, back from its round, may find batch 4 queued before it
	 * sleeps and write it itself; otherwise the caller does: both in order */
	CHECK(queue_entry(s, 4, false) == 0);
	int rc = wal_sync_flush(s, 1, &durable);
	CHECK(rc == 0 || (rc == 1 && durable == 4));
	CHECK(wal_sync_wait(s, 4) == 0 && wal_sync_durable(s) == 4);
	CHECK(survives_crash(s, 4));
	crashfs_reset();
}

/* An inline fdatasync failure is final, as on the thread: -1, the text,
 * durable stays, later batches are refused. */
static void test_inline_failure(void)
{
	struct wal_sync *s = start();
	uint64_t durable = 0;
	CHECK(queue_entry(s, 1, false) == 0);
	CHECK(wal_sync_flush(s, 1, &durable) == 1);
	crashfs_fail_syncs(EIO);
	CHECK(queue_entry(s, 2, false) == 0);
	durable = 0;
	CHECK(wal_sync_flush(s, 1, &durable) == -1);
	CHECK(durable == 0 && wal_sync_durable(s) == 1);
	char err[512] = "";
	CHECK(wal_sync_failed(s, err, sizeof(err)));
	CHECK(strstr(err, "fdatasync") != NULL);
	CHECK(wal_sync_wait(s, 2) < 0);
	CHECK(queue_entry(s, 3, false) < 0);
	CHECK(wal_sync_flush(s, 1, &durable) == -1);
	struct wal_sync_stats st;
	wal_sync_get_stats(s, &st);
	CHECK(st.rounds == 1 && st.inline_rounds == 1);
	crashfs_fail_syncs(0);
	CHECK(stop(s) < 0);
	crashfs_reset();
}

/* Batches queued before a failure was known are dropped by the thread's
 * next round: never durable, never acknowledged. */
static void test_queued_behind_failure(void)
{
	struct wal_sync *s = start_with_thread_in_fdatasync();
	CHECK(queue_entry(s, 2, false) == 0); /* the failure is not known yet */
	crashfs_fail_syncs(EIO);
	gate_set(false);
	CHECK(wal_sync_wait(s, 1) < 0);
	uint64_t durable = 0;
	CHECK(wal_sync_flush(s, 1, &durable) == -1);
	bool never = true;
	for (int i = 0; i < 50; i++) { /* the thread drops batch 2 meanwhile */
		never &= wal_sync_durable(s) == 0;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	CHECK(never);
	crashfs_fail_syncs(0);
	CHECK(stop(s) < 0);
	crashfs_reset();
}

int main(void)
{
	test_inline_lone_batch();
	test_inline_commit_only();
	test_many_go_to_thread();
	test_busy_thread_keeps_order();
	test_inline_failure();
	test_queued_behind_failure();
	return check_summary();
}
