/* config_validate.c - etcd's checks on a parsed configuration and the
 * values it derives: etcdmain.configFromCmdLine (cors, advertise URLs,
 * discovery), embed.Config.Validate with setupLogging (which also sets the
 * log level), and startEtcdOrProxyV2's defaults (initial cluster from
 * --name, data dir from --name). Messages are etcd 3.4.23's. */
#include "cetcd/config_private.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/goparse.h"
#include "util/log.h"

static bool may_be_proxy(const struct config *c)
{
	bool fallback = c->discovery[0] && strcmp(c->discovery_fallback, "proxy") == 0;

	return strcmp(c->proxy, "off") != 0 || fallback;
}

static int check_bind_urls(const struct url_list *l, char *err, size_t cap)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct url *u = &l->v[i];
		unsigned char a[16];

		if (!strcmp(u->scheme, "unix") || !strcmp(u->scheme, "unixs"))
			continue;
		if (!strcmp(u->host, "localhost"))
			continue;
		if (inet_pton(AF_INET, u->host, a) == 1 || inet_pton(AF_INET6, u->host, a) == 1)
			continue;
		errbuf_printf(err, cap, "expected IP in URL for binding (%s)", u->str);
		return -1;
	}
	return 0;
}

static int check_host_urls(const struct url_list *l, const char *flag, char *err, size_t cap)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].host[0])
			continue;
		char *all = url_list_join(l, ","), *qa = go_quoted(all);

		errbuf_printf(err, cap,
			      "--%s %s must be \"host:port\" (unexpected empty host (%s))", flag,
			      qa, l->v[i].str);
		free(all);
		free(qa);
		return -1;
	}
	return 0;
}

/* setupLogging, first half: --log-output vs --log-outputs (3.4 rules) and
 * the deprecation warnings it prints. */
static int check_log_outputs(struct config *c, FILE *log, char *err, size_t cap)
{
	size_t n1 = c->log_output.n, n2 = c->log_outputs.n;

	if (n1 != n2) {
		if (n1 > n2) {
			fputs("'--log-output' flag has been deprecated! Please use '--log-outputs'!\n",
			      log);
			strlist_free(&c->log_outputs);
			for (size_t i = 0; i < n1; i++)
				strlist_push(&c->log_outputs, c->log_output.v[i]);
		} else {
			strlist_free(&c->log_output);
		}
		return 0;
	}
	if (n1 > 1)
		return errbuf_printf(
			       err, cap,
			       "both '--log-output' and '--log-outputs' are set; only set '--log-outputs'"),
		       -1;
	if (n1 < 1)
		return errbuf_printf(err, cap,
				     "either '--log-output' or '--log-outputs' flag must be set"),
		       -1;
	if (strlist_eq(&c->log_output, &c->log_outputs) &&
	    strcmp(c->log_output.v[0], "default") != 0) {
		char *a = quoted_list(c->log_output.v, n1), *b = quoted_list(c->log_outputs.v, n2);

		errbuf_printf(
			err, cap,
			"'--log-output=%s' and '--log-outputs=%s' are incompatible; only set --log-outputs",
			a, b);
		free(a);
		free(b);
		return -1;
	}
	if (strcmp(c->log_output.v[0], "default") != 0) {
		char *a = quoted_list(c->log_output.v, n1);

		fprintf(log,
			"[WARNING] Deprecated '--log-output' flag is set to %s\nPlease use '--log-outputs' flag\n",
			a);
		free(a);
	}
	return 0;
}

/* setupLogging, second half: the logger and its outputs. */
static int check_logger(const struct config *c, char *err, size_t cap)
{
	if (strcmp(c->logger, "capnslog") == 0) {
		if (c->log_outputs.n != 1) {
			char *q = quoted_list(c->log_outputs.v, c->log_outputs.n);

			errbuf_printf(
				err, cap,
				"--logger=capnslog supports only 1 value in '--log-outputs', got %s",
				q);
			free(q);
			return -1;
		}
		if (strcmp(c->log_outputs.v[0], "default") &&
		    strcmp(c->log_outputs.v[0], "stderr") &&
		    strcmp(c->log_outputs.v[0], "stdout")) {
			char *q = go_quoted(c->log_outputs.v[0]);

			errbuf_printf(
				err, cap,
				"unknown log-output %s (only supports \"default\", \"stderr\", \"stdout\")",
				q);
			free(q);
			return -1;
		}
	} else if (strcmp(c->logger, "zap") == 0) {
		if (c->log_outputs.n > 1 && strlist_has(&c->log_outputs, "default"))
			return errbuf_printf(
				       err, cap,
				       "multi logoutput for \"default\" is not supported yet"),
			       -1;
	} else {
		char *q = go_quoted(c->logger);

		errbuf_printf(err, cap, "unknown logger option %s", q);
		free(q);
		return -1;
	}
	return 0;
}

/* embed.Config.setupLogging: checks, [WARNING] lines, then the level:
 * --debug means debug, else --log-level (ConvertToCapnslogLogLevel). */
static int setup_logging(struct config *c, FILE *log, char *err, size_t cap)
{
	enum log_level level;
	bool level_ok = log_level_parse(c->log_level, &level) == 0;

	if (check_log_outputs(c, log, err, cap) < 0)
		return -1;
	if (c->debug)
		fputs("[WARNING] Deprecated '--debug' flag is set to true (use '--log-level=debug' instead\n",
		      log);
	if (c->debug && strcmp(c->log_level, "debug") != 0)
		fprintf(log,
			"[WARNING] Deprecated '--debug' flag is set to true with inconsistent '--log-level=%s' flag\n",
			c->log_level);
	if (c->log_package_levels[0])
		fprintf(log,
			"[WARNING] Deprecated '--log-package-levels=%s' flag is set; use '--logger=zap' flag instead\n",
			c->log_package_levels);
	if (check_logger(c, err, cap) < 0)
		return -1;
	if (!level_ok) {
		/* etcd 3.4 panics here ("panic: unknown level"); cetcd reports it. */
		char *q = go_quoted(c->log_level);

		errbuf_printf(err, cap, "unknown level %s", q);
		free(q);
		return -1;
	}
	log_set_level(c->debug ? LOGL_DEBUG : level);
	return 0;
}

static int check_timing(const struct config *c, char *err, size_t cap)
{
	if (c->heartbeat_ms == 0)
		return errbuf_printf(err, cap, "--heartbeat-interval must be >0 (set to %llums)",
				     (unsigned long long)c->heartbeat_ms),
		       -1;
	if (c->election_ms == 0)
		return errbuf_printf(err, cap, "--election-timeout must be >0 (set to %llums)",
				     (unsigned long long)c->election_ms),
		       -1;
	if (5 * c->heartbeat_ms > c->election_ms) /* Go uint arithmetic wraps too */
		return errbuf_printf(
			       err, cap,
			       "--election-timeout[%llums] should be at least as 5 times as --heartbeat-interval[%llums]",
			       (unsigned long long)c->election_ms,
			       (unsigned long long)c->heartbeat_ms),
		       -1;
	if (c->election_ms > 50000)
		return errbuf_printf(
			       err, cap,
			       "--election-timeout[%llums] is too long, and should be set less than 50000ms",
			       (unsigned long long)c->election_ms),
		       -1;
	return 0;
}

/* cetcd's own limits: the event window must hold something, and not so much
 * that its ring alone (a pointer per slot) is a memory problem. */
static int check_limits(const struct config *c, char *err, size_t cap)
{
	if (c->v2_watch_window < 1 || c->v2_watch_window > 10000000)
		return errbuf_printf(
			       err, cap,
			       "--v2-watch-window must be between 1 and 10000000 (set to %llu)",
			       (unsigned long long)c->v2_watch_window),
		       -1;
	return 0;
}

int config_validate(struct config *c, FILE *log, char *err, size_t cap)
{
	int nset;

	if (setup_logging(c, log, err, cap) < 0)
		return -1;
	if (check_bind_urls(&c->listen_peer_urls, err, cap) < 0 ||
	    check_bind_urls(&c->listen_client_urls, err, cap) < 0 ||
	    check_bind_urls(&c->listen_metrics_urls, err, cap) < 0)
		return -1;
	if (check_host_urls(&c->initial_advertise_peer_urls, "initial-advertise-peer-urls", err,
			    cap) < 0 ||
	    check_host_urls(&c->advertise_client_urls, "advertise-client-urls", err, cap) < 0)
		return -1;
	nset = (c->discovery[0] != 0) + (c->initial_cluster[0] != 0) + (c->discovery_srv[0] != 0);
	if (nset > 1)
		return errbuf_printf(
			       err, cap,
			       "multiple discovery or bootstrap flags are set. "
			       "Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\""),
		       -1;
	if (check_timing(c, err, cap) < 0 || check_limits(c, err, cap) < 0)
		return -1;
	if (c->listen_client_urls.n && !c->advertise_client_urls.n && !may_be_proxy(c))
		return errbuf_printf(
			       err, cap,
			       "--advertise-client-urls is required when --listen-client-urls is set explicitly"),
		       1;
	if (strcmp(c->auto_compaction_mode, "") && strcmp(c->auto_compaction_mode, "periodic") &&
	    strcmp(c->auto_compaction_mode, "revision")) {
		char *q = go_quoted(c->auto_compaction_mode);

		errbuf_printf(err, cap, "unknown auto-compaction-mode %s", q);
		free(q);
		return -1;
	}
	if (c->experimental_enable_lease_checkpoint_persist &&
	    !c->experimental_enable_lease_checkpoint)
		return errbuf_printf(
			       err, cap,
			       "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint"),
		       -1;
	return 0;
}

/* --cors: the set of origins given, sorted */
static void derive_cors(struct config *c)
{
	const struct str_list *cors = &flag_state(c, flag_lookup("cors", 4))->seen;

	strlist_free(&c->cors);
	for (size_t i = 0; i < cors->n; i++)
		strlist_push(&c->cors, cors->v[i]);
	strlist_sort(&c->cors);
}

void config_derive(struct config *c)
{
	derive_cors(c);

	if (config_is_set(c, "listen-client-urls") && !config_is_set(c, "advertise-client-urls") &&
	    !may_be_proxy(c)) {
		for (size_t i = 0; i < c->advertise_client_urls.n; i++)
			url_free(&c->advertise_client_urls.v[i]);
		c->advertise_client_urls.n = 0;
	}
	if ((c->discovery[0] || c->discovery_srv[0] || c->discovery_srv_name[0]) &&
	    !config_is_set(c, "initial-cluster"))
		set_str(&c->initial_cluster, "");
}

void config_derive_file(struct config *c)
{
	derive_cors(c);
	/* the discovery rule compares with the default, whether set or not */
	if ((c->discovery[0] || c->discovery_srv[0]) &&
	    strcmp(c->initial_cluster, "default=http://localhost:2380") == 0)
		set_str(&c->initial_cluster, "");
	if (c->initial_cluster_state[0] == '\0')
		set_str(&c->initial_cluster_state, "new");
}

void config_finish(struct config *c)
{
	if (strcmp(c->name, "default") != 0 &&
	    strcmp(c->initial_cluster, "default=http://localhost:2380") == 0) {
		char *ic = config_initial_cluster_from_name(c);

		free(c->initial_cluster);
		c->initial_cluster = ic;
	}
	if (c->data_dir[0] == '\0') {
		struct buf b = BUF_INIT;

		buf_printf(&b, "%s.etcd", c->name);
		free(c->data_dir);
		c->data_dir = buf_steal(&b, NULL);
		c->data_dir_defaulted = true;
		log_warn("etcdmain", "no data-dir provided, using default data-dir ./%s",
			 c->data_dir);
	}
}
