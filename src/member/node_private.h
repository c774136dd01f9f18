/* node_private.h - what the files of the Raft driver share (node.c the
 * driver loop, boot.c start-up, forward.c the ways into the log, reads.c
 * linearizable reads, snapshot.c the snapshot policy). Not for other
 * files: they use node.h. Loop thread only. */
#ifndef CETCD_NODE_PRIVATE_H
#define CETCD_NODE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "member/node.h"
#include "raft/raft.h"
#include "raft/raft_pipeline.h"
#include "util/buf.h"
#include "util/prom.h"

struct server;
struct wal;
struct wal_sync;
struct loop_fd;
struct snap_job;
struct pending_read;
struct waiting;
struct conf_retry;
struct boot_recovery;
struct commit_mark;

struct node {
	struct server *srv;
	struct raft *raft;
	struct raft_update upd;
	char wal_dir[4096];
	char snap_dir[4096];
	struct boot_recovery *boot; /* between node_open and node_start */
	/* the log (node.c) */
	struct wal_sync *wal;	   /* owns the WAL: its thread or flush_wal writes */
	struct wal *wal_file;	   /* the log: wal_sync's until wal_sync_stop */
	struct loop_fd *wal_watch; /* its eventfd: the thread made batches durable */
	uint64_t wal_seq;	   /* last batch queued */
	uint64_t flushed_seq;	   /* last batch written or handed to the thread */
	bool sent_to_peers;	   /* messages queued for peers since the last flush */
	struct raft_pipeline pipe; /* batches in flight, messages parked (rules 4, 5) */
	struct raft_hard_state hs; /* the latest hard state the core asked for */
	bool has_hs;
	uint64_t commit_written; /* highest commit index in a queued batch (node.c rule 1) */
	bool failed;		 /* a disk error: the member stops */
	/* snapshots (snapshot.c) */
	uint64_t snap_index;	   /* index of the newest snapshot taken */
	uint64_t snap_bytes;	   /* size of the newest snapshot (0: none yet) */
	uint64_t applied_bytes;	   /* bytes of entries applied since snap_index */
	struct snap_job *snap_job; /* a forked snapshot save in progress */
	uint64_t snap_job_index;   /* the index snap_job saves */
	struct loop_fd *snap_watch;
	uint64_t snap_started_us;	    /* when snap_job was forked */
	struct prom_hist snap_save_seconds; /* fork to saved, per snapshot (node.h) */
	/* proposals (forward.c) */
	struct buf prop_bytes; /* a leader's proposals not yet stepped, back to back */
	size_t *prop_lens;     /* their lengths, in order */
	size_t n_props, cap_props;
	struct waiting *waiting; /* writes waiting for a leader to exist */
	size_t n_waiting;
	struct conf_retry *conf_retry; /* membership changes waiting for the pending one */
	size_t n_conf_retry;
	/* reads (reads.c) */
	uint64_t next_read_id;
	struct pending_read *reads;
	/* soft state after the last step */
	uint64_t applied;
	uint64_t term;
	uint64_t leader;
	uint64_t leader_changes; /* a leader became known that differs from the last one */
	uint8_t role;
	bool stepping; /* guards against re-entry from apply callbacks */
};

/* node.c: the driver loop */
struct raft_event node_event(uint8_t type); /* stamped with the clocks */
int node_step(struct node *n, const struct raft_event *ev);
/* Handles an update in the order of the rules (persist, send, apply, reads). */
void node_consume(struct node *n, const struct raft_update *u);
/* A disk error is fatal: the member stops. */
void node_fail(struct node *n, const char *what, const char *why);
void node_on_wal_durable(void *ctx, uint32_t events);
int64_t node_wal_timeout(void *ctx);
void node_wal_due(void *ctx);

/* snapshot.c */
/* Restores the store (empty, or replaced when replace) from a state
 * snapshot; *table gets its member table. */
int snapshot_restore(struct node *n, const void *data, size_t len, bool replace,
		     struct cluster *table, char *err, size_t cap);
int snapshot_install(struct node *n, const struct raft_snapshot *snap);
void snapshot_send(struct node *n, const struct raft_message *m);
void snapshot_maybe_take(struct node *n);
void snapshot_stop(struct node *n); /* waits for a save in progress */

/* reads.c */
void reads_note(struct node *n, const struct raft_update *u);
void reads_answer(struct node *n);
void reads_fail_all(struct node *n);

/* forward.c */
void forward_flush(struct node *n);	   /* steps the queued proposals */
void forward_leader_known(struct node *n); /* hands over writes that waited */
void forward_conf_retry(struct node *n);   /* tick: proposes membership changes again */
void forward_free(struct node *n);

/* boot.c */
void boot_free(struct node *n);

/* force_new.c: --force-new-cluster. Drops rec's uncommitted entries and
 * appends (to rec and, durably, to w) committed configuration entries that
 * leave this member (rec->meta.member_id) the only one. snap: the restored
 * snapshot's metadata or NULL. Returns 0 or -1 with err. */
struct wal;
struct wal_recovered;
int force_new_cluster(const struct server *srv, struct wal *w,
		      const struct raft_snapshot_meta *snap, struct wal_recovered *rec, char *err,
		      size_t cap);

#endif /* CETCD_NODE_PRIVATE_H */
