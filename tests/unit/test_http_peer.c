/* test_http_peer.c - the whole peer transport in one loop, as cetcd runs
 * it: a peer_sender (member A) posts to the real peer listener of member B
 * (http_server.c serving routes.c's peer service -> http_peer.c) in the same
 * epoll loop;
 * node_receive / node_receive_proposal are stubs that re-encode what they
 * get, so byte equality with the sent encoding proves every field arrived.
 * Then a blocking libcurl client in a second thread probes the refusals
 * (412, 403, 400, 405, 404, 413) and GET /members, GET /version.
 *
 * Stubs stand in for the node and the client routes; everything else is
 * the production code (the peer body limit is lowered to 1 MiB). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
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
#include "api/etcd_reply.h"
#include "api/http_admin.h"
#include "api/ready_gate.h"
#include "api/http_auth.h"
#include "api/http_keys.h"
#include "api/http_metrics.h"
#include "api/http_peer.h"
#include "api/routes.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/loop.h"
#include "member/node.h"
#include "member/peer_codec.h"
#include "member/join.h"
#include "member/peer_send.h"
#include "raft/raft.h"
#include "member/server.h"

/* ---- stubs: what member B's node receives ----------------------------------- */

static struct buf got; /* re-encoded records, in arrival order */
static size_t n_got;

void node_receive(struct node *n, const struct raft_message *m)
{
	peer_encode_message(&got, m);
	n_got++;
}

void node_receive_proposal(struct node *n, const void *payload, size_t len)
{
	peer_encode_proposal(&got, payload, len);
	n_got++;
}

uint64_t node_applied_index(const struct node *n)
{
	return 0;
}

uint64_t node_term(const struct node *n)
{
	return 0;
}

/* the client routes (routes.c names them; this test serves no client) */
#define CLIENT_ROUTE_STUB(name)                                           \
	void name(struct http_req *r)                                     \
	{                                                                 \
		reply_plain(r, MHD_HTTP_NOT_FOUND, "404 page not found"); \
	}
CLIENT_ROUTE_STUB(http_keys_handle)
CLIENT_ROUTE_STUB(http_admin_health)
CLIENT_ROUTE_STUB(http_admin_members)
CLIENT_ROUTE_STUB(http_admin_machines)
CLIENT_ROUTE_STUB(http_admin_stats_self)
CLIENT_ROUTE_STUB(http_admin_stats_store)
CLIENT_ROUTE_STUB(http_admin_stats_leader)
CLIENT_ROUTE_STUB(http_admin_debug_vars)
CLIENT_ROUTE_STUB(http_auth_enable)
CLIENT_ROUTE_STUB(http_auth_users)
CLIENT_ROUTE_STUB(http_auth_roles)
CLIENT_ROUTE_STUB(http_metrics_handle)

bool api_ready_gate(struct http_req *r, http_handler_fn again)
{
	(void)r;
	(void)again;
	return true;
}

/* ---- fixture ------------------------------------------------------------------ */

static struct server srv;
static struct http_service peer_service; /* api_peer_service with a 1 MiB body limit */
static uint64_t id_a, id_b;
#define BIG_ID UINT64_C(0xfedcba9876543210) /* an added member not started yet */
static char url_a[64], url_b[64];
static int node_dummy;

static uint16_t free_port(void)
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

static void setup_server(void)
{
	srv.loop = loop_new();
	snprintf(url_a, sizeof(url_a), "http://127.0.0.1:%u", free_port());
	snprintf(url_b, sizeof(url_b), "http://127.0.0.1:%u", free_port());
	char *pa[] = {url_a}, *pb[] = {url_b};
	char *ca[] = {"http://127.0.0.1:1"}, *cb[] = {"http://127.0.0.1:2"};
	cluster_add_member(&srv.cluster, "a", pa, 1, ca, 1, "tok");
	cluster_add_member(&srv.cluster, "b", pb, 1, cb, 1, "tok");
	id_a = cluster_member_id(pa, 1, "tok");
	id_b = cluster_member_id(pb, 1, "tok");
	/* an added member not started yet, its id above 2^63 */
	char *pc[] = {"http://127.0.0.1:3"};
	cluster_put_member(&srv.cluster, BIG_ID, "", pc, 1, NULL, 0);
	srv.self_id = id_b;
	srv.node = (struct node *)(void *)&node_dummy;
	peer_service = api_peer_service;
	peer_service.max_body = 1u << 20; /* the real limit (1 GiB) is too big to test */
	srv.peer_http = http_server_new(srv.loop, &peer_service, &srv, pb, 1);
	if (srv.peer_http == NULL) {
		fprintf(stderr, "cannot start the peer listener\n");
		exit(2);
	}
}

/* ---- the blocking client (second thread) ---------------------------------------- */

struct reply {
	long status;
	struct buf body;
	struct buf headers;
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
	buf_append(ud, p, size * n);
	return size * n;
}

static void http_do(const char *method, const char *path, const char *const *hdrs, const void *body,
		    size_t len, struct reply *out)
{
	char url[128];
	snprintf(url, sizeof(url), "%s%s", url_b, path);
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	for (size_t i = 0; hdrs && hdrs[i]; i++)
		h = curl_slist_append(h, hdrs[i]);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
	if (body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, &out->headers);
	out->status = 0;
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status);
	buf_putc(&out->body, '\0');
	buf_putc(&out->headers, '\0');
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
}

enum {
	R_VERSION,
	R_MEMBERS,
	R_NOPE,
	R_GET_RAFT,
	R_GARBAGE,
	R_NO_FROM,
	R_BAD_TO,
	R_FROM_MISMATCH,
	R_EMPTY_BATCH,
	R_NO_CLUSTER,
	R_TOO_LARGE,
	R_N
};
static struct reply replies[R_N];
static atomic_bool client_done;
/* join_existing_cluster against this peer listener, as the unstarted member */
static int join_rc = -2;
static struct join_result joined;

static void *client_main(void *arg)
{
	char cid[64], from[64], from_c[64], bad_to[64];
	snprintf(cid, sizeof(cid), "X-Etcd-Cluster-Id: %" PRIx64, srv.cluster.id);
	snprintf(from, sizeof(from), "X-Server-From: %" PRIx64, id_a);
	snprintf(from_c, sizeof(from_c), "X-Server-From: %" PRIX64, id_a); /* upper case */
	snprintf(bad_to, sizeof(bad_to), "X-Raft-To: %" PRIx64, id_a);
	const char *ok_hdrs[] = {cid, from_c, NULL};
	const char *no_from[] = {cid, NULL};
	const char *wrong_to[] = {cid, from, bad_to, NULL};
	const char *no_cluster[] = {from, NULL};
	struct buf empty = BUF_INIT, mismatch = BUF_INIT;
	peer_encode_header(&empty, 0);
	peer_encode_header(&mismatch, 1);
	struct raft_message m = {.type = RAFT_MSG_HEARTBEAT, .from = id_b, .to = id_b};
	peer_encode_message(&mismatch, &m);
	http_do("GET", "/version", NULL, NULL, 0, &replies[R_VERSION]);
	http_do("GET", "/members", NULL, NULL, 0, &replies[R_MEMBERS]);
	http_do("GET", "/nope", NULL, NULL, 0, &replies[R_NOPE]);
	http_do("GET", "/raft", NULL, NULL, 0, &replies[R_GET_RAFT]);
	http_do("POST", "/raft", ok_hdrs, "garbage!garbage!", 16, &replies[R_GARBAGE]);
	http_do("POST", "/raft", no_from, empty.data, empty.len, &replies[R_NO_FROM]);
	http_do("POST", "/raft", wrong_to, empty.data, empty.len, &replies[R_BAD_TO]);
	http_do("POST", "/raft", ok_hdrs, mismatch.data, mismatch.len, &replies[R_FROM_MISMATCH]);
	http_do("POST", "/raft", ok_hdrs, empty.data, empty.len, &replies[R_EMPTY_BATCH]);
	http_do("POST", "/raft", no_cluster, empty.data, empty.len, &replies[R_NO_CLUSTER]);
	size_t big = peer_service.max_body + 1;
	char *huge = calloc(1, big);
	http_do("POST", "/raft", ok_hdrs, huge, big, &replies[R_TOO_LARGE]);
	free(huge);
	char *own[] = {"http://127.0.0.1:3"};
	join_rc = join_existing_cluster(&srv.cluster, own, 1, NULL, &joined);
	buf_free(&empty);
	buf_free(&mismatch);
	atomic_store(&client_done, true);
	return NULL;
}

static void check_client_replies(void)
{
	CHECK(replies[R_VERSION].status == 200);
	CHECK(strstr(replies[R_VERSION].body.data, "\"etcdserver\"") != NULL);
	CHECK(replies[R_MEMBERS].status == 200);
	/* etcd 3.4's shape: ids as uint64 numbers, peerURLs before name, name and
	 * clientURLs left out while empty, in id order, one newline at the end */
	char want[512], one[3][160];
	snprintf(one[0], sizeof(one[0]),
		 "{\"id\":%" PRIu64 ",\"peerURLs\":[\"%s\"],\"name\":\"a\","
		 "\"clientURLs\":[\"http://127.0.0.1:1\"]}",
		 id_a, url_a);
	snprintf(one[1], sizeof(one[1]),
		 "{\"id\":%" PRIu64 ",\"peerURLs\":[\"%s\"],\"name\":\"b\","
		 "\"clientURLs\":[\"http://127.0.0.1:2\"]}",
		 id_b, url_b);
	snprintf(one[2], sizeof(one[2]),
		 "{\"id\":18364758544493064720,\"peerURLs\":[\"http://127.0.0.1:3\"]}");
	uint64_t ids[3] = {id_a, id_b, BIG_ID};
	int ord[3] = {0, 1, 2};
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (ids[ord[j]] < ids[ord[i]]) {
				int t = ord[i];
				ord[i] = ord[j];
				ord[j] = t;
			}
	snprintf(want, sizeof(want), "[%s,%s,%s]\n", one[ord[0]], one[ord[1]], one[ord[2]]);
	CHECK(replies[R_MEMBERS].body.data != NULL &&
	      strcmp(replies[R_MEMBERS].body.data, want) == 0);
	if (replies[R_MEMBERS].body.data != NULL && strcmp(replies[R_MEMBERS].body.data, want) != 0)
		fprintf(stderr, "got  %s\nwant %s", replies[R_MEMBERS].body.data, want);
	CHECK(strstr(replies[R_MEMBERS].headers.data, "Content-Type: application/json\r\n") !=
	      NULL);
	CHECK(strstr(replies[R_MEMBERS].headers.data, "Access-Control") == NULL);
	/* the joiner's reader of that body (member/join.c): ids above 2^63 exact */
	CHECK(join_rc == 0);
	CHECK(joined.self_id == BIG_ID);
	CHECK(joined.table.id == srv.cluster.id);
	CHECK(joined.table.n_members == 3);
	for (size_t i = 0; i < joined.table.n_members && i < 3; i++) {
		const struct member *g = &joined.table.members[i];
		const struct member *w = cluster_find(&srv.cluster, g->id);
		CHECK(w != NULL);
		if (w == NULL)
			continue;
		CHECK(strcmp(g->name, w->name) == 0);
		CHECK(g->n_peer_urls == 1 && strcmp(g->peer_urls[0], w->peer_urls[0]) == 0);
		CHECK(g->n_client_urls == w->n_client_urls);
		if (g->n_client_urls == 1 && w->n_client_urls == 1)
			CHECK(strcmp(g->client_urls[0], w->client_urls[0]) == 0);
	}
	cluster_free(&joined.table);
	snprintf(want, sizeof(want), "X-Etcd-Cluster-Id: %" PRIx64 "\r\n", srv.cluster.id);
	CHECK(strstr(replies[R_MEMBERS].headers.data, want) != NULL);
	CHECK(replies[R_NOPE].status == 404);
	CHECK(strstr(replies[R_NOPE].headers.data, want) != NULL);
	CHECK(replies[R_GET_RAFT].status == 405);
	CHECK(strstr(replies[R_GET_RAFT].headers.data, want) != NULL);
	CHECK(strstr(replies[R_GET_RAFT].headers.data, "Allow: POST\r\n") != NULL);
	CHECK(replies[R_GARBAGE].status == 400);
	CHECK(strstr(replies[R_GARBAGE].body.data, "magic") != NULL);
	CHECK(replies[R_NO_FROM].status == 400);
	CHECK(replies[R_BAD_TO].status == 412);
	CHECK(replies[R_FROM_MISMATCH].status == 400);
	CHECK(replies[R_EMPTY_BATCH].status == 204);
	CHECK(replies[R_NO_CLUSTER].status == 412);
	CHECK(replies[R_TOO_LARGE].status == 413);
	for (int i = 0; i < R_N; i++) {
		buf_free(&replies[i].body);
		buf_free(&replies[i].headers);
	}
}

/* ---- the loop-side script ------------------------------------------------------------ */

struct script {
	int step;
	bool done, stopped;
	uint64_t deadline;
	struct peer_sender *a, *bad_cluster, *stranger;
	struct buf want;
	pthread_t client;
};

static struct raft_entry ents[2];
static struct raft_snapshot snap;

static struct raft_message sample(uint8_t type)
{
	struct raft_message m = {.type = type,
				 .from = id_a,
				 .to = id_b,
				 .term = 5,
				 .log_term = 4,
				 .index = 99,
				 .commit = 98,
				 .context = 7,
				 .reject = true,
				 .transfer = true,
				 .reject_hint = 3};
	if (type == RAFT_MSG_APPEND) {
		m.entries = ents;
		m.n_entries = 2;
	}
	if (type == RAFT_MSG_SNAPSHOT)
		m.snapshot = &snap;
	return m;
}

static struct peer_stats stats(struct peer_sender *s)
{
	struct peer_stats st;
	memset(&st, 0, sizeof(st));
	peer_sender_peer_stats(s, id_b, &st);
	return st;
}

static void step_delivery(struct script *sc)
{
	if (sc->step == 0) {
		for (uint8_t t = RAFT_MSG_APPEND; t <= RAFT_MSG_READ_INDEX_RESP; t++) {
			struct raft_message m = sample(t);
			peer_sender_send(sc->a, id_b, &m);
			peer_encode_message(&sc->want, &m);
		}
		peer_sender_forward_proposal(sc->a, id_b, "fwd", 3);
		peer_encode_proposal(&sc->want, "fwd", 3);
		sc->step = 1;
		return;
	}
	if (stats(sc->a).success < 1)
		return;
	CHECK(n_got == RAFT_MSG_READ_INDEX_RESP + 1);
	CHECK(got.len == sc->want.len && memcmp(got.data, sc->want.data, got.len) == 0);
	struct http_peer_stats ps;
	http_peer_get_stats(&ps);
	CHECK(ps.recv_append == 1 && ps.recv_batches == 1 && ps.recv_proposals == 1);
	struct peer_sender_totals t;
	peer_sender_totals(sc->a, &t);
	CHECK(t.append_sent == 1);
	sc->step = 2;
}

static void step_refusals(struct script *sc)
{
	if (sc->step == 2) {
		struct raft_message m = sample(RAFT_MSG_HEARTBEAT);
		peer_sender_send(sc->bad_cluster, id_b, &m);
		peer_sender_send(sc->stranger, id_b, &m);
		sc->step = 3;
		return;
	}
	if (stats(sc->bad_cluster).fail < 1 || stats(sc->stranger).fail < 1)
		return;
	CHECK(n_got == RAFT_MSG_READ_INDEX_RESP + 1); /* nothing more delivered */
	struct http_peer_stats ps;
	http_peer_get_stats(&ps);
	CHECK(ps.refused == 2);
	pthread_create(&sc->client, NULL, client_main, NULL);
	sc->step = 4;
}

static void script_tick(void *ctx)
{
	struct script *sc = ctx;
	if (sc->done || sc->stopped)
		return;
	if (clock_mono_ms() > sc->deadline) {
		fprintf(stderr, "test_http_peer: deadline passed at step %d\n", sc->step);
		sc->stopped = true;
		loop_stop(srv.loop);
		return;
	}
	if (sc->step < 2)
		step_delivery(sc);
	else if (sc->step < 4)
		step_refusals(sc);
	else if (atomic_load(&client_done)) {
		sc->done = true;
		loop_stop(srv.loop);
	}
}

int main(void)
{
	if (http_client_global_init() != 0)
		return 2;
	ents[0] = (struct raft_entry){.term = 4,
				      .index = 100,
				      .type = RAFT_ENTRY_NORMAL,
				      .time = 1700000000000000001ll,
				      .data = "cmd",
				      .len = 3};
	ents[1] = (struct raft_entry){.term = 5, .index = 101, .type = RAFT_ENTRY_NOOP};
	snap.meta.index = 90;
	snap.meta.term = 3;
	snap.meta.conf.n_voters = 1;
	snap.meta.conf.n_learners = 1;
	snap.data = "state";
	snap.len = 5;
	setup_server();
	snap.meta.conf.voters[0] = id_a;
	snap.meta.conf.learners[0] = id_b;

	struct script sc = {.want = BUF_INIT};
	sc.deadline = clock_mono_ms() + 20000;
	char *to_b[] = {url_b};
	sc.a = peer_sender_new(srv.loop, id_a, srv.cluster.id);
	sc.bad_cluster = peer_sender_new(srv.loop, id_a, srv.cluster.id ^ 1);
	sc.stranger = peer_sender_new(srv.loop, 0x777, srv.cluster.id);
	peer_sender_set_peer(sc.a, id_b, to_b, 1);
	peer_sender_set_peer(sc.bad_cluster, id_b, to_b, 1);
	peer_sender_set_peer(sc.stranger, id_b, to_b, 1);
	loop_add_timer(srv.loop, 1, script_tick, &sc);
	loop_add_before_sleep(srv.loop, script_tick, &sc);
	loop_run(srv.loop);
	CHECK(sc.done);
	if (sc.step >= 4)
		pthread_join(sc.client, NULL);
	if (sc.done)
		check_client_replies();

	peer_sender_free(sc.a);
	peer_sender_free(sc.bad_cluster);
	peer_sender_free(sc.stranger);
	http_server_free(srv.peer_http);
	loop_free(srv.loop);
	cluster_free(&srv.cluster);
	buf_free(&sc.want);
	buf_free(&got);
	http_client_global_cleanup();
	return check_summary();
}
