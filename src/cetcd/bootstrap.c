/* bootstrap.c - a new member's initial cluster and a proxy's first peers:
 * from --initial-cluster, from a discovery service (etcd's v2discovery
 * with etcdmain's messages for its errors and the fall-back to a proxy),
 * or from DNS SRV records (embed.PeerURLsMapAndToken). */
#include "cetcd/bootstrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cetcd/discovery.h"
#include "cetcd/discovery_srv.h"
#include "kv/cluster.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"

/* etcd's bootstrap checks: --initial-cluster parses, and names this member
 * with the same URLs as --initial-advertise-peer-urls. etcd stops with
 * plog.Fatalf: a C line from etcdmain. */
static enum boot_result static_cluster(const struct config *c, struct url_map *cl)
{
	char why[512];
	if (config_initial_cluster_parse(c->initial_cluster, cl, why, sizeof(why)) != 0) {
		log_crit("etcdmain", "%s", why);
		return BOOT_FAIL;
	}
	if (config_check_initial_cluster(c, cl, why, sizeof(why)) != 0) {
		log_crit("etcdmain", "%s", why);
		url_map_free(cl);
		return BOOT_FAIL;
	}
	return BOOT_OK;
}

/* etcdmain's words for a failed discovery (startEtcdOrProxyV2). */
static void log_discovery_failure(const struct config *c, enum disc_err e, const char *why)
{
	switch (e) {
	case DISC_DUPLICATE_ID:
		log_error("etcdmain",
			  "member \"%s\" has previously registered with discovery service token "
			  "(%s).",
			  c->name, c->discovery);
		log_error("etcdmain",
			  "But etcd could not find valid cluster configuration in the given data "
			  "dir (%s).",
			  c->data_dir);
		log_info(
			"etcdmain",
			"Please check the given data dir path if the previous bootstrap succeeded");
		log_info("etcdmain",
			 "or use a new discovery token if the previous bootstrap failed.");
		break;
	case DISC_DUPLICATE_NAME:
		log_error("etcdmain",
			  "member with duplicated name has registered with discovery service "
			  "token(%s).",
			  c->discovery);
		log_error("etcdmain",
			  "please check (cURL) the discovery token for more information.");
		log_error("etcdmain", "please do not reuse the discovery token and generate a new "
				      "one to bootstrap the cluster.");
		break;
	default:
		log_error("etcdmain", "failed to join discovery cluster (%s)", why);
		log_info("etcdmain",
			 "discovery token %s was used, but failed to bootstrap the cluster.",
			 c->discovery);
		log_info("etcdmain",
			 "please generate a new discovery token and try to bootstrap again.");
	}
}

/* URLsMap.String() of {name: advertise peer URLs} (sorted already). */
static char *self_config(const struct config *c)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "");
	for (size_t i = 0; i < c->initial_advertise_peer_urls.n; i++)
		buf_printf(&b, "%s%s=%s", i ? "," : "", c->name,
			   c->initial_advertise_peer_urls.v[i].str);
	return buf_steal(&b, NULL);
}

static uint64_t self_id(const struct config *c)
{
	size_t n = c->initial_advertise_peer_urls.n;
	char **v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = c->initial_advertise_peer_urls.v[i].str;
	uint64_t id = cluster_member_id(v, n, c->discovery);
	free(v);
	return id;
}

/* checkDuplicateURL */
static bool has_duplicate_url(const struct url_map *m)
{
	for (size_t i = 0; i < m->n; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(m->v[i].url.str, m->v[k].url.str) == 0)
				return true;
	return false;
}

/* A "name=url,..." string (from discovery or DNS) as the initial cluster. */
static enum boot_result use_cluster(const char *s, const char *what, struct url_map *cl)
{
	char why[512];
	if (url_map_parse(s, cl, why, sizeof why) != 0) {
		log_crit("etcdmain", "%s", why);
		return BOOT_FAIL;
	}
	if (has_duplicate_url(cl)) {
		log_crit("etcdmain", "%s cluster %s has duplicate url", what, s);
		url_map_free(cl);
		return BOOT_FAIL;
	}
	return BOOT_OK;
}

static enum boot_result discovered_cluster(const struct config *c, struct url_map *cl)
{
	char why[1024], *cluster = NULL, *conf = self_config(c);
	enum disc_err e = discovery_join(c->discovery, c->discovery_proxy, self_id(c), conf,
					 &cluster, why, sizeof why);
	free(conf);
	if (e == DISC_FULL_CLUSTER && strcmp(c->discovery_fallback, "proxy") == 0) {
		log_notice("etcdmain", "discovery cluster full, falling back to %s", "proxy");
		free(cluster);
		return BOOT_PROXY;
	}
	if (e != DISC_OK) {
		log_discovery_failure(c, e, why);
		free(cluster);
		return BOOT_FAIL;
	}
	enum boot_result r = use_cluster(cluster, "discovery", cl);
	free(cluster);
	return r;
}

static enum boot_result srv_cluster(const struct config *c, struct url_map *cl)
{
	char why[1400], *cluster = NULL;
	if (discovery_srv_cluster(c->discovery_srv, c->discovery_srv_name, c->name,
				  &c->initial_advertise_peer_urls, &cluster, why,
				  sizeof why) != 0) {
		log_error("embed", "couldn't resolve during SRV discovery (%s)", why);
		log_crit("etcdmain", "error setting up initial cluster: %s", why);
		return BOOT_FAIL;
	}
	enum boot_result r = use_cluster(cluster, "initial", cl);
	free(cluster);
	if (r != BOOT_OK)
		return r;
	for (size_t i = 0; i < cl->n; i++)
		if (strcmp(cl->v[i].name, c->name) == 0)
			return BOOT_OK;
	log_crit("etcdmain",
		 "error setting up initial cluster: cannot find local etcd member \"%s\" in SRV "
		 "records",
		 c->name);
	url_map_free(cl);
	return BOOT_FAIL;
}

enum boot_result bootstrap_member(const struct config *c, struct url_map *initial,
				  const char **token)
{
	memset(initial, 0, sizeof *initial);
	*token = c->initial_cluster_token;
	if (c->discovery[0]) {
		*token = c->discovery;
		return discovered_cluster(c, initial);
	}
	if (c->discovery_srv[0])
		return srv_cluster(c, initial);
	return static_cluster(c, initial);
}

static bool has_cluster_file(const struct config *c, char *path, size_t cap)
{
	struct stat st;
	snprintf(path, cap, "%s/proxy/cluster", c->data_dir);
	return stat(path, &st) == 0;
}

int bootstrap_proxy_peers(const struct config *c, struct url_map *initial)
{
	char why[1400], file[4096], *cluster = NULL;
	memset(initial, 0, sizeof *initial);
	bool known = has_cluster_file(c, file, sizeof file);
	if (known && c->discovery[0])
		log_warn("etcdmain",
			 "discovery token ignored since the proxy has already been initialized. "
			 "Valid cluster file found at \"%s\"",
			 file);
	if (known && c->discovery_srv[0])
		log_warn("etcdmain",
			 "DNS SRV discovery ignored since the proxy has already been initialized. "
			 "Valid cluster file found at \"%s\"",
			 file);
	if (known && (c->discovery[0] || c->discovery_srv[0]))
		return 0; /* the proxy reads the file */
	if (c->discovery[0]) {
		enum disc_err e = discovery_get_cluster(c->discovery, c->discovery_proxy, &cluster,
							why, sizeof why);
		if (e != DISC_OK) {
			log_crit("etcdmain", "%s", why);
			free(cluster);
			return -1;
		}
	} else if (c->discovery_srv[0]) {
		if (discovery_srv_cluster(c->discovery_srv, c->discovery_srv_name, c->name,
					  &c->initial_advertise_peer_urls, &cluster, why,
					  sizeof why) != 0) {
			log_error("embed", "couldn't resolve during SRV discovery (%s)", why);
			log_crit("etcdmain", "error setting up initial cluster: %s", why);
			return -1;
		}
	}
	int rc = config_initial_cluster_parse(cluster ? cluster : c->initial_cluster, initial, why,
					      sizeof why);
	free(cluster);
	if (rc != 0) {
		log_crit("etcdmain", "%s", why);
		return -1;
	}
	return 0;
}
