/* fanout.c - the watch fan-out client (scenarios watchfan* in watch.py, proxy-fanout
 * in proxy.py): N watchers held by one thread on one epoll (no thread per watcher),
 * then one PUT of KEY: how long until the last watcher has its event.
 *
 * 1. Opens N non-blocking connections to HOST:PORT (at most WINDOW connects in
 *    flight; source addresses 127.0.0.2..127.0.0.9 with IP_BIND_ADDRESS_NO_PORT so
 *    ephemeral ports never run short) and sends each a watch request (MODE):
 *      wait       GET /v2/keys<PATH>?wait=true              (one-shot long poll)
 *      recursive  GET /v2/keys<PATH>?wait=true&recursive=true
 *      stream     GET /v2/keys<PATH>?wait=true&stream=true  (the response stays open)
 *    PATH is KEY unless given (recursive: the directory KEY is under). MODE warm-wait,
 *    warm-recursive, warm-stream: each connection first sends GET /v2/keys<PATH> and
 *    waits for its answer, then the watch on the same connection (as a client that
 *    reads, then watches, over keep-alive). Raises its own
 *    RLIMIT_NOFILE soft limit to the hard one. Prints "SENT <n>" once every request is
 *    written.
 * 2. Waits for a line "FIRE" on stdin (the driver first checks that the server side
 *    holds the watchers), reading whatever the watchers receive meanwhile.
 * 3. Sends PUT <KEY> value=go on a connection opened in step 1 and reads until every
 *    watcher has its event and the PUT is answered: wait/recursive, the whole
 *    response (Content-Length or chunked); stream, the first whole event (the chunked
 *    body, de-chunked, holds a line ending in '\n'). Prints one line, times in
 *    microseconds from sending the PUT:
 *      FANOUT n=N done=D errors=E put_reply_us=.. p50_us=.. last_us=.. busy_us=..
 *    errors: watchers closed (a stream watcher closed at all), or answered with
 *    something else than a 200 whose (first) event is the key's "set" with the PUT's
 *    value; busy_us: the client's own time outside epoll_wait while it waited (its
 *    share of last_us).
 * 4. With FANOUT_LINGER=1 in the environment, waits for EOF on stdin before exiting
 *    (so a profiler's window can end before the watchers' sockets close).
 * Every phase is bounded by TIMEOUT seconds (exit 1 with a message on stderr).
 * Usage: fanout HOST PORT KEY N TIMEOUT [[warm-]wait|recursive|stream [PATH]]
 * Built on the fly by contrib/bench/scenarios/watch.py and proxy.py with $CC. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define WINDOW	  512
#define N_SRC	  8
#define MAX_REPLY 65536
#define EVENTS	  4096

enum mode {
	M_WAIT,
	M_RECURSIVE,
	M_STREAM
};

struct conn {
	char *buf;
	size_t len, cap;
	size_t body_at; /* stream: where the first chunk's data starts, once known */
	int sent;	/* request written */
	int warming;	/* warm: the GET before the watch is in flight */
	int done;	/* response complete (or connection lost) */
	int closed;	/* stream: the server closed it */
	double at;	/* when done, us since the PUT was sent */
};

static struct conn *conns; /* indexed by fd */
static int n_fds;
static enum mode mode = M_WAIT;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void die(const char *what)
{
	fprintf(stderr, "fanout: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "fanout: %s\n", what);
	exit(1);
}

/* True once buf holds a whole response: headers and Content-Length bytes of body,
 * or a chunked body that ended (last chunk; neither server sends trailers). */
static int complete(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	size_t head = (size_t)(end - buf) + 4;
	for (const char *l = memmem(buf, head, "\r\n", 2); l && l < end;
	     l = memmem(l + 2, (size_t)(end - l), "\r\n", 2)) {
		if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
			return len >= head + strtoul(l + 17, NULL, 10);
		if (strncasecmp(l + 2, "Transfer-Encoding:", 18) == 0)
			return len >= head + 5 && memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0;
	}
	return 0;
}

/* Stream: true once the de-chunked body holds a whole event (a line ending in '\n';
 * both servers end each event with one). *at is set to where its JSON starts. */
static int first_event(const char *buf, size_t len, size_t *at)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (end == NULL)
		return 0;
	size_t p = (size_t)(end - buf) + 4;
	while (p < len) { /* chunk: hex size CRLF data CRLF */
		char *e;
		unsigned long n = strtoul(buf + p, &e, 16);
		const char *crlf = memmem(buf + p, len - p, "\r\n", 2);
		if (crlf == NULL || e != crlf)
			return 0;
		size_t data = (size_t)(crlf - buf) + 2;
		if (n == 0 || data + n > len)
			return 0;
		if (memchr(buf + data, '\n', n) != NULL) {
			*at = data;
			return 1;
		}
		p = data + n + 2;
	}
	return 0;
}

static int done_reading(struct conn *c)
{
	if (mode == M_STREAM)
		return first_event(c->buf, c->len, &c->body_at);
	return complete(c->buf, c->len);
}

/* One recv into fd's buffer (the watchers are EPOLLONESHOT: one read per wake-up,
 * re-armed by the caller while the response is incomplete, so a complete response
 * costs a single recv). Returns 1 if the connection is closed or failed, 0
 * otherwise. */
static int read_once(int fd)
{
	struct conn *c = &conns[fd];
	if (c->cap - c->len < 2048) {
		if (c->cap >= MAX_REPLY)
			return 1;
		c->cap = c->cap ? c->cap * 2 : 4096;
		c->buf = realloc(c->buf, c->cap);
		if (c->buf == NULL)
			abort();
	}
	ssize_t n = recv(fd, c->buf + c->len, c->cap - c->len - 1, 0);
	if (n > 0) {
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		return 0;
	}
	return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

static void rearm(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.fd = fd};
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
		die("epoll_ctl");
}

static int open_one(int ep, const char *host, int port, int i)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	if (fd >= n_fds)
		fail("descriptor beyond the open-files limit");
	int one = 1;
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in src = {.sin_family = AF_INET};
	src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(i % N_SRC));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		die("bind");
	struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1)
		fail("bad HOST");
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 && errno != EINPROGRESS)
		die("connect");
	struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
	memset(&conns[fd], 0, sizeof(conns[fd]));
	return fd;
}

/* Phase 1: every watch request written. Returns the watchers' fds. */
static void send_all(int fd, const char *req, const char *what)
{
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req))
		die(what);
}

/* warm: each connection first sends warm_req and waits for its whole answer. */
static int *open_watchers(int ep, const char *host, int port, const char *req, const char *warm_req,
			  int n, double deadline)
{
	int *fds = calloc((size_t)n, sizeof(int));
	struct epoll_event evs[EVENTS];
	int opened = 0, sent = 0, inflight = 0;
	while (sent < n) {
		while (opened < n && inflight < WINDOW) {
			fds[opened] = open_one(ep, host, port, opened);
			opened++;
			inflight++;
		}
		if (now_us() > deadline)
			fail("watch requests not all sent in time");
		int k = epoll_wait(ep, evs, EVENTS, 1000);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int j = 0; j < k; j++) {
			int fd = evs[j].data.fd;
			struct conn *c = &conns[fd];
			if (c->sent) {
				if (read_once(fd)) /* early headers are kept for phase 3 */
					c->done = 1;
				else
					rearm(ep, fd);
				continue;
			}
			if (c->warming) { /* the warm-up GET's answer */
				if (read_once(fd))
					fail("connection closed during the warm-up GET");
				if (!complete(c->buf, c->len)) {
					rearm(ep, fd);
					continue;
				}
				if (strncmp(c->buf, "HTTP/1.1 200", 12) != 0)
					fail("warm-up GET not answered 200");
				c->len = 0;
				c->warming = 0;
			} else {
				int err = 0;
				socklen_t el = sizeof(err);
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err) {
					errno = err;
					die("connect");
				}
				if (warm_req != NULL) {
					send_all(fd, warm_req, "send (warm-up GET)");
					c->warming = 1;
					rearm(ep, fd);
					continue;
				}
			}
			send_all(fd, req, "send (watch request)");
			c->sent = 1;
			rearm(ep, fd);
			sent++;
			inflight--;
		}
	}
	return fds;
}

/* Phase 2: until "FIRE" on stdin, keeping the watchers read. */
static void wait_fire(int ep, double deadline)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = 0};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) < 0)
		die("epoll_ctl stdin");
	struct epoll_event evs[EVENTS];
	char line[64];
	size_t have = 0;
	for (;;) {
		if (now_us() > deadline)
			fail("no FIRE in time");
		int k = epoll_wait(ep, evs, EVENTS, 1000);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int j = 0; j < k; j++) {
			int fd = evs[j].data.fd;
			if (fd != 0) {
				if (read_once(fd)) /* lost before the event: an error */
					conns[fd].done = 1;
				else
					rearm(ep, fd);
				continue;
			}
			ssize_t n = read(0, line + have, sizeof(line) - 1 - have);
			if (n <= 0)
				fail("stdin closed before FIRE");
			have += (size_t)n;
			line[have] = '\0';
			if (strstr(line, "FIRE\n")) {
				epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
				return;
			}
			if (have >= sizeof(line) - 1)
				fail("unexpected input");
		}
	}
}

/* A 200 whose (first) event is the PUT's: {"action":"set","node":{"key":KEY,
 * "value":"go",...}...} (both servers write action first and key before value). */
static int right_event(const struct conn *c, const char *key)
{
	if (c->len == 0 || strncmp(c->buf, "HTTP/1.1 200", 12) != 0)
		return 0;
	const char *body = mode == M_STREAM ? c->buf + c->body_at : strstr(c->buf, "\r\n\r\n");
	if (body == NULL)
		return 0;
	char want[600];
	snprintf(want, sizeof(want),
		 "{\"action\":\"set\",\"node\":{\"key\":\"%s\",\"value\":\"go\"", key);
	const char *ev = strstr(body, "{\"action\"");
	return ev != NULL && strncmp(ev, want, strlen(want)) == 0;
}

struct result {
	int done, errors;
	double put_reply, busy;
};

/* Phase 3: PUT on pfd, then read until every watcher and the PUT are complete. */
static void fire(int ep, int pfd, const char *put, int *fds, int n, const char *key,
		 double timeout_us, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->put_reply = -1;
	int pending = 0;
	for (int i = 0; i < n; i++)
		pending += !conns[fds[i]].done;
	struct epoll_event evs[EVENTS];
	double t0 = now_us();
	if (send(pfd, put, strlen(put), MSG_NOSIGNAL) != (ssize_t)strlen(put))
		die("send (PUT)");
	while (pending > 0 || r->put_reply < 0) {
		if (now_us() - t0 > timeout_us)
			break;
		int k = epoll_wait(ep, evs, EVENTS, 1000);
		double t_woke = now_us();
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int j = 0; j < k; j++) {
			int fd = evs[j].data.fd;
			struct conn *c = &conns[fd];
			if (c->done)
				continue;
			int closed = read_once(fd);
			if (!closed && !(fd == pfd ? complete(c->buf, c->len) : done_reading(c))) {
				rearm(ep, fd);
				continue;
			}
			c->done = 1; /* not re-armed: no more wake-ups */
			c->closed = closed && mode == M_STREAM;
			c->at = now_us() - t0;
			if (fd == pfd) {
				r->put_reply = c->at;
				continue;
			}
			pending--;
		}
		r->busy += now_us() - t_woke;
	}
	for (int i = 0; i < n; i++) {
		struct conn *c = &conns[fds[i]];
		r->done += c->done;
		if (!c->done || c->closed || !right_event(c, key))
			r->errors++;
	}
}

/* Until stdin closes (bounded by the deadline). */
static void linger_until_eof(double deadline)
{
	char b[64];
	while (now_us() < deadline) {
		struct timeval tv = {.tv_sec = 1};
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(0, &rd);
		if (select(1, &rd, NULL, NULL, &tv) > 0 && read(0, b, sizeof(b)) <= 0)
			return;
	}
}

int main(int argc, char **argv)
{
	if (argc < 6 || argc > 8) {
		fprintf(stderr, "usage: fanout HOST PORT KEY N TIMEOUT "
				"[[warm-]wait|recursive|stream [PATH]]\n");
		return 2;
	}
	const char *host = argv[1], *key = argv[3];
	const char *path = argc > 7 ? argv[7] : key;
	static const char *const query[] = {"wait=true", "wait=true&recursive=true",
					    "wait=true&stream=true"};
	int warm = 0;
	if (argc > 6) {
		const char *m = argv[6];
		if (strncmp(m, "warm-", 5) == 0) {
			warm = 1;
			m += 5;
		}
		if (strcmp(m, "wait") == 0)
			mode = M_WAIT;
		else if (strcmp(m, "recursive") == 0)
			mode = M_RECURSIVE;
		else if (strcmp(m, "stream") == 0)
			mode = M_STREAM;
		else
			fail("MODE must be [warm-]wait, [warm-]recursive or [warm-]stream");
	}
	int port = atoi(argv[2]), n = atoi(argv[4]);
	double timeout_us = atof(argv[5]) * 1e6;
	if (port <= 0 || n <= 0 || timeout_us <= 0 || strlen(key) > 256 || strlen(path) > 256)
		fail("bad PORT, KEY, N or TIMEOUT");
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	n_fds = (int)(rl.rlim_cur > 1 << 22 ? 1 << 22 : rl.rlim_cur);
	conns = calloc((size_t)n_fds, sizeof(*conns));
	int ep = epoll_create1(0);
	if (conns == NULL || ep < 0)
		die("setup");

	char req[1024], put[1024], warm_req[1024];
	snprintf(warm_req, sizeof(warm_req), "GET /v2/keys%s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path,
		 host, port);
	snprintf(req, sizeof(req), "GET /v2/keys%s?%s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", path,
		 query[mode], host, port);
	snprintf(put, sizeof(put),
		 "PUT /v2/keys%s HTTP/1.1\r\nHost: %s:%d\r\n"
		 "Content-Type: application/x-www-form-urlencoded\r\n"
		 "Content-Length: 8\r\n\r\nvalue=go",
		 key, host, port);
	double deadline = now_us() + timeout_us;
	int *fds = open_watchers(ep, host, port, req, warm ? warm_req : NULL, n, deadline);
	int pfd = open_one(ep, host, port, n);
	rearm(ep, pfd); /* connected by the time we fire */
	conns[pfd].sent = 1;
	printf("SENT %d\n", n);
	fflush(stdout);
	wait_fire(ep, now_us() + timeout_us);
	struct result r;
	fire(ep, pfd, put, fds, n, key, timeout_us, &r);
	double *at = calloc((size_t)n, sizeof(double));
	int k = 0;
	for (int i = 0; i < n; i++)
		if (conns[fds[i]].done)
			at[k++] = conns[fds[i]].at;
	qsort(at, (size_t)k, sizeof(double), cmp_double);
	printf("FANOUT n=%d done=%d errors=%d put_reply_us=%.0f p50_us=%.0f last_us=%.0f "
	       "busy_us=%.0f\n",
	       n, r.done, r.errors, r.put_reply, k ? at[k / 2] : -1.0, k ? at[k - 1] : -1.0,
	       r.busy);
	fflush(stdout);
	if (getenv("FANOUT_LINGER") != NULL)
		linger_until_eof(now_us() + timeout_us);
	return r.done == n && r.put_reply >= 0 ? 0 : 1;
}
