/* http_peer.c - the peer listener's routes (see http_peer.h; the table,
 * with GET /version, is in routes.c):
 *
 *   POST /raft      a batch of Raft messages and forwarded proposals
 *                   (peer_codec.h) -> node_receive / node_receive_proposal;
 *                   204, or 412 (cluster id / X-Raft-To mismatch), 403
 *                   (unknown sender), 410 (removed sender), 400 (garbage),
 *                   413 (body over the listener's limit)
 *   GET  /members   the member list, like etcd's peer /members
 *
 * The body is collected by the edge (the route's HTTP_BODY). The decoded
 * batch points into r->body and is freed before the handler returns:
 * node_receive* borrow it for the call only. */
#include "api/http_peer.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/etcd_reply.h"
#include "api/members_json.h"
#include "api/routes.h"
#include "member/node.h"
#include "member/peer_codec.h"
#include "raft/raft.h"
#include "member/server.h"
#include "util/goparse.h"
#include "util/log.h"

static struct http_peer_stats stats;
/* POST /raft body bytes answered 204, by sender (etcd_network_peer_received_bytes_total) */
static struct http_peer_from from_bytes[HTTP_PEER_MAX_FROM];
static size_t n_from;

void http_peer_get_stats(struct http_peer_stats *out)
{
	*out = stats;
}

size_t http_peer_received_by(struct http_peer_from *out, size_t max)
{
	size_t n = n_from < max ? n_from : max;
	memcpy(out, from_bytes, n * sizeof(*out));
	return n;
}

static void count_from(uint64_t from, uint64_t bytes)
{
	for (size_t i = 0; i < n_from; i++)
		if (from_bytes[i].id == from) {
			from_bytes[i].bytes += bytes;
			return;
		}
	if (n_from < HTTP_PEER_MAX_FROM)
		from_bytes[n_from++] = (struct http_peer_from){from, bytes};
}

/* Logs the 1st, 2nd, 4th, 8th ... occurrence of something noisy. */
static bool log_this(uint64_t *count)
{
	uint64_t n = ++*count;
	return (n & (n - 1)) == 0;
}

/* HOOK(lead): return true when id is in the cluster's removed-member list
 * (etcd's /0/removed_members) once struct cluster has one; the sender then
 * gets 410 Gone and shuts down (peer_sender_on_gone). */
static bool member_was_removed(const struct server *s, uint64_t id)
{
	return cluster_is_removed(server_members(s), id);
}

/* Parses a hex id header as etcd (types.IDFromString). False when absent
 * or malformed. */
static bool header_hex(struct http_req *r, const char *name, uint64_t *out)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
	return v != NULL && go_parse_uint(v, 16, 64, out) == GO_NUM_OK;
}

static void reply_no_content(struct http_req *r)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	http_respond(r, MHD_HTTP_NO_CONTENT, resp);
}

/* ---- POST /raft: the checks ---------------------------------------------------- */

static bool check_cluster_id(struct http_req *r)
{
	static uint64_t logged;
	uint64_t theirs = 0;
	uint64_t ours = server_members(api_server(r))->id;
	if (header_hex(r, "X-Etcd-Cluster-Id", &theirs) && theirs == ours)
		return true;
	const char *raw =
		MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Etcd-Cluster-Id");
	const char *from = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Server-From");
	if (log_this(&logged))
		log_error("rafthttp",
			  "peer %s sent cluster id %s, ours is %" PRIx64 ": refused (412)",
			  from ? from : "(unknown)", raw ? raw : "(none)", ours);
	stats.refused++;
	reply_plain(r, MHD_HTTP_PRECONDITION_FAILED, "cluster ID mismatch");
	return false;
}

static bool check_raft_to(struct http_req *r)
{
	uint64_t to;
	if (MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Raft-To") == NULL)
		return true; /* optional */
	if (header_hex(r, "X-Raft-To", &to) && to == api_server(r)->self_id)
		return true;
	stats.refused++;
	reply_plain(r, MHD_HTTP_PRECONDITION_FAILED, "to field mismatch");
	return false;
}

static bool check_sender(struct http_req *r, uint64_t *from)
{
	static uint64_t logged;
	if (!header_hex(r, "X-Server-From", from)) {
		stats.refused++;
		reply_plain(r, MHD_HTTP_BAD_REQUEST, "missing or bad X-Server-From");
		return false;
	}
	if (member_was_removed(api_server(r), *from)) {
		if (log_this(&logged))
			log_warn("rafthttp", "refused peer %" PRIx64 ": removed member (410)",
				 *from);
		stats.refused++;
		reply_plain(r, MHD_HTTP_GONE,
			    "this member has been permanently removed from "
			    "the cluster");
		return false;
	}
	if (cluster_find(server_members(api_server(r)), *from) == NULL) {
		if (log_this(&logged))
			log_warn("rafthttp", "refused peer %" PRIx64 ": not a member (403)", *from);
		stats.refused++;
		reply_plain(r, MHD_HTTP_FORBIDDEN, "unknown member");
		return false;
	}
	return true;
}

/* Every message of a batch must come from the member that posted it. */
static bool batch_from(const struct peer_decoded *d, uint64_t from)
{
	for (size_t i = 0; i < d->n_records; i++)
		if (d->records[i].kind == PEER_REC_MESSAGE && d->records[i].msg.from != from)
			return false;
	return true;
}

static bool decode_body(struct http_req *r, uint64_t from, struct peer_decoded *d)
{
	static uint64_t logged, logged_large;
	if (r->body_too_large) {
		stats.bad_batches++;
		if (log_this(&logged_large))
			log_warn("rafthttp",
				 "peer %" PRIx64 ": POST /raft body over the "
				 "listener's limit (413)",
				 from);
		reply_plain(r, MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
		return false;
	}
	int err = peer_decode(r->body.data, r->body.len, d);
	const char *why = peer_codec_strerror(err);
	if (err == PEER_CODEC_OK) {
		if (batch_from(d, from))
			return true;
		peer_decoded_free(d);
		why = "a message's from differs from X-Server-From";
	}
	stats.bad_batches++;
	if (log_this(&logged))
		log_warn("rafthttp",
			 "peer %" PRIx64 ": bad POST /raft body (%zu bytes): %s "
			 "(400)",
			 from, r->body.len, why);
	reply_plain(r, MHD_HTTP_BAD_REQUEST, why);
	return false;
}

static void deliver(struct http_req *r, const struct peer_decoded *d)
{
	struct node *n = api_server(r)->node;
	for (size_t i = 0; i < d->n_records; i++) {
		const struct peer_record *rec = &d->records[i];
		if (rec->kind == PEER_REC_MESSAGE) {
			stats.recv_msgs++;
			if (rec->msg.type == RAFT_MSG_APPEND)
				stats.recv_append++;
			node_receive(n, &rec->msg);
		} else if (rec->kind == PEER_REC_PROPOSAL) {
			stats.recv_proposals++;
			node_receive_proposal(n, rec->payload, rec->len);
		}
	}
}

void http_peer_raft(struct http_req *r)
{
	uint64_t from = 0;
	if (!check_cluster_id(r) || !check_raft_to(r) || !check_sender(r, &from))
		return;
	if (api_server(r)->node == NULL) {
		reply_plain(r, MHD_HTTP_SERVICE_UNAVAILABLE, "member not started");
		return;
	}
	struct peer_decoded d;
	if (!decode_body(r, from, &d))
		return;
	deliver(r, &d);
	peer_decoded_free(&d);
	stats.recv_batches++;
	stats.recv_bytes += r->body.len;
	count_from(from, r->body.len);
	reply_no_content(r);
}

/* ---- GET /members --------------------------------------------------- */

void http_peer_members(struct http_req *r)
{
	const struct cluster *c = server_members(api_server(r));
	struct buf b = BUF_INIT;
	json_put_peer_members(&b, c);
	buf_putc(&b, '\n');
	http_respond(r, MHD_HTTP_OK, reply_from_buf(&b, "application/json"));
}
