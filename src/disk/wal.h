/* wal.h - the write-ahead log: Raft entries, hard states and snapshot markers
 * in crc32c frames in preallocated segments; replay, torn-tail repair,
 * corruption detection. Format: doc/disk-format.md. */
#ifndef CETCD_WAL_H
#define CETCD_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"
#include "util/prom.h"

#define WAL_FORMAT_VERSION	 1
#define WAL_DEFAULT_SEGMENT_SIZE (64u * 1024 * 1024)
#define WAL_DEFAULT_MAX_WALS	 5

/* Identity written at the head of every segment. */
struct wal_meta {
	uint64_t member_id;
	uint64_t cluster_id;
};

struct wal_options {
	uint64_t segment_size; /* preallocated bytes per segment; 0: 64 MiB */
	unsigned max_wals;     /* segments kept at least (release never goes below);
				 * 0: keep all (etcd's "0 is unlimited") */
	size_t flush_bytes;    /* wal_append writes (no sync) once this much is
				 * buffered; 0: 1 MiB */
};

/* Not thread-safe: one thread owns a struct wal (the WAL thread while
 * wal_sync runs). All file access goes through fs.h (fs_ops). */
struct wal;

/* What wal_open read back. Everything is owned by the struct (entry data
 * included) until wal_recovered_free. */
struct wal_recovered {
	struct wal_meta meta;
	bool has_hard_state;
	struct raft_hard_state hard_state; /* the last one logged; commit clamped
						 * to the last entry */
	struct raft_entry *entries;	   /* contiguous, from snap_index + 1, after every
					 * conflicting-suffix overwrite was replayed */
	size_t n_entries;
	uint64_t marker_index, marker_term; /* last snapshot marker seen (0, 0 if none) */
	uint64_t torn_bytes;		    /* bytes zeroed at the tail of the last segment */
	char note[512];			    /* human text on any repair done ("" if none): log it */
};

void wal_recovered_free(struct wal_recovered *rec);

/* Fills p from rec (borrowing rec's entries) and snap (may be NULL). */
void wal_recovered_to_persisted(const struct wal_recovered *rec, const struct raft_snapshot *snap,
				struct raft_persisted *p);

/* True when dir holds at least one segment (a WAL to open, not create). */
bool wal_exists(const char *dir);

/* Creates dir (if missing, fsyncing its parent) and the first segment
 * 0000000000000000-0000000000000001.wal (sequence 0, first index 1), durably.
 * Fails if dir already has segments. On success *out is owned by the caller (wal_close). On error
 * returns -1 with text in err. */
int wal_create(const char *dir, const struct wal_meta *meta, const struct wal_options *o,
	       struct wal **out, char *err, size_t cap);

/* Opens an existing WAL for appending after replaying it. snap_index and
 * snap_term name the snapshot the caller restored (0, 0: none); rec gets the
 * entries after it. A torn or zero-filled tail in the last segment is zeroed
 * (durably) and described in rec->note. A last segment that ends right
 * after a record (cut by wal_close_trim) is a clean end; it is preallocated
 * back to segment_size (durably) before this returns. A bad record anywhere else, a gap in
 * the indexes or segment sequence, or a snapshot the WAL does not connect to
 * returns -1 with err naming the file and byte offset; *out stays NULL and
 * rec is empty. On success *out and rec are owned by the caller. */
int wal_open(const char *dir, const struct wal_options *o, uint64_t snap_index, uint64_t snap_term,
	     struct wal **out, struct wal_recovered *rec, char *err, size_t cap);

/* Replays dir like wal_open without changing anything on disk: a torn tail
 * of the last segment ends the records (rec->note says so) instead of being
 * zeroed, and nothing is preallocated or appended, so the WAL of a running
 * member can be read (cetcdctl backup). Corruption is refused as in
 * wal_open. Returns 0 (rec owned by the caller) or -1 with err. */
int wal_read(const char *dir, uint64_t snap_index, uint64_t snap_term, struct wal_recovered *rec,
	     char *err, size_t cap);

/* Buffers hs (if not NULL) then the n entries (borrowed; copied into the
 * buffer). entries[0].index may be <= the last index appended: replay
 * then drops the old suffix from there, as Raft did. May write (never
 * sync) when the buffer passes flush_bytes, and may roll to a new segment
 * when the current one is full (that fdatasyncs the full one first).
 * Returns 0 or -1 (error text: wal_error). After an error the wal is
 * unusable (the disk state is unknown): close it and stop the server. */
int wal_append(struct wal *w, const struct raft_hard_state *hs, const struct raft_entry *e,
	       size_t n);

/* Buffers a snapshot marker: the app saved (or installed) the snapshot at
 * index/term. On replay an installed snapshot that does not match the log
 * resets the log to start after it. Call after the snapshot file is durable. */
int wal_snapshot_marker(struct wal *w, uint64_t index, uint64_t term);

/* Writes buffered records (no fdatasync). Returns 0 or -1. */
int wal_flush(struct wal *w);
/* Writes buffered records and fdatasyncs the segment: everything appended
 * so far is durable when it returns 0. No-op (no fdatasync) when nothing was
 * appended since the last sync. Returns 0 or -1. */
int wal_sync(struct wal *w);

/* Deletes the oldest segments whose entries are all < index while more than
 * max_wals segments remain (the current segment is never deleted). Pass
 * the index of the oldest snapshot still kept on disk, so that falling back
 * to it still finds its WAL. Returns the number of segments deleted or -1. */
int wal_release_before(struct wal *w, uint64_t index);

/* Flushes, fdatasyncs and frees. Returns 0 or -1 (the wal is freed anyway;
 * error text in err when err != NULL). */
int wal_close(struct wal *w, char *err, size_t cap);

/* wal_close for a graceful stop: once everything is durable, also cuts the
 * current segment's unused preallocated tail (ftruncate to the end of its
 * last record, fsync), so a stopped member's WAL takes only what its records
 * use. wal_open preallocates the segment again before appending. A wal that
 * failed is freed untouched. Returns 0 or -1 (freed anyway; text in err). */
int wal_close_trim(struct wal *w, char *err, size_t cap);

/* Last error text (owned by w). */
const char *wal_error(const struct wal *w);

struct wal_stats {
	uint64_t fsyncs; /* fdatasync/fsync calls made by this wal */
	uint64_t writes; /* pwrite calls */
	uint64_t records;
	uint64_t bytes;	      /* framed bytes appended */
	uint64_t segments;    /* segments now on disk */
	uint64_t segment_seq; /* sequence of the current segment */
	/* the segment fdatasyncs that make appends durable (etcd's
	 * etcd_disk_wal_fsync_duration_seconds, in seconds) */
	struct prom_hist fsync_seconds;
};
/* etcd's buckets for it: ExponentialBuckets(0.001, 2, 14), 1 ms .. 8.192 s */
#define WAL_FSYNC_HIST_START 0.001
#define WAL_FSYNC_HIST_N     14
void wal_get_stats(const struct wal *w, struct wal_stats *out);

#endif /* CETCD_WAL_H */
