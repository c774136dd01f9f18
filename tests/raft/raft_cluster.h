/* raft_cluster.h - an in-memory cluster of Raft cores for tests: members with a
 * fake disk (writes complete after a latency; a crash loses the ones still
 * pending), a network of per-link delay / drop / duplicate / reorder /
 * partition, one virtual clock, and invariant checks run at every step:
 * election safety, log matching, leader completeness, state-machine safety,
 * ReadIndex linearizability. Deterministic for a given seed. */
#ifndef CETCD_TESTS_RAFT_CLUSTER_H
#define CETCD_TESTS_RAFT_CLUSTER_H

#include "raft/raft.h"
#include "raft/raft_pipeline.h"

#define CL_MAX 9 /* member ids are 1..CL_MAX */

struct cl_link {
	bool cut;
	unsigned drop_pct;
	unsigned dup_pct;
	uint64_t delay_min, delay_max; /* ms; max > min reorders */
};

struct cl_read {
	uint64_t context;
	uint64_t index;
	int status;
	uint64_t min_index; /* highest commit anywhere when it was asked */
	bool done;
};

struct cl_write;
struct cl_msg;

struct cl_disk {
	struct raft_hard_state hs;
	bool has_snap;
	struct raft_snapshot snap; /* data owned */
	struct raft_entry *ents;   /* data owned, contiguous after the snapshot */
	size_t n, cap;
};

/* A member whose disk is real code (tests/unit/test_powercut_cluster.c: the
 * WAL and snapshot files over crashfs). A write the fixture makes durable
 * goes through write() (0 once durable, -1 when the power went: nothing of
 * it is acknowledged and the member crashes); a local snapshot through
 * snapshot(); a restart reads the disk back with load() (fills *disk, data
 * owned by it, xmalloc'd; -1 with text in err when the data dir does not
 * open: an invariant violation). The fixture's own crash leaves such a
 * member's disk to the hook (no random prefix of pending writes). */
struct cl_disk_hook {
	void *ctx;
	int (*write)(void *ctx, raft_id id, const struct raft_hard_state *hs,
		     const struct raft_snapshot *snap, const struct raft_entry *ents, size_t n);
	int (*snapshot)(void *ctx, raft_id id, const struct raft_snapshot *snap);
	int (*load)(void *ctx, raft_id id, struct cl_disk *disk, char *err, size_t cap);
};

struct cl_member {
	raft_id id;
	const struct cl_disk_hook *hook; /* NULL: the fixture's in-memory disk */
	bool power_lost;		 /* the hook failed: crash at the next safe point */
	bool exists;
	bool up;
	struct raft *r;
	struct cl_disk disk;
	struct cl_write *writes; /* pending, in order */
	size_t n_writes, cap_writes;
	uint64_t disk_busy_until;
	uint64_t write_seq;	   /* last write queued */
	struct raft_pipeline pipe; /* writes in flight, acks and votes parked */
	uint64_t restarts;
	/* the application state machine: a hash chain of applied entries */
	uint64_t sm_index, sm_hash;
	uint64_t snap_every, snap_trailing, last_snap;
	/* reads asked through fixture_read */
	struct cl_read *reads;
	size_t n_reads, cap_reads;
	uint8_t last_role;
	uint64_t last_term;
	raft_id last_leader;
	bool removed;
	uint64_t removed_at;
	bool bootstrapped; /* an initial member (else it joined) */
};

struct cl_lm;
struct cl_committed;

struct raft_fixture {
	uint64_t seed;
	uint64_t rng;
	uint64_t now;
	struct raft_config base; /* election/heartbeat/pre-vote/check-quorum */
	struct cl_member m[CL_MAX + 1];
	struct cl_link link[CL_MAX + 1][CL_MAX + 1];
	uint64_t disk_min, disk_max;
	struct cl_msg *net; /* binary heap on delivery time */
	size_t n_net, cap_net;
	uint64_t order;
	uint64_t steps;
	/* invariants */
	char violation[512];
	raft_id *term_leader;
	size_t cap_terms;
	struct cl_committed *committed;
	size_t cap_committed;
	uint64_t max_commit;
	uint64_t max_decided;
	struct raft_membership initial;
	struct cl_lm *lm;
	size_t lm_cap, lm_n;
	/* trace */
	bool trace;
	char *trace_buf;
	size_t trace_len, trace_cap;
};

/* A cluster of voters 1..n bootstrapped together; base sets timing and
 * options (zero fields: election 100 ms, heartbeat 10 ms). */
struct raft_fixture *fixture_new(unsigned n, uint64_t seed, const struct raft_config *base);
void fixture_free(struct raft_fixture *c);

/* Advances virtual time, processing every event due, by ms. */
void fixture_run(struct raft_fixture *c, uint64_t ms);
/* Runs until pred(c, arg) holds (checked after each event) or max_ms pass.
 * Returns whether pred held. */
bool fixture_run_until(struct raft_fixture *c, bool (*pred)(struct raft_fixture *, void *),
		       void *arg, uint64_t max_ms);

/* The leader of the highest term among live members, or RAFT_NONE. */
raft_id fixture_leader(struct raft_fixture *c);
bool fixture_has_leader(struct raft_fixture *c, void *unused);
bool fixture_ok(const struct raft_fixture *c); /* no invariant violated */
void fixture_print_trace(const struct raft_fixture *c);
void fixture_tracef(struct raft_fixture *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Network. */
void fixture_cut(struct raft_fixture *c, raft_id a, raft_id b); /* both ways */
void fixture_isolate(struct raft_fixture *c, raft_id id);
void fixture_heal(struct raft_fixture *c); /* all links back, no loss */
void fixture_set_link(struct raft_fixture *c, raft_id from, raft_id to, const struct cl_link *l);
void fixture_set_all_links(struct raft_fixture *c, const struct cl_link *l);

/* Members. */
void fixture_crash(struct raft_fixture *c, raft_id id);	  /* pending disk writes are lost */
void fixture_restart(struct raft_fixture *c, raft_id id); /* from what its disk holds */
void fixture_join(struct raft_fixture *c, raft_id id);	  /* brand-new member, empty disk */
/* Puts id's disk behind hook (borrowed; NULL: the in-memory disk again). */
void fixture_set_disk_hook(struct raft_fixture *c, raft_id id, const struct cl_disk_hook *hook);
struct raft *fixture_raft(struct raft_fixture *c, raft_id id);
void fixture_status(struct raft_fixture *c, raft_id id, struct raft_status *st);

/* Events, applied at the current virtual time. Return raft_step's value. */
int fixture_event(struct raft_fixture *c, raft_id id, struct raft_event *ev);
int fixture_propose(struct raft_fixture *c, raft_id id, const char *payload, uint64_t *index);
int fixture_conf_change(struct raft_fixture *c, raft_id id, uint8_t type, raft_id node);
int fixture_read(struct raft_fixture *c, raft_id id, uint64_t context);
int fixture_transfer(struct raft_fixture *c, raft_id id, raft_id target);
int fixture_campaign(struct raft_fixture *c, raft_id id);

/* Whether every live member applied index (state machine reached it). */
bool fixture_applied_everywhere(struct raft_fixture *c, uint64_t index);
uint64_t fixture_rand(struct raft_fixture *c);
/* The term of the entry some member applied at index, if any did. */
bool fixture_committed_term(struct raft_fixture *c, uint64_t index, uint64_t *term);

#endif /* CETCD_TESTS_RAFT_CLUSTER_H */
