/* auth_json.c - /v2/auth request bodies and answers, as etcd's Go code
 * reads and writes them (see auth_json.h). */
#include "api/auth_json.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

/* ---- reading ---------------------------------------------------------- */

/* A JSON string into a Go string: null leaves it as it is. */
static int take_string(json_t *v, char **out)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* A JSON array of strings into a Go []string: null makes it nil; a null
 * element is "". */
static int take_list(json_t *v, struct auth_list *l)
{
	auth_list_free(l);
	if (json_is_null(v)) {
		l->null = true;
		return 0;
	}
	if (!json_is_array(v))
		return -1;
	size_t n = json_array_size(v);
	l->v = xcalloc(n + 1, sizeof(*l->v));
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(v, i);
		if (!json_is_string(e) && !json_is_null(e))
			return -1;
		l->v[l->n++] = xstrdup(json_is_string(e) ? json_string_value(e) : "");
	}
	return 0;
}

/* Calls take(value) for every key of obj that names field (in any case),
 * in order: the last one wins, as in Go. */
#define EACH_FIELD(obj, field, stmt)                        \
	do {                                                \
		const char *k_;                             \
		json_t *v_;                                 \
		json_object_foreach((obj), k_, v_)          \
		{                                           \
			if (strcasecmp(k_, (field)) == 0) { \
				json_t *value = v_;         \
				if ((stmt) != 0)            \
					return -1;          \
			}                                   \
		}                                           \
	} while (0)

static void perms_clear(struct auth_perms *p)
{
	auth_list_free(&p->read);
	auth_list_free(&p->write);
	p->read.null = p->write.null = true;
}

static int take_rw(json_t *v, struct auth_perms *p)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return -1;
	EACH_FIELD(v, "read", take_list(value, &p->read));
	EACH_FIELD(v, "write", take_list(value, &p->write));
	return 0;
}

/* Permissions {"kv": RWPermission} into a struct (null: unchanged). */
static int take_perms(json_t *v, struct auth_perms *p)
{
	if (json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return -1;
	EACH_FIELD(v, "kv", take_rw(value, p));
	return 0;
}

/* *Permissions: null makes it nil; an object makes a fresh one. */
static int take_perms_ptr(json_t *v, bool *has, struct auth_perms *p)
{
	perms_clear(p);
	*has = false;
	if (json_is_null(v))
		return 0;
	*has = true;
	return take_perms(v, p);
}

/* The first JSON value of the body (json.Decoder.Decode): NULL when it is
 * not JSON. A top-level null decodes as an empty object. */
static json_t *load(const char *body, size_t len)
{
	json_error_t err;
	json_t *doc =
		json_loadb(body ? body : "", len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &err);
	if (doc && json_is_null(doc)) {
		json_decref(doc);
		return json_object();
	}
	if (doc && !json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int user_fields(json_t *doc, struct auth_user_in *u)
{
	EACH_FIELD(doc, "user", take_string(value, &u->user));
	EACH_FIELD(doc, "password", take_string(value, &u->password));
	EACH_FIELD(doc, "roles", take_list(value, &u->roles));
	EACH_FIELD(doc, "grant", take_list(value, &u->grant));
	EACH_FIELD(doc, "revoke", take_list(value, &u->revoke));
	return 0;
}

int auth_json_user_in(const char *body, size_t len, struct auth_user_in *u)
{
	memset(u, 0, sizeof(*u));
	u->user = xstrdup("");
	u->password = xstrdup("");
	u->roles.null = u->grant.null = u->revoke.null = true;
	json_t *doc = load(body, len);
	if (doc == NULL)
		return -1;
	int rc = user_fields(doc, u);
	json_decref(doc);
	return rc;
}

static int role_fields(json_t *doc, struct auth_role_in *r)
{
	EACH_FIELD(doc, "role", take_string(value, &r->role));
	EACH_FIELD(doc, "permissions", take_perms(value, &r->perms));
	EACH_FIELD(doc, "grant", take_perms_ptr(value, &r->has_grant, &r->grant));
	EACH_FIELD(doc, "revoke", take_perms_ptr(value, &r->has_revoke, &r->revoke));
	return 0;
}

int auth_json_role_in(const char *body, size_t len, struct auth_role_in *r)
{
	memset(r, 0, sizeof(*r));
	r->role = xstrdup("");
	perms_clear(&r->perms);
	perms_clear(&r->grant);
	perms_clear(&r->revoke);
	json_t *doc = load(body, len);
	if (doc == NULL)
		return -1;
	int rc = role_fields(doc, r);
	json_decref(doc);
	return rc;
}

void auth_user_in_free(struct auth_user_in *u)
{
	free(u->user);
	if (u->password)
		explicit_bzero(u->password, strlen(u->password));
	free(u->password);
	auth_list_free(&u->roles);
	auth_list_free(&u->grant);
	auth_list_free(&u->revoke);
	memset(u, 0, sizeof(*u));
}

void auth_role_in_free(struct auth_role_in *r)
{
	free(r->role);
	perms_clear(&r->perms);
	perms_clear(&r->grant);
	perms_clear(&r->revoke);
	memset(r, 0, sizeof(*r));
}

bool auth_perms_empty(const struct auth_perms *p)
{
	return p->read.n == 0 && p->write.n == 0;
}

/* ---- writing ---------------------------------------------------------- */

static void put_str(struct buf *b, const char *s)
{
	buf_put_json_str(b, s, strlen(s));
}

static void put_list(struct buf *b, const struct auth_list *l)
{
	if (l->null) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '[');
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_putc(b, ',');
		put_str(b, l->v[i]);
	}
	buf_putc(b, ']');
}

void auth_json_user(struct buf *b, const struct auth_user *u)
{
	buf_puts(b, "{\"user\":");
	put_str(b, u->name);
	buf_puts(b, ",\"roles\":");
	put_list(b, &u->roles);
	buf_putc(b, '}');
}

void auth_json_role(struct buf *b, const struct auth_role *r)
{
	buf_puts(b, "{\"role\":");
	put_str(b, r->name);
	buf_puts(b, ",\"permissions\":{\"kv\":{\"read\":");
	put_list(b, &r->perms.read);
	buf_puts(b, ",\"write\":");
	put_list(b, &r->perms.write);
	buf_puts(b, "}}}");
}

int auth_json_user_with_roles(struct buf *b, const struct auth_state *st, const struct auth_user *u,
			      bool skip_missing, const char **missing)
{
	/* etcd's getUser gives the root user the root role */
	struct auth_list roles = u->roles;
	const char *root = AUTH_ROOT;
	bool add_root = strcmp(u->name, AUTH_ROOT) == 0;
	for (size_t i = 0; i < roles.n && add_root; i++)
		add_root = strcmp(roles.v[i], AUTH_ROOT) != 0;
	size_t n = roles.n + (add_root ? 1 : 0);
	const struct auth_role **found = xcalloc(n + 1, sizeof(*found));
	size_t nf = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = i < roles.n ? roles.v[i] : root;
		const struct auth_role *r = auth_find_role(st, name, strlen(name));
		if (r == NULL && !skip_missing) {
			*missing = name;
			free(found);
			return -1;
		}
		if (r)
			found[nf++] = r;
	}
	buf_puts(b, "{\"user\":");
	put_str(b, u->name);
	if (nf) {
		buf_puts(b, ",\"roles\":[");
		for (size_t i = 0; i < nf; i++) {
			if (i)
				buf_putc(b, ',');
			auth_json_role(b, found[i]);
		}
		buf_putc(b, ']');
	}
	buf_putc(b, '}');
	free(found);
	return 0;
}
