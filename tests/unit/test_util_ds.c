/* test_util_ds.c - unit tests of the util containers kv is built on: the
 * intrusive list (util/list.h) and the hash table (util/hash.c), the latter
 * against a model under random inserts and removals, with colliding hashes
 * that wrap around the end of the slot array; and buf_put_json_str
 * (util/buf.c), whose eight-bytes-at-a-time path must escape exactly as the
 * byte-by-byte one. Links only libutil.a. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/harness.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/list.h"

struct item {
	struct list link;
	uint32_t hash;
	int key;
};

static int list_keys(struct list *l, int *out, int max)
{
	int n = 0;
	struct item *it;
	list_for_each(it, l, link) if (n < max) out[n++] = it->key;
	return n;
}

static void test_list(void)
{
	struct list l = LIST_INIT(l), other;
	struct item v[5];
	int got[8];
	CHECK(list_empty(&l));
	CHECK(list_first(&l, struct item, link) == NULL);
	for (int i = 0; i < 5; i++) {
		v[i].key = i;
		list_add_tail(&l, &v[i].link);
	}
	CHECK(list_keys(&l, got, 8) == 5 && got[0] == 0 && got[4] == 4);
	list_del(&v[0].link);
	list_del(&v[2].link);
	list_del(&v[4].link);
	CHECK(list_empty(&v[2].link)); /* an unlinked element points at itself */
	CHECK(list_keys(&l, got, 8) == 2 && got[0] == 1 && got[1] == 3);
	CHECK(list_next(&l, &v[3], link) == NULL);

	list_init(&other);
	list_add_tail(&other, &v[0].link);
	list_add_tail(&other, &v[2].link);
	list_splice_tail(&l, &other);
	CHECK(list_empty(&other));
	CHECK(list_keys(&l, got, 8) == 4 && got[0] == 1 && got[1] == 3 && got[2] == 0 &&
	      got[3] == 2);
	list_splice_tail(&l, &other); /* an empty list moves nothing */
	CHECK(list_keys(&l, got, 8) == 4);

	struct item *it, *tmp;
	list_for_each_safe(it, tmp, &l, link) if (it->key != 0) list_del(&it->link);
	CHECK(list_keys(&l, got, 8) == 1 && got[0] == 0);
	list_del(&v[0].link);
	CHECK(list_empty(&l));
}

static bool key_eq(const void *entry, const void *key, size_t len)
{
	(void)len;
	return ((const struct item *)entry)->key == *(const int *)key;
}

static struct item *find(const struct hmap *m, const struct item *all, int key)
{
	return hmap_find(m, all[key].hash, &key, sizeof(key), key_eq);
}

/* Random inserts and removals of N items checked against a presence model.
 * hash_mod folds the hashes into a few values (collisions, long chains, and
 * chains wrapping past the last slot). */
static void random_model(uint32_t hash_mod, unsigned seed)
{
	enum {
		N = 600,
		STEPS = 20000
	};
	struct item *all = calloc(N, sizeof(*all));
	bool in[N] = {false};
	size_t count = 0;
	struct hmap m;
	hmap_init(&m, offsetof(struct item, hash));
	for (int i = 0; i < N; i++) {
		all[i].key = i;
		uint32_t h = hmap_hash(&i, sizeof(i));
		all[i].hash = hash_mod ? UINT32_MAX - h % hash_mod : h;
	}
	srand(seed);
	int bad = 0;
	for (int step = 0; step < STEPS; step++) {
		int k = rand() % N;
		/* mostly grow first, then mostly shrink, to cross every resize */
		bool add = step < STEPS / 2 ? rand() % 4 != 0 : rand() % 4 == 0;
		if (add && !in[k]) {
			hmap_insert(&m, &all[k]);
			in[k] = true;
			count++;
		} else if (!add && in[k]) {
			hmap_remove(&m, &all[k]);
			in[k] = false;
			count--;
		}
		if (m.count != count)
			bad++;
		int probe = rand() % N;
		if (find(&m, all, probe) != (in[probe] ? &all[probe] : NULL))
			bad++;
	}
	for (int i = 0; i < N; i++)
		if (find(&m, all, i) != (in[i] ? &all[i] : NULL))
			bad++;
	size_t visited = 0;
	uint32_t i = 0;
	struct item *it;
	while ((it = hmap_next(&m, &i)) != NULL)
		visited += in[it->key] ? 1 : 1000;
	CHECK(bad == 0);
	CHECK(visited == count);
	for (int k = 0; k < N; k++)
		if (in[k])
			hmap_remove(&m, &all[k]);
	CHECK(m.count == 0 && m.slots == NULL && m.cap == 0);
	hmap_free(&m);
	free(all);
}

static void test_hash(void)
{
	struct hmap m;
	hmap_init(&m, offsetof(struct item, hash));
	int key = 7;
	CHECK(hmap_find(&m, 0, &key, sizeof(key), key_eq) == NULL);
	CHECK(hmap_hash("", 0) == 2166136261u); /* FNV-1a offset basis */
	CHECK(hmap_hash("a", 1) == 0xe40c292cu);
	random_model(0, 1);
	random_model(7, 2); /* seven hashes near UINT32_MAX: wrap-around chains */
	random_model(1, 3); /* every hash equal: one chain */
}

/* The string one byte at a time: under eight bytes, so never the fast path
 * (ASCII only: each byte escapes on its own). */
static void json_bytewise(struct buf *out, const char *s, size_t len)
{
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		struct buf one = BUF_INIT;
		buf_put_json_str(&one, s + i, 1);
		buf_append(out, one.data + 1, one.len - 2);
		buf_free(&one);
	}
	buf_putc(out, '"');
}

static void json_is(const char *in, size_t len, const char *want)
{
	struct buf b = BUF_INIT;
	buf_put_json_str(&b, in, len);
	buf_putc(&b, '\0');
	CHECK_STR(b.data, want);
	buf_free(&b);
}

static void test_json_str(void)
{
	static const char alphabet[] = "abcXYZ019 ~\"\\<>&\n\t\x01\x1f\x7f";
	srand(18);
	for (int round = 0; round < 2000; round++) {
		char s[80];
		size_t len = (size_t)(rand() % 80);
		int odds = 2 + round % 30; /* from dense to sparse escapes */
		for (size_t i = 0; i < len; i++)
			s[i] = rand() % odds ? 'a' + rand() % 26 :
					       alphabet[rand() % (sizeof(alphabet) - 1)];
		struct buf fast = BUF_INIT, slow = BUF_INIT;
		buf_put_json_str(&fast, s, len);
		json_bytewise(&slow, s, len);
		CHECK_EQ(fast.len, slow.len);
		CHECK(fast.len == slow.len && memcmp(fast.data, slow.data, fast.len) == 0);
		buf_free(&fast);
		buf_free(&slow);
	}
	/* multi-byte sequences after a plain run, straddling an 8-byte step */
	json_is("abcdefg\xc3\xa9xyz", 12, "\"abcdefg\xc3\xa9xyz\"");
	json_is("abcdefg\xe2\x80\xa8z", 11, "\"abcdefg\\u2028z\"");
	json_is("abcdefgh\xff", 9, "\"abcdefgh\\ufffd\"");
	json_is("abcdefghijklmno\xe2\x82", 17, "\"abcdefghijklmno\\ufffd\\ufffd\"");
	json_is("0123456789abcdef", 16, "\"0123456789abcdef\"");
	json_is("0123456&89abcdef", 16, "\"0123456\\u002689abcdef\"");
}

int main(void)
{
	test_list();
	test_hash();
	test_json_str();
	return check_summary();
}
