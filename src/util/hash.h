/* hash.h - one open-addressing hash table of borrowed entries (linear
 * probing, backward-shift deletion, no tombstones), used for a directory's
 * children by name and the watcher hub's lists by path.
 * An entry is any struct that keeps its own 32-bit hash (hmap_hash of its
 * key) at a fixed offset, given to hmap_init; the table stores only entry
 * pointers, so it costs one pointer per slot and a lookup allocates nothing.
 * The slot array grows at 3/4 load, shrinks at 1/8 and is freed when the
 * table empties. Pure; out-of-memory aborts. */
#ifndef CETCD_HASH_H
#define CETCD_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap {
	void **slots; /* owned array; entries borrowed, NULL = empty slot */
	uint32_t cap; /* power of two, or 0 */
	uint32_t count;
	uint32_t hash_off; /* offset of the entry's uint32_t hash */
};

/* FNV-1a, 32 bit. */
static inline uint32_t hmap_hash(const void *key, size_t len)
{
	const unsigned char *s = key;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 16777619u;
	}
	return h;
}

/* An empty table of entries whose hash is at hash_offset (offsetof). */
void hmap_init(struct hmap *m, size_t hash_offset);
/* Frees the slot array (not the entries); m is empty again. */
void hmap_free(struct hmap *m);

static inline uint32_t hmap_entry_hash(const struct hmap *m, const void *entry)
{
	return *(const uint32_t *)(const void *)((const char *)entry + m->hash_off);
}

/* Tells whether entry's key is key[0..len); called only when hashes match. */
typedef bool hmap_eq_fn(const void *entry, const void *key, size_t len);

/* The entry with key[0..len) (hash = hmap_hash(key, len)), or NULL.
 * Inline so that a constant eq is inlined too (the lookup is a hot path). */
static inline void *hmap_find(const struct hmap *m, uint32_t hash, const void *key, size_t len,
			      hmap_eq_fn *eq)
{
	if (m->count == 0)
		return NULL;
	uint32_t mask = m->cap - 1;
	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		void *e = m->slots[i];
		if (e == NULL)
			return NULL;
		if (hmap_entry_hash(m, e) == hash && eq(e, key, len))
			return e;
	}
}

/* Adds entry (its hash set, its key absent from m). */
void hmap_insert(struct hmap *m, void *entry);
/* Removes entry, which must be in m. */
void hmap_remove(struct hmap *m, void *entry);

/* Visits every entry in slot order, for freeing or listing (the table must
 * not change meanwhile):
 *	uint32_t i = 0; while ((e = hmap_next(m, &i)) != NULL) ... */
static inline void *hmap_next(const struct hmap *m, uint32_t *i)
{
	while (*i < m->cap) {
		void *e = m->slots[(*i)++];
		if (e != NULL)
			return e;
	}
	return NULL;
}

#endif /* CETCD_HASH_H */
