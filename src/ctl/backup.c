/* backup.c - cetcdctl backup --data-dir D --backup-dir B (etcdctl v2's
 * backup, same flags): copies the newest valid snapshot and the WAL of a
 * member's data dir (the member may be running: the WAL is read without
 * repairing anything) into a new data dir whose WAL names a new member id
 * and a new cluster id, so that the backup can only start as a new cluster:
 * `cetcd --data-dir B --force-new-cluster` (doc/operations.md). Unlike
 * etcdctl, the log keeps its configuration and publish entries: the forced
 * start removes every old member through the log (member/force_new.c). The
 * file formats are disk/'s (doc/disk-format.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "disk/snap.h"
#include "disk/wal.h"
#include "util/clock.h"

/* etcdctl logs through Go's log package in capnslog's format:
 * "2006-01-02 15:04:05.000000 I | text" on stderr. */
static void blog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void blog(const char *fmt, ...)
{
	int64_t ns = clock_wall_ns();
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	localtime_r(&sec, &tm);
	char when[40];
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%06ld I | ", when, (long)(ns % 1000000000 / 1000));
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* mkdir -p (etcd's fileutil.CreateDirAll, mode 0700). Returns 0 or errno. */
static int mkdir_all(const char *path)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return errno;
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

/* Go's syscall error texts start lower-case ("no such file or directory"). */
static const char *go_strerror(int e, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* An existing directory, or etcd's "open <dir>: <error>". */
static int need_dir(const char *dir)
{
	struct stat st;
	char why[128];
	if (stat(dir, &st) != 0) {
		blog("open %s: %s", dir, go_strerror(errno, why, sizeof(why)));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		blog("readdirent %s: not a directory", dir);
		return -1;
	}
	return 0;
}

static uint64_t random_id(void)
{
	uint64_t id = 0;
	while (id == 0)
		if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
			id = (uint64_t)clock_wall_ns() * 0x9E3779B97F4A7C15ull;
	return id;
}

struct backup_paths {
	char src_snap[4096], dst_snap[4096], src_wal[4096], dst_wal[4096];
};

static void backup_paths(struct ctl_flag *f, struct backup_paths *p)
{
	const char *data = ctl_flag(f, "data-dir")->s, *bdir = ctl_flag(f, "backup-dir")->s;
	const char *wal = ctl_flag(f, "wal-dir")->s, *bwal = ctl_flag(f, "backup-wal-dir")->s;
	/* Go's filepath.Join("", "member", "snap") is "member/snap" */
	snprintf(p->src_snap, sizeof(p->src_snap), "%s%smember/snap", data, *data ? "/" : "");
	snprintf(p->dst_snap, sizeof(p->dst_snap), "%s%smember/snap", bdir, *bdir ? "/" : "");
	if (*wal)
		snprintf(p->src_wal, sizeof(p->src_wal), "%s", wal);
	else
		snprintf(p->src_wal, sizeof(p->src_wal), "%s%smember/wal", data, *data ? "/" : "");
	if (*bwal)
		snprintf(p->dst_wal, sizeof(p->dst_wal), "%s", bwal);
	else
		snprintf(p->dst_wal, sizeof(p->dst_wal), "%s%smember/wal", bdir, *bdir ? "/" : "");
}

/* Copies the newest valid snapshot (a damaged newer one is skipped and
 * named; nothing in the source is renamed). Returns 1 (copied, meta set), 0 (none) or -1. */
static int copy_snapshot(const struct backup_paths *p, struct raft_snapshot_meta *meta)
{
	char err[1024];
	struct snap_loaded sl;
	int found = snap_read(p->src_snap, UINT64_MAX, &sl, err, sizeof(err));
	if (found < 0) {
		blog("%s", err);
		return -1;
	}
	if (found == 0)
		return 0;
	if (sl.note[0])
		blog("%s", sl.note);
	*meta = sl.snap.meta;
	int rc = snap_save(p->dst_snap, meta, sl.snap.data, sl.snap.len, err, sizeof(err));
	if (rc != 0)
		blog("%s", err);
	snap_loaded_free(&sl);
	return rc == 0 ? 1 : -1;
}

/* Writes the new WAL: the snapshot marker first (the log starts after it),
 * then the hard state and the entries, under the new identity. */
static int write_wal(const char *dir, const struct wal_meta *meta,
		     const struct raft_snapshot_meta *snap, const struct wal_recovered *rec)
{
	char err[1024];
	struct wal *w;
	struct wal_options o = {.max_wals = WAL_DEFAULT_MAX_WALS};
	if (wal_create(dir, meta, &o, &w, err, sizeof(err)) != 0) {
		blog("%s", err);
		return -1;
	}
	int rc = 0;
	if (snap->index > 0)
		rc = wal_snapshot_marker(w, snap->index, snap->term);
	if (rc == 0)
		rc = wal_append(w, rec->has_hard_state ? &rec->hard_state : NULL, rec->entries,
				rec->n_entries);
	if (rc != 0)
		blog("%s", wal_error(w));
	if (wal_close_trim(w, err, sizeof(err)) != 0 && rc == 0) {
		blog("%s", err);
		rc = -1;
	}
	return rc;
}

/* The WAL of a running member: a read racing a write (a segment rolled or
 * released, a record half copied) fails where the files are fine, so a
 * failure is retried twice before it counts. */
static int read_wal(const char *dir, const struct raft_snapshot_meta *snap,
		    struct wal_recovered *rec, char *err, size_t cap)
{
	for (int attempt = 0;; attempt++) {
		if (wal_read(dir, snap->index, snap->term, rec, err, cap) == 0)
			return 0;
		if (attempt == 2)
			return -1;
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
}

/* A data dir of etcd's (its v3 backend member/snap/db) is not cetcd's. */
static void etcd_hint(const struct backup_paths *p)
{
	char db[4200];
	struct stat st;
	snprintf(db, sizeof(db), "%s/db", p->src_snap);
	if (stat(db, &st) == 0)
		blog("%s is etcd's v3 backend: this looks like an etcd data dir; cetcdctl backup "
		     "reads cetcd data dirs (back up an etcd one with etcdctl backup)",
		     db);
}

int ctl_cmd_backup(int argc, char **argv)
{
	struct ctl_flag flags[] = {
		{.names = "data-dir", .kind = CTL_STRING, .s = ""},
		{.names = "wal-dir", .kind = CTL_STRING, .s = ""},
		{.names = "backup-dir", .kind = CTL_STRING, .s = ""},
		{.names = "backup-wal-dir", .kind = CTL_STRING, .s = ""},
		{.names = "with-v3", .kind = CTL_BOOL}, /* cetcd has no v3 store: nothing more */
		{.names = "help, h", .kind = CTL_BOOL},
		{0},
	};
	ctl_cmd_flags("backup", flags, argc, argv);
	struct backup_paths p;
	backup_paths(flags, &p);
	int e = mkdir_all(p.dst_snap);
	if (e != 0) {
		char why[128];
		blog("failed creating backup snapshot dir %s: mkdir %s: %s", p.dst_snap, p.dst_snap,
		     go_strerror(e, why, sizeof(why)));
		return 1;
	}
	struct raft_snapshot_meta snap = {0};
	/* cetcd makes member/snap at its first snapshot (etcd at start): a WAL
	 * without it is a member that has taken none yet */
	bool no_snap_yet =
		access(p.src_snap, F_OK) != 0 && errno == ENOENT && wal_exists(p.src_wal);
	if (!no_snap_yet && (need_dir(p.src_snap) != 0 || copy_snapshot(&p, &snap) < 0))
		return 1;
	if (need_dir(p.src_wal) != 0)
		return 1;
	char err[1024];
	struct wal_recovered rec;
	if (read_wal(p.src_wal, &snap, &rec, err, sizeof(err)) != 0) {
		blog("%s", err);
		etcd_hint(&p);
		return 1;
	}
	if (rec.note[0])
		blog("%s", rec.note);
	struct wal_meta meta = {.member_id = random_id(), .cluster_id = random_id()};
	int rc = write_wal(p.dst_wal, &meta, &snap, &rec);
	if (rc == 0)
		blog("backed up snapshot index %" PRIu64 " and %zu WAL entries (to index %" PRIu64
		     ") as member %" PRIx64 " of new cluster %" PRIx64
		     "; start it with --force-new-cluster",
		     snap.index, rec.n_entries,
		     rec.n_entries ? rec.entries[rec.n_entries - 1].index : snap.index,
		     meta.member_id, meta.cluster_id);
	wal_recovered_free(&rec);
	return rc == 0 ? 0 : 1;
}
