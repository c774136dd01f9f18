/* list.h - an intrusive, circular, doubly linked list (as the Linux kernel's).
 * A list is a struct list used as a sentinel; an element embeds a struct
 * list as its link and is found again with list_entry. Insertion and removal
 * are O(1) and never allocate. Header only; pure. */
#ifndef CETCD_LIST_H
#define CETCD_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
	struct list *next, *prev;
};

/* An empty list (or an unlinked element) points at itself. */
#define LIST_INIT(name)          \
	{                        \
		&(name), &(name) \
	}

static inline void list_init(struct list *l)
{
	l->next = l->prev = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

/* Links item (unlinked) at the end of l. */
static inline void list_add_tail(struct list *l, struct list *item)
{
	item->prev = l->prev;
	item->next = l;
	l->prev->next = item;
	l->prev = item;
}

/* Unlinks item from its list; it is left pointing at itself. */
static inline void list_del(struct list *item)
{
	item->prev->next = item->next;
	item->next->prev = item->prev;
	list_init(item);
}

/* Moves every element of from to the end of to; from is left empty. */
static inline void list_splice_tail(struct list *to, struct list *from)
{
	if (list_empty(from))
		return;
	from->next->prev = to->prev;
	to->prev->next = from->next;
	from->prev->next = to;
	to->prev = from->prev;
	list_init(from);
}

/* The element of type containing link ptr as member. */
#define list_entry(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* The first element of l, or NULL when l is empty. */
#define list_first(l, type, member) (list_empty(l) ? NULL : list_entry((l)->next, type, member))

/* The element after pos in l, or NULL when pos is the last. */
#define list_next(l, pos, member)           \
	((pos)->member.next == (l) ? NULL : \
				     list_entry((pos)->member.next, __typeof__(*(pos)), member))

/* pos walks the elements of l in order; the body must not unlink pos. */
#define list_for_each(pos, l, member)                                    \
	for (pos = list_first(l, __typeof__(*pos), member); pos != NULL; \
	     pos = list_next(l, pos, member))

/* As list_for_each, but the body may unlink (and free) pos. */
#define list_for_each_safe(pos, tmp, l, member)             \
	for (pos = list_first(l, __typeof__(*pos), member), \
	    tmp = pos ? list_next(l, pos, member) : NULL;   \
	     pos != NULL; pos = tmp, tmp = pos ? list_next(l, pos, member) : NULL)

#endif /* CETCD_LIST_H */
