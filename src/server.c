/* server.c - builds the member from its options, wires the loop, the store,
 * the log driver and the listeners together, and runs until a signal. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "command.h"
#include "http_server.h"
#include "loop.h"
#include "node.h"
#include "proposal.h"
#include "store.h"
#include "v2err.h"

#define TICK_MS 100	/* expiry checks and proposal timeouts */

struct signals {
	int fd;
	struct loop_fd *watch;
};

static struct signals sig;

static void on_signal(void *ctx, uint32_t events)
{
	struct server *s = ctx;
	struct signalfd_siginfo si;
	if (read(sig.fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		fprintf(stderr, "cetcd: received %s, shutting down\n", strsignal((int)si.ssi_signo));
	loop_stop(s->loop);
}

static int setup_signals(struct server *s)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sig.fd < 0)
		return -1;
	sig.watch = loop_add_fd(s->loop, sig.fd, EPOLLIN, on_signal, s);
	return sig.watch ? 0 : -1;
}

/* Many idle watchers each hold a socket: take all the descriptors allowed. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int make_dirs(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int prepare_data_dir(const char *data_dir)
{
	char member[4096];
	snprintf(member, sizeof(member), "%s/member", data_dir);
	if (make_dirs(member) != 0) {
		fprintf(stderr, "cetcd: cannot create data dir %s: %s\n", data_dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- periodic work ----------------------------------------------------- */

/* Leader only: propose an expiry sweep once the earliest deadline passed.
 * Followers never expire keys on their own (the sweep comes from the log). */
static void maybe_propose_expiry(struct server *s)
{
	if (!node_is_leader(s->node))
		return;
	uint64_t now_ms = clock_mono_ms();
	if (s->expire_in_flight && now_ms - s->expire_proposed_ms < 1000)
		return;
	if (store_next_expiry(s->store) > clock_wall_ns())
		return;
	struct buf payload = BUF_INIT;
	command_encode_expire(&payload, s->self_id, 0);
	if (node_propose(s->node, payload.data, payload.len) == 0) {
		s->expire_in_flight = true;
		s->expire_proposed_ms = now_ms;
	}
	buf_free(&payload);
}

static void on_tick(void *ctx)
{
	struct server *s = ctx;
	struct store_error timeout = {.code = V2E_RAFT_INTERNAL,
				      .cause = "etcdserver: request timed out"};
	maybe_propose_expiry(s);
	proposals_expire(s->props, clock_mono_ms(), &timeout);
}

static void on_raft_tick(void *ctx)
{
	struct server *s = ctx;
	node_tick(s->node);
}

static void before_sleep(void *ctx)
{
	struct server *s = ctx;
	node_process(s->node);	/* applies, which resumes waiting requests */
	http_server_flush(s->http);
}

/* ---- lifecycle --------------------------------------------------------- */

static void init_cluster(struct server *s)
{
	const struct server_opts *o = &s->opts;
	cluster_add_member(&s->cluster, o->name, o->initial_advertise_peer_urls,
			   o->n_initial_advertise_peer_urls, o->advertise_client_urls,
			   o->n_advertise_client_urls, o->initial_cluster_token);
	s->self_id = s->cluster.members[0].id;
}

struct server *server_new(const struct server_opts *opts)
{
	struct server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		abort();
	s->opts = *opts;
	s->start_wall_ns = clock_wall_ns();
	s->request_timeout_ms = 5000 + 2 * opts->election_ms;
	raise_fd_limit();
	if (prepare_data_dir(opts->data_dir) != 0)
		goto fail;
	s->loop = loop_new();
	if (s->loop == NULL || setup_signals(s) != 0)
		goto fail;
	init_cluster(s);
	s->store = store_new();
	s->props = proposals_new((uint64_t)s->start_wall_ns);
	s->node = node_new(s);
	if (s->node == NULL)
		goto fail;
	s->http = http_server_new(s, opts->listen_client_urls, opts->n_listen_client_urls, false);
	if (s->http == NULL)
		goto fail;
	loop_add_timer(s->loop, TICK_MS, on_tick, s);
	loop_add_timer(s->loop, opts->heartbeat_ms > 20 ? opts->heartbeat_ms / 2 : 10,
		       on_raft_tick, s);
	loop_add_before_sleep(s->loop, before_sleep, s);
	return s;
fail:
	server_free(s);
	return NULL;
}

int server_run(struct server *s)
{
	fprintf(stderr, "cetcd: member %llx serving client requests on",
		(unsigned long long)s->self_id);
	for (size_t i = 0; i < s->opts.n_listen_client_urls; i++)
		fprintf(stderr, " %s", s->opts.listen_client_urls[i]);
	fputc('\n', stderr);
	int rc = loop_run(s->loop);
	return rc == 0 && !node_failed(s->node) ? 0 : 1;
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	/* answer what is parked (while the listeners still exist), then stop the
	 * log (flushes the WAL), then the listeners */
	if (s->props) {
		struct store_error stopped = {.code = V2E_RAFT_INTERNAL,
					      .cause = "etcdserver: server stopped"};
		proposals_fail_all(s->props, &stopped);
	}
	node_free(s->node);
	http_server_free(s->http);
	proposals_free(s->props);
	store_free(s->store);
	cluster_free(&s->cluster);
	if (sig.watch)
		loop_del_fd(s->loop, sig.watch);
	if (sig.fd > 0)
		close(sig.fd);
	loop_free(s->loop);
	free(s);
}
