/* etcd_reply.h - etcd's side of an answer: its headers (X-Etcd-Index,
 * X-Raft-Index, X-Raft-Term, X-Etcd-Cluster-Id), v2 error bodies, store
 * errors and {"message":..} errors. Plain answers (a body, 405, http.Error)
 * are net/http_reply.h's. Loop thread only. */
#ifndef CETCD_ETCD_REPLY_H
#define CETCD_ETCD_REPLY_H

#include <microhttpd.h>
#include <stdint.h>

#include "kv/store.h"
#include "net/http_reply.h"
#include "net/http_server.h"

/* X-Etcd-Cluster-Id: <hex> (an http_headers_fn: etcd names the cluster on
 * every peer answer and every members answer). */
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
/* Appends etcd's error body ({"errorCode":..,"message":..,"cause":..,"index":..}
 * and a newline) to b; cause may be NULL. */
void v2_error_body(struct buf *b, int code, const char *cause, size_t cause_len, uint64_t index);
/* {"message":"..."} with status (members/admin errors). */
void reply_message(struct http_req *r, unsigned status, const char *message);

#endif /* CETCD_ETCD_REPLY_H */
