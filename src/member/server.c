/* server.c - builds the member from its options, wires the loop, the store,
 * the log driver and the listeners together, and runs until a signal. */
#include "member/server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "kv/command.h"
#include "net/http_server.h"
#include "member/join.h"
#include "net/loop.h"
#include "net/sdnotify.h"
#include "net/signals.h"
#include "util/url.h"
#include "member/node.h"
#include "member/peer_send.h"
#include "member/proposal.h"
#include "raft/raft.h"
#include "kv/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "kv/v2err.h"

#define TICK_MS 100 /* expiry checks and proposal timeouts */

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
		log_crit("etcdmain", "cannot create data dir %s: %s", data_dir, strerror(errno));
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
	/* A new leader waits one election timeout before expiring anything:
	 * clients could not refresh their keys while there was no leader. */
	if (now_ms < s->expire_hold_until_ms)
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

/* etcd's publish: until the member table (replicated through the log) shows
 * this member's name and client URLs, propose them, once a second. */
static bool published(struct server *s)
{
	const struct member *m = cluster_find(&s->cluster, s->self_id);
	if (m == NULL || strcmp(m->name, s->opts.name) != 0 ||
	    m->n_client_urls != s->opts.n_advertise_client_urls)
		return false;
	for (size_t i = 0; i < m->n_client_urls; i++)
		if (strcmp(m->client_urls[i], s->opts.advertise_client_urls[i]) != 0)
			return false;
	return s->published_applied;
}

static void maybe_publish(struct server *s)
{
	uint64_t now = clock_mono_ms();
	if (published(s) || node_leader_id(s->node) == 0 || now - s->publish_sent_ms < 1000)
		return;
	const struct member *self = cluster_find(&s->cluster, s->self_id);
	if (self == NULL)
		return;
	struct member me = {
		.id = s->self_id,
		.name = (char *)s->opts.name,
		.peer_urls = self->peer_urls,
		.n_peer_urls = self->n_peer_urls,
		.client_urls = s->opts.advertise_client_urls,
		.n_client_urls = s->opts.n_advertise_client_urls,
	};
	struct buf payload = BUF_INIT;
	command_encode_publish(&payload, &me);
	node_propose(s->node, payload.data, payload.len);
	s->publish_sent_ms = now;
	buf_free(&payload);
}

/* Rule 10 of doc/raft-core.md: a removed member keeps stepping for a grace
 * period, and a removed leader until its successor takes over. */
static void maybe_stop_removed(struct server *s)
{
	if (s->removed_ms == 0 || node_is_leader(s->node) ||
	    clock_mono_ms() < s->removed_ms + s->opts.election_ms)
		return;
	log_error("etcdserver", "the member has been permanently removed from the cluster");
	log_info("etcdserver", "the data-dir used by this member must be removed.");
	loop_stop(s->loop);
}

static void on_tick(void *ctx)
{
	struct server *s = ctx;
	maybe_stop_removed(s);
	maybe_publish(s);
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
	node_process(s->node); /* applies, which resumes waiting requests */
	http_server_flush(s->http);
	http_server_flush(s->peer_http);
	http_server_flush(s->metrics_http);
}

/* ---- lifecycle --------------------------------------------------------- */

/* The member table at bootstrap: every name of --initial-cluster with its
 * peer URLs, ids derived as etcd derives them. No client URLs: they are not
 * known for the others, and the table must be identical on every member (it
 * goes into the bootstrap entry); each member publishes its own later. */
static int init_cluster(struct server *s)
{
	const struct server_opts *o = &s->opts;
	const struct url_map *cl = o->initial_cluster;
	for (size_t i = 0; i < cl->n; i++) {
		const char *name = cl->v[i].name;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen = seen || strcmp(cl->v[j].name, name) == 0;
		if (seen)
			continue;
		char *urls[RAFT_MAX_MEMBERS];
		size_t n = 0;
		for (size_t j = i; j < cl->n && n < RAFT_MAX_MEMBERS; j++)
			if (strcmp(cl->v[j].name, name) == 0)
				urls[n++] = cl->v[j].url.str;
		cluster_add_member(&s->cluster, name, urls, n, NULL, 0, o->initial_cluster_token);
	}
	/* cluster_add_member keeps the table sorted: find ourselves by name */
	for (size_t i = 0; i < s->cluster.n_members; i++)
		if (strcmp(s->cluster.members[i].name, o->name) == 0)
			s->self_id = s->cluster.members[i].id;
	if (s->self_id == 0 && !o->restarting) {
		log_crit("etcdmain",
			 "couldn't find local name \"%s\" in the initial cluster "
			 "configuration",
			 o->name);
		return -1;
	}
	return 0;
}

/* What this member knows of itself before (and besides) publishing. */
static void note_self(struct server *s)
{
	cluster_publish(&s->cluster, s->self_id, s->opts.name, s->opts.advertise_client_urls,
			s->opts.n_advertise_client_urls);
}

/* The peer transport follows the member table (NULL at start-up:
 * start_peers reads the table itself). */
static void sync_peers(struct server *s)
{
	if (s->peers)
		peer_sender_sync_members(s->peers, &s->cluster);
}

/* ---- what the log changed (apply.c, node*.c) ----------------------------- */

void server_replace_members(struct server *s, struct cluster *table)
{
	cluster_free(&s->cluster);
	s->cluster = *table;
	*table = (struct cluster){0};
	note_self(s);
	sync_peers(s);
}

void server_member_added(struct server *s, uint64_t id, const struct member *m)
{
	cluster_put_member(&s->cluster, id, m->name, m->peer_urls, m->n_peer_urls, m->client_urls,
			   m->n_client_urls);
	sync_peers(s);
}

void server_member_removed(struct server *s, uint64_t id)
{
	cluster_remove_member(&s->cluster, id);
	sync_peers(s);
	if (id == s->self_id)
		s->removed_ms = clock_mono_ms(); /* stops after a grace */
}

/* "host:port" of a listen URL (config checked its form). */
static const char *host_port(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? p + 3 : url;
}

/* The lines etcd prints once its own publish is applied, the ones tools
 * wait for (etcd's e2e harness: "published", "ready to serve client
 * requests"). */
static void log_ready(const struct server *s, const struct member *m)
{
	struct buf urls = {0};
	for (size_t i = 0; i < m->n_client_urls; i++)
		buf_printf(&urls, "%s%s", i ? " " : "", m->client_urls[i]);
	log_info("etcdserver", "published {Name:%s ClientURLs:[%s]} to cluster %" PRIx64, m->name,
		 urls.data ? urls.data : "", s->cluster.id);
	buf_free(&urls);
	log_info("embed", "ready to serve client requests");
	int err = sd_notify_ready();
	if (err)
		log_warn("etcdmain", "failed to notify systemd for readiness: %s", strerror(-err));
	for (size_t i = 0; i < s->opts.n_listen_client_urls; i++) {
		const char *url = s->opts.listen_client_urls[i];
		if (strncmp(url, "https://", 8) == 0 || strncmp(url, "unixs://", 8) == 0)
			log_info("embed", "serving client requests on %s", host_port(url));
		else
			log_notice("embed",
				   "serving insecure client requests on %s, this is strongly "
				   "discouraged!",
				   host_port(url));
	}
}

void server_member_published(struct server *s, const struct member *m)
{
	cluster_publish(&s->cluster, m->id, m->name, m->client_urls, m->n_client_urls);
	if (m->id != s->self_id || s->published_applied)
		return;
	s->published_applied = true;
	log_ready(s, m);
}

void server_expiry_applied(struct server *s)
{
	s->expire_in_flight = false;
}

/* A new leader waits one election timeout before expiring anything
 * (maybe_propose_expiry). */
void server_became_leader(struct server *s)
{
	s->expire_hold_until_ms = clock_mono_ms() + s->opts.election_ms;
}

/* ---- start-up ------------------------------------------------------------ */

/* --initial-cluster-state existing: the cluster tells us who we are. */
static int join_cluster(struct server *s)
{
	const struct server_opts *o = &s->opts;
	struct join_result joined;
	if (join_existing_cluster(&s->cluster, o->initial_advertise_peer_urls,
				  o->n_initial_advertise_peer_urls, o->peer_client_tls,
				  &joined) != 0) {
		log_crit("etcdmain",
			 "cannot fetch cluster info from the peer urls of "
			 "--initial-cluster (is this member added with POST /v2/members?)");
		return -1;
	}
	cluster_free(&s->cluster);
	s->cluster = joined.table;
	s->self_id = joined.self_id;
	return 0;
}

/* The data dir decides who this member is (a restart: its WAL and newest
 * snapshot); then the log starts. */
static int start_node(struct server *s)
{
	struct node_identity who;
	s->node = node_open(s, &who);
	if (s->node == NULL)
		return -1;
	if (who.has_table) {
		cluster_free(&s->cluster);
		s->cluster = who.table;
	}
	s->self_id = who.self_id;
	s->cluster.id = who.cluster_id;
	return node_start(s->node);
}

/* A peer answered 410: this member was removed from the cluster. etcd's
 * member stops; so does this one. */
static void on_removed(void *ctx, uint64_t peer_id)
{
	struct server *s = ctx;
	log_error("rafthttp",
		  "member %llx says this member has been permanently removed "
		  "from the cluster; stopping",
		  (unsigned long long)peer_id);
	loop_stop(s->loop);
}

static int start_peers(struct server *s)
{
	s->peers = peer_sender_new(s->loop, s->self_id, s->cluster.id);
	if (s->peers == NULL)
		return -1;
	peer_sender_set_tls(s->peers, s->opts.peer_client_tls);
	peer_sender_sync_members(s->peers, &s->cluster);
	peer_sender_on_gone(s->peers, on_removed, s);
	s->peer_http =
		http_server_new_tls(s->loop, s->opts.peer_service, s, s->opts.listen_peer_urls,
				    s->opts.n_listen_peer_urls, s->opts.peer_tls);
	return s->peer_http ? 0 : -1;
}

struct server *server_new(const struct server_opts *opts)
{
	struct server *s = xcalloc(1, sizeof(*s));
	s->opts = *opts;
	s->start_wall_ns = clock_wall_ns();
	s->request_timeout_ms = 5000 + 2 * opts->election_ms;
	raise_fd_limit();
	if (prepare_data_dir(opts->data_dir) != 0)
		goto fail;
	s->loop = loop_new();
	if (s->loop == NULL)
		goto fail;
	s->signals = signal_stop_new(s->loop);
	if (s->signals == NULL)
		goto fail;
	if (init_cluster(s) != 0)
		goto fail;
	if (opts->join_existing && !opts->restarting && join_cluster(s) != 0)
		goto fail;
	s->store = store_new_window((size_t)opts->watch_window);
	s->auth = auth_state_new();
	s->props = proposals_new((uint64_t)s->start_wall_ns);
	if (start_node(s) != 0 || start_peers(s) != 0)
		goto fail;
	note_self(s);
	s->http = http_server_new_tls(s->loop, opts->client_service, s, opts->listen_client_urls,
				      opts->n_listen_client_urls, opts->client_tls);
	if (s->http == NULL)
		goto fail;
	http_server_limit_conns(s->http, opts->max_client_conns ? (size_t)opts->max_client_conns :
								  http_default_conn_limit());
	if (opts->n_listen_metrics_urls &&
	    (s->metrics_http = http_server_new_tls(
		     s->loop, opts->metrics_service, s, opts->listen_metrics_urls,
		     opts->n_listen_metrics_urls, opts->client_tls)) ==
		    NULL) /* https:// as etcd: the client's */
		goto fail;
	loop_add_timer(s->loop, TICK_MS, on_tick, s);
	loop_add_timer(s->loop, opts->heartbeat_ms > 20 ? opts->heartbeat_ms / 2 : 10, on_raft_tick,
		       s);
	loop_add_before_sleep(s->loop, before_sleep, s);
	return s;
fail:
	server_free(s);
	return NULL;
}

int server_run(struct server *s)
{
	log_info("etcdserver", "starting member %" PRIx64 " in cluster %" PRIx64, s->self_id,
		 s->cluster.id);
	for (size_t i = 0; i < s->opts.n_listen_peer_urls; i++)
		log_info("embed", "listening for peers on %s", s->opts.listen_peer_urls[i]);
	for (size_t i = 0; i < s->opts.n_listen_client_urls; i++)
		log_info("embed", "listening for client requests on %s",
			 host_port(s->opts.listen_client_urls[i]));
	for (size_t i = 0; i < s->opts.n_listen_metrics_urls; i++)
		log_info("embed", "listening for metrics on %s", s->opts.listen_metrics_urls[i]);
	int rc = loop_run(s->loop);
	return rc == 0 && !node_failed(s->node) ? 0 : 1;
}

void server_free(struct server *s)
{
	if (s == NULL)
		return;
	/* answer what is parked (while the listeners still exist), then stop the
	 * log (syncs the WAL, then trims its preallocated tail: node_free), then
	 * the listeners */
	if (s->props) {
		struct store_error stopped = {.code = V2E_RAFT_INTERNAL,
					      .cause = "etcdserver: server stopped"};
		proposals_fail_all(s->props, &stopped);
	}
	node_free(s->node);
	peer_sender_free(s->peers);
	http_server_free(s->peer_http);
	http_server_free(s->http);
	http_server_free(s->metrics_http);
	proposals_free(s->props);
	store_free(s->store);
	auth_state_free(s->auth);
	cluster_free(&s->cluster);
	signal_stop_free(s->loop, s->signals);
	loop_free(s->loop);
	free(s);
}
