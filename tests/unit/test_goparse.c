/* test_goparse.c - util's Go-compatible parsers: strconv (ParseUint,
 * ParseInt, ParseBool, Quote), time.ParseDuration, and the URL rules of
 * util/url.h (net/url.Parse + etcd's types.NewURLs / NewURLsMap). Expected
 * values are what Go 1.19 / etcd 3.4.23 give. */
#include <stdlib.h>

#include "../lib/harness.h"
#include "util/goparse.h"
#include "util/url.h"

static enum go_num_err u64(const char *s, int base, int bits, uint64_t want)
{
	uint64_t v = 12345;
	enum go_num_err e = go_parse_uint(s, base, bits, &v);

	if (e == GO_NUM_OK)
		CHECK(v == want);
	return e;
}

static void test_parse_uint(void)
{
	uint64_t v;

	/* base 0: prefixes and underscores */
	CHECK(u64("0", 0, 64, 0) == GO_NUM_OK);
	CHECK(u64("10", 0, 64, 10) == GO_NUM_OK);
	CHECK(u64("010", 0, 64, 8) == GO_NUM_OK);
	CHECK(u64("0x1F", 0, 64, 31) == GO_NUM_OK);
	CHECK(u64("0X1f", 0, 64, 31) == GO_NUM_OK);
	CHECK(u64("0b101", 0, 64, 5) == GO_NUM_OK);
	CHECK(u64("0o17", 0, 64, 15) == GO_NUM_OK);
	CHECK(u64("1_000", 0, 64, 1000) == GO_NUM_OK);
	CHECK(u64("0x_1f", 0, 64, 31) == GO_NUM_OK);
	CHECK(u64("1__0", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("_1", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("1_", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("08", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("0x", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("+1", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("-1", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64(" 1", 0, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("18446744073709551615", 0, 64, UINT64_MAX) == GO_NUM_OK);
	CHECK(go_parse_uint("18446744073709551616", 0, 64, &v) == GO_NUM_RANGE && v == UINT64_MAX);
	CHECK(go_parse_uint("99999999999999999999999", 0, 64, &v) == GO_NUM_RANGE);
	/* bit sizes */
	CHECK(u64("4294967295", 0, 32, 4294967295u) == GO_NUM_OK);
	CHECK(go_parse_uint("4294967296", 0, 32, &v) == GO_NUM_RANGE && v == 4294967295u);
	/* base 10 (etcd's ttl, prevIndex, waitIndex): no prefix, no '_' */
	CHECK(u64("007", 10, 64, 7) == GO_NUM_OK);
	CHECK(u64("0x10", 10, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("1_0", 10, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("18446744073709551615", 10, 64, UINT64_MAX) == GO_NUM_OK);
	CHECK(u64("18446744073709551616", 10, 64, 0) == GO_NUM_RANGE);
	CHECK(u64("+5", 10, 64, 0) == GO_NUM_SYNTAX);
	CHECK(u64("", 10, 64, 0) == GO_NUM_SYNTAX);
	/* base 16 (member IDs) */
	CHECK(u64("8e9e05c52164694d", 16, 64, 0x8e9e05c52164694dULL) == GO_NUM_OK);
	CHECK(u64("0x8e", 16, 64, 0) == GO_NUM_SYNTAX);
}

static void test_parse_int(void)
{
	int64_t v;

	CHECK(go_parse_int("-9223372036854775808", 0, 64, &v) == GO_NUM_OK && v == INT64_MIN);
	CHECK(go_parse_int("9223372036854775807", 0, 64, &v) == GO_NUM_OK && v == INT64_MAX);
	CHECK(go_parse_int("9223372036854775808", 0, 64, &v) == GO_NUM_RANGE);
	CHECK(go_parse_int("-9223372036854775809", 0, 64, &v) == GO_NUM_RANGE);
	CHECK(go_parse_int("+0x10", 0, 64, &v) == GO_NUM_OK && v == 16);
	CHECK(go_parse_int("-010", 0, 64, &v) == GO_NUM_OK && v == -8);
	CHECK(go_parse_int("-", 0, 64, &v) == GO_NUM_SYNTAX);
	CHECK(go_parse_int("", 0, 64, &v) == GO_NUM_SYNTAX);
	CHECK(go_parse_int("--1", 0, 64, &v) == GO_NUM_SYNTAX);
	CHECK(go_parse_int("-1_0", 0, 64, &v) == GO_NUM_OK && v == -10);
	CHECK(go_parse_int("-129", 10, 8, &v) == GO_NUM_RANGE);
	CHECK(go_parse_int("-128", 10, 8, &v) == GO_NUM_OK && v == -128);
}

static void test_parse_bool(void)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	static const char *const bad[] = {"", "yes", "TRUe", "tRUE", " true", "2", "on"};
	bool b;

	for (size_t i = 0; i < 6; i++) {
		CHECK(go_parse_bool(yes[i], &b) == 0 && b);
		CHECK(go_parse_bool(no[i], &b) == 0 && !b);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(go_parse_bool(bad[i], &b) == -1);
}

static bool dur(const char *s, int64_t want)
{
	int64_t ns = 7;

	return go_parse_duration(s, &ns) == 0 && ns == want;
}

static bool dur_bad(const char *s)
{
	int64_t ns;

	return go_parse_duration(s, &ns) == -1;
}

static void test_parse_duration(void)
{
	CHECK(dur("0", 0));
	CHECK(dur("-0", 0));
	CHECK(dur("0s", 0));
	CHECK(dur("5s", 5000000000LL));
	CHECK(dur("1h2m3s", 3723000000000LL));
	CHECK(dur("1.5ms", 1500000));
	CHECK(dur(".5s", 500000000));
	CHECK(dur("5.s", 5000000000LL));
	CHECK(dur("-1.5h", -5400000000000LL));
	CHECK(dur("+10ns", 10));
	CHECK(dur("1us", 1000));
	CHECK(dur("1\xc2\xb5s", 1000)); /* U+00B5 */
	CHECK(dur("1\xce\xbcs", 1000)); /* U+03BC */
	CHECK(dur("2562047h47m16.854775807s", INT64_MAX));
	CHECK(dur("-2562047h47m16.854775808s", INT64_MIN));
	CHECK(dur("0.1234567891s", 123456789)); /* digits past ns are dropped */
	CHECK(dur_bad(""));
	CHECK(dur_bad("1"));
	CHECK(dur_bad("s"));
	CHECK(dur_bad("."));
	CHECK(dur_bad(".s"));
	CHECK(dur_bad("1d"));
	CHECK(dur_bad("1 s"));
	CHECK(dur_bad("-"));
	CHECK(dur_bad("2562047h47m16.854775808s"));
	CHECK(dur_bad("9223372036854775808ns"));
}

static void test_quote(void)
{
	char *q = go_quoted("a\"b\\c\n\t\x01\x7f\xc3\xa9");

	CHECK_STR(q, "\"a\\\"b\\\\c\\n\\t\\x01\\x7f\xc3\xa9\"");
	free(q);
	q = go_quoted("");
	CHECK_STR(q, "\"\"");
	free(q);
}

static void test_url_list(void)
{
	struct url_list l;
	char err[256], *s;

	CHECK(url_list_parse(" http://127.0.0.2:2, HTTP://127.0.0.1:1 ,https://[::1]:3", &l, err,
			     sizeof err) == 0);
	CHECK(l.n == 3);
	s = url_list_join(&l, ",");
	CHECK_STR(s, "http://127.0.0.1:1,http://127.0.0.2:2,https://[::1]:3");
	free(s);
	CHECK_STR(l.v[2].scheme, "https");
	CHECK_STR(l.v[2].host, "::1");
	CHECK_STR(l.v[2].port, "3");
	url_list_free(&l);
	CHECK(url_list_parse("", &l, err, sizeof err) == -1);
	CHECK_STR(err, "URL scheme must be http, https, unix, or unixs: ");
	CHECK(url_list_parse("http://a:1,ftp://b:2", &l, err, sizeof err) == -1 && l.n == 0);
	CHECK_STR(err, "URL scheme must be http, https, unix, or unixs: ftp://b:2");
}

static void test_url_one(void)
{
	static const struct {
		const char *in, *err;
	} bad[] = {
		{"http://h", "URL address does not have the form \"host:port\": http://h"},
		{"http://h:1/p", "URL must not contain a path: http://h:1/p"},
		{"http://h:x", "parse \"http://h:x\": invalid port \":x\" after host"},
		{"://h:1", "parse \"://h:1\": missing protocol scheme"},
		{"http://h\x01:1",
		 "parse \"http://h\\x01:1\": net/url: invalid control character in URL"},
		{"http://[::1:1", "parse \"http://[::1:1\": missing ']' in host"},
		{"http://h%zz:1", "parse \"http://h%zz:1\": invalid URL escape \"%zz\""},
		{"http://a b:1", "parse \"http://a b:1\": invalid character \" \" in host name"},
		{"h:1", "URL scheme must be http, https, unix, or unixs: h:1"},
	};
	struct url u;
	char err[256];

	CHECK(url_parse("unix://sock:0", &u, err, sizeof err) == 0);
	CHECK_STR(u.str, "unix://sock:0");
	url_free(&u);
	CHECK(url_parse("http://h:", &u, err, sizeof err) == 0);
	CHECK_STR(u.port, "");
	url_free(&u);
	CHECK(url_parse("http://user@h:1?x#f", &u, err, sizeof err) == 0);
	CHECK_STR(u.str, "http://user@h:1?x#f");
	CHECK_STR(u.host, "h");
	url_free(&u);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK(url_parse(bad[i].in, &u, err, sizeof err) == -1);
		CHECK_STR(err, bad[i].err);
	}
}

static void test_url_map(void)
{
	struct url_map m;
	char err[256];

	CHECK(url_map_parse(",a=http://h:1,,b= http://h:2 ,a=http://h:3,", &m, err, sizeof err) ==
	      0);
	CHECK(m.n == 3);
	CHECK_STR(m.v[0].name, "a");
	CHECK_STR(m.v[1].name, "b");
	CHECK_STR(m.v[1].url.str, "http://h:2");
	CHECK_STR(m.v[2].url.str, "http://h:3");
	url_map_free(&m);
	CHECK(url_map_parse("", &m, err, sizeof err) == 0 && m.n == 0);
	CHECK(url_map_parse("a", &m, err, sizeof err) == -1 && m.n == 0);
	CHECK_STR(err, "URL scheme must be http, https, unix, or unixs: ");
}

int main(void)
{
	test_parse_uint();
	test_parse_int();
	test_parse_bool();
	test_parse_duration();
	test_quote();
	test_url_list();
	test_url_one();
	test_url_map();
	return check_summary();
}
