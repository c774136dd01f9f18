/* routes.h - the API's two services: what the client listeners and the peer
 * listeners serve (the route tables are in routes.c). The member starts the
 * listeners with itself (struct server) as the context of every request. */
#ifndef CETCD_ROUTES_H
#define CETCD_ROUTES_H

#include "net/http_server.h"

struct server;

#define API_MAX_FORM_BYTES (10u << 20) /* Go's maxFormSize */
#define API_MAX_PEER_BYTES (1u << 30)  /* a peer batch: up to a whole snapshot */

extern const struct http_service api_client_service;
extern const struct http_service api_peer_service;
extern const struct http_service api_metrics_service; /* --listen-metrics-urls */

/* The member a request is served for (its listener's context). */
static inline struct server *api_server(const struct http_req *r)
{
	return r->ctx;
}

#endif /* CETCD_ROUTES_H */
