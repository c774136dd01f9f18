/* http_metrics.h - GET /metrics: the member's figures in Prometheus text
 * exposition (format 0.0.4), with etcd 3.4's v2-era names, types and help
 * texts and cetcd's own group-commit figures (doc/metrics.md). It only
 * renders: every counter is kept by the module that owns its event. Served
 * on the client listeners and on --listen-metrics-urls (routes.c). */
#ifndef CETCD_HTTP_METRICS_H
#define CETCD_HTTP_METRICS_H

#include "net/http_server.h"

void http_metrics_handle(struct http_req *r);

#endif /* CETCD_HTTP_METRICS_H */
