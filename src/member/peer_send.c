/* peer_send.c - the peer sender (see peer_send.h): per-peer queues of
 * encoded records, batched into POST /raft calls of one net/http_client
 * (whose connection cache keeps each peer's connection alive).
 *
 * A send only queues and sets `kick`; the sender's timeout source then asks
 * the loop not to sleep, and starts the POSTs of idle peers. So every
 * message queued in one loop iteration (one Raft update) leaves in one POST
 * per peer. A finished POST is accounted in its on_done, and the peer's
 * next batch starts there at once.
 *
 * The loop has no way to unregister a timeout source: free the sender only
 * after loop_run has returned (then loop_free). */
#include "member/peer_send.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "kv/cluster.h"
#include "net/http_client.h"
#include "net/loop.h"
#include "member/peer_codec.h"
#include "raft/raft.h"
#include "util/list.h"
#include "util/log.h"
#include "util/xalloc.h"

/* One encoded record waiting in a peer's queue. */
struct rec {
	struct list link; /* in peer.queue */
	char *data;	  /* owned (stolen from a struct buf) */
	size_t len;
	bool snapshot; /* never dropped by the queue bound */
	bool append;   /* RAFT_MSG_APPEND: counted for sendAppendRequestCnt */
};

struct latency {
	uint64_t n;
	double current, average, avg_square, min, max;
};

struct peer {
	struct peer_sender *s;
	uint64_t id;
	char **urls; /* owned */
	size_t n_urls;
	size_t url_idx;	   /* next POST goes to urls[url_idx] */
	struct list queue; /* struct rec.link, oldest first */
	size_t n_queued, queued_bytes;
	struct http_call *call; /* the POST in flight, or NULL */
	char *post_url;		/* of the POST in flight */
	struct buf body;	/* of the POST in flight (lent to the call) */
	size_t batch_records, batch_appends;
	bool batch_snapshot;
	bool active; /* last POST succeeded */
	bool ever_failed;
	uint64_t success, fail, msgs_sent, msgs_dropped;
	struct latency lat;
	uint64_t bytes_sent;  /* POST bodies answered 2xx */
	struct prom_hist rtt; /* seconds per 2xx POST (PEER_RTT_HIST_*) */
};

struct peer_sender {
	struct http_client *http;
	uint64_t self_id, cluster_id;
	struct peer **peers;
	size_t n_peers, cap_peers;
	bool kick; /* an idle peer has records: start POSTs */
	unsigned connect_ms, request_ms;
	size_t max_records, max_bytes, max_batch_bytes;
	peer_gone_fn gone_fn;
	void *gone_ctx;
	struct peer_sender_totals totals;
};

/* sqrt without libm (Newton's method; x >= 0). */
static double nsqrt(double x)
{
	if (x <= 0)
		return 0;
	double r = x > 1 ? x : 1;
	for (int i = 0; i < 64; i++) {
		double next = 0.5 * (r + x / r);
		if (next >= r)
			break;
		r = next;
	}
	return r;
}

/* ---- queue ----------------------------------------------------------------- */

static void rec_free(struct rec *r)
{
	free(r->data);
	free(r);
}

static void queue_unlink(struct peer *p, struct rec *r)
{
	list_del(&r->link);
	p->n_queued--;
	p->queued_bytes -= r->len;
}

static void queue_drop(struct peer *p, struct rec *r)
{
	queue_unlink(p, r);
	p->msgs_dropped++;
	p->s->totals.msgs_dropped++;
	rec_free(r);
}

static void queue_clear(struct peer *p)
{
	while (!list_empty(&p->queue))
		queue_drop(p, list_first(&p->queue, struct rec, link));
}

/* A newer snapshot makes older queued ones useless. */
static void drop_older_snapshots(struct peer *p)
{
	struct rec *r, *next;
	list_for_each_safe(r, next, &p->queue, link) if (r->snapshot) queue_drop(p, r);
}

/* Drops the oldest non-snapshot record; false if there is none. */
static bool drop_oldest_droppable(struct peer *p)
{
	struct rec *r;
	list_for_each(r, &p->queue, link)
	{
		if (!r->snapshot) {
			queue_drop(p, r);
			return true;
		}
	}
	return false;
}

static void enqueue(struct peer *p, struct rec *r)
{
	struct peer_sender *s = p->s;
	if (r->snapshot)
		drop_older_snapshots(p);
	list_add_tail(&p->queue, &r->link);
	p->n_queued++;
	p->queued_bytes += r->len;
	while (p->n_queued > s->max_records || p->queued_bytes > s->max_bytes)
		if (!drop_oldest_droppable(p))
			break;
	if (p->call == NULL)
		s->kick = true;
}

/* ---- peers ------------------------------------------------------------------ */

static struct peer *find_peer(const struct peer_sender *s, uint64_t id)
{
	if (s == NULL)
		return NULL; /* a lone member has no sender: sends are dropped */
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i]->id == id)
			return s->peers[i];
	return NULL;
}

static void free_urls(struct peer *p)
{
	for (size_t i = 0; i < p->n_urls; i++)
		free(p->urls[i]);
	free(p->urls);
	p->urls = NULL;
	p->n_urls = 0;
}

static struct peer *peer_new(struct peer_sender *s, uint64_t id)
{
	struct peer *p = xcalloc(1, sizeof(*p));
	p->s = s;
	p->id = id;
	list_init(&p->queue);
	return p;
}

/* Cancels the POST in flight (no accounting, no callback). */
static void peer_cancel(struct peer *p)
{
	http_call_cancel(p->call);
	p->call = NULL;
}

static void peer_free(struct peer *p)
{
	peer_cancel(p);
	queue_clear(p);
	free_urls(p);
	free(p->post_url);
	buf_free(&p->body);
	free(p);
}

static bool same_urls(const struct peer *p, char *const *urls, size_t n)
{
	if (p->n_urls != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(p->urls[i], urls[i]) != 0)
			return false;
	return true;
}

void peer_sender_set_peer(struct peer_sender *s, uint64_t id, char *const *urls, size_t n)
{
	if (s == NULL || id == s->self_id || id == 0)
		return;
	struct peer *p = find_peer(s, id);
	if (p && same_urls(p, urls, n))
		return; /* keeps the failover position */
	if (p == NULL) {
		if (s->n_peers == s->cap_peers) {
			s->cap_peers = s->cap_peers ? 2 * s->cap_peers : 8;
			s->peers = xrealloc(s->peers, s->cap_peers * sizeof(*s->peers));
		}
		p = peer_new(s, id);
		s->peers[s->n_peers++] = p;
	}
	free_urls(p);
	p->urls = xcalloc(n, sizeof(*p->urls));
	for (size_t i = 0; i < n; i++)
		p->urls[i] = xstrdup(urls[i]);
	p->n_urls = n;
	p->url_idx = 0;
	if (!list_empty(&p->queue) && p->call == NULL)
		s->kick = true;
}

void peer_sender_sync_members(struct peer_sender *s, const struct cluster *c)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < c->n_members; i++)
		peer_sender_set_peer(s, c->members[i].id, c->members[i].peer_urls,
				     c->members[i].n_peer_urls);
	for (size_t i = 0; i < s->n_peers;) {
		bool member = false;
		for (size_t k = 0; k < c->n_members && !member; k++)
			member = c->members[k].id == s->peers[i]->id;
		if (member) {
			i++;
			continue;
		}
		peer_free(s->peers[i]);
		s->peers[i] = s->peers[--s->n_peers];
	}
}

void peer_sender_remove_peer(struct peer_sender *s, uint64_t id)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_peers; i++) {
		if (s->peers[i]->id == id) {
			peer_free(s->peers[i]);
			s->peers[i] = s->peers[--s->n_peers];
			return;
		}
	}
}

/* ---- starting a POST --------------------------------------------------------- */

/* Moves records from the queue head into p->body (header + records), up to
 * max_batch_bytes (at least one record). */
static void build_batch(struct peer *p)
{
	size_t n = 0, bytes = 0;
	struct rec *r;
	list_for_each(r, &p->queue, link)
	{
		if (n > 0 && PEER_CODEC_HEADER_LEN + bytes + r->len > p->s->max_batch_bytes)
			break;
		if (n == UINT32_MAX)
			break;
		n++;
		bytes += r->len;
	}
	buf_reset(&p->body);
	buf_reserve(&p->body, PEER_CODEC_HEADER_LEN + bytes);
	peer_encode_header(&p->body, (uint32_t)n);
	p->batch_records = n;
	p->batch_appends = 0;
	p->batch_snapshot = false;
	for (size_t i = 0; i < n; i++) {
		r = list_first(&p->queue, struct rec, link);
		queue_unlink(p, r);
		buf_append(&p->body, r->data, r->len);
		p->batch_appends += r->append;
		p->batch_snapshot |= r->snapshot;
		rec_free(r);
	}
}

static char *raft_url(const char *base)
{
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	struct buf b = BUF_INIT;
	buf_append(&b, base, n);
	buf_puts(&b, "/raft");
	return buf_steal(&b, NULL);
}

static void on_post_done(void *ctx, const struct http_call_result *res);

/* Starts the POST of the batch in p->body to p->post_url. */
static struct http_call *start_call(struct peer *p, const char **error)
{
	struct peer_sender *s = p->s;
	char cluster[48], from[48], to[48];
	snprintf(cluster, sizeof(cluster), "X-Etcd-Cluster-Id: %" PRIx64, s->cluster_id);
	snprintf(from, sizeof(from), "X-Server-From: %" PRIx64, s->self_id);
	snprintf(to, sizeof(to), "X-Raft-To: %" PRIx64, p->id);
	const char *headers[] = {
		"Content-Type: application/octet-stream",
		cluster,
		from,
		to,
		"Expect:", /* no 100-continue round trip */
	};
	struct http_call_spec spec = {
		.method = "POST",
		.url = p->post_url,
		.headers = headers,
		.n_headers = sizeof(headers) / sizeof(headers[0]),
		.body = p->body.data,
		.body_len = p->body.len,
		.connect_ms = s->connect_ms,
		.on_done = on_post_done,
		.ctx = p,
	};
	if (p->batch_snapshot) {
		/* a snapshot may take long: no total limit, but no stall either */
		spec.stall_bytes_per_s = 1024;
		spec.stall_s = s->request_ms >= 2000 ? s->request_ms / 1000 : 1;
	} else {
		spec.total_ms = s->request_ms;
	}
	return http_call_start(s->http, &spec, error);
}

static void drop_batch(struct peer *p)
{
	p->msgs_dropped += p->batch_records;
	p->s->totals.msgs_dropped += p->batch_records;
	p->batch_records = 0;
}

static void start_post(struct peer *p)
{
	if (p->call || list_empty(&p->queue))
		return;
	build_batch(p);
	if (p->n_urls == 0) {
		drop_batch(p);
		return;
	}
	if (p->url_idx >= p->n_urls)
		p->url_idx = 0;
	free(p->post_url);
	p->post_url = raft_url(p->urls[p->url_idx]);
	const char *error = "";
	p->call = start_call(p, &error);
	if (p->call == NULL) {
		log_error("rafthttp", "peer %" PRIx64 ": cannot start POST: %s", p->id, error);
		drop_batch(p);
	}
}

/* ---- finishing a POST ------------------------------------------------------- */

static void latency_add(struct latency *l, double ms)
{
	l->n++;
	l->current = ms;
	double n = (double)l->n;
	l->average = (l->average * (n - 1) + ms) / n;
	l->avg_square = (l->avg_square * (n - 1) + ms * ms) / n;
	if (l->n == 1 || ms < l->min)
		l->min = ms;
	if (ms > l->max)
		l->max = ms;
}

static void note_success(struct peer *p, const struct http_call_result *res)
{
	struct peer_sender *s = p->s;
	latency_add(&p->lat, (double)res->total_us / 1000.0);
	p->success++;
	p->msgs_sent += p->batch_records;
	s->totals.batches_ok++;
	s->totals.msgs_sent += p->batch_records;
	s->totals.append_sent += p->batch_appends;
	s->totals.bytes_sent += p->body.len;
	p->bytes_sent += p->body.len;
	prom_hist_observe(&p->rtt, PEER_RTT_HIST_START, PEER_RTT_HIST_N,
			  (double)res->total_us / 1e6);
	if (!p->active && p->ever_failed)
		log_info("rafthttp", "peer %" PRIx64 " became active (%s)", p->id, p->post_url);
	p->active = true;
}

static void note_failure(struct peer *p, const struct http_call_result *res)
{
	struct peer_sender *s = p->s;
	p->fail++;
	s->totals.batches_failed++;
	if (p->active || !p->ever_failed) { /* log transitions, not every failure */
		if (res->error != HTTP_CALL_OK)
			log_warn("rafthttp",
				 "peer %" PRIx64 " became inactive: POST %s: %s "
				 "(dropped %zu records)",
				 p->id, p->post_url, res->message, p->batch_records);
		else
			log_warn("rafthttp",
				 "peer %" PRIx64 " became inactive: POST %s: HTTP "
				 "%ld (dropped %zu records)",
				 p->id, p->post_url, res->status, p->batch_records);
	}
	if (res->status == 412)
		log_error("rafthttp",
			  "peer %" PRIx64 " refused our cluster id %" PRIx64
			  " (412): member of another cluster?",
			  p->id, s->cluster_id);
	p->active = false;
	p->ever_failed = true;
	drop_batch(p);
	if (p->n_urls)
		p->url_idx = (p->url_idx + 1) % p->n_urls;
}

/* The http_client's on_done of a POST: accounts it, starts the next batch,
 * and last (the callback may remove this peer) reports a 410 answer; the
 * callback may call any peer_sender function but peer_sender_free. */
static void on_post_done(void *ctx, const struct http_call_result *res)
{
	struct peer *p = ctx;
	struct peer_sender *s = p->s;
	p->call = NULL;
	if (res->error == HTTP_CALL_OK && res->status >= 200 && res->status < 300)
		note_success(p, res);
	else
		note_failure(p, res);
	p->batch_records = 0;
	if (p->body.cap > 2 * s->max_batch_bytes)
		buf_free(&p->body); /* do not keep a snapshot-sized buffer */
	start_post(p);		    /* whatever queued meanwhile leaves now */
	if (res->status == 410 && s->gone_fn)
		s->gone_fn(s->gone_ctx, p->id);
}

/* ---- kicking idle peers ------------------------------------------------------- */

static int64_t kick_left(void *ctx)
{
	struct peer_sender *s = ctx;
	return s->kick ? 0 : -1;
}

static void kick_due(void *ctx)
{
	struct peer_sender *s = ctx;
	if (!s->kick)
		return;
	s->kick = false;
	for (size_t i = 0; i < s->n_peers; i++)
		start_post(s->peers[i]);
}

/* ---- construction ----------------------------------------------------------- */

struct peer_sender *peer_sender_new(struct loop *l, uint64_t self_id, uint64_t cluster_id)
{
	struct peer_sender *s = xcalloc(1, sizeof(*s));
	s->http = http_client_new(l);
	if (s->http == NULL) {
		free(s);
		return NULL;
	}
	s->self_id = self_id;
	s->cluster_id = cluster_id;
	s->connect_ms = PEER_DEFAULT_CONNECT_MS;
	s->request_ms = PEER_DEFAULT_REQUEST_MS;
	s->max_records = PEER_DEFAULT_MAX_RECORDS;
	s->max_bytes = PEER_DEFAULT_MAX_BYTES;
	s->max_batch_bytes = PEER_DEFAULT_MAX_BATCH_BYTES;
	loop_add_timeout_source(l, kick_left, kick_due, s);
	return s;
}

void peer_sender_free(struct peer_sender *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_peers; i++)
		peer_free(s->peers[i]);
	free(s->peers);
	http_client_free(s->http);
	free(s);
}

void peer_sender_set_tls(struct peer_sender *s, const struct http_client_tls *tls)
{
	if (s != NULL)
		http_client_set_tls(s->http, tls);
}

void peer_sender_set_cluster_id(struct peer_sender *s, uint64_t cluster_id)
{
	s->cluster_id = cluster_id;
}

void peer_sender_set_timeouts(struct peer_sender *s, unsigned connect_ms, unsigned request_ms)
{
	s->connect_ms = connect_ms ? connect_ms : PEER_DEFAULT_CONNECT_MS;
	s->request_ms = request_ms ? request_ms : PEER_DEFAULT_REQUEST_MS;
}

void peer_sender_set_limits(struct peer_sender *s, size_t max_records, size_t max_bytes,
			    size_t max_batch_bytes)
{
	s->max_records = max_records ? max_records : PEER_DEFAULT_MAX_RECORDS;
	s->max_bytes = max_bytes ? max_bytes : PEER_DEFAULT_MAX_BYTES;
	s->max_batch_bytes = max_batch_bytes ? max_batch_bytes : PEER_DEFAULT_MAX_BATCH_BYTES;
}

void peer_sender_on_gone(struct peer_sender *s, peer_gone_fn fn, void *ctx)
{
	s->gone_fn = fn;
	s->gone_ctx = ctx;
}

/* ---- sending ----------------------------------------------------------------- */

static struct rec *rec_from_buf(struct buf *b)
{
	struct rec *r = xcalloc(1, sizeof(*r));
	r->data = buf_steal(b, &r->len);
	return r;
}

int peer_sender_send(struct peer_sender *s, uint64_t to, const struct raft_message *m)
{
	struct peer *p = find_peer(s, to);
	if (p == NULL)
		return -1;
	struct buf b = BUF_INIT;
	peer_encode_message(&b, m);
	struct rec *r = rec_from_buf(&b);
	r->snapshot = m->snapshot != NULL;
	r->append = m->type == RAFT_MSG_APPEND;
	enqueue(p, r);
	return 0;
}

int peer_sender_forward_proposal(struct peer_sender *s, uint64_t to, const void *payload,
				 size_t len)
{
	struct peer *p = find_peer(s, to);
	if (p == NULL)
		return -1;
	struct buf b = BUF_INIT;
	peer_encode_proposal(&b, payload, len);
	enqueue(p, rec_from_buf(&b));
	return 0;
}

/* ---- stats -------------------------------------------------------------------- */

static void fill_stats(const struct peer *p, struct peer_stats *o)
{
	memset(o, 0, sizeof(*o));
	o->id = p->id;
	o->success = p->success;
	o->fail = p->fail;
	o->latency_current = p->lat.current;
	o->latency_average = p->lat.average;
	o->latency_stddev = nsqrt(p->lat.avg_square - p->lat.average * p->lat.average);
	o->latency_min = p->lat.min;
	o->latency_max = p->lat.max;
	o->msgs_sent = p->msgs_sent;
	o->msgs_dropped = p->msgs_dropped;
	o->queued = p->n_queued;
	o->queued_bytes = p->queued_bytes;
	o->in_flight = p->call != NULL;
	o->active = p->active;
	o->url_index = p->url_idx;
	o->bytes_sent = p->bytes_sent;
	o->rtt = p->rtt;
}

bool peer_sender_peer_stats(const struct peer_sender *s, uint64_t id, struct peer_stats *out)
{
	const struct peer *p = find_peer(s, id);
	if (p == NULL)
		return false;
	fill_stats(p, out);
	return true;
}

size_t peer_sender_all_stats(const struct peer_sender *s, struct peer_stats *out, size_t max)
{
	for (size_t i = 0; i < s->n_peers && i < max; i++)
		fill_stats(s->peers[i], &out[i]);
	return s->n_peers;
}

void peer_sender_totals(const struct peer_sender *s, struct peer_sender_totals *out)
{
	*out = s->totals;
}
