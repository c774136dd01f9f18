/* loop.c - the epoll event loop (see loop.h). */
#include "net/loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

struct loop_fd {
	int fd;
	bool dead;
	loop_fd_fn fn;
	void *ctx;
	struct loop_fd *next;
};

struct loop_timer {
	bool dead; /* deleted: unlinked after the current pass over the timers */
	uint64_t interval_ms;
	uint64_t due_ms;
	loop_fn fn;
	void *ctx;
	struct loop_timer *next;
};

struct hook {
	loop_fn fn;
	loop_timeout_fn timeout_fn;
	uint64_t due_ms; /* timeout sources: when they asked to be run */
	void *ctx;
	struct hook *next;
};

struct loop {
	int epfd;
	bool stop;
	struct loop_fd *fds;
	struct loop_fd *graveyard; /* deleted during dispatch, freed after it */
	struct loop_timer *timers;
	struct hook *before_sleep; /* kept in insertion order */
	struct hook *timeouts;
	bool timers_dead; /* some timer awaits sweep_timers */
};

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void free_fd_list(struct loop_fd *w)
{
	while (w) {
		struct loop_fd *n = w->next;
		free(w);
		w = n;
	}
}

static void free_hooks(struct hook *h)
{
	while (h) {
		struct hook *n = h->next;
		free(h);
		h = n;
	}
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	free_fd_list(l->fds);
	free_fd_list(l->graveyard);
	while (l->timers) {
		struct loop_timer *n = l->timers->next;
		free(l->timers);
		l->timers = n;
	}
	free_hooks(l->before_sleep);
	free_hooks(l->timeouts);
	close(l->epfd);
	free(l);
}

struct loop_fd *loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx)
{
	struct loop_fd *w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->fn = fn;
	w->ctx = ctx;
	struct epoll_event ev = {.events = events, .data.ptr = w};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(w);
		return NULL;
	}
	w->next = l->fds;
	l->fds = w;
	return w;
}

int loop_mod_fd(struct loop *l, struct loop_fd *h, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = h};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, h->fd, &ev);
}

void loop_del_fd(struct loop *l, struct loop_fd *h)
{
	for (struct loop_fd **p = &l->fds; *p; p = &(*p)->next) {
		if (*p == h) {
			*p = h->next;
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
			h->dead = true;
			h->next = l->graveyard;
			l->graveyard = h;
			return;
		}
	}
}

struct loop_timer *loop_add_timer(struct loop *l, uint64_t interval_ms, loop_fn fn, void *ctx)
{
	struct loop_timer *t = xcalloc(1, sizeof(*t));
	t->fn = fn;
	t->ctx = ctx;
	loop_timer_set(t, interval_ms);
	t->next = l->timers;
	l->timers = t;
	return t;
}

void loop_timer_set(struct loop_timer *t, uint64_t interval_ms)
{
	t->interval_ms = interval_ms ? interval_ms : 1;
	t->due_ms = clock_mono_ms() + t->interval_ms;
}

void loop_del_timer(struct loop *l, struct loop_timer *t)
{
	if (t == NULL)
		return;
	t->dead = true;
	l->timers_dead = true;
}

/* Frees the timers deleted since the last sweep (never during a pass). */
static void sweep_timers(struct loop *l)
{
	if (!l->timers_dead)
		return;
	l->timers_dead = false;
	for (struct loop_timer **p = &l->timers; *p;) {
		struct loop_timer *t = *p;
		if (t->dead) {
			*p = t->next;
			free(t);
		} else {
			p = &t->next;
		}
	}
}

static void append_hook(struct hook **list, struct hook *h)
{
	while (*list)
		list = &(*list)->next;
	*list = h;
}

void loop_add_before_sleep(struct loop *l, loop_fn fn, void *ctx)
{
	struct hook *h = xcalloc(1, sizeof(*h));
	h->fn = fn;
	h->ctx = ctx;
	append_hook(&l->before_sleep, h);
}

void loop_add_timeout_source(struct loop *l, loop_timeout_fn timeout, loop_fn due, void *ctx)
{
	struct hook *h = xcalloc(1, sizeof(*h));
	h->timeout_fn = timeout;
	h->fn = due;
	h->due_ms = UINT64_MAX;
	h->ctx = ctx;
	append_hook(&l->timeouts, h);
}

void loop_del_timeout_source(struct loop *l, void *ctx)
{
	for (struct hook **p = &l->timeouts; *p; p = &(*p)->next) {
		if ((*p)->ctx == ctx) {
			struct hook *h = *p;
			*p = h->next;
			free(h);
			return;
		}
	}
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

static void run_due_timers(struct loop *l, uint64_t now)
{
	for (struct loop_timer *t = l->timers; t; t = t->next) {
		if (t->dead || t->due_ms > now)
			continue;
		t->due_ms = now + t->interval_ms;
		t->fn(t->ctx);
	}
}

static int compute_timeout(struct loop *l, uint64_t now)
{
	int64_t best = -1;
	for (struct loop_timer *t = l->timers; t; t = t->next) {
		if (t->dead)
			continue;
		int64_t left = t->due_ms > now ? (int64_t)(t->due_ms - now) : 0;
		if (best < 0 || left < best)
			best = left;
	}
	for (struct hook *h = l->timeouts; h; h = h->next) {
		int64_t left = h->timeout_fn(h->ctx);
		h->due_ms = left >= 0 ? now + (uint64_t)left : UINT64_MAX;
		if (left >= 0 && (best < 0 || left < best))
			best = left;
	}
	return best > 60000 ? 60000 : (int)best;
}

int loop_run(struct loop *l)
{
	enum {
		MAX_EVENTS = 256
	};
	struct epoll_event events[MAX_EVENTS];
	while (!l->stop) {
		for (struct hook *h = l->before_sleep; h; h = h->next)
			h->fn(h->ctx);
		int timeout = compute_timeout(l, clock_mono_ms());
		int n = epoll_wait(l->epfd, events, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_crit("etcdserver", "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct loop_fd *w = events[i].data.ptr;
			if (!w->dead)
				w->fn(w->ctx, events[i].events);
		}
		free_fd_list(l->graveyard);
		l->graveyard = NULL;
		uint64_t now = clock_mono_ms();
		for (struct hook *h = l->timeouts; h; h = h->next)
			if (h->due_ms <= now)
				h->fn(h->ctx);
		run_due_timers(l, now);
		sweep_timers(l);
	}
	return 0;
}
