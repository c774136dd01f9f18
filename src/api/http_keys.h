/* http_keys.h - the /v2/keys route (http_keys.c) and the watch machinery
 * it hands wait=true requests to (http_watch.c). */
#ifndef CETCD_HTTP_KEYS_H
#define CETCD_HTTP_KEYS_H

#include "net/http_server.h"
#include "kv/kv_parse.h"

struct watch_state;

/* /v2/keys and below; routes.c admits HEAD, GET, PUT, POST, DELETE only. */
void http_keys_handle(struct http_req *r);

/* Starts a long-poll (or stream) watch for a parsed GET ?wait=true. Answers
 * at once from history (returns NULL), or queues a chunked response whose body
 * is written when the watcher fires and returns its state (free it with
 * http_watch_free when the request completes). */
struct watch_state *http_watch_start(struct http_req *r, const struct kv_request *kv);
void http_watch_free(struct http_req *r, struct watch_state *w);

#endif /* CETCD_HTTP_KEYS_H */
