/* test_store.c - unit tests of the v2 store (src/store*.c): every operation and
 * error, indexes, TTL/expiry, listings, JSON bytes, stats. Links only libkv.a. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "kv/store.h"
#include "kv/store_render.h"

/* 2016-05-24T09:35:30.752422783Z */
#define T0  INT64_C(1464082530752422783)
#define SEC INT64_C(1000000000)

static char out[1 << 16];

/* Runs a write; returns the event JSON (without the trailing newline check) or
 * "E<code> <cause|-> <index>". */
static const char *wr(struct store *s, struct store_write w, int64_t now)
{
	struct store_event *ev = NULL;
	struct store_error err = {0};
	if (store_write(s, &w, now, &ev, &err) != 0) {
		snprintf(out, sizeof(out), "E%d %s %" PRIu64, err.code, err.cause ? err.cause : "-",
			 err.index);
		store_error_clear(&err);
		return out;
	}
	snprintf(out, sizeof(out), "%.*s", (int)ev->json_len, ev->json);
	store_event_unref(ev);
	return out;
}

static const char *get(struct store *s, const char *path, bool recursive, bool sorted, int64_t now)
{
	struct buf b = BUF_INIT;
	struct store_error err = {0};
	if (store_get(s, path, recursive, sorted, now, &b, &err) != 0) {
		snprintf(out, sizeof(out), "E%d %s %" PRIu64, err.code, err.cause ? err.cause : "-",
			 err.index);
		store_error_clear(&err);
	} else {
		snprintf(out, sizeof(out), "%s", b.data);
	}
	buf_free(&b);
	return out;
}

#define SET(p, v) ((struct store_write){.op = OP_SET, .path = (p), .value = (v)})

static void test_time_format(void)
{
	struct buf b = BUF_INIT;
	static const struct {
		int64_t ns;
		const char *text;
	} cases[] = {
		{T0, "2016-05-24T09:35:30.752422783Z"},
		{0, "1970-01-01T00:00:00Z"},
		{1500000000, "1970-01-01T00:00:01.5Z"},
		{-1, "1969-12-31T23:59:59.999999999Z"},
		{INT64_C(951782400) * SEC, "2000-02-29T00:00:00Z"},
		{INT64_C(1709208000) * SEC + 10, "2024-02-29T12:00:00.00000001Z"},
		{INT64_C(4107542400) * SEC, "2100-03-01T00:00:00Z"},
		{INT64_C(1735689599) * SEC + 120000000, "2024-12-31T23:59:59.12Z"},
		{INT64_MAX, "2262-04-11T23:47:16.854775807Z"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		render_rfc3339nano(&b, cases[i].ns);
		CHECK_STR(b.data, cases[i].text);
	}
	buf_free(&b);
	CHECK(render_ttl_seconds(T0 + 5 * SEC, T0) == 5);
	CHECK(render_ttl_seconds(T0 + 5 * SEC, T0 + 1) == 5);
	CHECK(render_ttl_seconds(T0 + 5 * SEC, T0 + SEC / 2) == 5);
	CHECK(render_ttl_seconds(T0 + 5 * SEC + 1, T0) == 6);
	CHECK(render_ttl_seconds(T0, T0) == 0);
	CHECK(render_ttl_seconds(T0, T0 + 3 * SEC) == 0);
	CHECK(render_ttl_seconds(INT64_MAX, INT64_MIN) > 0);
}

static void test_set_get(void)
{
	struct store *s = store_new();
	CHECK(store_index(s) == 0);
	CHECK_STR(get(s, "/", false, false, T0), "{\"action\":\"get\",\"node\":{\"dir\":true}}\n");
	CHECK_STR(get(s, "/foo", false, false, T0), "E100 /foo 0");
	CHECK_STR(wr(s, SET("/foo", "bar"), T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\","
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	CHECK(store_index(s) == 1);
	CHECK_STR(get(s, "/foo", false, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\","
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	/* trailing and doubled slashes are cleaned */
	CHECK_STR(get(s, "foo/", false, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/foo\",\"value\":\"bar\","
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	/* replace: new createdIndex, prevNode */
	CHECK_STR(wr(s, SET("/foo", "baz"), T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"value\":\"baz\","
		  "\"modifiedIndex\":2,\"createdIndex\":2},\"prevNode\":{\"key\":\"/foo\","
		  "\"value\":\"bar\",\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	/* value NULL means "" (still present) */
	CHECK_STR(wr(s, SET("/empty", NULL), T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/empty\",\"value\":\"\","
		  "\"modifiedIndex\":3,\"createdIndex\":3}}\n");
	/* escaping */
	CHECK_STR(wr(s, SET("/esc", "a\"b\\c\n<&>\x01"), T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/esc\",\"value\":"
		  "\"a\\\"b\\\\c\\n\\u003c\\u0026\\u003e\\u0001\","
		  "\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	/* intermediate dirs take the new index */
	CHECK_STR(wr(s, SET("/a/b/c", "v"), T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/a/b/c\",\"value\":\"v\","
		  "\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	CHECK_STR(get(s, "/a", false, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,\"nodes\":["
		  "{\"key\":\"/a/b\",\"dir\":true,\"modifiedIndex\":5,\"createdIndex\":5}],"
		  "\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	CHECK_STR(
		get(s, "/a", true, false, T0),
		"{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,\"nodes\":["
		"{\"key\":\"/a/b\",\"dir\":true,\"nodes\":[{\"key\":\"/a/b/c\",\"value\":\"v\","
		"\"modifiedIndex\":5,\"createdIndex\":5}],\"modifiedIndex\":5,\"createdIndex\":5}],"
		"\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	/* errors: first missing component, file in the way, dir replace, root */
	CHECK_STR(get(s, "/a/x/y/z", false, false, T0), "E100 /a/x 5");
	CHECK_STR(get(s, "/foo/x/y", false, false, T0), "E104 /foo 5");
	CHECK_STR(wr(s, SET("/foo/x/y", "v"), T0), "E104 /foo 5");
	CHECK_STR(wr(s, SET("/a", "v"), T0), "E102 /a 5");
	struct store_write dirset = {.op = OP_SET, .path = "/a/b", .dir = true};
	CHECK_STR(wr(s, dirset, T0), "E102 /a/b 5");
	CHECK_STR(wr(s, SET("/", "v"), T0), "E107 / 5");
	CHECK(store_index(s) == 5);
	/* dir=true over a file replaces it */
	struct store_write dirover = {.op = OP_SET, .path = "/foo", .dir = true, .value = "x"};
	CHECK_STR(wr(s, dirover, T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/foo\",\"dir\":true,"
		  "\"modifiedIndex\":6,\"createdIndex\":6},\"prevNode\":{\"key\":\"/foo\","
		  "\"value\":\"baz\",\"modifiedIndex\":2,\"createdIndex\":2}}\n");
	CHECK_STR(get(s, "/", false, true, T0),
		  "{\"action\":\"get\",\"node\":{\"dir\":true,\"nodes\":["
		  "{\"key\":\"/a\",\"dir\":true,\"modifiedIndex\":5,\"createdIndex\":5},"
		  "{\"key\":\"/empty\",\"value\":\"\",\"modifiedIndex\":3,\"createdIndex\":3},"
		  "{\"key\":\"/esc\",\"value\":\"a\\\"b\\\\c\\n\\u003c\\u0026\\u003e\\u0001\","
		  "\"modifiedIndex\":4,\"createdIndex\":4},"
		  "{\"key\":\"/foo\",\"dir\":true,\"modifiedIndex\":6,\"createdIndex\":6}]}}\n");
	store_free(s);
}

static void test_ttl_and_refresh(void)
{
	struct store *s = store_new();
	struct store_write w = {
		.op = OP_SET, .path = "/t", .value = "v", .has_ttl = true, .ttl = 5};
	CHECK_STR(wr(s, w, T0), "{\"action\":\"set\",\"node\":{\"key\":\"/t\",\"value\":\"v\","
				"\"expiration\":\"2016-05-24T09:35:35.752422783Z\",\"ttl\":5,"
				"\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	CHECK(store_next_expiry(s) == T0 + 5 * SEC);
	CHECK_STR(get(s, "/t", false, false, T0 + SEC + SEC / 2),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/t\",\"value\":\"v\","
		  "\"expiration\":\"2016-05-24T09:35:35.752422783Z\",\"ttl\":4,"
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	/* past the deadline but not yet expired: ttl omitted */
	CHECK_STR(get(s, "/t", false, false, T0 + 7 * SEC),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/t\",\"value\":\"v\","
		  "\"expiration\":\"2016-05-24T09:35:35.752422783Z\","
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	/* refresh through update: keeps value and createdIndex */
	struct store_write r = {
		.op = OP_UPDATE, .path = "/t", .refresh = true, .has_ttl = true, .ttl = 10};
	CHECK_STR(
		wr(s, r, T0 + SEC),
		"{\"action\":\"update\",\"node\":{\"key\":\"/t\",\"value\":\"v\","
		"\"expiration\":\"2016-05-24T09:35:41.752422783Z\",\"ttl\":10,"
		"\"modifiedIndex\":2,\"createdIndex\":1},\"prevNode\":{\"key\":\"/t\",\"value\":\"v\","
		"\"expiration\":\"2016-05-24T09:35:35.752422783Z\",\"ttl\":4,"
		"\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	CHECK(store_next_expiry(s) == T0 + 11 * SEC);
	/* refresh through set: replaces the node (createdIndex reset), value kept */
	struct store_write rs = {
		.op = OP_SET, .path = "/t", .refresh = true, .has_ttl = true, .ttl = 3};
	CHECK_STR(
		wr(s, rs, T0 + SEC),
		"{\"action\":\"set\",\"node\":{\"key\":\"/t\",\"value\":\"v\","
		"\"expiration\":\"2016-05-24T09:35:34.752422783Z\",\"ttl\":3,"
		"\"modifiedIndex\":3,\"createdIndex\":3},\"prevNode\":{\"key\":\"/t\",\"value\":\"v\","
		"\"expiration\":\"2016-05-24T09:35:41.752422783Z\",\"ttl\":10,"
		"\"modifiedIndex\":2,\"createdIndex\":1}}\n");
	/* refresh of a missing key: 100 */
	struct store_write rm = {
		.op = OP_SET, .path = "/nope", .refresh = true, .has_ttl = true, .ttl = 3};
	CHECK_STR(wr(s, rm, T0), "E100 /nope 3");
	struct store_write ru = {
		.op = OP_UPDATE, .path = "/nope", .refresh = true, .has_ttl = true, .ttl = 3};
	CHECK_STR(wr(s, ru, T0), "E100 /nope 3");
	/* refresh through CAS */
	struct store_write rc = {.op = OP_CAS,
				 .path = "/t",
				 .refresh = true,
				 .has_ttl = true,
				 .ttl = 20,
				 .prev_index = 3};
	CHECK_STR(
		wr(s, rc, T0),
		"{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/t\",\"value\":\"v\","
		"\"expiration\":\"2016-05-24T09:35:50.752422783Z\",\"ttl\":20,"
		"\"modifiedIndex\":4,\"createdIndex\":3},\"prevNode\":{\"key\":\"/t\",\"value\":\"v\","
		"\"expiration\":\"2016-05-24T09:35:34.752422783Z\",\"ttl\":4,"
		"\"modifiedIndex\":3,\"createdIndex\":3}}\n");
	/* update without TTL makes it permanent */
	struct store_write u = {.op = OP_UPDATE, .path = "/t", .value = "perm"};
	CHECK_STR(
		wr(s, u, T0),
		"{\"action\":\"update\",\"node\":{\"key\":\"/t\",\"value\":\"perm\","
		"\"modifiedIndex\":5,\"createdIndex\":3},\"prevNode\":{\"key\":\"/t\",\"value\":\"v\","
		"\"expiration\":\"2016-05-24T09:35:50.752422783Z\",\"ttl\":20,"
		"\"modifiedIndex\":4,\"createdIndex\":3}}\n");
	CHECK(store_next_expiry(s) == INT64_MAX);
	CHECK(store_expire(s, T0 + 1000 * SEC) == 0);
	/* ttl=0: expiration shown, ttl omitted */
	struct store_write z = {
		.op = OP_SET, .path = "/z", .value = "v", .has_ttl = true, .ttl = 0};
	CHECK_STR(wr(s, z, T0), "{\"action\":\"set\",\"node\":{\"key\":\"/z\",\"value\":\"v\","
				"\"expiration\":\"2016-05-24T09:35:30.752422783Z\","
				"\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	CHECK(store_expire(s, T0 - 1) == 0);
	CHECK(store_expire(s, T0) == 1);
	CHECK_STR(get(s, "/z", false, false, T0), "E100 /z 7");
	/* a huge TTL saturates instead of overflowing */
	struct store_write big = {
		.op = OP_SET, .path = "/big", .value = "v", .has_ttl = true, .ttl = UINT64_MAX};
	wr(s, big, T0);
	CHECK(store_next_expiry(s) == INT64_MAX);
	store_free(s);
}

static void test_expire(void)
{
	struct store *s = store_new();
	struct store_write w = {.op = OP_SET, .value = "v", .has_ttl = true};
	w.path = "/k3";
	w.ttl = 3;
	wr(s, w, T0);
	w.path = "/k1";
	w.ttl = 1;
	wr(s, w, T0);
	w.path = "/k2";
	w.ttl = 2;
	wr(s, w, T0);
	w.path = "/k2b";
	w.ttl = 2;
	wr(s, w, T0); /* same deadline: FIFO */
	w.path = "/d/child";
	w.ttl = 1;
	wr(s, w, T0);
	struct store_write dttl = {
		.op = OP_UPDATE, .path = "/d", .dir = true, .has_ttl = true, .ttl = 1};
	/* dir update: event shows the new modifiedIndex, the dir keeps its own */
	CHECK_STR(
		wr(s, dttl, T0 + SEC / 2),
		"{\"action\":\"update\",\"node\":{\"key\":\"/d\",\"dir\":true,"
		"\"expiration\":\"2016-05-24T09:35:32.252422783Z\",\"ttl\":1,"
		"\"modifiedIndex\":6,\"createdIndex\":5},\"prevNode\":{\"key\":\"/d\",\"dir\":true,"
		"\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	CHECK_STR(
		get(s, "/d", false, false, T0 + SEC / 2),
		"{\"action\":\"get\",\"node\":{\"key\":\"/d\",\"dir\":true,"
		"\"expiration\":\"2016-05-24T09:35:32.252422783Z\",\"ttl\":1,\"nodes\":["
		"{\"key\":\"/d/child\",\"value\":\"v\",\"expiration\":\"2016-05-24T09:35:31.752422783Z\","
		"\"ttl\":1,\"modifiedIndex\":5,\"createdIndex\":5}],"
		"\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	/* watch the whole history of expirations through the recursive root watch */
	CHECK(store_next_expiry(s) == T0 + SEC);
	CHECK(store_expire(s, T0 + SEC) == 2); /* /k1 then /d/child */
	CHECK(store_index(s) == 8);
	CHECK_STR(get(s, "/d", false, false, T0 + SEC),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/d\",\"dir\":true,"
		  "\"expiration\":\"2016-05-24T09:35:32.252422783Z\",\"ttl\":1,"
		  "\"modifiedIndex\":5,\"createdIndex\":5}}\n");
	CHECK(store_expire(s, T0 + 2 * SEC) == 3); /* /d, /k2, /k2b */
	CHECK(store_index(s) == 11);
	CHECK_STR(get(s, "/k2b", false, false, T0), "E100 /k2b 11");
	CHECK(store_expire(s, T0 + 10 * SEC) == 1); /* /k3 */
	CHECK(store_index(s) == 12);
	CHECK_STR(get(s, "/", true, false, T0), "{\"action\":\"get\",\"node\":{\"dir\":true}}\n");
	struct store_stats st;
	store_get_stats(s, &st);
	CHECK(st.expire_count == 6);

	/* the events themselves, through watches from history */
	static const struct {
		uint64_t idx;
		const char *json;
	} want[] = {
		{7, "{\"action\":\"expire\",\"node\":{\"key\":\"/k1\",\"modifiedIndex\":7,"
		    "\"createdIndex\":2},\"prevNode\":{\"key\":\"/k1\",\"value\":\"v\","
		    "\"expiration\":\"2016-05-24T09:35:31.752422783Z\","
		    "\"modifiedIndex\":2,\"createdIndex\":2}}\n"},
		{8, "{\"action\":\"expire\",\"node\":{\"key\":\"/d/child\",\"modifiedIndex\":8,"
		    "\"createdIndex\":5},\"prevNode\":{\"key\":\"/d/child\",\"value\":\"v\","
		    "\"expiration\":\"2016-05-24T09:35:31.752422783Z\","
		    "\"modifiedIndex\":5,\"createdIndex\":5}}\n"},
		{9,
		 "{\"action\":\"expire\",\"node\":{\"key\":\"/d\",\"dir\":true,\"modifiedIndex\":9,"
		 "\"createdIndex\":5},\"prevNode\":{\"key\":\"/d\",\"dir\":true,"
		 "\"expiration\":\"2016-05-24T09:35:32.252422783Z\","
		 "\"modifiedIndex\":5,\"createdIndex\":5}}\n"},
		{10, "{\"action\":\"expire\",\"node\":{\"key\":\"/k2\",\"modifiedIndex\":10,"
		     "\"createdIndex\":3},\"prevNode\":{\"key\":\"/k2\",\"value\":\"v\","
		     "\"expiration\":\"2016-05-24T09:35:32.752422783Z\","
		     "\"modifiedIndex\":3,\"createdIndex\":3}}\n"},
		{11, NULL},
		{12, NULL},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct watcher *wt = NULL;
		struct store_event *ev = NULL;
		struct store_error err = {0};
		CHECK(store_watch(s, "/", true, false, want[i].idx, NULL, NULL, &wt, &ev, &err) ==
		      0);
		CHECK(wt == NULL && ev != NULL);
		if (ev == NULL)
			continue;
		CHECK(ev->index == want[i].idx);
		CHECK(ev->action == ACT_EXPIRE);
		if (want[i].json)
			CHECK_STR(ev->json, want[i].json);
		store_event_unref(ev);
	}
	CHECK_STR(get(s, "/k3", false, false, T0), "E100 /k3 12");
	store_free(s);
}

static void test_create_unique(void)
{
	struct store *s = store_new();
	struct store_write c = {.op = OP_CREATE, .path = "/c", .value = "1"};
	CHECK_STR(wr(s, c, T0), "{\"action\":\"create\",\"node\":{\"key\":\"/c\",\"value\":\"1\","
				"\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	CHECK_STR(wr(s, c, T0), "E105 /c 1");
	struct store_write cr = {.op = OP_CREATE, .path = "/", .value = "1"};
	CHECK_STR(wr(s, cr, T0), "E107 / 1");
	struct store_write below = {.op = OP_CREATE, .path = "/c/x", .value = "1"};
	CHECK_STR(wr(s, below, T0), "E104 /c 1");
	struct store_write q = {.op = OP_CREATE, .path = "/q", .value = "a", .unique = true};
	CHECK_STR(
		wr(s, q, T0),
		"{\"action\":\"create\",\"node\":{\"key\":\"/q/00000000000000000002\",\"value\":\"a\","
		"\"modifiedIndex\":2,\"createdIndex\":2}}\n");
	q.dir = true;
	CHECK_STR(
		wr(s, q, T0),
		"{\"action\":\"create\",\"node\":{\"key\":\"/q/00000000000000000003\",\"dir\":true,"
		"\"modifiedIndex\":3,\"createdIndex\":3}}\n");
	struct store_write qroot = {.op = OP_CREATE, .path = "/", .value = "r", .unique = true};
	CHECK_STR(
		wr(s, qroot, T0),
		"{\"action\":\"create\",\"node\":{\"key\":\"/00000000000000000004\",\"value\":\"r\","
		"\"modifiedIndex\":4,\"createdIndex\":4}}\n");
	struct store_write qfile = {.op = OP_CREATE, .path = "/c", .value = "r", .unique = true};
	CHECK_STR(wr(s, qfile, T0), "E104 /c 4");
	/* the name of an explicit key taken by a later POST */
	wr(s, SET("/q/00000000000000000006", "taken"), T0);
	struct store_write q2 = {.op = OP_CREATE, .path = "/q", .value = "a", .unique = true};
	CHECK_STR(wr(s, q2, T0), "E105 /q/00000000000000000006 5");
	/* POST with a TTL, into a new dir chain */
	struct store_write qt = {.op = OP_CREATE,
				 .path = "/n/m",
				 .value = "t",
				 .unique = true,
				 .has_ttl = true,
				 .ttl = 1};
	CHECK_STR(
		wr(s, qt, T0),
		"{\"action\":\"create\",\"node\":{\"key\":\"/n/m/00000000000000000006\",\"value\":\"t\","
		"\"expiration\":\"2016-05-24T09:35:31.752422783Z\",\"ttl\":1,"
		"\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	CHECK_STR(
		get(s, "/n", true, false, T0),
		"{\"action\":\"get\",\"node\":{\"key\":\"/n\",\"dir\":true,\"nodes\":["
		"{\"key\":\"/n/m\",\"dir\":true,\"nodes\":[{\"key\":\"/n/m/00000000000000000006\","
		"\"value\":\"t\",\"expiration\":\"2016-05-24T09:35:31.752422783Z\",\"ttl\":1,"
		"\"modifiedIndex\":6,\"createdIndex\":6}],\"modifiedIndex\":6,\"createdIndex\":6}],"
		"\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	/* a created dir with a value: value ignored */
	struct store_write cd = {.op = OP_CREATE, .path = "/cd", .value = "ignored", .dir = true};
	CHECK_STR(wr(s, cd, T0), "{\"action\":\"create\",\"node\":{\"key\":\"/cd\",\"dir\":true,"
				 "\"modifiedIndex\":7,\"createdIndex\":7}}\n");
	store_free(s);
}

static void test_update_cas(void)
{
	struct store *s = store_new();
	wr(s, SET("/k", "one"), T0); /* 1 */
	wr(s, SET("/d/x", "x"), T0); /* 2 */
	struct store_write u = {.op = OP_UPDATE, .path = "/k", .value = "two"};
	CHECK_STR(wr(s, u, T0),
		  "{\"action\":\"update\",\"node\":{\"key\":\"/k\",\"value\":\"two\","
		  "\"modifiedIndex\":3,\"createdIndex\":1},\"prevNode\":{\"key\":\"/k\","
		  "\"value\":\"one\",\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	u.path = "/nope";
	CHECK_STR(wr(s, u, T0), "E100 /nope 3");
	u.path = "/k/x";
	CHECK_STR(wr(s, u, T0), "E104 /k 3");
	u.path = "/d";
	CHECK_STR(wr(s, u, T0), "E102 /d 3");
	u.path = "/";
	CHECK_STR(wr(s, u, T0), "E107 / 3");
	/* update of a dir without value: allowed, dir ignored on files */
	struct store_write ud = {.op = OP_UPDATE, .path = "/d", .dir = true};
	CHECK_STR(
		wr(s, ud, T0),
		"{\"action\":\"update\",\"node\":{\"key\":\"/d\",\"dir\":true,"
		"\"modifiedIndex\":4,\"createdIndex\":2},\"prevNode\":{\"key\":\"/d\",\"dir\":true,"
		"\"modifiedIndex\":2,\"createdIndex\":2}}\n");
	struct store_write uf = {.op = OP_UPDATE, .path = "/k", .dir = true};
	CHECK_STR(wr(s, uf, T0),
		  "{\"action\":\"update\",\"node\":{\"key\":\"/k\",\"value\":\"\","
		  "\"modifiedIndex\":5,\"createdIndex\":1},\"prevNode\":{\"key\":\"/k\","
		  "\"value\":\"two\",\"modifiedIndex\":3,\"createdIndex\":1}}\n");
	wr(s, SET("/k", "v"), T0); /* 6 */
	struct store_write c = {.op = OP_CAS, .path = "/k", .value = "w", .prev_value = "zz"};
	CHECK_STR(wr(s, c, T0), "E101 [zz != v] 6");
	c.prev_value = NULL;
	c.prev_index = 1;
	CHECK_STR(wr(s, c, T0), "E101 [1 != 6] 6");
	c.prev_value = "zz";
	CHECK_STR(wr(s, c, T0), "E101 [zz != v] [1 != 6] 6");
	c.prev_value = "v";
	CHECK_STR(wr(s, c, T0), "E101 [1 != 6] 6");
	c.prev_index = 6;
	struct store_write cok = c;
	cok.has_ttl = true;
	cok.ttl = 9;
	CHECK_STR(wr(s, cok, T0),
		  "{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/k\",\"value\":\"w\","
		  "\"expiration\":\"2016-05-24T09:35:39.752422783Z\",\"ttl\":9,"
		  "\"modifiedIndex\":7,\"createdIndex\":6},\"prevNode\":{\"key\":\"/k\","
		  "\"value\":\"v\",\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	/* CAS without TTL clears it */
	struct store_write c2 = {.op = OP_CAS, .path = "/k", .value = "x", .prev_value = "w"};
	CHECK_STR(wr(s, c2, T0 + SEC),
		  "{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/k\",\"value\":\"x\","
		  "\"modifiedIndex\":8,\"createdIndex\":6},\"prevNode\":{\"key\":\"/k\","
		  "\"value\":\"w\",\"expiration\":\"2016-05-24T09:35:39.752422783Z\",\"ttl\":8,"
		  "\"modifiedIndex\":7,\"createdIndex\":6}}\n");
	CHECK(store_next_expiry(s) == INT64_MAX);
	c2.path = "/d";
	CHECK_STR(wr(s, c2, T0), "E102 /d 8");
	c2.path = "/nope";
	CHECK_STR(wr(s, c2, T0), "E100 /nope 8");
	c2.path = "/k/z";
	CHECK_STR(wr(s, c2, T0), "E104 /k 8");
	c2.path = "/";
	CHECK_STR(wr(s, c2, T0), "E107 / 8");
	CHECK(store_index(s) == 8);
	store_free(s);
}

/* Values are byte strings (Go strings): NUL bytes are kept, compared and
 * rendered as \u0000, as etcd 3.4.23 does. */
static void test_binary_values(void)
{
	struct store *s = store_new();
	struct store_write w = {.op = OP_SET, .path = "/n", .value = "a\0b", .value_len = 3};
	CHECK_STR(wr(s, w, T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/n\",\"value\":\"a\\u0000b\","
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	CHECK_STR(get(s, "/n", false, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/n\",\"value\":\"a\\u0000b\","
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	/* a lone NUL is not the empty value */
	struct store_write z = {.op = OP_SET, .path = "/z", .value = "\0", .value_len = 1};
	CHECK_STR(wr(s, z, T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/z\",\"value\":\"\\u0000\","
		  "\"modifiedIndex\":2,\"createdIndex\":2}}\n");
	/* prevValue is compared by bytes: "a" is not "a\0b"; the cause keeps NULs */
	struct store_write c = {.op = OP_CAS, .path = "/n", .value = "c", .prev_value = "a"};
	CHECK_STR(wr(s, c, T0), "E101 [a != a 2"); /* printed as a C string */
	struct store_event *ev = NULL;
	struct store_error err = {0};
	c.prev_value = "a\0c";
	c.prev_value_len = 3;
	CHECK(store_write(s, &c, T0, &ev, &err) == -1);
	CHECK(err.code == 101 && err.cause_len == 12 &&
	      memcmp(err.cause, "[a\0c != a\0b]", 13) == 0);
	store_error_clear(&err);
	CHECK(err.cause == NULL && err.cause_len == 0);
	c.prev_value = "a\0b";
	CHECK_STR(wr(s, c, T0),
		  "{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/n\",\"value\":\"c\","
		  "\"modifiedIndex\":3,\"createdIndex\":1},\"prevNode\":{\"key\":\"/n\","
		  "\"value\":\"a\\u0000b\",\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	/* a value of one NUL on a dir is a value: 102 (etcd: len(value) != 0) */
	wr(s, (struct store_write){.op = OP_SET, .path = "/d", .dir = true}, T0); /* 4 */
	struct store_write ud = {.op = OP_UPDATE, .path = "/d", .value = "\0", .value_len = 1};
	CHECK_STR(wr(s, ud, T0), "E102 /d 4");
	/* update and refresh keep the bytes */
	struct store_write u = {.op = OP_UPDATE,
				.path = "/z",
				.value = "\0\0x",
				.value_len = 3,
				.has_ttl = true,
				.ttl = 5};
	CHECK_STR(wr(s, u, T0),
		  "{\"action\":\"update\",\"node\":{\"key\":\"/z\",\"value\":\"\\u0000\\u0000x\","
		  "\"expiration\":\"2016-05-24T09:35:35.752422783Z\",\"ttl\":5,"
		  "\"modifiedIndex\":5,\"createdIndex\":2},\"prevNode\":{\"key\":\"/z\","
		  "\"value\":\"\\u0000\",\"modifiedIndex\":2,\"createdIndex\":2}}\n");
	struct store_write r = {
		.op = OP_SET, .path = "/z", .refresh = true, .has_ttl = true, .ttl = 7};
	CHECK(strstr(wr(s, r, T0), "\"node\":{\"key\":\"/z\",\"value\":\"\\u0000\\u0000x\"") !=
	      NULL);
	CHECK_STR(get(s, "/", true, true, T0),
		  "{\"action\":\"get\",\"node\":{\"dir\":true,\"nodes\":["
		  "{\"key\":\"/d\",\"dir\":true,\"modifiedIndex\":4,\"createdIndex\":4},"
		  "{\"key\":\"/n\",\"value\":\"c\",\"modifiedIndex\":3,\"createdIndex\":1},"
		  "{\"key\":\"/z\",\"value\":\"\\u0000\\u0000x\","
		  "\"expiration\":\"2016-05-24T09:35:37.752422783Z\",\"ttl\":7,"
		  "\"modifiedIndex\":6,\"createdIndex\":6}]}}\n");
	/* compareAndDelete by bytes */
	struct store_write cad = {
		.op = OP_CAD, .path = "/z", .prev_value = "\0\0y", .prev_value_len = 3};
	CHECK(strncmp(wr(s, cad, T0), "E101 [", 6) == 0);
	cad.prev_value = "\0\0x";
	CHECK(strncmp(wr(s, cad, T0), "{\"action\":\"compareAndDelete\",", 29) == 0);
	/* value_len 0 with a C string means strlen (for C-string callers) */
	CHECK_STR(wr(s, SET("/c", "plain"), T0),
		  "{\"action\":\"set\",\"node\":{\"key\":\"/c\",\"value\":\"plain\","
		  "\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	store_free(s);
}

static void test_delete(void)
{
	struct store *s = store_new();
	wr(s, SET("/f", "v"), T0);     /* 1 */
	wr(s, SET("/d/a/b", "v"), T0); /* 2 */
	struct store_write ed = {.op = OP_CREATE, .path = "/e", .dir = true};
	wr(s, ed, T0); /* 3 */
	struct store_write d = {.op = OP_DELETE, .path = "/d"};
	CHECK_STR(wr(s, d, T0), "E102 /d 3");
	d.dir = true;
	CHECK_STR(wr(s, d, T0), "E108 /d 3");
	d.path = "/";
	CHECK_STR(wr(s, d, T0), "E107 / 3");
	d.path = "/nope/x";
	CHECK_STR(wr(s, d, T0), "E100 /nope 3");
	d.path = "/f/x";
	CHECK_STR(wr(s, d, T0), "E104 /f 3");
	d.path = "/e";
	CHECK_STR(
		wr(s, d, T0),
		"{\"action\":\"delete\",\"node\":{\"key\":\"/e\",\"dir\":true,"
		"\"modifiedIndex\":4,\"createdIndex\":3},\"prevNode\":{\"key\":\"/e\",\"dir\":true,"
		"\"modifiedIndex\":3,\"createdIndex\":3}}\n");
	struct store_write dr = {.op = OP_DELETE, .path = "/d", .recursive = true};
	CHECK_STR(
		wr(s, dr, T0),
		"{\"action\":\"delete\",\"node\":{\"key\":\"/d\",\"dir\":true,"
		"\"modifiedIndex\":5,\"createdIndex\":2},\"prevNode\":{\"key\":\"/d\",\"dir\":true,"
		"\"modifiedIndex\":2,\"createdIndex\":2}}\n");
	struct store_write df = {.op = OP_DELETE, .path = "/f"};
	struct store_write t = {
		.op = OP_SET, .path = "/f", .value = "v", .has_ttl = true, .ttl = 2};
	wr(s, t, T0); /* 6 */
	CHECK_STR(wr(s, df, T0),
		  "{\"action\":\"delete\",\"node\":{\"key\":\"/f\",\"modifiedIndex\":7,"
		  "\"createdIndex\":6},\"prevNode\":{\"key\":\"/f\",\"value\":\"v\","
		  "\"expiration\":\"2016-05-24T09:35:32.752422783Z\",\"ttl\":2,"
		  "\"modifiedIndex\":6,\"createdIndex\":6}}\n");
	CHECK(store_next_expiry(s) == INT64_MAX);
	/* a TTL'd node deep in a deleted dir leaves the heap too */
	struct store_write deep = {
		.op = OP_SET, .path = "/x/y/z", .value = "v", .has_ttl = true, .ttl = 2};
	wr(s, deep, T0); /* 8 */
	struct store_write dx = {.op = OP_DELETE, .path = "/x", .recursive = true};
	wr(s, dx, T0); /* 9 */
	CHECK(store_next_expiry(s) == INT64_MAX);
	CHECK(store_expire(s, T0 + 100 * SEC) == 0);
	/* CAD */
	wr(s, SET("/k", "v"), T0); /* 10 */
	struct store_write cad = {.op = OP_CAD, .path = "/k", .prev_value = "zz"};
	CHECK_STR(wr(s, cad, T0), "E101 [zz != v] 10");
	cad.prev_value = NULL;
	cad.prev_index = 3;
	CHECK_STR(wr(s, cad, T0), "E101 [3 != 10] 10");
	cad.path = "/";
	CHECK_STR(wr(s, cad, T0), "E102 - 10");
	wr(s, ed, T0); /* 11 */
	cad.path = "/e";
	CHECK_STR(wr(s, cad, T0), "E102 /e 11");
	cad.path = "/nope";
	CHECK_STR(wr(s, cad, T0), "E100 /nope 11");
	cad.path = "/k/n";
	CHECK_STR(wr(s, cad, T0), "E104 /k 11");
	cad.path = "/k";
	cad.prev_index = 10;
	cad.prev_value = "v";
	CHECK_STR(wr(s, cad, T0),
		  "{\"action\":\"compareAndDelete\",\"node\":{\"key\":\"/k\",\"modifiedIndex\":12,"
		  "\"createdIndex\":10},\"prevNode\":{\"key\":\"/k\",\"value\":\"v\","
		  "\"modifiedIndex\":10,\"createdIndex\":10}}\n");
	CHECK_STR(get(s, "/k", false, false, T0), "E100 /k 12");
	store_free(s);
}

static void test_listings(void)
{
	struct store *s = store_new();
	wr(s, SET("/l/c", "3"), T0);	/* 1 */
	wr(s, SET("/l/a", "1"), T0);	/* 2 */
	wr(s, SET("/l/_h", "h"), T0);	/* 3 */
	wr(s, SET("/l/b/z", "z"), T0);	/* 4 */
	wr(s, SET("/l/b/_y", "y"), T0); /* 5 */
	wr(s, SET("/l/b/y", "y"), T0);	/* 6 */
	struct store_write hd = {.op = OP_SET, .path = "/l/_hd", .dir = true};
	wr(s, hd, T0); /* 7 */
	CHECK_STR(get(s, "/l", false, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/l\",\"dir\":true,\"nodes\":["
		  "{\"key\":\"/l/c\",\"value\":\"3\",\"modifiedIndex\":1,\"createdIndex\":1},"
		  "{\"key\":\"/l/a\",\"value\":\"1\",\"modifiedIndex\":2,\"createdIndex\":2},"
		  "{\"key\":\"/l/b\",\"dir\":true,\"modifiedIndex\":4,\"createdIndex\":4}],"
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	CHECK_STR(get(s, "/l", true, true, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/l\",\"dir\":true,\"nodes\":["
		  "{\"key\":\"/l/a\",\"value\":\"1\",\"modifiedIndex\":2,\"createdIndex\":2},"
		  "{\"key\":\"/l/b\",\"dir\":true,\"nodes\":["
		  "{\"key\":\"/l/b/y\",\"value\":\"y\",\"modifiedIndex\":6,\"createdIndex\":6},"
		  "{\"key\":\"/l/b/z\",\"value\":\"z\",\"modifiedIndex\":4,\"createdIndex\":4}],"
		  "\"modifiedIndex\":4,\"createdIndex\":4},"
		  "{\"key\":\"/l/c\",\"value\":\"3\",\"modifiedIndex\":1,\"createdIndex\":1}],"
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	CHECK_STR(get(s, "/l/_h", false, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/l/_h\",\"value\":\"h\","
		  "\"modifiedIndex\":3,\"createdIndex\":3}}\n");
	/* a dir holding only hidden children has no "nodes" */
	CHECK_STR(get(s, "/l/_hd", true, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/l/_hd\",\"dir\":true,"
		  "\"modifiedIndex\":7,\"createdIndex\":7}}\n");
	wr(s, SET("/only/_x", "x"), T0); /* 8 */
	CHECK_STR(get(s, "/only", false, false, T0),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/only\",\"dir\":true,"
		  "\"modifiedIndex\":8,\"createdIndex\":8}}\n");
	/* hidden children still make a dir non-empty for delete */
	struct store_write dd = {.op = OP_DELETE, .path = "/only", .dir = true};
	CHECK_STR(wr(s, dd, T0), "E108 /only 8");
	/* byte order, not locale order */
	wr(s, SET("/o/B", "1"), T0);
	wr(s, SET("/o/a", "1"), T0);
	wr(s, SET("/o/A", "1"), T0);
	wr(s, SET("/o/\xc3\xa9", "1"), T0);
	wr(s, SET("/o/aa", "1"), T0);
	const char *g = get(s, "/o", false, true, T0);
	const char *pa = strstr(g, "/o/A\""), *pb = strstr(g, "/o/B\""), *pl = strstr(g, "/o/a\"");
	const char *paa = strstr(g, "/o/aa\""), *pe = strstr(g, "/o/\xc3\xa9\"");
	CHECK(pa && pb && pl && paa && pe && pa < pb && pb < pl && pl < paa && paa < pe);
	store_free(s);
}

static void test_many_children(void)
{
	struct store *s = store_new();
	enum {
		N = 20000
	};
	char value[101];
	memset(value, 'v', 100);
	value[100] = '\0';
	struct store_write q = {.op = OP_CREATE, .path = "/queue", .value = value, .unique = true};
	int ok = 0;
	for (int i = 0; i < N; i++) {
		struct store_event *ev = NULL;
		struct store_error err = {0};
		if (store_write(s, &q, T0, &ev, &err) == 0)
			ok++;
		store_event_unref(ev);
	}
	CHECK(ok == N);
	CHECK_STR(
		get(s, "/queue/00000000000000012345", false, false, T0),
		"{\"action\":\"get\",\"node\":{\"key\":\"/queue/00000000000000012345\",\"value\":\""
		"vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"
		"\",\"modifiedIndex\":12345,\"createdIndex\":12345}}\n");
	/* delete every other one, then check the rest are still found */
	struct store_write d = {.op = OP_DELETE};
	char path[64];
	for (int i = 1; i <= N; i += 2) {
		snprintf(path, sizeof(path), "/queue/%020d", i);
		d.path = path;
		struct store_event *ev = NULL;
		struct store_error err = {0};
		if (store_write(s, &d, T0, &ev, &err) != 0)
			ok--;
		store_event_unref(ev);
	}
	CHECK(ok == N);
	int found = 0;
	for (int i = 2; i <= N; i += 2) {
		snprintf(path, sizeof(path), "/queue/%020d", i);
		struct buf b = BUF_INIT;
		struct store_error err = {0};
		if (store_get(s, path, false, false, T0, &b, &err) == 0)
			found++;
		buf_free(&b);
		store_error_clear(&err);
	}
	CHECK(found == N / 2);
	struct buf b = BUF_INIT;
	struct store_error err = {0};
	CHECK(store_get(s, "/queue", true, true, T0, &b, &err) == 0);
	CHECK(strstr(b.data, "00000000000000000002\"") != NULL);
	CHECK(strstr(b.data, "00000000000000000003\"") == NULL);
	buf_free(&b);
	store_free(s);
}

static void test_stats(void)
{
	struct store *s = store_new();
	struct store_stats st;
	get(s, "/x", false, false, T0); /* getsFail */
	wr(s, SET("/f", "v"), T0);	/* setsSuccess */
	get(s, "/f", false, false, T0); /* getsSuccess */
	wr(s, SET("/", "v"), T0);	/* setsFail */
	wr(s, SET("/f/x", "v"), T0);	/* setsFail */
	struct store_write c = {.op = OP_CREATE, .path = "/f"};
	wr(s, c, T0); /* createFail */
	c.path = "/f/x";
	wr(s, c, T0); /* createFail + setsFail (etcd) */
	c.path = "/c";
	wr(s, c, T0); /* createSuccess */
	struct store_write u = {.op = OP_UPDATE, .path = "/nope"};
	wr(s, u, T0); /* updateFail */
	u.path = "/";
	wr(s, u, T0); /* 107: updateSuccess (etcd) */
	u.path = "/f";
	wr(s, u, T0); /* updateSuccess */
	struct store_write cas = {.op = OP_CAS, .path = "/f", .prev_value = "zz"};
	wr(s, cas, T0); /* casFail */
	cas.path = "/";
	wr(s, cas, T0); /* 107: casSuccess (etcd) */
	struct store_write d = {.op = OP_DELETE, .path = "/nope"};
	wr(s, d, T0); /* deleteFail */
	d.path = "/";
	wr(s, d, T0); /* 107: deleteSuccess (etcd) */
	struct store_write cad = {.op = OP_CAD, .path = "/nope", .prev_value = "v"};
	wr(s, cad, T0); /* cadFail */
	cad.path = "/f";
	wr(s, cad, T0); /* 101: cadSuccess (etcd) */
	cad.path = "/";
	wr(s, cad, T0); /* 102: cadSuccess (etcd) */
	store_get_stats(s, &st);
	CHECK(st.gets_success == 1 && st.gets_fail == 1);
	CHECK(st.sets_success == 1 && st.sets_fail == 3);
	CHECK(st.create_success == 1 && st.create_fail == 2);
	CHECK(st.update_success == 2 && st.update_fail == 1);
	CHECK(st.cas_success == 1 && st.cas_fail == 1);
	CHECK(st.delete_success == 1 && st.delete_fail == 1);
	CHECK(st.cad_success == 2 && st.cad_fail == 1);
	CHECK(st.expire_count == 0 && st.watchers == 0);
	CHECK(store_index(s) == 3);
	store_free(s);
}

static void test_action_names(void)
{
	CHECK_STR(store_action_name(ACT_GET), "get");
	CHECK_STR(store_action_name(ACT_SET), "set");
	CHECK_STR(store_action_name(ACT_CREATE), "create");
	CHECK_STR(store_action_name(ACT_UPDATE), "update");
	CHECK_STR(store_action_name(ACT_CAS), "compareAndSwap");
	CHECK_STR(store_action_name(ACT_DELETE), "delete");
	CHECK_STR(store_action_name(ACT_CAD), "compareAndDelete");
	CHECK_STR(store_action_name(ACT_EXPIRE), "expire");
}

static void test_event_fields(void)
{
	struct store *s = store_new();
	struct store_write w = SET("/a/b", "v");
	struct store_event *ev = NULL;
	struct store_error err = {0};
	CHECK(store_write(s, &w, T0, &ev, &err) == 0);
	CHECK(ev && ev->refs == 2 && ev->index == 1 && ev->action == ACT_SET && !ev->dir &&
	      !ev->refresh && !ev->has_prev);
	CHECK_STR(ev->key, "/a/b");
	CHECK(ev->json_len == strlen(ev->json) && ev->json[ev->json_len - 1] == '\n');
	store_event_unref(ev);
	CHECK(store_write(s, &w, T0, &ev, &err) == 0);
	CHECK(ev && ev->has_prev);
	store_event_unref(ev);
	struct store_write r = {
		.op = OP_UPDATE, .path = "/a/b", .refresh = true, .has_ttl = true, .ttl = 1};
	CHECK(store_write(s, &r, T0, &ev, &err) == 0);
	CHECK(ev && ev->refresh && ev->action == ACT_UPDATE);
	store_event_unref(ev);
	struct store_write d = {.op = OP_DELETE, .path = "/a", .recursive = true};
	CHECK(store_write(s, &d, T0, &ev, &err) == 0);
	CHECK(ev && ev->dir && ev->action == ACT_DELETE && ev->index == 4);
	store_event_unref(ev);
	store_event_unref(NULL);
	struct store_write bad = SET("/", "x");
	ev = (struct store_event *)&bad;
	CHECK(store_write(s, &bad, T0, &ev, &err) == -1 && ev == NULL);
	CHECK(err.code == 107 && err.index == 4);
	store_error_clear(&err);
	CHECK(err.code == 0 && err.cause == NULL);
	store_free(s);
}

/* Random writes, deletes and expiries against a simple model of a flat dir:
 * exercises hash-table growth, shrinking and backward-shift deletion, and the
 * TTL heap's reordering. Deterministic (fixed LCG seed). */
static uint64_t lcg_state = 42;
static uint32_t lcg(void)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(lcg_state >> 33);
}

static void test_random_model(void)
{
	enum {
		K = 600,
		STEPS = 30000
	};
	struct {
		bool present;
		int64_t expire;
		char value[16];
	} model[K];
	memset(model, 0, sizeof(model));
	struct store *s = store_new();
	int64_t t = T0;
	int mismatches = 0;
	char path[32];
	for (int step = 0; step < STEPS; step++) {
		int k = (int)(lcg() % (step < STEPS / 2 ? K : K / 8 + 1));
		snprintf(path, sizeof(path), "/r/n%d", k);
		uint32_t op = lcg() % 10;
		struct store_event *ev = NULL;
		struct store_error err = {0};
		if (op < 4) {
			struct store_write w = {.op = OP_SET, .path = path};
			char v[16];
			snprintf(v, sizeof(v), "%u", lcg() % 1000);
			w.value = v;
			if (lcg() % 3 == 0) {
				w.has_ttl = true;
				w.ttl = lcg() % 5;
			}
			if (store_write(s, &w, t, &ev, &err) != 0)
				mismatches++;
			model[k].present = true;
			model[k].expire = w.has_ttl ? t + (int64_t)w.ttl * SEC : INT64_MAX;
			snprintf(model[k].value, sizeof(model[k].value), "%s", v);
		} else if (op < 7) {
			struct store_write w = {.op = OP_DELETE, .path = path};
			int rc = store_write(s, &w, t, &ev, &err);
			if ((rc == 0) != model[k].present)
				mismatches++;
			model[k].present = false;
		} else if (op < 8) {
			struct store_write w = {.op = OP_UPDATE,
						.path = path,
						.value = "u",
						.has_ttl = true,
						.ttl = lcg() % 3};
			int rc = store_write(s, &w, t, &ev, &err);
			if ((rc == 0) != model[k].present)
				mismatches++;
			if (rc == 0) {
				model[k].expire = t + (int64_t)w.ttl * SEC;
				strcpy(model[k].value, "u");
			}
		} else {
			struct buf b = BUF_INIT;
			int rc = store_get(s, path, false, false, t, &b, &err);
			if ((rc == 0) != model[k].present)
				mismatches++;
			else if (rc == 0) {
				char want[64];
				snprintf(want, sizeof(want), "\"value\":\"%s\"", model[k].value);
				if (strstr(b.data, want) == NULL)
					mismatches++;
			}
			buf_free(&b);
		}
		store_event_unref(ev);
		store_error_clear(&err);
		if (lcg() % 4 == 0) {
			t += (int64_t)(lcg() % 1500) * 1000000;
			size_t expected = 0;
			for (int i = 0; i < K; i++)
				if (model[i].present && model[i].expire <= t) {
					model[i].present = false;
					expected++;
				}
			if (store_expire(s, t) != expected)
				mismatches++;
		}
	}
	/* the listing agrees with the model */
	size_t present = 0;
	for (int i = 0; i < K; i++)
		present += model[i].present;
	struct buf b = BUF_INIT;
	struct store_error err = {0};
	size_t listed = 0;
	if (store_get(s, "/r", false, true, t, &b, &err) == 0)
		for (const char *p = b.data; (p = strstr(p, "\"key\":\"/r/")) != NULL; p++)
			listed++;
	else
		store_error_clear(&err);
	buf_free(&b);
	CHECK(listed == present);
	CHECK(mismatches == 0);
	int64_t next = store_next_expiry(s);
	int64_t model_next = INT64_MAX;
	for (int i = 0; i < K; i++)
		if (model[i].present && model[i].expire < model_next)
			model_next = model[i].expire;
	CHECK(next == model_next);
	/* empty the dir key by key (the table shrinks on the way down), checking
	 * that the survivors stay reachable */
	for (int i = 0; i < K; i++) {
		if (!model[i].present)
			continue;
		snprintf(path, sizeof(path), "/r/n%d", i);
		struct store_write w = {.op = OP_DELETE, .path = path};
		struct store_event *ev = NULL;
		if (store_write(s, &w, t, &ev, &err) != 0)
			mismatches++;
		store_event_unref(ev);
		model[i].present = false;
		for (int j = i + 1; j < K; j++) {
			if (!model[j].present)
				continue;
			snprintf(path, sizeof(path), "/r/n%d", j);
			struct buf g = BUF_INIT;
			if (store_get(s, path, false, false, t, &g, &err) != 0)
				mismatches++;
			buf_free(&g);
		}
	}
	CHECK(mismatches == 0);
	CHECK_STR(get(s, "/r", true, false, t),
		  "{\"action\":\"get\",\"node\":{\"key\":\"/r\",\"dir\":true,"
		  "\"modifiedIndex\":1,\"createdIndex\":1}}\n");
	store_free(s);
}

int main(void)
{
	test_time_format();
	test_action_names();
	test_set_get();
	test_ttl_and_refresh();
	test_expire();
	test_create_unique();
	test_update_cas();
	test_binary_values();
	test_delete();
	test_listings();
	test_many_children();
	test_stats();
	test_event_fields();
	test_random_model();
	return check_summary();
}
