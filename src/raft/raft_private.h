/* raft_private.h - internal state of the Raft core shared by the raft_*.c
 * files (not for the driver: use raft.h). Pure: no I/O, no clock. */
#ifndef CETCD_RAFT_PRIVATE_H
#define CETCD_RAFT_PRIVATE_H

#include "raft/raft.h"
#include "util/xalloc.h"

/* ---- memory helpers (raft_util.c; allocation failure aborts, util/xalloc.h) */

/* A copy of p[0..n), or NULL when n is 0. */
void *raft_xmemdup(const void *p, size_t n);
/* Grows *p (array of elsize-byte items, capacity *cap) to hold need items. */
void raft_grow(void **p, size_t *cap, size_t need, size_t elsize);
#define RAFT_GROW(arr, cap, need) raft_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

uint64_t raft_rand(struct raft *r);

/* ---- the in-memory log (raft_log.c) -------------------------------------- */

struct raft_log {
	struct raft_entry *ents; /* ents[i].index == base_index + 1 + i; data owned */
	size_t n, cap;
	uint64_t base_index; /* entry before the first one in memory ... */
	uint64_t base_term;  /* ... and its term (snapshot or compaction point) */
	uint64_t committed;
	uint64_t applied; /* last index handed out for apply */
	uint64_t unsaved; /* first index not yet handed out for persistence */
};

uint64_t raft_log_last_index(const struct raft_log *l);
uint64_t raft_log_last_term(const struct raft_log *l);
bool raft_log_term(const struct raft_log *l, uint64_t index, uint64_t *term);
/* Term at index, or 0 when unknown (compacted or beyond the end). */
uint64_t raft_log_term_or_zero(const struct raft_log *l, uint64_t index);
const struct raft_entry *raft_log_entry(const struct raft_log *l, uint64_t index);
bool raft_log_matches(const struct raft_log *l, uint64_t index, uint64_t term);
bool raft_log_up_to_date(const struct raft_log *l, uint64_t last_index, uint64_t last_term);
/* Appends a copy (data copied) of e; e->index must be last + 1. */
void raft_log_append_copy(struct raft *r, const struct raft_entry *e);
/* Removes entries with index >= from; their data goes to the garbage list. */
void raft_log_truncate_from(struct raft *r, uint64_t from);
/* Drops entries with index <= upto (upto must be known and <= applied). */
void raft_log_compact(struct raft *r, uint64_t upto);
/* Empties the log and sets its base (snapshot restore). */
void raft_log_reset(struct raft *r, uint64_t index, uint64_t term);
/* Largest index <= index whose term is <= term (fast back-off). */
uint64_t raft_log_find_conflict_by_term(const struct raft_log *l, uint64_t index, uint64_t term);

/* ---- replication progress (raft_progress.c) ----------------------------- */

enum {
	PR_PROBE = 0,
	PR_REPLICATE,
	PR_SNAPSHOT
};

struct raft_peer {
	raft_id id;
	bool voter;
	uint8_t state;
	uint64_t match;
	uint64_t next;
	bool probe_sent;	   /* PROBE: one append outstanding, pause */
	bool recent_active;	   /* heard from since the last quorum check */
	uint64_t pending_snapshot; /* SNAPSHOT: index sent */
	uint64_t snapshot_sent_at;
	uint64_t *inflight; /* ring of last indexes of appends in flight */
	size_t infl_start, infl_count, infl_cap;
	uint64_t read_acked; /* highest heartbeat read round acknowledged */
	bool vote_responded, vote_granted;
};

void raft_pr_reset(struct raft *r, struct raft_peer *p);
void raft_pr_become_probe(struct raft_peer *p);
void raft_pr_become_replicate(struct raft_peer *p);
void raft_pr_become_snapshot(struct raft_peer *p, uint64_t index, uint64_t now);
bool raft_pr_paused(const struct raft *r, const struct raft_peer *p);
bool raft_pr_maybe_update(struct raft_peer *p, uint64_t index);
bool raft_pr_maybe_decr(struct raft_peer *p, uint64_t rejected, uint64_t hint);
void raft_pr_inflight_add(struct raft *r, struct raft_peer *p, uint64_t last);
void raft_pr_inflight_free_le(struct raft_peer *p, uint64_t index);
void raft_pr_inflight_free_first(struct raft_peer *p);
struct raft_peer *raft_peer_find(struct raft *r, raft_id id);

/* ---- the core --------------------------------------------------------------- */

struct pending_write {
	uint64_t seq;
	uint64_t last;
};
struct conf_hist {
	uint64_t index;
	struct raft_membership conf;
};
struct pending_read {
	uint64_t context;
	raft_id from;
	uint64_t index;
	uint64_t round;
};

struct raft {
	struct raft_config cfg;
	raft_id id;
	bool started;

	/* Raft state */
	uint64_t term;
	raft_id vote;
	raft_id leader;
	uint8_t role;
	struct raft_log log;

	/* configuration: in effect as of conf_index (applied at commit) */
	struct raft_membership conf;
	uint64_t conf_index;
	struct conf_hist *hist; /* configs newer than the snapshot, oldest first */
	size_t n_hist, cap_hist;
	struct raft_peer *peers; /* one per voter and learner, self included */
	size_t n_peers, cap_peers;
	uint64_t pending_conf_index; /* leader: last conf entry it may not have committed */

	/* time */
	uint64_t now;
	int64_t wall;
	uint64_t rng;
	uint64_t election_deadline;
	uint64_t leader_contact; /* last message from the current leader */
	uint64_t heartbeat_deadline;
	uint64_t quorum_deadline;
	raft_id transfer_target;
	uint64_t transfer_deadline;

	/* persistence bookkeeping */
	uint64_t seq;		/* last persist_seq handed out */
	uint64_t persisted_seq; /* last one the driver said is durable */
	uint64_t hs_seq;	/* update carrying the current term/vote */
	uint64_t stable_index;	/* log prefix known durable */
	struct pending_write *pw;
	size_t n_pw, cap_pw;
	struct raft_snapshot *snap; /* latest snapshot (heap, data owned), or NULL */
	bool snap_install;	    /* hand r->snap out for install in this update */
	uint64_t compacted_to;

	/* ReadIndex */
	struct pending_read *reads; /* leader: queued reads, oldest first */
	size_t n_reads, cap_reads;
	uint64_t read_round;
	uint64_t *fwd_reads; /* follower: contexts forwarded to the leader */
	size_t n_fwd, cap_fwd;

	/* the update under construction */
	struct raft_message *msgs, *msgs_after;
	size_t n_msgs, cap_msgs, n_after, cap_after;
	struct raft_entry *out_entries, *out_committed;
	size_t cap_out_entries, cap_out_committed;
	struct raft_read_state *out_reads;
	size_t n_out_reads, cap_out_reads;
	void **garbage; /* freed when the update is released */
	size_t n_garbage, cap_garbage;
	struct raft_hard_state prev_hs;
	raft_id prev_leader;
	uint8_t prev_role;
	uint64_t proposed_index, proposed_term;
	bool removed;
};

/* raft.c: update assembly */
struct raft_message *raft_send(struct raft *r, uint8_t type, raft_id to);
struct raft_message *raft_send_after_persist(struct raft *r, uint8_t type, raft_id to);
void raft_garbage(struct raft *r, void *p);
void raft_read_ready(struct raft *r, uint64_t context, uint64_t index, int status);
bool raft_hs_durable(const struct raft *r);

/* raft_election.c */
bool raft_promotable(const struct raft *r);
void raft_reset_election_timer(struct raft *r);
void raft_become_follower(struct raft *r, uint64_t term, raft_id leader);
void raft_campaign(struct raft *r, bool pre_vote, bool transfer);
void raft_recv_vote(struct raft *r, const struct raft_message *m);
void raft_recv_vote_resp(struct raft *r, const struct raft_message *m);
void raft_maybe_win(struct raft *r);
void raft_tick(struct raft *r);
bool raft_in_lease(const struct raft *r);
size_t raft_quorum(const struct raft *r);

/* raft_replication.c */
bool raft_send_append(struct raft *r, struct raft_peer *p, bool allow_empty);
void raft_bcast_append(struct raft *r, bool allow_empty);
void raft_bcast_heartbeat(struct raft *r, uint64_t context);
void raft_recv_append(struct raft *r, const struct raft_message *m);
void raft_recv_append_resp(struct raft *r, const struct raft_message *m);
void raft_recv_heartbeat(struct raft *r, const struct raft_message *m);
void raft_recv_heartbeat_resp(struct raft *r, const struct raft_message *m);
bool raft_maybe_commit(struct raft *r);
void raft_commit_to(struct raft *r, uint64_t index);
uint64_t raft_leader_append(struct raft *r, uint8_t type, const void *data, size_t len);
int raft_propose(struct raft *r, const struct raft_payload *payloads, size_t n);
void raft_on_persisted(struct raft *r, uint64_t seq);

/* raft_readindex.c */
int raft_read_index(struct raft *r, uint64_t context);
void raft_recv_read_index(struct raft *r, const struct raft_message *m);
void raft_recv_read_index_resp(struct raft *r, const struct raft_message *m);
void raft_reads_on_ack(struct raft *r);
void raft_reads_on_commit(struct raft *r);
void raft_reads_fail_all(struct raft *r, int status);

/* raft_membership.c */
void raft_conf_set(struct raft *r, const struct raft_membership *m, uint64_t index);
void raft_conf_apply_entry(struct raft *r, const struct raft_entry *e);
const struct raft_membership *raft_conf_at(const struct raft *r, uint64_t index);
void raft_conf_forget_before(struct raft *r, uint64_t index);
int raft_propose_conf_change(struct raft *r, const struct raft_conf_change *cc);
bool raft_is_voter(const struct raft *r, raft_id id);

/* raft_snapshot.c */
int raft_take_snapshot(struct raft *r, uint64_t index, const void *data, size_t len,
		       uint64_t trailing);
bool raft_send_snapshot(struct raft *r, struct raft_peer *p);
void raft_recv_snapshot(struct raft *r, const struct raft_message *m);
void raft_snapshot_replace(struct raft *r, const struct raft_snapshot *s);

/* raft_transfer.c */
int raft_transfer(struct raft *r, raft_id target);
void raft_transfer_check(struct raft *r, struct raft_peer *p);
void raft_transfer_to_successor(struct raft *r);
void raft_recv_timeout_now(struct raft *r, const struct raft_message *m);

#endif /* CETCD_RAFT_PRIVATE_H */
