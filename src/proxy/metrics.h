/* metrics.h - the proxy's counters, with etcd 3.4's httpproxy names
 * (etcd_proxy_requests_total, etcd_proxy_handled_total,
 * etcd_proxy_dropped_total, etcd_proxy_handling_duration_seconds), and its
 * GET /metrics (with the process_* family). forward.c counts the events as
 * they happen; nothing here reads a member. Loop thread only. */
#ifndef CETCD_PROXY_METRICS_H
#define CETCD_PROXY_METRICS_H

#include <stdint.h>

#include "util/prom.h"

struct http_req;

enum proxy_method {
	PM_GET,
	PM_HEAD,
	PM_PUT,
	PM_POST,
	PM_DELETE,
	PM_PATCH,
	PM_OTHER,
	PM_N
};

/* etcd's forwardingError values */
enum proxy_drop {
	PD_ZERO_ENDPOINTS,
	PD_FAILED_SENDING,
	PD_FAILED_RESPONSE,
	PD_N
};

#define PROXY_HIST_START 0.0005 /* etcd's: ExponentialBuckets(0.0005, 2, 13) */
#define PROXY_HIST_N	 13
#define PROXY_MAX_CODES	 48 /* distinct (method, status) pairs kept */

struct proxy_handled {
	enum proxy_method method;
	unsigned code;
	uint64_t count;
};

struct proxy_metrics {
	uint64_t requests[PM_N];
	uint64_t dropped[PM_N][PD_N];
	struct prom_hist seconds[PM_N];
	struct proxy_handled handled[PROXY_MAX_CODES];
	unsigned n_handled;
};

/* The request reached the proxy handler (etcd: ServeHTTP). */
void proxy_metrics_request(struct proxy_metrics *m, const char *method);
/* A member's answer (status) went back to the client after `seconds`. */
void proxy_metrics_handled(struct proxy_metrics *m, const char *method, unsigned status,
			   double seconds);
void proxy_metrics_dropped(struct proxy_metrics *m, const char *method, enum proxy_drop why);

/* The route handler of GET /metrics (r->ctx is the struct proxy). */
void proxy_metrics_serve(struct http_req *r);

#endif /* CETCD_PROXY_METRICS_H */
