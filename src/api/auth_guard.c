/* auth_guard.c - a request's user and its rights when v2 auth is on, with
 * the cache of password checks (see auth_guard.h). */
#include "api/auth_guard.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/auth_crypt.h"
#include "api/routes.h"
#include "kv/auth.h"
#include "member/server.h"
#include "util/log.h"
#include "util/xalloc.h"

#define MAC_LEN 32 /* HMAC-SHA-256 */
/* Cached password checks: a direct-mapped table (a collision evicts). */
#define CACHE_SLOTS 4096
/* Password checks queued on the worker at once; beyond that a request with
 * credentials not in the cache is refused at once (as a wrong password)
 * rather than queued behind a flood of wrong ones. */
#define MAX_CHECKS 64

struct cache_entry {
	uint8_t mac[MAC_LEN]; /* of the Basic token (base64 of "user:password") */
	char *user;	      /* the user it names */
	char *hash;	      /* the user's stored hash the check was made against */
	bool ok;
};

/* One password check on the worker and the requests waiting for it. */
struct auth_check {
	struct list link; /* in G.checks */
	uint8_t mac[MAC_LEN];
	char *user;
	char *hash;
	struct list waiters; /* struct auth_wait */
};

static struct {
	bool ready;
	bool no_key; /* no random key for the MACs: credentials are refused */
	uint8_t key[MAC_LEN];
	gnutls_hmac_hd_t keyed; /* HMAC-SHA-256 with the key set: copied per use */
	struct cache_entry slots[CACHE_SLOTS];
	struct list checks;
	size_t n_checks;
} G;

static void guard_init(void)
{
	if (G.ready)
		return;
	G.ready = true;
	list_init(&G.checks);
	if (gnutls_rnd(GNUTLS_RND_KEY, G.key, sizeof(G.key)) != 0 ||
	    gnutls_hmac_init(&G.keyed, GNUTLS_MAC_SHA256, G.key, sizeof(G.key)) != 0) {
		log_error("etcdserver/auth",
			  "no random key for the password cache: every password is refused");
		G.no_key = true;
	}
}

/* The MAC of the credentials: a copy of the keyed state (the key schedule
 * is done once), fed the bytes. Returns 0 or -1. */
static int mac_of(const char *cred, size_t len, uint8_t *mac)
{
	gnutls_hmac_hd_t h = gnutls_hmac_copy(G.keyed);
	if (h == NULL)
		return -1;
	int rc = gnutls_hmac(h, cred, len);
	gnutls_hmac_deinit(h, mac);
	return rc == 0 ? 0 : -1;
}

static struct cache_entry *slot_of(const uint8_t *mac)
{
	uint32_t h = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
		     (uint32_t)mac[3] << 24;
	return &G.slots[h % CACHE_SLOTS];
}

static void on_checked(void *ctx, struct auth_job *job)
{
	struct auth_check *c = ctx;
	struct cache_entry *e = slot_of(c->mac);
	free(e->hash);
	free(e->user);
	memcpy(e->mac, c->mac, MAC_LEN);
	e->user = c->user;
	e->hash = c->hash;
	e->ok = auth_job_ok(job);
	list_del(&c->link);
	G.n_checks--;
	struct list waiters;
	list_init(&waiters);
	list_splice_tail(&waiters, &c->waiters);
	free(c);
	/* each waiter asks again: the answer is in the cache now (unless the
	 * user changed meanwhile, then it waits for a new check) */
	while (!list_empty(&waiters)) {
		struct auth_wait *w = list_entry(waiters.next, struct auth_wait, link);
		list_del(&w->link);
		w->check = NULL;
		w->resume(w->r);
	}
}

void auth_wait_cancel(struct auth_wait *w)
{
	if (w->check == NULL)
		return;
	list_del(&w->link); /* the check runs on: its answer is cached */
	w->check = NULL;
}

/* Joins (or starts) the check of these credentials against hash and
 * suspends r. Returns false when no check can be queued. */
static bool wait_for_check(struct http_req *r, const uint8_t *mac, const char *user,
			   const char *password, const char *hash, struct auth_wait *w,
			   auth_resume_fn resume)
{
	struct auth_check *c = NULL, *it;
	list_for_each(it, &G.checks, link)
	{
		if (memcmp(it->mac, mac, MAC_LEN) == 0 && strcmp(it->hash, hash) == 0) {
			c = it;
			break;
		}
	}
	if (c == NULL) {
		if (G.n_checks >= MAX_CHECKS)
			return false;
		c = xcalloc(1, sizeof(*c));
		memcpy(c->mac, mac, MAC_LEN);
		c->user = xstrdup(user);
		c->hash = xstrdup(hash);
		list_init(&c->waiters);
		if (auth_crypt_verify(api_server(r)->loop, password, hash, on_checked, c) == NULL) {
			free(c->user);
			free(c->hash);
			free(c);
			return false;
		}
		list_add_tail(&G.checks, &c->link);
		G.n_checks++;
	}
	w->r = r;
	w->resume = resume;
	w->check = c;
	list_add_tail(&c->waiters, &w->link);
	http_suspend(r);
	return true;
}

enum who {
	WHO_GUEST,  /* no credentials */
	WHO_USER,   /* *out */
	WHO_NOBODY, /* bad credentials */
	WHO_WAIT,   /* suspended until the password check is done */
};

/* Basic credentials, as Go's Request.BasicAuth reads them: "Basic " (any
 * case), standard base64 of "user:password". Returns the decoded bytes
 * (gnutls_free them) with *colon at the first ':', or NULL. */
static char *decode_basic(const char *hdr, size_t *len, size_t *colon)
{
	if (strncasecmp(hdr, "Basic ", 6) != 0)
		return NULL;
	gnutls_datum_t in = {(unsigned char *)(uintptr_t)(hdr + 6), (unsigned)strlen(hdr + 6)};
	gnutls_datum_t out = {NULL, 0};
	if (in.size == 0 || gnutls_base64_decode2(&in, &out) != 0)
		return NULL;
	char *s = (char *)out.data;
	char *c = memchr(s, ':', out.size);
	/* a NUL would cut the password short for crypt(3): refuse it */
	if (c == NULL || memchr(s, '\0', out.size) != NULL) {
		gnutls_free(out.data);
		return NULL;
	}
	*len = out.size;
	*colon = (size_t)(c - s);
	return s;
}

/* The user named by the client certificate's CN, or NULL: with
 * --client-cert-auth and no Authorization header, etcd 3.4 takes the
 * verified certificate's common name as the user (no password). The edge
 * gives a CN only for a certificate verified in the handshake on an
 * https:// listener with client certificate authentication. */
static const struct auth_user *cert_user(struct http_req *r, const struct auth_state *st)
{
	const char *cn = http_client_cert_cn(r);
	return cn ? auth_find_user(st, cn, strlen(cn)) : NULL;
}

/* A cached check of this Basic token: the user it names, if that user's
 * stored hash is still the one the check was made against. */
static enum who cached(const struct auth_state *st, const uint8_t *mac,
		       const struct auth_user **out)
{
	const struct cache_entry *e = slot_of(mac);
	if (e->hash == NULL || memcmp(e->mac, mac, MAC_LEN) != 0)
		return WHO_WAIT; /* not known */
	const struct auth_user *u = auth_find_user(st, e->user, strlen(e->user));
	if (u == NULL || strcmp(e->hash, u->password) != 0)
		return WHO_WAIT;
	*out = u;
	return e->ok ? WHO_USER : WHO_NOBODY;
}

/* Credentials not in the cache: decode them, then check the password on
 * the worker (suspending r). */
static enum who check_basic(struct http_req *r, const struct auth_state *st, const char *hdr,
			    const uint8_t *mac, struct auth_wait *w, auth_resume_fn resume)
{
	size_t len, colon;
	char *cred = decode_basic(hdr, &len, &colon);
	if (cred == NULL)
		return WHO_NOBODY;
	enum who who = WHO_NOBODY;
	char *user = xstrndup(cred, colon);
	char *password = xstrndup(cred + colon + 1, len - colon - 1);
	const struct auth_user *u = auth_find_user(st, user, colon);
	if (u && wait_for_check(r, mac, user, password, u->password, w, resume))
		who = WHO_WAIT;
	explicit_bzero(password, len - colon - 1);
	free(password);
	free(user);
	explicit_bzero(cred, len);
	gnutls_free(cred);
	return who;
}

/* The key of the cache is the HMAC of the Basic token itself (the base64
 * of "user:password"), so a hit needs no decoding; another spelling of the
 * same credentials is just another entry. */
static enum who request_user(struct http_req *r, const struct auth_state *st,
			     const struct auth_user **out, struct auth_wait *w,
			     auth_resume_fn resume)
{
	const char *hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_AUTHORIZATION);
	if (hdr == NULL || hdr[0] == '\0') {
		*out = cert_user(r, st);
		return *out ? WHO_USER : WHO_GUEST;
	}
	if (strncasecmp(hdr, "Basic ", 6) != 0)
		return WHO_NOBODY;
	guard_init();
	uint8_t mac[MAC_LEN];
	if (G.no_key || mac_of(hdr + 6, strlen(hdr + 6), mac) != 0)
		return WHO_NOBODY; /* fail closed */
	enum who who = cached(st, mac, out);
	if (who != WHO_WAIT)
		return who;
	return check_basic(r, st, hdr, mac, w, resume);
}

enum auth_verdict auth_guard_key(struct http_req *r, const char *key, bool recursive, bool write,
				 struct auth_wait *w, auth_resume_fn resume)
{
	const struct auth_state *st = api_server(r)->auth;
	if (!st->enabled)
		return AUTH_ALLOW;
	const struct auth_user *u = NULL;
	switch (request_user(r, st, &u, w, resume)) {
	case WHO_WAIT:
		return AUTH_WAIT;
	case WHO_GUEST:
		return auth_guest_access(st, key, write) ? AUTH_ALLOW : AUTH_DENY;
	case WHO_USER:
		return auth_user_access(st, u, key, recursive, write) ? AUTH_ALLOW : AUTH_DENY;
	case WHO_NOBODY:
		break;
	}
	return AUTH_DENY;
}

enum auth_verdict auth_guard_root(struct http_req *r, struct auth_wait *w, auth_resume_fn resume)
{
	const struct auth_state *st = api_server(r)->auth;
	if (!st->enabled)
		return AUTH_ALLOW;
	const struct auth_user *u = NULL;
	switch (request_user(r, st, &u, w, resume)) {
	case WHO_WAIT:
		return AUTH_WAIT;
	case WHO_USER:
		return auth_user_is_root(u) ? AUTH_ALLOW : AUTH_DENY;
	case WHO_GUEST:
	case WHO_NOBODY:
		break;
	}
	return AUTH_DENY;
}
