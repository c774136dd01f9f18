/* test_http_h1.c - net/http_h1.c, the HTTP client's own HTTP/1.1 engine,
 * against a scripted raw TCP server (one thread, one connection at a time)
 * that answers with bytes no well-behaved server library would send:
 * chunk extensions and trailers, an answer ending at EOF, a 1xx before the
 * answer, a head split byte by byte, garbage, a pooled connection the server
 * closed (the request is sent again on a new one), a connection closed
 * before any answer, a stall, a refused connect, HEAD with a length.
 * test_http_client.c covers the shared contract (pause, resume, cancel)
 * against a real server. Every wait is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "net/http_client.h"
#include "net/loop.h"
#include "util/buf.h"
#include "util/clock.h"

/* ---- the scripted server ------------------------------------------------------ */

enum after {
	KEEP,
	CLOSE
};

struct script {
	const char *answer; /* NULL: close without answering */
	enum after after;
	bool byte_by_byte;
	bool stall; /* read the request, answer nothing, wait for the client to go */
};

struct server {
	int fd;
	uint16_t port;
	pthread_t thread;
	const struct script *steps; /* one per request */
	size_t n_steps;
	atomic_size_t requests, connections;
	atomic_bool stop;
};

/* Reads one request head (and a Content-Length body). Returns false at EOF. */
static bool read_request(int c)
{
	char buf[8192];
	size_t len = 0;
	while (len < sizeof(buf) - 1) {
		ssize_t n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end == NULL)
			continue;
		char *cl = strcasestr(buf, "Content-Length:");
		size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
		size_t have = len - (size_t)(end + 4 - buf);
		while (have < body) {
			n = recv(c, buf, sizeof(buf), 0);
			if (n <= 0)
				return false;
			have += (size_t)n;
		}
		return true;
	}
	return false;
}

static void write_answer(int c, const struct script *s)
{
	size_t n = strlen(s->answer);
	if (!s->byte_by_byte) {
		send(c, s->answer, n, MSG_NOSIGNAL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		send(c, s->answer + i, 1, MSG_NOSIGNAL);
		usleep(1000);
	}
}

static void *serve(void *arg)
{
	struct server *sv = arg;
	while (!atomic_load(&sv->stop)) {
		int c = accept(sv->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&sv->connections, 1);
		bool open = true;
		while (open && !atomic_load(&sv->stop) && read_request(c)) {
			size_t i = atomic_fetch_add(&sv->requests, 1);
			const struct script *s = &sv->steps[i < sv->n_steps ? i : sv->n_steps - 1];
			if (s->stall) { /* until the client leaves (recv times out: the
					 * listener's 100 ms SO_RCVTIMEO is inherited) */
				char b[64];
				ssize_t n;
				while ((n = recv(c, b, sizeof(b), 0)) > 0 ||
				       (n < 0 && errno == EAGAIN && !atomic_load(&sv->stop)))
					;
				break;
			}
			if (s->answer)
				write_answer(c, s);
			open = s->answer != NULL && s->after == KEEP;
		}
		close(c);
	}
	return NULL;
}

static void server_start(struct server *sv, const struct script *steps, size_t n)
{
	memset(sv, 0, sizeof(*sv));
	sv->steps = steps;
	sv->n_steps = n;
	sv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(sv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(sv->fd, (struct sockaddr *)&a, sizeof(a)); /* port 0: any free one */
	socklen_t alen = sizeof(a);
	getsockname(sv->fd, (struct sockaddr *)&a, &alen);
	sv->port = ntohs(a.sin_port);
	listen(sv->fd, 16);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000}; /* accept wakes to see stop */
	setsockopt(sv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_create(&sv->thread, NULL, serve, sv);
}

static void server_stop(struct server *sv)
{
	atomic_store(&sv->stop, true);
	shutdown(sv->fd, SHUT_RDWR);
	pthread_join(sv->thread, NULL);
	close(sv->fd);
}

/* ---- the client side ------------------------------------------------------------- */

struct got {
	struct loop *l;
	long head_status;
	struct buf body;
	struct http_call_result res;
	bool done;
	int calls_left; /* calls to make one after another (from on_done) */
	struct http_client *c;
	char url[128];
	const char *method;
	unsigned stall_s;
};

static void start_next(struct got *g);

static void on_head(void *ctx, const struct http_response_head *h)
{
	struct got *g = ctx;
	g->head_status = h->status;
}

static int on_data(void *ctx, const char *data, size_t len)
{
	struct got *g = ctx;
	buf_append(&g->body, data, len);
	return 0;
}

static void on_done(void *ctx, const struct http_call_result *res)
{
	struct got *g = ctx;
	g->res = *res;
	if (--g->calls_left > 0 && res->error == HTTP_CALL_OK) {
		start_next(g); /* from on_done, as the contract allows */
		return;
	}
	g->done = true;
	loop_stop(g->l);
}

static void stop_loop(void *l)
{
	loop_stop(l);
}

static void start_next(struct got *g)
{
	buf_reset(&g->body);
	struct http_call_spec spec = {
		.method = g->method,
		.url = g->url,
		.connect_ms = 1000,
		.stall_bytes_per_s = g->stall_s ? 1 : 0,
		.stall_s = g->stall_s,
		.on_head = on_head,
		.on_data = on_data,
		.on_done = on_done,
		.ctx = g,
	};
	CHECK(http_call_start(g->c, &spec, NULL) != NULL);
}

/* Makes `calls` GETs (or HEADs) one after another on port (with a stall
 * limit of stall_s, 0: none); runs until the last is done or 5 s passed. */
static void run_calls_stall(struct got *g, uint16_t port, const char *method, int calls,
			    unsigned stall_s)
{
	memset(g, 0, sizeof(*g));
	g->stall_s = stall_s;
	g->l = loop_new();
	g->c = http_client_new(g->l);
	g->method = method;
	g->calls_left = calls;
	snprintf(g->url, sizeof(g->url), "http://127.0.0.1:%u/v2/keys/a", port);
	start_next(g);
	/* the loop cannot be restarted once stopped: one run, ended by the
	 * last on_done or by this deadline */
	loop_add_timer(g->l, 5000, stop_loop, g->l);
	loop_run(g->l);
	CHECK(g->done);
	if (g->res.error != HTTP_CALL_OK)
		fprintf(stderr, "  call: error %d (%s), status %ld, sent %d\n", (int)g->res.error,
			g->res.message ? g->res.message : "-", g->res.status, g->res.sent);
}

static void run_calls(struct got *g, uint16_t port, const char *method, int calls)
{
	run_calls_stall(g, port, method, calls, 0);
}

static void finish_calls(struct got *g)
{
	http_client_free(g->c);
	loop_free(g->l);
	buf_free(&g->body);
}

static bool body_is(const struct got *g, const char *want)
{
	return g->body.len == strlen(want) && memcmp(g->body.data, want, g->body.len) == 0;
}

/* ---- cases --------------------------------------------------------------------- */

static void one_answer(const char *answer, bool byte_by_byte, const char *want_body,
		       enum http_call_error want)
{
	struct script s[] = {{answer, KEEP, byte_by_byte, false}};
	struct server sv;
	server_start(&sv, s, 1);
	struct got g;
	run_calls(&g, sv.port, "GET", 1);
	CHECK(g.res.error == want);
	if (want == HTTP_CALL_OK) {
		CHECK(g.res.status == 200 && g.head_status == 200);
		CHECK(body_is(&g, want_body));
	}
	finish_calls(&g);
	server_stop(&sv);
}

static void test_chunked_extensions_trailers(void)
{
	one_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n",
		   false, "abcde", HTTP_CALL_OK);
}

static void test_split_byte_by_byte(void)
{
	one_answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", true, "hello",
		   HTTP_CALL_OK);
	one_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		   true, "hello", HTTP_CALL_OK);
}

static void test_continue_then_answer(void)
{
	one_answer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		   false, "ok", HTTP_CALL_OK);
}

static void test_garbage(void)
{
	one_answer("NOT HTTP AT ALL\r\n\r\n", false, "", HTTP_CALL_FAILED);
	one_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, "",
		   HTTP_CALL_FAILED);
}

static void test_answer_to_eof(void)
{
	struct script s[] = {{"HTTP/1.0 200 OK\r\n\r\nuntil the end", CLOSE, false, false}};
	struct server sv;
	server_start(&sv, s, 1);
	struct got g;
	run_calls(&g, sv.port, "GET", 1);
	CHECK(g.res.error == HTTP_CALL_OK && body_is(&g, "until the end"));
	finish_calls(&g);
	server_stop(&sv);
}

/* The server closes a kept-alive connection after the first answer: the
 * second call takes it from the pool, finds it dead before any answer, and
 * is sent again on a new connection. */
static void test_stale_pooled_connection(void)
{
	struct script s[] = {
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1", CLOSE, false, false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2", KEEP, false, false},
	};
	struct server sv;
	server_start(&sv, s, 2);
	struct got g;
	run_calls(&g, sv.port, "GET", 2);
	CHECK(g.res.error == HTTP_CALL_OK && body_is(&g, "2"));
	CHECK(atomic_load(&sv.connections) == 2);
	finish_calls(&g);
	server_stop(&sv);
}

/* Kept alive: three calls, one connection. */
static void test_keep_alive_reuse(void)
{
	struct script s[] = {
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", KEEP, false, false}};
	struct server sv;
	server_start(&sv, s, 1);
	struct got g;
	run_calls(&g, sv.port, "GET", 3);
	CHECK(g.res.error == HTTP_CALL_OK && body_is(&g, "ok"));
	CHECK(atomic_load(&sv.connections) == 1 && atomic_load(&sv.requests) == 3);
	finish_calls(&g);
	server_stop(&sv);
}

static void test_closed_before_answer(void)
{
	struct script s[] = {{NULL, CLOSE, false, false}};
	struct server sv;
	server_start(&sv, s, 1);
	struct got g;
	run_calls(&g, sv.port, "GET", 1);
	CHECK(g.res.error == HTTP_CALL_FAILED && g.res.sent);
	CHECK(atomic_load(&sv.connections) == 1); /* a fresh connection: not sent again */
	finish_calls(&g);
	server_stop(&sv);
}

static void test_head_with_length(void)
{
	struct script s[] = {{"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", KEEP, false, false}};
	struct server sv;
	server_start(&sv, s, 1);
	struct got g;
	run_calls(&g, sv.port, "HEAD", 2); /* the second reuses the connection */
	CHECK(g.res.error == HTTP_CALL_OK && g.res.status == 200 && g.body.len == 0);
	CHECK(atomic_load(&sv.connections) == 1);
	finish_calls(&g);
	server_stop(&sv);
}

static void test_stall(void)
{
	struct script s[] = {{NULL, KEEP, false, true}};
	struct server sv;
	server_start(&sv, s, 1);
	struct got g;
	uint64_t t0 = clock_mono_ms();
	run_calls_stall(&g, sv.port, "GET", 1, 1);
	uint64_t took = clock_mono_ms() - t0;
	CHECK(g.res.error == HTTP_CALL_TIMEOUT);
	CHECK(took >= 900 && took < 3000);
	finish_calls(&g);
	server_stop(&sv);
}

static void test_refused(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t alen = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &alen);
	close(fd); /* a port nobody listens on */
	struct got g;
	run_calls(&g, ntohs(a.sin_port), "GET", 1);
	CHECK(g.res.error == HTTP_CALL_CONNECT && !g.res.sent);
	finish_calls(&g);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"chunked_extensions_trailers", test_chunked_extensions_trailers},
		{"split_byte_by_byte", test_split_byte_by_byte},
		{"continue_then_answer", test_continue_then_answer},
		{"garbage", test_garbage},
		{"answer_to_eof", test_answer_to_eof},
		{"stale_pooled_connection", test_stale_pooled_connection},
		{"keep_alive_reuse", test_keep_alive_reuse},
		{"closed_before_answer", test_closed_before_answer},
		{"head_with_length", test_head_with_length},
		{"stall", test_stall},
		{"refused", test_refused},
	};
	if (http_client_global_init() != 0)
		return 1;
	int rc = run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	http_client_global_cleanup();
	return rc;
}
