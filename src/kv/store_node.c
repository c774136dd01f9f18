/* store_node.c - the v2 key tree: node allocation, directories (util/hash.h
 * by name, util/list.h in insertion order), path walking (see store_node.h).
 * Pure: no I/O, no clock. */
#include "kv/store_node.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

char snode_empty_value[1];

_Static_assert(sizeof(struct snode) == 72, "struct snode grew");

static char *value_copy(const char *value, size_t len)
{
	if (value == NULL || len == 0)
		return snode_empty_value;
	if (len > SNODE_MAX_VALUE)
		xalloc_die();
	return xstrndup(value, len);
}

void snode_value_free(char *value)
{
	if (value != snode_empty_value)
		free(value);
}

static struct snode *snode_alloc(const char *name, size_t name_len, uint64_t index)
{
	if (name_len >= SNODE_MAX_NAME)
		xalloc_die();
	struct snode *n = xmalloc(sizeof(*n) + name_len + 1);
	n->parent = NULL;
	list_init(&n->sibling);
	n->created_index = n->modified_index = index;
	n->expire_ns = 0;
	n->heap_pos = SNODE_NO_TTL;
	n->hash = hmap_hash(name, name_len);
	n->value_len = 0;
	n->name_len = (uint32_t)name_len;
	n->is_dir = false;
	memcpy(n->name, name, name_len);
	n->name[name_len] = '\0';
	return n;
}

struct snode *snode_new_file(const char *name, size_t name_len, const char *value, size_t value_len,
			     uint64_t index)
{
	struct snode *n = snode_alloc(name, name_len, index);
	n->u.value = value_copy(value, value_len);
	n->value_len = n->u.value == snode_empty_value ? 0 : (uint32_t)value_len;
	return n;
}

struct snode *snode_new_dir(const char *name, size_t name_len, uint64_t index)
{
	struct snode *n = snode_alloc(name, name_len, index);
	n->is_dir = true;
	n->u.dir = xmalloc(sizeof(struct sdir));
	hmap_init(&n->u.dir->by_name, offsetof(struct snode, hash));
	list_init(&n->u.dir->children);
	return n;
}

char *snode_swap_value(struct snode *file, const char *value, size_t value_len)
{
	char *old = file->u.value;
	file->u.value = value_copy(value, value_len);
	file->value_len = file->u.value == snode_empty_value ? 0 : (uint32_t)value_len;
	return old;
}

static void snode_free_one(struct snode *n)
{
	if (n->is_dir) {
		hmap_free(&n->u.dir->by_name);
		free(n->u.dir);
	} else {
		snode_value_free(n->u.value);
	}
	free(n);
}

/* Iterative (no recursion, so a very deep tree cannot exhaust the stack):
 * descend to a leaf, free it, and unlink it from its parent's list so the
 * parent becomes a leaf once its last child is gone. */
void snode_free_tree(struct snode *n)
{
	struct snode *cur = n;
	for (;;) {
		struct snode *child = cur->is_dir ? dir_first(cur) : NULL;
		if (child != NULL) {
			cur = child;
			continue;
		}
		if (cur == n) {
			snode_free_one(cur);
			return;
		}
		struct snode *parent = cur->parent, *next = dir_next(cur);
		list_del(&cur->sibling);
		snode_free_one(cur);
		cur = next != NULL ? next : parent;
	}
}

uint64_t snode_tree_bytes(const struct snode *n)
{
	/* iterative, like snode_free_tree */
	uint64_t total = 0;
	const struct snode *cur = n;
	for (;;) {
		total += snode_account(cur->name_len, cur->is_dir ? 0 : cur->value_len);
		const struct snode *child = cur->is_dir ? dir_first(cur) : NULL;
		if (child != NULL) {
			cur = child;
			continue;
		}
		for (;;) {
			if (cur == n)
				return total;
			const struct snode *next = dir_next(cur);
			if (next != NULL) {
				cur = next;
				break;
			}
			cur = cur->parent;
		}
	}
}

/* ---- directories -------------------------------------------------------- */

static bool name_eq(const void *entry, const void *name, size_t len)
{
	const struct snode *c = entry;
	return c->name_len == len && memcmp(c->name, name, len) == 0;
}

struct snode *dir_find(const struct snode *dir, const char *name, size_t len)
{
	return hmap_find(&dir->u.dir->by_name, hmap_hash(name, len), name, len, name_eq);
}

void dir_add(struct snode *dir, struct snode *child)
{
	child->parent = dir;
	list_add_tail(&dir->u.dir->children, &child->sibling);
	hmap_insert(&dir->u.dir->by_name, child);
}

void dir_remove(struct snode *child)
{
	hmap_remove(&child->parent->u.dir->by_name, child);
	list_del(&child->sibling);
	child->parent = NULL;
}

/* ---- walking ------------------------------------------------------------ */

void snode_walk(struct snode *root, const char *path, size_t len, struct walk_result *out)
{
	struct snode *cur = root;
	size_t i = 0, start;
	while (path_next(path, len, &i, &start)) {
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
