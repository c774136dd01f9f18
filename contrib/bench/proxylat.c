/* proxylat.c - the proxy-p50 scenario's client: one-connection latency through a
 * proxy (target A) and straight to the member behind it (target B), interleaved
 * request for request so both see the same machine weather.
 *
 * One keep-alive connection per target (TCP_NODELAY). Each iteration i sends, to
 * A then B on even i and to B then A on odd i (no order bias):
 *   GET  GETPATH                       an existing key (preloaded by the driver)
 *   PUT  <prefix><t>k<i> value=<v x 32>  t = a or b: distinct keys
 * each timed from send to the whole reply (Content-Length or chunked body).
 * Bounded by SECONDS and N iterations. Prints one line:
 *   PROXYLAT iters=N errors=E a_get_p50_us=.. a_get_p90_us=.. b_get_p50_us=..
 *            b_get_p90_us=.. a_put_p50_us=.. a_put_p90_us=.. b_put_p50_us=..
 *            b_put_p90_us=..
 * Usage: proxylat HOST PORT_A PORT_B GETPATH PREFIX SECONDS N
 * Built on the fly by contrib/bench/scenarios/proxy.py with $CC. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define VALUE_BYTES 32
#define BUF_BYTES   65536

enum {
	GET_A,
	GET_B,
	PUT_A,
	PUT_B,
	N_SERIES
};

static const char *series_name[N_SERIES] = {"a_get", "b_get", "a_put", "b_put"};

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

/* v must be sorted. */
static double percentile(const double *v, size_t n, double p)
{
	return v[(size_t)((double)n * p)];
}

/* True once buf[body..have) holds a whole chunked body (ends with the last chunk
 * and an empty trailer). Chunk sizes are walked, not searched for. */
static int chunked_done(const char *buf, size_t body, size_t have)
{
	size_t p = body;
	for (;;) {
		const char *eol = memmem(buf + p, have - p, "\r\n", 2);
		if (eol == NULL)
			return 0;
		unsigned long size = strtoul(buf + p, NULL, 16);
		p = (size_t)(eol - buf) + 2;
		if (size == 0)
			return have >= p + 2; /* no trailers from either server */
		if (have < p + size + 2)
			return 0;
		p += size + 2;
	}
}

/* Reads one HTTP/1.1 reply. Returns the status, or -1 (connection lost, timeout,
 * reply too big). One request is in flight at a time: nothing is left over. */
static int read_reply(int fd)
{
	static char buf[BUF_BYTES];
	size_t have = 0;
	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end == NULL)
			continue;
		size_t head = (size_t)(end - buf) + 4;
		long clen = 0;
		int chunked = 0;
		for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
			if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
				clen = strtol(l + 17, NULL, 10);
			if (strncasecmp(l + 2, "Transfer-Encoding:", 18) == 0)
				chunked = 1;
		}
		int done = chunked ? chunked_done(buf, head, have) : have >= head + (size_t)clen;
		if (done) {
			int status = 0;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				return -1;
			return status;
		}
		if (have >= sizeof(buf) - 1)
			return -1;
	}
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends req and returns the reply's status (or -1); *us gets the latency. */
static int round_trip(int fd, const char *req, size_t len, double *us)
{
	double t0 = now_us();
	if (send_all(fd, req, len) < 0)
		return -1;
	int status = read_reply(fd);
	*us = now_us() - t0;
	return status;
}

static int connect_to(const char *host, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "proxylat: connect %s:%d: %s\n", host, port, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

struct target {
	int fd;
	int port;
	char tag; /* 'a' or 'b': part of the PUT keys */
};

struct run {
	const char *host, *get_path, *prefix;
	double *lat[N_SERIES];
	long errors;
};

/* One GET and one PUT to t; the latencies go to series get_s/put_s at index i.
 * Returns -1 if the connection is lost. */
static int one_target(struct run *r, const struct target *t, long i, int get_s, int put_s)
{
	char req[2048];
	int len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n", r->get_path,
			   r->host, t->port);
	int st = round_trip(t->fd, req, (size_t)len, &r->lat[get_s][i]);
	if (st < 0)
		return -1;
	r->errors += st != 200;
	char value[VALUE_BYTES + 1];
	memset(value, 'v', VALUE_BYTES);
	value[VALUE_BYTES] = '\0';
	len = snprintf(req, sizeof(req),
		       "PUT %s%ck%ld HTTP/1.1\r\nHost: %s:%d\r\n"
		       "Content-Type: application/x-www-form-urlencoded\r\n"
		       "Content-Length: %d\r\n\r\nvalue=%s",
		       r->prefix, t->tag, i, r->host, t->port, 6 + VALUE_BYTES, value);
	st = round_trip(t->fd, req, (size_t)len, &r->lat[put_s][i]);
	if (st < 0)
		return -1;
	r->errors += st < 200 || st > 299;
	return 0;
}

static void print_result(struct run *r, long n)
{
	printf("PROXYLAT iters=%ld errors=%ld", n, r->errors);
	for (int s = 0; s < N_SERIES; s++) {
		qsort(r->lat[s], (size_t)n, sizeof(double), cmp_double);
		printf(" %s_p50_us=%.1f %s_p90_us=%.1f", series_name[s],
		       percentile(r->lat[s], (size_t)n, 0.5), series_name[s],
		       percentile(r->lat[s], (size_t)n, 0.9));
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: proxylat HOST PORT_A PORT_B GETPATH PREFIX SECONDS N\n");
		return 2;
	}
	struct run r = {.host = argv[1], .get_path = argv[4], .prefix = argv[5]};
	struct target a = {.port = atoi(argv[2]), .tag = 'a'};
	struct target b = {.port = atoi(argv[3]), .tag = 'b'};
	double seconds = atof(argv[6]);
	long n_max = atol(argv[7]);
	if (a.port <= 0 || b.port <= 0 || seconds <= 0 || n_max <= 0) {
		fprintf(stderr, "proxylat: bad PORT, SECONDS or N\n");
		return 2;
	}
	a.fd = connect_to(r.host, a.port);
	b.fd = connect_to(r.host, b.port);
	if (a.fd < 0 || b.fd < 0)
		return 1;
	for (int s = 0; s < N_SERIES; s++) {
		r.lat[s] = calloc((size_t)n_max, sizeof(double));
		if (r.lat[s] == NULL)
			abort();
	}
	long n = 0;
	double deadline = now_us() + seconds * 1e6;
	while (n < n_max && now_us() < deadline) {
		int lost;
		if (n % 2 == 0)
			lost = one_target(&r, &a, n, GET_A, PUT_A) < 0 ||
			       one_target(&r, &b, n, GET_B, PUT_B) < 0;
		else
			lost = one_target(&r, &b, n, GET_B, PUT_B) < 0 ||
			       one_target(&r, &a, n, GET_A, PUT_A) < 0;
		if (lost) {
			r.errors++;
			break;
		}
		n++;
	}
	close(a.fd);
	close(b.fd);
	if (n == 0) {
		fprintf(stderr, "proxylat: no iteration completed (connection lost)\n");
		return 1;
	}
	print_result(&r, n);
	for (int s = 0; s < N_SERIES; s++)
		free(r.lat[s]);
	return 0;
}
