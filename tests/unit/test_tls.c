/* test_tls.c - net/tls.c: --cipher-suites as GnuTLS priorities, a listener
 * set's files loaded and checked (good, missing, garbage, mismatched, CA and
 * CRL), and --auto-tls certificates made once and reused. Then the edge over
 * TLS in one loop: an https:// listener with client certificate auth, the
 * HTTP client presenting a certificate (CN=alice, made with certtool when
 * it is installed), and http_client_cert_cn seen by the handler; a client
 * without a certificate fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "net/http_client.h"
#include "net/http_reply.h"
#include "net/http_server.h"
#include "net/loop.h"
#include "net/tls.h"
#include "util/clock.h"

static char dir[] = "/tmp/cetcd-test-tls-XXXXXX";

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *path(const char *sub)
{
	static char buf[32][512]; /* a ring: enough for the paths one case holds */
	static int i;
	i = (i + 1) % 32;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, sub);
	return buf[i];
}

static void test_suites(void)
{
	char err[256];
	char *names[] = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			 "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"};
	char *p = tls_priorities_from_suites(names, 2, err, sizeof(err));
	REQUIRE(p != NULL);
	CHECK_STR(p, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:-CIPHER-ALL:-MAC-ALL:+ECDHE-RSA"
		     ":+ECDHE-ECDSA:+AES-128-GCM:+AEAD");
	free(p);
	char *bad[] = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_NOPE"};
	CHECK(tls_priorities_from_suites(bad, 2, err, sizeof(err)) == NULL);
	CHECK_STR(err, "unexpected TLS cipher suite \"TLS_NOPE\"");
}

static void test_load(void)
{
	char err[512];
	char *hosts[] = {"127.0.0.1", "localhost"};
	REQUIRE(tls_self_cert(path("a"), hosts, 2, err, sizeof(err)) == 0);
	REQUIRE(tls_self_cert(path("b"), hosts, 1, err, sizeof(err)) == 0);
	struct http_tls t = {.cert_file = path("a/cert.pem"), .key_file = path("a/key.pem")};
	struct tls_server *s = tls_server_load(&t, err, sizeof(err));
	CHECK(s != NULL);
	if (s)
		CHECK(strstr(tls_server_cert_pem(s), "BEGIN CERTIFICATE") != NULL);
	tls_server_free(s);

	/* a CA and client certificate authentication */
	t.trusted_ca_file = path("b/cert.pem");
	t.client_cert_auth = true;
	s = tls_server_load(&t, err, sizeof(err));
	CHECK(s != NULL && tls_server_client_cert_auth(s));
	tls_server_free(s);

	/* key of another certificate */
	struct http_tls m = {.cert_file = path("a/cert.pem"), .key_file = path("b/key.pem")};
	CHECK(tls_server_load(&m, err, sizeof(err)) == NULL);
	CHECK_STR(err, "tls: private key does not match public key");

	/* missing file: Go's words */
	struct http_tls x = {.cert_file = path("nope.pem"), .key_file = path("a/key.pem")};
	CHECK(tls_server_load(&x, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "open ") == err && strstr(err, "no such file or directory") != NULL);

	/* garbage certificate, garbage CA, garbage CRL */
	write_text(path("garbage.pem"),
		   "-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----\n");
	struct http_tls g = {.cert_file = path("garbage.pem"), .key_file = path("a/key.pem")};
	CHECK(tls_server_load(&g, err, sizeof(err)) == NULL);
	struct http_tls gca = {.cert_file = path("a/cert.pem"),
			       .key_file = path("a/key.pem"),
			       .trusted_ca_file = path("garbage.pem")};
	CHECK(tls_server_load(&gca, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "trusted CA") != NULL);
	gca.trusted_ca_file = path("b/cert.pem");
	gca.crl_file = path("garbage.pem");
	CHECK(tls_server_load(&gca, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "CRL") != NULL);

	/* no certificate at all */
	struct http_tls none = {0};
	CHECK(tls_server_load(&none, err, sizeof(err)) == NULL);
}

static void test_self_cert_reused(void)
{
	char err[512];
	char *hosts[] = {"127.0.0.1"};
	struct stat a, b;
	REQUIRE(stat(path("a/cert.pem"), &a) == 0);
	CHECK((a.st_mode & 0777) == 0600);
	REQUIRE(tls_self_cert(path("a"), hosts, 1, err, sizeof(err)) == 0);
	REQUIRE(stat(path("a/cert.pem"), &b) == 0);
	CHECK(a.st_ino == b.st_ino && a.st_mtime == b.st_mtime);
	/* a nested directory is made */
	CHECK(tls_self_cert(path("c/fixtures/client"), hosts, 1, err, sizeof(err)) == 0);
	CHECK(access(path("c/fixtures/client/key.pem"), R_OK) == 0);
}

/* ---- the edge over TLS ------------------------------------------------- */

static void cn_handler(struct http_req *r)
{
	const char *cn = http_client_cert_cn(r);
	char body[300];
	snprintf(body, sizeof(body), "%s %s", http_req_tls(r) ? "tls" : "plain", cn ? cn : "-");
	http_respond(r, 200, reply_from_text(body, "text/plain"));
}

static const struct http_route cn_routes[] = {{"/cn", 0, "GET", cn_handler}};
static const struct http_service cn_service = {
	.routes = cn_routes,
	.n_routes = 1,
	.conn_memory = 32 * 1024,
	.max_body = 1 << 16,
};

struct edge {
	struct loop *loop;
	struct http_server *srv;
	int pending;
	long status[3];
	char body[3][300];
	bool failed[3];
};

static void edge_flush(void *ctx)
{
	struct edge *e = ctx;
	http_server_flush(e->srv);
}

struct call_ctx {
	struct edge *e;
	int i;
};

static int on_data(void *ctx, const char *data, size_t len)
{
	struct call_ctx *c = ctx;
	size_t have = strlen(c->e->body[c->i]);
	if (have + len < sizeof(c->e->body[c->i]))
		memcpy(c->e->body[c->i] + have, data, len);
	return 0;
}

static void on_done(void *ctx, const struct http_call_result *res)
{
	struct call_ctx *c = ctx;
	c->e->status[c->i] = res->status;
	c->e->failed[c->i] = res->error != HTTP_CALL_OK;
	if (--c->e->pending == 0)
		loop_stop(c->e->loop);
}

static void on_deadline(void *ctx)
{
	struct edge *e = ctx;
	loop_stop(e->loop);
}

static int sh(const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof(full), "cd '%s' && %s >/dev/null 2>&1", dir, cmd);
	return system(full);
}

/* A CA, a server certificate for 127.0.0.1 and a client one, CN=alice. */
static bool make_certs(void)
{
	write_text(path("ca.tmpl"), "cn = ca\nca\ncert_signing_key\nexpiration_days = 2\n");
	write_text(path("srv.tmpl"), "cn = srv\nip_address = 127.0.0.1\ntls_www_server\n"
				     "signing_key\nencryption_key\nexpiration_days = 2\n");
	write_text(path("cli.tmpl"), "cn = alice\ntls_www_client\nsigning_key\n"
				     "expiration_days = 2\n");
	return sh("certtool --generate-privkey --key-type=ecdsa --outfile ca.key") == 0 &&
	       sh("certtool --generate-self-signed --load-privkey ca.key --template ca.tmpl "
		  "--outfile ca.pem") == 0 &&
	       sh("certtool --generate-privkey --key-type=ecdsa --outfile srv.key") == 0 &&
	       sh("certtool --generate-certificate --load-privkey srv.key --load-ca-certificate "
		  "ca.pem --load-ca-privkey ca.key --template srv.tmpl --outfile srv.pem") == 0 &&
	       sh("certtool --generate-privkey --key-type=ecdsa --outfile cli.key") == 0 &&
	       sh("certtool --generate-certificate --load-privkey cli.key --load-ca-certificate "
		  "ca.pem --load-ca-privkey ca.key --template cli.tmpl --outfile cli.pem") == 0;
}

static uint16_t free_port(void)
{
	static uint16_t next;
	if (next == 0)
		next = (uint16_t)(21000 + (getpid() % 5000));
	return next++;
}

static void test_edge(void)
{
	if (system("certtool --version >/dev/null 2>&1") != 0 || !make_certs()) {
		printf("  (no certtool: the edge over TLS is not tested)\n");
		return;
	}
	struct edge e = {.loop = loop_new(), .pending = 3};
	REQUIRE(e.loop != NULL);
	char url[64], plain[64];
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", free_port());
	snprintf(plain, sizeof(plain), "http://127.0.0.1:%u", free_port());
	char *urls[] = {url, plain};
	struct http_tls t = {.cert_file = path("srv.pem"),
			     .key_file = path("srv.key"),
			     .trusted_ca_file = path("ca.pem"),
			     .client_cert_auth = true};
	e.srv = http_server_new_tls(e.loop, &cn_service, &e, urls, 2, &t);
	REQUIRE(e.srv != NULL);
	loop_add_before_sleep(e.loop, edge_flush, &e);
	struct http_client *with = http_client_new(e.loop), *without = http_client_new(e.loop);
	struct http_client_tls ct = {.ca_file = path("ca.pem"),
				     .cert_file = path("cli.pem"),
				     .key_file = path("cli.key")};
	http_client_set_tls(with, &ct);
	struct http_client_tls ca_only = {.ca_file = path("ca.pem")};
	http_client_set_tls(without, &ca_only);
	char target[96];
	snprintf(target, sizeof(target), "%s/cn", url);
	struct call_ctx c0 = {&e, 0}, c1 = {&e, 1}, c2 = {&e, 2};
	struct http_call_spec spec = {.method = "GET",
				      .url = target,
				      .on_data = on_data,
				      .on_done = on_done,
				      .ctx = &c0,
				      .total_ms = 5000};
	CHECK(http_call_start(with, &spec, NULL) != NULL);
	spec.ctx = &c1;
	CHECK(http_call_start(without, &spec, NULL) != NULL);
	/* the plain listener of the same server: no certificate, no CN */
	struct http_client *plain_client = http_client_new(e.loop);
	char plain_target[96];
	snprintf(plain_target, sizeof(plain_target), "%s/cn", plain);
	spec.url = plain_target;
	spec.ctx = &c2;
	CHECK(http_call_start(plain_client, &spec, NULL) != NULL);
	loop_add_timer(e.loop, 8000, on_deadline, &e);
	loop_run(e.loop);
	CHECK_EQ(e.status[0], 200);
	CHECK_STR(e.body[0], "tls alice");
	CHECK(e.failed[1] && e.status[1] == 0);
	CHECK_STR(e.body[2], "plain -");
	http_client_free(with);
	http_client_free(without);
	http_client_free(plain_client);
	http_server_free(e.srv);
	loop_free(e.loop);
}

static void cleanup(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	if (mkdtemp(dir) == NULL)
		return 1;
	test_suites();
	test_load();
	test_self_cert_reused();
	if (http_client_global_init() == 0) {
		test_edge();
		http_client_global_cleanup();
	}
	cleanup();
	return check_summary();
}
