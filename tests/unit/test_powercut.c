/* test_powercut.c - a power cut at every syscall boundary of the disk write
 * path (issue 17). One deterministic workload drives the real WAL and
 * snapshot code (src/disk) over crashfs: appends with hard states, commit-only
 * hard states, group syncs (several appends, one fdatasync), writes that
 * pass flush_bytes mid-batch, segment cuts and preallocation (tiny
 * segments), conflicting-suffix overwrites after a term change, membership
 * (CONF) entries, snapshot save + rename + directory fsync + marker, snapshot
 * purge and WAL release, and a graceful close (trim) + reopen.
 *
 * A first run with no cut counts the boundaries (crashfs.h: every op that can
 * change what a crash leaves). Then for each boundary n the workload runs
 * again with the power going just before op n; crashfs loses what was not
 * synced (drop, tear the last write, or zero it; unsynced name changes lost
 * or kept); the data dir is opened as boot.c opens it (newest valid snapshot,
 * then the WAL after it) and checked against a model of what the disk
 * acknowledged (the last wal_sync that returned 0):
 *   - it opens: a torn tail is repaired, never a refusal for a plain crash;
 *   - every acknowledged entry is there with its term, type and bytes (or
 *     under the snapshot), unless a later overwrite of it survived;
 *   - the hard state is at least the acknowledged one (term, vote, commit):
 *     a member never serves less than it did (member/node.c applies an
 *     entry only once a synced hard state commits it);
 *   - nothing else appears committed: every entry up to the recovered
 *     commit is one the workload had committed, and the snapshot's state is
 *     the committed state at its index;
 *   - the repaired log takes a new append that survives the next crash.
 * Every boundary is cut under all six crash variants, for two workload
 * sizes (about 8,000 cuts, a few seconds); CETCD_POWERCUT_FULL=1 runs six
 * sizes with three tear seeds each (doc/testing.md, "Power cuts"). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "crashfs.h"
#include "disk/fs.h"
#include "disk/snap.h"
#include "disk/wal.h"
#include "util/crc32c.h"

#define WAL_DIR	 "/data/member/wal"
#define SNAP_DIR "/data/member/snap"
#define MAXI	 2048

/* ---- entry contents: a pure function of (index, term) ----------------------------- */

static size_t payload(uint64_t index, uint64_t term, char *buf, size_t cap)
{
	size_t len = 24 + (size_t)((index * 37 + term * 11) % 500);
	if (len > cap)
		len = cap;
	int n = snprintf(buf, cap, "i=%" PRIu64 " t=%" PRIu64 ";", index, term);
	for (size_t k = (size_t)n; k < len; k++)
		buf[k] = (char)('a' + (index + k) % 26);
	return len;
}

static uint8_t entry_type(uint64_t index)
{
	return index % 7 == 0 ? RAFT_ENTRY_CONF : RAFT_ENTRY_NORMAL;
}

/* ---- the model ------------------------------------------------------------------------ */

struct log_model {
	uint64_t term[MAXI]; /* term of the entry at each index, 1..last */
	uint64_t last;
	struct raft_hard_state hs;
};

static struct {
	struct log_model cur, ack;
	uint64_t pend[MAXI];	  /* bit t: term t written at i since the last ack */
	uint64_t committed[MAXI]; /* term committed at i (0: never committed) */
	uint64_t snap_saved;	  /* newest snapshot index saved durably */
	uint64_t snap_trying;	  /* the snapshot being saved (may survive a cut) */
	uint64_t acks;
} m;

static uint32_t chain_at(uint64_t index)
{
	uint32_t c = 0;
	char buf[600];
	for (uint64_t i = 1; i <= index; i++) {
		size_t len = payload(i, m.committed[i], buf, sizeof(buf));
		c = crc32c(c, buf, len);
	}
	return c;
}

static void model_ack(void)
{
	m.ack = m.cur;
	memset(m.pend, 0, sizeof(m.pend));
	m.acks++;
}

static void model_commit(uint64_t commit)
{
	for (uint64_t i = 1; i <= commit; i++)
		if (!m.committed[i])
			m.committed[i] = m.cur.term[i];
}

/* ---- the workload -------------------------------------------------------------------- */

static const struct wal_options wopt = {
	.segment_size = 2048, /* a segment cut every few appends */
	.max_wals = 2,
	.flush_bytes = 700, /* writes mid-batch, before the sync */
};

static int sync_ack(struct wal *w)
{
	if (wal_sync(w) != 0)
		return -1;
	model_ack();
	return 0;
}

static int append(struct wal *w, uint64_t from, unsigned n, uint64_t term)
{
	struct raft_entry e[4];
	char bufs[4][600];
	for (unsigned k = 0; k < n; k++) {
		uint64_t i = from + k;
		e[k] = (struct raft_entry){
			.index = i, .term = term, .type = entry_type(i), .time = (int64_t)i * 1000};
		e[k].len = payload(i, term, bufs[k], sizeof(bufs[k]));
		e[k].data = bufs[k];
		m.cur.term[i] = term;
		m.pend[i] |= 1ull << term;
	}
	m.cur.last = from + n - 1;
	/* the leader commits all but the newest entry (never an overwritten one) */
	uint64_t commit = m.cur.last - 1;
	if (commit > m.cur.hs.commit)
		m.cur.hs.commit = commit;
	m.cur.hs.term = term;
	model_commit(m.cur.hs.commit);
	return wal_append(w, &m.cur.hs, e, n);
}

static int snapshot(struct wal *w)
{
	uint64_t index = m.cur.hs.commit;
	if (index <= m.snap_saved)
		return 0;
	uint64_t data[2] = {index, chain_at(index)};
	struct raft_snapshot_meta meta = {.index = index, .term = m.committed[index]};
	meta.conf.n_voters = 3;
	meta.conf.voters[0] = 1, meta.conf.voters[1] = 2, meta.conf.voters[2] = 3;
	char err[256];
	m.snap_trying = index;
	if (snap_save(SNAP_DIR, &meta, data, sizeof(data), err, sizeof(err)) != 0)
		return -1;
	m.snap_saved = index;
	if (wal_snapshot_marker(w, index, meta.term) != 0 || sync_ack(w) != 0)
		return -1;
	if (snap_purge(SNAP_DIR, 2, err, sizeof(err)) < 0)
		return -1;
	return wal_release_before(w, snap_oldest_index(SNAP_DIR)) < 0 ? -1 : 0;
}

/* Runs until the power goes (an op fails) or steps are done. */
static void workload(unsigned steps)
{
	memset(&m, 0, sizeof(m));
	struct wal_meta meta = {0x1111, 0x2222};
	struct wal *w = NULL;
	char err[512];
	if (fs_mkdir_durable(SNAP_DIR) != 0)
		return;
	if (wal_create(WAL_DIR, &meta, &wopt, &w, err, sizeof(err)) != 0)
		return;
	m.cur.hs = (struct raft_hard_state){.term = 1, .vote = 1};
	uint64_t term = 1;
	for (unsigned s = 1; s <= steps; s++) {
		if (s % 13 == 0) { /* a new term: a new leader voted for */
			term++;
			m.cur.hs.vote = 1 + s % 3;
		}
		int rc;
		if (s % 11 == 0 && m.cur.last > m.cur.hs.commit + 1) {
			/* a new leader's log wins: overwrite the uncommitted suffix */
			term++;
			m.cur.hs.vote = 2;
			rc = append(w, m.cur.hs.commit + 1, 2, term);
		} else {
			rc = append(w, m.cur.last + 1, 1 + s % 3, term);
		}
		if (rc == 0 && s % 5 == 0) { /* a commit-only hard state */
			m.cur.hs.commit = m.cur.last;
			model_commit(m.cur.hs.commit);
			rc = wal_append(w, &m.cur.hs, NULL, 0);
		}
		if (rc == 0 && s % 4 != 3) /* every fourth append shares the next sync */
			rc = sync_ack(w);
		if (rc == 0 && s % 17 == 0)
			rc = snapshot(w);
		if (rc == 0 && s == steps / 2) { /* graceful stop and restart */
			rc = wal_close_trim(w, err, sizeof(err));
			w = NULL;
			if (rc == 0)
				model_ack();
			struct wal_recovered rec;
			if (rc == 0)
				rc = wal_open(WAL_DIR, &wopt, m.snap_saved,
					      m.committed[m.snap_saved], &w, &rec, err,
					      sizeof(err));
			if (rc == 0)
				wal_recovered_free(&rec);
		}
		if (rc != 0) {
			/* the power is off: every op fails, so closing only frees */
			if (w)
				wal_close(w, NULL, 0);
			return;
		}
	}
	if (w)
		wal_close(w, NULL, 0);
}

/* ---- recovery and the checks -------------------------------------------------------- */

static char what[256]; /* the cut being checked, for failure messages */

static bool fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	check_that(false, msg, __FILE__, __LINE__);
	fprintf(stderr, "    at %s\n", what);
	return false;
}

static bool check_entry(const struct raft_entry *e)
{
	char buf[600];
	size_t len = payload(e->index, e->term, buf, sizeof(buf));
	if (e->len != len || memcmp(e->data, buf, len) != 0 || e->type != entry_type(e->index))
		return fail("entry %" PRIu64 " (term %" PRIu64 ") has other bytes", e->index,
			    e->term);
	bool acked = e->index <= m.ack.last && m.ack.term[e->index] == e->term;
	if (!acked && !(m.pend[e->index] & (1ull << e->term)))
		return fail("entry %" PRIu64 " term %" PRIu64 " was never written", e->index,
			    e->term);
	return true;
}

/* Opens the data dir as boot.c does and checks it; then appends once more. */
static bool recover_and_check(void)
{
	if (!wal_exists(WAL_DIR)) {
		/* the crash came before the log was durably created: a new member */
		if (m.acks > 0)
			return fail("the WAL is gone after %" PRIu64 " acknowledged syncs", m.acks);
		struct wal_meta meta = {0x1111, 0x2222};
		struct wal *w;
		char err[512];
		if (wal_create(WAL_DIR, &meta, &wopt, &w, err, sizeof(err)) != 0)
			return fail("a new member cannot create its WAL over the remains: %s", err);
		wal_close(w, NULL, 0);
		return true;
	}
	struct snap_loaded sl;
	char err[1024];
	int found = snap_load(SNAP_DIR, UINT64_MAX, &sl, err, sizeof(err));
	if (found < 0)
		return fail("snap_load: %s", err);
	uint64_t si = found ? sl.snap.meta.index : 0, st = found ? sl.snap.meta.term : 0;
	bool ok = true;
	if (found) {
		uint64_t data[2] = {0, 0};
		if (sl.snap.len == sizeof(data))
			memcpy(data, sl.snap.data, sizeof(data));
		if ((si > m.snap_saved && si != m.snap_trying) || !m.committed[si] ||
		    st != m.committed[si] || data[0] != si || data[1] != chain_at(si))
			ok = fail("snapshot at %" PRIu64 " is not the committed state", si);
		snap_loaded_free(&sl);
	}
	struct wal *w;
	struct wal_recovered rec;
	if (wal_open(WAL_DIR, &wopt, si, st, &w, &rec, err, sizeof(err)) != 0)
		return fail("the data dir does not open after a power cut: %s", err);
	uint64_t last = rec.n_entries ? rec.entries[rec.n_entries - 1].index : si;
	for (size_t k = 0; k < rec.n_entries && ok; k++)
		ok = check_entry(&rec.entries[k]);
	/* every acknowledged entry, unless a later overwrite of it survived */
	for (uint64_t i = si + 1; i <= m.ack.last && ok; i++) {
		const struct raft_entry *e = i <= last ? &rec.entries[i - si - 1] : NULL;
		if (e && e->term == m.ack.term[i])
			continue;
		if (e && (m.pend[i] & (1ull << e->term)))
			break; /* the overwrite that replaced it is there */
		ok = fail("acknowledged entry %" PRIu64 " (term %" PRIu64
			  ") lost (log ends at %" PRIu64 ")",
			  i, m.ack.term[i], last);
	}
	const struct raft_hard_state *hs = &rec.hard_state;
	uint64_t commit = hs->commit > si ? hs->commit : si;
	if (ok && (hs->term < m.ack.hs.term || commit < m.ack.hs.commit))
		ok = fail("hard state went back: term %" PRIu64 " commit %" PRIu64
			  ", acknowledged term %" PRIu64 " commit %" PRIu64,
			  hs->term, commit, m.ack.hs.term, m.ack.hs.commit);
	if (ok && hs->term == m.ack.hs.term && m.ack.hs.vote && hs->vote != m.ack.hs.vote)
		ok = fail("vote changed within term %" PRIu64, hs->term);
	for (uint64_t i = si + 1; i <= commit && ok; i++) {
		if (i > last)
			ok = fail("commit %" PRIu64 " past the log's end %" PRIu64, commit, last);
		else if (m.committed[i] != rec.entries[i - si - 1].term)
			ok = fail("entry %" PRIu64 " reported committed was never committed", i);
	}
	/* the repaired log takes an append that survives the next crash */
	uint64_t term = hs->term ? hs->term : 1;
	if (last && rec.n_entries && rec.entries[rec.n_entries - 1].term > term)
		term = rec.entries[rec.n_entries - 1].term;
	wal_recovered_free(&rec);
	struct raft_entry e = {.index = last + 1, .term = term, .data = "after", .len = 5};
	struct raft_hard_state nhs = {.term = term, .vote = 0, .commit = commit};
	if (wal_append(w, &nhs, &e, 1) != 0 || wal_sync(w) != 0) {
		fail("append after recovery: %s", wal_error(w));
		wal_close(w, NULL, 0);
		return false;
	}
	wal_close(w, NULL, 0);
	crashfs_crash(CRASHFS_DROP);
	if (wal_open(WAL_DIR, &wopt, si, st, &w, &rec, err, sizeof(err)) != 0)
		return fail("reopen after the post-recovery append: %s", err);
	if (rec.n_entries == 0 || rec.entries[rec.n_entries - 1].index != last + 1 ||
	    rec.entries[rec.n_entries - 1].len != 5)
		ok = fail("the post-recovery append is lost");
	wal_recovered_free(&rec);
	wal_close(w, NULL, 0);
	return ok;
}

/* ---- the sweep ------------------------------------------------------------------------- */

static const char *mode_name[] = {"drop", "tear", "zero"};

static uint64_t count_boundaries(unsigned steps)
{
	crashfs_init(1);
	workload(steps);
	uint64_t n = crashfs_boundaries();
	crashfs_reset();
	return n;
}

/* One cut: returns whether every check held. */
static bool cut_once(unsigned steps, uint64_t n, unsigned variant, uint64_t seed)
{
	enum crashfs_mode mode = (enum crashfs_mode)(variant % 3);
	bool keep_names = variant / 3;
	snprintf(what, sizeof(what),
		 "steps %u, power cut before boundary %" PRIu64 ", %s, names %s, seed %" PRIu64,
		 steps, n, mode_name[mode], keep_names ? "kept" : "dropped", seed);
	crashfs_init(seed);
	crashfs_power_cut_at(n);
	workload(steps);
	bool cut = crashfs_power_is_off();
	crashfs_crash_names(mode, keep_names);
	bool ok = recover_and_check();
	crashfs_reset();
	if (!cut)
		return fail("the power never went (workload ended before boundary %" PRIu64 ")", n);
	return ok;
}

static uint64_t sweep(unsigned steps, unsigned seed, uint64_t *failures)
{
	uint64_t total = count_boundaries(steps), cuts = 0;
	for (uint64_t n = 1; n <= total; n++) {
		for (unsigned v = 0; v < 6; v++) {
			cuts++;
			if (!cut_once(steps, n, v, n * 7919 + v + seed * 104729) &&
			    ++*failures > 20)
				return cuts; /* enough to debug */
		}
	}
	printf("# %u steps (seed %u): %" PRIu64 " boundaries, %" PRIu64 " power cuts\n", steps,
	       seed, total, cuts);
	return cuts;
}

/* The workload without a cut: everything acknowledged, and it reopens. */
static void test_no_cut(void)
{
	crashfs_init(1);
	snprintf(what, sizeof(what), "no power cut");
	workload(120);
	CHECK(m.acks > 50);
	crashfs_crash(CRASHFS_DROP);
	CHECK(recover_and_check());
	crashfs_reset();
}

static void test_sweep(void)
{
	bool full = getenv("CETCD_POWERCUT_FULL") != NULL;
	uint64_t failures = 0, cuts = 0;
	/* every boundary under all six variants; the full run adds sizes and
	 * tear seeds */
	static const unsigned quick[] = {97, 160};
	static const unsigned more[] = {30, 60, 120, 173, 241, 400};
	const unsigned *sizes = full ? more : quick;
	size_t n_sizes = full ? sizeof(more) / sizeof(more[0]) : sizeof(quick) / sizeof(quick[0]);
	for (unsigned seed = 0; seed < (full ? 3u : 1u); seed++)
		for (size_t k = 0; k < n_sizes; k++)
			cuts += sweep(sizes[k], seed, &failures);
	printf("# power cuts: %" PRIu64 ", lost or invented acknowledged writes: %" PRIu64 "\n",
	       cuts, failures);
	CHECK(cuts >= 1000);
	CHECK_EQ(failures, 0);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"no_cut", test_no_cut},
		{"sweep", test_sweep},
	};
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
