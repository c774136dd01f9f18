/* test_tcp_push.c - the pusher thread (net/tcp_push.c): a corked loopback
 * socket's held bytes reach the peer once the pusher lifts the cork; stale
 * descriptors (closed, not a socket) are harmless; free lifts what is still
 * queued. Every wait is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tcp_push.h"
#include "../lib/harness.h"

/* A connected loopback TCP pair: a[0] the server side, a[1] the client. */
static bool tcp_pair(int a[2])
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(ls, 1) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) != 0)
		return false;
	a[1] = socket(AF_INET, SOCK_STREAM, 0);
	if (a[1] < 0 || connect(a[1], (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return false;
	a[0] = accept(ls, NULL, NULL);
	close(ls);
	return a[0] >= 0;
}

static void cork(int fd)
{
	int one = 1;
	CHECK(setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one)) == 0);
}

/* Reads want bytes from fd within 5 s. */
static bool read_all(int fd, const char *want)
{
	char buf[64];
	size_t n = 0, w = strlen(want);
	while (n < w) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			return false;
		ssize_t k = read(fd, buf + n, sizeof(buf) - n);
		if (k <= 0)
			return false;
		n += (size_t)k;
	}
	return n == w && memcmp(buf, want, w) == 0;
}

static void test_push_lifts_the_cork(void)
{
	int a[2];
	REQUIRE(tcp_pair(a));
	struct tcp_pusher *p = tcp_pusher_new();
	REQUIRE(p != NULL);
	cork(a[0]);
	CHECK(write(a[0], "ab", 2) == 2);
	CHECK(write(a[0], "cd", 2) == 2);
	tcp_pusher_push(p, a[0]);
	CHECK(read_all(a[1], "abcd"));
	/* stale descriptors: a closed one, one that is not a socket */
	int dead = dup(a[0]);
	close(dead);
	tcp_pusher_push(p, dead);
	int fd = open("/dev/null", O_RDONLY);
	tcp_pusher_push(p, fd);
	tcp_pusher_push(p, -1);
	/* the pusher goes on after them */
	cork(a[0]);
	CHECK(write(a[0], "ef", 2) == 2);
	tcp_pusher_push(p, a[0]);
	CHECK(read_all(a[1], "ef"));
	tcp_pusher_free(p);
	close(fd);
	close(a[0]);
	close(a[1]);
}

static void test_free_pushes_what_is_queued(void)
{
	int a[2];
	REQUIRE(tcp_pair(a));
	struct tcp_pusher *p = tcp_pusher_new();
	REQUIRE(p != NULL);
	cork(a[0]);
	CHECK(write(a[0], "gh", 2) == 2);
	tcp_pusher_push(p, a[0]);
	tcp_pusher_free(p); /* joins after the queue is empty */
	CHECK(read_all(a[1], "gh"));
	tcp_pusher_free(NULL);
	close(a[0]);
	close(a[1]);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"push_lifts_the_cork", test_push_lifts_the_cork},
		{"free_pushes_what_is_queued", test_free_pushes_what_is_queued},
	};
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
