/* store_codec.c - the store snapshot payload: encode (to a buffer or streamed
 * in chunks) and a defensive decode into an empty store. Format version 1,
 * little-endian (doc/disk-format.md, "store snapshot payload"):
 *
 *   header   "CETCDKVS" u32 version u32 flags(0)
 *   state    u64 etcd index, u64 TTL next sequence number
 *   history  u32 n_events, then oldest first:
 *            u64 index, u8 action, u8 flags(dir 1, refresh 2, has_prev 4),
 *            u32 key_len, key, u32 json_len, json
 *   tree     node records in pre-order, children in insertion order:
 *            u32 depth (1 = child of the root; 0 ends the tree), u8 flags
 *            (dir 1, ttl 2), u32 name_len, name, u64 created, u64 modified,
 *            [ttl: i64 expire_ns, u64 seq] [file: u32 value_len, value]
 *   trailer  u64 n_nodes, "CETCDEND"
 *
 * The tree walk and the decode are iterative (an explicit stack of open
 * directories), so a deep tree or hostile input cannot exhaust the C stack.
 * PURE: no I/O, no clock. */
#include "kv/store_codec.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/le.h"
#include "util/xalloc.h"
#include "kv/store_node.h"
#include "kv/store_private.h"
#include "kv/store_ttl.h"
#include "kv/watch_history.h"

#define END_MAGIC "CETCDEND"
#define CHUNK	  (256u * 1024u) /* streamed chunk size */

enum {
	EV_DIR = 1,
	EV_REFRESH = 2,
	EV_HAS_PREV = 4
};
enum {
	ND_DIR = 1,
	ND_TTL = 2
};

/* ---- encoding ------------------------------------------------------------ */

/* Output: appends to b; with emit set, hands b over in chunks and empties it. */
struct enc {
	struct buf *b;
	store_snapshot_emit_fn emit;
	void *ctx;
	bool failed;
};

/* Raw little-endian stores into reserved space. */
static char *le32(char *p, uint32_t v)
{
	le_put_u32((uint8_t *)p, v);
	return p + 4;
}

static char *le64(char *p, uint64_t v)
{
	le_put_u64((uint8_t *)p, v);
	return p + 8;
}

static char *bytes(char *p, const void *data, size_t len)
{
	if (len > 0)
		memcpy(p, data, len);
	return p + len;
}

/* Reserves room for a record of at most n bytes; returns where it goes. */
static char *enc_begin(struct enc *e, size_t n)
{
	buf_reserve(e->b, n);
	return e->b->data + e->b->len;
}

/* Commits the record that ends at end; flushes a full chunk when streaming. */
static void enc_end(struct enc *e, char *end)
{
	struct buf *b = e->b;
	b->len = (size_t)(end - b->data);
	b->data[b->len] = '\0';
	if (e->emit != NULL && !e->failed && b->len >= CHUNK) {
		if (e->emit(e->ctx, b->data, b->len) != 0)
			e->failed = true;
		buf_reset(b);
	}
}

static void write_header(struct enc *e, const struct store *s)
{
	char *p = enc_begin(e, 8 + 4 + 4 + 8 + 8);
	p = bytes(p, STORE_SNAPSHOT_MAGIC, 8);
	p = le32(p, STORE_SNAPSHOT_VERSION);
	p = le32(p, 0);
	p = le64(p, s->index);
	p = le64(p, s->ttl.next_seq);
	enc_end(e, p);
}

static void write_event(struct enc *e, const struct store_event *ev)
{
	size_t key_len = strlen(ev->key);
	uint8_t flags = (ev->dir ? EV_DIR : 0) | (ev->refresh ? EV_REFRESH : 0) |
			(ev->has_prev ? EV_HAS_PREV : 0);
	char *p = enc_begin(e, 8 + 2 + 4 + key_len + 4 + ev->json_len);
	p = le64(p, ev->index);
	*p++ = (char)ev->action;
	*p++ = (char)flags;
	p = le32(p, (uint32_t)key_len);
	p = bytes(p, ev->key, key_len);
	p = le32(p, (uint32_t)ev->json_len);
	p = bytes(p, ev->json, ev->json_len);
	enc_end(e, p);
}

static void write_history(struct enc *e, const struct watch_history *h)
{
	char *p = enc_begin(e, 4);
	enc_end(e, le32(p, (uint32_t)h->len));
	for (size_t i = 0; i < h->len; i++)
		write_event(e, h->ring[(h->head + i) % h->cap]);
}

static void write_node(struct enc *e, const struct store *s, const struct snode *n, uint32_t depth)
{
	bool ttl = snode_has_ttl(n);
	size_t value_len = n->is_dir ? 0 : n->value_len;
	char *p = enc_begin(e, 4 + 1 + 4 + n->name_len + 16 + 16 + 4 + value_len);
	p = le32(p, depth);
	*p++ = (char)((n->is_dir ? ND_DIR : 0) | (ttl ? ND_TTL : 0));
	p = le32(p, n->name_len);
	p = bytes(p, n->name, n->name_len);
	p = le64(p, n->created_index);
	p = le64(p, n->modified_index);
	if (ttl) {
		p = le64(p, (uint64_t)n->expire_ns);
		p = le64(p, ttl_heap_seq(&s->ttl, n));
	}
	if (!n->is_dir) {
		p = le32(p, (uint32_t)value_len);
		p = bytes(p, n->u.value, value_len);
	}
	enc_end(e, p);
}

/* Pre-order walk below the root without recursion; returns the node count. */
static uint64_t write_tree(struct enc *e, const struct store *s)
{
	const struct snode *root = s->root;
	const struct snode *n = dir_first(root);
	uint32_t depth = 1;
	uint64_t count = 0;
	while (n != NULL && !e->failed) {
		write_node(e, s, n, depth);
		count++;
		if (n->is_dir && dir_count(n) > 0) {
			n = dir_first(n);
			depth++;
			continue;
		}
		while (n != root && dir_next(n) == NULL) {
			n = n->parent;
			depth--;
		}
		n = n == root ? NULL : dir_next(n);
	}
	return count;
}

static void write_all(struct enc *e, const struct store *s)
{
	write_header(e, s);
	write_history(e, &s->history);
	uint64_t count = write_tree(e, s);
	char *p = enc_begin(e, 4 + 8 + 8);
	p = le32(p, 0);
	p = le64(p, count);
	p = bytes(p, END_MAGIC, 8);
	enc_end(e, p);
}

void store_snapshot_write(const struct store *s, struct buf *out)
{
	struct enc e = {.b = out};
	write_all(&e, s);
}

int store_snapshot_write_stream(const struct store *s, store_snapshot_emit_fn emit, void *ctx)
{
	struct buf b = BUF_INIT;
	struct enc e = {.b = &b, .emit = emit, .ctx = ctx};
	buf_reserve(&b, CHUNK + 4096);
	write_all(&e, s);
	if (!e.failed && b.len > 0 && emit(ctx, b.data, b.len) != 0)
		e.failed = true;
	buf_free(&b);
	return e.failed ? -1 : 0;
}

/* ---- decoding ------------------------------------------------------------ */

struct dec {
	const uint8_t *start, *p;
	size_t left;
	char *err;
	size_t cap;
	bool bad; /* an error message is in err; every later read fails */
};

__attribute__((format(printf, 2, 3))) static void dec_fail(struct dec *d, const char *fmt, ...)
{
	if (d->bad)
		return;
	d->bad = true;
	if (d->cap == 0)
		return;
	int n = snprintf(d->err, d->cap, "store snapshot: offset %zu: ", (size_t)(d->p - d->start));
	if (n < 0 || (size_t)n >= d->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err + n, d->cap - (size_t)n, fmt, ap);
	va_end(ap);
}

/* True when n more bytes are there; else fails with "truncated" and what. */
static bool need(struct dec *d, size_t n, const char *what)
{
	if (d->bad)
		return false;
	if (d->left < n) {
		dec_fail(d, "truncated (%s)", what);
		return false;
	}
	return true;
}

static uint64_t get_le(struct dec *d, int width, const char *what)
{
	if (!need(d, (size_t)width, what))
		return 0;
	uint64_t v = le_get_uint(d->p, width);
	d->p += width;
	d->left -= (size_t)width;
	return v;
}

/* A u32 length, then that many bytes (borrowed from the input). */
static const char *get_bytes(struct dec *d, size_t *len, const char *what)
{
	uint64_t n = get_le(d, 4, what);
	*len = 0;
	if (!need(d, (size_t)n, what))
		return NULL;
	const char *s = (const char *)d->p;
	d->p += n;
	d->left -= (size_t)n;
	*len = (size_t)n;
	return s;
}

/* What is being built; moved into the store only when everything checked out. */
struct restore {
	uint64_t index;
	uint64_t next_seq;
	struct snode *root;
	struct ttl_heap ttl;
	struct watch_history history;
	struct snode **stack; /* open directories: stack[0] = root */
	size_t depth, stack_cap;
	uint64_t nodes;
};

static bool read_header(struct dec *d, struct restore *r)
{
	if (!need(d, 8, "magic"))
		return false;
	if (memcmp(d->p, STORE_SNAPSHOT_MAGIC, 8) != 0) {
		dec_fail(d, "not a store snapshot (bad magic)");
		return false;
	}
	d->p += 8;
	d->left -= 8;
	uint64_t version = get_le(d, 4, "version");
	uint64_t flags = get_le(d, 4, "header flags");
	if (!d->bad && version != STORE_SNAPSHOT_VERSION)
		dec_fail(d, "format version %" PRIu64 ", this build reads version %d", version,
			 STORE_SNAPSHOT_VERSION);
	if (!d->bad && flags != 0)
		dec_fail(d, "unknown header flags 0x%" PRIx64, flags);
	r->index = get_le(d, 8, "index");
	r->next_seq = get_le(d, 8, "TTL sequence");
	return !d->bad;
}

static bool key_ok(const char *key, size_t len)
{
	return len > 0 && key[0] == '/' && memchr(key, '\0', len) == NULL;
}

static bool read_event(struct dec *d, struct restore *r, uint64_t prev_index)
{
	uint64_t index = get_le(d, 8, "event index");
	uint64_t action = get_le(d, 1, "event action");
	uint64_t flags = get_le(d, 1, "event flags");
	size_t key_len, json_len;
	const char *key = get_bytes(d, &key_len, "event key");
	const char *json = get_bytes(d, &json_len, "event json");
	if (d->bad)
		return false;
	if (index <= prev_index || index > r->index) {
		dec_fail(d, "event index %" PRIu64 " out of order or beyond the store index",
			 index);
		return false;
	}
	if (action == ACT_GET || action > ACT_EXPIRE ||
	    (flags & ~(uint64_t)(EV_DIR | EV_REFRESH | EV_HAS_PREV)) != 0) {
		dec_fail(d, "bad event action %" PRIu64 " or flags 0x%" PRIx64, action, flags);
		return false;
	}
	if (!key_ok(key, key_len)) {
		dec_fail(d, "bad event key");
		return false;
	}
	struct store_event *ev = xcalloc(1, sizeof(*ev));
	ev->refs = 1;
	ev->index = index;
	ev->action = (enum store_action)action;
	ev->dir = flags & EV_DIR;
	ev->refresh = flags & EV_REFRESH;
	ev->has_prev = flags & EV_HAS_PREV;
	ev->key = xstrndup(key, key_len);
	ev->json = xstrndup(json, json_len);
	ev->json_len = json_len;
	watch_history_add(&r->history, ev); /* takes its own reference */
	store_event_unref(ev);
	return true;
}

static bool read_history(struct dec *d, struct restore *r)
{
	uint64_t n = get_le(d, 4, "event count");
	if (!d->bad && n > r->history.cap)
		dec_fail(d, "%" PRIu64 " events, the history holds %zu", n, r->history.cap);
	uint64_t prev = 0;
	for (uint64_t i = 0; i < n && !d->bad; i++) {
		if (read_event(d, r, prev))
			prev = watch_history_last(&r->history);
	}
	return !d->bad;
}

static bool name_ok(const char *name, size_t len)
{
	return len > 0 && len < SNODE_MAX_NAME && memchr(name, '/', len) == NULL &&
	       memchr(name, '\0', len) == NULL;
}

/* Checks one node record's fields (everything but its value). */
static bool node_fields_ok(struct dec *d, const struct restore *r, uint64_t depth, uint64_t flags,
			   const char *name, size_t name_len, uint64_t created, uint64_t modified)
{
	if (depth > r->depth) {
		dec_fail(d, "node depth %" PRIu64 " below no open directory", depth);
		return false;
	}
	if ((flags & ~(uint64_t)(ND_DIR | ND_TTL)) != 0) {
		dec_fail(d, "unknown node flags 0x%" PRIx64, flags);
		return false;
	}
	if (!name_ok(name, name_len)) {
		dec_fail(d, "bad node name");
		return false;
	}
	if (created == 0 || created > modified || modified > r->index) {
		dec_fail(d,
			 "node indexes %" PRIu64 "/%" PRIu64 " inconsistent (store index %" PRIu64
			 ")",
			 created, modified, r->index);
		return false;
	}
	if (dir_find(r->stack[depth - 1], name, name_len) != NULL) {
		dec_fail(d, "duplicate node name");
		return false;
	}
	return true;
}

static void push_dir(struct restore *r, struct snode *dir)
{
	if (r->depth == r->stack_cap) {
		r->stack_cap *= 2;
		r->stack = xrealloc(r->stack, r->stack_cap * sizeof(*r->stack));
	}
	r->stack[r->depth++] = dir;
}

/* Reads the record after its depth (1 <= depth); links the node in. */
static bool read_node(struct dec *d, struct restore *r, uint64_t depth)
{
	uint64_t flags = get_le(d, 1, "node flags");
	size_t name_len, value_len = 0;
	const char *name = get_bytes(d, &name_len, "node name");
	uint64_t created = get_le(d, 8, "created index");
	uint64_t modified = get_le(d, 8, "modified index");
	int64_t expire_ns = 0;
	uint64_t seq = 0;
	if (flags & ND_TTL) {
		expire_ns = (int64_t)get_le(d, 8, "expiration");
		seq = get_le(d, 8, "TTL sequence");
	}
	const char *value = NULL;
	if (!(flags & ND_DIR))
		value = get_bytes(d, &value_len, "node value");
	if (d->bad || !node_fields_ok(d, r, depth, flags, name, name_len, created, modified))
		return false;
	if ((flags & ND_TTL) && seq >= r->next_seq) {
		dec_fail(d, "TTL sequence %" PRIu64 " not below next %" PRIu64, seq, r->next_seq);
		return false;
	}
	struct snode *n = (flags & ND_DIR) ?
				  snode_new_dir(name, name_len, created) :
				  snode_new_file(name, name_len, value, value_len, created);
	n->modified_index = modified;
	r->depth = (size_t)depth; /* closes the directories deeper than the parent */
	dir_add(r->stack[depth - 1], n);
	if (flags & ND_TTL)
		ttl_heap_restore(&r->ttl, n, expire_ns, seq);
	if (flags & ND_DIR)
		push_dir(r, n);
	r->nodes++;
	return true;
}

static bool read_tree(struct dec *d, struct restore *r)
{
	for (;;) {
		uint64_t depth = get_le(d, 4, "node depth");
		if (d->bad)
			return false;
		if (depth == 0)
			return true;
		if (!read_node(d, r, depth))
			return false;
	}
}

static bool read_trailer(struct dec *d, const struct restore *r)
{
	uint64_t count = get_le(d, 8, "node count");
	if (!d->bad && count != r->nodes)
		dec_fail(d, "node count %" PRIu64 ", read %" PRIu64, count, r->nodes);
	if (need(d, 8, "end marker") && memcmp(d->p, END_MAGIC, 8) != 0)
		dec_fail(d, "bad end marker");
	if (!d->bad) {
		d->p += 8;
		d->left -= 8;
		if (d->left != 0)
			dec_fail(d, "%zu bytes after the end marker", d->left);
	}
	return !d->bad;
}

static bool store_is_empty(const struct store *s)
{
	return s->index == 0 && dir_count(s->root) == 0 && s->ttl.len == 0 && s->history.len == 0;
}

/* Moves the restored state into s (whose empty state is released). */
static void install(struct store *s, struct restore *r)
{
	snode_free_tree(s->root);
	s->root = r->root;
	s->bytes = snode_tree_bytes(s->root);
	ttl_heap_free(&s->ttl);
	s->ttl = r->ttl;
	s->ttl.next_seq = r->next_seq;
	watch_history_free(&s->history);
	s->history = r->history;
	s->index = r->index;
}

static int read_snapshot(struct store *s, const void *data, size_t len, bool must_be_empty,
			 char *err, size_t cap)
{
	struct dec d = {.start = data, .p = data, .left = data ? len : 0, .err = err, .cap = cap};
	if (cap > 0)
		err[0] = '\0';
	if (must_be_empty && !store_is_empty(s)) {
		dec_fail(&d, "the store is not empty");
		return -1;
	}
	struct restore r = {.root = snode_new_dir("", 0, 0), .stack_cap = 64};
	ttl_heap_init(&r.ttl);
	watch_history_init(&r.history, s->history.cap);
	r.stack = xmalloc(r.stack_cap * sizeof(*r.stack));
	r.stack[r.depth++] = r.root;
	bool ok = read_header(&d, &r) && read_history(&d, &r) && read_tree(&d, &r) &&
		  read_trailer(&d, &r);
	free(r.stack);
	if (!ok) {
		snode_free_tree(r.root);
		ttl_heap_free(&r.ttl);
		watch_history_free(&r.history);
		return -1;
	}
	install(s, &r);
	return 0;
}

int store_snapshot_read(struct store *s, const void *data, size_t len, char *err, size_t cap)
{
	return read_snapshot(s, data, len, true, err, cap);
}

int store_snapshot_replace(struct store *s, const void *data, size_t len, char *err, size_t cap)
{
	return read_snapshot(s, data, len, false, err, cap);
}
