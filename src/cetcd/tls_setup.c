/* tls_setup.c - the TLS flags -> net's TLS structures (see tls_setup.h). */
#include "cetcd/tls_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xalloc.h"

static bool set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static char *path_in(const char *dir, const char *file)
{
	size_t n = strlen(dir) + strlen(file) + 2;
	char *p = xmalloc(n);
	snprintf(p, n, "%s/%s", dir, file);
	return p;
}

/* etcd's SelfCert: <data-dir>/fixtures/<what>, for the listen URLs' hosts. */
static int self_cert(const struct config *c, const char *what, const struct url_list *urls,
		     char **cert, char **key)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/fixtures/%s", c->data_dir, what);
	char **hosts = xcalloc(urls->n ? urls->n : 1, sizeof(*hosts));
	for (size_t i = 0; i < urls->n; i++)
		hosts[i] = urls->v[i].host;
	char err[1024];
	int rc = tls_self_cert(dir, hosts, urls->n, err, sizeof(err));
	free(hosts);
	if (rc != 0) {
		log_crit("etcdmain", "%s", err);
		return -1;
	}
	*cert = path_in(dir, "cert.pem");
	*key = path_in(dir, "key.pem");
	return 0;
}

static int build_client(const struct config *c, struct tls_setup *t)
{
	struct http_tls *h = &t->client;
	h->priorities = t->priorities;
	if (!set(c->cert_file) && !set(c->key_file)) {
		if (!c->auto_tls)
			return 0;
		/* the generated certificate replaces the whole set, as etcd's */
		if (self_cert(c, "client", &c->listen_client_urls, &t->auto_client_cert,
			      &t->auto_client_key) != 0)
			return -1;
		h->cert_file = t->auto_client_cert;
		h->key_file = t->auto_client_key;
		t->has_client = true;
		return 0;
	}
	if (c->auto_tls)
		log_warn("embed", "ignoring client auto TLS since certs given");
	h->cert_file = c->cert_file;
	h->key_file = c->key_file;
	h->trusted_ca_file = set(c->trusted_ca_file) ? c->trusted_ca_file : c->ca_file;
	/* etcd 3.4 requires client certificates as soon as it trusts a CA */
	h->client_cert_auth = c->client_cert_auth || set(h->trusted_ca_file);
	h->crl_file = c->client_crl_file;
	h->allowed_hostname = c->client_cert_allowed_hostname;
	t->has_client = true;
	return 0;
}

static int build_peer(const struct config *c, struct tls_setup *t)
{
	struct http_tls *h = &t->peer;
	struct http_client_tls *pc = &t->peer_client;
	h->priorities = t->priorities;
	if (!set(c->peer_cert_file) && !set(c->peer_key_file)) {
		if (!c->peer_auto_tls)
			return 0;
		if (self_cert(c, "peer", &c->listen_peer_urls, &t->auto_peer_cert,
			      &t->auto_peer_key) != 0)
			return -1;
		h->cert_file = pc->cert_file = t->auto_peer_cert;
		h->key_file = pc->key_file = t->auto_peer_key;
		pc->insecure = true; /* etcd skips verifying self-signed peers */
		t->has_peer = t->has_peer_client = true;
		return 0;
	}
	if (c->peer_auto_tls)
		log_warn("embed", "ignoring peer auto TLS since certs given");
	h->cert_file = pc->cert_file = c->peer_cert_file;
	h->key_file = pc->key_file = c->peer_key_file;
	h->trusted_ca_file = pc->ca_file =
		set(c->peer_trusted_ca_file) ? c->peer_trusted_ca_file : c->peer_ca_file;
	h->client_cert_auth = c->peer_client_cert_auth || set(h->trusted_ca_file);
	h->crl_file = c->peer_crl_file;
	h->allowed_cn = c->peer_cert_allowed_cn;
	h->allowed_hostname = c->peer_cert_allowed_hostname;
	h->check_client_san = !c->experimental_peer_skip_client_san_verification;
	t->has_peer = t->has_peer_client = true;
	return 0;
}

/* An https:// listen URL needs a certificate: etcd's words, which differ
 * for client and peer URLs. */
static int check_https(const struct url_list *urls, bool have, bool peer)
{
	for (size_t i = 0; i < urls->n && !have; i++) {
		const struct url *u = &urls->v[i];
		if (strcmp(u->scheme, "https") != 0)
			continue;
		if (peer)
			log_crit(
				"etcdmain",
				"cannot listen on TLS for %s:%s: KeyFile and CertFile are not presented",
				u->host, u->port);
		else
			log_crit(
				"etcdmain",
				"TLS key/cert (--cert-file, --key-file) must be provided for client "
				"url %s with HTTPS scheme",
				u->str);
		return -1;
	}
	return 0;
}

/* The files must load now, before anything is created or listens (etcd
 * fails in its listener set-up, before the data dir). */
static int check_material(const struct http_tls *h)
{
	char err[1024];
	struct tls_server *s = tls_server_load(h, err, sizeof(err));
	if (s == NULL) {
		log_crit("etcdmain", "%s", err);
		return -1;
	}
	tls_server_free(s);
	return 0;
}

int tls_setup_build(const struct config *c, struct tls_setup *t)
{
	memset(t, 0, sizeof(*t));
	if (c->cipher_suites.n > 0) {
		char err[512];
		t->priorities = tls_priorities_from_suites(c->cipher_suites.v, c->cipher_suites.n,
							   err, sizeof(err));
		if (t->priorities == NULL) {
			log_crit("etcdmain", "%s", err);
			return -1;
		}
	}
	if (build_client(c, t) != 0 || build_peer(c, t) != 0)
		return -1;
	if (check_https(&c->listen_peer_urls, t->has_peer, true) != 0 ||
	    check_https(&c->listen_client_urls, t->has_client, false) != 0)
		return -1;
	if ((t->has_peer && check_material(&t->peer) != 0) ||
	    (t->has_client && check_material(&t->client) != 0))
		return -1;
	/* a CA alone still verifies the peers this member talks to */
	if (!t->has_peer_client && set(c->peer_trusted_ca_file)) {
		t->peer_client.ca_file = c->peer_trusted_ca_file;
		t->has_peer_client = true;
	}
	if (t->has_client) {
		t->client_client = (struct http_client_tls){
			.ca_file = t->client.trusted_ca_file,
			.cert_file = t->client.cert_file,
			.key_file = t->client.key_file,
			.insecure = c->auto_tls,
		};
		t->has_client_client = true;
	} else if (t->has_peer_client) {
		t->client_client = t->peer_client;
		t->has_client_client = true;
	}
	return 0;
}

void tls_setup_free(struct tls_setup *t)
{
	free(t->priorities);
	free(t->auto_client_cert);
	free(t->auto_client_key);
	free(t->auto_peer_cert);
	free(t->auto_peer_key);
	memset(t, 0, sizeof(*t));
}
