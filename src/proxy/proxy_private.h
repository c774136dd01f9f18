/* proxy_private.h - the state of a running proxy, shared by its files.
 * proxy.c creates and frees it; forward.c serves one client request with
 * it; watch_share.c holds the long polls many clients share. Loop thread
 * only. */
#ifndef CETCD_PROXY_PRIVATE_H
#define CETCD_PROXY_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy/endpoints.h"
#include "proxy/metrics.h"
#include "util/list.h"

struct loop;
struct loop_timer;
struct http_server;
struct http_client;
struct http_req;
struct refresher;
struct watch_share;
struct http_call_spec;

struct proxy {
	struct loop *loop;
	struct http_server *server;
	struct http_client *client;	 /* to members' client URLs */
	struct http_client *peer_client; /* to their peer URLs (GET /members) */
	struct endpoints endpoints;
	struct refresher *refresher;
	struct watch_share *shares;
	bool readonly;
	unsigned dial_timeout_ms;
	unsigned write_timeout_ms; /* 0: none */
	unsigned read_timeout_ms;  /* 0: none */
	/* "1.1 cetcd-<id>": this proxy in a Via header; a request that already
	 * carries it has looped back */
	char via[40];
	struct list forwards;	      /* struct forward.link: requests the tick checks */
	struct loop_timer *tick;      /* forward_tick */
	struct proxy_metrics metrics; /* counted by forward.c, served by metrics.c */
};

/* The route handlers (forward.c). */
void forward_request(struct http_req *r);
void forward_serve_config(struct http_req *r);
/* Every TICK_MS: fails the requests whose write timeout passed, and starts
 * watching the clients of requests that last. */
void forward_tick(struct proxy *p, uint64_t now_ms);

/* Whether a member's response header reaches the client: not hop-by-hop,
 * not the length (MHD frames the answer), not CORS (the proxy's own). */
bool proxy_passes_response_header(const char *name);

/* The dial and read timeouts of a call to a member. */
void proxy_call_limits(const struct proxy *p, struct http_call_spec *spec);

/* Answers {"message":"..."} with status, as etcd's httptypes.HTTPError. */
void proxy_reply_message(struct http_req *r, unsigned status, const char *message);
/* etcd's 502: every one of n_tried endpoints failed. */
void proxy_reply_unreachable(struct http_req *r, size_t n_tried);
/* etcd's 503: no endpoint is available (and a refresh is asked for). */
void proxy_reply_zero_endpoints(struct http_req *r);

#endif /* CETCD_PROXY_PRIVATE_H */
