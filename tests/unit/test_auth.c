/* test_auth.c - the v2 auth table (kv/auth.h): etcd 3.4's rules for users,
 * roles and the enabled flag, the permission rules, and the table's bytes. */
#include <stdlib.h>
#include <string.h>

#include "kv/auth.h"
#include "../lib/harness.h"

static unsigned apply(struct auth_state *st, struct auth_op op, const char *want_msg)
{
	struct auth_result res;
	int rc = auth_apply(st, &op, &res);
	unsigned status = res.status;
	check_that((rc == 0) == (status / 100 == 2), "rc matches status", __FILE__, __LINE__);
	if (want_msg)
		check_str(res.message ? res.message : "(none)", want_msg, "message", __FILE__,
			  __LINE__);
	auth_result_clear(&res);
	return status;
}

static struct auth_list L(char **v, size_t n) {
	return (struct auth_list){v, n, false};
}

static const struct auth_list NIL = {NULL, 0, true};

static const struct auth_user *user(const struct auth_state *st, const char *name)
{
	return auth_find_user(st, name, strlen(name));
}

static const struct auth_role *role(const struct auth_state *st, const char *name)
{
	return auth_find_role(st, name, strlen(name));
}

static void test_enable_needs_root(void)
{
	struct auth_state *st = auth_state_new();
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_DISABLE}, "auth: already disabled"),
		 409);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_ENABLE},
		       "auth: No root user available, please create one"),
		 409);
	CHECK(role(st, "guest") == NULL);
	/* root without a password cannot be created */
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_USER_PUT, .name = "root"},
		       "auth: Cannot create user root with an empty password"),
		 400);
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_USER_PUT, .name = "root", .password = "h1"},
		       NULL),
		 201);
	const struct auth_user *u = user(st, "root");
	REQUIRE(u != NULL);
	CHECK(u->roles.n == 1 && strcmp(u->roles.v[0], "root") == 0);
	CHECK(auth_user_is_root(u));
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_ENABLE}, NULL), 200);
	CHECK(st->enabled);
	/* the guest role was made, with full access */
	const struct auth_role *g = role(st, "guest");
	REQUIRE(g != NULL);
	CHECK(auth_guest_access(st, "/anything", true));
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_ENABLE}, "auth: already enabled"), 409);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_USER_DELETE, .name = "root"},
		       "auth: Cannot delete root user while auth is enabled."),
		 403);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_DISABLE}, NULL), 200);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_USER_DELETE, .name = "root"}, NULL),
		 200);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_USER_DELETE, .name = "root"},
		       "auth: User root does not exist"),
		 404);
	auth_state_free(st);
}

static void test_users(void)
{
	struct auth_state *st = auth_state_new();
	char *ab[] = {"b", "a", "b"};
	/* create with roles: 200, the roles as given */
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_USER_CREATE,
					.name = "u",
					.password = "h",
					.roles = L(ab, 3)},
		       NULL),
		 200);
	const struct auth_user *u = user(st, "u");
	REQUIRE(u != NULL);
	CHECK(u->roles.n == 3 && !u->roles.null);
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_USER_CREATE,
					.name = "u",
					.password = "h",
					.roles = L(ab, 1)},
		       "auth: User u already exists."),
		 409);
	/* a PUT without changes: the set of roles differs from the list (dups) */
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_USER_PUT, .name = "u"}, NULL), 200);
	u = user(st, "u");
	CHECK(u->roles.n == 2 && strcmp(u->roles.v[0], "a") == 0);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_USER_PUT, .name = "u"},
		       "auth: User not updated. Use grant/revoke/password to update the user."),
		 400);
	char *c[] = {"c"}, *a[] = {"a"}, *z[] = {"z"};
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_USER_UPDATE, .name = "u", .grant = L(a, 1)},
		       "auth: Granting duplicate role a for user u"),
		 409);
	CHECK_EQ(
		apply(st,
		      (struct auth_op){.type = AUTH_OP_USER_UPDATE, .name = "u", .revoke = L(z, 1)},
		      "auth: Revoking ungranted role z for user u"),
		409);
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_USER_UPDATE,
					.name = "u",
					.grant = L(c, 1),
					.revoke = L(a, 1)},
		       NULL),
		 200);
	u = user(st, "u");
	CHECK(u->roles.n == 2 && strcmp(u->roles.v[0], "b") == 0 &&
	      strcmp(u->roles.v[1], "c") == 0);
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_USER_UPDATE, .name = "x", .grant = L(c, 1)},
		       "auth: User x does not exist."),
		 404);
	/* a new password changes the user */
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_USER_PUT, .name = "u", .password = "h2"},
		       NULL),
		 200);
	CHECK(strcmp(user(st, "u")->password, "h2") == 0);
	/* created without roles: null stays null */
	CHECK_EQ(
		apply(st,
		      (struct auth_op){
			      .type = AUTH_OP_USER_PUT, .name = "v", .password = "h", .roles = NIL},
		      NULL),
		201);
	CHECK(user(st, "v")->roles.null);
	size_t n;
	const char **names = auth_user_names(st, &n);
	CHECK(n == 2 && strcmp(names[0], "u") == 0 && strcmp(names[1], "v") == 0);
	free(names);
	auth_state_free(st);
}

static void test_roles(void)
{
	struct auth_state *st = auth_state_new();
	char *rd[] = {"/a*", "/x", "/a*"};
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_ROLE_CREATE,
					.name = "root",
					.perms = {L(rd, 1), NIL}},
		       "auth: Cannot modify role root: is root role."),
		 403);
	CHECK_EQ(apply(st,
		       (struct auth_op){
			       .type = AUTH_OP_ROLE_CREATE, .name = "r", .perms = {L(rd, 3), NIL}},
		       NULL),
		 201);
	const struct auth_role *r = role(st, "r");
	REQUIRE(r != NULL);
	CHECK(r->perms.read.n == 3 && r->perms.write.null);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_ROLE_CREATE, .name = "r"},
		       "auth: Role r already exists."),
		 409);
	char *w[] = {"/w"}, *ax[] = {"/a*"}, *nope[] = {"/nope"};
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_ROLE_UPDATE,
					.name = "r",
					.has_grant = true,
					.grant_perms = {L(ax, 1), NIL}},
		       "auth: Granting duplicate read permission /a*"),
		 409);
	/* revoking what is not granted is ignored; the lists become sets */
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_ROLE_UPDATE,
					.name = "r",
					.has_grant = true,
					.grant_perms = {NIL, L(w, 1)},
					.has_revoke = true,
					.revoke_perms = {L(nope, 1), NIL}},
		       NULL),
		 200);
	r = role(st, "r");
	CHECK(r->perms.read.n == 2 && strcmp(r->perms.read.v[0], "/a*") == 0);
	CHECK(r->perms.write.n == 1 && !r->perms.write.null);
	CHECK_EQ(apply(st,
		       (struct auth_op){.type = AUTH_OP_ROLE_UPDATE,
					.name = "r",
					.has_revoke = true,
					.revoke_perms = {L(nope, 1), NIL}},
		       "auth: Role not updated. Use grant/revoke to update the role."),
		 400);
	CHECK_EQ(
		apply(st,
		      (struct auth_op){.type = AUTH_OP_ROLE_UPDATE, .name = "q", .has_grant = true},
		      "auth: Role q does not exist."),
		404);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_ROLE_DELETE, .name = "root"},
		       "auth: Cannot modify role root: is root role."),
		 403);
	size_t n;
	const char **names = auth_role_names(st, &n);
	CHECK(n == 2 && strcmp(names[0], "r") == 0 && strcmp(names[1], "root") == 0);
	free(names);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_ROLE_DELETE, .name = "r"}, NULL), 200);
	CHECK_EQ(apply(st, (struct auth_op){.type = AUTH_OP_ROLE_DELETE, .name = "r"},
		       "auth: Role r doesn't exist."),
		 404);
	auth_state_free(st);
}

/* etcd's simpleMatch / prefixMatch and how a user's roles combine. */
static void test_permissions(void)
{
	struct auth_state *st = auth_state_new();
	char *rd[] = {"/pub*", "/exact", ""};
	char *wr[] = {"/pub/w*"};
	apply(st,
	      (struct auth_op){
		      .type = AUTH_OP_ROLE_CREATE, .name = "r", .perms = {L(rd, 3), L(wr, 1)}},
	      NULL);
	const struct auth_role *r = role(st, "r");
	CHECK(auth_role_key_access(r, "/pub", false));
	CHECK(auth_role_key_access(r, "/public", false));
	CHECK(auth_role_key_access(r, "/pub/a/b", false));
	CHECK(auth_role_key_access(r, "/exact", false));
	CHECK(!auth_role_key_access(r, "/exact/x", false));
	CHECK(!auth_role_key_access(r, "/pu", false));
	CHECK(!auth_role_key_access(r, "", false)); /* "" pattern never matches */
	CHECK(!auth_role_key_access(r, "/pub/x", true));
	CHECK(auth_role_key_access(r, "/pub/w1", true));
	/* recursive: only prefix patterns */
	CHECK(auth_role_recursive_access(r, "/pub/dir", false));
	CHECK(!auth_role_recursive_access(r, "/exact", false));
	CHECK(auth_role_key_access(auth_root_role(), "", true));
	CHECK(auth_role_recursive_access(auth_root_role(), "/", true));

	char *roles[] = {"missing", "r"};
	apply(st,
	      (struct auth_op){.type = AUTH_OP_USER_CREATE,
			       .name = "alice",
			       .password = "h",
			       .roles = L(roles, 2)},
	      NULL);
	const struct auth_user *u = user(st, "alice");
	CHECK(auth_user_access(st, u, "/pub/x", false, false));
	CHECK(auth_user_access(st, u, "/pub", true, false));
	CHECK(!auth_user_access(st, u, "/exact", true, false));
	CHECK(!auth_user_access(st, u, "/other", false, false));
	CHECK(!auth_user_is_root(u));
	/* no guest role: guests get nothing; a guest role: key access only */
	CHECK(!auth_guest_access(st, "/pub", false));
	char *g[] = {"/g*"};
	apply(st,
	      (struct auth_op){
		      .type = AUTH_OP_ROLE_CREATE, .name = "guest", .perms = {L(g, 1), NIL}},
	      NULL);
	CHECK(auth_guest_access(st, "/g/x", false));
	CHECK(!auth_guest_access(st, "/g/x", true));
	/* granting role root makes a user root */
	char *root[] = {"root"};
	apply(st,
	      (struct auth_op){.type = AUTH_OP_USER_UPDATE, .name = "alice", .grant = L(root, 1)},
	      NULL);
	CHECK(auth_user_is_root(user(st, "alice")));
	auth_state_free(st);
}

static void test_codec(void)
{
	struct auth_state *st = auth_state_new();
	char *ro[] = {"r1"}, *rd[] = {"/a*"};
	apply(st, (struct auth_op){.type = AUTH_OP_USER_PUT, .name = "root", .password = "$2b$r"},
	      NULL);
	apply(st,
	      (struct auth_op){.type = AUTH_OP_USER_CREATE,
			       .name = "_hidden",
			       .password = "$2b$h",
			       .roles = L(ro, 1)},
	      NULL);
	apply(st,
	      (struct auth_op){.type = AUTH_OP_ROLE_CREATE, .name = "r1", .perms = {L(rd, 1), NIL}},
	      NULL);
	apply(st, (struct auth_op){.type = AUTH_OP_ENABLE}, NULL);
	struct buf b = BUF_INIT;
	auth_encode(st, &b);
	struct auth_state *got = auth_state_new();
	REQUIRE(auth_decode(got, b.data, b.len) == 0);
	CHECK(got->enabled && got->users.count == 2 && got->roles.count == 2);
	CHECK(strcmp(user(got, "root")->password, "$2b$r") == 0);
	CHECK(role(got, "r1")->perms.write.null && role(got, "r1")->perms.read.n == 1);
	/* the same table gives the same bytes */
	struct buf b2 = BUF_INIT;
	auth_encode(got, &b2);
	CHECK(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
	/* hidden names are stored but not listed */
	size_t n;
	const char **names = auth_user_names(got, &n);
	CHECK(n == 1 && strcmp(names[0], "root") == 0);
	free(names);
	/* any truncation is refused and leaves the table as it was */
	for (size_t k = 0; k < b.len; k++)
		CHECK(auth_decode(got, b.data, k) == -1);
	CHECK(got->users.count == 2);
	buf_free(&b);
	buf_free(&b2);
	auth_state_free(got);
	auth_state_free(st);
}

int main(void)
{
	test_enable_needs_root();
	test_users();
	test_roles();
	test_permissions();
	test_codec();
	return check_summary();
}
