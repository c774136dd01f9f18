/* wal.c - the write-ahead log: record framing, segment files (create, roll,
 * release), replay with torn-tail repair and corruption detection.
 * The on-disk format is specified in doc/disk-format.md; keep them in step. */
#include "disk/wal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/clock.h"
#include "util/crc32c.h"
#include "util/le.h"
#include "util/xalloc.h"
#include "disk/fs.h"

/* ---- format constants (doc/disk-format.md) ---------------------------------- */

enum wal_rec_type {
	WAL_REC_META = 1,	/* version, member id, cluster id, segment seq, first index */
	WAL_REC_ENTRY = 2,	/* index, term, entry type, time, data */
	WAL_REC_HARD_STATE = 3, /* term, vote, commit */
	WAL_REC_SNAPSHOT = 4,	/* index, term of a snapshot saved or installed */
};

#define WAL_HDR		8	     /* u32 payload length, u32 crc32c(payload) */
#define WAL_TRAILER	0xA5u	     /* last byte of every frame */
#define WAL_MAX_PAYLOAD (256u << 20) /* sanity bound on a length field */
#define WAL_SECTOR	512	     /* torn-write granularity assumed */
#define WAL_META_LEN	(1 + 4 + 8 * 4)
#define WAL_ENTRY_FIXED (1 + 8 + 8 + 1 + 8)
#define WAL_HS_LEN	(1 + 8 * 3)
#define WAL_SNAP_LEN	(1 + 8 * 2)

struct wal_seg {
	uint64_t seq;
	uint64_t first_index; /* last log index at creation + 1 */
};

struct wal {
	char *dir;
	struct wal_options opt;
	struct wal_meta meta;
	struct wal_seg *segs; /* oldest first; the last one is open for writing */
	size_t n_segs, cap_segs;
	int fd;		       /* the current segment, or -1 */
	uint64_t seg_off;      /* where the next write goes in the current segment */
	uint64_t seg_head_end; /* end of the current segment's head records */
	uint8_t *buf;	       /* framed records not yet written */
	size_t buf_len, buf_cap;
	uint64_t last_index; /* index of the last entry appended (names segments) */
	bool has_hs;
	struct raft_hard_state hs; /* last hard state appended (repeated in heads) */
	bool unsynced;		   /* appended since the last fdatasync */
	bool failed;
	struct wal_stats st;
	char err[512];
};

/* ---- little-endian codec ----------------------------------------------------- */

static size_t frame_size(size_t payload_len)
{
	return (WAL_HDR + payload_len + 1 + 7) & ~(size_t)7;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- errors ------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static int wal_fail(struct wal *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	w->failed = true;
	return -1;
}

const char *wal_error(const struct wal *w)
{
	return w->err;
}

/* ---- file names -------------------------------------------------------------- */

static void seg_path(char *buf, size_t cap, const char *dir, const struct wal_seg *s)
{
	char name[64];
	fs_pair_name(name, sizeof(name), s->seq, s->first_index, "wal");
	fs_join(buf, cap, dir, name);
}

static bool parse_seg_name(const char *name, struct wal_seg *out)
{
	return fs_parse_pair_name(name, "wal", &out->seq, &out->first_index);
}

static int seg_cmp(const void *a, const void *b)
{
	const struct wal_seg *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void segs_push(struct wal *w, struct wal_seg s)
{
	if (w->n_segs == w->cap_segs) {
		w->cap_segs = w->cap_segs ? w->cap_segs * 2 : 8;
		w->segs = xrealloc(w->segs, w->cap_segs * sizeof(*w->segs));
	}
	w->segs[w->n_segs++] = s;
}

/* Lists the segments of dir sorted by sequence and removes stale *.wal.tmp
 * files (a roll that crashed before its rename). Returns 0 or -errno. */
static int list_segments(const char *dir, struct wal *w)
{
	char **names;
	size_t n;
	int rc = fs_ops->list(dir, &names, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct wal_seg s;
		size_t len = strlen(names[i]);
		if (parse_seg_name(names[i], &s)) {
			segs_push(w, s);
		} else if (len > 8 && !strcmp(names[i] + len - 8, ".wal.tmp")) {
			char path[4096];
			fs_join(path, sizeof(path), dir, names[i]);
			fs_ops->unlink(path);
		}
	}
	fs_names_free(names, n);
	if (w->n_segs)
		qsort(w->segs, w->n_segs, sizeof(*w->segs), seg_cmp);
	return 0;
}

bool wal_exists(const char *dir)
{
	struct wal tmp = {0};
	bool found = list_segments(dir, &tmp) == 0 && tmp.n_segs > 0;
	free(tmp.segs);
	return found;
}

/* ---- framing ------------------------------------------------------------------ */

static uint8_t *buf_room(struct wal *w, size_t n)
{
	if (w->buf_len + n > w->buf_cap) {
		size_t cap = w->buf_cap ? w->buf_cap : 64 * 1024;
		while (cap < w->buf_len + n)
			cap *= 2;
		w->buf = xrealloc(w->buf, cap);
		w->buf_cap = cap;
	}
	return w->buf + w->buf_len;
}

/* Frames payload (type byte first) at p: header, payload, zero padding,
 * trailer. p has frame_size(len) bytes. */
static void frame_put(uint8_t *p, const uint8_t *payload, size_t len)
{
	size_t fsz = frame_size(len);
	le_put_u32(p, (uint32_t)len);
	le_put_u32(p + 4, crc32c(0, payload, len));
	memcpy(p + WAL_HDR, payload, len);
	memset(p + WAL_HDR + len, 0, fsz - WAL_HDR - len);
	p[fsz - 1] = WAL_TRAILER;
}

static size_t meta_payload(uint8_t *p, const struct wal_meta *m, const struct wal_seg *s)
{
	p[0] = WAL_REC_META;
	le_put_u32(p + 1, WAL_FORMAT_VERSION);
	le_put_u64(p + 5, m->member_id);
	le_put_u64(p + 13, m->cluster_id);
	le_put_u64(p + 21, s->seq);
	le_put_u64(p + 29, s->first_index);
	return WAL_META_LEN;
}

static size_t hs_payload(uint8_t *p, const struct raft_hard_state *hs)
{
	p[0] = WAL_REC_HARD_STATE;
	le_put_u64(p + 1, hs->term);
	le_put_u64(p + 9, hs->vote);
	le_put_u64(p + 17, hs->commit);
	return WAL_HS_LEN;
}

static size_t snap_payload(uint8_t *p, uint64_t index, uint64_t term)
{
	p[0] = WAL_REC_SNAPSHOT;
	le_put_u64(p + 1, index);
	le_put_u64(p + 9, term);
	return WAL_SNAP_LEN;
}

/* ---- segment creation ----------------------------------------------------------- */

/* Creates segment s durably: "<name>.tmp" preallocated, head records (meta,
 * last hard state) written, fsync (covers the new size), rename, fsync dir.
 * A crash leaves either no segment or a whole one. On success w->fd is the
 * new segment and w->seg_off is past its head. */
static int segment_create(struct wal *w, struct wal_seg s)
{
	char path[4096], tmp[4100];
	seg_path(path, sizeof(path), w->dir, &s);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);

	uint8_t head[2 * 64], payload[64];
	size_t head_len = 0, n = meta_payload(payload, &w->meta, &s);
	frame_put(head, payload, n);
	head_len += frame_size(n);
	if (w->has_hs) {
		n = hs_payload(payload, &w->hs);
		frame_put(head + head_len, payload, n);
		head_len += frame_size(n);
	}

	int fd = fs_ops->open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0640);
	if (fd < 0)
		return wal_fail(w, "wal: create %s: %s", tmp, strerror(-fd));
	int rc = fs_ops->fallocate(fd, w->opt.segment_size);
	const char *what = "fallocate";
	if (rc == 0) {
		what = "write";
		rc = fs_write_full(fd, head, head_len, 0);
	}
	if (rc == 0) {
		what = "fsync";
		rc = fs_ops->fsync(fd);
		w->st.fsyncs++;
	}
	if (rc == 0) {
		what = "rename";
		rc = fs_ops->rename(tmp, path);
	}
	if (rc == 0) {
		what = "fsync dir";
		rc = fs_ops->fsync_dir(w->dir);
	}
	if (rc < 0) {
		fs_ops->close(fd);
		return wal_fail(w, "wal: %s %s: %s", what, path, strerror(-rc));
	}
	w->st.writes++;
	w->fd = fd;
	w->seg_off = head_len;
	w->seg_head_end = head_len;
	segs_push(w, s);
	return 0;
}

/* ---- writing ----------------------------------------------------------------------- */

int wal_flush(struct wal *w)
{
	if (w->failed)
		return -1;
	if (w->buf_len == 0)
		return 0;
	int rc = fs_write_full(w->fd, w->buf, w->buf_len, w->seg_off);
	if (rc < 0)
		return wal_fail(w, "wal: write segment %016" PRIx64 " at offset %" PRIu64 ": %s",
				w->segs[w->n_segs - 1].seq, w->seg_off, strerror(-rc));
	w->st.writes++;
	w->seg_off += w->buf_len;
	w->buf_len = 0;
	return 0;
}

static int wal_datasync(struct wal *w)
{
	uint64_t t0 = clock_mono_us();
	int rc = fs_ops->fdatasync(w->fd);
	w->st.fsyncs++;
	prom_hist_observe(&w->st.fsync_seconds, WAL_FSYNC_HIST_START, WAL_FSYNC_HIST_N,
			  (double)(clock_mono_us() - t0) / 1e6);
	if (rc < 0) /* never retry: the kernel may have dropped the pages */
		return wal_fail(w, "wal: fdatasync segment %016" PRIx64 ": %s",
				w->segs[w->n_segs - 1].seq, strerror(-rc));
	w->unsynced = false;
	return 0;
}

int wal_sync(struct wal *w)
{
	if (w->failed)
		return -1;
	if (!w->unsynced)
		return 0;
	if (wal_flush(w) < 0)
		return -1;
	return wal_datasync(w);
}

/* The current segment is full: make it durable (so a torn tail can only
 * ever be in the last segment), then start the next one. */
static int wal_roll(struct wal *w)
{
	if (wal_flush(w) < 0 || wal_datasync(w) < 0)
		return -1;
	fs_ops->close(w->fd);
	w->fd = -1;
	struct wal_seg next = {w->segs[w->n_segs - 1].seq + 1, w->last_index + 1};
	return segment_create(w, next);
}

/* Appends one framed record to the buffer, rolling first if it would not
 * fit the current segment (a record larger than a whole segment goes into
 * a fresh one and grows it). */
static int append_record(struct wal *w, const uint8_t *payload, size_t len, const void *data,
			 size_t data_len)
{
	if (w->failed)
		return -1;
	size_t total = len + data_len, fsz = frame_size(total);
	uint64_t end = w->seg_off + w->buf_len + fsz;
	if (end > w->opt.segment_size && w->seg_off + w->buf_len > w->seg_head_end) {
		if (wal_roll(w) < 0)
			return -1;
	}
	uint8_t *p = buf_room(w, fsz);
	le_put_u32(p, (uint32_t)total);
	memcpy(p + WAL_HDR, payload, len);
	if (data_len)
		memcpy(p + WAL_HDR + len, data, data_len);
	le_put_u32(p + 4, crc32c(0, p + WAL_HDR, total));
	memset(p + WAL_HDR + total, 0, fsz - WAL_HDR - total);
	p[fsz - 1] = WAL_TRAILER;
	w->buf_len += fsz;
	w->unsynced = true;
	w->st.records++;
	w->st.bytes += fsz;
	if (w->buf_len >= w->opt.flush_bytes)
		return wal_flush(w);
	return 0;
}

int wal_append(struct wal *w, const struct raft_hard_state *hs, const struct raft_entry *e,
	       size_t n)
{
	uint8_t payload[64];
	if (hs) {
		w->hs = *hs;
		w->has_hs = true;
		if (append_record(w, payload, hs_payload(payload, hs), NULL, 0) < 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (e[i].len > WAL_MAX_PAYLOAD - WAL_ENTRY_FIXED)
			return wal_fail(w, "wal: entry %" PRIu64 " too large (%zu bytes)",
					e[i].index, e[i].len);
		w->last_index = e[i].index - 1; /* a roll now names the segment e[i].index */
		payload[0] = WAL_REC_ENTRY;
		le_put_u64(payload + 1, e[i].index);
		le_put_u64(payload + 9, e[i].term);
		payload[17] = e[i].type;
		le_put_u64(payload + 18, (uint64_t)e[i].time);
		if (append_record(w, payload, WAL_ENTRY_FIXED, e[i].data, e[i].len) < 0)
			return -1;
		w->last_index = e[i].index;
	}
	return 0;
}

int wal_snapshot_marker(struct wal *w, uint64_t index, uint64_t term)
{
	uint8_t payload[32];
	if (append_record(w, payload, snap_payload(payload, index, term), NULL, 0) < 0)
		return -1;
	if (index > w->last_index)
		w->last_index = index; /* an installed snapshot moves the log forward */
	return 0;
}

/* ---- construction ------------------------------------------------------------------ */

static struct wal *wal_alloc(const char *dir, const struct wal_options *o)
{
	struct wal *w = xcalloc(1, sizeof(*w));
	w->dir = xstrdup(dir);
	if (o)
		w->opt = *o;
	if (!w->opt.segment_size)
		w->opt.segment_size = WAL_DEFAULT_SEGMENT_SIZE;
	if (!w->opt.flush_bytes)
		w->opt.flush_bytes = 1u << 20;
	w->fd = -1;
	return w;
}

static void wal_free(struct wal *w)
{
	if (w->fd >= 0)
		fs_ops->close(w->fd);
	free(w->segs);
	free(w->buf);
	free(w->dir);
	free(w);
}

int wal_create(const char *dir, const struct wal_meta *meta, const struct wal_options *o,
	       struct wal **out, char *err, size_t cap)
{
	*out = NULL;
	int rc = fs_mkdir_durable(dir);
	if (rc < 0) {
		errbuf_printf(err, cap, "wal: mkdir %s: %s", dir, strerror(-rc));
		return -1;
	}
	if (wal_exists(dir)) {
		errbuf_printf(err, cap, "wal: %s already holds a WAL", dir);
		return -1;
	}
	struct wal *w = wal_alloc(dir, o);
	w->meta = *meta;
	struct wal_seg first = {0, 1};
	if (segment_create(w, first) < 0) {
		errbuf_printf(err, cap, "%s", w->err);
		wal_free(w);
		return -1;
	}
	*out = w;
	return 0;
}

/* Cuts the current segment right after its last record and makes the new
 * size durable (fsync: a size change is metadata). Only after wal_sync
 * returned 0: every record is then durable and everything past seg_off is
 * preallocated zeros, so the cut never touches a record. A crash before the
 * fsync leaves the old size or the new one; both replay the same. */
static int segment_trim(struct wal *w)
{
	uint64_t size;
	int rc = fs_ops->size(w->fd, &size);
	if (rc == 0 && size <= w->seg_off)
		return 0; /* nothing preallocated left (a grown segment) */
	if (rc == 0)
		rc = fs_ops->ftruncate(w->fd, w->seg_off);
	if (rc == 0) {
		rc = fs_ops->fsync(w->fd);
		w->st.fsyncs++;
	}
	if (rc < 0)
		return wal_fail(w, "wal: trim segment %016" PRIx64 " to %" PRIu64 " bytes: %s",
				w->segs[w->n_segs - 1].seq, w->seg_off, strerror(-rc));
	return 0;
}

static int close_wal(struct wal *w, bool trim, char *err, size_t cap)
{
	if (!w)
		return 0;
	int rc = 0;
	if (w->fd >= 0 && (wal_sync(w) < 0 || (trim && segment_trim(w) < 0))) {
		errbuf_printf(err, cap, "%s", w->err);
		rc = -1;
	}
	wal_free(w);
	return rc;
}

int wal_close(struct wal *w, char *err, size_t cap)
{
	return close_wal(w, false, err, cap);
}

int wal_close_trim(struct wal *w, char *err, size_t cap)
{
	return close_wal(w, true, err, cap);
}

void wal_get_stats(const struct wal *w, struct wal_stats *out)
{
	*out = w->st;
	out->segments = w->n_segs;
	out->segment_seq = w->n_segs ? w->segs[w->n_segs - 1].seq : 0;
}

/* ---- release ----------------------------------------------------------------------- */

int wal_release_before(struct wal *w, uint64_t index)
{
	if (w->opt.max_wals == 0)
		return 0;
	size_t drop = 0;
	/* segment i holds only entries < segs[i + 1].first_index */
	while (drop + 1 < w->n_segs && w->n_segs - drop > w->opt.max_wals &&
	       w->segs[drop + 1].first_index <= index)
		drop++;
	for (size_t i = 0; i < drop; i++) {
		char path[4096];
		seg_path(path, sizeof(path), w->dir, &w->segs[i]);
		int rc = fs_ops->unlink(path);
		if (rc < 0 && rc != -ENOENT) {
			memmove(w->segs, w->segs + i, (w->n_segs - i) * sizeof(*w->segs));
			w->n_segs -= i;
			snprintf(w->err, sizeof(w->err), "wal: unlink %.400s: %s", path,
				 strerror(-rc));
			return -1;
		}
	}
	memmove(w->segs, w->segs + drop, (w->n_segs - drop) * sizeof(*w->segs));
	w->n_segs -= drop;
	return (int)drop;
}

/* ---- replay ------------------------------------------------------------------------- */

/* The log as replay rebuilds it: it covers indexes (base, last]; terms[] has
 * one term per index in that range; ents[] holds the entries > snap_index
 * (copies), contiguous, ending at last. */
struct replay {
	uint64_t snap_index, snap_term;
	uint64_t base, base_term, last;
	uint64_t *terms;
	size_t n_terms, cap_terms;
	struct raft_entry *ents;
	size_t n_ents, cap_ents;
	struct wal_recovered *rec;
	bool have_meta;
	bool read_only; /* wal_read: repair nothing, write nothing */
	char *err;
	size_t cap;
};

static void replay_free_ents_from(struct replay *rp, size_t k)
{
	for (size_t i = k; i < rp->n_ents; i++)
		free((void *)rp->ents[i].data);
	if (k < rp->n_ents)
		rp->n_ents = k;
}

/* Drops every index >= from (conflict repair or log reset). */
static void replay_truncate(struct replay *rp, uint64_t from)
{
	if (from <= rp->base) {
		rp->base = from - 1;
		rp->base_term = 0; /* unknown */
		rp->n_terms = 0;
	} else if (from <= rp->last) {
		rp->n_terms = from - 1 - rp->base;
	}
	if (from <= rp->last)
		rp->last = from - 1;
	size_t keep = rp->n_ents;
	while (keep > 0 && rp->ents[keep - 1].index >= from)
		keep--;
	replay_free_ents_from(rp, keep);
}

static bool replay_term_at(const struct replay *rp, uint64_t index, uint64_t *term)
{
	if (index == rp->base && rp->base_term) {
		*term = rp->base_term;
		return true;
	}
	if (index <= rp->base || index > rp->last)
		return false;
	*term = rp->terms[index - rp->base - 1];
	return true;
}

static int replay_entry(struct replay *rp, const char *path, uint64_t off, const uint8_t *body,
			size_t len)
{
	struct raft_entry e = {
		.index = le_get_u64(body),
		.term = le_get_u64(body + 8),
		.type = body[16],
		.time = (int64_t)le_get_u64(body + 17),
		.len = len - (WAL_ENTRY_FIXED - 1), /* len: body bytes after the type */
	};
	if (e.index == 0 || e.index > rp->last + 1) {
		errbuf_printf(rp->err, rp->cap,
			      "wal: %s: offset %" PRIu64 ": entry %" PRIu64
			      " follows entry %" PRIu64 " (gap in the log)",
			      path, off, e.index, rp->last);
		return -1;
	}
	replay_truncate(rp, e.index);
	/* terms never decrease along a Raft log: a record saying otherwise
	 * (with a valid CRC) is corruption, not a log to hand to Raft */
	uint64_t prev_term;
	if (replay_term_at(rp, e.index - 1, &prev_term) && prev_term > e.term) {
		errbuf_printf(rp->err, rp->cap,
			      "wal: %s: offset %" PRIu64 ": entry %" PRIu64 " has term %" PRIu64
			      ", below term %" PRIu64 " of the entry before it",
			      path, off, e.index, e.term, prev_term);
		return -1;
	}
	if (rp->n_terms == rp->cap_terms) {
		rp->cap_terms = rp->cap_terms ? rp->cap_terms * 2 : 1024;
		rp->terms = xrealloc(rp->terms, rp->cap_terms * sizeof(*rp->terms));
	}
	rp->terms[rp->n_terms++] = e.term;
	rp->last = e.index;
	if (e.index <= rp->snap_index)
		return 0;
	if (rp->n_ents == rp->cap_ents) {
		rp->cap_ents = rp->cap_ents ? rp->cap_ents * 2 : 256;
		rp->ents = xrealloc(rp->ents, rp->cap_ents * sizeof(*rp->ents));
	}
	void *data = NULL;
	if (e.len) {
		data = xmalloc(e.len);
		memcpy(data, body + WAL_ENTRY_FIXED - 1, e.len);
	}
	e.data = data;
	rp->ents[rp->n_ents++] = e;
	return 0;
}

/* A snapshot marker: if the log already has index with that term it is a
 * local snapshot (nothing changes); otherwise an installed snapshot replaced
 * the log, which restarts after it. Below the window: cannot be checked and
 * needs no action (later entries repair any conflict). */
static void replay_marker(struct replay *rp, uint64_t index, uint64_t term)
{
	rp->rec->marker_index = index;
	rp->rec->marker_term = term;
	uint64_t t;
	if (index < rp->base || (index == rp->base && !rp->base_term))
		return;
	if (replay_term_at(rp, index, &t) && t == term)
		return;
	/* the whole log is replaced: it restarts after the snapshot */
	rp->n_terms = 0;
	replay_free_ents_from(rp, 0);
	rp->base = index;
	rp->base_term = term;
	rp->last = index;
}

/* Decodes one valid record. Returns 0, or -1 with err set (a record whose
 * CRC is right but that this version cannot read is corruption too). */
static int replay_record(struct replay *rp, const char *path, uint64_t off, const uint8_t *p,
			 size_t len, const struct wal_seg *seg, bool first)
{
	uint8_t type = p[0];
	const uint8_t *body = p + 1;
	if (first != (type == WAL_REC_META)) {
		errbuf_printf(rp->err, rp->cap, "wal: %s: offset %" PRIu64 ": %s", path, off,
			      first ? "segment does not start with a metadata record" :
				      "metadata record in the middle of a segment");
		return -1;
	}
	switch (type) {
	case WAL_REC_META: {
		if (len != WAL_META_LEN)
			break;
		uint32_t version = le_get_u32(body);
		struct wal_meta m = {le_get_u64(body + 4), le_get_u64(body + 12)};
		if (version != WAL_FORMAT_VERSION) {
			errbuf_printf(rp->err, rp->cap,
				      "wal: %s: format version %u, this build reads %u", path,
				      version, WAL_FORMAT_VERSION);
			return -1;
		}
		if (le_get_u64(body + 20) != seg->seq ||
		    le_get_u64(body + 28) != seg->first_index) {
			errbuf_printf(rp->err, rp->cap,
				      "wal: %s: metadata names another segment (renamed file?)",
				      path);
			return -1;
		}
		if (!rp->have_meta) {
			rp->rec->meta = m;
			rp->have_meta = true;
		}
		if (m.member_id != rp->rec->meta.member_id ||
		    m.cluster_id != rp->rec->meta.cluster_id) {
			errbuf_printf(rp->err, rp->cap,
				      "wal: %s: member/cluster id differ from earlier segments",
				      path);
			return -1;
		}
		return 0;
	}
	case WAL_REC_ENTRY:
		if (len < WAL_ENTRY_FIXED)
			break;
		return replay_entry(rp, path, off, body, len - 1);
	case WAL_REC_HARD_STATE:
		if (len != WAL_HS_LEN)
			break;
		rp->rec->has_hard_state = true;
		rp->rec->hard_state.term = le_get_u64(body);
		rp->rec->hard_state.vote = le_get_u64(body + 8);
		rp->rec->hard_state.commit = le_get_u64(body + 16);
		return 0;
	case WAL_REC_SNAPSHOT:
		if (len != WAL_SNAP_LEN)
			break;
		replay_marker(rp, le_get_u64(body), le_get_u64(body + 8));
		return 0;
	default:
		errbuf_printf(rp->err, rp->cap,
			      "wal: %s: offset %" PRIu64 ": unknown record type %u", path, off,
			      type);
		return -1;
	}
	errbuf_printf(rp->err, rp->cap,
		      "wal: %s: offset %" PRIu64 ": record type %u has bad length %zu", path, off,
		      type, len);
	return -1;
}

/* True when [from, to) of d contains a whole 512-byte-aligned zero sector. */
static bool has_zero_sector(const uint8_t *d, uint64_t from, uint64_t to)
{
	uint64_t s = (from + WAL_SECTOR - 1) & ~(uint64_t)(WAL_SECTOR - 1);
	for (; s + WAL_SECTOR <= to; s += WAL_SECTOR)
		if (all_zero(d + s, WAL_SECTOR))
			return true;
	return false;
}

/* Outcome of scanning one segment. */
struct seg_scan {
	uint64_t end;	   /* offset after the last valid record */
	uint64_t torn_len; /* last segment only: bytes from end on to zero */
	const char *why;   /* what was wrong at end (for the note) */
};

/* Classifies a bad frame at off. A frame is torn (an unsynced write cut by
 * the crash) when it runs past EOF, its header is zero, its trailer is
 * zero, or it holds a zero sector: never-written bytes read as zeros in a
 * preallocated file. Anything else is a record that was written whole and
 * then changed: corruption. */
static bool frame_is_torn(const uint8_t *d, uint64_t size, uint64_t off, uint32_t len,
			  bool len_sane)
{
	if (all_zero(d + off, WAL_HDR))
		return true;
	if (!len_sane)
		return false;
	uint64_t fsz = frame_size(len);
	if (off + fsz > size)
		return true;
	if (d[off + fsz - 1] == 0)
		return true;
	return has_zero_sector(d, off + WAL_HDR, off + fsz);
}

static uint64_t last_nonzero_end(const uint8_t *d, uint64_t from, uint64_t size)
{
	uint64_t end = size;
	while (end > from && d[end - 1] == 0)
		end--;
	return end;
}

static int scan_segment(struct replay *rp, const char *path, const uint8_t *d, uint64_t size,
			const struct wal_seg *seg, bool last_seg, struct seg_scan *out)
{
	uint64_t off = 0;
	memset(out, 0, sizeof(*out));
	for (;;) {
		if (off + WAL_HDR > size || all_zero(d + off, WAL_HDR)) {
			/* end of records: the rest must be zeros (preallocation) */
			uint64_t nz = last_nonzero_end(d, off, size);
			out->end = off;
			if (off == 0) {
				errbuf_printf(rp->err, rp->cap,
					      "wal: %s: offset 0: no metadata record", path);
				return -1;
			}
			if (nz == off)
				return 0;
			if (!last_seg) {
				errbuf_printf(rp->err, rp->cap,
					      "wal: %s: offset %" PRIu64 ": data after the end "
					      "of the records (zeroed record?)",
					      path, off);
				return -1;
			}
			/* unsynced writes that reached the disk out of order */
			out->torn_len = nz - off;
			out->why = "bytes after the last record";
			return 0;
		}
		uint32_t len = le_get_u32(d + off);
		bool len_sane = len >= 1 && len <= WAL_MAX_PAYLOAD;
		uint64_t fsz = frame_size(len);
		bool fits = len_sane && off + fsz <= size;
		bool ok = fits && d[off + fsz - 1] == WAL_TRAILER &&
			  crc32c(0, d + off + WAL_HDR, len) == le_get_u32(d + off + 4);
		if (!ok) {
			out->end = off;
			if (last_seg && off > 0 && frame_is_torn(d, size, off, len, len_sane)) {
				out->torn_len = last_nonzero_end(d, off, size) - off;
				out->why = !fits ? "record cut short" : "torn record";
				return 0;
			}
			errbuf_printf(
				rp->err, rp->cap,
				"wal: %s: offset %" PRIu64 ": corrupt record (%s): "
				"refusing to start; the log cannot be trusted past this point",
				path, off,
				!len_sane			? "bad length" :
				!fits				? "length past end of file" :
				d[off + fsz - 1] != WAL_TRAILER ? "bad trailer" :
								  "CRC mismatch");
			return -1;
		}
		if (replay_record(rp, path, off, d + off + WAL_HDR, len, seg, off == 0) < 0)
			return -1;
		off += fsz;
	}
}

/* Zeroes [off, off + len) of the last segment durably (torn-tail repair). */
static int zero_tail(const char *path, uint64_t off, uint64_t len, char *err, size_t cap)
{
	int fd = fs_ops->open(path, O_RDWR, 0);
	if (fd < 0) {
		errbuf_printf(err, cap, "wal: open %s: %s", path, strerror(-fd));
		return -1;
	}
	static const uint8_t zeros[4096];
	int rc = 0;
	for (uint64_t done = 0; rc == 0 && done < len;) {
		size_t n = len - done < sizeof(zeros) ? (size_t)(len - done) : sizeof(zeros);
		rc = fs_write_full(fd, zeros, n, off + done);
		done += n;
	}
	if (rc == 0)
		rc = fs_ops->fdatasync(fd);
	fs_ops->close(fd);
	if (rc < 0) {
		errbuf_printf(err, cap, "wal: repair %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Checks the replayed log against the snapshot and hands the entries to
 * rec. Returns 0 or -1 with err set. */
static int replay_finish(struct replay *rp, const char *dir)
{
	struct wal_recovered *rec = rp->rec;
	if (rp->snap_index < rp->base) {
		errbuf_printf(rp->err, rp->cap,
			      "wal: %s: the log starts after index %" PRIu64 " but the "
			      "snapshot is at %" PRIu64 ": entries in between are missing",
			      dir, rp->base, rp->snap_index);
		return -1;
	}
	uint64_t t;
	if (rp->snap_index > 0 && replay_term_at(rp, rp->snap_index, &t) && t != rp->snap_term) {
		/* the snapshot was installed over a diverged log: its suffix is stale */
		replay_free_ents_from(rp, 0);
		snprintf(rec->note + strlen(rec->note), sizeof(rec->note) - strlen(rec->note),
			 "%swal: entries after snapshot %" PRIu64 " belong to a replaced log "
			 "(term %" PRIu64 " != %" PRIu64 "): dropped",
			 rec->note[0] ? "; " : "", rp->snap_index, t, rp->snap_term);
	}
	size_t keep = 0;
	while (keep < rp->n_ents && rp->ents[keep].term >= rp->snap_term)
		keep++; /* terms never decrease along a log */
	replay_free_ents_from(rp, keep);
	rec->entries = rp->ents;
	rec->n_entries = rp->n_ents;
	rp->ents = NULL; /* moved to rec */
	rp->n_ents = rp->cap_ents = 0;
	uint64_t limit = rec->n_entries ? rec->entries[rec->n_entries - 1].index : rp->snap_index;
	if (rec->hard_state.commit > limit)
		rec->hard_state.commit = limit;
	return 0;
}

static void note_add(struct wal_recovered *rec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_add(struct wal_recovered *rec, const char *fmt, ...)
{
	size_t used = strlen(rec->note);
	if (used && used + 2 < sizeof(rec->note)) {
		strcat(rec->note, "; ");
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rec->note + used, sizeof(rec->note) - used, fmt, ap);
	va_end(ap);
}

/* Opens the last segment for appending at end (the end of its records). A
 * segment shorter than segment_size was trimmed by wal_close_trim: its
 * preallocation comes back (fallocate, fsync) before anything is appended,
 * so appends never change the size and fdatasync stays cheap. A crash
 * before that fsync leaves the short file or the long one with zeros after
 * the records; both replay the same. Returns 0 or -1 with err. */
static int open_last_segment(struct wal *w, const char *path, uint64_t end, char *err, size_t cap)
{
	w->seg_off = end;
	w->seg_head_end = end;
	w->fd = fs_ops->open(path, O_RDWR, 0);
	if (w->fd < 0) {
		errbuf_printf(err, cap, "wal: open %s: %s", path, strerror(-w->fd));
		return -1;
	}
	uint64_t size;
	const char *what = "size of";
	int rc = fs_ops->size(w->fd, &size);
	if (rc == 0 && size < w->opt.segment_size) {
		what = "preallocate";
		rc = fs_ops->fallocate(w->fd, w->opt.segment_size);
		if (rc == 0) {
			what = "fsync";
			rc = fs_ops->fsync(w->fd);
			w->st.fsyncs++;
		}
	}
	if (rc < 0) {
		errbuf_printf(err, cap, "wal: %s %s: %s", what, path, strerror(-rc));
		return -1;
	}
	return 0;
}

/* Replays every segment of w (listed), repairing the last one's tail and
 * leaving w positioned for appending. Returns 0 or -1 with err. */
static int replay_all(struct wal *w, struct replay *rp)
{
	for (size_t i = 0; i < w->n_segs; i++) {
		const struct wal_seg *seg = &w->segs[i];
		char path[4096];
		seg_path(path, sizeof(path), w->dir, seg);
		if (i > 0 && seg->seq != w->segs[i - 1].seq + 1) {
			errbuf_printf(rp->err, rp->cap,
				      "wal: %s: segment %016" PRIx64 " is missing", path,
				      w->segs[i - 1].seq + 1);
			return -1;
		}
		if (i == 0)
			rp->base = rp->last = seg->first_index ? seg->first_index - 1 : 0;
		void *data;
		size_t size;
		int rc = fs_read_file(path, &data, &size);
		if (rc < 0) {
			errbuf_printf(rp->err, rp->cap, "wal: read %s: %s", path, strerror(-rc));
			return -1;
		}
		bool last = i + 1 == w->n_segs;
		struct seg_scan sc;
		rc = scan_segment(rp, path, data, size, seg, last, &sc);
		free(data);
		if (rc < 0)
			return -1;
		if (last && sc.torn_len && rp->read_only) {
			note_add(rp->rec,
				 "wal: %s: %s at offset %" PRIu64 ": %" PRIu64
				 " unsynced bytes not read",
				 path, sc.why, sc.end, sc.torn_len);
		} else if (last && sc.torn_len) {
			if (zero_tail(path, sc.end, sc.torn_len, rp->err, rp->cap) < 0)
				return -1;
			rp->rec->torn_bytes = sc.torn_len;
			note_add(rp->rec,
				 "wal: %s: %s at offset %" PRIu64 ": zeroed %" PRIu64
				 " unsynced bytes",
				 path, sc.why, sc.end, sc.torn_len);
		}
		if (last && !rp->read_only &&
		    open_last_segment(w, path, sc.end, rp->err, rp->cap) < 0)
			return -1;
	}
	return 0;
}

/* Lists the segments of dir into w and replays them into rec (read_only:
 * repair nothing). *snap_in_log: the log holds the snapshot's own entry
 * or marker. Returns 0, or -1 with err (rec freed). */
static int replay_dir(struct wal *w, const char *dir, uint64_t snap_index, uint64_t snap_term,
		      bool read_only, struct wal_recovered *rec, bool *snap_in_log, char *err,
		      size_t cap)
{
	memset(rec, 0, sizeof(*rec));
	int rc = list_segments(dir, w);
	if (rc < 0 || w->n_segs == 0) {
		errbuf_printf(err, cap, "wal: %s: %s", dir,
			      rc < 0 ? strerror(-rc) : "no WAL segments");
		return -1;
	}
	struct replay rp = {.snap_index = snap_index,
			    .snap_term = snap_term,
			    .rec = rec,
			    .read_only = read_only,
			    .err = err,
			    .cap = cap};
	rc = replay_all(w, &rp);
	if (rc == 0)
		rc = replay_finish(&rp, dir);
	uint64_t t;
	*snap_in_log = replay_term_at(&rp, snap_index, &t) && t == snap_term;
	replay_free_ents_from(&rp, 0);
	free(rp.ents);
	free(rp.terms);
	if (rc < 0)
		wal_recovered_free(rec);
	return rc < 0 ? -1 : 0;
}

int wal_open(const char *dir, const struct wal_options *o, uint64_t snap_index, uint64_t snap_term,
	     struct wal **out, struct wal_recovered *rec, char *err, size_t cap)
{
	*out = NULL;
	struct wal *w = wal_alloc(dir, o);
	bool snap_in_log;
	if (replay_dir(w, dir, snap_index, snap_term, false, rec, &snap_in_log, err, cap) < 0) {
		wal_free(w);
		return -1;
	}
	w->meta = rec->meta;
	w->has_hs = rec->has_hard_state;
	w->hs = rec->hard_state;
	w->last_index = rec->n_entries ? rec->entries[rec->n_entries - 1].index : snap_index;
	if (snap_index > 0 && !snap_in_log) {
		/* the snapshot's own marker was lost (crash between the snapshot
		 * file and its marker) or the log diverged: log it now, so the
		 * entries Raft appends after snap_index connect on the next replay */
		if (wal_snapshot_marker(w, snap_index, snap_term) < 0 || wal_sync(w) < 0) {
			errbuf_printf(err, cap, "%s", w->err);
			wal_recovered_free(rec);
			wal_free(w);
			return -1;
		}
	}
	*out = w;
	return 0;
}

int wal_read(const char *dir, uint64_t snap_index, uint64_t snap_term, struct wal_recovered *rec,
	     char *err, size_t cap)
{
	struct wal *w = wal_alloc(dir, NULL);
	bool snap_in_log;
	int rc = replay_dir(w, dir, snap_index, snap_term, true, rec, &snap_in_log, err, cap);
	wal_free(w);
	return rc;
}

void wal_recovered_free(struct wal_recovered *rec)
{
	for (size_t i = 0; i < rec->n_entries; i++)
		free((void *)rec->entries[i].data);
	free(rec->entries);
	memset(rec, 0, sizeof(*rec));
}

void wal_recovered_to_persisted(const struct wal_recovered *rec, const struct raft_snapshot *snap,
				struct raft_persisted *p)
{
	memset(p, 0, sizeof(*p));
	p->hard_state = rec->hard_state;
	p->snapshot = snap;
	p->entries = rec->entries;
	p->n_entries = rec->n_entries;
}
