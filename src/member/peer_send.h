/* peer_send.h - the peer transport's sending half: Raft messages and
 * forwarded proposals to other members over HTTP POST <peer-url>/raft, with
 * net/http_client (libcurl inside cetcd's loop; no thread of its own).
 *
 * Per peer: a bounded queue of encoded records; at most one POST in flight;
 * everything queued meanwhile leaves in the next POST (batching); the
 * client's connection cache keeps the connection alive; on a failed POST the
 * batch is dropped (Raft copes with loss) and the peer's next URL is tried
 * next time. Protocol, headers and policies: doc/peer-protocol.md.
 *
 * A NULL sender (a lone member) is accepted by every call that adds, removes
 * or sends: nothing happens, sends return -1.
 *
 * Threads and callbacks: loop thread only. The sender's work runs from the
 * loop (the client's callbacks and a timeout source it registers on the
 * loop); no API call below ever calls back into the caller. The only
 * callback (peer_sender_on_gone) runs from the loop, never from inside a
 * peer_sender_* call. peer_sender_free cancels every transfer without
 * calling back.
 *
 * libcurl must have been initialized once: http_client_global_init(). */
#ifndef CETCD_PEER_SEND_H
#define CETCD_PEER_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/prom.h"

struct cluster;
struct loop;
struct raft_message;
struct peer_sender;
struct http_client_tls;

/* Defaults (change with peer_sender_set_limits / _set_timeouts). */
#define PEER_DEFAULT_CONNECT_MS	     1000u
#define PEER_DEFAULT_REQUEST_MS	     5000u	 /* whole POST, batches without a snapshot */
#define PEER_DEFAULT_MAX_RECORDS     4096u	 /* queued per peer */
#define PEER_DEFAULT_MAX_BYTES	     (64u << 20) /* queued per peer */
#define PEER_DEFAULT_MAX_BATCH_BYTES (4u << 20)	 /* per POST (one larger record goes alone) */

/* A sender for member self_id of cluster cluster_id (sent as X-Server-From
 * and X-Etcd-Cluster-Id). Returns NULL if libcurl refuses. Free it before
 * the loop. */
struct peer_sender *peer_sender_new(struct loop *l, uint64_t self_id, uint64_t cluster_id);
/* Cancels every POST in flight and drops every queue, calling nothing back. */
void peer_sender_free(struct peer_sender *s);

/* TLS towards https:// peers: the peer certificate presented and the CA
 * theirs must come from (copied). */
void peer_sender_set_tls(struct peer_sender *s, const struct http_client_tls *tls);

/* The cluster id may be learnt late (a joining member): later POSTs use it. */
void peer_sender_set_cluster_id(struct peer_sender *s, uint64_t cluster_id);

/* Adds a peer, or replaces its URLs (copied; e.g. "http://10.0.0.2:2380").
 * The queue, the stats and a POST in flight are kept; with different URLs
 * the next POST starts at the first one (same URLs: nothing changes).
 * id == self and id == 0 are ignored. */
void peer_sender_set_peer(struct peer_sender *s, uint64_t id, char *const *urls, size_t n);
/* Makes the peer set match the cluster's members (self excluded): adds new
 * members, updates changed URLs, forgets members no longer listed. Call it
 * after every membership change. */
void peer_sender_sync_members(struct peer_sender *s, const struct cluster *c);
/* Forgets a peer: its POST in flight is cancelled, its queue dropped. */
void peer_sender_remove_peer(struct peer_sender *s, uint64_t id);

/* Queues m for peer `to`, encoded at once (m, its entries and snapshot are
 * borrowed for the call only). Returns 0, or -1 if `to` is not a peer or s
 * is NULL (the message is dropped; Raft copes). */
int peer_sender_send(struct peer_sender *s, uint64_t to, const struct raft_message *m);
/* Queues a client write for the leader `to` (payload copied). Returns 0 or
 * -1 (unknown peer). */
int peer_sender_forward_proposal(struct peer_sender *s, uint64_t to, const void *payload,
				 size_t len);

/* ---- knobs ------------------------------------------------------------------ */

void peer_sender_set_timeouts(struct peer_sender *s, unsigned connect_ms, unsigned request_ms);
/* Queue bound per peer: beyond max_records or max_bytes the oldest queued
 * non-snapshot records are dropped. max_batch_bytes caps one POST body. */
void peer_sender_set_limits(struct peer_sender *s, size_t max_records, size_t max_bytes,
			    size_t max_batch_bytes);

/* Called (from the loop) when a peer answers 410 Gone: this member was
 * removed from the cluster (etcd's member then shuts down). */
typedef void (*peer_gone_fn)(void *ctx, uint64_t peer_id);
void peer_sender_on_gone(struct peer_sender *s, peer_gone_fn fn, void *ctx);

/* ---- stats (/v2/stats/leader, /v2/stats/self) ---------------------------------- */

struct peer_stats {
	uint64_t id;
	uint64_t success; /* POSTs answered 2xx */
	uint64_t fail;	  /* POSTs failed (connect, timeout, non-2xx) */
	/* round-trip time of successful POSTs, milliseconds (0 before the first) */
	double latency_current;
	double latency_average;
	double latency_stddev;
	double latency_min;
	double latency_max;
	uint64_t msgs_sent;    /* records delivered in 2xx batches */
	uint64_t msgs_dropped; /* records dropped: failed batch or queue bound */
	size_t queued;	       /* records waiting now (not counting the POST in flight) */
	size_t queued_bytes;
	bool in_flight;
	bool active;	      /* the last POST succeeded */
	size_t url_index;     /* the URL the next POST uses */
	uint64_t bytes_sent;  /* POST body bytes answered 2xx */
	struct prom_hist rtt; /* seconds from sending a POST to its 2xx answer */
};
/* The rtt buckets: etcd's for peer_round_trip_time_seconds, 0.1 ms .. 3.2768 s */
#define PEER_RTT_HIST_START 0.0001
#define PEER_RTT_HIST_N	    16

/* Fills out for peer id; false if unknown. */
bool peer_sender_peer_stats(const struct peer_sender *s, uint64_t id, struct peer_stats *out);
/* Fills up to max entries (any order of peers); returns the number of peers. */
size_t peer_sender_all_stats(const struct peer_sender *s, struct peer_stats *out, size_t max);

struct peer_sender_totals {
	uint64_t append_sent; /* RAFT_MSG_APPEND delivered: sendAppendRequestCnt */
	uint64_t msgs_sent;   /* records delivered */
	uint64_t msgs_dropped;
	uint64_t batches_ok;
	uint64_t batches_failed;
	uint64_t bytes_sent; /* POST body bytes of successful batches */
};
void peer_sender_totals(const struct peer_sender *s, struct peer_sender_totals *out);

#endif /* CETCD_PEER_SEND_H */
