/* test_wal.c - unit tests of crc32c, WAL framing, segments, replay, repair,
 * corruption detection and the trim of a graceful stop (over crashfs), and of
 * the WAL thread. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "crashfs.h"
#include "util/crc32c.h"
#include "disk/fs.h"
#include "disk/wal.h"
#include "disk/wal_sync.h"

#define DIR  "/data/wal"
#define SEG0 DIR "/0000000000000000-0000000000000001.wal"

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- entry fixtures --------------------------------------------------------- */

/* Entry payloads are derived from (index, term) so any replayed entry can be
 * checked byte for byte. */
static size_t payload_len(uint64_t index, uint64_t term)
{
	return (size_t)((index * 7 + term * 13) % 200);
}

static void fill_payload(uint8_t *p, size_t len, uint64_t index, uint64_t term)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(index * 31 + term * 17 + i);
}

static struct raft_entry make_entry(uint64_t index, uint64_t term, uint8_t *space)
{
	size_t len = payload_len(index, term);
	fill_payload(space, len, index, term);
	struct raft_entry e = {.term = term,
			       .index = index,
			       .type = (uint8_t)(index % 3),
			       .time = (int64_t)(index * 1000 + term),
			       .data = len ? space : NULL,
			       .len = len};
	return e;
}

static bool entry_ok(const struct raft_entry *e, uint64_t index, uint64_t term)
{
	uint8_t want[256];
	size_t len = payload_len(index, term);
	fill_payload(want, len, index, term);
	return e->index == index && e->term == term && e->type == index % 3 &&
	       e->time == (int64_t)(index * 1000 + term) && e->len == len &&
	       (len == 0 || memcmp(e->data, want, len) == 0);
}

/* Appends entries [from, to] with term. */
static int append_range(struct wal *w, uint64_t from, uint64_t to, uint64_t term)
{
	for (uint64_t i = from; i <= to; i++) {
		uint8_t space[256];
		struct raft_entry e = make_entry(i, term, space);
		if (wal_append(w, NULL, &e, 1) < 0)
			return -1;
	}
	return 0;
}

static bool entries_are(const struct wal_recovered *rec, uint64_t from, uint64_t to, uint64_t term)
{
	if (rec->n_entries != to - from + 1)
		return false;
	for (uint64_t i = from; i <= to; i++)
		if (!entry_ok(&rec->entries[i - from], i, term))
			return false;
	return true;
}

static const struct wal_meta test_meta = {0x1111, 0x2222};

static struct wal *fresh_wal(uint64_t segment_size, unsigned max_wals)
{
	struct wal_options o = {.segment_size = segment_size, .max_wals = max_wals};
	struct wal *w = NULL;
	char err[512];
	if (wal_create(DIR, &test_meta, &o, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "wal_create: %s\n", err);
		return NULL;
	}
	return w;
}

static int reopen(uint64_t segment_size, uint64_t snap_index, uint64_t snap_term, struct wal **w,
		  struct wal_recovered *rec, char *err, size_t cap)
{
	struct wal_options o = {.segment_size = segment_size, .max_wals = 2};
	return wal_open(DIR, &o, snap_index, snap_term, w, rec, err, cap);
}

static size_t frame(size_t payload)
{
	return (8 + payload + 1 + 7) & ~(size_t)7;
}

#define META_FRAME	  frame(37)
#define ENTRY_FRAME(i, t) frame(26 + payload_len(i, t))

static void setup(void)
{
	crashfs_init(next_rand());
	CHECK(fs_ops->mkdir("/data", 0700) == 0);
	CHECK(fs_ops->fsync_dir("/") == 0);
}

/* ---- crc32c ------------------------------------------------------------------ */

static void test_crc32c(void)
{
	CHECK(crc32c(0, "123456789", 9) == 0xE3069283u);
	CHECK(crc32c_sw(0, "123456789", 9) == 0xE3069283u);
	uint8_t zeros[32] = {0};
	CHECK(crc32c(0, zeros, 32) == 0x8A9136AAu);
	uint8_t buf[1000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)next_rand();
	bool agree = true, chain = true;
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += 37) {
			uint32_t a = crc32c(0, buf + off, len);
			agree &= a == crc32c_sw(0, buf + off, len);
			size_t cut = len / 3;
			chain &= a == crc32c(crc32c(0, buf + off, cut), buf + off + cut, len - cut);
		}
	CHECK(agree);
	CHECK(chain);
}

/* ---- framing round trip ---------------------------------------------------------- */

static void test_round_trip(void)
{
	setup();
	struct wal *w = fresh_wal(1 << 20, 5);
	CHECK(w != NULL);
	CHECK(wal_exists(DIR));
	struct raft_hard_state hs = {.term = 3, .vote = 0x1111, .commit = 7};
	uint8_t space[256];
	struct raft_entry e = make_entry(1, 3, space);
	CHECK(wal_append(w, &hs, &e, 1) == 0);
	CHECK(append_range(w, 2, 50, 3) == 0);
	hs.commit = 40;
	CHECK(wal_append(w, &hs, NULL, 0) == 0);
	CHECK(wal_sync(w) == 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	CHECK(st.records == 52);
	CHECK(wal_close(w, NULL, 0) == 0);

	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(1 << 20, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(rec.meta.member_id == 0x1111 && rec.meta.cluster_id == 0x2222);
	CHECK(rec.has_hard_state && rec.hard_state.term == 3 && rec.hard_state.vote == 0x1111 &&
	      rec.hard_state.commit == 40);
	CHECK(entries_are(&rec, 1, 50, 3));
	CHECK(rec.torn_bytes == 0 && rec.note[0] == '\0');
	struct raft_persisted p;
	wal_recovered_to_persisted(&rec, NULL, &p);
	CHECK(p.n_entries == 50 && p.entries == rec.entries && p.hard_state.commit == 40);
	/* appending continues where replay stopped */
	CHECK(append_range(w, 51, 60, 4) == 0);
	CHECK(wal_close(w, NULL, 0) == 0);
	wal_recovered_free(&rec);
	CHECK(reopen(1 << 20, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 60 && entry_ok(&rec.entries[59], 60, 4));
	CHECK(entry_ok(&rec.entries[49], 50, 3));
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);

	/* create refuses a dir that already holds a WAL */
	struct wal *w2 = NULL;
	CHECK(wal_create(DIR, &test_meta, NULL, &w2, err, sizeof(err)) < 0 && w2 == NULL);
	CHECK(strstr(err, "already") != NULL);
	crashfs_reset();
}

/* The head of segment 0 and the first entry sit where doc/disk-format.md says. */
static void test_layout(void)
{
	setup();
	struct wal *w = fresh_wal(4096, 5);
	CHECK(append_range(w, 1, 1, 1) == 0);
	CHECK(wal_close(w, NULL, 0) == 0);
	uint64_t size = 0;
	CHECK(crashfs_file_size(SEG0, &size) == 0 && size == 4096); /* preallocated */
	int fd = fs_ops->open(SEG0, O_RDONLY, 0);
	uint8_t d[256];
	CHECK(fs_read_full(fd, d, sizeof(d), 0) == 0);
	fs_ops->close(fd);
	uint32_t len =
		(uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
	uint32_t crc =
		(uint32_t)d[4] | (uint32_t)d[5] << 8 | (uint32_t)d[6] << 16 | (uint32_t)d[7] << 24;
	CHECK(len == 37 && d[8] == 1); /* META */
	CHECK(crc == crc32c(0, d + 8, len));
	CHECK(d[META_FRAME - 1] == 0xA5);
	CHECK(d[META_FRAME + 8] == 2); /* ENTRY */
	CHECK(d[META_FRAME + 9] == 1); /* index 1, little-endian */
	size_t end = META_FRAME + ENTRY_FRAME(1, 1);
	CHECK(d[end - 1] == 0xA5);
	bool zeros = true;
	for (size_t i = end; i < sizeof(d); i++)
		zeros &= d[i] == 0;
	CHECK(zeros);
	crashfs_reset();
}

/* ---- segments --------------------------------------------------------------------- */

static void test_rollover(void)
{
	setup();
	struct wal *w = fresh_wal(2048, 0);
	struct raft_hard_state hs = {.term = 2, .vote = 1, .commit = 0};
	CHECK(wal_append(w, &hs, NULL, 0) == 0);
	CHECK(append_range(w, 1, 300, 2) == 0);
	CHECK(wal_sync(w) == 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	CHECK(st.segments > 10);
	/* a record bigger than a whole segment goes into its own, grown one */
	static uint8_t big[5000];
	memset(big, 0x5a, sizeof(big));
	struct raft_entry e = {.term = 2, .index = 301, .data = big, .len = sizeof(big)};
	CHECK(wal_append(w, NULL, &e, 1) == 0);
	CHECK(append_range(w, 302, 310, 2) == 0);
	CHECK(wal_close(w, NULL, 0) == 0);

	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(2048, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(rec.n_entries == 310);
	bool ok = true;
	for (uint64_t i = 1; i <= 310; i++)
		if (i != 301)
			ok &= entry_ok(&rec.entries[i - 1], i, 2);
	CHECK(ok);
	CHECK(rec.entries[300].len == sizeof(big) && memcmp(rec.entries[300].data, big, 5000) == 0);
	CHECK(rec.has_hard_state && rec.hard_state.term == 2 && rec.hard_state.vote == 1);
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);

	/* a missing middle segment is a gap, not a shorter log */
	char **names;
	size_t n;
	CHECK(fs_ops->list(DIR, &names, &n) == 0);
	char victim[300] = "";
	for (size_t i = 0; i < n; i++)
		if (!strncmp(names[i], "0000000000000003-", 17))
			snprintf(victim, sizeof(victim), DIR "/%s", names[i]);
	fs_names_free(names, n);
	CHECK(fs_ops->unlink(victim) == 0);
	CHECK(reopen(2048, 0, 0, &w, &rec, err, sizeof(err)) < 0 && w == NULL);
	CHECK(strstr(err, "0000000000000003 is missing") != NULL);
	crashfs_reset();
}

static void test_release(void)
{
	setup();
	struct wal *w = fresh_wal(2048, 3);
	CHECK(append_range(w, 1, 200, 1) == 0);
	CHECK(wal_sync(w) == 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	uint64_t before = st.segments;
	CHECK(before > 6);
	CHECK(wal_release_before(w, 0) == 0);
	int dropped = wal_release_before(w, 120);
	CHECK(dropped > 0);
	wal_get_stats(w, &st);
	CHECK(st.segments == before - (uint64_t)dropped);
	CHECK(wal_close(w, NULL, 0) == 0);

	/* everything from the snapshot on is still there */
	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(2048, 119, 1, &w, &rec, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(entries_are(&rec, 120, 200, 1));
	wal_recovered_free(&rec);
	/* max_wals bounds what release may delete: reopen() passes 2 */
	CHECK(wal_release_before(w, 1000) >= 0);
	wal_get_stats(w, &st);
	CHECK(st.segments == 2);
	wal_close(w, NULL, 0);
	/* a snapshot older than the first kept segment cannot be replayed */
	CHECK(reopen(2048, 5, 1, &w, &rec, err, sizeof(err)) < 0);
	CHECK(strstr(err, "missing") != NULL);
	crashfs_reset();

	/* max_wals == 0: keep everything */
	setup();
	w = fresh_wal(2048, 0);
	CHECK(append_range(w, 1, 100, 1) == 0);
	CHECK(wal_release_before(w, 100) == 0);
	wal_close(w, NULL, 0);
	crashfs_reset();
}

/* ---- conflicts and snapshots --------------------------------------------------------- */

static void test_conflict_overwrite(void)
{
	setup();
	struct wal *w = fresh_wal(1024, 0); /* small: the overwrite crosses segments */
	CHECK(append_range(w, 1, 40, 1) == 0);
	CHECK(append_range(w, 25, 30, 2) == 0); /* a new leader replaced 25..40 */
	CHECK(append_range(w, 31, 33, 3) == 0);
	CHECK(append_range(w, 33, 34, 4) == 0);
	CHECK(wal_close(w, NULL, 0) == 0);
	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(1024, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 34);
	bool ok = true;
	for (uint64_t i = 1; i <= 34; i++) {
		uint64_t t = i < 25 ? 1 : i <= 30 ? 2 : i <= 32 ? 3 : 4;
		ok &= entry_ok(&rec.entries[i - 1], i, t);
	}
	CHECK(ok);
	wal_recovered_free(&rec);
	/* from a snapshot inside the replaced range */
	wal_close(w, NULL, 0);
	CHECK(reopen(1024, 30, 2, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 4 && entry_ok(&rec.entries[0], 31, 3) &&
	      entry_ok(&rec.entries[3], 34, 4));
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	crashfs_reset();
}

static void test_snapshot_marker(void)
{
	setup();
	struct wal *w = fresh_wal(1 << 16, 0);
	CHECK(append_range(w, 1, 10, 1) == 0);
	CHECK(wal_snapshot_marker(w, 8, 1) == 0); /* local snapshot: no effect */
	CHECK(append_range(w, 11, 12, 1) == 0);
	/* a snapshot installed from a leader, newer than the log */
	CHECK(wal_snapshot_marker(w, 100, 5) == 0);
	CHECK(append_range(w, 101, 103, 5) == 0);
	struct raft_hard_state hs = {.term = 5, .vote = 0, .commit = 500};
	CHECK(wal_append(w, &hs, NULL, 0) == 0);
	CHECK(wal_close(w, NULL, 0) == 0);

	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(1 << 16, 100, 5, &w, &rec, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(entries_are(&rec, 101, 103, 5));
	CHECK(rec.marker_index == 100 && rec.marker_term == 5);
	CHECK(rec.hard_state.commit == 103); /* clamped to the log */
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	/* without that snapshot the entries 13..100 are nowhere */
	CHECK(reopen(1 << 16, 8, 1, &w, &rec, err, sizeof(err)) < 0);
	CHECK(strstr(err, "missing") != NULL);
	crashfs_reset();

	/* snapshot installed over a diverged log, crash before its marker:
	 * entries after it that belong to the old log are not handed out */
	setup();
	w = fresh_wal(1 << 16, 0);
	CHECK(append_range(w, 1, 10, 1) == 0);
	CHECK(wal_close(w, NULL, 0) == 0);
	CHECK(reopen(1 << 16, 6, 2, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 0);
	CHECK(strstr(rec.note, "replaced log") != NULL);
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	/* snapshot newer than the whole log (marker lost): empty, fine */
	CHECK(reopen(1 << 16, 50, 1, &w, &rec, err, sizeof(err)) == 0 && rec.n_entries == 0);
	wal_recovered_free(&rec);
	/* and appending from there works */
	CHECK(append_range(w, 51, 52, 1) == 0);
	wal_close(w, NULL, 0);
	CHECK(reopen(1 << 16, 50, 1, &w, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 51, 52, 1));
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	crashfs_reset();
}

/* ---- torn tails and corruption ----------------------------------------------------------- */

/* Synced entries 1..10, then entry 11 written (not synced) and torn after
 * keep bytes of its frame: replay gives 1..10 whatever keep is, repairs the
 * tail, and the log keeps working. */
static void test_torn_every_offset(void)
{
	size_t fsz = ENTRY_FRAME(11, 1);
	int bad = 0, repaired = 0;
	for (size_t keep = 0; keep <= fsz; keep++) {
		setup();
		struct wal *w = fresh_wal(8192, 0);
		append_range(w, 1, 10, 1);
		wal_sync(w);
		append_range(w, 11, 11, 1);
		wal_flush(w);
		crashfs_crash_tear_at(keep);
		wal_close(w, NULL, 0); /* its fd died with the crash: this only frees */
		struct wal_recovered rec;
		char err[512] = "";
		struct wal *w2 = NULL;
		int rc = reopen(8192, 0, 0, &w2, &rec, err, sizeof(err));
		bool whole = keep == fsz;
		if (rc != 0 || !entries_are(&rec, 1, whole ? 11 : 10, 1)) {
			fprintf(stderr, "torn at %zu: rc %d n %zu err %s\n", keep, rc,
				rec.n_entries, err);
			bad++;
		}
		if (keep > 0 && !whole && rec.torn_bytes > 0 && strstr(rec.note, SEG0))
			repaired++;
		wal_recovered_free(&rec);
		if (rc == 0) { /* the repaired log takes new appends */
			append_range(w2, whole ? 12 : 11, 12, 2);
			wal_close(w2, NULL, 0);
			rc = reopen(8192, 0, 0, &w2, &rec, err, sizeof(err));
			if (rc != 0 || rec.n_entries != 12 || !entry_ok(&rec.entries[11], 12, 2))
				bad++;
			wal_recovered_free(&rec);
			wal_close(w2, NULL, 0);
		}
		crashfs_reset();
	}
	CHECK(bad == 0);
	CHECK(repaired == (int)fsz - 1);
}

/* A group of records written by one unsynced write, torn at random points,
 * and zero-filled, in the last segment; also across a segment roll. */
static void test_torn_group(void)
{
	int bad = 0;
	for (int round = 0; round < 200; round++) {
		setup();
		uint64_t seg = round % 2 ? 1024 : 1 << 16;
		struct wal *w = fresh_wal(seg, 0);
		append_range(w, 1, 20, 1);
		wal_sync(w);
		append_range(w, 21, 40, 1);
		wal_flush(w);
		crashfs_crash(round % 3 == 0 ? CRASHFS_ZERO : CRASHFS_TEAR);
		wal_close(w, NULL, 0);
		struct wal_recovered rec;
		char err[512] = "";
		struct wal *w2 = NULL;
		int rc = reopen(seg, 0, 0, &w2, &rec, err, sizeof(err));
		/* synced 1..20 always; unsynced ones only as an intact prefix */
		bool ok = rc == 0 && rec.n_entries >= 20 && rec.n_entries <= 40 &&
			  entries_are(&rec, 1, rec.n_entries, 1);
		if (!ok) {
			fprintf(stderr, "group round %d: rc %d n %zu err %s\n", round, rc,
				rec.n_entries, err);
			bad++;
		}
		wal_recovered_free(&rec);
		wal_close(w2, NULL, 0);
		crashfs_reset();
	}
	CHECK(bad == 0);
}

static void test_zero_tail_and_garbage_after(void)
{
	setup();
	struct wal *w = fresh_wal(8192, 0);
	append_range(w, 1, 5, 1);
	CHECK(wal_close(w, NULL, 0) == 0);
	/* bytes after the end of records in the last segment: an unsynced write
	 * that reached the disk while an earlier one did not; cut, logged */
	uint64_t junk = 4096;
	CHECK(crashfs_flip_byte(SEG0, junk, 0x77) == 0);
	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(8192, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 1, 5, 1));
	uint64_t end = META_FRAME;
	for (uint64_t i = 1; i <= 5; i++)
		end += ENTRY_FRAME(i, 1);
	CHECK(rec.torn_bytes == junk + 1 - end);
	CHECK(strstr(rec.note, "bytes after the last record") != NULL);
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	/* and it was zeroed durably */
	CHECK(reopen(8192, 0, 0, &w, &rec, err, sizeof(err)) == 0 && rec.torn_bytes == 0);
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	crashfs_reset();
}

/* wal_read (cetcdctl backup) changes nothing: junk after the records is
 * reported, not zeroed; a trimmed segment is not preallocated again; no
 * sync; mid-log corruption is still refused. */
static void test_read_only(void)
{
	setup();
	struct wal *w = fresh_wal(8192, 0);
	append_range(w, 1, 5, 1);
	CHECK(wal_close_trim(w, NULL, 0) == 0);
	uint64_t trimmed = 0, size = 0;
	CHECK(crashfs_file_size(SEG0, &trimmed) == 0 && trimmed < 8192);
	struct wal_recovered rec;
	char err[512] = "";
	uint64_t syncs = crashfs_sync_count();
	CHECK(wal_read(DIR, 0, 0, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 1, 5, 1) && rec.note[0] == '\0');
	wal_recovered_free(&rec);
	CHECK(crashfs_file_size(SEG0, &size) == 0 && size == trimmed);
	crashfs_reset();
	/* junk after the records of a preallocated last segment */
	setup();
	w = fresh_wal(8192, 0);
	append_range(w, 1, 5, 1);
	CHECK(wal_close(w, NULL, 0) == 0);
	syncs = crashfs_sync_count();
	CHECK(crashfs_flip_byte(SEG0, 4096, 0x77) == 0);
	CHECK(wal_read(DIR, 0, 0, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 1, 5, 1) && rec.torn_bytes == 0);
	CHECK(strstr(rec.note, "not read") != NULL);
	wal_recovered_free(&rec);
	CHECK(wal_read(DIR, 0, 0, &rec, err, sizeof(err)) == 0);
	CHECK(strstr(rec.note, "not read") != NULL); /* still there: nothing was zeroed */
	wal_recovered_free(&rec);
	CHECK(crashfs_sync_count() == syncs);
	/* a flipped bit in the middle is corruption for a reader too */
	CHECK(crashfs_flip_byte(SEG0, META_FRAME + ENTRY_FRAME(1, 1) + 12, 0x10) == 0);
	CHECK(wal_read(DIR, 0, 0, &rec, err, sizeof(err)) == -1);
	CHECK(strstr(err, SEG0) != NULL && strstr(err, "CRC") != NULL);
	CHECK(rec.n_entries == 0);
	crashfs_reset();
}

static void test_mid_log_corruption(void)
{
	/* a flipped bit in a record followed by others: refuse, name file+offset */
	setup();
	struct wal *w = fresh_wal(1 << 16, 0);
	append_range(w, 1, 20, 1);
	CHECK(wal_close(w, NULL, 0) == 0);
	uint64_t off = META_FRAME;
	for (uint64_t i = 1; i < 6; i++)
		off += ENTRY_FRAME(i, 1);
	CHECK(crashfs_flip_byte(SEG0, off + 20, 0x01) == 0);
	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(1 << 16, 0, 0, &w, &rec, err, sizeof(err)) < 0 && w == NULL);
	char want[64];
	snprintf(want, sizeof(want), "offset %" PRIu64 ":", off);
	CHECK(strstr(err, SEG0) != NULL);
	CHECK(strstr(err, want) != NULL);
	CHECK(strstr(err, "CRC mismatch") != NULL);
	CHECK(rec.n_entries == 0 && rec.entries == NULL);
	crashfs_reset();

	/* the last synced record changed (not zeros): corruption too, never a "tear" */
	setup();
	w = fresh_wal(1 << 16, 0);
	append_range(w, 1, 3, 1);
	CHECK(wal_close(w, NULL, 0) == 0);
	off = META_FRAME + ENTRY_FRAME(1, 1) + ENTRY_FRAME(2, 1);
	CHECK(crashfs_flip_byte(SEG0, off + 12, 0x80) == 0);
	CHECK(reopen(1 << 16, 0, 0, &w, &rec, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "offset %" PRIu64 ":", off);
	CHECK(strstr(err, want) != NULL);
	crashfs_reset();

	/* damage in an older segment, even at its end, is never a torn tail */
	setup();
	w = fresh_wal(1024, 0);
	append_range(w, 1, 60, 1);
	CHECK(wal_close(w, NULL, 0) == 0);
	CHECK(crashfs_flip_byte(SEG0, META_FRAME + 3, 0x10) == 0); /* length field */
	CHECK(reopen(1024, 0, 0, &w, &rec, err, sizeof(err)) < 0);
	snprintf(want, sizeof(want), "offset %zu:", (size_t)META_FRAME);
	CHECK(strstr(err, SEG0) != NULL && strstr(err, want) != NULL);
	crashfs_reset();

	/* a zeroed header in an older segment with records after it */
	setup();
	w = fresh_wal(1024, 0);
	append_range(w, 1, 60, 1);
	CHECK(wal_close(w, NULL, 0) == 0);
	int fd = fs_ops->open(SEG0, O_RDWR, 0);
	uint8_t hdr[8];
	CHECK(fs_read_full(fd, hdr, 8, META_FRAME) == 0);
	fs_ops->close(fd);
	for (int i = 0; i < 8; i++)
		if (hdr[i])
			crashfs_flip_byte(SEG0, META_FRAME + (uint64_t)i, hdr[i]);
	CHECK(reopen(1024, 0, 0, &w, &rec, err, sizeof(err)) < 0);
	CHECK(strstr(err, "data after the end of the records") != NULL);
	crashfs_reset();
}

/* ---- crash simulation --------------------------------------------------------------------- */

/* N synced batches (random sizes, some conflicting rewrites, hard states),
 * then unsynced ones, crash in each mode, reopen: the synced log is there
 * entry for entry, and anything beyond it is an intact prefix of what was
 * written later. */
static void test_crash_modes(void)
{
	int bad = 0;
	for (int mode = CRASHFS_DROP; mode <= CRASHFS_ZERO; mode++) {
		for (int seed = 0; seed < 40; seed++) {
			setup();
			uint64_t seg = seed % 2 ? 1536 : 1 << 16;
			struct wal *w = fresh_wal(seg, 0);
			uint64_t last = 0, term = 1;
			uint64_t terms[2000];
			struct raft_hard_state hs = {0};
			int batches = 3 + (int)(next_rand() % 10);
			for (int b = 0; b < batches; b++) {
				uint64_t from = last + 1;
				if (last > 3 && next_rand() % 4 == 0)
					from = last - next_rand() % 3; /* conflict rewrite */
				if (from <= last)
					term++;
				uint64_t to = from + next_rand() % 8;
				append_range(w, from, to, term);
				for (uint64_t i = from; i <= to; i++)
					terms[i] = term;
				last = to;
				hs.term = term;
				hs.commit = last / 2;
				wal_append(w, &hs, NULL, 0);
				wal_sync(w);
			}
			uint64_t synced_last = last;
			struct raft_hard_state synced_hs = hs;
			/* unsynced: more entries in a new term, in two writes */
			uint64_t uterm = term + 1;
			append_range(w, last + 1, last + 5, uterm);
			wal_flush(w);
			append_range(w, last + 6, last + 9, uterm);
			wal_flush(w);
			crashfs_crash((enum crashfs_mode)mode);
			wal_close(w, NULL, 0);

			struct wal_recovered rec;
			char err[512] = "";
			struct wal *w2 = NULL;
			int rc = reopen(seg, 0, 0, &w2, &rec, err, sizeof(err));
			bool ok = rc == 0 && rec.n_entries >= synced_last &&
				  rec.n_entries <= synced_last + 9;
			for (uint64_t i = 1; ok && i <= rec.n_entries; i++)
				ok = entry_ok(&rec.entries[i - 1], i,
					      i <= synced_last ? terms[i] : uterm);
			ok = ok && rec.hard_state.term == synced_hs.term &&
			     rec.hard_state.commit == synced_hs.commit;
			if (mode == CRASHFS_DROP && seg > 4096) /* no roll synced more */
				ok = ok && rec.n_entries == synced_last;
			if (!ok) {
				fprintf(stderr,
					"crash mode %d seed %d: rc %d n %zu (synced %" PRIu64
					") err %s\n",
					mode, seed, rc, rec.n_entries, synced_last, err);
				bad++;
			}
			wal_recovered_free(&rec);
			wal_close(w2, NULL, 0);
			crashfs_reset();
		}
	}
	CHECK(bad == 0);
}

/* A crash right after wal_create left nothing half-made. */
static void test_crash_after_create(void)
{
	setup();
	struct wal *w = fresh_wal(4096, 0);
	crashfs_crash(CRASHFS_DROP);
	wal_close(w, NULL, 0);
	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(4096, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 0 && !rec.has_hard_state && rec.meta.member_id == 0x1111);
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	crashfs_reset();
}

/* ---- graceful stop: the trimmed segment ------------------------------------------------- */

static uint64_t file_size(const char *path)
{
	uint64_t size = 0;
	CHECK(crashfs_file_size(path, &size) == 0);
	return size;
}

/* Where the records of entries [from, to] (term) end after the head. */
static uint64_t records_end(uint64_t head, uint64_t from, uint64_t to, uint64_t term)
{
	for (uint64_t i = from; i <= to; i++)
		head += ENTRY_FRAME(i, term);
	return head;
}

/* wal_close_trim cuts the segment after its last record, durably; the short
 * segment replays cleanly (no repair), gets its preallocation back before
 * the first append, and the log goes on. */
static void test_trim_reopen_append(void)
{
	setup();
	struct wal *w = fresh_wal(1 << 16, 0);
	struct raft_hard_state hs = {.term = 1, .vote = 0x1111, .commit = 20};
	CHECK(append_range(w, 1, 20, 1) == 0);
	CHECK(wal_append(w, &hs, NULL, 0) == 0); /* unsynced: the close syncs it */
	CHECK(wal_close_trim(w, NULL, 0) == 0);
	uint64_t end = records_end(META_FRAME, 1, 20, 1) + frame(25);
	CHECK(file_size(SEG0) == end);
	crashfs_crash(CRASHFS_DROP); /* the cut and the records are durable */
	CHECK(file_size(SEG0) == end);

	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(1 << 16, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(entries_are(&rec, 1, 20, 1));
	CHECK(rec.hard_state.commit == 20 && rec.hard_state.vote == 0x1111);
	CHECK(rec.torn_bytes == 0 && rec.note[0] == '\0'); /* a clean end, not a tear */
	CHECK(file_size(SEG0) == 1 << 16);		   /* preallocated again */
	wal_recovered_free(&rec);
	CHECK(append_range(w, 21, 30, 2) == 0);
	CHECK(wal_close_trim(w, NULL, 0) == 0);
	CHECK(file_size(SEG0) == records_end(end, 21, 30, 2));

	CHECK(reopen(1 << 16, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 30 && entry_ok(&rec.entries[19], 20, 1) &&
	      entry_ok(&rec.entries[29], 30, 2));
	wal_recovered_free(&rec);
	CHECK(append_range(w, 31, 31, 2) == 0);
	CHECK(wal_sync(w) == 0);
	crashfs_crash(CRASHFS_DROP); /* an ungraceful stop after a graceful one */
	wal_close(w, NULL, 0);
	CHECK(reopen(1 << 16, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 31 && entry_ok(&rec.entries[30], 31, 2));
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);

	/* a failed wal is freed untouched */
	CHECK(reopen(1 << 16, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	wal_recovered_free(&rec);
	CHECK(append_range(w, 32, 32, 2) == 0);
	crashfs_fail_syncs(EIO);
	CHECK(wal_close_trim(w, err, sizeof(err)) < 0);
	CHECK(strstr(err, "fdatasync") != NULL);
	crashfs_fail_syncs(0);
	CHECK(file_size(SEG0) == 1 << 16);
	crashfs_reset();
}

/* A crash right after the re-preallocation (before any new record) and a
 * crash during the cut (ftruncate done, its fsync not): every record is
 * still there, in every crash mode. */
static void test_trim_crashes(void)
{
	for (int mode = CRASHFS_DROP; mode <= CRASHFS_ZERO; mode++) {
		setup();
		struct wal *w = fresh_wal(8192, 0);
		CHECK(append_range(w, 1, 12, 1) == 0);
		CHECK(wal_close_trim(w, NULL, 0) == 0);
		struct wal_recovered rec;
		char err[512] = "";
		CHECK(reopen(8192, 0, 0, &w, &rec, err, sizeof(err)) == 0);
		wal_recovered_free(&rec);
		crashfs_crash((enum crashfs_mode)mode); /* preallocated, nothing new */
		wal_close(w, NULL, 0);
		CHECK(reopen(8192, 0, 0, &w, &rec, err, sizeof(err)) == 0);
		CHECK(entries_are(&rec, 1, 12, 1) && rec.torn_bytes == 0);
		CHECK(file_size(SEG0) == 8192);
		wal_recovered_free(&rec);

		/* the cut's fsync fails, then the power does */
		CHECK(append_range(w, 13, 15, 1) == 0);
		CHECK(wal_sync(w) == 0);
		crashfs_fail_syncs(EIO);
		CHECK(wal_close_trim(w, err, sizeof(err)) < 0);
		CHECK(strstr(err, "trim") != NULL);
		crashfs_fail_syncs(0);
		crashfs_crash((enum crashfs_mode)mode);
		uint64_t size = file_size(SEG0), end = records_end(META_FRAME, 1, 15, 1);
		CHECK(size == 8192 || size == end); /* the old size or the new one */
		CHECK(reopen(8192, 0, 0, &w, &rec, err, sizeof(err)) == 0);
		CHECK(entries_are(&rec, 1, 15, 1) && rec.torn_bytes == 0);
		wal_recovered_free(&rec);
		CHECK(append_range(w, 16, 16, 1) == 0);
		wal_close(w, NULL, 0);
		CHECK(reopen(8192, 0, 0, &w, &rec, err, sizeof(err)) == 0);
		CHECK(entries_are(&rec, 1, 16, 1));
		wal_recovered_free(&rec);
		wal_close(w, NULL, 0);
		crashfs_reset();
	}
}

/* fs ops that lose power before the Nth operation that changes the disk:
 * crashfs underneath, crashfs_crash(mode) at that point, -EIO after. */
static long crash_countdown;
static enum crashfs_mode crash_mode;
static bool crashed;

static bool power_fails(void)
{
	if (!crashed && crash_countdown-- == 0) {
		crashfs_crash(crash_mode);
		crashed = true;
	}
	return crashed;
}

static int cd_open(const char *path, int flags, mode_t mode)
{
	return power_fails() ? -EIO : crashfs_ops.open(path, flags, mode);
}
static ssize_t cd_pwrite(int fd, const void *buf, size_t n, uint64_t off)
{
	return power_fails() ? -EIO : crashfs_ops.pwrite(fd, buf, n, off);
}
static int cd_sync(int fd)
{
	return power_fails() ? -EIO : crashfs_ops.fsync(fd);
}
static int cd_fsync_dir(const char *dir)
{
	return power_fails() ? -EIO : crashfs_ops.fsync_dir(dir);
}
static int cd_rename(const char *from, const char *to)
{
	return power_fails() ? -EIO : crashfs_ops.rename(from, to);
}
static int cd_unlink(const char *path)
{
	return power_fails() ? -EIO : crashfs_ops.unlink(path);
}
static int cd_ftruncate(int fd, uint64_t len)
{
	return power_fails() ? -EIO : crashfs_ops.ftruncate(fd, len);
}
static int cd_fallocate(int fd, uint64_t len)
{
	return power_fails() ? -EIO : crashfs_ops.fallocate(fd, len);
}

static struct fs_ops countdown_ops;

static void countdown_install(long n, enum crashfs_mode mode)
{
	countdown_ops = crashfs_ops;
	countdown_ops.name = "countdown";
	countdown_ops.open = cd_open;
	countdown_ops.pwrite = cd_pwrite;
	countdown_ops.fdatasync = cd_sync;
	countdown_ops.fsync = cd_sync;
	countdown_ops.fsync_dir = cd_fsync_dir;
	countdown_ops.rename = cd_rename;
	countdown_ops.unlink = cd_unlink;
	countdown_ops.ftruncate = cd_ftruncate;
	countdown_ops.fallocate = cd_fallocate;
	crash_countdown = n;
	crash_mode = mode;
	crashed = false;
	fs_set_ops(&countdown_ops);
}

/* Graceful stop (with entry 11 still unsynced), restart, first append: the
 * power fails before each disk operation in turn, in every crash mode.
 * Entries 1..10 (synced) always come back, 11 and 12 as a prefix, and each
 * one whose sync returned 0 (the close's for 11) is there. */
static void test_trim_crash_every_step(void)
{
	int bad = 0;
	long steps[3] = {0};
	for (int mode = CRASHFS_DROP; mode <= CRASHFS_ZERO; mode++) {
		for (long n = 0; n < 100; n++) {
			setup();
			struct wal *w = fresh_wal(4096, 0);
			append_range(w, 1, 10, 1);
			wal_sync(w);
			append_range(w, 11, 11, 1);
			countdown_install(n, (enum crashfs_mode)mode);
			struct wal_recovered rec;
			char err[512] = "";
			uint64_t acked = wal_close_trim(w, NULL, 0) == 0 ? 11 : 10;
			if (!crashed && reopen(4096, 0, 0, &w, &rec, err, sizeof(err)) == 0) {
				wal_recovered_free(&rec);
				if (append_range(w, 12, 12, 1) == 0 && wal_sync(w) == 0)
					acked = 12;
				wal_close(w, NULL, 0);
			}
			bool done = !crashed;
			fs_set_ops(&crashfs_ops);
			struct wal *w2 = NULL;
			int rc = reopen(4096, 0, 0, &w2, &rec, err, sizeof(err));
			bool ok = rc == 0 && rec.n_entries >= acked && rec.n_entries <= 12 &&
				  entries_are(&rec, 1, rec.n_entries, 1) && file_size(SEG0) == 4096;
			if (!ok) {
				fprintf(stderr,
					"trim crash mode %d step %ld: rc %d n %zu acked %" PRIu64
					" err %s\n",
					mode, n, rc, rec.n_entries, acked, err);
				bad++;
			}
			wal_recovered_free(&rec);
			wal_close(w2, NULL, 0);
			crashfs_reset();
			steps[mode]++;
			if (done)
				break;
		}
	}
	CHECK(bad == 0);
	/* close: write, fdatasync, ftruncate, fsync; open: open to read, open,
	 * fallocate, fsync; append: write, fdatasync; then a run without a crash */
	CHECK(steps[0] == 11 && steps[1] == 11 && steps[2] == 11);
}

/* A trimmed last segment that appends fill and roll past: the old one was
 * preallocated again before its first append, is full when it stops being
 * the last, and replays as any other; the new last one is trimmed in turn.
 * A segment that is not the last still may not end inside a record. */
static void test_trim_then_roll(void)
{
	setup();
	struct wal *w = fresh_wal(2048, 0);
	CHECK(append_range(w, 1, 5, 1) == 0);
	CHECK(wal_close_trim(w, NULL, 0) == 0);
	uint64_t end = records_end(META_FRAME, 1, 5, 1);
	CHECK(file_size(SEG0) == end);
	struct wal_recovered rec;
	char err[512] = "";
	CHECK(reopen(2048, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	wal_recovered_free(&rec);
	CHECK(append_range(w, 6, 80, 1) == 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	CHECK(st.segments >= 4);
	CHECK(wal_close_trim(w, NULL, 0) == 0);
	CHECK(file_size(SEG0) == 2048); /* filled: not the last any more */

	char **names;
	size_t n;
	CHECK(fs_ops->list(DIR, &names, &n) == 0);
	char last[300] = "", second[300] = "";
	for (size_t i = 0; i < n; i++) {
		char path[300];
		snprintf(path, sizeof(path), DIR "/%s", names[i]);
		if (strcmp(path, last) > 0)
			snprintf(last, sizeof(last), "%s", path);
		if (!strncmp(names[i], "0000000000000001-", 17))
			snprintf(second, sizeof(second), "%s", path);
	}
	fs_names_free(names, n);
	CHECK(file_size(second) == 2048);
	CHECK(file_size(last) < 2048); /* the live one was cut */

	CHECK(reopen(2048, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	CHECK(entries_are(&rec, 1, 80, 1) && rec.torn_bytes == 0);
	wal_recovered_free(&rec);
	CHECK(append_range(w, 81, 90, 2) == 0);
	wal_close(w, NULL, 0);
	CHECK(reopen(2048, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(rec.n_entries == 90 && entry_ok(&rec.entries[89], 90, 2));
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);

	/* an older segment cut inside a record is corruption, as before */
	int fd = fs_ops->open(SEG0, O_RDWR, 0);
	CHECK(fs_ops->ftruncate(fd, end - 4) == 0);
	fs_ops->close(fd);
	CHECK(reopen(2048, 0, 0, &w, &rec, err, sizeof(err)) < 0 && w == NULL);
	CHECK(strstr(err, SEG0) != NULL && strstr(err, "past end of file") != NULL);
	crashfs_reset();
}

/* ---- the WAL thread ------------------------------------------------------------------------- */

static void test_wal_sync_thread(void)
{
	setup();
	struct wal *w = fresh_wal(4096, 2);
	struct wal_sync *s = NULL;
	char err[512] = "";
	CHECK(wal_sync_start(w, &s, err, sizeof(err)) == 0);
	CHECK(wal_sync_durable(s) == 0);
	struct raft_hard_state hs = {.term = 1, .vote = 7, .commit = 0};
	uint8_t space[200][256];
	uint64_t seq = 0;
	for (uint64_t i = 1; i <= 200; i++) {
		struct raft_entry e = make_entry(i, 1, space[i - 1]);
		struct wal_batch b = {.seq = ++seq,
				      .hard_state = i == 1 ? &hs : NULL,
				      .entries = &e,
				      .n_entries = 1,
				      .must_sync = true};
		CHECK(wal_sync_submit(s, &b) == 0);
	}
	/* commit-only hard state: no fdatasync needed */
	hs.commit = 150;
	struct wal_batch c = {.seq = ++seq, .hard_state = &hs, .must_sync = false};
	CHECK(wal_sync_submit(s, &c) == 0);
	struct wal_batch stale = {.seq = seq};
	CHECK(wal_sync_submit(s, &stale) < 0); /* seqs must increase */
	CHECK(wal_sync_wait(s, seq) == 0);
	struct pollfd pfd = {.fd = wal_sync_fd(s), .events = POLLIN};
	CHECK(poll(&pfd, 1, 1000) == 1);
	CHECK(wal_sync_durable(s) == seq);
	CHECK(poll(&pfd, 1, 0) == 0); /* drained */
	struct wal_sync_stats st;
	wal_sync_get_stats(s, &st);
	CHECK(st.batches == 201 && st.entries == 200);
	CHECK(st.rounds >= 1 && st.rounds <= 201);
	printf("wal_sync: 201 batches in %" PRIu64 " rounds, %" PRIu64 " fsyncs, max group %" PRIu64
	       "\n",
	       st.rounds, st.fsyncs, st.max_group);
	CHECK(!wal_sync_failed(s, err, sizeof(err)));
	wal_sync_release_before(s, 150);
	CHECK(wal_sync_stop(s, err, sizeof(err)) == 0);
	struct wal_stats ws;
	wal_get_stats(w, &ws);
	CHECK(ws.segments < 10); /* released down toward max_wals */
	CHECK(wal_close(w, NULL, 0) == 0);

	struct wal_recovered rec;
	CHECK(reopen(4096, 149, 1, &w, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 150, 200, 1));
	CHECK(rec.hard_state.vote == 7 && rec.hard_state.commit == 150);
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	crashfs_reset();
}

/* Stop flushes what was queued even without must_sync. */
static void test_wal_sync_stop_flushes(void)
{
	setup();
	struct wal *w = fresh_wal(1 << 16, 0);
	struct wal_sync *s = NULL;
	char err[512];
	CHECK(wal_sync_start(w, &s, err, sizeof(err)) == 0);
	uint8_t space[256];
	struct raft_entry e = make_entry(1, 1, space);
	struct wal_batch b = {.seq = 1, .entries = &e, .n_entries = 1, .must_sync = false};
	CHECK(wal_sync_submit(s, &b) == 0);
	CHECK(wal_sync_stop(s, err, sizeof(err)) == 0);
	crashfs_crash(CRASHFS_DROP); /* only synced data survives */
	wal_close(w, NULL, 0);
	struct wal_recovered rec;
	CHECK(reopen(1 << 16, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 1, 1, 1));
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	crashfs_reset();
}

/* An fdatasync failure is final: durable never advances, the error is
 * reported, later submits are refused (no retry: fsyncgate). */
static void test_wal_sync_failure(void)
{
	setup();
	struct wal *w = fresh_wal(1 << 16, 0);
	struct wal_sync *s = NULL;
	char err[512] = "";
	CHECK(wal_sync_start(w, &s, err, sizeof(err)) == 0);
	uint8_t space[256];
	struct raft_entry e = make_entry(1, 1, space);
	struct wal_batch b = {.seq = 1, .entries = &e, .n_entries = 1, .must_sync = true};
	CHECK(wal_sync_submit(s, &b) == 0);
	CHECK(wal_sync_wait(s, 1) == 0);
	crashfs_fail_syncs(EIO);
	e = make_entry(2, 1, space);
	b.seq = 2;
	CHECK(wal_sync_submit(s, &b) == 0);
	CHECK(wal_sync_wait(s, 2) < 0);
	CHECK(wal_sync_durable(s) == 1);
	CHECK(wal_sync_failed(s, err, sizeof(err)));
	CHECK(strstr(err, "fdatasync") != NULL);
	b.seq = 3;
	CHECK(wal_sync_submit(s, &b) < 0);
	crashfs_fail_syncs(0);
	CHECK(wal_sync_stop(s, err, sizeof(err)) < 0);
	CHECK(wal_close(w, NULL, 0) < 0); /* stays failed */
	crashfs_reset();
}

/* mkdir -p of the member dirs */
static void test_mkdir_p(void)
{
	setup();
	CHECK(fs_mkdir_durable("/data/a/member/wal") == 0);
	CHECK(fs_mkdir_durable("/data/a/member/wal") == 0);
	crashfs_crash(CRASHFS_DROP);
	char **names;
	size_t n;
	CHECK(fs_ops->list("/data/a/member", &names, &n) == 0 && n == 1); /* durable */
	fs_names_free(names, n);
	crashfs_reset();
}

/* The real file system, for the preallocation path and a real fdatasync. */
static void test_posix(void)
{
	char tmpl[] = "/tmp/cetcd-wal-XXXXXX";
	char *dir = mkdtemp(tmpl);
	CHECK(dir != NULL);
	if (!dir)
		return;
	char wdir[256];
	snprintf(wdir, sizeof(wdir), "%s/member/wal", dir);
	char mdir[256];
	snprintf(mdir, sizeof(mdir), "%s/member", dir);
	CHECK(fs_mkdir_durable(mdir) == 0);
	struct wal_options o = {.segment_size = 1 << 20, .max_wals = 5};
	struct wal *w = NULL;
	char err[512] = "";
	CHECK(wal_create(wdir, &test_meta, &o, &w, err, sizeof(err)) == 0);
	CHECK(append_range(w, 1, 100, 1) == 0);
	CHECK(wal_close(w, err, sizeof(err)) == 0);
	struct wal_recovered rec;
	CHECK(wal_open(wdir, &o, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 1, 100, 1));
	wal_recovered_free(&rec);
	/* a graceful stop gives back the preallocated tail; a restart takes it again */
	char seg[300];
	snprintf(seg, sizeof(seg), "%s/0000000000000000-0000000000000001.wal", wdir);
	struct stat sb;
	CHECK(wal_close_trim(w, err, sizeof(err)) == 0);
	CHECK(stat(seg, &sb) == 0 && (uint64_t)sb.st_size == records_end(META_FRAME, 1, 100, 1));
	CHECK(wal_open(wdir, &o, 0, 0, &w, &rec, err, sizeof(err)) == 0);
	CHECK(entries_are(&rec, 1, 100, 1) && rec.torn_bytes == 0);
	wal_recovered_free(&rec);
	CHECK(stat(seg, &sb) == 0 && sb.st_size == 1 << 20);
	wal_close(w, NULL, 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	test_crc32c();
	test_round_trip();
	test_layout();
	test_rollover();
	test_release();
	test_conflict_overwrite();
	test_snapshot_marker();
	test_torn_every_offset();
	test_torn_group();
	test_zero_tail_and_garbage_after();
	test_mid_log_corruption();
	test_read_only();
	test_crash_modes();
	test_crash_after_create();
	test_trim_reopen_append();
	test_trim_crashes();
	test_trim_crash_every_step();
	test_trim_then_roll();
	test_wal_sync_thread();
	test_wal_sync_stop_flushes();
	test_wal_sync_failure();
	test_mkdir_p();
	test_posix();
	return check_summary();
}
