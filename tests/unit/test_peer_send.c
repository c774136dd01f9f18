/* test_peer_send.c - the peer sender (libcurl multi inside cetcd's loop)
 * against an in-process receiver on 127.0.0.1: a tiny libmicrohttpd daemon
 * running its own thread (the "other member"), decoding with peer_codec.
 *
 * The loop cannot be restarted once stopped, so every scenario runs as a
 * small state machine: a 1 ms loop timer calls the scenario's step function,
 * which acts, waits for a condition, checks, and finally stops the loop.
 * Every scenario has a deadline. Scenarios: round trip of every message type
 * with headers, batching while a POST is in flight, batch size cap,
 * keep-alive (one TCP connection), failover to the next URL (refused port
 * and black hole with a short timeout), queue bound (oldest non-snapshot
 * dropped, newer snapshot replaces older), 412/410 answers, cancellation on
 * remove/free, and loopback throughput. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/buf.h"
#include "../lib/harness.h"
#include "util/clock.h"
#include "kv/cluster.h"
#include "net/http_client.h"
#include "net/loop.h"
#include "member/peer_codec.h"
#include "member/peer_send.h"
#include "raft/raft.h"

#define SELF	((uint64_t)0x1a)
#define PEER	((uint64_t)0x2b)
#define CLUSTER ((uint64_t)0xc1c1c1c1deadbeefull)

/* ---- the receiver (its own thread) ------------------------------------------- */

struct recv_batch {
	char *body; /* NULL unless keep_bodies */
	size_t len;
	size_t n_records;
	char cluster[40], from[40], to[40], ctype[64];
};

struct receiver {
	struct MHD_Daemon *d;
	uint16_t port;
	char url[64];
	pthread_mutex_t mu;
	/* under mu */
	unsigned status;	/* answer (default 204) */
	unsigned delay_next_ms; /* sleep before answering the next request */
	bool keep_bodies;
	struct recv_batch *batches;
	size_t n_batches, cap;
	size_t started, connections, records, bad;
};

struct rctx {
	struct buf body;
};

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t n)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
	snprintf(out, n, "%s", v ? v : "");
}

static void record_batch(struct receiver *rv, struct MHD_Connection *c, struct rctx *x)
{
	struct peer_decoded d;
	int err = peer_decode(x->body.data, x->body.len, &d);
	struct recv_batch b = {.len = x->body.len, .n_records = d.n_records};
	peer_decoded_free(&d);
	copy_header(c, "X-Etcd-Cluster-Id", b.cluster, sizeof(b.cluster));
	copy_header(c, "X-Server-From", b.from, sizeof(b.from));
	copy_header(c, "X-Raft-To", b.to, sizeof(b.to));
	copy_header(c, "Content-Type", b.ctype, sizeof(b.ctype));
	pthread_mutex_lock(&rv->mu);
	if (err != PEER_CODEC_OK)
		rv->bad++;
	rv->records += b.n_records;
	if (rv->keep_bodies) {
		b.body = malloc(b.len ? b.len : 1);
		memcpy(b.body, x->body.data ? x->body.data : "", b.len);
	}
	if (rv->n_batches == rv->cap) {
		rv->cap = rv->cap ? 2 * rv->cap : 64;
		rv->batches = realloc(rv->batches, rv->cap * sizeof(*rv->batches));
	}
	rv->batches[rv->n_batches++] = b;
	pthread_mutex_unlock(&rv->mu);
}

static enum MHD_Result recv_access(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **req_cls)
{
	struct receiver *rv = cls;
	struct rctx *x = *req_cls;
	if (x == NULL) {
		x = calloc(1, sizeof(*x));
		*req_cls = x;
		pthread_mutex_lock(&rv->mu);
		rv->started++;
		pthread_mutex_unlock(&rv->mu);
		return MHD_YES;
	}
	if (*upload_size) {
		buf_append(&x->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&rv->mu);
	unsigned delay = rv->delay_next_ms, status = rv->status;
	rv->delay_next_ms = 0;
	pthread_mutex_unlock(&rv->mu);
	if (delay)
		usleep(delay * 1000u);
	record_batch(rv, c, x);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ok = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ok;
}

static void recv_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct rctx *x = *req_cls;
	if (x) {
		buf_free(&x->body);
		free(x);
		*req_cls = NULL;
	}
}

static void recv_conn(void *cls, struct MHD_Connection *c, void **socket_context,
		      enum MHD_ConnectionNotificationCode toe)
{
	struct receiver *rv = cls;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&rv->mu);
	rv->connections++;
	pthread_mutex_unlock(&rv->mu);
}

static struct receiver *receiver_start(void)
{
	struct receiver *rv = calloc(1, sizeof(*rv));
	pthread_mutex_init(&rv->mu, NULL);
	rv->status = MHD_HTTP_NO_CONTENT;
	rv->keep_bodies = true;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rv->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, recv_access, rv,
				 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				 MHD_OPTION_NOTIFY_COMPLETED, recv_completed, rv,
				 MHD_OPTION_NOTIFY_CONNECTION, recv_conn, rv,
				 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
	if (rv->d == NULL) {
		fprintf(stderr, "cannot start the receiver\n");
		exit(2);
	}
	rv->port = MHD_get_daemon_info(rv->d, MHD_DAEMON_INFO_BIND_PORT)->port;
	snprintf(rv->url, sizeof(rv->url), "http://127.0.0.1:%u", rv->port);
	return rv;
}

static void receiver_stop(struct receiver *rv)
{
	MHD_stop_daemon(rv->d);
	for (size_t i = 0; i < rv->n_batches; i++)
		free(rv->batches[i].body);
	free(rv->batches);
	pthread_mutex_destroy(&rv->mu);
	free(rv);
}

static size_t rv_get(struct receiver *rv, const size_t *field)
{
	pthread_mutex_lock(&rv->mu);
	size_t v = *field;
	pthread_mutex_unlock(&rv->mu);
	return v;
}

#define RV(rv, f) rv_get((rv), &(rv)->f)

static void rv_set_delay(struct receiver *rv, unsigned ms)
{
	pthread_mutex_lock(&rv->mu);
	rv->delay_next_ms = ms;
	pthread_mutex_unlock(&rv->mu);
}

static void rv_set_status(struct receiver *rv, unsigned status)
{
	pthread_mutex_lock(&rv->mu);
	rv->status = status;
	pthread_mutex_unlock(&rv->mu);
}

/* Index fields (msg.index, or payload length for proposals) of every record
 * received, in arrival order. Returns the count. */
static size_t rv_indexes(struct receiver *rv, uint64_t *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&rv->mu);
	for (size_t i = 0; i < rv->n_batches; i++) {
		struct peer_decoded d;
		if (peer_decode(rv->batches[i].body, rv->batches[i].len, &d) != PEER_CODEC_OK)
			continue;
		for (size_t k = 0; k < d.n_records && n < max; k++)
			out[n++] = d.records[k].kind == PEER_REC_MESSAGE ? d.records[k].msg.index :
									   d.records[k].len;
		peer_decoded_free(&d);
	}
	pthread_mutex_unlock(&rv->mu);
	return n;
}

/* ---- sockets that misbehave ----------------------------------------------------- */

/* A port nothing listens on (bound, then closed). */
static uint16_t closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	close(fd);
	return ntohs(sa.sin_port);
}

/* A listening socket that never accepts nor answers. */
static int black_hole(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	listen(fd, 16);
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* ---- the scenario engine ---------------------------------------------------------- */

struct env;
typedef void (*step_fn)(struct env *e);

struct env {
	const char *name;
	struct loop *l;
	struct peer_sender *s;
	struct receiver *rv;
	step_fn fn;
	int step;
	uint64_t t0, deadline, mark;
	bool done;
	bool stopped; /* by the deadline */
	/* scratch for scenarios */
	uint64_t gone_id;
	int gone_calls;
	int bh_fd;
	size_t count;
	uint64_t next_index;
};

static void env_tick(void *ctx)
{
	struct env *e = ctx;
	if (e->done || e->stopped)
		return;
	if (clock_mono_ms() > e->deadline) {
		fprintf(stderr, "%s: deadline passed at step %d\n", e->name, e->step);
		e->stopped = true;
		loop_stop(e->l);
		return;
	}
	e->fn(e);
}

static void finish(struct env *e)
{
	e->done = true;
	loop_stop(e->l);
}

/* Runs one scenario to completion (or its deadline) with a fresh loop,
 * sender and receiver. */
static void run_scenario(const char *name, step_fn fn, uint64_t deadline_ms,
			 void (*setup)(struct env *e))
{
	struct env e = {.name = name, .fn = fn, .bh_fd = -1};
	e.l = loop_new();
	e.s = peer_sender_new(e.l, SELF, CLUSTER);
	e.rv = receiver_start();
	char *urls[] = {e.rv->url};
	peer_sender_set_peer(e.s, PEER, urls, 1);
	if (setup)
		setup(&e);
	e.t0 = clock_mono_ms();
	e.deadline = e.t0 + deadline_ms;
	loop_add_timer(e.l, 1, env_tick, &e);	  /* wakes the loop at least every ms */
	loop_add_before_sleep(e.l, env_tick, &e); /* and steps every iteration */
	loop_run(e.l);
	CHECK(e.done);
	if (!e.done)
		fprintf(stderr, "scenario %s did not finish\n", name);
	peer_sender_free(e.s); /* cancels whatever is in flight */
	loop_free(e.l);
	receiver_stop(e.rv);
	if (e.bh_fd >= 0)
		close(e.bh_fd);
}

static struct peer_stats stats_of(struct env *e)
{
	struct peer_stats st;
	memset(&st, 0, sizeof(st));
	peer_sender_peer_stats(e->s, PEER, &st);
	return st;
}

static struct raft_message msg_idx(uint8_t type, uint64_t index)
{
	return (struct raft_message){
		.type = type, .from = SELF, .to = PEER, .term = 2, .index = index};
}

static void send_idx(struct env *e, uint64_t index)
{
	struct raft_message m = msg_idx(RAFT_MSG_APPEND, index);
	CHECK(peer_sender_send(e->s, PEER, &m) == 0);
}

/* ---- scenarios -------------------------------------------------------------------- */

static struct raft_entry ents[2];
static struct raft_snapshot snapshot;
static const char snap_bytes[] = "snapshot state";

static struct raft_message full_msg(uint8_t t)
{
	struct raft_message m = {
		.type = t,
		.from = SELF,
		.to = PEER,
		.term = 10 + t,
		.log_term = 20 + t,
		.index = 30 + t,
		.commit = 40 + t,
		.context = 50 + t,
		.reject = t % 2,
		.transfer = t % 3 == 0,
		.reject_hint = 60 + t,
	};
	if (t == RAFT_MSG_APPEND) {
		m.entries = ents;
		m.n_entries = 2;
	}
	if (t == RAFT_MSG_SNAPSHOT)
		m.snapshot = &snapshot;
	return m;
}

static bool same_msg(const struct raft_message *a, const struct raft_message *b)
{
	bool ok = a->type == b->type && a->from == b->from && a->to == b->to &&
		  a->term == b->term && a->log_term == b->log_term && a->index == b->index &&
		  a->commit == b->commit && a->context == b->context && a->reject == b->reject &&
		  a->transfer == b->transfer && a->reject_hint == b->reject_hint &&
		  a->n_entries == b->n_entries && (a->snapshot == NULL) == (b->snapshot == NULL);
	for (size_t i = 0; ok && i < a->n_entries; i++)
		ok = a->entries[i].term == b->entries[i].term &&
		     a->entries[i].index == b->entries[i].index &&
		     a->entries[i].type == b->entries[i].type &&
		     a->entries[i].time == b->entries[i].time &&
		     a->entries[i].len == b->entries[i].len &&
		     memcmp(a->entries[i].data, b->entries[i].data, a->entries[i].len) == 0;
	if (ok && a->snapshot)
		ok = a->snapshot->meta.index == b->snapshot->meta.index &&
		     a->snapshot->meta.term == b->snapshot->meta.term &&
		     a->snapshot->meta.conf.n_voters == b->snapshot->meta.conf.n_voters &&
		     a->snapshot->meta.conf.voters[1] == b->snapshot->meta.conf.voters[1] &&
		     a->snapshot->len == b->snapshot->len &&
		     memcmp(a->snapshot->data, b->snapshot->data, a->snapshot->len) == 0;
	return ok;
}

/* Every message type and two proposals arrive intact, with our headers. */
static void sc_roundtrip(struct env *e)
{
	enum {
		N = RAFT_MSG_READ_INDEX_RESP + 2
	};
	switch (e->step) {
	case 0:
		for (uint8_t t = RAFT_MSG_APPEND; t <= RAFT_MSG_READ_INDEX_RESP; t++) {
			struct raft_message m = full_msg(t);
			CHECK(peer_sender_send(e->s, PEER, &m) == 0);
		}
		CHECK(peer_sender_forward_proposal(e->s, PEER, "put /a 1", 8) == 0);
		CHECK(peer_sender_forward_proposal(e->s, PEER, "", 0) == 0);
		CHECK(peer_sender_send(e->s, 0x99, &(struct raft_message){.type = 1}) == -1);
		e->step++;
		break;
	case 1:
		if (RV(e->rv, records) < N)
			return;
		if (stats_of(e).in_flight)
			return; /* wait for the sender to account the answer */
		pthread_mutex_lock(&e->rv->mu);
		CHECK(e->rv->n_batches == 1); /* queued in one iteration: one POST */
		struct recv_batch *b = &e->rv->batches[0];
		char want[40];
		snprintf(want, sizeof(want), "%" PRIx64, CLUSTER);
		CHECK_STR(b->cluster, want);
		snprintf(want, sizeof(want), "%" PRIx64, SELF);
		CHECK_STR(b->from, want);
		snprintf(want, sizeof(want), "%" PRIx64, PEER);
		CHECK_STR(b->to, want);
		CHECK_STR(b->ctype, "application/octet-stream");
		struct peer_decoded d;
		CHECK(peer_decode(b->body, b->len, &d) == PEER_CODEC_OK && d.n_records == N);
		for (uint8_t t = RAFT_MSG_APPEND; t <= RAFT_MSG_READ_INDEX_RESP && d.n_records == N;
		     t++) {
			struct raft_message m = full_msg(t);
			CHECK(d.records[t - 1].kind == PEER_REC_MESSAGE);
			CHECK(same_msg(&m, &d.records[t - 1].msg));
		}
		if (d.n_records == N) {
			CHECK(d.records[N - 2].kind == PEER_REC_PROPOSAL &&
			      d.records[N - 2].len == 8 &&
			      memcmp(d.records[N - 2].payload, "put /a 1", 8) == 0);
			CHECK(d.records[N - 1].kind == PEER_REC_PROPOSAL &&
			      d.records[N - 1].len == 0);
		}
		peer_decoded_free(&d);
		pthread_mutex_unlock(&e->rv->mu);
		struct peer_stats st = stats_of(e);
		CHECK(st.success == 1 && st.fail == 0 && st.msgs_sent == N && st.active);
		CHECK(st.latency_current > 0 && st.latency_min > 0 &&
		      st.latency_max >= st.latency_min);
		struct peer_sender_totals tot;
		peer_sender_totals(e->s, &tot);
		CHECK(tot.append_sent == 1 && tot.msgs_sent == N && tot.batches_ok == 1);
		CHECK(peer_sender_all_stats(e->s, NULL, 0) == 1);
		finish(e);
	}
}

/* While one POST is in flight, everything queued goes in the next one. */
static void sc_batching(struct env *e)
{
	switch (e->step) {
	case 0:
		rv_set_delay(e->rv, 200);
		send_idx(e, 1);
		e->step++;
		break;
	case 1:
		if (RV(e->rv, started) < 1)
			return;
		CHECK(stats_of(e).in_flight);
		for (uint64_t i = 2; i <= 51; i++)
			send_idx(e, i);
		CHECK(stats_of(e).queued == 50);
		e->step++;
		break;
	case 2:
		if (RV(e->rv, records) < 51 || stats_of(e).in_flight)
			return;
		CHECK(RV(e->rv, n_batches) == 2);
		pthread_mutex_lock(&e->rv->mu);
		CHECK(e->rv->batches[0].n_records == 1 && e->rv->batches[1].n_records == 50);
		pthread_mutex_unlock(&e->rv->mu);
		uint64_t idx[64];
		size_t n = rv_indexes(e->rv, idx, 64);
		bool in_order = n == 51;
		for (size_t i = 0; i < n; i++)
			in_order = in_order && idx[i] == i + 1;
		CHECK(in_order);
		struct peer_stats st = stats_of(e);
		CHECK(st.success == 2 && st.msgs_sent == 51 && st.queued == 0);
		CHECK(st.latency_max >= 150); /* the delayed POST */
		finish(e);
	}
}

static void setup_small_batches(struct env *e)
{
	peer_sender_set_limits(e->s, 0, 0, 1000);
}

/* A POST carries at most max_batch_bytes; the rest follows in order. */
static void sc_batch_cap(struct env *e)
{
	switch (e->step) {
	case 0:
		for (uint64_t i = 1; i <= 40; i++)
			send_idx(e, i); /* ~100 bytes each */
		e->step++;
		break;
	case 1:
		if (RV(e->rv, records) < 40 || stats_of(e).in_flight)
			return;
		size_t batches = RV(e->rv, n_batches);
		CHECK(batches >= 4);
		pthread_mutex_lock(&e->rv->mu);
		for (size_t i = 0; i < e->rv->n_batches; i++)
			CHECK(e->rv->batches[i].len <= 1000);
		pthread_mutex_unlock(&e->rv->mu);
		uint64_t idx[64];
		size_t n = rv_indexes(e->rv, idx, 64);
		bool in_order = n == 40;
		for (size_t i = 0; i < n; i++)
			in_order = in_order && idx[i] == i + 1;
		CHECK(in_order);
		finish(e);
	}
}

/* Many POSTs, one after the other, over one TCP connection. */
static void sc_keepalive(struct env *e)
{
	if (e->step == 0) {
		send_idx(e, ++e->count);
		e->step = 1;
		return;
	}
	if (RV(e->rv, records) < e->count || stats_of(e).in_flight)
		return;
	if (e->count < 20) {
		send_idx(e, ++e->count);
		return;
	}
	CHECK(RV(e->rv, n_batches) == 20);
	CHECK(RV(e->rv, connections) == 1);
	CHECK(stats_of(e).success == 20);
	finish(e);
}

static void setup_refused_first(struct env *e)
{
	char bad[64];
	snprintf(bad, sizeof(bad), "http://127.0.0.1:%u", closed_port());
	char *urls[] = {bad, e->rv->url};
	peer_sender_set_peer(e->s, PEER, urls, 2);
}

/* A refused connection drops the batch; the next POST uses the next URL. */
static void sc_failover(struct env *e)
{
	switch (e->step) {
	case 0:
		send_idx(e, 1);
		e->step++;
		break;
	case 1:
		if (stats_of(e).fail < 1 || stats_of(e).in_flight)
			return;
		struct peer_stats st = stats_of(e);
		CHECK(st.fail == 1 && st.msgs_dropped == 1 && st.url_index == 1 && !st.active);
		send_idx(e, 2);
		e->step++;
		break;
	case 2:
		if (RV(e->rv, records) < 1 || stats_of(e).in_flight)
			return;
		uint64_t idx[4];
		CHECK(rv_indexes(e->rv, idx, 4) == 1 && idx[0] == 2);
		CHECK(stats_of(e).success == 1 && stats_of(e).active);
		finish(e);
	}
}

static void setup_black_hole(struct env *e)
{
	uint16_t port;
	e->bh_fd = black_hole(&port);
	char bad[64];
	snprintf(bad, sizeof(bad), "http://127.0.0.1:%u", port);
	char *urls[] = {bad, e->rv->url};
	peer_sender_set_peer(e->s, PEER, urls, 2);
	peer_sender_set_timeouts(e->s, 200, 300);
}

/* A peer that accepts and never answers: the POST times out. */
static void sc_black_hole(struct env *e)
{
	switch (e->step) {
	case 0:
		send_idx(e, 1);
		e->mark = clock_mono_ms();
		e->step++;
		break;
	case 1:
		if (stats_of(e).fail < 1)
			return;
		uint64_t took = clock_mono_ms() - e->mark;
		printf("black hole: POST failed after %" PRIu64 " ms (timeout 300 ms)\n", took);
		CHECK(took >= 250 && took < 2000);
		CHECK(stats_of(e).url_index == 1);
		send_idx(e, 2);
		e->step++;
		break;
	case 2:
		if (RV(e->rv, records) < 1 || stats_of(e).in_flight)
			return;
		CHECK(stats_of(e).success == 1);
		finish(e);
	}
}

static void setup_bound(struct env *e)
{
	peer_sender_set_limits(e->s, 10, 0, 0);
}

static void send_snapshot(struct env *e, uint64_t index)
{
	struct raft_message m = msg_idx(RAFT_MSG_SNAPSHOT, index);
	m.snapshot = &snapshot;
	CHECK(peer_sender_send(e->s, PEER, &m) == 0);
}

/* Beyond 10 records the oldest non-snapshot ones go; a newer snapshot
 * replaces an older one. */
static void sc_queue_bound(struct env *e)
{
	switch (e->step) {
	case 0:
		rv_set_delay(e->rv, 300);
		send_idx(e, 1);
		e->step++;
		break;
	case 1:
		if (RV(e->rv, started) < 1)
			return;
		send_snapshot(e, 1000);
		for (uint64_t i = 2; i <= 101; i++)
			send_idx(e, i);
		CHECK(stats_of(e).queued == 10);
		send_snapshot(e, 2000);
		struct peer_stats st = stats_of(e);
		CHECK(st.queued == 10 && st.msgs_dropped == 92);
		e->step++;
		break;
	case 2:
		if (RV(e->rv, records) < 11 || stats_of(e).in_flight)
			return;
		uint64_t idx[16];
		size_t n = rv_indexes(e->rv, idx, 16);
		CHECK(n == 11);
		if (n == 11) {
			CHECK(idx[0] == 1);
			for (size_t i = 1; i < 10; i++)
				CHECK(idx[i] == 92 + i);
			CHECK(idx[10] == 2000);
		}
		finish(e);
	}
}

static void on_gone(void *ctx, uint64_t id)
{
	struct env *e = ctx;
	e->gone_calls++;
	e->gone_id = id;
}

static void setup_gone(struct env *e)
{
	rv_set_status(e->rv, MHD_HTTP_GONE);
	peer_sender_on_gone(e->s, on_gone, e);
}

/* 410 Gone: the batch fails and the callback tells the member. */
static void sc_gone(struct env *e)
{
	switch (e->step) {
	case 0:
		send_idx(e, 1);
		e->step++;
		break;
	case 1:
		if (stats_of(e).fail < 1)
			return;
		CHECK(e->gone_calls == 1 && e->gone_id == PEER);
		rv_set_status(e->rv, MHD_HTTP_PRECONDITION_FAILED);
		send_idx(e, 2);
		e->step++;
		break;
	case 2:
		if (stats_of(e).fail < 2)
			return;
		CHECK(e->gone_calls == 1); /* 412 is a failure, not "gone" */
		CHECK(stats_of(e).success == 0 && stats_of(e).msgs_dropped == 2);
		finish(e);
	}
}

/* Removing a peer with a POST in flight cancels it without a trace;
 * freeing the sender with one in flight does too (checked by ASan). */
static void sc_cancel(struct env *e)
{
	switch (e->step) {
	case 0:
		rv_set_delay(e->rv, 300);
		send_idx(e, 1);
		e->step++;
		break;
	case 1:
		if (RV(e->rv, started) < 1)
			return;
		peer_sender_remove_peer(e->s, PEER);
		CHECK(peer_sender_send(e->s, PEER, &(struct raft_message){.type = 1}) == -1);
		CHECK(peer_sender_all_stats(e->s, NULL, 0) == 0);
		char *urls[] = {e->rv->url};
		peer_sender_set_peer(e->s, PEER, urls, 1);
		peer_sender_set_peer(e->s, SELF, urls, 1); /* ignored */
		CHECK(peer_sender_all_stats(e->s, NULL, 0) == 1);
		rv_set_delay(e->rv, 300);
		send_idx(e, 2);
		e->step++;
		break;
	case 2:
		if (RV(e->rv, started) < 2)
			return;
		CHECK(stats_of(e).in_flight);
		finish(e); /* run_scenario frees the sender with the POST in flight */
	}
}

/* The peer set follows the cluster: added, URL changed, removed, self
 * skipped; unchanged URLs keep the failover position. */
static void sc_sync_members(struct env *e)
{
	char *u1[] = {"http://127.0.0.1:1", e->rv->url}, *u2[] = {e->rv->url};
	char *u3[] = {"http://127.0.0.1:3"};
	struct member m[3] = {
		{.id = SELF, .name = "self", .peer_urls = u3, .n_peer_urls = 1},
		{.id = PEER, .name = "peer", .peer_urls = u1, .n_peer_urls = 2},
		{.id = 0x3c, .name = "third", .peer_urls = u2, .n_peer_urls = 1},
	};
	struct cluster c = {.id = CLUSTER, .members = m, .n_members = 3};
	switch (e->step) {
	case 0:
		peer_sender_sync_members(e->s, &c);
		CHECK(peer_sender_all_stats(e->s, NULL, 0) == 2); /* PEER and 0x3c */
		send_idx(e, 1); /* to port 1: refused, fails over */
		e->step++;
		break;
	case 1:
		if (stats_of(e).fail < 1 || stats_of(e).in_flight)
			return;
		CHECK(stats_of(e).url_index == 1);
		peer_sender_sync_members(e->s, &c); /* same URLs: position kept */
		CHECK(stats_of(e).url_index == 1);
		c.n_members = 2; /* 0x3c removed */
		peer_sender_sync_members(e->s, &c);
		CHECK(peer_sender_all_stats(e->s, NULL, 0) == 1);
		struct peer_stats st;
		CHECK(!peer_sender_peer_stats(e->s, 0x3c, &st));
		m[1].peer_urls = u2; /* URLs changed: restart at the first */
		m[1].n_peer_urls = 1;
		peer_sender_sync_members(e->s, &c);
		CHECK(stats_of(e).url_index == 0);
		send_idx(e, 2);
		e->step++;
		break;
	case 2:
		if (RV(e->rv, records) < 1 || stats_of(e).in_flight)
			return;
		CHECK(stats_of(e).success == 1);
		finish(e);
	}
}

/* ---- throughput ------------------------------------------------------------------- */

static const char entry_payload[100] = "x";

static void send_append_100(struct env *e)
{
	struct raft_entry ent = {.term = 2,
				 .index = ++e->next_index,
				 .time = 1,
				 .data = entry_payload,
				 .len = sizeof(entry_payload)};
	struct raft_message m = msg_idx(RAFT_MSG_APPEND, e->next_index);
	m.entries = &ent;
	m.n_entries = 1;
	peer_sender_send(e->s, PEER, &m);
}

static void setup_throughput(struct env *e)
{
	e->rv->keep_bodies = false;
}

static void setup_deep(struct env *e)
{
	e->rv->keep_bodies = false;
	e->count = 2000;
}

static void setup_shallow(struct env *e)
{
	e->rv->keep_bodies = false;
	e->count = 16;
}

/* Keeps up to e->count records queued for 1 s; counts what was delivered. */
static void sc_stream(struct env *e)
{
	uint64_t now = clock_mono_ms();
	if (e->step == 0) {
		e->mark = now;
		e->step = 1;
	}
	if (e->step == 1) {
		struct peer_stats st = stats_of(e);
		for (size_t q = st.queued; q < e->count; q++)
			send_append_100(e);
		if (now - e->mark >= 1000)
			e->step = 2;
		return;
	}
	if (stats_of(e).in_flight)
		return;
	struct peer_sender_totals t;
	peer_sender_totals(e->s, &t);
	double secs = (double)(now - e->mark) / 1000.0;
	printf("throughput (queue kept at %zu, 1 POST in flight, 100-byte entries): "
	       "%.0f msgs/s, %.0f batches/s, %.1f MB/s, %" PRIu64 " dropped\n",
	       e->count, (double)t.msgs_sent / secs, (double)t.batches_ok / secs,
	       (double)t.bytes_sent / secs / 1e6, t.msgs_dropped);
	CHECK(t.msgs_sent > 1000 && t.batches_failed == 0);
	CHECK(RV(e->rv, records) == t.msgs_sent && RV(e->rv, bad) == 0);
	finish(e);
}

/* One message per POST, the next sent when the last was answered. */
static void sc_ping_pong(struct env *e)
{
	uint64_t now = clock_mono_ms();
	if (e->step == 0) {
		e->mark = now;
		e->step = 1;
		send_append_100(e);
		return;
	}
	if (stats_of(e).in_flight)
		return;
	if (now - e->mark < 1000) {
		send_append_100(e);
		return;
	}
	struct peer_sender_totals t;
	peer_sender_totals(e->s, &t);
	struct peer_stats st = stats_of(e);
	double secs = (double)(now - e->mark) / 1000.0;
	printf("throughput (ping-pong, 1 msg per POST): %.0f batches/s, latency avg %.3f ms "
	       "min %.3f max %.3f stddev %.3f\n",
	       (double)t.batches_ok / secs, st.latency_average, st.latency_min, st.latency_max,
	       st.latency_stddev);
	CHECK(t.batches_ok > 50 && RV(e->rv, connections) == 1);
	finish(e);
}

int main(void)
{
	if (http_client_global_init() != 0) {
		fprintf(stderr, "curl_global_init failed\n");
		return 2;
	}
	snapshot.meta.index = 1000;
	snapshot.meta.term = 4;
	snapshot.meta.conf.n_voters = 2;
	snapshot.meta.conf.voters[0] = SELF;
	snapshot.meta.conf.voters[1] = PEER;
	snapshot.data = snap_bytes;
	snapshot.len = sizeof(snap_bytes);
	ents[0] = (struct raft_entry){.term = 3,
				      .index = 7,
				      .type = RAFT_ENTRY_NORMAL,
				      .time = 123456789,
				      .data = "abc",
				      .len = 3};
	ents[1] = (struct raft_entry){.term = 3,
				      .index = 8,
				      .type = RAFT_ENTRY_CONF,
				      .time = -1,
				      .data = "\0\1",
				      .len = 2};

	run_scenario("roundtrip", sc_roundtrip, 5000, NULL);
	run_scenario("batching", sc_batching, 5000, NULL);
	run_scenario("batch-cap", sc_batch_cap, 5000, setup_small_batches);
	run_scenario("keepalive", sc_keepalive, 5000, NULL);
	run_scenario("failover", sc_failover, 5000, setup_refused_first);
	run_scenario("black-hole", sc_black_hole, 5000, setup_black_hole);
	run_scenario("queue-bound", sc_queue_bound, 5000, setup_bound);
	run_scenario("gone", sc_gone, 5000, setup_gone);
	run_scenario("cancel", sc_cancel, 5000, NULL);
	run_scenario("sync-members", sc_sync_members, 5000, NULL);
	run_scenario("stream-deep", sc_stream, 10000, setup_deep);
	run_scenario("stream-shallow", sc_stream, 10000, setup_shallow);
	run_scenario("ping-pong", sc_ping_pong, 10000, setup_throughput);
	http_client_global_cleanup();
	return check_summary();
}
