/* refresh.h - keeps the proxy's endpoints true to the cluster.
 *
 * Refresh (as etcd's proxy): every refresh interval, and every second while
 * no endpoint is available, GET <peer>/members from the peer URLs in order
 * until one answers with a member list (etcd 3.4's peer shape: ids as JSON
 * numbers; cetcd's is the same). The members' client URLs become the
 * endpoints (shuffled, endpoints_set) and their peer URLs the new peer list,
 * written to the cluster file when it changed.
 *
 * Health (beyond etcd): every probe interval each endpoint is asked
 * GET <client>/v2/stats/self: an answer makes it available and tells which
 * member leads (endpoints_set_leader); a transport error or timeout marks it
 * failed (endpoints_fail). So a member that stops answering is found without
 * a client request failing on it first.
 *
 * Client URLs that are the proxy's own (self_urls) are never endpoints: a
 * proxy must not forward to itself. Loop thread only. */
#ifndef CETCD_PROXY_REFRESH_H
#define CETCD_PROXY_REFRESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct http_client;
struct endpoints;
struct refresher;

struct refresher_opts {
	struct loop *loop;
	struct http_client *client; /* probes of client URLs */
	/* GET <peer>/members (NULL: client); its own TLS (the peer
	 * certificate), as etcd's proxy has a transport per side */
	struct http_client *peer_client;
	struct endpoints *endpoints; /* updated in place; outlives the refresher */
	char *const *peer_urls;	     /* where to look first (copied) */
	size_t n_peer_urls;
	const char *cluster_file; /* path to rewrite; NULL: none */
	char *const *self_urls;	  /* the proxy's own client URLs (copied) */
	size_t n_self_urls;
	uint64_t refresh_interval_ms; /* 30000 in etcd */
	uint64_t probe_interval_ms;   /* 0: no health probe */
	unsigned dial_timeout_ms;     /* connect limit of every refresh and probe */
	unsigned request_timeout_ms;  /* whole-call limit of every refresh and probe */
};

/* Starts refreshing at once (the first GET /members is sent from the loop).
 * Returns NULL if the client refuses. */
struct refresher *refresher_new(const struct refresher_opts *o);
/* Cancels what is in flight. Not from a client callback. */
void refresher_free(struct refresher *r);

/* Asks for a refresh as soon as possible (e.g. every endpoint failed). */
void refresher_kick(struct refresher *r);
/* True once a refresh has succeeded at least once. */
bool refresher_has_refreshed(const struct refresher *r);

#endif /* CETCD_PROXY_REFRESH_H */
