/* config_unsupported.c - flags cetcd accepts but does not act on: after a
 * successful parse, every such flag given with a non-default value (and
 * unix listen URLs) is listed in c->unsupported, and main logs them
 * as etcdmain warnings. */
#include "cetcd/config_private.h"

#include <string.h>

#include "util/log.h"

static void add_unsupported(struct config *c, const char *flag, const char *value, const char *why)
{
	c->unsupported = xrealloc(c->unsupported, (c->n_unsupported + 1) * sizeof *c->unsupported);
	c->unsupported[c->n_unsupported].flag = flag;
	c->unsupported[c->n_unsupported].value = xstrdup(value);
	c->unsupported[c->n_unsupported].why = why;
	c->n_unsupported++;
}

static bool has_scheme(const struct url_list *l, const char *scheme)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].scheme, scheme) == 0)
			return true;
	return false;
}

/* A listen URL flag cetcd honours for http and https only. */
static bool listen_scheme_unsupported(const struct config *c, const struct flag_def *f)
{
	const struct url_list *l = (const struct url_list *)((const char *)c + f->off);

	if (f->type != FT_URLS || strcmp(f->name, "cors") == 0 ||
	    strncmp(f->name, "listen-", 7) != 0)
		return false;
	return has_scheme(l, "unix") || has_scheme(l, "unixs");
}

void config_collect_unsupported(struct config *c)
{
	struct config d;

	config_init_defaults(&d);
	for (size_t i = 0; i < flag_count; i++) {
		const struct flag_def *f = &flag_table[i];
		const struct config_flag_state *st = flag_state(c, f);

		if (st->origin == ORIGIN_DEFAULT || f->type == FT_IGNORED)
			continue;
		if (f->impl == IM_YES) {
			if (listen_scheme_unsupported(c, f))
				add_unsupported(c, f->name, st->raw,
						"not supported yet (unix listen URLs)");
			continue;
		}
		if (!config_value_eq(c, &d, f))
			add_unsupported(c, f->name, st->raw, flag_unsupported_why(f));
	}
	config_free(&d);
}

void config_unsupported(const struct config *c)
{
	for (size_t i = 0; i < c->n_unsupported; i++) {
		const struct config_unsupported_flag *u = &c->unsupported[i];

		log_warn("etcdmain", "flag --%s=%s is %s", u->flag, u->value, u->why);
	}
}
