/* fs.h - the disk layer's only door to file syscalls: a small ops table
 * (posix by default) that tests replace with one that loses unsynced writes
 * (tests/unit/crashfs.c). wal.c and snap.c call nothing else for files. */
#ifndef CETCD_FS_H
#define CETCD_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Every op returns >= 0 on success and -errno on failure (never sets errno
 * for the caller to read). Paths are borrowed for the call. */
struct fs_ops {
	const char *name;
	/* open(2) flags (O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC); returns an fd */
	int (*open)(const char *path, int flags, mode_t mode);
	int (*close)(int fd);
	/* one attempt; may be short; returns the bytes moved */
	ssize_t (*pread)(int fd, void *buf, size_t n, uint64_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t n, uint64_t off);
	int (*fdatasync)(int fd);	   /* data + the metadata needed to read it */
	int (*fsync)(int fd);		   /* data + all metadata (size after fallocate) */
	int (*fsync_dir)(const char *dir); /* makes creates/renames/unlinks in dir durable */
	int (*rename)(const char *from, const char *to);
	int (*unlink)(const char *path);
	int (*ftruncate)(int fd, uint64_t len);
	/* reserve [0, len) with zeros and extend the size to len if smaller */
	int (*fallocate)(int fd, uint64_t len);
	int (*mkdir)(const char *path, mode_t mode); /* -EEXIST if it exists */
	/* names in dir (no "." ".."), unsorted: *names is a malloc'd array of
	 * malloc'd strings the caller frees (fs_names_free). */
	int (*list)(const char *dir, char ***names, size_t *n);
	int (*size)(int fd, uint64_t *out);
};

/* The ops every disk-layer call uses. Defaults to &fs_posix_ops. Swap only
 * while no disk-layer object is open (tests do it at start). */
extern const struct fs_ops *fs_ops;
extern const struct fs_ops fs_posix_ops;
void fs_set_ops(const struct fs_ops *ops); /* NULL restores posix */

/* ---- helpers built on the ops ------------------------------------------- */

void fs_names_free(char **names, size_t n);
/* Loops over short transfers. Returns 0 or -errno (-EIO on unexpected EOF
 * for fs_read_full). */
int fs_write_full(int fd, const void *buf, size_t n, uint64_t off);
int fs_read_full(int fd, void *buf, size_t n, uint64_t off);
/* Reads a whole file into a malloc'd buffer (*data, owned by the caller;
 * NUL-terminated for convenience). Returns 0 or -errno. */
int fs_read_file(const char *path, void **data, size_t *len);
/* mkdir -p that accepts an existing directory; fsyncs the parent of every
 * directory it created. Returns 0 or -errno. */
int fs_mkdir_durable(const char *path);
/* Writes "dir/name" into buf (truncates to cap; never fails). */
void fs_join(char *buf, size_t cap, const char *dir, const char *name);
/* The disk layer's file names: "%016x-%016x.<ext>" (a, b), as etcd names its
 * WAL segments and snapshots. */
void fs_pair_name(char *buf, size_t cap, uint64_t a, uint64_t b, const char *ext);
/* Parses such a name with exactly this ext; false for any other name. */
bool fs_parse_pair_name(const char *name, const char *ext, uint64_t *a, uint64_t *b);

#endif /* CETCD_FS_H */
