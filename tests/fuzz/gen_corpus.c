/* gen_corpus.c - writes the seed corpus of the fuzz targets
 * (tests/fuzz/corpus/<target>/seed-NNN) from fixed inputs through the real
 * encoders, so the binary seeds follow the formats: `make fuzz-corpus`
 * (gen_corpus DIR) rewrites them. Deterministic: the same build writes the
 * same bytes. Text seeds are listed here as they are. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/snap.h"
#include "disk/wal.h"
#include "kv/auth.h"
#include "kv/cluster.h"
#include "kv/command.h"
#include "kv/store.h"
#include "kv/store_codec.h"
#include "member/peer_codec.h"
#include "util/buf.h"
#include "util/le.h"

static const char *top;
static char cur[512];
static int seq;

static void target(const char *name)
{
	snprintf(cur, sizeof(cur), "%s/%s", top, name);
	if (mkdir(cur, 0755) != 0 && errno != EEXIST) {
		perror(cur);
		exit(1);
	}
	seq = 0;
}

static void seed(const void *data, size_t len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/seed-%03d", cur, seq++);
	FILE *f = fopen(path, "wb");
	if (f == NULL || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A seed: one prefix byte, then text. */
static void seed_pre(uint8_t pre, const char *s)
{
	struct buf b = BUF_INIT;
	buf_putc(&b, (char)pre);
	buf_puts(&b, s);
	seed(b.data, b.len);
	buf_free(&b);
}

static void seed_buf(struct buf *b)
{
	seed(b->data, b->len);
	buf_free(b);
}

/* ---- text targets ------------------------------------------------------ */

static void keys_request(void)
{
	static const struct {
		uint8_t method; /* 0 GET 1 HEAD 2 PUT 3 POST 4 DELETE */
		const char *s;
	} v[] = {
		{0, "/a"},
		{0, "/d\nrecursive=true&sorted=true"},
		{0, "/d\nwait=true&waitIndex=3"},
		{0, "/a\nquorum=true"},
		{0, "/d\nwait=true&recursive=true&stream=true"},
		{1, "/a"},
		{2, "/a\nvalue=hello"},
		{2, "/a\nvalue=2&prevValue=1"},
		{2, "/a\nvalue=2&prevIndex=1"},
		{2, "/a\nvalue=2&prevExist=true"},
		{2, "/new\nvalue=2&prevExist=false"},
		{2, "/d2\ndir=true"},
		{2, "/d\ndir=true&prevExist=true&ttl=5"},
		{2, "/t\nvalue=x&ttl=10"},
		{2, "/d/x\nttl=20&refresh=true&prevExist=true"},
		{2, "/a\nvalue=%00bin%FF"},
		{2, "/a\nvalue=x&ttl=abc"},
		{2, "/a\nvalue=x&prevIndex=-1"},
		{2, "/a\nvalue=a+b%20c&noValueOnSuccess=true"},
		{2, "/\nvalue=root"},
		{2, "/a;b\nvalue=1"},
		{3, "/queue\nvalue=job1"},
		{3, "/queue\nvalue=job2&ttl=3"},
		{4, "/a"},
		{4, "/d\nrecursive=true"},
		{4, "/d\ndir=true"},
		{4, "/a\nprevValue=1"},
		{4, "/a\nprevIndex=1"},
		{4, "/d/x\nprevValue=x&prevIndex=3"},
		{2, "/%E2%82%AC\nvalue=%zz"},
		{2, "/a\nvalue=1&value=2&value"},
		{0, "/_hidden\nrecursive=true"},
	};
	target("fuzz_keys_request");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		seed_pre(v[i].method, v[i].s);
}

static void keypath(void)
{
	static const char *v[] = {
		"/v2/keys",
		"/v2/keys/",
		"/v2/keys/a",
		"/v2/keys/a/b/c",
		"/v2/keys/a%2Fb",
		"/v2/keys/../x",
		"/v2/keys//a//b/",
		"/v2/keys/./a/./",
		"/v2/keys/a?recursive=true",
		"/v2/keys/%E2%82%AC",
		"/v2/keys/%zz",
		"/v2/keys/%00",
		"/v2/keys/_hidden/x",
		"/v2/keys/a b",
		"/v2/members/abc",
		"/v2/keys/a/..",
		"/v2/keys/..",
		"/",
		"/v2/keys/a%3Fb?x=1",
		"/v2/keys/very/deep/path/with/many/levels/to/walk/through",
	};
	target("fuzz_keypath");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		seed(v[i], strlen(v[i]));
}

static void goparse(void)
{
	static const struct {
		uint8_t base, bits;
		const char *s;
	} v[] = {
		{10, 63, "0"},
		{10, 63, "18446744073709551615"},
		{10, 63, "18446744073709551616"},
		{0, 63, "0x1f"},
		{0, 63, "0b101"},
		{0, 63, "0o17"},
		{0, 63, "017"},
		{0, 63, "1_000"},
		{0, 31, "-2147483648"},
		{16, 63, "8e2dbd31c5bb2a2b"},
		{36, 63, "zz"},
		{10, 7, "+255"},
		{10, 63, "1s"},
		{10, 63, "1h2m3.5s"},
		{10, 63, "-1.5ms"},
		{10, 63, "300us"},
		{10, 63, "2562047h47m16.854775807s"},
		{10, 63, "true"},
		{10, 63, "F"},
		{10, 63, "a\"b\\c\n\x01\x7f"},
		{10, 63, ".5h"},
		{10, 63, "1e3"},
	};
	target("fuzz_goparse");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b = BUF_INIT;
		buf_putc(&b, (char)v[i].base);
		buf_putc(&b, (char)v[i].bits);
		buf_puts(&b, v[i].s);
		seed_buf(&b);
	}
}

static void url(void)
{
	static const struct {
		uint8_t sel; /* 0 one URL, 1 list, 2 name=url map */
		const char *s;
	} v[] = {
		{0, "http://127.0.0.1:2379"},
		{0, "https://[::1]:2380"},
		{0, "unix://localhost:1"},
		{0, "unixs://sock:0"},
		{0, "HTTP://Host:1"},
		{0, "http://h"},
		{0, "http://h:1/path"},
		{0, "ftp://h:1"},
		{0, "http://user:pw@h:1"},
		{0, "http://h:1?q=1#f"},
		{0, "http://%41:1"},
		{0, "http://[fe80::1%25eth0]:1"},
		{1, "http://b:1,http://a:2"},
		{1, " http://a:1 , http://a:1 "},
		{1, ""},
		{2, "infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380"},
		{2, "a=http://h:1,,b=http://h:2"},
		{2, "noequals"},
		{2, "a=http://h:1,a=http://h:2"},
	};
	target("fuzz_url");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		seed_pre(v[i].sel, v[i].s);
}

static void members(void)
{
	static const char *v[] = {
		"[]",
		"null",
		"[{\"id\":10276657743932975437,\"peerURLs\":[\"http://127.0.0.1:2380\"],"
		"\"name\":\"default\",\"clientURLs\":[\"http://127.0.0.1:2379\"]}]",
		"[{\"id\":1,\"peerURLs\":[\"http://127.0.0.1:2380\"]},"
		"{\"id\":2,\"peerURLs\":[\"http://127.0.0.2:2380\",\"http://10.0.0.2:2380\"],"
		"\"name\":\"b\",\"clientURLs\":[\"http://127.0.0.2:2379\"],\"isLearner\":false}]",
		"[{\"id\":\"8e9e05c52164694d\",\"name\":\"hex\",\"peerURLs\":null}]",
		"[{\"id\":-1},{\"id\":1.5e3},{\"id\":18446744073709551616}]",
		"[{\"name\":\"x\\\"y\\u00e9\",\"peerURLs\":[1,null,\"u\"]}]",
		"[{\"id\":3,\"peerURLs\":[\"http://a:1\"]},{\"id\":3,\"peerURLs\":[\"http://b:1\"]}]",
		"{\"members\":[]}",
		"[{\"id\":0}]",
		"[\"not an object\", 5, true]",
	};
	target("fuzz_members");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		seed(v[i], strlen(v[i]));
}

static void auth_json(void)
{
	static const struct {
		uint8_t sel; /* 0 user, 1 role */
		const char *s;
	} v[] = {
		{0, "{\"user\":\"root\",\"password\":\"pw\"}"},
		{0, "{\"user\":\"u\",\"roles\":[\"r1\",\"r2\"]}"},
		{0, "{\"user\":\"u\",\"grant\":[\"r\"],\"revoke\":null}"},
		{0, "{\"USER\":\"u\",\"Password\":null,\"roles\":[null,\"x\"]}"},
		{0, "{\"user\":\"u\",\"roles\":[\"a\"],\"ROLES\":[\"b\"]}"},
		{0, "null"},
		{0, "{\"user\":1}"},
		{0, "{\"user\":\"u\"} trailing garbage"},
		{0, "[]"},
		{1,
		 "{\"role\":\"r\",\"permissions\":{\"kv\":{\"read\":[\"/a\"],\"write\":[\"/b*\"]}}}"},
		{1, "{\"role\":\"r\",\"grant\":{\"kv\":{\"read\":[\"/x*\"]}}}"},
		{1, "{\"role\":\"r\",\"revoke\":{\"kv\":{\"write\":[\"/y\"]}},\"grant\":null}"},
		{1, "{\"role\":\"r\",\"permissions\":null}"},
		{1, "{\"Role\":\"r\",\"Permissions\":{\"KV\":{\"Read\":null}}}"},
		{1, "{\"role\":\"r\",\"permissions\":{\"kv\":{\"read\":\"notalist\"}}}"},
		{1, "{}"},
	};
	target("fuzz_auth_json");
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		seed_pre(v[i].sel, v[i].s);
}

/* ---- binary targets ------------------------------------------------------ */

static const struct store_write writes[] = {
	{.op = OP_SET, .path = "/a", .value = "1"},
	{.op = OP_SET, .path = "/d", .dir = true},
	{.op = OP_SET, .path = "/d/x", .value = "x", .has_ttl = true, .ttl = 5},
	{.op = OP_CREATE, .path = "/q", .value = "job", .unique = true},
	{.op = OP_UPDATE, .path = "/a", .value = "2"},
	{.op = OP_CAS, .path = "/a", .value = "3", .prev_value = "2", .prev_index = 5},
	{.op = OP_UPDATE, .path = "/d/x", .refresh = true, .has_ttl = true, .ttl = 9},
	{.op = OP_SET, .path = "/bin", .value = "a\0b", .value_len = 3},
	{.op = OP_CAD, .path = "/a", .prev_value = "3"},
	{.op = OP_DELETE, .path = "/d", .recursive = true, .dir = true},
	{.op = OP_DELETE, .path = "/q"},
};
#define N_WRITES (sizeof(writes) / sizeof(writes[0]))

static void sample_table(struct cluster *c)
{
	char *p1[] = {"http://127.0.0.1:2380"}, *c1[] = {"http://127.0.0.1:2379"};
	char *p2[] = {"http://127.0.0.2:2380", "http://10.0.0.2:2380"};
	cluster_add_member(c, "one", p1, 1, c1, 1, "tok");
	cluster_add_member(c, "", p2, 2, NULL, 0, "tok");
}

static void command(void)
{
	target("fuzz_command");
	for (size_t i = 0; i < N_WRITES; i++) {
		struct buf b = BUF_INIT;
		command_encode_write(&b, 0x1234, i + 1, &writes[i]);
		seed_buf(&b);
	}
	struct buf b = BUF_INIT;
	command_encode_expire(&b, 7, 8);
	seed_buf(&b);
	struct cluster t = {0};
	sample_table(&t);
	command_encode_publish(&b, &t.members[0]);
	seed_buf(&b);
	command_encode_update(&b, 7, 11, &t.members[1]);
	seed_buf(&b);
	command_encode_conf(&b, 7, 9, 1, t.members[1].id, &t);
	seed_buf(&b);
	command_encode_conf(&b, 7, 10, 3, t.members[1].id, NULL);
	seed_buf(&b);
	char *roles[] = {"r1", "r2"}, *pat[] = {"/a*", "/b"};
	struct auth_op ops[] = {
		{.type = AUTH_OP_ENABLE},
		{.type = AUTH_OP_USER_CREATE,
		 .name = "u",
		 .password = "$2a$hash",
		 .roles = {roles, 2, false},
		 .grant = {.null = true},
		 .revoke = {.null = true}},
		{.type = AUTH_OP_USER_UPDATE,
		 .name = "u",
		 .roles = {.null = true},
		 .grant = {roles, 1, false},
		 .revoke = {roles + 1, 1, false}},
		{.type = AUTH_OP_ROLE_CREATE,
		 .name = "r",
		 .roles = {.null = true},
		 .perms = {{pat, 2, false}, {pat, 1, false}}},
		{.type = AUTH_OP_ROLE_UPDATE,
		 .name = "r",
		 .has_grant = true,
		 .grant_perms = {{pat, 1, false}, {.null = true}},
		 .has_revoke = true,
		 .revoke_perms = {{.null = true}, {pat + 1, 1, false}}},
		{.type = AUTH_OP_USER_DELETE, .name = "u"},
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		command_encode_auth(&b, 7, 20 + i, &ops[i]);
		seed_buf(&b);
	}
	cluster_free(&t);
}

static void peer(void)
{
	target("fuzz_peer");
	struct raft_entry e[3] = {
		{.term = 2,
		 .index = 5,
		 .type = 0,
		 .time = 1700000000000000000,
		 .data = "x",
		 .len = 1},
		{.term = 2,
		 .index = 6,
		 .type = 0,
		 .time = 1700000000000000001,
		 .data = NULL,
		 .len = 0},
		{.term = 3,
		 .index = 7,
		 .type = 1,
		 .time = 1700000000000000002,
		 .data = "conf",
		 .len = 4},
	};
	struct raft_snapshot snap = {.meta = {.index = 9,
					      .term = 3,
					      .conf = {.n_voters = 2,
						       .voters = {1, 2},
						       .n_learners = 1,
						       .learners = {3}}},
				     .data = "state",
				     .len = 5};
	struct raft_message m[] = {
		{.type = RAFT_MSG_APPEND,
		 .from = 1,
		 .to = 2,
		 .term = 3,
		 .log_term = 2,
		 .index = 4,
		 .commit = 4,
		 .entries = e,
		 .n_entries = 3},
		{.type = RAFT_MSG_APPEND_RESP, .from = 2, .to = 1, .term = 3, .index = 7},
		{.type = RAFT_MSG_APPEND_RESP,
		 .from = 2,
		 .to = 1,
		 .term = 3,
		 .index = 7,
		 .reject = true,
		 .reject_hint = 3},
		{.type = RAFT_MSG_VOTE,
		 .from = 1,
		 .to = 2,
		 .term = 4,
		 .log_term = 3,
		 .index = 7,
		 .transfer = true},
		{.type = RAFT_MSG_PREVOTE_RESP, .from = 2, .to = 1, .term = 4, .reject = true},
		{.type = RAFT_MSG_HEARTBEAT,
		 .from = 1,
		 .to = 2,
		 .term = 3,
		 .commit = 7,
		 .context = 11},
		{.type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 3, .term = 3, .snapshot = &snap},
		{.type = RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = 3},
		{.type = RAFT_MSG_READ_INDEX, .from = 2, .to = 1, .term = 3, .context = 99},
		{.type = RAFT_MSG_READ_INDEX_RESP,
		 .from = 1,
		 .to = 2,
		 .term = 3,
		 .index = 7,
		 .context = 99},
	};
	size_t n = sizeof(m) / sizeof(m[0]);
	for (size_t i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		peer_encode_header(&b, 1);
		peer_encode_message(&b, &m[i]);
		seed_buf(&b);
	}
	struct buf b = BUF_INIT;
	peer_encode_header(&b, 3);
	peer_encode_message(&b, &m[0]);
	peer_encode_proposal(&b, "payload", 7);
	peer_encode_message(&b, &m[5]);
	seed_buf(&b);
	peer_encode_header(&b, 1);
	peer_encode_proposal(&b, NULL, 0);
	seed_buf(&b);
	peer_encode_header(&b, 0);
	seed_buf(&b);
}

/* WAL records for fuzz_wal's structured mode: type, length, body. */
static void wal_rec(struct buf *b, uint8_t type, const uint8_t *body, size_t len)
{
	buf_putc(b, (char)type);
	buf_putc(b, (char)len);
	buf_append(b, body, len);
}

static void wal_entry(struct buf *b, uint64_t index, uint64_t term, const char *data)
{
	uint8_t p[26 + 32];
	size_t n = strlen(data);
	le_put_u64(p, index);
	le_put_u64(p + 8, term);
	p[16] = 0;
	le_put_u64(p + 17, (uint64_t)1700000000000000000LL);
	memcpy(p + 25, data, n);
	wal_rec(b, 2, p, 25 + n);
}

static void wal_hs(struct buf *b, uint64_t term, uint64_t vote, uint64_t commit)
{
	uint8_t p[24];
	le_put_u64(p, term);
	le_put_u64(p + 8, vote);
	le_put_u64(p + 16, commit);
	wal_rec(b, 3, p, 24);
}

static void wal_snapmark(struct buf *b, uint64_t index, uint64_t term)
{
	uint8_t p[16];
	le_put_u64(p, index);
	le_put_u64(p + 8, term);
	wal_rec(b, 4, p, 16);
}

/* Mode byte, snap index, snap term (fuzz_wal.c). */
static void wal_head(struct buf *b, uint8_t mode, uint8_t si, uint8_t st)
{
	buf_putc(b, (char)mode);
	buf_putc(b, (char)si);
	buf_putc(b, (char)st);
}

static void wal_raw_segment(void)
{
	char dir[] = "/tmp/cetcd-gen-wal-XXXXXX", err[256], path[600];
	if (mkdtemp(dir) == NULL)
		return;
	struct wal_meta meta = {0x1111, 0x2222};
	struct wal_options o = {.segment_size = 4096};
	struct wal *w;
	if (wal_create(dir, &meta, &o, &w, err, sizeof(err)) != 0) {
		fprintf(stderr, "gen_corpus: %s\n", err);
		exit(1);
	}
	struct raft_hard_state hs = {.term = 2, .vote = 1, .commit = 2};
	struct raft_entry e[3] = {{.term = 1, .index = 1, .data = "a", .len = 1},
				  {.term = 2, .index = 2, .data = "bb", .len = 2},
				  {.term = 2, .index = 3, .data = "ccc", .len = 3}};
	wal_append(w, &hs, e, 3);
	wal_close_trim(w, err, sizeof(err));
	snprintf(path, sizeof(path), "%s/0000000000000000-0000000000000001.wal", dir);
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	wal_head(&b, 1, 0, 0);
	char chunk[4096];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (f)
		fclose(f);
	unlink(path);
	rmdir(dir);
	seed_buf(&b);
}

static void wal(void)
{
	target("fuzz_wal");
	struct buf b = BUF_INIT;
	wal_head(&b, 0, 0, 0);
	seed_buf(&b);
	wal_head(&b, 0, 0, 0);
	wal_hs(&b, 1, 1, 1);
	wal_entry(&b, 1, 1, "first");
	wal_entry(&b, 2, 1, "second");
	seed_buf(&b);
	wal_head(&b, 0, 0, 0); /* a conflicting suffix rewritten */
	wal_entry(&b, 1, 1, "a");
	wal_entry(&b, 2, 1, "b");
	wal_entry(&b, 3, 1, "c");
	wal_entry(&b, 2, 2, "B");
	wal_hs(&b, 2, 2, 3);
	seed_buf(&b);
	wal_head(&b, 0, 2, 1); /* after a snapshot at 2 */
	wal_entry(&b, 1, 1, "a");
	wal_entry(&b, 2, 1, "b");
	wal_snapmark(&b, 2, 1);
	wal_entry(&b, 3, 1, "c");
	seed_buf(&b);
	wal_head(&b, 0, 5, 2); /* an installed snapshot replaces the log */
	wal_entry(&b, 1, 1, "a");
	wal_snapmark(&b, 5, 2);
	wal_entry(&b, 6, 2, "f");
	seed_buf(&b);
	wal_head(&b, 0, 0, 0); /* two segments */
	wal_entry(&b, 1, 1, "a");
	wal_entry(&b, 2, 1, "b");
	uint8_t first = 3;
	wal_rec(&b, 0xFE, &first, 1);
	wal_hs(&b, 1, 0, 2);
	wal_entry(&b, 3, 1, "c");
	seed_buf(&b);
	wal_head(&b, 0, 0, 0); /* a torn tail */
	wal_entry(&b, 1, 1, "a");
	uint8_t torn[] = {20, 0, 0, 0, 1, 2, 3, 4, 2, 0};
	wal_rec(&b, 0x80, torn, sizeof(torn));
	seed_buf(&b);
	wal_head(&b, 0, 0, 0); /* a gap */
	wal_entry(&b, 1, 1, "a");
	wal_entry(&b, 3, 1, "c");
	seed_buf(&b);
	wal_head(&b, 0, 0, 0); /* an unknown record type */
	wal_rec(&b, 9, (const uint8_t *)"?", 1);
	seed_buf(&b);
	wal_raw_segment();
}

static void sample_store(struct store *s)
{
	int64_t now = 1700000000000000000LL;
	for (size_t i = 0; i < N_WRITES - 2; i++) {
		struct store_event *ev = NULL;
		struct store_error err = {0};
		if (store_write(s, &writes[i], now, &ev, &err) != 0)
			store_error_clear(&err);
		store_event_unref(ev);
	}
	struct store_write more[] = {
		{.op = OP_SET, .path = "/e/f/g", .value = "deep", .has_ttl = true, .ttl = 100},
		{.op = OP_SET, .path = "/_hidden", .value = "h"},
		{.op = OP_SET, .path = "/e/dir", .dir = true, .has_ttl = true, .ttl = 50},
	};
	for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		struct store_event *ev = NULL;
		struct store_error err = {0};
		if (store_write(s, &more[i], now, &ev, &err) != 0)
			store_error_clear(&err);
		store_event_unref(ev);
	}
}

static void state_bytes(struct buf *out, bool with_auth, bool empty)
{
	struct cluster t = {0};
	struct auth_state *a = auth_state_new();
	struct store *s = store_new();
	if (!empty) {
		sample_table(&t);
		sample_store(s);
	}
	if (with_auth) {
		char *pat[] = {"/a*"}, *roles[] = {"r"};
		struct auth_op ops[] = {
			{.type = AUTH_OP_ROLE_CREATE,
			 .name = "r",
			 .roles = {.null = true},
			 .perms = {{pat, 1, false}, {pat, 1, false}}},
			{.type = AUTH_OP_USER_CREATE,
			 .name = "u",
			 .password = "$2a$x",
			 .roles = {roles, 1, false},
			 .grant = {.null = true},
			 .revoke = {.null = true}},
			{.type = AUTH_OP_USER_CREATE,
			 .name = "root",
			 .password = "$2a$y",
			 .roles = {.null = true},
			 .grant = {.null = true},
			 .revoke = {.null = true}},
			{.type = AUTH_OP_ENABLE},
		};
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
			struct auth_result res = {0};
			auth_apply(a, &ops[i], &res);
			auth_result_clear(&res);
		}
	}
	command_encode_snapshot_head(out, &t, a);
	store_snapshot_write(s, out);
	store_free(s);
	auth_state_free(a);
	cluster_free(&t);
}

static void snapshot(void)
{
	target("fuzz_snap");
	for (int mode = 1; mode <= 2; mode++) {
		for (int v = 0; v < 3; v++) {
			struct buf b = BUF_INIT;
			buf_putc(&b, (char)mode);
			state_bytes(&b, v == 1, v == 2);
			seed_buf(&b);
		}
	}
	/* mode 0: a whole snapshot file as snap_save writes it */
	char dir[] = "/tmp/cetcd-gen-snap-XXXXXX", err[256], path[600];
	if (mkdtemp(dir) == NULL)
		return;
	struct buf st = BUF_INIT;
	state_bytes(&st, true, false);
	struct raft_snapshot_meta m = {
		.index = 5, .term = 1, .conf = {.n_voters = 1, .voters = {1}}};
	if (snap_save(dir, &m, st.data, st.len, err, sizeof(err)) != 0) {
		fprintf(stderr, "gen_corpus: %s\n", err);
		exit(1);
	}
	buf_free(&st);
	snprintf(path, sizeof(path), "%s/0000000000000001-0000000000000005.snap", dir);
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	buf_putc(&b, 0);
	char chunk[4096];
	size_t n;
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	if (f)
		fclose(f);
	unlink(path);
	rmdir(dir);
	seed_buf(&b);
	/* an old CETCDSN1 state (no auth table), by hand: magic, table, store */
	struct cluster t = {0};
	sample_table(&t);
	struct buf tab = BUF_INIT;
	cluster_encode(&t, &tab);
	buf_putc(&b, 2);
	buf_append(&b, "CETCDSN1", 8);
	buf_put_le32(&b, (uint32_t)tab.len);
	buf_append(&b, tab.data, tab.len);
	struct store *s = store_new();
	sample_store(s);
	store_snapshot_write(s, &b);
	store_free(s);
	buf_free(&tab);
	cluster_free(&t);
	seed_buf(&b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR (tests/fuzz/corpus)\n");
		return 2;
	}
	top = argv[1];
	if (mkdir(top, 0755) != 0 && errno != EEXIST) {
		perror(top);
		return 1;
	}
	keys_request();
	keypath();
	goparse();
	url();
	members();
	auth_json();
	command();
	peer();
	wal();
	snapshot();
	return 0;
}
