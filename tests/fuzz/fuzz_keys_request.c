/* fuzz_keys_request.c - libFuzzer target: a whole /v2/keys request as the
 * API reads it: the form body and query (form_parse, Go's url.ParseQuery),
 * the key, then kv_parse (etcd's parseKeyRequest); an accepted write is
 * applied to a small store, and the same write also goes through the log
 * payload (command_encode_write / command_decode) and is applied to a twin
 * store. Input: a method byte, the key (percent-encoded) up to the first
 * '\n', then the form.
 * Invariants: form pairs survive being encoded and parsed again; a write
 * decodes from its payload field for field; both stores end identical
 * (same index, same tree, same answer or error). */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "kv/command.h"
#include "kv/kv_parse.h"
#include "kv/store.h"
#include "util/buf.h"
#include "util/url_escape.h"
#include "util/xalloc.h"

#define NOW_NS 1700000000000000000LL

static void put_escaped(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			buf_putc(b, (char)c);
		else if (c == ' ')
			buf_putc(b, '+');
		else
			buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

/* url.Values.Encode (unsorted), parsed again: the same pairs in order. */
static void check_form_round_trip(const struct form *f)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < f->len; i++) {
		if (i)
			buf_putc(&b, '&');
		put_escaped(&b, f->pairs[i].key, f->pairs[i].key_len);
		buf_putc(&b, '=');
		put_escaped(&b, f->pairs[i].value, f->pairs[i].value_len);
	}
	struct form g = {0};
	char *cause = NULL;
	FUZZ_CHECK(form_parse(&g, b.data ? b.data : "", b.len, &cause) == 0);
	FUZZ_CHECK(g.len == f->len);
	for (size_t i = 0; i < f->len; i++) {
		const struct form_pair *p = &f->pairs[i];
		const struct form_pair *q = &g.pairs[i];
		FUZZ_CHECK(q->key_len == p->key_len && memcmp(q->key, p->key, p->key_len) == 0);
		FUZZ_CHECK(q->value_len == p->value_len &&
			   memcmp(q->value, p->value, p->value_len) == 0);
	}
	form_free(&g);
	buf_free(&b);
}

static struct store *seeded_store(void)
{
	struct store *s = store_new();
	static const struct store_write seed[] = {
		{.op = OP_SET, .path = "/a", .value = "1"},
		{.op = OP_SET, .path = "/d", .dir = true},
		{.op = OP_SET, .path = "/d/x", .value = "x", .has_ttl = true, .ttl = 5},
		{.op = OP_SET, .path = "/_hidden", .value = "h"},
	};
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		struct store_event *ev = NULL;
		struct store_error err = {0};
		FUZZ_CHECK(store_write(s, &seed[i], NOW_NS, &ev, &err) == 0);
		store_event_unref(ev);
	}
	return s;
}

static bool same_str(const char *a, size_t alen, const char *b, size_t blen)
{
	if (a == NULL || b == NULL)
		return a == b || (a ? alen : blen) == 0;
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void check_same_write(const struct store_write *a, const struct store_write *b)
{
	FUZZ_CHECK(a->op == b->op);
	FUZZ_CHECK(strcmp(a->path, b->path) == 0);
	FUZZ_CHECK(
		same_str(a->value, store_write_value_len(a), b->value, store_write_value_len(b)));
	FUZZ_CHECK(same_str(a->prev_value, store_write_prev_value_len(a), b->prev_value,
			    store_write_prev_value_len(b)));
	FUZZ_CHECK(a->dir == b->dir && a->unique == b->unique && a->recursive == b->recursive);
	FUZZ_CHECK(a->refresh == b->refresh && a->has_ttl == b->has_ttl);
	FUZZ_CHECK(!a->has_ttl || a->ttl == b->ttl);
	FUZZ_CHECK(a->prev_index == b->prev_index);
}

static void dump(struct store *s, struct buf *out)
{
	struct store_error err = {0};
	buf_printf(out, "%llu:", (unsigned long long)store_index(s));
	if (store_get(s, "/", true, true, NOW_NS, out, &err) != 0)
		store_error_clear(&err);
}

static void apply_write(const struct kv_request *r)
{
	struct store *one = seeded_store(), *two = seeded_store();
	struct store_event *ev1 = NULL, *ev2 = NULL;
	struct store_error e1 = {0}, e2 = {0};
	int rc1 = store_write(one, &r->write, NOW_NS + 1000, &ev1, &e1);

	struct buf payload = BUF_INIT;
	command_encode_write(&payload, 7, 9, &r->write);
	struct command c;
	FUZZ_CHECK(command_decode(payload.data, payload.len, &c) == 0);
	FUZZ_CHECK(c.type == CMD_WRITE && c.member_id == 7 && c.req_id == 9);
	check_same_write(&r->write, &c.write);
	int rc2 = store_write(two, &c.write, NOW_NS + 1000, &ev2, &e2);
	FUZZ_CHECK(rc1 == rc2 && e1.code == e2.code);
	struct buf d1 = BUF_INIT, d2 = BUF_INIT;
	dump(one, &d1);
	dump(two, &d2);
	FUZZ_CHECK(d1.len == d2.len && memcmp(d1.data, d2.data, d1.len) == 0);
	buf_free(&d1);
	buf_free(&d2);
	command_free(&c);
	buf_free(&payload);
	store_event_unref(ev1);
	store_event_unref(ev2);
	store_error_clear(&e1);
	store_error_clear(&e2);
	store_free(one);
	store_free(two);
}

static void apply_read(const struct kv_request *r)
{
	struct store *s = seeded_store();
	struct buf out = BUF_INIT;
	struct store_error err = {0};
	if (store_get(s, r->path, r->recursive, r->sorted, NOW_NS, &out, &err) != 0)
		FUZZ_CHECK(err.code != 0);
	store_error_clear(&err);
	buf_free(&out);
	store_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum kv_method m = (enum kv_method)(data[0] % 5);
	const char *rest = (const char *)data + 1;
	size_t n = size - 1;
	const char *nl = memchr(rest, '\n', n);
	size_t klen = nl ? (size_t)(nl - rest) : n;
	char *key = url_path_unescape(rest, klen);
	if (key == NULL)
		return 0;
	struct form f = {0};
	char *cause = NULL;
	const char *body = nl ? nl + 1 : "";
	size_t blen = nl ? n - klen - 1 : 0;
	if (form_parse(&f, body, blen, &cause) != 0) {
		FUZZ_CHECK(cause != NULL);
		free(cause);
	} else {
		FUZZ_CHECK(cause == NULL);
	}
	check_form_round_trip(&f);
	struct kv_request r;
	struct store_error err = {0};
	if (kv_parse(&r, m, key, &f, &err) == 0) {
		FUZZ_CHECK(r.path[0] == '/');
		if (m == KV_GET || m == KV_HEAD)
			apply_read(&r);
		else
			apply_write(&r);
		kv_request_free(&r);
	} else {
		FUZZ_CHECK(err.code != 0);
		store_error_clear(&err);
	}
	form_free(&f);
	free(key);
	return 0;
}
