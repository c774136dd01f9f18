/* url.c - etcd's URL flags: a subset of Go's net/url.Parse (enough to
 * reproduce its errors and String() for the URLs etcd accepts),
 * net.SplitHostPort, and etcd's types.NewURLs / NewURLsMap on top.
 * See url.h. */
#include "util/url.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/goparse.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static char lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* strings.TrimSpace (ASCII) of s[0..n) into a new string. */
static char *trim_dup(const char *s, size_t n)
{
	while (n && is_space(*s))
		s++, n--;
	while (n && is_space(s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* ------------------------------------------------------------------ */
/* Go net/url.Parse                                                    */

struct go_url {
	char *scheme, *userinfo, *host, *path, *query, *frag, *opaque;
	bool force_query;
};

static void go_url_free(struct go_url *u)
{
	free(u->scheme);
	free(u->userinfo);
	free(u->host);
	free(u->path);
	free(u->query);
	free(u->frag);
	free(u->opaque);
	memset(u, 0, sizeof *u);
}

static bool valid_optional_port(const char *p)
{
	if (*p == '\0')
		return true;
	if (*p++ != ':')
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* net/url shouldEscape(c, encodeHost) for ASCII: true = not allowed. */
static bool host_char_bad(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
		return false;
	return !strchr("-._~!$&'()*+,;=:[]<>\"%", ch) || ch == '\0';
}

static int unhex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (lower(ch) >= 'a' && lower(ch) <= 'f')
		return lower(ch) - 'a' + 10;
	return -1;
}

/* net/url unescape() validation: 0, or -1 with `invalid URL escape "%.."`
 * (in host mode only %25 and %80-%FF are allowed). */
static int check_escapes(const char *s, bool host, char *why, size_t cap)
{
	for (size_t i = 0; s[i]; i++) {
		if (s[i] != '%')
			continue;
		if (!s[i + 1] || !s[i + 2] || unhex(s[i + 1]) < 0 || unhex(s[i + 2]) < 0 ||
		    (host && unhex(s[i + 1]) < 8 && strncmp(s + i, "%25", 3) != 0)) {
			char esc[4] = {0};
			char *q;

			strncpy(esc, s + i, 3);
			q = go_quoted(esc);
			errbuf_printf(why, cap, "invalid URL escape %s", q);
			free(q);
			return -1;
		}
		i += 2;
	}
	return 0;
}

/* getScheme: the scheme (lower-cased, maybe "") and where the rest starts.
 * Returns 0, or -1 for a URL that starts with ':'. */
static int split_scheme(const char *raw, struct go_url *u, const char **rest)
{
	*rest = raw;
	for (size_t i = 0; raw[i]; i++) {
		char ch = raw[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
			continue;
		if ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.') {
			if (i == 0)
				break;
			continue;
		}
		if (ch == ':') {
			if (i == 0)
				return -1;
			u->scheme = xstrndup(raw, i);
			for (char *p = u->scheme; *p; p++)
				*p = lower(*p);
			*rest = raw + i + 1;
		}
		break;
	}
	if (!u->scheme)
		u->scheme = xstrdup("");
	return 0;
}

/* Splits the query off rest: returns the part before '?' (new string). */
static char *split_query(const char *rest, struct go_url *u)
{
	size_t rl = strlen(rest);
	const char *q = strchr(rest, '?');

	if (rl && q == rest + rl - 1) {
		u->force_query = true;
		u->query = xstrdup("");
		return xstrndup(rest, rl - 1);
	}
	u->query = xstrdup(q ? q + 1 : "");
	return q ? xstrndup(rest, (size_t)(q - rest)) : xstrdup(rest);
}

/* parseHost checks on u->host (and the escapes of u->path). */
static int check_host(const struct go_url *u, const char *qin, char *err, size_t cap)
{
	const char *h = u->host, *port;
	char why[64];

	if (h[0] == '[') {
		const char *rb = strrchr(h, ']');

		if (!rb) {
			errbuf_printf(err, cap, "parse %s: missing ']' in host", qin);
			return -1;
		}
		port = rb + 1;
	} else {
		port = strrchr(h, ':');
		if (!port)
			port = "";
	}
	if (!valid_optional_port(port)) {
		char *qp = go_quoted(port);

		errbuf_printf(err, cap, "parse %s: invalid port %s after host", qin, qp);
		free(qp);
		return -1;
	}
	for (const char *p = h; *p; p++)
		if ((unsigned char)*p < 0x80 && host_char_bad((unsigned char)*p)) {
			char c1[2] = {*p, 0};
			char *qc = go_quoted(c1);

			errbuf_printf(err, cap, "parse %s: invalid character %s in host name", qin,
				      qc);
			free(qc);
			return -1;
		}
	if (check_escapes(h, true, why, sizeof why) < 0 ||
	    check_escapes(u->path, false, why, sizeof why) < 0) {
		errbuf_printf(err, cap, "parse %s: %s", qin, why);
		return -1;
	}
	return 0;
}

/* url.Parse: fills *u, or returns -1 with Go's `parse "<in>": <why>`. */
static int go_url_parse(const char *in, struct go_url *u, char *err, size_t cap)
{
	const char *hash = strchr(in, '#');
	char *raw = hash ? xstrndup(in, (size_t)(hash - in)) : xstrdup(in);
	char *qin = go_quoted(in), *tmp = NULL;
	const char *rest;
	int rc = -1;

	memset(u, 0, sizeof *u);
	u->frag = xstrdup(hash ? hash + 1 : "");
	for (const char *p = in; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			errbuf_printf(err, cap,
				      "parse %s: net/url: invalid control character in URL", qin);
			goto out;
		}
	if (split_scheme(raw, u, &rest) < 0) {
		errbuf_printf(err, cap, "parse %s: missing protocol scheme", qin);
		goto out;
	}
	tmp = split_query(rest, u);
	if (tmp[0] != '/' && u->scheme[0]) {
		u->opaque = tmp;
		tmp = NULL;
	} else if (tmp[0] != '/') {
		const char *slash = strchr(tmp, '/'), *colon = strchr(tmp, ':');

		if (colon && (!slash || colon < slash)) {
			errbuf_printf(err, cap,
				      "parse %s: first path segment in URL cannot contain colon",
				      qin);
			goto out;
		}
	} else if (tmp[1] == '/' && (u->scheme[0] || strncmp(tmp, "///", 3) != 0)) {
		const char *auth = tmp + 2, *slash = strchr(auth, '/');
		size_t an = slash ? (size_t)(slash - auth) : strlen(auth);
		char *a = xstrndup(auth, an), *at = strrchr(a, '@');

		if (at)
			u->userinfo = xstrndup(a, (size_t)(at - a));
		u->host = xstrdup(at ? at + 1 : a);
		free(a);
		memmove(tmp, auth + an, strlen(auth + an) + 1);
	}
	u->path = xstrdup(tmp ? tmp : "");
	if (!u->host)
		u->host = xstrdup("");
	rc = check_host(u, qin, err, cap);
out:
	free(tmp);
	free(raw);
	free(qin);
	if (rc < 0)
		go_url_free(u);
	return rc;
}

/* url.URL.String() */
static char *go_url_string(const struct go_url *u)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	if (u->scheme[0]) {
		buf_puts(&b, u->scheme);
		buf_putc(&b, ':');
	}
	if (u->opaque) {
		buf_puts(&b, u->opaque);
	} else if (u->scheme[0] || u->host[0] || u->userinfo) {
		if (u->host[0] || u->path[0] || u->userinfo)
			buf_puts(&b, "//");
		if (u->userinfo) {
			buf_puts(&b, u->userinfo);
			buf_putc(&b, '@');
		}
		buf_puts(&b, u->host);
		buf_puts(&b, u->path);
	} else {
		buf_puts(&b, u->path);
	}
	if (u->force_query || u->query[0]) {
		buf_putc(&b, '?');
		buf_puts(&b, u->query);
	}
	if (u->frag[0]) {
		buf_putc(&b, '#');
		buf_puts(&b, u->frag);
	}
	return buf_steal(&b, NULL);
}

/* net.SplitHostPort: host (brackets stripped) and port; 0 or -1. */
static int split_host_port(const char *hp, char **host, char **port)
{
	const char *colon = strrchr(hp, ':');
	size_t j = 0, k = 0;
	const char *h;
	size_t hn;

	*host = *port = NULL;
	if (!colon)
		return -1; /* missing port in address */
	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (!end || end + 1 != colon)
			return -1; /* missing ']' / missing port / too many colons */
		h = hp + 1;
		hn = (size_t)(end - h);
		j = 1;
		k = (size_t)(end - hp) + 1;
	} else {
		h = hp;
		hn = (size_t)(colon - hp);
		if (memchr(h, ':', hn))
			return -1; /* too many colons */
	}
	if (strchr(hp + j, '[') || strchr(hp + k, ']'))
		return -1;
	*host = xstrndup(h, hn);
	*port = xstrdup(colon + 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* etcd's pkg/types                                                    */

void url_free(struct url *u)
{
	free(u->str);
	free(u->scheme);
	free(u->host);
	free(u->port);
	memset(u, 0, sizeof *u);
}

void url_list_free(struct url_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		url_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void url_map_free(struct url_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		url_free(&m->v[i].url);
	}
	free(m->v);
	memset(m, 0, sizeof *m);
}

static bool scheme_ok(const char *s)
{
	return !strcmp(s, "http") || !strcmp(s, "https") || !strcmp(s, "unix") ||
	       !strcmp(s, "unixs");
}

/* One item of types.NewURLs. */
int url_parse(const char *in, struct url *out, char *err, size_t cap)
{
	struct go_url g;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (go_url_parse(in, &g, err, cap) < 0)
		return -1;
	if (!scheme_ok(g.scheme))
		errbuf_printf(err, cap, "URL scheme must be http, https, unix, or unixs: %s", in);
	else if (split_host_port(g.host, &out->host, &out->port) < 0)
		errbuf_printf(err, cap, "URL address does not have the form \"host:port\": %s", in);
	else if (g.path[0])
		errbuf_printf(err, cap, "URL must not contain a path: %s", in);
	else
		rc = 0;
	if (rc == 0) {
		out->scheme = xstrdup(g.scheme);
		out->str = go_url_string(&g);
	} else {
		url_free(out);
	}
	go_url_free(&g);
	return rc;
}

static int cmp_url(const void *a, const void *b)
{
	return strcmp(((const struct url *)a)->str, ((const struct url *)b)->str);
}

/* types.NewURLs: strings.Split(s, ",") (so "" is one empty item), each
 * item trimmed and parsed, then sorted. */
int url_list_parse(const char *s, struct url_list *out, char *err, size_t cap)
{
	struct url_list l = {0};

	memset(out, 0, sizeof *out);
	for (;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char *in = trim_dup(s, n);
		int rc;

		l.v = xrealloc(l.v, (l.n + 1) * sizeof *l.v);
		rc = url_parse(in, &l.v[l.n], err, cap);
		free(in);
		if (rc < 0) {
			url_list_free(&l);
			return -1;
		}
		l.n++;
		if (!comma)
			break;
		s = comma + 1;
	}
	qsort(l.v, l.n, sizeof *l.v, cmp_url);
	*out = l;
	return 0;
}

/* types.NewURLsMap (parse + NewURLs of each value). */
int url_map_parse(const char *s, struct url_map *out, char *err, size_t cap)
{
	memset(out, 0, sizeof *out);
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		const char *eq = memchr(s, '=', n);
		struct url_map_entry e;
		char *in;
		int rc;

		if (n > 0) {
			in = eq ? trim_dup(eq + 1, (size_t)(s + n - eq - 1)) : xstrdup("");
			e.name = xstrndup(s, eq ? (size_t)(eq - s) : n);
			rc = url_parse(in, &e.url, err, cap);
			free(in);
			if (rc < 0) {
				free(e.name);
				url_map_free(out);
				return -1;
			}
			out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
			out->v[out->n++] = e;
		}
		s += n + (comma ? 1 : 0);
	}
	return 0;
}

char *url_list_join(const struct url_list *l, const char *sep)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			buf_puts(&b, sep);
		buf_puts(&b, l->v[i].str);
	}
	return buf_steal(&b, NULL);
}
