/* forward.c - one client request through the proxy: pick a member, send the
 * request on (hop-by-hop headers stripped, X-Forwarded-For and Via added),
 * and pass the answer back, without a thread and without waiting for more
 * than the member sends.
 *
 * An answer with a Content-Length is collected and handed to MHD whole (one
 * resume per request: the GET/PUT hot path). Any other answer (a watch's
 * chunked stream) is passed through as it comes: the headers at once, then
 * every chunk as soon as it arrives, the client connection suspended in
 * between and the member no longer read while OUT_HIGH bytes wait for a slow
 * client.
 *
 * Retries: a request that provably never reached a member (nothing was
 * written to it) goes to the next member; a GET or HEAD also after a
 * transport error or a 5xx answer (a member without a leader), as long as
 * an untried member is available. Everything else is answered as the
 * member answered, or 502 once every member tried failed. A transport error
 * holds the member out for the failure wait (endpoints_fail). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_client.h"
#include "net/http_reply.h"
#include "net/http_server.h"
#include "proxy/proxy_private.h"
#include "proxy/refresh.h"
#include "proxy/watch_share.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define MAX_TRIES	8	     /* members one request may be sent to */
#define OUT_HIGH	(256 * 1024) /* streamed bytes waiting: stop reading the member */
#define BUFFER_MAX	(1u << 20)   /* larger answers are streamed, not collected */
#define STREAM_BLOCK	(16 * 1024)  /* MHD's buffer for a streamed answer with a length */
#define RETRY_BODY_MAX	(64 * 1024)  /* a held 5xx answer larger than this is passed on */
#define HANGUP_AFTER_MS 100	     /* a request this old has its client watched */

enum answer_mode {
	ANSWER_NONE,   /* no response head yet */
	ANSWER_BUFFER, /* collecting a sized (or held 5xx) answer */
	ANSWER_STREAM, /* passing the answer through as it arrives */
};

struct forward {
	struct proxy *p;
	struct http_req *req;
	struct list link; /* in p->forwards while `ticking` */
	bool ticking;	  /* the tick still has something to check */
	uint64_t started_ms;
	bool hangup_watched; /* http_watch_hangup done (for requests that last) */
	bool idempotent;     /* GET or HEAD */
	bool head_only;	     /* HEAD: no body comes back */
	enum endpoint_purpose purpose;
	char **headers; /* the request headers for the member, "Name: value" */
	size_t n_headers;
	struct endpoint *tried[MAX_TRIES]; /* held (endpoints_pick) */
	size_t n_tried;
	struct http_call *call;
	uint64_t write_deadline_ms; /* 0: none (or the request is written) */
	/* the answer */
	enum answer_mode mode;
	long status;
	struct http_header *resp_headers; /* owned copies, hop-by-hop removed */
	size_t n_resp_headers;
	int64_t length; /* Content-Length, -1 if none */
	struct buf out; /* body bytes not yet given to MHD */
	size_t out_pos;
	bool up_paused; /* the member is not read (out is full) */
	bool up_done;	/* the member's answer is complete */
	bool up_failed; /* the member's answer broke off */
	bool client_gone;
};

static void try_next(struct forward *f);

/* ---- answers of the proxy's own ---------------------------------------- */

void proxy_reply_message(struct http_req *r, unsigned status, const char *message)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"message\":");
	buf_put_json_str(&b, message, strlen(message));
	buf_puts(&b, "}");
	http_respond(r, status, reply_from_buf(&b, "application/json"));
}

/* etcd's readonly handler wraps its CORS handler: anything but GET is 501
 * with an empty body, OPTIONS included. Otherwise OPTIONS is the CORS
 * handler's 200 (the service adds the CORS headers). Returns true when r
 * is answered. */
static bool answer_readonly_or_options(struct http_req *r)
{
	struct proxy *p = r->ctx;
	if (p->readonly && strcmp(r->method, "GET") != 0)
		http_respond(r, MHD_HTTP_NOT_IMPLEMENTED, reply_from_text("", NULL));
	else if (strcmp(r->method, "OPTIONS") == 0)
		http_respond(r, MHD_HTTP_OK, reply_from_text("", NULL));
	else
		return false;
	return true;
}

/* GET /v2/config/local/proxy: {"endpoints":[...]}, the available ones. */
void forward_serve_config(struct http_req *r)
{
	if (answer_readonly_or_options(r))
		return;
	if (strcmp(r->method, "GET") != 0) {
		reply_method_not_allowed(r, "GET");
		return;
	}
	struct proxy *p = r->ctx;
	uint64_t now = clock_mono_ms();
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"endpoints\":[");
	size_t shown = 0;
	for (size_t i = 0; i < p->endpoints.n; i++) {
		const struct endpoint *ep = p->endpoints.v[i];
		if (!endpoint_available(ep, now))
			continue;
		if (shown++)
			buf_putc(&b, ',');
		buf_put_json_str(&b, ep->url, strlen(ep->url));
	}
	buf_puts(&b, "]}\n");
	/* etcd encodes it with a newline and no type: Go sniffs text/plain */
	http_respond(r, MHD_HTTP_OK, reply_from_buf(&b, "text/plain; charset=utf-8"));
}

/* ---- headers ------------------------------------------------------------ */

/* etcd's proxy drops these both ways (proxy/httpproxy/reverse.go), and so
 * does Go's ReverseProxy; Proxy-Connection too. */
static const char *const hop_headers[] = {
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te",	      "Trailer",	  "Trailers",	"Transfer-Encoding",  "Upgrade",
};

static bool is_hop_header(const char *name)
{
	for (size_t i = 0; i < sizeof(hop_headers) / sizeof(hop_headers[0]); i++)
		if (strcasecmp(name, hop_headers[i]) == 0)
			return true;
	return false;
}

/* True if name is one of the comma-separated tokens of a Connection header
 * (a header the client meant for this hop only). */
static bool named_by_connection(const char *connection, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = connection; p && *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == n && strncasecmp(p, name, n) == 0)
			return true;
		p = e;
	}
	return false;
}

bool proxy_passes_response_header(const char *name)
{
	return !is_hop_header(name) && strcasecmp(name, "Content-Length") != 0 &&
	       strncasecmp(name, "Access-Control-", 15) != 0;
}

struct header_copy {
	struct forward *f;
	const char *connection; /* the client's Connection header */
	struct buf xff;		/* X-Forwarded-For so far */
	struct buf via;		/* Via so far */
	bool has_accept, has_content_type;
};

static void add_header(struct forward *f, char *line)
{
	f->headers = xrealloc(f->headers, (f->n_headers + 1) * sizeof(*f->headers));
	f->headers[f->n_headers++] = line;
}

static void add_header_pair(struct forward *f, const char *name, const char *value)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s: %s", name, value);
	add_header(f, buf_steal(&b, NULL));
}

static void join_list(struct buf *b, const char *value)
{
	if (b->len)
		buf_puts(b, ", ");
	buf_puts(b, value);
}

static enum MHD_Result copy_request_header(void *cls, enum MHD_ValueKind kind, const char *name,
					   const char *value)
{
	struct header_copy *hc = cls;
	if (name == NULL || value == NULL)
		return MHD_YES;
	if (strcasecmp(name, "X-Forwarded-For") == 0)
		join_list(&hc->xff, value);
	else if (strcasecmp(name, "Via") == 0)
		join_list(&hc->via, value);
	else if (is_hop_header(name) || named_by_connection(hc->connection, name) ||
		 strcasecmp(name, "Host") == 0 || strcasecmp(name, "Content-Length") == 0 ||
		 strcasecmp(name, "Expect") == 0)
		return MHD_YES; /* Host and the length come from libcurl */
	else {
		hc->has_accept |= strcasecmp(name, "Accept") == 0;
		hc->has_content_type |= strcasecmp(name, "Content-Type") == 0;
		add_header_pair(hc->f, name, value);
	}
	return MHD_YES;
}

static void client_ip(struct http_req *r, char *ip, size_t cap)
{
	ip[0] = '\0';
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
			  (socklen_t)cap);
}

/* The headers the member gets: the client's, less hop-by-hop ones, with this
 * hop appended to X-Forwarded-For (as etcd's proxy) and to Via (our loop
 * marker). Returns false if the request already passed through this proxy. */
static bool build_request_headers(struct forward *f)
{
	struct http_req *r = f->req;
	struct header_copy hc = {.f = f, .xff = BUF_INIT, .via = BUF_INIT};
	hc.connection = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Connection");
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, copy_request_header, &hc);
	bool looped = hc.via.len && strstr(hc.via.data, f->p->via) != NULL;
	char ip[INET6_ADDRSTRLEN];
	client_ip(r, ip, sizeof(ip));
	if (ip[0])
		join_list(&hc.xff, ip);
	if (hc.xff.len)
		add_header_pair(f, "X-Forwarded-For", hc.xff.data);
	join_list(&hc.via, f->p->via);
	add_header_pair(f, "Via", hc.via.data);
	/* headers libcurl would add on its own */
	add_header(f, xstrdup("Expect:"));
	if (!hc.has_accept)
		add_header(f, xstrdup("Accept:"));
	if (!hc.has_content_type)
		add_header(f, xstrdup("Content-Type:"));
	buf_free(&hc.xff);
	buf_free(&hc.via);
	return !looped;
}

/* Keeps the member's response headers the client should see. */
static void keep_response_headers(struct forward *f, const struct http_response_head *head)
{
	f->resp_headers = xcalloc(head->n_headers ? head->n_headers : 1, sizeof(*f->resp_headers));
	f->length = -1;
	for (size_t i = 0; i < head->n_headers; i++) {
		const struct http_header *h = &head->headers[i];
		if (strcasecmp(h->name, "Content-Length") == 0) {
			char *end;
			long long v = strtoll(h->value, &end, 10);
			if (*end == '\0' && v >= 0)
				f->length = v;
			continue;
		}
		if (!proxy_passes_response_header(h->name))
			continue;
		f->resp_headers[f->n_resp_headers++] =
			(struct http_header){xstrdup(h->name), xstrdup(h->value)};
	}
}

static void drop_response(struct forward *f)
{
	for (size_t i = 0; i < f->n_resp_headers; i++) {
		free((char *)f->resp_headers[i].name);
		free((char *)f->resp_headers[i].value);
	}
	free(f->resp_headers);
	f->resp_headers = NULL;
	f->n_resp_headers = 0;
	f->mode = ANSWER_NONE;
	f->status = 0;
	buf_reset(&f->out);
	f->out_pos = 0;
}

static void add_response_headers(struct forward *f, struct MHD_Response *resp)
{
	for (size_t i = 0; i < f->n_resp_headers; i++)
		MHD_add_response_header(resp, f->resp_headers[i].name, f->resp_headers[i].value);
}

/* ---- passing the answer on ---------------------------------------------- */

static ssize_t stream_reader(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct forward *f = cls;
	if (f->client_gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t avail = f->out.len - f->out_pos;
	if (avail > 0) {
		size_t n = avail < max ? avail : max;
		memcpy(dst, f->out.data + f->out_pos, n);
		f->out_pos += n;
		if (f->out_pos == f->out.len) {
			buf_reset(&f->out);
			f->out_pos = 0;
		}
		if (f->up_paused && f->out.len - f->out_pos < OUT_HIGH / 2) {
			f->up_paused = false;
			http_call_resume(f->call);
		}
		return (ssize_t)n;
	}
	/* a broken chunked answer ends cleanly, as etcd's proxy ends it (the
	 * read timeout cuts a long poll this way); a sized one cannot */
	if (f->up_failed && f->length >= 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (f->up_done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	http_suspend(f->req);
	return 0;
}

static void count_handled(struct forward *f)
{
	proxy_metrics_handled(&f->p->metrics, f->req->method, (unsigned)f->status,
			      (double)(clock_mono_ms() - f->started_ms) / 1e3);
}

/* The head now, the body as it comes (stream_reader). */
static void answer_streaming(struct forward *f)
{
	uint64_t size = f->length >= 0 ? (uint64_t)f->length : MHD_SIZE_UNKNOWN;
	size_t block = f->length >= 0 && !f->head_only ? STREAM_BLOCK : 256;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(size, block, stream_reader, f, NULL);
	add_response_headers(f, resp);
	f->mode = ANSWER_STREAM;
	count_handled(f);
	http_respond(f->req, (unsigned)f->status, resp);
}

/* The whole collected answer at once. */
static void answer_buffered(struct forward *f)
{
	if (f->head_only) { /* the member's Content-Length, no body */
		f->up_done = true;
		answer_streaming(f);
		return;
	}
	struct MHD_Response *resp = reply_from_buf(&f->out, NULL);
	f->out_pos = 0;
	add_response_headers(f, resp);
	count_handled(f);
	http_respond(f->req, (unsigned)f->status, resp);
}

/* ---- the call to a member ------------------------------------------------ */

static bool other_member_available(struct forward *f)
{
	if (f->n_tried >= MAX_TRIES)
		return false;
	struct endpoint *ep =
		endpoints_pick(&f->p->endpoints, clock_mono_ms(), f->purpose, f->tried, f->n_tried);
	if (ep == NULL)
		return false;
	endpoint_release(ep);
	return true;
}

static void on_head(void *ctx, const struct http_response_head *head)
{
	struct forward *f = ctx;
	f->write_deadline_ms = 0; /* an answer: the request was taken */
	f->status = head->status;
	keep_response_headers(f, head);
	bool hold = f->idempotent && head->status >= 500 && other_member_available(f);
	bool sized = f->length >= 0 && f->length <= (int64_t)BUFFER_MAX;
	if (hold || sized || f->head_only) {
		f->mode = ANSWER_BUFFER;
		return;
	}
	answer_streaming(f);
}

static int on_data(void *ctx, const char *data, size_t len)
{
	struct forward *f = ctx;
	if (f->mode == ANSWER_STREAM) {
		if (f->out.len - f->out_pos >= OUT_HIGH) {
			f->up_paused = true;
			return HTTP_PAUSE;
		}
		buf_append(&f->out, data, len);
		http_resume(f->req);
		return 0;
	}
	buf_append(&f->out, data, len);
	if (f->out.len > BUFFER_MAX) /* a held 5xx that goes on: pass it on */
		answer_streaming(f);
	return 0;
}

void proxy_reply_unreachable(struct http_req *r, size_t n_tried)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "httpproxy: unable to get response from %zu endpoint(s)",
		 n_tried);
	proxy_metrics_dropped(&((struct proxy *)r->ctx)->metrics, r->method, PD_FAILED_RESPONSE);
	proxy_reply_message(r, MHD_HTTP_BAD_GATEWAY, msg);
}

void proxy_reply_zero_endpoints(struct http_req *r)
{
	struct proxy *p = r->ctx;
	proxy_metrics_dropped(&p->metrics, r->method, PD_ZERO_ENDPOINTS);
	refresher_kick(p->refresher);
	proxy_reply_message(r, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "httpproxy: zero endpoints currently available");
}

static void answer_unreachable(struct forward *f)
{
	proxy_reply_unreachable(f->req, f->n_tried);
}

/* A retry after this outcome may send the request a second time only if it
 * is idempotent or provably never reached the member. */
static bool may_retry(const struct forward *f, const struct http_call_result *res)
{
	return f->idempotent || !res->sent;
}

static void on_done(void *ctx, const struct http_call_result *res)
{
	struct forward *f = ctx;
	f->call = NULL;
	f->write_deadline_ms = 0;
	struct endpoint *ep = f->tried[f->n_tried - 1];
	bool transport_error = res->error != HTTP_CALL_OK && res->error != HTTP_CALL_ABORTED;
	if (transport_error) {
		endpoints_fail(&f->p->endpoints, ep, clock_mono_ms());
		proxy_metrics_dropped(&f->p->metrics, f->req->method, PD_FAILED_SENDING);
	}
	if (f->mode == ANSWER_STREAM) {
		f->up_done = true;
		f->up_failed = res->error != HTTP_CALL_OK;
		http_resume(f->req);
		return;
	}
	if (res->error == HTTP_CALL_OK && f->mode == ANSWER_BUFFER) {
		bool retry = f->idempotent && f->status >= 500 && f->out.len <= RETRY_BODY_MAX &&
			     other_member_available(f);
		if (!retry) {
			answer_buffered(f);
			return;
		}
	} else if (!transport_error || !may_retry(f, res)) {
		answer_unreachable(f);
		return;
	}
	drop_response(f);
	try_next(f);
}

static void on_client_gone(struct http_req *r);

/* --proxy-write-timeout: a member must take the whole request (head and
 * body) within it, else the call fails as a transport error. */
static void check_write_timeout(struct forward *f, uint64_t now_ms)
{
	if (f->write_deadline_ms == 0 || f->call == NULL)
		return;
	if (http_call_sent(f->call)) {
		f->write_deadline_ms = 0; /* written: no limit from here */
		return;
	}
	if (now_ms < f->write_deadline_ms)
		return;
	http_call_cancel(f->call);
	f->call = NULL;
	f->write_deadline_ms = 0;
	endpoints_fail(&f->p->endpoints, f->tried[f->n_tried - 1], now_ms);
	drop_response(f);
	if (f->idempotent)
		try_next(f);
	else
		answer_unreachable(f);
}

/* Most requests are answered within a millisecond: a request still there
 * after HANGUP_AFTER_MS has its client's hang-up watched (a syscall saved
 * on the hot path; a client that leaves is still noticed within a tick). */
static void watch_hangup_if_lasting(struct forward *f, uint64_t now_ms)
{
	if (f->hangup_watched || now_ms - f->started_ms < HANGUP_AFTER_MS)
		return;
	f->hangup_watched = true;
	http_watch_hangup(f->req, on_client_gone);
}

void forward_tick(struct proxy *p, uint64_t now_ms)
{
	struct forward *f, *tmp;
	list_for_each_safe(f, tmp, &p->forwards, link)
	{
		watch_hangup_if_lasting(f, now_ms);
		check_write_timeout(f, now_ms); /* may answer: f stays until cleanup */
		if (f->hangup_watched && f->write_deadline_ms == 0) {
			list_del(&f->link); /* nothing left to check */
			f->ticking = false;
		}
	}
}

void proxy_call_limits(const struct proxy *p, struct http_call_spec *spec)
{
	spec->connect_ms = p->dial_timeout_ms;
	if (p->read_timeout_ms > 0) { /* a member's answer may stall that long */
		spec->stall_bytes_per_s = 1;
		spec->stall_s = (p->read_timeout_ms + 999) / 1000;
	}
}

static bool start_call(struct forward *f, struct endpoint *ep)
{
	struct proxy *p = f->p;
	struct http_req *r = f->req;
	struct buf url = BUF_INIT;
	buf_puts(&url, ep->url);
	buf_puts(&url, r->uri);
	bool has_body = r->body.len > 0 || strcmp(r->method, "PUT") == 0 ||
			strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0;
	struct http_call_spec spec = {
		.method = r->method,
		.url = url.data,
		.headers = (const char *const *)f->headers,
		.n_headers = f->n_headers,
		/* borrowed: the request outlives its calls */
		.body = has_body ? (r->body.data ? r->body.data : "") : NULL,
		.body_len = r->body.len,
		.on_head = on_head,
		.on_data = on_data,
		.on_done = on_done,
		.ctx = f,
	};
	proxy_call_limits(p, &spec);
	f->call = http_call_start(p->client, &spec, NULL);
	buf_free(&url);
	if (f->call != NULL && p->write_timeout_ms > 0)
		f->write_deadline_ms = clock_mono_ms() + p->write_timeout_ms;
	return f->call != NULL;
}

/* Sends the request to the next member to try, or answers if none is left. */
static void try_next(struct forward *f)
{
	struct proxy *p = f->p;
	uint64_t now = clock_mono_ms();
	while (f->n_tried < MAX_TRIES) {
		struct endpoint *ep =
			endpoints_pick(&p->endpoints, now, f->purpose, f->tried, f->n_tried);
		if (ep == NULL)
			break;
		f->tried[f->n_tried++] = ep;
		if (start_call(f, ep))
			return;
		endpoints_fail(&p->endpoints, ep, now);
		proxy_metrics_dropped(&p->metrics, f->req->method, PD_FAILED_SENDING);
	}
	if (f->n_tried == 0)
		proxy_reply_zero_endpoints(f->req);
	else
		answer_unreachable(f);
}

/* ---- the request's life -------------------------------------------------- */

static void forward_free(struct http_req *r)
{
	struct forward *f = r->handler_ctx;
	http_call_cancel(f->call);
	for (size_t i = 0; i < f->n_tried; i++)
		endpoint_release(f->tried[i]);
	for (size_t i = 0; i < f->n_headers; i++)
		free(f->headers[i]);
	free(f->headers);
	drop_response(f);
	buf_free(&f->out);
	if (f->ticking)
		list_del(&f->link);
	free(f);
	r->handler_ctx = NULL;
}

/* The client went away while its request waited: stop the member's side. */
static void on_client_gone(struct http_req *r)
{
	struct forward *f = r->handler_ctx;
	f->client_gone = true;
	http_call_cancel(f->call);
	f->call = NULL;
	f->write_deadline_ms = 0;
	http_abandon(r);
}

/* /health with no member to ask: the proxy's own answer. */
static bool answer_health_alone(struct http_req *r)
{
	struct proxy *p = r->ctx;
	if (strcmp(r->path, "/health") != 0 || endpoints_available(&p->endpoints, clock_mono_ms()))
		return false;
	refresher_kick(p->refresher);
	struct MHD_Response *resp = reply_from_text("{\"health\":\"false\"}", "application/json");
	http_respond(r, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
	return true;
}

void forward_request(struct http_req *r)
{
	struct proxy *p = r->ctx;
	if (answer_readonly_or_options(r) || answer_health_alone(r))
		return;
	proxy_metrics_request(&p->metrics, r->method);
	if (r->body_too_large) {
		proxy_reply_message(r, 413 /* Content Too Large */,
				    "httpproxy: request body too large");
		return;
	}
	if (watch_share_join(p->shares, r))
		return;
	struct forward *f = xcalloc(1, sizeof(*f));
	f->p = p;
	f->req = r;
	f->length = -1;
	f->idempotent = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	f->head_only = strcmp(r->method, "HEAD") == 0;
	f->purpose = f->idempotent ? EP_READ : EP_WRITE;
	f->started_ms = clock_mono_ms();
	f->ticking = true;
	list_add_tail(&p->forwards, &f->link);
	r->handler_ctx = f;
	r->cleanup = forward_free;
	if (!build_request_headers(f)) {
		proxy_reply_message(r, 508 /* Loop Detected */,
				    "httpproxy: request loop detected (it already passed through "
				    "this proxy)");
		return;
	}
	http_suspend(r);
	try_next(f);
}
