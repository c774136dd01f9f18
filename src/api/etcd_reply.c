/* etcd_reply.c - etcd's headers and error bodies (see etcd_reply.h). */
#include "api/etcd_reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "api/routes.h"
#include "kv/v2err.h"
#include "member/node.h"
#include "member/server.h"

void reply_cluster_id(struct http_req *r, struct MHD_Response *resp)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%" PRIx64, server_members(api_server(r))->id);
	MHD_add_response_header(resp, "X-Etcd-Cluster-Id", tmp);
}

void reply_etcd_headers(struct http_req *r, struct MHD_Response *resp, uint64_t etcd_index)
{
	struct node *n = api_server(r)->node;
	reply_cluster_id(r, resp);
	reply_header_u64(resp, "X-Etcd-Index", etcd_index);
	reply_header_u64(resp, "X-Raft-Index", node_applied_index(n));
	reply_header_u64(resp, "X-Raft-Term", node_term(n));
}

void reply_v2_error(struct http_req *r, int code, const char *cause, uint64_t index)
{
	reply_v2_error_len(r, code, cause, cause ? strlen(cause) : 0, index);
}

void v2_error_body(struct buf *b, int code, const char *cause, size_t cause_len, uint64_t index)
{
	buf_puts(b, "{\"errorCode\":");
	buf_put_u64(b, (uint64_t)code);
	buf_puts(b, ",\"message\":");
	const char *msg = v2err_message(code);
	buf_put_json_str(b, msg, strlen(msg));
	if (cause && cause_len > 0) {
		buf_puts(b, ",\"cause\":");
		buf_put_json_str(b, cause, cause_len);
	}
	buf_puts(b, ",\"index\":");
	buf_put_u64(b, index);
	buf_puts(b, "}\n");
}

void reply_v2_error_len(struct http_req *r, int code, const char *cause, size_t cause_len,
			uint64_t index)
{
	struct buf b = BUF_INIT;
	v2_error_body(&b, code, cause, cause_len, index);
	struct MHD_Response *resp = reply_from_buf(&b, "application/json");
	reply_cluster_id(r, resp);
	reply_header_u64(resp, "X-Etcd-Index", index);
	http_respond(r, (unsigned)v2err_http_status(code), resp);
}

void reply_store_error(struct http_req *r, const struct store_error *err)
{
	size_t n = err->cause_len ? err->cause_len : (err->cause ? strlen(err->cause) : 0);
	reply_v2_error_len(r, err->code, err->cause, n, err->index);
}

void reply_message(struct http_req *r, unsigned status, const char *message)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"message\":");
	buf_put_json_str(&b, message, strlen(message));
	buf_putc(&b, '}'); /* json.Marshal: no trailing newline */
	struct MHD_Response *resp = reply_from_buf(&b, "application/json");
	http_respond(r, status, resp);
}
