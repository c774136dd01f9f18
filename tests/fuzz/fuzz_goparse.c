/* fuzz_goparse.c - libFuzzer target: Go's value parsers (util/goparse.c),
 * which read flags, ETCD_* variables and HTTP parameters. Input: a base
 * byte, a bits byte, then the text. Invariants: a parsed number fits in
 * its bits and prints back to the same value; a parsed duration parses
 * back from its nanoseconds; ParseInt and ParseUint agree on unsigned
 * text; go_quote escapes every control byte. */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "util/buf.h"
#include "util/goparse.h"
#include "util/xalloc.h"

static void check_uint(const char *s, int base, int bits)
{
	uint64_t u = 12345;
	enum go_num_err e = go_parse_uint(s, base, bits, &u);
	uint64_t max = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	if (e == GO_NUM_SYNTAX)
		FUZZ_CHECK(u == 0);
	if (e == GO_NUM_RANGE)
		FUZZ_CHECK(u == max);
	if (e != GO_NUM_OK)
		return;
	FUZZ_CHECK(u <= max);
	char txt[32];
	snprintf(txt, sizeof(txt), "%" PRIu64, u);
	uint64_t back;
	FUZZ_CHECK(go_parse_uint(txt, 10, bits, &back) == GO_NUM_OK && back == u);
	FUZZ_CHECK(go_parse_uint(txt, 0, 64, &back) == GO_NUM_OK && back == u);
	/* what ParseUint takes, ParseInt takes too when it fits */
	int64_t i;
	if (bits < 64 && s[0] != '+' && s[0] != '-') {
		FUZZ_CHECK(go_parse_int(s, base, bits + 1, &i) == GO_NUM_OK);
		FUZZ_CHECK((uint64_t)i == u);
	}
}

static void check_int(const char *s, int base, int bits)
{
	int64_t v = 12345;
	enum go_num_err e = go_parse_int(s, base, bits, &v);
	int64_t max = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
	int64_t min = -max - 1;
	if (e != GO_NUM_OK) {
		FUZZ_CHECK(v == 0); /* goparse.h: "*out is 0 on any error" */
		return;
	}
	FUZZ_CHECK(v >= min && v <= max);
	char txt[32];
	snprintf(txt, sizeof(txt), "%" PRId64, v);
	int64_t back;
	FUZZ_CHECK(go_parse_int(txt, 10, bits, &back) == GO_NUM_OK && back == v);
}

static void check_duration(const char *s)
{
	int64_t ns;
	if (go_parse_duration(s, &ns) != 0)
		return;
	char txt[40];
	snprintf(txt, sizeof(txt), "%" PRId64 "ns", ns);
	int64_t back;
	FUZZ_CHECK(go_parse_duration(txt, &back) == 0 && back == ns);
}

static void check_bool(const char *s)
{
	bool b;
	if (go_parse_bool(s, &b) != 0)
		return;
	FUZZ_CHECK(strlen(s) <= 5);
	bool again;
	FUZZ_CHECK(go_parse_bool(b ? "true" : "false", &again) == 0 && again == b);
}

static void check_quote(const char *s)
{
	char *q = go_quoted(s);
	size_t n = strlen(q);
	FUZZ_CHECK(n >= 2 && q[0] == '"' && q[n - 1] == '"');
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)q[i] >= 0x20 && q[i] != 0x7f);
	/* every byte after a backslash is an escape letter, so an inner quote
	 * is always escaped */
	for (size_t i = 1; i + 1 < n; i++) {
		if (q[i] == '\\') {
			FUZZ_CHECK(strchr("abfnrtvx\\\"u", q[i + 1]) != NULL);
			i++;
		} else {
			FUZZ_CHECK(q[i] != '"');
		}
	}
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int base = data[0] % 38; /* 0, 2..36 are valid; 1 and 37 are not */
	int bits = 1 + data[1] % 64;
	char *s = xstrndup((const char *)data + 2, size - 2); /* stops at a NUL */
	if (base != 1 && base != 37) {
		check_uint(s, base, bits);
		check_int(s, base, bits);
	}
	check_duration(s);
	check_bool(s);
	check_quote(s);
	free(s);
	return 0;
}
