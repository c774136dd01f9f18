/* test_powercut_cluster.c - power cuts in a 3-member cluster (issue 17).
 *
 * The in-memory Raft cluster of the core's tests (tests/raft/raft_cluster.c:
 * the real core, a simulated network and clock, invariant checks at every
 * step) with member 1's disk made of the real disk code: every write the
 * core asks member 1 to persist goes through wal_append + wal_sync (an
 * installed snapshot through snap_save + marker), every local snapshot
 * through snap_save + marker + sync + snap_purge + wal_release_before, all
 * over crashfs; a restart reads it back as boot.c does (snap_load, then
 * wal_open). Members 2 and 3 keep the fixture's disk (their crashes lose a
 * random suffix of their pending writes).
 *
 * The workload: proposals, leader transfers, a learner added and removed
 * (membership change entries), snapshots every few entries, and member 1
 * cut off for a while so that it installs a snapshot from the leader. A run with no
 * cut counts member 1's syscall boundaries; then for each boundary n the
 * run repeats with the power cut just before it (six crash variants in
 * turn). Member 1 crashes there, its unsynced data goes, the current leader
 * is crashed too (when it is another member) so that the next election
 * depends on what member 1's disk kept, member 1 restarts, the others
 * restart, writes go on. What is checked:
 *   - member 1's data dir opens, and holds every write whose wal_sync had
 *     returned (the only ones its acks and votes could have relied on:
 *     rule 4, persist before send);
 *   - the fixture's invariants over the whole run: election safety, log
 *     matching, leader completeness and state-machine safety, i.e. no member
 *     ever applies, as committed, an entry other than the one committed at
 *     that index: an append member 1 acknowledged and then lost would let a
 *     leader without it be elected and overwrite a committed entry, which
 *     the others would then apply differently;
 *   - the cluster makes progress again: a new write is applied everywhere.
 * By default every boundary of three seeds is cut once (the crash variant
 * rotates); CETCD_POWERCUT_FULL=1 cuts every boundary of six seeds under
 * all six variants. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "../raft/raft_cluster.h"
#include "crashfs.h"
#include "disk/fs.h"
#include "disk/snap.h"
#include "disk/wal.h"
#include "util/xalloc.h"

#define WAL_DIR	 "/m1/member/wal"
#define SNAP_DIR "/m1/member/snap"
#define MAXI	 8192

/* ---- member 1's disk ----------------------------------------------------------------- */

static const struct wal_options wopt = {.segment_size = 4096, .max_wals = 2, .flush_bytes = 1024};

static struct {
	struct wal *w;
	/* what wal_sync acknowledged: the log (terms) and the hard state */
	uint64_t term[MAXI];
	uint64_t base, last; /* entries base+1..last */
	struct raft_hard_state hs;
	uint64_t syncs;
	uint64_t installs; /* snapshots installed from a leader */
	/* the write the power cut interrupted: its entries may survive */
	uint64_t fl_index[64], fl_term[64];
	size_t n_fl;
	char error[1024]; /* a disk error with the power on: a test failure */
} d;

static void d_reset(void)
{
	memset(&d, 0, sizeof(d));
}

static int d_fail(void)
{
	if (!crashfs_power_is_off() && !d.error[0])
		snprintf(d.error, sizeof(d.error), "disk error with the power on: %s",
			 d.w ? wal_error(d.w) : "(no wal)");
	if (d.w)
		wal_close(d.w, NULL, 0); /* the power is off: only frees */
	d.w = NULL;
	return -1;
}

static int d_ensure_wal(void)
{
	if (d.w)
		return 0;
	struct wal_meta meta = {1, 0xC1};
	char err[512];
	if (fs_mkdir_durable(SNAP_DIR) != 0)
		return -1;
	if (wal_create(WAL_DIR, &meta, &wopt, &d.w, err, sizeof(err)) != 0) {
		if (!crashfs_power_is_off() && !d.error[0])
			snprintf(d.error, sizeof(d.error), "wal_create: %s", err);
		d.w = NULL;
		return -1;
	}
	return 0;
}

static int hook_write(void *ctx, raft_id id, const struct raft_hard_state *hs,
		      const struct raft_snapshot *snap, const struct raft_entry *ents, size_t n)
{
	(void)ctx, (void)id;
	if (d_ensure_wal() != 0)
		return d_fail();
	d.n_fl = 0;
	for (size_t k = 0; k < n && d.n_fl < 64; k++, d.n_fl++) {
		d.fl_index[d.n_fl] = ents[k].index;
		d.fl_term[d.n_fl] = ents[k].term;
	}
	char err[512];
	if (snap && snap_save(SNAP_DIR, &snap->meta, snap->data, snap->len, err, sizeof(err)) != 0)
		return d_fail();
	if (snap && wal_snapshot_marker(d.w, snap->meta.index, snap->meta.term) != 0)
		return d_fail();
	if (wal_append(d.w, hs, ents, n) != 0 || wal_sync(d.w) != 0)
		return d_fail();
	/* acknowledged: the model follows */
	d.n_fl = 0;
	d.syncs++;
	if (hs)
		d.hs = *hs;
	if (snap)
		d.installs++;
	if (snap) {
		d.base = d.last = snap->meta.index;
		d.term[d.base % MAXI] = snap->meta.term;
	}
	for (size_t k = 0; k < n; k++) {
		if (ents[k].index <= d.base)
			continue;
		d.term[ents[k].index % MAXI] = ents[k].term;
		d.last = ents[k].index;
	}
	return 0;
}

static int hook_snapshot(void *ctx, raft_id id, const struct raft_snapshot *snap)
{
	(void)ctx, (void)id;
	char err[512];
	if (d_ensure_wal() != 0)
		return d_fail();
	if (snap_save(SNAP_DIR, &snap->meta, snap->data, snap->len, err, sizeof(err)) != 0 ||
	    wal_snapshot_marker(d.w, snap->meta.index, snap->meta.term) != 0 ||
	    wal_sync(d.w) != 0 || snap_purge(SNAP_DIR, 2, err, sizeof(err)) < 0 ||
	    wal_release_before(d.w, snap_oldest_index(SNAP_DIR)) < 0)
		return d_fail();
	d.syncs++;
	return 0;
}

static bool in_flight(uint64_t index, uint64_t term)
{
	for (size_t k = 0; k < d.n_fl; k++)
		if (d.fl_index[k] == index && d.fl_term[k] == term)
			return true;
	return false;
}

/* boot.c's order: the newest valid snapshot, then the WAL after it. */
static int hook_load(void *ctx, raft_id id, struct cl_disk *out, char *err, size_t cap)
{
	(void)ctx, (void)id;
	if (d.w)
		wal_close(d.w, NULL, 0);
	d.w = NULL;
	if (!wal_exists(WAL_DIR)) {
		if (d.syncs) {
			snprintf(err, cap, "the WAL is gone after %" PRIu64 " syncs", d.syncs);
			return -1;
		}
		return 0; /* never durably created: a new member again */
	}
	struct snap_loaded sl;
	if (snap_load(SNAP_DIR, UINT64_MAX, &sl, err, cap) < 0)
		return -1;
	bool has_snap = sl.data != NULL;
	uint64_t si = has_snap ? sl.snap.meta.index : 0, st = has_snap ? sl.snap.meta.term : 0;
	struct wal_recovered rec;
	if (wal_open(WAL_DIR, &wopt, si, st, &d.w, &rec, err, cap) != 0) {
		if (has_snap)
			snap_loaded_free(&sl);
		return -1;
	}
	int rc = 0;
	uint64_t last = rec.n_entries ? rec.entries[rec.n_entries - 1].index : si;
	/* every acknowledged entry is there, unless the interrupted write's
	 * overwrite of it survived */
	for (uint64_t i = (si > d.base ? si : d.base) + 1; i <= d.last && rc == 0; i++) {
		const struct raft_entry *e = i <= last && i > si ? &rec.entries[i - si - 1] : NULL;
		if (e && e->term == d.term[i % MAXI])
			continue;
		if (e && in_flight(i, e->term))
			break;
		snprintf(err, cap, "acknowledged entry %" PRIu64 " (term %" PRIu64 ") lost", i,
			 d.term[i % MAXI]);
		rc = -1;
	}
	for (size_t k = 0; k < rec.n_entries && rc == 0; k++) {
		const struct raft_entry *e = &rec.entries[k];
		bool acked = e->index > d.base && e->index <= d.last &&
			     d.term[e->index % MAXI] == e->term;
		if (!acked && !in_flight(e->index, e->term)) {
			snprintf(err, cap, "entry %" PRIu64 " term %" PRIu64 " was never written",
				 e->index, e->term);
			rc = -1;
		}
	}
	uint64_t commit = rec.hard_state.commit > si ? rec.hard_state.commit : si;
	if (rc == 0 && (rec.hard_state.term < d.hs.term || commit < d.hs.commit)) {
		snprintf(err, cap,
			 "hard state went back: term %" PRIu64 " commit %" PRIu64 " < term %" PRIu64
			 " commit %" PRIu64,
			 rec.hard_state.term, commit, d.hs.term, d.hs.commit);
		rc = -1;
	}
	if (rc == 0 && rec.hard_state.term == d.hs.term && d.hs.vote &&
	    rec.hard_state.vote != d.hs.vote) {
		snprintf(err, cap, "vote changed within term %" PRIu64, d.hs.term);
		rc = -1;
	}
	if (rc == 0) {
		out->hs = rec.hard_state;
		if (has_snap) {
			out->has_snap = true;
			out->snap = sl.snap;
			void *copy = xmalloc(sl.snap.len ? sl.snap.len : 1);
			memcpy(copy, sl.snap.data, sl.snap.len);
			out->snap.data = copy; /* the fixture owns it */
		}
		out->ents = xcalloc(rec.n_entries ? rec.n_entries : 1, sizeof(*out->ents));
		out->cap = rec.n_entries ? rec.n_entries : 1;
		for (size_t k = 0; k < rec.n_entries; k++) {
			out->ents[k] = rec.entries[k];
			out->ents[k].data = NULL;
			if (rec.entries[k].len) {
				void *p = xmalloc(rec.entries[k].len);
				memcpy(p, rec.entries[k].data, rec.entries[k].len);
				out->ents[k].data = p;
			}
		}
		out->n = rec.n_entries;
		/* the recovered disk is the acknowledged state from now on */
		d.hs = rec.hard_state;
		d.base = si;
		d.last = last;
		for (size_t k = 0; k < rec.n_entries; k++)
			d.term[rec.entries[k].index % MAXI] = rec.entries[k].term;
		d.n_fl = 0;
	}
	if (has_snap)
		snap_loaded_free(&sl);
	wal_recovered_free(&rec);
	return rc;
}

static const struct cl_disk_hook hook = {
	.write = hook_write,
	.snapshot = hook_snapshot,
	.load = hook_load,
};

/* ---- the workload --------------------------------------------------------------------- */

#define STEPS 160

/* Runs the workload until it ends or member 1 loses power. */
static void workload(struct raft_fixture *c)
{
	char payload[64];
	bool learner = false;
	for (unsigned s = 0; s < STEPS && c->m[1].up; s++) {
		raft_id l = fixture_leader(c);
		if (l != RAFT_NONE) {
			snprintf(payload, sizeof(payload), "w%u", s);
			fixture_propose(c, l, payload, NULL);
			if (s % 50 == 20 && !learner &&
			    fixture_conf_change(c, l, RAFT_CONF_ADD_LEARNER, 4) == RAFT_OK) {
				fixture_join(c, 4);
				learner = true;
			} else if (s % 50 == 45 && learner &&
				   fixture_conf_change(c, l, RAFT_CONF_REMOVE, 4) == RAFT_OK) {
				learner = false;
			} else if (s % 40 == 30) {
				fixture_transfer(c, l, 1 + (l % 3));
			}
		}
		if (s == 90 && fixture_leader(c) == 1)
			fixture_transfer(c, 1, 2);
		if (s == 95) /* member 1 falls behind: the leader will send a snapshot */
			fixture_isolate(c, 1);
		if (s == 125)
			fixture_heal(c);
		fixture_run(c, 4);
	}
}

static struct raft_fixture *start(uint64_t seed)
{
	d_reset();
	struct raft_fixture *c = fixture_new(3, seed, NULL);
	fixture_set_disk_hook(c, 1, &hook);
	c->m[1].snap_every = 12;
	c->m[1].snap_trailing = 4;
	c->m[2].snap_every = 10;
	c->m[3].snap_every = 10;
	fixture_run_until(c, fixture_has_leader, NULL, 3000);
	return c;
}

static uint64_t installs; /* snapshots member 1 installed in the no-cut runs */

static uint64_t count_boundaries(uint64_t seed)
{
	crashfs_init(1);
	struct raft_fixture *c = start(seed);
	workload(c);
	uint64_t n = crashfs_boundaries();
	bool ok = fixture_ok(c) && !d.error[0] && c->m[1].up;
	installs += d.installs;
	printf("# seed %" PRIu64 ": member 1 synced %" PRIu64 " writes, installed %" PRIu64
	       " snapshots\n",
	       seed, d.syncs, d.installs);
	if (!ok)
		fprintf(stderr, "no-cut run: %s %s\n", c->violation, d.error);
	CHECK(ok);
	fixture_free(c);
	if (d.w)
		wal_close(d.w, NULL, 0);
	crashfs_reset();
	return n;
}

static const char *mode_name[] = {"drop", "tear", "zero"};

static bool cut_once(uint64_t seed, uint64_t n, unsigned variant)
{
	enum crashfs_mode mode = (enum crashfs_mode)(variant % 3);
	bool keep_names = variant / 3;
	crashfs_init(n * 31 + variant);
	crashfs_power_cut_at(n);
	struct raft_fixture *c = start(seed);
	workload(c);
	bool cut = crashfs_power_is_off() && !c->m[1].up;
	char msg[1024] = "";
	if (!cut)
		snprintf(msg, sizeof(msg), "member 1 never lost power");
	crashfs_crash_names(mode, keep_names);
	fixture_heal(c);
	/* the leader goes down too: the next election depends on member 1's disk */
	raft_id l = fixture_leader(c);
	if (l != RAFT_NONE && l != 1)
		fixture_crash(c, l);
	fixture_restart(c, 1);
	fixture_run(c, 300);
	for (raft_id i = 1; i <= 4; i++)
		if (c->m[i].exists && !c->m[i].up)
			fixture_restart(c, i);
	bool progress = false;
	for (int tries = 0; tries < 20 && !progress && fixture_ok(c); tries++) {
		fixture_run_until(c, fixture_has_leader, NULL, 3000);
		raft_id nl = fixture_leader(c);
		uint64_t index = 0;
		if (nl != RAFT_NONE && fixture_propose(c, nl, "after", &index) == RAFT_OK) {
			for (int k = 0; k < 200 && !fixture_applied_everywhere(c, index); k++)
				fixture_run(c, 10);
			progress = fixture_applied_everywhere(c, index);
		} else {
			fixture_run(c, 100);
		}
	}
	if (!msg[0] && !fixture_ok(c))
		snprintf(msg, sizeof(msg), "%s", c->violation);
	if (!msg[0] && d.error[0])
		snprintf(msg, sizeof(msg), "%s", d.error);
	if (!msg[0] && !progress)
		snprintf(msg, sizeof(msg), "no write applied everywhere after the restart");
	bool ok = msg[0] == '\0';
	if (!ok) {
		char what[1400];
		snprintf(what, sizeof(what),
			 "seed %" PRIu64 ", cut before member 1's boundary %" PRIu64
			 " (%s, names %s): %s",
			 seed, n, mode_name[mode], keep_names ? "kept" : "dropped", msg);
		check_that(false, what, __FILE__, __LINE__);
		if (getenv("CETCD_TRACE"))
			fixture_print_trace(c);
	}
	fixture_free(c);
	if (d.w)
		wal_close(d.w, NULL, 0);
	d.w = NULL;
	crashfs_reset();
	return ok;
}

static void test_cluster_sweep(void)
{
	bool full = getenv("CETCD_POWERCUT_FULL") != NULL;
	uint64_t cuts = 0, failures = 0;
	for (uint64_t seed = 1; seed <= (full ? 6u : 3u); seed++) {
		uint64_t total = count_boundaries(seed);
		for (uint64_t n = 1; n <= total && failures <= 10; n++) {
			for (unsigned v = 0; v < 6; v++) {
				if (!full && v != (n + seed) % 6)
					continue;
				cuts++;
				if (!cut_once(seed, n, v))
					failures++;
			}
		}
		printf("# seed %" PRIu64 ": %" PRIu64 " boundaries of member 1, each cut %s\n",
		       seed, total, full ? "under all six variants" : "once");
	}
	printf("# cluster power cuts: %" PRIu64 ", failures: %" PRIu64 "\n", cuts, failures);
	CHECK(cuts >= 500);
	CHECK(installs > 0); /* the workload reaches the install path */
	CHECK_EQ(failures, 0);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"cluster_sweep", test_cluster_sweep},
	};
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
