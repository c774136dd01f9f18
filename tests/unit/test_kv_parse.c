/* test_kv_parse.c - request parsing: Go form semantics, path cleaning, and
 * etcd's parameter checks and decision table. */
#include <stdlib.h>

#include "../lib/harness.h"
#include "kv/kv_parse.h"
#include "util/url_escape.h"

static int parse(const char *query, enum kv_method m, const char *path, struct kv_request *r,
		 struct store_error *err, struct form *f)
{
	char *cause = NULL;
	memset(f, 0, sizeof(*f));
	memset(err, 0, sizeof(*err));
	if (form_parse(f, query, strlen(query), &cause) != 0) {
		err->code = 210;
		err->cause = cause;
		return -1;
	}
	return kv_parse(r, m, path, f, err);
}

static void expect_error(const char *query, enum kv_method m, int code, const char *cause)
{
	struct kv_request r;
	struct store_error err;
	struct form f;
	int rc = parse(query, m, "/foo", &r, &err, &f);
	CHECK(rc == -1);
	CHECK(err.code == code);
	CHECK_STR(err.cause, cause);
	CHECK(err.index == 0);
	store_error_clear(&err);
	form_free(&f);
}

static enum store_op op_of(const char *query, enum kv_method m)
{
	struct kv_request r;
	struct store_error err;
	struct form f;
	int rc = parse(query, m, "/foo", &r, &err, &f);
	CHECK(rc == 0);
	enum store_op op = r.write.op;
	kv_request_free(&r);
	form_free(&f);
	return op;
}

static void test_form(void)
{
	struct form f = {0};
	char *cause = NULL;
	CHECK(form_parse(&f, "a=1&b=x+y&a=2&c&d=%41%42", 24, &cause) == 0);
	CHECK_STR(form_get(&f, "a"), "1");
	CHECK_STR(form_get(&f, "b"), "x y");
	CHECK_STR(form_get(&f, "c"), "");
	CHECK_STR(form_get(&f, "d"), "AB");
	CHECK(form_get(&f, "zz") == NULL);
	form_free(&f);

	CHECK(form_parse(&f, "a=%zz&b=1", 9, &cause) == -1);
	CHECK_STR(cause, "invalid URL escape \"%zz\"");
	CHECK_STR(form_get(&f, "b"), "1");
	free(cause);
	form_free(&f);

	CHECK(form_parse(&f, "a=1;b=2", 7, &cause) == -1);
	CHECK_STR(cause, "invalid semicolon separator in query");
	free(cause);
	form_free(&f);

	CHECK(form_parse(&f, "v=%4", 4, &cause) == -1);
	CHECK_STR(cause, "invalid URL escape \"%4\"");
	free(cause);
	form_free(&f);
}

/* %00 decodes to a NUL byte that values keep; keys holding one match nothing. */
static void test_form_nul(void)
{
	struct form f = {0};
	char *cause = NULL;
	const char *q = "v=a%00b&e=&z=%00&value%00=k&n";
	CHECK(form_parse(&f, q, strlen(q), &cause) == 0);
	size_t len = 99;
	const char *v = form_get_len(&f, "v", &len);
	CHECK(v != NULL && len == 3 && memcmp(v, "a\0b", 4) == 0);
	v = form_get_len(&f, "z", &len);
	CHECK(v != NULL && len == 1 && v[0] == '\0');
	v = form_get_len(&f, "e", &len);
	CHECK(v != NULL && len == 0);
	v = form_get_len(&f, "n", &len);
	CHECK(v != NULL && len == 0);
	CHECK(form_get_len(&f, "value", &len) == NULL && len == 0); /* key "value\0" */
	CHECK(form_get_len(&f, "v", NULL) != NULL);
	CHECK(f.len == 5 && f.pairs[3].key_len == 6 && f.pairs[0].value_len == 3);
	form_free(&f);
}

static void test_paths(void)
{
	char *p;
	CHECK_STR(p = url_clean_path("/v2/keys/a//b"), "/v2/keys/a/b");
	free(p);
	CHECK_STR(p = url_clean_path("/v2/keys/a/"), "/v2/keys/a/");
	free(p);
	CHECK_STR(p = url_clean_path("/v2/keys/a/../b"), "/v2/keys/b");
	free(p);
	CHECK_STR(p = url_clean_path("/v2/keys/./a"), "/v2/keys/a");
	free(p);
	CHECK_STR(p = url_clean_path("/../.."), "/");
	free(p);
	CHECK_STR(p = url_path_unescape("/a%2Fb%20c", 10), "/a/b c");
	free(p);
	CHECK(url_path_unescape("/a%zz", 5) == NULL);
	CHECK_STR(p = url_escape_path("/a b/\xc3\xa9"), "/a%20b/%C3%A9");
	free(p);
}

static void test_errors(void)
{
	expect_error("prevIndex=abc", KV_GET, 203, "invalid value for \"prevIndex\"");
	expect_error("prevIndex=", KV_PUT, 203, "invalid value for \"prevIndex\"");
	expect_error("waitIndex=x", KV_GET, 203, "invalid value for \"waitIndex\"");
	expect_error("recursive=yes", KV_GET, 209, "invalid value for \"recursive\"");
	expect_error("sorted=", KV_GET, 209, "invalid value for \"sorted\"");
	expect_error("wait=2", KV_GET, 209, "invalid value for \"wait\"");
	expect_error("dir=x", KV_PUT, 209, "invalid value for \"dir\"");
	expect_error("quorum=x", KV_GET, 209, "invalid value for \"quorum\"");
	expect_error("stream=x", KV_GET, 209, "invalid value for \"stream\"");
	expect_error("wait=true", KV_PUT, 209, "\"wait\" can only be used with GET requests");
	expect_error("prevValue=", KV_PUT, 201, "\"prevValue\" cannot be empty");
	expect_error("noValueOnSuccess=x", KV_PUT, 209, "invalid value for \"noValueOnSuccess\"");
	expect_error("ttl=abc", KV_PUT, 202, "invalid value for \"ttl\"");
	expect_error("ttl=-1", KV_PUT, 202, "invalid value for \"ttl\"");
	/* strconv.ParseUint(s, 10, 64) and ParseBool: no sign, no prefix, no
	 * '_', no overflow; ParseBool's six spellings per value only */
	expect_error("ttl=+5", KV_PUT, 202, "invalid value for \"ttl\"");
	expect_error("ttl=0x10", KV_PUT, 202, "invalid value for \"ttl\"");
	expect_error("ttl=1_0", KV_PUT, 202, "invalid value for \"ttl\"");
	expect_error("prevIndex=18446744073709551616", KV_PUT, 203,
		     "invalid value for \"prevIndex\"");
	expect_error("waitIndex=%2B1", KV_GET, 203, "invalid value for \"waitIndex\"");
	expect_error("recursive=TRUe", KV_GET, 209, "invalid value for \"recursive\"");
	expect_error("recursive=", KV_GET, 209, "invalid value for \"recursive\"");
	expect_error("prevExist=maybe", KV_PUT, 209, "invalid value for prevExist");
	expect_error("refresh=x", KV_PUT, 209, "invalid value for refresh");
	expect_error("refresh=true&ttl=5&value=v", KV_PUT, 211,
		     "A value was provided on a refresh");
	expect_error("refresh=true", KV_PUT, 212, "No TTL value set");
	/* a NUL byte is a character like any other (checked against etcd 3.4.23) */
	expect_error("prevValue=", KV_DELETE, 201, "\"prevValue\" cannot be empty");
	expect_error("ttl=%00", KV_PUT, 202, "invalid value for \"ttl\"");
	expect_error("ttl=5%00", KV_PUT, 202, "invalid value for \"ttl\"");
	expect_error("recursive=true%00", KV_GET, 209, "invalid value for \"recursive\"");
	expect_error("prevIndex=1%00", KV_PUT, 203, "invalid value for \"prevIndex\"");
	expect_error("prevExist=true%00", KV_PUT, 209, "invalid value for prevExist");
	expect_error("refresh=true%00&ttl=5", KV_PUT, 209, "invalid value for refresh");
	expect_error("refresh=true&ttl=5&value=%00", KV_PUT, 211,
		     "A value was provided on a refresh");
	/* the first failing check in etcd's order wins */
	expect_error("recursive=x&prevIndex=y", KV_GET, 203, "invalid value for \"prevIndex\"");
}

static void test_decisions(void)
{
	CHECK(op_of("value=1", KV_PUT) == OP_SET);
	CHECK(op_of("value=1&prevExist=true", KV_PUT) == OP_UPDATE);
	CHECK(op_of("value=1&prevExist=true&prevValue=a", KV_PUT) == OP_CAS);
	CHECK(op_of("value=1&prevExist=false&prevValue=a", KV_PUT) == OP_CREATE);
	CHECK(op_of("value=1&prevIndex=3", KV_PUT) == OP_CAS);
	CHECK(op_of("value=1&prevIndex=0", KV_PUT) == OP_SET);
	CHECK(op_of("value=1", KV_POST) == OP_CREATE);
	CHECK(op_of("", KV_DELETE) == OP_DELETE);
	CHECK(op_of("prevValue=x", KV_DELETE) == OP_CAD);

	struct kv_request r;
	struct store_error err;
	struct form f;
	CHECK(parse("ttl=&refresh=false&recursive=true", KV_DELETE, "/a/b/", &r, &err, &f) == 0);
	CHECK_STR(r.path, "/a/b");
	CHECK(r.write.dir && r.write.recursive);
	CHECK(!r.write.has_ttl);
	kv_request_free(&r);
	form_free(&f);

	CHECK(parse("waitIndex=18446744073709551615&wait=T&recursive=1&sorted=FALSE", KV_GET, "/a",
		    &r, &err, &f) == 0);
	CHECK(r.wait_index == UINT64_MAX && r.wait && r.recursive && !r.sorted);
	kv_request_free(&r);
	form_free(&f);

	CHECK(parse("value=v&ttl=005", KV_POST, "", &r, &err, &f) == 0);
	CHECK_STR(r.path, "/");
	CHECK(r.write.unique && r.write.has_ttl && r.write.ttl == 5);
	CHECK_STR(r.write.value, "v");
	kv_request_free(&r);
	form_free(&f);

	CHECK(parse("refresh=true&ttl=5&value=", KV_PUT, "/k", &r, &err, &f) == 0);
	CHECK(r.write.refresh);
	kv_request_free(&r);
	form_free(&f);
}

/* Values and prevValue keep their NUL bytes and lengths into the store write. */
static void test_binary_values(void)
{
	struct kv_request r;
	struct store_error err;
	struct form f;
	CHECK(parse("value=a%00b&prevValue=%00", KV_PUT, "/k", &r, &err, &f) == 0);
	CHECK(r.write.op == OP_CAS);
	CHECK(r.write.value_len == 3 && memcmp(r.write.value, "a\0b", 3) == 0);
	CHECK(store_write_value_len(&r.write) == 3);
	CHECK(r.write.prev_value != NULL && r.write.prev_value_len == 1);
	CHECK(r.write.prev_value[0] == '\0' && store_write_prev_value_len(&r.write) == 1);
	kv_request_free(&r);
	form_free(&f);

	CHECK(parse("value=", KV_PUT, "/k", &r, &err, &f) == 0);
	CHECK(r.write.value != NULL && r.write.value_len == 0);
	CHECK(r.write.prev_value == NULL && r.write.prev_value_len == 0);
	kv_request_free(&r);
	form_free(&f);

	CHECK(parse("value%00=x", KV_PUT, "/k", &r, &err, &f) == 0);
	CHECK(r.write.op == OP_SET && r.write.value == NULL);
	kv_request_free(&r);
	form_free(&f);

	CHECK(op_of("prevValue=%00", KV_DELETE) == OP_CAD);
	CHECK(op_of("prevValue=%00&prevExist=true", KV_PUT) == OP_CAS);
	CHECK(op_of("value=%00&prevExist=true", KV_PUT) == OP_UPDATE);
}

int main(void)
{
	test_form();
	test_form_nul();
	test_paths();
	test_errors();
	test_decisions();
	test_binary_values();
	return check_summary();
}
