/* test_endpoints.c - proxy/endpoints: the shuffle (replayable per seed,
 * different across seeds), set (keeps state, drops duplicates and removed
 * URLs), pick (reads spread and prefer the least busy, writes prefer the
 * leader, tried endpoints are skipped), the failure wait (time as data) and
 * reference counting across a refresh that drops a held endpoint. */
#include <stdio.h>
#include <string.h>

#include "../lib/harness.h"
#include "proxy/endpoints.h"

static char *urls5[] = {"http://a:1", "http://b:1", "http://c:1", "http://d:1", "http://e:1"};

static void order_of(const struct endpoints *e, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < e->n; i++)
		strncat(out, e->v[i]->url + 7, cap - strlen(out) - 1);
}

static void test_shuffle_per_seed(void)
{
	char first[64], again[64];
	struct endpoints e;
	endpoints_init(&e, 1000, 42);
	endpoints_set(&e, urls5, NULL, 5);
	order_of(&e, first, sizeof(first));
	endpoints_free(&e);
	endpoints_init(&e, 1000, 42);
	endpoints_set(&e, urls5, NULL, 5);
	order_of(&e, again, sizeof(again));
	endpoints_free(&e);
	CHECK_STR(first, again);
	/* some other seed gives another order (5! orders) */
	bool differs = false;
	for (uint64_t seed = 1; seed < 20 && !differs; seed++) {
		endpoints_init(&e, 1000, seed);
		endpoints_set(&e, urls5, NULL, 5);
		order_of(&e, again, sizeof(again));
		endpoints_free(&e);
		differs = strcmp(first, again) != 0;
	}
	CHECK(differs);
	/* every URL is there once */
	endpoints_init(&e, 1000, 7);
	endpoints_set(&e, urls5, NULL, 5);
	REQUIRE_EQ(e.n, 5);
	for (size_t i = 0; i < 5; i++)
		CHECK(endpoints_find(&e, urls5[i]) != NULL);
	endpoints_free(&e);
}

static void test_set_keeps_state_and_dedups(void)
{
	struct endpoints e;
	endpoints_init(&e, 1000, test_seed);
	char *u1[] = {"http://a:1/", "http://b:1", "http://a:1", "http://b:1/"};
	uint64_t ids[] = {11, 12, 11, 12};
	CHECK(endpoints_set(&e, u1, ids, 4));
	REQUIRE_EQ(e.n, 2);
	struct endpoint *a = endpoints_find(&e, "http://a:1");
	REQUIRE(a != NULL);
	CHECK_STR(a->url, "http://a:1");
	CHECK_EQ(a->member_id, 11);
	endpoints_fail(&e, a, 5000);
	endpoints_set_leader(&e, 11);
	CHECK(a->leader);
	/* the same set again: nothing changed, state kept */
	CHECK(!endpoints_set(&e, u1, ids, 4));
	CHECK(endpoints_find(&e, "http://a:1") == a);
	CHECK_EQ(a->failed_until_ms, 6000);
	CHECK(a->leader);
	/* b dropped, c added: a keeps its endpoint */
	char *u2[] = {"http://c:1", "http://a:1"};
	CHECK(endpoints_set(&e, u2, NULL, 2));
	REQUIRE_EQ(e.n, 2);
	CHECK(endpoints_find(&e, "http://a:1") == a);
	CHECK_EQ(a->member_id, 11); /* an unknown id does not erase it */
	CHECK(endpoints_find(&e, "http://b:1") == NULL);
	CHECK(endpoints_find(&e, "http://c:1") != NULL);
	CHECK_EQ(a->refs, 1);
	endpoints_free(&e);
}

static void test_pick_read_spreads(void)
{
	struct endpoints e;
	endpoints_init(&e, 1000, test_seed);
	endpoints_set(&e, urls5, NULL, 3);
	int hits[3] = {0, 0, 0};
	for (int i = 0; i < 30; i++) {
		struct endpoint *ep = endpoints_pick(&e, 0, EP_READ, NULL, 0);
		REQUIRE(ep != NULL);
		CHECK_EQ(ep->inflight, 1);
		for (int k = 0; k < 3; k++)
			hits[k] += strcmp(ep->url, urls5[k]) == 0;
		endpoint_release(ep);
	}
	CHECK_EQ(hits[0], 10);
	CHECK_EQ(hits[1], 10);
	CHECK_EQ(hits[2], 10);
	endpoints_free(&e);
}

static void test_pick_least_inflight(void)
{
	struct endpoints e;
	endpoints_init(&e, 1000, test_seed);
	endpoints_set(&e, urls5, NULL, 3);
	/* three held picks: one on each */
	struct endpoint *held[3];
	for (int i = 0; i < 3; i++)
		held[i] = endpoints_pick(&e, 0, EP_READ, NULL, 0);
	CHECK(held[0] != held[1] && held[1] != held[2] && held[0] != held[2]);
	/* free one: the next picks go to it, whatever the rotation says */
	endpoint_release(held[1]);
	for (int i = 0; i < 3; i++) {
		struct endpoint *ep = endpoints_pick(&e, 0, EP_READ, NULL, 0);
		CHECK(ep == held[1]);
		endpoint_release(ep);
	}
	endpoint_release(held[0]);
	endpoint_release(held[2]);
	for (size_t i = 0; i < e.n; i++)
		CHECK_EQ(e.v[i]->inflight, 0);
	endpoints_free(&e);
}

static void test_pick_write_prefers_leader(void)
{
	struct endpoints e;
	endpoints_init(&e, 1000, test_seed);
	uint64_t ids[] = {1, 2, 3};
	endpoints_set(&e, urls5, ids, 3);
	endpoints_set_leader(&e, 2);
	struct endpoint *b = endpoints_find(&e, "http://b:1");
	for (int i = 0; i < 5; i++) {
		struct endpoint *ep = endpoints_pick(&e, 0, EP_WRITE, NULL, 0);
		CHECK(ep == b); /* even while busy */
	}
	/* tried: another one */
	struct endpoint *tried[] = {b};
	struct endpoint *ep = endpoints_pick(&e, 0, EP_WRITE, tried, 1);
	CHECK(ep != NULL && ep != b);
	endpoint_release(ep);
	/* the leader failed: a write goes elsewhere */
	endpoints_fail(&e, b, 100);
	ep = endpoints_pick(&e, 100, EP_WRITE, NULL, 0);
	CHECK(ep != NULL && ep != b);
	endpoint_release(ep);
	CHECK_EQ(b->inflight, 5);
	for (int i = 0; i < 5; i++)
		endpoint_release(b);
	/* no leader known: writes behave as reads */
	endpoints_set_leader(&e, 0);
	CHECK(!b->leader);
	endpoints_free(&e);
}

static void test_tried_and_failure_wait(void)
{
	struct endpoints e;
	endpoints_init(&e, 1000, test_seed);
	endpoints_set(&e, urls5, NULL, 2);
	struct endpoint *x = endpoints_pick(&e, 0, EP_READ, NULL, 0);
	struct endpoint *tried[2] = {x, NULL};
	struct endpoint *y = endpoints_pick(&e, 0, EP_READ, tried, 1);
	CHECK(y != NULL && y != x);
	tried[1] = y;
	CHECK(endpoints_pick(&e, 0, EP_READ, tried, 2) == NULL);
	endpoint_release(x);
	endpoint_release(y);

	/* x fails at 10 000: out until 11 000 */
	endpoints_fail(&e, x, 10000);
	CHECK(!endpoint_available(x, 10999));
	CHECK(endpoint_available(x, 11000));
	CHECK_EQ(endpoints_available(&e, 10500), 1);
	for (int i = 0; i < 4; i++) {
		struct endpoint *ep = endpoints_pick(&e, 10500, EP_READ, NULL, 0);
		CHECK(ep == y);
		endpoint_release(ep);
	}
	endpoints_fail(&e, y, 10500);
	CHECK_EQ(endpoints_available(&e, 10600), 0);
	CHECK(endpoints_pick(&e, 10600, EP_READ, NULL, 0) == NULL);
	/* the wait expires */
	CHECK_EQ(endpoints_available(&e, 11000), 1);
	CHECK(endpoint_available(x, 11000));
	/* a probe answer makes y available at once */
	endpoints_ok(&e, y);
	CHECK_EQ(endpoints_available(&e, 10600), 1);
	endpoints_free(&e);
}

static void test_refcount(void)
{
	struct endpoints e;
	endpoints_init(&e, 1000, test_seed);
	endpoints_set(&e, urls5, NULL, 1);
	struct endpoint *a = endpoints_pick(&e, 0, EP_READ, NULL, 0);
	struct endpoint *a2 = endpoints_pick(&e, 0, EP_READ, NULL, 0);
	REQUIRE(a != NULL && a == a2);
	CHECK_EQ(a->refs, 3);
	CHECK_EQ(a->inflight, 2);
	/* a refresh drops it: it lives on for its requests */
	endpoints_set(&e, urls5 + 1, NULL, 1);
	CHECK(a->removed);
	CHECK_EQ(a->refs, 2);
	CHECK(!endpoint_available(a, 0));
	CHECK(endpoints_find(&e, "http://a:1") == NULL);
	endpoints_fail(&e, a, 5); /* a late transport error on it is harmless */
	endpoint_release(a);
	CHECK_EQ(a->refs, 1);
	endpoint_release(a2); /* freed here (the sanitizer build checks) */
	/* held across endpoints_free */
	struct endpoint *b = endpoints_pick(&e, 0, EP_READ, NULL, 0);
	REQUIRE(b != NULL);
	endpoints_free(&e);
	CHECK(b->removed);
	CHECK_EQ(b->refs, 1);
	endpoint_release(b);
	/* re-added after removal: a new endpoint, fresh state */
	endpoints_init(&e, 1000, test_seed);
	endpoints_set(&e, urls5, NULL, 1);
	struct endpoint *c = endpoints_pick(&e, 0, EP_READ, NULL, 0);
	endpoints_fail(&e, c, 0);
	endpoints_set(&e, urls5 + 1, NULL, 1);
	endpoints_set(&e, urls5, NULL, 1);
	struct endpoint *c2 = endpoints_find(&e, "http://a:1");
	CHECK(c2 != NULL && c2 != c);
	CHECK(endpoint_available(c2, 0));
	endpoint_release(c);
	endpoints_free(&e);
}

static void test_empty(void)
{
	struct endpoints e;
	endpoints_init(&e, 1000, test_seed);
	CHECK(endpoints_pick(&e, 0, EP_READ, NULL, 0) == NULL);
	CHECK(endpoints_pick(&e, 0, EP_WRITE, NULL, 0) == NULL);
	CHECK_EQ(endpoints_available(&e, 0), 0);
	CHECK(!endpoints_set(&e, NULL, NULL, 0));
	endpoints_free(&e);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"shuffle_per_seed", test_shuffle_per_seed},
		{"set_keeps_state_and_dedups", test_set_keeps_state_and_dedups},
		{"pick_read_spreads", test_pick_read_spreads},
		{"pick_least_inflight", test_pick_least_inflight},
		{"pick_write_prefers_leader", test_pick_write_prefers_leader},
		{"tried_and_failure_wait", test_tried_and_failure_wait},
		{"refcount", test_refcount},
		{"empty", test_empty},
	};
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
