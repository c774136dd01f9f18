/* http_auth.c - /v2/auth/enable, /v2/auth/users, /v2/auth/roles (see
 * http_auth.h): etcd's order of checks is path, method, root access, body. */
#include "api/http_auth.h"

#include <stdlib.h>
#include <string.h>

#include "api/auth_crypt.h"
#include "api/auth_guard.h"
#include "api/auth_json.h"
#include "api/etcd_reply.h"
#include "api/routes.h"
#include "kv/auth.h"
#include "kv/command.h"
#include "kv/kv_parse.h"
#include "member/node.h"
#include "member/proposal.h"
#include "member/server.h"
#include "util/clock.h"
#include "util/xalloc.h"

enum auth_res {
	RES_ENABLE,
	RES_USERS,
	RES_USER,
	RES_ROLES,
	RES_ROLE
};

struct auth_req {
	enum auth_res res;
	char *name; /* RES_USER, RES_ROLE */
	struct auth_wait wait;
	struct auth_op op;    /* the change to propose */
	char *password;	      /* plain text, to hash before proposing */
	struct auth_job *job; /* hashing it */
	uint64_t proposal_id; /* waiting for the change to be applied */
};

static void auth_req_cleanup(struct http_req *r)
{
	struct auth_req *a = r->handler_ctx;
	auth_wait_cancel(&a->wait);
	auth_crypt_cancel(a->job);
	if (a->proposal_id)
		proposals_cancel(api_server(r)->props, a->proposal_id);
	free(a->name);
	if (a->password)
		explicit_bzero(a->password, strlen(a->password));
	free(a->password);
	a->op.name = NULL; /* a->name */
	auth_op_free(&a->op);
	free(a);
	r->handler_ctx = NULL;
}

static bool method_is(const struct http_req *r, const char *m)
{
	return strcmp(r->method, m) == 0;
}

static void respond_json(struct http_req *r, unsigned status, struct buf *b)
{
	http_respond(r, status, reply_from_buf(b, "application/json"));
}

static void respond_empty(struct http_req *r)
{
	http_respond(r, MHD_HTTP_OK, reply_from_text("", "application/json"));
}

/* etcd's writeError for a v2auth.Error: {"message":"auth: ..."}. */
static void reply_auth_error(struct http_req *r, unsigned status, const char *fmt, const char *name)
{
	struct buf m = BUF_INIT;
	buf_printf(&m, fmt, name);
	reply_message(r, status, m.data);
	buf_free(&m);
}

/* etcd's list and user GETs call r.ParseForm: a query Go's url.ParseQuery
 * refuses (a bad %-escape, a ';') is an error that is not etcd's own, so
 * 500. Returns false after answering. */
static bool query_ok(struct http_req *r)
{
	struct form f = {0};
	char *cause = NULL;
	form_parse(&f, r->query, strlen(r->query), &cause);
	form_free(&f);
	if (cause == NULL)
		return true;
	free(cause);
	reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error");
	return false;
}

/* ---- changes through the log ----------------------------------------------- */

static void change_done(void *ctx, struct store_event *ev, const struct store_error *err)
{
	struct http_req *r = ctx;
	struct auth_req *a = r->handler_ctx;
	a->proposal_id = 0;
	if (err == NULL || err->code < AUTH_REPLY_BASE) {
		/* the proposal failed (timeout, stopping): etcd's answer to an
		 * error that is not its own */
		reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error");
		return;
	}
	unsigned status = (unsigned)(err->code - AUTH_REPLY_BASE);
	if (status >= 300) {
		reply_message(r, status, err->cause ? err->cause : "");
		return;
	}
	const struct auth_state *st = api_server(r)->auth;
	struct buf b = BUF_INIT;
	switch (a->op.type) {
	case AUTH_OP_USER_CREATE:
	case AUTH_OP_USER_PUT:
	case AUTH_OP_USER_UPDATE: {
		const struct auth_user *u = auth_find_user(st, a->name, strlen(a->name));
		if (u)
			auth_json_user(&b, u);
		break;
	}
	case AUTH_OP_ROLE_CREATE:
	case AUTH_OP_ROLE_UPDATE: {
		const struct auth_role *ro = auth_find_role(st, a->name, strlen(a->name));
		if (ro)
			auth_json_role(&b, ro);
		break;
	}
	default:
		respond_empty(r);
		return;
	}
	buf_putc(&b, '\n');
	respond_json(r, status, &b);
}

static void propose_change(struct http_req *r)
{
	struct server *s = api_server(r);
	struct auth_req *a = r->handler_ctx;
	a->op.name = a->name;
	a->proposal_id =
		proposals_add(s->props, clock_mono_ms(), s->request_timeout_ms, change_done, r);
	struct buf payload = BUF_INIT;
	command_encode_auth(&payload, s->self_id, a->proposal_id, &a->op);
	if (node_propose(s->node, payload.data, payload.len) == 0) {
		http_suspend(r); /* answered by change_done once applied */
	} else {
		proposals_cancel(s->props, a->proposal_id);
		a->proposal_id = 0;
		reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error");
	}
	buf_free(&payload);
}

static void hashed(void *ctx, struct auth_job *job)
{
	struct http_req *r = ctx;
	struct auth_req *a = r->handler_ctx;
	a->job = NULL;
	if (auth_job_hash(job) == NULL) {
		reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error");
		return;
	}
	free(a->op.password);
	a->op.password = xstrdup(auth_job_hash(job));
	propose_change(r);
}

/* Hashes the new password (if any) on the worker, then proposes. */
static void hash_then_propose(struct http_req *r)
{
	struct auth_req *a = r->handler_ctx;
	if (a->password == NULL || a->password[0] == '\0') {
		propose_change(r);
		return;
	}
	a->job = auth_crypt_hash(api_server(r)->loop, a->password, hashed, r);
	if (a->job == NULL) {
		reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "Internal Server Error");
		return;
	}
	http_suspend(r);
}

/* ---- /v2/auth/enable ------------------------------------------------------- */

static void serve_enable(struct http_req *r, struct auth_req *a)
{
	if (method_is(r, "GET")) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "{\"enabled\":%s}\n",
			   api_server(r)->auth->enabled ? "true" : "false");
		respond_json(r, MHD_HTTP_OK, &b);
		return;
	}
	a->op.type = method_is(r, "PUT") ? AUTH_OP_ENABLE : AUTH_OP_DISABLE;
	propose_change(r);
}

/* ---- users ------------------------------------------------------------------ */

static void serve_users(struct http_req *r)
{
	if (!query_ok(r))
		return;
	const struct auth_state *st = api_server(r)->auth;
	size_t n;
	const char **names = auth_user_names(st, &n);
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"users\":");
	if (n == 0)
		buf_puts(&b, "null");
	for (size_t i = 0; i < n; i++) {
		buf_putc(&b, i ? ',' : '[');
		auth_json_user_with_roles(&b, st, auth_find_user(st, names[i], strlen(names[i])),
					  true, NULL);
	}
	buf_puts(&b, n ? "]}\n" : "}\n");
	free(names);
	respond_json(r, MHD_HTTP_OK, &b);
}

static void get_user(struct http_req *r, struct auth_req *a)
{
	const struct auth_state *st = api_server(r)->auth;
	const struct auth_user *u = auth_find_user(st, a->name, strlen(a->name));
	if (u == NULL) {
		reply_auth_error(r, MHD_HTTP_NOT_FOUND, "auth: User %s does not exist.", a->name);
		return;
	}
	if (!query_ok(r))
		return;
	struct buf b = BUF_INIT;
	const char *missing = NULL;
	if (auth_json_user_with_roles(&b, st, u, false, &missing) != 0) {
		buf_free(&b);
		reply_auth_error(r, MHD_HTTP_NOT_FOUND, "auth: Role %s does not exist.", missing);
		return;
	}
	buf_putc(&b, '\n');
	respond_json(r, MHD_HTTP_OK, &b);
}

static void move_list(struct auth_list *dst, struct auth_list *src)
{
	auth_list_free(dst);
	*dst = *src;
	*src = (struct auth_list){0};
}

/* etcd's forUser PUT: which change the body asks for. */
static void put_user(struct http_req *r, struct auth_req *a)
{
	struct auth_user_in in;
	if (auth_json_user_in(r->body.data, r->body.len, &in) != 0 || r->body_too_large) {
		auth_user_in_free(&in);
		reply_message(r, MHD_HTTP_BAD_REQUEST, "Invalid JSON in request body.");
		return;
	}
	if (strcmp(in.user, a->name) != 0) {
		auth_user_in_free(&in);
		reply_message(r, MHD_HTTP_BAD_REQUEST,
			      "User JSON name does not match the name in the URL");
		return;
	}
	if (in.grant.n == 0 && in.revoke.n == 0) {
		/* create (with roles), or create-or-update (without) */
		a->op.type = in.roles.n ? AUTH_OP_USER_CREATE : AUTH_OP_USER_PUT;
		move_list(&a->op.roles, &in.roles);
	} else {
		if (in.roles.n) {
			auth_user_in_free(&in);
			reply_message(r, MHD_HTTP_BAD_REQUEST,
				      "User JSON contains both roles and grant/revoke");
			return;
		}
		a->op.type = AUTH_OP_USER_UPDATE;
		move_list(&a->op.grant, &in.grant);
		move_list(&a->op.revoke, &in.revoke);
	}
	a->password = in.password;
	in.password = NULL;
	auth_user_in_free(&in);
	hash_then_propose(r);
}

static void serve_user(struct http_req *r, struct auth_req *a)
{
	if (method_is(r, "GET")) {
		get_user(r, a);
	} else if (method_is(r, "PUT")) {
		put_user(r, a);
	} else {
		a->op.type = AUTH_OP_USER_DELETE;
		propose_change(r);
	}
}

/* ---- roles ------------------------------------------------------------------ */

static void serve_roles(struct http_req *r)
{
	if (!query_ok(r))
		return;
	const struct auth_state *st = api_server(r)->auth;
	size_t n;
	const char **names = auth_role_names(st, &n);
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"roles\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ',');
		auth_json_role(&b, auth_find_role(st, names[i], strlen(names[i])));
	}
	buf_puts(&b, "]}\n");
	free(names);
	respond_json(r, MHD_HTTP_OK, &b);
}

static void move_perms(struct auth_perms *dst, struct auth_perms *src)
{
	move_list(&dst->read, &src->read);
	move_list(&dst->write, &src->write);
}

/* etcd's forRole PUT: create without grant/revoke, else update. */
static void put_role(struct http_req *r, struct auth_req *a)
{
	struct auth_role_in in;
	if (auth_json_role_in(r->body.data, r->body.len, &in) != 0 || r->body_too_large) {
		auth_role_in_free(&in);
		reply_message(r, MHD_HTTP_BAD_REQUEST, "Invalid JSON in request body.");
		return;
	}
	if (strcmp(in.role, a->name) != 0) {
		auth_role_in_free(&in);
		reply_message(r, MHD_HTTP_BAD_REQUEST,
			      "Role JSON name does not match the name in the URL");
		return;
	}
	bool grant_empty = !in.has_grant || auth_perms_empty(&in.grant);
	bool revoke_empty = !in.has_revoke || auth_perms_empty(&in.revoke);
	if (grant_empty && revoke_empty) {
		a->op.type = AUTH_OP_ROLE_CREATE;
		move_perms(&a->op.perms, &in.perms);
	} else if (!auth_perms_empty(&in.perms)) {
		auth_role_in_free(&in);
		reply_message(r, MHD_HTTP_BAD_REQUEST,
			      "Role JSON contains both permissions and grant/revoke");
		return;
	} else {
		a->op.type = AUTH_OP_ROLE_UPDATE;
		a->op.has_grant = in.has_grant;
		a->op.has_revoke = in.has_revoke;
		move_perms(&a->op.grant_perms, &in.grant);
		move_perms(&a->op.revoke_perms, &in.revoke);
	}
	auth_role_in_free(&in);
	propose_change(r);
}

static void serve_role(struct http_req *r, struct auth_req *a)
{
	if (method_is(r, "GET")) {
		const struct auth_state *st = api_server(r)->auth;
		const struct auth_role *ro = auth_find_role(st, a->name, strlen(a->name));
		if (ro == NULL) {
			reply_auth_error(r, MHD_HTTP_NOT_FOUND, "auth: Role %s does not exist.",
					 a->name);
			return;
		}
		struct buf b = BUF_INIT;
		auth_json_role(&b, ro);
		buf_putc(&b, '\n');
		respond_json(r, MHD_HTTP_OK, &b);
	} else if (method_is(r, "PUT")) {
		put_role(r, a);
	} else {
		a->op.type = AUTH_OP_ROLE_DELETE;
		propose_change(r);
	}
}

/* ---- entry points ----------------------------------------------------------- */

/* After the method check: root access (GET of /enable is free: etcd's
 * hasWriteRootAccess), then the answer, with the cluster id on it. */
static void after_guard(struct http_req *r)
{
	struct auth_req *a = r->handler_ctx;
	enum auth_verdict v = AUTH_ALLOW;
	if (!(a->res == RES_ENABLE && method_is(r, "GET")))
		v = auth_guard_root(r, &a->wait, after_guard);
	if (v == AUTH_WAIT)
		return;
	if (v == AUTH_DENY) {
		reply_message(r, MHD_HTTP_UNAUTHORIZED, "Insufficient credentials");
		return;
	}
	r->add_headers = reply_cluster_id;
	switch (a->res) {
	case RES_ENABLE:
		serve_enable(r, a);
		break;
	case RES_USERS:
		serve_users(r);
		break;
	case RES_USER:
		serve_user(r, a);
		break;
	case RES_ROLES:
		serve_roles(r);
		break;
	case RES_ROLE:
		serve_role(r, a);
		break;
	}
}

static bool method_allowed(const struct http_req *r, const char *allow)
{
	size_t n = strlen(r->method);
	for (const char *p = allow; (p = strstr(p, r->method)) != NULL; p += n)
		if ((p == allow || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
}

static void start(struct http_req *r, enum auth_res res, const char *name)
{
	const char *allow = res == RES_USERS || res == RES_ROLES ? "GET" : "GET,PUT,DELETE";
	if (!method_allowed(r, allow)) {
		reply_method_not_allowed(r, allow);
		return;
	}
	struct auth_req *a = xcalloc(1, sizeof(*a));
	a->res = res;
	a->name = name ? xstrdup(name) : NULL;
	r->handler_ctx = a;
	r->cleanup = auth_req_cleanup;
	after_guard(r);
}

void http_auth_enable(struct http_req *r)
{
	start(r, RES_ENABLE, NULL);
}

/* etcd's handleUsers/handleRoles: the path after /v2/auth/<what> is empty
 * (the list), one name, or "Invalid path" (before any other check). */
static void serve_collection(struct http_req *r, const char *prefix, enum auth_res list,
			     enum auth_res one)
{
	const char *rest = r->path + strlen(prefix);
	while (*rest == '/')
		rest++;
	size_t n = strlen(rest);
	while (n > 0 && rest[n - 1] == '/')
		n--;
	if (n == 0) {
		start(r, list, NULL);
		return;
	}
	if (memchr(rest, '/', n) != NULL) {
		reply_message(r, MHD_HTTP_BAD_REQUEST, "Invalid path");
		return;
	}
	char *name = xstrndup(rest, n);
	start(r, one, name);
	free(name);
}

void http_auth_users(struct http_req *r)
{
	serve_collection(r, "/v2/auth/users", RES_USERS, RES_USER);
}

void http_auth_roles(struct http_req *r)
{
	serve_collection(r, "/v2/auth/roles", RES_ROLES, RES_ROLE);
}
