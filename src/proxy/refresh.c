/* refresh.c - the refresher: GET <peer>/members on a timer (1 s while no
 * endpoint is available), which sets the endpoints and rewrites the cluster
 * file, and GET <client>/v2/stats/self of every endpoint on another timer,
 * which marks endpoints failed or available and finds the leader. Every call
 * goes through the loop's HTTP client; at most one refresh is in flight, and
 * at most one probe per endpoint. */
#include "proxy/refresh.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_client.h"
#include "net/loop.h"
#include "proxy/cluster_file.h"
#include "proxy/endpoints.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/goparse.h"
#include "util/json_quote.h"
#include "util/log.h"
#include "util/xalloc.h"

#define NONE_KNOWN_INTERVAL_MS 1000u /* refresh interval while no endpoint is available */
#define KICK_GAP_MS	       100u  /* at most one kicked refresh per this */
#define MAX_BODY	       ((size_t)4 << 20) /* a longer answer is not a member list */

struct strv {
	char **v;
	size_t n;
};

struct probe {
	struct refresher *r;
	char *url; /* the endpoint's URL: the endpoint may be dropped meanwhile */
	struct http_call *call;
	long status;
	struct buf body;
};

struct refresher {
	struct loop *loop;
	struct http_client *client;
	struct http_client *peer_client; /* GET /members */
	struct endpoints *eps;
	struct strv peers; /* the current peer list, tried in order */
	char *cluster_file;
	struct strv self;
	uint64_t refresh_interval_ms;
	uint64_t probe_interval_ms;
	unsigned dial_timeout_ms, request_timeout_ms;

	struct loop_timer *refresh_timer;
	struct loop_timer *probe_timer;
	struct http_call *members_call; /* the refresh in flight, or NULL */
	size_t peer_idx;		/* which peer URL it asks */
	long members_status;
	struct buf members_body;
	uint64_t last_start_ms;	 /* when the last refresh started */
	uint64_t refresh_due_ms; /* when the refresh timer fires next */
	bool refreshed;
	bool file_written; /* the cluster file holds the current peer list */

	struct probe **probes; /* in flight */
	size_t n_probes;
};

/* ---- string lists -------------------------------------------------------------- */

static size_t trimmed_len(const char *url)
{
	size_t len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	return len;
}

static void strv_push(struct strv *s, const char *str, size_t len)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = xstrndup(str, len);
}

static void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void strv_copy(struct strv *dst, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strv_push(dst, v[i], strlen(v[i]));
}

static bool strv_has(const struct strv *s, const char *url)
{
	size_t len = trimmed_len(url);
	for (size_t i = 0; i < s->n; i++)
		if (trimmed_len(s->v[i]) == len && memcmp(s->v[i], url, len) == 0)
			return true;
	return false;
}

static bool strv_equal(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Go's %v of a []string: [a b c]. */
static void put_list(struct buf *b, const struct strv *s, bool quoted)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < s->n; i++)
		buf_printf(b, quoted ? "%s\"%s\"" : "%s%s", i ? " " : "", s->v[i]);
	buf_putc(b, ']');
}

/* ---- the member list ------------------------------------------------------------- */

struct members {
	struct strv clients; /* the endpoints' URLs (not ours), as listed */
	uint64_t *ids;	     /* ids[i]: clients.v[i]'s member */
	struct strv peers;   /* every member's peer URLs, sorted, without repeats */
};

static void members_free(struct members *m)
{
	strv_free(&m->clients);
	strv_free(&m->peers);
	free(m->ids);
}

static void add_member(struct refresher *r, json_t *m, struct members *out)
{
	uint64_t id = json_quoted_id(json_string_value(json_object_get(m, "id")));
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(m, "clientURLs"), i, u)
	{
		const char *s = json_string_value(u);
		if (s == NULL || s[0] == '\0' || strv_has(&r->self, s) ||
		    strv_has(&out->clients, s))
			continue;
		strv_push(&out->clients, s, trimmed_len(s));
		out->ids = xrealloc(out->ids, out->clients.n * sizeof(*out->ids));
		out->ids[out->clients.n - 1] = id;
	}
	json_array_foreach(json_object_get(m, "peerURLs"), i, u)
	{
		const char *s = json_string_value(u);
		if (s != NULL && s[0] != '\0' && !strv_has(&out->peers, s))
			strv_push(&out->peers, s, strlen(s));
	}
}

/* Parses GET /members' answer (ids as JSON numbers, possibly above 2^63).
 * Returns 0, or -1 if it is not a member list. */
static int parse_members(struct refresher *r, const char *body, size_t len, struct members *out)
{
	struct buf q = BUF_INIT;
	json_quote_numbers(body, len, &q);
	json_t *doc = json_loadb(q.data ? q.data : "", q.len, 0, NULL);
	buf_free(&q);
	memset(out, 0, sizeof(*out));
	if (!json_is_array(doc)) {
		json_decref(doc);
		return -1;
	}
	size_t i;
	json_t *m;
	json_array_foreach(doc, i, m)
	{
		if (json_is_object(m))
			add_member(r, m, out);
	}
	json_decref(doc);
	if (out->peers.n > 1)
		qsort(out->peers.v, out->peers.n, sizeof(*out->peers.v), cmp_str);
	return 0;
}

/* ---- refresh ------------------------------------------------------------------------ */

static void probe_all(struct refresher *r);

static uint64_t next_interval(const struct refresher *r)
{
	uint64_t ri = r->refresh_interval_ms;
	if (endpoints_available(r->eps, clock_mono_ms()) == 0 && ri > NONE_KNOWN_INTERVAL_MS)
		ri = NONE_KNOWN_INTERVAL_MS;
	return ri;
}

static void refresh_in(struct refresher *r, uint64_t ms)
{
	loop_timer_set(r->refresh_timer, ms);
	r->refresh_due_ms = clock_mono_ms() + ms;
}

/* The last available endpoint just failed: the next refresh comes within
 * the second, as while none is known. */
static void none_left(struct refresher *r, uint64_t now)
{
	if (r->members_call == NULL && endpoints_available(r->eps, now) == 0 &&
	    r->refresh_due_ms > now + NONE_KNOWN_INTERVAL_MS)
		refresh_in(r, NONE_KNOWN_INTERVAL_MS);
}

static void log_endpoints(const struct members *m)
{
	struct buf b = BUF_INIT;
	put_list(&b, &m->clients, true);
	log_info("proxy/httpproxy", "endpoints found %s", b.data);
	buf_free(&b);
}

static void update_peers(struct refresher *r, struct members *m)
{
	if (m->peers.n == 0)
		return;
	bool same = strv_equal(&r->peers, &m->peers);
	if (!same) {
		struct buf b = BUF_INIT;
		put_list(&b, &r->peers, false);
		buf_puts(&b, " to ");
		put_list(&b, &m->peers, false);
		log_notice("etcdmain", "proxy: updated peer urls in cluster file from %s", b.data);
		buf_free(&b);
	}
	if (r->cluster_file && (!same || !r->file_written)) {
		struct buf err = BUF_INIT;
		if (cluster_file_write(r->cluster_file, m->peers.v, m->peers.n, &err) < 0)
			log_warn("etcdmain", "proxy: %s", err.data);
		else
			r->file_written = true;
		buf_free(&err);
	}
	if (!same) {
		strv_free(&r->peers);
		r->peers = m->peers;
		m->peers = (struct strv){NULL, 0};
	}
}

static void apply_members(struct refresher *r, struct members *m)
{
	bool changed = endpoints_set(r->eps, m->clients.v, m->ids, m->clients.n);
	if (changed)
		log_endpoints(m);
	update_peers(r, m);
	r->refreshed = true;
	if (changed)
		probe_all(r);
}

static void members_head(void *ctx, const struct http_response_head *head)
{
	struct refresher *r = ctx;
	r->members_status = head->status;
}

static int members_data(void *ctx, const char *data, size_t len)
{
	struct refresher *r = ctx;
	if (r->members_body.len + len <= MAX_BODY)
		buf_append(&r->members_body, data, len);
	return 0;
}

static void try_peer(struct refresher *r);

static void members_done(void *ctx, const struct http_call_result *res)
{
	struct refresher *r = ctx;
	struct members m;
	r->members_call = NULL;
	if (res->error == HTTP_CALL_OK && r->members_status == 200 &&
	    parse_members(r, r->members_body.data, r->members_body.len, &m) == 0) {
		apply_members(r, &m);
		members_free(&m);
		refresh_in(r, next_interval(r));
		return;
	}
	r->peer_idx++;
	try_peer(r);
}

/* Asks the peer URLs from peer_idx on until one call starts; when none is
 * left the refresh failed (the endpoints stay as they were). */
static void try_peer(struct refresher *r)
{
	for (; r->peer_idx < r->peers.n; r->peer_idx++) {
		struct buf url = BUF_INIT;
		const char *p = r->peers.v[r->peer_idx];
		buf_append(&url, p, trimmed_len(p));
		buf_puts(&url, "/members");
		struct http_call_spec spec = {
			.method = "GET",
			.url = url.data,
			.connect_ms = r->dial_timeout_ms,
			.total_ms = r->request_timeout_ms,
			.on_head = members_head,
			.on_data = members_data,
			.on_done = members_done,
			.ctx = r,
		};
		buf_reset(&r->members_body);
		r->members_status = 0;
		r->members_call = http_call_start(r->peer_client, &spec, NULL);
		buf_free(&url);
		if (r->members_call != NULL)
			return;
	}
	log_warn("etcdmain", "proxy: could not retrieve cluster information from the given URLs");
	refresh_in(r, next_interval(r));
}

static void start_refresh(struct refresher *r)
{
	if (r->members_call != NULL)
		return;
	r->last_start_ms = clock_mono_ms();
	r->peer_idx = 0;
	try_peer(r);
}

static void refresh_tick(void *ctx)
{
	struct refresher *r = ctx;
	refresh_in(r, next_interval(r));
	start_refresh(r);
}

/* ---- health probes ---------------------------------------------------------------- */

static void probe_forget(struct probe *p)
{
	struct refresher *r = p->r;
	for (size_t i = 0; i < r->n_probes; i++) {
		if (r->probes[i] == p) {
			r->probes[i] = r->probes[--r->n_probes];
			break;
		}
	}
	buf_free(&p->body);
	free(p->url);
	free(p);
}

static uint64_t hex_id(json_t *v)
{
	const char *s = json_string_value(v);
	uint64_t id;
	if (s == NULL || go_parse_uint(s, 16, 64, &id) != GO_NUM_OK)
		return 0;
	return id;
}

/* What GET /v2/stats/self says about leadership (etcd 3.4 and cetcd answer
 * alike: "id" and leaderInfo.leader as hex strings, "state"). */
static void read_stats(struct endpoints *e, struct endpoint *ep, const struct buf *body)
{
	json_t *doc = json_loadb(body->data ? body->data : "", body->len, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return;
	}
	uint64_t id = hex_id(json_object_get(doc, "id"));
	const char *state = json_string_value(json_object_get(doc, "state"));
	uint64_t leader = hex_id(json_object_get(json_object_get(doc, "leaderInfo"), "leader"));
	if (ep->member_id == 0 && id != 0)
		ep->member_id = id;
	if (state != NULL && strcmp(state, "StateLeader") == 0 && ep->member_id != 0)
		leader = ep->member_id;
	if (leader != 0)
		endpoints_set_leader(e, leader);
	json_decref(doc);
}

static void probe_head(void *ctx, const struct http_response_head *head)
{
	struct probe *p = ctx;
	p->status = head->status;
}

static int probe_data(void *ctx, const char *data, size_t len)
{
	struct probe *p = ctx;
	if (p->body.len + len <= MAX_BODY)
		buf_append(&p->body, data, len);
	return 0;
}

static void probe_done(void *ctx, const struct http_call_result *res)
{
	struct probe *p = ctx;
	struct endpoints *e = p->r->eps;
	struct endpoint *ep = endpoints_find(e, p->url);
	if (ep != NULL && res->error == HTTP_CALL_OK) {
		endpoints_ok(e, ep);
		if (p->status == 200)
			read_stats(e, ep, &p->body);
	} else if (ep != NULL) {
		uint64_t now = clock_mono_ms();
		endpoints_fail(e, ep, now);
		none_left(p->r, now);
	}
	probe_forget(p);
}

static bool probing(const struct refresher *r, const char *url)
{
	for (size_t i = 0; i < r->n_probes; i++)
		if (strcmp(r->probes[i]->url, url) == 0)
			return true;
	return false;
}

static void probe_one(struct refresher *r, const struct endpoint *ep)
{
	if (probing(r, ep->url))
		return;
	struct probe *p = xcalloc(1, sizeof(*p));
	p->r = r;
	p->url = xstrdup(ep->url);
	struct buf url = BUF_INIT;
	buf_printf(&url, "%s/v2/stats/self", ep->url);
	struct http_call_spec spec = {
		.method = "GET",
		.url = url.data,
		.connect_ms = r->dial_timeout_ms,
		.total_ms = r->request_timeout_ms,
		.on_head = probe_head,
		.on_data = probe_data,
		.on_done = probe_done,
		.ctx = p,
	};
	r->probes = xrealloc(r->probes, (r->n_probes + 1) * sizeof(*r->probes));
	r->probes[r->n_probes++] = p;
	p->call = http_call_start(r->client, &spec, NULL);
	buf_free(&url);
	if (p->call == NULL)
		probe_forget(p);
}

static void probe_all(struct refresher *r)
{
	if (r->probe_interval_ms == 0)
		return;
	for (size_t i = 0; i < r->eps->n; i++)
		probe_one(r, r->eps->v[i]);
}

static void probe_tick(void *ctx)
{
	probe_all(ctx);
}

/* ---- the refresher ------------------------------------------------------------------ */

struct refresher *refresher_new(const struct refresher_opts *o)
{
	if (o->loop == NULL || o->client == NULL || o->endpoints == NULL)
		return NULL;
	struct refresher *r = xcalloc(1, sizeof(*r));
	r->loop = o->loop;
	r->client = o->client;
	r->peer_client = o->peer_client ? o->peer_client : o->client;
	r->eps = o->endpoints;
	strv_copy(&r->peers, o->peer_urls, o->n_peer_urls);
	strv_copy(&r->self, o->self_urls, o->n_self_urls);
	r->cluster_file = o->cluster_file ? xstrdup(o->cluster_file) : NULL;
	r->refresh_interval_ms = o->refresh_interval_ms ? o->refresh_interval_ms : 30000;
	r->probe_interval_ms = o->probe_interval_ms;
	r->dial_timeout_ms = o->dial_timeout_ms;
	r->request_timeout_ms = o->request_timeout_ms;
	r->refresh_timer = loop_add_timer(r->loop, 1, refresh_tick, r);
	r->refresh_due_ms = clock_mono_ms() + 1;
	if (r->probe_interval_ms)
		r->probe_timer = loop_add_timer(r->loop, r->probe_interval_ms, probe_tick, r);
	return r;
}

void refresher_free(struct refresher *r)
{
	if (r == NULL)
		return;
	http_call_cancel(r->members_call);
	while (r->n_probes > 0) {
		struct probe *p = r->probes[r->n_probes - 1];
		http_call_cancel(p->call);
		probe_forget(p);
	}
	free(r->probes);
	loop_del_timer(r->loop, r->refresh_timer);
	loop_del_timer(r->loop, r->probe_timer);
	buf_free(&r->members_body);
	strv_free(&r->peers);
	strv_free(&r->self);
	free(r->cluster_file);
	free(r);
}

void refresher_kick(struct refresher *r)
{
	if (r->members_call != NULL)
		return;
	uint64_t now = clock_mono_ms();
	uint64_t since = now - r->last_start_ms;
	refresh_in(r, since >= KICK_GAP_MS ? 1 : KICK_GAP_MS - since);
}

bool refresher_has_refreshed(const struct refresher *r)
{
	return r->refreshed;
}
