/* store.h - the etcd v2 key tree, its event history and its watchers.
 * PURE and deterministic: no I/O, no clock reads, no threads. Time comes in as
 * an argument (for writes: the time stamped into the log entry), so every member
 * that applies the same log builds the same tree at the same index.
 * Loop thread only. */
#ifndef CETCD_STORE_H
#define CETCD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/buf.h"

struct store;
struct store_write;

/* ---- events ------------------------------------------------------------ */

enum store_action {
	ACT_GET,
	ACT_SET,
	ACT_CREATE,
	ACT_UPDATE,
	ACT_CAS, /* "compareAndSwap" */
	ACT_DELETE,
	ACT_CAD, /* "compareAndDelete" */
	ACT_EXPIRE,
};

/* The etcd action string ("set", "compareAndSwap", ...). */
const char *store_action_name(enum store_action a);

/* One change to the tree. Immutable once made and reference counted: the
 * history ring, each watcher it is delivered to and the write's reply each hold
 * a reference. */
struct store_event {
	int refs;
	uint64_t index; /* the etcd index the change produced */
	enum store_action action;
	bool dir;      /* node is a directory */
	bool refresh;  /* TTL refresh: in history, never sent to live watchers */
	bool has_prev; /* body carries a prevNode (set answers 200, else 201) */
	char *key;     /* node key, "/a/b" */
	char *json;    /* the whole reply body: {"action":..,"node":..,"prevNode":..}\n */
	size_t json_len;
};

struct store_event *store_event_ref(struct store_event *ev);
void store_event_unref(struct store_event *ev); /* NULL is fine */

/* ---- errors ------------------------------------------------------------ */

/* A v2 store error: errorCode (100 Key not found, 101, 102, 104, 105, 107, 108,
 * 401, ...), the cause text exactly as etcd writes it, and the store index at
 * the time of the failure. The HTTP layer turns it into etcd's JSON body. */
struct store_error {
	int code;
	char *cause;	  /* owned; NULL when etcd omits the cause. NUL-terminated,
				 * but a compare failure quotes values, which may hold
				 * NULs: render cause_len bytes */
	size_t cause_len; /* bytes of cause */
	uint64_t index;
};
void store_error_clear(struct store_error *err); /* frees cause, zeroes */

/* ---- lifecycle --------------------------------------------------------- */

struct store *store_new(void);
/* The same with an event history of window events (0: etcd's 1000). */
struct store *store_new_window(size_t window);
void store_free(struct store *s);

/* ---- size accounting (--v2-quota-bytes) -------------------------------- */

/* The store's accounted size: for every node of the tree (the root included)
 * SNODE_ACCOUNT_OVERHEAD + name + 1 + value bytes. A function of the tree
 * only, so every member that applied the same log has the same figure. The
 * event history is not counted (it is bounded by its window). */
uint64_t store_bytes(const struct store *s);
/* How much w would change store_bytes if it were applied now: > 0 for a
 * write that adds data (a new key, its missing parent directories, a longer
 * value), <= 0 for a delete, a refresh, a shorter or equal value, or a write
 * that will fail. */
int64_t store_write_growth(const struct store *s, const struct store_write *w);

/* Current etcd index (X-Etcd-Index). */
uint64_t store_index(const struct store *s);

/* ---- reads ------------------------------------------------------------- */

/* GET: renders {"action":"get","node":{...}}\n into out (appending). now_ns is
 * the serving member's wall clock, used only to print "ttl" (ceil of the time
 * left, omitted when <= 0). Hidden children ("_x") are left out of listings;
 * sorted sorts children by key at every level. Counts getsSuccess/getsFail.
 * Returns 0, or -1 with *err filled (100 Key not found, 104 Not a directory). */
int store_get(struct store *s, const char *path, bool recursive, bool sorted, int64_t now_ns,
	      struct buf *out, struct store_error *err);

/* ---- writes (only ever called from apply, in log order) ---------------- */

enum store_op {
	OP_SET,	   /* PUT, plain (replace) */
	OP_CREATE, /* PUT prevExist=false, or POST (unique=true) */
	OP_UPDATE, /* PUT prevExist=true without prevValue/prevIndex */
	OP_CAS,	   /* PUT with prevValue and/or prevIndex */
	OP_DELETE,
	OP_CAD, /* DELETE with prevValue and/or prevIndex */
};

/* Values are byte strings (etcd's are Go strings: NUL is an ordinary byte).
 * value_len / prev_value_len give their length; a length of 0 with a non-NULL
 * pointer means "use strlen" (so C-string callers may leave it unset; a
 * zero-length value is "" either way). Read them with store_write_value_len /
 * store_write_prev_value_len. */
struct store_write {
	enum store_op op;
	const char *path;  /* cleaned absolute path: "/a/b", "/" for the root */
	const char *value; /* NULL = not given (treated as "") */
	size_t value_len;  /* bytes of value (see above) */
	bool dir;
	bool unique;		/* POST: create <path>/<%020d index> */
	bool recursive;		/* DELETE */
	bool refresh;		/* TTL refresh: keep value, do not wake live watchers */
	bool has_ttl;		/* false: no TTL (a permanent node; clears on update/CAS) */
	uint64_t ttl;		/* seconds from now_ns */
	const char *prev_value; /* NULL = not given ("" also counts as not given) */
	size_t prev_value_len;	/* bytes of prev_value (see above) */
	uint64_t prev_index;	/* 0 = not given */
};

static inline size_t store_write_value_len(const struct store_write *w)
{
	return w->value == NULL ? 0 : w->value_len ? w->value_len : strlen(w->value);
}

static inline size_t store_write_prev_value_len(const struct store_write *w)
{
	return w->prev_value == NULL ? 0 :
	       w->prev_value_len     ? w->prev_value_len :
				       strlen(w->prev_value);
}

/* Applies one write at time now_ns (the log entry's time). On success returns 0
 * and *ev_out holds a reference the caller must unref. On failure returns -1
 * with *err filled and nothing changed. Counts the store stats, appends the
 * event to the history ring and wakes matching watchers (except refreshes). */
int store_write(struct store *s, const struct store_write *w, int64_t now_ns,
		struct store_event **ev_out, struct store_error *err);

/* Removes every node whose expiration <= now_ns (the log entry's time), in
 * expiration order, each as its own "expire" event with its own index; wakes
 * watchers. Returns the number of nodes expired. */
size_t store_expire(struct store *s, int64_t now_ns);

/* Earliest expiration time (unix ns) of any node, or INT64_MAX when none. */
int64_t store_next_expiry(const struct store *s);

/* ---- watches ----------------------------------------------------------- */

struct watcher;

/* Called when a watcher fires. ev is borrowed: take a reference to keep it.
 * For a one-shot watcher the hub has already removed it: the handle is dead
 * when fire is called and must not be passed to store_unwatch. */
typedef void (*watch_fire_fn)(void *ctx, struct store_event *ev);

/* Registers a watch on path for events with index >= since_index (0 means
 * current index + 1). Scan of the history and registration are one step:
 *  - since_index older than the 1000-event window: returns -1, *err = 401;
 *  - a matching event in history: returns 0, *found = reference to it,
 *    *w_out = NULL (nothing registered) unless stream (then both are set and
 *    later events are delivered through fire);
 *  - otherwise: returns 0, *found = NULL, *w_out = the live watcher.
 * Matching follows etcd: exact key, or below it when recursive (not through a
 * hidden "_x" component, for live events), or a delete/expire of an ancestor
 * directory (the ancestor's event is delivered). */
int store_watch(struct store *s, const char *path, bool recursive, bool stream,
		uint64_t since_index, watch_fire_fn fire, void *ctx, struct watcher **w_out,
		struct store_event **found, struct store_error *err);

/* Removes a live watcher (client went away, or a stream watcher closed). */
void store_unwatch(struct store *s, struct watcher *w);

/* Notes on delivery (src/watch.c):
 *  - fire runs inside store_write/store_expire. It may call store_get,
 *    store_watch, store_unwatch (any live watcher, even one due to fire later
 *    for the same event), store_index and store_get_stats; never store_write
 *    or store_expire.
 *  - A stream watcher returned together with a history hit (*found) receives
 *    the live events after the store index at registration (history matches
 *    between found->index and that index are not replayed; etcd 3.4 does not
 *    register the stream at all in that case).
 *  - Like etcd 3.4, a delete/expire/compareAndDelete fires twice for a stream
 *    watcher registered on the removed key itself (once as "removed node",
 *    once as the event's key); one-shot watchers fire once. */

/* ---- stats ------------------------------------------------------------- */

struct store_stats {
	uint64_t gets_success, gets_fail;
	uint64_t sets_success, sets_fail;
	uint64_t delete_success, delete_fail;
	uint64_t update_success, update_fail;
	uint64_t create_success, create_fail;
	uint64_t cas_success, cas_fail;
	uint64_t cad_success, cad_fail;
	uint64_t expire_count;
	uint64_t watchers;
	/* for /metrics only (not in /v2/stats/store) */
	uint64_t gets_recursive, gets_recursive_fail; /* of the gets above */
	uint64_t watch_requests;		      /* store_watch calls */
};
void store_get_stats(const struct store *s, struct store_stats *out);

#endif /* CETCD_STORE_H */
