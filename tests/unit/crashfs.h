/* crashfs.h - an in-memory struct fs_ops for tests that remembers what was
 * made durable (fdatasync/fsync for file data, fsync_dir for names) and, on a
 * simulated crash, loses, tears or zeroes what was not (sqlite test6.c idea). */
#ifndef CETCD_CRASHFS_H
#define CETCD_CRASHFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/fs.h"

enum crashfs_mode {
	CRASHFS_DROP = 0, /* every unsynced write and name change is lost */
	CRASHFS_TEAR,	  /* per file: unsynced writes survive except the last,
				 * which keeps only a random prefix (seeded) */
	CRASHFS_ZERO,	  /* per file: like TEAR but the last unsynced write
				 * reads back as zeros over its whole range */
};

extern const struct fs_ops crashfs_ops;

/* Empties the fake disk (only "/" exists), seeds its PRNG and installs
 * crashfs_ops as fs_ops. */
void crashfs_init(uint64_t seed);
/* Frees everything and puts the posix ops back. */
void crashfs_reset(void);
/* Power loss: every fd becomes invalid (-EBADF), names fall back to the last
 * fsync_dir of their directory, file data to its last sync plus what mode
 * keeps. Open objects of the code under test must be abandoned (leaked). */
void crashfs_crash(enum crashfs_mode mode);

/* crashfs_crash, where keep_names also keeps every unsynced create, rename
 * and unlink (a journal that committed them anyway: both outcomes are
 * legal without fsync_dir). */
void crashfs_crash_names(enum crashfs_mode mode, bool keep_names);

/* Power cuts at syscall boundaries. A boundary is every op that can change
 * what a crash leaves: open with O_CREAT/O_TRUNC, pwrite, fdatasync, fsync,
 * fsync_dir, rename, unlink, ftruncate, fallocate, mkdir; they are numbered
 * from 1 since crashfs_init. With crashfs_power_cut_at(n) (0: never) the
 * power goes just before boundary n: that op and every later op (reads
 * included) fail with -EIO until crashfs_crash*, which applies the loss and
 * clears the cut. So a run with no cut counts the boundaries of a workload,
 * and a run per n cuts it at each of them. */
void crashfs_power_cut_at(uint64_t boundary);
uint64_t crashfs_boundaries(void);
bool crashfs_power_is_off(void);

/* CRASHFS_TEAR with the last unsynced write of every file kept for exactly
 * keep bytes (clamped to its length) instead of a random prefix. */
void crashfs_crash_tear_at(size_t keep);

/* Test hooks that bypass the ops (they act on synced and current data alike,
 * like bit rot): XOR one byte; read a file's current size. Return 0 or -errno. */
int crashfs_flip_byte(const char *path, uint64_t off, uint8_t xor_mask);
int crashfs_file_size(const char *path, uint64_t *size);
/* From now on every fdatasync/fsync fails with err (an errno, e.g. EIO);
 * 0 heals the disk. */
void crashfs_fail_syncs(int err);
/* Number of fdatasync + fsync calls since init. */
uint64_t crashfs_sync_count(void);

#endif /* CETCD_CRASHFS_H */
