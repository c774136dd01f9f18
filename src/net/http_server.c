/* http_server.c - the listeners and MHD daemons in cetcd's loop, the
 * per-request lifecycle and routing through the caller's route table (see
 * http_server.h).
 *
 * Listeners are our own sockets: the loop accepts and hands each connection
 * to one of several MHD daemons ("shards", at most SHARD_CONNS connections
 * each), because MHD walks all of a daemon's suspended connections whenever
 * one is resumed. Past the server's connection cap a new connection is
 * refused at accept (http_server_limit_conns). On a service with
 * big_head_memory a plain-HTTP connection waits for its first bytes, and one
 * whose request head is long goes to a "big" shard (long request heads). https:// listeners hand theirs to TLS shards (libmicrohttpd
 * with GnuTLS: it runs the handshakes, non-blocking like everything else);
 * with client certificate authentication the handshake itself refuses a
 * client without a certificate from the trusted CA (tls.c).
 *
 * Lifecycle of a request, as MHD drives it:
 *   uri_log_cb        request line seen: allocate struct http_req (raw URI)
 *   access_cb #1      headers seen: parse the target, find the route, decide
 *                     whether to collect the body
 *   access_cb #2..n   body chunks: append (bounded)
 *   access_cb final   answer what the edge answers itself (400, 301, 404,
 *                     OPTIONS, 405), else run the route's handler; it answers
 *                     now, or suspends and answers later through http_respond()
 *   access_cb again   after a resume: queue the stored answer
 *   completed_cb      run the handler's cleanup, free the request
 */
#include "net/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_hangup.h"
#include "net/http_reply.h"
#include "net/loop.h"
#include "net/tcp_push.h"
#include "net/tls.h"
#include "util/clock.h"
#include "util/goparse.h"
#include "util/url_escape.h"
#include "util/log.h"
#include "util/url.h"
#include "util/xalloc.h"

/* An https:// answer whose body is at most this long leaves as one TLS
 * record (hold_tls_answer). */
#define TLS_ONE_RECORD 8192

struct shard {
	struct http_server *owner;
	bool tls; /* serves the https:// listeners */
	bool big; /* its pool takes a long request head (svc->big_head_memory) */
	struct MHD_Daemon *mhd;
	struct loop_fd *watch; /* MHD's epoll fd in the loop */
	unsigned conns;	       /* open connections */
	unsigned work;	       /* resumed or new connections since its last run */
	bool owed;	       /* on owner->owed: MHD_run before the loop sleeps */
	struct shard *next_owed;
	struct tls_conn **held; /* TLS: connections with an answer held (tls.h) */
	size_t n_held, cap_held;
	struct tls_conn **tconns; /* TLS: all its connections */
	size_t n_tconns, cap_tconns;
	bool idle;	     /* TLS: its last run did nothing (see shards_timeout) */
	uint64_t idle_at_ms; /* when that run ended */
};

struct listener {
	struct http_server *owner;
	int fd;
	bool tls; /* https:// */
	struct loop_fd *watch;
	bool paused; /* out of descriptors: not accepting */
	uint64_t paused_at_ms;
};

struct http_server {
	struct loop *loop;
	const struct http_service *svc;
	void *ctx;		/* every request's r->ctx */
	struct tls_server *tls; /* the https:// listeners' material, or NULL */
	struct listener *listeners;
	size_t n_listeners;
	struct shard **shards;
	size_t n_shards, cap_shards;
	struct shard *owed;	       /* shards with resumed or new connections */
	struct list suspended;	       /* http_req.susp_link; resumed before the daemons stop */
	bool stopping;		       /* http_server_free: no more suspends (a waiting
				 * watch would suspend again in the last MHD_run) */
	struct hangup_set *hangups;    /* made at the first http_watch_hangup */
	size_t conns;		       /* open connections, all shards */
	size_t waiting;		       /* accepted, not yet placed (struct waiting_conn) */
	size_t big_conns;	       /* open connections on big shards */
	struct list waiting_list;      /* struct waiting_conn.link */
	int waiting_ep;		       /* their epoll set (made at the first), or -1 */
	struct loop_fd *waiting_watch; /* waiting_ep in the loop */
	size_t conn_limit;	       /* refuse new ones at this many; 0 = no cap */
	uint64_t refused;	       /* connections refused at the cap */
	uint64_t refused_logged_ms;    /* last warning about it */
	uint8_t *reused;	       /* by fd: a request completed on the connection */
	size_t reused_cap;
	struct tcp_pusher *pusher; /* lifts the holds (made at the first), or NULL */
	bool pusher_tried;
};

static void owe_run(struct shard *s);
static void flush_answer(struct http_req *r);
static void listener_unpause(struct listener *l);
static void listeners_unpause(struct http_server *h);

/* ---- request lifecycle ------------------------------------------------ */

static const struct http_service *service_of(const struct http_req *r)
{
	return r->shard->owner->svc;
}

/* Grows with every MHD callback: with tls_io_progress, whether a daemon's
 * run did anything (shards_timeout). */
static uint64_t callbacks;

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	callbacks++;
	struct http_req *r = xcalloc(1, sizeof(*r));
	struct shard *s = cls;
	r->ctx = s->owner->ctx;
	r->shard = s;
	r->query = "";
	r->hangup_fd = -1;
	r->held_fd = -1;
	r->conn = conn;
	r->uri = xstrdup(uri ? uri : "/");
	return r;
}

/* ---- output held for a long poll (http_hold_output) -------------------- */

static int conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

/* Whether a request has completed on the plain-HTTP connection on fd. */
static void mark_reused(struct http_server *h, int fd, bool reused)
{
	if (fd < 0)
		return;
	if ((size_t)fd >= h->reused_cap) {
		if (!reused)
			return; /* absent reads as false */
		size_t cap = h->reused_cap ? h->reused_cap : 1024;
		while (cap <= (size_t)fd)
			cap *= 2;
		h->reused = xrealloc(h->reused, cap);
		memset(h->reused + h->reused_cap, 0, cap - h->reused_cap);
		h->reused_cap = cap;
	}
	h->reused[fd] = reused;
}

/* MHD 0.9.75 tracks TCP_CORK itself: on a socket it added from outside it
 * does not know the state until its second pushed send, and until then it
 * uncorks after each pushed send. From then on it believes the socket
 * uncorked and leaves it alone, so a cork of ours holds everything MHD
 * writes until we lift it. A request on a reused connection has had at
 * least two pushed sends before its body (the earlier reply and its own
 * headers); the first request's long poll has had one (its headers), and a
 * second once its first chunk is out (mhd_pushed). */
bool http_hold_output(struct http_req *r, bool mhd_pushed)
{
	if (r->held_fd >= 0)
		return true;
	struct http_server *h = r->shard->owner;
	if (r->shard->tls)
		return false;
	int fd = conn_fd(r->conn);
	if (fd < 0 || (!mhd_pushed && ((size_t)fd >= h->reused_cap || !h->reused[fd])))
		return false;
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)) != 0)
		return false;
	r->held_fd = fd;
	return true;
}

/* Lifts the hold on the pusher thread (tcp_push.h): the delivery's cost
 * leaves the loop. Inline if the thread cannot be had. */
void http_push_output(struct http_req *r)
{
	if (r->held_fd < 0)
		return;
	struct http_server *h = r->shard->owner;
	if (!h->pusher_tried) {
		h->pusher_tried = true;
		h->pusher = tcp_pusher_new();
	}
	if (h->pusher != NULL) {
		tcp_pusher_push(h->pusher, r->held_fd);
	} else {
		int zero = 0;
		(void)setsockopt(r->held_fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	}
	r->held_fd = -1;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *req_cls;
	callbacks++;
	if (r == NULL)
		return;
	http_push_output(r); /* what MHD writes next follows it, held or not */
	if (!r->shard->tls && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		mark_reused(r->shard->owner, conn_fd(conn), true);
	http_resume(r); /* unlinks; MHD never completes a suspended request */
	http_unwatch_hangup(r);
	if (r->shard->tls)
		flush_answer(r);
	if (r->cleanup)
		r->cleanup(r);
	if (r->resp)
		MHD_destroy_response(r->resp);
	free(r->client_cn);
	buf_free(&r->body);
	free(r->clean_path);
	free(r->path);
	free(r->uri);
	free(r);
	*req_cls = NULL;
}

void http_suspend(struct http_req *r)
{
	if (r->suspended)
		return;
	struct http_server *h = r->shard->owner;
	if (h->stopping)
		return;
	r->suspended = true;
	list_add_tail(&h->suspended, &r->susp_link);
	MHD_suspend_connection(r->conn);
}

void http_resume(struct http_req *r)
{
	if (!r->suspended)
		return;
	r->suspended = false;
	list_del(&r->susp_link);
	MHD_resume_connection(r->conn);
	owe_run(r->shard);
}

bool http_watch_hangup(struct http_req *r, http_handler_fn on_hangup)
{
	struct http_server *h = r->shard->owner;
	if (r->hangup_fd >= 0) {
		r->on_hangup = on_hangup;
		return true;
	}
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || ci->connect_fd < 0)
		return false;
	if (h->hangups == NULL)
		h->hangups = hangup_set_new(h->loop);
	if (h->hangups == NULL || !hangup_set_add(h->hangups, r, ci->connect_fd))
		return false;
	r->hangup_fd = ci->connect_fd;
	r->on_hangup = on_hangup;
	return true;
}

void http_unwatch_hangup(struct http_req *r)
{
	if (r->hangup_fd < 0)
		return;
	hangup_set_del(r->shard->owner->hangups, r, r->hangup_fd);
	r->hangup_fd = -1;
	r->on_hangup = NULL;
}

static void shard_run(struct shard *s);

/* A resumed long poll takes MHD four passes: its chunk is built, sent, then
 * the last chunk, then the keep-alive reset reads nothing. So a shard that
 * still has work it can do at once runs again right away (up to
 * SHARD_PASSES in all): a shard's watchers are answered before the next
 * shard starts, instead of every shard's first step before anyone's second
 * (which put the median of a 10,000-watcher fan-out at 3/4 of the last). */
#define SHARD_PASSES 4

static void shard_drain(struct shard *s)
{
	shard_run(s);
	for (int i = 1; i < SHARD_PASSES; i++) {
		MHD_UNSIGNED_LONG_LONG ms;
		if (MHD_get_timeout(s->mhd, &ms) != MHD_YES || ms != 0)
			return;
		shard_run(s);
	}
}

/* The owed shard with the fewest connections to serve comes off the list
 * first: a writer's reply on a shard with little to do is not queued behind
 * a shard of 512 woken watchers, and shortest first gives the lowest mean
 * (and median) wait of a fan-out. */
static struct shard *take_lightest(struct http_server *h)
{
	struct shard **best = &h->owed;
	for (struct shard **p = &h->owed->next_owed; *p; p = &(*p)->next_owed)
		if ((*p)->work < (*best)->work)
			best = p;
	struct shard *s = *best;
	*best = s->next_owed;
	s->owed = false;
	s->work = 0;
	return s;
}

/* MHD's rule for external polling: after a resume, run the daemon before
 * polling again, or the connection may sit until unrelated traffic. Only the
 * shards that resumed (or took) a connection run. */
void http_server_flush(struct http_server *h)
{
	if (h == NULL)
		return;
	while (h->owed)
		shard_drain(take_lightest(h));
	uint64_t now = 0;
	for (size_t i = 0; i < h->n_listeners; i++) {
		struct listener *l = &h->listeners[i];
		if (!l->paused)
			continue;
		now = now ? now : clock_mono_ms();
		if (now - l->paused_at_ms >= 100)
			listener_unpause(l);
	}
}

void http_respond(struct http_req *r, unsigned status, struct MHD_Response *resp)
{
	const struct http_service *svc = service_of(r);
	for (size_t i = 0; i < svc->n_headers; i++)
		MHD_add_response_header(resp, svc->headers[i].name, svc->headers[i].value);
	if (r->close_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (r->add_headers)
		r->add_headers(r, resp);
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->resp_short = reply_body_len(resp) <= TLS_ONE_RECORD;
	r->status = status;
	r->responded = true;
	http_resume(r);
}

void http_abandon(struct http_req *r)
{
	if (r->responded) {
		http_resume(r);
		return;
	}
	r->close_after = true;
	http_respond(r, MHD_HTTP_SERVICE_UNAVAILABLE, reply_from_text("", NULL));
}

static void hold_tls_answer(struct http_req *r, const char *version);

static enum MHD_Result queue_stored(struct http_req *r, const char *version)
{
	if (r->shard->tls)
		hold_tls_answer(r, version);
	struct MHD_Response *resp = r->resp;
	r->resp = NULL;
	enum MHD_Result ok = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

/* ---- body ------------------------------------------------------------- */

/* Go parses a form body only for POST/PUT/PATCH with this media type. */
static bool is_form_post(struct http_req *r)
{
	if (strcmp(r->method, "POST") != 0 && strcmp(r->method, "PUT") != 0 &&
	    strcmp(r->method, "PATCH") != 0)
		return false;
	const char *ct =
		MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	static const char form[] = "application/x-www-form-urlencoded";
	size_t n = sizeof(form) - 1;
	if (strncasecmp(ct, form, n) != 0)
		return false;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t';
}

static void take_body(struct http_req *r, const char *data, size_t len)
{
	if (!r->body_wanted || r->body_too_large)
		return;
	if (r->body.len + len > service_of(r)->max_body) {
		r->body_too_large = true;
		r->close_after = true; /* as Go's server after a refused body */
		buf_free(&r->body);
		return;
	}
	buf_append(&r->body, data, len);
}

/* ---- request framing (what Go's server refuses before any handler) ----- */

struct framing {
	int content_lengths; /* distinct Content-Length values seen */
	char first_length[32];
	bool nul_in_header;
	bool bad_transfer_encoding;
};

static enum MHD_Result check_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    size_t key_size, const char *value, size_t value_size)
{
	struct framing *f = cls;
	if (value && strlen(value) != value_size)
		f->nul_in_header = true;
	if (key && strcasecmp(key, "Content-Length") == 0 && value) {
		if (f->content_lengths == 0)
			snprintf(f->first_length, sizeof(f->first_length), "%s", value);
		if (f->content_lengths == 0 || strcmp(f->first_length, value) != 0)
			f->content_lengths++;
	}
	if (key && strcasecmp(key, "Transfer-Encoding") == 0 && value &&
	    strcasecmp(value, "chunked") != 0 && strcasecmp(value, "identity") != 0)
		f->bad_transfer_encoding = true;
	return MHD_YES;
}

static void reply_framing_error(struct http_req *r, unsigned status, const char *text)
{
	struct MHD_Response *resp = reply_from_text(text, "text/plain; charset=utf-8");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	r->resp = resp;
	r->status = status;
	r->dispatched = true;
}

/* Conflicting Content-Length headers (request smuggling), NUL bytes in a
 * header, or a transfer coding other than chunked: refused, connection
 * closed, as Go's server does. Returns true when an answer is stored. */
static bool refuse_bad_framing(struct http_req *r)
{
	struct framing f = {0};
	MHD_get_connection_values_n(r->conn, MHD_HEADER_KIND, check_header, &f);
	if (f.bad_transfer_encoding)
		reply_framing_error(r, MHD_HTTP_NOT_IMPLEMENTED, "Unsupported transfer encoding");
	else if (f.content_lengths > 1 || f.nul_in_header)
		reply_framing_error(r, MHD_HTTP_BAD_REQUEST, "400 Bad Request");
	else
		return false;
	return true;
}

/* ---- the request target ----------------------------------------------- */

/* "GET http://host/v2/keys/a" (absolute form, as sent to proxies): Go
 * serves the path part. */
static void strip_absolute_form(struct http_req *r)
{
	const char *p = r->uri;
	if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else
		return;
	const char *path = strchr(p, '/');
	memmove(r->uri, path ? path : "/", strlen(path ? path : "/") + 1);
}

/* Splits the target into the decoded path and the raw query. r->path stays
 * NULL when the target is not a path (Go rejects it) or does not decode;
 * r->clean_path is set when Go's ServeMux would redirect (never for CONNECT). */
static void parse_target(struct http_req *r)
{
	strip_absolute_form(r);
	if (r->uri[0] != '/')
		return;
	char *q = strchr(r->uri, '?');
	size_t plen = q ? (size_t)(q - r->uri) : strlen(r->uri);
	r->query = q ? q + 1 : "";
	r->path = url_path_unescape(r->uri, plen);
	if (r->path == NULL || strcmp(r->method, "CONNECT") == 0)
		return;
	char *clean = url_clean_path(r->path);
	if (strcmp(clean, r->path) != 0)
		r->clean_path = clean;
	else
		free(clean);
}

static bool route_matches(const struct http_route *route, const char *path)
{
	size_t n = strlen(route->path);
	if (strncmp(path, route->path, n) != 0)
		return false;
	return path[n] == '\0' || ((route->flags & HTTP_PREFIX) && path[n] == '/');
}

static const struct http_route *find_route(const struct http_service *svc, const char *path)
{
	for (size_t i = 0; i < svc->n_routes; i++)
		if (route_matches(&svc->routes[i], path))
			return &svc->routes[i];
	return NULL;
}

/* At the request headers: the route (if the path is servable) and whether
 * the body is to be kept. */
static void route_request(struct http_req *r)
{
	const struct http_service *svc = service_of(r);
	parse_target(r);
	if (r->path != NULL && r->clean_path == NULL)
		r->route = find_route(svc, r->path);
	r->body_wanted = (r->route && (r->route->flags & HTTP_BODY)) ||
			 (svc->form_bodies && is_form_post(r));
}

/* ---- what the edge answers itself --------------------------------------- */

static void reply_bad_request(struct http_req *r)
{
	struct MHD_Response *resp = reply_from_text("400 Bad Request", "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Connection", "close");
	http_respond(r, MHD_HTTP_BAD_REQUEST, resp);
}

/* Go's ServeMux answers an unclean path with 301 to the clean one. */
static void reply_redirect(struct http_req *r)
{
	char *esc = url_escape_path(r->clean_path);
	struct buf loc = BUF_INIT;
	buf_puts(&loc, esc);
	if (*r->query) {
		buf_putc(&loc, '?');
		buf_puts(&loc, r->query);
	}
	/* Go's http.Redirect writes a small HTML body for GET and HEAD only */
	struct buf body = BUF_INIT;
	bool html = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	if (html)
		buf_printf(&body, "<a href=\"%s\">Moved Permanently</a>.\n\n", loc.data);
	struct MHD_Response *resp = reply_from_buf(&body, html ? "text/html; charset=utf-8" : NULL);
	MHD_add_response_header(resp, "Location", loc.data);
	buf_free(&loc);
	free(esc);
	http_respond(r, MHD_HTTP_MOVED_PERMANENTLY, resp);
}

/* methods is a comma-separated list such as "GET,HEAD". */
static bool method_listed(const char *methods, const char *method)
{
	size_t n = strlen(method);
	for (const char *p = methods; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && strncmp(p, method, n) == 0)
			return true;
		p += len + (e ? 1 : 0);
	}
	return false;
}

static void dispatch(struct http_req *r)
{
	const struct http_service *svc = service_of(r);
	if (r->path == NULL) {
		reply_bad_request(r);
		return;
	}
	if (r->clean_path != NULL) {
		reply_redirect(r);
		return;
	}
	r->add_headers = svc->add_headers;
	const struct http_route *route = r->route;
	if (route == NULL)
		reply_plain(r, MHD_HTTP_NOT_FOUND, "404 page not found");
	else if (svc->answer_options && strcmp(r->method, "OPTIONS") == 0)
		http_respond(r, MHD_HTTP_OK, reply_from_text("", NULL));
	else if (route->methods && !method_listed(route->methods, r->method))
		reply_method_not_allowed(r, route->methods);
	else
		route->handler(r);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **req_cls)
{
	struct http_req *r = *req_cls;
	callbacks++;
	if (r == NULL)
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		r->method = method;
		if (refuse_bad_framing(r))
			return queue_stored(r, version);
		route_request(r);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!r->dispatched) {
		r->dispatched = true;
		dispatch(r);
	}
	if (r->resp && !r->suspended)
		return queue_stored(r, version);
	return MHD_YES;
}

/* ---- shards: the MHD daemons ---------------------------------------- */

/* MHD walks every suspended connection of a daemon whenever one of them is
 * resumed, and every parked write suspends. So connections are spread over
 * daemons ("shards") of at most SHARD_CONNS each: a resume costs a walk over
 * its own shard only, however many idle watchers the other shards hold. */
#define SHARD_CONNS 512

static void owe_run(struct shard *s)
{
	s->work++;
	if (s->owed)
		return;
	s->owed = true;
	s->next_owed = s->owner->owed;
	s->owner->owed = s;
}

/* ---- TLS answers in one record ----------------------------------------- */

/* MHD writes an answer's head and body as two TLS records (and the client
 * reads four times). A short answer on a connection that stays open is
 * held in GnuTLS instead (tls_conn_hold) and leaves as one record when MHD
 * is done with it (completed_cb) or, at the latest, when the daemon's run
 * ends. Only short answers: MHD hands GnuTLS a whole body at once. Only
 * when the connection stays open: a record still held when MHD closes
 * would be lost (held data waits only while the socket is full, and is
 * sent when MHD's epoll reports it writable). */
static struct tls_conn *tls_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static bool stays_open(struct http_req *r, const char *version)
{
	if (r->close_after || version == NULL || strcmp(version, MHD_HTTP_VERSION_1_1) != 0 ||
	    MHD_get_response_header(r->resp, MHD_HTTP_HEADER_CONNECTION) != NULL)
		return false;
	const char *c =
		MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONNECTION);
	return c == NULL || strcasestr(c, "close") == NULL;
}

static void hold_tls_answer(struct http_req *r, const char *version)
{
	if (!r->resp_short || !stays_open(r, version))
		return;
	struct tls_conn *c = tls_conn_of(r->conn);
	if (c == NULL || tls_conn_held(c))
		return;
	struct shard *s = r->shard;
	tls_conn_hold(c);
	if (s->n_held == s->cap_held) {
		s->cap_held = s->cap_held ? s->cap_held * 2 : 16;
		s->held = xrealloc(s->held, s->cap_held * sizeof(*s->held));
	}
	s->held[s->n_held++] = c;
}

static void unhold(struct shard *s, struct tls_conn *c)
{
	for (size_t i = 0; i < s->n_held; i++)
		if (s->held[i] == c) {
			s->held[i] = s->held[--s->n_held];
			return;
		}
}

/* At the end of a request: its answer leaves now. */
static void flush_answer(struct http_req *r)
{
	struct tls_conn *c = tls_conn_of(r->conn);
	if (c != NULL && tls_conn_held(c) && tls_conn_flush(c) == 0)
		unhold(r->shard, c);
}

/* What a run left held; a connection whose socket is full stays. */
static void flush_held(struct shard *s)
{
	size_t keep = 0;
	for (size_t i = 0; i < s->n_held; i++)
		if (tls_conn_flush(s->held[i]) != 0)
			s->held[keep++] = s->held[i];
	s->n_held = keep;
}

static bool tls_input_waiting(const struct shard *s)
{
	for (size_t i = 0; i < s->n_tconns; i++)
		if (tls_conn_has_input(s->tconns[i]))
			return true;
	return false;
}

static void shard_run(struct shard *s)
{
	uint64_t before = callbacks + tls_io_progress();
	tls_server_running(s->tls ? s->owner->tls : NULL);
	MHD_run(s->mhd);
	tls_server_running(NULL);
	if (s->n_held)
		flush_held(s);
	s->idle = s->tls && callbacks + tls_io_progress() == before && !tls_input_waiting(s);
	if (s->idle)
		s->idle_at_ms = clock_mono_ms();
}

static void shard_ready(void *ctx, uint32_t events)
{
	shard_run(ctx);
}

/* Before the handshake (MHD reads nothing before its next run). */
static void setup_tls_session(struct shard *s, struct MHD_Connection *conn, void **socket_ctx)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const union MHD_ConnectionInfo *fd =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || ci->tls_session == NULL || fd == NULL)
		return;
	tls_server_setup_session(s->owner->tls, ci->tls_session);
	struct tls_conn *c = tls_conn_new(ci->tls_session, fd->connect_fd);
	*socket_ctx = c;
	if (s->n_tconns == s->cap_tconns) {
		s->cap_tconns = s->cap_tconns ? s->cap_tconns * 2 : 16;
		s->tconns = xrealloc(s->tconns, s->cap_tconns * sizeof(*s->tconns));
	}
	s->tconns[s->n_tconns++] = c;
}

static void notify_connection_cb(void *cls, struct MHD_Connection *conn, void **socket_ctx,
				 enum MHD_ConnectionNotificationCode code)
{
	struct shard *s = cls;
	callbacks++;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		if (!s->tls)
			mark_reused(s->owner, conn_fd(conn), false);
		s->conns++;
		s->owner->conns++;
		if (s->big)
			s->owner->big_conns++;
		if (s->tls)
			setup_tls_session(s, conn, socket_ctx);
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		s->conns--;
		s->owner->conns--;
		if (s->big)
			s->owner->big_conns--;
		if (s->tls && *socket_ctx) {
			unhold(s, *socket_ctx);
			for (size_t i = 0; i < s->n_tconns; i++)
				if (s->tconns[i] == *socket_ctx) {
					s->tconns[i] = s->tconns[--s->n_tconns];
					break;
				}
			tls_conn_free(*socket_ctx);
			*socket_ctx = NULL;
		}
		listeners_unpause(s->owner);
	}
}

/* A TLS shard's options: the listener set's certificate, key and
 * priorities, and its CA when client certificates are required (MHD then
 * asks clients for one; tls.c makes it a requirement). */
static void tls_options(const struct tls_server *t, struct MHD_OptionItem *o)
{
	size_t i = 0;
	o[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
					 tls_server_cert_callback()};
	o[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
					 (void *)tls_server_priorities(t)};
	if (tls_server_client_cert_auth(t) && tls_server_ca_pem(t) != NULL)
		o[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0,
						 (void *)tls_server_ca_pem(t)};
	o[i] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
}

static struct shard *shard_new(struct http_server *h, bool tls, bool big)
{
	struct shard *s = xcalloc(1, sizeof(*s));
	s->owner = h;
	s->tls = tls;
	s->big = big;
	struct MHD_OptionItem tls_opts[5] = {{MHD_OPTION_END, 0, NULL}};
	if (tls)
		tls_options(h->tls, tls_opts);
	s->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
			MHD_USE_NO_LISTEN_SOCKET | (tls ? MHD_USE_TLS : 0),
		0, NULL, NULL, access_cb, s, MHD_OPTION_ARRAY, tls_opts,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, s, MHD_OPTION_NOTIFY_COMPLETED,
		completed_cb, s, MHD_OPTION_NOTIFY_CONNECTION, notify_connection_cb, s,
		/* we count and place connections ourselves; MHD's own limit
		 * (which counts closing ones too) must never refuse one */
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)SHARD_CONNS * 2,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		big ? h->svc->big_head_memory : h->svc->conn_memory, MHD_OPTION_END);
	if (s->mhd == NULL) {
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	s->watch = loop_add_fd(h->loop, info->epoll_fd, EPOLLIN, shard_ready, s);
	if (s->watch == NULL) {
		MHD_stop_daemon(s->mhd);
		free(s);
		return NULL;
	}
	return s;
}

static void shard_free(struct http_server *h, struct shard *s)
{
	loop_del_fd(h->loop, s->watch);
	MHD_stop_daemon(s->mhd);
	free(s->held);
	free(s->tconns);
	free(s);
}

/* The first shard of the kind (TLS or not) with room, or a new one; NULL
 * if none can be started. */
static struct shard *shard_for_new_connection(struct http_server *h, bool tls, bool big)
{
	for (size_t i = 0; i < h->n_shards; i++)
		if (h->shards[i]->tls == tls && h->shards[i]->big == big &&
		    h->shards[i]->conns < SHARD_CONNS)
			return h->shards[i];
	if (h->n_shards == h->cap_shards) {
		size_t cap = h->cap_shards ? h->cap_shards * 2 : 4;
		struct shard **v = xrealloc(h->shards, cap * sizeof(*v));
		h->shards = v;
		h->cap_shards = cap;
	}
	struct shard *s = shard_new(h, tls, big);
	if (s != NULL)
		h->shards[h->n_shards++] = s;
	return s;
}

/* MHD's own timeouts (with no connection timeout: work it has pending
 * without an fd event). One source for all shards.
 * MHD 0.9.75 never puts a connection whose TLS handshake waits for the
 * client into its epoll set (its handshake path never clears the
 * read-ready flag), so it asks to run again at once, and the run reads
 * nothing: the loop spun on recv() EAGAIN while clients did their
 * handshake crypto (16 recv and 15 epoll_wait per new connection, a core
 * taken from the clients on this 2-core machine). A TLS shard whose last
 * run moved no byte, called back nothing and has no bytes buffered runs
 * again after TLS_IDLE_MS instead (sockets in MHD's epoll set still wake
 * it at once). */
#define TLS_IDLE_MS 1

static int64_t shards_timeout(void *ctx)
{
	struct http_server *h = ctx;
	int64_t min = -1;
	for (size_t i = 0; i < h->n_shards; i++) {
		MHD_UNSIGNED_LONG_LONG ms;
		if (MHD_get_timeout(h->shards[i]->mhd, &ms) != MHD_YES)
			continue;
		if (ms == 0 && h->shards[i]->idle)
			ms = TLS_IDLE_MS;
		if (min < 0 || (int64_t)ms < min)
			min = (int64_t)ms;
	}
	return min;
}

static void shards_due(void *ctx)
{
	struct http_server *h = ctx;
	for (size_t i = 0; i < h->n_shards; i++) {
		MHD_UNSIGNED_LONG_LONG ms;
		struct shard *s = h->shards[i];
		if (MHD_get_timeout(s->mhd, &ms) != MHD_YES || ms != 0)
			continue;
		if (s->idle && clock_mono_ms() - s->idle_at_ms < TLS_IDLE_MS)
			continue;
		shard_run(s);
	}
}

/* ---- listeners: accept, then hand the socket to a shard ---------------- */

#define ACCEPT_BATCH   64 /* per wake-up; the listen socket is level-triggered */
#define LISTEN_BACKLOG 1024

static void listener_pause(struct listener *l)
{
	if (l->paused)
		return;
	l->paused = true;
	l->paused_at_ms = clock_mono_ms();
	loop_mod_fd(l->owner->loop, l->watch, 0);
}

/* Out of descriptors, a listener stops accepting (the kernel queues new
 * clients) until a connection closes or, failing that, 100 ms passed. */
static void listener_unpause(struct listener *l)
{
	if (!l->paused)
		return;
	l->paused = false;
	loop_mod_fd(l->owner->loop, l->watch, EPOLLIN);
}

static void listeners_unpause(struct http_server *h)
{
	for (size_t i = 0; i < h->n_listeners; i++)
		listener_unpause(&h->listeners[i]);
}

/* At the connection cap: a fast refusal instead of a queue in the backlog.
 * A plain-text 503 is written if the socket takes it at once (best effort:
 * the client may see a reset instead), then the socket is closed. */
static void refuse_connection(struct listener *l, int fd)
{
	struct http_server *h = l->owner;
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\n"
				   "Connection: close\r\n"
				   "Content-Length: 28\r\n\r\n"
				   "too many client connections\n";
	if (!l->tls) {
		ssize_t n = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
		shutdown(fd, SHUT_WR);
	}
	close(fd);
	h->refused++;
	uint64_t now = clock_mono_ms();
	if (h->refused_logged_ms == 0 || now - h->refused_logged_ms >= 10000) {
		h->refused_logged_ms = now;
		log_warn("embed",
			 "%zu client connections open (the cap, --max-client-conns): refusing "
			 "new ones (%" PRIu64 " refused so far)",
			 h->conns, h->refused);
	}
}

/* Hands an accepted socket to a shard of the kind (MHD closes it if it
 * cannot take it). Returns false when no shard can be started. */
static bool place_connection(struct listener *l, int fd, const struct sockaddr_storage *sa,
			     socklen_t len, bool big)
{
	struct shard *s = shard_for_new_connection(l->owner, l->tls, big);
	if (s == NULL) {
		close(fd);
		return false;
	}
	tls_server_running(s->tls ? s->owner->tls : NULL);
	if (MHD_add_connection(s->mhd, fd, (const struct sockaddr *)sa, len) == MHD_YES)
		owe_run(s);
	tls_server_running(NULL);
	return true;
}

/* ---- long request heads ------------------------------------------------- */

/* MHD's pool (svc->conn_memory) bounds a request's line and headers, and
 * every idle watcher pays for all of it (doc/watches.md). Go's server takes
 * 1 MiB of headers. So on a service with big_head_memory, a new plain-HTTP
 * connection waits until its first bytes arrive: a request head that ends
 * within HTTP_SMALL_HEAD bytes goes to an ordinary shard, a longer one to a
 * "big" shard whose pool takes big_head_memory (at most HTTP_BIG_CONNS such
 * connections at once; past that they get the ordinary pool and MHD's 431).
 * Later requests on a connection stay on its shard. */
#define HTTP_SMALL_HEAD 3000
#define HTTP_BIG_CONNS	64

struct waiting_conn {
	struct listener *l;
	int fd;
	struct sockaddr_storage sa;
	socklen_t len;
	struct list link;
};

static void waiting_free(struct http_server *h, struct waiting_conn *w)
{
	epoll_ctl(h->waiting_ep, EPOLL_CTL_DEL, w->fd, NULL);
	list_del(&w->link);
	h->waiting--;
	free(w);
}

/* Whether the head in the first n bytes of p ends within them. */
static bool head_ends(const char *p, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return true;
	for (size_t i = 0; i + 1 < n; i++) /* bare LF lines, as MHD takes them */
		if (p[i] == '\n' && p[i + 1] == '\n')
			return true;
	return false;
}

static void waiting_ready(struct waiting_conn *w, uint32_t events)
{
	struct http_server *h = w->l->owner;
	char peek[HTTP_SMALL_HEAD];
	ssize_t n = recv(w->fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & (EPOLLHUP | EPOLLERR)))
		return;
	/* a head that does not end in HTTP_SMALL_HEAD bytes, when the peek got
	 * them all: big; anything else (short, closed, failed): ordinary */
	bool big = n == (ssize_t)sizeof(peek) && !head_ends(peek, (size_t)n) &&
		   h->big_conns < HTTP_BIG_CONNS;
	struct listener *l = w->l;
	int fd = w->fd;
	struct sockaddr_storage sa = w->sa;
	socklen_t len = w->len;
	waiting_free(h, w);
	if (!place_connection(l, fd, &sa, len, big))
		listener_pause(l);
}

/* The waiting connections have an epoll set of their own (one descriptor in
 * the loop), so that adding and removing one costs one epoll_ctl. */
static void waiting_set_ready(void *ctx, uint32_t events)
{
	struct http_server *h = ctx;
	struct epoll_event evs[64];
	int n = epoll_wait(h->waiting_ep, evs, 64, 0);
	for (int i = 0; i < n; i++)
		waiting_ready(evs[i].data.ptr, evs[i].events);
}

static bool waiting_set_open(struct http_server *h)
{
	if (h->waiting_ep >= 0)
		return true;
	h->waiting_ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->waiting_ep < 0)
		return false;
	h->waiting_watch = loop_add_fd(h->loop, h->waiting_ep, EPOLLIN, waiting_set_ready, h);
	if (h->waiting_watch == NULL) {
		close(h->waiting_ep);
		h->waiting_ep = -1;
		return false;
	}
	return true;
}

/* Returns false (the socket closed) when it cannot wait. */
static bool wait_for_head(struct listener *l, int fd, const struct sockaddr_storage *sa,
			  socklen_t len)
{
	struct http_server *h = l->owner;
	struct waiting_conn *w = xcalloc(1, sizeof(*w));
	w->l = l;
	w->fd = fd;
	w->sa = *sa;
	w->len = len;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = w};
	if (!waiting_set_open(h) || epoll_ctl(h->waiting_ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(w);
		close(fd);
		return false;
	}
	list_add_tail(&h->waiting_list, &w->link);
	h->waiting++;
	return true;
}

static void listener_ready(void *ctx, uint32_t events)
{
	struct listener *l = ctx;
	struct http_server *h = l->owner;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(l->fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				listener_pause(l);
			return;
		}
		if (h->conn_limit && h->conns + h->waiting >= h->conn_limit) {
			refuse_connection(l, fd);
			continue;
		}
		bool ok = !l->tls && h->svc->big_head_memory ?
				  wait_for_head(l, fd, &sa, len) :
				  place_connection(l, fd, &sa, len, false);
		if (!ok) {
			listener_pause(l);
			return;
		}
	}
}

/* The IPv4 address of a listen URL's host: "" is every interface,
 * localhost is 127.0.0.1. */
static int listen_host(const char *url, const char *host, struct in_addr *addr)
{
	if (host[0] == '\0')
		host = "0.0.0.0";
	else if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	if (inet_pton(AF_INET, host, addr) != 1) {
		log_crit("embed", "%s: listen address must be an IPv4 address", url);
		return -1;
	}
	return 0;
}

/* Parses a listen URL (util/url.h, as etcd's flags) into a socket address.
 * http:// is served, and https:// with TLS material; an empty port listens
 * on any free port. */
static int parse_listen_url(const char *url, struct sockaddr_in *sa, bool have_tls, bool *tls)
{
	struct url u;
	char err[512];
	if (url_parse(url, &u, err, sizeof(err)) != 0) {
		log_crit("embed", "%s", err);
		return -1;
	}
	uint64_t port = 0;
	int rc = -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	*tls = strcmp(u.scheme, "https") == 0;
	if (*tls && !have_tls)
		log_crit("embed", "TLS key/cert (--cert-file, --key-file) must be provided for %s",
			 url);
	else if (strcmp(u.scheme, "unixs") == 0)
		log_crit("embed", "%s: TLS listeners are not supported yet", url);
	else if (!*tls && strcmp(u.scheme, "http") != 0)
		log_crit("embed", "%s: unix socket listeners are not supported yet", url);
	else if (u.port[0] != '\0' && go_parse_uint(u.port, 10, 16, &port) != GO_NUM_OK)
		log_crit("embed", "%s: invalid port", url);
	else
		rc = listen_host(url, u.host, &sa->sin_addr);
	sa->sin_port = htons((uint16_t)port);
	url_free(&u);
	return rc;
}

static int listen_socket(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int start_listener(struct http_server *h, struct listener *l, const char *url)
{
	struct sockaddr_in sa;
	if (parse_listen_url(url, &sa, h->tls != NULL, &l->tls) != 0)
		return -1;
	l->owner = h;
	l->fd = listen_socket(&sa);
	if (l->fd < 0) {
		log_crit("embed", "listen %s: %s", url, strerror(errno));
		return -1;
	}
	l->watch = loop_add_fd(h->loop, l->fd, EPOLLIN, listener_ready, l);
	return l->watch ? 0 : -1;
}

struct http_server *http_server_new(struct loop *loop, const struct http_service *svc, void *ctx,
				    char *const *urls, size_t n)
{
	return http_server_new_tls(loop, svc, ctx, urls, n, NULL);
}

struct http_server *http_server_new_tls(struct loop *loop, const struct http_service *svc,
					void *ctx, char *const *urls, size_t n,
					const struct http_tls *tls)
{
	struct http_server *h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->svc = svc;
	h->ctx = ctx;
	list_init(&h->suspended);
	list_init(&h->waiting_list);
	h->waiting_ep = -1;
	loop_add_timeout_source(loop, shards_timeout, shards_due, h);
	if (tls != NULL) {
		char err[1024];
		h->tls = tls_server_load(tls, err, sizeof(err));
		if (h->tls == NULL) {
			log_crit("embed", "%s", err);
			http_server_free(h);
			return NULL;
		}
	}
	h->listeners = xcalloc(n, sizeof(*h->listeners));
	for (size_t i = 0; i < n; i++) {
		h->listeners[i].fd = -1;
		h->n_listeners = i + 1;
		if (start_listener(h, &h->listeners[i], urls[i]) != 0) {
			http_server_free(h);
			return NULL;
		}
	}
	return h;
}

void http_server_free(struct http_server *h)
{
	if (h == NULL)
		return;
	/* MHD must not be stopped with suspended connections: resume them all
	 * and let MHD see the resumption once. */
	h->stopping = true;
	while (!list_empty(&h->suspended))
		http_resume(list_first(&h->suspended, struct http_req, susp_link));
	for (size_t i = 0; i < h->n_shards; i++)
		shard_run(h->shards[i]);
	while (!list_empty(&h->waiting_list)) {
		struct waiting_conn *w = list_first(&h->waiting_list, struct waiting_conn, link);
		int fd = w->fd;
		waiting_free(h, w);
		close(fd);
	}
	if (h->waiting_watch)
		loop_del_fd(h->loop, h->waiting_watch);
	if (h->waiting_ep >= 0)
		close(h->waiting_ep);
	/* shards first: closing their connections may unpause a listener */
	for (size_t i = 0; i < h->n_shards; i++)
		shard_free(h, h->shards[i]);
	for (size_t i = 0; i < h->n_listeners; i++) {
		struct listener *l = &h->listeners[i];
		if (l->watch)
			loop_del_fd(h->loop, l->watch);
		if (l->fd >= 0)
			close(l->fd);
	}
	loop_del_timeout_source(h->loop, h);
	hangup_set_free(h->loop, h->hangups);
	tcp_pusher_free(h->pusher); /* after the shards: their last holds are lifted */
	tls_server_free(h->tls);
	free(h->shards);
	free(h->listeners);
	free(h->reused);
	free(h);
}

void http_server_limit_conns(struct http_server *h, size_t max_conns)
{
	h->conn_limit = max_conns;
}

size_t http_server_conns(const struct http_server *h)
{
	return h->conns;
}

uint64_t http_server_refused(const struct http_server *h)
{
	return h->refused;
}

size_t http_default_conn_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	uint64_t n =
		rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? (1u << 20) : rl.rlim_cur;
	uint64_t reserve = n >= 4 * HTTP_FD_RESERVE ? HTTP_FD_RESERVE : n / 4;
	return (size_t)(n - reserve);
}

bool http_req_tls(const struct http_req *r)
{
	return r->shard->tls;
}

const char *http_client_cert_cn(struct http_req *r)
{
	if (!r->shard->tls || !tls_server_client_cert_auth(r->shard->owner->tls))
		return NULL;
	if (!r->cn_done) {
		r->cn_done = true;
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (ci != NULL && ci->tls_session != NULL)
			r->client_cn = tls_peer_cn(ci->tls_session);
	}
	return r->client_cn;
}
