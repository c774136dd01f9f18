/* keys_stats.h - the /v2/keys request counters behind etcd 3.4's v2http
 * metrics (etcd_http_received_total, etcd_http_failed_total,
 * etcd_http_successful_duration_seconds). http_keys.c counts every
 * request it parsed (watches excluded, as etcd); http_metrics.c renders.
 * Loop thread only. */
#ifndef CETCD_KEYS_STATS_H
#define CETCD_KEYS_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/prom.h"

/* etcd's method labels: the request method, QGET for GET with quorum=true. */
enum keys_stats_method {
	KS_GET,
	KS_QGET,
	KS_HEAD,
	KS_PUT,
	KS_POST,
	KS_DELETE,
	KS_N_METHODS
};

/* etcd's buckets: ExponentialBuckets(0.0005, 2, 13), 0.5 ms .. 2.048 s */
#define KEYS_HIST_START 0.0005
#define KEYS_HIST_N	13

struct keys_stats_failed {
	enum keys_stats_method method;
	unsigned code;
	uint64_t count;
};

struct keys_stats {
	uint64_t received[KS_N_METHODS];
	struct prom_hist ok_seconds[KS_N_METHODS];
	struct keys_stats_failed failed[KS_N_METHODS * 8];
	unsigned n_failed;
};

const char *keys_stats_method_name(enum keys_stats_method m);
enum keys_stats_method keys_stats_method_of(const char *http_method, bool quorum);
/* A parsed request that is not a watch. */
void keys_stats_received(enum keys_stats_method m);
/* Its answer: status < 400 observes the duration, else counts (m, status). */
void keys_stats_done(enum keys_stats_method m, unsigned status, double seconds);
const struct keys_stats *keys_stats_get(void);

#endif /* CETCD_KEYS_STATS_H */
