/* cluster.c - members and etcd-compatible IDs (see cluster.h). */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sha1.h"

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
	char **dst = calloc(n ? n : 1, sizeof(*dst));
	if (dst == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		dst[i] = strdup(src[i]);
		if (dst[i] == NULL)
			abort();
	}
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
	uint8_t *ids = malloc(8 * n + 1);
	if (ids == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 8; j++)
			ids[8 * i + (size_t)j] = (uint8_t)(c->members[i].id >> (56 - 8 * j));
	uint8_t h[20];
	sha1(ids, 8 * n, h);
	free(ids);
	c->id = be64(h);
}

void cluster_add_member(struct cluster *c, const char *name, char *const *peer_urls,
			size_t n_peer, char *const *client_urls, size_t n_client,
			const char *token)
{
	c->members = realloc(c->members, (c->n_members + 1) * sizeof(*c->members));
	if (c->members == NULL)
		abort();
	struct member *m = &c->members[c->n_members++];
	m->id = cluster_member_id(peer_urls, n_peer, token);
	m->name = strdup(name);
	m->peer_urls = copy_strs(peer_urls, n_peer);
	qsort(m->peer_urls, n_peer, sizeof(char *), cmp_str);
	m->n_peer_urls = n_peer;
	m->client_urls = copy_strs(client_urls, n_client);
	m->n_client_urls = n_client;
	qsort(c->members, c->n_members, sizeof(*c->members), cmp_member);
	recompute_cluster_id(c);
}

struct member *cluster_find(struct cluster *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_members; i++)
		if (c->members[i].id == id)
			return &c->members[i];
	return NULL;
}

void cluster_free(struct cluster *c)
{
	for (size_t i = 0; i < c->n_members; i++) {
		free(c->members[i].name);
		free_strs(c->members[i].peer_urls, c->members[i].n_peer_urls);
		free_strs(c->members[i].client_urls, c->members[i].n_client_urls);
	}
	free(c->members);
	c->members = NULL;
	c->n_members = 0;
}
