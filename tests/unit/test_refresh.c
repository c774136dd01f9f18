/* test_refresh.c - proxy/refresh against an in-process fake cluster: net's
 * HTTP servers in the test's own loop answer GET /members (etcd 3.4's peer
 * shape, one id above 2^63) and GET /v2/stats/self (a leader and a
 * follower, as etcd 3.4 and cetcd answer), next to a closed port.
 *
 * Scenarios, each with a fresh loop driven by a 5 ms step timer and a
 * deadline on every wait:
 *   - found: the first peer URL is dead, the second answers; the endpoints
 *     become the members' client URLs minus the proxy's own, the cluster
 *     file is rewritten (and the change logged as etcd logs it), the leader
 *     is found, the dead endpoint is marked failed by the probe, a kick
 *     refreshes at once.
 *   - retry: while no endpoint is known the refresh comes back after 1 s
 *     (not the 30 s interval), and picks up the member that appeared; the
 *     missing cluster file is written though the peer list is unchanged.
 *   - all failed: the only endpoint stops answering; its probe fails it and
 *     a refresh follows within the second.
 * The found scenario also has a member that accepts connections and never
 * answers (its probe times out) and kicks twice (100 ms apart at least). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "net/http_client.h"
#include "net/http_reply.h"
#include "net/http_server.h"
#include "net/loop.h"
#include "proxy/endpoints.h"
#include "proxy/refresh.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

#define BIG_ID	   UINT64_C(18446744073709551557) /* above 2^63 */
#define BIG_HEX	   "ffffffffffffffc5"
#define FOLLOWER   UINT64_C(0x1234)
#define WAIT_MS	   5000u
#define RETRY_WAIT 6000u

/* ---- the fake cluster ----------------------------------------------------------- */

enum role {
	PEER,
	LEADER,
	FOLLOWER_NODE
};

struct node {
	enum role role;
	char url[64];
	struct http_server *srv;
	unsigned members_asked;
	uint64_t members_first_ms, members_last_ms;
	char *members_json; /* what GET /members answers (PEER) */
};

static void answer_json(struct http_req *r, const char *json)
{
	http_respond(r, 200, reply_from_text(json, "application/json"));
}

static void members_handler(struct http_req *r)
{
	struct node *n = r->ctx;
	if (n->role != PEER || n->members_json == NULL) {
		reply_plain(r, 404, "404 page not found");
		return;
	}
	uint64_t now = clock_mono_ms();
	if (n->members_asked++ == 0)
		n->members_first_ms = now;
	n->members_last_ms = now;
	answer_json(r, n->members_json);
}

static void stats_handler(struct http_req *r)
{
	struct node *n = r->ctx;
	if (n->role == LEADER)
		answer_json(r, "{\"name\":\"a\",\"id\":\"" BIG_HEX "\",\"state\":\"StateLeader\","
			       "\"startTime\":\"2026-12-07T21:44:10.336600089Z\",\"leaderInfo\":"
			       "{\"leader\":\"" BIG_HEX "\",\"uptime\":\"5.8s\",\"startTime\":"
			       "\"2026-12-07T21:44:10.538240597Z\"},\"recvAppendRequestCnt\":0,"
			       "\"sendAppendRequestCnt\":0}");
	else
		answer_json(r, "{\"name\":\"b\",\"id\":\"1234\",\"state\":\"StateFollower\","
			       "\"leaderInfo\":{\"leader\":\"" BIG_HEX "\"}}");
}

static const struct http_route routes[] = {
	{"/members", 0, "GET", members_handler},
	{"/v2/stats/self", 0, "GET", stats_handler},
};
static const struct http_service service = {
	.routes = routes,
	.n_routes = sizeof(routes) / sizeof(routes[0]),
	.conn_memory = 32 * 1024,
	.max_body = 1 << 20,
};

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

static void closed_url(char *out, size_t cap)
{
	snprintf(out, cap, "http://127.0.0.1:%u", free_port());
}

/* A socket that listens and never accepts: connecting works, no answer comes. */
static int hung_listener(char *out, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(out, cap, "http://127.0.0.1:%u", ntohs(sa.sin_port));
	return fd;
}

static void flush(void *ctx)
{
	struct node *n = ctx;
	http_server_flush(n->srv);
}

static bool node_start(struct loop *l, struct node *n, enum role role)
{
	n->role = role;
	closed_url(n->url, sizeof(n->url));
	char *urls[] = {n->url};
	n->srv = http_server_new(l, &service, n, urls, 1);
	if (n->srv == NULL)
		return false;
	loop_add_before_sleep(l, flush, n);
	return true;
}

/* ---- a scenario: a loop, a client, the endpoints, a refresher, a step ------------------ */

struct scenario {
	struct loop *loop;
	struct http_client *client;
	struct endpoints eps;
	struct refresher *ref;
	void (*step)(struct scenario *s);
	int phase;
	uint64_t phase_start;
	bool done;
	bool timed_out;
};

static void step_tick(void *ctx)
{
	struct scenario *s = ctx;
	if (!s->done)
		s->step(s);
	if (s->done)
		loop_stop(s->loop);
}

static void next_phase(struct scenario *s)
{
	s->phase++;
	s->phase_start = clock_mono_ms();
}

/* True (and the scenario over) once the phase has waited ms in vain. */
static bool expired(struct scenario *s, unsigned ms, const char *what)
{
	if (clock_mono_ms() - s->phase_start < ms)
		return false;
	printf("  timed out in phase %d: %s\n", s->phase, what);
	s->timed_out = true;
	s->done = true;
	return true;
}

static void run(struct scenario *s)
{
	s->phase_start = clock_mono_ms();
	loop_add_timer(s->loop, 5, step_tick, s);
	loop_run(s->loop);
}

/* ---- found: dead first peer, endpoints, file, leader, dead endpoint, kick ------------- */

static struct node peer, leader, follower;
static char self_url[64], dead_client[64], dead_peer[64], file_path[128], tmpdir[64];
static char peer2[64], peer3[64];
static char *log_text;
static unsigned kicked_at_count;
static uint64_t kick_served_ms;
static int hung_fd = -1; /* listens, never accepts: a member that hangs */
static char hung_client[64];

static char *slurp(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static void found_step(struct scenario *s)
{
	struct endpoints *e = &s->eps;
	struct endpoint *lead = endpoints_find(e, leader.url);
	struct endpoint *dead = endpoints_find(e, dead_client);
	struct endpoint *hung = endpoints_find(e, hung_client);
	switch (s->phase) {
	case 0: /* the first refresh, from the second peer URL */
		if (refresher_has_refreshed(s->ref))
			next_phase(s);
		else
			expired(s, WAIT_MS, "no refresh");
		break;
	case 1: /* the leader found, the dead and the hung endpoints failed, by probes */
		if (lead && lead->leader && dead && dead->failed_until_ms != 0 && hung &&
		    hung->failed_until_ms != 0)
			next_phase(s);
		else
			expired(s, WAIT_MS, "leader or dead endpoint not seen");
		break;
	case 2:
		kicked_at_count = peer.members_asked;
		refresher_kick(s->ref);
		next_phase(s);
		break;
	case 3:
		if (peer.members_asked > kicked_at_count) {
			kick_served_ms = peer.members_last_ms;
			kicked_at_count = peer.members_asked;
			refresher_kick(s->ref); /* at once again: held to the 100 ms gap */
			refresher_kick(s->ref);
			next_phase(s);
		} else {
			expired(s, 1000, "kick did not refresh");
		}
		break;
	case 4:
		if (peer.members_asked > kicked_at_count)
			s->done = true;
		else
			expired(s, 1000, "second kick did not refresh");
		break;
	}
}

static void test_found(void)
{
	struct scenario s = {0};
	s.loop = loop_new();
	s.client = http_client_new(s.loop);
	REQUIRE(s.client != NULL);
	REQUIRE(node_start(s.loop, &peer, PEER));
	REQUIRE(node_start(s.loop, &leader, LEADER));
	REQUIRE(node_start(s.loop, &follower, FOLLOWER_NODE));
	closed_url(self_url, sizeof(self_url));
	closed_url(dead_client, sizeof(dead_client));
	closed_url(dead_peer, sizeof(dead_peer));
	closed_url(peer2, sizeof(peer2));
	closed_url(peer3, sizeof(peer3));
	hung_fd = hung_listener(hung_client, sizeof(hung_client));
	REQUIRE(hung_fd >= 0);
	struct buf j = BUF_INIT;
	buf_printf(
		&j,
		"[{\"id\":%s,\"name\":\"a\",\"peerURLs\":[\"%s\"],\"clientURLs\":[\"%s/\"]},"
		"{\"id\":4660,\"name\":\"b\",\"peerURLs\":[\"%s\"],\"clientURLs\":[\"%s\",\"%s\"]},"
		"{\"id\":99,\"name\":\"c\",\"peerURLs\":[\"%s\"],\"clientURLs\":[\"%s\"]},"
		"{\"id\":8,\"name\":\"d\",\"peerURLs\":[\"%s\"],\"clientURLs\":[\"%s\"]},"
		"{\"id\":7,\"name\":\"\",\"peerURLs\":[\"%s\"],\"clientURLs\":[]}]\n",
		"18446744073709551557", peer.url, leader.url, peer2, follower.url, self_url, peer3,
		dead_client, peer3, hung_client, dead_peer);
	peer.members_json = buf_steal(&j, NULL);
	snprintf(file_path, sizeof(file_path), "%s/proxy/cluster", tmpdir);

	FILE *logf = tmpfile();
	log_set_output(logf);
	endpoints_init(&s.eps, 5000, test_seed);
	char *peers[] = {dead_peer, peer.url};
	char *selfs[] = {self_url};
	struct refresher_opts o = {
		.loop = s.loop,
		.client = s.client,
		.endpoints = &s.eps,
		.peer_urls = peers,
		.n_peer_urls = 2,
		.cluster_file = file_path,
		.self_urls = selfs,
		.n_self_urls = 1,
		.refresh_interval_ms = 30000,
		.probe_interval_ms = 100,
		.dial_timeout_ms = 500,
		.request_timeout_ms = 1000,
	};
	s.ref = refresher_new(&o);
	REQUIRE(s.ref != NULL);
	s.step = found_step;
	run(&s);
	CHECK(!s.timed_out);

	/* the endpoints: every client URL but ours, '/' stripped */
	CHECK_EQ(s.eps.n, 4);
	struct endpoint *lead = endpoints_find(&s.eps, leader.url);
	struct endpoint *fol = endpoints_find(&s.eps, follower.url);
	struct endpoint *dead = endpoints_find(&s.eps, dead_client);
	REQUIRE(lead && fol && dead);
	CHECK_STR(lead->url, leader.url);
	CHECK(endpoints_find(&s.eps, self_url) == NULL);
	CHECK_EQ(lead->member_id, BIG_ID);
	CHECK_EQ(fol->member_id, FOLLOWER);
	CHECK_EQ(dead->member_id, 99);
	CHECK(lead->leader);
	CHECK(!fol->leader);
	uint64_t now = clock_mono_ms();
	CHECK(endpoint_available(lead, now));
	CHECK(endpoint_available(fol, now));
	CHECK(!endpoint_available(dead, now));
	struct endpoint *hung = endpoints_find(&s.eps, hung_client);
	CHECK(hung != NULL && !endpoint_available(hung, now));
	CHECK_EQ(endpoints_available(&s.eps, now), 2);
	/* kicks: at most one refresh per 100 ms */
	CHECK(peer.members_last_ms - kick_served_ms >= 90);
	/* the dead first peer URL was tried, the second answered */
	CHECK(peer.members_asked >= 2);

	/* the cluster file: every peer URL, sorted */
	char *sorted[] = {peer.url, peer2, peer3, dead_peer};
	for (int a = 0; a < 4; a++)
		for (int b = a + 1; b < 4; b++)
			if (strcmp(sorted[a], sorted[b]) > 0) {
				char *t = sorted[a];
				sorted[a] = sorted[b];
				sorted[b] = t;
			}
	struct buf want = BUF_INIT;
	buf_printf(&want, "{\"PeerURLs\":[\"%s\",\"%s\",\"%s\",\"%s\"]}", sorted[0], sorted[1],
		   sorted[2], sorted[3]);
	CHECK_STR(slurp(file_path), want.data);
	buf_free(&want);

	/* the change logged as etcd logs it */
	fflush(logf);
	rewind(logf);
	static char logbuf[8192];
	size_t ln = fread(logbuf, 1, sizeof(logbuf) - 1, logf);
	logbuf[ln] = '\0';
	log_text = logbuf;
	struct buf line = BUF_INIT;
	buf_printf(&line,
		   "N | etcdmain: proxy: updated peer urls in cluster file from [%s %s] to "
		   "[%s %s %s %s]",
		   dead_peer, peer.url, sorted[0], sorted[1], sorted[2], sorted[3]);
	CHECK(strstr(log_text, line.data) != NULL);
	CHECK(strstr(log_text, "I | proxy/httpproxy: endpoints found [") != NULL);
	if (strstr(log_text, line.data) == NULL)
		printf("  log:\n%s  wanted: %s\n", log_text, line.data);
	buf_free(&line);
	log_set_output(NULL);
	fclose(logf);

	refresher_free(s.ref);
	http_client_free(s.client);
	http_server_free(peer.srv);
	http_server_free(leader.srv);
	http_server_free(follower.srv);
	close(hung_fd);
	endpoints_free(&s.eps);
	loop_free(s.loop);
	free(peer.members_json);
}

/* ---- retry: 1 s while none is known ------------------------------------------------ */

static struct node rpeer, rleader;
static unsigned asked_before;

static void retry_step(struct scenario *s)
{
	switch (s->phase) {
	case 0: /* the first answer lists no client URL but ours */
		if (refresher_has_refreshed(s->ref)) {
			asked_before = rpeer.members_asked;
			/* the member's client URL appears */
			free(rpeer.members_json);
			struct buf j = BUF_INIT;
			buf_printf(&j,
				   "[{\"id\":%s,\"name\":\"a\",\"peerURLs\":[\"%s\"],"
				   "\"clientURLs\":[\"%s\"]}]",
				   "18446744073709551557", rpeer.url, rleader.url);
			rpeer.members_json = buf_steal(&j, NULL);
			next_phase(s);
		} else {
			expired(s, WAIT_MS, "no first refresh");
		}
		break;
	case 1:
		if (s->eps.n == 1)
			s->done = true;
		else
			expired(s, RETRY_WAIT, "no retry within the wait");
		break;
	}
}

static void test_retry_while_none(void)
{
	struct scenario s = {0};
	s.loop = loop_new();
	s.client = http_client_new(s.loop);
	REQUIRE(s.client != NULL);
	REQUIRE(node_start(s.loop, &rpeer, PEER));
	REQUIRE(node_start(s.loop, &rleader, LEADER));
	char self[64];
	closed_url(self, sizeof(self));
	struct buf j = BUF_INIT;
	buf_printf(&j, "[{\"id\":5,\"name\":\"p\",\"peerURLs\":[\"%s\"],\"clientURLs\":[\"%s\"]}]",
		   rpeer.url, self);
	rpeer.members_json = buf_steal(&j, NULL);
	FILE *logf = tmpfile();
	log_set_output(logf); /* quiet: the found scenario checks the lines */
	endpoints_init(&s.eps, 5000, test_seed);
	char retry_file[128];
	snprintf(retry_file, sizeof(retry_file), "%s/retry/proxy/cluster", tmpdir);
	char *peers[] = {rpeer.url};
	char *selfs[] = {self};
	struct refresher_opts o = {
		.loop = s.loop,
		.client = s.client,
		.endpoints = &s.eps,
		.peer_urls = peers,
		.n_peer_urls = 1,
		.self_urls = selfs,
		.n_self_urls = 1,
		.cluster_file = retry_file,
		.refresh_interval_ms = 30000,
		.dial_timeout_ms = 500,
		.request_timeout_ms = 1000,
	};
	s.ref = refresher_new(&o);
	REQUIRE(s.ref != NULL);
	s.step = retry_step;
	run(&s);
	CHECK(!s.timed_out);
	CHECK_EQ(s.eps.n, 1);
	CHECK_EQ(asked_before, 1);
	CHECK_EQ(rpeer.members_asked, 2);
	/* about a second apart, not the 30 s interval */
	uint64_t gap = rpeer.members_last_ms - rpeer.members_first_ms;
	CHECK(gap >= 900 && gap <= 6000);
	if (s.eps.n == 1)
		CHECK_STR(s.eps.v[0]->url, rleader.url);
	refresher_free(s.ref);
	http_client_free(s.client);
	http_server_free(rpeer.srv);
	http_server_free(rleader.srv);
	endpoints_free(&s.eps);
	loop_free(s.loop);
	free(rpeer.members_json);
	/* the peer list did not change: the file is written all the same (it
	 * was missing), and no change is logged */
	struct buf want = BUF_INIT;
	buf_printf(&want, "{\"PeerURLs\":[\"%s\"]}", rpeer.url);
	CHECK_STR(slurp(retry_file), want.data);
	buf_free(&want);
	fflush(logf);
	rewind(logf);
	static char logbuf[8192];
	size_t ln = fread(logbuf, 1, sizeof(logbuf) - 1, logf);
	logbuf[ln] = '\0';
	CHECK(strstr(logbuf, "updated peer urls") == NULL);
	CHECK(strstr(logbuf, "endpoints found") != NULL);
	log_set_output(NULL);
	fclose(logf);
}

/* ---- all failed: the last endpoint stops answering, a refresh comes within 1 s ---- */

static struct node apeer, aleader;
static unsigned asked_at_stop;
static uint64_t stopped_ms;

static void all_failed_step(struct scenario *s)
{
	struct endpoint *lead = endpoints_find(&s->eps, aleader.url);
	switch (s->phase) {
	case 0: /* found and probed */
		if (lead && lead->leader) {
			http_server_free(aleader.srv); /* the member goes away */
			aleader.srv = NULL;
			asked_at_stop = apeer.members_asked;
			stopped_ms = clock_mono_ms();
			next_phase(s);
		} else {
			expired(s, WAIT_MS, "leader not found");
		}
		break;
	case 1: /* the probe fails it */
		if (lead && lead->failed_until_ms != 0)
			next_phase(s);
		else
			expired(s, WAIT_MS, "the stopped member was not failed");
		break;
	case 2: /* and, none being left, a refresh follows within the second */
		if (apeer.members_asked > asked_at_stop)
			s->done = true;
		else
			expired(s, RETRY_WAIT, "no refresh after the last endpoint failed");
		break;
	}
}

static void test_all_failed(void)
{
	struct scenario s = {0};
	s.loop = loop_new();
	s.client = http_client_new(s.loop);
	REQUIRE(s.client != NULL);
	REQUIRE(node_start(s.loop, &apeer, PEER));
	REQUIRE(node_start(s.loop, &aleader, LEADER));
	struct buf j = BUF_INIT;
	buf_printf(&j, "[{\"id\":%s,\"name\":\"a\",\"peerURLs\":[\"%s\"],\"clientURLs\":[\"%s\"]}]",
		   "18446744073709551557", apeer.url, aleader.url);
	apeer.members_json = buf_steal(&j, NULL);
	FILE *logf = tmpfile();
	log_set_output(logf);
	endpoints_init(&s.eps, 5000, test_seed);
	char *peers[] = {apeer.url};
	struct refresher_opts o = {
		.loop = s.loop,
		.client = s.client,
		.endpoints = &s.eps,
		.peer_urls = peers,
		.n_peer_urls = 1,
		.refresh_interval_ms = 30000,
		.probe_interval_ms = 100,
		.dial_timeout_ms = 500,
		.request_timeout_ms = 1000,
	};
	s.ref = refresher_new(&o);
	REQUIRE(s.ref != NULL);
	s.step = all_failed_step;
	run(&s);
	CHECK(!s.timed_out);
	CHECK_EQ(apeer.members_asked, asked_at_stop + 1);
	CHECK(apeer.members_last_ms - stopped_ms < 2500); /* not the 30 s interval */
	refresher_free(s.ref);
	http_client_free(s.client);
	http_server_free(apeer.srv);
	endpoints_free(&s.eps);
	loop_free(s.loop);
	free(apeer.members_json);
	log_set_output(NULL);
	fclose(logf);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{"found", test_found},
		{"retry_while_none", test_retry_while_none},
		{"all_failed", test_all_failed},
	};
	if (http_client_global_init() < 0)
		return 2;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cetcd-refresh-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 2;
	int rc = run_tests(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	http_client_global_cleanup();
	return rc;
}
