/* hash.c - the open-addressing hash table: insertion, backward-shift
 * deletion and resizing (see hash.h; lookup is inline there). */
#include "util/hash.h"

#include <stdlib.h>

#include "util/xalloc.h"

#define HMAP_MIN_CAP	  8u
#define HMAP_SHRINK_ABOVE 64u /* never shrink below this capacity */

void hmap_init(struct hmap *m, size_t hash_offset)
{
	m->slots = NULL;
	m->cap = m->count = 0;
	m->hash_off = (uint32_t)hash_offset;
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

static void place(void **slots, uint32_t cap, uint32_t hash, void *entry)
{
	uint32_t mask = cap - 1;
	uint32_t i = hash & mask;
	while (slots[i] != NULL)
		i = (i + 1) & mask;
	slots[i] = entry;
}

static void resize(struct hmap *m, uint32_t cap)
{
	void **slots = xcalloc(cap, sizeof(*slots));
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->slots[i] != NULL)
			place(slots, cap, hmap_entry_hash(m, m->slots[i]), m->slots[i]);
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
}

void hmap_insert(struct hmap *m, void *entry)
{
	/* keep the load factor <= 3/4 */
	if ((uint64_t)(m->count + 1) * 4 > (uint64_t)m->cap * 3)
		resize(m, m->cap ? m->cap * 2 : HMAP_MIN_CAP);
	place(m->slots, m->cap, hmap_entry_hash(m, entry), entry);
	m->count++;
}

/* Empties slot i and moves later entries of its probe chain back, so every
 * chain stays unbroken without tombstones. */
static void delete_slot(struct hmap *m, uint32_t hole)
{
	uint32_t mask = m->cap - 1;
	for (uint32_t j = (hole + 1) & mask; m->slots[j] != NULL; j = (j + 1) & mask) {
		uint32_t home = hmap_entry_hash(m, m->slots[j]) & mask;
		/* move j into the hole unless its home lies cyclically in (hole, j] */
		bool home_in_between =
			hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!home_in_between) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	m->slots[hole] = NULL;
}

void hmap_remove(struct hmap *m, void *entry)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = hmap_entry_hash(m, entry) & mask;
	while (m->slots[i] != entry)
		i = (i + 1) & mask;
	delete_slot(m, i);
	m->count--;
	if (m->count == 0)
		hmap_free(m);
	else if (m->cap > HMAP_SHRINK_ABOVE && (uint64_t)m->count * 8 < m->cap)
		resize(m, m->cap / 2);
}
