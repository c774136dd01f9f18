/* watch.c - the watcher hub: path -> list of watchers in a hash table
 * (util/hash.h), O(depth) event matching (see watch.h). Pure: no I/O, no clock. */
#include "kv/watch.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/list.h"
#include "util/xalloc.h"

struct wlist;

struct watcher {
	struct wlist *list; /* borrowed; NULL once unlinked */
	struct list link;   /* in list->watchers, then in the hub's zombies */
	uint64_t since;
	watch_fire_fn fire;
	void *ctx;
	bool recursive, stream, dead;
};

/* All watchers registered on one path. */
struct wlist {
	struct list watchers; /* owned, registration order; never empty */
	uint32_t hash;	      /* of path */
	size_t len;
	char path[]; /* NUL-terminated */
};

struct watch_hub {
	struct hmap by_path; /* owned wlists */
	uint64_t count;	     /* registered watchers */
	int delivering;	     /* > 0 while fire callbacks may run */
	struct list zombies; /* unlinked watchers, freed when delivery ends */
};

struct watch_hub *watch_hub_new(void)
{
	struct watch_hub *hub = xcalloc(1, sizeof(*hub));
	hmap_init(&hub->by_path, offsetof(struct wlist, hash));
	list_init(&hub->zombies);
	return hub;
}

/* Frees every watcher on l (linked by link). */
static void free_watchers(struct list *l)
{
	struct watcher *w, *tmp;
	list_for_each_safe(w, tmp, l, link) free(w);
	list_init(l);
}

void watch_hub_free(struct watch_hub *hub)
{
	if (hub == NULL)
		return;
	struct wlist *l;
	uint32_t i = 0;
	while ((l = hmap_next(&hub->by_path, &i)) != NULL) {
		free_watchers(&l->watchers);
		free(l);
	}
	free_watchers(&hub->zombies);
	hmap_free(&hub->by_path);
	free(hub);
}

uint64_t watch_hub_count(const struct watch_hub *hub)
{
	return hub->count;
}

/* ---- path table ------------------------------------------------------------ */

static bool path_eq(const void *entry, const void *path, size_t len)
{
	const struct wlist *l = entry;
	return l->len == len && memcmp(l->path, path, len) == 0;
}

static struct wlist *find_list(const struct watch_hub *hub, const char *path, size_t len)
{
	return hmap_find(&hub->by_path, hmap_hash(path, len), path, len, path_eq);
}

static struct wlist *get_or_add_list(struct watch_hub *hub, const char *path, size_t len)
{
	struct wlist *l = find_list(hub, path, len);
	if (l != NULL)
		return l;
	if (len >= SIZE_MAX - sizeof(*l))
		xalloc_die();
	l = xmalloc(sizeof(*l) + len + 1);
	list_init(&l->watchers);
	l->hash = hmap_hash(path, len);
	l->len = len;
	memcpy(l->path, path, len);
	l->path[len] = '\0';
	hmap_insert(&hub->by_path, l);
	return l;
}

/* ---- registration ---------------------------------------------------------- */

struct watcher *watch_hub_add(struct watch_hub *hub, const char *path, size_t len, bool recursive,
			      bool stream, uint64_t since, watch_fire_fn fire, void *ctx)
{
	struct wlist *l = get_or_add_list(hub, path, len);
	struct watcher *w = xcalloc(1, sizeof(*w));
	w->list = l;
	w->since = since;
	w->fire = fire;
	w->ctx = ctx;
	w->recursive = recursive;
	w->stream = stream;
	list_add_tail(&l->watchers, &w->link);
	hub->count++;
	return w;
}

/* Takes w off its list (dropping the list when it empties) and marks it dead. */
static void unlink_watcher(struct watch_hub *hub, struct watcher *w)
{
	struct wlist *l = w->list;
	list_del(&w->link);
	w->list = NULL;
	w->dead = true;
	hub->count--;
	if (list_empty(&l->watchers)) {
		hmap_remove(&hub->by_path, l);
		free(l);
	}
}

static void release_watcher(struct watch_hub *hub, struct watcher *w)
{
	if (hub->delivering > 0) {
		list_add_tail(&hub->zombies, &w->link);
	} else {
		free(w);
	}
}

void watch_hub_remove(struct watch_hub *hub, struct watcher *w)
{
	if (w == NULL || w->dead)
		return;
	unlink_watcher(hub, w);
	release_watcher(hub, w);
}

/* ---- delivery ---------------------------------------------------------------- */

/* A hidden component ("/_x") lies below the watched path within the key. */
static bool hidden_below(size_t watch_len, const char *key, size_t key_len)
{
	/* for the root watch path "/" the key's first separator counts too */
	size_t from = watch_len == 1 ? 0 : watch_len;
	for (size_t i = from; i + 1 < key_len; i++)
		if (key[i] == '/' && key[i + 1] == '_')
			return true;
	return false;
}

/* Fires the watchers on path that accept ev. original: path is the event's key;
 * removed: the node at path was removed by ev. */
static void deliver(struct watch_hub *hub, struct store_event *ev, const char *path, size_t len,
		    bool original, bool removed)
{
	struct wlist *l = find_list(hub, path, len);
	if (l == NULL)
		return;
	if (!original && !removed && hidden_below(len, ev->key, strlen(ev->key)))
		return;
	/* snapshot the matches: fire callbacks may add or remove watchers */
	struct watcher *stack[16];
	struct watcher **v = stack;
	size_t n = 0, cap = 16;
	struct watcher *cand;
	list_for_each(cand, &l->watchers, link)
	{
		if (!(cand->recursive || original || removed) || ev->index < cand->since)
			continue;
		if (n == cap) {
			cap *= 2;
			if (v == stack) {
				v = xmalloc(cap * sizeof(*v));
				memcpy(v, stack, sizeof(stack));
			} else {
				v = xrealloc(v, cap * sizeof(*v));
			}
		}
		v[n++] = cand;
	}
	hub->delivering++;
	for (size_t i = 0; i < n; i++) {
		struct watcher *w = v[i];
		if (w->dead)
			continue;
		watch_fire_fn fire = w->fire;
		void *ctx = w->ctx;
		if (!w->stream) {
			unlink_watcher(hub, w);
			release_watcher(hub, w);
		}
		fire(ctx, ev);
	}
	hub->delivering--;
	if (hub->delivering == 0)
		free_watchers(&hub->zombies);
	if (v != stack)
		free(v);
}

void watch_hub_notify(struct watch_hub *hub, struct store_event *ev)
{
	if (hub->count == 0)
		return;
	const char *key = ev->key;
	size_t key_len = strlen(key);
	deliver(hub, ev, "/", 1, key_len == 1, false);
	for (size_t i = 1; i <= key_len; i++) {
		if (i == key_len || key[i] == '/')
			if (i > 1)
				deliver(hub, ev, key, i, i == key_len, false);
		if (hub->count == 0)
			return;
	}
}

void watch_hub_notify_removed(struct watch_hub *hub, struct store_event *ev, const char *path,
			      size_t len)
{
	if (hub->count == 0)
		return;
	size_t key_len = strlen(ev->key);
	bool original = len == key_len && memcmp(path, ev->key, len) == 0;
	deliver(hub, ev, path, len, original, true);
}
