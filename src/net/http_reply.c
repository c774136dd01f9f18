/* http_reply.c - plain HTTP answers (see http_reply.h). */
#include "net/http_reply.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "net/http_server.h"

/* The last response reply_from_buf made, while it lives, with its body
 * (loop thread only), for reply_body_len. */
static const struct MHD_Response *last_resp;
static const void *last_data;
static size_t last_len;

size_t reply_body_len(const struct MHD_Response *resp)
{
	return resp != NULL && resp == last_resp ? last_len : SIZE_MAX;
}

/* MHD frees a response's body: the slot forgets it (its address may be
 * reused for another response). */
static void free_body(void *data)
{
	if (data == last_data) {
		last_resp = NULL;
		last_data = NULL;
	}
	free(data);
}

struct MHD_Response *reply_from_buf(struct buf *b, const char *content_type)
{
	size_t len;
	char *data = buf_steal(b, &len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer_with_free_callback_cls(len, data, free_body, data);
	last_resp = resp;
	last_data = data;
	last_len = len;
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
