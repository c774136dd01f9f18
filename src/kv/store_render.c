/* store_render.c - node/event JSON rendering and RFC3339Nano time formatting
 * (see store_render.h). Pure: no I/O, no clock; the civil date is computed by
 * hand (days-from-civil inverse), no gmtime. */
#include "kv/store_render.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define NS_PER_SEC 1000000000LL

static void put_digits(struct buf *b, int64_t v, int width)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	bool neg = v < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	while ((int)sizeof(tmp) - i < width)
		tmp[--i] = '0';
	if (neg)
		tmp[--i] = '-';
	buf_append(b, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Proleptic Gregorian date of a day count since 1970-01-01. */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;					     /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);		     /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153; /* [0, 11], March-based */
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = yoe + era * 400 + (*month <= 2);
}

void render_rfc3339nano(struct buf *b, int64_t unix_ns)
{
	int64_t secs = unix_ns / NS_PER_SEC;
	int64_t frac = unix_ns % NS_PER_SEC;
	if (frac < 0) {
		frac += NS_PER_SEC;
		secs--;
	}
	int64_t days = secs / 86400;
	int64_t sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	int64_t year;
	int month, day;
	civil_from_days(days, &year, &month, &day);
	put_digits(b, year, 4);
	buf_putc(b, '-');
	put_digits(b, month, 2);
	buf_putc(b, '-');
	put_digits(b, day, 2);
	buf_putc(b, 'T');
	put_digits(b, sod / 3600, 2);
	buf_putc(b, ':');
	put_digits(b, sod / 60 % 60, 2);
	buf_putc(b, ':');
	put_digits(b, sod % 60, 2);
	if (frac != 0) {
		char digits[10];
		for (int i = 8; i >= 0; i--) {
			digits[i] = (char)('0' + frac % 10);
			frac /= 10;
		}
		int n = 9;
		while (digits[n - 1] == '0')
			n--;
		buf_putc(b, '.');
		buf_append(b, digits, (size_t)n);
	}
	buf_putc(b, 'Z');
}

int64_t render_ttl_seconds(int64_t expire_ns, int64_t now_ns)
{
	if (expire_ns <= now_ns)
		return 0;
	/* the difference of two int64 can overflow; do it unsigned (it is positive) */
	uint64_t left = (uint64_t)expire_ns - (uint64_t)now_ns;
	uint64_t ttl = left / NS_PER_SEC + (left % NS_PER_SEC != 0);
	return (int64_t)ttl;
}

void snode_view_of(struct node_view *v, const struct snode *n, const char *key, size_t key_len)
{
	v->key = key;
	v->key_len = key_len;
	v->value = n->is_dir ? NULL : n->u.value;
	v->value_len = n->is_dir ? 0 : n->value_len;
	v->dir = n->is_dir;
	v->has_expiration = snode_has_ttl(n);
	v->expire_ns = n->expire_ns;
	v->modified_index = n->modified_index;
	v->created_index = n->created_index;
}

/* Opens the object and writes key, value, dir, expiration, ttl. *first tells
 * whether a comma is needed before the next field. */
static void render_head(struct buf *b, const struct node_view *v, int64_t now_ns, bool *first)
{
	buf_putc(b, '{');
	*first = true;
	if (v->key_len > 0) {
		buf_puts(b, "\"key\":");
		buf_put_json_str(b, v->key, v->key_len);
		*first = false;
	}
	if (v->value != NULL) {
		buf_puts(b, *first ? "\"value\":" : ",\"value\":");
		buf_put_json_str(b, v->value, v->value_len);
		*first = false;
	}
	if (v->dir) {
		buf_puts(b, *first ? "\"dir\":true" : ",\"dir\":true");
		*first = false;
	}
	if (v->has_expiration) {
		buf_puts(b, *first ? "\"expiration\":\"" : ",\"expiration\":\"");
		render_rfc3339nano(b, v->expire_ns);
		buf_putc(b, '"');
		*first = false;
		int64_t ttl = render_ttl_seconds(v->expire_ns, now_ns);
		if (ttl > 0) {
			buf_puts(b, ",\"ttl\":");
			buf_put_u64(b, (uint64_t)ttl);
		}
	}
}

/* Writes modifiedIndex, createdIndex and closes the object. */
static void render_tail(struct buf *b, const struct node_view *v, bool first)
{
	if (v->modified_index != 0) {
		buf_puts(b, first ? "\"modifiedIndex\":" : ",\"modifiedIndex\":");
		buf_put_u64(b, v->modified_index);
		first = false;
	}
	if (v->created_index != 0) {
		buf_puts(b, first ? "\"createdIndex\":" : ",\"createdIndex\":");
		buf_put_u64(b, v->created_index);
	}
	buf_putc(b, '}');
}

void render_node_view(struct buf *b, const struct node_view *v, int64_t now_ns)
{
	bool first;
	render_head(b, v, now_ns, &first);
	render_tail(b, v, first);
}

static void put_action(struct buf *b, const char *action)
{
	buf_puts(b, "{\"action\":\"");
	buf_puts(b, action);
	buf_putc(b, '"');
}

void render_event(struct buf *b, const char *action, const struct node_view *node,
		  const struct node_view *prev, int64_t now_ns)
{
	put_action(b, action);
	buf_puts(b, ",\"node\":");
	render_node_view(b, node, now_ns);
	if (prev != NULL) {
		buf_puts(b, ",\"prevNode\":");
		render_node_view(b, prev, now_ns);
	}
	buf_puts(b, "}\n");
}

/* ---- GET listings --------------------------------------------------------- */

struct list_ctx {
	struct buf *out;
	struct buf key; /* scratch: the key of the node being rendered */
	bool recursive, sorted;
	int64_t now_ns;
};

static void render_tree(struct list_ctx *c, const struct snode *n, bool list_children);

static int cmp_by_name(const void *a, const void *b)
{
	const struct snode *x = *(const struct snode *const *)a;
	const struct snode *y = *(const struct snode *const *)b;
	return strcmp(x->name, y->name);
}

static void render_child(struct list_ctx *c, const struct snode *child, bool *opened)
{
	buf_puts(c->out, *opened ? "," : ",\"nodes\":[");
	*opened = true;
	size_t saved = c->key.len;
	buf_putc(&c->key, '/');
	buf_append(&c->key, child->name, child->name_len);
	render_tree(c, child, c->recursive);
	c->key.len = saved;
}

/* Writes ,"nodes":[...] for the visible children of dir (nothing when none). */
static void render_children(struct list_ctx *c, const struct snode *dir)
{
	bool opened = false;
	if (!c->sorted) {
		for (const struct snode *ch = dir_first(dir); ch != NULL; ch = dir_next(ch))
			if (!snode_is_hidden(ch))
				render_child(c, ch, &opened);
	} else if (dir_count(dir) > 0) {
		const struct snode **v = xmalloc(dir_count(dir) * sizeof(*v));
		size_t n = 0;
		for (const struct snode *ch = dir_first(dir); ch != NULL; ch = dir_next(ch))
			if (!snode_is_hidden(ch))
				v[n++] = ch;
		qsort(v, n, sizeof(*v), cmp_by_name);
		for (size_t i = 0; i < n; i++)
			render_child(c, v[i], &opened);
		free(v);
	}
	if (opened)
		buf_putc(c->out, ']');
}

static void render_tree(struct list_ctx *c, const struct snode *n, bool list_children)
{
	struct node_view v;
	snode_view_of(&v, n, c->key.data, c->key.len);
	bool first;
	render_head(c->out, &v, c->now_ns, &first);
	/* a dir always has "dir":true, so the comma before "nodes" is right */
	if (n->is_dir && list_children)
		render_children(c, n);
	render_tail(c->out, &v, first);
}

void render_get(struct buf *b, const struct snode *n, const char *key, size_t key_len,
		bool recursive, bool sorted, int64_t now_ns)
{
	struct list_ctx c = {.out = b,
			     .key = BUF_INIT,
			     .recursive = recursive,
			     .sorted = sorted,
			     .now_ns = now_ns};
	buf_append(&c.key, key, key_len);
	put_action(b, "get");
	buf_puts(b, ",\"node\":");
	render_tree(&c, n, true);
	buf_puts(b, "}\n");
	buf_free(&c.key);
}
