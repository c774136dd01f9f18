/* auth_guard.h - who a client request is and what it may do, when v2 auth
 * is on (etcd 3.4's v2http/client_auth.go rules): HTTP Basic credentials,
 * or no Authorization header = the guest role (the client certificate's CN
 * names the user instead with --client-cert-auth: one marked place in
 * auth_guard.c). A password is checked once with the slow hash (on the
 * password worker, auth_crypt.h) and the result cached, keyed on an
 * HMAC-SHA-256 of the Basic token (the base64 of "user:password") under a
 * random per-process key; a cached result counts only while the user's
 * stored hash is the one it was checked against, so a password change, a
 * deleted or re-created user invalidates it. While a check is running the request is suspended and
 * resumed through its callback, which asks again. Loop thread only. */
#ifndef CETCD_AUTH_GUARD_H
#define CETCD_AUTH_GUARD_H

#include <stdbool.h>

#include "net/http_server.h"
#include "util/list.h"

enum auth_verdict {
	AUTH_ALLOW,
	AUTH_DENY,
	AUTH_WAIT, /* r is suspended; resume(r) runs when the answer is known */
};

typedef void (*auth_resume_fn)(struct http_req *r);

/* A request's place in the queue of a password check (embed it in the
 * handler's state, zeroed; auth_wait_cancel it in the cleanup). */
struct auth_wait {
	struct list link;
	struct http_req *r;
	auth_resume_fn resume;
	struct auth_check *check; /* NULL: not waiting */
};

/* /v2/keys: may r read (GET/HEAD) or write key (etcd's hasKeyPrefixAccess;
 * key as it follows /v2/keys in the path)? */
enum auth_verdict auth_guard_key(struct http_req *r, const char *key, bool recursive, bool write,
				 struct auth_wait *w, auth_resume_fn resume);
/* Members changes and auth management: is r the root role (etcd's
 * hasRootAccess)? Allowed when auth is off. */
enum auth_verdict auth_guard_root(struct http_req *r, struct auth_wait *w, auth_resume_fn resume);
/* Leaves the queue (the request is going away). No-op when not waiting. */
void auth_wait_cancel(struct auth_wait *w);

#endif /* CETCD_AUTH_GUARD_H */
