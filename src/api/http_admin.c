/* http_admin.c - the cluster and admin endpoints: /health, /v2/members,
 * /v2/machines, /v2/stats/{self,store,leader}, /debug/vars, with the shapes
 * real etcd 3.4 answers (see http_admin.h; the routes are in routes.c). */
#include "api/http_admin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ctype.h>
#include <jansson.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/goparse.h"
#include "kv/command.h"
#include "util/url.h"
#include "util/xalloc.h"
#include "member/proposal.h"
#include "raft/raft.h"
#include "api/auth_guard.h"
#include "api/etcd_reply.h"
#include "api/members_json.h"
#include "api/routes.h"
#include "member/node.h"
#include "member/server.h"
#include "member/apply.h"
#include "member/reconfig.h"
#include "kv/store.h"
#include "api/http_peer.h"
#include "member/peer_send.h"
#include "disk/wal_sync.h"

/* ---- formatting helpers ------------------------------------------------ */

static void put_id(struct buf *b, uint64_t id)
{
	buf_printf(b, "\"%" PRIx64 "\"", id);
}

static void put_str(struct buf *b, const char *s)
{
	buf_put_json_str(b, s, strlen(s));
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

static void respond_json(struct http_req *r, unsigned status, struct buf *b)
{
	http_respond(r, status, reply_from_buf(b, "application/json"));
}

/* ---- endpoints --------------------------------------------------------- */

static uint64_t health_ok, health_failed; /* etcd_server_health_success/failures */

void http_admin_health_counts(uint64_t *ok, uint64_t *failed)
{
	*ok = health_ok;
	*failed = health_failed;
}

void http_admin_health(struct http_req *r)
{
	bool ok = node_leader_id(api_server(r)->node) != 0;
	if (ok)
		health_ok++;
	else
		health_failed++;
	struct MHD_Response *resp =
		reply_from_text(ok ? "{\"health\":\"true\"}" : "{\"health\":\"false\"}",
				"text/plain; charset=utf-8");
	http_respond(r, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

/* ---- /v2/members ------------------------------------------------------- */

/* Go's encoding/json name for the kind of a JSON value. */
static const char *go_json_kind(const json_t *v)
{
	if (json_is_string(v))
		return "string";
	if (json_is_number(v))
		return "number";
	if (json_is_boolean(v))
		return "bool";
	if (json_is_array(v))
		return "array";
	return "object";
}

/* Go's UnmarshalTypeError for {"peerURLs": ...} (etcd decodes into an
 * anonymous struct, hence the field name ".peerURLs"), or "" if it fits. */
static void peer_urls_type_error(const json_t *urls, char *msg, size_t cap)
{
	msg[0] = '\0';
	if (urls == NULL || json_is_null(urls))
		return;
	if (!json_is_array(urls)) {
		snprintf(
			msg, cap,
			"json: cannot unmarshal %s into Go struct field .peerURLs of type []string",
			go_json_kind(urls));
		return;
	}
	size_t i;
	json_t *u;
	json_array_foreach(urls, i, u)
	{
		if (!json_is_string(u) && !json_is_null(u)) {
			snprintf(msg, cap,
				 "json: cannot unmarshal %s into Go struct field .peerURLs of type "
				 "string",
				 go_json_kind(u));
			return;
		}
	}
}

/* etcd's unmarshalRequest: JSON body {"peerURLs":[...]} with Content-Type
 * application/json. Returns the URLs joined by ",", or NULL after replying. */
static char *parse_peer_urls_body(struct http_req *r)
{
	const char *ct =
		MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	char ctype[128];
	snprintf(ctype, sizeof(ctype), "%s", ct ? ct : "");
	char *semi = strchr(ctype, ';');
	if (semi) {
		*semi = '\0';
		for (char *p = ctype; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	if (strcmp(ctype, "application/json") != 0) {
		char msg[200];
		snprintf(msg, sizeof(msg), "Bad Content-Type %s, accept application/json", ctype);
		reply_message(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, msg);
		return NULL;
	}
	/* encoding/json's checks and words: syntax first, then the types */
	char msg[300];
	const char *body = r->body.data ? r->body.data : "";
	if (json_go_syntax_check(body, r->body.len, msg, sizeof(msg)) != 0) {
		reply_message(r, MHD_HTTP_BAD_REQUEST, msg);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(body, r->body.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (doc == NULL) { /* valid for Go, not for jansson (a huge number ...) */
		reply_message(r, MHD_HTTP_BAD_REQUEST, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc) && !json_is_null(doc)) {
		snprintf(msg, sizeof(msg),
			 "json: cannot unmarshal %s into Go value of type struct { PeerURLs "
			 "[]string \"json:\\\"peerURLs\\\"\" }",
			 go_json_kind(doc));
		reply_message(r, MHD_HTTP_BAD_REQUEST, msg);
		json_decref(doc);
		return NULL;
	}
	json_t *urls = json_object_get(doc, "peerURLs");
	peer_urls_type_error(urls, msg, sizeof(msg));
	if (msg[0]) {
		reply_message(r, MHD_HTTP_BAD_REQUEST, msg);
		json_decref(doc);
		return NULL;
	}
	if (json_array_size(urls) == 0) { /* missing or empty: etcd's types.NewURLs */
		reply_message(r, MHD_HTTP_BAD_REQUEST, "no valid URLs given");
		json_decref(doc);
		return NULL;
	}
	struct buf joined = BUF_INIT;
	size_t i;
	json_t *u;
	json_array_foreach(urls, i, u)
	{
		if (i)
			buf_putc(&joined, ',');
		buf_puts(&joined, json_is_string(u) ? json_string_value(u) : "");
	}
	json_decref(doc);
	char err[256];
	struct url_list list;
	if (url_list_parse(joined.data ? joined.data : "", &list, err, sizeof(err)) != 0) {
		reply_message(r, MHD_HTTP_BAD_REQUEST, err);
		buf_free(&joined);
		return NULL;
	}
	url_list_free(&list);
	return buf_steal(&joined, NULL);
}

static bool peer_url_taken(const struct cluster *c, const char *joined, uint64_t except)
{
	for (size_t i = 0; i < c->n_members; i++) {
		if (c->members[i].id == except)
			continue;
		for (size_t j = 0; j < c->members[i].n_peer_urls; j++) {
			const char *u = c->members[i].peer_urls[j];
			size_t n = strlen(u);
			for (const char *p = joined; (p = strstr(p, u)) != NULL; p += n)
				if ((p == joined || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
					return true;
		}
	}
	return false;
}

/* The id after /v2/members/, as etcd's getID (types.IDFromString): 405
 * without one, 404 when it is not a hex id (echoed as given) or not a
 * member (echoed as etcd prints an id). Returns NULL after replying. */
static const struct member *member_from_path(struct http_req *r, const char *rest)
{
	if (*rest == '\0') {
		reply_method_not_allowed(r, "GET, POST");
		return NULL;
	}
	char msg[300];
	uint64_t id;
	if (go_parse_uint(rest, 16, 64, &id) != GO_NUM_OK) {
		snprintf(msg, sizeof(msg), "No such member: %s", rest);
		reply_message(r, MHD_HTTP_NOT_FOUND, msg);
		return NULL;
	}
	const struct member *m = cluster_find(server_members(api_server(r)), id);
	if (m == NULL) {
		snprintf(msg, sizeof(msg), "No such member: %" PRIx64, id);
		reply_message(r, MHD_HTTP_NOT_FOUND, msg);
	}
	return m;
}

/* --strict-reconfig-check refused the change: etcd's v2 members API answers
 * its ErrNotEnoughStartedMembers / ErrUnhealthy with a bare 500 (v2http
 * writeError -> etcdhttp.WriteError's default case) and logs the reason. */
static void reply_reconfig_refused(struct http_req *r, enum reconfig_verdict v)
{
	log_warn("etcdhttp", "error handling member request: %s", reconfig_error(v));
	reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error");
}

/* ---- runtime changes: proposed through the log, answered once applied ---- */

struct member_change {
	uint64_t proposal_id;
	unsigned status; /* 201 (add) or 204 (remove) */
	struct buf body; /* the answer for 201 */
};

static void member_change_cleanup(struct http_req *r)
{
	struct member_change *mc = r->handler_ctx;
	if (mc->proposal_id)
		proposals_cancel(api_server(r)->props, mc->proposal_id);
	buf_free(&mc->body);
	free(mc);
	r->handler_ctx = NULL;
}

static void member_change_done(void *ctx, struct store_event *ev, const struct store_error *err)
{
	struct http_req *r = ctx;
	struct member_change *mc = r->handler_ctx;
	mc->proposal_id = 0;
	if (err && err->code > MEMBER_REPLY_BASE) { /* refused on apply (member/apply.c) */
		reply_message(r, (unsigned)(err->code - MEMBER_REPLY_BASE),
			      err->cause ? err->cause : "");
		return;
	}
	if (err) {
		reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, err->cause ? err->cause : "");
		return;
	}
	if (mc->status == MHD_HTTP_CREATED)
		http_respond(r, MHD_HTTP_CREATED, reply_from_buf(&mc->body, "application/json"));
	else
		http_respond(r, MHD_HTTP_NO_CONTENT, reply_from_text("", NULL));
}

/* Proposes a change to the member table: a configuration change whose
 * context is this member's id, the request id, and (for an add) the new
 * member's table entry, or (updated != NULL) a CMD_UPDATE of a member's
 * peer URLs. The answer waits for the entry to be applied (member/apply.c
 * completes it). */
static void propose_member_change(struct http_req *r, uint8_t type, uint64_t node,
				  const struct cluster *added, const struct member *updated,
				  unsigned status, struct buf *body)
{
	struct server *s = api_server(r);
	struct member_change *mc = xcalloc(1, sizeof(*mc));
	mc->status = status;
	if (body)
		mc->body = *body;
	r->handler_ctx = mc;
	r->cleanup = member_change_cleanup;
	mc->proposal_id = proposals_add(s->props, clock_mono_ms(), s->request_timeout_ms,
					member_change_done, r);
	struct buf payload = BUF_INIT;
	if (updated)
		command_encode_update(&payload, s->self_id, mc->proposal_id, updated);
	else
		command_encode_conf(&payload, s->self_id, mc->proposal_id, type, node, added);
	if (node_propose(s->node, payload.data, payload.len) == 0) {
		http_suspend(r);
	} else {
		proposals_cancel(s->props, mc->proposal_id);
		mc->proposal_id = 0;
		reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
			      "etcdserver: the configuration change was refused (another one is "
			      "in progress, or there is no leader)");
	}
	buf_free(&payload);
}

static void members_get(struct http_req *r, const char *rest)
{
	const struct cluster *c = server_members(api_server(r));
	struct buf b = BUF_INIT;
	if (strcmp(rest, "leader") == 0) {
		const struct member *m = cluster_find(c, node_leader_id(api_server(r)->node));
		if (m == NULL) {
			reply_message(r, MHD_HTTP_SERVICE_UNAVAILABLE, "During election");
			return;
		}
		json_put_member(&b, m);
	} else if (*rest == '\0') {
		buf_puts(&b, "{\"members\":");
		json_put_members(&b, c);
		buf_putc(&b, '}');
	} else {
		reply_message(r, MHD_HTTP_NOT_FOUND, "Not found");
		return;
	}
	buf_putc(&b, '\n');
	respond_json(r, MHD_HTTP_OK, &b);
}

/* etcd's order: the body, the strict check (AddMember's mayAddMember),
 * then what ValidateConfigurationChange refuses (URL taken, ID exists). */
static void members_post(struct http_req *r)
{
	char *urls = parse_peer_urls_body(r);
	if (urls == NULL)
		return;
	enum reconfig_verdict v_ok = reconfig_may_add(api_server(r));
	if (v_ok != RECONFIG_OK) {
		reply_reconfig_refused(r, v_ok);
		free(urls);
		return;
	}
	const struct cluster *c = server_members(api_server(r));
	if (peer_url_taken(c, urls, 0)) {
		reply_message(r, MHD_HTTP_CONFLICT, "membership: peerURL exists");
		free(urls);
		return;
	}
	/* etcd's NewMember for a runtime add: sha1 of the sorted peer URLs, no
	 * cluster token, and the time in seconds */
	struct url_list list;
	char err[256], stamp[32];
	url_list_parse(urls, &list, err, sizeof(err));
	char **v = xcalloc(list.n, sizeof(*v));
	for (size_t i = 0; i < list.n; i++)
		v[i] = list.v[i].str;
	snprintf(stamp, sizeof(stamp), "%lld", (long long)(clock_wall_ns() / 1000000000));
	uint64_t id = cluster_member_id(v, list.n, stamp);
	struct cluster added = {0};
	if (cluster_find(c, id) || cluster_is_removed(c, id)) {
		reply_message(r, MHD_HTTP_CONFLICT, "membership: ID exists");
	} else {
		cluster_put_member(&added, id, "", v, list.n, NULL, 0);
		struct buf body = BUF_INIT;
		json_put_member(&body, &added.members[0]);
		buf_putc(&body, '\n');
		/* a learner first: it votes once it caught up (raft promote_lag) */
		propose_member_change(r, RAFT_CONF_ADD_LEARNER, id, &added, NULL, MHD_HTTP_CREATED,
				      &body);
	}
	cluster_free(&added);
	free(v);
	url_list_free(&list);
	free(urls);
}

/* etcd's order: the id's form (404), the body (415/400), then UpdateMember's
 * checks (ValidateConfigurationChange): a removed id (ErrIDRemoved, which
 * the v2 API answers with a bare 500), an unknown one (404), a URL another
 * member has (409). */
static void members_put(struct http_req *r, const char *rest)
{
	if (*rest == '\0') {
		reply_method_not_allowed(r, "GET, POST");
		return;
	}
	char msg[300];
	uint64_t id;
	if (go_parse_uint(rest, 16, 64, &id) != GO_NUM_OK) {
		snprintf(msg, sizeof(msg), "No such member: %s", rest);
		reply_message(r, MHD_HTTP_NOT_FOUND, msg);
		return;
	}
	char *urls = parse_peer_urls_body(r);
	if (urls == NULL)
		return;
	const struct cluster *c = server_members(api_server(r));
	const struct member *m = cluster_find(c, id);
	if (cluster_is_removed(c, id) || m == NULL) {
		bool removed = cluster_is_removed(c, id);
		snprintf(msg, sizeof(msg), "No such member: %" PRIx64, id);
		reply_message(r, removed ? MHD_HTTP_INTERNAL_SERVER_ERROR : MHD_HTTP_NOT_FOUND,
			      removed ? "Internal Server Error" : msg);
		free(urls);
		return;
	}
	if (peer_url_taken(c, urls, m->id)) {
		reply_message(r, MHD_HTTP_CONFLICT, "membership: peerURL exists");
		free(urls);
		return;
	}
	/* through the log, as etcd's UpdateMember (checked again on apply) */
	struct url_list list;
	char err[256];
	url_list_parse(urls, &list, err, sizeof(err));
	char **v = xcalloc(list.n, sizeof(*v));
	for (size_t i = 0; i < list.n; i++)
		v[i] = list.v[i].str;
	struct member updated = {.id = m->id, .name = "", .peer_urls = v, .n_peer_urls = list.n};
	propose_member_change(r, 0, m->id, NULL, &updated, MHD_HTTP_NO_CONTENT, NULL);
	free(v);
	url_list_free(&list);
	free(urls);
}

/* etcd's order: the id's form (404), the strict check (RemoveMember's
 * mayRemoveMember), then a removed id (410) or an unknown one (404). */
static void members_delete(struct http_req *r, const char *rest)
{
	const struct cluster *c = server_members(api_server(r));
	uint64_t id;
	if (*rest != '\0' && go_parse_uint(rest, 16, 64, &id) == GO_NUM_OK) {
		enum reconfig_verdict v = reconfig_may_remove(api_server(r), id);
		if (v != RECONFIG_OK) {
			reply_reconfig_refused(r, v);
			return;
		}
		if (cluster_is_removed(c, id)) {
			char msg[64];
			snprintf(msg, sizeof(msg), "Member permanently removed: %" PRIx64, id);
			reply_message(r, MHD_HTTP_GONE, msg);
			return;
		}
	}
	const struct member *m = member_from_path(r, rest);
	if (m != NULL)
		propose_member_change(r, RAFT_CONF_REMOVE, m->id, NULL, NULL, MHD_HTTP_NO_CONTENT,
				      NULL);
}

static void members_wait_cleanup(struct http_req *r)
{
	auth_wait_cancel(r->handler_ctx);
	free(r->handler_ctx);
	r->handler_ctx = NULL;
}

/* With auth on, a members change needs the root role (etcd's
 * hasWriteRootAccess: GET is free), answered before the cluster id is set.
 * Returns whether to go on; a request waiting for its password check comes
 * back to http_admin_members. */
static bool members_root_access(struct http_req *r)
{
	if (strcmp(r->method, "GET") == 0)
		return true;
	if (r->handler_ctx == NULL) {
		r->handler_ctx = xcalloc(1, sizeof(struct auth_wait));
		r->cleanup = members_wait_cleanup;
	}
	enum auth_verdict v = auth_guard_root(r, r->handler_ctx, http_admin_members);
	if (v == AUTH_WAIT)
		return false;
	members_wait_cleanup(r);
	r->cleanup = NULL;
	if (v == AUTH_DENY) {
		reply_message(r, MHD_HTTP_UNAUTHORIZED, "Insufficient credentials");
		return false;
	}
	return true;
}

void http_admin_members(struct http_req *r)
{
	if (!members_root_access(r))
		return;
	r->add_headers = reply_cluster_id; /* etcd sets it on every members answer */
	const char *rest = r->path + strlen("/v2/members");
	if (*rest == '/')
		rest++;
	if (strcmp(r->method, "GET") == 0)
		members_get(r, rest);
	else if (strcmp(r->method, "POST") == 0)
		members_post(r);
	else if (strcmp(r->method, "PUT") == 0)
		members_put(r, rest);
	else
		members_delete(r, rest);
}

void http_admin_machines(struct http_req *r)
{
	const struct cluster *c = server_members(api_server(r));
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
	return node_leader_id(n) ? "StateFollower" : "StateCandidate";
}

void http_admin_stats_self(struct http_req *r)
{
	struct server *s = api_server(r);
	struct buf b = BUF_INIT;
	int64_t now = clock_wall_ns();
	const struct member *self = cluster_find(server_members(s), s->self_id);
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
	struct http_peer_stats in;
	struct peer_sender_totals out;
	http_peer_get_stats(&in);
	peer_sender_totals(s->peers, &out);
	buf_printf(&b,
		   "},\"recvAppendRequestCnt\":%" PRIu64 ",\"sendAppendRequestCnt\":%" PRIu64 "}",
		   in.recv_append, out.append_sent);
	respond_json(r, MHD_HTTP_OK, &b);
}

void http_admin_stats_store(struct http_req *r)
{
	struct store_stats st;
	store_get_stats(api_server(r)->store, &st);
	struct buf b = BUF_INIT;
	buf_printf(&b,
		   "{\"getsSuccess\":%" PRIu64 ",\"getsFail\":%" PRIu64 ",\"setsSuccess\":%" PRIu64
		   ",\"setsFail\":%" PRIu64 ",\"deleteSuccess\":%" PRIu64 ",\"deleteFail\":%" PRIu64
		   ",\"updateSuccess\":%" PRIu64 ",\"updateFail\":%" PRIu64
		   ",\"createSuccess\":%" PRIu64 ",\"createFail\":%" PRIu64
		   ",\"compareAndSwapSuccess\":%" PRIu64 ",\"compareAndSwapFail\":%" PRIu64
		   ",\"compareAndDeleteSuccess\":%" PRIu64 ",\"compareAndDeleteFail\":%" PRIu64
		   ",\"expireCount\":%" PRIu64 ",\"watchers\":%" PRIu64 "}",
		   st.gets_success, st.gets_fail, st.sets_success, st.sets_fail, st.delete_success,
		   st.delete_fail, st.update_success, st.update_fail, st.create_success,
		   st.create_fail, st.cas_success, st.cas_fail, st.cad_success, st.cad_fail,
		   st.expire_count, st.watchers);
	respond_json(r, MHD_HTTP_OK, &b);
}

void http_admin_stats_leader(struct http_req *r)
{
	struct server *s = api_server(r);
	if (!node_is_leader(s->node)) {
		reply_message(r, MHD_HTTP_FORBIDDEN, "not current leader");
		return;
	}
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"leader\":");
	put_id(&b, s->self_id);
	buf_puts(&b, ",\"followers\":{");
	bool first = true;
	const struct cluster *c = server_members(s);
	for (size_t i = 0; i < c->n_members; i++) {
		struct peer_stats ps;
		uint64_t id = c->members[i].id;
		if (id == s->self_id || !peer_sender_peer_stats(s->peers, id, &ps))
			continue;
		buf_printf(&b,
			   "%s\"%" PRIx64 "\":{\"latency\":{\"current\":%.6f,\"average\":%.6f,"
			   "\"standardDeviation\":%.6f,\"minimum\":%.6f,\"maximum\":%.6f},"
			   "\"counts\":{\"fail\":%" PRIu64 ",\"success\":%" PRIu64 "}}",
			   first ? "" : ",", id, ps.latency_current, ps.latency_average,
			   ps.latency_stddev, ps.latency_min, ps.latency_max, ps.fail, ps.success);
		first = false;
	}
	buf_puts(&b, "}}");
	respond_json(r, MHD_HTTP_OK, &b);
}

/* etcd serves expvar JSON here; cetcd serves its own counters, so that
 * benchmarks and operators can see the WAL's group commit at work. */
void http_admin_debug_vars(struct http_req *r)
{
	struct server *s = api_server(r);
	struct wal_sync_stats w;
	node_wal_stats(s->node, &w);
	struct buf b = BUF_INIT;
	buf_printf(&b,
		   "{\"cetcd\":{\"raft\":{\"term\":%" PRIu64 ",\"applied\":%" PRIu64
		   ",\"commit\":%" PRIu64 "},\"wal\":{\"batches\":%" PRIu64 ",\"entries\":%" PRIu64
		   ",\"rounds\":%" PRIu64 ",\"inline_rounds\":%" PRIu64 ",\"fsyncs\":%" PRIu64
		   ",\"max_group\":%" PRIu64 "}}}\n",
		   node_term(s->node), node_applied_index(s->node), node_commit_index(s->node),
		   w.batches, w.entries, w.rounds, w.inline_rounds, w.fsyncs, w.max_group);
	respond_json(r, MHD_HTTP_OK, &b);
}
