/* snap.h - snapshot files <dir>/%016x-%016x.snap (term, index): durable
 * save (in the caller or a forked copy-on-write child), load newest valid
 * with fallback, retention. Format: doc/disk-format.md. */
#ifndef CETCD_SNAP_H
#define CETCD_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "raft/raft.h"

#define SNAP_FORMAT_VERSION	   1
#define SNAP_DEFAULT_MAX_SNAPSHOTS 5

/* Streaming writer handed to the app's serializer (buffers, computes the
 * CRC as data goes by). */
struct snap_writer;

/* Appends len bytes of app data. Returns 0 or -1 (error kept in the writer;
 * the save fails). */
int snap_writer_write(struct snap_writer *sw, const void *data, size_t len);

/* The app's serializer: writes its state through sw; returns 0 or -1. In
 * snap_save_async it runs in the forked child: it may read the parent's
 * memory (a frozen copy-on-write image) but must not take locks another
 * thread could have held at fork time, nor touch fds it does not own. */
typedef int (*snap_write_fn)(struct snap_writer *sw, void *arg);

/* Writes a snapshot file durably in dir (created if missing) from fn.
 * Returns 0 or -1 with err. Uses fs_ops. */
int snap_save_stream(const char *dir, const struct raft_snapshot_meta *meta, snap_write_fn fn,
		     void *arg, char *err, size_t cap);

/* Same with the data in memory (borrowed). */
int snap_save(const char *dir, const struct raft_snapshot_meta *meta, const void *data, size_t len,
	      char *err, size_t cap);

/* ---- background save ---------------------------------------------------------- */

/* A save running in a forked child. The child writes the file through the
 * posix fs ops (a test fs installed in the parent does not reach it), then
 * reports through a pipe: the parent's end becomes readable (EOF) when the
 * child is done; the child writes "" on success or its error text first. */
struct snap_job;

/* Forks; the child runs snap_save_stream(dir, meta, fn, arg) and _exit()s.
 * The parent returns at once (no disk work) with *out owned by the caller
 * until snap_job_finish. Returns 0 or -1 (err; fn never runs). */
int snap_save_async(const char *dir, const struct raft_snapshot_meta *meta, snap_write_fn fn,
		    void *arg, struct snap_job **out, char *err, size_t cap);

/* Readable (epoll EPOLLIN/EPOLLHUP) once the child has finished. Owned by job. */
int snap_job_fd(const struct snap_job *job);
pid_t snap_job_pid(const struct snap_job *job);

/* Collects the result (blocks until the child exits if it has not), reaps
 * the child and frees job. Returns 0 when the snapshot is durable (with the
 * file's size in *bytes when bytes is not NULL), -1 with err otherwise. */
int snap_job_finish(struct snap_job *job, uint64_t *bytes, char *err, size_t cap);

/* ---- loading and retention ------------------------------------------------------ */

struct snap_loaded {
	struct raft_snapshot snap; /* snap.data points to data below */
	void *data;		   /* owned; free with snap_loaded_free */
	char name[64];		   /* file name it came from */
	unsigned broken;	   /* newer files found corrupt (renamed *.broken) */
	char note[2048];	   /* what was wrong with them ("" if none): log it */
};

/* Loads the newest snapshot in dir whose header and CRC verify, skipping
 * any newer than max_index (UINT64_MAX: no limit). Corrupt files are renamed
 * "<name>.broken" and the next older one is tried. Returns 1 (found, out
 * owned by the caller), 0 (none: out zeroed), or -1 (I/O error, err). */
int snap_load(const char *dir, uint64_t max_index, struct snap_loaded *out, char *err, size_t cap);
/* snap_load without renaming anything: a bad file is skipped and named in
 * out->note (cetcdctl backup reads a member's files, it does not repair). */
int snap_read(const char *dir, uint64_t max_index, struct snap_loaded *out, char *err, size_t cap);
void snap_loaded_free(struct snap_loaded *s);

/* Deletes all but the newest max_snapshots snapshot files (0: keep all) and
 * stale *.snap.tmp. Returns the number deleted, or -1 (err). Loop thread, or
 * anywhere no save is running. */
int snap_purge(const char *dir, unsigned max_snapshots, char *err, size_t cap);

/* The index of the oldest snapshot file kept in dir (0 if none): the WAL may
 * release segments before it (wal_release_before). */
uint64_t snap_oldest_index(const char *dir);

#endif /* CETCD_SNAP_H */
