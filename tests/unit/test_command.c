/* test_command.c - log payload round trips, malformed payloads, and the
 * etcd-compatible member/cluster IDs. */
#include <stdlib.h>

#include "../lib/harness.h"
#include "kv/cluster.h"
#include "kv/command.h"

static void test_write_roundtrip(void)
{
	struct store_write w = {
		.op = OP_CAS, .path = "/a/b", .value = "v\0x", .value_len = 3, .dir = false,
		.unique = true, .recursive = true, .refresh = true, .has_ttl = true,
		.ttl = 42, .prev_value = "o\0\0", .prev_value_len = 3, .prev_index = 7,
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
	struct store_write w = { .op = OP_SET, .path = "/k", .value = "abc" };
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
	size_t at = 1 + 1 + 8 + 8 + 1 + 1 + 8 + 8 + 4 + 1;	/* the 'k' */
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
	b.data[0] = 9;	/* unknown version */
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

int main(void)
{
	test_write_roundtrip();
	test_lengths();
	test_optional_strings();
	test_ids();
	return check_summary();
}
