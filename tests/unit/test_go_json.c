/* test_go_json.c - json_go_syntax_check (api/members_json.c): encoding/json's
 * syntax errors, word for word, and random inputs (no crash, a valid prefix
 * is never accepted, every message is one of Go's). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/members_json.h"
#include "../lib/harness.h"

static void expect(const char *in, size_t len, const char *want)
{
	char msg[256] = "";
	int rc = json_go_syntax_check(in, len, msg, sizeof(msg));
	if (want == NULL) {
		CHECK_EQ(rc, 0);
		return;
	}
	CHECK_EQ(rc, -1);
	CHECK_STR(msg, want);
}

#define EXPECT(in, want) expect((in), strlen(in), (want))

static void test_valid(void)
{
	const char *ok[] = {"{}",
			    " {} ",
			    "[]",
			    "null",
			    "true",
			    "false",
			    "0",
			    "-0.5e+10",
			    "1E3",
			    "\"a\\u00e9\\n\"",
			    "{\"a\":[1,{\"b\":null}]}",
			    "\t[ 1 , 2 ]\r\n"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		EXPECT(ok[i], NULL);
}

/* Every message as etcd 3.4 answers it (tests/e2e/test_membership.py has
 * the same bodies against the real server). */
static void test_errors(void)
{
	EXPECT("", "unexpected end of JSON input");
	EXPECT("{\"peerURLs\":[\"a", "unexpected end of JSON input");
	EXPECT("{bad", "invalid character 'b' looking for beginning of object key string");
	EXPECT("{\"a\" 1}", "invalid character '1' after object key");
	EXPECT("{\"a\":1 2}", "invalid character '2' after object key:value pair");
	EXPECT("[1 2]", "invalid character '2' after array element");
	EXPECT("{} x", "invalid character 'x' after top-level value");
	EXPECT("tru", "invalid character ' ' in literal true (expecting 'e')");
	EXPECT("nul", "invalid character ' ' in literal null (expecting 'l')");
	EXPECT("-x", "invalid character 'x' in numeric literal");
	EXPECT("01", "invalid character '1' after top-level value");
	EXPECT("1.", "invalid character ' ' after decimal point in numeric literal");
	EXPECT("1ex", "invalid character 'x' in exponent of numeric literal");
	EXPECT("\"\\x\"", "invalid character 'x' in string escape code");
	EXPECT("\"\\u12x4\"", "invalid character 'x' in \\u hexadecimal character escape");
	EXPECT("{'a'}", "invalid character '\\'' looking for beginning of object key string");
	EXPECT("[\"a\nb\"]", "invalid character '\\n' in string literal");
	EXPECT("\x01", "invalid character '\\x01' looking for beginning of value");
	EXPECT("]", "invalid character ']' looking for beginning of value");
	expect("\0", 1, "invalid character '\\x00' looking for beginning of value");
}

static void test_depth(void)
{
	size_t n = 100000;
	char *deep = malloc(n);
	memset(deep, '[', n);
	expect(deep, n, "exceeded max depth");
	free(deep);
}

/* Random mutations of a valid document: never a crash, and no proper prefix
 * of a valid document passes. */
static void test_random(void)
{
	const char *doc = "{\"peerURLs\":[\"http://a:1\",\"u\\u0041\"],\"n\":-1.5e3,\"b\":[true,"
			  "false,null,{}]}";
	size_t len = strlen(doc);
	expect(doc, len, NULL);
	for (size_t i = 1; i < len; i++) {
		char msg[256];
		CHECK_EQ(json_go_syntax_check(doc, i, msg, sizeof(msg)), -1);
		/* cut in a literal or number: Go's eof steps a space through */
		CHECK(strcmp(msg, "unexpected end of JSON input") == 0 ||
		      strncmp(msg, "invalid character ' ' ", 22) == 0);
	}
	srand(7);
	char buf[128];
	for (int round = 0; round < 20000; round++) {
		memcpy(buf, doc, len);
		for (int k = 1 + rand() % 3; k > 0; k--)
			buf[rand() % len] = (char)(rand() % 256);
		char msg[256];
		if (json_go_syntax_check(buf, len, msg, sizeof(msg)) != 0)
			CHECK(strncmp(msg, "invalid character '", 19) == 0 ||
			      strcmp(msg, "unexpected end of JSON input") == 0);
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"valid", test_valid},
		{"errors", test_errors},
		{"depth", test_depth},
		{"random", test_random},
	};
	return run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
