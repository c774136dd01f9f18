/* proposal.h - the pending-proposal table: a request id -> the parked request
 * that waits for its entry to be applied. apply.c completes entries; a
 * timeout or loss of leadership completes them with etcd's error; a client
 * that goes away cancels. Every path removes the entry. Loop thread only. */
#ifndef CETCD_PROPOSAL_H
#define CETCD_PROPOSAL_H

#include <stdint.h>

#include "kv/store.h"

struct proposals;

/* ev: the store event of an applied write; err: why it failed; both NULL:
 * an entry without a store event (a membership change) was applied. Both
 * are borrowed for the call. */
typedef void (*proposal_done_fn)(void *ctx, struct store_event *ev, const struct store_error *err);

/* Ids start at first_id (never 0). Seed it from the wall clock so ids stay
 * unique across restarts: entries of an earlier run replayed from the log
 * carry this member's old ids and must not complete new requests. */
struct proposals *proposals_new(uint64_t first_id);
/* Frees the table; pending entries are dropped without a call. */
void proposals_free(struct proposals *p);

/* Parks a request until now_ms + timeout_ms. Returns its id (never 0). */
uint64_t proposals_add(struct proposals *p, uint64_t now_ms, uint64_t timeout_ms,
		       proposal_done_fn fn, void *ctx);
/* The requester is gone: forget id without calling it. */
void proposals_cancel(struct proposals *p, uint64_t id);
/* Completes id if it is still pending (calls its fn once, then forgets it). */
void proposals_complete(struct proposals *p, uint64_t id, struct store_event *ev,
			const struct store_error *err);
/* Completes every entry whose deadline passed with err. */
void proposals_expire(struct proposals *p, uint64_t now_ms, const struct store_error *err);
/* Completes every entry with err (e.g. the member stopped). */
void proposals_fail_all(struct proposals *p, const struct store_error *err);
uint64_t proposals_pending(const struct proposals *p);
/* Requests completed with an error by proposals_expire or proposals_fail_all
 * (etcd_server_proposals_failed_total). */
uint64_t proposals_failed(const struct proposals *p);

#endif /* CETCD_PROPOSAL_H */
