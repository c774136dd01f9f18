/* metrics.c - the proxy's counters and GET /metrics (see metrics.h). */
#include "proxy/metrics.h"

#include <stdio.h>
#include <string.h>

#include "net/http_reply.h"
#include "net/http_server.h"
#include "proxy/proxy_private.h"

static const char *const method_names[PM_N] = {"GET",	 "HEAD",  "PUT",  "POST",
					       "DELETE", "PATCH", "OTHER"};
static const char *const drop_names[PD_N] = {"zero_endpoints", "failed_sending_request",
					     "failed_getting_response"};

static enum proxy_method method_of(const char *method)
{
	for (int i = 0; i < PM_OTHER; i++)
		if (strcmp(method, method_names[i]) == 0)
			return (enum proxy_method)i;
	return PM_OTHER;
}

void proxy_metrics_request(struct proxy_metrics *m, const char *method)
{
	m->requests[method_of(method)]++;
}

void proxy_metrics_handled(struct proxy_metrics *m, const char *method, unsigned status,
			   double seconds)
{
	enum proxy_method pm = method_of(method);
	prom_hist_observe(&m->seconds[pm], PROXY_HIST_START, PROXY_HIST_N, seconds);
	for (unsigned i = 0; i < m->n_handled; i++)
		if (m->handled[i].method == pm && m->handled[i].code == status) {
			m->handled[i].count++;
			return;
		}
	if (m->n_handled < PROXY_MAX_CODES)
		m->handled[m->n_handled++] = (struct proxy_handled){pm, status, 1};
}

void proxy_metrics_dropped(struct proxy_metrics *m, const char *method, enum proxy_drop why)
{
	m->dropped[method_of(method)][why]++;
}

static void put(struct buf *b, const struct proxy_metrics *m)
{
	char labels[96];
	struct prom_vec dropped = PROM_VEC("etcd_proxy_dropped_total", "counter",
					   "Counter of requests dropped on the proxy.");
	for (int i = 0; i < PM_N; i++)
		for (int d = 0; d < PD_N; d++)
			if (m->dropped[i][d]) {
				snprintf(labels, sizeof(labels),
					 "method=\"%s\",proxying_error=\"%s\"", method_names[i],
					 drop_names[d]);
				prom_vec_u64(b, &dropped, labels, m->dropped[i][d]);
			}
	struct prom_vec handled =
		PROM_VEC("etcd_proxy_handled_total", "counter",
			 "Counter of requests fully handled (by authoratitave servers)");
	for (unsigned i = 0; i < m->n_handled; i++) {
		snprintf(labels, sizeof(labels), "code=\"%u\",method=\"%s\"", m->handled[i].code,
			 method_names[m->handled[i].method]);
		prom_vec_u64(b, &handled, labels, m->handled[i].count);
	}
	struct prom_vec seconds = PROM_VEC("etcd_proxy_handling_duration_seconds", "histogram",
					   "Bucketed histogram of handling time of successful "
					   "events (non-watches), by method (GET/PUT etc.).");
	for (int i = 0; i < PM_N; i++)
		if (m->seconds[i].count) {
			snprintf(labels, sizeof(labels), "method=\"%s\"", method_names[i]);
			prom_vec_hist(b, &seconds, labels, &m->seconds[i], PROXY_HIST_START,
				      PROXY_HIST_N);
		}
	struct prom_vec requests = PROM_VEC("etcd_proxy_requests_total", "counter",
					    "Counter requests incoming by method.");
	for (int i = 0; i < PM_N; i++)
		if (m->requests[i]) {
			snprintf(labels, sizeof(labels), "method=\"%s\"", method_names[i]);
			prom_vec_u64(b, &requests, labels, m->requests[i]);
		}
}

void proxy_metrics_serve(struct http_req *r)
{
	struct proxy *p = r->ctx;
	struct buf b = BUF_INIT;
	put(&b, &p->metrics);
	prom_process(&b);
	http_respond(r, MHD_HTTP_OK, reply_from_buf(&b, PROM_CONTENT_TYPE));
}
