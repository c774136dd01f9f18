/* auth_json.h - the JSON of etcd's /v2/auth API: request bodies read the
 * way Go's encoding/json reads them into v2auth.User / v2auth.Role (keys
 * matched without regard to case, null leaves a field unset, a value of the
 * wrong type is an error, anything after the first value is ignored), and
 * the answers as Go's json.Encoder writes them. Loop thread only. */
#ifndef CETCD_AUTH_JSON_H
#define CETCD_AUTH_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "kv/auth.h"
#include "util/buf.h"

/* v2auth.User as sent: {"user","password","roles","grant","revoke"}. */
struct auth_user_in {
	char *user;
	char *password; /* "" when not given */
	struct auth_list roles, grant, revoke;
};

/* v2auth.Role as sent: {"role","permissions","grant","revoke"}. */
struct auth_role_in {
	char *role;
	struct auth_perms perms;
	bool has_grant, has_revoke; /* the pointers etcd tests against nil */
	struct auth_perms grant, revoke;
};

/* Return 0, or -1 when etcd answers "Invalid JSON in request body.". */
int auth_json_user_in(const char *body, size_t len, struct auth_user_in *out);
int auth_json_role_in(const char *body, size_t len, struct auth_role_in *out);
void auth_user_in_free(struct auth_user_in *u);
void auth_role_in_free(struct auth_role_in *r);
/* Permissions.IsEmpty: no read and no write pattern. */
bool auth_perms_empty(const struct auth_perms *p);

/* {"user":..,"roles":[..]|null} (v2auth.User without its password). */
void auth_json_user(struct buf *b, const struct auth_user *u);
/* {"role":..,"permissions":{"kv":{"read":..,"write":..}}}. */
void auth_json_role(struct buf *b, const struct auth_role *r);
/* userWithRoles: {"user":..,"roles":[role objects]} ("roles" left out when
 * there are none). A role the user names that does not exist is skipped
 * (skip_missing) or returned in *missing (then nothing is written). */
int auth_json_user_with_roles(struct buf *b, const struct auth_state *st, const struct auth_user *u,
			      bool skip_missing, const char **missing);

#endif /* CETCD_AUTH_JSON_H */
