/* auth_crypt.c - the password worker: one thread at the lowest CPU priority
 * running libxcrypt's crypt_gensalt_rn / crypt_rn for jobs the loop queues
 * (see auth_crypt.h). */
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
#include "util/list.h"
#include "util/log.h"
#include "util/xalloc.h"

#define BCRYPT_PREFIX "$2b$"
#define BCRYPT_COST   10 /* etcd: bcrypt.DefaultCost */

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
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct list todo, done; /* under mu */
	int efd;
	struct loop_fd *watch;
	size_t pending; /* loop thread only */
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
	struct worker *w = arg;
	/* the lowest priority (Linux: nice is per thread): a flood of wrong
	 * passwords gets the CPU the requests being served leave idle, instead
	 * of a core of its own */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), 19) != 0)
		log_warn("etcdserver/auth", "password worker: setpriority: %s", strerror(errno));
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (list_empty(&w->todo))
			pthread_cond_wait(&w->cv, &w->mu);
		struct auth_job *j = list_entry(w->todo.next, struct auth_job, link);
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
	pthread_cond_init(&w->cv, NULL);
	list_init(&w->todo);
	list_init(&w->done);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		goto fail;
	w->watch = loop_add_fd(l, w->efd, EPOLLIN, on_done, w);
	if (w->watch == NULL)
		goto fail;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		loop_del_fd(l, w->watch);
		goto fail;
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
	pthread_mutex_lock(&w->mu);
	list_add_tail(&w->todo, &j->link);
	pthread_cond_signal(&w->cv);
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
