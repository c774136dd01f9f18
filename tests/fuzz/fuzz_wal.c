/* fuzz_wal.c - libFuzzer target: WAL replay (disk/wal.c, wal_open) over
 * segment files built from the input, in a private temporary directory.
 * Input: a mode byte, snap index and term bytes, then either (mode odd) the
 * raw bytes of one segment file, or (mode even) records: a type byte, a
 * length byte and the body, each framed with a correct CRC and trailer so
 * replay gets past the checksums (type 0xFE starts the next segment, whose
 * first index is the length byte; a type with 0x80 set appends the body
 * unframed: a torn or garbled tail).
 * Invariants, when the WAL opens: the entries are contiguous from snap
 * index + 1, the commit index is clamped to the last one; closing and
 * opening again gives the same log with nothing to repair; an entry
 * appended after it is there after another reopen. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk/wal.h"
#include "fuzz.h"
#include "fuzz_fs.h"
#include "util/buf.h"
#include "util/crc32c.h"
#include "util/le.h"

#define SEG_SIZE  (64u * 1024)
#define MAX_SEGS  4
#define MEMBER_ID 0x1111
#define CLUSTER	  0x2222

static void frame(struct buf *seg, const uint8_t *payload, size_t len)
{
	size_t fsz = (8 + len + 1 + 7) & ~(size_t)7;
	uint8_t hdr[8];
	le_put_u32(hdr, (uint32_t)len);
	le_put_u32(hdr + 4, crc32c(0, payload, len));
	buf_append(seg, hdr, 8);
	buf_append(seg, payload, len);
	for (size_t i = 8 + len; i < fsz - 1; i++)
		buf_putc(seg, 0);
	buf_putc(seg, (char)0xA5);
}

static void meta(struct buf *seg, uint64_t seq, uint64_t first)
{
	uint8_t p[37];
	p[0] = 1;
	le_put_u32(p + 1, WAL_FORMAT_VERSION);
	le_put_u64(p + 5, MEMBER_ID);
	le_put_u64(p + 13, CLUSTER);
	le_put_u64(p + 21, seq);
	le_put_u64(p + 29, first);
	frame(seg, p, sizeof(p));
}

static void write_file(uint64_t seq, uint64_t first, const void *data, size_t len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%016llx-%016llx.wal", fuzz_dir, (unsigned long long)seq,
		 (unsigned long long)first);
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(len == 0 || fwrite(data, 1, len, f) == len);
	fclose(f);
}

/* Builds the segments from records (mode even). */
static void build_segments(struct fuzz_in *in)
{
	struct buf seg = BUF_INIT;
	uint64_t seq = 0, first = 1;
	meta(&seg, seq, first);
	while (in->n >= 2) {
		uint8_t type = fuzz_u8(in);
		size_t len;
		const uint8_t *body = fuzz_bytes(in, fuzz_u8(in), &len);
		if (type == 0xFE && seq + 1 < MAX_SEGS) {
			write_file(seq, first, seg.data, seg.len);
			buf_free(&seg);
			seq++;
			first = len ? body[0] : 0;
			meta(&seg, seq, first);
		} else if (type & 0x80) {
			buf_append(&seg, body, len);
		} else {
			uint8_t p[256];
			p[0] = type;
			memcpy(p + 1, body, len);
			frame(&seg, p, len + 1);
		}
	}
	write_file(seq, first, seg.data, seg.len);
	buf_free(&seg);
}

static void check_log(const struct wal_recovered *rec, uint64_t snap_index)
{
	for (size_t i = 0; i < rec->n_entries; i++) {
		FUZZ_CHECK(rec->entries[i].index == snap_index + 1 + i);
		if (i > 0)
			FUZZ_CHECK(rec->entries[i].term >= rec->entries[i - 1].term);
	}
	uint64_t last = rec->n_entries ? rec->entries[rec->n_entries - 1].index : snap_index;
	FUZZ_CHECK(!rec->has_hard_state || rec->hard_state.commit <= last);
}

static void same_log(const struct wal_recovered *a, const struct wal_recovered *b)
{
	FUZZ_CHECK(a->n_entries == b->n_entries);
	for (size_t i = 0; i < a->n_entries; i++) {
		const struct raft_entry *x = &a->entries[i], *y = &b->entries[i];
		FUZZ_CHECK(x->index == y->index && x->term == y->term && x->type == y->type);
		FUZZ_CHECK(x->time == y->time && x->len == y->len);
		FUZZ_CHECK(x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
	}
	FUZZ_CHECK(a->has_hard_state == b->has_hard_state);
	FUZZ_CHECK(!a->has_hard_state || (a->hard_state.term == b->hard_state.term &&
					  a->hard_state.vote == b->hard_state.vote &&
					  a->hard_state.commit == b->hard_state.commit));
	FUZZ_CHECK(a->meta.member_id == b->meta.member_id &&
		   a->meta.cluster_id == b->meta.cluster_id);
}

static void reopen_and_append(const struct wal_recovered *first, uint64_t si, uint64_t st)
{
	struct wal_options o = {.segment_size = SEG_SIZE, .max_wals = 0};
	struct wal *w = NULL;
	struct wal_recovered rec = {0};
	char err[512];
	FUZZ_CHECK(wal_open(fuzz_dir, &o, si, st, &w, &rec, err, sizeof(err)) == 0);
	FUZZ_CHECK(rec.torn_bytes == 0);
	same_log(first, &rec);
	uint64_t last = rec.n_entries ? rec.entries[rec.n_entries - 1].index : si;
	uint64_t term = rec.n_entries ? rec.entries[rec.n_entries - 1].term : st;
	if (rec.has_hard_state && rec.hard_state.term > term)
		term = rec.hard_state.term;
	struct raft_entry e = {
		.term = term, .index = last + 1, .type = 0, .time = 42, .data = "fuzz", .len = 4};
	FUZZ_CHECK(wal_append(w, NULL, &e, 1) == 0);
	FUZZ_CHECK(wal_close(w, err, sizeof(err)) == 0);
	struct wal_recovered again = {0};
	w = NULL;
	FUZZ_CHECK(wal_open(fuzz_dir, &o, si, st, &w, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(again.n_entries == rec.n_entries + 1);
	const struct raft_entry *got = &again.entries[again.n_entries - 1];
	FUZZ_CHECK(got->index == last + 1 && got->len == 4 && memcmp(got->data, "fuzz", 4) == 0);
	wal_close(w, err, sizeof(err));
	wal_recovered_free(&again);
	wal_recovered_free(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	fuzz_make_dir("wal");
	fuzz_clear_dir();
	struct fuzz_in in = {data + 3, size - 3};
	uint64_t si = data[1] % 8, st = si ? data[2] % 4 : 0;
	if (data[0] & 1)
		write_file(0, 1, in.p, in.n);
	else
		build_segments(&in);
	struct wal_options o = {.segment_size = SEG_SIZE, .max_wals = 0};
	struct wal *w = NULL;
	struct wal_recovered rec = {0};
	char err[512] = "";
	if (wal_open(fuzz_dir, &o, si, st, &w, &rec, err, sizeof(err)) == 0) {
		check_log(&rec, si);
		FUZZ_CHECK(wal_close_trim(w, err, sizeof(err)) == 0);
		reopen_and_append(&rec, si, st);
	} else {
		FUZZ_CHECK(w == NULL && rec.n_entries == 0 && err[0] != '\0');
	}
	wal_recovered_free(&rec);
	fuzz_clear_dir();
	return 0;
}
