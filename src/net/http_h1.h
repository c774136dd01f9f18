/* http_h1.h - private to net/: the HTTP client's own engine for the hot
 * path, plain http:// calls to an IPv4 address (every call a proxy or a
 * member's peer transport makes inside a cluster on IP URLs). HTTP/1.1 over
 * non-blocking sockets in the loop, kept-alive connections pooled per
 * address. libcurl (http_client.c) serves everything else: host names, TLS,
 * streamed request bodies.
 *
 * Why not libcurl for these: per call it costs ~15 KiB while waiting (an idle
 * long poll), and a proxied GET spent a third of the proxy's CPU in it (a
 * liveness poll() per reused connection, three epoll_ctl, easy-handle setup);
 * see doc/proxy.md. The contract is http_client.h's, unchanged. */
#ifndef CETCD_HTTP_H1_H
#define CETCD_HTTP_H1_H

#include <stdbool.h>

#include "net/http_client.h"

struct loop;
struct h1_engine;

/* The first member of both engines' call structs: which engine owns it. */
enum http_engine_kind {
	HTTP_ENGINE_CURL = 1,
	HTTP_ENGINE_H1 = 2,
};

struct h1_engine *h1_engine_new(struct loop *l);
/* Closes every connection and frees every call without calling back. */
void h1_engine_free(struct h1_engine *e);

/* Calls resumed (or failed at start) wait for the loop: http_client's
 * timeout source asks and runs them. */
bool h1_engine_has_pending(const struct h1_engine *e);
void h1_engine_run_pending(struct h1_engine *e);

/* Whether spec is a call this engine takes (http://IPv4[:port], no body
 * reader). */
bool h1_accepts(const struct http_call_spec *spec);
/* Starts the call (connecting or taking an idle connection). */
struct http_call *h1_call_start(struct h1_engine *e, const struct http_call_spec *spec);
void h1_call_cancel(struct http_call *call);
void h1_call_pause(struct http_call *call);
void h1_call_resume(struct http_call *call);
bool h1_call_sent(const struct http_call *call);

#endif /* CETCD_HTTP_H1_H */
