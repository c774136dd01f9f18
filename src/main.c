/* main.c - process entry: flags and ETCD_* environment -> a single member
 * server. Exit codes follow etcd: 0 after --help/--version, 2 for flag
 * syntax errors, 1 for everything else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "server.h"

/* The server wants plain arrays of URL strings. */
static char **url_strings(const struct url_list *l)
{
	char **v = calloc(l->n ? l->n : 1, sizeof(*v));
	if (v == NULL)
		abort();
	for (size_t i = 0; i < l->n; i++)
		v[i] = l->v[i].str;	/* borrowed from the config */
	return v;
}

/* Clustering over HTTP is not built yet: refuse a cluster of several
 * members instead of pretending to be one. */
static int check_single_member(const struct config *c)
{
	struct cluster_list cl = {0};
	char why[512];
	int rc = 0;
	if (config_initial_cluster_parse(c->initial_cluster, &cl, why, sizeof(why)) != 0) {
		fprintf(stderr, "cetcd: %s\n", why);
		return -1;
	}
	if (config_check_initial_cluster(c, &cl, why, sizeof(why)) != 0) {
		fprintf(stderr, "cetcd: %s\n", why);
		rc = -1;
	} else if (cl.n > 1) {
		fprintf(stderr, "cetcd: --initial-cluster lists %zu members: clusters of more "
			"than one member are not supported by this build yet\n", cl.n);
		rc = -1;
	}
	config_cluster_free(&cl);
	return rc;
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
	config_unsupported(&c, stderr);
	if (check_single_member(&c) != 0) {
		config_free(&c);
		return 1;
	}
	struct server_opts o = {
		.name = c.name,
		.data_dir = c.data_dir,
		.wal_dir = c.wal_dir,
		.listen_client_urls = url_strings(&c.listen_client_urls),
		.n_listen_client_urls = c.listen_client_urls.n,
		.advertise_client_urls = url_strings(&c.advertise_client_urls),
		.n_advertise_client_urls = c.advertise_client_urls.n,
		.initial_advertise_peer_urls = url_strings(&c.initial_advertise_peer_urls),
		.n_initial_advertise_peer_urls = c.initial_advertise_peer_urls.n,
		.initial_cluster_token = c.initial_cluster_token,
		.heartbeat_ms = c.heartbeat_ms,
		.election_ms = c.election_ms,
		.snapshot_count = c.snapshot_count,
		.max_snapshots = c.max_snapshots,
		.max_wals = c.max_wals,
	};
	struct server *s = server_new(&o);
	int code = 1;
	if (s != NULL) {
		code = server_run(s);
		server_free(s);
	}
	free(o.listen_client_urls);
	free(o.advertise_client_urls);
	free(o.initial_advertise_peer_urls);
	config_free(&c);
	return code;
}
