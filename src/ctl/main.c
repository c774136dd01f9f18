/* main.c - cetcdctl: the global flags and environment of etcdctl v2
 * (ETCDCTL_API=2 etcdctl), the endpoints, and the dispatch to commands. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/version.h"
#include "util/xalloc.h"

static struct ctl_flag gflags[] = {
	{.names = "debug", .kind = CTL_BOOL},
	{.names = "no-sync", .kind = CTL_BOOL},
	{.names = "output, o", .kind = CTL_STRING, .s = "simple"},
	{.names = "discovery-srv, D", .kind = CTL_STRING},
	{.names = "insecure-discovery", .kind = CTL_BOOL},
	{.names = "peers, C", .kind = CTL_STRING},
	{.names = "endpoint", .kind = CTL_STRING},
	{.names = "endpoints", .kind = CTL_STRING},
	{.names = "cert-file", .kind = CTL_STRING},
	{.names = "key-file", .kind = CTL_STRING},
	{.names = "ca-file", .kind = CTL_STRING},
	{.names = "username, u", .kind = CTL_STRING},
	{.names = "timeout", .kind = CTL_DURATION, .i = 2000000000LL},
	{.names = "total-timeout", .kind = CTL_DURATION, .i = 5000000000LL},
	{.names = "help, h", .kind = CTL_BOOL},
	{.names = "version, v", .kind = CTL_BOOL},
	{0},
};

static const char *gstr(const char *name)
{
	const char *s = ctl_flag(gflags, name)->s;
	return s ? s : "";
}

static const char *first_nonempty(const char *a, const char *b)
{
	if (a && *a)
		return a;
	return b && *b ? b : NULL;
}

/* getDomainDiscoveryFlagValue: endpoints from DNS SRV records when
 * --discovery-srv (or ETCDCTL_DISCOVERY_SRV) names a domain. etcdctl
 * prints a failed lookup and exits 1 (mustNewClient). */
static int srv_endpoints(void)
{
	const char *domain = first_nonempty(gstr("discovery-srv"), getenv("ETCDCTL_DISCOVERY_SRV"));
	if (!domain)
		return 0;
	const char *name = first_nonempty(getenv("ETCDCTL_DISCOVERY_SRV_NAME"), "");
	const char *ins = getenv("ETCDCTL_INSECURE_DISCOVERY");
	bool insecure = ctl_flag(gflags, "insecure-discovery")->b || (ins && *ins);
	struct buf err = BUF_INIT;
	int rc = ctl_srv_endpoints(domain, name ? name : "", insecure, &ctl.eps, &ctl.neps, &err);
	if (rc != 0)
		fprintf(stderr, "%s\n", err.data);
	buf_free(&err);
	return rc;
}

/* getPeersFlagValue + getEndpoints: the SRV endpoints, else the first list
 * given, schemes added. */
static int set_endpoints(void)
{
	if (srv_endpoints() != 0)
		return -1;
	if (ctl.neps)
		return 0;
	const char *s = first_nonempty(gstr("endpoints"), getenv("ETCDCTL_ENDPOINTS"));
	if (!s)
		s = first_nonempty(gstr("endpoint"), getenv("ETCDCTL_ENDPOINT"));
	if (!s)
		s = first_nonempty(gstr("peers"), getenv("ETCDCTL_PEERS"));
	if (!s)
		s = "http://127.0.0.1:2379,http://127.0.0.1:4001";
	char *dup = xstrdup(s), *rest = dup, *tok;
	while ((tok = strsep(&rest, ",")) != NULL) {
		struct buf u = BUF_INIT;
		if (!strstr(tok, "://"))
			buf_puts(&u, "http://");
		buf_puts(&u, tok);
		ctl.eps = xrealloc(ctl.eps, (ctl.neps + 1) * sizeof(char *));
		ctl.eps[ctl.neps++] = buf_steal(&u, NULL);
	}
	free(dup);
	return 0;
}

static void set_auth(void)
{
	const char *u = first_nonempty(gstr("username"), getenv("ETCDCTL_USERNAME"));
	if (!u)
		return;
	const char *colon = strchr(u, ':');
	if (colon) {
		ctl.username = xstrndup(u, (size_t)(colon - u));
		ctl.password = xstrdup(colon + 1);
	} else {
		ctl.username = xstrdup(u);
		char *p = getpass("Password: ");
		ctl.password = xstrdup(p ? p : "");
	}
}

static int run_command(const char *cmd, int argc, char **argv)
{
	static const char *const keys[] = {"get", "ls",	   "set",    "mk",	  "mkdir", "setdir",
					   "rm",  "rmdir", "update", "updatedir", NULL};
	for (int i = 0; keys[i]; i++)
		if (strcmp(cmd, keys[i]) == 0)
			return ctl_cmd_keys(cmd, argc, argv);
	if (strcmp(cmd, "watch") == 0 || strcmp(cmd, "exec-watch") == 0)
		return ctl_cmd_watch(cmd, argc, argv);
	if (strcmp(cmd, "member") == 0)
		return ctl_cmd_member(argc, argv);
	if (strcmp(cmd, "cluster-health") == 0)
		return ctl_cmd_cluster_health(argc, argv);
	if (strcmp(cmd, "endpoint") == 0)
		return ctl_cmd_endpoint(argc, argv);
	if (strcmp(cmd, "lock") == 0 || strcmp(cmd, "elect") == 0)
		return ctl_cmd_lock(cmd, argc, argv);
	if (strcmp(cmd, "user") == 0 || strcmp(cmd, "role") == 0 || strcmp(cmd, "auth") == 0)
		return ctl_cmd_auth(cmd, argc, argv);
	if (strcmp(cmd, "dump") == 0 || strcmp(cmd, "restore") == 0)
		return ctl_cmd_dump(cmd, argc, argv);
	if (strcmp(cmd, "backup") == 0)
		return ctl_cmd_backup(argc, argv);
	fprintf(stderr, "No help topic for '%s'\n", cmd);
	return 3;
}

int main(int argc, char **argv)
{
	struct buf err = BUF_INIT;
	int first = ctl_parse_flags(gflags, argc - 1, argv + 1, false, &err);
	if (first == -2 || ctl_flag(gflags, "help")->b) {
		ctl_print_help("");
		return 0;
	}
	if (first < 0) {
		printf("Incorrect Usage. %s\n\n", err.data);
		ctl_print_help("");
		fprintf(stderr, "%s\n", err.data);
		return 1;
	}
	buf_free(&err);
	if (ctl_flag(gflags, "version")->b) {
		printf("cetcdctl version: %s\nAPI version: 2\n", ETCD_COMPAT_VERSION);
		return 0;
	}
	first += 1;
	if (first >= argc) {
		ctl_print_help("");
		return 0;
	}
	const char *cmd = argv[first];
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "h") == 0) {
		ctl_print_help(first + 1 < argc ? argv[first + 1] : "");
		return 0;
	}
	ctl.debug = ctl_flag(gflags, "debug")->b;
	ctl.no_sync = ctl_flag(gflags, "no-sync")->b;
	ctl.output = gstr("output");
	ctl.timeout_ns = ctl_flag(gflags, "timeout")->i;
	ctl.total_timeout_ns = ctl_flag(gflags, "total-timeout")->i;
	ctl.ca_file = first_nonempty(gstr("ca-file"), getenv("ETCDCTL_CA_FILE"));
	ctl.cert_file = first_nonempty(gstr("cert-file"), getenv("ETCDCTL_CERT_FILE"));
	ctl.key_file = first_nonempty(gstr("key-file"), getenv("ETCDCTL_KEY_FILE"));
	if (set_endpoints() != 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	set_auth();
	int rc = run_command(cmd, argc - first - 1, argv + first + 1);
	fflush(stdout);
	return rc;
}
