/* fsync_bench.c - measures this disk: write+fdatasync latency (median of N)
 * and WAL group commit (wal_sync.c) with K concurrent submitters.
 * Usage: fsync_bench [-d DIR] [-n SAMPLES] [-k K[,K...]] [-s SECONDS] */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "disk/fs.h"
#include "disk/wal.h"
#include "disk/wal_sync.h"

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ---- 1. raw write + fdatasync ------------------------------------------------- */

enum raw_mode {
	RAW_FALLOCATE, /* what the WAL does: size set, extents unwritten */
	RAW_APPEND,    /* every write grows the file */
	RAW_ZEROED,    /* zeros written and synced first: overwrites in place */
};

static const char *const raw_names[] = {"fallocated", "appending", "pre-zeroed"};

/* One file per mode; each sample overwrites/extends a fresh 4 KiB block. */
static int raw_latency(const char *dir, int samples, enum raw_mode mode)
{
	char path[4096];
	bool preallocate = mode == RAW_FALLOCATE;
	snprintf(path, sizeof(path), "%s/raw-%d", dir, (int)mode);
	int fd = fs_ops->open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		fprintf(stderr, "open %s: %s\n", path, strerror(-fd));
		return -1;
	}
	if (preallocate &&
	    (fs_ops->fallocate(fd, (uint64_t)samples * 4096 + 4096) < 0 || fs_ops->fsync(fd) < 0)) {
		fprintf(stderr, "fallocate %s failed\n", path);
		fs_ops->close(fd);
		return -1;
	}
	char block[4096];
	memset(block, 0, sizeof(block));
	for (int i = 0; mode == RAW_ZEROED && i <= samples; i++)
		if (fs_write_full(fd, block, sizeof(block), (uint64_t)i * 4096) < 0)
			break;
	if (mode == RAW_ZEROED)
		fs_ops->fsync(fd);
	memset(block, 'x', sizeof(block));
	double *lat = calloc((size_t)samples, sizeof(*lat));
	if (!lat)
		abort();
	for (int i = 0; i < samples; i++) {
		double t0 = now_us();
		if (fs_write_full(fd, block, sizeof(block), (uint64_t)i * 4096) < 0 ||
		    fs_ops->fdatasync(fd) < 0) {
			fprintf(stderr, "write/fdatasync failed\n");
			break;
		}
		lat[i] = now_us() - t0;
	}
	fs_ops->close(fd);
	fs_ops->unlink(path);
	qsort(lat, (size_t)samples, sizeof(*lat), cmp_double);
	printf("write 4 KiB + fdatasync (%s file): median %.0f us, p90 %.0f us, p99 %.0f us, "
	       "min %.0f us (n=%d)\n",
	       raw_names[mode], lat[samples / 2], lat[samples * 9 / 10], lat[samples * 99 / 100],
	       lat[0], samples);
	free(lat);
	return 0;
}

/* ---- 2. WAL group commit -------------------------------------------------------- */

struct gc_run {
	struct wal_sync *s;
	pthread_mutex_t mu; /* seq order = queue order */
	uint64_t next_seq;
	double deadline_us;
	uint64_t acks;
	double lat_sum_us;
	bool failed;
};

static void *gc_client(void *arg)
{
	struct gc_run *r = arg;
	uint8_t payload[256];
	memset(payload, 'v', sizeof(payload));
	uint64_t acks = 0;
	double lat = 0;
	while (now_us() < r->deadline_us) {
		double t0 = now_us();
		pthread_mutex_lock(&r->mu);
		uint64_t seq = ++r->next_seq;
		struct raft_entry e = {
			.term = 1, .index = seq, .data = payload, .len = sizeof(payload)};
		struct wal_batch b = {.seq = seq, .entries = &e, .n_entries = 1, .must_sync = true};
		int rc = wal_sync_submit(r->s, &b);
		pthread_mutex_unlock(&r->mu);
		if (rc < 0 || wal_sync_wait(r->s, seq) < 0) {
			r->failed = true;
			break;
		}
		acks++;
		lat += now_us() - t0;
	}
	pthread_mutex_lock(&r->mu);
	r->acks += acks;
	r->lat_sum_us += lat;
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static int group_commit(const char *dir, int clients, double seconds)
{
	char wdir[4096];
	snprintf(wdir, sizeof(wdir), "%s/wal-k%d", dir, clients);
	struct wal_meta meta = {1, 1};
	struct wal *w;
	char err[512];
	if (wal_create(wdir, &meta, NULL, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	struct wal_stats created; /* the segment creation's fsync is not a commit */
	wal_get_stats(w, &created);
	struct gc_run r = {.deadline_us = now_us() + seconds * 1e6};
	pthread_mutex_init(&r.mu, NULL);
	if (wal_sync_start(w, &r.s, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	pthread_t *th = calloc((size_t)clients, sizeof(*th));
	if (!th)
		abort();
	double t0 = now_us();
	for (int i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, gc_client, &r);
	for (int i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	double elapsed = (now_us() - t0) / 1e6;
	struct wal_sync_stats st;
	wal_sync_get_stats(r.s, &st);
	wal_sync_stop(r.s, NULL, 0);
	wal_close(w, NULL, 0);
	uint64_t fsyncs = st.fsyncs - created.fsyncs;
	printf("group commit, %2d clients: %7.0f acked writes/s, %.3f fdatasyncs per ack "
	       "(%" PRIu64 " acks, %" PRIu64 " fsyncs, %" PRIu64 " rounds, max %" PRIu64
	       " batches/round), mean ack latency %.0f us%s\n",
	       clients, (double)r.acks / elapsed, r.acks ? (double)fsyncs / (double)r.acks : 0,
	       r.acks, fsyncs, st.rounds, st.max_group, r.acks ? r.lat_sum_us / (double)r.acks : 0,
	       r.failed ? " (FAILED)" : "");
	free(th);
	pthread_mutex_destroy(&r.mu);
	return r.failed ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	int samples = 200;
	double seconds = 2;
	char ks[128] = "1,8,64";
	int opt;
	while ((opt = getopt(argc, argv, "d:n:k:s:")) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			samples = atoi(optarg);
			break;
		case 'k':
			snprintf(ks, sizeof(ks), "%s", optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-d DIR] [-n SAMPLES] [-k K,K..] [-s SECONDS]\n",
				argv[0]);
			return 2;
		}
	}
	if (samples < 10)
		samples = 10;
	char tmpl[] = "/tmp/fsync-bench-XXXXXX";
	bool own_dir = dir == NULL;
	if (own_dir && !(dir = mkdtemp(tmpl))) {
		perror("mkdtemp");
		return 1;
	}
	/* DIR defaults to a fresh mkdtemp directory under /tmp, removed at the end */
	printf("fsync_bench in %s\n", dir);
	int rc = 0;
	for (int m = RAW_FALLOCATE; m <= RAW_ZEROED; m++)
		rc |= raw_latency(dir, samples, (enum raw_mode)m);
	for (char *save, *k = strtok_r(ks, ",", &save); k; k = strtok_r(NULL, ",", &save))
		rc |= group_commit(dir, atoi(k) > 0 ? atoi(k) : 1, seconds);
	if (own_dir) {
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return rc ? 1 : 0;
}
