/* raft.h - the pure Raft consensus core: one door (raft_step) that takes an
 * event and returns an update. Pure: no I/O, no clock, no rand, no globals;
 * time and randomness seed arrive as data. Driver rules: doc/raft-core.md.
 *
 * Memory: the core allocates with malloc/free and aborts the process on
 * out-of-memory (like buf.h). Everything reachable from a struct raft_update
 * is owned by the core and stays valid until the next call of any function
 * below that takes a struct raft_update (or raft_update_done, raft_free).
 * Everything the caller passes in (event payloads, received messages,
 * persisted state) is borrowed for the duration of the call only: the core
 * copies what it keeps. */
#ifndef CETCD_RAFT_H
#define CETCD_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t raft_id; /* an etcd member ID; 0 means "none" */

#define RAFT_NONE	 ((raft_id)0)
#define RAFT_MAX_MEMBERS 32 /* per list: voters, learners */

/* ---- errors: returned as values ---------------------------------------- */

enum raft_err {
	RAFT_OK = 0,
	RAFT_ERR_NOT_LEADER,   /* this member is a follower; out->leader names the leader */
	RAFT_ERR_NO_LEADER,    /* no leader known (election in progress) */
	RAFT_ERR_TRANSFERRING, /* leader transfer in progress: proposals refused */
	RAFT_ERR_CONF_PENDING, /* another configuration change is not committed yet */
	RAFT_ERR_BAD_CONF,     /* change does not fit the configuration (dup, unknown, full) */
	RAFT_ERR_INVALID,      /* bad argument or event in this state */
	RAFT_ERR_STALE,	       /* snapshot older than the current one / not yet applied */
	RAFT_ERR_REMOVED,      /* this member is not part of the configuration */
};

const char *raft_strerror(int err);

/* ---- log entries -------------------------------------------------------- */

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 0, /* application payload (a command.c record) */
	RAFT_ENTRY_CONF = 1,   /* configuration change: decode with raft_conf_change_decode */
	RAFT_ENTRY_NOOP = 2,   /* empty entry a new leader appends to commit its term */
};

struct raft_entry {
	uint64_t term;
	uint64_t index;
	uint8_t type;	  /* enum raft_entry_type */
	int64_t time;	  /* unix ns: the leader's wall clock when it appended it */
	const void *data; /* payload bytes (may be NULL when len == 0) */
	size_t len;
};

/* ---- configuration ------------------------------------------------------ */

struct raft_membership {
	size_t n_voters;
	size_t n_learners;
	raft_id voters[RAFT_MAX_MEMBERS];
	raft_id learners[RAFT_MAX_MEMBERS];
};

enum raft_conf_type {
	RAFT_CONF_ADD_VOTER = 1,   /* add a new member that counts toward quorum at once */
	RAFT_CONF_ADD_LEARNER = 2, /* add a non-voting member that only catches up */
	RAFT_CONF_PROMOTE = 3,	   /* learner -> voter */
	RAFT_CONF_REMOVE = 4,	   /* remove a voter or learner */
	RAFT_CONF_SET = 5,	   /* whole membership (only the bootstrap entry, index 1) */
};

struct raft_conf_change {
	uint8_t type;	     /* enum raft_conf_type */
	raft_id node;	     /* the member changed (not used by SET) */
	const void *context; /* opaque app bytes (member attributes); borrowed */
	size_t context_len;
	struct raft_membership membership; /* SET only */
};

/* Decodes a RAFT_ENTRY_CONF entry. out->context points into e->data.
 * Returns RAFT_OK or RAFT_ERR_INVALID. */
int raft_conf_change_decode(const struct raft_entry *e, struct raft_conf_change *out);

/* Encodes cc as the data of a RAFT_ENTRY_CONF entry (the inverse of
 * raft_conf_change_decode). Returns the size, or 0 when cap is too small.
 * The core writes these itself; a member forcing a new cluster
 * (--force-new-cluster) appends its own. */
size_t raft_conf_encode(const struct raft_conf_change *cc, uint8_t *buf, size_t cap);

/* True when id is in m's voters (resp. learners). */
bool raft_membership_is_voter(const struct raft_membership *m, raft_id id);
bool raft_membership_is_learner(const struct raft_membership *m, raft_id id);

/* ---- durable state -------------------------------------------------------- */

struct raft_hard_state {
	uint64_t term;
	raft_id vote;
	uint64_t commit;
};

struct raft_snapshot_meta {
	uint64_t index;		     /* last log index the snapshot covers */
	uint64_t term;		     /* term of that entry */
	struct raft_membership conf; /* configuration as of index */
};

struct raft_snapshot {
	struct raft_snapshot_meta meta;
	const void *data; /* the application's serialized state */
	size_t len;
};

/* What a member reads back from its disk at restart. Borrowed; copied. */
struct raft_persisted {
	struct raft_hard_state hard_state;
	const struct raft_snapshot *snapshot; /* NULL when none was taken */
	const struct raft_entry *entries;     /* contiguous, starting at snapshot index + 1 */
	size_t n_entries;
};

/* ---- messages -------------------------------------------------------------- */

enum raft_msg_type {
	RAFT_MSG_APPEND = 1,  /* leader -> follower: index/log_term = previous entry */
	RAFT_MSG_APPEND_RESP, /* index = match (or rejected prev index if reject) */
	RAFT_MSG_VOTE,	      /* index/log_term = candidate's last entry */
	RAFT_MSG_VOTE_RESP,
	RAFT_MSG_PREVOTE, /* term = the term the candidate would use */
	RAFT_MSG_PREVOTE_RESP,
	RAFT_MSG_HEARTBEAT,	  /* commit; context = leader's read round */
	RAFT_MSG_HEARTBEAT_RESP,  /* context echoed */
	RAFT_MSG_SNAPSHOT,	  /* snapshot (meta + data) */
	RAFT_MSG_TIMEOUT_NOW,	  /* leader transfer: campaign at once */
	RAFT_MSG_READ_INDEX,	  /* follower -> leader: context = app read context */
	RAFT_MSG_READ_INDEX_RESP, /* index = read index; reject when refused */
};

struct raft_message {
	uint8_t type; /* enum raft_msg_type */
	raft_id from;
	raft_id to;
	uint64_t term;
	uint64_t log_term;
	uint64_t index;
	uint64_t commit;
	uint64_t context;
	bool reject;
	bool transfer;			  /* VOTE/PREVOTE: campaign caused by leader transfer */
	uint64_t reject_hint;		  /* APPEND_RESP reject: follower's hint index */
	const struct raft_entry *entries; /* APPEND */
	size_t n_entries;
	const struct raft_snapshot *snapshot; /* SNAPSHOT */
};

const char *raft_msg_type_name(int type);

/* ---- construction ------------------------------------------------------------ */

struct raft_config {
	raft_id id;	       /* this member */
	uint64_t election_ms;  /* default 1000; randomized in [ET, 2ET) */
	uint64_t heartbeat_ms; /* default 100 */
	uint64_t seed;	       /* PRNG seed (e.g. id ^ boot time); any value */
	bool no_pre_vote;      /* pre-vote is on unless this is set */
	bool no_check_quorum;  /* check-quorum is on unless this is set */
	size_t max_inflight;   /* appends in flight per follower; default 256 */
	size_t max_msg_bytes;  /* payload bytes per append; default 1 MiB */
};

struct raft;

/* Allocates a member. Zero fields of cfg take their defaults. Returns NULL
 * only for cfg->id == RAFT_NONE. Then call exactly one of raft_bootstrap,
 * raft_restart or raft_join before raft_step. */
struct raft *raft_new(const struct raft_config *cfg);
void raft_free(struct raft *r);

struct raft_update;

/* A brand-new member of a brand-new cluster (etcd static bootstrap). Every
 * member must pass the same membership. The core writes one CONF(SET) entry
 * at index 1, term 1, time 0, committed: out asks to persist it. */
int raft_bootstrap(struct raft *r, const struct raft_membership *initial, uint64_t now_ms,
		   struct raft_update *out);

/* Same, with opaque app bytes stored in the SET entry (the app's member
 * attributes: names and URLs), handed back by raft_conf_change_decode as
 * context when the entry is applied. Borrowed; copied. */
int raft_bootstrap_ctx(struct raft *r, const struct raft_membership *initial, const void *context,
		       size_t context_len, uint64_t now_ms, struct raft_update *out);

/* A brand-new member joining an existing cluster: empty log, no
 * configuration; it waits for the leader to send it log or a snapshot. */
int raft_join(struct raft *r, uint64_t now_ms, struct raft_update *out);

/* Restart from what the member persisted. The first update hands out the
 * committed entries after the snapshot again, for the app to re-apply. */
int raft_restart(struct raft *r, const struct raft_persisted *p, uint64_t now_ms,
		 struct raft_update *out);

/* ---- the step function ------------------------------------------------------ */

/* One application payload of a batched PROPOSE (borrowed for the step). */
struct raft_payload {
	const void *data;
	size_t len;
};

enum raft_event_type {
	RAFT_EV_TICK = 1,    /* time passed: elections, heartbeats, check-quorum */
	RAFT_EV_RECEIVE,     /* a message from a peer */
	RAFT_EV_PROPOSE,     /* leader only: append an application payload */
	RAFT_EV_CONF_CHANGE, /* leader only: propose a single-member change */
	RAFT_EV_PERSISTED,   /* all updates with persist_seq <= seq are durable */
	RAFT_EV_SNAPSHOT,    /* the app made a snapshot of its applied state */
	RAFT_EV_CAMPAIGN,    /* start an election now (single voter, transfer) */
	RAFT_EV_TRANSFER,    /* leader only: hand leadership to target */
	RAFT_EV_READ_INDEX,  /* linearizable read request with an opaque context */
};

struct raft_event {
	uint8_t type;	 /* enum raft_event_type */
	uint64_t now_ms; /* monotonic milliseconds (any origin, never decreasing) */
	int64_t wall_ns; /* unix ns; stamped into entries a leader appends */
	union {
		struct {
			const struct raft_message *msg;
		} receive;
		/* one payload (data, len), or, when n_batch > 0, the n_batch
		 * payloads of batch in order: one append message per follower
		 * then carries them all. proposed_index is the last one's. */
		struct {
			const void *data;
			size_t len;
			const struct raft_payload *batch;
			size_t n_batch;
		} propose;
		struct raft_conf_change conf_change;
		struct {
			uint64_t seq;
		} persisted;
		/* the app's state at index (<= applied) is captured in data;
		 * keep `trailing` entries before index for slow followers */
		struct {
			uint64_t index;
			const void *data;
			size_t len;
			uint64_t trailing;
		} snapshot;
		struct {
			raft_id target;
		} transfer;
		struct {
			uint64_t context;
		} read_index;
	} u;
};

enum raft_role {
	RAFT_FOLLOWER = 0,
	RAFT_PRE_CANDIDATE,
	RAFT_CANDIDATE,
	RAFT_LEADER
};

struct raft_read_state {
	uint64_t context; /* as passed to RAFT_EV_READ_INDEX */
	uint64_t index;	  /* serve the read once applied >= index */
	int status;	  /* RAFT_OK, or why the read failed (leader lost ...) */
};

/* The output of one call. See doc/raft-core.md for the order the driver
 * must handle it in. Pointers are valid until the next call that takes a
 * struct raft_update (or raft_update_done). */
struct raft_update {
	/* 1. persist (hard state, then snapshot, then entries; atomically in order) */
	bool hard_state_changed;
	struct raft_hard_state hard_state;
	const struct raft_snapshot *snapshot; /* install in the app + persist, or NULL */
	const struct raft_entry *entries;     /* to append; entries[0].index may be <= last
						 * persisted index: drop persisted entries from
						 * there first (conflict repair); with a
						 * snapshot, drop the whole persisted log */
	size_t n_entries;
	bool must_sync;	       /* term/vote/entries/snapshot changed: fdatasync */
	uint64_t persist_seq;  /* report RAFT_EV_PERSISTED with this once durable */
	uint64_t compacted_to; /* log before this index is gone from memory (0: no change) */

	/* 2. send */
	const struct raft_message *messages; /* send now */
	size_t n_messages;
	const struct raft_message *messages_after_persist; /* send once persist_seq durable */
	size_t n_messages_after_persist;

	/* 3. apply (in order; CONF entries are already in effect in the core) */
	const struct raft_entry *committed;
	size_t n_committed;

	/* 4. linearizable reads now ready (or failed) */
	const struct raft_read_state *reads;
	size_t n_reads;

	/* results of this call */
	uint64_t proposed_index; /* PROPOSE/CONF_CHANGE accepted: entry index */
	uint64_t proposed_term;	 /* ... and term */
	raft_id leader;		 /* known leader after this call (RAFT_NONE if none) */
	uint64_t term;
	uint8_t role;		 /* enum raft_role */
	bool soft_state_changed; /* leader or role changed in this call */
	bool removed;		 /* this member is no longer in the configuration */
};

/* The one door. Consumes ev (borrowed), fills out. Returns RAFT_OK or an
 * error saying why a PROPOSE / CONF_CHANGE / TRANSFER / READ_INDEX / SNAPSHOT
 * was refused; out is filled in every case (out->leader tells where to
 * forward). Time (ev->now_ms) must never go backwards. */
int raft_step(struct raft *r, const struct raft_event *ev, struct raft_update *out);

/* Releases the buffers of the last update early (optional). */
void raft_update_done(struct raft *r);

/* Milliseconds (same clock as now_ms) at which the next RAFT_EV_TICK is
 * due. Ticking earlier or more often is harmless. */
uint64_t raft_next_tick(const struct raft *r);

/* ---- introspection (/v2/stats/self, X-Raft-Term) ------------------------------ */

struct raft_status {
	raft_id id;
	raft_id leader;
	uint8_t role;
	uint64_t term;
	raft_id vote;
	uint64_t commit;
	uint64_t applied;     /* last index handed out in committed (or snapshot) */
	uint64_t first_index; /* first entry still in memory */
	uint64_t last_index;
	uint64_t snapshot_index;
	raft_id transfer_target; /* leader transfer in progress, or RAFT_NONE */
	struct raft_membership conf;
};

void raft_status(const struct raft *r, struct raft_status *out);

/* Leader only: the replication state of a member (for stats and for
 * deciding when a learner has caught up). Returns false if unknown. */
bool raft_progress_of(const struct raft *r, raft_id id, uint64_t *match, uint64_t *next);

/* Metadata (index, term, configuration) of the latest snapshot the core
 * holds: after RAFT_EV_SNAPSHOT the driver writes it next to its snapshot
 * data, to hand back in raft_persisted at restart. False if none. */
bool raft_snapshot_meta(const struct raft *r, struct raft_snapshot_meta *out);

/* Term of the entry at index, if still known (in memory or the snapshot). */
bool raft_term_at(const struct raft *r, uint64_t index, uint64_t *term);

#endif /* CETCD_RAFT_H */
