/* fuzz_fs.h - for the disk targets (fuzz_wal, fuzz_snap): the posix file
 * ops with fsync, fdatasync and directory syncs turned into no-ops. The
 * targets test parsing, not durability (crashfs tests that), and a sync per
 * input made them ten times slower. */
#ifndef CETCD_FUZZ_FS_H
#define CETCD_FUZZ_FS_H

#include "disk/fs.h"

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

#endif /* CETCD_FUZZ_FS_H */
