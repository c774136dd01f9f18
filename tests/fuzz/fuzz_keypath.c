/* fuzz_keypath.c - libFuzzer target: the v2 key path as a request line
 * carries it: percent-decoding (url_path_unescape), ServeMux's cleaning
 * (url_clean_path), the Location escaping (url_escape_path), then the key
 * as kv_parse takes it. Input: the request target ("/v2/keys/a%2Fb?x=1").
 * Invariants: cleaning is idempotent and leaves no "//", "." or ".."
 * segment; escaping then decoding gives the path back; kv_parse of a key it
 * accepted gives the same key again. */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "kv/kv_parse.h"
#include "util/url_escape.h"
#include "util/xalloc.h"

static void check_clean(const char *path)
{
	char *clean = url_clean_path(path);
	FUZZ_CHECK(clean[0] == '/');
	FUZZ_CHECK(strstr(clean, "//") == NULL);
	FUZZ_CHECK(strstr(clean, "/./") == NULL && strstr(clean, "/../") == NULL);
	size_t n = strlen(clean);
	FUZZ_CHECK(!(n >= 2 && strcmp(clean + n - 2, "/.") == 0));
	FUZZ_CHECK(!(n >= 3 && strcmp(clean + n - 3, "/..") == 0));
	char *again = url_clean_path(clean);
	FUZZ_CHECK(strcmp(again, clean) == 0);
	free(again);
	free(clean);
}

static void check_escape(const char *path)
{
	char *esc = url_escape_path(path);
	char *back = url_path_unescape(esc, strlen(esc));
	FUZZ_CHECK(back != NULL && strcmp(back, path) == 0);
	free(back);
	free(esc);
}

static void check_key(const char *key)
{
	struct form f = {0};
	struct kv_request r;
	struct store_error err = {0};
	if (kv_parse(&r, KV_GET, key, &f, &err) != 0) {
		FUZZ_CHECK(err.code != 0);
		store_error_clear(&err);
		return;
	}
	FUZZ_CHECK(r.path != NULL && r.path[0] == '/');
	struct kv_request again;
	FUZZ_CHECK(kv_parse(&again, KV_GET, r.path, &f, &err) == 0);
	FUZZ_CHECK(strcmp(again.path, r.path) == 0);
	kv_request_free(&again);
	kv_request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *target = xstrndup((const char *)data, size);
	char *q = strchr(target, '?');
	size_t plen = q ? (size_t)(q - target) : strlen(target);
	char *path = url_path_unescape(target, plen);
	if (path != NULL) {
		if (path[0] == '/') {
			check_clean(path);
			check_escape(path);
		}
		if (strncmp(path, "/v2/keys", 8) == 0)
			check_key(path + 8);
		check_key(path);
		free(path);
	}
	free(target);
	return 0;
}
