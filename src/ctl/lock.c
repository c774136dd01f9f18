/* lock.c - cetcdctl lock NAME [command...] and elect NAME PROPOSAL on v2
 * primitives: an in-order key under the directory NAME (POST, with a TTL),
 * the lowest key holds; a waiter watches only its predecessor. A thread
 * refreshes the key's TTL every TTL/3 while it waits and holds; the key is
 * deleted when the command ends or on SIGINT/SIGTERM. A holder whose key
 * is gone (not refreshed in time) stops its command and exits 1, so two
 * processes never hold at once as long as refreshes are not delayed past
 * the TTL. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/xalloc.h"

static struct {
	char *key; /* our in-order key; NULL until created */
	int64_t ttl;
	volatile pid_t child;
	int64_t refreshed_ms; /* when the key's TTL last started again (atomic) */
	pthread_mutex_t mu;
	bool quiet;
} lk = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* DELETE our key (best effort, once). */
static void release(void)
{
	pthread_mutex_lock(&lk.mu);
	char *key = lk.key;
	lk.key = NULL;
	pthread_mutex_unlock(&lk.mu);
	if (!key)
		return;
	struct buf path = BUF_INIT;
	ctl_keys_path(&path, key);
	struct ctl_resp r;
	struct ctl_err e;
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	if (ctl_do("DELETE", path.data, NULL, NULL, false, &r, &e) == 0)
		ctl_resp_free(&r);
	else
		ctl_err_free(&e);
	buf_free(&path);
	free(key);
}

/* The key is (or may be) gone: stop the command, say so, exit 1. */
static _Noreturn void lost(const char *key, const char *why)
{
	fprintf(stderr, "cetcdctl: lost %s: %s\n", key, why);
	pid_t c = lk.child;
	if (c > 0)
		kill(c, SIGTERM);
	_exit(1);
}

static void *keepalive(void *arg)
{
	(void)arg;
	int64_t every = lk.ttl * 1000 / 3;
	if (every < 300)
		every = 300;
	for (;;) {
		usleep((useconds_t)every * 1000);
		pthread_mutex_lock(&lk.mu);
		char *key = lk.key ? xstrdup(lk.key) : NULL;
		pthread_mutex_unlock(&lk.mu);
		if (!key)
			continue;
		/* Not refreshed for a whole TTL (this process stalled, or the
		 * server was out of reach): the key may have expired and another
		 * process may hold the lock. */
		int64_t since = ctl_now_ms() - __atomic_load_n(&lk.refreshed_ms, __ATOMIC_RELAXED);
		if (since >= lk.ttl * 1000)
			lost(key, "not refreshed within its TTL");
		struct buf path = BUF_INIT, form = BUF_INIT;
		ctl_keys_path(&path, key);
		buf_puts(&path, "?prevExist=true");
		buf_printf(&form, "refresh=true&ttl=%lld", (long long)lk.ttl);
		struct ctl_resp r;
		struct ctl_err e;
		int64_t sent = ctl_now_ms();
		ctl_deadline_ms = sent + every;
		int rc = ctl_do("PUT", path.data, form.data, "application/x-www-form-urlencoded",
				false, &r, &e);
		if (rc == 0 && r.status == 404)
			lost(key, "its key expired");
		if (rc == 0 && r.status / 100 == 2)
			__atomic_store_n(&lk.refreshed_ms, sent, __ATOMIC_RELAXED);
		if (rc == 0)
			ctl_resp_free(&r);
		else
			ctl_err_free(&e);
		buf_free(&path);
		buf_free(&form);
		free(key);
	}
	return NULL;
}

static void *signals(void *arg)
{
	sigset_t *set = arg;
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		pid_t c = lk.child;
		if (c > 0) {
			kill(c, sig); /* the main thread releases when it ends */
			continue;
		}
		release();
		_exit(0);
	}
	return NULL;
}

struct entry {
	char *key;
	char *value;
};

/* The directory's children sorted by key, with the index of the answer. */
static int list_dir(const char *dir, struct entry **out, size_t *n, uint64_t *index)
{
	struct buf path = BUF_INIT;
	ctl_keys_path(&path, dir);
	buf_puts(&path, "?quorum=true&recursive=false&sorted=true");
	struct ctl_resp r;
	struct ctl_err e;
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	if (ctl_do("GET", path.data, NULL, NULL, false, &r, &e) != 0) {
		buf_free(&path);
		ctl_err_free(&e);
		return -1;
	}
	buf_free(&path);
	struct ctl_kresp k;
	if (ctl_kresp_parse(&r, &k, &e) != 0) {
		ctl_resp_free(&r);
		ctl_err_free(&e);
		return -1;
	}
	*index = r.etcd_index;
	ctl_resp_free(&r);
	*n = k.node->nnodes;
	*out = xcalloc(*n + 1, sizeof **out);
	for (size_t i = 0; i < *n; i++) {
		(*out)[i].key = xstrdup(k.node->nodes[i]->key ? k.node->nodes[i]->key : "");
		(*out)[i].value = xstrdup(k.node->nodes[i]->value ? k.node->nodes[i]->value : "");
	}
	ctl_kresp_free(&k);
	return 0;
}

static void entries_free(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].key);
		free(e[i].value);
	}
	free(e);
}

/* Waits for one event on key (or, recursive, under it) after index (any
 * change: recheck after); a failed wait pauses a second. */
static void wait_change(const char *key, bool recursive, uint64_t index)
{
	struct buf path = BUF_INIT;
	ctl_keys_path(&path, key);
	buf_printf(&path, "?recursive=%s&wait=true&waitIndex=%llu", recursive ? "true" : "false",
		   (unsigned long long)index + 1);
	struct ctl_resp r;
	struct ctl_err e;
	if (ctl_do("GET", path.data, NULL, NULL, true, &r, &e) == 0)
		ctl_resp_free(&r);
	else {
		ctl_err_free(&e);
		sleep(1);
	}
	buf_free(&path);
}

/* Creates our key under dir and waits until it is the lowest. */
static void acquire(const char *dir, const char *value)
{
	struct buf path = BUF_INIT, form = BUF_INIT;
	ctl_keys_path(&path, dir);
	buf_printf(&form, "ttl=%lld&value=", (long long)lk.ttl);
	ctl_query_escape(&form, value);
	struct ctl_resp r;
	struct ctl_err e;
	int64_t sent = ctl_now_ms();
	__atomic_store_n(&lk.refreshed_ms, sent, __ATOMIC_RELAXED);
	ctl_deadline_ms = sent + ctl.total_timeout_ns / 1000000;
	if (ctl_do("POST", path.data, form.data, "application/x-www-form-urlencoded", false, &r,
		   &e) != 0)
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	struct ctl_kresp k;
	if (ctl_kresp_parse(&r, &k, &e) != 0)
		ctl_fail(&e, CTL_EXIT_SERVER_ERROR);
	ctl_resp_free(&r);
	pthread_mutex_lock(&lk.mu);
	lk.key = xstrdup(k.node->key ? k.node->key : "");
	pthread_mutex_unlock(&lk.mu);
	char *mine = xstrdup(lk.key);
	ctl_kresp_free(&k);
	buf_free(&path);
	buf_free(&form);
	for (;;) {
		struct entry *es;
		size_t n;
		uint64_t index;
		if (list_dir(dir, &es, &n, &index) != 0) {
			sleep(1);
			continue;
		}
		size_t me = n;
		for (size_t i = 0; i < n; i++)
			if (strcmp(es[i].key, mine) == 0)
				me = i;
		if (me == n) {
			fprintf(stderr, "cetcdctl: lost %s: its key expired while waiting\n", mine);
			exit(1);
		}
		if (me == 0) {
			entries_free(es, n);
			break;
		}
		char *pred = xstrdup(es[me - 1].key);
		entries_free(es, n);
		wait_change(pred, false, index);
		free(pred);
	}
	free(mine);
}

static void start_threads(void)
{
	static sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_t t;
	pthread_create(&t, NULL, signals, &set);
	pthread_detach(t);
	pthread_create(&t, NULL, keepalive, NULL);
	pthread_detach(t);
}

static int run_child(char **cmd)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		perror("cetcdctl: fork");
		return 1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		setenv("CETCDCTL_LOCK_KEY", lk.key ? lk.key : "", 1);
		execvp(cmd[0], cmd);
		fprintf(stderr, "cetcdctl: %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	lk.child = pid;
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	lk.child = 0;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Holds until a signal (the signal thread releases and exits). */
static _Noreturn void hold(void)
{
	for (;;)
		pause();
}

/* elect -l: prints the leader's proposal each time it changes. */
static _Noreturn void observe(const char *dir)
{
	char *last = NULL;
	for (;;) {
		struct entry *es;
		size_t n;
		uint64_t index;
		if (list_dir(dir, &es, &n, &index) != 0) {
			sleep(1);
			continue;
		}
		if (n > 0 && (!last || strcmp(last, es[0].key) != 0)) {
			printf("%s\n%s\n", es[0].key, es[0].value);
			fflush(stdout);
			free(last);
			last = xstrdup(es[0].key);
		}
		entries_free(es, n);
		wait_change(dir, true, index);
	}
}

int ctl_cmd_lock(const char *cmd, int argc, char **argv)
{
	bool elect = strcmp(cmd, "elect") == 0;
	struct ctl_flag flags[] = {
		{.names = "ttl", .kind = CTL_INT, .i = 10},
		{.names = "help, h", .kind = CTL_BOOL},
		{.names = elect ? "listen, l" : NULL, .kind = CTL_BOOL},
		{0},
	};
	struct buf err = BUF_INIT;
	/* Flags only before NAME: the command's own flags stay its own. */
	int first = ctl_parse_flags(flags, argc, argv, false, &err);
	if (first == -2 || ctl_flag(flags, "help")->b) {
		ctl_print_help(cmd);
		return 0;
	}
	if (first < 0) {
		fprintf(stderr, "Error:  %s\n", err.data);
		return 1;
	}
	argc -= first;
	argv += first;
	bool listen = elect && ctl_flag(flags, "listen")->b;
	if (argc < 1 || (elect && !listen && argc != 2) || (listen && argc != 1)) {
		fprintf(stderr, "Error:  %s\n",
			elect ? (listen ? "elect --listen takes one argument: NAME" :
					  "elect takes two arguments: NAME PROPOSAL") :
				"lock takes at least one argument: NAME");
		return 1;
	}
	lk.ttl = ctl_flag(flags, "ttl")->i;
	if (lk.ttl < 1) {
		fprintf(stderr, "Error:  --ttl must be at least 1 second\n");
		return 1;
	}
	ctl_client_init(true);
	if (listen)
		observe(argv[0]);
	start_threads();
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	struct buf me = BUF_INIT;
	if (elect)
		buf_puts(&me, argv[1]);
	else
		buf_printf(&me, "%s:%ld", host, (long)getpid());
	acquire(argv[0], me.data);
	if (elect) {
		printf("%s\n%s\n", lk.key, argv[1]);
		fflush(stdout);
		hold();
	}
	if (argc == 1) {
		printf("%s\n", lk.key);
		fflush(stdout);
		hold();
	}
	int rc = run_child(argv + 1);
	release();
	buf_free(&me);
	return rc;
}
