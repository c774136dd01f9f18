/* fuzz_snap.c - libFuzzer target: snapshot load (disk/snap.c, snap_load)
 * and the state inside it (kv/command.c's envelope: member table, auth
 * table; kv/store_codec.c: the store), as a restart or an installed
 * snapshot from the leader reads them. Input: a mode byte, then: (0) the
 * raw bytes of a snapshot file, (1) the application data, saved with
 * snap_save (so the file's CRC is right) and loaded back, (2) the state
 * bytes handed straight to the decoders.
 * Invariants: a saved snapshot loads back byte for byte; a state that
 * decodes re-encodes to bytes y that decode and re-encode to exactly y;
 * the restored store answers reads and expires its TTLs; replacing a
 * store that holds data gives the same store as reading into an empty one,
 * and a failed replace leaves the store as it was. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk/snap.h"
#include "fuzz.h"
#include "fuzz_fs.h"
#include "kv/auth.h"
#include "kv/cluster.h"
#include "kv/command.h"
#include "kv/store.h"
#include "kv/store_codec.h"
#include "util/buf.h"

#define NOW_NS 1700000000000000000LL

static void dump(struct store *s, struct buf *out)
{
	struct store_error err = {0};
	buf_printf(out, "%llu:", (unsigned long long)store_index(s));
	if (store_get(s, "/", true, true, NOW_NS, out, &err) != 0)
		store_error_clear(&err);
	/* the snapshot bytes hold the history and TTL order too */
	store_snapshot_write(s, out);
}

static struct store *seeded_store(void)
{
	struct store *s = store_new();
	static const struct store_write seed[] = {
		{.op = OP_SET, .path = "/a", .value = "1"},
		{.op = OP_SET, .path = "/d/x", .value = "x", .has_ttl = true, .ttl = 5},
	};
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++) {
		struct store_event *ev = NULL;
		struct store_error err = {0};
		FUZZ_CHECK(store_write(s, &seed[i], NOW_NS, &ev, &err) == 0);
		store_event_unref(ev);
	}
	return s;
}

static void encode_state(const struct cluster *t, const struct auth_state *a, const struct store *s,
			 struct buf *out)
{
	command_encode_snapshot_head(out, t, a);
	store_snapshot_write(s, out);
}

/* Decodes a state; on success fills *t, *a, *s (caller frees). */
static int decode_state(const void *data, size_t len, struct cluster *t, struct auth_state **a,
			struct store **s)
{
	char err[512] = "";
	const void *sb;
	size_t sl;
	*t = (struct cluster){0};
	*a = auth_state_new();
	*s = NULL;
	if (command_decode_snapshot(data, len, t, *a, &sb, &sl, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		auth_state_free(*a);
		return -1;
	}
	*s = store_new();
	/* replace over a store with data: all or nothing */
	struct store *other = seeded_store();
	struct buf before = BUF_INIT, after = BUF_INIT;
	dump(other, &before);
	int rr = store_snapshot_replace(other, sb, sl, err, sizeof(err));
	if (store_snapshot_read(*s, sb, sl, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(rr != 0);
		dump(other, &after);
		FUZZ_CHECK(before.len == after.len &&
			   memcmp(before.data, after.data, before.len) == 0);
		buf_free(&before);
		buf_free(&after);
		store_free(other);
		store_free(*s);
		cluster_free(t);
		auth_state_free(*a);
		return -1;
	}
	FUZZ_CHECK(rr == 0);
	struct buf mine = BUF_INIT;
	dump(*s, &mine);
	dump(other, &after);
	FUZZ_CHECK(mine.len == after.len && memcmp(mine.data, after.data, mine.len) == 0);
	buf_free(&mine);
	buf_free(&before);
	buf_free(&after);
	store_free(other);
	return 0;
}

static void check_state(const void *data, size_t len)
{
	struct cluster t1, t2;
	struct auth_state *a1, *a2;
	struct store *s1, *s2;
	if (decode_state(data, len, &t1, &a1, &s1) != 0)
		return;
	struct buf y = BUF_INIT, z = BUF_INIT;
	encode_state(&t1, a1, s1, &y);
	FUZZ_CHECK(decode_state(y.data, y.len, &t2, &a2, &s2) == 0);
	encode_state(&t2, a2, s2, &z);
	FUZZ_CHECK(y.len == z.len && memcmp(y.data, z.data, y.len) == 0);
	/* the restored store works: writes, reads, expiry */
	struct store_write w = {.op = OP_SET, .path = "/fuzz/k", .value = "v"};
	struct store_event *ev = NULL;
	struct store_error err = {0};
	if (store_write(s1, &w, NOW_NS, &ev, &err) != 0)
		store_error_clear(&err);
	store_event_unref(ev);
	store_expire(s1, INT64_MAX);
	struct buf g = BUF_INIT;
	if (store_get(s1, "/", true, false, NOW_NS, &g, &err) != 0)
		store_error_clear(&err);
	buf_free(&g);
	buf_free(&y);
	buf_free(&z);
	store_free(s1);
	store_free(s2);
	cluster_free(&t1);
	cluster_free(&t2);
	auth_state_free(a1);
	auth_state_free(a2);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(len == 0 || fwrite(data, 1, len, f) == len);
	fclose(f);
}

static void check_file(const uint8_t *data, size_t len, bool saved)
{
	fuzz_make_dir("snap");
	fuzz_clear_dir();
	char err[512] = "";
	if (saved) {
		struct raft_snapshot_meta m = {.index = 5, .term = 1};
		FUZZ_CHECK(snap_save(fuzz_dir, &m, data, len, err, sizeof(err)) == 0);
	} else {
		write_file("0000000000000001-0000000000000005.snap", data, len);
	}
	struct snap_loaded l;
	int rc = snap_load(fuzz_dir, UINT64_MAX, &l, err, sizeof(err));
	FUZZ_CHECK(rc >= 0);
	if (saved) {
		FUZZ_CHECK(rc == 1 && l.snap.meta.index == 5 && l.snap.meta.term == 1);
		FUZZ_CHECK(l.snap.len == len && (len == 0 || memcmp(l.snap.data, data, len) == 0));
	}
	if (rc == 1) {
		check_state(l.snap.data, l.snap.len);
		snap_loaded_free(&l);
	}
	fuzz_clear_dir();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		check_file(data + 1, size - 1, false);
		break;
	case 1:
		check_file(data + 1, size - 1, true);
		break;
	default:
		check_state(data + 1, size - 1);
	}
	return 0;
}
