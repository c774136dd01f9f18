/* fuzz_fs.h - for the disk targets (fuzz_wal, fuzz_snap): the posix file
 * ops with fsync, fdatasync and directory syncs turned into no-ops (the
 * targets test parsing, not durability -- crashfs tests that -- and a sync
 * per input made them ten times slower), and the target's scratch dir. */
#ifndef CETCD_FUZZ_FS_H
#define CETCD_FUZZ_FS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "disk/fs.h"
#include "fuzz.h"

static int fuzz_fs_nosync(int fd)
{
	(void)fd;
	return 0;
}

static int fuzz_fs_nosync_dir(const char *dir)
{
	(void)dir;
	return 0;
}

static inline void fuzz_fs_install(void)
{
	static struct fs_ops ops;
	ops = fs_posix_ops;
	ops.name = "fuzz-nosync";
	ops.fdatasync = fuzz_fs_nosync;
	ops.fsync = fuzz_fs_nosync;
	ops.fsync_dir = fuzz_fs_nosync_dir;
	fs_set_ops(&ops);
}

/* The scratch dir of the target: made by fuzz_make_dir, removed at exit. */
static char fuzz_dir[256];

/* Removes the files fuzz_dir holds. */
static void fuzz_clear_dir(void)
{
	DIR *d = opendir(fuzz_dir);
	if (d == NULL)
		return;
	struct dirent *e;
	char path[600];
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, e->d_name);
		unlink(path);
	}
	closedir(d);
}

static void fuzz_remove_dir(void)
{
	fuzz_clear_dir();
	rmdir(fuzz_dir);
}

/* Makes fuzz_dir (once, under $TMPDIR or /tmp, named for target) and
 * installs the file ops without syncs. */
static inline void fuzz_make_dir(const char *target)
{
	if (fuzz_dir[0])
		return;
	const char *tmp = getenv("TMPDIR");
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/cetcd-fuzz-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
		 target);
	FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL);
	atexit(fuzz_remove_dir);
	fuzz_fs_install();
}

#endif /* CETCD_FUZZ_FS_H */
