/* proxy.h - cetcd in proxy mode (--proxy on|readonly): a stateless HTTP
 * proxy in front of a cluster. It never joins Raft and keeps nothing but
 * <data-dir>/proxy/cluster (the peer URLs it last learnt). See doc/proxy.md
 * for what it does beyond etcd's proxy. */
#ifndef CETCD_PROXY_H
#define CETCD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
};

/* Runs the proxy until SIGINT or SIGTERM. Returns the exit code: 0, or 1
 * after logging why it could not start. */
int proxy_run(const struct proxy_opts *o);

#endif /* CETCD_PROXY_H */
