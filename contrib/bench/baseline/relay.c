/* relay.c - a do-nothing TCP relay for the proxy-floor context scenario: what two
 * extra loopback hops and one thread's epoll loop cost, with no HTTP parsing at all.
 *
 * Listens on 127.0.0.1:PORT; every accepted connection gets its own connection to
 * 127.0.0.1:UPSTREAM, and bytes are copied both ways as they arrive (one thread, one
 * epoll, TCP_NODELAY on both sides). Writes block (the sockets stay blocking: the
 * benchmark's messages are small and a reader is always waiting); reads are
 * MSG_DONTWAIT, after epoll says a socket is readable. A closed side closes its
 * pair.
 * Usage: relay PORT UPSTREAM
 * Built on the fly by contrib/bench/scenarios/proxy.py with $CC; runs until killed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENTS 256

static int *peer; /* fd -> the other side of its pair, -1 if none */
static int max_fd;

static void die(const char *what)
{
	fprintf(stderr, "relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int watch(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void close_pair(int fd)
{
	int p = peer[fd];
	peer[fd] = -1;
	close(fd); /* also leaves the epoll set */
	if (p >= 0) {
		peer[p] = -1;
		close(p);
	}
}

/* A new client: connect it to the upstream, or drop it. */
static void accept_one(int ep, int lfd, int upstream)
{
	int c = accept(lfd, NULL, NULL);
	if (c < 0)
		return;
	int u = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = loopback(upstream);
	if (u < 0 || c >= max_fd || u >= max_fd ||
	    connect(u, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(c);
		if (u >= 0)
			close(u);
		return;
	}
	nodelay(c);
	nodelay(u);
	peer[c] = u;
	peer[u] = c;
	if (watch(ep, c) < 0 || watch(ep, u) < 0)
		close_pair(c);
}

/* Copies what fd has to its peer. */
static void relay_one(int fd)
{
	static char buf[65536];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT); /* a stale event: EAGAIN */
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		close_pair(fd);
		return;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = send(peer[fd], buf + off, (size_t)(n - off), MSG_NOSIGNAL);
		if (w <= 0) {
			close_pair(fd);
			return;
		}
		off += w;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: relay PORT UPSTREAM\n");
		return 2;
	}
	int port = atoi(argv[1]), upstream = atoi(argv[2]);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	max_fd = (int)(rl.rlim_cur > 1 << 20 ? 1 << 20 : rl.rlim_cur);
	peer = malloc((size_t)max_fd * sizeof(int));
	if (peer == NULL)
		die("malloc");
	memset(peer, 0xff, (size_t)max_fd * sizeof(int));
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	struct sockaddr_in a = loopback(port);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 1024) < 0)
		die("listen");
	int ep = epoll_create1(0);
	if (ep < 0 || watch(ep, lfd) < 0)
		die("epoll");
	struct epoll_event evs[EVENTS];
	for (;;) {
		int k = epoll_wait(ep, evs, EVENTS, -1);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (int j = 0; j < k; j++) {
			int fd = evs[j].data.fd;
			if (fd == lfd)
				accept_one(ep, lfd, upstream);
			else if (fd < max_fd && peer[fd] >= 0) /* not closed in this batch */
				relay_one(fd);
		}
	}
}
