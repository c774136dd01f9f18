/* fuzz_auth_json.c - libFuzzer target: the request bodies of etcd's
 * /v2/auth API (api/auth_json.c: v2auth.User and v2auth.Role as Go's
 * encoding/json reads them). Input: a selector byte, then the body.
 * Invariants: what parsed, written back as JSON with jansson, parses to
 * the same fields (user, password, roles, grant, revoke; role, read and
 * write permissions, grant and revoke); nothing leaks when a field is
 * given twice (Go: the last one wins). */
#include <jansson.h>
#include <string.h>

#include "api/auth_json.h"
#include "fuzz.h"
#include "kv/auth.h"

static json_t *list_json(const struct auth_list *l)
{
	if (l->null)
		return json_null();
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static void same_list(const struct auth_list *a, const struct auth_list *b)
{
	FUZZ_CHECK(a->null == b->null && a->n == b->n);
	for (size_t i = 0; i < a->n; i++)
		FUZZ_CHECK(strcmp(a->v[i], b->v[i]) == 0);
}

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_ENCODE_ANY);
	json_decref(o);
	FUZZ_CHECK(s != NULL);
	return s;
}

static void check_user(const char *body, size_t len)
{
	struct auth_user_in u = {0};
	if (auth_json_user_in(body, len, &u) != 0) {
		auth_user_in_free(&u);
		return;
	}
	json_t *o = json_object();
	if (u.user)
		json_object_set_new(o, "user", json_string(u.user));
	if (u.password && u.password[0])
		json_object_set_new(o, "password", json_string(u.password));
	json_object_set_new(o, "roles", list_json(&u.roles));
	json_object_set_new(o, "grant", list_json(&u.grant));
	json_object_set_new(o, "revoke", list_json(&u.revoke));
	char *s = dump(o);
	struct auth_user_in v = {0};
	FUZZ_CHECK(auth_json_user_in(s, strlen(s), &v) == 0);
	FUZZ_CHECK((u.user == NULL) == (v.user == NULL));
	FUZZ_CHECK(u.user == NULL || strcmp(u.user, v.user) == 0);
	FUZZ_CHECK(strcmp(u.password ? u.password : "", v.password ? v.password : "") == 0);
	same_list(&u.roles, &v.roles);
	same_list(&u.grant, &v.grant);
	same_list(&u.revoke, &v.revoke);
	free(s);
	auth_user_in_free(&v);
	auth_user_in_free(&u);
}

static json_t *perms_json(const struct auth_perms *p)
{
	json_t *kv = json_object();
	json_object_set_new(kv, "read", list_json(&p->read));
	json_object_set_new(kv, "write", list_json(&p->write));
	json_t *o = json_object();
	json_object_set_new(o, "kv", kv);
	return o;
}

static void same_perms(const struct auth_perms *a, const struct auth_perms *b)
{
	same_list(&a->read, &b->read);
	same_list(&a->write, &b->write);
}

static void check_role(const char *body, size_t len)
{
	struct auth_role_in r = {0};
	if (auth_json_role_in(body, len, &r) != 0) {
		auth_role_in_free(&r);
		return;
	}
	json_t *o = json_object();
	if (r.role)
		json_object_set_new(o, "role", json_string(r.role));
	json_object_set_new(o, "permissions", perms_json(&r.perms));
	if (r.has_grant)
		json_object_set_new(o, "grant", perms_json(&r.grant));
	if (r.has_revoke)
		json_object_set_new(o, "revoke", perms_json(&r.revoke));
	char *s = dump(o);
	struct auth_role_in q = {0};
	FUZZ_CHECK(auth_json_role_in(s, strlen(s), &q) == 0);
	FUZZ_CHECK((r.role == NULL) == (q.role == NULL));
	FUZZ_CHECK(r.role == NULL || strcmp(r.role, q.role) == 0);
	same_perms(&r.perms, &q.perms);
	FUZZ_CHECK(r.has_grant == q.has_grant && r.has_revoke == q.has_revoke);
	if (r.has_grant)
		same_perms(&r.grant, &q.grant);
	if (r.has_revoke)
		same_perms(&r.revoke, &q.revoke);
	free(s);
	auth_role_in_free(&q);
	auth_role_in_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		check_role((const char *)data + 1, size - 1);
	else
		check_user((const char *)data + 1, size - 1);
	return 0;
}
