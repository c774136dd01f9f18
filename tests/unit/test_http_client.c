/* test_http_client.c - net/http_client (both engines: the scenarios on
 * http://127.0.0.1 run on its own HTTP/1.1 engine, those with a body reader
 * on libcurl's multi interface) against an in-process libmicrohttpd server on 127.0.0.1 (a free port in
 * 20000-31999, one thread per connection, so a handler may sleep).
 *
 * The loop cannot be restarted once stopped, so every scenario runs with a
 * fresh loop and client as a small state machine: a 1 ms loop timer (and
 * every loop iteration) calls the scenario's step function, which acts,
 * waits for a condition, checks, and finally stops the loop. Every scenario
 * has a deadline. Scenarios: GET with response headers; POST, PUT, DELETE
 * and HEAD; a streamed (chunked) response arriving in pieces; request
 * bodies from a reader that pauses (chunked and known length); pause and
 * resume of a large response, by http_call_pause and by on_data returning
 * HTTP_PAUSE; cancel from outside and from inside callbacks; total and
 * stall timeouts; connection refused; keep-alive with calls started from
 * on_done; freeing the client with a call in flight. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "net/http_client.h"
#include "net/loop.h"
#include "util/buf.h"
#include "util/clock.h"

#define PORT_LOW      20000u
#define PORT_SPAN     12000u
#define BIG_LEN	      ((size_t)32 << 20) /* more than loopback socket buffers hold */
#define STREAM_CHUNKS 5
#define SLOW_MS	      3000u

/* ---- the server (its own threads) -------------------------------------------- */

struct server {
	struct MHD_Daemon *d;
	char base[64]; /* "http://127.0.0.1:<port>" */
	atomic_size_t connections, started, big_sent;
	atomic_bool stopping;
};

struct req_ctx {
	struct buf body;
};

struct stream {
	struct server *sv;
	int next;
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i % 251);
}

static ssize_t big_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct server *sv = cls;
	size_t n = BIG_LEN - (size_t)pos < max ? BIG_LEN - (size_t)pos : max;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)pattern((size_t)pos + i);
	atomic_fetch_add(&sv->big_sent, n);
	return (ssize_t)n;
}

/* STREAM_CHUNKS lines, 30 ms apart. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *st = cls;
	if (st->next == STREAM_CHUNKS)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (st->next > 0)
		usleep(30000);
	if (atomic_load(&st->sv->stopping))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return snprintf(buf, max, "chunk-%d\n", st->next++);
}

static void sleep_unless_stopping(struct server *sv, unsigned ms)
{
	for (unsigned t = 0; t < ms && !atomic_load(&sv->stopping); t += 10)
		usleep(10000);
}

static const char *header_or_none(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	return v ? v : "none";
}

static struct MHD_Response *text(const char *s)
{
	return MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
}

/* /hello, /echo (answers 201 with the body and what it saw), /stream, /big,
 * /slow (answers after SLOW_MS). */
static struct MHD_Response *route(struct server *sv, struct MHD_Connection *c, const char *url,
				  const char *method, struct req_ctx *x, unsigned *status)
{
	struct MHD_Response *r;
	*status = MHD_HTTP_OK;
	if (strcmp(url, "/hello") == 0) {
		r = text("hello world");
		MHD_add_response_header(r, "X-Test", "  yes ");
	} else if (strcmp(url, "/echo") == 0) {
		r = MHD_create_response_from_buffer(x->body.len, x->body.data ? x->body.data : "",
						    MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(r, "X-Method", method);
		MHD_add_response_header(r, "X-Got-Type", header_or_none(c, "Content-Type"));
		MHD_add_response_header(r, "X-Got-Length", header_or_none(c, "Content-Length"));
		*status = MHD_HTTP_CREATED;
	} else if (strcmp(url, "/stream") == 0) {
		struct stream *st = calloc(1, sizeof(*st));
		st->sv = sv;
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 256, stream_reader, st,
						      free);
	} else if (strcmp(url, "/big") == 0) {
		r = MHD_create_response_from_callback(BIG_LEN, 64 * 1024, big_reader, sv, NULL);
	} else if (strcmp(url, "/slow") == 0) {
		sleep_unless_stopping(sv, SLOW_MS);
		r = text("late");
	} else {
		r = text("not found");
		*status = MHD_HTTP_NOT_FOUND;
	}
	return r;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct server *sv = cls;
	struct req_ctx *x = *req_cls;
	if (x == NULL) {
		*req_cls = calloc(1, sizeof(*x));
		atomic_fetch_add(&sv->started, 1);
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(&x->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	unsigned status;
	struct MHD_Response *r = route(sv, c, url, method, x, &status);
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct req_ctx *x = *req_cls;
	if (x) {
		buf_free(&x->body);
		free(x);
		*req_cls = NULL;
	}
}

static void connection(void *cls, struct MHD_Connection *c, void **socket_context,
		       enum MHD_ConnectionNotificationCode toe)
{
	struct server *sv = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&sv->connections, 1);
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static uint16_t port_candidate(unsigned k)
{
	return (uint16_t)(PORT_LOW + ((unsigned)getpid() * 7u + k) % PORT_SPAN);
}

static struct server *server_start(void)
{
	struct server *sv = calloc(1, sizeof(*sv));
	for (unsigned k = 0; k < PORT_SPAN && sv->d == NULL; k++) {
		uint16_t port = port_candidate(k);
		struct sockaddr_in sa = loopback(port);
		sv->d = MHD_start_daemon(
			MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, port, NULL,
			NULL, handle, sv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			MHD_OPTION_NOTIFY_COMPLETED, completed, sv, MHD_OPTION_NOTIFY_CONNECTION,
			connection, sv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
		snprintf(sv->base, sizeof(sv->base), "http://127.0.0.1:%u", port);
	}
	if (sv->d == NULL) {
		fprintf(stderr, "cannot start the server\n");
		exit(2);
	}
	return sv;
}

static void server_stop(struct server *sv)
{
	atomic_store(&sv->stopping, true);
	MHD_stop_daemon(sv->d);
	free(sv);
}

/* A port in the range that nothing listens on (bound, then closed). */
static uint16_t closed_port(void)
{
	for (unsigned k = PORT_SPAN / 2;; k++) {
		uint16_t port = port_candidate(k);
		struct sockaddr_in sa = loopback(port);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (rc == 0)
			return port;
	}
}

/* ---- what a call received ------------------------------------------------------ */

struct got {
	struct http_call *call;
	/* the head */
	size_t n_heads;
	long head_status;
	char x_test[32], x_method[16], x_type[64], x_length[32];
	/* the body: kept, or checked against pattern() and counted */
	bool check_pattern;
	struct buf body;
	size_t body_bytes;
	bool body_ok;
	size_t n_chunks;
	uint64_t first_data_ms;
	/* the end */
	bool done;
	struct http_call_result res;
	uint64_t done_ms;
	/* behaviour asked by the scenario */
	size_t pause_at_chunk; /* 0 = never */
	bool pause_by_return;  /* HTTP_PAUSE instead of http_call_pause */
	uint64_t paused_ms;
	size_t cancel_self_at_chunk;
	struct http_call *cancel_at_first_chunk;
	int restarts; /* start a GET of restart_path again from on_done */
	const char *restart_path;
	struct env *env;
	/* the request body reader: parts, pausing once before the second */
	const char *const *parts;
	size_t n_parts, next_part;
	bool released;
	int reader_pauses;
};

static void copy_header(const struct http_response_head *h, const char *name, char *out, size_t n)
{
	snprintf(out, n, "none");
	for (size_t i = 0; i < h->n_headers; i++)
		if (strcasecmp(h->headers[i].name, name) == 0)
			snprintf(out, n, "%s", h->headers[i].value);
}

static void got_head(void *ctx, const struct http_response_head *h)
{
	struct got *g = ctx;
	g->n_heads++;
	g->head_status = h->status;
	copy_header(h, "X-Test", g->x_test, sizeof(g->x_test));
	copy_header(h, "X-Method", g->x_method, sizeof(g->x_method));
	copy_header(h, "X-Got-Type", g->x_type, sizeof(g->x_type));
	copy_header(h, "X-Got-Length", g->x_length, sizeof(g->x_length));
}

static void take(struct got *g, const char *data, size_t len)
{
	if (g->check_pattern) {
		for (size_t i = 0; i < len; i++)
			g->body_ok = g->body_ok && (uint8_t)data[i] == pattern(g->body_bytes + i);
	} else {
		buf_append(&g->body, data, len);
	}
	g->body_bytes += len;
}

static int got_data(void *ctx, const char *data, size_t len)
{
	struct got *g = ctx;
	g->n_chunks++;
	if (g->first_data_ms == 0)
		g->first_data_ms = clock_mono_ms();
	if (g->cancel_at_first_chunk) {
		http_call_cancel(g->cancel_at_first_chunk);
		g->cancel_at_first_chunk = NULL;
	}
	if (g->n_chunks == g->cancel_self_at_chunk)
		http_call_cancel(g->call);
	if (g->n_chunks == g->pause_at_chunk) {
		g->paused_ms = clock_mono_ms();
		if (g->pause_by_return)
			return HTTP_PAUSE; /* not taken: delivered again */
		http_call_pause(g->call);
	}
	take(g, data, len);
	return 0;
}

static ssize_t got_read(void *ctx, char *buf, size_t max)
{
	struct got *g = ctx;
	if (g->next_part == g->n_parts)
		return 0;
	if (g->next_part == 1 && !g->released) {
		g->reader_pauses++;
		return HTTP_READ_PAUSE;
	}
	const char *p = g->parts[g->next_part++];
	size_t n = strlen(p) < max ? strlen(p) : max;
	memcpy(buf, p, n);
	return (ssize_t)n;
}

/* ---- the scenario engine ---------------------------------------------------------- */

typedef void (*step_fn)(struct env *e);

struct env {
	const char *name;
	struct loop *l;
	struct http_client *c;
	struct server *sv;
	step_fn fn;
	int step;
	uint64_t deadline, mark;
	size_t connections0, started0, big_sent0; /* the server's counters at the start */
	bool done, stopped;
	struct got g[4];
};

static void env_tick(void *ctx)
{
	struct env *e = ctx;
	if (e->done || e->stopped)
		return;
	if (clock_mono_ms() > e->deadline) {
		fprintf(stderr, "%s: deadline passed at step %d\n", e->name, e->step);
		e->stopped = true;
		loop_stop(e->l);
		return;
	}
	e->fn(e);
}

static void finish(struct env *e)
{
	e->done = true;
	loop_stop(e->l);
}

static void run_scenario(struct server *sv, const char *name, step_fn fn, uint64_t deadline_ms)
{
	struct env e = {.name = name, .fn = fn, .sv = sv};
	for (size_t i = 0; i < 4; i++) {
		e.g[i].body_ok = true;
		e.g[i].env = &e;
	}
	e.l = loop_new();
	e.c = http_client_new(e.l);
	e.connections0 = atomic_load(&sv->connections);
	e.started0 = atomic_load(&sv->started);
	e.big_sent0 = atomic_load(&sv->big_sent);
	e.deadline = clock_mono_ms() + deadline_ms;
	loop_add_timer(e.l, 1, env_tick, &e);	  /* wakes the loop at least every ms */
	loop_add_before_sleep(e.l, env_tick, &e); /* and steps every iteration */
	loop_run(e.l);
	CHECK(e.done);
	if (!e.done)
		fprintf(stderr, "scenario %s did not finish\n", name);
	http_client_free(e.c); /* cancels whatever is in flight */
	loop_free(e.l);
	for (size_t i = 0; i < 4; i++)
		buf_free(&e.g[i].body);
}

static void got_done(void *ctx, const struct http_call_result *res);

static struct http_call_spec spec_for(struct got *g, const char *method, const char *url)
{
	return (struct http_call_spec){
		.method = method,
		.url = url,
		.connect_ms = 1000,
		.on_head = got_head,
		.on_data = got_data,
		.on_done = got_done,
		.ctx = g,
	};
}

static struct http_call *start(struct env *e, struct got *g, struct http_call_spec *spec,
			       const char *path)
{
	char url[128];
	snprintf(url, sizeof(url), "%s%s", e->sv->base, path);
	spec->url = url;
	const char *error = NULL;
	g->call = http_call_start(e->c, spec, &error);
	CHECK(g->call != NULL && error == NULL);
	return g->call;
}

static struct http_call *start_get(struct env *e, struct got *g, const char *path)
{
	struct http_call_spec spec = spec_for(g, "GET", NULL);
	return start(e, g, &spec, path);
}

static void got_done(void *ctx, const struct http_call_result *res)
{
	struct got *g = ctx;
	g->res = *res;
	g->done_ms = clock_mono_ms();
	g->call = NULL;
	if (g->restarts > 0) {
		g->restarts--;
		start_get(g->env, g, g->restart_path); /* starting from on_done */
		return;
	}
	g->done = true;
}

static bool all_done(struct env *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!e->g[i].done)
			return false;
	return true;
}

static const char *body_of(struct got *g)
{
	return g->body.data ? g->body.data : "";
}

static bool ok_with(const struct got *g, long status)
{
	return g->done && g->res.error == HTTP_CALL_OK && g->res.message == NULL &&
	       g->res.status == status;
}

/* ---- scenarios -------------------------------------------------------------------- */

/* A GET: its head (value trimmed), body and result; without on_head and
 * on_data, only the result. */
static void sc_get(struct env *e)
{
	struct got *g = &e->g[0], *bare = &e->g[1];
	switch (e->step) {
	case 0: {
		start_get(e, g, "/hello");
		struct http_call_spec s = spec_for(bare, "GET", NULL);
		s.on_head = NULL;
		s.on_data = NULL;
		start(e, bare, &s, "/hello");
		e->step++;
		break;
	}
	case 1:
		if (!all_done(e, 2))
			return;
		CHECK(ok_with(g, 200) && g->res.total_us > 0);
		CHECK(g->n_heads == 1 && g->head_status == 200);
		CHECK_STR(g->x_test, "yes");
		CHECK_STR(body_of(g), "hello world");
		CHECK(ok_with(bare, 200) && bare->n_heads == 0 && bare->n_chunks == 0);
		finish(e);
	}
}

/* POST, PUT and DELETE reach the server as such, with their bodies and
 * headers; HEAD gets a head and no body. All four run at once. */
static void sc_methods(struct env *e)
{
	struct got *post = &e->g[0], *put = &e->g[1], *del = &e->g[2], *head = &e->g[3];
	switch (e->step) {
	case 0: {
		const char *type[] = {"Content-Type: text/plain"};
		struct http_call_spec s = spec_for(post, "POST", NULL);
		s.headers = type;
		s.n_headers = 1;
		s.body = "a=1&b=2";
		s.body_len = 7;
		start(e, post, &s, "/echo");
		s = spec_for(put, "PUT", NULL);
		s.body = "put-body";
		s.body_len = 8;
		start(e, put, &s, "/echo");
		s = spec_for(del, "DELETE", NULL);
		start(e, del, &s, "/echo");
		s = spec_for(head, "HEAD", NULL);
		start(e, head, &s, "/hello");
		e->step++;
		break;
	}
	case 1:
		if (!all_done(e, 4))
			return;
		CHECK(ok_with(post, 201));
		CHECK_STR(body_of(post), "a=1&b=2");
		CHECK_STR(post->x_method, "POST");
		CHECK_STR(post->x_type, "text/plain");
		CHECK_STR(post->x_length, "7");
		CHECK(ok_with(put, 201));
		CHECK_STR(body_of(put), "put-body");
		CHECK_STR(put->x_method, "PUT");
		CHECK(ok_with(del, 201));
		CHECK_STR(del->x_method, "DELETE");
		CHECK_STR(del->x_length, "none");
		CHECK(del->body_bytes == 0);
		CHECK(ok_with(head, 200) && head->n_heads == 1 && head->body_bytes == 0);
		finish(e);
	}
}

/* A chunked response is delivered as it arrives, not at the end. */
static void sc_stream(struct env *e)
{
	struct got *g = &e->g[0];
	switch (e->step) {
	case 0:
		start_get(e, g, "/stream");
		e->step++;
		break;
	case 1:
		if (!g->done)
			return;
		CHECK(ok_with(g, 200));
		CHECK_STR(body_of(g), "chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n");
		CHECK(g->n_chunks >= 3);
		CHECK(g->done_ms - g->first_data_ms >= 100); /* 4 gaps of 30 ms */
		finish(e);
	}
}

static const char *const parts[] = {"part1", "part2", "part3"};

/* A request body from a reader that pauses after its first part, chunked
 * (length unknown) and with a known length. */
static void sc_reader(struct env *e)
{
	struct got *chunked = &e->g[0], *sized = &e->g[1];
	switch (e->step) {
	case 0:
		for (int i = 0; i < 2; i++) {
			struct got *g = &e->g[i];
			g->parts = parts;
			g->n_parts = 3;
			struct http_call_spec s = spec_for(g, "POST", NULL);
			s.reader = got_read;
			s.reader_len = i == 0 ? -1 : 15;
			start(e, g, &s, "/echo");
		}
		e->step++;
		break;
	case 1:
		if (chunked->reader_pauses < 1 || sized->reader_pauses < 1)
			return;
		e->mark = clock_mono_ms();
		e->step++;
		break;
	case 2:
		if (clock_mono_ms() - e->mark < 50)
			return;
		CHECK(!chunked->done && !sized->done);
		for (int i = 0; i < 2; i++) {
			e->g[i].released = true;
			http_call_resume(e->g[i].call);
		}
		e->step++;
		break;
	case 3:
		if (!all_done(e, 2))
			return;
		CHECK(ok_with(chunked, 201) && ok_with(sized, 201));
		CHECK_STR(body_of(chunked), "part1part2part3");
		CHECK_STR(body_of(sized), "part1part2part3");
		CHECK_STR(chunked->x_length, "none"); /* chunked */
		CHECK_STR(sized->x_length, "15");
		finish(e);
	}
}

/* A paused large response: nothing is delivered, the server is held back
 * (its sends block), other calls go on; after resume every byte arrives
 * once, in order. */
static void pause_scenario(struct env *e, bool by_return)
{
	struct got *g = &e->g[0], *other = &e->g[1];
	switch (e->step) {
	case 0:
		g->check_pattern = true;
		g->pause_at_chunk = 2;
		g->pause_by_return = by_return;
		start_get(e, g, "/big");
		e->step++;
		break;
	case 1:
		if (g->paused_ms == 0)
			return;
		e->mark = g->body_bytes;
		start_get(e, other, "/hello");
		e->step++;
		break;
	case 2:
		if (clock_mono_ms() - g->paused_ms < 300 || !other->done)
			return;
		CHECK(g->body_bytes == e->mark && !g->done);
		size_t sent = atomic_load(&e->sv->big_sent) - e->big_sent0;
		printf("paused at %zu bytes received, %zu sent\n", g->body_bytes, sent);
		CHECK(sent < BIG_LEN);
		CHECK(ok_with(other, 200));
		http_call_resume(g->call);
		e->step++;
		break;
	case 3:
		if (!g->done)
			return;
		CHECK(ok_with(g, 200));
		CHECK(g->body_bytes == BIG_LEN && g->body_ok);
		finish(e);
	}
}

static void sc_pause(struct env *e)
{
	pause_scenario(e, false);
}

static void sc_pause_by_return(struct env *e)
{
	pause_scenario(e, true);
}

/* A call cancelled from outside reports nothing; the client goes on; a call
 * left in flight is cancelled by http_client_free. */
static void sc_cancel(struct env *e)
{
	struct got *slow = &e->g[0], *next = &e->g[1], *left = &e->g[2];
	switch (e->step) {
	case 0:
		start_get(e, slow, "/slow");
		e->step++;
		break;
	case 1:
		if (atomic_load(&e->sv->started) - e->started0 < 1)
			return;
		http_call_cancel(slow->call);
		e->mark = clock_mono_ms();
		start_get(e, next, "/hello");
		e->step++;
		break;
	case 2:
		if (!next->done || clock_mono_ms() - e->mark < 300)
			return;
		CHECK(ok_with(next, 200));
		CHECK(!slow->done && slow->n_heads == 0 && slow->n_chunks == 0);
		start_get(e, left, "/slow");
		e->step++;
		break;
	case 3:
		if (atomic_load(&e->sv->started) - e->started0 < 3)
			return;
		finish(e); /* run_scenario frees the client with `left` in flight */
	}
}

/* Cancels from inside on_data: a call cancels another (in flight on its own
 * connection) and, later, itself. Neither reports anything more. */
static void sc_cancel_inside(struct env *e)
{
	struct got *slow = &e->g[0], *stream = &e->g[1], *after = &e->g[2];
	switch (e->step) {
	case 0:
		start_get(e, slow, "/slow");
		e->step++;
		break;
	case 1:
		if (atomic_load(&e->sv->started) - e->started0 < 1)
			return;
		stream->cancel_at_first_chunk = slow->call;
		stream->cancel_self_at_chunk = 2;
		start_get(e, stream, "/stream");
		e->step++;
		break;
	case 2:
		if (stream->n_chunks < 2)
			return;
		e->mark = clock_mono_ms();
		e->step++;
		break;
	case 3:
		if (clock_mono_ms() - e->mark < 300)
			return;
		CHECK(!slow->done && !stream->done && stream->n_chunks == 2);
		start_get(e, after, "/hello");
		e->step++;
		break;
	case 4:
		if (!after->done)
			return;
		CHECK(ok_with(after, 200));
		finish(e);
	}
}

/* A total limit and a stall limit both end a call that gets no answer. */
static void sc_timeout(struct env *e)
{
	struct got *total = &e->g[0], *stall = &e->g[1];
	switch (e->step) {
	case 0: {
		struct http_call_spec s = spec_for(total, "GET", NULL);
		s.total_ms = 300;
		start(e, total, &s, "/slow");
		s = spec_for(stall, "GET", NULL);
		s.stall_bytes_per_s = 1;
		s.stall_s = 1;
		start(e, stall, &s, "/slow");
		e->mark = clock_mono_ms();
		e->step++;
		break;
	}
	case 1:
		if (!all_done(e, 2))
			return;
		uint64_t t_total = total->done_ms - e->mark, t_stall = stall->done_ms - e->mark;
		printf("timeouts: total 300 ms after %" PRIu64 " ms, stall 1 s after %" PRIu64
		       " ms\n",
		       t_total, t_stall);
		CHECK(total->res.error == HTTP_CALL_TIMEOUT && total->res.message != NULL);
		CHECK(t_total >= 250 && t_total < 2000);
		CHECK(stall->res.error == HTTP_CALL_TIMEOUT);
		CHECK(t_stall >= 900 && t_stall < SLOW_MS);
		CHECK(total->n_heads == 0 && stall->n_heads == 0);
		finish(e);
	}
}

/* Nothing listens: the call fails as a connect error, without a status. */
static void sc_refused(struct env *e)
{
	struct got *g = &e->g[0];
	switch (e->step) {
	case 0: {
		char url[64];
		snprintf(url, sizeof(url), "http://127.0.0.1:%u/hello", closed_port());
		struct http_call_spec s = spec_for(g, "GET", url);
		g->call = http_call_start(e->c, &s, NULL);
		CHECK(g->call != NULL);
		e->step++;
		break;
	}
	case 1:
		if (!g->done)
			return;
		CHECK(g->res.error == HTTP_CALL_CONNECT && g->res.status == 0);
		CHECK(g->res.message != NULL && g->n_heads == 0);
		finish(e);
	}
}

/* Calls started one after the other from on_done share one connection. */
static void sc_keepalive(struct env *e)
{
	struct got *g = &e->g[0];
	switch (e->step) {
	case 0:
		g->restarts = 4;
		g->restart_path = "/hello";
		start_get(e, g, "/hello");
		e->step++;
		break;
	case 1:
		if (!g->done)
			return;
		CHECK(ok_with(g, 200));
		CHECK_STR(body_of(g), "hello worldhello worldhello worldhello worldhello world");
		CHECK(atomic_load(&e->sv->started) - e->started0 == 5);
		CHECK(atomic_load(&e->sv->connections) - e->connections0 == 1);
		finish(e);
	}
}

int main(void)
{
	if (http_client_global_init() != 0) {
		fprintf(stderr, "curl_global_init failed\n");
		return 2;
	}
	struct server *sv = server_start();
	run_scenario(sv, "get", sc_get, 5000);
	run_scenario(sv, "methods", sc_methods, 5000);
	run_scenario(sv, "stream", sc_stream, 5000);
	run_scenario(sv, "reader", sc_reader, 5000);
	run_scenario(sv, "pause", sc_pause, 10000);
	run_scenario(sv, "pause-by-return", sc_pause_by_return, 10000);
	run_scenario(sv, "cancel", sc_cancel, 5000);
	run_scenario(sv, "cancel-inside", sc_cancel_inside, 5000);
	run_scenario(sv, "timeout", sc_timeout, 5000);
	run_scenario(sv, "refused", sc_refused, 5000);
	run_scenario(sv, "keepalive", sc_keepalive, 5000);
	server_stop(sv);
	http_client_global_cleanup();
	return check_summary();
}
