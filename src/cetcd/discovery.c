/* discovery.c - the v2 discovery client (discovery.h): requests to the
 * discovery service over libcurl easy (blocking, before any loop), v2
 * replies read with jansson, and etcd's joinCluster / getCluster /
 * checkCluster / waitNodes logic with its retries and log lines. */
#include "cetcd/discovery.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/goparse.h"
#include "util/log.h"
#include "util/url.h"
#include "util/xalloc.h"

#define REQUEST_TIMEOUT_MS 5000	 /* client.DefaultRequestTimeout */
#define DIAL_TIMEOUT_MS	   30000 /* transport.NewTransport's dial timeout */
#define MAX_EXP_RETRIES	   8	 /* maxExpoentialRetries: 256 s at most */
#define DEFAULT_RETRIES	   8

struct node {
	char *key, *value;
	uint64_t created, modified;
};

struct disc {
	char *base;	/* scheme://host[:port] */
	char *hostport; /* host[:port], for dial errors */
	char *token;	/* the URL's path: "/v2/keys/<token>" */
	char *self_key; /* token + "/" + id in hex */
	char *proxy;	/* "" = no proxy at all (not even the environment's) */
	unsigned retries, max_retries;
	CURL *curl;
	char *err; /* the caller's error buffer */
	size_t cap;
};

/* One HTTP answer. fail: DISC_OK; a ClusterError (transport or 5xx, to be
 * retried: detail set); or another error (text in d->err). */
struct reply {
	long status;
	uint64_t index; /* X-Etcd-Index */
	struct buf body;
};

enum outcome {
	R_OK,
	R_CLUSTER,
	R_FAIL
};

/* ---- nodes ---------------------------------------------------------------- */

static void nodes_free(struct node *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static void node_from_json(json_t *j, struct node *out)
{
	const char *k = json_string_value(json_object_get(j, "key"));
	const char *v = json_string_value(json_object_get(j, "value"));
	out->key = xstrdup(k ? k : "");
	out->value = xstrdup(v ? v : "");
	out->created = (uint64_t)json_integer_value(json_object_get(j, "createdIndex"));
	out->modified = (uint64_t)json_integer_value(json_object_get(j, "modifiedIndex"));
}

/* path.Base */
static const char *base_name(const char *key)
{
	size_t n = strlen(key);
	while (n > 1 && key[n - 1] == '/')
		n--;
	const char *s = key + n;
	while (s > key && s[-1] != '/')
		s--;
	return s;
}

static bool same_base(const char *a, const char *b)
{
	const char *x = base_name(a), *y = base_name(b);
	size_t lx = strcspn(x, "/"), ly = strcspn(y, "/");
	return lx == ly && strncmp(x, y, lx) == 0;
}

static int by_created(const void *a, const void *b)
{
	const struct node *x = a, *y = b;
	return x->created < y->created ? -1 : x->created > y->created;
}

/* ---- HTTP ----------------------------------------------------------------- */

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
	buf_append(ctx, p, sz * n);
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ctx)
{
	struct reply *r = ctx;
	size_t len = sz * n;
	static const char name[] = "x-etcd-index:";
	if (len > sizeof name && strncasecmp(p, name, sizeof name - 1) == 0)
		r->index = strtoull(p + sizeof name - 1, NULL, 10);
	return len;
}

/* The Go text of a transport error, as the client's ClusterError has it. */
static void transport_error(struct disc *d, CURLcode rc, const char *cerr, struct buf *detail)
{
	long os = 0;
	curl_easy_getinfo(d->curl, CURLINFO_OS_ERRNO, &os);
	if (rc == CURLE_COULDNT_CONNECT && os != 0) {
		char why[128];
		snprintf(why, sizeof why, "%s", strerror((int)os));
		why[0] = (char)(why[0] >= 'A' && why[0] <= 'Z' ? why[0] + 32 : why[0]);
		buf_printf(detail, "dial tcp %s: connect: %s", d->hostport, why);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		buf_puts(detail, "context deadline exceeded");
	} else {
		buf_puts(detail, cerr[0] ? cerr : curl_easy_strerror(rc));
	}
}

/* One request. method GET or PUT (form body). timeout_ms 0 = none. */
static enum outcome http_do(struct disc *d, const char *method, const char *path, const char *form,
			    long timeout_ms, struct reply *r, struct buf *detail)
{
	char cerr[CURL_ERROR_SIZE] = "";
	struct buf url = BUF_INIT;
	buf_printf(&url, "%s%s", d->base, path);
	CURL *c = d->curl;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	curl_easy_setopt(c, CURLOPT_PROXY, d->proxy);
	if (d->proxy[0])
		curl_easy_setopt(c, CURLOPT_NOPROXY, "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)DIAL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* a watch has no timeout: keep-alive probes notice a vanished host */
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	}
	CURLcode rc = curl_easy_perform(c);
	buf_free(&url);
	if (rc != CURLE_OK) {
		transport_error(d, rc, cerr, detail);
		return R_CLUSTER;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status / 100 == 5) {
		if (r->status == 500 || r->status == 503)
			buf_printf(detail, "client: etcd member %s has no leader", d->base);
		else
			buf_printf(detail, "client: etcd member %s returns server error [%s]",
				   d->base,
				   r->status == 502 ? "Bad Gateway" :
				   r->status == 504 ? "Gateway Timeout" :
						      "Internal Server Error");
		return R_CLUSTER;
	}
	return R_OK;
}

/* The reply as a v2 answer: its node, or an error set in d->err
 * (etcd's client.Error text, or ErrBadDiscoveryEndpoint for bytes that are
 * not JSON). Returns the parsed document (caller decrefs) or NULL. */
static json_t *v2_answer(struct disc *d, const struct reply *r, enum disc_err *code)
{
	json_error_t je;
	json_t *j = r->body.len ? json_loadb(r->body.data, r->body.len, 0, &je) : NULL;
	if (r->status == 200 || r->status == 201) {
		if (j && json_is_object(j))
			return j;
		json_decref(j);
		*code = DISC_BAD_ENDPOINT;
		errbuf_printf(d->err, d->cap, "discovery: bad discovery endpoint");
		return NULL;
	}
	json_t *ec = j ? json_object_get(j, "errorCode") : NULL;
	if (!ec) {
		*code = DISC_OTHER;
		errbuf_printf(d->err, d->cap, "%s",
			      j ? "unexpected error reply" : "invalid character in error reply");
	} else {
		const char *m = json_string_value(json_object_get(j, "message"));
		const char *cause = json_string_value(json_object_get(j, "cause"));
		*code = json_integer_value(ec) == 105 ? DISC_DUPLICATE_ID : DISC_OTHER;
		errbuf_printf(d->err, d->cap, "%" JSON_INTEGER_FORMAT ": %s (%s) [%" PRIu64 "]",
			      json_integer_value(ec), m ? m : "", cause ? cause : "",
			      (uint64_t)json_integer_value(json_object_get(j, "index")));
	}
	json_decref(j);
	return NULL;
}

/* ---- retries -------------------------------------------------------------- */

static void sleep_s(unsigned s)
{
	struct timespec ts = {.tv_sec = s};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* logAndBackoffForRetry. Returns false when the retries are used up. */
static bool backoff(struct disc *d, const char *step)
{
	if (d->retries >= d->max_retries)
		return false;
	d->retries++;
	unsigned e = d->retries > MAX_EXP_RETRIES ? MAX_EXP_RETRIES : d->retries;
	unsigned s = 1u << e;
	log_info("discovery", "%s: error connecting to %s, retrying in %us", step, d->base, s);
	sleep_s(s);
	return true;
}

static enum disc_err too_many(struct disc *d)
{
	errbuf_printf(d->err, d->cap, "discovery: too many retries");
	return DISC_TOO_MANY_RETRIES;
}

/* ---- the protocol ----------------------------------------------------------- */

struct view {
	struct node *nodes;
	size_t n;
	uint64_t size, index;
};

static enum disc_err check_cluster(struct disc *d, struct view *v);

static enum disc_err cluster_error(struct disc *d, struct buf *detail, struct view *v)
{
	log_error("discovery", "error #0: %s", detail->data ? detail->data : "");
	buf_free(detail);
	if (!backoff(d, "cluster status check"))
		return too_many(d);
	return check_cluster(d, v);
}

/* GET <token>/_config/size. */
static enum disc_err read_size(struct disc *d, uint64_t *size, struct buf *detail)
{
	struct reply r = {0};
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s/_config/size", d->token);
	enum outcome o = http_do(d, "GET", p.data, NULL, REQUEST_TIMEOUT_MS, &r, detail);
	buf_free(&p);
	if (o == R_CLUSTER) {
		buf_free(&r.body);
		return DISC_TOO_MANY_RETRIES; /* "retry" for the caller */
	}
	enum disc_err code = DISC_OK;
	json_t *j = v2_answer(d, &r, &code);
	buf_free(&r.body);
	if (!j)
		return code == DISC_DUPLICATE_ID ? DISC_OTHER : code;
	const char *val = json_string_value(json_object_get(json_object_get(j, "node"), "value"));
	bool bad = !val || go_parse_uint(val, 10, 64, size) != GO_NUM_OK;
	json_decref(j);
	if (bad) {
		errbuf_printf(d->err, d->cap, "discovery: size key is bad");
		return DISC_BAD_SIZE;
	}
	return DISC_OK;
}

/* GET <token>: the registered members (not _config), by createdIndex. */
static enum disc_err read_nodes(struct disc *d, struct view *v, struct buf *detail)
{
	struct reply r = {0};
	enum outcome o = http_do(d, "GET", d->token, NULL, REQUEST_TIMEOUT_MS, &r, detail);
	if (o == R_CLUSTER) {
		buf_free(&r.body);
		return DISC_TOO_MANY_RETRIES;
	}
	enum disc_err code = DISC_OK;
	json_t *j = v2_answer(d, &r, &code);
	buf_free(&r.body);
	if (!j)
		return code == DISC_DUPLICATE_ID ? DISC_OTHER : code;
	v->index = r.index;
	json_t *arr = json_object_get(json_object_get(j, "node"), "nodes");
	size_t i;
	json_t *it;
	json_array_foreach(arr, i, it)
	{
		struct node n;
		node_from_json(it, &n);
		if (strcmp(base_name(n.key), "_config") == 0) {
			free(n.key);
			free(n.value);
			continue;
		}
		v->nodes = xrealloc(v->nodes, (v->n + 1) * sizeof *v->nodes);
		v->nodes[v->n++] = n;
	}
	json_decref(j);
	if (v->n > 1)
		qsort(v->nodes, v->n, sizeof *v->nodes, by_created);
	return DISC_OK;
}

/* checkCluster: the size, the members so far, and whether we are too late. */
static enum disc_err check_cluster(struct disc *d, struct view *v)
{
	struct buf detail = BUF_INIT;
	nodes_free(v->nodes, v->n);
	*v = (struct view){0};
	enum disc_err e = read_size(d, &v->size, &detail);
	if (e == DISC_TOO_MANY_RETRIES)
		return cluster_error(d, &detail, v);
	if (e != DISC_OK)
		return e;
	e = read_nodes(d, v, &detail);
	if (e == DISC_TOO_MANY_RETRIES)
		return cluster_error(d, &detail, v);
	if (e != DISC_OK)
		return e;
	for (size_t i = 0; i < v->n; i++) {
		if (d->self_key && same_base(v->nodes[i].key, d->self_key))
			break;
		if (i >= v->size - 1) {
			for (size_t k = v->size; k < v->n; k++) {
				free(v->nodes[k].key);
				free(v->nodes[k].value);
			}
			v->n = v->size;
			errbuf_printf(d->err, d->cap, "discovery: cluster is full");
			return DISC_FULL_CLUSTER;
		}
	}
	return DISC_OK;
}

static void log_found(struct disc *d, const struct node *n)
{
	if (d->self_key && same_base(n->key, d->self_key))
		log_notice("discovery", "found self %s in the cluster", base_name(d->self_key));
	else
		log_notice("discovery", "found peer %s in the cluster", base_name(n->key));
}

/* One watch event under the token after index (re-asked when the server
 * answers with an empty body, as etcd's watcher does). */
static enum outcome watch_next(struct disc *d, uint64_t *index, struct node *out,
			       struct buf *detail)
{
	for (;;) {
		struct reply r = {0};
		struct buf p = BUF_INIT;
		buf_printf(&p, "%s?recursive=true&wait=true&waitIndex=%" PRIu64, d->token,
			   *index + 1);
		enum outcome o = http_do(d, "GET", p.data, NULL, 0, &r, detail);
		buf_free(&p);
		if (o != R_OK) {
			buf_free(&r.body);
			return o;
		}
		if ((r.status == 200 || r.status == 201) && r.body.len == 0) {
			buf_free(&r.body);
			continue;
		}
		enum disc_err code;
		json_t *j = v2_answer(d, &r, &code);
		buf_free(&r.body);
		if (!j)
			return R_FAIL;
		node_from_json(json_object_get(j, "node"), out);
		json_decref(j);
		*index = out->modified;
		return R_OK;
	}
}

/* waitNodes: until `size` members are known. v->nodes becomes the list. */
static enum disc_err wait_nodes(struct disc *d, struct view *v)
{
	for (;;) {
		if (v->n > v->size) {
			for (size_t k = v->size; k < v->n; k++) {
				free(v->nodes[k].key);
				free(v->nodes[k].value);
			}
			v->n = v->size;
		}
		for (size_t i = 0; i < v->n; i++)
			log_found(d, &v->nodes[i]);
		uint64_t index = v->index;
		bool retry = false;
		while (v->n < v->size && !retry) {
			log_notice("discovery", "found %zu peer(s), waiting for %" PRIu64 " more",
				   v->n, v->size - v->n);
			struct node n;
			struct buf detail = BUF_INIT;
			enum outcome o = watch_next(d, &index, &n, &detail);
			if (o == R_FAIL)
				return DISC_OTHER;
			if (o == R_CLUSTER) {
				log_error("discovery", "error #0: %s",
					  detail.data ? detail.data : "");
				buf_free(&detail);
				if (!backoff(d, "waiting for other nodes"))
					return too_many(d);
				enum disc_err e = check_cluster(d, v);
				if (e != DISC_OK)
					return e;
				retry = true;
				continue;
			}
			log_notice("discovery", "found peer %s in the cluster", base_name(n.key));
			v->nodes = xrealloc(v->nodes, (v->n + 1) * sizeof *v->nodes);
			v->nodes[v->n++] = n;
		}
		if (!retry)
			break;
	}
	log_notice("discovery", "found %zu needed peer(s)", v->n);
	return DISC_OK;
}

/* createSelf: PUT <token>/<id> prevExist=false, then see it come back. */
static enum disc_err create_self(struct disc *d, const char *config)
{
	struct reply r = {0};
	struct buf detail = BUF_INIT, form = BUF_INIT;
	char *ev = curl_easy_escape(d->curl, config, 0);
	buf_printf(&form, "prevExist=false&value=%s", ev);
	curl_free(ev);
	enum outcome o = http_do(d, "PUT", d->self_key, form.data, REQUEST_TIMEOUT_MS, &r, &detail);
	buf_free(&form);
	if (o == R_CLUSTER) {
		errbuf_printf(d->err, d->cap,
			      "client: etcd cluster is unavailable or misconfigured; error #0: %s",
			      detail.data ? detail.data : "");
		buf_free(&detail);
		buf_free(&r.body);
		return DISC_OTHER;
	}
	enum disc_err code = DISC_OK;
	json_t *j = v2_answer(d, &r, &code);
	buf_free(&r.body);
	if (!j) {
		if (code == DISC_DUPLICATE_ID)
			errbuf_printf(d->err, d->cap, "discovery: found duplicate id");
		return code;
	}
	uint64_t created = (uint64_t)json_integer_value(
		json_object_get(json_object_get(j, "node"), "createdIndex"));
	json_decref(j);
	/* ensure self appears on the server we connected to */
	struct reply w = {0};
	struct buf p = BUF_INIT;
	buf_printf(&p, "%s?wait=true&waitIndex=%" PRIu64, d->self_key, created);
	o = http_do(d, "GET", p.data, NULL, 0, &w, &detail);
	buf_free(&p);
	buf_free(&w.body);
	if (o == R_CLUSTER) {
		errbuf_printf(d->err, d->cap,
			      "client: etcd cluster is unavailable or misconfigured; error #0: %s",
			      detail.data ? detail.data : "");
		buf_free(&detail);
		return DISC_OTHER;
	}
	return DISC_OK;
}

/* nodesToCluster: the values joined; they must parse and name `size`
 * distinct members. */
static enum disc_err nodes_to_cluster(struct disc *d, const struct view *v, char **cluster)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "");
	for (size_t i = 0; i < v->n; i++)
		buf_printf(&b, "%s%s", i ? "," : "", v->nodes[i].value);
	*cluster = buf_steal(&b, NULL);
	struct url_map m = {0};
	char why[256];
	if (url_map_parse(*cluster, &m, why, sizeof why) != 0) {
		errbuf_printf(d->err, d->cap, "discovery: invalid URL");
		return DISC_INVALID_URL;
	}
	size_t names = 0;
	for (size_t i = 0; i < m.n; i++) {
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(m.v[k].name, m.v[i].name) == 0;
		names += !seen;
	}
	url_map_free(&m);
	if (names != v->size) {
		errbuf_printf(d->err, d->cap, "discovery: found duplicate name");
		return DISC_DUPLICATE_NAME;
	}
	return DISC_OK;
}

/* ---- set-up ------------------------------------------------------------------ */

static unsigned max_retries(void)
{
	const char *s = getenv("CETCD_DISCOVERY_RETRIES");
	uint64_t v;
	if (s && *s && go_parse_uint(s, 10, 32, &v) == GO_NUM_OK)
		return (unsigned)v;
	return DEFAULT_RETRIES;
}

/* newProxyFunc: a proxy without an http scheme gets "http://". */
static char *proxy_url(const char *p)
{
	if (!p[0])
		return xstrdup("");
	struct buf b = BUF_INIT;
	if (strncmp(p, "http", 4) != 0 || !strstr(p, "://"))
		buf_puts(&b, "http://");
	buf_puts(&b, p);
	char *s = buf_steal(&b, NULL);
	char *q = go_quoted(s);
	log_info("discovery", "using proxy %s", q);
	free(q);
	return s;
}

/* Splits durl into the service's root and the token path. */
static int disc_init(struct disc *d, const char *durl, const char *dproxy, uint64_t id, char *err,
		     size_t cap)
{
	*d = (struct disc){.err = err, .cap = cap};
	const char *sep = strstr(durl, "://");
	if (!sep || sep == durl || !sep[3] || sep[3] == '/') {
		errbuf_printf(err, cap, "discovery: invalid URL");
		return -1;
	}
	const char *path = strchr(sep + 3, '/');
	size_t blen = path ? (size_t)(path - durl) : strlen(durl);
	d->base = xstrndup(durl, blen);
	d->hostport = xstrdup(d->base + (sep + 3 - durl));
	struct buf t = BUF_INIT;
	buf_puts(&t, path ? path : "/");
	while (t.len > 1 && t.data[t.len - 1] == '/')
		t.data[--t.len] = '\0';
	d->token = buf_steal(&t, NULL);
	if (id) {
		struct buf k = BUF_INIT;
		buf_printf(&k, "%s/%" PRIx64, d->token, id);
		d->self_key = buf_steal(&k, NULL);
	}
	d->proxy = proxy_url(dproxy);
	d->max_retries = max_retries();
	d->curl = curl_easy_init();
	return d->curl ? 0 : -1;
}

static void disc_free(struct disc *d)
{
	if (d->curl)
		curl_easy_cleanup(d->curl);
	free(d->base);
	free(d->hostport);
	free(d->token);
	free(d->self_key);
	free(d->proxy);
}

enum disc_err discovery_join(const char *durl, const char *dproxy, uint64_t id, const char *config,
			     char **cluster, char *err, size_t cap)
{
	struct disc d;
	struct view v = {0};
	*cluster = NULL;
	if (disc_init(&d, durl, dproxy, id, err, cap) != 0) {
		disc_free(&d);
		return DISC_INVALID_URL;
	}
	/* fast path: a full cluster needs no registration */
	enum disc_err e = check_cluster(&d, &v);
	if (e == DISC_OK)
		e = create_self(&d, config);
	if (e == DISC_OK)
		e = check_cluster(&d, &v);
	if (e == DISC_OK)
		e = wait_nodes(&d, &v);
	if (e == DISC_OK)
		e = nodes_to_cluster(&d, &v, cluster);
	nodes_free(v.nodes, v.n);
	disc_free(&d);
	return e;
}

enum disc_err discovery_get_cluster(const char *durl, const char *dproxy, char **cluster, char *err,
				    size_t cap)
{
	struct disc d;
	struct view v = {0};
	*cluster = NULL;
	if (disc_init(&d, durl, dproxy, 0, err, cap) != 0) {
		disc_free(&d);
		return DISC_INVALID_URL;
	}
	enum disc_err e = check_cluster(&d, &v);
	if (e == DISC_FULL_CLUSTER)
		e = nodes_to_cluster(&d, &v, cluster);
	else if (e == DISC_OK && (e = wait_nodes(&d, &v)) == DISC_OK)
		e = nodes_to_cluster(&d, &v, cluster);
	nodes_free(v.nodes, v.n);
	disc_free(&d);
	return e;
}
