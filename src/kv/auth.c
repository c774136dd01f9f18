/* auth.c - PURE: the v2 auth table, etcd 3.4's v2auth rules for changing it,
 * the permission rules, and its snapshot bytes (see auth.h). */
#include "kv/auth.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define AUTH_CODEC_VERSION 1

/* ---- lists ---------------------------------------------------------------- */

void auth_list_free(struct auth_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	*l = (struct auth_list){0};
}

static void list_push(struct auth_list *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
	l->null = false;
}

static void list_copy(struct auth_list *dst, const struct auth_list *src)
{
	*dst = (struct auth_list){.null = src->null};
	for (size_t i = 0; i < src->n; i++)
		list_push(dst, src->v[i]);
	dst->null = src->null;
}

static bool list_has(const struct auth_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static void list_remove(struct auth_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], s) == 0) {
			free(l->v[i]);
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
			l->n--;
			return;
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A Go set's Values(), sorted: duplicates gone, never null. */
static void list_to_set(struct auth_list *l)
{
	size_t out = 0;
	for (size_t i = 0; i < l->n; i++) {
		bool dup = false;
		for (size_t j = 0; j < out && !dup; j++)
			dup = strcmp(l->v[j], l->v[i]) == 0;
		if (dup)
			free(l->v[i]);
		else
			l->v[out++] = l->v[i];
	}
	l->n = out;
	l->null = false;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

/* reflect.DeepEqual of two []string: nil differs from empty. */
static bool list_equal(const struct auth_list *a, const struct auth_list *b)
{
	if (a->null != b->null || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static void perms_free(struct auth_perms *p)
{
	auth_list_free(&p->read);
	auth_list_free(&p->write);
}

/* ---- the table ------------------------------------------------------------ */

static void user_free(struct auth_user *u)
{
	if (u == NULL)
		return;
	free(u->name);
	free(u->password);
	auth_list_free(&u->roles);
	free(u);
}

static void role_free(struct auth_role *r)
{
	if (r == NULL)
		return;
	free(r->name);
	perms_free(&r->perms);
	free(r);
}

static void state_init(struct auth_state *st)
{
	st->enabled = false;
	hmap_init(&st->users, offsetof(struct auth_user, hash));
	hmap_init(&st->roles, offsetof(struct auth_role, hash));
}

static void state_clear(struct auth_state *st)
{
	uint32_t i = 0;
	void *e;
	while ((e = hmap_next(&st->users, &i)) != NULL)
		user_free(e);
	i = 0;
	while ((e = hmap_next(&st->roles, &i)) != NULL)
		role_free(e);
	hmap_free(&st->users);
	hmap_free(&st->roles);
	state_init(st);
}

struct auth_state *auth_state_new(void)
{
	struct auth_state *st = xcalloc(1, sizeof(*st));
	state_init(st);
	return st;
}

void auth_state_free(struct auth_state *st)
{
	if (st == NULL)
		return;
	state_clear(st);
	free(st);
}

void auth_state_move(struct auth_state *dst, struct auth_state *src)
{
	state_clear(dst);
	*dst = *src;
	state_init(src);
}

static bool name_eq(const char *name, const void *key, size_t len)
{
	return strlen(name) == len && memcmp(name, key, len) == 0;
}

static bool user_eq(const void *e, const void *key, size_t len)
{
	return name_eq(((const struct auth_user *)e)->name, key, len);
}

static bool role_eq(const void *e, const void *key, size_t len)
{
	return name_eq(((const struct auth_role *)e)->name, key, len);
}

/* Whether key starts with the n bytes of prefix. */
static bool has_prefix(const char *key, const char *prefix, size_t n)
{
	return strlen(key) >= n && memcmp(key, prefix, n) == 0;
}

static char *root_read[] = {"/*"};
static char *root_write[] = {"/*"};
static const struct auth_role root_role = {
	.name = AUTH_ROOT,
	.perms = {.read = {root_read, 1, false}, .write = {root_write, 1, false}},
};

const struct auth_role *auth_root_role(void)
{
	return &root_role;
}

const struct auth_user *auth_find_user(const struct auth_state *st, const char *name, size_t len)
{
	return hmap_find(&st->users, hmap_hash(name, len), name, len, user_eq);
}

static struct auth_role *find_role(const struct auth_state *st, const char *name)
{
	size_t len = strlen(name);
	return hmap_find(&st->roles, hmap_hash(name, len), name, len, role_eq);
}

const struct auth_role *auth_find_role(const struct auth_state *st, const char *name, size_t len)
{
	if (len == 4 && memcmp(name, AUTH_ROOT, 4) == 0)
		return &root_role;
	return hmap_find(&st->roles, hmap_hash(name, len), name, len, role_eq);
}

static struct auth_user *find_user(const struct auth_state *st, const char *name)
{
	return (struct auth_user *)auth_find_user(st, name, strlen(name));
}

static const char **sorted_names(const struct hmap *m, size_t name_off, const char *extra,
				 size_t *n_out)
{
	const char **v = xcalloc((size_t)m->count + 1, sizeof(*v));
	size_t n = 0;
	if (extra)
		v[n++] = extra;
	uint32_t i = 0;
	void *e;
	while ((e = hmap_next(m, &i)) != NULL) {
		const char *name = *(char *const *)(const void *)((const char *)e + name_off);
		if (name[0] != '_')
			v[n++] = name;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*n_out = n;
	return v;
}

const char **auth_user_names(const struct auth_state *st, size_t *n)
{
	return sorted_names(&st->users, offsetof(struct auth_user, name), NULL, n);
}

const char **auth_role_names(const struct auth_state *st, size_t *n)
{
	return sorted_names(&st->roles, offsetof(struct auth_role, name), AUTH_ROOT, n);
}

bool auth_user_has_role(const struct auth_user *u, const char *role)
{
	if (strcmp(role, AUTH_ROOT) == 0 && strcmp(u->name, AUTH_ROOT) == 0)
		return true;
	return list_has(&u->roles, role);
}

/* ---- permissions ---------------------------------------------------------- */

/* etcd's simpleMatch; an empty pattern matches nothing (etcd panics on it). */
static bool simple_match(const char *pat, const char *key)
{
	size_t n = strlen(pat);
	if (n == 0)
		return false;
	if (pat[n - 1] == '*')
		return has_prefix(key, pat, n - 1);
	return strcmp(key, pat) == 0;
}

/* etcd's prefixMatch: only "p*" patterns, key starts with p. */
static bool prefix_match(const char *pat, const char *key)
{
	size_t n = strlen(pat);
	return n > 0 && pat[n - 1] == '*' && has_prefix(key, pat, n - 1);
}

static bool role_access(const struct auth_role *r, const char *key, bool write, bool recursive)
{
	if (r == &root_role || strcmp(r->name, AUTH_ROOT) == 0)
		return true;
	const struct auth_list *l = write ? &r->perms.write : &r->perms.read;
	for (size_t i = 0; i < l->n; i++)
		if (recursive ? prefix_match(l->v[i], key) : simple_match(l->v[i], key))
			return true;
	return false;
}

bool auth_role_key_access(const struct auth_role *r, const char *key, bool write)
{
	return role_access(r, key, write, false);
}

bool auth_role_recursive_access(const struct auth_role *r, const char *key, bool write)
{
	return role_access(r, key, write, true);
}

bool auth_user_is_root(const struct auth_user *u)
{
	return auth_user_has_role(u, AUTH_ROOT);
}

bool auth_user_access(const struct auth_state *st, const struct auth_user *u, const char *key,
		      bool recursive, bool write)
{
	if (auth_user_is_root(u))
		return true;
	for (size_t i = 0; i < u->roles.n; i++) {
		const char *name = u->roles.v[i];
		const struct auth_role *r = auth_find_role(st, name, strlen(name));
		if (r && role_access(r, key, write, recursive))
			return true;
	}
	return false;
}

bool auth_guest_access(const struct auth_state *st, const char *key, bool write)
{
	const struct auth_role *g = find_role(st, AUTH_GUEST);
	return g != NULL && role_access(g, key, write, false);
}

/* ---- changes -------------------------------------------------------------- */

void auth_op_free(struct auth_op *op)
{
	free(op->name);
	free(op->password);
	auth_list_free(&op->roles);
	auth_list_free(&op->grant);
	auth_list_free(&op->revoke);
	perms_free(&op->perms);
	perms_free(&op->grant_perms);
	perms_free(&op->revoke_perms);
	memset(op, 0, sizeof(*op));
}

void auth_result_clear(struct auth_result *res)
{
	free(res->message);
	*res = (struct auth_result){0};
}

static int fail(struct auth_result *res, unsigned status, const char *fmt, const char *a,
		const char *b)
{
	struct buf m = BUF_INIT;
	buf_puts(&m, "auth: ");
	buf_printf(&m, fmt, a, b);
	res->status = status;
	res->message = buf_steal(&m, NULL);
	return -1;
}

static int ok(struct auth_result *res, unsigned status)
{
	res->status = status;
	res->message = NULL;
	return 0;
}

static void put_user(struct auth_state *st, struct auth_user *u)
{
	u->hash = hmap_hash(u->name, strlen(u->name));
	struct auth_user *old = find_user(st, u->name);
	if (old) {
		hmap_remove(&st->users, old);
		user_free(old);
	}
	hmap_insert(&st->users, u);
}

static void put_role(struct auth_state *st, struct auth_role *r)
{
	r->hash = hmap_hash(r->name, strlen(r->name));
	struct auth_role *old = find_role(st, r->name);
	if (old) {
		hmap_remove(&st->roles, old);
		role_free(old);
	}
	hmap_insert(&st->roles, r);
}

/* etcd's CreateUser: the root user always gets the root role. */
static int user_create(struct auth_state *st, const struct auth_op *op, unsigned status,
		       struct auth_result *res)
{
	if (op->password == NULL || op->password[0] == '\0')
		return fail(res, 400, "Cannot create user %s with an empty password", op->name,
			    NULL);
	if (find_user(st, op->name))
		return fail(res, 409, "User %s already exists.", op->name, NULL);
	struct auth_user *u = xcalloc(1, sizeof(*u));
	u->name = xstrdup(op->name);
	u->password = xstrdup(op->password);
	list_copy(&u->roles, &op->roles);
	if (strcmp(u->name, AUTH_ROOT) == 0 && !list_has(&u->roles, AUTH_ROOT))
		list_push(&u->roles, AUTH_ROOT);
	put_user(st, u);
	return ok(res, status);
}

/* etcd's UpdateUser: merge the password and grant/revoke into the user. */
static int user_update(struct auth_state *st, const struct auth_op *op, struct auth_result *res)
{
	struct auth_user *old = find_user(st, op->name);
	if (old == NULL)
		return fail(res, 404, "User %s does not exist.", op->name, NULL);
	struct auth_list before; /* as etcd's getUser reads it */
	list_copy(&before, &old->roles);
	if (strcmp(old->name, AUTH_ROOT) == 0 && !list_has(&before, AUTH_ROOT))
		list_push(&before, AUTH_ROOT);
	struct auth_list roles;
	list_copy(&roles, &before);
	list_to_set(&roles);
	int rc = 0;
	for (size_t i = 0; i < op->grant.n && rc == 0; i++) {
		if (list_has(&roles, op->grant.v[i]))
			rc = fail(res, 409, "Granting duplicate role %s for user %s",
				  op->grant.v[i], op->name);
		else
			list_push(&roles, op->grant.v[i]);
	}
	for (size_t i = 0; i < op->revoke.n && rc == 0; i++) {
		if (!list_has(&roles, op->revoke.v[i]))
			rc = fail(res, 409, "Revoking ungranted role %s for user %s",
				  op->revoke.v[i], op->name);
		else
			list_remove(&roles, op->revoke.v[i]);
	}
	list_to_set(&roles);
	const char *pw = op->password ? op->password : old->password;
	if (rc == 0 && strcmp(pw, old->password) == 0 && list_equal(&before, &roles))
		rc = fail(res, 400,
			  "User not updated. Use grant/revoke/password to update the user.", NULL,
			  NULL);
	auth_list_free(&before);
	if (rc != 0) {
		auth_list_free(&roles);
		return rc;
	}
	struct auth_user *u = xcalloc(1, sizeof(*u));
	u->name = xstrdup(old->name);
	u->password = xstrdup(pw);
	u->roles = roles;
	put_user(st, u);
	return ok(res, 200);
}

static int user_delete(struct auth_state *st, const struct auth_op *op, struct auth_result *res)
{
	if (st->enabled && strcmp(op->name, AUTH_ROOT) == 0)
		return fail(res, 403, "Cannot delete root user while auth is enabled.", NULL, NULL);
	struct auth_user *u = find_user(st, op->name);
	if (u == NULL)
		return fail(res, 404, "User %s does not exist", op->name, NULL);
	hmap_remove(&st->users, u);
	user_free(u);
	return ok(res, 200);
}

static void perms_copy(struct auth_perms *dst, const struct auth_perms *src)
{
	list_copy(&dst->read, &src->read);
	list_copy(&dst->write, &src->write);
}

static int role_create(struct auth_state *st, const struct auth_op *op, struct auth_result *res)
{
	if (strcmp(op->name, AUTH_ROOT) == 0)
		return fail(res, 403, "Cannot modify role %s: is root role.", op->name, NULL);
	if (find_role(st, op->name))
		return fail(res, 409, "Role %s already exists.", op->name, NULL);
	struct auth_role *r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(op->name);
	perms_copy(&r->perms, &op->perms);
	put_role(st, r);
	return ok(res, 201);
}

/* etcd's RWPermission.Grant: a duplicate is refused. */
static int grant_list(struct auth_list *l, const struct auth_list *add, const char *what,
		      struct auth_result *res)
{
	list_to_set(l);
	for (size_t i = 0; i < add->n; i++) {
		if (list_has(l, add->v[i]))
			return fail(res, 409, what, add->v[i], NULL);
		list_push(l, add->v[i]);
	}
	list_to_set(l);
	return 0;
}

/* etcd's RWPermission.Revoke: an ungranted one is ignored. */
static void revoke_list(struct auth_list *l, const struct auth_list *del)
{
	list_to_set(l);
	for (size_t i = 0; i < del->n; i++)
		list_remove(l, del->v[i]);
}

static int role_update(struct auth_state *st, const struct auth_op *op, struct auth_result *res)
{
	if (strcmp(op->name, AUTH_ROOT) == 0)
		return fail(res, 403, "Cannot modify role %s: is root role.", op->name, NULL);
	struct auth_role *old = find_role(st, op->name);
	if (old == NULL) /* etcd's getRole answers first */
		return fail(res, 404, "Role %s does not exist.", op->name, NULL);
	struct auth_perms p;
	perms_copy(&p, &old->perms);
	int rc = 0;
	if (op->has_grant) {
		rc = grant_list(&p.read, &op->grant_perms.read,
				"Granting duplicate read permission %s", res);
		if (rc == 0)
			rc = grant_list(&p.write, &op->grant_perms.write,
					"Granting duplicate write permission %s", res);
	}
	if (rc == 0 && op->has_revoke) {
		revoke_list(&p.read, &op->revoke_perms.read);
		revoke_list(&p.write, &op->revoke_perms.write);
	}
	if (rc == 0 && list_equal(&p.read, &old->perms.read) &&
	    list_equal(&p.write, &old->perms.write))
		rc = fail(res, 400, "Role not updated. Use grant/revoke to update the role.", NULL,
			  NULL);
	if (rc != 0) {
		perms_free(&p);
		return rc;
	}
	struct auth_role *r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(old->name);
	r->perms = p;
	put_role(st, r);
	return ok(res, 200);
}

static int role_delete(struct auth_state *st, const struct auth_op *op, struct auth_result *res)
{
	if (strcmp(op->name, AUTH_ROOT) == 0)
		return fail(res, 403, "Cannot modify role %s: is root role.", op->name, NULL);
	struct auth_role *r = find_role(st, op->name);
	if (r == NULL)
		return fail(res, 404, "Role %s doesn't exist.", op->name, NULL);
	hmap_remove(&st->roles, r);
	role_free(r);
	return ok(res, 200);
}

/* etcd's EnableAuth: a root user must exist; a missing guest role is
 * created with full access (backward compatibility). */
static int enable(struct auth_state *st, struct auth_result *res)
{
	if (st->enabled)
		return fail(res, 409, "already enabled", NULL, NULL);
	if (find_user(st, AUTH_ROOT) == NULL)
		return fail(res, 409, "No root user available, please create one", NULL, NULL);
	if (find_role(st, AUTH_GUEST) == NULL) {
		struct auth_role *g = xcalloc(1, sizeof(*g));
		g->name = xstrdup(AUTH_GUEST);
		list_push(&g->perms.read, "/*");
		list_push(&g->perms.write, "/*");
		put_role(st, g);
	}
	st->enabled = true;
	return ok(res, 200);
}

int auth_apply(struct auth_state *st, const struct auth_op *op, struct auth_result *res)
{
	*res = (struct auth_result){0};
	if (op->name == NULL && op->type != AUTH_OP_ENABLE && op->type != AUTH_OP_DISABLE)
		return fail(res, 400, "Invalid path", NULL, NULL);
	switch (op->type) {
	case AUTH_OP_ENABLE:
		return enable(st, res);
	case AUTH_OP_DISABLE:
		if (!st->enabled)
			return fail(res, 409, "already disabled", NULL, NULL);
		st->enabled = false;
		return ok(res, 200);
	case AUTH_OP_USER_CREATE:
		return user_create(st, op, 200, res);
	case AUTH_OP_USER_PUT:
		if (find_user(st, op->name))
			return user_update(st, op, res);
		return user_create(st, op, 201, res);
	case AUTH_OP_USER_UPDATE:
		return user_update(st, op, res);
	case AUTH_OP_USER_DELETE:
		return user_delete(st, op, res);
	case AUTH_OP_ROLE_CREATE:
		return role_create(st, op, res);
	case AUTH_OP_ROLE_UPDATE:
		return role_update(st, op, res);
	case AUTH_OP_ROLE_DELETE:
		return role_delete(st, op, res);
	}
	return fail(res, 400, "unknown auth change", NULL, NULL);
}

/* ---- bytes ---------------------------------------------------------------- */

void auth_str_put(struct buf *out, const char *s)
{
	size_t n = strlen(s);
	buf_put_le32(out, (uint32_t)n);
	buf_append(out, s, n);
}

char *auth_str_get(struct le_reader *r)
{
	uint64_t n = le_read_uint(r, 4);
	const uint8_t *p = le_read_bytes(r, (size_t)n);
	if (p == NULL || memchr(p, '\0', (size_t)n) != NULL) {
		r->bad = true;
		return NULL;
	}
	return xstrndup((const char *)p, (size_t)n);
}

void auth_list_put(struct buf *out, const struct auth_list *l)
{
	buf_put_byte(out, l->null ? 1 : 0);
	buf_put_le32(out, (uint32_t)l->n);
	for (size_t i = 0; i < l->n; i++)
		auth_str_put(out, l->v[i]);
}

void auth_list_get(struct le_reader *r, struct auth_list *l)
{
	*l = (struct auth_list){0};
	bool null = le_read_uint(r, 1) != 0;
	uint64_t n = le_read_uint(r, 4);
	if (r->bad || n > r->left / 4) {
		r->bad = true;
		return;
	}
	for (uint64_t i = 0; i < n && !r->bad; i++) {
		char *s = auth_str_get(r);
		if (s == NULL)
			break;
		list_push(l, s);
		free(s);
	}
	l->null = null && l->n == 0;
}

void auth_encode(const struct auth_state *st, struct buf *out)
{
	buf_put_byte(out, AUTH_CODEC_VERSION);
	buf_put_byte(out, st->enabled ? 1 : 0);
	/* every name, hidden ones too, in sorted order */
	size_t n = 0;
	const char **names = xcalloc((size_t)st->users.count + 1, sizeof(*names));
	uint32_t i = 0;
	void *e;
	while ((e = hmap_next(&st->users, &i)) != NULL)
		names[n++] = ((struct auth_user *)e)->name;
	qsort(names, n, sizeof(*names), cmp_str);
	buf_put_le32(out, (uint32_t)n);
	for (size_t k = 0; k < n; k++) {
		const struct auth_user *u = find_user(st, names[k]);
		auth_str_put(out, u->name);
		auth_str_put(out, u->password);
		auth_list_put(out, &u->roles);
	}
	free(names);
	n = 0;
	i = 0;
	names = xcalloc((size_t)st->roles.count + 1, sizeof(*names));
	while ((e = hmap_next(&st->roles, &i)) != NULL)
		names[n++] = ((struct auth_role *)e)->name;
	qsort(names, n, sizeof(*names), cmp_str);
	buf_put_le32(out, (uint32_t)n);
	for (size_t k = 0; k < n; k++) {
		const struct auth_role *r = find_role(st, names[k]);
		auth_str_put(out, r->name);
		auth_list_put(out, &r->perms.read);
		auth_list_put(out, &r->perms.write);
	}
	free(names);
}

static void decode_user(struct le_reader *r, struct auth_state *t)
{
	struct auth_user *u = xcalloc(1, sizeof(*u));
	u->name = auth_str_get(r);
	u->password = auth_str_get(r);
	auth_list_get(r, &u->roles);
	if (r->bad || find_user(t, u->name)) {
		r->bad = true;
		user_free(u);
		return;
	}
	put_user(t, u);
}

static void decode_role(struct le_reader *r, struct auth_state *t)
{
	struct auth_role *ro = xcalloc(1, sizeof(*ro));
	ro->name = auth_str_get(r);
	auth_list_get(r, &ro->perms.read);
	auth_list_get(r, &ro->perms.write);
	if (r->bad || find_role(t, ro->name) || strcmp(ro->name, AUTH_ROOT) == 0) {
		r->bad = true;
		role_free(ro);
		return;
	}
	put_role(t, ro);
}

int auth_decode(struct auth_state *st, const void *data, size_t len)
{
	struct le_reader r = {data, len, false};
	struct auth_state t;
	state_init(&t);
	if (le_read_uint(&r, 1) != AUTH_CODEC_VERSION)
		return -1;
	t.enabled = le_read_uint(&r, 1) != 0;
	uint64_t n = le_read_uint(&r, 4);
	for (uint64_t i = 0; i < n && !r.bad; i++)
		decode_user(&r, &t);
	n = le_read_uint(&r, 4);
	for (uint64_t i = 0; i < n && !r.bad; i++)
		decode_role(&r, &t);
	if (r.bad || r.left != 0) {
		state_clear(&t);
		return -1;
	}
	auth_state_move(st, &t);
	return 0;
}
