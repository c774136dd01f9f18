/* test_raft_unit.c - the Raft core's interface, one member at a time:
 * construction, bootstrap/restart, error values, the persist-before-count
 * rule, configuration encoding, snapshots, timers; the driver's ordering
 * bookkeeping (raft_pipeline). */
#include "../lib/harness.h"
#include "raft/raft.h"
#include "raft/raft_pipeline.h"

struct one {
	struct raft *r;
	struct raft_update u;
	uint64_t now;
};

static struct raft *make(raft_id id, bool pre_vote)
{
	struct raft_config cfg = {.id = id, .seed = test_seed, .no_pre_vote = !pre_vote};
	return raft_new(&cfg);
}

static int step(struct one *o, struct raft_event ev)
{
	ev.now_ms = o->now;
	ev.wall_ns = 1000 + (int64_t)o->now;
	return raft_step(o->r, &ev, &o->u);
}

static void persisted(struct one *o)
{
	struct raft_event ev = {.type = RAFT_EV_PERSISTED};
	ev.u.persisted.seq = o->u.persist_seq;
	step(o, ev);
}

static struct raft_membership voters(unsigned n)
{
	struct raft_membership m = {.n_voters = n};
	for (unsigned i = 0; i < n; i++)
		m.voters[i] = i + 1;
	return m;
}

static void test_new_defaults(void)
{
	struct raft_config bad = {.id = RAFT_NONE};
	REQUIRE(raft_new(&bad) == NULL);
	struct raft *r = make(1, true);
	REQUIRE(r != NULL);
	struct raft_event tick = {.type = RAFT_EV_TICK};
	struct raft_update u;
	REQUIRE_EQ(raft_step(r, &tick, &u), RAFT_ERR_INVALID); /* not started */
	raft_free(r);
}

/* Bootstrap writes one committed SET entry every member agrees on. */
static void test_bootstrap_entry(void)
{
	struct one o = {.r = make(2, true)};
	struct raft_membership m = voters(3);
	m.n_learners = 1;
	m.learners[0] = 9;
	REQUIRE_EQ(raft_bootstrap(o.r, &m, 0, &o.u), RAFT_OK);
	REQUIRE(o.u.hard_state_changed && o.u.must_sync);
	REQUIRE_EQ(o.u.hard_state.term, 1);
	REQUIRE_EQ(o.u.hard_state.commit, 1);
	REQUIRE_EQ(o.u.n_entries, 1);
	REQUIRE_EQ(o.u.entries[0].type, RAFT_ENTRY_CONF);
	REQUIRE_EQ(o.u.entries[0].time, 0);
	REQUIRE_EQ(o.u.n_committed, 1);
	struct raft_conf_change cc;
	REQUIRE_EQ(raft_conf_change_decode(&o.u.entries[0], &cc), RAFT_OK);
	REQUIRE_EQ(cc.type, RAFT_CONF_SET);
	REQUIRE_EQ(cc.membership.n_voters, 3);
	REQUIRE_EQ(cc.membership.learners[0], 9);
	struct raft_status st;
	raft_status(o.r, &st);
	REQUIRE(raft_membership_is_voter(&st.conf, 3));
	REQUIRE(raft_membership_is_learner(&st.conf, 9));
	REQUIRE_EQ(st.applied, 1);
	REQUIRE_EQ(raft_bootstrap(o.r, &m, 0, &o.u), RAFT_ERR_INVALID); /* only once */
	raft_free(o.r);
}

/* One voter: campaign, persist, lead, persist the no-op, commit. A
 * proposal commits when its own write is durable and not before. */
static void test_single_voter_commit_on_persist(void)
{
	struct one o = {.r = make(1, true)};
	struct raft_membership m = voters(1);
	raft_bootstrap(o.r, &m, 0, &o.u);
	persisted(&o);
	REQUIRE_EQ(step(&o, (struct raft_event){.type = RAFT_EV_CAMPAIGN}), RAFT_OK);
	REQUIRE_EQ(o.u.role, RAFT_CANDIDATE); /* own vote not durable yet */
	REQUIRE_EQ(o.u.hard_state.vote, 1);
	REQUIRE(o.u.must_sync);
	persisted(&o);
	REQUIRE_EQ(o.u.role, RAFT_LEADER);
	REQUIRE_EQ(o.u.n_entries, 1); /* no-op */
	REQUIRE_EQ(o.u.n_committed, 0);
	persisted(&o);
	REQUIRE_EQ(o.u.n_committed, 1);
	REQUIRE_EQ(o.u.committed[0].type, RAFT_ENTRY_NOOP);
	o.now = 5;
	struct raft_event p = {.type = RAFT_EV_PROPOSE};
	p.u.propose.data = "hello";
	p.u.propose.len = 5;
	REQUIRE_EQ(step(&o, p), RAFT_OK);
	REQUIRE_EQ(o.u.proposed_index, 3);
	REQUIRE_EQ(o.u.proposed_term, o.u.term);
	REQUIRE_EQ(o.u.n_entries, 1);
	REQUIRE_EQ(o.u.entries[0].time, 1005); /* the event's wall clock */
	REQUIRE_EQ(o.u.n_committed, 0);
	persisted(&o);
	REQUIRE_EQ(o.u.n_committed, 1);
	REQUIRE_EQ(o.u.committed[0].len, 5);
	REQUIRE(memcmp(o.u.committed[0].data, "hello", 5) == 0);
	/* a read on a lone leader is ready at once */
	struct raft_event rd = {.type = RAFT_EV_READ_INDEX};
	rd.u.read_index.context = 99;
	REQUIRE_EQ(step(&o, rd), RAFT_OK);
	REQUIRE_EQ(o.u.n_reads, 1);
	REQUIRE_EQ(o.u.reads[0].context, 99);
	REQUIRE_EQ(o.u.reads[0].index, 3);
	REQUIRE_EQ(o.u.reads[0].status, RAFT_OK);
	raft_free(o.r);
}

/* How many APPENDs the last update sends to `to` (before and after persist);
 * *last points to the last of them. */
static size_t appends_to(const struct raft_update *u, raft_id to, const struct raft_message **last)
{
	size_t n = 0;
	const struct raft_message *lists[2] = {u->messages, u->messages_after_persist};
	size_t counts[2] = {u->n_messages, u->n_messages_after_persist};
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; i < counts[l]; i++)
			if (lists[l][i].to == to && lists[l][i].type == RAFT_MSG_APPEND) {
				n++;
				*last = &lists[l][i];
			}
	return n;
}

/* A batched PROPOSE appends its payloads in order, and a follower that is
 * replicating gets them all in one APPEND. */
static void test_batched_proposal(void)
{
	struct one o = {.r = make(1, false)};
	struct raft_membership m = voters(3);
	raft_bootstrap(o.r, &m, 0, &o.u);
	persisted(&o);
	REQUIRE_EQ(step(&o, (struct raft_event){.type = RAFT_EV_CAMPAIGN}), RAFT_OK);
	persisted(&o);
	uint64_t term = o.u.term;
	struct raft_message vr = {.type = RAFT_MSG_VOTE_RESP, .from = 2, .to = 1, .term = term};
	struct raft_event rx = {.type = RAFT_EV_RECEIVE};
	rx.u.receive.msg = &vr;
	REQUIRE_EQ(step(&o, rx), RAFT_OK);
	REQUIRE_EQ(o.u.role, RAFT_LEADER); /* with its no-op at index 2 */
	persisted(&o);
	for (raft_id f = 2; f <= 3; f++) { /* both followers hold the no-op */
		struct raft_message ar = {
			.type = RAFT_MSG_APPEND_RESP, .from = f, .to = 1, .term = term, .index = 2};
		rx.u.receive.msg = &ar;
		REQUIRE_EQ(step(&o, rx), RAFT_OK);
	}
	struct raft_payload batch[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
	struct raft_event p = {.type = RAFT_EV_PROPOSE};
	p.u.propose.batch = batch;
	p.u.propose.n_batch = 3;
	REQUIRE_EQ(step(&o, p), RAFT_OK);
	REQUIRE_EQ(o.u.proposed_index, 5);
	REQUIRE_EQ(o.u.n_entries, 3);
	for (size_t i = 0; i < 3; i++) {
		REQUIRE_EQ(o.u.entries[i].index, 3 + i);
		REQUIRE_EQ(o.u.entries[i].len, i + 1);
	}
	for (raft_id f = 2; f <= 3; f++) {
		const struct raft_message *a = NULL;
		REQUIRE_EQ(appends_to(&o.u, f, &a), 1);
		REQUIRE_EQ(a->index, 2); /* the entry before them */
		REQUIRE_EQ(a->n_entries, 3);
		REQUIRE(memcmp(a->entries[2].data, "ccc", 3) == 0);
	}
	p.u.propose.batch = NULL; /* n_batch without the array */
	REQUIRE_EQ(step(&o, p), RAFT_ERR_INVALID);
	raft_free(o.r);
}

/* Followers refuse proposals with the leader to forward to. */
static void test_follower_rejects_proposals(void)
{
	struct one o = {.r = make(2, true)};
	struct raft_membership m = voters(3);
	raft_bootstrap(o.r, &m, 0, &o.u);
	struct raft_event p = {.type = RAFT_EV_PROPOSE};
	p.u.propose.data = "x";
	p.u.propose.len = 1;
	REQUIRE_EQ(step(&o, p), RAFT_ERR_NO_LEADER);
	REQUIRE_EQ(step(&o, (struct raft_event){.type = RAFT_EV_READ_INDEX}), RAFT_ERR_NO_LEADER);
	/* a heartbeat from the leader of term 2 */
	struct raft_message hb = {.type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 2};
	struct raft_event rx = {.type = RAFT_EV_RECEIVE};
	rx.u.receive.msg = &hb;
	REQUIRE_EQ(step(&o, rx), RAFT_OK);
	REQUIRE_EQ(o.u.leader, 1);
	REQUIRE(o.u.soft_state_changed);
	REQUIRE_EQ(o.u.n_messages, 1);
	REQUIRE_EQ(o.u.messages[0].type, RAFT_MSG_HEARTBEAT_RESP);
	REQUIRE_EQ(step(&o, p), RAFT_ERR_NOT_LEADER);
	REQUIRE_EQ(o.u.leader, 1);
	/* a read is forwarded to the leader */
	struct raft_event rd = {.type = RAFT_EV_READ_INDEX};
	rd.u.read_index.context = 7;
	REQUIRE_EQ(step(&o, rd), RAFT_OK);
	REQUIRE_EQ(o.u.n_messages, 1);
	REQUIRE_EQ(o.u.messages[0].type, RAFT_MSG_READ_INDEX);
	REQUIRE_EQ(o.u.messages[0].to, 1);
	/* the leader changes (higher term, unknown leader): the read fails */
	struct raft_message v = {
		.type = RAFT_MSG_VOTE, .from = 3, .to = 2, .term = 3, .index = 1, .log_term = 1};
	rx.u.receive.msg = &v;
	o.now = 5000; /* well past the leader lease */
	step(&o, rx);
	REQUIRE_EQ(o.u.n_reads, 1);
	REQUIRE_EQ(o.u.reads[0].context, 7);
	REQUIRE(o.u.reads[0].status != RAFT_OK);
	/* the vote is granted only after persistence */
	REQUIRE_EQ(o.u.n_messages, 0);
	REQUIRE_EQ(o.u.n_messages_after_persist, 1);
	REQUIRE_EQ(o.u.messages_after_persist[0].type, RAFT_MSG_VOTE_RESP);
	REQUIRE(!o.u.messages_after_persist[0].reject);
	REQUIRE_EQ(o.u.hard_state.vote, 3);
	REQUIRE(o.u.must_sync);
	raft_free(o.r);
}

/* Follower append handling: log matching check, reject with a hint,
 * conflict truncation, commit bounded by what was verified. */
static void test_follower_append_rules(void)
{
	struct one o = {.r = make(2, false)};
	struct raft_membership m = voters(3);
	raft_bootstrap(o.r, &m, 0, &o.u);
	struct raft_entry e[3] = {
		{.term = 2, .index = 2, .data = "a", .len = 1},
		{.term = 2, .index = 3, .data = "b", .len = 1},
		{.term = 2, .index = 4, .data = "c", .len = 1},
	};
	struct raft_message app = {.type = RAFT_MSG_APPEND,
				   .from = 1,
				   .to = 2,
				   .term = 2,
				   .index = 1,
				   .log_term = 1,
				   .commit = 3,
				   .entries = e,
				   .n_entries = 3};
	struct raft_event rx = {.type = RAFT_EV_RECEIVE};
	rx.u.receive.msg = &app;
	step(&o, rx);
	REQUIRE_EQ(o.u.n_entries, 3);
	REQUIRE_EQ(o.u.n_messages_after_persist, 1);
	REQUIRE_EQ(o.u.messages_after_persist[0].index, 4);
	REQUIRE_EQ(o.u.hard_state.commit, 3);
	REQUIRE_EQ(o.u.n_committed, 2);
	/* a gap: prev index 9 does not exist -> reject, hint at our last */
	struct raft_message gap = app;
	gap.index = 9;
	gap.log_term = 2;
	gap.n_entries = 0;
	rx.u.receive.msg = &gap;
	step(&o, rx);
	REQUIRE(o.u.messages_after_persist[0].reject);
	REQUIRE_EQ(o.u.messages_after_persist[0].reject_hint, 4);
	/* a new leader (term 3) overwrites index 4 */
	struct raft_entry f = {.term = 3, .index = 4, .data = "z", .len = 1};
	struct raft_message fix = {.type = RAFT_MSG_APPEND,
				   .from = 3,
				   .to = 2,
				   .term = 3,
				   .index = 3,
				   .log_term = 2,
				   .commit = 3,
				   .entries = &f,
				   .n_entries = 1};
	rx.u.receive.msg = &fix;
	step(&o, rx);
	REQUIRE_EQ(o.u.n_entries, 1);
	REQUIRE_EQ(o.u.entries[0].index, 4); /* driver drops its old 4 first */
	REQUIRE_EQ(o.u.entries[0].term, 3);
	uint64_t t;
	REQUIRE(raft_term_at(o.r, 4, &t));
	REQUIRE_EQ(t, 3);
	raft_free(o.r);
}

static void test_conf_change_codec(void)
{
	struct raft_conf_change cc = {.type = RAFT_CONF_ADD_LEARNER,
				      .node = 0x1234567890abcdefULL,
				      .context = "{\"name\":\"n4\"}",
				      .context_len = 13};
	/* propose through a lone leader and decode the entry it appends */
	struct one o = {.r = make(1, false)};
	struct raft_membership m = voters(1);
	raft_bootstrap(o.r, &m, 0, &o.u);
	persisted(&o);
	step(&o, (struct raft_event){.type = RAFT_EV_CAMPAIGN});
	persisted(&o);
	struct raft_event ev = {.type = RAFT_EV_CONF_CHANGE};
	ev.u.conf_change = cc;
	REQUIRE_EQ(step(&o, ev), RAFT_ERR_CONF_PENDING); /* no-op not committed yet */
	persisted(&o);
	REQUIRE_EQ(step(&o, ev), RAFT_OK);
	REQUIRE_EQ(o.u.n_entries, 1);
	struct raft_conf_change back;
	REQUIRE_EQ(raft_conf_change_decode(&o.u.entries[0], &back), RAFT_OK);
	REQUIRE_EQ(back.type, RAFT_CONF_ADD_LEARNER);
	REQUIRE_EQ(back.node, 0x1234567890abcdefULL);
	REQUIRE_EQ(back.context_len, 13);
	REQUIRE(memcmp(back.context, "{\"name\":\"n4\"}", 13) == 0);
	REQUIRE_EQ(step(&o, ev), RAFT_ERR_CONF_PENDING);
	persisted(&o);
	struct raft_status st;
	raft_status(o.r, &st);
	REQUIRE(raft_membership_is_learner(&st.conf, 0x1234567890abcdefULL));
	REQUIRE_EQ(step(&o, ev), RAFT_ERR_BAD_CONF); /* already a member */
	ev.u.conf_change.type = RAFT_CONF_REMOVE;
	ev.u.conf_change.node = 1;
	REQUIRE_EQ(step(&o, ev), RAFT_ERR_BAD_CONF); /* the last voter */
	struct raft_entry junk = {.type = RAFT_ENTRY_CONF, .data = "\x07", .len = 1};
	REQUIRE_EQ(raft_conf_change_decode(&junk, &back), RAFT_ERR_INVALID);
	raft_free(o.r);
}

/* Snapshots: only applied state, never older than the last; compaction;
 * restart from snapshot + entries hands the entries out again. */
static void test_snapshot_and_restart(void)
{
	struct one o = {.r = make(1, false)};
	struct raft_membership m = voters(1);
	raft_bootstrap(o.r, &m, 0, &o.u);
	persisted(&o);
	step(&o, (struct raft_event){.type = RAFT_EV_CAMPAIGN});
	persisted(&o);
	persisted(&o);
	for (int i = 0; i < 10; i++) {
		struct raft_event p = {.type = RAFT_EV_PROPOSE};
		p.u.propose.data = "e";
		p.u.propose.len = 1;
		step(&o, p);
		persisted(&o);
	}
	struct raft_status st;
	raft_status(o.r, &st);
	REQUIRE_EQ(st.commit, 12);
	struct raft_event s = {.type = RAFT_EV_SNAPSHOT};
	s.u.snapshot.index = 13;
	REQUIRE_EQ(step(&o, s), RAFT_ERR_INVALID); /* not applied */
	s.u.snapshot.index = 10;
	s.u.snapshot.data = "state";
	s.u.snapshot.len = 5;
	s.u.snapshot.trailing = 2;
	REQUIRE_EQ(step(&o, s), RAFT_OK);
	REQUIRE_EQ(o.u.compacted_to, 9);
	raft_status(o.r, &st);
	REQUIRE_EQ(st.snapshot_index, 10);
	REQUIRE_EQ(st.first_index, 9);
	s.u.snapshot.index = 9;
	REQUIRE_EQ(step(&o, s), RAFT_ERR_STALE);
	uint64_t term = st.term;
	raft_free(o.r);

	/* restart: snapshot at 10, entries 11..12, commit 12 */
	struct raft_snapshot snap = {
		.meta = {.index = 10, .term = term, .conf = m}, .data = "state", .len = 5};
	struct raft_entry e[2] = {{.term = term, .index = 11, .data = "e", .len = 1},
				  {.term = term, .index = 12, .data = "e", .len = 1}};
	struct raft_persisted p = {.hard_state = {.term = term, .vote = 1, .commit = 12},
				   .snapshot = &snap,
				   .entries = e,
				   .n_entries = 2};
	struct one r2 = {.r = make(1, false)};
	REQUIRE_EQ(raft_restart(r2.r, &p, 0, &r2.u), RAFT_OK);
	REQUIRE(!r2.u.hard_state_changed);
	REQUIRE_EQ(r2.u.n_entries, 0);
	REQUIRE_EQ(r2.u.n_committed, 2);
	REQUIRE_EQ(r2.u.committed[0].index, 11);
	raft_status(r2.r, &st);
	REQUIRE_EQ(st.applied, 12);
	REQUIRE_EQ(st.snapshot_index, 10);
	raft_free(r2.r);

	/* entries that do not follow the snapshot are refused */
	e[0].index = 12;
	struct one r3 = {.r = make(1, false)};
	REQUIRE_EQ(raft_restart(r3.r, &p, 0, &r3.u), RAFT_ERR_INVALID);
	raft_free(r3.r);
}

/* Election timeouts are randomized in [ET, 2ET) and come from the seed. */
static void test_election_timeout_range(void)
{
	for (uint64_t seed = 1; seed < 200; seed++) {
		struct raft_config cfg = {.id = 1, .seed = seed, .election_ms = 1000};
		struct raft *r = raft_new(&cfg);
		struct raft_membership m = voters(3);
		struct raft_update u;
		raft_bootstrap(r, &m, 500, &u);
		uint64_t t = raft_next_tick(r);
		REQUIRE(t >= 1500 && t < 2500);
		raft_free(r);
	}
}

static void test_names(void)
{
	REQUIRE(strcmp(raft_msg_type_name(RAFT_MSG_APPEND), "append") == 0);
	REQUIRE(strcmp(raft_msg_type_name(RAFT_MSG_READ_INDEX_RESP), "read_index_resp") == 0);
	REQUIRE(strcmp(raft_strerror(RAFT_ERR_NOT_LEADER), "not the leader") == 0);
}

/* The driver's ordering (raft_pipeline.c): a granted vote leaves only once
 * the write holding the vote is durable, not when an earlier one is; a
 * crash (reset) loses it. */
static void test_pipeline_vote_waits_for_durability(void)
{
	struct one o = {.r = make(1, false)};
	struct raft_membership m = voters(3);
	struct raft_pipeline p = RAFT_PIPELINE_INIT;
	REQUIRE_EQ(raft_bootstrap(o.r, &m, 0, &o.u), RAFT_OK);
	raft_pipeline_submit(&p, 1, o.u.persist_seq);
	raft_pipeline_park(&p, &o.u);
	REQUIRE_EQ(raft_pipeline_durable(&p, 1), o.u.persist_seq);
	persisted(&o);

	struct raft_message vote = {
		.type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 2, .index = 1, .log_term = 1};
	struct raft_event ev = {.type = RAFT_EV_RECEIVE};
	ev.u.receive.msg = &vote;
	step(&o, ev);
	REQUIRE(o.u.hard_state_changed && o.u.hard_state.vote == 2);
	REQUIRE_EQ(o.u.n_messages, 0);
	REQUIRE_EQ(o.u.n_messages_after_persist, 1);
	uint64_t seq = o.u.persist_seq;
	REQUIRE(!raft_pipeline_submitted(&p, seq));
	raft_pipeline_submit(&p, 2, seq);
	raft_pipeline_park(&p, &o.u);
	REQUIRE(raft_pipeline_submitted(&p, seq));
	REQUIRE(raft_pipeline_next_ready(&p) == NULL); /* the vote is not durable */
	REQUIRE_EQ(raft_pipeline_durable(&p, 1), 0);   /* an older write: nothing new */
	REQUIRE(raft_pipeline_next_ready(&p) == NULL);
	REQUIRE_EQ(raft_pipeline_durable(&p, 2), seq);
	const struct raft_message *r = raft_pipeline_next_ready(&p);
	REQUIRE(r != NULL);
	REQUIRE_EQ(r->type, RAFT_MSG_VOTE_RESP);
	REQUIRE(!r->reject && r->to == 2 && r->term == 2);
	REQUIRE(raft_pipeline_next_ready(&p) == NULL); /* handed out once */

	/* parked again, then the member crashes before the write is durable */
	raft_pipeline_submit(&p, 3, seq + 1);
	struct raft_update again = o.u;
	again.persist_seq = seq + 1;
	raft_pipeline_park(&p, &again);
	raft_pipeline_reset(&p);
	REQUIRE_EQ(raft_pipeline_durable(&p, 3), 0);
	REQUIRE(raft_pipeline_next_ready(&p) == NULL);
	raft_free(o.r);
}

/* A message whose persist_seq is durable already leaves at once, and a
 * persist with nothing to write rides on the write in flight. */
static void test_pipeline_ready_at_once(void)
{
	struct raft_pipeline p = RAFT_PIPELINE_INIT;
	struct raft_message ack = {.type = RAFT_MSG_APPEND_RESP, .from = 1, .to = 2};
	struct raft_update u = {
		.persist_seq = 1, .messages_after_persist = &ack, .n_messages_after_persist = 1};
	raft_pipeline_submit(&p, 7, 1);
	raft_pipeline_submit(&p, 7, 2); /* nothing new: durable with write 7 */
	REQUIRE_EQ(raft_pipeline_durable(&p, 7), 2);
	raft_pipeline_park(&p, &u);
	const struct raft_message *r = raft_pipeline_next_ready(&p);
	REQUIRE(r != NULL && r->type == RAFT_MSG_APPEND_RESP);
	REQUIRE(raft_pipeline_next_ready(&p) == NULL);
	raft_pipeline_reset(&p);
}

static const struct test_case cases[] = {
	{"new_defaults", test_new_defaults},
	{"bootstrap_entry", test_bootstrap_entry},
	{"single_voter_commit_on_persist", test_single_voter_commit_on_persist},
	{"batched_proposal", test_batched_proposal},
	{"follower_rejects_proposals", test_follower_rejects_proposals},
	{"follower_append_rules", test_follower_append_rules},
	{"conf_change_codec", test_conf_change_codec},
	{"snapshot_and_restart", test_snapshot_and_restart},
	{"election_timeout_range", test_election_timeout_range},
	{"names", test_names},
	{"pipeline_vote_waits_for_durability", test_pipeline_vote_waits_for_durability},
	{"pipeline_ready_at_once", test_pipeline_ready_at_once},
};

int main(int argc, char **argv)
{
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
