/* http_keys.c - /v2/keys: GET/HEAD are served from the local store; PUT,
 * POST and DELETE become proposals that are answered once applied; wait=true
 * hands over to http_watch.c. */
#include "api/http_keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/xalloc.h"
#include "kv/command.h"
#include "api/auth_guard.h"
#include "api/etcd_reply.h"
#include "api/keys_stats.h"
#include "api/routes.h"
#include "kv/kv_parse.h"
#include "member/node.h"
#include "member/proposal.h"
#include "member/server.h"
#include "kv/store.h"
#include "kv/v2err.h"

struct keys_ctx {
	struct kv_request kv;
	struct form form;
	uint64_t proposal_id;  /* 0 when nothing is pending */
	uint64_t read_id;      /* quorum read waiting for its ReadIndex, or 0 */
	struct auth_wait auth; /* waiting for a password check (auth on) */
	uint64_t counted_us;   /* keys_stats: when a counted request arrived, or 0 */
};

static void keys_cleanup(struct http_req *r)
{
	struct keys_ctx *k = r->handler_ctx;
	auth_wait_cancel(&k->auth);
	if (k->counted_us && r->responded)
		keys_stats_done(keys_stats_method_of(r->method, k->kv.quorum), r->status,
				(double)(clock_mono_us() - k->counted_us) / 1e6);
	if (k->proposal_id)
		proposals_cancel(api_server(r)->props, k->proposal_id);
	if (k->read_id)
		node_read_cancel(api_server(r)->node, k->read_id);
	kv_request_free(&k->kv);
	form_free(&k->form);
	free(k);
	r->handler_ctx = NULL;
}

static bool method_is(const struct http_req *r, const char *m)
{
	return strcmp(r->method, m) == 0;
}

/* The route admits these methods only (routes.c). */
static enum kv_method kv_method_of(const struct http_req *r)
{
	if (method_is(r, "GET"))
		return KV_GET;
	if (method_is(r, "HEAD"))
		return KV_HEAD;
	if (method_is(r, "PUT"))
		return KV_PUT;
	if (method_is(r, "POST"))
		return KV_POST;
	return KV_DELETE;
}

/* Body pairs first, then the query (Go: body values win). */
static int parse_form(struct http_req *r, struct form *f)
{
	char *cause = NULL;
	if (r->body_too_large) {
		reply_v2_error(r, V2E_INVALID_FORM, "http: POST too large", 0);
		return -1;
	}
	if (r->body_wanted && r->body.len > 0)
		form_parse(f, r->body.data, r->body.len, &cause);
	char *qcause = NULL;
	form_parse(f, r->query, strlen(r->query), &qcause);
	if (cause == NULL)
		cause = qcause;
	else
		free(qcause);
	if (cause) {
		reply_v2_error(r, V2E_INVALID_FORM, cause, 0);
		free(cause);
		return -1;
	}
	return 0;
}

/* ---- reads ------------------------------------------------------------ */

static void serve_get(struct http_req *r, const struct kv_request *kv)
{
	struct store *st = api_server(r)->store;
	struct buf b = BUF_INIT;
	struct store_error err = {0};
	if (store_get(st, kv->path, kv->recursive, kv->sorted, clock_wall_ns(), &b, &err) != 0) {
		buf_free(&b);
		reply_store_error(r, &err);
		store_error_clear(&err);
		return;
	}
	struct MHD_Response *resp = reply_from_buf(&b, "application/json");
	reply_etcd_headers(r, resp, store_index(st));
	http_respond(r, MHD_HTTP_OK, resp);
}

/* quorum=true: served once this member applied everything committed when
 * the read arrived (ReadIndex; nothing is written to the log). */
static void quorum_read_done(void *ctx, int status)
{
	struct http_req *r = ctx;
	struct keys_ctx *k = r->handler_ctx;
	k->read_id = 0;
	if (status != 0) {
		reply_v2_error(r, V2E_RAFT_INTERNAL, "etcdserver: request timed out", 0);
		return;
	}
	serve_get(r, &k->kv);
}

static void serve_quorum_get(struct http_req *r, struct keys_ctx *k)
{
	k->read_id = node_read(api_server(r)->node, quorum_read_done, r);
	if (k->read_id != 0)
		http_suspend(r);
}

/* ---- writes ----------------------------------------------------------- */

static bool is_value_action(enum store_action a)
{
	return a == ACT_SET || a == ACT_CAS || a == ACT_CREATE || a == ACT_UPDATE;
}

static void write_done(void *ctx, struct store_event *ev, const struct store_error *err)
{
	struct http_req *r = ctx;
	struct keys_ctx *k = r->handler_ctx;
	k->proposal_id = 0;
	if (err) {
		reply_store_error(r, err);
		return;
	}
	struct buf b = BUF_INIT;
	if (k->kv.no_value_on_success && is_value_action(ev->action))
		buf_printf(&b, "{\"action\":\"%s\"}\n", store_action_name(ev->action));
	else
		buf_append(&b, ev->json, ev->json_len);
	bool created = ev->action == ACT_CREATE || (ev->action == ACT_SET && !ev->has_prev);
	struct MHD_Response *resp = reply_from_buf(&b, "application/json");
	reply_etcd_headers(r, resp, ev->index);
	http_respond(r, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, resp);
}

/* --max-request-bytes: the bytes a write carries (key, value, prevValue)
 * must fit. etcd 3.4 enforces the flag on v3 requests only; cetcd holds v2
 * writes to it too, with etcd v3's words (doc/api-compat.md). */
static bool write_too_large(struct http_req *r, const struct store_write *w)
{
	uint64_t max = api_server(r)->opts.max_request_bytes;
	uint64_t n = (uint64_t)strlen(w->path) + store_write_value_len(w) +
		     store_write_prev_value_len(w);
	if (max == 0 || n <= max)
		return false;
	reply_v2_error(r, V2E_INVALID_FORM, "etcdserver: request is too large", 0);
	return true;
}

/* --v2-quota-bytes: decided here, before the proposal, on the member the
 * client asked, from its applied store (kv/store.c accounts the size). A
 * refused write never enters the log, so the members never disagree on it;
 * writes in flight may overshoot the quota by what they carry (each at most
 * --max-request-bytes), as etcd v3's own quota check before proposing. */
static bool over_quota(struct http_req *r, const struct store_write *w)
{
	struct server *s = api_server(r);
	uint64_t quota = s->opts.v2_quota_bytes;
	if (quota == 0)
		return false;
	int64_t growth = store_write_growth(s->store, w);
	uint64_t used = store_bytes(s->store);
	if (growth <= 0 || used + (uint64_t)growth <= quota)
		return false;
	char cause[160];
	snprintf(cause, sizeof(cause),
		 "the store holds %" PRIu64 " bytes, the write adds %" PRId64
		 ", the quota is %" PRIu64,
		 used, growth, quota);
	reply_v2_error(r, V2E_STORE_QUOTA, cause, store_index(s->store));
	return true;
}

static void propose_write(struct http_req *r, struct keys_ctx *k)
{
	if (write_too_large(r, &k->kv.write) || over_quota(r, &k->kv.write))
		return;
	struct server *s = api_server(r);
	struct buf payload = BUF_INIT;
	k->proposal_id =
		proposals_add(s->props, clock_mono_ms(), s->request_timeout_ms, write_done, r);
	command_encode_write(&payload, s->self_id, k->proposal_id, &k->kv.write);
	if (node_propose(s->node, payload.data, payload.len) == 0) {
		http_suspend(r); /* answered by write_done once applied */
	} else {
		proposals_cancel(s->props, k->proposal_id);
		k->proposal_id = 0;
		reply_v2_error(r, V2E_RAFT_INTERNAL, "etcdserver: no leader", 0);
	}
	buf_free(&payload);
}

/* A %00 in the request path decodes to a NUL byte inside the key. */
static bool path_has_nul(const struct http_req *r)
{
	const char *q = strchr(r->uri, '?');
	size_t n = q ? (size_t)(q - r->uri) : strlen(r->uri);
	for (size_t i = 0; i + 2 < n; i++)
		if (r->uri[i] == '%' && r->uri[i + 1] == '0' && r->uri[i + 2] == '0')
			return true;
	return false;
}

/* ---- watches ---------------------------------------------------------- */

static void watch_cleanup(struct http_req *r)
{
	http_watch_free(r, r->handler_ctx);
	r->handler_ctx = NULL;
}

/* A watcher may wait for hours: the request keeps only the watch's state. */
static void start_watch(struct http_req *r, struct keys_ctx *k)
{
	struct watch_state *w = http_watch_start(r, &k->kv);
	keys_cleanup(r);
	r->handler_ctx = w;
	r->cleanup = w ? watch_cleanup : NULL;
}

/* ---- entry point ------------------------------------------------------ */

static void keys_authorized(struct http_req *r);

void http_keys_handle(struct http_req *r)
{
	enum kv_method m = kv_method_of(r);
	struct keys_ctx *k = xcalloc(1, sizeof(*k));
	r->handler_ctx = k;
	r->cleanup = keys_cleanup;
	if (parse_form(r, &k->form) != 0)
		return;
	struct store_error err = {0};
	const char *key_path = r->path + strlen("/v2/keys");
	if (path_has_nul(r)) {
		/* keys are C strings here: refuse rather than cut the key short */
		reply_v2_error(r, V2E_INVALID_FORM, "cetcd does not support NUL bytes in keys", 0);
		return;
	}
	if (kv_parse(&k->kv, m, key_path, &k->form, &err) != 0) {
		reply_store_error(r, &err);
		store_error_clear(&err);
		return;
	}
	keys_authorized(r);
}

/* With auth on, the key (as it follows /v2/keys in the path) must be
 * readable or writable by the request's user (etcd checks after parsing);
 * then the request is served. Runs again when a password check ends. */
static void keys_authorized(struct http_req *r)
{
	struct keys_ctx *k = r->handler_ctx;
	enum kv_method m = k->kv.method;
	bool write = m != KV_GET && m != KV_HEAD;
	switch (auth_guard_key(r, r->path + strlen("/v2/keys"), k->kv.recursive, write, &k->auth,
			       keys_authorized)) {
	case AUTH_WAIT:
		return;
	case AUTH_DENY:
		reply_v2_error(r, V2E_UNAUTHORIZED, "Insufficient credentials", 0);
		return;
	case AUTH_ALLOW:
		break;
	}
	if (m == KV_GET && k->kv.wait && !k->kv.quorum) {
		start_watch(r, k);
		return;
	}
	keys_stats_received(keys_stats_method_of(r->method, k->kv.quorum));
	k->counted_us = clock_mono_us();
	if ((m == KV_GET || m == KV_HEAD) && k->kv.quorum)
		serve_quorum_get(r, k);
	else if (m == KV_GET || m == KV_HEAD)
		serve_get(r, &k->kv);
	else
		propose_write(r, k);
}
