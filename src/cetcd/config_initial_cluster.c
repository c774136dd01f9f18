/* config_initial_cluster.c - --initial-cluster: parsing it (etcd's
 * types.NewURLsMap, util/url.h), the value etcd derives from --name, and
 * the bootstrap check a new member runs (the local name must be there with
 * exactly its --initial-advertise-peer-urls). Messages are etcd 3.4.23's. */
#include "cetcd/config_private.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/goparse.h"

int config_initial_cluster_parse(const char *s, struct url_map *out, char *err, size_t cap)
{
	char why[512];

	if (url_map_parse(s, out, why, sizeof why) < 0) {
		errbuf_printf(err, cap, "error setting up initial cluster: %s", why);
		return -1;
	}
	return 0;
}

char *config_initial_cluster_from_name(const struct config *c)
{
	struct buf b = BUF_INIT;
	const char *n = c->name[0] ? c->name : "default";

	buf_puts(&b, "");
	for (size_t i = 0; i < c->initial_advertise_peer_urls.n; i++)
		buf_printf(&b, "%s%s=%s", i ? "," : "", n, c->initial_advertise_peer_urls.v[i].str);
	return buf_steal(&b, NULL);
}

/* etcd compares the two URL sets after resolving host names
 * (netutil.URLStringsEqual). Without DNS, cetcd only maps "localhost" to
 * 127.0.0.1, which is what /etc/hosts does for Go's resolver. */
static char *resolve_key(const char *url)
{
	const char *h = strstr(url, "://localhost:");
	struct buf b = BUF_INIT;

	if (!h)
		return xstrdup(url);
	buf_append(&b, url, (size_t)(h - url));
	buf_printf(&b, "://127.0.0.1:%s", h + strlen("://localhost:"));
	return buf_steal(&b, NULL);
}

/* The list with each URL resolved, sorted. */
static void resolved(const struct str_list *l, struct str_list *out)
{
	for (size_t i = 0; i < l->n; i++) {
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		out->v[out->n++] = resolve_key(l->v[i]);
	}
	strlist_sort(out);
}

static bool resolved_eq(const struct str_list *a, const struct str_list *b)
{
	struct str_list x = {0}, y = {0};
	bool eq;

	resolved(a, &x);
	resolved(b, &y);
	eq = strlist_eq(&x, &y);
	strlist_free(&x);
	strlist_free(&y);
	return eq;
}

/* The "(why)" of etcd's mismatch message (netutil.URLStringsEqual's error). */
static void mismatch_why(const struct str_list *ap, const struct str_list *mine, struct buf *why)
{
	if (ap->n != mine->n) {
		char *qa = quoted_list(ap->v, ap->n), *qm = quoted_list(mine->v, mine->n);

		buf_printf(why, "len(%s) != len(%s)", qa, qm);
		free(qa);
		free(qm);
		return;
	}
	for (size_t i = 0; i < ap->n; i++)
		if (strcmp(ap->v[i], mine->v[i]) != 0) {
			char *x = go_quoted(ap->v[i]), *y = go_quoted(mine->v[i]);

			buf_printf(why, "resolved urls: %s != %s", x, y);
			free(x);
			free(y);
			return;
		}
}

/* etcd's message when this member's URLs in --initial-cluster (mine) and
 * --initial-advertise-peer-urls (ap) differ; both sorted. */
static void mismatch_message(const struct config *c, const struct str_list *mine,
			     const struct str_list *ap, char *err, size_t cap)
{
	struct buf why = BUF_INIT, ms = BUF_INIT, as = BUF_INIT;
	struct str_list miss = {0};

	mismatch_why(ap, mine, &why);
	for (size_t i = 0; i < mine->n; i++)
		if (!strlist_has(ap, mine->v[i]) && !strlist_has(&miss, mine->v[i]))
			strlist_push(&miss, mine->v[i]);
	for (size_t i = 0; i < ap->n; i++)
		buf_printf(&as, "%s%s", i ? "," : "", ap->v[i]);
	if (miss.n) {
		for (size_t i = 0; i < miss.n; i++)
			buf_printf(&ms, "%s%s=%s", i ? "," : "", c->name, miss.v[i]);
		errbuf_printf(
			err, cap,
			"--initial-cluster has %s but missing from --initial-advertise-peer-urls=%s (%s)",
			ms.data, as.data ? as.data : "", why.data ? why.data : "");
	} else {
		for (size_t i = 0; i < ap->n; i++)
			if (!strlist_has(mine, ap->v[i]))
				buf_printf(&ms, "%s%s", ms.len ? "," : "", ap->v[i]);
		/* umap.String(): name=url pairs of the advertise URLs, sorted */
		buf_reset(&why);
		for (size_t i = 0; i < ap->n; i++)
			buf_printf(&why, "%s%s=%s", i ? "," : "", c->name, ap->v[i]);
		errbuf_printf(
			err, cap,
			"--initial-advertise-peer-urls has %s but missing from --initial-cluster=%s",
			ms.data ? ms.data : "", why.data);
	}
	strlist_free(&miss);
	buf_free(&why);
	buf_free(&ms);
	buf_free(&as);
}

int config_check_initial_cluster(const struct config *c, const struct url_map *cl, char *err,
				 size_t cap)
{
	struct str_list mine = {0}, ap = {0};
	int rc = 0;

	for (size_t i = 0; i < cl->n; i++)
		if (strcmp(cl->v[i].name, c->name) == 0)
			strlist_push(&mine, cl->v[i].url.str);
	if (mine.n == 0) {
		char *qn = go_quoted(c->name);

		errbuf_printf(err, cap,
			      "couldn't find local name %s in the initial cluster configuration",
			      qn);
		free(qn);
		return -1;
	}
	for (size_t i = 0; i < c->initial_advertise_peer_urls.n; i++)
		strlist_push(&ap, c->initial_advertise_peer_urls.v[i].str);
	strlist_sort(&mine);
	strlist_sort(&ap);
	if (!resolved_eq(&mine, &ap)) {
		mismatch_message(c, &mine, &ap, err, cap);
		rc = -1;
	}
	strlist_free(&mine);
	strlist_free(&ap);
	return rc;
}
