/* auth_crypt.h - password hashing and checking for v2 auth, off the loop
 * thread. libxcrypt's bcrypt ("$2b$", cost 10 as etcd's bcrypt.DefaultCost;
 * etcd's "$2a$" hashes check too) costs tens of milliseconds: worker
 * threads do it, the loop hands them jobs and gets each result back on the
 * loop thread through an eventfd. Two lanes: normal priority, and nice 19
 * for checks while wrong passwords flood in (8 or more failed checks in
 * about a second), so that a flood only gets CPU the rest leaves idle. The
 * workers are started on first use and live as long as the process. Loop
 * thread only (except the workers). */
#ifndef CETCD_AUTH_CRYPT_H
#define CETCD_AUTH_CRYPT_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct auth_job;

/* Called on the loop thread when a job is done (never after cancel). */
typedef void (*auth_job_fn)(void *ctx, struct auth_job *job);

/* Hashes password with a fresh random salt. Returns the job, or NULL when
 * the worker cannot be started. */
struct auth_job *auth_crypt_hash(struct loop *l, const char *password, auth_job_fn fn, void *ctx);
/* Checks password against hash (a crypt string). */
struct auth_job *auth_crypt_verify(struct loop *l, const char *password, const char *hash,
				   auth_job_fn fn, void *ctx);
/* The requester is gone: fn will not be called; the job is freed when the
 * worker is done with it. */
void auth_crypt_cancel(struct auth_job *job);

/* A done job's result: the hash (hash jobs; NULL if crypt failed) or
 * whether the password matched (verify jobs). Valid during fn. */
const char *auth_job_hash(const struct auth_job *job);
bool auth_job_ok(const struct auth_job *job);

/* Jobs handed to the worker and not yet reported back. */
size_t auth_crypt_pending(void);

#endif /* CETCD_AUTH_CRYPT_H */
