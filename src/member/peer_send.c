/* peer_send.c - the peer sender (see peer_send.h): per-peer queues of
 * encoded records, one libcurl easy handle per peer, one curl multi handle
 * driven by the loop.
 *
 * How libcurl meets the loop:
 *   CURLMOPT_SOCKETFUNCTION  -> loop_add_fd / loop_mod_fd / loop_del_fd; a
 *                               struct sock per socket (curl_multi_assign)
 *   CURLMOPT_TIMERFUNCTION   -> an absolute due time read by the sender's
 *                               timeout source on the loop
 *   fd ready / timer due     -> curl_multi_socket_action, then drain():
 *                               finished POSTs are accounted and the peer's
 *                               next batch starts at once
 * A send only queues and sets `kick`; the timeout source then asks the loop
 * not to sleep, and starts the POSTs of idle peers. So every message queued
 * in one loop iteration (one Raft update) leaves in one POST per peer.
 *
 * curl_multi_socket_action is never called from inside a libcurl callback.
 * The loop has no way to unregister a timeout source: free the sender only
 * after loop_run has returned (then loop_free). */
#include "member/peer_send.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "util/buf.h"
#include "util/clock.h"
#include "kv/cluster.h"
#include "net/loop.h"
#include "member/peer_codec.h"
#include "raft/raft.h"

/* One encoded record waiting in a peer's queue. */
struct rec {
	struct rec *next;
	char *data;		/* owned (stolen from a struct buf) */
	size_t len;
	bool snapshot;		/* never dropped by the queue bound */
	bool append;		/* RAFT_MSG_APPEND: counted for sendAppendRequestCnt */
};

struct latency {
	uint64_t n;
	double current, average, avg_square, min, max;
};

struct peer {
	struct peer_sender *s;
	uint64_t id;
	char **urls;		/* owned */
	size_t n_urls;
	size_t url_idx;		/* next POST goes to urls[url_idx] */
	struct rec *head, *tail;
	size_t n_queued, queued_bytes;
	CURL *easy;		/* reused: keeps the connection alive */
	struct curl_slist *headers;	/* of the POST in flight */
	char *post_url;		/* of the POST in flight */
	struct buf body;	/* of the POST in flight (curl reads it in place) */
	bool in_flight;
	size_t batch_records, batch_appends;
	bool batch_snapshot;
	bool active;		/* last POST succeeded */
	bool ever_failed;
	bool gone;		/* answered 410: report from the loop */
	uint64_t success, fail, msgs_sent, msgs_dropped;
	struct latency lat;
};

/* One socket libcurl asked us to watch. */
struct sock {
	struct peer_sender *s;
	curl_socket_t fd;
	struct loop_fd *watch;
	struct sock *prev, *next;
};

struct peer_sender {
	struct loop *loop;
	CURLM *multi;
	uint64_t self_id, cluster_id;
	struct peer **peers;
	size_t n_peers, cap_peers;
	struct sock *socks;
	uint64_t timer_due;	/* curl's timer, absolute mono ms; UINT64_MAX = none */
	bool kick;		/* an idle peer has records: start POSTs */
	unsigned connect_ms, request_ms;
	size_t max_records, max_bytes, max_batch_bytes;
	peer_gone_fn gone_fn;
	void *gone_ctx;
	struct peer_sender_totals totals;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (p == NULL)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

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

int peer_sender_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void peer_sender_global_cleanup(void)
{
	curl_global_cleanup();
}

/* ---- queue ----------------------------------------------------------------- */

static void rec_free(struct rec *r)
{
	free(r->data);
	free(r);
}

/* Unlinks r (whose predecessor is prev, or NULL for the head). */
static void queue_unlink(struct peer *p, struct rec *prev, struct rec *r)
{
	if (prev)
		prev->next = r->next;
	else
		p->head = r->next;
	if (p->tail == r)
		p->tail = prev;
	p->n_queued--;
	p->queued_bytes -= r->len;
}

static void queue_drop(struct peer *p, struct rec *prev, struct rec *r)
{
	queue_unlink(p, prev, r);
	p->msgs_dropped++;
	p->s->totals.msgs_dropped++;
	rec_free(r);
}

static void queue_clear(struct peer *p)
{
	while (p->head)
		queue_drop(p, NULL, p->head);
}

/* A newer snapshot makes older queued ones useless. */
static void drop_older_snapshots(struct peer *p)
{
	struct rec *prev = NULL;
	for (struct rec *r = p->head; r;) {
		struct rec *next = r->next;
		if (r->snapshot)
			queue_drop(p, prev, r);
		else
			prev = r;
		r = next;
	}
}

/* Drops the oldest non-snapshot record; false if there is none. */
static bool drop_oldest_droppable(struct peer *p)
{
	struct rec *prev = NULL;
	for (struct rec *r = p->head; r; prev = r, r = r->next) {
		if (!r->snapshot) {
			queue_drop(p, prev, r);
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
	if (p->tail)
		p->tail->next = r;
	else
		p->head = r;
	p->tail = r;
	p->n_queued++;
	p->queued_bytes += r->len;
	while (p->n_queued > s->max_records || p->queued_bytes > s->max_bytes)
		if (!drop_oldest_droppable(p))
			break;
	if (!p->in_flight)
		s->kick = true;
}

/* ---- peers ------------------------------------------------------------------ */

static struct peer *find_peer(const struct peer_sender *s, uint64_t id)
{
	if (s == NULL)
		return NULL;	/* a lone member has no sender: sends are dropped */
	for (size_t i = 0; i < s->n_peers; i++)
		if (s->peers[i]->id == id)
			return s->peers[i];
	return NULL;
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	return size * nmemb;
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
	p->easy = curl_easy_init();
	if (p->easy == NULL)
		abort();
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(p->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(p->easy, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85: the string form replaced the bitmask */
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	return p;
}

/* Cancels the POST in flight (no accounting, no callback). */
static void peer_cancel(struct peer *p)
{
	if (!p->in_flight)
		return;
	curl_multi_remove_handle(p->s->multi, p->easy);
	p->in_flight = false;
}

static void peer_free(struct peer *p)
{
	peer_cancel(p);
	curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->headers);
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
		return;	/* keeps the failover position */
	if (p == NULL) {
		if (s->n_peers == s->cap_peers) {
			s->cap_peers = s->cap_peers ? 2 * s->cap_peers : 8;
			s->peers = realloc(s->peers, s->cap_peers * sizeof(*s->peers));
			if (s->peers == NULL)
				abort();
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
	if (p->head && !p->in_flight)
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
	for (struct rec *r = p->head; r; r = r->next) {
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
		struct rec *r = p->head;
		queue_unlink(p, NULL, r);
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

static struct curl_slist *add_header(struct curl_slist *l, const char *h)
{
	struct curl_slist *n = curl_slist_append(l, h);
	if (n == NULL)
		abort();
	return n;
}

static void build_headers(struct peer *p)
{
	char tmp[64];
	curl_slist_free_all(p->headers);
	p->headers = add_header(NULL, "Content-Type: application/octet-stream");
	snprintf(tmp, sizeof(tmp), "X-Etcd-Cluster-Id: %" PRIx64, p->s->cluster_id);
	p->headers = add_header(p->headers, tmp);
	snprintf(tmp, sizeof(tmp), "X-Server-From: %" PRIx64, p->s->self_id);
	p->headers = add_header(p->headers, tmp);
	snprintf(tmp, sizeof(tmp), "X-Raft-To: %" PRIx64, p->id);
	p->headers = add_header(p->headers, tmp);
	p->headers = add_header(p->headers, "Expect:");	/* no 100-continue round trip */
}

static void set_request_options(struct peer *p)
{
	struct peer_sender *s = p->s;
	CURL *e = p->easy;
	curl_easy_setopt(e, CURLOPT_URL, p->post_url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body.len);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, p->body.data);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->connect_ms);
	long stall_s = s->request_ms >= 2000 ? (long)(s->request_ms / 1000) : 1;
	if (p->batch_snapshot) {
		/* a snapshot may take long: no total limit, but no stall either */
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1024L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall_s);
	} else {
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->request_ms);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 0L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 0L);
	}
}

static void drop_batch(struct peer *p)
{
	p->msgs_dropped += p->batch_records;
	p->s->totals.msgs_dropped += p->batch_records;
	p->batch_records = 0;
}

static void start_post(struct peer *p)
{
	if (p->in_flight || p->head == NULL)
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
	build_headers(p);
	set_request_options(p);
	CURLMcode mc = curl_multi_add_handle(p->s->multi, p->easy);
	if (mc != CURLM_OK) {
		fprintf(stderr, "cetcd: peer %" PRIx64 ": cannot start POST: %s\n", p->id,
			curl_multi_strerror(mc));
		drop_batch(p);
		return;
	}
	p->in_flight = true;
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

static void note_success(struct peer *p)
{
	struct peer_sender *s = p->s;
	curl_off_t us = 0;
	curl_easy_getinfo(p->easy, CURLINFO_TOTAL_TIME_T, &us);
	latency_add(&p->lat, (double)us / 1000.0);
	p->success++;
	p->msgs_sent += p->batch_records;
	s->totals.batches_ok++;
	s->totals.msgs_sent += p->batch_records;
	s->totals.append_sent += p->batch_appends;
	s->totals.bytes_sent += p->body.len;
	if (!p->active && p->ever_failed)
		fprintf(stderr, "cetcd: peer %" PRIx64 " became active (%s)\n", p->id,
			p->post_url);
	p->active = true;
}

static void note_failure(struct peer *p, CURLcode rc, long status)
{
	struct peer_sender *s = p->s;
	p->fail++;
	s->totals.batches_failed++;
	if (p->active || !p->ever_failed) {	/* log transitions, not every failure */
		if (rc != CURLE_OK)
			fprintf(stderr, "cetcd: peer %" PRIx64 " became inactive: POST %s: %s "
				"(dropped %zu records)\n", p->id, p->post_url,
				curl_easy_strerror(rc), p->batch_records);
		else
			fprintf(stderr, "cetcd: peer %" PRIx64 " became inactive: POST %s: HTTP "
				"%ld (dropped %zu records)\n", p->id, p->post_url, status,
				p->batch_records);
	}
	if (status == 412)
		fprintf(stderr, "cetcd: peer %" PRIx64 " refused our cluster id %" PRIx64
			" (412): member of another cluster?\n", p->id, s->cluster_id);
	p->active = false;
	p->ever_failed = true;
	drop_batch(p);
	if (p->n_urls)
		p->url_idx = (p->url_idx + 1) % p->n_urls;
	if (status == 410)
		p->gone = true;
}

static void finish_post(struct peer *p, CURLcode rc)
{
	long status = 0;
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(p->s->multi, p->easy);
	p->in_flight = false;
	if (rc == CURLE_OK && status >= 200 && status < 300)
		note_success(p);
	else
		note_failure(p, rc, status);
	p->batch_records = 0;
	if (p->body.cap > 2 * p->s->max_batch_bytes)
		buf_free(&p->body);	/* do not keep a snapshot-sized buffer */
	start_post(p);	/* whatever queued meanwhile leaves now */
}

/* Reports 410 answers; the callback may call any peer_sender function but
 * peer_sender_free. */
static void report_gone(struct peer_sender *s)
{
	if (s->gone_fn == NULL)
		return;
	for (size_t i = 0; i < s->n_peers;) {
		if (s->peers[i]->gone) {
			s->peers[i]->gone = false;
			s->gone_fn(s->gone_ctx, s->peers[i]->id);
			i = 0;	/* the callback may have changed the peer list */
			continue;
		}
		i++;
	}
}

/* Accounts every finished transfer. */
static void drain(struct peer_sender *s)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct peer *p = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
		CURLcode rc = msg->data.result;
		if (p)
			finish_post(p, rc);	/* msg is invalid from here */
	}
	report_gone(s);
}

/* ---- libcurl <-> loop ------------------------------------------------------- */

static void on_fd(void *ctx, uint32_t events)
{
	struct sock *k = ctx;
	struct peer_sender *s = k->s;
	int flags = 0;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	int running;
	curl_multi_socket_action(s->multi, k->fd, flags, &running);	/* may free k */
	drain(s);
}

static void sock_free(struct peer_sender *s, struct sock *k)
{
	loop_del_fd(s->loop, k->watch);
	if (k->prev)
		k->prev->next = k->next;
	else
		s->socks = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
}

static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct peer_sender *s = userp;
	struct sock *k = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (k) {
			curl_multi_assign(s->multi, fd, NULL);
			sock_free(s, k);
		}
		return 0;
	}
	uint32_t ev = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) |
		      ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (k)
		return loop_mod_fd(s->loop, k->watch, ev) == 0 ? 0 : -1;
	k = xcalloc(1, sizeof(*k));
	k->s = s;
	k->fd = fd;
	k->watch = loop_add_fd(s->loop, fd, ev, on_fd, k);
	if (k->watch == NULL) {
		free(k);
		return -1;
	}
	k->next = s->socks;
	if (s->socks)
		s->socks->prev = k;
	s->socks = k;
	curl_multi_assign(s->multi, fd, k);
	return 0;
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct peer_sender *s = userp;
	s->timer_due = timeout_ms < 0 ? UINT64_MAX : clock_mono_ms() + (uint64_t)timeout_ms;
	return 0;
}

static int64_t timer_left(void *ctx)
{
	struct peer_sender *s = ctx;
	if (s->kick)
		return 0;
	if (s->timer_due == UINT64_MAX)
		return -1;
	uint64_t now = clock_mono_ms();
	return s->timer_due > now ? (int64_t)(s->timer_due - now) : 0;
}

static void timer_fire(void *ctx)
{
	struct peer_sender *s = ctx;
	if (s->kick) {
		s->kick = false;
		for (size_t i = 0; i < s->n_peers; i++)
			start_post(s->peers[i]);
	}
	if (s->timer_due != UINT64_MAX && s->timer_due <= clock_mono_ms()) {
		s->timer_due = UINT64_MAX;
		int running;
		curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	drain(s);
}

/* ---- construction ----------------------------------------------------------- */

struct peer_sender *peer_sender_new(struct loop *l, uint64_t self_id, uint64_t cluster_id)
{
	struct peer_sender *s = xcalloc(1, sizeof(*s));
	s->multi = curl_multi_init();
	if (s->multi == NULL) {
		free(s);
		return NULL;
	}
	s->loop = l;
	s->self_id = self_id;
	s->cluster_id = cluster_id;
	s->timer_due = UINT64_MAX;
	s->connect_ms = PEER_DEFAULT_CONNECT_MS;
	s->request_ms = PEER_DEFAULT_REQUEST_MS;
	s->max_records = PEER_DEFAULT_MAX_RECORDS;
	s->max_bytes = PEER_DEFAULT_MAX_BYTES;
	s->max_batch_bytes = PEER_DEFAULT_MAX_BATCH_BYTES;
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	loop_add_timeout_source(l, timer_left, timer_fire, s);
	return s;
}

void peer_sender_free(struct peer_sender *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_peers; i++)
		peer_free(s->peers[i]);
	free(s->peers);
	curl_multi_cleanup(s->multi);
	while (s->socks)	/* sockets libcurl did not report removed */
		sock_free(s, s->socks);
	free(s);
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
	o->in_flight = p->in_flight;
	o->active = p->active;
	o->url_index = p->url_idx;
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
