/* config.h - cetcd's server configuration: etcd 3.4 command-line flags and
 * ETCD_* environment variables, parsed and validated the way etcd 3.4.23
 * (Go `flag` package + etcdmain/embed) does, plus the usage text. The
 * public face for main.c; the parts are listed in config_private.h.
 *
 * Ownership: every pointer inside a struct config (strings, lists) is
 * malloc'd and owned by the config; config_free() releases all of it.
 * Strings are never NULL after config_parse() (empty string = unset).
 *
 * Log lines (capnslog format) go through util/log.h; config_parse applies
 * --log-level / --debug to it once the logging flags validate, as etcd's
 * setupLogging does. No environ access (envp is passed in), no network
 * (the "default host" detection etcd does for 0.0.0.0 listen URLs is left
 * to the caller). */
#ifndef CETCD_CONFIG_H
#define CETCD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/url.h"

#define CETCD_VERSION	   "0.1.0"
#define CETCD_ETCD_VERSION "3.4.23" /* the etcd version cetcd emulates */

/* A list of strings (comma-separated flag values). Owned. */
struct str_list {
	char **v;
	size_t n;
};

struct config_flag_state;

/* A flag that was set (to a non-default value) but that cetcd does not
 * implement, or that has no effect in a v2-only server. */
struct config_unsupported_flag {
	const char *flag; /* flag name without dashes, static */
	char *value;	  /* the value as given, owned */
	const char *why;  /* static text: "not supported yet", ... */
};

struct config {
	/* --- member --- */
	char *name;			     /* --name, "default" */
	char *data_dir;			     /* --data-dir, "" -> "${name}.etcd" after parse */
	bool data_dir_defaulted;	     /* data_dir was computed from name */
	char *wal_dir;			     /* --wal-dir, "" */
	uint64_t snapshot_count;	     /* --snapshot-count, 10000 (etcd 2.3 value) */
	uint64_t heartbeat_ms;		     /* --heartbeat-interval, 100 */
	uint64_t election_ms;		     /* --election-timeout, 1000 */
	bool initial_election_tick_advance;  /* true */
	struct url_list listen_peer_urls;    /* http://localhost:2380 */
	struct url_list listen_client_urls;  /* http://localhost:2379 */
	struct url_list listen_metrics_urls; /* empty */
	uint64_t max_snapshots;		     /* 5, 0 = unlimited */
	uint64_t max_wals;		     /* 5, 0 = unlimited */
	int64_t quota_backend_bytes;	     /* 0 (v3 backend only, accepted) */
	int64_t backend_batch_interval_ns;   /* 0 */
	int64_t backend_batch_limit;	     /* 0 */
	uint64_t max_txn_ops;		     /* 128 */
	uint64_t max_request_bytes;	     /* 1572864 */
	uint64_t v2_quota_bytes;	     /* cetcd: 536870912, 0 = no quota */
	uint64_t v2_watch_window;	     /* cetcd: 1000 events */
	uint64_t max_client_conns;	     /* cetcd: 0 = RLIMIT_NOFILE - reserve */
	uint32_t max_concurrent_streams;     /* UINT32_MAX */
	int64_t grpc_keepalive_min_time_ns;  /* 5s */
	int64_t grpc_keepalive_interval_ns;  /* 2h */
	int64_t grpc_keepalive_timeout_ns;   /* 20s */

	/* --- clustering --- */
	struct url_list initial_advertise_peer_urls; /* http://localhost:2380 */
	struct url_list advertise_client_urls;	     /* http://localhost:2379; emptied
						 * when only --listen-client-urls is set */
	char *initial_cluster;			     /* "default=http://localhost:2380", recomputed
					 * from --name as etcd does; "" with discovery */
	char *initial_cluster_state;		     /* "new" | "existing" */
	char *initial_cluster_token;		     /* "etcd-cluster" */
	char *discovery;			     /* "" */
	char *discovery_fallback;		     /* "proxy" | "exit" */
	char *discovery_proxy;			     /* "" */
	char *discovery_srv;			     /* "" */
	char *discovery_srv_name;		     /* "" */
	bool strict_reconfig_check;		     /* true (etcd 3.4) */
	bool enable_v2;				     /* true: cetcd always serves v2 */
	bool pre_vote;				     /* false */
	char *auto_compaction_retention;	     /* "0" */
	char *auto_compaction_mode;		     /* "periodic" | "revision" */

	/* --- v2 proxy --- */
	char *proxy;			    /* "off" | "readonly" | "on" */
	uint64_t proxy_failure_wait_ms;	    /* 5000 */
	uint64_t proxy_refresh_interval_ms; /* 30000 */
	uint64_t proxy_dial_timeout_ms;	    /* 1000 */
	uint64_t proxy_write_timeout_ms;    /* 5000 */
	uint64_t proxy_read_timeout_ms;	    /* 0 */

	/* --- security --- */
	char *cert_file, *key_file, *client_crl_file;
	char *client_cert_allowed_hostname, *trusted_ca_file;
	bool client_cert_auth, auto_tls;
	char *ca_file, *peer_ca_file; /* deprecated: trusted CA + client cert auth */
	char *peer_cert_file, *peer_key_file, *peer_trusted_ca_file;
	char *peer_crl_file, *peer_cert_allowed_cn, *peer_cert_allowed_hostname;
	bool peer_client_cert_auth, peer_auto_tls;
	bool experimental_peer_skip_client_san_verification;
	struct str_list cipher_suites;	/* empty */
	struct url_list cors_urls;	/* --cors as parsed; use cors below */
	struct str_list cors;		/* allowed origins, sorted; contains "*" = all */
	struct str_list host_whitelist; /* sorted unique; "*" = all */

	/* --- auth (v3) --- */
	char *auth_token;	 /* "simple" */
	uint64_t bcrypt_cost;	 /* 10 */
	uint64_t auth_token_ttl; /* 300 */

	/* --- profiling / monitoring --- */
	bool enable_pprof;
	char *metrics;		  /* "basic" */
	bool enable_grpc_gateway; /* true */

	/* --- logging --- */
	char *logger;		     /* "capnslog" | "zap" */
	struct str_list log_outputs; /* {"default"} */
	struct str_list log_output;  /* deprecated --log-output, {"default"} */
	char *log_level;	     /* "info" */
	bool debug;
	char *log_package_levels; /* "" */

	/* --- experimental --- */
	bool experimental_initial_corrupt_check;
	int64_t experimental_corrupt_check_time_ns;	/* 0 */
	char *experimental_enable_v2v3;			/* "" */
	char *experimental_backend_bbolt_freelist_type; /* "array" */
	bool experimental_enable_lease_checkpoint;
	bool experimental_enable_lease_checkpoint_persist;
	int64_t experimental_compaction_batch_limit;		/* 1000 */
	int64_t experimental_watch_progress_notify_interval_ns; /* 10m */
	int64_t experimental_warning_apply_duration_ns;		/* 100ms */

	/* --- unsafe --- */
	bool unsafe_no_fsync;
	bool force_new_cluster;

	/* --- misc --- */
	char *config_file; /* --config-file / ETCD_CONFIG_FILE: a YAML file instead of flags */
	bool print_version;

	/* Flags cetcd accepts but does not act on (see config_unsupported). */
	struct config_unsupported_flag *unsupported;
	size_t n_unsupported;

	/* Exit status etcd uses for the error config_parse reported:
	 * 2 = bad flag syntax / bad flag value / unknown flag (Go flag package),
	 * 1 = everything else (stray argument, bad env value, validation,
	 *     env var shadowed by a flag), 0 after --help / --version. */
	int exit_code;

	struct config_flag_state *flags; /* private: per flag-table row, how it
						 * was set (config_private.h) */
};

/* Parses argv[1..argc-1] and the ETCD_* entries of envp (a NULL-terminated
 * "KEY=value" array, may be NULL) into *c (which need not be initialised;
 * always call config_free afterwards, whatever the result).
 *
 * Returns
 *    0  run the server with *c (info/warning lines about env vars, ignored
 *       flags and the default data dir were written to err);
 *    1  already answered: --version (to out) or -h/--help (usage to err,
 *       flag list to out); exit with c->exit_code (0);
 *   -1  error; the etcd-style message is already on err; exit with
 *       c->exit_code (2 for flag-syntax errors, otherwise 1). */
int config_parse(struct config *c, int argc, char *const argv[], char *const envp[], FILE *out,
		 FILE *err);

void config_free(struct config *c);

/* Logs one warning per entry of c->unsupported:
 * "W | etcdmain: flag --proxy=on is not supported yet". */
void config_unsupported(const struct config *c);

/* True when the flag (name without dashes) was given on the command line
 * or through its ETCD_* variable. */
bool config_is_set(const struct config *c, const char *flag);

/* Env var name for a flag: "ETCD_" + upper-case, '-' -> '_'. Writes into
 * dst (NUL-terminated, truncated to cap). */
void config_flag_to_env(const char *flag, char *dst, size_t cap);

/* Parses an --initial-cluster value as etcd's types.NewURLsMap. On error
 * returns -1 with "error setting up initial cluster: <why>" in errbuf. */
int config_initial_cluster_parse(const char *s, struct url_map *out, char *errbuf, size_t errcap);

/* Bootstrap check etcd runs when starting a new member: the local name
 * must be in --initial-cluster and its URLs must equal
 * --initial-advertise-peer-urls (string comparison, no DNS resolution).
 * Returns 0, or -1 with etcd's message in errbuf. */
int config_check_initial_cluster(const struct config *c, const struct url_map *cl, char *errbuf,
				 size_t errcap);

#endif /* CETCD_CONFIG_H */
