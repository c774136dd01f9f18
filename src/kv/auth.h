/* auth.h - PURE: the v2 auth state (etcd's v2auth): users (name, password
 * hash, roles), roles (name, kv read/write patterns), the enabled flag; the
 * built-in root role and the guest role; the changes the log applies (one
 * struct auth_op per entry) with etcd 3.4's rules and messages; and the
 * permission rules every request is checked against. etcd keeps all this in
 * its v2 store under /2; cetcd keeps it in this table beside the store, fed
 * by the same log (kv/command.c CMD_AUTH) and carried by the state snapshot
 * (auth_encode/auth_decode), so every member holds the same table at the
 * same index. Password hashes are opaque strings here: they are computed
 * (and checked) by the api layer, never in kv. No I/O, no clock. */
#ifndef CETCD_AUTH_H
#define CETCD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/hash.h"
#include "util/le.h"

#define AUTH_ROOT  "root"
#define AUTH_GUEST "guest"

/* A JSON list of strings as etcd stores it: null and [] differ (they show
 * in answers, and etcd's "not updated" test compares them). */
struct auth_list {
	char **v; /* owned strings */
	size_t n;
	bool null; /* JSON null (then n == 0) */
};

/* {"kv":{"read":[...],"write":[...]}}: exact keys, or prefixes ending in '*'. */
struct auth_perms {
	struct auth_list read, write;
};

struct auth_role {
	uint32_t hash; /* hmap_hash(name) */
	char *name;
	struct auth_perms perms;
};

struct auth_user {
	uint32_t hash; /* hmap_hash(name) */
	char *name;
	char *password; /* crypt(3) string ("$2b$10$..."), opaque here */
	struct auth_list roles;
};

struct auth_state {
	bool enabled;
	struct hmap users; /* struct auth_user by name */
	struct hmap roles; /* struct auth_role by name (never "root": built in) */
};

struct auth_state *auth_state_new(void);
void auth_state_free(struct auth_state *st);
/* Replaces *dst's contents with *src's (a restored snapshot); src is left
 * empty. */
void auth_state_move(struct auth_state *dst, struct auth_state *src);

/* ---- lookups ------------------------------------------------------------ */

const struct auth_user *auth_find_user(const struct auth_state *st, const char *name, size_t len);
/* The role, the built-in root role for "root", or NULL. */
const struct auth_role *auth_find_role(const struct auth_state *st, const char *name, size_t len);
/* The built-in root role: read and write every key, and everything else. */
const struct auth_role *auth_root_role(void);
/* Names of every user / role (roles include "root"), sorted bytewise as Go's
 * sort.Strings, without hidden names ("_x": etcd lists them from its store,
 * which hides them). The array is owned by the caller (free it), the
 * strings are the state's. */
const char **auth_user_names(const struct auth_state *st, size_t *n);
const char **auth_role_names(const struct auth_state *st, size_t *n);
/* The user's roles as etcd reads them: the root user always has "root". */
bool auth_user_has_role(const struct auth_user *u, const char *role);

/* ---- permissions (etcd's client_auth.go / v2auth rules) ----------------- */

/* HasKeyAccess: a pattern "p*" grants every key starting with p; any other
 * pattern grants that exact key. The root role grants everything. */
bool auth_role_key_access(const struct auth_role *r, const char *key, bool write);
/* HasRecursiveAccess (recursive GET/DELETE): only "p*" patterns count, and
 * they grant the request when the key starts with p. */
bool auth_role_recursive_access(const struct auth_role *r, const char *key, bool write);
/* A user's access: some role of theirs (missing roles are skipped) grants it. */
bool auth_user_access(const struct auth_state *st, const struct auth_user *u, const char *key,
		      bool recursive, bool write);
/* An unauthenticated request: the guest role's HasKeyAccess (etcd checks the
 * guest non-recursively even for a recursive request); no guest role: none. */
bool auth_guest_access(const struct auth_state *st, const char *key, bool write);
/* Root access (members changes, auth management): the user has role root. */
bool auth_user_is_root(const struct auth_user *u);

/* ---- changes (applied from the log) -------------------------------------- */

enum auth_op_type {
	AUTH_OP_ENABLE = 1,
	AUTH_OP_DISABLE = 2,
	AUTH_OP_USER_CREATE = 3, /* PUT with roles: CreateUser (answers 200) */
	AUTH_OP_USER_PUT = 4,	 /* PUT with neither roles nor grant/revoke:
				  * CreateOrUpdateUser (201 when created) */
	AUTH_OP_USER_UPDATE = 5, /* PUT with grant/revoke: UpdateUser */
	AUTH_OP_USER_DELETE = 6,
	AUTH_OP_ROLE_CREATE = 7, /* PUT without grant/revoke */
	AUTH_OP_ROLE_UPDATE = 8, /* PUT with grant and/or revoke */
	AUTH_OP_ROLE_DELETE = 9,
};
#define AUTH_OP_MAX AUTH_OP_ROLE_DELETE

/* One change. Strings and lists are owned when decoded (auth_op_free);
 * a caller building one to encode may point them anywhere. */
struct auth_op {
	enum auth_op_type type;
	char *name;	/* user or role */
	char *password; /* users: the new password's hash, NULL = none given */
	struct auth_list roles, grant, revoke; /* users */
	struct auth_perms perms;	       /* ROLE_CREATE */
	bool has_grant, has_revoke;	       /* ROLE_UPDATE: which of these is given */
	struct auth_perms grant_perms, revoke_perms;
};
void auth_op_free(struct auth_op *op);

/* What applying an op answered: the HTTP status (200/201 on success) and,
 * on failure, etcd's message ("auth: User x already exists."). */
struct auth_result {
	unsigned status;
	char *message; /* owned; NULL on success */
};
void auth_result_clear(struct auth_result *res);

/* How an applied op's answer reaches the request that proposed it (a
 * parked proposal completes with a store_error): code = AUTH_REPLY_BASE +
 * the HTTP status, cause = the message. Codes below it are the v2 errors of
 * a proposal that failed (timeout, no leader). */
#define AUTH_REPLY_BASE 10000

/* Applies op to st with etcd 3.4's v2auth rules. Returns 0 (st changed,
 * res->status 200 or 201) or -1 (st unchanged, res filled). */
int auth_apply(struct auth_state *st, const struct auth_op *op, struct auth_result *res);

/* ---- bytes --------------------------------------------------------------- */

/* The table as bytes (part of every state snapshot): users and roles sorted
 * by name, so every member writes the same bytes. Versioned. */
void auth_encode(const struct auth_state *st, struct buf *out);
/* Replaces st's contents with the decoded table. Returns 0, or -1 (st
 * untouched). */
int auth_decode(struct auth_state *st, const void *data, size_t len);

/* A list as bytes (u8 null, u32 count, count x (u32 length + bytes)); shared
 * with kv/command.c's CMD_AUTH payload. */
void auth_list_put(struct buf *out, const struct auth_list *l);
/* Reads a list into *l (owned); on malformed input sets r->bad. */
void auth_list_get(struct le_reader *r, struct auth_list *l);
void auth_list_free(struct auth_list *l);
/* A length-prefixed string (u32 + bytes, no NUL inside); NULL + r->bad on
 * malformed input. */
char *auth_str_get(struct le_reader *r);
void auth_str_put(struct buf *out, const char *s);

#endif /* CETCD_AUTH_H */
