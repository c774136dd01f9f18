/* tcp_push.c - the pusher thread (see tcp_push.h): a queue of descriptors
 * under a mutex; the thread takes the whole queue at a time. */
#include "net/tcp_push.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/xalloc.h"

struct tcp_pusher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int *q; /* under mu */
	size_t n, cap;
	bool stop;
};

static void uncork(int fd)
{
	int zero = 0;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
}

static void *pusher_main(void *arg)
{
	struct tcp_pusher *p = arg;
	int *mine = NULL;
	size_t mine_cap = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->n == 0 && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->n == 0)
			break;
		/* swap queues: the loop fills the other one meanwhile */
		int *q = p->q;
		size_t n = p->n, cap = p->cap;
		p->q = mine;
		p->cap = mine_cap;
		p->n = 0;
		pthread_mutex_unlock(&p->mu);
		for (size_t i = 0; i < n; i++)
			uncork(q[i]);
		mine = q;
		mine_cap = cap;
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	free(mine);
	return NULL;
}

struct tcp_pusher *tcp_pusher_new(void)
{
	struct tcp_pusher *p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals stay the loop's */
	int rc = pthread_create(&p->thread, NULL, pusher_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	return p;
}

void tcp_pusher_free(struct tcp_pusher *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL); /* it empties the queue first */
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->q);
	free(p);
}

void tcp_pusher_push(struct tcp_pusher *p, int fd)
{
	pthread_mutex_lock(&p->mu);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->q = xrealloc(p->q, p->cap * sizeof(*p->q));
	}
	p->q[p->n++] = fd;
	bool wake = p->n == 1; /* the thread waits only on an empty queue */
	pthread_mutex_unlock(&p->mu);
	if (wake)
		pthread_cond_signal(&p->cv);
}
