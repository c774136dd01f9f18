/* test_raft_property.c - randomized property test of the Raft core. Each
 * seed builds a cluster, runs a schedule of random proposals, reads,
 * membership changes, transfers, partitions, lossy / duplicating /
 * reordering links, crashes and restarts, while the fixture checks at
 * every step: election safety, log matching, leader completeness,
 * state-machine safety and ReadIndex linearizability. Then the network
 * heals and liveness is checked: a leader is elected and a proposal is
 * applied by every member within a bound.
 *
 * usage: test_raft_property [first_seed [count]]   (default 1 1000)
 *        CETCD_SEED=<n> replays one seed; CETCD_TRACE=1 prints its trace. */
#include "raft_cluster.h"
#include "../lib/harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHAOS_MS    3000
#define LIVENESS_MS 5000 /* 50 election timeouts */

struct run {
	struct raft_fixture *c;
	unsigned n;	 /* initial voters */
	raft_id next_id; /* next brand-new member id */
	uint64_t ctx;
	char why[256];
};

static uint64_t pick(struct raft_fixture *c, uint64_t n)
{
	return n ? fixture_rand(c) % n : 0;
}

static raft_id random_member(struct run *x)
{
	return 1 + (raft_id)pick(x->c, x->next_id - 1);
}

static bool usable(struct run *x, raft_id id)
{
	return x->c->m[id].exists && !x->c->m[id].removed;
}

/* ---- chaos actions ----------------------------------------------------------- */

static void act_propose(struct run *x)
{
	raft_id id = fixture_leader(x->c);
	if (id == RAFT_NONE || pick(x->c, 4) == 0)
		id = random_member(x);
	char payload[32];
	snprintf(payload, sizeof(payload), "v%" PRIu64, x->c->steps);
	fixture_propose(x->c, id, payload, NULL);
}

static void act_link(struct run *x)
{
	raft_id a = random_member(x), b = random_member(x);
	struct cl_link l = {.delay_min = 1, .delay_max = 1 + pick(x->c, 20)};
	switch (pick(x->c, 4)) {
	case 0:
		l.cut = true;
		break;
	case 1:
		l.drop_pct = (unsigned)pick(x->c, 60);
		break;
	case 2:
		l.dup_pct = (unsigned)pick(x->c, 50);
		break;
	default:
		break;
	}
	fixture_set_link(x->c, a, b, &l);
}

static void act_conf(struct run *x)
{
	struct raft_fixture *c = x->c;
	raft_id l = fixture_leader(c);
	if (l == RAFT_NONE)
		return;
	struct raft_status st;
	fixture_status(c, l, &st);
	switch (pick(c, 3)) {
	case 0: /* a brand-new member: learner first, started empty */
		if (x->next_id > CL_MAX)
			return;
		if (fixture_conf_change(c, l, RAFT_CONF_ADD_LEARNER, x->next_id) == RAFT_OK) {
			fixture_join(c, x->next_id);
			x->next_id++;
		}
		return;
	case 1:
		if (st.conf.n_learners)
			fixture_conf_change(c, l, RAFT_CONF_PROMOTE,
					    st.conf.learners[pick(c, st.conf.n_learners)]);
		return;
	default:
		if (st.conf.n_voters > 2)
			fixture_conf_change(c, l, RAFT_CONF_REMOVE,
					    st.conf.voters[pick(c, st.conf.n_voters)]);
		return;
	}
}

static void act(struct run *x)
{
	struct raft_fixture *c = x->c;
	raft_id id = random_member(x);
	uint64_t roll = pick(c, 100);
	if (roll < 35) {
		for (uint64_t k = 1 + pick(c, 4); k > 0; k--)
			act_propose(x);
	} else if (roll < 45) {
		if (usable(x, id))
			fixture_read(c, id, ++x->ctx);
	} else if (roll < 55) {
		act_link(x);
	} else if (roll < 59) {
		fixture_isolate(c, id);
	} else if (roll < 64) {
		fixture_heal(c);
	} else if (roll < 68) {
		fixture_crash(c, id);
	} else if (roll < 76) {
		if (usable(x, id))
			fixture_restart(c, id);
	} else if (roll < 78) {
		raft_id l = fixture_leader(c);
		if (l != RAFT_NONE)
			fixture_transfer(c, l, random_member(x));
	} else if (roll < 80) {
		fixture_campaign(c, id);
	} else if (roll < 83) {
		act_conf(x);
	}
	/* removed members shut down a little later, like etcd does, once they
	 * no longer lead (so the removal's commit reaches the others) */
	for (raft_id i = 1; i < x->next_id; i++) {
		struct cl_member *m = &c->m[i];
		struct raft_status st;
		if (!m->removed || !m->up || c->now < m->removed_at + 3 * c->base.election_ms)
			continue;
		raft_status(m->r, &st);
		if (st.role != RAFT_LEADER)
			fixture_crash(c, i);
	}
}

/* ---- one seed ------------------------------------------------------------------- */

struct applied_arg {
	uint64_t index;
};

static bool applied_everywhere(struct raft_fixture *c, void *arg)
{
	return fixture_applied_everywhere(c, ((struct applied_arg *)arg)->index);
}

static bool liveness(struct run *x)
{
	struct raft_fixture *c = x->c;
	fixture_heal(c);
	for (raft_id i = 1; i < x->next_id; i++)
		if (usable(x, i))
			fixture_restart(c, i);
	uint64_t deadline = c->now + LIVENESS_MS;
	while (c->now < deadline) {
		if (!fixture_run_until(c, fixture_has_leader, NULL, deadline - c->now))
			break;
		raft_id l = fixture_leader(c);
		uint64_t idx = 0, term = 0, got = 0;
		if (fixture_propose(c, l, "final", &idx) != RAFT_OK) {
			fixture_run(c, 10); /* e.g. a transfer in progress */
			continue;
		}
		raft_term_at(fixture_raft(c, l), idx, &term);
		/* a leader deposed without knowing it may accept and then lose
		 * the entry: retry until one commits in the proposer's term */
		struct applied_arg a = {idx};
		uint64_t left = deadline > c->now ? deadline - c->now : 0;
		if (fixture_run_until(c, applied_everywhere, &a, left < 1000 ? left : 1000) &&
		    fixture_committed_term(c, idx, &got) && got == term)
			return true;
	}
	snprintf(x->why, sizeof(x->why), "liveness: no leader or no commit within %d ms of healing",
		 LIVENESS_MS);
	return false;
}

static uint64_t total_steps, total_commits;

static void dump(struct raft_fixture *c)
{
	raft_id l = fixture_leader(c);
	for (raft_id i = 1; i <= CL_MAX; i++) {
		struct cl_member *m = &c->m[i];
		if (!m->exists)
			continue;
		struct raft_status st;
		fixture_status(c, i, &st);
		uint64_t match = 0, next = 0;
		if (l != RAFT_NONE)
			raft_progress_of(c->m[l].r, i, &match, &next);
		printf("  n%" PRIu64 " up=%d removed=%d role=%u term=%" PRIu64 " commit=%" PRIu64
		       " last=%" PRIu64 " first=%" PRIu64 " applied=%" PRIu64
		       " voters=%zu learners=%zu"
		       " | leader sees match=%" PRIu64 " next=%" PRIu64 "\n",
		       i, m->up, m->removed, st.role, st.term, st.commit, st.last_index,
		       st.first_index, m->sm_index, st.conf.n_voters, st.conf.n_learners, match,
		       next);
		for (size_t k = 0; k < st.conf.n_voters; k++)
			printf("    voter %" PRIu64 "\n", st.conf.voters[k]);
	}
}

static bool run_seed(uint64_t seed, bool trace)
{
	struct raft_config base = {0};
	uint64_t r = seed * 0x9e3779b97f4a7c15ULL;
	base.no_pre_vote = (r >> 8) % 4 == 0;
	base.no_check_quorum = (r >> 16) % 4 == 0;
	base.max_inflight = 1 + (r >> 24) % 8;
	base.max_msg_bytes = (r >> 32) % 2 ? 16 : 0; /* tiny: many small appends */
	base.heartbeat_ms = (r >> 36) % 2 ? 10 : 30;
	base.promote_lag = (r >> 48) % 2 ? 8 : 0; /* half the seeds promote learners themselves */
	unsigned n =
		(r >> 40) % 3 == 0 ? 3 : ((r >> 40) % 3 == 1 ? 5 : 1 + (unsigned)((r >> 44) % 4));
	struct raft_fixture *c = fixture_new(n, seed, &base);
	if (trace)
		c->trace = true;
	struct run x = {.c = c, .n = n, .next_id = n + 1};
	c->disk_max = 1 + pick(c, 15);
	for (raft_id i = 1; i <= CL_MAX; i++) {
		static const uint64_t every[] = {0, 4, 16, 64};
		c->m[i].snap_every = every[pick(c, 4)];
		c->m[i].snap_trailing = pick(c, 2) ? 0 : 3;
	}
	while (c->now < CHAOS_MS && !c->violation[0]) {
		fixture_run(c, 1 + pick(c, 30));
		act(&x);
	}
	bool ok = !c->violation[0] && liveness(&x) && !c->violation[0];
	if (!ok) {
		printf("FAIL seed %" PRIu64 ": %s\n", seed, c->violation[0] ? c->violation : x.why);
		printf("  replay: CETCD_SEED=%" PRIu64 " CETCD_TRACE=1 %s\n", seed,
		       "tests/raft/test_raft_property");
		if (trace) {
			fixture_print_trace(c);
			dump(c);
		}
	}
	total_steps += c->steps;
	total_commits += c->max_commit;
	fixture_free(c);
	return ok;
}

int main(int argc, char **argv)
{
	uint64_t first = 1, count = 1000;
	const char *env = getenv("CETCD_SEED");
	bool trace = getenv("CETCD_TRACE") != NULL;
	if (env) {
		first = strtoull(env, NULL, 0);
		count = 1;
	} else {
		if (argc > 1)
			first = strtoull(argv[1], NULL, 0);
		if (argc > 2)
			count = strtoull(argv[2], NULL, 0);
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t s = first; s < first + count; s++) {
		CHECK(run_seed(s, trace));
		if (count >= 10000 && (s - first + 1) % 10000 == 0) {
			printf("... %" PRIu64 " seeds, %d failed\n", s - first + 1, check_failed);
			fflush(stdout);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("seeds %" PRIu64 "..%" PRIu64 " in %.1f s (%.0f core steps and %.0f committed"
	       " entries per seed)\n",
	       first, first + count - 1, secs, (double)total_steps / (double)count,
	       (double)total_commits / (double)count);
	return check_summary();
}
