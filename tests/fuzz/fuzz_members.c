/* fuzz_members.c - libFuzzer target: the member list a joining member reads
 * from a peer's GET /members (member/join.c, join_table_from_json, over
 * util/json_quote.c's uint64 quoting and kv/cluster.c's table). Input: the
 * JSON body. Invariants: quoting never turns JSON jansson reads into JSON
 * it cannot read; the table is sorted by id and the id found for our own
 * peer URL is in it; the table written back as etcd's peer JSON
 * (api/members_json.c) is valid JSON that reads back to the same table,
 * and the table survives cluster_encode / cluster_decode. */
#include <jansson.h>
#include <string.h>

#include "api/members_json.h"
#include "fuzz.h"
#include "kv/cluster.h"
#include "member/join.h"
#include "util/buf.h"
#include "util/json_quote.h"

static char *own[] = {"http://127.0.0.1:2380"};

static void check_quote(const uint8_t *data, size_t size)
{
	/* jansson takes a raw NUL right after a number at the top level of
	 * some documents (invalid JSON anyway); the quoted text is refused */
	if (memchr(data, '\0', size) != NULL)
		return;
	json_t *in = json_loadb((const char *)data, size, 0, NULL);
	if (in == NULL)
		return;
	json_decref(in);
	struct buf q = BUF_INIT;
	json_quote_numbers((const char *)data, size, &q);
	json_error_t e;
	json_t *out = json_loadb(q.data ? q.data : "", q.len, 0, &e);
	if (out == NULL)
		fprintf(stderr, "quoted JSON does not load: %s\n", e.text);
	FUZZ_CHECK(out != NULL);
	json_decref(out);
	buf_free(&q);
}

static void same_strs(char *const *a, size_t na, char *const *b, size_t nb)
{
	FUZZ_CHECK(na == nb);
	for (size_t i = 0; i < na; i++)
		FUZZ_CHECK(strcmp(a[i], b[i]) == 0);
}

static void same_table(const struct cluster *a, const struct cluster *b)
{
	FUZZ_CHECK(a->n_members == b->n_members);
	for (size_t i = 0; i < a->n_members; i++) {
		const struct member *x = &a->members[i], *y = &b->members[i];
		FUZZ_CHECK(x->id == y->id && strcmp(x->name, y->name) == 0);
		same_strs(x->peer_urls, x->n_peer_urls, y->peer_urls, y->n_peer_urls);
		same_strs(x->client_urls, x->n_client_urls, y->client_urls, y->n_client_urls);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_quote(data, size);
	struct cluster c = {0};
	uint64_t self = join_table_from_json((const char *)data, size, own, 1, &c);
	for (size_t i = 1; i < c.n_members; i++)
		FUZZ_CHECK(c.members[i - 1].id < c.members[i].id);
	if (self != 0)
		FUZZ_CHECK(cluster_find(&c, self) != NULL);

	struct buf j = BUF_INIT;
	json_put_peer_members(&j, &c);
	/* valid JSON (its uint64 ids quoted for jansson) */
	struct buf q = BUF_INIT;
	json_quote_numbers(j.data, j.len, &q);
	json_t *doc = json_loadb(q.data, q.len, 0, NULL);
	FUZZ_CHECK(doc != NULL);
	json_decref(doc);
	buf_free(&q);
	struct cluster back = {0};
	uint64_t self2 = join_table_from_json(j.data, j.len, own, 1, &back);
	same_table(&c, &back);
	FUZZ_CHECK(self2 == 0 || cluster_find(&back, self2) != NULL);

	struct buf enc = BUF_INIT;
	cluster_encode(&c, &enc);
	struct cluster dec = {0};
	FUZZ_CHECK(cluster_decode(&dec, enc.data, enc.len) == 0);
	same_table(&c, &dec);
	cluster_free(&dec);
	buf_free(&enc);
	cluster_free(&back);
	buf_free(&j);
	cluster_free(&c);
	return 0;
}
