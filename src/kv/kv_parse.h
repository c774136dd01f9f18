/* kv_parse.h - PURE: turns a /v2/keys request (method, decoded path, form
 * values) into a typed request or an etcd v2 error, exactly as etcd's
 * parseKeyRequest does. Also Go-compatible form/query helpers (paths: util/url.h).
 * No MHD types, no I/O, no clock. */
#ifndef CETCD_KV_PARSE_H
#define CETCD_KV_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/store.h"

/* ---- form values (Go url.Values semantics) ---------------------------- */

/* Decoded pairs. Keys stay C strings for lookups (a key holding a NUL byte
 * never matches a name we look up, as in Go); values are byte strings: %00
 * decodes to a NUL byte inside value[0..value_len) (always NUL-terminated
 * too, so value works as a C string when no NUL is expected). */
struct form_pair {
	char *key; /* owned */
	size_t key_len;
	char *value; /* owned */
	size_t value_len;
};

struct form {
	struct form_pair *pairs; /* owned; body pairs first, then query pairs */
	size_t len, cap;
};

/* Parses an application/x-www-form-urlencoded string (query or body) and
 * appends its pairs, as Go's url.ParseQuery: '&' separates, '+' is a space,
 * %XX escapes. Keeps going after a bad pair; returns 0, or -1 with *cause set
 * to Go's text for the first error (static or owned? owned: free it). */
int form_parse(struct form *f, const char *s, size_t len, char **cause);
/* First value of key, or NULL when the key is absent. form_get_len also
 * gives its length in bytes (len may be NULL); use it for anything that may
 * hold NUL bytes. */
const char *form_get(const struct form *f, const char *key);
const char *form_get_len(const struct form *f, const char *key, size_t *len);
bool form_has(const struct form *f, const char *key);
void form_free(struct form *f);

/* ---- the key request -------------------------------------------------- */

enum kv_method {
	KV_GET,
	KV_HEAD,
	KV_PUT,
	KV_POST,
	KV_DELETE
};

struct kv_request {
	enum kv_method method;
	char *path; /* owned: cleaned store path, "/" for the root */
	bool recursive, sorted, wait, stream, quorum, dir;
	bool no_value_on_success;
	uint64_t wait_index;
	struct store_write write; /* for PUT/POST/DELETE; strings point into
					 * path and form (which must outlive it);
					 * value_len / prev_value_len are set */
};

/* Parses the request. key_path is the decoded URL path after "/v2/keys"
 * (may be "" or start with '/'). On success returns 0 and fills *r (free
 * with kv_request_free). On failure returns -1 and fills *err (code, owned
 * cause, index 0) as etcd does, checking parameters in etcd's order. */
int kv_parse(struct kv_request *r, enum kv_method method, const char *key_path,
	     const struct form *form, struct store_error *err);
void kv_request_free(struct kv_request *r);

#endif /* CETCD_KV_PARSE_H */
