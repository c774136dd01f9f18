/* snap.c - snapshot files: durable save (tmp, fsync, rename, fsync dir),
 * background save in a forked child, load newest valid with fallback,
 * retention. Format in doc/disk-format.md. */
#include "disk/snap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/crc32c.h"
#include "util/le.h"
#include "util/xalloc.h"
#include "disk/fs.h"

static const char snap_magic[8] = {'C', 'E', 'T', 'C', 'D', 'S', 'N', 'P'};

#define SNAP_HDR 32
#define SNAP_BUF (64 * 1024)

/* ---- names ------------------------------------------------------------------ */

struct snap_file {
	uint64_t term, index;
	char name[64];
};

/* "dir/<term>-<index>.snap": where the snapshot of meta lives. */
static void snap_path(char *buf, size_t cap, const char *dir, const struct raft_snapshot_meta *meta)
{
	char name[64];
	fs_pair_name(name, sizeof(name), meta->term, meta->index, "snap");
	fs_join(buf, cap, dir, name);
}

static bool parse_snap_name(const char *name, struct snap_file *out)
{
	if (!fs_parse_pair_name(name, "snap", &out->term, &out->index))
		return false;
	snprintf(out->name, sizeof(out->name), "%s", name);
	return true;
}

/* newest first */
static int snap_file_cmp(const void *a, const void *b)
{
	const struct snap_file *x = a, *y = b;
	if (x->index != y->index)
		return x->index > y->index ? -1 : 1;
	return x->term > y->term ? -1 : x->term < y->term;
}

/* Lists dir's snapshot files newest first into a malloc'd array (*out,
 * caller frees). When tmp_names is not NULL it gets a malloc'd array of the
 * *.snap.tmp names (caller frees with fs_names_free(*tmp_names, *n_tmp)).
 * Returns 0 (a missing dir is empty) or -errno. */
static int list_snaps(const char *dir, struct snap_file **out, size_t *n, char ***tmp_names,
		      size_t *n_tmp)
{
	char **names;
	size_t count;
	*out = NULL;
	*n = 0;
	if (tmp_names) {
		*tmp_names = NULL;
		*n_tmp = 0;
	}
	int rc = fs_ops->list(dir, &names, &count);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	struct snap_file *v = xcalloc(count, sizeof(*v));
	if (tmp_names) {
		*tmp_names = xcalloc(count, sizeof(char *));
	}
	for (size_t i = 0; i < count; i++) {
		size_t len = strlen(names[i]);
		if (parse_snap_name(names[i], &v[*n])) {
			(*n)++;
		} else if (tmp_names && len > 9 && !strcmp(names[i] + len - 9, ".snap.tmp")) {
			(*tmp_names)[(*n_tmp)++] = names[i]; /* moved: not freed below */
			names[i] = NULL;
		}
	}
	fs_names_free(names, count);
	qsort(v, *n, sizeof(*v), snap_file_cmp);
	*out = v;
	return 0;
}

/* ---- writing ------------------------------------------------------------------ */

/* A snapshot of a large store is hundreds of MB. Left dirty in the page
 * cache until the final fsync, it goes to the disk in one burst, and every
 * WAL fdatasync of the serving loop queues behind it (a 100 ms stall of
 * all clients with 600 MB, measured by the scale sweep). So the writer
 * starts the writeback of each SNAP_SYNC_CHUNK as soon as it is written
 * and waits for the one before: at most two chunks are ever in flight,
 * and the snapshot is written at the disk's pace, in small pieces the WAL
 * can slip between. Only on the real file system (a hint: the final fsync
 * is still what makes the file durable). */
#define SNAP_SYNC_CHUNK ((uint64_t)4 << 20)

struct snap_writer {
	int fd;
	uint64_t synced; /* offset up to which writeback was started */
	uint64_t off;	 /* file offset of buf[0] */
	uint8_t *buf;
	size_t len;
	uint64_t data_len;
	uint32_t crc;
	int err; /* first -errno, sticky */
};

static int sw_flush(struct snap_writer *sw)
{
	if (sw->err)
		return -1;
	if (sw->len == 0)
		return 0;
	int rc = fs_write_full(sw->fd, sw->buf, sw->len, sw->off);
	if (rc < 0) {
		sw->err = rc;
		return -1;
	}
	sw->off += sw->len;
	sw->len = 0;
	if (fs_ops == &fs_posix_ops && sw->off - sw->synced >= SNAP_SYNC_CHUNK) {
		/* the chunk before: wait until it is on the disk; this one: start */
		if (sw->synced >= SNAP_SYNC_CHUNK)
			(void)sync_file_range(sw->fd, (off64_t)(sw->synced - SNAP_SYNC_CHUNK),
					      SNAP_SYNC_CHUNK,
					      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
						      SYNC_FILE_RANGE_WAIT_AFTER);
		(void)sync_file_range(sw->fd, (off64_t)sw->synced, sw->off - sw->synced,
				      SYNC_FILE_RANGE_WRITE);
		sw->synced = sw->off;
	}
	return 0;
}

int snap_writer_write(struct snap_writer *sw, const void *data, size_t len)
{
	sw->crc = crc32c(sw->crc, data, len);
	sw->data_len += len;
	const uint8_t *p = data;
	while (len > 0) {
		if (sw->err)
			return -1;
		size_t room = SNAP_BUF - sw->len, n = len < room ? len : room;
		memcpy(sw->buf + sw->len, p, n);
		sw->len += n;
		p += n;
		len -= n;
		if (sw->len == SNAP_BUF && sw_flush(sw) < 0)
			return -1;
	}
	return sw->err ? -1 : 0;
}

static size_t meta_encode(uint8_t *p, const struct raft_snapshot_meta *m)
{
	le_put_u64(p, m->index);
	le_put_u64(p + 8, m->term);
	le_put_u32(p + 16, (uint32_t)m->conf.n_voters);
	le_put_u32(p + 20, (uint32_t)m->conf.n_learners);
	size_t off = 24;
	for (size_t i = 0; i < m->conf.n_voters; i++, off += 8)
		le_put_u64(p + off, m->conf.voters[i]);
	for (size_t i = 0; i < m->conf.n_learners; i++, off += 8)
		le_put_u64(p + off, m->conf.learners[i]);
	return off;
}

static bool meta_decode(const uint8_t *p, size_t len, struct raft_snapshot_meta *m)
{
	if (len < 24)
		return false;
	memset(m, 0, sizeof(*m));
	m->index = le_get_u64(p);
	m->term = le_get_u64(p + 8);
	uint32_t nv = le_get_u32(p + 16), nl = le_get_u32(p + 20);
	if (nv > RAFT_MAX_MEMBERS || nl > RAFT_MAX_MEMBERS || len != 24 + 8 * (size_t)(nv + nl))
		return false;
	m->conf.n_voters = nv;
	m->conf.n_learners = nl;
	size_t off = 24;
	for (uint32_t i = 0; i < nv; i++, off += 8)
		m->conf.voters[i] = le_get_u64(p + off);
	for (uint32_t i = 0; i < nl; i++, off += 8)
		m->conf.learners[i] = le_get_u64(p + off);
	return true;
}

static void header_encode(uint8_t *h, uint32_t meta_len, uint64_t data_len, uint32_t crc)
{
	memcpy(h, snap_magic, 8);
	le_put_u32(h + 8, SNAP_FORMAT_VERSION);
	le_put_u32(h + 12, meta_len);
	le_put_u64(h + 16, data_len);
	le_put_u32(h + 24, crc);
	le_put_u32(h + 28, crc32c(0, h, 28));
}

/* Writes "<name>.tmp" fully and fsyncs it. Returns 0 or -1 (err). */
static int write_tmp(const char *tmp, const struct raft_snapshot_meta *meta, snap_write_fn fn,
		     void *arg, char *err, size_t cap)
{
	int fd = fs_ops->open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0640);
	if (fd < 0) {
		errbuf_printf(err, cap, "snap: create %s: %s", tmp, strerror(-fd));
		return -1;
	}
	uint8_t meta_buf[24 + 16 * RAFT_MAX_MEMBERS];
	size_t meta_len = meta_encode(meta_buf, meta);
	struct snap_writer sw = {
		.fd = fd, .synced = 0, .off = SNAP_HDR + meta_len, .buf = xmalloc(SNAP_BUF)};
	sw.crc = crc32c(0, meta_buf, meta_len);
	int rc = fn(&sw, arg);
	if (rc == 0)
		rc = sw_flush(&sw);
	const char *what = sw.err ? "write" : "serialize";
	if (rc == 0) {
		uint8_t h[SNAP_HDR];
		header_encode(h, (uint32_t)meta_len, sw.data_len, sw.crc);
		what = "write";
		if ((rc = fs_write_full(fd, h, SNAP_HDR, 0)) == 0)
			rc = fs_write_full(fd, meta_buf, meta_len, SNAP_HDR);
		if (rc == 0) {
			what = "fsync";
			rc = fs_ops->fsync(fd);
		}
		if (rc < 0)
			sw.err = rc;
	}
	free(sw.buf);
	fs_ops->close(fd);
	if (rc < 0) {
		errbuf_printf(err, cap, "snap: %s %s: %s", what, tmp,
			      sw.err ? strerror(-sw.err) : "failed");
		fs_ops->unlink(tmp);
		return -1;
	}
	return 0;
}

int snap_save_stream(const char *dir, const struct raft_snapshot_meta *meta, snap_write_fn fn,
		     void *arg, char *err, size_t cap)
{
	int rc = fs_mkdir_durable(dir);
	if (rc < 0) {
		errbuf_printf(err, cap, "snap: mkdir %s: %s", dir, strerror(-rc));
		return -1;
	}
	char path[4096], tmp[4100];
	snap_path(path, sizeof(path), dir, meta);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (write_tmp(tmp, meta, fn, arg, err, cap) < 0)
		return -1;
	rc = fs_ops->rename(tmp, path);
	if (rc == 0)
		rc = fs_ops->fsync_dir(dir); /* the rename itself must survive */
	if (rc < 0) {
		errbuf_printf(err, cap, "snap: publish %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

struct mem_src {
	const void *data;
	size_t len;
};

static int write_mem(struct snap_writer *sw, void *arg)
{
	const struct mem_src *m = arg;
	return snap_writer_write(sw, m->data, m->len);
}

int snap_save(const char *dir, const struct raft_snapshot_meta *meta, const void *data, size_t len,
	      char *err, size_t cap)
{
	struct mem_src m = {data, len};
	return snap_save_stream(dir, meta, write_mem, &m, err, cap);
}

/* ---- background save ------------------------------------------------------------ */

#define SNAP_CHILD_NICE 10 /* added to the child's nice value */

struct snap_job {
	pid_t pid;
	int fd;		 /* read end of the result pipe */
	char path[4096]; /* the file the child writes */
};

/* The child: write the file, send the error text (if any), exit. Never
 * returns; _exit skips atexit handlers and the parent's stdio buffers. */
static void snap_child(int wfd, const char *dir, const struct raft_snapshot_meta *meta,
		       snap_write_fn fn, void *arg)
{
	char err[512] = "";
	fs_set_ops(NULL); /* the child always writes the real disk */
	/* The loop keeps serving while we write: on a busy machine the child
	 * must not take its CPU (a store of 600 MB is most of a second of
	 * serializing and CRC). Lower priority, not starved: it still
	 * finishes when the loop is idle or on another core. */
	errno = 0;
	if (nice(SNAP_CHILD_NICE) == -1 && errno != 0)
		(void)0; /* not allowed: stay at the parent's priority */
	int rc = snap_save_stream(dir, meta, fn, arg, err, sizeof(err));
	if (rc < 0 && !err[0])
		snprintf(err, sizeof(err), "snap: save failed");
	size_t len = rc < 0 ? strlen(err) : 0;
	if (len) {
		ssize_t n = write(wfd, err, len);
		(void)n;
	}
	_exit(rc < 0 ? 1 : 0);
}

int snap_save_async(const char *dir, const struct raft_snapshot_meta *meta, snap_write_fn fn,
		    void *arg, struct snap_job **out, char *err, size_t cap)
{
	*out = NULL;
	/* build the CRC tables now: a pthread_once another thread is inside at
	 * fork time would never finish in the child */
	(void)crc32c(0, "", 0);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		errbuf_printf(err, cap, "snap: pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		errbuf_printf(err, cap, "snap: fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		snap_child(p[1], dir, meta, fn, arg);
	}
	close(p[1]);
	struct snap_job *job = xmalloc(sizeof(*job));
	job->pid = pid;
	job->fd = p[0];
	snap_path(job->path, sizeof(job->path), dir, meta);
	*out = job;
	return 0;
}

int snap_job_fd(const struct snap_job *job)
{
	return job->fd;
}

pid_t snap_job_pid(const struct snap_job *job)
{
	return job->pid;
}

int snap_job_finish(struct snap_job *job, uint64_t *bytes, char *err, size_t cap)
{
	char msg[512];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(job->fd, msg + len, sizeof(msg) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (len += (size_t)n) == sizeof(msg) - 1)
			break;
	}
	msg[len] = '\0';
	close(job->fd);
	int status = 0;
	pid_t r;
	do
		r = waitpid(job->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	bool ok = r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	struct stat st;
	if (bytes) /* the child wrote the real disk, whatever fs_ops says */
		*bytes = ok && stat(job->path, &st) == 0 ? (uint64_t)st.st_size : 0;
	free(job);
	if (ok)
		return 0;
	if (len)
		errbuf_printf(err, cap, "%s", msg);
	else if (r > 0 && WIFSIGNALED(status))
		errbuf_printf(err, cap, "snap: child killed by signal %d", WTERMSIG(status));
	else
		errbuf_printf(err, cap, "snap: child failed");
	return -1;
}

/* ---- loading ------------------------------------------------------------------------ */

/* Verifies a whole file image; fills out (pointing into d). Returns NULL or
 * what is wrong. */
static const char *snap_verify(const uint8_t *d, size_t size, const struct snap_file *f,
			       struct raft_snapshot *out)
{
	if (size < SNAP_HDR || memcmp(d, snap_magic, 8) != 0)
		return "not a snapshot file (bad magic or too short)";
	if (le_get_u32(d + 28) != crc32c(0, d, 28))
		return "header CRC mismatch";
	if (le_get_u32(d + 8) != SNAP_FORMAT_VERSION)
		return "unknown format version";
	uint32_t meta_len = le_get_u32(d + 12);
	uint64_t data_len = le_get_u64(d + 16);
	if (meta_len > size - SNAP_HDR || data_len != size - SNAP_HDR - meta_len)
		return "length mismatch (truncated?)";
	if (crc32c(0, d + SNAP_HDR, meta_len + data_len) != le_get_u32(d + 24))
		return "CRC mismatch";
	if (!meta_decode(d + SNAP_HDR, meta_len, &out->meta))
		return "bad metadata";
	if (out->meta.index != f->index || out->meta.term != f->term)
		return "metadata does not match the file name";
	out->data = d + SNAP_HDR + meta_len;
	out->len = data_len;
	return NULL;
}

/* snap_load and snap_read: rename_broken says whether a bad file is set
 * aside (a member's start) or only reported (a reader such as backup). */
static int load_newest(const char *dir, uint64_t max_index, bool rename_broken,
		       struct snap_loaded *out, char *err, size_t cap)
{
	memset(out, 0, sizeof(*out));
	struct snap_file *files;
	size_t n;
	int rc = list_snaps(dir, &files, &n, NULL, NULL);
	if (rc < 0) {
		errbuf_printf(err, cap, "snap: list %s: %s", dir, strerror(-rc));
		return -1;
	}
	int found = 0;
	for (size_t i = 0; i < n && !found; i++) {
		if (files[i].index > max_index)
			continue;
		char path[4096];
		fs_join(path, sizeof(path), dir, files[i].name);
		void *data;
		size_t size;
		rc = fs_read_file(path, &data, &size);
		if (rc < 0) {
			errbuf_printf(err, cap, "snap: read %s: %s", path, strerror(-rc));
			free(files);
			snap_loaded_free(out);
			return -1;
		}
		const char *why = snap_verify(data, size, &files[i], &out->snap);
		if (!why) {
			out->data = data;
			snprintf(out->name, sizeof(out->name), "%s", files[i].name);
			found = 1;
			break;
		}
		free(data);
		char broken[4200];
		snprintf(broken, sizeof(broken), "%s.broken", path);
		int rc2 = rename_broken ? fs_ops->rename(path, broken) : 0;
		size_t used = strlen(out->note);
		snprintf(out->note + used, sizeof(out->note) - used, "%ssnap: %.200s: %s: %s",
			 used ? "; " : "", path, why,
			 !rename_broken ? "skipped" :
			 rc2 < 0	? "could not rename it" :
					  "renamed to *.broken");
		out->broken++;
	}
	free(files);
	return found;
}

int snap_load(const char *dir, uint64_t max_index, struct snap_loaded *out, char *err, size_t cap)
{
	return load_newest(dir, max_index, true, out, err, cap);
}

int snap_read(const char *dir, uint64_t max_index, struct snap_loaded *out, char *err, size_t cap)
{
	return load_newest(dir, max_index, false, out, err, cap);
}

void snap_loaded_free(struct snap_loaded *s)
{
	free(s->data);
	memset(s, 0, sizeof(*s));
}

/* ---- retention --------------------------------------------------------------------- */

int snap_purge(const char *dir, unsigned max_snapshots, char *err, size_t cap)
{
	struct snap_file *files;
	char **tmps;
	size_t n, n_tmp;
	int rc = list_snaps(dir, &files, &n, &tmps, &n_tmp);
	if (rc < 0) {
		errbuf_printf(err, cap, "snap: list %s: %s", dir, strerror(-rc));
		return -1;
	}
	int deleted = 0;
	for (size_t i = 0; i < n_tmp; i++) {
		char path[4096];
		fs_join(path, sizeof(path), dir, tmps[i]);
		if (fs_ops->unlink(path) == 0)
			deleted++;
	}
	fs_names_free(tmps, n_tmp);
	for (size_t i = max_snapshots; max_snapshots && i < n; i++) {
		char path[4096];
		fs_join(path, sizeof(path), dir, files[i].name);
		rc = fs_ops->unlink(path);
		if (rc < 0 && rc != -ENOENT) {
			errbuf_printf(err, cap, "snap: unlink %s: %s", path, strerror(-rc));
			free(files);
			return -1;
		}
		deleted++;
	}
	free(files);
	return deleted;
}

uint64_t snap_oldest_index(const char *dir)
{
	struct snap_file *files;
	size_t n;
	if (list_snaps(dir, &files, &n, NULL, NULL) < 0)
		return 0;
	uint64_t idx = n ? files[n - 1].index : 0;
	free(files);
	return idx;
}
