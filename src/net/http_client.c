/* http_client.c - the HTTP client in the loop (see http_client.h): one curl
 * multi handle per client, one easy handle per call.
 *
 * How libcurl meets the loop:
 *   CURLMOPT_SOCKETFUNCTION  -> loop_add_fd / loop_mod_fd / loop_del_fd; a
 *                               struct sock per socket (curl_multi_assign)
 *   CURLMOPT_TIMERFUNCTION   -> an absolute due time read by the client's
 *                               timeout source on the loop
 *   fd ready / timer due     -> curl_multi_socket_action, then settle():
 *                               calls cancelled meanwhile are freed, then
 *                               finished calls report on_done
 *
 * libcurl forbids most of its API inside its own callbacks, so `in_curl`
 * counts the libcurl calls that may run our callbacks; while it is set a
 * cancel is only marked (and the transfer paused) and settle() frees the
 * call afterwards, and a resume waits for the loop. curl_multi_socket_action
 * is never called from inside a libcurl callback. */
#include "net/http_client.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "net/http_h1.h"
#include "net/loop.h"
#include "util/clock.h"
#include "util/list.h"
#include "util/xalloc.h"

#define HTTP_CLIENT_MAX_IDLE   128
#define HTTP_CLIENT_SPARE_EASY 64 /* finished easy handles kept for reuse */

/* One socket libcurl asked us to watch. */
struct sock {
	struct http_client *c;
	curl_socket_t fd;
	struct loop_fd *watch;
	struct list link; /* in http_client.socks */
};

struct http_client {
	struct loop *loop;
	CURLM *multi;
	struct list socks;		     /* struct sock.link */
	struct list calls;		     /* struct http_call.link: every call in flight */
	uint64_t timer_due;		     /* curl's timer, absolute mono ms; UINT64_MAX = none */
	unsigned in_curl;		     /* > 0 while libcurl may run our callbacks */
	bool resume_wanted;		     /* some call has `resume` set */
	bool reap_wanted;		     /* some call has `cancelled` set */
	CURL *spare[HTTP_CLIENT_SPARE_EASY]; /* easy handles of finished calls */
	unsigned n_spare;
	struct h1_engine *h1;	    /* plain http:// to IPv4 addresses */
	struct http_client_tls tls; /* strings owned */
	bool has_tls;
};

struct http_call {
	enum http_engine_kind kind; /* HTTP_ENGINE_CURL: first, as in http_h1.c */
	struct http_client *c;
	struct list link; /* in http_client.calls */
	CURL *easy;
	struct curl_slist *headers; /* of the request (libcurl does not copy them) */
	http_head_fn on_head;
	http_data_fn on_data;
	http_done_fn on_done;
	http_read_fn reader;
	void *ctx;
	/* the response head being received (each name and value in one block
	 * owned by name) */
	struct http_header *head;
	size_t n_head, cap_head;
	bool head_delivered;
	bool recv_paused; /* by http_call_pause or on_data (cleared by resume) */
	bool send_paused; /* by the reader (cleared by the loop when resuming) */
	bool resume;	  /* http_call_resume asked: the loop unpauses */
	bool cancelled;	  /* inside libcurl: settle() frees it */
	bool finishing;	  /* on_done is running */
	bool in_callback; /* one of its callbacks is running */
};

int http_client_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_client_global_cleanup(void)
{
	curl_global_cleanup();
}

/* ---- the response head -------------------------------------------------------- */

static void head_clear(struct http_call *call)
{
	for (size_t i = 0; i < call->n_head; i++)
		free((char *)call->head[i].name);
	call->n_head = 0;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Adds "Name: value" (line without its CR LF); lines without a colon
 * (obsolete folding) are ignored. */
static void head_add(struct http_call *call, const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);
	if (colon == NULL)
		return;
	size_t name_len = (size_t)(colon - line);
	const char *value = colon + 1, *end = line + len;
	while (value < end && is_blank(*value))
		value++;
	while (end > value && is_blank(end[-1]))
		end--;
	size_t value_len = (size_t)(end - value);
	char *block = xmalloc(name_len + value_len + 2);
	memcpy(block, line, name_len);
	block[name_len] = '\0';
	memcpy(block + name_len + 1, value, value_len);
	block[name_len + 1 + value_len] = '\0';
	if (call->n_head == call->cap_head) {
		call->cap_head = call->cap_head ? 2 * call->cap_head : 16;
		call->head = xrealloc(call->head, call->cap_head * sizeof(*call->head));
	}
	call->head[call->n_head++] = (struct http_header){block, block + name_len + 1};
}

/* The blank line after a head: a final response's head goes to on_head. */
static void head_end(struct http_call *call)
{
	long status = 0;
	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200) {
		struct http_response_head h = {status, call->head, call->n_head};
		call->head_delivered = true;
		call->on_head(call->ctx, &h);
	}
	head_clear(call);
}

/* ---- libcurl's per-call callbacks ------------------------------------------------- */

static size_t on_header_line(char *line, size_t size, size_t n, void *userdata)
{
	struct http_call *call = userdata;
	size_t len = size * n;
	if (call->cancelled)
		return 0;
	if (call->head_delivered)
		return len; /* trailers */
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		head_clear(call); /* a new response (after a 1xx) */
		return len;
	}
	size_t end = len;
	while (end > 0 && (line[end - 1] == '\n' || line[end - 1] == '\r'))
		end--;
	call->in_callback = true;
	if (end == 0)
		head_end(call);
	else
		head_add(call, line, end);
	call->in_callback = false;
	return call->cancelled ? 0 : len;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct http_call *call = userdata;
	size_t len = size * n;
	if (call->cancelled)
		return 0;
	if (call->on_data == NULL)
		return len;
	call->in_callback = true;
	int rc = call->on_data(call->ctx, data, len);
	call->in_callback = false;
	if (call->cancelled)
		return 0;
	if (rc == HTTP_PAUSE) {
		call->recv_paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *userdata)
{
	struct http_call *call = userdata;
	if (call->cancelled)
		return CURL_READFUNC_ABORT;
	call->in_callback = true;
	ssize_t got = call->reader(call->ctx, buf, size * n);
	call->in_callback = false;
	if (call->cancelled || (got < 0 && got != HTTP_READ_PAUSE))
		return CURL_READFUNC_ABORT; /* HTTP_READ_ABORT */
	if (got == HTTP_READ_PAUSE) {
		call->send_paused = true;
		return CURL_READFUNC_PAUSE;
	}
	return (size_t)got;
}

/* ---- starting a call ---------------------------------------------------------- */

/* libcurl's own method for the case (POST with a body, else HEAD or GET),
 * renamed if the caller asked for another. */
static void set_method(CURL *e, const char *method, bool has_body)
{
	const char *native;
	if (has_body) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		native = "POST";
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		native = "HEAD";
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		native = "GET";
	}
	if (strcmp(method, native) != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

static void set_body(struct http_call *call, const struct http_call_spec *sp)
{
	CURL *e = call->easy;
	if (sp->reader) {
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(e, CURLOPT_READDATA, call);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sp->reader_len);
	} else if (sp->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)sp->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, sp->body);
	}
}

static void set_limits(CURL *e, const struct http_call_spec *sp)
{
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)sp->connect_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)sp->total_ms);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)sp->stall_bytes_per_s);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)sp->stall_s);
}

static struct curl_slist *copy_headers(const struct http_call_spec *sp)
{
	struct curl_slist *l = NULL;
	for (size_t i = 0; i < sp->n_headers; i++) {
		struct curl_slist *n = curl_slist_append(l, sp->headers[i]);
		if (n == NULL)
			xalloc_die();
		l = n;
	}
	return l;
}

/* An easy handle for a new call: a spare one reset (a handle costs a few
 * KiB of zeroed memory to make), else a new one. */
static CURL *take_easy(struct http_client *c)
{
	if (c->n_spare > 0) {
		CURL *e = c->spare[--c->n_spare];
		curl_easy_reset(e);
		return e;
	}
	CURL *e = curl_easy_init();
	if (e == NULL)
		xalloc_die();
	return e;
}

static void give_back_easy(struct http_client *c, CURL *e)
{
	if (c->n_spare < HTTP_CLIENT_SPARE_EASY)
		c->spare[c->n_spare++] = e;
	else
		curl_easy_cleanup(e);
}

static CURL *new_easy(struct http_call *call, const struct http_call_spec *sp)
{
	CURL *e = take_easy(call->c);
	curl_easy_setopt(e, CURLOPT_PRIVATE, call);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: the string form replaced the bitmask */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_URL, sp->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, call->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, call);
	if (sp->on_head) {
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header_line);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, call);
	}
	set_method(e, sp->method, sp->reader != NULL || sp->body != NULL);
	set_limits(e, sp);
	if (call->c->has_tls)
		http_client_tls_apply(e, &call->c->tls);
	return e;
}

static void call_free(struct http_call *call)
{
	struct http_client *c = call->c;
	curl_multi_remove_handle(c->multi, call->easy); /* drops its completion message too */
	give_back_easy(c, call->easy);
	curl_slist_free_all(call->headers);
	head_clear(call);
	free(call->head);
	list_del(&call->link);
	free(call);
}

struct http_call *http_call_start(struct http_client *c, const struct http_call_spec *spec,
				  const char **error)
{
	if (h1_accepts(spec))
		return h1_call_start(c->h1, spec);
	struct http_call *call = xcalloc(1, sizeof(*call));
	call->kind = HTTP_ENGINE_CURL;
	call->c = c;
	call->on_head = spec->on_head;
	call->on_data = spec->on_data;
	call->on_done = spec->on_done;
	call->reader = spec->reader;
	call->ctx = spec->ctx;
	call->headers = copy_headers(spec);
	call->easy = new_easy(call, spec);
	set_body(call, spec);
	list_add_tail(&c->calls, &call->link);
	CURLMcode mc = curl_multi_add_handle(c->multi, call->easy);
	if (mc != CURLM_OK) {
		if (error)
			*error = curl_multi_strerror(mc);
		call_free(call);
		return NULL;
	}
	return call;
}

/* ---- pause, resume, cancel -------------------------------------------------------- */

static int pause_bits(const struct http_call *call)
{
	return (call->recv_paused ? CURLPAUSE_RECV : 0) | (call->send_paused ? CURLPAUSE_SEND : 0);
}

void http_call_pause(struct http_call *call)
{
	if (call->kind == HTTP_ENGINE_H1) {
		h1_call_pause(call);
		return;
	}
	if (call->recv_paused || call->cancelled || call->finishing)
		return;
	call->recv_paused = true;
	curl_easy_pause(call->easy, pause_bits(call)); /* pausing calls nothing back */
}

void http_call_resume(struct http_call *call)
{
	if (call->kind == HTTP_ENGINE_H1) {
		h1_call_resume(call);
		return;
	}
	if (!call->recv_paused && !call->send_paused)
		return;
	call->recv_paused = false;
	call->resume = true;
	call->c->resume_wanted = true;
}

bool http_call_sent(const struct http_call *call)
{
	if (call->kind == HTTP_ENGINE_H1)
		return h1_call_sent(call);
	long request_bytes = 0;
	curl_easy_getinfo(call->easy, CURLINFO_REQUEST_SIZE, &request_bytes);
	return request_bytes > 0;
}

void http_call_cancel(struct http_call *call)
{
	if (call != NULL && call->kind == HTTP_ENGINE_H1) {
		h1_call_cancel(call);
		return;
	}
	if (call == NULL || call->cancelled || call->finishing)
		return;
	if (call->c->in_curl == 0) {
		call_free(call);
		return;
	}
	/* Inside libcurl: its callbacks now refuse everything; a transfer other
	 * than the one running is paused so that it no longer reads its body. */
	call->cancelled = true;
	call->c->reap_wanted = true;
	if (!call->in_callback)
		curl_easy_pause(call->easy, CURLPAUSE_ALL);
}

/* Unpauses what http_call_resume asked for (libcurl may deliver held body
 * chunks from inside curl_easy_pause: in_curl is set by the caller). */
static void resume_calls(struct http_client *c)
{
	c->resume_wanted = false;
	struct http_call *call;
	list_for_each(call, &c->calls, link)
	{
		if (!call->resume || call->cancelled)
			continue;
		call->resume = false;
		call->send_paused = false;
		curl_easy_pause(call->easy, pause_bits(call));
	}
}

/* ---- finishing calls ---------------------------------------------------------- */

static enum http_call_error error_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_CALL_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return HTTP_CALL_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_CALL_TIMEOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		return HTTP_CALL_ABORTED;
	default:
		return HTTP_CALL_FAILED;
	}
}

static void finish(struct http_call *call, CURLcode rc)
{
	struct http_call_result res = {
		.error = error_of(rc),
		.message = rc == CURLE_OK ? NULL : curl_easy_strerror(rc),
	};
	curl_off_t us = 0;
	long request_bytes = 0;
	curl_easy_getinfo(call->easy, CURLINFO_REQUEST_SIZE, &request_bytes);
	res.sent = request_bytes > 0;
	curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &res.status);
	curl_easy_getinfo(call->easy, CURLINFO_TOTAL_TIME_T, &us);
	res.total_us = us > 0 ? (uint64_t)us : 0;
	call->finishing = true;
	if (call->on_done)
		call->on_done(call->ctx, &res);
	call_free(call);
}

/* Frees the calls cancelled inside libcurl (which also drops their
 * completion messages), then reports every finished call. Outside libcurl
 * only. */
static void settle(struct http_client *c)
{
	if (c->reap_wanted) {
		c->reap_wanted = false;
		struct http_call *call, *next;
		list_for_each_safe(call, next, &c->calls, link)
		{
			if (call->cancelled)
				call_free(call);
		}
	}
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct http_call *call = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
		CURLcode rc = msg->data.result;
		if (call)
			finish(call, rc); /* msg is invalid from here */
	}
}

/* ---- libcurl <-> loop ----------------------------------------------------------- */

static void socket_action(struct http_client *c, curl_socket_t fd, int flags)
{
	int running;
	c->in_curl++;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	c->in_curl--;
}

static void on_fd(void *ctx, uint32_t events)
{
	struct sock *k = ctx;
	struct http_client *c = k->c;
	int flags = 0;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	socket_action(c, k->fd, flags); /* may free k */
	settle(c);
}

static void sock_free(struct http_client *c, struct sock *k)
{
	loop_del_fd(c->loop, k->watch);
	list_del(&k->link);
	free(k);
}

static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *c = userp;
	struct sock *k = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (k) {
			curl_multi_assign(c->multi, fd, NULL);
			sock_free(c, k);
		}
		return 0;
	}
	uint32_t ev =
		((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (k)
		return loop_mod_fd(c->loop, k->watch, ev) == 0 ? 0 : -1;
	k = xcalloc(1, sizeof(*k));
	k->c = c;
	k->fd = fd;
	k->watch = loop_add_fd(c->loop, fd, ev, on_fd, k);
	if (k->watch == NULL) {
		free(k);
		return -1;
	}
	list_add_tail(&c->socks, &k->link);
	curl_multi_assign(c->multi, fd, k);
	return 0;
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct http_client *c = userp;
	c->timer_due = timeout_ms < 0 ? UINT64_MAX : clock_mono_ms() + (uint64_t)timeout_ms;
	return 0;
}

static int64_t time_left(void *ctx)
{
	struct http_client *c = ctx;
	if (c->resume_wanted || h1_engine_has_pending(c->h1))
		return 0;
	if (c->timer_due == UINT64_MAX)
		return -1;
	uint64_t now = clock_mono_ms();
	return c->timer_due > now ? (int64_t)(c->timer_due - now) : 0;
}

static void on_due(void *ctx)
{
	struct http_client *c = ctx;
	h1_engine_run_pending(c->h1);
	c->in_curl++;
	if (c->resume_wanted)
		resume_calls(c);
	c->in_curl--;
	if (c->timer_due != UINT64_MAX && c->timer_due <= clock_mono_ms()) {
		c->timer_due = UINT64_MAX;
		socket_action(c, CURL_SOCKET_TIMEOUT, 0);
	}
	settle(c);
}

/* ---- the client ------------------------------------------------------------------ */

struct http_client *http_client_new(struct loop *l)
{
	struct http_client *c = xcalloc(1, sizeof(*c));
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		free(c);
		return NULL;
	}
	c->loop = l;
	list_init(&c->socks);
	list_init(&c->calls);
	c->timer_due = UINT64_MAX;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	/* idle connections kept for reuse (etcd's proxy: 128 per host) */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)HTTP_CLIENT_MAX_IDLE);
	c->h1 = h1_engine_new(l);
	loop_add_timeout_source(l, time_left, on_due, c);
	return c;
}

static bool set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

void http_client_tls_apply(void *easy, const struct http_client_tls *tls)
{
	CURL *e = easy;
	if (set(tls->ca_file))
		curl_easy_setopt(e, CURLOPT_CAINFO, tls->ca_file);
	if (set(tls->cert_file) && set(tls->key_file)) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, tls->cert_file);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY, tls->key_file);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, tls->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, tls->insecure ? 0L : 2L);
}

static void tls_clear(struct http_client_tls *t)
{
	free((char *)t->ca_file);
	free((char *)t->cert_file);
	free((char *)t->key_file);
	memset(t, 0, sizeof(*t));
}

static char *dup_or_null(const char *s)
{
	return set(s) ? xstrdup(s) : NULL;
}

void http_client_set_tls(struct http_client *c, const struct http_client_tls *tls)
{
	tls_clear(&c->tls);
	c->has_tls = tls != NULL;
	if (tls == NULL)
		return;
	c->tls.ca_file = dup_or_null(tls->ca_file);
	c->tls.cert_file = dup_or_null(tls->cert_file);
	c->tls.key_file = dup_or_null(tls->key_file);
	c->tls.insecure = tls->insecure;
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	h1_engine_free(c->h1);
	tls_clear(&c->tls);
	while (!list_empty(&c->calls))
		call_free(list_first(&c->calls, struct http_call, link));
	while (c->n_spare > 0)
		curl_easy_cleanup(c->spare[--c->n_spare]);
	curl_multi_cleanup(c->multi);
	while (!list_empty(&c->socks)) /* sockets libcurl did not report removed */
		sock_free(c, list_first(&c->socks, struct sock, link));
	loop_del_timeout_source(c->loop, c);
	free(c);
}
