/* config.c - etcd 3.4 flags and ETCD_* environment variables -> struct config.
 *
 * Owns: the flag table (one row per flag etcd 3.4.23 registers: name, type,
 * field offset, default, help section, help text, cetcd support level),
 * a re-implementation of the parts of Go's `flag`, `strconv`, `time` and
 * `net/url` packages that etcd's flag handling depends on, etcd's env-var
 * rules (pkg/flags.SetFlagsFromEnv), etcd's validation (embed.Config.Validate,
 * etcdmain.configFromCmdLine) and the usage / version output.
 *
 * Messages and exit statuses were compared with etcd 3.4.23 itself (the
 * unit tests pin them).
 * Ownership rules: see config.h. No clock reads: timestamps of log lines
 * come from the hook set with config_set_log_stamp(). */
#include "cetcd/config.h"
#include "util/buf.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The flag table                                                      */

enum ftype {
	FT_STR,		/* Go string */
	FT_BOOL,	/* Go bool (IsBoolFlag: "-f" alone means true) */
	FT_UINT,	/* Go uint / uint64 (64-bit): ParseUint(s, 0, 64) */
	FT_UINT32,	/* etcd's uint32Value: raw strconv error text */
	FT_INT64,	/* Go int / int64: ParseInt(s, 0, 64) */
	FT_DUR,		/* Go time.Duration, stored as int64 ns */
	FT_URLS,	/* etcd's UniqueURLs; extra = allowed exception */
	FT_CHOICE,	/* etcd's SelectiveStringValue; extra = "a|b|c" */
	FT_STRS,	/* etcd's StringsValue: comma split */
	FT_USTRS,	/* etcd's UniqueStringsValue: comma split, sorted, unique */
	FT_IGNORED,	/* etcd's IgnoredFlag: warns, bool-like */
};

enum impl {
	IM_YES,		/* cetcd honours it */
	IM_NO,		/* accepted, recorded in c->unsupported when not default */
	IM_NOOP,	/* v3-only knob: no effect in a v2 server, recorded too */
	IM_V2,		/* --enable-v2: cetcd always serves v2 */
};

enum section {
	S_HIDDEN, S_MEMBER, S_CLUSTER, S_SECURITY, S_AUTH, S_PROFILING,
	S_LOGGING, S_PROXY, S_EXPERIMENTAL, S_UNSAFE, S_DEPRECATED, S_COUNT
};

struct flag_def {
	const char *name;	/* without dashes */
	enum ftype type;
	size_t off;		/* offsetof(struct config, field) */
	const char *def;	/* default, in flag syntax (set through the parser) */
	const char *extra;	/* FT_URLS: exception; FT_CHOICE: choices */
	enum section sec;	/* help section, S_HIDDEN = not in etcd's --help */
	const char *shown;	/* default as etcd's --help shows it */
	const char *help;	/* help text, '\n' separates lines */
	enum impl impl;
};

#define OFF(f) offsetof(struct config, f)

static const struct flag_def flag_table[] = {
	/* Rows in etcd --help order (generated from etcd 3.4.23 -h). */
	{"name", FT_STR, OFF(name), "default", NULL, S_MEMBER, "'default'", "Human-readable name for this member.", IM_YES},
	{"data-dir", FT_STR, OFF(data_dir), "", NULL, S_MEMBER, "'${name}.etcd'", "Path to the data directory.", IM_YES},
	{"wal-dir", FT_STR, OFF(wal_dir), "", NULL, S_MEMBER, "''", "Path to the dedicated wal directory.", IM_YES},
	{"snapshot-count", FT_UINT, OFF(snapshot_count), "10000", NULL, S_MEMBER, "'10000'", "Number of committed transactions to trigger a snapshot to disk.", IM_YES},
	{"heartbeat-interval", FT_UINT, OFF(heartbeat_ms), "100", NULL, S_MEMBER, "'100'", "Time (in milliseconds) of a heartbeat interval.", IM_YES},
	{"election-timeout", FT_UINT, OFF(election_ms), "1000", NULL, S_MEMBER, "'1000'", "Time (in milliseconds) for an election to timeout. See tuning documentation for details.", IM_YES},
	{"initial-election-tick-advance", FT_BOOL, OFF(initial_election_tick_advance), "true", NULL, S_MEMBER, "'true'", "Whether to fast-forward initial election ticks on boot for faster election.", IM_NO},
	{"listen-peer-urls", FT_URLS, OFF(listen_peer_urls), "http://localhost:2380", "", S_MEMBER, "'http://localhost:2380'", "List of URLs to listen on for peer traffic.", IM_YES},
	{"listen-client-urls", FT_URLS, OFF(listen_client_urls), "http://localhost:2379", "", S_MEMBER, "'http://localhost:2379'", "List of URLs to listen on for client traffic.", IM_YES},
	{"max-snapshots", FT_UINT, OFF(max_snapshots), "5", NULL, S_MEMBER, "'5'", "Maximum number of snapshot files to retain (0 is unlimited).", IM_YES},
	{"max-wals", FT_UINT, OFF(max_wals), "5", NULL, S_MEMBER, "'5'", "Maximum number of wal files to retain (0 is unlimited).", IM_YES},
	{"quota-backend-bytes", FT_INT64, OFF(quota_backend_bytes), "0", NULL, S_MEMBER, "'0'", "Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).", IM_NOOP},
	{"backend-batch-interval", FT_DUR, OFF(backend_batch_interval_ns), "0", NULL, S_MEMBER, "''", "BackendBatchInterval is the maximum time before commit the backend transaction.", IM_NOOP},
	{"backend-batch-limit", FT_INT64, OFF(backend_batch_limit), "0", NULL, S_MEMBER, "'0'", "BackendBatchLimit is the maximum operations before commit the backend transaction.", IM_NOOP},
	{"max-txn-ops", FT_UINT, OFF(max_txn_ops), "128", NULL, S_MEMBER, "'128'", "Maximum number of operations permitted in a transaction.", IM_NOOP},
	{"max-request-bytes", FT_UINT, OFF(max_request_bytes), "1572864", NULL, S_MEMBER, "'1572864'", "Maximum client request size in bytes the server will accept.", IM_YES},
	{"max-concurrent-streams", FT_UINT32, OFF(max_concurrent_streams), "4294967295", NULL, S_MEMBER, "'math.MaxUint32'", "Maximum concurrent streams that each client can open at a time.", IM_NOOP},
	{"grpc-keepalive-min-time", FT_DUR, OFF(grpc_keepalive_min_time_ns), "5s", NULL, S_MEMBER, "'5s'", "Minimum duration interval that a client should wait before pinging server.", IM_NOOP},
	{"grpc-keepalive-interval", FT_DUR, OFF(grpc_keepalive_interval_ns), "2h", NULL, S_MEMBER, "'2h'", "Frequency duration of server-to-client ping to check if a connection is alive (0 to disable).", IM_NOOP},
	{"grpc-keepalive-timeout", FT_DUR, OFF(grpc_keepalive_timeout_ns), "20s", NULL, S_MEMBER, "'20s'", "Additional duration of wait before closing a non-responsive connection (0 to disable).", IM_NOOP},
	{"initial-advertise-peer-urls", FT_URLS, OFF(initial_advertise_peer_urls), "http://localhost:2380", "", S_CLUSTER, "'http://localhost:2380'", "List of this member's peer URLs to advertise to the rest of the cluster.", IM_YES},
	{"initial-cluster", FT_STR, OFF(initial_cluster), "default=http://localhost:2380", NULL, S_CLUSTER, "'default=http://localhost:2380'", "Initial cluster configuration for bootstrapping.", IM_YES},
	{"initial-cluster-state", FT_CHOICE, OFF(initial_cluster_state), "new", "new|existing", S_CLUSTER, "'new'", "Initial cluster state ('new' or 'existing').", IM_YES},
	{"initial-cluster-token", FT_STR, OFF(initial_cluster_token), "etcd-cluster", NULL, S_CLUSTER, "'etcd-cluster'", "Initial cluster token for the etcd cluster during bootstrap.\nSpecifying this can protect you from unintended cross-cluster interaction when running multiple clusters.", IM_YES},
	{"advertise-client-urls", FT_URLS, OFF(advertise_client_urls), "http://localhost:2379", "", S_CLUSTER, "'http://localhost:2379'", "List of this member's client URLs to advertise to the public.\nThe client URLs advertised should be accessible to machines that talk to etcd cluster. etcd client libraries parse these URLs to connect to the cluster.", IM_YES},
	{"discovery", FT_STR, OFF(discovery), "", NULL, S_CLUSTER, "''", "Discovery URL used to bootstrap the cluster.", IM_NO},
	{"discovery-fallback", FT_CHOICE, OFF(discovery_fallback), "proxy", "proxy|exit", S_CLUSTER, "'proxy'", "Expected behavior ('exit' or 'proxy') when discovery services fails.\n\"proxy\" supports v2 API only.", IM_NO},
	{"discovery-proxy", FT_STR, OFF(discovery_proxy), "", NULL, S_CLUSTER, "''", "HTTP proxy to use for traffic to discovery service.", IM_NO},
	{"discovery-srv", FT_STR, OFF(discovery_srv), "", NULL, S_CLUSTER, "''", "DNS srv domain used to bootstrap the cluster.", IM_NO},
	{"discovery-srv-name", FT_STR, OFF(discovery_srv_name), "", NULL, S_CLUSTER, "''", "Suffix to the dns srv name queried when bootstrapping.", IM_NO},
	{"strict-reconfig-check", FT_BOOL, OFF(strict_reconfig_check), "true", NULL, S_CLUSTER, "'true'", "Reject reconfiguration requests that would cause quorum loss.", IM_YES},
	{"pre-vote", FT_BOOL, OFF(pre_vote), "false", NULL, S_CLUSTER, "'false'", "Enable to run an additional Raft election phase.", IM_NO},
	{"auto-compaction-retention", FT_STR, OFF(auto_compaction_retention), "0", NULL, S_CLUSTER, "'0'", "Auto compaction retention length. 0 means disable auto compaction.", IM_NOOP},
	{"auto-compaction-mode", FT_STR, OFF(auto_compaction_mode), "periodic", NULL, S_CLUSTER, "'periodic'", "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention.", IM_NOOP},
	{"enable-v2", FT_BOOL, OFF(enable_v2), "true", NULL, S_CLUSTER, "'true'", "Accept etcd V2 client requests.", IM_V2},
	{"cert-file", FT_STR, OFF(cert_file), "", NULL, S_SECURITY, "''", "Path to the client server TLS cert file.", IM_NO},
	{"key-file", FT_STR, OFF(key_file), "", NULL, S_SECURITY, "''", "Path to the client server TLS key file.", IM_NO},
	{"client-cert-auth", FT_BOOL, OFF(client_cert_auth), "false", NULL, S_SECURITY, "'false'", "Enable client cert authentication.", IM_NO},
	{"client-crl-file", FT_STR, OFF(client_crl_file), "", NULL, S_SECURITY, "''", "Path to the client certificate revocation list file.", IM_NO},
	{"client-cert-allowed-hostname", FT_STR, OFF(client_cert_allowed_hostname), "", NULL, S_SECURITY, "''", "Allowed TLS hostname for client cert authentication.", IM_NO},
	{"trusted-ca-file", FT_STR, OFF(trusted_ca_file), "", NULL, S_SECURITY, "''", "Path to the client server TLS trusted CA cert file.", IM_NO},
	{"auto-tls", FT_BOOL, OFF(auto_tls), "false", NULL, S_SECURITY, "'false'", "Client TLS using generated certificates.", IM_NO},
	{"peer-cert-file", FT_STR, OFF(peer_cert_file), "", NULL, S_SECURITY, "''", "Path to the peer server TLS cert file.", IM_NO},
	{"peer-key-file", FT_STR, OFF(peer_key_file), "", NULL, S_SECURITY, "''", "Path to the peer server TLS key file.", IM_NO},
	{"peer-client-cert-auth", FT_BOOL, OFF(peer_client_cert_auth), "false", NULL, S_SECURITY, "'false'", "Enable peer client cert authentication.", IM_NO},
	{"peer-trusted-ca-file", FT_STR, OFF(peer_trusted_ca_file), "", NULL, S_SECURITY, "''", "Path to the peer server TLS trusted CA file.", IM_NO},
	{"peer-cert-allowed-cn", FT_STR, OFF(peer_cert_allowed_cn), "", NULL, S_SECURITY, "''", "Required CN for client certs connecting to the peer endpoint.", IM_NO},
	{"peer-cert-allowed-hostname", FT_STR, OFF(peer_cert_allowed_hostname), "", NULL, S_SECURITY, "''", "Allowed TLS hostname for inter peer authentication.", IM_NO},
	{"peer-auto-tls", FT_BOOL, OFF(peer_auto_tls), "false", NULL, S_SECURITY, "'false'", "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided.", IM_NO},
	{"peer-crl-file", FT_STR, OFF(peer_crl_file), "", NULL, S_SECURITY, "''", "Path to the peer certificate revocation list file.", IM_NO},
	{"cipher-suites", FT_STRS, OFF(cipher_suites), "", NULL, S_SECURITY, "''", "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go).", IM_NO},
	{"cors", FT_URLS, OFF(cors_urls), "*", "*", S_SECURITY, "'*'", "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all).", IM_YES},
	{"host-whitelist", FT_USTRS, OFF(host_whitelist), "*", NULL, S_SECURITY, "'*'", "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all).", IM_NO},
	{"auth-token", FT_STR, OFF(auth_token), "simple", NULL, S_AUTH, "'simple'", "Specify a v3 authentication token type and its options ('simple' or 'jwt').", IM_NO},
	{"bcrypt-cost", FT_UINT, OFF(bcrypt_cost), "10", NULL, S_AUTH, "10", "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31.", IM_NO},
	{"auth-token-ttl", FT_UINT, OFF(auth_token_ttl), "300", NULL, S_AUTH, "300", "Time (in seconds) of the auth-token-ttl.", IM_NO},
	{"enable-pprof", FT_BOOL, OFF(enable_pprof), "false", NULL, S_PROFILING, "'false'", "Enable runtime profiling data via HTTP server. Address is at client URL + \"/debug/pprof/\"", IM_NO},
	{"metrics", FT_STR, OFF(metrics), "basic", NULL, S_PROFILING, "'basic'", "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics.", IM_NOOP},
	{"listen-metrics-urls", FT_URLS, OFF(listen_metrics_urls), "", "", S_PROFILING, "''", "List of URLs to listen on for the metrics and health endpoints.", IM_NO},
	{"logger", FT_STR, OFF(logger), "capnslog", NULL, S_LOGGING, "'capnslog'", "Specify 'zap' for structured logging or 'capnslog'. [WARN] 'capnslog' will be deprecated in v3.5.", IM_NOOP},
	{"log-outputs", FT_USTRS, OFF(log_outputs), "default", NULL, S_LOGGING, "'default'", "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets.", IM_NO},
	{"log-level", FT_STR, OFF(log_level), "info", NULL, S_LOGGING, "'info'", "Configures log level. Only supports debug, info, warn, error, panic, or fatal.", IM_YES},
	{"proxy", FT_CHOICE, OFF(proxy), "off", "off|readonly|on", S_PROXY, "'off'", "Proxy mode setting ('off', 'readonly' or 'on').", IM_NO},
	{"proxy-failure-wait", FT_UINT, OFF(proxy_failure_wait_ms), "5000", NULL, S_PROXY, "5000", "Time (in milliseconds) an endpoint will be held in a failed state.", IM_NO},
	{"proxy-refresh-interval", FT_UINT, OFF(proxy_refresh_interval_ms), "30000", NULL, S_PROXY, "30000", "Time (in milliseconds) of the endpoints refresh interval.", IM_NO},
	{"proxy-dial-timeout", FT_UINT, OFF(proxy_dial_timeout_ms), "1000", NULL, S_PROXY, "1000", "Time (in milliseconds) for a dial to timeout.", IM_NO},
	{"proxy-write-timeout", FT_UINT, OFF(proxy_write_timeout_ms), "5000", NULL, S_PROXY, "5000", "Time (in milliseconds) for a write to timeout.", IM_NO},
	{"proxy-read-timeout", FT_UINT, OFF(proxy_read_timeout_ms), "0", NULL, S_PROXY, "0", "Time (in milliseconds) for a read to timeout.", IM_NO},
	{"experimental-initial-corrupt-check", FT_BOOL, OFF(experimental_initial_corrupt_check), "false", NULL, S_EXPERIMENTAL, "'false'", "Enable to check data corruption before serving any client/peer traffic.", IM_NO},
	{"experimental-corrupt-check-time", FT_DUR, OFF(experimental_corrupt_check_time_ns), "0s", NULL, S_EXPERIMENTAL, "'0s'", "Duration of time between cluster corruption check passes.", IM_NOOP},
	{"experimental-enable-v2v3", FT_STR, OFF(experimental_enable_v2v3), "", NULL, S_EXPERIMENTAL, "''", "Serve v2 requests through the v3 backend under a given prefix.", IM_NO},
	{"experimental-backend-bbolt-freelist-type", FT_STR, OFF(experimental_backend_bbolt_freelist_type), "array", NULL, S_EXPERIMENTAL, "'array'", "ExperimentalBackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types).", IM_NOOP},
	{"experimental-enable-lease-checkpoint", FT_BOOL, OFF(experimental_enable_lease_checkpoint), "false", NULL, S_EXPERIMENTAL, "'false'", "ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases.", IM_NOOP},
	{"experimental-compaction-batch-limit", FT_INT64, OFF(experimental_compaction_batch_limit), "1000", NULL, S_EXPERIMENTAL, "1000", "ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch.", IM_NOOP},
	{"experimental-peer-skip-client-san-verification", FT_BOOL, OFF(experimental_peer_skip_client_san_verification), "false", NULL, S_EXPERIMENTAL, "'false'", "Skip verification of SAN field in client certificate for peer connections.", IM_NO},
	{"experimental-watch-progress-notify-interval", FT_DUR, OFF(experimental_watch_progress_notify_interval_ns), "10m", NULL, S_EXPERIMENTAL, "'10m'", "Duration of periodical watch progress notification.", IM_NOOP},
	{"experimental-warning-apply-duration", FT_DUR, OFF(experimental_warning_apply_duration_ns), "100ms", NULL, S_EXPERIMENTAL, "'100ms'", "Warning is generated if requests take more than this duration.", IM_NOOP},
	{"force-new-cluster", FT_BOOL, OFF(force_new_cluster), "false", NULL, S_UNSAFE, "'false'", "Force to create a new one-member cluster.", IM_YES},
	{"debug", FT_BOOL, OFF(debug), "false", NULL, S_DEPRECATED, "'false'", "Enable debug-level logging for etcd. [WARN] Will be deprecated in v3.5. Use '--log-level=debug' instead.", IM_YES},
	{"log-package-levels", FT_STR, OFF(log_package_levels), "", NULL, S_DEPRECATED, "''", "Specify a particular log level for each etcd package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG').", IM_NO},
	/* Registered by etcd 3.4 but not shown by its --help. */
	{"config-file", FT_STR, OFF(config_file), "", NULL, S_HIDDEN, "''", "Path to the server configuration file (YAML). Note that if a configuration file is provided, other command line flags and environment variables will be ignored.", IM_NO},
	{"log-output", FT_USTRS, OFF(log_output), "default", NULL, S_HIDDEN, "'default'", "[TO BE DEPRECATED IN v3.5] use '--log-outputs'.", IM_NO},
	{"enable-grpc-gateway", FT_BOOL, OFF(enable_grpc_gateway), "true", NULL, S_HIDDEN, "'true'", "Enable GRPC gateway.", IM_NOOP},
	{"experimental-enable-lease-checkpoint-persist", FT_BOOL, OFF(experimental_enable_lease_checkpoint_persist), "false", NULL, S_HIDDEN, "'false'", "Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases.", IM_NOOP},
	{"unsafe-no-fsync", FT_BOOL, OFF(unsafe_no_fsync), "false", NULL, S_HIDDEN, "'false'", "Disables fsync, unsafe, will cause data loss.", IM_NO},
	{"version", FT_BOOL, OFF(print_version), "false", NULL, S_HIDDEN, "'false'", "Print the version and exit.", IM_YES},
	/* etcd's "ignored" flags (pre-2.0 options): warn and continue. */
#define IGN(n) {n, FT_IGNORED, 0, NULL, NULL, S_HIDDEN, "", "", IM_YES}
	IGN("cluster-active-size"), IGN("cluster-remove-delay"), IGN("cluster-sync-interval"),
	IGN("config"), IGN("force"), IGN("max-result-buffer"), IGN("max-retry-attempts"),
	IGN("peer-heartbeat-interval"), IGN("peer-election-timeout"), IGN("retry-interval"),
	IGN("snapshot"), IGN("v"), IGN("vv"), IGN("test.coverprofile"), IGN("test.outputdir"),
#undef IGN
};

#define NFLAGS (sizeof flag_table / sizeof flag_table[0])

enum origin { ORIGIN_DEFAULT = 0, ORIGIN_FLAG = 1, ORIGIN_ENV = 2 };

static const char usage_line[] =
	"Usage:\n"
	"\n"
	"  etcd [flags]\n"
	"    Start an etcd server.\n"
	"\n"
	"  etcd --version\n"
	"    Show the version of etcd.\n"
	"\n"
	"  etcd -h | --help\n"
	"    Show the help information about etcd.\n"
	"\n"
	"  etcd --config-file\n"
	"    Path to the server configuration file. Note that if a configuration file is provided, other command line flags and environment variables will be ignored.\n"
	"\n"
	"  etcd gateway\n"
	"    Run the stateless pass-through etcd TCP connection forwarding proxy.\n"
	"\n"
	"  etcd grpc-proxy\n"
	"    Run the stateless etcd v3 gRPC L7 reverse proxy.\n";

static const char *const section_title[S_COUNT] = {
	[S_HIDDEN] = "Also accepted (registered by etcd 3.4, not listed by its --help):",
	[S_MEMBER] = "Member:",
	[S_CLUSTER] = "Clustering:",
	[S_SECURITY] = "Security:",
	[S_AUTH] = "Auth:",
	[S_PROFILING] = "Profiling and Monitoring:",
	[S_LOGGING] = "Logging:",
	[S_PROXY] = "v2 Proxy (to be deprecated in v4):",
	[S_EXPERIMENTAL] = "Experimental feature:",
	[S_UNSAFE] = "Unsafe feature:",
	[S_DEPRECATED] = "TO BE DEPRECATED:\n",
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static size_t (*log_stamp)(char *dst, size_t cap);

void config_set_log_stamp(size_t (*fn)(char *dst, size_t cap))
{
	log_stamp = fn;
}

/* One capnslog-style line: "[stamp ]L | pkg: message\n". */
static void logline(FILE *f, char level, const char *pkg, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void logline(FILE *f, char level, const char *pkg, const char *fmt, ...)
{
	char stamp[64];
	va_list ap;

	if (!f)
		return;
	if (log_stamp && log_stamp(stamp, sizeof stamp) > 0)
		fprintf(f, "%s ", stamp);
	fprintf(f, "%c | %s: ", level, pkg);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (!d)
		abort();
	return d;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static void set_str(char **slot, const char *v)
{
	char *n = xstrdup(v);

	free(*slot);
	*slot = n;
}

static void emsg(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void emsg(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!dst || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

/* Go's %q for a string (strconv.Quote, ASCII subset: bytes >= 0x80 kept). */
static void go_quote(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\a': buf_puts(b, "\\a"); break;
		case '\b': buf_puts(b, "\\b"); break;
		case '\f': buf_puts(b, "\\f"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\v': buf_puts(b, "\\v"); break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				buf_printf(b, "\\x%02x", ch);
			else
				buf_putc(b, (char)ch);
		}
	}
	buf_putc(b, '"');
}

/* Go's %q of a string into a static-lifetime-free temporary: caller frees. */
static char *quoted(const char *s)
{
	struct buf b = BUF_INIT;

	go_quote(&b, s);
	return buf_steal(&b, NULL);
}

/* Go's %q of a []string: ["a" "b"]. Caller frees. */
static char *quoted_list(char *const *v, size_t n)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ' ');
		go_quote(&b, v[i]);
	}
	buf_putc(&b, ']');
	return buf_steal(&b, NULL);
}

static void strlist_push(struct str_list *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

static void strlist_free(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool strlist_eq(const struct str_list *a, const struct str_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

/* Go strings.Split(s, ","): "" gives one empty item. */
static void split_commas(const char *s, struct str_list *out)
{
	for (;;) {
		const char *c = strchr(s, ',');
		char *item = xstrndup(s, c ? (size_t)(c - s) : strlen(s));

		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = item;
		if (!c)
			break;
		s = c + 1;
	}
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static char *trim_dup(const char *s)
{
	size_t n = strlen(s);

	while (n && is_space(*s))
		s++, n--;
	while (n && is_space(s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static char lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* ------------------------------------------------------------------ */
/* Go strconv / time parsing                                           */

enum num_err { NUM_OK = 0, NUM_SYNTAX, NUM_RANGE };

/* strconv.underscoreOK */
static bool underscore_ok(const char *s)
{
	char saw = '^';
	bool hex = false;
	size_t i = 0, n;

	if (*s == '-' || *s == '+')
		s++;
	n = strlen(s);
	if (n >= 2 && s[0] == '0' &&
	    (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
		i = 2;
		saw = '0';
		hex = lower(s[1]) == 'x';
	}
	for (; i < n; i++) {
		char ch = s[i];

		if ((ch >= '0' && ch <= '9') || (hex && lower(ch) >= 'a' && lower(ch) <= 'f')) {
			saw = '0';
			continue;
		}
		if (ch == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* strconv.ParseUint(s, 0, bits) */
static enum num_err go_parse_uint(const char *s0, int bits, uint64_t *out)
{
	const char *s = s0;
	unsigned base = 10;
	uint64_t n = 0, max = bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
	uint64_t cutoff;
	bool underscores = false;
	size_t len = strlen(s);

	*out = 0;
	if (len == 0)
		return NUM_SYNTAX;
	if (s[0] == '0') {
		if (len >= 3 && lower(s[1]) == 'b')
			base = 2, s += 2;
		else if (len >= 3 && lower(s[1]) == 'o')
			base = 8, s += 2;
		else if (len >= 3 && lower(s[1]) == 'x')
			base = 16, s += 2;
		else
			base = 8, s += 1;
	}
	cutoff = UINT64_MAX / base + 1;
	for (; *s; s++) {
		char ch = *s;
		unsigned d;

		if (ch == '_') {
			underscores = true;
			continue;
		} else if (ch >= '0' && ch <= '9') {
			d = (unsigned)(ch - '0');
		} else if (lower(ch) >= 'a' && lower(ch) <= 'z') {
			d = (unsigned)(lower(ch) - 'a' + 10);
		} else {
			return NUM_SYNTAX;
		}
		if (d >= base)
			return NUM_SYNTAX;
		if (n >= cutoff) {
			*out = max;
			return NUM_RANGE;
		}
		n *= base;
		if (n + d < n || n + d > max) {
			*out = max;
			return NUM_RANGE;
		}
		n += d;
	}
	if (underscores && !underscore_ok(s0))
		return NUM_SYNTAX;
	*out = n;
	return NUM_OK;
}

/* strconv.ParseInt(s, 0, 64) */
static enum num_err go_parse_int64(const char *s, int64_t *out)
{
	bool neg = false;
	uint64_t un;
	enum num_err e;
	const uint64_t cutoff = (uint64_t)1 << 63;

	*out = 0;
	if (*s == '\0')
		return NUM_SYNTAX;
	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
	}
	e = go_parse_uint(s, 64, &un);
	if (e == NUM_SYNTAX)
		return NUM_SYNTAX;
	if (e == NUM_RANGE || (!neg && un >= cutoff) || (neg && un > cutoff))
		return NUM_RANGE;
	if (neg)
		*out = un == cutoff ? INT64_MIN : -(int64_t)un;
	else
		*out = (int64_t)un;
	return NUM_OK;
}

/* strconv.ParseBool */
static int go_parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, t[i]) == 0)
			return *out = true, 0;
		if (strcmp(s, f[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* time.ParseDuration unit table */
static uint64_t dur_unit(const char *u, size_t n)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{"ns", 1}, {"us", 1000}, {"\xc2\xb5s", 1000}, {"\xce\xbcs", 1000},
		{"ms", 1000000}, {"s", 1000000000ULL}, {"m", 60000000000ULL},
		{"h", 3600000000000ULL},
	};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
			return units[i].ns;
	return 0;
}

/* time.ParseDuration; returns 0 or -1. */
static int go_parse_duration(const char *s, int64_t *out)
{
	const uint64_t lim = (uint64_t)1 << 63;
	uint64_t d = 0;
	bool neg = false;

	*out = 0;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0)
		return 0;
	if (*s == '\0')
		return -1;
	while (*s) {
		uint64_t v = 0, f = 0, unit;
		double scale = 1;
		const char *st = s, *u;
		bool pre, post = false;

		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {	/* leadingInt */
			if (v > (lim - 1) / 10)
				return -1;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > lim)
				return -1;
		}
		pre = s != st;
		if (*s == '.') {	/* leadingFraction */
			bool overflow = false;

			st = ++s;
			for (; *s >= '0' && *s <= '9'; s++) {
				if (overflow)
					continue;
				if (f > (lim - 1) / 10) {
					overflow = true;
					continue;
				}
				f = f * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
			post = s != st;
		}
		if (!pre && !post)
			return -1;
		for (u = s; *s && *s != '.' && !(*s >= '0' && *s <= '9'); s++)
			;
		if (s == u)
			return -1;	/* missing unit */
		unit = dur_unit(u, (size_t)(s - u));
		if (!unit)
			return -1;	/* unknown unit */
		if (v > lim / unit)
			return -1;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				return -1;
		}
		d += v;
		if (d > lim)
			return -1;
	}
	if (neg) {
		*out = d == lim ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > lim - 1)
		return -1;
	*out = (int64_t)d;
	return 0;
}

/* ------------------------------------------------------------------ */
/* URLs (Go net/url.Parse + net.SplitHostPort + etcd types.NewURLs)    */

void config_url_free(struct url *u)
{
	free(u->str);
	free(u->scheme);
	free(u->host);
	free(u->port);
	memset(u, 0, sizeof *u);
}

void config_urls_free(struct url_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		config_url_free(&l->v[i]);
	free(l->v);
	for (size_t i = 0; i < l->nseen; i++)
		free(l->seen[i]);
	free(l->seen);
	memset(l, 0, sizeof *l);
}

static bool valid_optional_port(const char *p)
{
	if (*p == '\0')
		return true;
	if (*p++ != ':')
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* net/url shouldEscape(c, encodeHost) for ASCII: true = not allowed. */
static bool host_char_bad(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return false;
	return !strchr("-._~!$&'()*+,;=:[]<>\"%", ch) || ch == '\0';
}

static int unhex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (lower(ch) >= 'a' && lower(ch) <= 'f')
		return lower(ch) - 'a' + 10;
	return -1;
}

/* net/url unescape() validation: 0, or -1 with `invalid URL escape "%.."`
 * (in host mode only %25 and %80-%FF are allowed). */
static int check_escapes(const char *s, bool host, char *why, size_t cap)
{
	for (size_t i = 0; s[i]; i++) {
		if (s[i] != '%')
			continue;
		if (!s[i + 1] || !s[i + 2] || unhex(s[i + 1]) < 0 || unhex(s[i + 2]) < 0 ||
		    (host && unhex(s[i + 1]) < 8 && strncmp(s + i, "%25", 3) != 0)) {
			char esc[4] = {0};
			char *q;

			strncpy(esc, s + i, 3);
			q = quoted(esc);
			emsg(why, cap, "invalid URL escape %s", q);
			free(q);
			return -1;
		}
		i += 2;
	}
	return 0;
}

/* net.SplitHostPort: host (brackets stripped) and port; 0 or -1. */
static int split_host_port(const char *hp, char **host, char **port)
{
	const char *colon = strrchr(hp, ':');
	size_t j = 0, k = 0;
	const char *h;
	size_t hn;

	*host = *port = NULL;
	if (!colon)
		return -1;	/* missing port in address */
	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (!end)
			return -1;
		if (end + 1 != colon)
			return -1;	/* missing port / too many colons */
		h = hp + 1;
		hn = (size_t)(end - h);
		j = 1;
		k = (size_t)(end - hp) + 1;
	} else {
		h = hp;
		hn = (size_t)(colon - hp);
		if (memchr(h, ':', hn))
			return -1;	/* too many colons */
	}
	if (strchr(hp + j, '[') || strchr(hp + k, ']'))
		return -1;
	*host = xstrndup(h, hn);
	*port = xstrdup(colon + 1);
	return 0;
}

/* A subset of Go's url.Parse sufficient for etcd's URL flags.
 * Fills scheme (lower-cased), authority host, path, and the String() form.
 * Returns 0, or -1 with Go's `parse "<in>": <why>` message. */
struct go_url {
	char *scheme, *userinfo, *host, *path, *query, *frag, *opaque;
	bool force_query;
};

static void go_url_free(struct go_url *u)
{
	free(u->scheme);
	free(u->userinfo);
	free(u->host);
	free(u->path);
	free(u->query);
	free(u->frag);
	free(u->opaque);
	memset(u, 0, sizeof *u);
}

static int go_url_parse(const char *in, struct go_url *u, char *err, size_t cap)
{
	const char *hash = strchr(in, '#');
	char *raw = hash ? xstrndup(in, (size_t)(hash - in)) : xstrdup(in);
	char *qin = quoted(in), *tmp = NULL, why[64];
	const char *rest = raw, *q;
	int rc = -1;

	memset(u, 0, sizeof *u);
	u->frag = xstrdup(hash ? hash + 1 : "");
	for (const char *p = in; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			emsg(err, cap, "parse %s: net/url: invalid control character in URL", qin);
			goto out;
		}
	/* getScheme */
	for (size_t i = 0; raw[i]; i++) {
		char ch = raw[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
			continue;
		if ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.') {
			if (i == 0)
				break;
			continue;
		}
		if (ch == ':') {
			if (i == 0) {
				emsg(err, cap, "parse %s: missing protocol scheme", qin);
				goto out;
			}
			u->scheme = xstrndup(raw, i);
			for (char *p = u->scheme; *p; p++)
				*p = lower(*p);
			rest = raw + i + 1;
		}
		break;
	}
	if (!u->scheme)
		u->scheme = xstrdup("");
	{
		size_t rl = strlen(rest);

		if (rl && rest[rl - 1] == '?' && strchr(rest, '?') == rest + rl - 1) {
			u->force_query = true;
			tmp = xstrndup(rest, rl - 1);
		} else if ((q = strchr(rest, '?'))) {
			u->query = xstrdup(q + 1);
			tmp = xstrndup(rest, (size_t)(q - rest));
		} else {
			tmp = xstrdup(rest);
		}
	}
	if (!u->query)
		u->query = xstrdup("");
	if (tmp[0] != '/' && u->scheme[0]) {
		u->opaque = tmp;
		tmp = NULL;
	} else if (tmp[0] != '/') {
		const char *slash = strchr(tmp, '/'), *colon = strchr(tmp, ':');

		if (colon && (!slash || colon < slash)) {
			emsg(err, cap, "parse %s: first path segment in URL cannot contain colon", qin);
			goto out;
		}
	} else if (tmp[1] == '/' && (u->scheme[0] || strncmp(tmp, "///", 3) != 0)) {
		const char *auth = tmp + 2, *slash = strchr(auth, '/');
		size_t an = slash ? (size_t)(slash - auth) : strlen(auth);
		char *a = xstrndup(auth, an), *at = strrchr(a, '@');

		if (at)
			u->userinfo = xstrndup(a, (size_t)(at - a));
		u->host = xstrdup(at ? at + 1 : a);
		free(a);
		memmove(tmp, auth + an, strlen(auth + an) + 1);
	}
	u->path = xstrdup(tmp ? tmp : "");
	if (!u->host)
		u->host = xstrdup("");
	/* parseHost */
	{
		const char *h = u->host, *port;

		if (h[0] == '[') {
			const char *rb = strrchr(h, ']');

			if (!rb) {
				emsg(err, cap, "parse %s: missing ']' in host", qin);
				goto out;
			}
			port = rb + 1;
		} else {
			port = strrchr(h, ':');
			if (!port)
				port = "";
		}
		if (!valid_optional_port(port)) {
			char *qp = quoted(port);

			emsg(err, cap, "parse %s: invalid port %s after host", qin, qp);
			free(qp);
			goto out;
		}
		for (const char *p = h; *p; p++)
			if ((unsigned char)*p < 0x80 && host_char_bad((unsigned char)*p)) {
				char c1[2] = {*p, 0};
				char *qc = quoted(c1);

				emsg(err, cap, "parse %s: invalid character %s in host name", qin, qc);
				free(qc);
				goto out;
			}
		if (check_escapes(h, true, why, sizeof why) < 0 ||
		    check_escapes(u->path, false, why, sizeof why) < 0) {
			emsg(err, cap, "parse %s: %s", qin, why);
			goto out;
		}
	}
	rc = 0;
out:
	free(tmp);
	free(raw);
	free(qin);
	if (rc < 0)
		go_url_free(u);
	return rc;
}

/* url.URL.String() */
static char *go_url_string(const struct go_url *u)
{
	struct buf b = BUF_INIT;

	if (u->scheme[0]) {
		buf_puts(&b, u->scheme);
		buf_putc(&b, ':');
	}
	if (u->opaque) {
		buf_puts(&b, u->opaque);
	} else if (u->scheme[0] || u->host[0] || u->userinfo) {
		if (u->host[0] || u->path[0] || u->userinfo)
			buf_puts(&b, "//");
		if (u->userinfo) {
			buf_puts(&b, u->userinfo);
			buf_putc(&b, '@');
		}
		buf_puts(&b, u->host);
		buf_puts(&b, u->path);
	} else {
		buf_puts(&b, u->path);
	}
	if (u->force_query || u->query[0]) {
		buf_putc(&b, '?');
		buf_puts(&b, u->query);
	}
	if (u->frag[0]) {
		buf_putc(&b, '#');
		buf_puts(&b, u->frag);
	}
	if (!b.data)
		buf_puts(&b, "");
	return buf_steal(&b, NULL);
}

/* One item of types.NewURLs (already trimmed). */
static int url_parse_one(const char *in, struct url *out, char *err, size_t cap)
{
	struct go_url g;
	const char *s;

	memset(out, 0, sizeof *out);
	if (go_url_parse(in, &g, err, cap) < 0)
		return -1;
	s = g.scheme;
	if (strcmp(s, "http") && strcmp(s, "https") && strcmp(s, "unix") && strcmp(s, "unixs")) {
		emsg(err, cap, "URL scheme must be http, https, unix, or unixs: %s", in);
		go_url_free(&g);
		return -1;
	}
	if (split_host_port(g.host, &out->host, &out->port) < 0) {
		emsg(err, cap, "URL address does not have the form \"host:port\": %s", in);
		go_url_free(&g);
		return -1;
	}
	if (g.path[0]) {
		emsg(err, cap, "URL must not contain a path: %s", in);
		go_url_free(&g);
		config_url_free(out);
		return -1;
	}
	out->scheme = xstrdup(g.scheme);
	out->str = go_url_string(&g);
	go_url_free(&g);
	return 0;
}

static int cmp_url(const void *a, const void *b)
{
	return strcmp(((const struct url *)a)->str, ((const struct url *)b)->str);
}

int config_urls_parse(const char *s, struct url_list *out, char *err, size_t cap)
{
	struct str_list items = {0};
	struct url_list l = {0};

	memset(out, 0, sizeof *out);
	split_commas(s, &items);
	l.v = xrealloc(NULL, items.n * sizeof *l.v);
	for (size_t i = 0; i < items.n; i++) {
		char *in = trim_dup(items.v[i]);
		int rc = url_parse_one(in, &l.v[l.n], err, cap);

		free(in);
		if (rc < 0) {
			config_urls_free(&l);
			strlist_free(&items);
			return -1;
		}
		l.n++;
	}
	strlist_free(&items);
	qsort(l.v, l.n, sizeof *l.v, cmp_url);
	*out = l;
	return 0;
}

char *config_urls_join(const struct url_list *l, const char *sep)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, l->v[i].str);
	}
	return buf_steal(&b, NULL);
}

/* etcd's UniqueURLs.Set */
static int urls_set(struct url_list *l, const char *s, const char *exception,
		    char *err, size_t cap)
{
	struct url_list n;

	if (strv_has(l->seen, l->nseen, s))
		return 0;
	if (exception && strcmp(s, exception) == 0) {
		l->seen = xrealloc(l->seen, (l->nseen + 1) * sizeof *l->seen);
		l->seen[l->nseen++] = xstrdup(s);
		return 0;
	}
	if (config_urls_parse(s, &n, err, cap) < 0)
		return -1;
	n.seen = xrealloc(NULL, n.n * sizeof *n.seen);
	for (size_t i = 0; i < n.n; i++)
		if (!strv_has(n.seen, n.nseen, n.v[i].str))
			n.seen[n.nseen++] = xstrdup(n.v[i].str);
	config_urls_free(l);
	*l = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* --initial-cluster                                                   */

void config_cluster_free(struct cluster_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		config_url_free(&l->v[i].url);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int config_initial_cluster_parse(const char *s, struct cluster_list *out,
				 char *err, size_t cap)
{
	struct str_list items = {0};
	char why[512];

	out->v = NULL;
	out->n = 0;
	if (*s)
		split_commas(s, &items);
	for (size_t i = 0; i < items.n; i++) {
		char *key = items.v[i], *eq, *in;
		struct cluster_member m;

		if (*key == '\0')
			continue;
		eq = strchr(key, '=');
		in = trim_dup(eq ? eq + 1 : "");
		m.name = eq ? xstrndup(key, (size_t)(eq - key)) : xstrdup(key);
		if (url_parse_one(in, &m.url, why, sizeof why) < 0) {
			emsg(err, cap, "error setting up initial cluster: %s", why);
			free(in);
			free(m.name);
			strlist_free(&items);
			config_cluster_free(out);
			return -1;
		}
		free(in);
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = m;
	}
	strlist_free(&items);
	return 0;
}

/* etcd compares the two URL sets after resolving host names
 * (netutil.URLStringsEqual). Without DNS, cetcd only maps "localhost" to
 * 127.0.0.1, which is what /etc/hosts does for Go's resolver. */
static char *resolve_key(const char *url)
{
	const char *h = strstr(url, "://localhost:");
	struct buf b = BUF_INIT;

	if (!h)
		return xstrdup(url);
	buf_append(&b, url, (size_t)(h - url));
	buf_printf(&b, "://127.0.0.1:%s", h + strlen("://localhost:"));
	return buf_steal(&b, NULL);
}

static bool resolved_eq(const struct str_list *a, const struct str_list *b)
{
	struct str_list x = {0}, y = {0};
	bool eq;

	for (size_t i = 0; i < a->n; i++) {
		strlist_push(&x, "");
		free(x.v[i]);
		x.v[i] = resolve_key(a->v[i]);
	}
	for (size_t i = 0; i < b->n; i++) {
		strlist_push(&y, "");
		free(y.v[i]);
		y.v[i] = resolve_key(b->v[i]);
	}
	qsort(x.v, x.n, sizeof *x.v, cmp_strp);
	qsort(y.v, y.n, sizeof *y.v, cmp_strp);
	eq = strlist_eq(&x, &y);
	strlist_free(&x);
	strlist_free(&y);
	return eq;
}

int config_check_initial_cluster(const struct config *c, const struct cluster_list *cl,
				 char *err, size_t cap)
{
	struct str_list mine = {0}, ap = {0}, miss = {0};
	int rc = 0;

	for (size_t i = 0; i < cl->n; i++)
		if (strcmp(cl->v[i].name, c->name) == 0)
			strlist_push(&mine, cl->v[i].url.str);
	if (mine.n == 0) {
		char *qn = quoted(c->name);

		emsg(err, cap, "couldn't find local name %s in the initial cluster configuration", qn);
		free(qn);
		return -1;
	}
	for (size_t i = 0; i < c->initial_advertise_peer_urls.n; i++)
		strlist_push(&ap, c->initial_advertise_peer_urls.v[i].str);
	qsort(mine.v, mine.n, sizeof *mine.v, cmp_strp);
	qsort(ap.v, ap.n, sizeof *ap.v, cmp_strp);
	if (!resolved_eq(&mine, &ap)) {
		struct buf why = BUF_INIT, ms = BUF_INIT, as = BUF_INIT;
		char *qa = quoted_list(ap.v, ap.n), *qm = quoted_list(mine.v, mine.n);

		if (ap.n != mine.n) {
			buf_printf(&why, "len(%s) != len(%s)", qa, qm);
		} else {
			for (size_t i = 0; i < ap.n; i++)
				if (strcmp(ap.v[i], mine.v[i]) != 0) {
					char *x = quoted(ap.v[i]), *y = quoted(mine.v[i]);

					buf_printf(&why, "resolved urls: %s != %s", x, y);
					free(x);
					free(y);
					break;
				}
		}
		for (size_t i = 0; i < mine.n; i++)
			if (!strv_has(ap.v, ap.n, mine.v[i]) && !strv_has(miss.v, miss.n, mine.v[i]))
				strlist_push(&miss, mine.v[i]);
		for (size_t i = 0; i < ap.n; i++)
			buf_printf(&as, "%s%s", i ? "," : "", ap.v[i]);
		if (miss.n) {
			for (size_t i = 0; i < miss.n; i++)
				buf_printf(&ms, "%s%s=%s", i ? "," : "", c->name, miss.v[i]);
			emsg(err, cap, "--initial-cluster has %s but missing from --initial-advertise-peer-urls=%s (%s)",
			     ms.data, as.data ? as.data : "", why.data ? why.data : "");
		} else {
			for (size_t i = 0; i < ap.n; i++)
				if (!strv_has(mine.v, mine.n, ap.v[i]))
					buf_printf(&ms, "%s%s", ms.len ? "," : "", ap.v[i]);
			/* umap.String(): name=url pairs of the advertise URLs, sorted */
			buf_reset(&why);
			for (size_t i = 0; i < ap.n; i++)
				buf_printf(&why, "%s%s=%s", i ? "," : "", c->name, ap.v[i]);
			emsg(err, cap, "--initial-advertise-peer-urls has %s but missing from --initial-cluster=%s",
			     ms.data ? ms.data : "", why.data);
		}
		free(qa);
		free(qm);
		buf_free(&why);
		buf_free(&ms);
		buf_free(&as);
		rc = -1;
	}
	strlist_free(&mine);
	strlist_free(&ap);
	strlist_free(&miss);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Setting one flag value (Go flag.Value.Set equivalents)              */

static void *field(struct config *c, const struct flag_def *f)
{
	return (char *)c + f->off;
}

static const struct flag_def *lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < NFLAGS; i++)
		if (strlen(flag_table[i].name) == n && memcmp(flag_table[i].name, name, n) == 0)
			return &flag_table[i];
	return NULL;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && memcmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static void set_str_list(struct str_list *l, const char *v, bool unique)
{
	struct str_list n = {0};

	split_commas(v, &n);
	if (unique) {
		size_t w = 0;

		qsort(n.v, n.n, sizeof *n.v, cmp_strp);
		for (size_t i = 0; i < n.n; i++) {
			if (w && strcmp(n.v[w - 1], n.v[i]) == 0)
				free(n.v[i]);
			else
				n.v[w++] = n.v[i];
		}
		n.n = w;
	}
	strlist_free(l);
	*l = n;
}

static const char *num_err_text(enum num_err e)
{
	return e == NUM_RANGE ? "value out of range" : "parse error";
}

/* Applies value v to flag f. Returns 0, or -1 with the Value.Set error
 * text (what Go prints after "invalid value ... : "). */
static int set_value(struct config *c, const struct flag_def *f, const char *v,
		     FILE *log, char *err, size_t cap)
{
	void *p = field(c, f);
	enum num_err e = NUM_OK;

	switch (f->type) {
	case FT_STR:
		set_str(p, v);
		return 0;
	case FT_BOOL:
		if (go_parse_bool(v, p) < 0)
			return emsg(err, cap, "parse error"), -1;
		return 0;
	case FT_UINT:
		e = go_parse_uint(v, 64, p);
		break;
	case FT_INT64:
		e = go_parse_int64(v, p);
		break;
	case FT_UINT32: {
		uint64_t u;
		char *qv;

		e = go_parse_uint(v, 32, &u);
		*(uint32_t *)p = (uint32_t)u;
		if (e == NUM_OK)
			return 0;
		qv = quoted(v);
		emsg(err, cap, "strconv.ParseUint: parsing %s: %s", qv,
		     e == NUM_RANGE ? "value out of range" : "invalid syntax");
		free(qv);
		return -1;
	}
	case FT_DUR:
		if (go_parse_duration(v, p) < 0)
			return emsg(err, cap, "parse error"), -1;
		return 0;
	case FT_URLS:
		return urls_set(p, v, f->extra, err, cap);
	case FT_CHOICE:
		if (!choice_ok(f->extra, v))
			return emsg(err, cap, "invalid value"), -1;
		set_str(p, v);
		return 0;
	case FT_STRS:
		set_str_list(p, v, false);
		return 0;
	case FT_USTRS:
		set_str_list(p, v, true);
		return 0;
	case FT_IGNORED:
		logline(log, 'W', "pkg/flags", "flag \"-%s\" is no longer supported - ignoring.", f->name);
		return 0;
	}
	if (e != NUM_OK)
		return emsg(err, cap, "%s", num_err_text(e)), -1;
	return 0;
}

static void free_value(struct config *c, const struct flag_def *f)
{
	void *p = field(c, f);

	switch (f->type) {
	case FT_STR:
	case FT_CHOICE:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case FT_URLS:
		config_urls_free(p);
		break;
	case FT_STRS:
	case FT_USTRS:
		strlist_free(p);
		break;
	default:
		break;
	}
}

static bool value_eq(struct config *a, struct config *b, const struct flag_def *f)
{
	void *x = field(a, f), *y = field(b, f);

	switch (f->type) {
	case FT_STR:
	case FT_CHOICE:
		return strcmp(*(char **)x, *(char **)y) == 0;
	case FT_BOOL:
		return *(bool *)x == *(bool *)y;
	case FT_UINT:
		return *(uint64_t *)x == *(uint64_t *)y;
	case FT_UINT32:
		return *(uint32_t *)x == *(uint32_t *)y;
	case FT_INT64:
	case FT_DUR:
		return *(int64_t *)x == *(int64_t *)y;
	case FT_URLS: {
		const struct url_list *l = x, *m = y;

		if (l->nseen != m->nseen)
			return false;
		for (size_t i = 0; i < l->nseen; i++)
			if (!strv_has(m->seen, m->nseen, l->seen[i]))
				return false;
		return true;
	}
	case FT_STRS:
	case FT_USTRS:
		return strlist_eq(x, y);
	case FT_IGNORED:
		return true;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Defaults                                                            */

static void init_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < NFLAGS; i++) {
		const struct flag_def *f = &flag_table[i];
		char err[256];

		if (f->type == FT_IGNORED)
			continue;
		if (f->type == FT_STR || f->type == FT_CHOICE) {
			set_str(field(c, f), f->def);
			continue;
		}
		if ((f->type == FT_URLS || f->type == FT_STRS) && f->def[0] == '\0')
			continue;	/* etcd: New...Value("") is empty */
		if (set_value(c, f, f->def, NULL, err, sizeof err) < 0)
			abort();	/* table bug */
	}
	c->origin = calloc(NFLAGS, 1);
	if (!c->origin)
		abort();
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NFLAGS; i++)
		free_value(c, &flag_table[i]);
	strlist_free(&c->cors);
	free(c->data_dir);
	c->data_dir = NULL;
	for (size_t i = 0; i < c->n_unsupported; i++)
		free(c->unsupported[i].value);
	free(c->unsupported);
	free(c->origin);
	memset(c, 0, sizeof *c);
}

bool config_is_set(const struct config *c, const char *flag)
{
	const struct flag_def *f = lookup(flag, strlen(flag));

	return f && c->origin && c->origin[f - flag_table] != ORIGIN_DEFAULT;
}

void config_flag_to_env(const char *flag, char *dst, size_t cap)
{
	size_t n = 0;

	if (!cap)
		return;
	for (const char *p = "ETCD_"; *p && n + 1 < cap; p++)
		dst[n++] = *p;
	for (const char *p = flag; *p && n + 1 < cap; p++) {
		char ch = *p == '-' ? '_' : *p;

		dst[n++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
	}
	dst[n] = '\0';
}

/* ------------------------------------------------------------------ */
/* Parsing state                                                       */

struct pstate {
	struct config *c;
	FILE *out, *err;
	char **raw;		/* last raw value per flag, for c->unsupported */
};

static void remember_raw(struct pstate *ps, const struct flag_def *f, const char *v)
{
	size_t i = (size_t)(f - flag_table);

	free(ps->raw[i]);
	ps->raw[i] = xstrdup(v);
}

/* Go flag.FlagSet.failf + Usage: message, then etcd's usage line. */
static int flag_fail(struct pstate *ps, const char *msg)
{
	fprintf(ps->err, "%s\n", msg);
	fprintf(ps->err, "%s\n", usage_line);
	ps->c->exit_code = 2;
	return -1;
}

/* Go flag.FlagSet.parseOne. Returns 1 = parsed a flag, 0 = stop (no more
 * flags; *idx at the first non-flag), -1 = error, 2 = help requested. */
static int parse_one(struct pstate *ps, int argc, char *const argv[], int *idx)
{
	const char *s, *name, *value = NULL;
	size_t nlen;
	const struct flag_def *f;
	char msg[1024], why[768];

	if (*idx >= argc)
		return 0;
	s = argv[*idx];
	if (strlen(s) < 2 || s[0] != '-')
		return 0;
	name = s + 1;
	if (s[1] == '-') {
		if (s[2] == '\0') {	/* "--" terminates the flags */
			(*idx)++;
			return 0;
		}
		name = s + 2;
	}
	if (name[0] == '\0' || name[0] == '-' || name[0] == '=') {
		snprintf(msg, sizeof msg, "bad flag syntax: %s", s);
		return flag_fail(ps, msg);
	}
	(*idx)++;
	nlen = strlen(name);
	for (size_t i = 1; i < nlen; i++)
		if (name[i] == '=') {
			value = name + i + 1;
			nlen = i;
			break;
		}
	f = lookup(name, nlen);
	if (!f) {
		if ((nlen == 4 && memcmp(name, "help", 4) == 0) || (nlen == 1 && name[0] == 'h'))
			return 2;
		snprintf(msg, sizeof msg, "flag provided but not defined: -%.*s", (int)nlen, name);
		return flag_fail(ps, msg);
	}
	if (f->type == FT_BOOL || f->type == FT_IGNORED) {
		const char *v = value ? value : "true";

		if (set_value(ps->c, f, v, ps->err, why, sizeof why) < 0) {
			char *qv = quoted(v);

			snprintf(msg, sizeof msg, "invalid boolean value %s for -%s: %s", qv, f->name, why);
			free(qv);
			return flag_fail(ps, msg);
		}
		value = v;
	} else {
		if (!value && *idx < argc)
			value = argv[(*idx)++];
		if (!value) {
			snprintf(msg, sizeof msg, "flag needs an argument: -%s", f->name);
			return flag_fail(ps, msg);
		}
		if (set_value(ps->c, f, value, ps->err, why, sizeof why) < 0) {
			char *qv = quoted(value);

			snprintf(msg, sizeof msg, "invalid value %s for flag -%s: %s", qv, f->name, why);
			free(qv);
			return flag_fail(ps, msg);
		}
	}
	ps->c->origin[f - flag_table] = ORIGIN_FLAG;
	remember_raw(ps, f, value);
	return 1;
}

/* ------------------------------------------------------------------ */
/* Environment (etcd pkg/flags.SetFlagsFromEnv + verifyEnv)             */

static const char *env_get(char *const envp[], const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], key, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static int cmp_flag_idx(const void *a, const void *b)
{
	return strcmp(flag_table[*(const size_t *)a].name, flag_table[*(const size_t *)b].name);
}

/* Returns 0, or -1 with a message in err (the last failing variable in
 * flag-name order, as etcd). A variable shadowed by a command-line flag only
 * warns: the flag wins (etcd exits there). */
static int apply_env(struct pstate *ps, char *const envp[], char *err, size_t cap)
{
	size_t order[NFLAGS];
	bool *used = calloc(NFLAGS, 1);
	int rc = 0;

	if (!used)
		abort();
	for (size_t i = 0; i < NFLAGS; i++)
		order[i] = i;
	qsort(order, NFLAGS, sizeof order[0], cmp_flag_idx);
	for (size_t k = 0; k < NFLAGS; k++) {
		const struct flag_def *f = &flag_table[order[k]];
		char key[128], why[768];
		const char *v;

		if (ps->c->origin[order[k]] == ORIGIN_FLAG)
			continue;
		config_flag_to_env(f->name, key, sizeof key);
		v = env_get(envp, key);
		if (!v || !*v)
			continue;
		used[order[k]] = true;
		if (set_value(ps->c, f, v, ps->err, why, sizeof why) < 0) {
			char *qv = quoted(v);

			emsg(err, cap, "invalid value %s for %s: %s", qv, key, why);
			free(qv);
			rc = -1;
			continue;
		}
		ps->c->origin[order[k]] = ORIGIN_ENV;
		remember_raw(ps, f, v);
		logline(ps->err, 'I', "pkg/flags", "recognized and used environment variable %s=%s", key, v);
	}
	/* verifyEnv */
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		size_t kn = eq ? (size_t)(eq - e) : strlen(e);
		bool is_used = false, shadowed = false;

		if (!eq)
			logline(ps->err, 'W', "pkg/flags", "found invalid env %s", e);
		for (size_t j = 0; j < NFLAGS; j++) {
			char key[128];

			config_flag_to_env(flag_table[j].name, key, sizeof key);
			if (strlen(key) != kn || memcmp(key, e, kn) != 0)
				continue;
			is_used = used[j];
			shadowed = ps->c->origin[j] == ORIGIN_FLAG;
		}
		if (is_used)
			continue;
		if (shadowed) {
			/* etcd refuses to start here (plog.Fatalf); cetcd lets the
			 * command-line flag win, as its contract says, and warns. */
			char *k = xstrndup(e, kn), *qk = quoted(k);

			logline(ps->err, 'W', "pkg/flags", "environment variable %s is shadowed by the corresponding command-line flag, which wins", qk);
			free(k);
			free(qk);
			continue;
		}
		if (strncmp(e, "ETCD_", 5) == 0)
			logline(ps->err, 'W', "pkg/flags", "unrecognized environment variable %s", e);
	}
	free(used);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Validation (etcdmain.configFromCmdLine + embed.Config.Validate)      */

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
		emsg(err, cap, "expected IP in URL for binding (%s)", u->str);
		return -1;
	}
	return 0;
}

static int check_host_urls(const struct url_list *l, const char *flag, char *err, size_t cap)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].host[0])
			continue;
		char *all = config_urls_join(l, ","), *qa = quoted(all);

		emsg(err, cap, "--%s %s must be \"host:port\" (unexpected empty host (%s))",
		     flag, qa, l->v[i].str);
		free(all);
		free(qa);
		return -1;
	}
	return 0;
}

/* embed.Config.setupLogging: --log-output vs --log-outputs (3.4 rules),
 * the deprecation warnings it prints, and the checks that can fail. */
static int check_logging(struct config *c, FILE *log, char *err, size_t cap)
{
	static const char *const levels[] = {"debug", "info", "warn", "error", "dpanic", "panic", "fatal"};
	size_t n1 = c->log_output.n, n2 = c->log_outputs.n;
	bool level_ok = false;

	if (n1 != n2) {
		if (n1 > n2) {
			fputs("'--log-output' flag has been deprecated! Please use '--log-outputs'!\n", log);
			strlist_free(&c->log_outputs);
			for (size_t i = 0; i < n1; i++)
				strlist_push(&c->log_outputs, c->log_output.v[i]);
		} else {
			strlist_free(&c->log_output);
		}
	} else {
		if (n1 > 1)
			return emsg(err, cap, "both '--log-output' and '--log-outputs' are set; only set '--log-outputs'"), -1;
		if (n1 < 1)
			return emsg(err, cap, "either '--log-output' or '--log-outputs' flag must be set"), -1;
		if (strlist_eq(&c->log_output, &c->log_outputs) && strcmp(c->log_output.v[0], "default") != 0) {
			char *a = quoted_list(c->log_output.v, n1), *b = quoted_list(c->log_outputs.v, n2);

			emsg(err, cap, "'--log-output=%s' and '--log-outputs=%s' are incompatible; only set --log-outputs", a, b);
			free(a);
			free(b);
			return -1;
		}
		if (strcmp(c->log_output.v[0], "default") != 0) {
			char *a = quoted_list(c->log_output.v, n1);

			fprintf(log, "[WARNING] Deprecated '--log-output' flag is set to %s\nPlease use '--log-outputs' flag\n", a);
			free(a);
		}
	}
	if (c->debug)
		fputs("[WARNING] Deprecated '--debug' flag is set to true (use '--log-level=debug' instead\n", log);
	if (c->debug && strcmp(c->log_level, "debug") != 0)
		fprintf(log, "[WARNING] Deprecated '--debug' flag is set to true with inconsistent '--log-level=%s' flag\n", c->log_level);
	if (c->log_package_levels[0])
		fprintf(log, "[WARNING] Deprecated '--log-package-levels=%s' flag is set; use '--logger=zap' flag instead\n", c->log_package_levels);
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		level_ok |= strcmp(c->log_level, levels[i]) == 0;
	if (strcmp(c->logger, "capnslog") == 0) {
		if (c->log_outputs.n != 1) {
			char *q = quoted_list(c->log_outputs.v, c->log_outputs.n);

			emsg(err, cap, "--logger=capnslog supports only 1 value in '--log-outputs', got %s", q);
			free(q);
			return -1;
		}
		if (strcmp(c->log_outputs.v[0], "default") && strcmp(c->log_outputs.v[0], "stderr") &&
		    strcmp(c->log_outputs.v[0], "stdout")) {
			char *q = quoted(c->log_outputs.v[0]);

			emsg(err, cap, "unknown log-output %s (only supports \"default\", \"stderr\", \"stdout\")", q);
			free(q);
			return -1;
		}
	} else if (strcmp(c->logger, "zap") == 0) {
		if (c->log_outputs.n > 1 && strv_has(c->log_outputs.v, c->log_outputs.n, "default"))
			return emsg(err, cap, "multi logoutput for \"default\" is not supported yet"), -1;
	} else {
		char *q = quoted(c->logger);

		emsg(err, cap, "unknown logger option %s", q);
		free(q);
		return -1;
	}
	if (!level_ok) {
		/* etcd 3.4 panics here ("panic: unknown level"); cetcd reports it. */
		char *q = quoted(c->log_level);

		emsg(err, cap, "unknown level %s", q);
		free(q);
		return -1;
	}
	return 0;
}

static int validate(struct config *c, FILE *log, char *err, size_t cap)
{
	int nset = 0;

	if (check_logging(c, log, err, cap) < 0)
		return -1;
	if (check_bind_urls(&c->listen_peer_urls, err, cap) < 0 ||
	    check_bind_urls(&c->listen_client_urls, err, cap) < 0 ||
	    check_bind_urls(&c->listen_metrics_urls, err, cap) < 0)
		return -1;
	if (check_host_urls(&c->initial_advertise_peer_urls, "initial-advertise-peer-urls", err, cap) < 0 ||
	    check_host_urls(&c->advertise_client_urls, "advertise-client-urls", err, cap) < 0)
		return -1;
	nset = (c->discovery[0] != 0) + (c->initial_cluster[0] != 0) + (c->discovery_srv[0] != 0);
	if (nset > 1)
		return emsg(err, cap, "multiple discovery or bootstrap flags are set. "
			    "Choose one of \"initial-cluster\", \"discovery\" or \"discovery-srv\""), -1;
	if (c->heartbeat_ms == 0)
		return emsg(err, cap, "--heartbeat-interval must be >0 (set to %llums)",
			    (unsigned long long)c->heartbeat_ms), -1;
	if (c->election_ms == 0)
		return emsg(err, cap, "--election-timeout must be >0 (set to %llums)",
			    (unsigned long long)c->election_ms), -1;
	if (5 * c->heartbeat_ms > c->election_ms)	/* Go uint arithmetic wraps too */
		return emsg(err, cap, "--election-timeout[%llums] should be at least as 5 times as --heartbeat-interval[%llums]",
			    (unsigned long long)c->election_ms, (unsigned long long)c->heartbeat_ms), -1;
	if (c->election_ms > 50000)
		return emsg(err, cap, "--election-timeout[%llums] is too long, and should be set less than 50000ms",
			    (unsigned long long)c->election_ms), -1;
	if (c->listen_client_urls.n && !c->advertise_client_urls.n && !may_be_proxy(c))
		return emsg(err, cap, "--advertise-client-urls is required when --listen-client-urls is set explicitly"), 1;
	if (strcmp(c->auto_compaction_mode, "") && strcmp(c->auto_compaction_mode, "periodic") &&
	    strcmp(c->auto_compaction_mode, "revision")) {
		char *q = quoted(c->auto_compaction_mode);

		emsg(err, cap, "unknown auto-compaction-mode %s", q);
		free(q);
		return -1;
	}
	if (c->experimental_enable_lease_checkpoint_persist && !c->experimental_enable_lease_checkpoint)
		return emsg(err, cap, "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint"), -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Post-processing                                                     */

/* etcd's InitialClusterFromName over the current advertise peer URLs. */
static char *initial_cluster_from_name(const struct config *c)
{
	struct buf b = BUF_INIT;
	const char *n = c->name[0] ? c->name : "default";

	buf_puts(&b, "");
	for (size_t i = 0; i < c->initial_advertise_peer_urls.n; i++)
		buf_printf(&b, "%s%s=%s", i ? "," : "", n, c->initial_advertise_peer_urls.v[i].str);
	return buf_steal(&b, NULL);
}

/* configFromCmdLine: derived values before validation. */
static void derive(struct config *c)
{
	strlist_free(&c->cors);
	for (size_t i = 0; i < c->cors_urls.nseen; i++)
		strlist_push(&c->cors, c->cors_urls.seen[i]);
	qsort(c->cors.v, c->cors.n, sizeof *c->cors.v, cmp_strp);

	if (config_is_set(c, "listen-client-urls") && !config_is_set(c, "advertise-client-urls") &&
	    !may_be_proxy(c)) {
		for (size_t i = 0; i < c->advertise_client_urls.n; i++)
			config_url_free(&c->advertise_client_urls.v[i]);
		c->advertise_client_urls.n = 0;
	}
	if ((c->discovery[0] || c->discovery_srv[0] || c->discovery_srv_name[0]) &&
	    !config_is_set(c, "initial-cluster"))
		set_str(&c->initial_cluster, "");
}

/* startEtcdOrProxyV2 after a successful parse: UpdateDefaultClusterFromName
 * (without default-host detection) and the default data dir. */
static void finish(struct pstate *ps)
{
	struct config *c = ps->c;

	if (strcmp(c->name, "default") != 0 &&
	    strcmp(c->initial_cluster, "default=http://localhost:2380") == 0) {
		char *ic = initial_cluster_from_name(c);

		free(c->initial_cluster);
		c->initial_cluster = ic;
	}
	if (c->data_dir[0] == '\0') {
		struct buf b = BUF_INIT;

		buf_printf(&b, "%s.etcd", c->name);
		free(c->data_dir);
		c->data_dir = buf_steal(&b, NULL);
		c->data_dir_defaulted = true;
		logline(ps->err, 'W', "etcdmain", "no data-dir provided, using default data-dir ./%s", c->data_dir);
	}
}

static const char *unsupported_why(const struct flag_def *f)
{
	if (f->impl == IM_V2)
		return "not supported (cetcd always serves the v2 API)";
	if (f->impl == IM_NOOP)
		return "accepted but has no effect in cetcd (v3/etcd-internal setting)";
	return "not supported yet";
}

static void add_unsupported(struct config *c, const char *flag, const char *value, const char *why)
{
	c->unsupported = xrealloc(c->unsupported, (c->n_unsupported + 1) * sizeof *c->unsupported);
	c->unsupported[c->n_unsupported].flag = flag;
	c->unsupported[c->n_unsupported].value = xstrdup(value);
	c->unsupported[c->n_unsupported].why = why;
	c->n_unsupported++;
}

static bool has_scheme(const struct url_list *l, const char *scheme)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].scheme, scheme) == 0)
			return true;
	return false;
}

static void collect_unsupported(struct pstate *ps)
{
	struct config *c = ps->c, d;

	init_defaults(&d);
	for (size_t i = 0; i < NFLAGS; i++) {
		const struct flag_def *f = &flag_table[i];

		if (c->origin[i] == ORIGIN_DEFAULT || f->type == FT_IGNORED)
			continue;
		if (f->impl == IM_YES) {
			if (f->type != FT_URLS || strcmp(f->name, "cors") == 0 ||
			    strncmp(f->name, "listen-", 7) != 0)
				continue;
			if (has_scheme(field(c, f), "https") || has_scheme(field(c, f), "unix") ||
			    has_scheme(field(c, f), "unixs"))
				add_unsupported(c, f->name, ps->raw[i],
						"not supported yet (https/unix listen URLs)");
			continue;
		}
		if (!value_eq(c, &d, f))
			add_unsupported(c, f->name, ps->raw[i], unsupported_why(f));
	}
	config_free(&d);
}

void config_unsupported(const struct config *c, FILE *f)
{
	for (size_t i = 0; i < c->n_unsupported; i++) {
		const struct config_unsupported_flag *u = &c->unsupported[i];

		logline(f, 'W', "etcdmain", "flag --%s=%s is %s", u->flag, u->value, u->why);
	}
}

/* ------------------------------------------------------------------ */
/* --help and --version                                                */

static void print_flag_help(FILE *out, const struct flag_def *f)
{
	char env[128];
	const char *h = f->help;

	fprintf(out, "  --%s %s\n", f->name, f->shown);
	while (*h) {
		const char *nl = strchr(h, '\n');
		size_t n = nl ? (size_t)(nl - h) : strlen(h);

		fprintf(out, "    %.*s\n", (int)n, h);
		h += n + (nl ? 1 : 0);
	}
	config_flag_to_env(f->name, env, sizeof env);
	fprintf(out, "    [env %s]%s%s\n", env, f->impl == IM_YES ? "" : " cetcd: ",
		f->impl == IM_YES ? "" : unsupported_why(f));
}

static void print_help(FILE *out)
{
	for (int s = S_MEMBER; s < S_COUNT; s++) {
		fprintf(out, "\n%s\n", section_title[s]);
		for (size_t i = 0; i < NFLAGS; i++)
			if (flag_table[i].sec == (enum section)s)
				print_flag_help(out, &flag_table[i]);
		if (s == S_UNSAFE)
			fputs("\nCAUTIOUS with unsafe flag! It may break the guarantees given by the consensus protocol!\n", out);
	}
	fprintf(out, "\n%s\n", section_title[S_HIDDEN]);
	for (size_t i = 0; i < NFLAGS; i++)
		if (flag_table[i].sec == S_HIDDEN && flag_table[i].type != FT_IGNORED)
			print_flag_help(out, &flag_table[i]);
	fputs("  Ignored with a warning (pre-2.0 flags):", out);
	for (size_t i = 0; i < NFLAGS; i++)
		if (flag_table[i].type == FT_IGNORED)
			fprintf(out, " -%s", flag_table[i].name);
	fputs("\n\n", out);	/* etcd prints its flag text with Println */
}

static const char *go_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#else
	return "unknown";
#endif
}

static void print_version(FILE *out)
{
	fprintf(out, "etcd Version: %s\n", CETCD_ETCD_VERSION);
	fprintf(out, "cetcd Version: %s\n", CETCD_VERSION);
	fprintf(out, "Git SHA: none\n");
	fprintf(out, "Go Version: n/a (C)\n");
	fprintf(out, "Go OS/Arch: linux/%s\n", go_arch());
}

/* ------------------------------------------------------------------ */
/* Entry point                                                         */

/* etcdmain's error path: "error verifying flags, %v. See 'etcd --help'." */
static int verify_fail(struct pstate *ps, const char *msg, bool unset_ac)
{
	logline(ps->err, 'E', "etcdmain", "error verifying flags, %s. See 'etcd --help'.", msg);
	if (unset_ac)
		logline(ps->err, 'E', "etcdmain", "When listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.");
	ps->c->exit_code = 1;
	return -1;
}

static int parse_args(struct pstate *ps, int argc, char *const argv[])
{
	int idx = 1, rc;

	while ((rc = parse_one(ps, argc, argv, &idx)) == 1)
		;
	if (rc < 0)
		return -1;
	if (rc == 2) {	/* flag.ErrHelp: Usage to stderr, flag list to stdout */
		fprintf(ps->err, "%s\n", usage_line);
		print_help(ps->out);
		ps->c->exit_code = 0;
		return 1;
	}
	if (idx < argc) {
		char msg[1024];

		snprintf(msg, sizeof msg, "'%s' is not a valid flag", argv[idx]);
		return verify_fail(ps, msg, false);
	}
	return 0;
}

int config_parse(struct config *c, int argc, char *const argv[],
		 char *const envp[], FILE *out, FILE *err)
{
	struct pstate ps = {c, out ? out : stdout, err ? err : stderr, NULL};
	char msg[1024];
	int rc;

	init_defaults(c);
	ps.raw = calloc(NFLAGS, sizeof *ps.raw);
	if (!ps.raw)
		abort();
	rc = parse_args(&ps, argc, argv);
	if (rc != 0)
		goto done;
	if (c->print_version) {
		print_version(ps.out);
		c->exit_code = 0;
		rc = 1;
		goto done;
	}
	rc = apply_env(&ps, envp, msg, sizeof msg);
	if (rc < 0) {
		rc = verify_fail(&ps, msg, false);
		goto done;
	}
	derive(c);
	rc = validate(c, ps.err, msg, sizeof msg);
	if (rc != 0) {
		rc = verify_fail(&ps, msg, rc == 1);
		goto done;
	}
	finish(&ps);
	collect_unsupported(&ps);
	c->exit_code = 0;
done:
	for (size_t i = 0; i < NFLAGS; i++)
		free(ps.raw[i]);
	free(ps.raw);
	return rc;
}
