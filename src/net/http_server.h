/* http_server.h - the client and peer listeners (libmicrohttpd in external
 * epoll mode inside cetcd's loop), the per-request context, and the route table.
 * Handlers answer with http_respond(), at once or later after suspending the
 * connection. Loop thread only. */
#ifndef CETCD_HTTP_SERVER_H
#define CETCD_HTTP_SERVER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

struct server;
struct http_server;
struct http_req;
struct shard;

typedef void (*http_cleanup_fn)(struct http_req *r);

/* One request. Created when MHD sees the request line, freed in MHD's
 * completion callback (which first runs cleanup). */
struct http_req {
	struct server *srv;
	struct MHD_Connection *conn;
	struct shard *shard;	/* the daemon that serves the connection */
	char *uri;		/* owned: raw request target */
	char *path;		/* owned: decoded URL path */
	const char *query;	/* raw query string (points into uri), "" if none */
	const char *method;
	bool started;		/* the handler saw the request headers */
	bool dispatched;	/* the route handler ran */
	bool body_wanted;	/* a form body to collect */
	bool body_too_large;
	struct buf body;
	bool suspended;
	struct http_req *susp_prev, *susp_next;	/* the server's suspended list */
	struct MHD_Response *resp;	/* answer ready to queue (owned) */
	unsigned status;
	bool peer;		/* arrived on a peer listener */
	bool close_after;	/* answer with Connection: close (unread body left) */
	bool reply_cluster_id;	/* add X-Etcd-Cluster-Id to whatever is answered */
	void *handler_ctx;	/* the route handler's state */
	http_cleanup_fn cleanup;	/* frees handler_ctx; runs once */
};

#define HTTP_MAX_FORM_BYTES (10u << 20)	/* Go's maxFormSize */
#define HTTP_MAX_PEER_BYTES (1u << 30)	/* a peer batch: up to a whole snapshot */
/* The peer body limit in force (HTTP_MAX_PEER_BYTES; tests lower it). */
extern size_t http_max_peer_body;

/* Starts one daemon per URL. A peer server (peer = true) routes every request
 * to http_peer_handle; a client server routes the client API. */
struct http_server *http_server_new(struct server *srv, char *const *urls, size_t n, bool peer);
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

/* Route handlers (http_keys.c, http_admin.c, http_peer.c). */
void http_peer_handle(struct http_req *r);
void http_keys_handle(struct http_req *r);
void http_admin_handle(struct http_req *r);
bool http_admin_owns(const char *path);

#endif /* CETCD_HTTP_SERVER_H */
