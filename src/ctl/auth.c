/* auth.c - etcdctl's v2 auth commands: user add|get|list|remove|grant|
 * revoke|passwd, role add|get|list|remove|grant|revoke, auth enable|disable
 * over /v2/auth (etcd's client/auth_user.go, auth_role.go shapes and
 * error texts). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "util/url_escape.h"
#include "util/xalloc.h"

/* Exits 1 printing Go's err.Error() of a failed request. */
static _Noreturn void die_err(struct ctl_err *e)
{
	fflush(stdout);
	fprintf(stderr, "%s\n", e->text.data ? e->text.data : "");
	exit(1);
}

static _Noreturn void die_msg(const char *m)
{
	fflush(stdout);
	fprintf(stderr, "%s\n", m);
	exit(1);
}

/* /v2/auth/<what>[/<name>], path.Join'ed and escaped. */
static void auth_path(struct buf *b, const char *what, const char *name)
{
	struct buf p = BUF_INIT;
	buf_printf(&p, "/v2/auth/%s", what);
	if (name && *name)
		buf_printf(&p, "/%s", name);
	char *clean = url_clean_path(p.data);
	size_t n = strlen(clean);
	if (n > 1 && clean[n - 1] == '/')
		clean[n - 1] = 0;
	char *esc = url_escape_path(clean);
	buf_puts(b, esc);
	free(esc);
	free(clean);
	buf_free(&p);
}

/* One auth request; returns the answer, exits on a transport error. */
static void auth_do(const char *method, const char *what, const char *name, const char *body,
		    struct ctl_resp *r)
{
	struct buf path = BUF_INIT;
	auth_path(&path, what, name);
	struct ctl_err e;
	ctl_deadline_ms = ctl_now_ms() + ctl.total_timeout_ns / 1000000;
	if (ctl_do(method, path.data, body, body ? "application/json" : NULL, false, r, &e) != 0)
		die_err(&e);
	buf_free(&path);
}

static json_t *body_json(const struct ctl_resp *r)
{
	return json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
}

static _Noreturn void die_go_json_error(const struct ctl_resp *r)
{
	struct buf m = BUF_INIT;
	ctl_go_json_error(r->body.data ? r->body.data : "", r->body.len, &m);
	die_msg(m.data);
}

/* An authError's message; Go's json error text when the body is not JSON. */
static _Noreturn void die_auth_error(const struct ctl_resp *r)
{
	json_t *j = body_json(r);
	if (!j)
		die_go_json_error(r);
	const char *m = json_string_value(json_object_get(j, "message"));
	die_msg(m ? m : "");
}

static bool status_in(long s, long a, long b)
{
	return s == a || s == b;
}

static void json_str_list(struct buf *b, const char **v, size_t n)
{
	if (n == 0) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_put_json_str(b, v[i], strlen(v[i]));
	}
	buf_putc(b, ']');
}

static void client_for_auth(void)
{
	ctl_client_init(true);
	if (ctl.debug) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < ctl.neps; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", ctl.eps[i]);
		fprintf(stderr, "Cluster-Endpoints: %s\n", b.data ? b.data : "");
		buf_free(&b);
	}
}

static char *ask(const char *prompt)
{
	char *p = getpass(prompt);
	if (!p) {
		fprintf(stderr, "Error reading password: EOF\n");
		exit(1);
	}
	return xstrdup(p);
}

/* ---- user ---- */

static const char *one_name(int argc, char **argv, const char *msg)
{
	if (argc != 1)
		die_msg(msg);
	return argv[0];
}

/* PUT/GET a user and check for 200 (modUser). */
static json_t *mod_user(const char *method, const char *name, const char *body)
{
	struct ctl_resp r;
	auth_do(method, "users", name, body, &r);
	if (r.status != 200)
		die_auth_error(&r);
	json_t *j = body_json(&r);
	ctl_resp_free(&r);
	return j;
}

static void user_body(struct buf *b, const char *user, const char *pass, const char *list_name,
		      const char **list, size_t n)
{
	buf_puts(b, "{\"user\":");
	buf_put_json_str(b, user, strlen(user));
	if (pass && *pass) {
		buf_puts(b, ",\"password\":");
		buf_put_json_str(b, pass, strlen(pass));
	}
	buf_puts(b, ",\"roles\":null");
	if (list_name && n > 0) {
		buf_printf(b, ",\"%s\":", list_name);
		json_str_list(b, list, n);
	}
	buf_putc(b, '}');
}

static int user_cmd(const char *sub, int argc, char **argv, struct ctl_flag *flags)
{
	if (strcmp(sub, "list") == 0) {
		if (argc != 0)
			die_msg("No arguments accepted");
		client_for_auth();
		struct ctl_resp r;
		auth_do("GET", "users", NULL, NULL, &r);
		if (r.status != 200)
			die_auth_error(&r);
		json_t *j = body_json(&r);
		size_t i;
		json_t *u;
		json_array_foreach(json_object_get(j, "users"), i, u)
		{
			const char *n = json_string_value(json_object_get(u, "user"));
			printf("%s\n", n ? n : "");
		}
		json_decref(j);
		ctl_resp_free(&r);
		return 0;
	}
	if (strcmp(sub, "grant") == 0 || strcmp(sub, "revoke") == 0) {
		struct ctl_flag *roles = ctl_flag(flags, "roles");
		if (roles->nlist == 0)
			die_msg("No roles specified; please use `--roles`");
		const char *name = one_name(argc, argv, "Please provide a username");
		client_for_auth();
		struct buf b = BUF_INIT;
		user_body(&b, name, NULL, sub, roles->list, roles->nlist);
		json_decref(mod_user("PUT", name, b.data));
		buf_free(&b);
		printf("User %s updated\n", name);
		return 0;
	}
	const char *name = one_name(argc, argv, "Please provide a username");
	client_for_auth();
	if (strcmp(sub, "add") == 0) {
		const char *colon = strchr(name, ':');
		char *user = colon ? xstrndup(name, (size_t)(colon - name)) : xstrdup(name);
		char *pass = colon ? xstrdup(colon + 1) : ask("New password: ");
		struct buf b = BUF_INIT;
		user_body(&b, user, pass, NULL, NULL, 0);
		struct ctl_resp r;
		auth_do("PUT", "users", user, b.data, &r);
		if (!status_in(r.status, 200, 201))
			die_auth_error(&r);
		printf("User %s created\n", user);
		return 0;
	}
	if (strcmp(sub, "remove") == 0) {
		struct ctl_resp r;
		auth_do("DELETE", "users", name, NULL, &r);
		if (!status_in(r.status, 200, 201))
			die_auth_error(&r);
		printf("User %s removed\n", name);
		return 0;
	}
	if (strcmp(sub, "passwd") == 0) {
		char *pass = ask("New password: ");
		struct buf b = BUF_INIT;
		user_body(&b, name, pass, NULL, NULL, 0);
		json_decref(mod_user("PUT", name, b.data));
		printf("Password updated\n");
		return 0;
	}
	/* get: roles as names, or as role objects (etcd 3.4's answer): Go's
	 * decoding into []string leaves "" for each object, then the fallback
	 * appends the objects' names to that. */
	json_t *j = mod_user("GET", name, NULL);
	const char *u = json_string_value(json_object_get(j, "user"));
	json_t *ra = json_object_get(j, "roles");
	struct buf roles = BUF_INIT;
	size_t i, nobj = 0, n = 0;
	json_t *v;
	json_array_foreach(ra, i, v)
	{
		if (!json_is_string(v))
			nobj++;
	}
	json_array_foreach(ra, i, v)
	{
		buf_printf(&roles, "%s%s", n++ ? " " : "",
			   json_is_string(v) ? json_string_value(v) : "");
	}
	if (nobj > 0) {
		json_array_foreach(ra, i, v)
		{
			const char *rn = json_string_value(json_object_get(v, "role"));
			buf_printf(&roles, "%s%s", n++ ? " " : "", rn ? rn : "");
		}
	}
	printf("User: %s\n", u ? u : "");
	printf("Roles: %s\n", roles.data ? roles.data : "");
	json_decref(j);
	return 0;
}

/* ---- role ---- */

static json_t *get_role(const char *name, bool must)
{
	struct ctl_resp r;
	auth_do("GET", "roles", name, NULL, &r);
	if (r.status != 200) {
		if (must)
			die_auth_error(&r);
		ctl_resp_free(&r);
		return NULL;
	}
	json_t *j = body_json(&r);
	ctl_resp_free(&r);
	if (!j && must)
		die_msg("invalid character in JSON");
	return j;
}

static void print_list(json_t *a)
{
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		printf("\t%s\n", json_string_value(v) ? json_string_value(v) : "");
	}
}

static int role_grant(bool grant, const char *name, struct ctl_flag *flags)
{
	struct buf b = BUF_INIT;
	const char *path = ctl_flag(flags, "path")->s;
	if (!path || !*path)
		die_msg("No path specified; please use `--path`");
	char *canon = url_clean_path(path);
	if (strcmp(canon, path) != 0) {
		fprintf(stderr, "Not canonical path; please use `--path=%s`\n", canon);
		exit(1);
	}
	bool rd = ctl_flag(flags, "read")->b, wr = ctl_flag(flags, "write")->b,
	     rw = ctl_flag(flags, "readwrite")->b;
	if ((int)rd + (int)wr + (int)rw != 1)
		die_msg("Please specify exactly one of --read, --write or --readwrite");
	client_for_auth();
	json_t *cur = get_role(name, true);
	const char *one[] = {path};
	buf_puts(&b, "{\"role\":");
	buf_put_json_str(&b, name, strlen(name));
	buf_printf(&b,
		   ",\"permissions\":{\"kv\":{\"read\":null,\"write\":null}},\"%s\":{\"kv\":"
		   "{\"read\":",
		   grant ? "grant" : "revoke");
	json_str_list(&b, one, rd || rw ? 1 : 0);
	buf_puts(&b, ",\"write\":");
	json_str_list(&b, one, wr || rw ? 1 : 0);
	buf_puts(&b, "}}}");
	struct ctl_resp r;
	auth_do("PUT", "roles", name, b.data, &r);
	if (r.status != 200)
		die_auth_error(&r);
	json_t *nr = body_json(&r);
	if (!nr)
		die_go_json_error(&r);
	if (json_equal(json_object_get(nr, "permissions"), json_object_get(cur, "permissions")) &&
	    json_equal(json_object_get(nr, "role"), json_object_get(cur, "role")))
		printf(grant ? "Role unchanged; already granted" :
			       "Role unchanged; already revoked");
	printf("Role %s updated\n", name);
	return 0;
}

static int role_cmd(const char *sub, int argc, char **argv, struct ctl_flag *flags)
{
	if (strcmp(sub, "list") == 0) {
		if (argc != 0)
			die_msg("No arguments accepted");
		client_for_auth();
		struct ctl_resp r;
		auth_do("GET", "roles", NULL, NULL, &r);
		if (r.status != 200) {
			fprintf(stderr, "unexpected status code %ld\n", r.status);
			exit(1);
		}
		json_t *j = body_json(&r);
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(j, "roles"), i, v)
		{
			const char *n = json_string_value(json_object_get(v, "role"));
			printf("%s\n", n ? n : "");
		}
		json_decref(j);
		ctl_resp_free(&r);
		return 0;
	}
	if (strcmp(sub, "grant") == 0 || strcmp(sub, "revoke") == 0) {
		/* the flags are checked before the name */
		const char *path = ctl_flag(flags, "path")->s;
		bool rd = ctl_flag(flags, "read")->b, wr = ctl_flag(flags, "write")->b,
		     rw = ctl_flag(flags, "readwrite")->b;
		if (path && *path && (int)rd + (int)wr + (int)rw == 1) {
			char *canon = url_clean_path(path);
			bool ok = strcmp(canon, path) == 0;
			free(canon);
			if (ok && argc != 1)
				die_msg("Please provide a role name");
		}
		return role_grant(sub[0] == 'g', argc == 1 ? argv[0] : "", flags);
	}
	const char *name = one_name(argc, argv, "Please provide a role name");
	client_for_auth();
	if (strcmp(sub, "add") == 0) {
		json_t *cur = get_role(name, false);
		if (cur) {
			fprintf(stderr, "Role %s already exists\n", name);
			exit(1);
		}
		struct buf b = BUF_INIT;
		buf_puts(&b, "{\"role\":");
		buf_put_json_str(&b, name, strlen(name));
		buf_puts(&b, ",\"permissions\":{\"kv\":{\"read\":null,\"write\":null}}}");
		struct ctl_resp r;
		auth_do("PUT", "roles", name, b.data, &r);
		if (!status_in(r.status, 200, 201))
			die_auth_error(&r);
		printf("Role %s created\n", name);
		return 0;
	}
	if (strcmp(sub, "remove") == 0) {
		struct ctl_resp r;
		auth_do("DELETE", "roles", name, NULL, &r);
		if (!status_in(r.status, 200, 201))
			die_auth_error(&r);
		printf("Role %s removed\n", name);
		return 0;
	}
	json_t *j = get_role(name, true);
	const char *rn = json_string_value(json_object_get(j, "role"));
	json_t *kv = json_object_get(json_object_get(j, "permissions"), "kv");
	printf("Role: %s\n", rn ? rn : "");
	printf("KV Read:\n");
	print_list(json_object_get(kv, "read"));
	printf("KV Write:\n");
	print_list(json_object_get(kv, "write"));
	json_decref(j);
	return 0;
}

/* ---- auth ---- */

static int auth_cmd(const char *sub, int argc)
{
	if (argc != 0)
		die_msg("No arguments accepted");
	bool enable = strcmp(sub, "enable") == 0;
	client_for_auth();
	struct ctl_resp r;
	auth_do(enable ? "PUT" : "DELETE", "enable", NULL, NULL, &r);
	if (!status_in(r.status, 200, 201))
		die_auth_error(&r);
	printf(enable ? "Authentication Enabled\n" : "Authentication Disabled\n");
	return 0;
}

static bool is_one_of(const char *s, const char *const *v)
{
	for (; *v; v++)
		if (strcmp(s, *v) == 0)
			return true;
	return false;
}

int ctl_cmd_auth(const char *cmd, int argc, char **argv)
{
	static const char *const user_subs[] = {"add",	 "get",	   "list",   "remove",
						"grant", "revoke", "passwd", NULL};
	static const char *const role_subs[] = {"add",	 "get",	   "list", "remove",
						"grant", "revoke", NULL};
	static const char *const auth_subs[] = {"enable", "disable", NULL};
	const char *const *subs = strcmp(cmd, "user") == 0 ? user_subs :
				  strcmp(cmd, "role") == 0 ? role_subs :
							     auth_subs;
	struct ctl_flag none[] = {{.names = "help, h", .kind = CTL_BOOL}, {0}};
	if (argc == 0 || !is_one_of(argv[0], subs)) {
		if (argc > 0 && argv[0][0] != '-') {
			fprintf(stderr, "No help topic for '%s'\n", argv[0]);
			return 3;
		}
		ctl_cmd_flags_as(cmd, none, argc, argv, true);
		ctl_print_help(cmd);
		return 0;
	}
	const char *sub = argv[0];
	struct ctl_flag flags[] = {
		{.names = "help, h", .kind = CTL_BOOL}, {.names = NULL, .kind = CTL_BOOL},
		{.names = NULL, .kind = CTL_BOOL},	{.names = NULL, .kind = CTL_BOOL},
		{.names = NULL, .kind = CTL_BOOL},	{0},
	};
	bool gr = strcmp(sub, "grant") == 0 || strcmp(sub, "revoke") == 0;
	if (gr && strcmp(cmd, "user") == 0) {
		flags[1] = (struct ctl_flag){.names = "roles", .kind = CTL_STRINGS};
	} else if (gr) {
		flags[1] = (struct ctl_flag){.names = "path", .kind = CTL_STRING};
		flags[2] = (struct ctl_flag){.names = "read", .kind = CTL_BOOL};
		flags[3] = (struct ctl_flag){.names = "write", .kind = CTL_BOOL};
		flags[4] = (struct ctl_flag){.names = "readwrite, rw", .kind = CTL_BOOL};
	}
	char help[64];
	snprintf(help, sizeof help, "%s %s", cmd, sub);
	int first = ctl_cmd_flags(help, flags, argc - 1, argv + 1);
	argc -= first + 1;
	argv += first + 1;
	if (strcmp(cmd, "user") == 0)
		return user_cmd(sub, argc, argv, flags);
	if (strcmp(cmd, "role") == 0)
		return role_cmd(sub, argc, argv, flags);
	return auth_cmd(sub, argc);
}
