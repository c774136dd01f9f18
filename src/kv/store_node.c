/* store_node.c - the v2 key tree: node allocation, directory hash tables, path
 * walking (see store_node.h). Pure: no I/O, no clock. */
#include "kv/store_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char node_empty_value[1];

static void out_of_memory(void)
{
	fputs("cetcd: out of memory\n", stderr);
	abort();
}

void *kv_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

void *kv_xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

void *kv_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		out_of_memory();
	return q;
}

char *kv_xstrndup(const char *s, size_t n)
{
	char *p = kv_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* FNV-1a, 32 bit. */
static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

_Static_assert(sizeof(struct snode) == 72, "struct snode grew");

static char *value_copy(const char *value, size_t len)
{
	if (value == NULL || len == 0)
		return node_empty_value;
	if (len > NODE_MAX_VALUE)
		out_of_memory();
	return kv_xstrndup(value, len);
}

void node_value_free(char *value)
{
	if (value != node_empty_value)
		free(value);
}

static struct snode *node_alloc(const char *name, size_t name_len, uint64_t index)
{
	if (name_len >= NODE_MAX_NAME)
		out_of_memory();
	struct snode *n = kv_xmalloc(sizeof(*n) + name_len + 1);
	n->parent = n->prev = n->next = NULL;
	n->created_index = n->modified_index = index;
	n->expire_ns = 0;
	n->heap_pos = NODE_NO_TTL;
	n->hash = name_hash(name, name_len);
	n->value_len = 0;
	n->name_len = (uint32_t)name_len;
	n->is_dir = false;
	memcpy(n->name, name, name_len);
	n->name[name_len] = '\0';
	return n;
}

struct snode *node_new_file(const char *name, size_t name_len, const char *value,
			    size_t value_len, uint64_t index)
{
	struct snode *n = node_alloc(name, name_len, index);
	n->u.value = value_copy(value, value_len);
	n->value_len = n->u.value == node_empty_value ? 0 : (uint32_t)value_len;
	return n;
}

struct snode *node_new_dir(const char *name, size_t name_len, uint64_t index)
{
	struct snode *n = node_alloc(name, name_len, index);
	n->is_dir = true;
	n->u.dir = kv_xcalloc(1, sizeof(struct sdir));
	return n;
}

char *node_swap_value(struct snode *file, const char *value, size_t value_len)
{
	char *old = file->u.value;
	file->u.value = value_copy(value, value_len);
	file->value_len = file->u.value == node_empty_value ? 0 : (uint32_t)value_len;
	return old;
}

static void node_free_one(struct snode *n)
{
	if (n->is_dir) {
		free(n->u.dir->slots);
		free(n->u.dir);
	} else {
		node_value_free(n->u.value);
	}
	free(n);
}

/* Iterative (no recursion, so a very deep tree cannot exhaust the stack):
 * descend to a leaf, free it, and unlink it from its parent's list so the
 * parent becomes a leaf once its last child is gone. */
void node_free_tree(struct snode *n)
{
	struct snode *cur = n;
	for (;;) {
		if (cur->is_dir && cur->u.dir->head != NULL) {
			cur = cur->u.dir->head;
			continue;
		}
		if (cur == n) {
			node_free_one(cur);
			return;
		}
		struct snode *parent = cur->parent, *next = cur->next;
		parent->u.dir->head = next;
		node_free_one(cur);
		cur = next != NULL ? next : parent;
	}
}

/* ---- directory hash table ---------------------------------------------- */

static void table_insert_slot(struct sdir *d, struct snode *child)
{
	uint32_t mask = d->cap - 1;
	uint32_t i = child->hash & mask;
	while (d->slots[i] != NULL)
		i = (i + 1) & mask;
	d->slots[i] = child;
}

static void table_resize(struct sdir *d, uint32_t cap)
{
	free(d->slots);
	d->slots = kv_xcalloc(cap, sizeof(*d->slots));
	d->cap = cap;
	for (struct snode *c = d->head; c != NULL; c = c->next)
		table_insert_slot(d, c);
}

struct snode *dir_find(const struct snode *dir, const char *name, size_t len)
{
	const struct sdir *d = dir->u.dir;
	if (d->count == 0)
		return NULL;
	uint32_t h = name_hash(name, len);
	uint32_t mask = d->cap - 1;
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		struct snode *c = d->slots[i];
		if (c == NULL)
			return NULL;
		if (c->hash == h && c->name_len == len && memcmp(c->name, name, len) == 0)
			return c;
	}
}

void dir_add(struct snode *dir, struct snode *child)
{
	struct sdir *d = dir->u.dir;
	child->parent = dir;
	child->next = NULL;
	child->prev = d->tail;
	if (d->tail)
		d->tail->next = child;
	else
		d->head = child;
	d->tail = child;
	d->count++;
	/* keep the load factor <= 3/4 */
	if ((uint64_t)d->count * 4 > (uint64_t)d->cap * 3)
		table_resize(d, d->cap ? d->cap * 2 : 8);
	else
		table_insert_slot(d, child);
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void table_delete(struct sdir *d, struct snode *child)
{
	uint32_t mask = d->cap - 1;
	uint32_t i = child->hash & mask;
	while (d->slots[i] != child)
		i = (i + 1) & mask;
	uint32_t hole = i;
	for (uint32_t j = (hole + 1) & mask; d->slots[j] != NULL; j = (j + 1) & mask) {
		uint32_t home = d->slots[j]->hash & mask;
		/* move j into the hole unless its home lies cyclically in (hole, j] */
		bool home_in_between = hole <= j ? (home > hole && home <= j)
						 : (home > hole || home <= j);
		if (!home_in_between) {
			d->slots[hole] = d->slots[j];
			hole = j;
		}
	}
	d->slots[hole] = NULL;
}

void dir_remove(struct snode *child)
{
	struct sdir *d = child->parent->u.dir;
	table_delete(d, child);
	if (child->prev)
		child->prev->next = child->next;
	else
		d->head = child->next;
	if (child->next)
		child->next->prev = child->prev;
	else
		d->tail = child->prev;
	d->count--;
	child->parent = child->prev = child->next = NULL;
	if (d->count == 0) {
		free(d->slots);
		d->slots = NULL;
		d->cap = 0;
	} else if (d->cap > 64 && (uint64_t)d->count * 8 < d->cap) {
		table_resize(d, d->cap / 2);
	}
}

/* ---- walking ------------------------------------------------------------ */

void node_walk(struct snode *root, const char *path, size_t len, struct walk_result *out)
{
	struct snode *cur = root;
	size_t i = 0;
	for (;;) {
		while (i < len && path[i] == '/')
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && path[i] != '/')
			i++;
		if (!cur->is_dir) {
			out->status = WALK_NOT_DIR;
			out->node = cur;
			out->miss_start = 0;
			/* the file's path ends just before the separator preceding start */
			size_t end = start;
			while (end > 0 && path[end - 1] == '/')
				end--;
			out->miss_end = end;
			return;
		}
		struct snode *child = dir_find(cur, path + start, i - start);
		if (child == NULL) {
			out->status = WALK_MISSING;
			out->node = cur;
			out->miss_start = start;
			out->miss_end = i;
			return;
		}
		cur = child;
	}
	out->status = WALK_FOUND;
	out->node = cur;
	out->miss_start = out->miss_end = len;
}
