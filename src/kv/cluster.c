/* cluster.c - members and etcd-compatible IDs (see cluster.h). */
#include "kv/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/le.h"
#include "util/sha1.h"
#include "util/xalloc.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_member(const void *a, const void *b)
{
	uint64_t x = ((const struct member *)a)->id, y = ((const struct member *)b)->id;
	return x < y ? -1 : x > y;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static char **copy_strs(char *const *src, size_t n)
{
	char **dst = xcalloc(n, sizeof(*dst));
	for (size_t i = 0; i < n; i++)
		dst[i] = xstrdup(src[i]);
	return dst;
}

static void free_strs(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

uint64_t cluster_member_id(char *const *peer_urls, size_t n, const char *token)
{
	char **sorted = copy_strs(peer_urls, n);
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++)
		buf_puts(&b, sorted[i]);
	buf_puts(&b, token);
	uint8_t h[20];
	sha1(b.data, b.len, h);
	buf_free(&b);
	free_strs(sorted, n);
	return be64(h);
}

static void recompute_cluster_id(struct cluster *c)
{
	size_t n = c->n_members;
	uint8_t *ids = xmalloc(8 * n + 1);
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 8; j++)
			ids[8 * i + (size_t)j] = (uint8_t)(c->members[i].id >> (56 - 8 * j));
	uint8_t h[20];
	sha1(ids, 8 * n, h);
	free(ids);
	c->id = be64(h);
}

void cluster_add_member(struct cluster *c, const char *name, char *const *peer_urls, size_t n_peer,
			char *const *client_urls, size_t n_client, const char *token)
{
	cluster_put_member(c, cluster_member_id(peer_urls, n_peer, token), name, peer_urls, n_peer,
			   client_urls, n_client);
	recompute_cluster_id(c);
}

/* The index of id's member in c->members, or c->n_members. */
static size_t member_index(const struct cluster *c, uint64_t id)
{
	size_t i = 0;
	while (i < c->n_members && c->members[i].id != id)
		i++;
	return i;
}

const struct member *cluster_find(const struct cluster *c, uint64_t id)
{
	size_t i = member_index(c, id);
	return i < c->n_members ? &c->members[i] : NULL;
}

/* cluster_find for the table's own changes. */
static struct member *find_member(struct cluster *c, uint64_t id)
{
	size_t i = member_index(c, id);
	return i < c->n_members ? &c->members[i] : NULL;
}

static void member_free(struct member *m)
{
	free(m->name);
	free_strs(m->peer_urls, m->n_peer_urls);
	free_strs(m->client_urls, m->n_client_urls);
}

void cluster_free(struct cluster *c)
{
	for (size_t i = 0; i < c->n_members; i++)
		member_free(&c->members[i]);
	free(c->members);
	free(c->removed);
	c->members = NULL;
	c->n_members = 0;
	c->removed = NULL;
	c->n_removed = 0;
}

void cluster_put_member(struct cluster *c, uint64_t id, const char *name, char *const *peer_urls,
			size_t n_peer, char *const *client_urls, size_t n_client)
{
	struct member *m = find_member(c, id);
	if (m) {
		member_free(m);
	} else {
		c->members = xrealloc(c->members, (c->n_members + 1) * sizeof(*c->members));
		m = &c->members[c->n_members++];
	}
	m->id = id;
	m->name = xstrdup(name);
	m->peer_urls = copy_strs(peer_urls, n_peer);
	qsort(m->peer_urls, n_peer, sizeof(char *), cmp_str);
	m->n_peer_urls = n_peer;
	m->client_urls = copy_strs(client_urls, n_client);
	m->n_client_urls = n_client;
	qsort(c->members, c->n_members, sizeof(*c->members), cmp_member);
}

bool cluster_peer_url_taken(const struct cluster *c, char *const *urls, size_t n, uint64_t except)
{
	for (size_t i = 0; i < c->n_members; i++) {
		const struct member *m = &c->members[i];
		if (m->id == except)
			continue;
		for (size_t j = 0; j < m->n_peer_urls; j++)
			for (size_t k = 0; k < n; k++)
				if (strcmp(m->peer_urls[j], urls[k]) == 0)
					return true;
	}
	return false;
}

int cluster_set_peer_urls(struct cluster *c, uint64_t id, char *const *urls, size_t n)
{
	struct member *m = find_member(c, id);
	if (m == NULL)
		return -1;
	free_strs(m->peer_urls, m->n_peer_urls);
	m->peer_urls = copy_strs(urls, n);
	qsort(m->peer_urls, n, sizeof(char *), cmp_str);
	m->n_peer_urls = n;
	return 0;
}

void cluster_remove_member(struct cluster *c, uint64_t id)
{
	struct member *m = find_member(c, id);
	if (m) {
		member_free(m);
		size_t i = (size_t)(m - c->members);
		memmove(m, m + 1, (c->n_members - i - 1) * sizeof(*m));
		c->n_members--;
	}
	if (!cluster_is_removed(c, id)) {
		c->removed = xrealloc(c->removed, (c->n_removed + 1) * sizeof(*c->removed));
		c->removed[c->n_removed++] = id;
	}
}

bool cluster_is_removed(const struct cluster *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_removed; i++)
		if (c->removed[i] == id)
			return true;
	return false;
}

void cluster_publish(struct cluster *c, uint64_t id, const char *name, char *const *client_urls,
		     size_t n_client)
{
	struct member *m = find_member(c, id);
	if (m == NULL)
		return;
	free(m->name);
	m->name = xstrdup(name);
	free_strs(m->client_urls, m->n_client_urls);
	m->client_urls = copy_strs(client_urls, n_client);
	m->n_client_urls = n_client;
}

/* ---- encoding: u8 version, u64 cluster id, u32 members, per member:
 * u64 id, str name, u32 n + str peer URLs, u32 n + str client URLs; then
 * u32 removed + u64 ids. Little-endian; str = u32 length + bytes. ---- */

#define CLUSTER_CODEC_VERSION 1

static void put_str(struct buf *b, const char *s)
{
	buf_put_le32(b, (uint32_t)strlen(s));
	buf_puts(b, s);
}

static void put_strs(struct buf *b, char *const *v, size_t n)
{
	buf_put_le32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		put_str(b, v[i]);
}

void cluster_encode(const struct cluster *c, struct buf *out)
{
	buf_putc(out, CLUSTER_CODEC_VERSION);
	buf_put_le64(out, c->id);
	buf_put_le32(out, (uint32_t)c->n_members);
	for (size_t i = 0; i < c->n_members; i++) {
		const struct member *m = &c->members[i];
		buf_put_le64(out, m->id);
		put_str(out, m->name);
		put_strs(out, m->peer_urls, m->n_peer_urls);
		put_strs(out, m->client_urls, m->n_client_urls);
	}
	buf_put_le32(out, (uint32_t)c->n_removed);
	for (size_t i = 0; i < c->n_removed; i++)
		buf_put_le64(out, c->removed[i]);
}

static char *get_str(struct le_reader *r)
{
	uint64_t n = le_read_uint(r, 4);
	const uint8_t *p = le_read_bytes(r, (size_t)n);
	if (p == NULL)
		return NULL;
	return xstrndup((const char *)p, (size_t)n);
}

/* Reads a string list; NULL (and r->bad) on malformed input. */
static char **get_strs(struct le_reader *r, size_t *n_out)
{
	uint64_t n = le_read_uint(r, 4);
	if (r->bad || n > r->left / 4) {
		r->bad = true;
		return NULL;
	}
	char **v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i] = get_str(r);
		if (v[i] == NULL) {
			free_strs(v, i);
			return NULL;
		}
	}
	*n_out = n;
	return v;
}

static int decode_member(struct le_reader *r, struct cluster *c)
{
	uint64_t id = le_read_uint(r, 8);
	char *name = get_str(r);
	size_t np = 0, nc = 0;
	char **peers = name ? get_strs(r, &np) : NULL;
	char **clients = peers ? get_strs(r, &nc) : NULL;
	int rc = -1;
	if (clients) {
		cluster_put_member(c, id, name, peers, np, clients, nc);
		rc = 0;
	}
	free(name);
	if (peers)
		free_strs(peers, np);
	if (clients)
		free_strs(clients, nc);
	return rc;
}

int cluster_decode(struct cluster *c, const void *data, size_t len)
{
	struct le_reader r = {data, len, false};
	struct cluster t = {0};
	if (le_read_uint(&r, 1) != CLUSTER_CODEC_VERSION)
		return -1;
	t.id = le_read_uint(&r, 8);
	uint64_t n = le_read_uint(&r, 4);
	for (uint64_t i = 0; i < n && !r.bad; i++)
		if (decode_member(&r, &t) != 0)
			r.bad = true;
	uint64_t nr = le_read_uint(&r, 4);
	for (uint64_t i = 0; i < nr && !r.bad; i++)
		cluster_remove_member(&t, le_read_uint(&r, 8));
	if (r.bad || r.left != 0) {
		cluster_free(&t);
		return -1;
	}
	cluster_free(c);
	*c = t;
	return 0;
}
