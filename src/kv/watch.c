/* watch.c - the watcher hub: path -> list of watchers in an open-addressing hash
 * table, O(depth) event matching (see watch.h). Pure: no I/O, no clock. */
#include "kv/watch.h"

#include <stdlib.h>
#include <string.h>

#include "kv/store_node.h"

struct wlist;

struct watcher {
	struct wlist *list;		/* borrowed; NULL once unlinked */
	struct watcher *prev, *next;
	struct watcher *zombie_next;	/* pending free while delivering */
	uint64_t since;
	watch_fire_fn fire;
	void *ctx;
	bool recursive, stream, dead;
};

/* All watchers registered on one path. */
struct wlist {
	char *path;			/* owned */
	size_t len;
	uint32_t hash;
	struct watcher *head, *tail;	/* owned */
};

struct watch_hub {
	struct wlist **slots;		/* owned lists, open addressing, linear probing */
	uint32_t cap, nlists;
	uint64_t count;			/* registered watchers */
	int delivering;			/* > 0 while fire callbacks may run */
	struct watcher *zombies;	/* unlinked, freed when delivery ends */
};

static uint32_t path_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

struct watch_hub *watch_hub_new(void)
{
	return kv_xcalloc(1, sizeof(struct watch_hub));
}

static void wlist_free(struct wlist *l)
{
	struct watcher *w = l->head;
	while (w) {
		struct watcher *next = w->next;
		free(w);
		w = next;
	}
	free(l->path);
	free(l);
}

static void free_zombies(struct watch_hub *hub)
{
	while (hub->zombies) {
		struct watcher *w = hub->zombies;
		hub->zombies = w->zombie_next;
		free(w);
	}
}

void watch_hub_free(struct watch_hub *hub)
{
	if (hub == NULL)
		return;
	for (uint32_t i = 0; i < hub->cap; i++)
		if (hub->slots[i])
			wlist_free(hub->slots[i]);
	free_zombies(hub);
	free(hub->slots);
	free(hub);
}

uint64_t watch_hub_count(const struct watch_hub *hub)
{
	return hub->count;
}

/* ---- path table ------------------------------------------------------------ */

static struct wlist *table_find(const struct watch_hub *hub, const char *path, size_t len)
{
	if (hub->nlists == 0)
		return NULL;
	uint32_t h = path_hash(path, len);
	uint32_t mask = hub->cap - 1;
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		struct wlist *l = hub->slots[i];
		if (l == NULL)
			return NULL;
		if (l->hash == h && l->len == len && memcmp(l->path, path, len) == 0)
			return l;
	}
}

static void table_place(struct wlist **slots, uint32_t cap, struct wlist *l)
{
	uint32_t i = l->hash & (cap - 1);
	while (slots[i] != NULL)
		i = (i + 1) & (cap - 1);
	slots[i] = l;
}

static void table_grow(struct watch_hub *hub)
{
	uint32_t cap = hub->cap ? hub->cap * 2 : 16;
	struct wlist **slots = kv_xcalloc(cap, sizeof(*slots));
	for (uint32_t i = 0; i < hub->cap; i++)
		if (hub->slots[i])
			table_place(slots, cap, hub->slots[i]);
	free(hub->slots);
	hub->slots = slots;
	hub->cap = cap;
}

static struct wlist *table_get_or_add(struct watch_hub *hub, const char *path, size_t len)
{
	struct wlist *l = table_find(hub, path, len);
	if (l != NULL)
		return l;
	if ((uint64_t)(hub->nlists + 1) * 4 > (uint64_t)hub->cap * 3)
		table_grow(hub);
	l = kv_xcalloc(1, sizeof(*l));
	l->path = kv_xstrndup(path, len);
	l->len = len;
	l->hash = path_hash(path, len);
	table_place(hub->slots, hub->cap, l);
	hub->nlists++;
	return l;
}

/* Backward-shift deletion of an (empty) list. */
static void table_delete(struct watch_hub *hub, struct wlist *l)
{
	uint32_t mask = hub->cap - 1;
	uint32_t hole = l->hash & mask;
	while (hub->slots[hole] != l)
		hole = (hole + 1) & mask;
	for (uint32_t j = (hole + 1) & mask; hub->slots[j] != NULL; j = (j + 1) & mask) {
		uint32_t home = hub->slots[j]->hash & mask;
		bool home_in_between = hole <= j ? (home > hole && home <= j)
						 : (home > hole || home <= j);
		if (!home_in_between) {
			hub->slots[hole] = hub->slots[j];
			hole = j;
		}
	}
	hub->slots[hole] = NULL;
	hub->nlists--;
	free(l->path);
	free(l);
}

/* ---- registration ---------------------------------------------------------- */

struct watcher *watch_hub_add(struct watch_hub *hub, const char *path, size_t len,
			      bool recursive, bool stream, uint64_t since,
			      watch_fire_fn fire, void *ctx)
{
	struct wlist *l = table_get_or_add(hub, path, len);
	struct watcher *w = kv_xcalloc(1, sizeof(*w));
	w->list = l;
	w->since = since;
	w->fire = fire;
	w->ctx = ctx;
	w->recursive = recursive;
	w->stream = stream;
	w->prev = l->tail;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
	hub->count++;
	return w;
}

/* Takes w off its list (dropping the list when it empties) and marks it dead. */
static void unlink_watcher(struct watch_hub *hub, struct watcher *w)
{
	struct wlist *l = w->list;
	if (w->prev)
		w->prev->next = w->next;
	else
		l->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		l->tail = w->prev;
	w->list = NULL;
	w->prev = w->next = NULL;
	w->dead = true;
	hub->count--;
	if (l->head == NULL)
		table_delete(hub, l);
}

static void release_watcher(struct watch_hub *hub, struct watcher *w)
{
	if (hub->delivering > 0) {
		w->zombie_next = hub->zombies;
		hub->zombies = w;
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
static void deliver(struct watch_hub *hub, struct store_event *ev, const char *path,
		    size_t len, bool original, bool removed)
{
	struct wlist *l = table_find(hub, path, len);
	if (l == NULL)
		return;
	if (!original && !removed && hidden_below(len, ev->key, strlen(ev->key)))
		return;
	/* snapshot the matches: fire callbacks may add or remove watchers */
	struct watcher *stack[16];
	struct watcher **v = stack;
	size_t n = 0, cap = 16;
	for (struct watcher *w = l->head; w != NULL; w = w->next) {
		if (!(w->recursive || original || removed) || ev->index < w->since)
			continue;
		if (n == cap) {
			cap *= 2;
			if (v == stack) {
				v = kv_xmalloc(cap * sizeof(*v));
				memcpy(v, stack, sizeof(stack));
			} else {
				v = kv_xrealloc(v, cap * sizeof(*v));
			}
		}
		v[n++] = w;
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
		free_zombies(hub);
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

void watch_hub_notify_removed(struct watch_hub *hub, struct store_event *ev,
			      const char *path, size_t len)
{
	if (hub->count == 0)
		return;
	size_t key_len = strlen(ev->key);
	bool original = len == key_len && memcmp(path, ev->key, len) == 0;
	deliver(hub, ev, path, len, original, true);
}
