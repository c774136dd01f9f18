/* test_peer_codec.c - peer_codec round trips (every message type, every
 * field, entries, snapshots, proposals, batches) and robustness: every
 * truncation, random bit flips, random garbage and hostile counts must be
 * refused or decoded without reading outside the input (run it under
 * --enable-sanitizers: inputs are copied into exact-size heap blocks). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "member/peer_codec.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- comparison ------------------------------------------------------------ */

static bool bytes_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static bool entry_eq(const struct raft_entry *a, const struct raft_entry *b)
{
	return a->term == b->term && a->index == b->index && a->type == b->type &&
	       a->time == b->time && bytes_eq(a->data, a->len, b->data, b->len);
}

static bool membership_eq(const struct raft_membership *a, const struct raft_membership *b)
{
	if (a->n_voters != b->n_voters || a->n_learners != b->n_learners)
		return false;
	for (size_t i = 0; i < a->n_voters; i++)
		if (a->voters[i] != b->voters[i])
			return false;
	for (size_t i = 0; i < a->n_learners; i++)
		if (a->learners[i] != b->learners[i])
			return false;
	return true;
}

static bool snapshot_eq(const struct raft_snapshot *a, const struct raft_snapshot *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->meta.index == b->meta.index && a->meta.term == b->meta.term &&
	       membership_eq(&a->meta.conf, &b->meta.conf) &&
	       bytes_eq(a->data, a->len, b->data, b->len);
}

static bool msg_eq(const struct raft_message *a, const struct raft_message *b)
{
	if (a->type != b->type || a->from != b->from || a->to != b->to || a->term != b->term ||
	    a->log_term != b->log_term || a->index != b->index || a->commit != b->commit ||
	    a->context != b->context || a->reject != b->reject || a->transfer != b->transfer ||
	    a->reject_hint != b->reject_hint || a->n_entries != b->n_entries)
		return false;
	for (size_t i = 0; i < a->n_entries; i++)
		if (!entry_eq(&a->entries[i], &b->entries[i]))
			return false;
	return snapshot_eq(a->snapshot, b->snapshot);
}

/* ---- fixtures ---------------------------------------------------------------- */

static const char payload_a[] = "set /foo bar";
static const char payload_b[] = "\x00\x01\x02\xff binary \x00";
static struct raft_entry entries3[3];
static struct raft_snapshot snap;
static char snap_data[3000];

static void init_fixtures(void)
{
	entries3[0] = (struct raft_entry){.term = 7,
					  .index = 101,
					  .type = RAFT_ENTRY_NORMAL,
					  .time = 1700000000123456789ll,
					  .data = payload_a,
					  .len = sizeof(payload_a) - 1};
	entries3[1] = (struct raft_entry){.term = 7,
					  .index = 102,
					  .type = RAFT_ENTRY_NOOP,
					  .time = -5,
					  .data = NULL,
					  .len = 0};
	entries3[2] = (struct raft_entry){.term = UINT64_MAX,
					  .index = UINT64_MAX - 1,
					  .type = RAFT_ENTRY_CONF,
					  .time = INT64_MIN,
					  .data = payload_b,
					  .len = sizeof(payload_b) - 1};
	for (size_t i = 0; i < sizeof(snap_data); i++)
		snap_data[i] = (char)(i * 31 + 7);
	snap.meta.index = 5000;
	snap.meta.term = 9;
	snap.meta.conf.n_voters = 3;
	snap.meta.conf.voters[0] = 0x8e9e05c52164694dull;
	snap.meta.conf.voters[1] = 2;
	snap.meta.conf.voters[2] = UINT64_MAX;
	snap.meta.conf.n_learners = 1;
	snap.meta.conf.learners[0] = 0xabcdefull;
	snap.data = snap_data;
	snap.len = sizeof(snap_data);
}

/* A message of type t with every scalar field distinct and non-zero. */
static struct raft_message sample_msg(uint8_t t)
{
	struct raft_message m = {
		.type = t,
		.from = 0x1111111111111111ull,
		.to = 0x2222222222222222ull,
		.term = 3 + t,
		.log_term = 4 + t,
		.index = 5 + t,
		.commit = 6 + t,
		.context = 0xc0ffee00ull + t,
		.reject = (t & 1) != 0,
		.transfer = (t & 2) != 0,
		.reject_hint = 77 + t,
	};
	if (t == RAFT_MSG_APPEND) {
		m.entries = entries3;
		m.n_entries = 3;
	}
	if (t == RAFT_MSG_SNAPSHOT)
		m.snapshot = &snap;
	return m;
}

/* Decodes from an exact-size heap copy (so ASan sees any overread). */
static int decode_copy(const void *data, size_t len, struct peer_decoded *d, void **copy)
{
	*copy = malloc(len ? len : 1);
	if (len)
		memcpy(*copy, data, len);
	return peer_decode(len ? *copy : NULL, len, d);
}

/* ---- round trips --------------------------------------------------------------- */

static void test_every_type(void)
{
	for (uint8_t t = RAFT_MSG_APPEND; t <= RAFT_MSG_READ_INDEX_RESP; t++) {
		struct raft_message m = sample_msg(t);
		struct buf b = BUF_INIT;
		peer_encode_header(&b, 1);
		peer_encode_message(&b, &m);
		struct peer_decoded d;
		void *copy;
		CHECK(decode_copy(b.data, b.len, &d, &copy) == PEER_CODEC_OK);
		CHECK(d.n_records == 1);
		if (d.n_records == 1) {
			CHECK(d.records[0].kind == PEER_REC_MESSAGE);
			CHECK(msg_eq(&m, &d.records[0].msg));
		}
		peer_decoded_free(&d);
		free(copy);
		buf_free(&b);
	}
}

/* Every field of every kind, flags in all combinations, on one message. */
static void test_all_fields_everywhere(void)
{
	struct raft_message m = sample_msg(RAFT_MSG_HEARTBEAT);
	m.entries = entries3;
	m.n_entries = 3;
	m.snapshot = &snap;
	for (int flags = 0; flags < 4; flags++) {
		m.reject = flags & 1;
		m.transfer = (flags & 2) != 0;
		struct buf b = BUF_INIT;
		peer_encode_header(&b, 1);
		peer_encode_message(&b, &m);
		struct peer_decoded d;
		void *copy;
		CHECK(decode_copy(b.data, b.len, &d, &copy) == PEER_CODEC_OK);
		CHECK(d.n_records == 1 && msg_eq(&m, &d.records[0].msg));
		peer_decoded_free(&d);
		free(copy);
		buf_free(&b);
	}
}

static void test_empty_and_edge_values(void)
{
	/* zero-length batch */
	struct buf b = BUF_INIT;
	peer_encode_header(&b, 0);
	struct peer_decoded d;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_OK && d.n_records == 0);
	peer_decoded_free(&d);
	buf_free(&b);

	/* an all-zero message, an empty snapshot, an empty proposal */
	struct raft_snapshot empty_snap = {0};
	struct raft_message z = {.type = RAFT_MSG_SNAPSHOT, .snapshot = &empty_snap};
	struct raft_snapshot full_conf = {0};
	full_conf.meta.conf.n_voters = RAFT_MAX_MEMBERS;
	full_conf.meta.conf.n_learners = RAFT_MAX_MEMBERS;
	for (size_t i = 0; i < RAFT_MAX_MEMBERS; i++) {
		full_conf.meta.conf.voters[i] = i + 1;
		full_conf.meta.conf.learners[i] = 1000 + i;
	}
	struct raft_message f = {.type = RAFT_MSG_SNAPSHOT, .snapshot = &full_conf};
	peer_encode_header(&b, 3);
	peer_encode_message(&b, &z);
	peer_encode_proposal(&b, NULL, 0);
	peer_encode_message(&b, &f);
	void *copy;
	CHECK(decode_copy(b.data, b.len, &d, &copy) == PEER_CODEC_OK);
	CHECK(d.n_records == 3);
	if (d.n_records == 3) {
		CHECK(msg_eq(&z, &d.records[0].msg));
		CHECK(d.records[0].msg.snapshot != NULL && d.records[0].msg.snapshot->data == NULL);
		CHECK(d.records[1].kind == PEER_REC_PROPOSAL && d.records[1].len == 0 &&
		      d.records[1].payload == NULL);
		CHECK(msg_eq(&f, &d.records[2].msg));
	}
	peer_decoded_free(&d);
	free(copy);
	buf_free(&b);
}

static void test_batch_mixed(void)
{
	enum {
		N = 300
	};
	struct raft_message msgs[N];
	struct buf b = BUF_INIT;
	peer_encode_header(&b, N);
	for (int i = 0; i < N; i++) {
		if (i % 5 == 4) {
			peer_encode_proposal(&b, payload_b, (size_t)i % sizeof(payload_b));
			continue;
		}
		msgs[i] = sample_msg((uint8_t)(1 + i % RAFT_MSG_READ_INDEX_RESP));
		msgs[i].index = (uint64_t)i;
		peer_encode_message(&b, &msgs[i]);
	}
	struct peer_decoded d;
	void *copy;
	CHECK(decode_copy(b.data, b.len, &d, &copy) == PEER_CODEC_OK);
	CHECK(d.n_records == N);
	int bad = 0;
	for (int i = 0; i < N && d.n_records == N; i++) {
		const struct peer_record *r = &d.records[i];
		if (i % 5 == 4) {
			size_t len = (size_t)i % sizeof(payload_b);
			if (r->kind != PEER_REC_PROPOSAL ||
			    !bytes_eq(r->payload, r->len, payload_b, len))
				bad++;
		} else if (r->kind != PEER_REC_MESSAGE || !msg_eq(&msgs[i], &r->msg)) {
			bad++;
		}
	}
	CHECK(bad == 0);
	peer_decoded_free(&d);
	free(copy);
	buf_free(&b);
}

/* Records encoded separately and concatenated (what the sender does). */
static void test_concatenated_records(void)
{
	struct buf r1 = BUF_INIT, r2 = BUF_INIT, batch = BUF_INIT;
	struct raft_message m = sample_msg(RAFT_MSG_APPEND);
	peer_encode_message(&r1, &m);
	peer_encode_proposal(&r2, payload_a, sizeof(payload_a) - 1);
	peer_encode_header(&batch, 2);
	buf_append(&batch, r1.data, r1.len);
	buf_append(&batch, r2.data, r2.len);
	struct peer_decoded d;
	CHECK(peer_decode(batch.data, batch.len, &d) == PEER_CODEC_OK && d.n_records == 2);
	if (d.n_records == 2) {
		CHECK(msg_eq(&m, &d.records[0].msg));
		CHECK(bytes_eq(d.records[1].payload, d.records[1].len, payload_a,
			       sizeof(payload_a) - 1));
	}
	peer_decoded_free(&d);
	buf_free(&r1);
	buf_free(&r2);
	buf_free(&batch);
}

/* ---- refusals ---------------------------------------------------------------------- */

static void put_le(unsigned char *p, uint64_t v, int width)
{
	for (int i = 0; i < width; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void test_header_errors(void)
{
	struct peer_decoded d;
	CHECK(peer_decode(NULL, 0, &d) == PEER_CODEC_ERR_TRUNCATED);
	CHECK(peer_decode("GET / HTTP/1.1\r\n", 16, &d) == PEER_CODEC_ERR_MAGIC);
	CHECK(peer_decode("xy", 2, &d) == PEER_CODEC_ERR_MAGIC);
	unsigned char h[PEER_CODEC_HEADER_LEN] = {PEER_CODEC_MAGIC0, PEER_CODEC_MAGIC1, 2, 0};
	CHECK(peer_decode(h, sizeof(h), &d) == PEER_CODEC_ERR_VERSION);
	h[2] = PEER_CODEC_VERSION;
	h[3] = 1;
	CHECK(peer_decode(h, sizeof(h), &d) == PEER_CODEC_ERR_INVALID);
	h[3] = 0;
	CHECK(peer_decode(h, sizeof(h), &d) == PEER_CODEC_OK && d.n_records == 0);
	peer_decoded_free(&d);
	put_le(h + 4, 1, 4); /* one record announced, none present */
	CHECK(peer_decode(h, sizeof(h), &d) == PEER_CODEC_ERR_TRUNCATED);
	put_le(h + 4, UINT32_MAX, 4);
	CHECK(peer_decode(h, sizeof(h), &d) == PEER_CODEC_ERR_TRUNCATED);
	CHECK(strcmp(peer_codec_strerror(PEER_CODEC_ERR_MAGIC), "ok") != 0);
}

static void test_record_errors(void)
{
	struct peer_decoded d;
	struct buf b = BUF_INIT;
	/* trailing garbage after the announced records */
	peer_encode_header(&b, 1);
	peer_encode_proposal(&b, "x", 1);
	buf_putc(&b, 'z');
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_INVALID);
	buf_reset(&b);
	/* unknown kind */
	peer_encode_header(&b, 1);
	peer_encode_proposal(&b, "x", 1);
	b.data[PEER_CODEC_HEADER_LEN] = 9;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_KIND);
	buf_reset(&b);
	/* message type out of range, unknown flag, bad entry type */
	struct raft_message m = sample_msg(RAFT_MSG_APPEND);
	size_t body = PEER_CODEC_HEADER_LEN + 9; /* kind + record length */
	peer_encode_header(&b, 1);
	peer_encode_message(&b, &m);
	b.data[body] = 0;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_INVALID);
	b.data[body] = RAFT_MSG_READ_INDEX_RESP + 1;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_INVALID);
	b.data[body] = RAFT_MSG_APPEND;
	b.data[body + 1] = (char)0x80;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_INVALID);
	b.data[body + 1] = 0;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_OK);
	peer_decoded_free(&d);
	size_t first_entry_type = body + 2 + 8 * 8 + 8 + 16;
	b.data[first_entry_type] = 3;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_INVALID);
	b.data[first_entry_type] = 0;
	/* a hostile entry count: must be refused without allocating for it */
	put_le((unsigned char *)b.data + body + 2 + 8 * 8, UINT64_MAX / 2, 8);
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_TRUNCATED);
	buf_reset(&b);
	/* a hostile record length */
	peer_encode_header(&b, 1);
	peer_encode_proposal(&b, "abc", 3);
	put_le((unsigned char *)b.data + PEER_CODEC_HEADER_LEN + 1, UINT64_MAX, 8);
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_TRUNCATED);
	buf_reset(&b);
	/* a snapshot claiming too many voters */
	struct raft_message s = sample_msg(RAFT_MSG_SNAPSHOT);
	peer_encode_header(&b, 1);
	peer_encode_message(&b, &s);
	size_t nv = body + 2 + 8 * 8 + 8 + 16; /* no entries: snapshot follows */
	CHECK((unsigned char)b.data[nv] == 3);
	b.data[nv] = RAFT_MAX_MEMBERS + 1;
	CHECK(peer_decode(b.data, b.len, &d) == PEER_CODEC_ERR_INVALID);
	buf_free(&b);
}

/* ---- fuzzing ------------------------------------------------------------------------ */

/* A random batch of random messages and proposals. */
static void random_batch(struct buf *b)
{
	size_t n = rnd() % 8;
	peer_encode_header(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		if (rnd() % 4 == 0) {
			peer_encode_proposal(b, snap_data, rnd() % 64);
			continue;
		}
		struct raft_message m = sample_msg((uint8_t)(1 + rnd() % RAFT_MSG_READ_INDEX_RESP));
		m.n_entries = m.entries ? rnd() % 4 : 0;
		struct raft_snapshot small = snap;
		small.len = rnd() % 40;
		if (m.snapshot)
			m.snapshot = &small;
		peer_encode_message(b, &m);
	}
}

/* Decodes; on success touches every byte the result points at (ASan checks
 * that each pointer stays inside the input). */
static int decode_and_walk(const void *data, size_t len)
{
	struct peer_decoded d;
	void *copy;
	int err = decode_copy(data, len, &d, &copy);
	volatile unsigned sum = 0;
	for (size_t i = 0; i < d.n_records; i++) {
		const struct peer_record *r = &d.records[i];
		for (size_t k = 0; k < r->len; k++)
			sum += ((const unsigned char *)r->payload)[k];
		for (size_t e = 0; e < r->msg.n_entries; e++)
			for (size_t k = 0; k < r->msg.entries[e].len; k++)
				sum += ((const unsigned char *)r->msg.entries[e].data)[k];
		if (r->msg.snapshot)
			for (size_t k = 0; k < r->msg.snapshot->len; k++)
				sum += ((const unsigned char *)r->msg.snapshot->data)[k];
	}
	(void)sum;
	peer_decoded_free(&d);
	free(copy);
	return err;
}

static void test_every_truncation(void)
{
	int bad = 0;
	for (int round = 0; round < 50; round++) {
		struct buf b = BUF_INIT;
		random_batch(&b);
		if (decode_and_walk(b.data, b.len) != PEER_CODEC_OK)
			bad++;
		for (size_t cut = 0; cut < b.len; cut++)
			if (decode_and_walk(b.data, cut) == PEER_CODEC_OK)
				bad++; /* a strict prefix is never a whole batch */
		buf_free(&b);
	}
	CHECK(bad == 0);
}

static void test_bit_flips_and_garbage(void)
{
	size_t ok = 0, refused = 0;
	for (int round = 0; round < 20000; round++) {
		struct buf b = BUF_INIT;
		random_batch(&b);
		int flips = 1 + (int)(rnd() % 4);
		for (int f = 0; f < flips && b.len; f++)
			b.data[rnd() % b.len] ^= (char)(1u << (rnd() % 8));
		size_t len = rnd() % 3 == 0 ? (size_t)(rnd() % (b.len + 1)) : b.len;
		if (decode_and_walk(b.data, len) == PEER_CODEC_OK)
			ok++;
		else
			refused++;
		buf_free(&b);
	}
	for (int round = 0; round < 5000; round++) {
		unsigned char g[256];
		size_t len = rnd() % sizeof(g);
		for (size_t i = 0; i < len; i++)
			g[i] = (unsigned char)rnd();
		if (len >= 3 && round % 2) { /* pass the magic check half the time */
			g[0] = PEER_CODEC_MAGIC0;
			g[1] = PEER_CODEC_MAGIC1;
			g[2] = PEER_CODEC_VERSION;
		}
		if (decode_and_walk(g, len) == PEER_CODEC_OK)
			ok++;
		else
			refused++;
	}
	printf("fuzz: %zu decoded, %zu refused, no crash\n", ok, refused);
	CHECK(refused > 0);
}

int main(void)
{
	init_fixtures();
	test_every_type();
	test_all_fields_everywhere();
	test_empty_and_edge_values();
	test_batch_mixed();
	test_concatenated_records();
	test_header_errors();
	test_record_errors();
	test_every_truncation();
	test_bit_flips_and_garbage();
	return check_summary();
}
