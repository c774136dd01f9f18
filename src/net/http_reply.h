/* http_reply.h - building plain HTTP answers: a response from a buffer or a
 * string, a numeric header, Go's http.Error, 405 with Allow. Nothing here
 * knows what is served. Loop thread only. */
#ifndef CETCD_HTTP_REPLY_H
#define CETCD_HTTP_REPLY_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct http_req;

/* A response whose body is b's bytes (b is emptied: the response owns them). */
struct MHD_Response *reply_from_buf(struct buf *b, const char *content_type);
struct MHD_Response *reply_from_text(const char *text, const char *content_type);
/* The body length of resp if it is the last response reply_from_buf (or
 * reply_from_text) made, else SIZE_MAX (unknown). Every response whose
 * body may be long is made here (the others are empty or streamed), so an
 * answer known short is one. */
size_t reply_body_len(const struct MHD_Response *resp);
void reply_header_u64(struct MHD_Response *resp, const char *name, uint64_t v);
/* Go's http.Error: text/plain body "msg\n". */
void reply_plain(struct http_req *r, unsigned status, const char *msg);
/* 405 with an Allow header, as Go's allowMethod. */
void reply_method_not_allowed(struct http_req *r, const char *allow);

#endif /* CETCD_HTTP_REPLY_H */
