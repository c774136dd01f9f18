/* http_reply.c - answers and etcd headers (see http_reply.h). */
#include "api/http_reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "member/node.h"
#include "member/server.h"
#include "kv/v2err.h"

struct MHD_Response *reply_from_buf(struct buf *b, const char *content_type)
{
	size_t len;
	char *data = buf_steal(b, &len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (content_type)
		MHD_add_response_header(resp, "Content-Type", content_type);
	return resp;
}

struct MHD_Response *reply_from_text(const char *text, const char *content_type)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, text);
	return reply_from_buf(&b, content_type);
}

void reply_header_u64(struct MHD_Response *resp, const char *name, uint64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	MHD_add_response_header(resp, name, tmp);
}

void reply_cluster_id(struct http_req *r, struct MHD_Response *resp)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%" PRIx64, r->srv->cluster.id);
	MHD_add_response_header(resp, "X-Etcd-Cluster-Id", tmp);
}

void reply_etcd_headers(struct http_req *r, struct MHD_Response *resp, uint64_t etcd_index)
{
	reply_cluster_id(r, resp);
	reply_header_u64(resp, "X-Etcd-Index", etcd_index);
	reply_header_u64(resp, "X-Raft-Index", node_applied_index(r->srv->node));
	reply_header_u64(resp, "X-Raft-Term", node_term(r->srv->node));
}

void reply_v2_error(struct http_req *r, int code, const char *cause, uint64_t index)
{
	reply_v2_error_len(r, code, cause, cause ? strlen(cause) : 0, index);
}

void reply_v2_error_len(struct http_req *r, int code, const char *cause, size_t cause_len,
			uint64_t index)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"errorCode\":");
	buf_put_u64(&b, (uint64_t)code);
	buf_puts(&b, ",\"message\":");
	const char *msg = v2err_message(code);
	buf_put_json_str(&b, msg, strlen(msg));
	if (cause && cause_len > 0) {
		buf_puts(&b, ",\"cause\":");
		buf_put_json_str(&b, cause, cause_len);
	}
	buf_puts(&b, ",\"index\":");
	buf_put_u64(&b, index);
	buf_puts(&b, "}\n");
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
	buf_putc(&b, '}');	/* json.Marshal: no trailing newline */
	struct MHD_Response *resp = reply_from_buf(&b, "application/json");
	http_respond(r, status, resp);
}

void reply_plain(struct http_req *r, unsigned status, const char *msg)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, msg);
	buf_putc(&b, '\n');
	struct MHD_Response *resp = reply_from_buf(&b, "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_respond(r, status, resp);
}

void reply_method_not_allowed(struct http_req *r, const char *allow)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "Method Not Allowed\n");
	struct MHD_Response *resp = reply_from_buf(&b, "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Allow", allow);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_respond(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
}
