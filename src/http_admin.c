/* http_admin.c - the cluster and admin endpoints: /version, /health,
 * /v2/members, /v2/machines, /v2/stats/{self,store,leader}, with the shapes
 * real etcd 3.4 answers. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "http_reply.h"
#include "http_server.h"
#include "node.h"
#include "server.h"
#include "store.h"
#include "version.h"

/* ---- formatting helpers ------------------------------------------------ */

static void put_id(struct buf *b, uint64_t id)
{
	buf_printf(b, "\"%" PRIx64 "\"", id);
}

static void put_str(struct buf *b, const char *s)
{
	buf_put_json_str(b, s, strlen(s));
}

static void put_str_array(struct buf *b, char *const *v, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		put_str(b, v[i]);
	}
	buf_putc(b, ']');
}

/* Go's time.Time JSON (RFC3339Nano, UTC). */
static void put_time(struct buf *b, int64_t unix_ns)
{
	time_t secs = (time_t)(unix_ns / 1000000000);
	long nanos = (long)(unix_ns % 1000000000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char frac[16] = "";
	if (nanos) {
		snprintf(frac, sizeof(frac), ".%09ld", nanos);
		size_t n = strlen(frac);
		while (frac[n - 1] == '0')
			frac[--n] = '\0';
	}
	buf_printf(b, "\"%04d-%02d-%02dT%02d:%02d:%02d%sZ\"", tm.tm_year + 1900, tm.tm_mon + 1,
		   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

/* Go's time.Duration.String() for a positive duration >= 1s or < 1s. */
static void put_duration(struct buf *b, uint64_t ns)
{
	if (ns == 0) {
		buf_puts(b, "\"0s\"");
		return;
	}
	if (ns < 1000000000ull) {
		const char *unit = "ns";
		uint64_t div = 1;
		if (ns >= 1000000ull) {
			unit = "ms";
			div = 1000000ull;
		} else if (ns >= 1000ull) {
			unit = "\xc2\xb5s";
			div = 1000ull;
		}
		char frac[16] = "";
		if (ns % div) {
			int digits = div == 1000000ull ? 6 : 3;
			snprintf(frac, sizeof(frac), ".%0*" PRIu64, digits, ns % div);
			size_t n = strlen(frac);
			while (frac[n - 1] == '0')
				frac[--n] = '\0';
		}
		buf_printf(b, "\"%" PRIu64 "%s%s\"", ns / div, frac, unit);
		return;
	}
	uint64_t secs = ns / 1000000000ull, nanos = ns % 1000000000ull;
	buf_putc(b, '"');
	if (secs >= 3600)
		buf_printf(b, "%" PRIu64 "h", secs / 3600);
	if (secs >= 60)
		buf_printf(b, "%" PRIu64 "m", secs / 60 % 60);
	buf_printf(b, "%" PRIu64, secs % 60);
	if (nanos) {
		char frac[16];
		snprintf(frac, sizeof(frac), ".%09" PRIu64, nanos);
		size_t n = strlen(frac);
		while (frac[n - 1] == '0')
			frac[--n] = '\0';
		buf_puts(b, frac);
	}
	buf_puts(b, "s\"");
}

static void respond_json(struct http_req *r, unsigned status, struct buf *b, bool cluster_id)
{
	struct MHD_Response *resp = reply_from_buf(b, "application/json");
	if (cluster_id)
		reply_cluster_id(r, resp);
	http_respond(r, status, resp);
}

static bool method_in(struct http_req *r, const char *allow)
{
	/* allow is a comma-separated list such as "GET,HEAD" */
	size_t n = strlen(r->method);
	for (const char *p = allow; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, r->method, n) == 0)
			return true;
		p += len + (e ? 1 : 0);
	}
	reply_method_not_allowed(r, allow);
	return false;
}

/* ---- endpoints --------------------------------------------------------- */

static void serve_version(struct http_req *r)
{
	if (!method_in(r, "GET"))
		return;
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"etcdserver\":\"" ETCD_COMPAT_VERSION "\",\"etcdcluster\":\""
		     ETCD_COMPAT_CLUSTER_VERSION "\"}");
	respond_json(r, MHD_HTTP_OK, &b, false);
}

static void serve_health(struct http_req *r)
{
	if (!method_in(r, "GET"))
		return;
	bool ok = node_leader_id(r->srv->node) != 0;
	struct MHD_Response *resp = reply_from_text(ok ? "{\"health\":\"true\"}"
						       : "{\"health\":\"false\"}",
						    "text/plain; charset=utf-8");
	http_respond(r, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

static void put_member(struct buf *b, const struct member *m)
{
	buf_puts(b, "{\"id\":");
	put_id(b, m->id);
	buf_puts(b, ",\"name\":");
	put_str(b, m->name);
	buf_puts(b, ",\"peerURLs\":");
	put_str_array(b, m->peer_urls, m->n_peer_urls);
	buf_puts(b, ",\"clientURLs\":");
	put_str_array(b, m->client_urls, m->n_client_urls);
	buf_putc(b, '}');
}

static void serve_members(struct http_req *r)
{
	if (!method_in(r, "GET,POST,DELETE,PUT"))
		return;
	struct cluster *c = &r->srv->cluster;
	struct buf b = BUF_INIT;
	const char *rest = r->path + strlen("/v2/members");
	if (strcmp(r->method, "GET") != 0) {
		reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "membership changes are not supported by this cetcd build yet");
		return;
	}
	if (strcmp(rest, "/leader") == 0) {
		struct member *m = cluster_find(c, node_leader_id(r->srv->node));
		if (m == NULL) {
			reply_message(r, MHD_HTTP_SERVICE_UNAVAILABLE, "During election");
			return;
		}
		put_member(&b, m);
		buf_putc(&b, '\n');
		respond_json(r, MHD_HTTP_OK, &b, true);
		return;
	}
	if (*rest != '\0' && strcmp(rest, "/") != 0) {
		reply_method_not_allowed(r, "GET,POST");
		return;
	}
	buf_puts(&b, "{\"members\":[");
	for (size_t i = 0; i < c->n_members; i++) {
		if (i)
			buf_putc(&b, ',');
		put_member(&b, &c->members[i]);
	}
	buf_puts(&b, "]}\n");
	respond_json(r, MHD_HTTP_OK, &b, true);
}

static void serve_machines(struct http_req *r)
{
	if (!method_in(r, "GET,HEAD"))
		return;
	struct cluster *c = &r->srv->cluster;
	struct buf b = BUF_INIT;
	bool first = true;
	for (size_t i = 0; i < c->n_members; i++) {
		for (size_t j = 0; j < c->members[i].n_client_urls; j++) {
			if (!first)
				buf_puts(&b, ", ");
			buf_puts(&b, c->members[i].client_urls[j]);
			first = false;
		}
	}
	http_respond(r, MHD_HTTP_OK, reply_from_buf(&b, "text/plain; charset=utf-8"));
}

static const char *state_name(const struct node *n)
{
	if (node_is_leader(n))
		return "StateLeader";
	return "StateFollower";
}

static void serve_stats_self(struct http_req *r)
{
	if (!method_in(r, "GET"))
		return;
	struct server *s = r->srv;
	struct buf b = BUF_INIT;
	int64_t now = clock_wall_ns();
	struct member *self = cluster_find(&s->cluster, s->self_id);
	buf_puts(&b, "{\"name\":");
	put_str(&b, self ? self->name : "");
	buf_puts(&b, ",\"id\":");
	put_id(&b, s->self_id);
	buf_printf(&b, ",\"state\":\"%s\",\"startTime\":", state_name(s->node));
	put_time(&b, s->start_wall_ns);
	buf_puts(&b, ",\"leaderInfo\":{\"leader\":");
	put_id(&b, node_leader_id(s->node));
	buf_puts(&b, ",\"uptime\":");
	put_duration(&b, (uint64_t)(now - s->start_wall_ns));
	buf_puts(&b, ",\"startTime\":");
	put_time(&b, s->start_wall_ns);
	buf_puts(&b, "},\"recvAppendRequestCnt\":0,\"sendAppendRequestCnt\":0}");
	respond_json(r, MHD_HTTP_OK, &b, false);
}

static void serve_stats_store(struct http_req *r)
{
	if (!method_in(r, "GET"))
		return;
	struct store_stats st;
	store_get_stats(r->srv->store, &st);
	struct buf b = BUF_INIT;
	buf_printf(&b,
		   "{\"getsSuccess\":%" PRIu64 ",\"getsFail\":%" PRIu64
		   ",\"setsSuccess\":%" PRIu64 ",\"setsFail\":%" PRIu64
		   ",\"deleteSuccess\":%" PRIu64 ",\"deleteFail\":%" PRIu64
		   ",\"updateSuccess\":%" PRIu64 ",\"updateFail\":%" PRIu64
		   ",\"createSuccess\":%" PRIu64 ",\"createFail\":%" PRIu64
		   ",\"compareAndSwapSuccess\":%" PRIu64 ",\"compareAndSwapFail\":%" PRIu64
		   ",\"compareAndDeleteSuccess\":%" PRIu64 ",\"compareAndDeleteFail\":%" PRIu64
		   ",\"expireCount\":%" PRIu64 ",\"watchers\":%" PRIu64 "}",
		   st.gets_success, st.gets_fail, st.sets_success, st.sets_fail,
		   st.delete_success, st.delete_fail, st.update_success, st.update_fail,
		   st.create_success, st.create_fail, st.cas_success, st.cas_fail,
		   st.cad_success, st.cad_fail, st.expire_count, st.watchers);
	respond_json(r, MHD_HTTP_OK, &b, false);
}

static void serve_stats_leader(struct http_req *r)
{
	if (!method_in(r, "GET"))
		return;
	struct server *s = r->srv;
	if (!node_is_leader(s->node)) {
		reply_message(r, MHD_HTTP_FORBIDDEN, "not current leader");
		return;
	}
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"leader\":");
	put_id(&b, s->self_id);
	buf_puts(&b, ",\"followers\":{}}");
	respond_json(r, MHD_HTTP_OK, &b, false);
}

/* ---- routing ----------------------------------------------------------- */

static const struct admin_route {
	const char *path;
	bool prefix;	/* also matches path + "/..." */
	void (*serve)(struct http_req *r);
} routes[] = {
	{"/version", false, serve_version},
	{"/health", false, serve_health},
	{"/v2/members", true, serve_members},
	{"/v2/machines", false, serve_machines},
	{"/v2/stats/self", false, serve_stats_self},
	{"/v2/stats/store", false, serve_stats_store},
	{"/v2/stats/leader", false, serve_stats_leader},
};

static const struct admin_route *find_route(const char *path)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n = strlen(routes[i].path);
		if (strncmp(path, routes[i].path, n) != 0)
			continue;
		if (path[n] == '\0' || (routes[i].prefix && path[n] == '/'))
			return &routes[i];
	}
	return NULL;
}

bool http_admin_owns(const char *path)
{
	return find_route(path) != NULL;
}

void http_admin_handle(struct http_req *r)
{
	const struct admin_route *route = find_route(r->path);
	if (route && strcmp(r->method, "OPTIONS") == 0) {
		http_respond(r, MHD_HTTP_OK, reply_from_text("", NULL));
		return;
	}
	route->serve(r);
}
