/* http_metrics.c - GET /metrics for a member (see http_metrics.h): reads
 * the counters of the node, the proposal table, the store, the WAL, the
 * peer transport, the /v2/keys and /health handlers and the process, and
 * writes them as etcd 3.4 names them. Families come in name order, as
 * client_golang writes them. */
#include "api/http_metrics.h"

#include <inttypes.h>
#include <stdio.h>

#include "api/http_admin.h"
#include "api/http_peer.h"
#include "api/keys_stats.h"
#include "api/routes.h"
#include "disk/wal_sync.h"
#include "kv/store.h"
#include "member/node.h"
#include "member/peer_send.h"
#include "member/proposal.h"
#include "member/server.h"
#include "net/http_reply.h"
#include "net/http_server.h"
#include "util/prom.h"
#include "util/version.h"

#define MAX_PEERS 64

/* ---- cetcd's own: group commit ---------------------------------------------------- */

static void put_cetcd_wal(struct buf *b, const struct wal_sync_stats *w)
{
	prom_one_u64(b, "cetcd_wal_batches_total", "counter",
		     "Persist batches (one per Raft update with entries or a hard state) written "
		     "to the WAL.",
		     w->batches);
	prom_one_u64(b, "cetcd_wal_entries_total", "counter", "Raft entries written to the WAL.",
		     w->entries);
	prom_family(b, "cetcd_wal_group_batches", "histogram",
		    "Batches made durable together by one WAL write and fdatasync (group commit).");
	prom_hist_put(b, "cetcd_wal_group_batches", "", &w->group, WAL_GROUP_HIST_START,
		      WAL_GROUP_HIST_N);
	prom_one_u64(b, "cetcd_wal_inline_rounds_total", "counter",
		     "WAL rounds written by the event loop itself (the WAL thread was idle).",
		     w->inline_rounds);
	prom_one_u64(b, "cetcd_wal_max_group_batches", "gauge",
		     "Most batches made durable by one WAL round so far.", w->max_group);
	prom_one_u64(b, "cetcd_wal_rounds_total", "counter",
		     "WAL rounds (a group written and made durable).", w->rounds);
	prom_one_u64(b, "cetcd_wal_segments_released_total", "counter",
		     "WAL segments deleted after a snapshot (--max-wals).", w->released);
	prom_one_u64(b, "cetcd_wal_syncs_total", "counter",
		     "fdatasync and fsync calls made by the WAL (segment creation included).",
		     w->fsyncs);
}

/* ---- cetcd's own: limits (doc/api-compat.md "Limits") ------------------------------ */

static void put_cetcd_limits(struct buf *b, const struct server *s)
{
	prom_one_u64(b, "cetcd_client_connections", "gauge", "Open client connections.",
		     s->http ? http_server_conns(s->http) : 0);
	prom_one_u64(b, "cetcd_client_connections_refused_total", "counter",
		     "Client connections refused at accept (--max-client-conns).",
		     s->http ? http_server_refused(s->http) : 0);
	prom_one_u64(b, "cetcd_v2_quota_bytes", "gauge",
		     "The v2 store quota (--v2-quota-bytes; 0 is none).", s->opts.v2_quota_bytes);
	prom_one_u64(b, "cetcd_v2_store_bytes", "gauge",
		     "The v2 store's accounted size, which the quota applies to.",
		     store_bytes(s->store));
}

/* ---- etcd_debugging_store_* -------------------------------------------------------- */

static void put_write(struct buf *b, struct prom_vec *v, const char *action, uint64_t ok,
		      uint64_t fail, bool failed_only)
{
	char labels[48];
	snprintf(labels, sizeof(labels), "action=\"%s\"", action);
	uint64_t n = failed_only ? fail : ok + fail;
	if (n) /* a CounterVec shows only the label values it has seen */
		prom_vec_u64(b, v, labels, n);
}

static void put_writes(struct buf *b, struct prom_vec v, const struct store_stats *st,
		       bool failed_only)
{
	put_write(b, &v, "compareAndDelete", st->cad_success, st->cad_fail, failed_only);
	put_write(b, &v, "compareAndSwap", st->cas_success, st->cas_fail, failed_only);
	put_write(b, &v, "create", st->create_success, st->create_fail, failed_only);
	put_write(b, &v, "delete", st->delete_success, st->delete_fail, failed_only);
	put_write(b, &v, "set", st->sets_success, st->sets_fail, failed_only);
	put_write(b, &v, "update", st->update_success, st->update_fail, failed_only);
}

static void put_reads(struct buf *b, struct prom_vec v, const struct store_stats *st,
		      bool failed_only)
{
	uint64_t all = st->gets_success + st->gets_fail;
	uint64_t get =
		failed_only ? st->gets_fail - st->gets_recursive_fail : all - st->gets_recursive;
	uint64_t rec = failed_only ? st->gets_recursive_fail : st->gets_recursive;
	if (get)
		prom_vec_u64(b, &v, "action=\"get\"", get);
	if (rec)
		prom_vec_u64(b, &v, "action=\"getRecursive\"", rec);
}

static void put_store(struct buf *b, const struct store_stats *st)
{
	prom_one_u64(b, "etcd_debugging_store_expires_total", "counter",
		     "Total number of expired keys.", st->expire_count);
	put_reads(b,
		  PROM_VEC("etcd_debugging_store_reads_failed_total", "counter",
			   "Failed read actions by (get/getRecursive), local to this member."),
		  st, true);
	put_reads(b,
		  PROM_VEC("etcd_debugging_store_reads_total", "counter",
			   "Total number of reads action by (get/getRecursive), local to this "
			   "member."),
		  st, false);
	prom_one_u64(b, "etcd_debugging_store_watch_requests_total", "counter",
		     "Total number of incoming watch requests (new or reestablished).",
		     st->watch_requests);
	prom_one_u64(b, "etcd_debugging_store_watchers", "gauge",
		     "Count of currently active watchers.", st->watchers);
	put_writes(
		b,
		PROM_VEC("etcd_debugging_store_writes_failed_total", "counter",
			 "Failed write actions (e.g. set/compareAndDelete), seen by this member."),
		st, true);
	put_writes(
		b,
		PROM_VEC("etcd_debugging_store_writes_total", "counter",
			 "Total number of writes (e.g. set/compareAndDelete) seen by this member."),
		st, false);
}

/* ---- etcd_disk_* ----------------------------------------------------------------- */

static void put_disk(struct buf *b, const struct wal_sync_stats *w)
{
	prom_family(b, "etcd_disk_wal_fsync_duration_seconds", "histogram",
		    "The latency distributions of fsync called by WAL.");
	prom_hist_put(b, "etcd_disk_wal_fsync_duration_seconds", "", &w->fsync_seconds,
		      WAL_FSYNC_HIST_START, WAL_FSYNC_HIST_N);
	/* a gauge in etcd 3.4 too */
	prom_one_u64(b, "etcd_disk_wal_write_bytes_total", "gauge",
		     "Total number of bytes written in WAL.", w->bytes);
}

/* ---- etcd_http_* (v2http) -------------------------------------------------------- */

static void put_http(struct buf *b)
{
	const struct keys_stats *ks = keys_stats_get();
	char labels[64];
	struct prom_vec failed = PROM_VEC(
		"etcd_http_failed_total", "counter",
		"Counter of handle failures of requests (non-watches), by method (GET/PUT etc.) "
		"and code (400, 500 etc.).");
	for (unsigned i = 0; i < ks->n_failed; i++) {
		snprintf(labels, sizeof(labels), "code=\"%u\",method=\"%s\"", ks->failed[i].code,
			 keys_stats_method_name(ks->failed[i].method));
		prom_vec_u64(b, &failed, labels, ks->failed[i].count);
	}
	struct prom_vec received = PROM_VEC(
		"etcd_http_received_total", "counter",
		"Counter of requests received into the system (successfully parsed and authd).");
	for (int m = 0; m < KS_N_METHODS; m++)
		if (ks->received[m]) {
			snprintf(labels, sizeof(labels), "method=\"%s\"",
				 keys_stats_method_name((enum keys_stats_method)m));
			prom_vec_u64(b, &received, labels, ks->received[m]);
		}
	struct prom_vec ok = PROM_VEC("etcd_http_successful_duration_seconds", "histogram",
				      "Bucketed histogram of processing time (s) of successfully "
				      "handled requests (non-watches), by method (GET/PUT etc.).");
	for (int m = 0; m < KS_N_METHODS; m++)
		if (ks->ok_seconds[m].count) {
			snprintf(labels, sizeof(labels), "method=\"%s\"",
				 keys_stats_method_name((enum keys_stats_method)m));
			prom_vec_hist(b, &ok, labels, &ks->ok_seconds[m], KEYS_HIST_START,
				      KEYS_HIST_N);
		}
}

/* ---- etcd_network_* (rafthttp) --------------------------------------------------- */

static void put_network(struct buf *b, const struct server *s)
{
	struct http_peer_from from[HTTP_PEER_MAX_FROM];
	size_t n_from = http_peer_received_by(from, HTTP_PEER_MAX_FROM);
	struct peer_stats ps[MAX_PEERS];
	size_t n_to = s->peers ? peer_sender_all_stats(s->peers, ps, MAX_PEERS) : 0;
	if (n_to > MAX_PEERS)
		n_to = MAX_PEERS;
	char labels[80];
	struct prom_vec active = PROM_VEC("etcd_network_active_peers", "gauge",
					  "The current number of active peer connections.");
	for (size_t i = 0; i < n_to; i++)
		if (ps[i].active) {
			snprintf(labels, sizeof(labels),
				 "Local=\"%" PRIx64 "\",Remote=\"%" PRIx64 "\"", s->self_id,
				 ps[i].id);
			prom_vec_u64(b, &active, labels, 1);
		}
	struct prom_vec received = PROM_VEC("etcd_network_peer_received_bytes_total", "counter",
					    "The total number of bytes received from peers.");
	for (size_t i = 0; i < n_from; i++) {
		snprintf(labels, sizeof(labels), "From=\"%" PRIx64 "\"", from[i].id);
		prom_vec_u64(b, &received, labels, from[i].bytes);
	}
	struct prom_vec rtt = PROM_VEC("etcd_network_peer_round_trip_time_seconds", "histogram",
				       "Round-Trip-Time histogram between peers.");
	for (size_t i = 0; i < n_to; i++)
		if (ps[i].rtt.count) {
			snprintf(labels, sizeof(labels), "To=\"%" PRIx64 "\"", ps[i].id);
			prom_vec_hist(b, &rtt, labels, &ps[i].rtt, PEER_RTT_HIST_START,
				      PEER_RTT_HIST_N);
		}
	struct prom_vec sent = PROM_VEC("etcd_network_peer_sent_bytes_total", "counter",
					"The total number of bytes sent to peers.");
	for (size_t i = 0; i < n_to; i++)
		if (ps[i].bytes_sent) {
			snprintf(labels, sizeof(labels), "To=\"%" PRIx64 "\"", ps[i].id);
			prom_vec_u64(b, &sent, labels, ps[i].bytes_sent);
		}
	struct prom_vec failures = PROM_VEC("etcd_network_peer_sent_failures_total", "counter",
					    "The total number of send failures from peers.");
	for (size_t i = 0; i < n_to; i++)
		if (ps[i].fail) {
			snprintf(labels, sizeof(labels), "To=\"%" PRIx64 "\"", ps[i].id);
			prom_vec_u64(b, &failures, labels, ps[i].fail);
		}
}

/* ---- etcd_server_* ----------------------------------------------------------------- */

static void put_server(struct buf *b, const struct server *s)
{
	const struct node *n = s->node;
	uint64_t ok, failed;
	http_admin_health_counts(&ok, &failed);
	char labels[64];
	prom_one_u64(b, "etcd_server_has_leader", "gauge",
		     "Whether or not a leader exists. 1 is existence, 0 is not.",
		     n && node_leader_id(n) != 0);
	prom_one_u64(b, "etcd_server_health_failures", "counter",
		     "The total number of failed health checks", failed);
	prom_one_u64(b, "etcd_server_health_success", "counter",
		     "The total number of successful health checks", ok);
	prom_family(b, "etcd_server_id", "gauge",
		    "Server or member ID in hexadecimal format. 1 for 'server_id' label with "
		    "current ID.");
	snprintf(labels, sizeof(labels), "server_id=\"%" PRIx64 "\"", s->self_id);
	prom_u64(b, "etcd_server_id", labels, 1);
	prom_one_u64(b, "etcd_server_is_leader", "gauge",
		     "Whether or not this member is a leader. 1 if is, 0 otherwise.",
		     n && node_is_leader(n));
	prom_one_u64(b, "etcd_server_leader_changes_seen_total", "counter",
		     "The number of leader changes seen.", n ? node_leader_changes(n) : 0);
	/* gauges in etcd 3.4, whatever the names say */
	prom_one_u64(b, "etcd_server_proposals_applied_total", "gauge",
		     "The total number of consensus proposals applied.",
		     n ? node_applied_index(n) : 0);
	prom_one_u64(b, "etcd_server_proposals_committed_total", "gauge",
		     "The total number of consensus proposals committed.",
		     n ? node_commit_index(n) : 0);
	prom_one_u64(b, "etcd_server_proposals_failed_total", "counter",
		     "The total number of failed proposals seen.", proposals_failed(s->props));
	prom_one_u64(b, "etcd_server_proposals_pending", "gauge",
		     "The current number of pending proposals to commit.",
		     proposals_pending(s->props));
	prom_family(b, "etcd_server_version", "gauge",
		    "Which version is running. 1 for 'server_version' label with current version.");
	prom_u64(b, "etcd_server_version", "server_version=\"" ETCD_COMPAT_VERSION "\"", 1);
}

void http_metrics_handle(struct http_req *r)
{
	const struct server *s = api_server(r);
	struct wal_sync_stats w = {0};
	if (s->node)
		node_wal_stats(s->node, &w);
	struct store_stats st;
	store_get_stats(s->store, &st);
	struct buf b = BUF_INIT;
	put_cetcd_limits(&b, s);
	put_cetcd_wal(&b, &w);
	prom_family(&b, "etcd_cluster_version", "gauge",
		    "Which version is running. 1 for 'cluster_version' label with current cluster "
		    "version");
	prom_u64(&b, "etcd_cluster_version", "cluster_version=\"3.4\"", 1);
	prom_family(&b, "etcd_debugging_snap_save_total_duration_seconds", "histogram",
		    "The total latency distributions of save called by snapshot.");
	struct prom_hist none = {0};
	prom_hist_put(&b, "etcd_debugging_snap_save_total_duration_seconds", "",
		      s->node ? node_snap_save_seconds(s->node) : &none, NODE_SNAP_HIST_START,
		      NODE_SNAP_HIST_N);
	put_store(&b, &st);
	put_disk(&b, &w);
	put_http(&b);
	put_network(&b, s);
	put_server(&b, s);
	prom_process(&b);
	http_respond(r, MHD_HTTP_OK, reply_from_buf(&b, PROM_CONTENT_TYPE));
}
