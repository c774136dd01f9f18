/* kv_parse.c - PURE: /v2/keys request parsing with etcd's (Go's) exact rules.
 * No I/O, no clock. See kv_parse.h. */
#include "kv/kv_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/v2err.h"
#include "util/goparse.h"
#include "util/url_escape.h"
#include "util/xalloc.h"

/* ---- small helpers ---------------------------------------------------- */

static char *escape_error(const char bad[4])
{
	/* Go: "invalid URL escape " + strconv.Quote(bad) */
	char *msg = xmalloc(64);
	snprintf(msg, 64, "invalid URL escape \"%s\"", bad);
	return msg;
}

/* ---- form ------------------------------------------------------------- */

static void form_add(struct form *f, char *key, size_t key_len, char *value, size_t value_len)
{
	if (f->len == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->pairs = xrealloc(f->pairs, f->cap * sizeof(*f->pairs));
	}
	f->pairs[f->len].key = key;
	f->pairs[f->len].key_len = key_len;
	f->pairs[f->len].value = value;
	f->pairs[f->len].value_len = value_len;
	f->len++;
}

static void set_first_error(char **cause, char *msg)
{
	if (*cause == NULL)
		*cause = msg;
	else
		free(msg);
}

int form_parse(struct form *f, const char *s, size_t len, char **cause)
{
	*cause = NULL;
	size_t i = 0;
	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - s) : len;
		const char *seg = s + i;
		size_t seg_len = end - i;
		i = amp ? end + 1 : len;
		if (memchr(seg, ';', seg_len) != NULL) {
			set_first_error(cause,
					xstrndup("invalid semicolon separator in query", 36));
			continue;
		}
		if (seg_len == 0)
			continue;
		const char *eq = memchr(seg, '=', seg_len);
		size_t klen = eq ? (size_t)(eq - seg) : seg_len;
		char bad[4];
		size_t key_len = 0, value_len = 0;
		char *key = url_unescape(seg, klen, true, bad, &key_len);
		if (key == NULL) {
			set_first_error(cause, escape_error(bad));
			continue;
		}
		char *value = eq ? url_unescape(eq + 1, seg_len - klen - 1, true, bad, &value_len) :
				   xstrndup("", 0);
		if (value == NULL) {
			free(key);
			set_first_error(cause, escape_error(bad));
			continue;
		}
		form_add(f, key, key_len, value, value_len);
	}
	return *cause ? -1 : 0;
}

const char *form_get_len(const struct form *f, const char *key, size_t *len)
{
	size_t key_len = strlen(key);
	for (size_t i = 0; i < f->len; i++) {
		const struct form_pair *p = &f->pairs[i];
		if (p->key_len == key_len && memcmp(p->key, key, key_len) == 0) {
			if (len != NULL)
				*len = p->value_len;
			return p->value;
		}
	}
	if (len != NULL)
		*len = 0;
	return NULL;
}

const char *form_get(const struct form *f, const char *key)
{
	return form_get_len(f, key, NULL);
}

bool form_has(const struct form *f, const char *key)
{
	return form_get(f, key) != NULL;
}

void form_free(struct form *f)
{
	for (size_t i = 0; i < f->len; i++) {
		free(f->pairs[i].key);
		free(f->pairs[i].value);
	}
	free(f->pairs);
	f->pairs = NULL;
	f->len = f->cap = 0;
}

/* ---- the key request -------------------------------------------------- */

static int fail(struct store_error *err, int code, const char *cause)
{
	err->code = code;
	err->cause_len = cause ? strlen(cause) : 0;
	err->cause = cause ? xstrndup(cause, err->cause_len) : NULL;
	err->index = 0;
	return -1;
}

/* A value holding a NUL byte never parses as a Go bool or number. */
static bool has_nul(const char *v, size_t len)
{
	return v != NULL && memchr(v, '\0', len) != NULL;
}

/* strconv.ParseBool, as etcd's getBool. */
static int parse_bool_len(const char *v, size_t len, bool *out)
{
	return has_nul(v, len) ? -1 : go_parse_bool(v, out);
}

/* strconv.ParseUint(v, 10, 64), as etcd's getUint64 and ttl parsing.
 * *out is only written on success. */
static int parse_u64_len(const char *v, size_t len, uint64_t *out)
{
	uint64_t n;

	if (has_nul(v, len) || go_parse_uint(v, 10, 64, &n) != GO_NUM_OK)
		return -1;
	*out = n;
	return 0;
}

/* getUint64: absent -> 0; present -> must parse. */
static int get_u64(const struct form *f, const char *key, uint64_t *out)
{
	size_t len;
	const char *v = form_get_len(f, key, &len);
	*out = 0;
	if (v == NULL)
		return 0;
	return parse_u64_len(v, len, out);
}

static int get_bool(const struct form *f, const char *key, bool *out)
{
	size_t len;
	const char *v = form_get_len(f, key, &len);
	*out = false;
	return v ? parse_bool_len(v, len, out) : 0;
}

/* path.Join("/", key_path) */
static char *store_path(const char *key_path)
{
	char *c = url_clean_path(key_path);
	size_t n = strlen(c);
	if (n > 1 && c[n - 1] == '/')
		c[n - 1] = '\0';
	return c;
}

static void fill_write(struct kv_request *r, const struct form *f, bool has_prev_exist,
		       bool prev_exist, bool refresh, bool has_ttl, uint64_t ttl,
		       uint64_t prev_index)
{
	struct store_write *w = &r->write;
	size_t pv_len;
	const char *pv = form_get_len(f, "prevValue", &pv_len);
	bool has_prev = prev_index > 0 || pv_len > 0;

	w->path = r->path;
	w->value = form_get_len(f, "value", &w->value_len);
	w->dir = r->dir;
	w->recursive = r->recursive;
	w->refresh = refresh;
	w->has_ttl = has_ttl;
	w->ttl = ttl;
	w->prev_value = pv_len > 0 ? pv : NULL;
	w->prev_value_len = pv_len;
	w->prev_index = prev_index;

	switch (r->method) {
	case KV_POST:
		w->op = OP_CREATE;
		w->unique = true;
		break;
	case KV_PUT:
		if (has_prev_exist && prev_exist) {
			w->op = has_prev ? OP_CAS : OP_UPDATE;
			w->dir = false;
		} else if (has_prev_exist) {
			w->op = OP_CREATE;
		} else if (has_prev) {
			w->op = OP_CAS;
			w->dir = false;
		} else {
			w->op = OP_SET;
		}
		break;
	case KV_DELETE:
		w->op = has_prev ? OP_CAD : OP_DELETE;
		if (w->recursive)
			w->dir = true;
		break;
	default:
		break;
	}
}

int kv_parse(struct kv_request *r, enum kv_method method, const char *key_path,
	     const struct form *f, struct store_error *err)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	uint64_t prev_index;

	if (get_u64(f, "prevIndex", &prev_index))
		return fail(err, V2E_INDEX_NAN, "invalid value for \"prevIndex\"");
	if (get_u64(f, "waitIndex", &r->wait_index))
		return fail(err, V2E_INDEX_NAN, "invalid value for \"waitIndex\"");
	if (get_bool(f, "recursive", &r->recursive))
		return fail(err, V2E_INVALID_FIELD, "invalid value for \"recursive\"");
	if (get_bool(f, "sorted", &r->sorted))
		return fail(err, V2E_INVALID_FIELD, "invalid value for \"sorted\"");
	if (get_bool(f, "wait", &r->wait))
		return fail(err, V2E_INVALID_FIELD, "invalid value for \"wait\"");
	if (get_bool(f, "dir", &r->dir))
		return fail(err, V2E_INVALID_FIELD, "invalid value for \"dir\"");
	if (get_bool(f, "quorum", &r->quorum))
		return fail(err, V2E_INVALID_FIELD, "invalid value for \"quorum\"");
	if (get_bool(f, "stream", &r->stream))
		return fail(err, V2E_INVALID_FIELD, "invalid value for \"stream\"");
	if (r->wait && method != KV_GET)
		return fail(err, V2E_INVALID_FIELD, "\"wait\" can only be used with GET requests");
	size_t pv_len;
	if (form_get_len(f, "prevValue", &pv_len) && pv_len == 0)
		return fail(err, V2E_PREV_VALUE_REQUIRED, "\"prevValue\" cannot be empty");
	if (get_bool(f, "noValueOnSuccess", &r->no_value_on_success))
		return fail(err, V2E_INVALID_FIELD, "invalid value for \"noValueOnSuccess\"");

	size_t ttl_len;
	const char *ttl_s = form_get_len(f, "ttl", &ttl_len);
	bool has_ttl = ttl_s && ttl_len > 0;
	uint64_t ttl = 0;
	if (has_ttl && parse_u64_len(ttl_s, ttl_len, &ttl))
		return fail(err, V2E_TTL_NAN, "invalid value for \"ttl\"");

	size_t len;
	const char *pe = form_get_len(f, "prevExist", &len);
	bool has_prev_exist = pe != NULL, prev_exist = false;
	if (has_prev_exist && parse_bool_len(pe, len, &prev_exist))
		return fail(err, V2E_INVALID_FIELD, "invalid value for prevExist");

	bool refresh = false;
	const char *rf = form_get_len(f, "refresh", &len);
	if (rf != NULL) {
		if (parse_bool_len(rf, len, &refresh))
			return fail(err, V2E_INVALID_FIELD, "invalid value for refresh");
		size_t val_len;
		form_get_len(f, "value", &val_len);
		if (refresh && val_len > 0)
			return fail(err, V2E_REFRESH_VALUE, "A value was provided on a refresh");
		if (refresh && !has_ttl)
			return fail(err, V2E_REFRESH_TTL_REQUIRED, "No TTL value set");
	}

	r->path = store_path(key_path);
	fill_write(r, f, has_prev_exist, prev_exist, refresh, has_ttl, ttl, prev_index);
	return 0;
}

void kv_request_free(struct kv_request *r)
{
	free(r->path);
	r->path = NULL;
}
