/* http_reply.h - building answers: JSON and text bodies, etcd's headers
 * (X-Etcd-Index, X-Raft-Index, X-Raft-Term, X-Etcd-Cluster-Id) and v2 error
 * bodies. Loop thread only. */
#ifndef CETCD_HTTP_REPLY_H
#define CETCD_HTTP_REPLY_H

#include <microhttpd.h>
#include <stdint.h>

#include "util/buf.h"
#include "net/http_server.h"
#include "kv/store.h"

/* A response whose body is b's bytes (b is emptied: the response owns them). */
struct MHD_Response *reply_from_buf(struct buf *b, const char *content_type);
struct MHD_Response *reply_from_text(const char *text, const char *content_type);
void reply_header_u64(struct MHD_Response *resp, const char *name, uint64_t v);
/* X-Etcd-Cluster-Id: <hex> */
void reply_cluster_id(struct http_req *r, struct MHD_Response *resp);
/* X-Etcd-Index, X-Raft-Index, X-Raft-Term (and the cluster id). */
void reply_etcd_headers(struct http_req *r, struct MHD_Response *resp, uint64_t etcd_index);

/* etcd's v2 error: {"errorCode":..,"message":..,"cause":..,"index":..}\n with
 * its HTTP status, X-Etcd-Index and the cluster id. */
void reply_v2_error(struct http_req *r, int code, const char *cause, uint64_t index);
/* Same with a cause of cause_len bytes (it may hold NULs: compare failures
 * quote values). */
void reply_v2_error_len(struct http_req *r, int code, const char *cause, size_t cause_len,
			uint64_t index);
void reply_store_error(struct http_req *r, const struct store_error *err);
/* {"message":"..."} with status (members/admin errors). */
void reply_message(struct http_req *r, unsigned status, const char *message);
/* Go's http.Error: text/plain body "msg\n". */
void reply_plain(struct http_req *r, unsigned status, const char *msg);
/* 405 with an Allow header, as Go's allowMethod. */
void reply_method_not_allowed(struct http_req *r, const char *allow);

#endif /* CETCD_HTTP_REPLY_H */
