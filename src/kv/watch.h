/* watch.h - the live watcher hub, indexed by watched path: an event at /a/b/c
 * checks only the watchers on /, /a, /a/b and /a/b/c (O(depth)).
 * Pure: no I/O, no clock. Loop thread only. */
#ifndef CETCD_WATCH_H
#define CETCD_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/store.h"

struct watch_hub;

struct watch_hub *watch_hub_new(void);
/* Frees the hub and every watcher still registered (none is fired). */
void watch_hub_free(struct watch_hub *hub);

/* Registers a watcher on path[0..len) (copied) for events with index >= since.
 * The hub owns the returned watcher until it fires (one-shot) or is removed. */
struct watcher *watch_hub_add(struct watch_hub *hub, const char *path, size_t len, bool recursive,
			      bool stream, uint64_t since, watch_fire_fn fire, void *ctx);
/* Unregisters and frees w (freeing is deferred while events are being delivered). */
void watch_hub_remove(struct watch_hub *hub, struct watcher *w);
/* Number of registered watchers (the "watchers" stat). */
uint64_t watch_hub_count(const struct watch_hub *hub);

/* Live delivery of ev along its key's ancestors ("/", "/a", ... the key itself):
 * a watcher fires on its exact path, or when recursive unless a hidden "_x"
 * component lies between its path and the key. One-shot watchers are removed
 * before their fire is called. */
void watch_hub_notify(struct watch_hub *hub, struct store_event *ev);
/* ev removed the node at path[0..len) (the target or one of its descendants):
 * every watcher registered exactly there fires with ev (etcd's ancestor rule). */
void watch_hub_notify_removed(struct watch_hub *hub, struct store_event *ev, const char *path,
			      size_t len);

#endif /* CETCD_WATCH_H */
