/* http_client.h - an asynchronous HTTP client inside cetcd's loop (no
 * thread of its own), with two engines behind one contract: plain http://
 * calls to an IPv4 address without a body reader (every call inside a
 * cluster on IP URLs) run on net's own HTTP/1.1 engine (http_h1.c, the hot
 * path); everything else (host names, TLS, streamed bodies) on libcurl's
 * multi interface, its sockets and timer driven by struct loop. Knows
 * nothing of Raft, peers or members; the peer transport
 * (member/peer_send.c) and the proxy are written on top of it.
 *
 * A call is one request and its response: started with a spec (method, URL,
 * headers, body as bytes or a read callback, timeouts, callbacks), then the
 * response head, body chunks and completion are delivered from the loop.
 * Connections are kept alive and reused by later calls to the same host
 * (per client and engine, at most 128 idle ones).
 *
 * Callbacks and reentrancy (loop thread only):
 *   - No API call below ever calls back into the caller; every callback
 *     runs from the loop (fd events and a timeout source the client
 *     registers).
 *   - on_head, on_data and the body reader run inside the engine. There any
 *     call may be paused, resumed or cancelled, but no call may be started
 *     and the client must not be freed.
 *   - on_done runs outside the engine: it may start, pause and cancel other
 *     calls; the call itself is freed when on_done returns.
 *   - http_call_cancel never calls back, for any call, from anywhere.
 *
 * libcurl: curl_global_init is not thread-safe. main() (or a test) calls
 * http_client_global_init() once before starting threads and
 * http_client_global_cleanup() once at exit. */
#ifndef CETCD_HTTP_CLIENT_H
#define CETCD_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/http.h"

struct loop;
struct http_client;
struct http_call;

/* Returns 0, or -1 if libcurl could not be initialized. */
int http_client_global_init(void);
void http_client_global_cleanup(void);

/* A client whose transfers run in loop l. Returns NULL if libcurl refuses.
 * Free it before the loop. */
struct http_client *http_client_new(struct loop *l);
/* Cancels every call in flight, calling nothing back. Not from a callback. */
void http_client_free(struct http_client *c);

/* TLS towards https:// URLs (libcurl with GnuTLS). NULL and "" mean unset. */
struct http_client_tls {
	const char *ca_file;   /* servers must have a certificate from it (else: system CAs) */
	const char *cert_file; /* the client certificate presented, with key_file */
	const char *key_file;
	bool insecure; /* servers are not verified (--peer-auto-tls, as etcd) */
};
/* Every later call of c uses tls (copied; NULL: libcurl's defaults). */
void http_client_set_tls(struct http_client *c, const struct http_client_tls *tls);
/* Applies tls to a libcurl easy handle (a CURL *), for a blocking caller. */
void http_client_tls_apply(void *easy, const struct http_client_tls *tls);

/* ---- a call ------------------------------------------------------------------ */

/* The final response's status line and headers (1xx responses are skipped).
 * Everything is valid during the callback only. */
struct http_response_head {
	long status;
	const struct http_header *headers; /* in the order received */
	size_t n_headers;
};

enum http_call_error {
	HTTP_CALL_OK = 0,  /* a response arrived complete, whatever its status */
	HTTP_CALL_CONNECT, /* could not resolve or connect */
	HTTP_CALL_TIMEOUT, /* connect_ms, total_ms or the stall limit passed */
	HTTP_CALL_ABORTED, /* the body reader returned HTTP_READ_ABORT */
	HTTP_CALL_FAILED,  /* anything else (connection lost, bad response...) */
};

struct http_call_result {
	enum http_call_error error;
	const char *message; /* libcurl's words for the error; NULL when HTTP_CALL_OK */
	long status;	     /* the final response's status, 0 if none arrived */
	/* Some of the request was written to a connection: false proves the
	 * server never saw it (a write may then be sent elsewhere). */
	bool sent;
	uint64_t total_us; /* from start to completion */
};

/* Return values of on_data and the body reader. */
#define HTTP_PAUSE	1	      /* on_data: chunk not taken; delivered again after resume */
#define HTTP_READ_PAUSE ((ssize_t)-1) /* reader: nothing now; call again after resume */
#define HTTP_READ_ABORT ((ssize_t)-2) /* reader: fail the call (HTTP_CALL_ABORTED) */

typedef void (*http_head_fn)(void *ctx, const struct http_response_head *head);
/* Returns 0 (the chunk was taken) or HTTP_PAUSE. */
typedef int (*http_data_fn)(void *ctx, const char *data, size_t len);
typedef void (*http_done_fn)(void *ctx, const struct http_call_result *res);
/* Fills up to max bytes of the request body; returns how many, 0 at the end
 * of the body, HTTP_READ_PAUSE or HTTP_READ_ABORT. */
typedef ssize_t (*http_read_fn)(void *ctx, char *buf, size_t max);

struct http_call_spec {
	const char *method; /* "GET", "POST", "PUT", "DELETE", "HEAD", ... */
	const char *url;    /* copied */
	/* Request headers, "Name: value" (copied). "Name:" removes a header
	 * libcurl would add: libcurl adds an Accept header, a form Content-Type
	 * to requests with a body, and "Expect: 100-continue" to large ones. */
	const char *const *headers;
	size_t n_headers;
	/* The body, if any: either bytes (borrowed until on_done or cancel) or
	 * a reader (reader_len bytes, or chunked if reader_len is -1). With
	 * neither, GET and HEAD send no body and other methods an empty one. */
	const void *body;
	size_t body_len;
	http_read_fn reader;
	int64_t reader_len;
	/* Limits: connecting (0: libcurl's default, 300 s); the whole call,
	 * paused time included (0: none); a stall (0: none; the call fails if
	 * it moves fewer than stall_bytes_per_s bytes per second during stall_s
	 * seconds while its response is not paused). A long-poll wants
	 * total_ms 0 and no stall limit. */
	unsigned connect_ms;
	unsigned total_ms;
	unsigned stall_bytes_per_s;
	unsigned stall_s;
	/* Callbacks, any may be NULL (no on_data: the body is discarded). */
	http_head_fn on_head;
	http_data_fn on_data;
	http_done_fn on_done;
	void *ctx; /* passed to the callbacks and the reader */
};

/* Starts a call. Returns it, or NULL (with *error set to libcurl's words if
 * error is not NULL) if libcurl refused it; then nothing is called back.
 * Not from on_head, on_data or the reader. */
struct http_call *http_call_start(struct http_client *c, const struct http_call_spec *spec,
				  const char **error);
/* Whether the request's head has been written to a connection (its body,
 * if any, is the reader's to tell). */
bool http_call_sent(const struct http_call *call);
/* Stops a call in flight; nothing of it is called back any more and its
 * borrowed body is released. A no-op for NULL and from its own on_done. */
void http_call_cancel(struct http_call *call);
/* Stops delivering the response body (back-pressure: the peer is no longer
 * read) until http_call_resume. */
void http_call_pause(struct http_call *call);
/* Continues a call paused by http_call_pause, by on_data returning
 * HTTP_PAUSE or by its reader returning HTTP_READ_PAUSE. Takes effect from
 * the loop (on its next iteration), never inside this call. */
void http_call_resume(struct http_call *call);

#endif /* CETCD_HTTP_CLIENT_H */
