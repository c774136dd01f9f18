/* http_server.h - the HTTP edge: listeners and libmicrohttpd daemons in
 * external epoll mode inside cetcd's loop, a declarative route table, and the
 * per-request context. It knows nothing of what it serves: a service (route
 * table and options) and an opaque context pointer come from the caller, and
 * every handler finds the context in r->ctx. Handlers answer with
 * http_respond(), at once or later after suspending the connection. Loop
 * thread only. */
#ifndef CETCD_HTTP_SERVER_H
#define CETCD_HTTP_SERVER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"
#include "net/tls.h"
#include "util/buf.h"
#include "util/list.h"

struct loop;
struct http_server;
struct http_req;
struct shard;

typedef void (*http_handler_fn)(struct http_req *r);
typedef void (*http_cleanup_fn)(struct http_req *r);
/* Adds headers to an answer about to be queued. */
typedef void (*http_headers_fn)(struct http_req *r, struct MHD_Response *resp);

/* Route flags. */
enum {
	HTTP_PREFIX = 1u << 0, /* also matches path + "/..." */
	HTTP_BODY = 1u << 1,   /* collect the body whatever its type */
};

/* One route. The first route whose path matches the decoded, clean request
 * path serves the request; no match answers Go's 404. */
struct http_route {
	const char *path;
	unsigned flags;
	/* Comma-separated methods, e.g. "GET,HEAD": any other method is answered
	 * 405 with this list as Allow (before the handler). NULL: any method. */
	const char *methods;
	http_handler_fn handler;
};

/* What a server serves and how. */
struct http_service {
	const struct http_route *routes;
	size_t n_routes;
	size_t conn_memory; /* MHD's per-connection memory (request line + headers) */
	/* Nonzero: a plain-HTTP connection whose first request head is longer
	 * than about 3 KB gets a pool of this size instead (http_server.c). */
	size_t big_head_memory;
	size_t max_body; /* a longer body is dropped: body_too_large */
	/* Collect application/x-www-form-urlencoded bodies of POST, PUT and PATCH
	 * on every request, as Go's ParseForm would read them. */
	bool form_bodies;
	/* OPTIONS on a routed path: 200 with an empty body, before the method
	 * check (a CORS preflight). */
	bool answer_options;
	const struct http_header *headers; /* added to every answer */
	size_t n_headers;
	/* Becomes r->add_headers of every routed request (NULL: none). */
	http_headers_fn add_headers;
};

/* One request. Created when MHD sees the request line, freed in MHD's
 * completion callback (which first runs cleanup). */
struct http_req {
	void *ctx; /* the server's context (http_server_new) */
	struct MHD_Connection *conn;
	struct shard *shard; /* the daemon that serves the connection */
	char *uri;	     /* owned: raw request target */
	char *path;	     /* owned: decoded URL path; NULL if it does not decode */
	char *clean_path;    /* owned: where an unclean path redirects, or NULL */
	const char *query;   /* raw query string (points into uri), "" if none */
	const char *method;
	const struct http_route *route; /* NULL: not found (or not clean) */
	bool started;			/* the edge saw the request headers */
	bool dispatched;		/* the request was answered or handed to its handler */
	bool body_wanted;		/* a body to collect */
	bool body_too_large;
	struct buf body;
	bool suspended;
	struct list susp_link;	   /* in the server's suspended list */
	struct MHD_Response *resp; /* answer ready to queue (owned) */
	bool responded;		   /* http_respond was called */
	unsigned status;
	bool resp_short;  /* resp's body is known short (https: one TLS record) */
	bool close_after; /* answer with Connection: close (unread body left) */
	/* Adds headers to whatever is answered from now on; a handler may set it. */
	http_headers_fn add_headers;
	/* http_watch_hangup: called once when the client hangs up */
	http_handler_fn on_hangup;
	int hangup_fd;	 /* the socket in the hang-up set, or -1 */
	int held_fd;	 /* http_hold_output: the corked socket, or -1 */
	char *client_cn; /* http_client_cert_cn's answer (owned) */
	bool cn_done;
	void *handler_ctx;	 /* the route handler's state */
	http_cleanup_fn cleanup; /* frees handler_ctx; runs once */
};

/* Starts one daemon per URL, serving svc (which must outlive the server)
 * with ctx as every request's r->ctx. Returns NULL with a message on stderr
 * when a URL cannot be listened on. */
struct http_server *http_server_new(struct loop *loop, const struct http_service *svc, void *ctx,
				    char *const *urls, size_t n);
/* The same with https:// listeners too, served with tls's material (read
 * and checked here: NULL with a message on stderr when it does not load).
 * tls NULL: an https:// URL is refused. tls (and its strings) may go after
 * the call. */
struct http_server *http_server_new_tls(struct loop *loop, const struct http_service *svc,
					void *ctx, char *const *urls, size_t n,
					const struct http_tls *tls);
void http_server_free(struct http_server *h);
/* Runs the daemons that resumed or took connections since the last call, and
 * lets a listener that ran out of descriptors try again. The loop calls it
 * before sleeping, after everything that may resume. h may be NULL. */
void http_server_flush(struct http_server *h);

/* Queues (or, while suspended, stores and resumes for) the answer. Takes
 * ownership of resp. */
void http_respond(struct http_req *r, unsigned status, struct MHD_Response *resp);
/* Suspends the connection (at most once at a time). */
void http_suspend(struct http_req *r);
/* Resumes a suspended connection (no-op otherwise). */
void http_resume(struct http_req *r);

/* Calls on_hangup(r) once if r's client hangs up while r waits (MHD does not
 * look at a suspended connection). The handler typically stops what it
 * waits for and resumes r, and MHD then ends the request. Ends by itself
 * when the request completes. Returns false if r cannot be watched. */
bool http_watch_hangup(struct http_req *r, http_handler_fn on_hangup);
/* Stops watching for r's hang-up (no-op if not watched). */
void http_unwatch_hangup(struct http_req *r);
/* Holds what MHD writes on r's connection in the kernel (TCP_CORK) until
 * http_push_output or r completes: a long poll's event chunk and the
 * terminating chunk, which MHD sends apart, then leave as one TCP segment,
 * and the delivery happens on the pusher thread, not the loop (a fan-out's
 * main cost, doc/watches.md). Returns false and holds nothing where it
 * would not work: TLS, and a connection on which MHD has not yet learnt the
 * socket's cork state (it would uncork after its next send itself): the
 * first request's, unless mhd_pushed says a part of r's body went out. */
bool http_hold_output(struct http_req *r, bool mhd_pushed);
/* Lets what is held on r's connection go (no-op if nothing is held). */
void http_push_output(struct http_req *r);
/* The client is gone: makes MHD end the request. A request not answered yet
 * gets a throwaway answer with Connection: close (MHD reads nothing more
 * from a connection that awaits its answer, so without one it would stay
 * open for ever); an answered one is resumed (its content reader ends it). */
void http_abandon(struct http_req *r);

/* Caps the server's open connections at max_conns (0: no cap): at the cap a
 * new connection is refused at accept (a best-effort 503, then closed), so
 * that the descriptors left stay for the peers, the WAL and snapshots. */
void http_server_limit_conns(struct http_server *h, size_t max_conns);
size_t http_server_conns(const struct http_server *h);	   /* open now */
uint64_t http_server_refused(const struct http_server *h); /* refused at the cap */
/* Descriptors kept out of the client connection cap by default: peer streams
 * and pipelines, the WAL, snapshots, MHD's epoll descriptors (one per 512
 * connections), timers and eventfds. */
#define HTTP_FD_RESERVE 1024
/* The default cap: RLIMIT_NOFILE's soft limit minus HTTP_FD_RESERVE (a
 * quarter of a limit below 4096). */
size_t http_default_conn_limit(void);

/* Whether r came over TLS. */
bool http_req_tls(const struct http_req *r);
/* The common name of the client certificate r's connection presented,
 * verified during the handshake against the trusted CA: only on https://
 * listeners with client certificate authentication (etcd takes it as the
 * user when a request has no Authorization header); NULL otherwise. Owned
 * by r. */
const char *http_client_cert_cn(struct http_req *r);

#endif /* CETCD_HTTP_SERVER_H */
