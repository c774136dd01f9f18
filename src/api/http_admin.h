/* http_admin.h - the cluster and admin routes of the client listeners
 * (http_admin.c): /health, /v2/members, /v2/machines, /v2/stats/{self,store,
 * leader}, /debug/vars. routes.c checks the methods before they run. Loop
 * thread only. */
#ifndef CETCD_HTTP_ADMIN_H
#define CETCD_HTTP_ADMIN_H

#include "net/http_server.h"

void http_admin_health(struct http_req *r);
/* /health answers so far: 200 (a leader) and 503 (etcd_server_health_*). */
void http_admin_health_counts(uint64_t *ok, uint64_t *failed);
void http_admin_members(struct http_req *r);
void http_admin_machines(struct http_req *r);
void http_admin_stats_self(struct http_req *r);
void http_admin_stats_store(struct http_req *r);
void http_admin_stats_leader(struct http_req *r);
void http_admin_debug_vars(struct http_req *r);

#endif /* CETCD_HTTP_ADMIN_H */
