/* peer_codec.c - encode/decode peer batches (see peer_codec.h and
 * doc/peer-protocol.md). PURE: no I/O, no clock, no globals.
 *
 * All integers are little-endian and fixed width. Decoding runs twice over
 * the bytes: a first pass validates everything and counts records, entries
 * and snapshots; then one allocation is made and a second pass fills it. So
 * a decode either fails without allocating or succeeds completely. */
#include "member/peer_codec.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/le.h"
#include "util/xalloc.h"

#define FLAG_REJECT   0x01u
#define FLAG_TRANSFER 0x02u
#define FLAG_SNAPSHOT 0x04u
#define FLAGS_KNOWN   (FLAG_REJECT | FLAG_TRANSFER | FLAG_SNAPSHOT)

#define REC_HEADER_LEN	9u			 /* kind(1) len(8) */
#define MSG_FIXED_LEN	(2u + 8u * 8u + 8u)	 /* type flags, 8 u64 fields, n_entries */
#define ENTRY_FIXED_LEN (8u + 8u + 1u + 8u + 8u) /* term index type time len */
#define SNAP_FIXED_LEN	(8u + 8u + 1u + 1u + 8u) /* index term nv nl data_len */

const char *peer_codec_strerror(int err)
{
	switch (err) {
	case PEER_CODEC_OK:
		return "ok";
	case PEER_CODEC_ERR_TRUNCATED:
		return "truncated batch";
	case PEER_CODEC_ERR_MAGIC:
		return "not a cetcd peer batch (bad magic)";
	case PEER_CODEC_ERR_VERSION:
		return "unknown peer batch version";
	case PEER_CODEC_ERR_KIND:
		return "unknown record kind";
	case PEER_CODEC_ERR_INVALID:
		return "invalid field in peer batch";
	default:
		return "unknown peer codec error";
	}
}

/* ---- encoding ------------------------------------------------------------ */

/* Overwrites 8 bytes at off (a record length reserved earlier). */
static void patch_u64(struct buf *b, size_t off, uint64_t v)
{
	le_put_u64((uint8_t *)b->data + off, v);
}

void peer_encode_header(struct buf *b, uint32_t n_records)
{
	buf_put_byte(b, PEER_CODEC_MAGIC0);
	buf_put_byte(b, PEER_CODEC_MAGIC1);
	buf_put_byte(b, PEER_CODEC_VERSION);
	buf_put_byte(b, 0); /* flags: none defined */
	buf_put_le32(b, n_records);
}

static void put_bytes(struct buf *b, const void *p, size_t len)
{
	buf_put_le64(b, (uint64_t)len);
	if (len)
		buf_append(b, p, len);
}

static void put_entry(struct buf *b, const struct raft_entry *e)
{
	buf_put_le64(b, e->term);
	buf_put_le64(b, e->index);
	buf_put_byte(b, e->type);
	buf_put_le64(b, (uint64_t)e->time);
	put_bytes(b, e->data, e->len);
}

static void put_snapshot(struct buf *b, const struct raft_snapshot *s)
{
	const struct raft_membership *c = &s->meta.conf;
	size_t nv = c->n_voters < RAFT_MAX_MEMBERS ? c->n_voters : RAFT_MAX_MEMBERS;
	size_t nl = c->n_learners < RAFT_MAX_MEMBERS ? c->n_learners : RAFT_MAX_MEMBERS;
	buf_put_le64(b, s->meta.index);
	buf_put_le64(b, s->meta.term);
	buf_put_byte(b, (uint8_t)nv);
	buf_put_byte(b, (uint8_t)nl);
	for (size_t i = 0; i < nv; i++)
		buf_put_le64(b, c->voters[i]);
	for (size_t i = 0; i < nl; i++)
		buf_put_le64(b, c->learners[i]);
	put_bytes(b, s->data, s->len);
}

/* Starts a record: kind and a length patched by end_record. */
static size_t begin_record(struct buf *b, uint8_t kind)
{
	buf_put_byte(b, kind);
	size_t off = b->len;
	buf_put_le64(b, 0);
	return off;
}

static void end_record(struct buf *b, size_t off)
{
	patch_u64(b, off, (uint64_t)(b->len - off - 8));
}

void peer_encode_message(struct buf *b, const struct raft_message *m)
{
	size_t off = begin_record(b, PEER_REC_MESSAGE);
	uint8_t flags =
		(uint8_t)((m->reject ? FLAG_REJECT : 0) | (m->transfer ? FLAG_TRANSFER : 0) |
			  (m->snapshot ? FLAG_SNAPSHOT : 0));
	buf_put_byte(b, m->type);
	buf_put_byte(b, flags);
	buf_put_le64(b, m->from);
	buf_put_le64(b, m->to);
	buf_put_le64(b, m->term);
	buf_put_le64(b, m->log_term);
	buf_put_le64(b, m->index);
	buf_put_le64(b, m->commit);
	buf_put_le64(b, m->context);
	buf_put_le64(b, m->reject_hint);
	size_t n = m->entries ? m->n_entries : 0;
	buf_put_le64(b, (uint64_t)n);
	for (size_t i = 0; i < n; i++)
		put_entry(b, &m->entries[i]);
	if (m->snapshot)
		put_snapshot(b, m->snapshot);
	end_record(b, off);
}

void peer_encode_proposal(struct buf *b, const void *payload, size_t len)
{
	size_t off = begin_record(b, PEER_REC_PROPOSAL);
	if (len)
		buf_append(b, payload, len);
	end_record(b, off);
}

/* ---- decoding: a bounded cursor ------------------------------------------- */

struct cur {
	const uint8_t *p;
	size_t left;
	int err; /* first error; once set every read fails */
};

static bool need(struct cur *c, size_t n)
{
	if (c->err)
		return false;
	if (n > c->left) {
		c->err = PEER_CODEC_ERR_TRUNCATED;
		return false;
	}
	return true;
}

static uint8_t get_u8(struct cur *c)
{
	if (!need(c, 1))
		return 0;
	uint8_t v = c->p[0];
	c->p++;
	c->left--;
	return v;
}

static uint64_t get_uint(struct cur *c, int width)
{
	if (!need(c, (size_t)width))
		return 0;
	uint64_t v = le_get_uint(c->p, width);
	c->p += width;
	c->left -= (size_t)width;
	return v;
}

static uint64_t get_u64(struct cur *c)
{
	return get_uint(c, 8);
}

/* A length-prefixed byte string, pointing into the input. */
static const void *get_bytes(struct cur *c, size_t *len)
{
	uint64_t n = get_u64(c);
	*len = 0;
	if (c->err)
		return NULL;
	if (n > c->left) {
		c->err = PEER_CODEC_ERR_TRUNCATED;
		return NULL;
	}
	const void *p = n ? c->p : NULL;
	c->p += n;
	c->left -= (size_t)n;
	*len = (size_t)n;
	return p;
}

static void fail(struct cur *c, int err)
{
	if (!c->err)
		c->err = err;
}

/* ---- decoding: the two passes --------------------------------------------- */

/* Where pass 2 writes; NULL members in pass 1 (count only). */
struct sink {
	struct peer_record *records;
	struct raft_entry *entries;
	struct raft_snapshot *snaps;
	size_t n_records, n_entries, n_snaps; /* used so far (both passes) */
};

static void get_entry(struct cur *c, struct raft_entry *e)
{
	e->term = get_u64(c);
	e->index = get_u64(c);
	e->type = get_u8(c);
	e->time = (int64_t)get_u64(c);
	e->data = get_bytes(c, &e->len);
	if (e->type > RAFT_ENTRY_NOOP)
		fail(c, PEER_CODEC_ERR_INVALID);
}

static void get_snapshot(struct cur *c, struct raft_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->meta.index = get_u64(c);
	s->meta.term = get_u64(c);
	size_t nv = get_u8(c), nl = get_u8(c);
	if (nv > RAFT_MAX_MEMBERS || nl > RAFT_MAX_MEMBERS) {
		fail(c, PEER_CODEC_ERR_INVALID);
		return;
	}
	s->meta.conf.n_voters = nv;
	s->meta.conf.n_learners = nl;
	for (size_t i = 0; i < nv; i++)
		s->meta.conf.voters[i] = get_u64(c);
	for (size_t i = 0; i < nl; i++)
		s->meta.conf.learners[i] = get_u64(c);
	s->data = get_bytes(c, &s->len);
}

static void get_message_fields(struct cur *c, struct raft_message *m, uint8_t *flags)
{
	m->type = get_u8(c);
	*flags = get_u8(c);
	m->from = get_u64(c);
	m->to = get_u64(c);
	m->term = get_u64(c);
	m->log_term = get_u64(c);
	m->index = get_u64(c);
	m->commit = get_u64(c);
	m->context = get_u64(c);
	m->reject_hint = get_u64(c);
	m->reject = (*flags & FLAG_REJECT) != 0;
	m->transfer = (*flags & FLAG_TRANSFER) != 0;
	if (m->type < RAFT_MSG_APPEND || m->type > RAFT_MSG_READ_INDEX_RESP ||
	    (*flags & ~FLAGS_KNOWN) != 0)
		fail(c, PEER_CODEC_ERR_INVALID);
}

static void get_message(struct cur *c, struct sink *s, struct raft_message *m)
{
	uint8_t flags = 0;
	get_message_fields(c, m, &flags);
	uint64_t n = get_u64(c);
	if (c->err)
		return;
	if (n > c->left / ENTRY_FIXED_LEN) { /* cannot fit: do not trust it */
		fail(c, PEER_CODEC_ERR_TRUNCATED);
		return;
	}
	struct raft_entry scratch;
	m->entries = s->entries && n ? &s->entries[s->n_entries] : NULL;
	m->n_entries = (size_t)n;
	for (uint64_t i = 0; i < n && !c->err; i++)
		get_entry(c, s->entries ? &s->entries[s->n_entries + i] : &scratch);
	s->n_entries += (size_t)n;
	m->snapshot = NULL;
	if (flags & FLAG_SNAPSHOT) {
		struct raft_snapshot tmp;
		struct raft_snapshot *snap = s->snaps ? &s->snaps[s->n_snaps] : &tmp;
		get_snapshot(c, snap);
		m->snapshot = s->snaps ? snap : NULL;
		s->n_snaps++;
	}
}

static void get_record(struct cur *c, struct sink *s)
{
	uint8_t kind = get_u8(c);
	uint64_t len = get_u64(c);
	if (c->err)
		return;
	if (len > c->left) {
		fail(c, PEER_CODEC_ERR_TRUNCATED);
		return;
	}
	struct cur body = {.p = c->p, .left = (size_t)len, .err = 0};
	c->p += len;
	c->left -= (size_t)len;
	struct peer_record scratch;
	struct peer_record *r = s->records ? &s->records[s->n_records] : &scratch;
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	s->n_records++;
	if (kind == PEER_REC_MESSAGE) {
		get_message(&body, s, &r->msg);
		if (!body.err && body.left != 0)
			fail(&body, PEER_CODEC_ERR_INVALID); /* trailing bytes */
	} else if (kind == PEER_REC_PROPOSAL) {
		r->payload = len ? body.p : NULL;
		r->len = (size_t)len;
	} else {
		fail(&body, PEER_CODEC_ERR_KIND);
	}
	fail(c, body.err);
}

static int get_header(struct cur *c, uint32_t *count)
{
	if (c->left < PEER_CODEC_HEADER_LEN)
		return c->left >= 2 && (c->p[0] != PEER_CODEC_MAGIC0 ||
					c->p[1] != PEER_CODEC_MAGIC1) ?
			       PEER_CODEC_ERR_MAGIC :
			       PEER_CODEC_ERR_TRUNCATED;
	if (get_u8(c) != PEER_CODEC_MAGIC0 || get_u8(c) != PEER_CODEC_MAGIC1)
		return PEER_CODEC_ERR_MAGIC;
	if (get_u8(c) != PEER_CODEC_VERSION)
		return PEER_CODEC_ERR_VERSION;
	if (get_u8(c) != 0)
		return PEER_CODEC_ERR_INVALID; /* no flags defined in version 1 */
	*count = (uint32_t)get_uint(c, 4);
	return PEER_CODEC_OK;
}

static int parse(const void *data, size_t len, struct sink *s)
{
	struct cur c = {.p = data, .left = len, .err = 0};
	uint32_t count = 0;
	int err = get_header(&c, &count);
	if (err)
		return err;
	if (count > c.left / REC_HEADER_LEN)
		return PEER_CODEC_ERR_TRUNCATED;
	for (uint32_t i = 0; i < count && !c.err; i++)
		get_record(&c, s);
	if (!c.err && c.left != 0)
		c.err = PEER_CODEC_ERR_INVALID; /* bytes after the last record */
	return c.err;
}

/* Every count below is bounded by len (checked against the bytes left), so
 * these products cannot overflow on any real address space. */
static void *alloc_sink(struct sink *s, const struct sink *counts)
{
	size_t rec = counts->n_records * sizeof(struct peer_record);
	size_t ent = counts->n_entries * sizeof(struct raft_entry);
	size_t snp = counts->n_snaps * sizeof(struct raft_snapshot);
	char *mem = xcalloc(1, rec + ent + snp + 1);
	s->records = (struct peer_record *)(void *)mem;
	s->entries = (struct raft_entry *)(void *)(mem + rec);
	s->snaps = (struct raft_snapshot *)(void *)(mem + rec + ent);
	return mem;
}

int peer_decode(const void *data, size_t len, struct peer_decoded *out)
{
	memset(out, 0, sizeof(*out));
	if (data == NULL && len != 0)
		return PEER_CODEC_ERR_INVALID;
	struct sink counts = {0};
	int err = parse(data, len, &counts);
	if (err)
		return err;
	struct sink fill = {0};
	void *mem = alloc_sink(&fill, &counts);
	err = parse(data, len, &fill);
	if (err) { /* cannot happen: same bytes, same checks */
		free(mem);
		return err;
	}
	out->records = fill.records;
	out->n_records = fill.n_records;
	out->mem = mem;
	return PEER_CODEC_OK;
}

void peer_decoded_free(struct peer_decoded *d)
{
	if (d == NULL)
		return;
	free(d->mem);
	memset(d, 0, sizeof(*d));
}
