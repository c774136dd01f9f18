/* config_value.c - one flag value: what Go's flag.Value.Set does for each
 * type of the table (Go strings, bools, numbers and durations; etcd's URL
 * sets, choices and string lists), the defaults, freeing and comparing
 * values; and the small string helpers the configuration files share. */
#include "cetcd/config_private.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/goparse.h"
#include "util/log.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------------ */
/* String helpers                                                      */

void set_str(char **slot, const char *v)
{
	char *n = xstrdup(v);

	free(*slot);
	*slot = n;
}

char *quoted_list(char *const *v, size_t n)
{
	struct buf b = BUF_INIT;

	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, ' ');
		go_quote(&b, v[i]);
	}
	buf_putc(&b, ']');
	return buf_steal(&b, NULL);
}

void strlist_push(struct str_list *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	l->v[l->n++] = xstrdup(s);
}

void strlist_free(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

bool strlist_has(const struct str_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

bool strlist_eq(const struct str_list *a, const struct str_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strlist_sort(struct str_list *l)
{
	qsort(l->v, l->n, sizeof *l->v, cmp_strp);
}

/* Go strings.Split(s, ","): "" gives one empty item. */
static void split_commas(const char *s, struct str_list *out)
{
	for (;;) {
		const char *c = strchr(s, ',');
		char *item = xstrndup(s, c ? (size_t)(c - s) : strlen(s));

		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = item;
		if (!c)
			break;
		s = c + 1;
	}
}

/* ------------------------------------------------------------------ */
/* Set, per type                                                       */

static void *field(const struct config *c, const struct flag_def *f)
{
	return (char *)c + f->off;
}

/* etcd's UniqueURLs.Set: a string already given is a no-op; the allowed
 * exception is remembered but parses to no URL; anything else replaces
 * the list and the set. */
static int urls_set(struct url_list *l, struct str_list *seen, const char *s, const char *exception,
		    char *err, size_t cap)
{
	struct url_list n;

	if (strlist_has(seen, s))
		return 0;
	if (exception && strcmp(s, exception) == 0) {
		strlist_push(seen, s);
		return 0;
	}
	if (url_list_parse(s, &n, err, cap) < 0)
		return -1;
	url_list_free(l);
	*l = n;
	strlist_free(seen);
	for (size_t i = 0; i < n.n; i++)
		if (!strlist_has(seen, n.v[i].str))
			strlist_push(seen, n.v[i].str);
	return 0;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);

		if (len == n && memcmp(p, v, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

static void set_str_list(struct str_list *l, const char *v, bool unique)
{
	struct str_list n = {0};

	split_commas(v, &n);
	if (unique) {
		size_t w = 0;

		strlist_sort(&n);
		for (size_t i = 0; i < n.n; i++) {
			if (w && strcmp(n.v[w - 1], n.v[i]) == 0)
				free(n.v[i]);
			else
				n.v[w++] = n.v[i];
		}
		n.n = w;
	}
	strlist_free(l);
	*l = n;
}

/* etcd's uint32Value.Set returns strconv's own error. */
static int set_uint32(uint32_t *p, const char *v, char *err, size_t cap)
{
	uint64_t u;
	enum go_num_err e = go_parse_uint(v, 0, 32, &u);
	char *qv;

	*p = (uint32_t)u;
	if (e == GO_NUM_OK)
		return 0;
	qv = go_quoted(v);
	errbuf_printf(err, cap, "strconv.ParseUint: parsing %s: %s", qv,
		      e == GO_NUM_RANGE ? "value out of range" : "invalid syntax");
	free(qv);
	return -1;
}

/* Go's flag package hides strconv's error behind errParse / errRange. */
static int num_result(enum go_num_err e, char *err, size_t cap)
{
	if (e == GO_NUM_OK)
		return 0;
	errbuf_printf(err, cap, "%s", e == GO_NUM_RANGE ? "value out of range" : "parse error");
	return -1;
}

int config_set_value(struct config *c, const struct flag_def *f, const char *v, char *err,
		     size_t cap)
{
	void *p = field(c, f);

	switch (f->type) {
	case FT_STR:
		set_str(p, v);
		return 0;
	case FT_BOOL:
		if (go_parse_bool(v, p) < 0)
			return errbuf_printf(err, cap, "parse error"), -1;
		return 0;
	case FT_UINT:
		return num_result(go_parse_uint(v, 0, 64, p), err, cap);
	case FT_INT64:
		return num_result(go_parse_int(v, 0, 64, p), err, cap);
	case FT_UINT32:
		return set_uint32(p, v, err, cap);
	case FT_DUR:
		if (go_parse_duration(v, p) < 0)
			return errbuf_printf(err, cap, "parse error"), -1;
		return 0;
	case FT_URLS:
		return urls_set(p, &flag_state(c, f)->seen, v, f->extra, err, cap);
	case FT_CHOICE:
		if (!choice_ok(f->extra, v))
			return errbuf_printf(err, cap, "invalid value"), -1;
		set_str(p, v);
		return 0;
	case FT_STRS:
		set_str_list(p, v, false);
		return 0;
	case FT_USTRS:
		set_str_list(p, v, true);
		return 0;
	case FT_IGNORED:
		log_warn("pkg/flags", "flag \"-%s\" is no longer supported - ignoring.", f->name);
		return 0;
	}
	return 0;
}

void config_free_value(struct config *c, const struct flag_def *f)
{
	void *p = field(c, f);

	switch (f->type) {
	case FT_STR:
	case FT_CHOICE:
		free(*(char **)p);
		*(char **)p = NULL;
		break;
	case FT_URLS:
		url_list_free(p);
		break;
	case FT_STRS:
	case FT_USTRS:
		strlist_free(p);
		break;
	default:
		break;
	}
}

bool config_value_eq(const struct config *a, const struct config *b, const struct flag_def *f)
{
	const void *x = field(a, f), *y = field(b, f);

	switch (f->type) {
	case FT_STR:
	case FT_CHOICE:
		return strcmp(*(char *const *)x, *(char *const *)y) == 0;
	case FT_BOOL:
		return *(const bool *)x == *(const bool *)y;
	case FT_UINT:
		return *(const uint64_t *)x == *(const uint64_t *)y;
	case FT_UINT32:
		return *(const uint32_t *)x == *(const uint32_t *)y;
	case FT_INT64:
	case FT_DUR:
		return *(const int64_t *)x == *(const int64_t *)y;
	case FT_URLS: {
		const struct str_list *l = &flag_state(a, f)->seen, *m = &flag_state(b, f)->seen;

		if (l->n != m->n)
			return false;
		for (size_t i = 0; i < l->n; i++)
			if (!strlist_has(m, l->v[i]))
				return false;
		return true;
	}
	case FT_STRS:
	case FT_USTRS:
		return strlist_eq(x, y);
	case FT_IGNORED:
		return true;
	}
	return true;
}

void config_init_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->flags = xcalloc(flag_count, sizeof *c->flags);
	for (size_t i = 0; i < flag_count; i++) {
		const struct flag_def *f = &flag_table[i];
		char err[256];

		if (f->type == FT_IGNORED)
			continue;
		if (f->type == FT_STR || f->type == FT_CHOICE) {
			set_str(field(c, f), f->def);
			continue;
		}
		if ((f->type == FT_URLS || f->type == FT_STRS) && f->def[0] == '\0')
			continue; /* etcd: New...Value("") is empty */
		if (config_set_value(c, f, f->def, err, sizeof err) < 0)
			abort(); /* table bug */
	}
}
