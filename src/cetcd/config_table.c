/* config_table.c - the flag table: one row per flag etcd 3.4.23 registers
 * (name, type, field, default, help section and text, what cetcd does with
 * it), in etcd --help order. Data only; the engine (config.c) reads it. */
#include "cetcd/config_private.h"

#include <string.h>

#define OFF(f) offsetof(struct config, f)

/* One row a flag, as etcd lists them: clang-format leaves the table alone. */
/* clang-format off */
const struct flag_def flag_table[] = {
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
	{"discovery", FT_STR, OFF(discovery), "", NULL, S_CLUSTER, "''", "Discovery URL used to bootstrap the cluster.", IM_YES},
	{"discovery-fallback", FT_CHOICE, OFF(discovery_fallback), "proxy", "proxy|exit", S_CLUSTER, "'proxy'", "Expected behavior ('exit' or 'proxy') when discovery services fails.\n\"proxy\" supports v2 API only.", IM_YES},
	{"discovery-proxy", FT_STR, OFF(discovery_proxy), "", NULL, S_CLUSTER, "''", "HTTP proxy to use for traffic to discovery service.", IM_YES},
	{"discovery-srv", FT_STR, OFF(discovery_srv), "", NULL, S_CLUSTER, "''", "DNS srv domain used to bootstrap the cluster.", IM_YES},
	{"discovery-srv-name", FT_STR, OFF(discovery_srv_name), "", NULL, S_CLUSTER, "''", "Suffix to the dns srv name queried when bootstrapping.", IM_YES},
	{"strict-reconfig-check", FT_BOOL, OFF(strict_reconfig_check), "true", NULL, S_CLUSTER, "'true'", "Reject reconfiguration requests that would cause quorum loss.", IM_YES},
	{"pre-vote", FT_BOOL, OFF(pre_vote), "false", NULL, S_CLUSTER, "'false'", "Enable to run an additional Raft election phase.", IM_NO},
	{"auto-compaction-retention", FT_STR, OFF(auto_compaction_retention), "0", NULL, S_CLUSTER, "'0'", "Auto compaction retention length. 0 means disable auto compaction.", IM_NOOP},
	{"auto-compaction-mode", FT_STR, OFF(auto_compaction_mode), "periodic", NULL, S_CLUSTER, "'periodic'", "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for revision number based retention.", IM_NOOP},
	{"enable-v2", FT_BOOL, OFF(enable_v2), "true", NULL, S_CLUSTER, "'true'", "Accept etcd V2 client requests.", IM_V2},
	{"cert-file", FT_STR, OFF(cert_file), "", NULL, S_SECURITY, "''", "Path to the client server TLS cert file.", IM_YES},
	{"key-file", FT_STR, OFF(key_file), "", NULL, S_SECURITY, "''", "Path to the client server TLS key file.", IM_YES},
	{"client-cert-auth", FT_BOOL, OFF(client_cert_auth), "false", NULL, S_SECURITY, "'false'", "Enable client cert authentication.", IM_YES},
	{"client-crl-file", FT_STR, OFF(client_crl_file), "", NULL, S_SECURITY, "''", "Path to the client certificate revocation list file.", IM_YES},
	{"client-cert-allowed-hostname", FT_STR, OFF(client_cert_allowed_hostname), "", NULL, S_SECURITY, "''", "Allowed TLS hostname for client cert authentication.", IM_YES},
	{"trusted-ca-file", FT_STR, OFF(trusted_ca_file), "", NULL, S_SECURITY, "''", "Path to the client server TLS trusted CA cert file.", IM_YES},
	{"auto-tls", FT_BOOL, OFF(auto_tls), "false", NULL, S_SECURITY, "'false'", "Client TLS using generated certificates.", IM_YES},
	{"peer-cert-file", FT_STR, OFF(peer_cert_file), "", NULL, S_SECURITY, "''", "Path to the peer server TLS cert file.", IM_YES},
	{"peer-key-file", FT_STR, OFF(peer_key_file), "", NULL, S_SECURITY, "''", "Path to the peer server TLS key file.", IM_YES},
	{"peer-client-cert-auth", FT_BOOL, OFF(peer_client_cert_auth), "false", NULL, S_SECURITY, "'false'", "Enable peer client cert authentication.", IM_YES},
	{"peer-trusted-ca-file", FT_STR, OFF(peer_trusted_ca_file), "", NULL, S_SECURITY, "''", "Path to the peer server TLS trusted CA file.", IM_YES},
	{"peer-cert-allowed-cn", FT_STR, OFF(peer_cert_allowed_cn), "", NULL, S_SECURITY, "''", "Required CN for client certs connecting to the peer endpoint.", IM_YES},
	{"peer-cert-allowed-hostname", FT_STR, OFF(peer_cert_allowed_hostname), "", NULL, S_SECURITY, "''", "Allowed TLS hostname for inter peer authentication.", IM_YES},
	{"peer-auto-tls", FT_BOOL, OFF(peer_auto_tls), "false", NULL, S_SECURITY, "'false'", "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided.", IM_YES},
	{"peer-crl-file", FT_STR, OFF(peer_crl_file), "", NULL, S_SECURITY, "''", "Path to the peer certificate revocation list file.", IM_YES},
	{"cipher-suites", FT_STRS, OFF(cipher_suites), "", NULL, S_SECURITY, "''", "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go).", IM_YES},
	{"cors", FT_URLS, OFF(cors_urls), "*", "*", S_SECURITY, "'*'", "Comma-separated whitelist of origins for CORS, or cross-origin resource sharing, (empty or * means allow all).", IM_YES},
	{"host-whitelist", FT_USTRS, OFF(host_whitelist), "*", NULL, S_SECURITY, "'*'", "Acceptable hostnames from HTTP client requests, if server is not secure (empty or * means allow all).", IM_NO},
	{"auth-token", FT_STR, OFF(auth_token), "simple", NULL, S_AUTH, "'simple'", "Specify a v3 authentication token type and its options ('simple' or 'jwt').", IM_NO},
	{"bcrypt-cost", FT_UINT, OFF(bcrypt_cost), "10", NULL, S_AUTH, "10", "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31.", IM_NO},
	{"auth-token-ttl", FT_UINT, OFF(auth_token_ttl), "300", NULL, S_AUTH, "300", "Time (in seconds) of the auth-token-ttl.", IM_NO},
	{"enable-pprof", FT_BOOL, OFF(enable_pprof), "false", NULL, S_PROFILING, "'false'", "Enable runtime profiling data via HTTP server. Address is at client URL + \"/debug/pprof/\"", IM_NO},
	{"metrics", FT_STR, OFF(metrics), "basic", NULL, S_PROFILING, "'basic'", "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics.", IM_NOOP},
	{"listen-metrics-urls", FT_URLS, OFF(listen_metrics_urls), "", "", S_PROFILING, "''", "List of URLs to listen on for the metrics and health endpoints.", IM_YES},
	{"logger", FT_STR, OFF(logger), "capnslog", NULL, S_LOGGING, "'capnslog'", "Specify 'zap' for structured logging or 'capnslog'. [WARN] 'capnslog' will be deprecated in v3.5.", IM_NOOP},
	{"log-outputs", FT_USTRS, OFF(log_outputs), "default", NULL, S_LOGGING, "'default'", "Specify 'stdout' or 'stderr' to skip journald logging even when running under systemd, or list of comma separated output targets.", IM_NO},
	{"log-level", FT_STR, OFF(log_level), "info", NULL, S_LOGGING, "'info'", "Configures log level. Only supports debug, info, warn, error, panic, or fatal.", IM_YES},
	{"proxy", FT_CHOICE, OFF(proxy), "off", "off|readonly|on", S_PROXY, "'off'", "Proxy mode setting ('off', 'readonly' or 'on').", IM_YES},
	{"proxy-failure-wait", FT_UINT, OFF(proxy_failure_wait_ms), "5000", NULL, S_PROXY, "5000", "Time (in milliseconds) an endpoint will be held in a failed state.", IM_YES},
	{"proxy-refresh-interval", FT_UINT, OFF(proxy_refresh_interval_ms), "30000", NULL, S_PROXY, "30000", "Time (in milliseconds) of the endpoints refresh interval.", IM_YES},
	{"proxy-dial-timeout", FT_UINT, OFF(proxy_dial_timeout_ms), "1000", NULL, S_PROXY, "1000", "Time (in milliseconds) for a dial to timeout.", IM_YES},
	{"proxy-write-timeout", FT_UINT, OFF(proxy_write_timeout_ms), "5000", NULL, S_PROXY, "5000", "Time (in milliseconds) for a write to timeout.", IM_YES},
	{"proxy-read-timeout", FT_UINT, OFF(proxy_read_timeout_ms), "0", NULL, S_PROXY, "0", "Time (in milliseconds) for a read to timeout.", IM_YES},
	{"experimental-initial-corrupt-check", FT_BOOL, OFF(experimental_initial_corrupt_check), "false", NULL, S_EXPERIMENTAL, "'false'", "Enable to check data corruption before serving any client/peer traffic.", IM_NO},
	{"experimental-corrupt-check-time", FT_DUR, OFF(experimental_corrupt_check_time_ns), "0s", NULL, S_EXPERIMENTAL, "'0s'", "Duration of time between cluster corruption check passes.", IM_NOOP},
	{"experimental-enable-v2v3", FT_STR, OFF(experimental_enable_v2v3), "", NULL, S_EXPERIMENTAL, "''", "Serve v2 requests through the v3 backend under a given prefix.", IM_NO},
	{"experimental-backend-bbolt-freelist-type", FT_STR, OFF(experimental_backend_bbolt_freelist_type), "array", NULL, S_EXPERIMENTAL, "'array'", "ExperimentalBackendFreelistType specifies the type of freelist that boltdb backend uses(array and map are supported types).", IM_NOOP},
	{"experimental-enable-lease-checkpoint", FT_BOOL, OFF(experimental_enable_lease_checkpoint), "false", NULL, S_EXPERIMENTAL, "'false'", "ExperimentalEnableLeaseCheckpoint enables primary lessor to persist lease remainingTTL to prevent indefinite auto-renewal of long lived leases.", IM_NOOP},
	{"experimental-compaction-batch-limit", FT_INT64, OFF(experimental_compaction_batch_limit), "1000", NULL, S_EXPERIMENTAL, "1000", "ExperimentalCompactionBatchLimit sets the maximum revisions deleted in each compaction batch.", IM_NOOP},
	{"experimental-peer-skip-client-san-verification", FT_BOOL, OFF(experimental_peer_skip_client_san_verification), "false", NULL, S_EXPERIMENTAL, "'false'", "Skip verification of SAN field in client certificate for peer connections.", IM_YES},
	{"experimental-watch-progress-notify-interval", FT_DUR, OFF(experimental_watch_progress_notify_interval_ns), "10m", NULL, S_EXPERIMENTAL, "'10m'", "Duration of periodical watch progress notification.", IM_NOOP},
	{"experimental-warning-apply-duration", FT_DUR, OFF(experimental_warning_apply_duration_ns), "100ms", NULL, S_EXPERIMENTAL, "'100ms'", "Warning is generated if requests take more than this duration.", IM_NOOP},
	{"force-new-cluster", FT_BOOL, OFF(force_new_cluster), "false", NULL, S_UNSAFE, "'false'", "Force to create a new one-member cluster.", IM_YES},
	{"debug", FT_BOOL, OFF(debug), "false", NULL, S_DEPRECATED, "'false'", "Enable debug-level logging for etcd. [WARN] Will be deprecated in v3.5. Use '--log-level=debug' instead.", IM_YES},
	{"log-package-levels", FT_STR, OFF(log_package_levels), "", NULL, S_DEPRECATED, "''", "Specify a particular log level for each etcd package (eg: 'etcdmain=CRITICAL,etcdserver=DEBUG').", IM_NO},
	/* Registered by etcd 3.4 but not shown by its --help. */
	{"config-file", FT_STR, OFF(config_file), "", NULL, S_HIDDEN, "''", "Path to the server configuration file (YAML). Note that if a configuration file is provided, other command line flags and environment variables will be ignored.", IM_YES},
	{"log-output", FT_USTRS, OFF(log_output), "default", NULL, S_HIDDEN, "'default'", "[TO BE DEPRECATED IN v3.5] use '--log-outputs'.", IM_NO},
	{"enable-grpc-gateway", FT_BOOL, OFF(enable_grpc_gateway), "true", NULL, S_HIDDEN, "'true'", "Enable GRPC gateway.", IM_NOOP},
	{"experimental-enable-lease-checkpoint-persist", FT_BOOL, OFF(experimental_enable_lease_checkpoint_persist), "false", NULL, S_HIDDEN, "'false'", "Enable persisting remainingTTL to prevent indefinite auto-renewal of long lived leases.", IM_NOOP},
	/* cetcd's own limits (doc/api-compat.md "Limits"). */
	{"v2-quota-bytes", FT_UINT, OFF(v2_quota_bytes), "536870912", NULL, S_CETCD, "'536870912'", "Refuse v2 writes that add data once the store holds this many bytes (errorCode 310; 0 is no quota).", IM_YES},
	{"v2-watch-window", FT_UINT, OFF(v2_watch_window), "1000", NULL, S_CETCD, "'1000'", "Number of past events a v2 watch can start from (an older waitIndex gets errorCode 401).", IM_YES},
	{"max-client-conns", FT_UINT, OFF(max_client_conns), "0", NULL, S_CETCD, "'0'", "Maximum open client connections; more are refused at accept (0 is the descriptor limit minus 1024).", IM_YES},
	/* etcd 2's deprecated CA flags (= trusted CA + client cert auth), kept by cetcd. */
	{"ca-file", FT_STR, OFF(ca_file), "", NULL, S_HIDDEN, "''", "DEPRECATED: Path to the client server TLS CA file.", IM_YES},
	{"peer-ca-file", FT_STR, OFF(peer_ca_file), "", NULL, S_HIDDEN, "''", "DEPRECATED: Path to the peer server TLS CA file.", IM_YES},
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
/* clang-format on */

const size_t flag_count = sizeof flag_table / sizeof flag_table[0];

const struct flag_def *flag_lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < flag_count; i++)
		if (strlen(flag_table[i].name) == n && memcmp(flag_table[i].name, name, n) == 0)
			return &flag_table[i];
	return NULL;
}

const char *flag_unsupported_why(const struct flag_def *f)
{
	if (f->impl == IM_V2)
		return "not supported (cetcd always serves the v2 API)";
	if (f->impl == IM_NOOP)
		return "accepted but has no effect in cetcd (v3/etcd-internal setting)";
	return "not supported yet";
}
