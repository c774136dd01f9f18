/* proxy.h - cetcd in proxy mode (--proxy on|readonly): a stateless HTTP
 * proxy in front of a cluster. It never joins Raft and keeps nothing but
 * <data-dir>/proxy/cluster (the peer URLs it last learnt). See doc/proxy.md
 * for what it does beyond etcd's proxy. */
#ifndef CETCD_PROXY_H
#define CETCD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_tls;
struct http_client_tls;

struct proxy_opts {
	bool readonly;
	const char *data_dir;
	char *const *listen_urls; /* client listeners */
	size_t n_listen_urls;
	char *const *self_urls; /* URLs that reach this proxy: never endpoints */
	size_t n_self_urls;
	/* where to find the cluster when <data-dir>/proxy/cluster does not
	 * say (--initial-cluster's peer URLs) */
	char *const *peer_urls;
	size_t n_peer_urls;
	uint64_t failure_wait_ms;
	uint64_t refresh_interval_ms;
	unsigned dial_timeout_ms;
	unsigned write_timeout_ms; /* 0: none */
	unsigned read_timeout_ms;  /* 0: none */
	/* TLS, as etcd 3.4's proxy: https:// client listeners with the client
	 * material (--cert-file...; NULL: refused); towards the members'
	 * client URLs the client certificate and CA (--cert-file, --key-file,
	 * --trusted-ca-file; etcd falls back to the --peer-* set when no
	 * client certificate is given), towards their peer URLs (GET /members)
	 * the --peer-* set. NULL: libcurl's defaults. */
	const struct http_tls *client_tls;
	const struct http_client_tls *member_tls;
	const struct http_client_tls *peer_tls;
};

/* Runs the proxy until SIGINT or SIGTERM. Returns the exit code: 0, or 1
 * after logging why it could not start. */
int proxy_run(const struct proxy_opts *o);

#endif /* CETCD_PROXY_H */
