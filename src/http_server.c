/* http_server.c - MHD daemons in cetcd's loop, the per-request lifecycle and
 * the route table (see http_server.h).
 *
 * Lifecycle of a request, as MHD drives it:
 *   uri_log_cb        request line seen: allocate struct http_req (raw URI)
 *   access_cb #1      headers seen: decide whether to collect a form body
 *   access_cb #2..n   body chunks: append (bounded)
 *   access_cb final   dispatch to the route handler; it answers now, or
 *                     suspends and answers later through http_respond()
 *   access_cb again   after a resume: queue the stored answer
 *   completed_cb      run the handler's cleanup, free the request
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "http_reply.h"
#include "kv_parse.h"
#include "loop.h"
#include "server.h"

size_t http_max_peer_body = HTTP_MAX_PEER_BYTES;

struct daemon {
	struct MHD_Daemon *mhd;
	bool peer;
	struct loop_fd *watch;
	struct http_server *owner;
};

struct http_server {
	struct server *srv;
	struct daemon *daemons;
	size_t n;
	bool peer;		/* a peer listener: everything goes to http_peer_handle */
	struct http_req *suspended;	/* resumed before the daemons stop */
	bool resumed;		/* MHD_run is owed after a resume */
	bool stopping;		/* http_server_free: no more suspends (a waiting
				 * watch would suspend again in the last MHD_run) */
};

/* ---- request lifecycle ------------------------------------------------ */

static void *uri_log_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_req *r = calloc(1, sizeof(*r));
	if (r == NULL)
		abort();
	struct http_server *h = cls;
	r->srv = h->srv;
	r->peer = h->peer;
	r->conn = conn;
	r->uri = strdup(uri ? uri : "/");
	if (r->uri == NULL)
		abort();
	return r;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *req_cls;
	if (r == NULL)
		return;
	http_resume(r);	/* unlinks; MHD never completes a suspended request */
	if (r->cleanup)
		r->cleanup(r);
	if (r->resp)
		MHD_destroy_response(r->resp);
	buf_free(&r->body);
	free(r->path);
	free(r->uri);
	free(r);
	*req_cls = NULL;
}

void http_suspend(struct http_req *r)
{
	if (r->suspended)
		return;
	struct http_server *h = r->peer ? r->srv->peer_http : r->srv->http;
	if (h->stopping)
		return;
	r->suspended = true;
	r->susp_prev = NULL;
	r->susp_next = h->suspended;
	if (h->suspended)
		h->suspended->susp_prev = r;
	h->suspended = r;
	MHD_suspend_connection(r->conn);
}

void http_resume(struct http_req *r)
{
	if (!r->suspended)
		return;
	struct http_server *h = r->peer ? r->srv->peer_http : r->srv->http;
	r->suspended = false;
	if (r->susp_prev)
		r->susp_prev->susp_next = r->susp_next;
	else
		h->suspended = r->susp_next;
	if (r->susp_next)
		r->susp_next->susp_prev = r->susp_prev;
	MHD_resume_connection(r->conn);
	h->resumed = true;
}

/* MHD's rule for external polling: after a resume, run the daemon before
 * polling again, or the connection may sit until unrelated traffic. */
void http_server_flush(struct http_server *h)
{
	if (!h->resumed)
		return;
	h->resumed = false;
	for (size_t i = 0; i < h->n; i++)
		MHD_run(h->daemons[i].mhd);
}

/* etcd 3.4 wraps every client handler in its CORS handler. */
static void add_cors_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
				"accept, content-type, authorization");
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
				"POST, GET, OPTIONS, PUT, DELETE");
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
}

void http_respond(struct http_req *r, unsigned status, struct MHD_Response *resp)
{
	add_cors_headers(resp);
	if (r->close_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (r->reply_cluster_id)
		reply_cluster_id(r, resp);
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = status;
	http_resume(r);
}

static enum MHD_Result queue_stored(struct http_req *r)
{
	struct MHD_Response *resp = r->resp;
	r->resp = NULL;
	enum MHD_Result ok = MHD_queue_response(r->conn, r->status, resp);
	MHD_destroy_response(resp);
	return ok;
}

/* ---- body ------------------------------------------------------------- */

/* Go parses a form body only for POST/PUT/PATCH with this media type. */
static bool wants_form_body(struct http_req *r)
{
	if (strcmp(r->method, "POST") != 0 && strcmp(r->method, "PUT") != 0 &&
	    strcmp(r->method, "PATCH") != 0)
		return false;
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
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
	/* a peer POST may carry a whole snapshot */
	size_t limit = r->peer ? http_max_peer_body : HTTP_MAX_FORM_BYTES;
	if (r->body.len + len > limit) {
		r->body_too_large = true;
		r->close_after = true;	/* as Go's server after a refused body */
		buf_free(&r->body);
		return;
	}
	buf_append(&r->body, data, len);
}

/* ---- request framing (what Go's server refuses before any handler) ----- */

struct framing {
	int content_lengths;	/* distinct Content-Length values seen */
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

/* ---- routing ---------------------------------------------------------- */

static void reply_bad_request(struct http_req *r)
{
	struct MHD_Response *resp = reply_from_text("400 Bad Request", "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Connection", "close");
	http_respond(r, MHD_HTTP_BAD_REQUEST, resp);
}

/* Go's ServeMux answers an unclean path with 301 to the clean one. */
static void reply_redirect(struct http_req *r, const char *clean)
{
	char *esc = url_escape_path(clean);
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

static void reply_not_found(struct http_req *r)
{
	reply_plain(r, MHD_HTTP_NOT_FOUND, "404 page not found");
}

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

static bool is_keys_path(const char *p)
{
	return strcmp(p, "/v2/keys") == 0 || strncmp(p, "/v2/keys/", 9) == 0;
}

static void dispatch(struct http_req *r)
{
	strip_absolute_form(r);
	if (r->uri[0] != '/') {	/* Go rejects a request target that is not a path */
		reply_bad_request(r);
		return;
	}
	char *q = strchr(r->uri, '?');
	size_t plen = q ? (size_t)(q - r->uri) : strlen(r->uri);
	r->query = q ? q + 1 : "";
	r->path = url_path_unescape(r->uri, plen);
	if (r->path == NULL) {
		reply_bad_request(r);
		return;
	}
	char *clean = url_clean_path(r->path);
	if (strcmp(clean, r->path) != 0 && strcmp(r->method, "CONNECT") != 0) {
		reply_redirect(r, clean);
		free(clean);
		return;
	}
	free(clean);
	if (r->peer)
		http_peer_handle(r);
	else if (is_keys_path(r->path))
		http_keys_handle(r);
	else if (http_admin_owns(r->path))
		http_admin_handle(r);
	else
		reply_not_found(r);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version,
				 const char *upload_data, size_t *upload_data_size,
				 void **req_cls)
{
	struct http_req *r = *req_cls;
	if (r == NULL)
		return MHD_NO;
	if (!r->started) {
		r->started = true;
		r->method = method;
		if (refuse_bad_framing(r))
			return queue_stored(r);
		/* the members API reads a JSON body; keys read form bodies */
		r->body_wanted = wants_form_body(r) || strncmp(r->uri, "/v2/members", 11) == 0 || (r->peer && strcmp(method, "POST") == 0);
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
		return queue_stored(r);
	return MHD_YES;
}

/* ---- daemons ---------------------------------------------------------- */

static void daemon_run(void *ctx)
{
	struct daemon *d = ctx;
	MHD_run(d->mhd);
}

static void daemon_ready(void *ctx, uint32_t events)
{
	daemon_run(ctx);
}

static int64_t daemon_timeout(void *ctx)
{
	struct daemon *d = ctx;
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(d->mhd, &ms) != MHD_YES)
		return -1;
	return (int64_t)ms;
}

/* Parses http://host:port into a socket address. localhost = 127.0.0.1. */
static int parse_listen_url(const char *url, struct sockaddr_in *sa)
{
	const char *p = url;
	if (strncmp(p, "http://", 7) == 0)
		p += 7;
	else if (strncmp(p, "https://", 8) == 0) {
		fprintf(stderr, "cetcd: %s: TLS listeners are not supported yet\n", url);
		return -1;
	} else {
		fprintf(stderr, "cetcd: %s: URL scheme must be http or https\n", url);
		return -1;
	}
	const char *colon = strrchr(p, ':');
	if (colon == NULL) {
		fprintf(stderr, "cetcd: %s: missing port in address\n", url);
		return -1;
	}
	char host[256];
	size_t hlen = (size_t)(colon - p);
	if (hlen >= sizeof(host))
		return -1;
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if ((*end != '\0' && *end != '/') || port < 0 || port > 65535) {
		fprintf(stderr, "cetcd: %s: invalid port\n", url);
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0 || hlen == 0)
		strcpy(host, hlen ? "127.0.0.1" : "0.0.0.0");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1) {
		fprintf(stderr, "cetcd: %s: listen address must be an IPv4 address\n", url);
		return -1;
	}
	return 0;
}

static int start_daemon(struct http_server *h, struct daemon *d, const char *url)
{
	struct sockaddr_in sa;
	if (parse_listen_url(url, &sa) != 0)
		return -1;
	d->owner = h;
	d->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO, 0, NULL, NULL,
		access_cb, h->srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_URI_LOG_CALLBACK, uri_log_cb, h,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h->srv,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)60000,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
		/* Per-connection pool (MHD default 32 KiB): holds the request head,
		 * so it bounds the URL (a 16 KiB pool takes a ~15 KiB query string),
		 * and MHD touches about all of it per connection, so it is most of
		 * an idle watcher's memory (doc/watches.md). */
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
		MHD_OPTION_END);
	if (d->mhd == NULL) {
		fprintf(stderr, "cetcd: listen %s: %s\n", url,
			errno ? strerror(errno) : "cannot start the HTTP listener");
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	d->watch = loop_add_fd(h->srv->loop, info->epoll_fd, EPOLLIN, daemon_ready, d);
	if (d->watch == NULL)
		return -1;
	loop_add_timeout_source(h->srv->loop, daemon_timeout, daemon_run, d);
	return 0;
}

struct http_server *http_server_new(struct server *srv, char *const *urls, size_t n, bool peer)
{
	struct http_server *h = calloc(1, sizeof(*h));
	if (h == NULL)
		abort();
	h->srv = srv;
	h->peer = peer;
	h->daemons = calloc(n ? n : 1, sizeof(*h->daemons));
	if (h->daemons == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (start_daemon(h, &h->daemons[i], urls[i]) != 0) {
			h->n = i + 1;
			http_server_free(h);
			return NULL;
		}
		h->n = i + 1;
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
	while (h->suspended)
		http_resume(h->suspended);
	for (size_t i = 0; i < h->n; i++)
		if (h->daemons[i].mhd)
			MHD_run(h->daemons[i].mhd);
	for (size_t i = 0; i < h->n; i++) {
		if (h->daemons[i].watch)
			loop_del_fd(h->srv->loop, h->daemons[i].watch);
		if (h->daemons[i].mhd)
			MHD_stop_daemon(h->daemons[i].mhd);
	}
	free(h->daemons);
	free(h);
}

