/* http_peer.h - the receiving half of the peer transport: the peer
 * listener's routes POST /raft and GET /members (http_peer.c; the table is in
 * routes.c). Loop thread only. Protocol: doc/peer-protocol.md. */
#ifndef CETCD_HTTP_PEER_H
#define CETCD_HTTP_PEER_H

#include <stdint.h>

#include "net/http_server.h"

/* Counters since process start (one set per process: cetcd runs one member
 * per process). recv_append is /v2/stats/self's recvAppendRequestCnt. */
struct http_peer_stats {
	uint64_t recv_append;	 /* RAFT_MSG_APPEND delivered to node_receive */
	uint64_t recv_msgs;	 /* Raft messages delivered */
	uint64_t recv_proposals; /* forwarded proposals delivered */
	uint64_t recv_batches;	 /* POST /raft answered 204 */
	uint64_t recv_bytes;	 /* body bytes of those */
	uint64_t bad_batches;	 /* answered 400 (undecodable) or 413 */
	uint64_t refused;	 /* answered 403/410/412 */
};

void http_peer_get_stats(struct http_peer_stats *out);

/* Body bytes of POST /raft answered 204, by X-Server-From (the first
 * HTTP_PEER_MAX_FROM senders seen). */
#define HTTP_PEER_MAX_FROM 64
struct http_peer_from {
	uint64_t id;
	uint64_t bytes;
};
/* Copies up to max entries; returns how many. */
size_t http_peer_received_by(struct http_peer_from *out, size_t max);

/* POST /raft: a batch of messages and forwarded proposals (peer_codec.h). */
void http_peer_raft(struct http_req *r);
/* GET /members: the member table as JSON. */
void http_peer_members(struct http_req *r);

#endif /* CETCD_HTTP_PEER_H */
