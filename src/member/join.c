/* join.c - a member started with --initial-cluster-state existing learns the
 * cluster it was added to: it asks the other members' peer URLs for GET
 * /members (etcd's GetClusterFromRemotePeers) and takes its id (the member
 * whose peer URLs are its own), the cluster id and the member table. */
#include "member/join.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_client.h"
#include "util/buf.h"
#include "util/goparse.h"
#include "util/json_quote.h"
#include "util/xalloc.h"

struct fetched {
	struct buf body;
	uint64_t cluster_id;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct fetched *f = ctx;
	buf_append(&f->body, data, size * n);
	return size * n;
}

/* types.IDFromString of a header value (blanks and CRLF around it); 0 if
 * it is not a hex id. */
static uint64_t header_id(const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len > 0 && strchr(" \t\r\n", v[len - 1]) != NULL)
		len--;
	char *s = xstrndup(v, len);
	uint64_t id;
	if (go_parse_uint(s, 16, 64, &id) != GO_NUM_OK)
		id = 0;
	free(s);
	return id;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct fetched *f = ctx;
	static const char name[] = "X-Etcd-Cluster-Id:";
	size_t len = size * n;
	if (len > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0)
		f->cluster_id = header_id(data + sizeof(name) - 1, len - (sizeof(name) - 1));
	return len;
}

static int fetch_members(const char *peer_url, const struct http_client_tls *tls, struct fetched *f)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s/members", peer_url);
	CURL *c = curl_easy_init();
	if (c == NULL)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (tls != NULL)
		http_client_tls_apply(c, tls);
	long status = 0;
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	return rc == CURLE_OK && status == 200 && f->cluster_id ? 0 : -1;
}

static char **json_strings(json_t *arr, size_t *n)
{
	*n = json_array_size(arr);
	char **v = xcalloc(*n, sizeof(*v));
	for (size_t i = 0; i < *n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));
		v[i] = (char *)(s ? s : "");
	}
	return v;
}

uint64_t join_table_from_json(const char *json, size_t len, char *const *own_urls, size_t n_own,
			      struct cluster *c)
{
	struct buf q = BUF_INIT;
	json_quote_numbers(json, len, &q);
	json_t *doc = json_loadb(q.data ? q.data : "", q.len, 0, NULL);
	buf_free(&q);
	uint64_t self = 0;
	size_t i;
	json_t *m;
	json_array_foreach(doc, i, m)
	{
		const char *name = json_string_value(json_object_get(m, "name"));
		size_t np, nc;
		char **peers = json_strings(json_object_get(m, "peerURLs"), &np);
		char **clients = json_strings(json_object_get(m, "clientURLs"), &nc);
		uint64_t id = json_quoted_id(json_string_value(json_object_get(m, "id")));
		cluster_put_member(c, id, name ? name : "", peers, np, clients, nc);
		for (size_t a = 0; a < np; a++)
			for (size_t b = 0; b < n_own; b++)
				if (strcmp(peers[a], own_urls[b]) == 0)
					self = id;
		free(peers);
		free(clients);
	}
	json_decref(doc);
	return self;
}

int join_existing_cluster(const struct cluster *initial, char *const *own_peer_urls, size_t n_own,
			  const struct http_client_tls *tls, struct join_result *out)
{
	for (size_t i = 0; i < initial->n_members; i++) {
		const struct member *m = &initial->members[i];
		for (size_t u = 0; u < m->n_peer_urls; u++) {
			bool own = false;
			for (size_t o = 0; o < n_own; o++)
				own = own || strcmp(m->peer_urls[u], own_peer_urls[o]) == 0;
			struct fetched f = {BUF_INIT, 0};
			uint64_t id = 0;
			struct cluster fresh = {0};
			if (!own && fetch_members(m->peer_urls[u], tls, &f) == 0)
				id = join_table_from_json(f.body.data, f.body.len, own_peer_urls,
							  n_own, &fresh);
			buf_free(&f.body);
			if (id != 0) {
				fresh.id = f.cluster_id;
				out->self_id = id;
				out->table = fresh;
				return 0;
			}
			cluster_free(&fresh);
		}
	}
	return -1;
}
