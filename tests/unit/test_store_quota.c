/* test_store_quota.c - unit tests of the store's size accounting, which
 * --v2-quota-bytes reads (src/kv/store.c store_bytes, store_write_growth):
 * the figures for known writes; a random run of writes, deletes, TTL
 * refreshes and expiries where every prediction of a write that adds data is
 * exact, a delete or refresh never predicts growth, and the running figure
 * always equals the one a snapshot restore recomputes from the tree; two
 * stores fed the same log agree. Links only libkv.a. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "kv/store.h"
#include "kv/store_codec.h"
#include "kv/store_node.h"

#define T0  INT64_C(1464082530752422783)
#define SEC INT64_C(1000000000)

static int apply(struct store *s, struct store_write w, int64_t now)
{
	struct store_event *ev = NULL;
	struct store_error err = {0};
	int rc = store_write(s, &w, now, &ev, &err);
	store_event_unref(ev);
	store_error_clear(&err);
	return rc;
}

/* The figure a restore computes from the tree alone. */
static uint64_t recomputed(const struct store *s)
{
	struct buf snap = BUF_INIT;
	store_snapshot_write(s, &snap);
	struct store *r = store_new();
	char err[256];
	int rc = store_snapshot_read(r, snap.data, snap.len, err, sizeof(err));
	CHECK(rc == 0);
	uint64_t n = rc == 0 ? store_bytes(r) : 0;
	store_free(r);
	buf_free(&snap);
	return n;
}

static void test_known_figures(void)
{
	struct store *s = store_new();
	const uint64_t root = snode_account(0, 0);
	CHECK_EQ(store_bytes(s), root);

	struct store_write w = {.op = OP_SET, .path = "/a/b/c", .value = "hello"};
	/* two missing dirs (a, b) and the file c */
	int64_t want = (int64_t)(snode_account(1, 0) * 2 + snode_account(1, 5));
	CHECK_EQ(store_write_growth(s, &w), want);
	REQUIRE(apply(s, w, T0) == 0);
	CHECK_EQ(store_bytes(s), root + (uint64_t)want);

	/* a longer, an equal and a shorter value */
	struct store_write longer = {.op = OP_SET, .path = "/a/b/c", .value = "hello world"};
	CHECK_EQ(store_write_growth(s, &longer), 6);
	struct store_write same = {.op = OP_UPDATE, .path = "/a/b/c", .value = "HELLO"};
	CHECK_EQ(store_write_growth(s, &same), 0);
	struct store_write shorter = {
		.op = OP_CAS, .path = "/a/b/c", .value = "h", .prev_value = "hello"};
	CHECK_EQ(store_write_growth(s, &shorter), -4);
	REQUIRE(apply(s, shorter, T0) == 0);
	CHECK_EQ(store_bytes(s), root + (uint64_t)want - 4);

	/* POST: a child named by its 20-digit index, into an existing or a
	 * missing dir */
	struct store_write post = {.op = OP_CREATE, .path = "/a", .unique = true, .value = "q"};
	CHECK_EQ(store_write_growth(s, &post), (int64_t)snode_account(20, 1));
	struct store_write post2 = {.op = OP_CREATE, .path = "/qq", .unique = true, .value = "q"};
	CHECK_EQ(store_write_growth(s, &post2),
		 (int64_t)(snode_account(2, 0) + snode_account(20, 1)));
	uint64_t before = store_bytes(s);
	REQUIRE(apply(s, post2, T0) == 0);
	CHECK_EQ(store_bytes(s) - before, snode_account(2, 0) + snode_account(20, 1));

	/* a dir; writes that will fail; deletes and refreshes */
	struct store_write dir = {.op = OP_SET, .path = "/d", .dir = true};
	CHECK_EQ(store_write_growth(s, &dir), (int64_t)snode_account(1, 0));
	struct store_write under_file = {.op = OP_SET, .path = "/a/b/c/x", .value = "v"};
	CHECK_EQ(store_write_growth(s, &under_file), 0);
	struct store_write del = {.op = OP_DELETE, .path = "/a", .recursive = true};
	CHECK_EQ(store_write_growth(s, &del), 0);
	struct store_write refresh = {
		.op = OP_UPDATE, .path = "/a/b/c", .refresh = true, .has_ttl = true, .ttl = 10};
	CHECK_EQ(store_write_growth(s, &refresh), 0);

	REQUIRE(apply(s, del, T0) == 0);
	CHECK_EQ(store_bytes(s), root + snode_account(2, 0) + snode_account(20, 1));
	CHECK_EQ(store_bytes(s), recomputed(s));
	store_free(s);
}

static void test_expiry_frees(void)
{
	struct store *s = store_new();
	uint64_t empty = store_bytes(s);
	struct store_write w = {
		.op = OP_SET, .path = "/t/x", .value = "1234567890", .has_ttl = true, .ttl = 1};
	REQUIRE(apply(s, w, T0) == 0);
	CHECK(store_bytes(s) > empty);
	CHECK_EQ(store_expire(s, T0 + 2 * SEC), (size_t)1);
	CHECK_EQ(store_bytes(s), empty + snode_account(1, 0)); /* the dir /t stays */
	CHECK_EQ(store_bytes(s), recomputed(s));
	store_free(s);
}

/* xorshift64*: a fixed sequence per seed */
static uint64_t rng_state;
static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (rng_state * UINT64_C(2685821657736338717)) % n;
}

static void random_path(char *out, size_t cap)
{
	static const char *const names[] = {"a", "bb", "c", "_h", "dddd", "e"};
	size_t depth = 1 + (size_t)rnd(3), n = 0;
	for (size_t i = 0; i < depth && n + 8 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "/%s", names[rnd(6)]);
}

static void test_random_runs(void)
{
	static char value[300];
	memset(value, 'v', sizeof(value));
	for (uint64_t seed = 1; seed <= 20; seed++) {
		rng_state = seed * UINT64_C(0x9E3779B97F4A7C15);
		struct store *s = store_new(), *twin = store_new();
		int64_t now = T0;
		unsigned exact = 0;
		for (int step = 0; step < 400; step++) {
			char path[64], prev[300];
			random_path(path, sizeof(path));
			struct store_write w = {.path = path};
			w.op = (enum store_op)rnd(6);
			w.dir = rnd(6) == 0 && (w.op == OP_SET || w.op == OP_CREATE);
			w.unique = w.op == OP_CREATE && rnd(4) == 0;
			w.recursive = rnd(2) == 0;
			if (!w.dir && w.op != OP_DELETE && w.op != OP_CAD) {
				size_t vlen = (size_t)rnd(sizeof(value));
				memcpy(prev, value, vlen);
				prev[vlen] = '\0';
				w.value = prev;
				w.value_len = vlen;
			}
			if (w.op == OP_CAS || w.op == OP_CAD)
				w.prev_index = 1 + rnd(s ? store_index(s) + 1 : 1);
			if (rnd(5) == 0) {
				w.has_ttl = true;
				w.ttl = 1 + rnd(3);
			}
			if (w.op == OP_UPDATE && rnd(4) == 0) {
				w.refresh = true;
				w.value = NULL;
				w.value_len = 0;
				w.has_ttl = true;
				w.ttl = 5;
			}
			uint64_t before = store_bytes(s);
			int64_t predicted = store_write_growth(s, &w);
			if (w.op == OP_DELETE || w.op == OP_CAD || w.refresh)
				CHECK(predicted == 0);
			int rc = apply(s, w, now);
			CHECK_EQ(apply(twin, w, now), rc);
			int64_t actual = (int64_t)store_bytes(s) - (int64_t)before;
			if (rc != 0) {
				CHECK_EQ(actual, 0);
			} else if (predicted > 0 || actual > 0) {
				if (predicted != actual)
					fprintf(stderr,
						"seed %" PRIu64 " step %d op %d %s: "
						"predicted %" PRId64 ", actual %" PRId64 "\n",
						seed, step, (int)w.op, path, predicted, actual);
				CHECK_EQ(predicted, actual);
				exact++;
			} else {
				/* never an underestimate; exact for values */
				CHECK(predicted >= actual);
				if (w.op != OP_DELETE && w.op != OP_CAD && !w.dir)
					CHECK_EQ(predicted, actual);
			}
			if (rnd(10) == 0) {
				now += (int64_t)rnd(3) * SEC;
				store_expire(s, now);
				store_expire(twin, now);
			}
			CHECK_EQ(store_bytes(twin), store_bytes(s));
			if (step % 50 == 49)
				CHECK_EQ(store_bytes(s), recomputed(s));
		}
		CHECK(exact > 20);
		CHECK_EQ(store_bytes(s), recomputed(s));
		store_free(s);
		store_free(twin);
	}
}

int main(void)
{
	test_known_figures();
	test_expiry_frees();
	test_random_runs();
	return check_summary();
}
