/* main.c - process entry: flags and ETCD_* environment -> a member of a
 * cluster (of one, or several), or a proxy in front of one. Exit codes
 * follow etcd: 0 after --help/--version, 2 for flag syntax errors, 1 for
 * everything else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/routes.h"
#include "cetcd/bootstrap.h"
#include "cetcd/config.h"
#include "cetcd/tls_setup.h"
#include "net/http_client.h"
#include "disk/wal.h"
#include "member/server.h"
#include "proxy/proxy.h"
#include "util/log.h"
#include "util/xalloc.h"

#ifdef HAVE_JEMALLOC
/* Read by jemalloc at start-up (configure links it, see configure.ac). A
 * background thread hands freed pages back to the kernel within about a
 * second, as glibc's malloc does at once: RSS falls again when thousands of
 * watchers leave. */
const char *malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
#endif

/* The server wants plain arrays of URL strings. */
static char **url_strings(const struct url_list *l)
{
	char **v = xcalloc(l->n, sizeof(*v));
	for (size_t i = 0; i < l->n; i++)
		v[i] = l->v[i].str; /* borrowed from the config */
	return v;
}

static void wal_dir(const struct config *c, char *dir, size_t cap)
{
	if (c->wal_dir[0])
		snprintf(dir, cap, "%s", c->wal_dir);
	else
		snprintf(dir, cap, "%s/member/wal", c->data_dir);
}

static bool has_wal(const struct config *c)
{
	char dir[4096];
	wal_dir(c, dir, sizeof dir);
	return wal_exists(dir);
}

/* A member restarted with a data dir ignores the --initial-cluster flags
 * and discovery, as etcd does: parse them if they parse, never refuse to
 * start over them. */
static enum boot_result restart_cluster(const struct config *c, struct url_map *cl)
{
	char why[512];
	if (c->discovery[0]) {
		wal_dir(c, why, sizeof why);
		log_warn("etcdserver",
			 "discovery token ignored since a cluster has already been initialized. "
			 "Valid log found at \"%s\"",
			 why);
	}
	if (config_initial_cluster_parse(c->initial_cluster, cl, why, sizeof(why)) != 0)
		memset(cl, 0, sizeof(*cl));
	return BOOT_OK;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* etcd decides from the data dir first: one that was a member's stays a
 * member, one that was a proxy's stays a proxy, whatever --proxy says. */
static bool runs_as_proxy(const struct config *c)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/member", c->data_dir);
	if (is_dir(dir)) {
		if (strcmp(c->proxy, "off") != 0)
			log_notice("etcdmain", "the server is already initialized as member "
					       "before, starting as etcd member...");
		return false;
	}
	snprintf(dir, sizeof(dir), "%s/proxy", c->data_dir);
	if (is_dir(dir)) {
		log_notice("etcdmain", "the server is already initialized as proxy before, "
				       "starting as etcd proxy...");
		return true;
	}
	return strcmp(c->proxy, "off") != 0;
}

/* A proxy: the peer URLs of --initial-cluster, --discovery or
 * --discovery-srv (unless its data dir knows better), forwarding from the
 * client listeners. */
static int run_proxy(const struct config *c, const struct tls_setup *tls)
{
	struct url_map initial = {0};
	if (bootstrap_proxy_peers(c, &initial) != 0)
		return 1;
	char **peers = xcalloc(initial.n ? initial.n : 1, sizeof(*peers));
	for (size_t i = 0; i < initial.n; i++)
		peers[i] = initial.v[i].url.str; /* borrowed */
	char **listen = url_strings(&c->listen_client_urls);
	size_t n_self = c->listen_client_urls.n + c->advertise_client_urls.n;
	char **self = xcalloc(n_self ? n_self : 1, sizeof(*self));
	for (size_t i = 0; i < c->listen_client_urls.n; i++)
		self[i] = c->listen_client_urls.v[i].str;
	for (size_t i = 0; i < c->advertise_client_urls.n; i++)
		self[c->listen_client_urls.n + i] = c->advertise_client_urls.v[i].str;
	struct proxy_opts o = {
		.readonly = strcmp(c->proxy, "readonly") == 0,
		.data_dir = c->data_dir,
		.listen_urls = listen,
		.n_listen_urls = c->listen_client_urls.n,
		.self_urls = self,
		.n_self_urls = n_self,
		.peer_urls = peers,
		.n_peer_urls = initial.n,
		.failure_wait_ms = c->proxy_failure_wait_ms,
		.refresh_interval_ms = c->proxy_refresh_interval_ms,
		.dial_timeout_ms = (unsigned)c->proxy_dial_timeout_ms,
		.write_timeout_ms = (unsigned)c->proxy_write_timeout_ms,
		.read_timeout_ms = (unsigned)c->proxy_read_timeout_ms,
		.client_tls = tls->has_client ? &tls->client : NULL,
		.member_tls = tls->has_client_client ? &tls->client_client : NULL,
		.peer_tls = tls->has_peer_client ? &tls->peer_client : NULL,
	};
	int code = proxy_run(&o);
	free(self);
	free(listen);
	free(peers);
	url_map_free(&initial);
	return code;
}

int main(int argc, char **argv, char **envp)
{
	struct config c;
	int rc = config_parse(&c, argc, argv, envp, stdout, stderr);
	if (rc != 0) {
		int code = c.exit_code;
		config_free(&c);
		return code;
	}
	config_unsupported(&c);
	struct tls_setup tls;
	if (tls_setup_build(&c, &tls) != 0) {
		tls_setup_free(&tls);
		config_free(&c);
		return 1;
	}
	struct url_map initial = {0};
	const char *token = c.initial_cluster_token;
	bool restarting = false, as_proxy = runs_as_proxy(&c);
	if (!as_proxy) {
		restarting = has_wal(&c);
		enum boot_result b = restarting ? restart_cluster(&c, &initial) :
						  bootstrap_member(&c, &initial, &token);
		if (b == BOOT_FAIL) {
			tls_setup_free(&tls);
			config_free(&c);
			return 1;
		}
		as_proxy = b == BOOT_PROXY;
	}
	if (as_proxy) {
		int code = http_client_global_init() == 0 ? run_proxy(&c, &tls) : 1;
		http_client_global_cleanup();
		tls_setup_free(&tls);
		config_free(&c);
		return code;
	}
	if (http_client_global_init() != 0) {
		url_map_free(&initial);
		tls_setup_free(&tls);
		config_free(&c);
		return 1;
	}
	struct server_opts o = {
		.name = c.name,
		.data_dir = c.data_dir,
		.wal_dir = c.wal_dir,
		.listen_client_urls = url_strings(&c.listen_client_urls),
		.listen_peer_urls = url_strings(&c.listen_peer_urls),
		.n_listen_peer_urls = c.listen_peer_urls.n,
		.listen_metrics_urls = url_strings(&c.listen_metrics_urls),
		.n_listen_metrics_urls = c.listen_metrics_urls.n,
		.initial_cluster = &initial,
		.join_existing = strcmp(c.initial_cluster_state, "existing") == 0,
		.restarting = restarting,
		.force_new_cluster = c.force_new_cluster,
		.n_listen_client_urls = c.listen_client_urls.n,
		.advertise_client_urls = url_strings(&c.advertise_client_urls),
		.n_advertise_client_urls = c.advertise_client_urls.n,
		.initial_advertise_peer_urls = url_strings(&c.initial_advertise_peer_urls),
		.n_initial_advertise_peer_urls = c.initial_advertise_peer_urls.n,
		.initial_cluster_token = token,
		.heartbeat_ms = c.heartbeat_ms,
		.election_ms = c.election_ms,
		.snapshot_count = c.snapshot_count,
		.max_snapshots = c.max_snapshots,
		.max_wals = c.max_wals,
		.max_request_bytes = c.max_request_bytes,
		.v2_quota_bytes = c.v2_quota_bytes,
		.watch_window = c.v2_watch_window,
		.max_client_conns = c.max_client_conns,
		.client_service = &api_client_service,
		.peer_service = &api_peer_service,
		.client_tls = tls.has_client ? &tls.client : NULL,
		.peer_tls = tls.has_peer ? &tls.peer : NULL,
		.peer_client_tls = tls.has_peer_client ? &tls.peer_client : NULL,
		.metrics_service = &api_metrics_service,
	};
	struct server *s = server_new(&o);
	int code = 1;
	if (s != NULL) {
		code = server_run(s);
		server_free(s);
	}
	free(o.listen_client_urls);
	free(o.listen_peer_urls);
	free(o.listen_metrics_urls);
	url_map_free(&initial);
	http_client_global_cleanup();
	free(o.advertise_client_urls);
	free(o.initial_advertise_peer_urls);
	tls_setup_free(&tls);
	config_free(&c);
	return code;
}
