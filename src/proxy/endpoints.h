/* endpoints.h - the proxy's view of the cluster's client endpoints: which
 * client URLs there are (shuffled, as etcd's proxy shuffles them), which are
 * available (a transport error holds one out for the failure wait), which
 * member leads, and which endpoint a read or a write should try next.
 *
 * Pure: no I/O and no clock; the time (monotonic ms) arrives as an argument.
 * Loop thread only.
 *
 * Endpoints are reference counted: a request holds the endpoint it was sent
 * to (endpoints_pick) until endpoint_release, so a refresh that drops the
 * URL meanwhile frees it only after the last request let go. */
#ifndef CETCD_PROXY_ENDPOINTS_H
#define CETCD_PROXY_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct endpoint {
	char *url;		  /* owned: client URL without a trailing '/' */
	uint64_t member_id;	  /* 0: not known */
	bool leader;		  /* the member behind it leads, as last seen */
	uint64_t failed_until_ms; /* unavailable until then; 0: available */
	unsigned inflight;	  /* requests holding it (endpoints_pick) */
	unsigned refs;		  /* the list's own reference + inflight */
	bool removed;		  /* dropped from the list by a refresh */
};

struct endpoints {
	struct endpoint **v; /* owned, in the (shuffled) order of the last set */
	size_t n;
	uint64_t failure_wait_ms;
	uint64_t rng;	   /* state of the shuffle's generator */
	size_t next_start; /* where the next pick starts looking (spreads reads) */
};

/* The kind of request a pick is for. */
enum endpoint_purpose {
	EP_READ,  /* any available endpoint, the least busy first */
	EP_WRITE, /* the leader's endpoint when it is available, else as a read */
};

void endpoints_init(struct endpoints *e, uint64_t failure_wait_ms, uint64_t seed);
/* Releases the list's references (endpoints still held by requests live on
 * until endpoint_release). */
void endpoints_free(struct endpoints *e);

/* Replaces the list with urls (ids[i] is urls[i]'s member id, 0 if not
 * known; ids may be NULL), in a shuffled order. An URL already in the list
 * keeps its endpoint and its state (failure, leader, inflight); duplicates
 * are dropped. Returns true if the set of URLs changed. */
bool endpoints_set(struct endpoints *e, char *const *urls, const uint64_t *ids, size_t n);

/* The endpoint a request should try, holding a reference (inflight + 1), or
 * NULL if no available endpoint is left that is not in tried[0..n_tried). */
struct endpoint *endpoints_pick(struct endpoints *e, uint64_t now_ms, enum endpoint_purpose p,
				struct endpoint *const *tried, size_t n_tried);
/* Lets go of a picked endpoint (inflight - 1; frees a removed one at 0). */
void endpoint_release(struct endpoint *ep);

/* A transport error: ep is unavailable for the failure wait from now. */
void endpoints_fail(struct endpoints *e, struct endpoint *ep, uint64_t now_ms);
/* A health probe got an answer: ep is available again at once. */
void endpoints_ok(struct endpoints *e, struct endpoint *ep);
/* The member with this id leads (0: no leader known). */
void endpoints_set_leader(struct endpoints *e, uint64_t leader_id);

bool endpoint_available(const struct endpoint *ep, uint64_t now_ms);
size_t endpoints_available(const struct endpoints *e, uint64_t now_ms);
/* The endpoint with this URL, or NULL. */
struct endpoint *endpoints_find(const struct endpoints *e, const char *url);

#endif /* CETCD_PROXY_ENDPOINTS_H */
