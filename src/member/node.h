/* node.h - drives this member's Raft core (raft.h) and knows the ordering
 * rules: what the core asks to persist is made durable before the messages
 * that depend on it leave and before the core counts it; only committed
 * entries are applied, in log order (apply.c), before any reply; reads with
 * quorum=true wait for a ReadIndex and for apply to reach it.
 * Loop thread only. */
#ifndef CETCD_NODE_H
#define CETCD_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/cluster.h"

struct server;
struct node;

/* Who this member is, as its data dir says (node_open). */
struct node_identity {
	uint64_t self_id;
	uint64_t cluster_id;
	bool has_table;	      /* the newest snapshot held a member table: */
	struct cluster table; /* then this one (the caller takes it) */
};

/* Opens the data dir (start-up, boot.c). A member with a log recovers who
 * it is from it (WAL metadata, etcd ignores --initial-* then) and its state
 * as of the newest snapshot (restored into srv->store); a new member
 * creates the log for the identity srv holds. Returns NULL with a message
 * on stderr. */
struct node *node_open(struct server *srv, struct node_identity *who);
/* Starts the core once srv holds the identity: bootstraps, joins, or
 * replays the log (committed entries are applied again). Returns 0 or -1. */
int node_start(struct node *n);
void node_free(struct node *n);

/* Proposes a payload (copied). The entry gets the leader's wall-clock time.
 * Returns 0 when the leader accepted it, -1 when this member cannot accept
 * proposals now (not the leader, or no leader). */
int node_propose(struct node *n, const void *data, size_t len);

/* A linearizable read: done(ctx, 0) runs once this member has applied
 * everything committed when the read was asked (Raft ReadIndex, no log
 * write); done(ctx, -1) if the read cannot be served (no leader). */
typedef void (*node_read_fn)(void *ctx, int status);
/* Returns a handle for node_read_cancel, or 0 if done was already called. */
uint64_t node_read(struct node *n, node_read_fn done, void *ctx);
void node_read_cancel(struct node *n, uint64_t handle);

struct raft_message;

/* Peer input (http_peer.c): one Raft message from another member, decoded by
 * peer_codec (borrowed for the call). */
void node_receive(struct node *n, const struct raft_message *m);
/* Peer input: a follower forwarded a client write to this member; it is
 * proposed here if this member leads (the follower answers its client when
 * the entry is applied there). */
void node_receive_proposal(struct node *n, const void *payload, size_t len);

/* Before-sleep step: persist what the core asked for, feed back what is
 * durable, apply what is committed, answer ready reads. */
void node_process(struct node *n);
/* Timer step: drives elections and heartbeats. */
void node_tick(struct node *n);

/* True once a disk error stopped this member (the loop is stopping). */
bool node_failed(const struct node *n);
struct wal_sync_stats;
/* Counters of the WAL thread (batches, fsyncs, group sizes). */
void node_wal_stats(const struct node *n, struct wal_sync_stats *out);
bool node_is_leader(const struct node *n);
/* True while this member is a learner (added at runtime, not caught up). */
bool node_is_learner(const struct node *n);
uint64_t node_leader_id(const struct node *n); /* 0 = none known */
/* Times a leader became known that differs from the last known one (none
 * counts as a last one): etcd_server_leader_changes_seen_total. */
uint64_t node_leader_changes(const struct node *n);
/* Seconds from forking a snapshot save to its file being durable, per
 * successful snapshot (etcd_debugging_snap_save_total_duration_seconds);
 * etcd's buckets: 1 ms .. 8.192 s. */
struct prom_hist;
const struct prom_hist *node_snap_save_seconds(const struct node *n);
#define NODE_SNAP_HIST_START 0.001
#define NODE_SNAP_HIST_N     14
/* Leader only: milliseconds since it last heard from member id. False on
 * a follower, or when the leader has not heard from id. */
bool node_heard_from(const struct node *n, uint64_t id, uint64_t *ago_ms);
uint64_t node_term(const struct node *n);
uint64_t node_applied_index(const struct node *n);
uint64_t node_commit_index(const struct node *n);

#endif /* CETCD_NODE_H */
