/* http_hangup.c - the epoll set of waiting clients' sockets (see
 * http_hangup.h). Level-triggered, keyed by fd: a hang-up on a slot that is
 * empty just removes the registration. */
#include "net/http_hangup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "net/http_server.h"
#include "net/loop.h"
#include "util/xalloc.h"

struct hangup_set {
	int epfd;
	struct loop_fd *watch;
	struct http_req **by_fd; /* fd -> the request waiting on it */
	size_t cap;
};

static void on_hangup(struct http_req *r)
{
	http_handler_fn fn = r->on_hangup;
	r->on_hangup = NULL;
	r->hangup_fd = -1;
	if (fn)
		fn(r);
}

static void hangup_ready(void *ctx, uint32_t events)
{
	struct hangup_set *s = ctx;
	enum {
		BATCH = 256
	};
	struct epoll_event evs[BATCH];
	int n;
	do {
		n = epoll_wait(s->epfd, evs, BATCH, 0);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
			struct http_req *r = (size_t)fd < s->cap ? s->by_fd[fd] : NULL;
			if (r == NULL)
				continue;
			s->by_fd[fd] = NULL;
			on_hangup(r);
		}
	} while (n == BATCH);
}

struct hangup_set *hangup_set_new(struct loop *l)
{
	struct hangup_set *s = xcalloc(1, sizeof(*s));
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		free(s);
		return NULL;
	}
	s->watch = loop_add_fd(l, s->epfd, EPOLLIN, hangup_ready, s);
	if (s->watch == NULL) {
		close(s->epfd);
		free(s);
		return NULL;
	}
	return s;
}

void hangup_set_free(struct loop *l, struct hangup_set *s)
{
	if (s == NULL)
		return;
	loop_del_fd(l, s->watch);
	close(s->epfd);
	free(s->by_fd);
	free(s);
}

bool hangup_set_add(struct hangup_set *s, struct http_req *r, int fd)
{
	if ((size_t)fd >= s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		while (cap <= (size_t)fd)
			cap *= 2;
		struct http_req **v = xrealloc(s->by_fd, cap * sizeof(*v));
		memset(v + s->cap, 0, (cap - s->cap) * sizeof(*v));
		s->by_fd = v;
		s->cap = cap;
	}
	struct epoll_event ev = {.events = EPOLLRDHUP, .data.fd = fd};
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST)
		return false;
	s->by_fd[fd] = r;
	return true;
}

void hangup_set_del(struct hangup_set *s, struct http_req *r, int fd)
{
	if ((size_t)fd < s->cap && s->by_fd[fd] == r)
		s->by_fd[fd] = NULL;
}
