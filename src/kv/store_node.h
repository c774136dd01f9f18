/* store_node.h - the v2 key tree: nodes, directories (hash table + insertion-ordered
 * sibling list), path walking and hidden-name rules.
 * Pure: no I/O, no clock. Allocation failure aborts (util/xalloc.h). */
#ifndef CETCD_STORE_NODE_H
#define CETCD_STORE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/hash.h"
#include "util/list.h"

#define SNODE_NO_TTL UINT32_MAX /* heap_pos of a permanent node */

struct sdir;

/* One key or directory. Owned by its parent directory (the root by the store).
 * The name is stored inline; the full key is never stored (it is rebuilt while
 * walking, which keeps a key's memory at name + value + ~72 bytes). */
struct snode {
	struct snode *parent; /* borrowed; NULL for the root */
	struct list sibling;  /* in the parent's children, insertion order */
	union {
		char *value;	  /* file: owned, value_len bytes (may hold NULs) plus a
					 * terminating NUL; "" is snode_empty_value */
		struct sdir *dir; /* dir: owned children table */
	} u;
	uint64_t created_index;
	uint64_t modified_index;
	int64_t expire_ns;	/* absolute unix ns; valid when heap_pos != SNODE_NO_TTL */
	uint32_t heap_pos;	/* index in the TTL heap, SNODE_NO_TTL when permanent */
	uint32_t hash;		/* hash of name */
	uint32_t value_len;	/* file: bytes in u.value (0 for dirs) */
	uint32_t name_len : 31; /* < SNODE_MAX_NAME */
	uint32_t is_dir : 1;	/* (a bit field keeps the node at 72 bytes) */
	char name[];		/* component name, NUL-terminated ("" for the root) */
};

#define SNODE_MAX_NAME	(1u << 31) /* names are shorter (aborts otherwise) */
#define SNODE_MAX_VALUE UINT32_MAX /* values are at most this long (aborts otherwise) */

/* Children of a directory: a hash table by name for O(1) lookup plus a list
 * in insertion order for listing. */
struct sdir {
	struct hmap by_name;  /* entries borrowed from children */
	struct list children; /* owned snodes, linked by sibling */
};

static inline bool snode_has_ttl(const struct snode *n)
{
	return n->heap_pos != SNODE_NO_TTL;
}

/* A hidden component starts with '_'. */
static inline bool snode_is_hidden(const struct snode *n)
{
	return n->name_len > 0 && n->name[0] == '_';
}

/* The shared "" value (never freed). */
extern char snode_empty_value[1];

/* New detached nodes. value[0..value_len) is copied (NULL or 0 bytes = "").
 * Indexes set to index. */
struct snode *snode_new_file(const char *name, size_t name_len, const char *value, size_t value_len,
			     uint64_t index);
struct snode *snode_new_dir(const char *name, size_t name_len, uint64_t index);

/* Replaces a file's value with a copy of value[0..value_len) (NULL = "");
 * returns the old value for the caller to release with snode_value_free. */
char *snode_swap_value(struct snode *file, const char *value, size_t value_len);
void snode_value_free(char *value);

/* Frees n and its whole subtree. n must already be detached. */
void snode_free_tree(struct snode *n);

/* Child lookup by name; NULL when absent. dir must be a directory. */
struct snode *dir_find(const struct snode *dir, const char *name, size_t len);
/* Adds a detached child (name must be absent); sets child->parent. */
void dir_add(struct snode *dir, struct snode *child);
/* Detaches child from its parent (parent must be set). */
void dir_remove(struct snode *child);
static inline size_t dir_count(const struct snode *dir)
{
	return dir->u.dir->by_name.count;
}
/* The first child of dir in insertion order, or NULL when it is empty. */
static inline struct snode *dir_first(const struct snode *dir)
{
	return list_first(&dir->u.dir->children, struct snode, sibling);
}
/* The child after n (which has a parent) in insertion order, or NULL. */
static inline struct snode *dir_next(const struct snode *n)
{
	const struct list *children = &n->parent->u.dir->children;
	return n->sibling.next == children ? NULL :
					     list_entry(n->sibling.next, struct snode, sibling);
}

/* Result of walking a cleaned absolute path from the root. */
enum walk_status {
	WALK_FOUND,   /* node = the node at path */
	WALK_MISSING, /* node = deepest existing dir;
			 * [miss_start, miss_end) = the first missing component */
	WALK_NOT_DIR, /* node = a file in the way; [0, miss_end) = that file's path */
};
struct walk_result {
	enum walk_status status;
	struct snode *node;
	size_t miss_start, miss_end;
};
/* Walks path[0..len) ("/", "/a/b"; empty components are skipped). */
void snode_walk(struct snode *root, const char *path, size_t len, struct walk_result *out);

/* ---- accounting (--v2-quota-bytes) ---------------------------------------- */

/* What a node costs in the store's accounted size, besides its name and value:
 * a fixed figure (the node itself, its hash slot, the allocator's headers),
 * the same on every build so that the figure is a function of the tree only. */
#define SNODE_ACCOUNT_OVERHEAD 96u

static inline uint64_t snode_account(size_t name_len, size_t value_len)
{
	return SNODE_ACCOUNT_OVERHEAD + (uint64_t)name_len + 1 + (uint64_t)value_len;
}

/* The accounted size of n and its whole subtree. */
uint64_t snode_tree_bytes(const struct snode *n);

/* The next component of path[..len) from *i: skips slashes, sets *start to
 * the component's first byte and *i past its last. False when none is left. */
static inline bool path_next(const char *path, size_t len, size_t *i, size_t *start)
{
	while (*i < len && path[*i] == '/')
		(*i)++;
	if (*i >= len)
		return false;
	*start = *i;
	while (*i < len && path[*i] != '/')
		(*i)++;
	return true;
}

#endif /* CETCD_STORE_NODE_H */
