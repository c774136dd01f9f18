/* auth_crypt.c - the password workers: two threads (normal priority, and
 * nice 19 for checks while wrong passwords flood in) running libxcrypt's
 * crypt_gensalt_rn / crypt_rn for jobs the loop queues (see auth_crypt.h). */
#include "api/auth_crypt.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net/loop.h"
#include "util/clock.h"
#include "util/list.h"
#include "util/log.h"
#include "util/xalloc.h"

#define BCRYPT_PREFIX "$2b$"
#define BCRYPT_COST   10 /* etcd: bcrypt.DefaultCost */
/* Two worker threads: lane 0 at normal priority, lane 1 at nice 19 (Linux:
 * nice is per thread). Checks go to lane 1 while wrong passwords are
 * flooding in (FLOOD_FAILS or more failed checks in the last second), so a
 * flood gets only the CPU the requests being served leave idle, while an
 * ordinary login (and every new password's hash) is not held back. */
#define LANES	    2
#define FLOOD_NICE  19
#define FLOOD_FAILS 8

struct auth_job {
	struct list link; /* in todo or done */
	bool verify;
	bool cancelled; /* set by the loop thread under mu */
	char *password;
	char *hash; /* verify: the hash to check; hash: the result */
	bool ok;
	auth_job_fn fn;
	void *ctx;
};

struct worker {
	pthread_t thread[LANES];
	pthread_mutex_t mu;
	pthread_cond_t cv[LANES];
	struct list todo[LANES], done; /* under mu */
	int efd;
	struct loop_fd *watch;
	/* loop thread only */
	size_t pending;
	bool no_flood_lane;	    /* lane 1 could not be started */
	uint64_t window_ms;	    /* start of the current second */
	unsigned fails, last_fails; /* failed checks in it, and in the one before */
};

struct lane {
	struct worker *w;
	int i;
};

static struct worker *W;

static void job_free(struct auth_job *j)
{
	if (j->password) {
		explicit_bzero(j->password, strlen(j->password));
		free(j->password);
	}
	free(j->hash);
	free(j);
}

/* Hashes or checks one password (worker thread, no lock held). */
static void run_job(struct auth_job *j)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	if (j->verify) {
		const char *out = crypt_rn(j->password, j->hash, cd, sizeof(*cd));
		/* the same length and bytes, compared without an early exit */
		size_t n = strlen(j->hash);
		unsigned diff = out == NULL || out[0] == '*' || strlen(out) != n;
		for (size_t i = 0; out && !diff && i < n; i++)
			diff |= (unsigned)(out[i] ^ j->hash[i]);
		j->ok = diff == 0;
	} else {
		char salt[CRYPT_GENSALT_OUTPUT_SIZE];
		if (crypt_gensalt_rn(BCRYPT_PREFIX, BCRYPT_COST, NULL, 0, salt, sizeof(salt))) {
			const char *out = crypt_rn(j->password, salt, cd, sizeof(*cd));
			if (out && out[0] != '*')
				j->hash = xstrdup(out);
		}
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
}

static void *worker_main(void *arg)
{
	struct lane *ln = arg;
	struct worker *w = ln->w;
	int i = ln->i;
	free(ln);
	if (i == 1 && setpriority(PRIO_PROCESS, (id_t)gettid(), FLOOD_NICE) != 0)
		log_warn("etcdserver/auth", "password worker: setpriority: %s", strerror(errno));
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (list_empty(&w->todo[i]))
			pthread_cond_wait(&w->cv[i], &w->mu);
		struct auth_job *j = list_entry(w->todo[i].next, struct auth_job, link);
		list_del(&j->link);
		bool skip = j->cancelled;
		pthread_mutex_unlock(&w->mu);
		if (!skip)
			run_job(j);
		pthread_mutex_lock(&w->mu);
		list_add_tail(&w->done, &j->link);
		uint64_t one = 1;
		if (write(w->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("etcdserver/auth", "password worker: eventfd: %s",
				 strerror(errno));
	}
	return NULL;
}

static bool flooded(struct worker *w)
{
	uint64_t now = clock_mono_ms();
	unsigned recent = now - w->window_ms < 2000 ? w->fails : 0;
	if (now - w->window_ms < 1000)
		recent += w->last_fails;
	return recent >= FLOOD_FAILS;
}

/* Loop thread: counts failed checks per second (the flood detector); when
 * a flood starts, the checks already queued at normal priority move to the
 * low-priority lane. */
static void count_fail(struct worker *w)
{
	uint64_t now = clock_mono_ms();
	if (now - w->window_ms >= 1000) {
		w->last_fails = now - w->window_ms < 2000 ? w->fails : 0;
		w->fails = 0;
		w->window_ms = now;
	}
	bool was = flooded(w);
	w->fails++;
	if (was || !flooded(w) || w->no_flood_lane)
		return;
	pthread_mutex_lock(&w->mu);
	struct list *l0 = &w->todo[0];
	for (struct list *p = l0->next, *next; p != l0; p = next) {
		next = p->next;
		if (list_entry(p, struct auth_job, link)->verify) {
			list_del(p);
			list_add_tail(&w->todo[1], p);
		}
	}
	pthread_cond_signal(&w->cv[1]);
	pthread_mutex_unlock(&w->mu);
}

/* Loop thread: report what the worker finished. */
static void on_done(void *ctx, uint32_t events)
{
	struct worker *w = ctx;
	uint64_t n;
	if (read(w->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	struct list done;
	list_init(&done);
	pthread_mutex_lock(&w->mu);
	list_splice_tail(&done, &w->done);
	pthread_mutex_unlock(&w->mu);
	while (!list_empty(&done)) {
		struct auth_job *j = list_entry(done.next, struct auth_job, link);
		list_del(&j->link);
		w->pending--;
		if (j->verify && !j->ok && !j->cancelled)
			count_fail(w);
		if (!j->cancelled)
			j->fn(j->ctx, j);
		job_free(j);
	}
}

static struct worker *worker_get(struct loop *l)
{
	if (W)
		return W;
	struct worker *w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	for (int i = 0; i < LANES; i++) {
		pthread_cond_init(&w->cv[i], NULL);
		list_init(&w->todo[i]);
	}
	list_init(&w->done);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		goto fail;
	w->watch = loop_add_fd(l, w->efd, EPOLLIN, on_done, w);
	if (w->watch == NULL)
		goto fail;
	for (int i = 0; i < LANES; i++) {
		struct lane *ln = xcalloc(1, sizeof(*ln));
		ln->w = w;
		ln->i = i;
		if (pthread_create(&w->thread[i], NULL, worker_main, ln) != 0) {
			/* lane 0 alone still works: everything goes there */
			free(ln);
			if (i == 0) {
				loop_del_fd(l, w->watch);
				goto fail;
			}
			w->no_flood_lane = true;
		}
	}
	W = w;
	return W;
fail:
	log_error("etcdserver/auth", "cannot start the password worker: %s", strerror(errno));
	if (w->efd >= 0)
		close(w->efd);
	free(w);
	return NULL;
}

static struct auth_job *submit(struct loop *l, struct auth_job *j)
{
	struct worker *w = worker_get(l);
	if (w == NULL) {
		job_free(j);
		return NULL;
	}
	w->pending++;
	int i = j->verify && !w->no_flood_lane && flooded(w) ? 1 : 0;
	pthread_mutex_lock(&w->mu);
	list_add_tail(&w->todo[i], &j->link);
	pthread_cond_signal(&w->cv[i]);
	pthread_mutex_unlock(&w->mu);
	return j;
}

struct auth_job *auth_crypt_hash(struct loop *l, const char *password, auth_job_fn fn, void *ctx)
{
	struct auth_job *j = xcalloc(1, sizeof(*j));
	j->password = xstrdup(password);
	j->fn = fn;
	j->ctx = ctx;
	return submit(l, j);
}

struct auth_job *auth_crypt_verify(struct loop *l, const char *password, const char *hash,
				   auth_job_fn fn, void *ctx)
{
	struct auth_job *j = xcalloc(1, sizeof(*j));
	j->verify = true;
	j->password = xstrdup(password);
	j->hash = xstrdup(hash);
	j->fn = fn;
	j->ctx = ctx;
	return submit(l, j);
}

void auth_crypt_cancel(struct auth_job *job)
{
	if (job == NULL)
		return;
	pthread_mutex_lock(&W->mu);
	job->cancelled = true;
	pthread_mutex_unlock(&W->mu);
}

const char *auth_job_hash(const struct auth_job *job)
{
	return job->hash;
}

bool auth_job_ok(const struct auth_job *job)
{
	return job->ok;
}

size_t auth_crypt_pending(void)
{
	return W ? W->pending : 0;
}
