/* wal_sync.h - group commit over one struct wal: persist batches queue
 * without blocking; a round writes every queued batch and fdatasyncs once.
 * The WAL thread runs rounds and reports the highest durable seq through an
 * eventfd; when that thread is idle the loop may run a round itself
 * (wal_sync_flush), saving two thread wake-ups on a lone write. */
#ifndef CETCD_WAL_SYNC_H
#define CETCD_WAL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"
#include "disk/wal.h"

/* One raft_update's persist part. Everything is borrowed for the call of
 * wal_sync_submit only (it copies). Written in this order: hard state,
 * snapshot marker, entries (raft.h's order). */
struct wal_batch {
	uint64_t seq;				  /* raft_update.persist_seq; strictly increasing */
	const struct raft_hard_state *hard_state; /* NULL: unchanged */
	bool snapshot_marker;			  /* log a marker for a snapshot made durable */
	uint64_t snap_index, snap_term;
	const struct raft_entry *entries;
	size_t n_entries;
	bool must_sync; /* false: durable means "written" (commit-only) */
};

struct wal_sync_stats {
	uint64_t batches; /* batches submitted and written */
	uint64_t entries;
	uint64_t rounds;	/* groups written (thread or inline) */
	uint64_t inline_rounds; /* of which written by wal_sync_flush's caller */
	uint64_t fsyncs;	/* fdatasync/fsync calls (includes segment rolls) */
	uint64_t released;	/* segments deleted by wal_sync_release_before */
	uint64_t max_group;	/* most batches covered by one round */
	uint64_t bytes;		/* framed bytes appended (etcd_disk_wal_write_bytes_total) */
	struct prom_hist fsync_seconds; /* the wal's (wal.h) */
	struct prom_hist group;		/* batches per durable round (WAL_GROUP_HIST_*) */
};
/* Buckets of the group histogram: 1, 2, 4, .. 512 batches. */
#define WAL_GROUP_HIST_START 1.0
#define WAL_GROUP_HIST_N     10

struct wal_sync;

/* Starts the WAL thread over w, which it owns from now on: the caller must
 * not touch w until wal_sync_stop returned. Returns 0 or -1 (err). */
int wal_sync_start(struct wal *w, struct wal_sync **out, char *err, size_t cap);

/* Queues a copy of b; never blocks on the disk (takes a mutex briefly).
 * Returns 0, or -1 when the log has failed (see wal_sync_failed) or the
 * seq does not increase. Any thread, but seqs must arrive in order. */
int wal_sync_submit(struct wal_sync *s, const struct wal_batch *b);

/* Queues a copy of b like wal_sync_submit, but leaves the thread asleep:
 * the caller must call wal_sync_flush before it sleeps or waits for b.
 * Returns 0 or -1 like wal_sync_submit. */
int wal_sync_queue(struct wal_sync *s, const struct wal_batch *b);

/* Gets the queued batches going. When no round is in flight and at most
 * max_inline batches are queued, writes them all on the calling thread,
 * with one fdatasync (a round, as the thread would), sets *durable (as
 * wal_sync_durable; the eventfd is not signalled) and returns 1. Otherwise
 * wakes the thread (the queue goes after its current round) and returns 0;
 * also 0 when nothing is queued. Returns -1 when the log has failed (now or
 * before; wal_sync_failed has the text): nothing queued is acknowledged.
 * One thread only (the loop): rounds never overlap, so seqs become durable
 * in order whoever writes them. */
int wal_sync_flush(struct wal_sync *s, size_t max_inline, uint64_t *durable);

/* Asks the thread to delete segments wholly before index (wal_release_before,
 * respecting max_wals) after its current round. Never blocks on the disk. */
void wal_sync_release_before(struct wal_sync *s, uint64_t index);

/* An eventfd (non-blocking) that becomes readable when the durable seq
 * advanced or the log failed. Owned by s; add it to the loop. */
int wal_sync_fd(const struct wal_sync *s);

/* Drains the eventfd and returns the highest seq whose batch (and every
 * earlier one) is durable: report RAFT_EV_PERSISTED with it. 0 before any. */
uint64_t wal_sync_durable(struct wal_sync *s);

/* True after a write or fdatasync failed; text in err. Durable never
 * advances again: the server must stop (fdatasync errors are not retried). */
bool wal_sync_failed(struct wal_sync *s, char *err, size_t cap);

/* Blocks until seq is durable or the log failed (returns 0 / -1). For tests
 * and benchmarks; the loop uses the fd. */
int wal_sync_wait(struct wal_sync *s, uint64_t seq);

void wal_sync_get_stats(struct wal_sync *s, struct wal_sync_stats *out);

/* Writes and fdatasyncs everything queued, stops and joins the thread and
 * frees s. w is the caller's again (wal_close it). Returns 0 or -1 (err). */
int wal_sync_stop(struct wal_sync *s, char *err, size_t cap);

#endif /* CETCD_WAL_SYNC_H */
