/* proxy.c - builds a running proxy from its options: where the peer URLs
 * come from (the cluster file, else the flags), the endpoint list and its
 * refresher, the HTTP client towards members, the client listeners with the
 * proxy's route table, and the loop they all run in until a signal. */
#include "proxy/proxy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/loop.h"
#include "net/signals.h"
#include "proxy/cluster_file.h"
#include "proxy/proxy_private.h"
#include "proxy/refresh.h"
#include "proxy/watch_share.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#define PROXY_CONN_MEMORY ((size_t)4 * 1024) /* as a member's client listener */
#define PROXY_MAX_BODY	  ((size_t)64 << 20)
#define PROBE_INTERVAL_MS 1000 /* health probe of every endpoint */
#define TICK_MS		  50   /* forward_tick */

/* etcd wraps its proxy in its CORS handler: OPTIONS is answered by the
 * proxy (forward.c), and every answer carries these (forwarded ones once: the member's copies are
 * dropped, where etcd's proxy sends both). */
static const struct http_header cors_headers[] = {
	{"Access-Control-Allow-Headers", "accept, content-type, authorization"},
	{"Access-Control-Allow-Methods", "POST, GET, OPTIONS, PUT, DELETE"},
	{"Access-Control-Allow-Origin", "*"},
};

static const struct http_route proxy_routes[] = {
	{"/v2/config/local/proxy", 0, NULL, forward_serve_config},
	{"/metrics", 0, NULL, proxy_metrics_serve},	      /* etcd's proxy serves its own */
	{"", HTTP_PREFIX | HTTP_BODY, NULL, forward_request}, /* everything else */
};

static const struct http_service proxy_service = {
	.routes = proxy_routes,
	.n_routes = sizeof(proxy_routes) / sizeof(proxy_routes[0]),
	.conn_memory = PROXY_CONN_MEMORY,
	.max_body = PROXY_MAX_BODY,
	.headers = cors_headers,
	.n_headers = sizeof(cors_headers) / sizeof(cors_headers[0]),
};

static void on_tick(void *ctx)
{
	struct proxy *p = ctx;
	forward_tick(p, clock_mono_ms());
}

/* The peer URLs to start from: the cluster file's when there is one (etcd
 * then ignores the flags), else the flags'. The result is owned. */
static int initial_peer_urls(const struct proxy_opts *o, const char *file, char ***urls, size_t *n)
{
	struct buf err = BUF_INIT;
	int rc = cluster_file_read(file, urls, n, &err);
	if (rc < 0) {
		log_crit("etcdmain", "proxy: %s", err.data);
		buf_free(&err);
		return -1;
	}
	if (rc == 0) {
		*urls = xcalloc(o->n_peer_urls ? o->n_peer_urls : 1, sizeof(**urls));
		for (size_t i = 0; i < o->n_peer_urls; i++)
			(*urls)[i] = xstrdup(o->peer_urls[i]);
		*n = o->n_peer_urls;
	}
	/* Go's %v of a []string: [a b c] */
	struct buf list = BUF_INIT;
	buf_putc(&list, '[');
	for (size_t i = 0; i < *n; i++)
		buf_printf(&list, "%s%s", i ? " " : "", (*urls)[i]);
	buf_putc(&list, ']');
	if (rc == 1)
		log_info("etcdmain", "proxy: using peer urls %s from cluster file \"%s\"",
			 list.data, file);
	else
		log_info("etcdmain", "proxy: using peer urls %s ", list.data);
	buf_free(&list);
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void proxy_free(struct proxy *p)
{
	/* the listeners first: their requests hold endpoints and calls */
	http_server_free(p->server);
	watch_share_free(p->shares);
	refresher_free(p->refresher);
	http_client_free(p->client);
	http_client_free(p->peer_client);
	endpoints_free(&p->endpoints);
	loop_del_timer(p->loop, p->tick);
	loop_free(p->loop);
	free(p);
}

static struct refresher *start_refresher(struct proxy *p, const struct proxy_opts *o,
					 const char *file)
{
	char **peers = NULL;
	size_t n_peers = 0;
	if (initial_peer_urls(o, file, &peers, &n_peers) != 0)
		return NULL;
	struct refresher_opts ro = {
		.loop = p->loop,
		.client = p->client,
		.peer_client = p->peer_client,
		.endpoints = &p->endpoints,
		.peer_urls = peers,
		.n_peer_urls = n_peers,
		.cluster_file = file,
		.self_urls = o->self_urls,
		.n_self_urls = o->n_self_urls,
		.refresh_interval_ms = o->refresh_interval_ms,
		.probe_interval_ms = PROBE_INTERVAL_MS,
		.dial_timeout_ms = o->dial_timeout_ms,
		.request_timeout_ms = o->dial_timeout_ms + 2000,
	};
	struct refresher *r = refresher_new(&ro);
	free_strings(peers, n_peers);
	return r;
}

static struct proxy *proxy_new(const struct proxy_opts *o, const char *file)
{
	struct proxy *p = xcalloc(1, sizeof(*p));
	uint64_t seed = (uint64_t)clock_wall_ns() ^ ((uint64_t)getpid() << 32);
	p->readonly = o->readonly;
	p->dial_timeout_ms = o->dial_timeout_ms;
	p->write_timeout_ms = o->write_timeout_ms;
	p->read_timeout_ms = o->read_timeout_ms;
	snprintf(p->via, sizeof(p->via), "1.1 cetcd-%016" PRIx64,
		 (uint64_t)(seed * 0x9e3779b97f4a7c15ull));
	list_init(&p->forwards);
	endpoints_init(&p->endpoints, o->failure_wait_ms, seed);
	p->loop = loop_new();
	if (p->loop == NULL) {
		free(p);
		return NULL;
	}
	p->tick = loop_add_timer(p->loop, TICK_MS, on_tick, p);
	p->client = http_client_new(p->loop);
	p->peer_client = http_client_new(p->loop);
	if (p->client != NULL && o->member_tls != NULL)
		http_client_set_tls(p->client, o->member_tls);
	if (p->peer_client != NULL && o->peer_tls != NULL)
		http_client_set_tls(p->peer_client, o->peer_tls);
	if (p->client != NULL && p->peer_client != NULL)
		p->refresher = start_refresher(p, o, file);
	if (p->refresher != NULL)
		p->shares = watch_share_new(p);
	if (p->shares != NULL)
		p->server = http_server_new_tls(p->loop, &proxy_service, p, o->listen_urls,
						o->n_listen_urls, o->client_tls);
	if (p->server == NULL) {
		proxy_free(p);
		return NULL;
	}
	return p;
}

static void before_sleep(void *ctx)
{
	struct proxy *p = ctx;
	http_server_flush(p->server);
}

int proxy_run(const struct proxy_opts *o)
{
	raise_fd_limit();
	log_notice("etcdmain", "proxy: this proxy supports v2 API only!");
	struct buf file = BUF_INIT;
	buf_printf(&file, "%s/proxy/cluster", o->data_dir);
	struct proxy *p = proxy_new(o, file.data);
	buf_free(&file);
	if (p == NULL)
		return 1;
	struct signal_stop *sig = signal_stop_new(p->loop);
	int rc = 1;
	if (sig != NULL) {
		loop_add_before_sleep(p->loop, before_sleep, p);
		for (size_t i = 0; i < o->n_listen_urls; i++)
			log_info("etcdmain",
				 "v2 proxy started listening on client requests on \"%s\"",
				 o->listen_urls[i]);
		rc = loop_run(p->loop) == 0 ? 0 : 1;
	}
	signal_stop_free(p->loop, sig);
	proxy_free(p);
	return rc;
}
