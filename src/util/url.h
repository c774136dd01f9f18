/* url.h - URLs as etcd reads them from flags and member requests: Go's
 * net/url.Parse and net.SplitHostPort under etcd's pkg/types rules
 * (NewURLs: scheme http/https/unix/unixs, "host:port", no path, sorted;
 * NewURLsMap: "name=url,name=url"). Errors carry Go's / etcd's text.
 * Pure libc: no I/O, no DNS. */
#ifndef CETCD_URL_H
#define CETCD_URL_H

#include <stddef.h>

/* One URL as etcd's types.NewURLs accepts it. All strings owned. */
struct url {
	char *str;    /* Go url.URL.String(): "<scheme>://<host>" */
	char *scheme; /* "http", "https", "unix" or "unixs" (lower-cased) */
	char *host;   /* host without brackets ("::1" for "[::1]:2379") */
	char *port;   /* decimal port text, may be "" ("http://h:") */
};

/* A URL list: sorted by str (etcd sorts them), duplicates kept. Owned. */
struct url_list {
	struct url *v;
	size_t n;
};

/* One name=url pair of a URLs map (--initial-cluster). */
struct url_map_entry {
	char *name;	/* owned */
	struct url url; /* owned */
};

/* A URLs map, pairs in the order given (a name may repeat). Owned. */
struct url_map {
	struct url_map_entry *v;
	size_t n;
};

/* Parses one URL (no surrounding spaces) as an item of types.NewURLs.
 * Returns 0, or -1 with Go's/etcd's message in err (e.g. `URL scheme must
 * be http, https, unix, or unixs: ftp://h:1`). Listeners use this. */
int url_parse(const char *in, struct url *out, char *err, size_t errcap);

/* types.NewURLs: a comma-separated list, each item trimmed, sorted. */
int url_list_parse(const char *s, struct url_list *out, char *err, size_t errcap);

/* types.NewURLsMap: "name=url,..." (empty items skipped; an item without
 * '=' is a name with an empty URL, which fails). The error is the failing
 * URL's message. */
int url_map_parse(const char *s, struct url_map *out, char *err, size_t errcap);

/* The URLs' str joined with sep (", " for /v2/machines, "," for flags).
 * Returns a malloc'd string the caller frees. */
char *url_list_join(const struct url_list *l, const char *sep);

void url_free(struct url *u);
void url_list_free(struct url_list *l);
void url_map_free(struct url_map *m);

#endif /* CETCD_URL_H */
