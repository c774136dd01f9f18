/* put1lat.c - the put1lat scenario's client: one-connection PUT latency against
 * one write+fdatasync on the same disk, measured by a client whose own cost is a
 * few microseconds (the Python client it replaces added about 12 us to every
 * request, more than the server's whole non-disk path).
 *
 * One keep-alive connection (TCP_NODELAY). Each iteration, in this order:
 *   PUT  <prefix>k<i> value=<v x 32>   timed from send to the whole reply
 *   GET  <prefix>k<i>                  the client + HTTP + server floor, no flush
 *   probe: pwrite 128 B + fdatasync    on a fallocated file in DIR (like a WAL
 *                                      segment), the same disk weather as the PUT
 * Bounded by SECONDS and N iterations. Prints one line:
 *   PUT1LAT puts=N errors=E put_p50_us=.. put_p90_us=.. get_p50_us=..
 *           fsync_p50_us=.. fsync_p90_us=..
 * Usage: put1lat HOST PORT PREFIX DIR SECONDS N
 * Built on the fly by contrib/bench/scenarios/durable.py with $CC. */
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_BYTES 128
#define VALUE_BYTES 32

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

/* Reads one HTTP/1.1 reply with a Content-Length body (cetcd and etcd send no
 * chunked replies to these requests). Returns the status, or -1. */
static int read_reply(int fd)
{
	static char buf[65536];
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
		for (char *l = strstr(buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
			if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
				clen = strtol(l + 17, NULL, 10);
			if (strncasecmp(l + 2, "Transfer-Encoding:", 18) == 0) {
				fprintf(stderr, "put1lat: chunked replies are not supported\n");
				return -1;
			}
		}
		if (have >= head + (size_t)clen) {
			int status = 0;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				return -1;
			return status; /* one request in flight: nothing is left over */
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
		fprintf(stderr, "put1lat: connect %s:%d: %s\n", host, port, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int open_probe(const char *dir, long n_max, char *path, size_t cap)
{
	snprintf(path, cap, "%s/fsync-probe-%d", dir, (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || posix_fallocate(fd, 0, n_max * PROBE_BYTES + 4096) != 0 || fsync(fd) < 0) {
		fprintf(stderr, "put1lat: probe file %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fd;
}

static double probe(int fd, long i)
{
	static char block[PROBE_BYTES];
	memset(block, 'r', sizeof(block));
	double t0 = now_us();
	if (pwrite(fd, block, sizeof(block), i * PROBE_BYTES) != PROBE_BYTES || fdatasync(fd) < 0) {
		fprintf(stderr, "put1lat: probe write: %s\n", strerror(errno));
		exit(1);
	}
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: put1lat HOST PORT PREFIX DIR SECONDS N\n");
		return 2;
	}
	const char *host = argv[1], *prefix = argv[3], *dir = argv[4];
	int port = atoi(argv[2]);
	double seconds = atof(argv[5]);
	long n_max = atol(argv[6]);
	if (port <= 0 || seconds <= 0 || n_max <= 0) {
		fprintf(stderr, "put1lat: bad PORT, SECONDS or N\n");
		return 2;
	}
	char path[4096];
	int pfd = open_probe(dir, n_max, path, sizeof(path));
	int fd = connect_to(host, port);
	if (pfd < 0 || fd < 0)
		return 1;
	double *put = calloc((size_t)n_max, sizeof(double));
	double *get = calloc((size_t)n_max, sizeof(double));
	double *fs = calloc((size_t)n_max, sizeof(double));
	if (!put || !get || !fs)
		abort();
	char value[VALUE_BYTES + 1];
	memset(value, 'v', VALUE_BYTES);
	value[VALUE_BYTES] = '\0';
	long n = 0, errors = 0;
	double deadline = now_us() + seconds * 1e6;
	char req[2048];
	while (n < n_max && now_us() < deadline) {
		int len = snprintf(req, sizeof(req),
				   "PUT %sk%ld HTTP/1.1\r\nHost: %s:%d\r\n"
				   "Content-Type: application/x-www-form-urlencoded\r\n"
				   "Content-Length: %d\r\n\r\nvalue=%s",
				   prefix, n, host, port, 6 + VALUE_BYTES, value);
		int st = round_trip(fd, req, (size_t)len, &put[n]);
		if (st < 0) {
			errors++; /* connection lost */
			break;
		}
		errors += st < 200 || st > 299;
		len = snprintf(req, sizeof(req), "GET %sk%ld HTTP/1.1\r\nHost: %s:%d\r\n\r\n",
			       prefix, n, host, port);
		st = round_trip(fd, req, (size_t)len, &get[n]);
		if (st < 0) {
			errors++;
			break;
		}
		errors += st != 200;
		fs[n] = probe(pfd, n);
		n++;
	}
	close(fd);
	close(pfd);
	unlink(path);
	if (n == 0) {
		fprintf(stderr, "put1lat: no PUT completed (connection lost)\n");
		return 1;
	}
	qsort(put, (size_t)n, sizeof(double), cmp_double);
	qsort(get, (size_t)n, sizeof(double), cmp_double);
	qsort(fs, (size_t)n, sizeof(double), cmp_double);
	printf("PUT1LAT puts=%ld errors=%ld put_p50_us=%.1f put_p90_us=%.1f get_p50_us=%.1f "
	       "fsync_p50_us=%.1f fsync_p90_us=%.1f\n",
	       n, errors, percentile(put, (size_t)n, 0.5), percentile(put, (size_t)n, 0.9),
	       percentile(get, (size_t)n, 0.5), percentile(fs, (size_t)n, 0.5),
	       percentile(fs, (size_t)n, 0.9));
	free(put);
	free(get);
	free(fs);
	return 0;
}
