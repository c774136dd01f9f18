/* routes.c - every URL cetcd answers: the client route table (keys,
 * members, auth, stats, health, version) and the peer route table (the Raft
 * transport, members, version), with the methods each route allows and the
 * bodies it reads, and how each kind of listener behaves. Anything else gets
 * Go's 404 from the edge. */
#include "api/routes.h"

#include "api/etcd_reply.h"
#include "api/http_admin.h"
#include "api/http_auth.h"
#include "api/http_keys.h"
#include "api/http_metrics.h"
#include "api/http_peer.h"
#include "util/version.h"

/* MHD's per-connection memory holds the request line and headers. 4 KiB
 * takes a request head of about 3 KiB and is most of an idle watcher's
 * memory (doc/watches.md). A connection whose first request head is longer
 * gets CLIENT_BIG_HEAD_MEMORY (the edge looks before placing it): Go's
 * server, hence etcd, takes 1 MiB of headers (http.DefaultMaxHeaderBytes)
 * and answers 431 above; etcd 3.4 resets a request line over 4 KiB (cmux).
 * Peer listeners have few connections and keep 16 KiB. */
#define CLIENT_CONN_MEMORY     ((size_t)4 * 1024)
#define CLIENT_BIG_HEAD_MEMORY ((size_t)(1024 + 64) * 1024)
#define PEER_CONN_MEMORY       ((size_t)16 * 1024)

/* GET /version, the same on both listeners. */
static void serve_version(struct http_req *r)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "{\"etcdserver\":\"" ETCD_COMPAT_VERSION
		     "\",\"etcdcluster\":\"" ETCD_COMPAT_CLUSTER_VERSION "\"}");
	http_respond(r, MHD_HTTP_OK, reply_from_buf(&b, "application/json"));
}

/* etcd 3.4 wraps every client handler in its CORS handler; its peer handler
 * (etcdhttp.NewPeerHandler) has none, so the peer answers carry no CORS. */
static const struct http_header cors_headers[] = {
	{"Access-Control-Allow-Headers", "accept, content-type, authorization"},
	{"Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE"},
	{"Access-Control-Allow-Origin", "*"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct http_route api_client_routes[] = {
	{"/v2/keys", HTTP_PREFIX, "HEAD,GET,PUT,POST,DELETE", http_keys_handle},
	{"/version", 0, "GET", serve_version},
	{"/health", 0, "GET", http_admin_health},
	/* a JSON body, whatever the Content-Type says */
	{"/v2/members", HTTP_PREFIX | HTTP_BODY, "GET,POST,DELETE,PUT", http_admin_members},
	{"/v2/machines", 0, "GET,HEAD", http_admin_machines},
	/* v2 auth: the handlers check methods themselves (etcd answers an
	 * invalid path before a wrong method); bodies are JSON whatever the
	 * Content-Type */
	{"/v2/auth/enable", 0, NULL, http_auth_enable},
	{"/v2/auth/users", HTTP_PREFIX | HTTP_BODY, NULL, http_auth_users},
	{"/v2/auth/roles", HTTP_PREFIX | HTTP_BODY, NULL, http_auth_roles},
	{"/v2/stats/self", 0, "GET", http_admin_stats_self},
	{"/v2/stats/store", 0, "GET", http_admin_stats_store},
	{"/v2/stats/leader", 0, "GET", http_admin_stats_leader},
	{"/debug/vars", 0, "GET", http_admin_debug_vars},
	{"/metrics", 0, "GET", http_metrics_handle},
};

const struct http_service api_client_service = {
	.routes = api_client_routes,
	.n_routes = COUNT(api_client_routes),
	.conn_memory = CLIENT_CONN_MEMORY,
	.big_head_memory = CLIENT_BIG_HEAD_MEMORY,
	.max_body = API_MAX_FORM_BYTES,
	.form_bodies = true,	/* /v2/keys reads form bodies, as Go's ParseForm */
	.answer_options = true, /* etcd's CORS handler */
	.headers = cors_headers,
	.n_headers = COUNT(cors_headers),
};

/* --listen-metrics-urls: etcd's metrics mux has /metrics and /health only. */
static const struct http_route api_metrics_routes[] = {
	{"/metrics", 0, "GET", http_metrics_handle},
	{"/health", 0, "GET", http_admin_health},
};

const struct http_service api_metrics_service = {
	.routes = api_metrics_routes,
	.n_routes = COUNT(api_metrics_routes),
	.conn_memory = CLIENT_CONN_MEMORY,
};

static const struct http_route api_peer_routes[] = {
	{"/raft", HTTP_BODY, "POST", http_peer_raft}, /* a batch (peer_codec.h) */
	{"/members", 0, "GET", http_peer_members},
	{"/version", 0, "GET", serve_version},
};

const struct http_service api_peer_service = {
	.routes = api_peer_routes,
	.n_routes = COUNT(api_peer_routes),
	.conn_memory = PEER_CONN_MEMORY,
	.max_body = API_MAX_PEER_BYTES,
	.add_headers = reply_cluster_id, /* every peer answer names our cluster */
};
