/* fuzz_url.c - libFuzzer target: URL parsing as etcd does it for flags and
 * member requests (util/url.c: url_parse, url_list_parse, url_map_parse).
 * Input: a selector byte, then the text. Invariants: a URL that parsed
 * prints (str) as a URL that parses to the same parts; a list joined with
 * "," parses back to the same list; an error always has a message. */
#include <string.h>

#include "fuzz.h"
#include "util/url.h"
#include "util/xalloc.h"

static void same_url(const struct url *a, const struct url *b)
{
	FUZZ_CHECK(strcmp(a->str, b->str) == 0);
	FUZZ_CHECK(strcmp(a->scheme, b->scheme) == 0);
	FUZZ_CHECK(strcmp(a->host, b->host) == 0);
	FUZZ_CHECK(strcmp(a->port, b->port) == 0);
}

static void check_one(const char *s)
{
	struct url u, again;
	char err[512] = "";
	if (url_parse(s, &u, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	FUZZ_CHECK(u.str && u.scheme && u.host && u.port);
	FUZZ_CHECK(url_parse(u.str, &again, err, sizeof(err)) == 0);
	same_url(&u, &again);
	url_free(&again);
	url_free(&u);
}

static void check_list(const char *s)
{
	struct url_list l, again;
	char err[512] = "";
	if (url_list_parse(s, &l, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	FUZZ_CHECK(l.n >= 1);
	for (size_t i = 1; i < l.n; i++)
		FUZZ_CHECK(strcmp(l.v[i - 1].str, l.v[i].str) <= 0);
	char *joined = url_list_join(&l, ",");
	FUZZ_CHECK(url_list_parse(joined, &again, err, sizeof(err)) == 0);
	FUZZ_CHECK(again.n == l.n);
	for (size_t i = 0; i < l.n; i++)
		same_url(&l.v[i], &again.v[i]);
	free(joined);
	url_list_free(&again);
	url_list_free(&l);
}

static void check_map(const char *s)
{
	struct url_map m;
	char err[512] = "";
	if (url_map_parse(s, &m, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	for (size_t i = 0; i < m.n; i++) {
		FUZZ_CHECK(m.v[i].name != NULL && strchr(m.v[i].name, ',') == NULL);
		FUZZ_CHECK(m.v[i].url.str != NULL);
	}
	url_map_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *s = xstrndup((const char *)data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		check_one(s);
		break;
	case 1:
		check_list(s);
		break;
	default:
		check_map(s);
	}
	free(s);
	return 0;
}
