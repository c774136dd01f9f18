/* test_command.c - log payload round trips (keys, conf changes and their
 * entry context, the state-snapshot envelope), malformed payloads, and the
 * etcd-compatible member/cluster IDs. */
#include <stdlib.h>

#include "../lib/harness.h"
#include "kv/cluster.h"
#include "kv/command.h"

static void test_write_roundtrip(void)
{
	struct store_write w = {
		.op = OP_CAS,
		.path = "/a/b",
		.value = "v\0x",
		.value_len = 3,
		.dir = false,
		.unique = true,
		.recursive = true,
		.refresh = true,
		.has_ttl = true,
		.ttl = 42,
		.prev_value = "o\0\0",
		.prev_value_len = 3,
		.prev_index = 7,
	};
	struct buf b = BUF_INIT;
	command_encode_write(&b, 0x1234, 99, &w);
	struct command c;
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.type == CMD_WRITE);
	CHECK(c.member_id == 0x1234 && c.req_id == 99);
	CHECK(c.write.op == OP_CAS);
	CHECK_STR(c.write.path, "/a/b");
	/* values are binary: the NULs and lengths survive */
	CHECK(c.write.value_len == 3 && memcmp(c.write.value, "v\0x", 4) == 0);
	CHECK(c.write.prev_value_len == 3 && memcmp(c.write.prev_value, "o\0\0", 4) == 0);
	CHECK(store_write_value_len(&c.write) == 3);
	CHECK(store_write_prev_value_len(&c.write) == 3);
	CHECK(c.write.unique && c.write.recursive && c.write.refresh && c.write.has_ttl);
	CHECK(!c.write.dir);
	CHECK(c.write.ttl == 42 && c.write.prev_index == 7);
	command_free(&c);

	/* every truncation is rejected, never read past the end */
	for (size_t n = 0; n < b.len; n++) {
		struct command t;
		CHECK(command_decode(b.data, n, &t) == -1);
	}
	buf_free(&b);
}

/* C-string callers may leave the lengths at 0 (strlen is used); an empty
 * value stays present and empty. */
static void test_lengths(void)
{
	struct store_write w = {.op = OP_SET, .path = "/k", .value = "abc"};
	struct buf b = BUF_INIT;
	command_encode_write(&b, 1, 2, &w);
	struct command c;
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.write.value_len == 3 && memcmp(c.write.value, "abc", 4) == 0);
	CHECK(c.write.prev_value == NULL && c.write.prev_value_len == 0);
	command_free(&c);
	buf_free(&b);

	w.value = "";
	command_encode_write(&b, 1, 2, &w);
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.write.value != NULL && c.write.value_len == 0);
	command_free(&c);
	buf_free(&b);

	/* a NUL inside the path is refused (the path is a C string) */
	w.path = "/k";
	command_encode_write(&b, 1, 2, &w);
	size_t at = 1 + 1 + 8 + 8 + 1 + 1 + 8 + 8 + 4 + 1; /* the 'k' */
	CHECK(b.data[at] == 'k');
	b.data[at] = '\0';
	CHECK(command_decode(b.data, b.len, &c) == -1);
	buf_free(&b);
}

static void test_optional_strings(void)
{
	struct store_write w = {.op = OP_DELETE, .path = "/x"};
	struct buf b = BUF_INIT;
	command_encode_write(&b, 1, 2, &w);
	struct command c;
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.write.value == NULL && c.write.prev_value == NULL);
	CHECK_STR(c.write.path, "/x");
	command_free(&c);
	buf_free(&b);

	command_encode_expire(&b, 5, 0);
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.type == CMD_EXPIRE && c.member_id == 5);
	command_free(&c);
	b.data[0] = 9; /* unknown version */
	CHECK(command_decode(b.data, b.len, &c) == -1);
	buf_free(&b);
}

static void test_ids(void)
{
	/* values read off etcd 3.4.23 started with these flags */
	char *peers[] = {"http://127.0.0.1:24800"};
	CHECK(cluster_member_id(peers, 1, "etcd-cluster") == 0x886b03c4ae679a15ull);
	struct cluster c = {0};
	char *clients[] = {"http://127.0.0.1:24790"};
	cluster_add_member(&c, "default", peers, 1, clients, 1, "etcd-cluster");
	CHECK(c.id == 0x263de8252887371cull);
	cluster_free(&c);
}

/* A membership change: the payload carries the conf type and node, its
 * context the proposer, its request id and the added member's entry. */
static void test_conf_roundtrip(void)
{
	char *peers[] = {"http://10.0.0.9:2380"};
	struct cluster added = {0};
	cluster_put_member(&added, 0xabc, "", peers, 1, NULL, 0);
	struct buf b = BUF_INIT;
	command_encode_conf(&b, 0x11, 42, 1, 0xabc, &added);
	CHECK(command_is_conf(b.data, b.len));
	struct command c;
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.type == CMD_CONF && c.member_id == 0x11 && c.req_id == 0);
	CHECK(c.conf_type == 1 && c.conf_node == 0xabc);
	struct conf_context ctx;
	CHECK(command_decode_conf_context(c.attrs, c.attrs_len, &ctx) == 0);
	CHECK(ctx.member_id == 0x11 && ctx.req_id == 42);
	CHECK(ctx.added.n_members == 1 && ctx.added.members[0].id == 0xabc);
	CHECK(ctx.added.members[0].n_peer_urls == 1);
	CHECK_STR(ctx.added.members[0].peer_urls[0], "http://10.0.0.9:2380");
	conf_context_free(&ctx);
	/* the bytes, as doc/disk-format.md gives them: 16-byte head, then
	 * the table */
	CHECK(c.attrs_len > 16);
	CHECK(((const uint8_t *)c.attrs)[0] == 0x11 && ((const uint8_t *)c.attrs)[8] == 42);
	command_free(&c);
	buf_free(&b);

	/* a remove has no table; a context shorter than the head is refused */
	command_encode_conf(&b, 0x11, 43, 2, 0xabc, NULL);
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.attrs_len == 16);
	CHECK(command_decode_conf_context(c.attrs, c.attrs_len, &ctx) == 0);
	CHECK(ctx.req_id == 43 && ctx.added.n_members == 0);
	conf_context_free(&ctx);
	CHECK(command_decode_conf_context(c.attrs, 15, &ctx) == -1);
	command_free(&c);
	buf_free(&b);

	command_encode_expire(&b, 1, 0);
	CHECK(!command_is_conf(b.data, b.len));
	buf_free(&b);
	cluster_free(&added);
}

/* The state snapshot: magic, the member table, the auth table, then the
 * store's bytes untouched; a CETCDSN1 snapshot (no auth table) still reads. */
static void test_snapshot_envelope(void)
{
	char *peers[] = {"http://127.0.0.1:24800"};
	struct cluster table = {0};
	cluster_add_member(&table, "default", peers, 1, NULL, 0, "etcd-cluster");
	struct auth_state *auth = auth_state_new();
	struct auth_op op = {.type = AUTH_OP_USER_PUT, .name = "root", .password = "$2b$h"};
	struct auth_result res;
	CHECK(auth_apply(auth, &op, &res) == 0);
	op = (struct auth_op){.type = AUTH_OP_ENABLE};
	CHECK(auth_apply(auth, &op, &res) == 0);
	struct buf b = BUF_INIT;
	command_encode_snapshot_head(&b, &table, auth);
	CHECK(b.len > 12 && memcmp(b.data, "CETCDSN2", 8) == 0);
	buf_append(&b, "STORE", 5);
	struct cluster got = {0};
	struct auth_state *got_auth = auth_state_new();
	const void *store;
	size_t store_len;
	char err[128];
	CHECK(command_decode_snapshot(b.data, b.len, &got, got_auth, &store, &store_len, err,
				      sizeof(err)) == 0);
	CHECK(got.id == table.id && got.n_members == 1);
	CHECK_STR(got.members[0].name, "default");
	CHECK(store_len == 5 && memcmp(store, "STORE", 5) == 0);
	CHECK(got_auth->enabled && auth_find_user(got_auth, "root", 4) != NULL);
	CHECK(auth_find_role(got_auth, "guest", 5) != NULL);
	cluster_free(&got);
	/* a damaged head is refused, the tables untouched */
	for (size_t n = 0; n < b.len - 5; n++)
		CHECK(command_decode_snapshot(b.data, n, &got, got_auth, &store, &store_len, err,
					      sizeof(err)) == -1);
	CHECK(got.n_members == 0 && got_auth->enabled);
	b.data[0] = 'X';
	CHECK(command_decode_snapshot(b.data, b.len, &got, got_auth, &store, &store_len, err,
				      sizeof(err)) == -1);
	CHECK(got.n_members == 0);
	buf_free(&b);

	/* version 1: magic, the member table, the store */
	struct buf t = BUF_INIT;
	cluster_encode(&table, &t);
	buf_append(&b, "CETCDSN1", 8);
	buf_put_le32(&b, (uint32_t)t.len);
	buf_append(&b, t.data, t.len);
	buf_append(&b, "STORE", 5);
	CHECK(command_decode_snapshot(b.data, b.len, &got, got_auth, &store, &store_len, err,
				      sizeof(err)) == 0);
	CHECK(got.n_members == 1 && !got_auth->enabled && got_auth->users.count == 0);
	CHECK(store_len == 5 && memcmp(store, "STORE", 5) == 0);
	cluster_free(&got);
	buf_free(&t);
	buf_free(&b);
	auth_state_free(got_auth);
	auth_state_free(auth);
	cluster_free(&table);
}

/* An auth change survives its payload whole. */
static void test_auth_roundtrip(void)
{
	char *roles[] = {"a", "b"};
	char *rd[] = {"/x*"};
	struct auth_op op = {.type = AUTH_OP_ROLE_UPDATE,
			     .name = "r1",
			     .has_grant = true,
			     .roles = {roles, 2, false},
			     .revoke = {NULL, 0, true},
			     .grant_perms = {.read = {rd, 1, false}, .write = {NULL, 0, true}}};
	struct buf b = BUF_INIT;
	command_encode_auth(&b, 9, 10, &op);
	struct command c;
	REQUIRE(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.type == CMD_AUTH && c.member_id == 9 && c.req_id == 10);
	CHECK(c.auth.type == AUTH_OP_ROLE_UPDATE && c.auth.has_grant && !c.auth.has_revoke);
	CHECK_STR(c.auth.name, "r1");
	CHECK(c.auth.password == NULL);
	CHECK(c.auth.roles.n == 2 && !c.auth.roles.null);
	CHECK_STR(c.auth.roles.v[1], "b");
	CHECK(c.auth.revoke.null && c.auth.grant.n == 0 && !c.auth.grant.null);
	CHECK(c.auth.grant_perms.read.n == 1 && c.auth.grant_perms.write.null);
	CHECK_STR(c.auth.grant_perms.read.v[0], "/x*");
	command_free(&c);
	/* every truncation is refused */
	for (size_t n = 0; n < b.len; n++)
		CHECK(command_decode(b.data, n, &c) == -1);
	buf_free(&b);
	op = (struct auth_op){.type = AUTH_OP_USER_PUT, .name = "u", .password = "$2b$x"};
	command_encode_auth(&b, 1, 2, &op);
	REQUIRE(command_decode(b.data, b.len, &c) == 0);
	CHECK_STR(c.auth.password, "$2b$x");
	command_free(&c);
	buf_free(&b);
}

/* A peer URL update carries the member's id and new peer URLs only. */
static void test_update_roundtrip(void)
{
	char *peers[] = {"http://10.0.0.9:2380", "http://10.0.0.1:2380"};
	struct member m = {.id = 0x55, .name = "ignored", .peer_urls = peers, .n_peer_urls = 2};
	struct buf b = BUF_INIT;
	command_encode_update(&b, 0x77, 12, &m);
	struct command c;
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.type == CMD_UPDATE && c.member_id == 0x77 && c.req_id == 12);
	struct cluster one = {0};
	CHECK(command_update_member(&c, &one) == 0);
	CHECK(one.members[0].id == 0x55);
	CHECK_STR(one.members[0].name, "");
	CHECK(one.members[0].n_peer_urls == 2);
	CHECK_STR(one.members[0].peer_urls[0], "http://10.0.0.1:2380"); /* sorted */
	cluster_free(&one);
	command_free(&c);
	CHECK(command_decode(b.data, b.len - 1, &c) == -1);
	buf_free(&b);
	/* the member table side: who has a URL, and replacing them */
	struct cluster t = {0};
	char *a[] = {"http://a:1"}, *b2[] = {"http://b:1"}, *both[] = {"http://c:1", "http://b:1"};
	cluster_put_member(&t, 1, "a", a, 1, NULL, 0);
	cluster_put_member(&t, 2, "b", b2, 1, NULL, 0);
	CHECK(cluster_peer_url_taken(&t, both, 2, 1));
	CHECK(!cluster_peer_url_taken(&t, both, 2, 2));
	CHECK(cluster_set_peer_urls(&t, 2, both, 2) == 0);
	CHECK_STR(cluster_find(&t, 2)->peer_urls[0], "http://b:1");
	CHECK(cluster_find(&t, 2)->n_peer_urls == 2);
	CHECK(cluster_set_peer_urls(&t, 3, both, 2) == -1);
	cluster_free(&t);
}

/* A publish carries the member's attributes as a one-member table. */
static void test_publish_roundtrip(void)
{
	char *peers[] = {"http://10.0.0.1:2380"};
	char *clients[] = {"http://10.0.0.1:2379", "http://10.0.0.1:4001"};
	struct member me = {.id = 0x77,
			    .name = "infra1",
			    .peer_urls = peers,
			    .n_peer_urls = 1,
			    .client_urls = clients,
			    .n_client_urls = 2};
	struct buf b = BUF_INIT;
	command_encode_publish(&b, &me);
	struct command c;
	CHECK(command_decode(b.data, b.len, &c) == 0);
	CHECK(c.type == CMD_PUBLISH && c.member_id == 0x77 && c.req_id == 0);
	struct cluster one = {0};
	CHECK(command_publish_member(&c, &one) == 0);
	CHECK_STR(one.members[0].name, "infra1");
	CHECK(one.members[0].n_client_urls == 2);
	CHECK_STR(one.members[0].client_urls[1], "http://10.0.0.1:4001");
	cluster_free(&one);
	command_free(&c);
	/* a publish naming another member than its proposer is refused */
	struct buf other = BUF_INIT;
	command_encode_publish(&other, &me);
	other.data[2] = 0x78; /* member_id in the header */
	CHECK(command_decode(other.data, other.len, &c) == 0);
	CHECK(command_publish_member(&c, &one) == -1);
	cluster_free(&one);
	command_free(&c);
	buf_free(&other);
	buf_free(&b);
}

int main(void)
{
	test_write_roundtrip();
	test_lengths();
	test_optional_strings();
	test_ids();
	test_update_roundtrip();
	test_publish_roundtrip();
	test_conf_roundtrip();
	test_snapshot_envelope();
	test_auth_roundtrip();
	return check_summary();
}
