/* store.c - the etcd v2 store: operations (get/set/create/update/CAS/delete/CAD/
 * expire), the global index, events, errors with etcd's exact causes, stats, and
 * the glue to the TTL heap, the history ring and the watcher hub.
 * Pure and deterministic: no I/O, no clock (time is an argument). */
#include "kv/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"
#include "kv/store_node.h"
#include "kv/store_private.h"
#include "kv/store_render.h"
#include "kv/store_ttl.h"
#include "kv/watch.h"
#include "kv/watch_history.h"

/* ---- small helpers ---------------------------------------------------------- */

const char *store_action_name(enum store_action a)
{
	switch (a) {
	case ACT_GET:
		return "get";
	case ACT_SET:
		return "set";
	case ACT_CREATE:
		return "create";
	case ACT_UPDATE:
		return "update";
	case ACT_CAS:
		return "compareAndSwap";
	case ACT_DELETE:
		return "delete";
	case ACT_CAD:
		return "compareAndDelete";
	case ACT_EXPIRE:
		return "expire";
	}
	return "unknown";
}

struct store_event *store_event_ref(struct store_event *ev)
{
	ev->refs++;
	return ev;
}

void store_event_unref(struct store_event *ev)
{
	if (ev == NULL || --ev->refs > 0)
		return;
	free(ev->key);
	free(ev->json);
	free(ev);
}

void store_error_clear(struct store_error *err)
{
	if (err == NULL)
		return;
	free(err->cause);
	err->cause = NULL;
	err->cause_len = 0;
	err->code = 0;
	err->index = 0;
}

/* Fills *err (cause NULL = omitted) and returns -1. */
static int set_error(const struct store *s, struct store_error *err, int code, const char *cause,
		     size_t cause_len)
{
	if (err != NULL) {
		free(err->cause);
		err->code = code;
		err->cause = cause ? xstrndup(cause, cause_len) : NULL;
		err->cause_len = cause ? cause_len : 0;
		err->index = s->index;
	}
	return -1;
}

static int set_error_str(const struct store *s, struct store_error *err, int code,
			 const char *cause)
{
	return set_error(s, err, code, cause, cause ? strlen(cause) : 0);
}

/* Normalises path into s->path: leading '/', no empty components, no trailing
 * '/' ("/" for the root). Returns the length. */
static size_t clean_path(struct store *s, const char *path)
{
	struct buf *b = &s->path;
	buf_reset(b);
	const char *p = path ? path : "";
	while (*p) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		buf_putc(b, '/');
		buf_append(b, start, (size_t)(p - start));
	}
	if (b->len == 0)
		buf_putc(b, '/');
	return b->len;
}

static bool is_root_path(const char *path, size_t len)
{
	return len == 1 && path[0] == '/';
}

/* Offset of the last '/' (the parent's path is path[0..that), "" for the root's child). */
static size_t last_slash(const char *path, size_t len)
{
	size_t i = len;
	while (i > 0 && path[i - 1] != '/')
		i--;
	return i - 1;
}

/* Full key of n ("/a/b"; "/" for the root) into b. */
static void snode_key(const struct snode *n, struct buf *b)
{
	buf_reset(b);
	if (n->parent == NULL) {
		buf_putc(b, '/');
		return;
	}
	size_t total = 0;
	for (const struct snode *p = n; p->parent != NULL; p = p->parent)
		total += 1 + p->name_len;
	buf_reserve(b, total);
	size_t pos = total;
	for (const struct snode *p = n; p->parent != NULL; p = p->parent) {
		pos -= p->name_len;
		memcpy(b->data + pos, p->name, p->name_len);
		b->data[--pos] = '/';
	}
	b->len = total;
	b->data[total] = '\0';
}

static int64_t expiration_at(int64_t now_ns, uint64_t ttl)
{
	const int64_t ns = 1000000000LL;
	if (ttl > (uint64_t)(INT64_MAX / ns))
		return INT64_MAX;
	int64_t add = (int64_t)ttl * ns;
	if (now_ns > 0 && add > INT64_MAX - now_ns)
		return INT64_MAX;
	return now_ns + add;
}

/* ---- lifecycle ---------------------------------------------------------------- */

struct store *store_new(void)
{
	return store_new_window(0);
}

struct store *store_new_window(size_t window)
{
	struct store *s = xcalloc(1, sizeof(*s));
	s->root = snode_new_dir("", 0, 0);
	s->bytes = snode_tree_bytes(s->root);
	ttl_heap_init(&s->ttl);
	watch_history_init(&s->history, window ? window : WATCH_HISTORY_CAPACITY);
	s->hub = watch_hub_new();
	s->path = BUF_INIT;
	s->key = BUF_INIT;
	return s;
}

void store_free(struct store *s)
{
	if (s == NULL)
		return;
	snode_free_tree(s->root);
	ttl_heap_free(&s->ttl);
	watch_history_free(&s->history);
	watch_hub_free(s->hub);
	buf_free(&s->path);
	buf_free(&s->key);
	free(s);
}

uint64_t store_bytes(const struct store *s)
{
	return s->bytes;
}

/* What adding the components path[from..len) costs: directories, then the
 * last one as a file of value_len bytes (or a directory). */
static uint64_t missing_bytes(const char *path, size_t from, size_t len, bool dir, size_t value_len)
{
	uint64_t total = 0;
	size_t i = from, start;
	while (path_next(path, len, &i, &start)) {
		size_t rest = i;
		while (rest < len && path[rest] == '/')
			rest++;
		bool last = rest >= len;
		total += snode_account(i - start, last && !dir ? value_len : 0);
	}
	return total;
}

int64_t store_write_growth(const struct store *s, const struct store_write *w)
{
	if (w->op == OP_DELETE || w->op == OP_CAD || w->refresh)
		return 0;
	size_t value_len = w->dir ? 0 : store_write_value_len(w);
	size_t len = strlen(w->path);
	struct walk_result r;
	snode_walk(s->root, w->path, len, &r);
	if (r.status == WALK_NOT_DIR)
		return 0; /* fails at apply */
	/* POST: a new child named by its 20-digit index */
	uint64_t unique_child = w->unique ? snode_account(20, value_len) : 0;
	if (r.status == WALK_MISSING)
		return (int64_t)(missing_bytes(w->path, r.miss_start, len, w->unique || w->dir,
					       value_len) +
				 unique_child);
	if (w->unique)
		return r.node->is_dir ? (int64_t)unique_child : 0;
	if (r.node->is_dir)
		return 0; /* a dir's TTL, or an error at apply */
	if (w->dir)	  /* a plain set turns the file into a dir */
		return w->op == OP_SET ? -(int64_t)r.node->value_len : 0;
	return (int64_t)value_len - (int64_t)r.node->value_len;
}

uint64_t store_index(const struct store *s)
{
	return s->index;
}

int64_t store_next_expiry(const struct store *s)
{
	struct snode *n = ttl_heap_top(&s->ttl);
	return n ? n->expire_ns : INT64_MAX;
}

void store_get_stats(const struct store *s, struct store_stats *out)
{
	*out = s->stats;
	out->watchers = watch_hub_count(s->hub);
}

/* ---- reads ---------------------------------------------------------------------- */

/* The walk's failure as etcd reports it: 100 with the first missing component,
 * or 104 with the file in the way. */
static int walk_error(const struct store *s, const char *path, const struct walk_result *r,
		      struct store_error *err)
{
	if (r->status == WALK_NOT_DIR)
		return set_error(s, err, 104, path, r->miss_end);
	return set_error(s, err, 100, path, r->miss_end);
}

int store_get(struct store *s, const char *path, bool recursive, bool sorted, int64_t now_ns,
	      struct buf *out, struct store_error *err)
{
	size_t len = clean_path(s, path);
	const char *p = s->path.data;
	struct walk_result r;
	snode_walk(s->root, p, len, &r);
	s->stats.gets_recursive += recursive;
	if (r.status != WALK_FOUND) {
		s->stats.gets_fail++;
		s->stats.gets_recursive_fail += recursive;
		return walk_error(s, p, &r, err);
	}
	s->stats.gets_success++;
	/* the root has no "key" field (etcd trims its internal "/1" to "") */
	render_get(out, r.node, p, is_root_path(p, len) ? 0 : len, recursive, sorted, now_ns);
	return 0;
}

/* ---- events ------------------------------------------------------------------- */

static struct store_event *event_new(enum store_action action, uint64_t index, const char *key,
				     size_t key_len, bool dir, const struct node_view *node,
				     const struct node_view *prev, int64_t now_ns)
{
	struct store_event *ev = xcalloc(1, sizeof(*ev));
	ev->refs = 1;
	ev->index = index;
	ev->action = action;
	ev->dir = dir;
	ev->has_prev = prev != NULL;
	ev->key = xstrndup(key, key_len);
	struct buf b = BUF_INIT;
	render_event(&b, store_action_name(action), node, prev, now_ns);
	ev->json = buf_steal(&b, &ev->json_len);
	return ev;
}

/* Records ev in the history and, unless it is a refresh, wakes the watchers
 * on its key's ancestors. */
static void publish(struct store *s, struct store_event *ev)
{
	watch_history_add(&s->history, ev);
	if (!ev->refresh)
		watch_hub_notify(s->hub, ev);
}

/* Removes the detached subtree n (whose key is in s->key) from the TTL heap and
 * fires the watchers registered on every removed path, children first. */
static void unschedule_and_notify(struct store *s, struct snode *n, struct store_event *ev)
{
	if (n->is_dir) {
		for (struct snode *c = dir_first(n); c != NULL; c = dir_next(c)) {
			size_t saved = s->key.len;
			buf_putc(&s->key, '/');
			buf_append(&s->key, c->name, c->name_len);
			unschedule_and_notify(s, c, ev);
			s->key.len = saved;
			s->key.data[saved] = '\0';
		}
	}
	ttl_heap_remove(&s->ttl, n);
	watch_hub_notify_removed(s->hub, ev, s->key.data, s->key.len);
}

/* Detaches n (key in path[0..len)), delivers ev for the removal, frees n. */
static void remove_node(struct store *s, struct snode *n, const char *path, size_t len,
			struct store_event *ev)
{
	dir_remove(n);
	s->bytes -= snode_tree_bytes(n);
	watch_history_add(&s->history, ev);
	buf_reset(&s->key);
	buf_append(&s->key, path, len);
	unschedule_and_notify(s, n, ev);
	watch_hub_notify(s->hub, ev);
	snode_free_tree(n);
}

/* ---- writes ------------------------------------------------------------------ */

/* Creates the missing dirs path[from..to) under dir with index; returns the last. */
static struct snode *make_dirs(struct store *s, struct snode *dir, const char *path, size_t from,
			       size_t to, uint64_t index)
{
	size_t i = from, start;
	while (path_next(path, to, &i, &start)) {
		struct snode *d = snode_new_dir(path + start, i - start, index);
		dir_add(dir, d);
		s->bytes += snode_account(i - start, 0);
		dir = d;
	}
	return dir;
}

/* Adds a new node at path (parent found or created from walk r) at index next. */
static struct snode *insert_new(struct store *s, const struct store_write *w, const char *path,
				size_t len, const struct walk_result *r, struct snode *parent,
				const char *value, size_t value_len, uint64_t next, int64_t now_ns)
{
	size_t slash = last_slash(path, len);
	if (parent == NULL)
		parent = make_dirs(s, r->node, path, r->miss_start, slash, next);
	const char *name = path + slash + 1;
	size_t name_len = len - slash - 1;
	struct snode *n = w->dir ? snode_new_dir(name, name_len, next) :
				   snode_new_file(name, name_len, value, value_len, next);
	dir_add(parent, n);
	s->bytes += snode_account(name_len, n->is_dir ? 0 : n->value_len);
	if (w->has_ttl)
		ttl_heap_set(&s->ttl, n, expiration_at(now_ns, w->ttl));
	return n;
}

static int op_set(struct store *s, const struct store_write *w, const char *path, size_t len,
		  int64_t now_ns, struct store_event **ev_out, struct store_error *err)
{
	struct walk_result r;
	snode_walk(s->root, path, len, &r);
	if (r.status == WALK_NOT_DIR || (r.status == WALK_MISSING && w->refresh)) {
		s->stats.sets_fail++;
		return walk_error(s, path, &r, err);
	}
	struct snode *old = r.status == WALK_FOUND ? r.node : NULL;
	if (is_root_path(path, len)) {
		s->stats.sets_fail++;
		return set_error_str(s, err, 107, "/");
	}
	if (old != NULL && old->is_dir) {
		s->stats.sets_fail++;
		return set_error(s, err, 102, path, len);
	}
	uint64_t next = s->index + 1;
	const char *value = w->refresh ? old->u.value : w->value;
	size_t value_len = w->refresh ? old->value_len : store_write_value_len(w);
	struct snode *parent = NULL;
	struct node_view nv, pv;
	if (old != NULL) {
		snode_view_of(&pv, old, path, len); /* before it leaves the heap */
		parent = old->parent;
		dir_remove(old);
		s->bytes -= snode_tree_bytes(old);
		ttl_heap_remove(&s->ttl, old);
	}
	struct snode *n = insert_new(s, w, path, len, &r, parent, value, value_len, next, now_ns);
	s->index = next;
	snode_view_of(&nv, n, path, len);
	struct store_event *ev =
		event_new(ACT_SET, next, path, len, n->is_dir, &nv, old ? &pv : NULL, now_ns);
	ev->refresh = w->refresh;
	if (old != NULL)
		snode_free_tree(old);
	s->stats.sets_success++;
	publish(s, ev);
	*ev_out = ev;
	return 0;
}

/* Appends "/%020llu" of the next index to the cleaned path in s->path. */
static size_t unique_path(struct store *s, size_t len)
{
	char name[32];
	snprintf(name, sizeof(name), "%020" PRIu64, s->index + 1);
	if (is_root_path(s->path.data, len))
		buf_reset(&s->path);
	buf_putc(&s->path, '/');
	buf_puts(&s->path, name);
	return s->path.len;
}

static int op_create(struct store *s, const struct store_write *w, size_t len, int64_t now_ns,
		     struct store_event **ev_out, struct store_error *err)
{
	if (w->unique)
		len = unique_path(s, len);
	const char *path = s->path.data;
	if (is_root_path(path, len)) {
		s->stats.create_fail++;
		return set_error_str(s, err, 107, "/");
	}
	struct walk_result r;
	snode_walk(s->root, path, len, &r);
	if (r.status == WALK_NOT_DIR) {
		/* etcd counts this one as a failed set too */
		s->stats.sets_fail++;
		s->stats.create_fail++;
		return walk_error(s, path, &r, err);
	}
	if (r.status == WALK_FOUND) {
		s->stats.create_fail++;
		return set_error(s, err, 105, path, len);
	}
	uint64_t next = s->index + 1;
	struct snode *n = insert_new(s, w, path, len, &r, NULL, w->value, store_write_value_len(w),
				     next, now_ns);
	s->index = next;
	struct node_view nv;
	snode_view_of(&nv, n, path, len);
	struct store_event *ev =
		event_new(ACT_CREATE, next, path, len, n->is_dir, &nv, NULL, now_ns);
	s->stats.create_success++;
	publish(s, ev);
	*ev_out = ev;
	return 0;
}

/* Writes value (unless refresh), the new modified index (files only: etcd leaves
 * a dir's own modifiedIndex alone) and the TTL of an updated node; renders the
 * event; returns it. */
static struct store_event *rewrite_node(struct store *s, struct snode *n,
					const struct store_write *w, enum store_action action,
					const char *path, size_t len, int64_t now_ns)
{
	uint64_t next = s->index + 1;
	struct node_view pv;
	snode_view_of(&pv, n, path, len);
	char *old_value = NULL;
	if (!n->is_dir) {
		if (!w->refresh) {
			s->bytes -= n->value_len;
			old_value = snode_swap_value(n, w->value, store_write_value_len(w));
			s->bytes += n->value_len;
		}
		n->modified_index = next;
	}
	if (w->has_ttl)
		ttl_heap_set(&s->ttl, n, expiration_at(now_ns, w->ttl));
	else
		ttl_heap_remove(&s->ttl, n);
	s->index = next;
	struct node_view nv;
	snode_view_of(&nv, n, path, len);
	nv.modified_index = next;
	struct store_event *ev = event_new(action, next, path, len, n->is_dir, &nv, &pv, now_ns);
	ev->refresh = w->refresh;
	if (old_value != NULL)
		snode_value_free(old_value);
	return ev;
}

static int op_update(struct store *s, const struct store_write *w, const char *path, size_t len,
		     int64_t now_ns, struct store_event **ev_out, struct store_error *err)
{
	if (is_root_path(path, len)) {
		s->stats.update_success++; /* etcd counts this failure as a success */
		return set_error_str(s, err, 107, "/");
	}
	struct walk_result r;
	snode_walk(s->root, path, len, &r);
	if (r.status != WALK_FOUND) {
		s->stats.update_fail++;
		return walk_error(s, path, &r, err);
	}
	struct snode *n = r.node;
	if (n->is_dir && store_write_value_len(w) > 0 && !w->refresh) {
		s->stats.update_success++; /* etcd counts this failure as a success */
		return set_error(s, err, 102, path, len);
	}
	struct store_event *ev = rewrite_node(s, n, w, ACT_UPDATE, path, len, now_ns);
	s->stats.update_success++;
	publish(s, ev);
	*ev_out = ev;
	return 0;
}

/* etcd's compare: prevValue "" and prevIndex 0 mean "not given"; values are
 * compared as bytes. Returns 0 on a match, else -1 with the 101 error (whose
 * cause quotes both values, NULs included, like Go's "[%v != %v]"). */
static int compare(const struct store *s, const struct snode *n, const struct store_write *w,
		   struct store_error *err)
{
	size_t pv_len = store_write_prev_value_len(w);
	bool value_ok = pv_len == 0 ||
			(pv_len == n->value_len && memcmp(n->u.value, w->prev_value, pv_len) == 0);
	bool index_ok = w->prev_index == 0 || n->modified_index == w->prev_index;
	if (value_ok && index_ok)
		return 0;
	struct buf cause = BUF_INIT;
	if (!value_ok) {
		buf_putc(&cause, '[');
		buf_append(&cause, w->prev_value, pv_len);
		buf_puts(&cause, " != ");
		buf_append(&cause, n->u.value, n->value_len);
		buf_putc(&cause, ']');
	}
	if (!index_ok) {
		buf_puts(&cause, value_ok ? "[" : " [");
		buf_put_u64(&cause, w->prev_index);
		buf_puts(&cause, " != ");
		buf_put_u64(&cause, n->modified_index);
		buf_putc(&cause, ']');
	}
	set_error(s, err, 101, cause.data, cause.len);
	buf_free(&cause);
	return -1;
}

static int op_cas(struct store *s, const struct store_write *w, const char *path, size_t len,
		  int64_t now_ns, struct store_event **ev_out, struct store_error *err)
{
	if (is_root_path(path, len)) {
		s->stats.cas_success++; /* etcd counts this failure as a success */
		return set_error_str(s, err, 107, "/");
	}
	struct walk_result r;
	snode_walk(s->root, path, len, &r);
	if (r.status != WALK_FOUND) {
		s->stats.cas_fail++;
		return walk_error(s, path, &r, err);
	}
	struct snode *n = r.node;
	if (n->is_dir) {
		s->stats.cas_fail++;
		return set_error(s, err, 102, path, len);
	}
	if (compare(s, n, w, err) != 0) {
		s->stats.cas_fail++;
		return -1;
	}
	struct store_event *ev = rewrite_node(s, n, w, ACT_CAS, path, len, now_ns);
	s->stats.cas_success++;
	publish(s, ev);
	*ev_out = ev;
	return 0;
}

/* The delete/compareAndDelete/expire event for n at path with index next. */
static struct store_event *removal_event(enum store_action action, const struct snode *n,
					 const char *path, size_t len, uint64_t next,
					 int64_t now_ns)
{
	struct node_view nv = {.key = path,
			       .key_len = len,
			       .dir = n->is_dir,
			       .modified_index = next,
			       .created_index = n->created_index};
	struct node_view pv;
	snode_view_of(&pv, n, path, len);
	return event_new(action, next, path, len, n->is_dir, &nv, &pv, now_ns);
}

static int op_delete(struct store *s, const struct store_write *w, const char *path, size_t len,
		     int64_t now_ns, struct store_event **ev_out, struct store_error *err)
{
	if (is_root_path(path, len)) {
		s->stats.delete_success++; /* etcd counts this failure as a success */
		return set_error_str(s, err, 107, "/");
	}
	bool dir_ok = w->dir || w->recursive;
	struct walk_result r;
	snode_walk(s->root, path, len, &r);
	if (r.status != WALK_FOUND) {
		s->stats.delete_fail++;
		return walk_error(s, path, &r, err);
	}
	struct snode *n = r.node;
	if (n->is_dir && !dir_ok) {
		s->stats.delete_fail++;
		return set_error(s, err, 102, path, len);
	}
	if (n->is_dir && dir_count(n) > 0 && !w->recursive) {
		s->stats.delete_fail++;
		return set_error(s, err, 108, path, len);
	}
	uint64_t next = s->index + 1;
	struct store_event *ev = removal_event(ACT_DELETE, n, path, len, next, now_ns);
	s->index = next;
	s->stats.delete_success++;
	remove_node(s, n, path, len, ev);
	*ev_out = ev;
	return 0;
}

static int op_cad(struct store *s, const struct store_write *w, const char *path, size_t len,
		  int64_t now_ns, struct store_event **ev_out, struct store_error *err)
{
	struct walk_result r;
	snode_walk(s->root, path, len, &r);
	if (r.status != WALK_FOUND) {
		s->stats.cad_fail++;
		return walk_error(s, path, &r, err);
	}
	struct snode *n = r.node;
	if (n->is_dir) {
		/* etcd: no cause for the root (its internal path trims to ""), and
		 * this failure is counted as a success */
		s->stats.cad_success++;
		if (is_root_path(path, len))
			return set_error(s, err, 102, NULL, 0);
		return set_error(s, err, 102, path, len);
	}
	if (compare(s, n, w, err) != 0) {
		s->stats.cad_success++; /* etcd counts this failure as a success */
		return -1;
	}
	uint64_t next = s->index + 1;
	struct store_event *ev = removal_event(ACT_CAD, n, path, len, next, now_ns);
	s->index = next;
	s->stats.cad_success++;
	remove_node(s, n, path, len, ev);
	*ev_out = ev;
	return 0;
}

int store_write(struct store *s, const struct store_write *w, int64_t now_ns,
		struct store_event **ev_out, struct store_error *err)
{
	*ev_out = NULL;
	size_t len = clean_path(s, w->path);
	const char *path = s->path.data;
	switch (w->op) {
	case OP_SET:
		return op_set(s, w, path, len, now_ns, ev_out, err);
	case OP_CREATE:
		return op_create(s, w, len, now_ns, ev_out, err);
	case OP_UPDATE:
		return op_update(s, w, path, len, now_ns, ev_out, err);
	case OP_CAS:
		return op_cas(s, w, path, len, now_ns, ev_out, err);
	case OP_DELETE:
		return op_delete(s, w, path, len, now_ns, ev_out, err);
	case OP_CAD:
		return op_cad(s, w, path, len, now_ns, ev_out, err);
	}
	return set_error_str(s, err, 300, "unknown store operation");
}

size_t store_expire(struct store *s, int64_t now_ns)
{
	size_t expired = 0;
	struct buf key = BUF_INIT;
	for (;;) {
		struct snode *n = ttl_heap_top(&s->ttl);
		if (n == NULL || n->expire_ns > now_ns)
			break;
		snode_key(n, &key);
		uint64_t next = s->index + 1;
		struct store_event *ev =
			removal_event(ACT_EXPIRE, n, key.data, key.len, next, now_ns);
		s->index = next;
		s->stats.expire_count++;
		remove_node(s, n, key.data, key.len, ev);
		store_event_unref(ev);
		expired++;
	}
	buf_free(&key);
	return expired;
}

/* ---- watches ------------------------------------------------------------------ */

int store_watch(struct store *s, const char *path, bool recursive, bool stream,
		uint64_t since_index, watch_fire_fn fire, void *ctx, struct watcher **w_out,
		struct store_event **found, struct store_error *err)
{
	*w_out = NULL;
	*found = NULL;
	s->stats.watch_requests++;
	size_t len = clean_path(s, path);
	const char *p = s->path.data;
	uint64_t since = since_index ? since_index : s->index + 1;
	struct store_event *hit;
	uint64_t start;
	if (watch_history_scan(&s->history, p, len, recursive, since, &hit, &start) != 0) {
		char cause[96];
		snprintf(cause, sizeof(cause),
			 "the requested history has been cleared [%" PRIu64 "/%" PRIu64 "]", start,
			 since);
		return set_error_str(s, err, 401, cause);
	}
	if (hit != NULL) {
		*found = store_event_ref(hit);
		if (!stream)
			return 0;
		/* a stream goes on with the live events after the current index */
		since = s->index + 1;
	}
	*w_out = watch_hub_add(s->hub, p, len, recursive, stream, since, fire, ctx);
	return 0;
}

void store_unwatch(struct store *s, struct watcher *w)
{
	watch_hub_remove(s->hub, w);
}
