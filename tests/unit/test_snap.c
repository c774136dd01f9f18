/* test_snap.c - unit tests of snapshot files: round trip, corruption
 * fallback, retention, crash durability (crashfs) and the forked save. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "crashfs.h"
#include "disk/fs.h"
#include "disk/snap.h"

#define SNAPDIR "/data/snap"

static struct raft_snapshot_meta meta_at(uint64_t index, uint64_t term)
{
	struct raft_snapshot_meta m = {.index = index, .term = term};
	m.conf.n_voters = 3;
	m.conf.voters[0] = 0xa1;
	m.conf.voters[1] = 0xb2;
	m.conf.voters[2] = 0xc3;
	m.conf.n_learners = 1;
	m.conf.learners[0] = 0xd4;
	return m;
}

static void payload_for(char *buf, size_t cap, uint64_t index)
{
	snprintf(buf, cap, "{\"store\":\"state at %" PRIu64 "\"}", index);
}

static int save_at(uint64_t index, uint64_t term)
{
	struct raft_snapshot_meta m = meta_at(index, term);
	char data[128], err[512];
	payload_for(data, sizeof(data), index);
	int rc = snap_save(SNAPDIR, &m, data, strlen(data), err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "snap_save: %s\n", err);
	return rc;
}

static bool loaded_is(const struct snap_loaded *l, uint64_t index, uint64_t term)
{
	char want[128];
	payload_for(want, sizeof(want), index);
	const struct raft_membership *c = &l->snap.meta.conf;
	return l->snap.meta.index == index && l->snap.meta.term == term &&
	       l->snap.len == strlen(want) && memcmp(l->snap.data, want, l->snap.len) == 0 &&
	       c->n_voters == 3 && c->voters[1] == 0xb2 && c->n_learners == 1 &&
	       c->learners[0] == 0xd4;
}

static void snap_path(char *buf, size_t cap, uint64_t term, uint64_t index, const char *suffix)
{
	snprintf(buf, cap, SNAPDIR "/%016" PRIx64 "-%016" PRIx64 ".snap%s", term, index, suffix);
}

static bool file_exists(const char *path)
{
	uint64_t size;
	return crashfs_file_size(path, &size) == 0;
}

static void setup(void)
{
	crashfs_init(7);
	fs_ops->mkdir("/data", 0700);
	fs_ops->fsync_dir("/");
}

static void test_round_trip(void)
{
	setup();
	struct snap_loaded l;
	char err[512] = "";
	CHECK(snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) == 0); /* none yet */
	CHECK(save_at(100, 2) == 0);
	CHECK(snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) == 1);
	CHECK(loaded_is(&l, 100, 2));
	CHECK_STR(l.name, "0000000000000002-0000000000000064.snap");
	CHECK(l.broken == 0);
	snap_loaded_free(&l);
	/* empty app data is fine */
	struct raft_snapshot_meta m = meta_at(101, 2);
	CHECK(snap_save(SNAPDIR, &m, NULL, 0, err, sizeof(err)) == 0);
	CHECK(snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) == 1);
	CHECK(l.snap.meta.index == 101 && l.snap.len == 0);
	snap_loaded_free(&l);
	/* max_index picks an older one */
	CHECK(snap_load(SNAPDIR, 100, &l, err, sizeof(err)) == 1 && loaded_is(&l, 100, 2));
	snap_loaded_free(&l);
	CHECK(snap_oldest_index(SNAPDIR) == 100);
	crashfs_reset();
}

static void test_corrupt_fallback(void)
{
	setup();
	CHECK(save_at(10, 1) == 0);
	CHECK(save_at(20, 1) == 0);
	CHECK(save_at(30, 2) == 0);
	char newest[256], broken[256], middle[256];
	snap_path(newest, sizeof(newest), 2, 30, "");
	snap_path(broken, sizeof(broken), 2, 30, ".broken");
	snap_path(middle, sizeof(middle), 1, 20, "");
	uint64_t size;
	CHECK(crashfs_file_size(newest, &size) == 0);
	CHECK(crashfs_flip_byte(newest, size - 3, 0x20) == 0); /* in the app data */
	CHECK(crashfs_flip_byte(middle, 2, 0x01) == 0);	       /* in the magic */
	struct snap_loaded l;
	char err[512] = "";
	/* a reader (cetcdctl backup) skips them and renames nothing */
	CHECK(snap_read(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) == 1);
	CHECK(loaded_is(&l, 10, 1) && l.broken == 2 && strstr(l.note, "skipped") != NULL);
	CHECK(file_exists(newest) && !file_exists(broken) && file_exists(middle));
	snap_loaded_free(&l);
	CHECK(snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) == 1);
	CHECK(loaded_is(&l, 10, 1));
	CHECK(l.broken == 2);
	CHECK(strstr(l.note, "CRC mismatch") != NULL && strstr(l.note, "bad magic") != NULL);
	CHECK(!file_exists(newest) && file_exists(broken));
	snap_loaded_free(&l);
	/* a file cut short (torn copy) is refused too */
	CHECK(save_at(40, 2) == 0);
	char p40[256];
	snap_path(p40, sizeof(p40), 2, 40, "");
	int fd = fs_ops->open(p40, O_RDWR, 0);
	CHECK(fs_ops->ftruncate(fd, 40) == 0);
	fs_ops->close(fd);
	CHECK(snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) == 1 && loaded_is(&l, 10, 1));
	snap_loaded_free(&l);
	crashfs_reset();
}

static void test_retention(void)
{
	setup();
	for (uint64_t i = 1; i <= 6; i++)
		CHECK(save_at(i * 100, 1) == 0);
	/* a save that died before its rename left a tmp file */
	int fd = fs_ops->open(SNAPDIR "/0000000000000001-0000000000000bb8.snap.tmp",
			      O_RDWR | O_CREAT, 0640);
	fs_ops->close(fd);
	char err[512];
	CHECK(snap_purge(SNAPDIR, 2, err, sizeof(err)) == 5); /* 4 old + 1 tmp */
	char **names;
	size_t n;
	CHECK(fs_ops->list(SNAPDIR, &names, &n) == 0);
	CHECK(n == 2);
	fs_names_free(names, n);
	CHECK(snap_oldest_index(SNAPDIR) == 500);
	struct snap_loaded l;
	CHECK(snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) == 1 && loaded_is(&l, 600, 1));
	snap_loaded_free(&l);
	CHECK(snap_purge(SNAPDIR, 0, err, sizeof(err)) == 0); /* 0: keep all */
	crashfs_reset();
}

/* A completed save survives power loss; a save cut before its rename leaves
 * the previous snapshot as the newest. */
static void test_crash_durability(void)
{
	int bad = 0;
	for (int mode = CRASHFS_DROP; mode <= CRASHFS_ZERO; mode++) {
		setup();
		CHECK(save_at(10, 1) == 0);
		crashfs_crash((enum crashfs_mode)mode);
		struct snap_loaded l;
		char err[512];
		if (snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) != 1 ||
		    !loaded_is(&l, 10, 1))
			bad++;
		snap_loaded_free(&l);
		/* an unfinished save: tmp written but not synced, not renamed */
		int fd = fs_ops->open(SNAPDIR "/0000000000000001-0000000000000014.snap.tmp",
				      O_RDWR | O_CREAT, 0640);
		fs_ops->pwrite(fd, "partial", 7, 0);
		crashfs_crash((enum crashfs_mode)mode);
		if (snap_load(SNAPDIR, UINT64_MAX, &l, err, sizeof(err)) != 1 ||
		    !loaded_is(&l, 10, 1))
			bad++;
		snap_loaded_free(&l);
		crashfs_reset();
	}
	CHECK(bad == 0);
}

/* ---- background save (real fs: the child writes the real disk) ---------------- */

struct big_state {
	size_t bytes;
	unsigned char fill;
	int fail;
};

static int write_big(struct snap_writer *sw, void *arg)
{
	const struct big_state *st = arg;
	if (st->fail)
		return -1;
	unsigned char chunk[8192];
	for (size_t done = 0; done < st->bytes; done += sizeof(chunk)) {
		size_t n = st->bytes - done < sizeof(chunk) ? st->bytes - done : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = (unsigned char)(st->fill + (done + i) / 4096);
		if (snap_writer_write(sw, chunk, n) < 0)
			return -1;
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_async_save(void)
{
	char tmpl[] = "/tmp/cetcd-snap-XXXXXX";
	char *root = mkdtemp(tmpl);
	CHECK(root != NULL);
	if (!root)
		return;
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/snap", root);
	struct big_state st = {.bytes = 32u << 20, .fill = 3};
	struct raft_snapshot_meta m = meta_at(5000, 4);
	struct snap_job *job = NULL;
	char err[512] = "";
	double t0 = now_ms();
	CHECK(snap_save_async(dir, &m, write_big, &st, &job, err, sizeof(err)) == 0);
	double t_fork = now_ms() - t0;
	/* the parent keeps running and may change its state at once (COW) */
	st.fill = 99;
	struct pollfd pfd = {.fd = snap_job_fd(job), .events = POLLIN};
	CHECK(poll(&pfd, 1, 60000) == 1);
	double t_done = now_ms() - t0;
	uint64_t bytes = 0;
	CHECK(snap_job_finish(job, &bytes, err, sizeof(err)) == 0);
	CHECK(bytes > st.bytes && bytes < st.bytes + 4096); /* the file: header + state */
	printf("snap_save_async: 32 MiB; parent blocked %.2f ms (fork), child wrote it in %.1f ms\n",
	       t_fork, t_done);
	CHECK(t_fork < t_done);
	struct snap_loaded l;
	CHECK(snap_load(dir, UINT64_MAX, &l, err, sizeof(err)) == 1);
	CHECK(l.snap.meta.index == 5000 && l.snap.len == st.bytes);
	const unsigned char *d = l.snap.data;
	CHECK(d[0] == 3 && d[4096] == 4); /* the image as of the fork */
	snap_loaded_free(&l);

	/* the serializer failing in the child: reported, nothing published */
	st.fail = 1;
	m = meta_at(6000, 4);
	CHECK(snap_save_async(dir, &m, write_big, &st, &job, err, sizeof(err)) == 0);
	err[0] = '\0';
	CHECK(snap_job_finish(job, NULL, err, sizeof(err)) < 0);
	CHECK(strstr(err, "serialize") != NULL);
	CHECK(snap_load(dir, UINT64_MAX, &l, err, sizeof(err)) == 1 && l.snap.meta.index == 5000);
	snap_loaded_free(&l);

	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	test_round_trip();
	test_corrupt_fallback();
	test_retention();
	test_crash_durability();
	test_async_save();
	return check_summary();
}
