/* test_raft_scenarios.c - deterministic Raft stories on the in-memory
 * cluster: each test reads as what happens to whom, and checks the
 * outcome plus every invariant the fixture watches. CETCD_TRACE=1 prints
 * the protocol trace of each story. */
#include "raft_cluster.h"
#include "../lib/harness.h"

/* ---- helpers ------------------------------------------------------------------ */

static struct raft_fixture *current; /* freed by cleanup() after each story */

static struct raft_fixture *new_cluster_with(unsigned n, const struct raft_config *base)
{
	current = fixture_new(n, test_seed, base);
	return current;
}

static struct raft_fixture *new_cluster(unsigned n)
{
	return new_cluster_with(n, NULL);
}

static void cleanup(void)
{
	if (current == NULL)
		return;
	if (test_failed || getenv("CETCD_TRACE"))
		fixture_print_trace(current);
	fixture_free(current);
	current = NULL;
}

static struct raft_status status_of(struct raft_fixture *c, raft_id id)
{
	struct raft_status st;
	fixture_status(c, id, &st);
	return st;
}

struct applied_arg {
	uint64_t index;
};

static bool applied_everywhere(struct raft_fixture *c, void *arg)
{
	return fixture_applied_everywhere(c, ((struct applied_arg *)arg)->index);
}

static bool wait_applied(struct raft_fixture *c, uint64_t index, uint64_t max_ms)
{
	struct applied_arg a = {index};
	return fixture_run_until(c, applied_everywhere, &a, max_ms);
}

static raft_id elect(struct raft_fixture *c)
{
	if (!fixture_run_until(c, fixture_has_leader, NULL, 2000))
		return RAFT_NONE;
	return fixture_leader(c);
}

struct leader_other_arg {
	raft_id not ;
};

static bool leader_is_not(struct raft_fixture *c, void *arg)
{
	raft_id l = fixture_leader(c);
	return l != RAFT_NONE && l != ((struct leader_other_arg *)arg)->not ;
}

/* ---- election --------------------------------------------------------------------- */

/* Three members start; one times out first, wins, and its no-op commits. */
static void test_normal_election(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	struct raft_status st = status_of(c, l);
	REQUIRE_EQ(st.term, 2);		  /* bootstrap is term 1 */
	REQUIRE(wait_applied(c, 2, 500)); /* SET entry + the leader's no-op */
	for (raft_id i = 1; i <= 3; i++)
		REQUIRE_EQ(status_of(c, i).leader, l);
	uint64_t idx = 0;
	REQUIRE_EQ(fixture_propose(c, l, "x=1", &idx), RAFT_OK);
	REQUIRE_EQ(idx, 3);
	REQUIRE(wait_applied(c, 3, 500));
	REQUIRE(fixture_ok(c));
}

/* The same election as a protocol transcript (fixed seed, so the story is
 * exact): n2 and n3 time out a millisecond apart and both pass pre-vote;
 * n1 gives its real vote to n3, whose request arrives first; n2 is turned
 * down by a majority (the refusals leave at once: their voters had nothing
 * new to persist) and then hears from its leader n3. */
static void test_election_transcript(void)
{
	static const char expected[] = "   108ms n2 pre-candidate term 1 (leader 0)\n"
				       "   109ms n3 pre-candidate term 1 (leader 0)\n"
				       "   113ms n3 candidate term 2 (leader 0)\n"
				       "   114ms n2 candidate term 2 (leader 0)\n"
				       "   116ms n1 follower term 2 (leader 0)\n"
				       "   119ms n3 leader term 2 (leader 3)\n"
				       "   120ms n2 follower term 2 (leader 0)\n"
				       "   121ms n1 follower term 2 (leader 3)\n"
				       "   122ms n2 follower term 2 (leader 3)\n";
	current = fixture_new(3, 1, NULL);
	struct raft_fixture *c = current;
	c->trace = true;
	c->trace_len = 0;
	REQUIRE(fixture_run_until(c, fixture_has_leader, NULL, 1000));
	fixture_run(c, 10);
	REQUIRE(c->trace_buf != NULL);
	if (strcmp(c->trace_buf, expected) != 0) {
		fprintf(stderr, "  expected:\n%s  got:\n%s", expected, c->trace_buf);
		REQUIRE(!"transcript differs");
	}
	REQUIRE(fixture_ok(c));
}

/* A single member elects itself as soon as the app asks it to campaign
 * and commits when its own write is durable. */
static void test_single_member_fast(void)
{
	struct raft_fixture *c = new_cluster(1);
	REQUIRE_EQ(fixture_campaign(c, 1), RAFT_OK);
	fixture_run(c, 10); /* two disk writes of <= 2 ms each */
	REQUIRE_EQ(fixture_leader(c), 1);
	uint64_t idx;
	REQUIRE_EQ(fixture_propose(c, 1, "solo", &idx), RAFT_OK);
	fixture_run(c, 5);
	REQUIRE_EQ(c->m[1].sm_index, idx);
	REQUIRE(fixture_ok(c));
}

/* Rule 4 through the fixture's driver (raft_pipeline.c): a follower's ack
 * waits for its own disk write, so with the followers' disks busy the
 * leader cannot commit, though its own write was durable long before. */
static void test_acks_wait_for_follower_disks(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(wait_applied(c, 2, 500));
	for (raft_id i = 1; i <= 3; i++)
		if (i != l)
			c->m[i].disk_busy_until = c->now + 40;
	uint64_t idx = 0;
	REQUIRE_EQ(fixture_propose(c, l, "slow=1", &idx), RAFT_OK);
	fixture_run(c, 30);
	REQUIRE(status_of(c, l).commit < idx); /* the acks are parked */
	fixture_run(c, 30);
	REQUIRE(status_of(c, l).commit >= idx);
	REQUIRE(fixture_ok(c));
}

/* Two candidates split the vote of a four-member cluster; the randomized
 * timeouts break the tie in a later term. */
static void test_split_vote(void)
{
	struct raft_config base = {.no_pre_vote = true};
	struct raft_fixture *c = new_cluster_with(4, &base);
	/* n1 and n2 campaign at the same instant; n3 hears n1 first and n4
	 * hears n2 first, so nobody reaches 3 of 4 votes in term 2 */
	struct cl_link slow = {.delay_min = 20, .delay_max = 20};
	fixture_set_link(c, 1, 4, &slow);
	fixture_set_link(c, 2, 3, &slow);
	REQUIRE_EQ(fixture_campaign(c, 1), RAFT_OK);
	REQUIRE_EQ(fixture_campaign(c, 2), RAFT_OK);
	fixture_run(c, 40);
	REQUIRE_EQ(fixture_leader(c), RAFT_NONE);
	REQUIRE_EQ(status_of(c, 1).term, 2);
	REQUIRE_EQ(status_of(c, 2).term, 2);
	fixture_heal(c);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(status_of(c, l).term >= 3);
	REQUIRE(fixture_ok(c));
}

/* A member cut off from the others keeps timing out. With pre-vote its
 * term does not move, so when it returns it does not depose the leader. */
static void test_prevote_rejoin(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	uint64_t term = status_of(c, l).term;
	raft_id lonely = l == 3 ? 2 : 3;
	fixture_isolate(c, lonely);
	fixture_run(c, 1000); /* ten election timeouts */
	REQUIRE_EQ(status_of(c, lonely).term, term);
	REQUIRE(status_of(c, lonely).role == RAFT_PRE_CANDIDATE ||
		status_of(c, lonely).role == RAFT_FOLLOWER);
	fixture_heal(c);
	fixture_run(c, 300);
	REQUIRE_EQ(fixture_leader(c), l);
	REQUIRE_EQ(status_of(c, l).term, term);
	REQUIRE_EQ(status_of(c, lonely).leader, l);
	REQUIRE(fixture_ok(c));
}

/* Check-quorum: a leader that cannot hear a majority steps down within an
 * election timeout or two, and the majority elects a new leader. */
static void test_check_quorum_steps_down(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	fixture_isolate(c, l);
	fixture_run(c, 250);
	REQUIRE(status_of(c, l).role != RAFT_LEADER);
	REQUIRE_EQ(status_of(c, l).leader, RAFT_NONE);
	/* a read asked of the old leader fails instead of hanging */
	REQUIRE(fixture_read(c, l, 77) != RAFT_OK);
	struct leader_other_arg a = {l};
	REQUIRE(fixture_run_until(c, leader_is_not, &a, 1000));
	REQUIRE(fixture_ok(c));
}

/* A leader on the minority side of a partition accepts a proposal but
 * cannot commit it; the majority moves on; after healing, the minority's
 * entry is replaced. */
static void test_minority_leader_cannot_commit(void)
{
	struct raft_config base = {.no_check_quorum = true};
	struct raft_fixture *c = new_cluster_with(5, &base);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(wait_applied(c, 2, 500));
	raft_id buddy = l % 5 + 1;
	for (raft_id i = 1; i <= 5; i++) {
		if (i == l || i == buddy)
			continue;
		fixture_cut(c, l, i);
		fixture_cut(c, buddy, i);
	}
	uint64_t idx;
	REQUIRE_EQ(fixture_propose(c, l, "lost", &idx), RAFT_OK);
	fixture_run(c, 500);
	REQUIRE(status_of(c, l).commit < idx);
	REQUIRE(c->m[l].sm_index < idx);
	raft_id other = RAFT_NONE;
	for (raft_id i = 1; i <= 5; i++)
		if (i != l && i != buddy && status_of(c, i).role == RAFT_LEADER)
			other = i;
	REQUIRE(other != RAFT_NONE);
	uint64_t idx2;
	REQUIRE_EQ(fixture_propose(c, other, "kept", &idx2), RAFT_OK);
	fixture_heal(c);
	REQUIRE(wait_applied(c, idx2, 1000));
	REQUIRE(status_of(c, l).role != RAFT_LEADER);
	REQUIRE(fixture_ok(c));
}

/* ---- replication -------------------------------------------------------------------- */

struct want_arg {
	raft_id id;
};

static bool leader_is(struct raft_fixture *c, void *arg)
{
	return fixture_leader(c) == ((struct want_arg *)arg)->id;
}

/* Runs until want leads; stops right after the event that made it so. */
static bool wait_leader(struct raft_fixture *c, raft_id want, uint64_t max_ms)
{
	struct want_arg a = {want};
	return fixture_run_until(c, leader_is, &a, max_ms);
}

/* Raft paper figure 8, as a cluster story: S1 leads and writes an entry
 * that reaches S2 only; S5 leads a later term with S3, S4 and writes its
 * own entry alone; S1 returns in a newer term and spreads its old entry.
 * Whatever happens next, nothing committed is ever overwritten (the
 * fixture checks state-machine safety and leader completeness). */
static void test_figure8_story(void)
{
	struct raft_config base = {.no_check_quorum = true, .no_pre_vote = true};
	struct raft_fixture *c = new_cluster_with(5, &base);
	REQUIRE_EQ(fixture_campaign(c, 1), RAFT_OK);
	REQUIRE(wait_leader(c, 1, 50));
	REQUIRE(wait_applied(c, 2, 100));
	for (raft_id i = 3; i <= 5; i++)
		fixture_cut(c, 1, i);
	uint64_t idx;
	REQUIRE_EQ(fixture_propose(c, 1, "from-s1", &idx), RAFT_OK);
	fixture_run(c, 10); /* (a) reaches S2 only */
	REQUIRE(status_of(c, 2).last_index >= idx);
	REQUIRE(status_of(c, 3).last_index < idx);
	fixture_crash(c, 1);
	fixture_cut(c, 5, 2);
	REQUIRE_EQ(fixture_campaign(c, 5), RAFT_OK);
	REQUIRE(wait_leader(c, 5, 50)); /* (b) S3, S4 elect S5 */
	fixture_cut(c, 5, 3);
	fixture_cut(c, 5, 4);
	REQUIRE_EQ(fixture_propose(c, 5, "from-s5", NULL), RAFT_OK);
	fixture_run(c, 10);
	fixture_crash(c, 5);
	fixture_heal(c); /* (c) S1 back, S4 and S5 away */
	fixture_isolate(c, 4);
	fixture_restart(c, 1);
	fixture_campaign(c, 1);
	REQUIRE(fixture_run_until(c, fixture_has_leader, NULL, 5000));
	raft_id l = fixture_leader(c);
	REQUIRE(l == 1 || l == 2); /* only they hold S1's entry: S3 cannot win */
	uint64_t t_old = 0;
	REQUIRE(raft_term_at(fixture_raft(c, l), idx, &t_old));
	struct raft_status st = status_of(c, l);
	if (st.commit >= idx) {
		uint64_t tc;
		REQUIRE(raft_term_at(fixture_raft(c, l), st.commit, &tc));
		REQUIRE_EQ(tc, st.term); /* committed through an entry of its own term */
	}
	fixture_heal(c); /* (d) S5 back: cannot undo a commit */
	fixture_restart(c, 5);
	REQUIRE(fixture_run_until(c, fixture_has_leader, NULL, 1000));
	uint64_t last;
	REQUIRE_EQ(fixture_propose(c, fixture_leader(c), "end", &last), RAFT_OK);
	REQUIRE(wait_applied(c, last, 2000));
	REQUIRE(fixture_ok(c));
}

/* ---- one core driven by hand --------------------------------------------------------------- */

struct hand {
	struct raft *r;
	struct raft_update u;
	uint64_t now;
};

static int hand_step(struct hand *h, struct raft_event *ev)
{
	ev->now_ms = h->now;
	ev->wall_ns = 42;
	return raft_step(h->r, ev, &h->u);
}

static int hand_recv(struct hand *h, struct raft_message m)
{
	struct raft_event ev = {.type = RAFT_EV_RECEIVE};
	m.to = 1;
	ev.u.receive.msg = &m;
	return hand_step(h, &ev);
}

static void hand_persisted(struct hand *h)
{
	struct raft_event ev = {.type = RAFT_EV_PERSISTED};
	ev.u.persisted.seq = h->u.persist_seq;
	hand_step(h, &ev);
}

/* Figure 8's rule, exactly: S1 (term 4) holds an entry of term 2 that a
 * majority acknowledges; it must not commit it by counting replicas. Only
 * when its term-4 no-op reaches a majority do both commit. */
static void test_figure8_commit_rule(void)
{
	struct raft_config cfg = {.id = 1,
				  .election_ms = 100,
				  .heartbeat_ms = 10,
				  .no_pre_vote = true,
				  .seed = test_seed};
	struct hand h = {.r = raft_new(&cfg)};
	struct raft_snapshot snap = {.meta = {.index = 1, .term = 1}};
	snap.meta.conf.n_voters = 5;
	for (raft_id i = 0; i < 5; i++)
		snap.meta.conf.voters[i] = i + 1;
	struct raft_entry old = {
		.term = 2, .index = 2, .type = RAFT_ENTRY_NORMAL, .data = "old", .len = 3};
	struct raft_persisted p = {.hard_state = {.term = 3, .commit = 1},
				   .snapshot = &snap,
				   .entries = &old,
				   .n_entries = 1};
	REQUIRE_EQ(raft_restart(h.r, &p, 0, &h.u), RAFT_OK);
	struct raft_event camp = {.type = RAFT_EV_CAMPAIGN};
	REQUIRE_EQ(hand_step(&h, &camp), RAFT_OK);
	REQUIRE_EQ(h.u.term, 4);
	REQUIRE_EQ(h.u.n_messages, 4); /* votes asked of S2..S5 */
	hand_persisted(&h);	       /* our vote is durable */
	struct raft_message grant = {.type = RAFT_MSG_VOTE_RESP, .term = 4};
	grant.from = 2;
	hand_recv(&h, grant);
	REQUIRE(h.u.role != RAFT_LEADER);
	grant.from = 3;
	hand_recv(&h, grant);
	REQUIRE_EQ(h.u.role, RAFT_LEADER);
	REQUIRE_EQ(h.u.n_entries, 1); /* the no-op at index 3, term 4 */
	REQUIRE_EQ(h.u.entries[0].index, 3);
	REQUIRE_EQ(h.u.entries[0].type, RAFT_ENTRY_NOOP);
	REQUIRE_EQ(h.u.entries[0].time, 42); /* stamped with the event's wall clock */
	hand_persisted(&h);
	struct raft_message ack = {.type = RAFT_MSG_APPEND_RESP, .term = 4, .index = 2};
	ack.from = 2;
	hand_recv(&h, ack);
	ack.from = 3;
	hand_recv(&h, ack);
	struct raft_status st;
	raft_status(h.r, &st);
	REQUIRE_EQ(st.commit, 1); /* index 2 is on S1, S2, S3: not committed */
	ack.index = 3;
	ack.from = 2;
	hand_recv(&h, ack);
	raft_status(h.r, &st);
	REQUIRE_EQ(st.commit, 1);
	ack.from = 3;
	hand_recv(&h, ack);
	raft_status(h.r, &st);
	REQUIRE_EQ(st.commit, 3); /* the no-op commits, index 2 with it */
	REQUIRE_EQ(h.u.n_committed, 2);
	REQUIRE_EQ(h.u.committed[0].index, 2);
	raft_free(h.r);
}

/* A member with a longer log of entries that never committed (written
 * while it led a minority) rejoins; its suffix is discarded. */
static void test_rejoin_longer_uncommitted_log(void)
{
	struct raft_config base = {.no_check_quorum = true};
	struct raft_fixture *c = new_cluster_with(3, &base);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(wait_applied(c, 2, 500));
	fixture_isolate(c, l);
	for (int i = 0; i < 10; i++)
		REQUIRE_EQ(fixture_propose(c, l, "orphan", NULL), RAFT_OK);
	struct leader_other_arg a = {l};
	REQUIRE(fixture_run_until(c, leader_is_not, &a, 1000));
	raft_id nl = fixture_leader(c);
	uint64_t idx;
	REQUIRE_EQ(fixture_propose(c, nl, "winner", &idx), RAFT_OK);
	REQUIRE(status_of(c, l).last_index > idx); /* longer, but stale */
	fixture_heal(c);
	REQUIRE(wait_applied(c, idx, 1000));
	REQUIRE(status_of(c, l).role != RAFT_LEADER);
	uint64_t t;
	REQUIRE(raft_term_at(fixture_raft(c, l), idx, &t));
	REQUIRE_EQ(t, status_of(c, nl).term);
	REQUIRE(fixture_ok(c));
}

/* Conflicting suffixes on several followers (from two short-lived leaders)
 * are repaired by the fast back-off, and everyone converges. */
static void test_conflicting_suffix_repair(void)
{
	struct raft_config base = {.no_check_quorum = true, .no_pre_vote = true};
	struct raft_fixture *c = new_cluster_with(5, &base);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(wait_applied(c, 2, 500));
	uint64_t agreed = status_of(c, l).commit;
	/* l writes 20 entries that reach only one follower, f */
	raft_id f = l % 5 + 1;
	for (raft_id i = 1; i <= 5; i++)
		if (i != l && i != f) {
			fixture_cut(c, l, i);
			fixture_cut(c, f, i);
		}
	for (int i = 0; i < 20; i++)
		fixture_propose(c, l, "stale-a", NULL);
	fixture_run(c, 30);
	REQUIRE(status_of(c, f).last_index >= agreed + 20);
	/* the other three elect a leader and write their own entries */
	struct leader_other_arg a = {l};
	REQUIRE(fixture_run_until(c, leader_is_not, &a, 1000));
	raft_id nl = fixture_leader(c);
	REQUIRE(nl != f);
	uint64_t idx = 0;
	for (int i = 0; i < 5; i++)
		REQUIRE_EQ(fixture_propose(c, nl, "fresh", &idx), RAFT_OK);
	fixture_run(c, 30);
	/* l and f hold a long suffix that conflicts with the new leader's log */
	uint64_t t_old, t_new;
	REQUIRE(raft_term_at(fixture_raft(c, f), agreed + 1, &t_old));
	REQUIRE(raft_term_at(fixture_raft(c, nl), agreed + 1, &t_new));
	REQUIRE(t_old < t_new);
	fixture_heal(c);
	REQUIRE(wait_applied(c, idx, 2000));
	for (raft_id i = 1; i <= 5; i++) {
		uint64_t t;
		REQUIRE(raft_term_at(fixture_raft(c, i), agreed + 1, &t));
		REQUIRE_EQ(t, t_new);
		REQUIRE(raft_term_at(fixture_raft(c, i), idx, &t));
		REQUIRE_EQ(t, status_of(c, nl).term);
	}
	REQUIRE(fixture_ok(c));
}

/* ---- reads ------------------------------------------------------------------------------ */

static const struct cl_read *find_read(struct raft_fixture *c, raft_id id, uint64_t ctx)
{
	for (size_t i = 0; i < c->m[id].n_reads; i++)
		if (c->m[id].reads[i].context == ctx)
			return &c->m[id].reads[i];
	return NULL;
}

/* ReadIndex around a leader change: a read on the deposed leader (it does
 * not know yet) fails or waits, never returning an index older than a
 * write the new leader committed; reads on the new leader and through a
 * follower see that write. */
static void test_read_index_leader_change(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(wait_applied(c, 2, 500));
	/* plain case: leader and follower reads */
	raft_id f = l % 3 + 1;
	REQUIRE_EQ(fixture_read(c, l, 1), RAFT_OK);
	REQUIRE_EQ(fixture_read(c, f, 2), RAFT_OK);
	fixture_run(c, 30);
	REQUIRE(find_read(c, l, 1)->done && find_read(c, l, 1)->status == RAFT_OK);
	REQUIRE(find_read(c, f, 2)->done && find_read(c, f, 2)->status == RAFT_OK);
	REQUIRE(find_read(c, f, 2)->index >= 2);
	/* the leader is cut off; the others elect a new one and commit a write */
	fixture_isolate(c, l);
	struct leader_other_arg a = {l};
	REQUIRE(fixture_run_until(c, leader_is_not, &a, 1000));
	raft_id nl = fixture_leader(c);
	uint64_t idx;
	REQUIRE_EQ(fixture_propose(c, nl, "after-change", &idx), RAFT_OK);
	fixture_run(c, 20);
	REQUIRE(status_of(c, nl).commit >= idx);
	/* the old leader may still believe it leads: its read must not succeed */
	int rv = fixture_read(c, l, 3);
	fixture_run(c, 300);
	if (rv == RAFT_OK) {
		const struct cl_read *rd = find_read(c, l, 3);
		REQUIRE(!rd->done || rd->status != RAFT_OK || rd->index >= idx);
	}
	/* the new leader's reads see the write (the fixture also checks that
	 * every successful read index >= the commit when the read was asked) */
	REQUIRE_EQ(fixture_read(c, nl, 4), RAFT_OK);
	fixture_run(c, 30);
	REQUIRE(find_read(c, nl, 4)->done);
	REQUIRE(find_read(c, nl, 4)->index >= idx);
	fixture_heal(c);
	fixture_run(c, 200);
	raft_id f2 = RAFT_NONE;
	for (raft_id i = 1; i <= 3; i++)
		if (i != fixture_leader(c))
			f2 = i;
	REQUIRE_EQ(fixture_read(c, f2, 5), RAFT_OK);
	fixture_run(c, 30);
	REQUIRE(find_read(c, f2, 5)->done && find_read(c, f2, 5)->status == RAFT_OK);
	REQUIRE(find_read(c, f2, 5)->index >= idx);
	REQUIRE(fixture_ok(c));
}

/* ---- snapshots ----------------------------------------------------------------------------- */

/* A follower is down while the others write and compact; when it comes
 * back it is behind the compaction point and receives a snapshot. */
static void test_snapshot_install(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	raft_id f = l % 3 + 1;
	fixture_crash(c, f);
	for (raft_id i = 1; i <= 3; i++)
		c->m[i].snap_every = 10;
	uint64_t idx = 0;
	for (int i = 0; i < 50; i++) {
		REQUIRE_EQ(fixture_propose(c, l, "bulk", &idx), RAFT_OK);
		fixture_run(c, 2);
	}
	REQUIRE(wait_applied(c, idx, 500));
	struct raft_status sl = status_of(c, l);
	REQUIRE(sl.snapshot_index >= 40);
	REQUIRE(sl.first_index > 2);
	fixture_restart(c, f);
	REQUIRE(wait_applied(c, idx, 1000));
	REQUIRE(status_of(c, f).snapshot_index >= 40);
	REQUIRE_EQ(c->m[f].sm_index, idx);
	/* and it keeps replicating normally afterwards */
	REQUIRE_EQ(fixture_propose(c, fixture_leader(c), "after", &idx), RAFT_OK);
	REQUIRE(wait_applied(c, idx, 500));
	/* a restart from the snapshot plus log rebuilds the same state */
	fixture_crash(c, f);
	fixture_restart(c, f);
	REQUIRE(wait_applied(c, idx, 500));
	REQUIRE(fixture_ok(c));
}

/* ---- membership ------------------------------------------------------------------------------ */

static bool is_learner(struct raft_fixture *c, raft_id at, raft_id who)
{
	struct raft_status st = status_of(c, at);
	return raft_membership_is_learner(&st.conf, who);
}

static bool is_voter(struct raft_fixture *c, raft_id at, raft_id who)
{
	struct raft_status st = status_of(c, at);
	return raft_membership_is_voter(&st.conf, who);
}

/* A new member joins as a learner, catches up without counting toward
 * quorum, and is promoted to voter. */
static void test_learner_catch_up_and_promote(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	uint64_t idx = 0;
	for (int i = 0; i < 30; i++)
		fixture_propose(c, l, "before-join", &idx);
	REQUIRE(wait_applied(c, idx, 500));
	REQUIRE_EQ(fixture_conf_change(c, l, RAFT_CONF_ADD_LEARNER, 4), RAFT_OK);
	REQUIRE_EQ(fixture_conf_change(c, l, RAFT_CONF_ADD_LEARNER, 5), RAFT_ERR_CONF_PENDING);
	fixture_run(c, 30);
	fixture_join(c, 4);
	fixture_run(c, 200);
	struct raft_status st = status_of(c, 4);
	REQUIRE(raft_membership_is_learner(&st.conf, 4));
	REQUIRE_EQ(c->m[4].sm_index, status_of(c, l).commit); /* caught up */
	REQUIRE(st.role == RAFT_FOLLOWER);
	uint64_t match, next;
	REQUIRE(raft_progress_of(fixture_raft(c, l), 4, &match, &next));
	REQUIRE_EQ(match, status_of(c, l).last_index);
	/* a learner never campaigns, even cut off */
	fixture_isolate(c, 4);
	fixture_run(c, 500);
	REQUIRE_EQ(status_of(c, 4).role, RAFT_FOLLOWER);
	REQUIRE_EQ(status_of(c, 4).term, status_of(c, l).term);
	fixture_heal(c);
	fixture_run(c, 50);
	/* the learner does not count for quorum: with two voters down nothing commits */
	raft_id v1 = l % 3 + 1, v2 = v1 % 3 + 1;
	fixture_crash(c, v1);
	fixture_crash(c, v2);
	REQUIRE_EQ(fixture_propose(c, l, "no-quorum", &idx), RAFT_OK);
	fixture_run(c, 50);
	REQUIRE(status_of(c, l).commit < idx);
	fixture_restart(c, v1);
	fixture_restart(c, v2);
	REQUIRE(wait_applied(c, idx, 2000));
	/* promote */
	l = fixture_leader(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE_EQ(fixture_conf_change(c, l, RAFT_CONF_PROMOTE, 4), RAFT_OK);
	fixture_run(c, 50);
	for (raft_id i = 1; i <= 4; i++)
		REQUIRE(is_voter(c, i, 4));
	REQUIRE_EQ(fixture_propose(c, fixture_leader(c), "after-promote", &idx), RAFT_OK);
	REQUIRE(wait_applied(c, idx, 500));
	REQUIRE(fixture_ok(c));
}

/* Growth 1 -> 2 -> 3 with automatic promotion: each new member is added as
 * a learner, so the cluster keeps committing while it is not even started;
 * once its log is close to the leader's it becomes a voter by itself. */
static void test_learner_auto_promote_growth(void)
{
	struct raft_config base = {.promote_lag = 16};
	struct raft_fixture *c = new_cluster_with(1, &base);
	raft_id l = elect(c);
	REQUIRE_EQ(l, 1);
	uint64_t idx = 0;
	for (int i = 0; i < 40; i++)
		fixture_propose(c, l, "seed", &idx);
	REQUIRE(wait_applied(c, idx, 500));
	for (raft_id n = 2; n <= 3; n++) {
		REQUIRE_EQ(fixture_conf_change(c, l, RAFT_CONF_ADD_LEARNER, n), RAFT_OK);
		fixture_run(c, 200);
		/* not started yet: writes still commit (a voter would block them at 2) */
		REQUIRE(is_learner(c, l, n));
		REQUIRE_EQ(fixture_propose(c, l, "while-added", &idx), RAFT_OK);
		fixture_run(c, 100);
		REQUIRE(status_of(c, l).commit >= idx);
		REQUIRE(!is_voter(c, l, n));
		fixture_join(c, n);
		fixture_run(c, 300);
		for (raft_id i = 1; i <= n; i++)
			REQUIRE(is_voter(c, i, n));
		REQUIRE_EQ(status_of(c, l).conf.n_learners, 0);
		REQUIRE_EQ(fixture_propose(c, l, "after-promote", &idx), RAFT_OK);
		REQUIRE(wait_applied(c, idx, 500));
	}
	REQUIRE_EQ(status_of(c, l).conf.n_voters, 3);
	REQUIRE(fixture_ok(c));
}

/* A learner that stopped answering is not promoted (it would cost quorum),
 * and promotion happens once it answers again; raft_heard_from tracks it. */
static void test_learner_silent_not_promoted(void)
{
	struct raft_config base = {.promote_lag = 16};
	struct raft_fixture *c = new_cluster_with(3, &base);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(wait_applied(c, 2, 500));
	uint64_t at = 0;
	raft_id other = l % 3 + 1;
	REQUIRE(raft_heard_from(fixture_raft(c, l), other, &at));
	REQUIRE(!raft_heard_from(fixture_raft(c, other), l, &at)); /* leaders only */
	REQUIRE_EQ(fixture_conf_change(c, l, RAFT_CONF_ADD_LEARNER, 4), RAFT_OK);
	fixture_run(c, 30);
	REQUIRE(!raft_heard_from(fixture_raft(c, l), 4, &at)); /* never heard from */
	fixture_isolate(c, 4);
	fixture_join(c, 4);
	fixture_run(c, 500);
	REQUIRE(is_learner(c, l, 4));
	fixture_heal(c);
	fixture_run(c, 300);
	l = fixture_leader(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(is_voter(c, l, 4));
	REQUIRE(raft_heard_from(fixture_raft(c, l), 4, &at));
	REQUIRE(fixture_ok(c));
}

/* The leader is removed: once the removal commits it hands over and steps
 * down; the remaining two elect a leader and keep committing. */
static void test_remove_leader(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	REQUIRE(wait_applied(c, 2, 500));
	REQUIRE_EQ(fixture_conf_change(c, l, RAFT_CONF_REMOVE, l), RAFT_OK);
	struct leader_other_arg a = {l};
	REQUIRE(fixture_run_until(c, leader_is_not, &a, 1000));
	raft_id nl = fixture_leader(c);
	REQUIRE(c->m[l].removed);
	fixture_crash(c, l); /* the removed member shuts down */
	c->m[l].exists = false;
	uint64_t idx;
	REQUIRE_EQ(fixture_propose(c, nl, "two-left", &idx), RAFT_OK);
	REQUIRE(wait_applied(c, idx, 500));
	REQUIRE(!is_voter(c, nl, l));
	REQUIRE_EQ(status_of(c, nl).conf.n_voters, 2);
	REQUIRE(fixture_ok(c));
}

/* Leader transfer: proposals are refused during the transfer, the target
 * is caught up and told to campaign, and wins without pre-vote delays. */
static void test_leader_transfer(void)
{
	struct raft_fixture *c = new_cluster(3);
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	raft_id target = l % 3 + 1;
	/* let the target fall behind first */
	fixture_crash(c, target);
	uint64_t idx = 0;
	for (int i = 0; i < 10; i++)
		fixture_propose(c, l, "while-down", &idx);
	fixture_run(c, 20);
	fixture_restart(c, target);
	REQUIRE_EQ(fixture_transfer(c, l, target), RAFT_OK);
	REQUIRE_EQ(fixture_propose(c, l, "refused", NULL), RAFT_ERR_TRANSFERRING);
	struct leader_other_arg a = {l};
	REQUIRE(fixture_run_until(c, leader_is_not, &a, 300));
	REQUIRE_EQ(fixture_leader(c), target);
	REQUIRE(c->now < 1000 + 300);
	REQUIRE_EQ(fixture_propose(c, target, "new-leader", &idx), RAFT_OK);
	REQUIRE(wait_applied(c, idx, 500));
	/* transfer to a non-member is refused */
	REQUIRE_EQ(fixture_transfer(c, target, 9), RAFT_ERR_BAD_CONF);
	REQUIRE(fixture_ok(c));
}

/* Crash and restart with writes still in flight: unpersisted entries are
 * lost, yet nothing committed is, and the cluster converges. */
static void test_crash_loses_unpersisted(void)
{
	struct raft_fixture *c = new_cluster(3);
	c->disk_min = 5;
	c->disk_max = 10;
	raft_id l = elect(c);
	REQUIRE(l != RAFT_NONE);
	uint64_t idx = 0;
	for (int i = 0; i < 5; i++)
		fixture_propose(c, l, "inflight", &idx);
	fixture_run(c, 2);
	fixture_crash(c, l);
	for (raft_id i = 1; i <= 3; i++)
		if (i != l)
			fixture_crash(c, i);
	for (raft_id i = 1; i <= 3; i++)
		fixture_restart(c, i);
	raft_id nl = elect(c);
	REQUIRE(nl != RAFT_NONE);
	REQUIRE_EQ(fixture_propose(c, nl, "after", &idx), RAFT_OK);
	REQUIRE(wait_applied(c, idx, 1000));
	REQUIRE(fixture_ok(c));
}

static const struct test_case cases[] = {
	{"normal_election", test_normal_election},
	{"election_transcript", test_election_transcript},
	{"single_member_fast", test_single_member_fast},
	{"acks_wait_for_follower_disks", test_acks_wait_for_follower_disks},
	{"split_vote", test_split_vote},
	{"prevote_rejoin", test_prevote_rejoin},
	{"check_quorum_steps_down", test_check_quorum_steps_down},
	{"minority_leader_cannot_commit", test_minority_leader_cannot_commit},
	{"figure8_story", test_figure8_story},
	{"figure8_commit_rule", test_figure8_commit_rule},
	{"rejoin_longer_uncommitted_log", test_rejoin_longer_uncommitted_log},
	{"conflicting_suffix_repair", test_conflicting_suffix_repair},
	{"read_index_leader_change", test_read_index_leader_change},
	{"snapshot_install", test_snapshot_install},
	{"learner_catch_up_and_promote", test_learner_catch_up_and_promote},
	{"learner_auto_promote_growth", test_learner_auto_promote_growth},
	{"learner_silent_not_promoted", test_learner_silent_not_promoted},
	{"remove_leader", test_remove_leader},
	{"leader_transfer", test_leader_transfer},
	{"crash_loses_unpersisted", test_crash_loses_unpersisted},
};

int main(int argc, char **argv)
{
	test_cleanup = cleanup;
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
