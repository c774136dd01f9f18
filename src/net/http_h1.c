/* http_h1.c - the HTTP client's engine for plain http:// calls to IPv4
 * addresses (see http_h1.h). One call at a time per connection; finished
 * connections that may be kept alive wait in a pool (most recent first, at
 * most H1_MAX_IDLE) and are closed if anything arrives on them while idle.
 *
 * A call's life:
 *   start      take an idle connection to the address or connect anew
 *   pump       (fd events, resumes) connect, write the request, read,
 *              parse: head -> on_head, body (sized, chunked or to EOF) ->
 *              on_data, end -> finish
 *   finish     the connection back to the pool or closed, on_done, freed
 * A request sent on a pooled connection that dies before any byte of an
 * answer is sent once more on a new connection (the server had closed the
 * idle connection: it never saw the request), as libcurl does.
 *
 * Reentrancy as http_client.h says: on_head and on_data may pause, resume
 * or cancel (a cancel is only marked there and acted on when they return);
 * on_done runs after the call left every list; nothing is called back from
 * an API call (a connect refused at once is reported from the loop). */
#include "net/http_h1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/loop.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/list.h"
#include "util/xalloc.h"

#define H1_MAX_IDLE	      128	  /* pooled connections, all addresses */
#define H1_MAX_HEAD	      (64 * 1024) /* a longer response head fails the call */
#define H1_MAX_HEADERS	      64	  /* more are not passed on */
#define H1_RECV		      (64 * 1024) /* bytes read at once */
#define H1_TICK_MS	      50	  /* deadline checks */
#define H1_CONNECT_DEFAULT_MS 300000	  /* libcurl's default */

struct h1_conn {
	struct h1_engine *eng;
	int fd;
	struct loop_fd *watch;
	uint32_t events; /* what the loop watches for */
	struct sockaddr_in addr;
	bool connecting;
	struct http_call *call; /* NULL while idle */
	struct list link;	/* in eng->idle while idle */
};

enum parse_state {
	P_HEAD,
	P_SIZED,      /* `left` body bytes to go */
	P_CHUNK_SIZE, /* a chunk-size line */
	P_CHUNK_DATA, /* `left` bytes of the chunk */
	P_CHUNK_END,  /* the CRLF after a chunk */
	P_TRAILERS,   /* trailer lines up to an empty one */
	P_TO_EOF,     /* the body ends when the server closes */
	P_DONE,
};

/* The h1 engine's call (http_client.h's opaque struct http_call). */
struct http_call {
	enum http_engine_kind kind; /* HTTP_ENGINE_H1: first, as in http_client.c */
	struct h1_engine *eng;
	struct list link; /* in eng->calls, eng->pending or a local list */
	struct h1_conn *conn;
	struct sockaddr_in addr;
	struct buf req; /* the request, kept until an answer starts (resend) */
	size_t req_pos;
	bool sent_any;
	bool head_only;
	bool reused;   /* on a pooled connection */
	bool resent;   /* the request was sent a second time */
	struct buf in; /* received bytes not yet parsed or delivered */
	size_t in_pos;
	enum parse_state state;
	uint64_t left;
	long status;
	bool keep_alive;
	bool answer_started; /* some byte of an answer arrived */
	bool eof;	     /* the server closed its side */
	bool paused;
	bool cancelled;
	bool in_callback;
	bool finishing;
	enum http_call_error pending_error; /* to report from the loop */
	uint64_t start_us;		    /* for the result's total_us */
	uint64_t start_ms, connect_deadline_ms, total_deadline_ms;
	uint64_t stall_ms, last_progress_ms;
	http_head_fn on_head;
	http_data_fn on_data;
	http_done_fn on_done;
	void *ctx;
};

struct h1_engine {
	struct loop *loop;
	struct list calls;   /* calls in flight */
	struct list pending; /* calls to pump from the loop (resumed, failed at start) */
	struct list idle;    /* struct h1_conn.link, most recent first */
	unsigned n_idle;
	struct loop_timer *tick;
	char *rbuf; /* H1_RECV bytes: every read lands here first */
};

static void pump(struct http_call *call, uint32_t events);
static void finish(struct http_call *call, enum http_call_error err, const char *msg);
static void drop_call(struct http_call *call);
static void update_watch(struct http_call *call);

/* ---- connections ---------------------------------------------------------------- */

static void conn_close(struct h1_conn *conn)
{
	if (conn->watch)
		loop_del_fd(conn->eng->loop, conn->watch);
	close(conn->fd);
	free(conn);
}

static void conn_watch(struct h1_conn *conn, uint32_t events)
{
	if (conn->events == events || conn->watch == NULL)
		return;
	conn->events = events;
	loop_mod_fd(conn->eng->loop, conn->watch, events);
}

static void on_conn_event(void *ctx, uint32_t events)
{
	struct h1_conn *conn = ctx;
	if (conn->call == NULL) { /* idle: the server closed it (or misbehaves) */
		list_del(&conn->link);
		conn->eng->n_idle--;
		conn_close(conn);
		return;
	}
	pump(conn->call, events);
}

static struct h1_conn *conn_open(struct h1_engine *e, const struct sockaddr_in *addr, int *err)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	bool connecting = false;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
		if (errno != EINPROGRESS) {
			*err = errno;
			close(fd);
			return NULL;
		}
		connecting = true;
	}
	struct h1_conn *conn = xcalloc(1, sizeof(*conn));
	conn->eng = e;
	conn->fd = fd;
	conn->addr = *addr;
	conn->connecting = connecting;
	conn->events = EPOLLOUT;
	conn->watch = loop_add_fd(e->loop, fd, EPOLLOUT, on_conn_event, conn);
	if (conn->watch == NULL) {
		*err = errno ? errno : EMFILE;
		conn_close(conn);
		return NULL;
	}
	return conn;
}

static bool same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* A pooled connection to addr, or NULL. */
static struct h1_conn *pool_take(struct h1_engine *e, const struct sockaddr_in *addr)
{
	struct h1_conn *conn;
	list_for_each(conn, &e->idle, link)
	{
		if (same_addr(&conn->addr, addr)) {
			list_del(&conn->link);
			e->n_idle--;
			return conn;
		}
	}
	return NULL;
}

static void pool_put(struct h1_engine *e, struct h1_conn *conn)
{
	conn->call = NULL;
	conn_watch(conn, EPOLLIN | EPOLLRDHUP); /* anything now means it is done */
	/* most recent first: inserted before the first element */
	list_add_tail(e->idle.next, &conn->link);
	if (++e->n_idle > H1_MAX_IDLE) {
		struct h1_conn *oldest = list_entry(e->idle.prev, struct h1_conn, link);
		list_del(&oldest->link);
		e->n_idle--;
		conn_close(oldest);
	}
}

/* ---- the request ----------------------------------------------------------------- */

/* "http://a.b.c.d[:port][/path...]" -> address and request target. */
static bool parse_url(const char *url, struct sockaddr_in *addr, const char **target)
{
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	const char *host = url + 7;
	size_t hlen = strcspn(host, ":/?#");
	char ip[INET_ADDRSTRLEN];
	if (hlen == 0 || hlen >= sizeof(ip))
		return false;
	memcpy(ip, host, hlen);
	ip[hlen] = '\0';
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	if (strcmp(ip, "localhost") == 0)
		strcpy(ip, "127.0.0.1");
	if (inet_pton(AF_INET, ip, &addr->sin_addr) != 1)
		return false;
	const char *p = host + hlen;
	unsigned long port = 80;
	if (*p == ':') {
		char *end;
		port = strtoul(p + 1, &end, 10);
		if (end == p + 1 || port == 0 || port > 65535)
			return false;
		p = end;
	}
	if (*p == '#')
		return false;
	addr->sin_port = htons((uint16_t)port);
	*target = p;
	return true;
}

bool h1_accepts(const struct http_call_spec *spec)
{
	struct sockaddr_in addr;
	const char *target;
	return spec->reader == NULL && parse_url(spec->url, &addr, &target);
}

static bool method_sends_body(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	       strcmp(method, "PATCH") == 0;
}

static void build_request(struct http_call *call, const struct http_call_spec *sp,
			  const char *target)
{
	struct buf *b = &call->req;
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &call->addr.sin_addr, ip, sizeof(ip));
	buf_printf(b, "%s %s%s HTTP/1.1\r\nHost: %s:%u\r\n", sp->method,
		   target[0] == '/' ? "" : "/", target, ip, ntohs(call->addr.sin_port));
	for (size_t i = 0; i < sp->n_headers; i++) {
		const char *h = sp->headers[i];
		const char *colon = strchr(h, ':');
		if (colon == NULL || colon[1 + strspn(colon + 1, " \t")] == '\0')
			continue; /* "Name:" removes a header libcurl adds: none here */
		if (strncasecmp(h, "Host:", 5) == 0 || strncasecmp(h, "Content-Length:", 15) == 0)
			continue;
		buf_puts(b, h);
		buf_puts(b, "\r\n");
	}
	if (sp->body != NULL || method_sends_body(sp->method))
		buf_printf(b, "Content-Length: %zu\r\n", sp->body ? sp->body_len : 0);
	buf_puts(b, "\r\n");
	if (sp->body && sp->body_len)
		buf_append(b, sp->body, sp->body_len);
}

/* ---- parsing the answer ------------------------------------------------------------ */

static bool header_is(const char *name, const char *want)
{
	return strcasecmp(name, want) == 0;
}

static bool value_has_token(const char *value, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = value; *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, ",");
		size_t t = len;
		while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
			t--;
		if (t == n && strncasecmp(p, token, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* Parses one head in line[0..len) (the blank line excluded), in place. Returns
 * false if it is not an HTTP/1.x response head. */
static bool parse_head(struct http_call *call, char *head, size_t len)
{
	head[len] = '\0';
	int minor;
	int status;
	if (sscanf(head, "HTTP/1.%d %d", &minor, &status) != 2 || status < 100 || status > 999)
		return false;
	struct http_header hdrs[H1_MAX_HEADERS];
	size_t n = 0;
	bool chunked = false, has_length = false, close_conn = false, keep_conn = false;
	uint64_t length = 0;
	char *line = strstr(head, "\r\n");
	while (line != NULL) {
		line += 2;
		char *end = strstr(line, "\r\n");
		if (end)
			*end = '\0';
		char *colon = strchr(line, ':');
		if (colon != NULL && colon != line) {
			*colon = '\0';
			char *value = colon + 1 + strspn(colon + 1, " \t");
			size_t vlen = strlen(value);
			while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
				value[--vlen] = '\0';
			if (header_is(line, "Transfer-Encoding"))
				chunked = value_has_token(value, "chunked");
			else if (header_is(line, "Content-Length")) {
				char *e;
				length = strtoull(value, &e, 10);
				has_length = e != value && *e == '\0';
			} else if (header_is(line, "Connection")) {
				close_conn = value_has_token(value, "close");
				keep_conn = value_has_token(value, "keep-alive");
			}
			if (n < H1_MAX_HEADERS)
				hdrs[n++] = (struct http_header){line, value};
		}
		line = end;
	}
	if (status < 200) /* 1xx: the real answer follows */
		return true;
	call->status = status;
	call->keep_alive = minor >= 1 ? !close_conn : keep_conn;
	if (call->head_only || status == 204 || status == 304) {
		call->state = P_DONE;
	} else if (chunked) {
		call->state = P_CHUNK_SIZE;
	} else if (has_length) {
		call->left = length;
		call->state = length ? P_SIZED : P_DONE;
	} else {
		call->state = P_TO_EOF;
		call->keep_alive = false;
	}
	if (call->on_head) {
		struct http_response_head h = {status, hdrs, n};
		call->in_callback = true;
		call->on_head(call->ctx, &h);
		call->in_callback = false;
	}
	return true;
}

/* Hands n bytes at data to on_data. Returns false if the call paused (the
 * bytes were not taken) or was cancelled. */
static bool deliver(struct http_call *call, const char *data, size_t n)
{
	if (n == 0 || call->on_data == NULL)
		return !call->cancelled;
	call->in_callback = true;
	int rc = call->on_data(call->ctx, data, n);
	call->in_callback = false;
	if (rc == HTTP_PAUSE)
		call->paused = true;
	return rc != HTTP_PAUSE && !call->cancelled;
}

/* Parses what it can of data[0..len). Returns the bytes consumed, or -1
 * when the answer is malformed. Stops at a pause, a cancel or the end. */
static ssize_t parse(struct http_call *call, char *data, size_t len)
{
	size_t pos = 0;
	while (pos < len && !call->paused && !call->cancelled && call->state != P_DONE) {
		char *p = data + pos;
		size_t avail = len - pos;
		switch (call->state) {
		case P_HEAD: {
			char *end = memmem(p, avail, "\r\n\r\n", 4);
			if (end == NULL)
				return avail > H1_MAX_HEAD ? -1 : (ssize_t)pos;
			if (!parse_head(call, p, (size_t)(end - p)))
				return -1;
			pos += (size_t)(end - p) + 4;
			break;
		}
		case P_SIZED:
		case P_CHUNK_DATA:
		case P_TO_EOF: {
			size_t n = call->state == P_TO_EOF ? avail :
				   avail < call->left	   ? avail :
							     (size_t)call->left;
			if (!deliver(call, p, n))
				return (ssize_t)pos;
			pos += n;
			if (call->state != P_TO_EOF && (call->left -= n) == 0)
				call->state = call->state == P_SIZED ? P_DONE : P_CHUNK_END;
			break;
		}
		case P_CHUNK_SIZE: {
			char *nl = memmem(p, avail, "\r\n", 2);
			if (nl == NULL)
				return avail > 1024 ? -1 : (ssize_t)pos;
			char *e;
			unsigned long long size = strtoull(p, &e, 16);
			if (e == p || (*e != ';' && *e != '\r' && *e != ' ' && *e != '\t'))
				return -1;
			pos += (size_t)(nl - p) + 2;
			call->left = size;
			call->state = size ? P_CHUNK_DATA : P_TRAILERS;
			break;
		}
		case P_CHUNK_END:
			if (avail < 2)
				return (ssize_t)pos;
			if (p[0] != '\r' || p[1] != '\n')
				return -1;
			pos += 2;
			call->state = P_CHUNK_SIZE;
			break;
		case P_TRAILERS: {
			char *nl = memmem(p, avail, "\r\n", 2);
			if (nl == NULL)
				return avail > H1_MAX_HEAD ? -1 : (ssize_t)pos;
			pos += (size_t)(nl - p) + 2;
			if (nl == p)
				call->state = P_DONE;
			break;
		}
		case P_DONE:
			break;
		}
	}
	return (ssize_t)pos;
}

/* Parses the buffered bytes, then `fresh` (just read), keeping whatever is
 * not consumed in call->in. Returns false if the answer is malformed. */
static bool consume(struct http_call *call, char *fresh, size_t n)
{
	if (call->in.len > call->in_pos) { /* earlier bytes wait: parse them first */
		if (n > 0)
			buf_append(&call->in, fresh, n);
		ssize_t used =
			parse(call, call->in.data + call->in_pos, call->in.len - call->in_pos);
		if (used < 0)
			return false;
		call->in_pos += (size_t)used;
		if (call->in_pos == call->in.len) {
			buf_free(&call->in);
			call->in_pos = 0;
		}
		return true;
	}
	buf_free(&call->in);
	call->in_pos = 0;
	ssize_t used = parse(call, fresh, n);
	if (used < 0)
		return false;
	if ((size_t)used < n)
		buf_append(&call->in, fresh + used, n - (size_t)used);
	return true;
}

/* ---- pumping --------------------------------------------------------------------- */

static const char *errno_message(int err)
{
	return strerror(err);
}

static bool write_request(struct http_call *call)
{
	while (call->req_pos < call->req.len) {
		ssize_t n = send(call->conn->fd, call->req.data + call->req_pos,
				 call->req.len - call->req_pos, MSG_NOSIGNAL);
		if (n > 0) {
			call->req_pos += (size_t)n;
			call->sent_any = true;
			call->last_progress_ms = clock_mono_ms();
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0 && errno == EINTR)
			continue;
		return false;
	}
	return true;
}

/* The pooled connection died before any answer: send once more on a new
 * one. Returns false if that is not allowed or possible. */
static bool resend(struct http_call *call)
{
	if (!call->reused || call->resent || call->answer_started)
		return false;
	conn_close(call->conn);
	call->conn = NULL;
	call->resent = true;
	call->reused = false;
	call->req_pos = 0;
	call->eof = false;
	buf_free(&call->in);
	call->in_pos = 0;
	int err = 0;
	call->conn = conn_open(call->eng, &call->addr, &err);
	if (call->conn == NULL)
		return false;
	call->conn->call = call;
	update_watch(call); /* pumped again when connected */
	return true;
}

/* Reads what is there (unless paused; at a hang-up, everything). Returns
 * false on a read error. */
static bool read_answer(struct http_call *call, uint32_t events)
{
	char *chunk = call->eng->rbuf;
	bool hangup = (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) != 0;
	while (!call->eof && !call->cancelled && (!call->paused || hangup)) {
		ssize_t n = recv(call->conn->fd, chunk, H1_RECV, 0);
		if (n > 0) {
			call->answer_started = true;
			call->last_progress_ms = clock_mono_ms();
			if (call->paused) {
				buf_append(&call->in, chunk, (size_t)n);
				continue;
			}
			if (!consume(call, chunk, (size_t)n))
				return false;
			if (call->state == P_DONE)
				return true;
			continue;
		}
		if (n == 0) {
			call->eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return false;
	}
	if (call->answer_started && call->req.data) { /* no resend from here */
		buf_free(&call->req);
		call->req_pos = 0;
	}
	return true;
}

static void update_watch(struct http_call *call)
{
	struct h1_conn *conn = call->conn;
	if (call->eof) { /* all read: an unmaskable EPOLLHUP would wake us for ever */
		if (conn->watch) {
			loop_del_fd(conn->eng->loop, conn->watch);
			conn->watch = NULL;
		}
		return;
	}
	uint32_t ev = 0;
	if (conn->connecting || call->req_pos < call->req.len)
		ev |= EPOLLOUT;
	if (!call->paused)
		ev |= EPOLLIN | EPOLLRDHUP;
	conn_watch(conn, ev);
}

static bool connect_done(struct http_call *call, uint32_t events, int *err)
{
	struct h1_conn *conn = call->conn;
	if (!conn->connecting)
		return true;
	if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return true; /* not yet */
	socklen_t len = sizeof(*err);
	*err = 0;
	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, err, &len) != 0)
		*err = errno;
	if (*err != 0)
		return false;
	conn->connecting = false;
	return true;
}

/* The end of the server's side, with the answer where it is. */
static void on_eof(struct http_call *call)
{
	if (call->state == P_TO_EOF) {
		call->state = P_DONE;
		finish(call, HTTP_CALL_OK, NULL);
	} else if (call->state == P_DONE) {
		finish(call, HTTP_CALL_OK, NULL);
	} else if (!resend(call)) {
		finish(call, HTTP_CALL_FAILED, "Connection closed before the answer was complete");
	}
}

static void pump(struct http_call *call, uint32_t events)
{
	if (call->pending_error) {
		finish(call, call->pending_error, "Could not connect");
		return;
	}
	int err = 0;
	if (!connect_done(call, events, &err)) {
		finish(call, HTTP_CALL_CONNECT, errno_message(err));
		return;
	}
	if (call->conn->connecting) {
		update_watch(call);
		return;
	}
	if (!write_request(call)) {
		if (!resend(call))
			finish(call, HTTP_CALL_FAILED, errno_message(errno));
		return;
	}
	if (call->in.len > call->in_pos && !call->paused && !consume(call, NULL, 0)) {
		finish(call, HTTP_CALL_FAILED, "Malformed answer");
		return;
	}
	if (call->state != P_DONE && !read_answer(call, events)) {
		if (!resend(call))
			finish(call, HTTP_CALL_FAILED, errno_message(errno));
		return;
	}
	if (call->cancelled) { /* by its own on_head or on_data */
		drop_call(call);
		return;
	}
	if (call->state == P_DONE) {
		finish(call, HTTP_CALL_OK, NULL);
		return;
	}
	if (call->eof && !call->paused) {
		if (call->in.len > call->in_pos && !consume(call, NULL, 0))
			finish(call, HTTP_CALL_FAILED, "Malformed answer");
		else
			on_eof(call);
		return;
	}
	update_watch(call);
}

/* ---- finishing -------------------------------------------------------------------- */

static void call_free(struct http_call *call)
{
	buf_free(&call->req);
	buf_free(&call->in);
	free(call);
}

static void release_conn(struct http_call *call, bool reusable)
{
	struct h1_conn *conn = call->conn;
	if (conn == NULL)
		return;
	call->conn = NULL;
	conn->call = NULL;
	if (reusable && !conn->connecting)
		pool_put(call->eng, conn);
	else
		conn_close(conn);
}

static void finish(struct http_call *call, enum http_call_error err, const char *msg)
{
	bool reusable = err == HTTP_CALL_OK && call->keep_alive && !call->eof &&
			call->in.len == call->in_pos;
	release_conn(call, reusable);
	list_del(&call->link);
	struct http_call_result res = {
		.error = err,
		.message = err == HTTP_CALL_OK ? NULL : msg,
		.status = call->status,
		.sent = call->sent_any,
		.total_us = clock_mono_us() - call->start_us,
	};
	call->finishing = true;
	if (call->on_done)
		call->on_done(call->ctx, &res);
	call_free(call);
}

/* ---- the API (through http_client.c) --------------------------------------------- */

/* Calls whose deadline passed fail with HTTP_CALL_TIMEOUT. */
static void on_tick(void *ctx)
{
	struct h1_engine *e = ctx;
	uint64_t now = clock_mono_ms();
	struct list expired;
	list_init(&expired);
	struct http_call *call, *tmp;
	list_for_each_safe(call, tmp, &e->calls, link)
	{
		bool late = (call->conn && call->conn->connecting &&
			     now >= call->connect_deadline_ms) ||
			    (call->total_deadline_ms && now >= call->total_deadline_ms) ||
			    (call->stall_ms && !call->paused &&
			     now - call->last_progress_ms >= call->stall_ms);
		if (late) {
			list_del(&call->link);
			list_add_tail(&expired, &call->link);
		}
	}
	while (!list_empty(&expired)) { /* on_done may cancel any of them */
		call = list_first(&expired, struct http_call, link);
		finish(call, HTTP_CALL_TIMEOUT, "Timeout was reached");
	}
}

struct h1_engine *h1_engine_new(struct loop *l)
{
	struct h1_engine *e = xcalloc(1, sizeof(*e));
	e->loop = l;
	list_init(&e->calls);
	list_init(&e->pending);
	list_init(&e->idle);
	e->tick = loop_add_timer(l, H1_TICK_MS, on_tick, e);
	e->rbuf = xmalloc(H1_RECV);
	return e;
}

static void drop_call(struct http_call *call)
{
	release_conn(call, false);
	list_del(&call->link);
	call_free(call);
}

void h1_engine_free(struct h1_engine *e)
{
	if (e == NULL)
		return;
	while (!list_empty(&e->calls))
		drop_call(list_first(&e->calls, struct http_call, link));
	while (!list_empty(&e->pending))
		drop_call(list_first(&e->pending, struct http_call, link));
	while (!list_empty(&e->idle)) {
		struct h1_conn *conn = list_first(&e->idle, struct h1_conn, link);
		list_del(&conn->link);
		conn_close(conn);
	}
	loop_del_timer(e->loop, e->tick);
	free(e->rbuf);
	free(e);
}

bool h1_engine_has_pending(const struct h1_engine *e)
{
	return !list_empty(&e->pending);
}

/* Pumps the calls resumed (or failed at start) since the last time, from
 * the loop. */
void h1_engine_run_pending(struct h1_engine *e)
{
	while (!list_empty(&e->pending)) {
		struct http_call *call = list_first(&e->pending, struct http_call, link);
		list_del(&call->link);
		list_add_tail(&e->calls, &call->link);
		bool connecting = call->conn && call->conn->connecting;
		pump(call, connecting || call->eof ? 0 : EPOLLIN | EPOLLOUT);
	}
}

static void make_pending(struct http_call *call)
{
	list_del(&call->link);
	list_add_tail(&call->eng->pending, &call->link);
}

struct http_call *h1_call_start(struct h1_engine *e, const struct http_call_spec *spec)
{
	struct http_call *call = xcalloc(1, sizeof(*call));
	const char *target = "/";
	parse_url(spec->url, &call->addr, &target);
	call->kind = HTTP_ENGINE_H1;
	call->eng = e;
	call->head_only = strcmp(spec->method, "HEAD") == 0;
	call->on_head = spec->on_head;
	call->on_data = spec->on_data;
	call->on_done = spec->on_done;
	call->ctx = spec->ctx;
	call->start_ms = call->last_progress_ms = clock_mono_ms();
	call->start_us = clock_mono_us();
	call->connect_deadline_ms =
		call->start_ms + (spec->connect_ms ? spec->connect_ms : H1_CONNECT_DEFAULT_MS);
	call->total_deadline_ms = spec->total_ms ? call->start_ms + spec->total_ms : 0;
	call->stall_ms = spec->stall_s ? (uint64_t)spec->stall_s * 1000 : 0;
	build_request(call, spec, target);
	list_add_tail(&e->calls, &call->link);
	call->conn = pool_take(e, &call->addr);
	call->reused = call->conn != NULL;
	int err = 0;
	if (call->conn == NULL)
		call->conn = conn_open(e, &call->addr, &err);
	if (call->conn == NULL) {
		call->pending_error = HTTP_CALL_CONNECT;
		make_pending(call);
		return call;
	}
	call->conn->call = call;
	/* a fresh connection reports writable when connected; a pooled one
	 * is written at once, from the loop */
	if (call->reused)
		make_pending(call);
	else
		update_watch(call);
	return call;
}

void h1_call_cancel(struct http_call *call)
{
	if (call->cancelled || call->finishing)
		return;
	call->cancelled = true;
	if (call->in_callback)
		return; /* parse() stops and pump() frees it when the callback returns */
	drop_call(call);
}

void h1_call_pause(struct http_call *call)
{
	if (call->paused || call->cancelled || call->finishing)
		return;
	call->paused = true;
	if (!call->in_callback && call->conn)
		update_watch(call);
}

void h1_call_resume(struct http_call *call)
{
	if (!call->paused || call->cancelled || call->finishing)
		return;
	call->paused = false;
	make_pending(call);
}

bool h1_call_sent(const struct http_call *call)
{
	return call->req.data == NULL || call->req_pos == call->req.len;
}
