/* test_tls.c - net/tls.c: --cipher-suites as GnuTLS priorities, a listener
 * set's files loaded and checked (good, missing, garbage, mismatched, CA and
 * CRL), and --auto-tls certificates made once and reused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/harness.h"
#include "net/tls.h"

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
	cleanup();
	return check_summary();
}
