/* watch_share.c - shared long polls and streams (see watch_share.h).
 *
 * A group is one request to a member and the clients waiting on it. The
 * member's head is copied once and every client gets it as its own
 * response; every body chunk becomes one reference-counted block queued to
 * every client of the group (one copy, whatever the number of clients), and
 * each client's content reader hands its queue to MHD and suspends while it
 * is empty. A client that falls more than CLIENT_MAX_CHUNKS behind is cut off
 * (as etcd cuts a slow stream watcher) rather than slowing the group down.
 *
 * A group takes new clients while its answer is still to come: a long poll
 * until the first body byte (the event), a stream for as long as it lasts.
 * The last client to leave a group that still waits cancels its request. */
#include "proxy/watch_share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/http_client.h"
#include "net/http_reply.h"
#include "net/http_server.h"
#include "proxy/proxy_private.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/list.h"
#include "util/xalloc.h"

#define CLIENT_MAX_CHUNKS 1024 /* a client further behind is cut off */
#define GROUP_MAX_TRIES	  4    /* members a group's request may be sent to */

struct chunk {
	unsigned refs;
	size_t len;
	char data[];
};

struct watch_share {
	struct proxy *p;
	struct list groups; /* struct group.link */
};

struct group {
	struct watch_share *owner;
	struct list link; /* in owner->groups while it takes clients */
	bool listed;
	char *key;	     /* what clients must ask for to share it */
	char *path;	     /* the request target sent to the member */
	char *authorization; /* the clients' Authorization header, or NULL */
	bool stream;
	bool mid_event; /* a stream's last chunk did not end an event ('\n') */
	struct http_call *call;
	struct endpoint *tried[GROUP_MAX_TRIES]; /* held */
	size_t n_tried;
	/* the member's head, once it came */
	bool head_seen;
	long status;
	struct http_header *headers; /* owned copies */
	size_t n_headers;
	struct list clients; /* struct client.link */
};

struct client {
	struct http_req *req;
	struct group *g; /* NULL once the group ended */
	struct list link;
	struct chunk **q; /* chunks not yet fully handed to MHD, oldest first */
	unsigned qlen, qcap;
	size_t head_pos; /* bytes of q[0] already handed */
	bool done;	 /* nothing more comes: end once q is empty (a broken or cut
			  * answer ends cleanly, as etcd's proxy ends it) */
	bool gone;	 /* the client hung up */
	bool skipping;	 /* joined a stream mid-event: wait for the next one */
};

static void group_start(struct group *g);

/* ---- chunks ------------------------------------------------------------ */

static struct chunk *chunk_new(const char *data, size_t len)
{
	struct chunk *c = xmalloc(sizeof(*c) + len);
	c->refs = 1;
	c->len = len;
	memcpy(c->data, data, len);
	return c;
}

static void chunk_unref(struct chunk *c)
{
	if (--c->refs == 0)
		free(c);
}

/* ---- which requests share ---------------------------------------------- */

/* "true" or "false" as the member would read them; anything else is left to
 * a request of its own (which gets the member's exact error). */
static int parse_flag(const char *v, size_t n)
{
	if (n == 4 && strncmp(v, "true", 4) == 0)
		return 1;
	if (n == 5 && strncmp(v, "false", 5) == 0)
		return 0;
	return -1;
}

struct watch_params {
	int wait, recursive, stream; /* -1: absent */
};

/* Reads a query of only wait, recursive and stream (each once, each
 * true/false, nothing escaped). Returns false for anything else. */
static bool parse_watch_query(const char *q, struct watch_params *wp)
{
	*wp = (struct watch_params){-1, -1, -1};
	while (*q) {
		const char *amp = strchr(q, '&');
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', len);
		if (eq == NULL || memchr(q, '%', len) || memchr(q, '+', len))
			return false;
		size_t nlen = (size_t)(eq - q);
		int v = parse_flag(eq + 1, len - nlen - 1);
		int *slot = nlen == 4 && !strncmp(q, "wait", 4)	     ? &wp->wait :
			    nlen == 9 && !strncmp(q, "recursive", 9) ? &wp->recursive :
			    nlen == 6 && !strncmp(q, "stream", 6)    ? &wp->stream :
								       NULL;
		if (slot == NULL || *slot != -1 || v < 0)
			return false;
		*slot = v;
		q += len + (amp ? 1 : 0);
	}
	return wp->wait == 1;
}

/* The sharing key of r, or NULL if r does not share. Owned. */
static char *share_key(struct http_req *r, const char *authorization)
{
	if (strcmp(r->method, "GET") != 0 || strncmp(r->path, "/v2/keys", 8) != 0 ||
	    (r->path[8] != '\0' && r->path[8] != '/'))
		return NULL;
	struct watch_params wp;
	if (!parse_watch_query(r->query, &wp))
		return NULL;
	struct buf key = BUF_INIT;
	const char *q = strchr(r->uri, '?');
	buf_append(&key, r->uri, q ? (size_t)(q - r->uri) : strlen(r->uri));
	buf_printf(&key, "?wait=true&recursive=%s&stream=%s", wp.recursive == 1 ? "true" : "false",
		   wp.stream == 1 ? "true" : "false");
	if (authorization) {
		buf_puts(&key, "\nAuthorization: ");
		buf_puts(&key, authorization);
	}
	return buf_steal(&key, NULL);
}

/* ---- a client ----------------------------------------------------------- */

static void client_push(struct client *c, struct chunk *ch)
{
	if (c->done)
		return;
	if (c->skipping) { /* only whole events, from the next one on */
		const char *nl = memchr(ch->data, '\n', ch->len);
		if (nl == NULL)
			return;
		c->skipping = false;
		size_t rest = ch->len - (size_t)(nl + 1 - ch->data);
		if (rest > 0) {
			struct chunk *tail = chunk_new(nl + 1, rest);
			client_push(c, tail);
			chunk_unref(tail);
		}
		return;
	}
	if (c->qlen >= CLIENT_MAX_CHUNKS) { /* too slow: cut off */
		c->done = true;
		http_resume(c->req);
		return;
	}
	if (c->qlen == c->qcap) {
		c->qcap = c->qcap ? 2 * c->qcap : 4;
		c->q = xrealloc(c->q, c->qcap * sizeof(*c->q));
	}
	ch->refs++;
	c->q[c->qlen++] = ch;
	http_resume(c->req);
}

static ssize_t client_reader(void *cls, uint64_t pos, char *dst, size_t max)
{
	struct client *c = cls;
	if (c->gone)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = 0;
	while (c->qlen > 0 && n < max) {
		struct chunk *ch = c->q[0];
		size_t left = ch->len - c->head_pos;
		size_t take = left < max - n ? left : max - n;
		memcpy(dst + n, ch->data + c->head_pos, take);
		n += take;
		c->head_pos += take;
		if (c->head_pos < ch->len)
			break;
		chunk_unref(ch);
		c->head_pos = 0;
		memmove(c->q, c->q + 1, --c->qlen * sizeof(*c->q));
	}
	if (n > 0)
		return (ssize_t)n;
	if (c->done)
		return MHD_CONTENT_READER_END_OF_STREAM;
	http_suspend(c->req);
	return 0;
}

static void client_answer(struct client *c)
{
	struct group *g = c->g;
	/* MHD uses the block only for HTTP/1.0 clients (no chunking): small */
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64, client_reader, c, NULL);
	for (size_t i = 0; i < g->n_headers; i++)
		MHD_add_response_header(resp, g->headers[i].name, g->headers[i].value);
	http_respond(c->req, (unsigned)g->status, resp);
}

static void group_free(struct group *g);

static void client_leave(struct client *c)
{
	struct group *g = c->g;
	if (g == NULL)
		return;
	c->g = NULL;
	list_del(&c->link);
	if (list_empty(&g->clients))
		group_free(g); /* nobody waits for it any more */
}

static void client_free(struct http_req *r)
{
	struct client *c = r->handler_ctx;
	client_leave(c);
	for (unsigned i = 0; i < c->qlen; i++)
		chunk_unref(c->q[i]);
	free(c->q);
	free(c);
	r->handler_ctx = NULL;
}

static void client_gone(struct http_req *r)
{
	struct client *c = r->handler_ctx;
	client_leave(c);
	c->done = true;
	c->gone = true;
	http_abandon(r);
}

/* ---- a group ------------------------------------------------------------ */

static void group_unlist(struct group *g)
{
	if (g->listed) {
		list_del(&g->link);
		g->listed = false;
	}
}

static void group_free(struct group *g)
{
	group_unlist(g);
	http_call_cancel(g->call);
	for (size_t i = 0; i < g->n_tried; i++)
		endpoint_release(g->tried[i]);
	for (size_t i = 0; i < g->n_headers; i++) {
		free((char *)g->headers[i].name);
		free((char *)g->headers[i].value);
	}
	free(g->headers);
	free(g->key);
	free(g->path);
	free(g->authorization);
	free(g);
}

/* No member answered: every client gets the proxy's 503 or 502, as a
 * request of its own would; the group ends. */
static void group_answer_unreachable(struct group *g)
{
	size_t n_tried = g->n_tried;
	struct client *c, *tmp;
	list_for_each_safe(c, tmp, &g->clients, link)
	{
		struct http_req *r = c->req;
		client_leave(c); /* the last one frees g */
		c->done = true;
		if (n_tried == 0)
			proxy_reply_zero_endpoints(r);
		else
			proxy_reply_unreachable(r, n_tried);
	}
}

static void on_head(void *ctx, const struct http_response_head *head)
{
	struct group *g = ctx;
	g->head_seen = true;
	g->status = head->status;
	g->headers = xcalloc(head->n_headers ? head->n_headers : 1, sizeof(*g->headers));
	for (size_t i = 0; i < head->n_headers; i++) {
		const struct http_header *h = &head->headers[i];
		if (proxy_passes_response_header(h->name))
			g->headers[g->n_headers++] =
				(struct http_header){xstrdup(h->name), xstrdup(h->value)};
	}
	if (head->status != 200)
		group_unlist(g); /* an error: later clients ask on their own */
	struct client *c;
	list_for_each(c, &g->clients, link) client_answer(c);
}

static int on_data(void *ctx, const char *data, size_t len)
{
	struct group *g = ctx;
	if (!g->stream)
		group_unlist(g); /* the event is coming: too late to join */
	struct chunk *ch = chunk_new(data, len);
	struct client *c;
	list_for_each(c, &g->clients, link) client_push(c, ch);
	chunk_unref(ch);
	g->mid_event = len > 0 && data[len - 1] != '\n';
	return 0;
}

static void on_done(void *ctx, const struct http_call_result *res)
{
	struct group *g = ctx;
	struct proxy *p = g->owner->p;
	g->call = NULL;
	group_unlist(g);
	bool transport_error = res->error != HTTP_CALL_OK && res->error != HTTP_CALL_ABORTED;
	if (transport_error)
		endpoints_fail(&p->endpoints, g->tried[g->n_tried - 1], clock_mono_ms());
	if (!g->head_seen && transport_error) {
		group_start(g); /* a GET: the next member may answer */
		return;
	}
	struct client *c, *tmp;
	list_for_each_safe(c, tmp, &g->clients, link)
	{
		c->done = true;
		http_resume(c->req);
		client_leave(c); /* the last one frees g */
	}
}

static bool group_call(struct group *g, struct endpoint *ep)
{
	struct proxy *p = g->owner->p;
	struct buf url = BUF_INIT, via = BUF_INIT, auth = BUF_INIT;
	buf_printf(&url, "%s%s", ep->url, g->path);
	buf_printf(&via, "Via: %s", p->via);
	const char *headers[4] = {via.data, "Accept:", "Expect:"};
	size_t n = 3;
	if (g->authorization) {
		buf_printf(&auth, "Authorization: %s", g->authorization);
		headers[n++] = auth.data;
	}
	struct http_call_spec spec = {
		.method = "GET",
		.url = url.data,
		.headers = headers,
		.n_headers = n,
		.on_head = on_head,
		.on_data = on_data,
		.on_done = on_done,
		.ctx = g,
	};
	proxy_call_limits(p, &spec);
	g->call = http_call_start(p->client, &spec, NULL);
	buf_free(&url);
	buf_free(&via);
	buf_free(&auth);
	return g->call != NULL;
}

/* Sends the group's request to the next member, or answers every client
 * as a request of its own would be answered when none is left. */
static void group_start(struct group *g)
{
	struct proxy *p = g->owner->p;
	uint64_t now = clock_mono_ms();
	while (g->n_tried < GROUP_MAX_TRIES) {
		struct endpoint *ep =
			endpoints_pick(&p->endpoints, now, EP_READ, g->tried, g->n_tried);
		if (ep == NULL)
			break;
		g->tried[g->n_tried++] = ep;
		if (group_call(g, ep))
			return;
		endpoints_fail(&p->endpoints, ep, now);
	}
	group_unlist(g);
	group_answer_unreachable(g);
}

static struct group *find_group(struct watch_share *s, const char *key)
{
	struct group *g;
	list_for_each(g, &s->groups, link) if (strcmp(g->key, key) == 0) return g;
	return NULL;
}

static struct group *group_new(struct watch_share *s, char *key, struct http_req *r,
			       const char *authorization)
{
	struct group *g = xcalloc(1, sizeof(*g));
	g->owner = s;
	g->key = key;
	g->path = xstrdup(r->uri);
	g->authorization = authorization ? xstrdup(authorization) : NULL;
	struct watch_params wp;
	parse_watch_query(r->query, &wp);
	g->stream = wp.stream == 1;
	list_init(&g->clients);
	list_add_tail(&s->groups, &g->link);
	g->listed = true;
	return g;
}

/* Via with this proxy in it: the request has looped (forward.c answers). */
static bool has_passed_here(struct http_req *r)
{
	struct proxy *p = r->ctx;
	const char *via = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Via");
	return via && strstr(via, p->via);
}

bool watch_share_join(struct watch_share *s, struct http_req *r)
{
	const char *auth = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	char *key = share_key(r, auth);
	if (key == NULL)
		return false;
	if (has_passed_here(r)) {
		free(key);
		return false;
	}
	struct group *g = find_group(s, key);
	bool fresh = g == NULL;
	if (fresh)
		g = group_new(s, key, r, auth);
	else
		free(key);
	struct client *c = xcalloc(1, sizeof(*c));
	c->req = r;
	c->g = g;
	c->skipping = g->mid_event;
	list_add_tail(&g->clients, &c->link);
	r->handler_ctx = c;
	r->cleanup = client_free;
	http_suspend(r);
	http_watch_hangup(r, client_gone);
	if (fresh)
		group_start(g);
	else if (g->head_seen)
		client_answer(c);
	return true;
}

struct watch_share *watch_share_new(struct proxy *p)
{
	struct watch_share *s = xcalloc(1, sizeof(*s));
	s->p = p;
	list_init(&s->groups);
	return s;
}

void watch_share_free(struct watch_share *s)
{
	if (s == NULL)
		return;
	/* the listeners are gone: every client left its group, which freed it */
	free(s);
}
