/* endpoints.c - the proxy's list of client endpoints: a shuffled order
 * (splitmix64 and Fisher-Yates, seeded by the caller, so a test replays it),
 * per-endpoint failure, leadership and load, reference counting, and the
 * choice of the endpoint a read or a write tries next. Pure: the time is an
 * argument. */
#include "proxy/endpoints.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* splitmix64: a small generator with a good spread from any seed. */
static uint64_t next_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void shuffle(struct endpoints *e)
{
	for (size_t i = e->n; i > 1; i--) {
		size_t j = (size_t)(next_rand(&e->rng) % i);
		struct endpoint *t = e->v[i - 1];
		e->v[i - 1] = e->v[j];
		e->v[j] = t;
	}
}

void endpoints_init(struct endpoints *e, uint64_t failure_wait_ms, uint64_t seed)
{
	memset(e, 0, sizeof(*e));
	e->failure_wait_ms = failure_wait_ms;
	e->rng = seed;
}

static void endpoint_free(struct endpoint *ep)
{
	free(ep->url);
	free(ep);
}

/* Drops the list's reference to ep. */
static void drop_from_list(struct endpoint *ep)
{
	ep->removed = true;
	if (--ep->refs == 0)
		endpoint_free(ep);
}

void endpoints_free(struct endpoints *e)
{
	for (size_t i = 0; i < e->n; i++)
		drop_from_list(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

/* Length of url without trailing '/'. */
static size_t trimmed_len(const char *url)
{
	size_t len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	return len;
}

static bool same_url(const char *a, const char *b)
{
	size_t la = trimmed_len(a), lb = trimmed_len(b);
	return la == lb && memcmp(a, b, la) == 0;
}

struct endpoint *endpoints_find(const struct endpoints *e, const char *url)
{
	for (size_t i = 0; i < e->n; i++)
		if (same_url(e->v[i]->url, url))
			return e->v[i];
	return NULL;
}

static struct endpoint *find_in(struct endpoint **v, size_t n, const char *url)
{
	for (size_t i = 0; i < n; i++)
		if (same_url(v[i]->url, url))
			return v[i];
	return NULL;
}

static struct endpoint *endpoint_new(const char *url, uint64_t id)
{
	struct endpoint *ep = xcalloc(1, sizeof(*ep));
	ep->url = xstrndup(url, trimmed_len(url));
	ep->member_id = id;
	ep->refs = 1;
	return ep;
}

bool endpoints_set(struct endpoints *e, char *const *urls, const uint64_t *ids, size_t n)
{
	struct endpoint **v = xcalloc(n ? n : 1, sizeof(*v));
	size_t m = 0;
	bool changed = false;
	for (size_t i = 0; i < n; i++) {
		uint64_t id = ids ? ids[i] : 0;
		if (find_in(v, m, urls[i]) != NULL)
			continue; /* a duplicate */
		struct endpoint *ep = endpoints_find(e, urls[i]);
		if (ep == NULL) {
			ep = endpoint_new(urls[i], id);
			changed = true;
		} else if (id != 0) {
			ep->member_id = id;
		}
		v[m++] = ep;
	}
	for (size_t i = 0; i < e->n; i++) {
		if (find_in(v, m, e->v[i]->url) == NULL) {
			drop_from_list(e->v[i]);
			changed = true;
		}
	}
	free(e->v);
	e->v = v;
	e->n = m;
	if (e->next_start >= m)
		e->next_start = 0;
	shuffle(e);
	return changed;
}

bool endpoint_available(const struct endpoint *ep, uint64_t now_ms)
{
	return !ep->removed && (ep->failed_until_ms == 0 || now_ms >= ep->failed_until_ms);
}

size_t endpoints_available(const struct endpoints *e, uint64_t now_ms)
{
	size_t k = 0;
	for (size_t i = 0; i < e->n; i++)
		k += endpoint_available(e->v[i], now_ms);
	return k;
}

static bool was_tried(const struct endpoint *ep, struct endpoint *const *tried, size_t n_tried)
{
	for (size_t i = 0; i < n_tried; i++)
		if (tried[i] == ep)
			return true;
	return false;
}

static struct endpoint *hold(struct endpoint *ep)
{
	ep->inflight++;
	ep->refs++;
	return ep;
}

struct endpoint *endpoints_pick(struct endpoints *e, uint64_t now_ms, enum endpoint_purpose p,
				struct endpoint *const *tried, size_t n_tried)
{
	if (e->n == 0)
		return NULL;
	size_t start = e->next_start % e->n;
	e->next_start = (start + 1) % e->n;
	struct endpoint *best = NULL;
	for (size_t k = 0; k < e->n; k++) {
		struct endpoint *ep = e->v[(start + k) % e->n];
		if (!endpoint_available(ep, now_ms) || was_tried(ep, tried, n_tried))
			continue;
		if (p == EP_WRITE && ep->leader)
			return hold(ep);
		if (best == NULL || ep->inflight < best->inflight)
			best = ep;
	}
	return best ? hold(best) : NULL;
}

void endpoint_release(struct endpoint *ep)
{
	if (ep->inflight > 0)
		ep->inflight--;
	if (--ep->refs == 0)
		endpoint_free(ep);
}

void endpoints_fail(struct endpoints *e, struct endpoint *ep, uint64_t now_ms)
{
	uint64_t until = now_ms + e->failure_wait_ms;
	ep->failed_until_ms = until ? until : 1;
}

void endpoints_ok(struct endpoints *e, struct endpoint *ep)
{
	ep->failed_until_ms = 0;
}

void endpoints_set_leader(struct endpoints *e, uint64_t leader_id)
{
	for (size_t i = 0; i < e->n; i++)
		e->v[i]->leader = leader_id != 0 && e->v[i]->member_id == leader_id;
}
