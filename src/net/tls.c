/* tls.c - TLS material with GnuTLS (see tls.h): listener sets loaded and
 * checked at start, the client certificate check of every handshake,
 * --cipher-suites as GnuTLS priorities, --auto-tls certificates. */
#include "net/tls.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The certificate and key the handshakes present, as read from their
 * files; re-read when a file changes (etcd reads them at every handshake).
 * Replaced ones stay until the listener set goes: a handshake in progress
 * may still use them. */
struct cert_gen {
	gnutls_pcert_st pcerts[16];
	unsigned n;
	gnutls_privkey_t key;
	struct cert_gen *older;
};

struct cert_files {
	char *cert_file, *key_file;
	struct stat cert_st, key_st; /* what cur was read from */
	bool read_once;
	struct cert_gen *cur;	  /* NULL: the files do not load (handshakes fail) */
	struct cert_gen *retired; /* replaced, kept (linked by older) */
};

struct tls_server {
	char *cert_pem, *key_pem, *ca_pem; /* NUL-terminated file contents */
	struct cert_files *files;	   /* what handshakes present */
	char *priorities;
	/* --cipher-suites: the listed TLS 1.2 suites, for sessions that
	 * negotiated TLS 1.2 (TLS 1.3 keeps its own suites, as Go's) */
	gnutls_priority_t tls12;
	bool client_cert_auth;
	char *allowed_cn;		/* NULL: any */
	char *allowed_hostname;		/* NULL: any */
	gnutls_x509_trust_list_t trust; /* CA + CRL; NULL without a CA */
	gnutls_datum_t ticket_key;	/* session tickets' master key (random) */
	bool check_san;			/* etcd's checkSAN (peer listeners) */
};

/* TLS 1.2 and 1.3, as etcd 3.4 (Go's MinVersion TLS 1.2); X25519 first, as
 * Go: GnuTLS's NORMAL puts SECP256R1 first, and a client that sent an
 * X25519 key share (OpenSSL, Go, curl) then pays a HelloRetryRequest round
 * trip on every handshake (new connections per second up by half). The
 * server's cipher order wins, AES-128-GCM first, as Go's: GnuTLS otherwise
 * follows the client, and OpenSSL asks for AES-256-GCM, whose TLS 1.3
 * suite hashes the handshake with SHA-384 (no SHA instructions for it:
 * 16 % of a handshake's time). */
#define DEFAULT_PRIORITIES                                                                        \
	"NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-X25519:" \
	"+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:-CIPHER-ALL:+AES-128-GCM:"            \
	"+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CBC:+AES-256-CBC"

static bool set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Go's "open <path>: no such file or directory". */
static void go_errno(char *err, size_t cap, const char *op, const char *path, int e)
{
	char why[128];
	snprintf(why, sizeof(why), "%s", strerror(e));
	why[0] = (char)tolower((unsigned char)why[0]);
	snprintf(err, cap, "%s %s: %s", op, path, why);
}

/* A whole file, NUL-terminated. Go's words for a file that cannot be read. */
static char *read_file(const char *path, size_t *len, char *err, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		go_errno(err, cap, "open", path, errno);
		return NULL;
	}
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err, cap, "read %s: %s", path, strerror(EIO));
		buf_free(&b);
		return NULL;
	}
	buf_putc(&b, '\0');
	*len = b.len - 1;
	return b.data;
}

static gnutls_datum_t datum(const char *s, size_t len)
{
	gnutls_datum_t d = {(unsigned char *)s, (unsigned)len};
	return d;
}

/* Go's tls.X509KeyPair words for the usual mistakes, or NULL. */
static const char *go_pair_error(const char *cert, const char *key, int rc)
{
	if (strstr(cert, "-----BEGIN CERTIFICATE-----") == NULL)
		return strstr(cert, "PRIVATE KEY-----") ?
			       "tls: failed to find certificate PEM data in certificate input, but "
			       "did find a private key; PEM inputs may have been switched" :
			       "tls: failed to find any PEM data in certificate input";
	if (strstr(key, "PRIVATE KEY-----") == NULL)
		return strstr(key, "-----BEGIN CERTIFICATE-----") ?
			       "tls: found a certificate rather than a key in the PEM for the "
			       "private key" :
			       "tls: failed to find any PEM data in key input";
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
		return "tls: private key does not match public key";
	return NULL;
}

/* 0 if the (first) certificate and the key parse and hold the same public
 * key, else GnuTLS's error. Checked before the credentials load them: that
 * loader leaks a certificate on these errors. */
static int parse_pair(const gnutls_datum_t *cert, const gnutls_datum_t *key)
{
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t pk;
	if (gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_privkey_init(&pk) < 0)
		xalloc_die();
	unsigned char a[64], b[64];
	size_t la = sizeof(a), lb = sizeof(b);
	int rc = gnutls_x509_crt_import(crt, cert, GNUTLS_X509_FMT_PEM);
	if (rc == 0)
		rc = gnutls_x509_privkey_import(pk, key, GNUTLS_X509_FMT_PEM);
	if (rc == 0)
		rc = gnutls_x509_crt_get_key_id(crt, 0, a, &la);
	if (rc == 0)
		rc = gnutls_x509_privkey_get_key_id(pk, 0, b, &lb);
	if (rc == 0 && (la != lb || memcmp(a, b, la) != 0))
		rc = GNUTLS_E_CERTIFICATE_KEY_MISMATCH;
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(pk);
	return rc;
}

/* The certificate and key must load together (and match). */
static int check_pair(struct tls_server *s, const struct http_tls *t, char *err, size_t cap)
{
	size_t clen, klen;
	s->cert_pem = read_file(t->cert_file, &clen, err, cap);
	if (s->cert_pem == NULL)
		return -1;
	s->key_pem = read_file(t->key_file, &klen, err, cap);
	if (s->key_pem == NULL)
		return -1;
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		xalloc_die();
	gnutls_datum_t c = datum(s->cert_pem, clen), k = datum(s->key_pem, klen);
	int rc = parse_pair(&c, &k);
	if (rc == 0)
		rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cred);
	if (rc < 0) {
		const char *go = go_pair_error(s->cert_pem, s->key_pem, rc);
		if (go)
			snprintf(err, cap, "%s", go);
		else
			snprintf(err, cap,
				 "tls: cannot load the certificate %s with the key %s: %s",
				 t->cert_file, t->key_file, gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- the certificate handshakes present, reloaded ------------------------ */

static __thread const struct tls_server *running; /* see tls_server_running */

static void gen_free(struct cert_gen *g)
{
	while (g != NULL) {
		struct cert_gen *older = g->older;
		for (unsigned i = 0; i < g->n; i++)
			gnutls_pcert_deinit(&g->pcerts[i]);
		gnutls_privkey_deinit(g->key);
		free(g);
		g = older;
	}
}

/* The pair from the files, or NULL (err says why). */
static struct cert_gen *gen_load(const char *cert_file, const char *key_file, char *err, size_t cap)
{
	size_t clen, klen;
	char *cert = read_file(cert_file, &clen, err, cap);
	char *key = cert ? read_file(key_file, &klen, err, cap) : NULL;
	if (key == NULL) {
		free(cert);
		return NULL;
	}
	gnutls_datum_t c = datum(cert, clen), k = datum(key, klen);
	struct cert_gen *g = xcalloc(1, sizeof(*g));
	g->n = sizeof(g->pcerts) / sizeof(g->pcerts[0]);
	int rc = parse_pair(&c, &k);
	if (rc == 0)
		rc = gnutls_pcert_list_import_x509_raw(g->pcerts, &g->n, &c, GNUTLS_X509_FMT_PEM,
						       0);
	if (rc < 0)
		g->n = 0;
	if (rc == 0 && gnutls_privkey_init(&g->key) < 0)
		xalloc_die();
	if (rc == 0)
		rc = gnutls_privkey_import_x509_raw(g->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		const char *go = go_pair_error(cert, key, rc);
		snprintf(err, cap, "%s", go ? go : gnutls_strerror(rc));
		gen_free(g);
		g = NULL;
	}
	free(cert);
	free(key);
	return g;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void retire(struct cert_files *f)
{
	if (f->cur == NULL)
		return;
	f->cur->older = f->retired;
	f->retired = f->cur;
	f->cur = NULL;
}

/* Re-reads the pair when either file changed since it was last read (a
 * pair that does not load is tried again at the next change). */
static void files_refresh(struct cert_files *f)
{
	struct stat cst, kst;
	if (stat(f->cert_file, &cst) != 0 || stat(f->key_file, &kst) != 0) {
		memset(&cst, 0, sizeof(cst));
		memset(&kst, 0, sizeof(kst));
	}
	if (f->read_once && same_file(&cst, &f->cert_st) && same_file(&kst, &f->key_st))
		return;
	f->read_once = true;
	f->cert_st = cst;
	f->key_st = kst;
	char err[512];
	struct cert_gen *g = gen_load(f->cert_file, f->key_file, err, sizeof(err));
	retire(f);
	f->cur = g;
	if (g == NULL) /* as etcd: handshakes fail until the files load again */
		log_warn("embed", "cannot load the TLS certificate %s with the key %s: %s",
			 f->cert_file, f->key_file, err);
}

static void files_free(struct cert_files *f)
{
	if (f == NULL)
		return;
	retire(f);
	gen_free(f->retired);
	free(f->cert_file);
	free(f->key_file);
	free(f);
}

/* libmicrohttpd's certificate callback (gnutls_certificate_retrieve_function2):
 * the running listener set's current pair. */
static int retrieve_cb(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		       gnutls_pcert_st **pcert, unsigned int *pcert_length,
		       gnutls_privkey_t *privkey)
{
	(void)session, (void)req_ca_rdn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
	if (running == NULL)
		return -1;
	struct cert_files *f = running->files;
	files_refresh(f);
	if (f->cur == NULL)
		return -1;
	*pcert = f->cur->pcerts;
	*pcert_length = f->cur->n;
	*privkey = f->cur->key;
	return 0;
}

void *tls_server_cert_callback(void)
{
	return (void *)retrieve_cb;
}

static int load_ca(struct tls_server *s, const struct http_tls *t, char *err, size_t cap)
{
	size_t len;
	s->ca_pem = read_file(t->trusted_ca_file, &len, err, cap);
	if (s->ca_pem == NULL)
		return -1;
	if (gnutls_x509_trust_list_init(&s->trust, 0) < 0)
		xalloc_die();
	gnutls_datum_t d = datum(s->ca_pem, len);
	int n = gnutls_x509_trust_list_add_trust_mem(s->trust, &d, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (n <= 0) {
		snprintf(err, cap, "failed to load the trusted CA file %s: %s", t->trusted_ca_file,
			 n < 0 ? gnutls_strerror(n) : "no certificate found");
		return -1;
	}
	return 0;
}

static int load_crl(struct tls_server *s, const struct http_tls *t, char *err, size_t cap)
{
	if (s->trust == NULL) {
		snprintf(err, cap, "a CRL file (%s) needs a trusted CA file", t->crl_file);
		return -1;
	}
	size_t len;
	char *crl = read_file(t->crl_file, &len, err, cap);
	if (crl == NULL)
		return -1;
	gnutls_datum_t d = datum(crl, len);
	int n = gnutls_x509_trust_list_add_trust_mem(s->trust, NULL, &d, GNUTLS_X509_FMT_PEM,
						     GNUTLS_TL_VERIFY_CRL, 0);
	if (n <= 0)
		n = gnutls_x509_trust_list_add_trust_mem(s->trust, NULL, &d, GNUTLS_X509_FMT_DER,
							 GNUTLS_TL_VERIFY_CRL, 0);
	free(crl);
	if (n <= 0) {
		snprintf(err, cap, "failed to load the CRL file %s: %s", t->crl_file,
			 n < 0 ? gnutls_strerror(n) : "no CRL signed by the trusted CA");
		return -1;
	}
	return 0;
}

static int check_priorities(const char *p, char *err, size_t cap)
{
	gnutls_priority_t prio;
	const char *where = NULL;
	int rc = gnutls_priority_init(&prio, p, &where);
	if (rc < 0) {
		snprintf(err, cap, "invalid TLS priorities %s (at %s): %s", p, where ? where : "?",
			 gnutls_strerror(rc));
		return -1;
	}
	gnutls_priority_deinit(prio);
	return 0;
}

static int load_tls12(struct tls_server *s, const char *p, char *err, size_t cap)
{
	const char *where = NULL;
	int rc = gnutls_priority_init(&s->tls12, p, &where);
	if (rc < 0) {
		s->tls12 = NULL;
		snprintf(err, cap, "invalid TLS priorities %s (at %s): %s", p, where ? where : "?",
			 gnutls_strerror(rc));
		return -1;
	}
	return 0;
}

struct tls_server *tls_server_load(const struct http_tls *t, char *err, size_t cap)
{
	struct tls_server *s = xcalloc(1, sizeof(*s));
	s->client_cert_auth = t->client_cert_auth;
	s->check_san = t->check_client_san;
	s->priorities = xstrdup(DEFAULT_PRIORITIES);
	if (set(t->allowed_cn))
		s->allowed_cn = xstrdup(t->allowed_cn);
	if (set(t->allowed_hostname))
		s->allowed_hostname = xstrdup(t->allowed_hostname);
	if (!set(t->cert_file) || !set(t->key_file)) {
		snprintf(err, cap, "a TLS certificate and key are needed");
		goto fail;
	}
	if (check_pair(s, t, err, cap) != 0)
		goto fail;
	s->files = xcalloc(1, sizeof(*s->files));
	s->files->cert_file = xstrdup(t->cert_file);
	s->files->key_file = xstrdup(t->key_file);
	files_refresh(s->files);
	if (set(t->trusted_ca_file) && load_ca(s, t, err, cap) != 0)
		goto fail;
	/* Go verifies client certificates against the system's CAs when it
	 * is given none */
	if (s->client_cert_auth && s->trust == NULL) {
		if (gnutls_x509_trust_list_init(&s->trust, 0) < 0)
			xalloc_die();
		gnutls_x509_trust_list_add_system_trust(s->trust, 0, 0);
	}
	if (set(t->crl_file) && load_crl(s, t, err, cap) != 0)
		goto fail;
	if (check_priorities(s->priorities, err, cap) != 0)
		goto fail;
	if (set(t->priorities) && load_tls12(s, t->priorities, err, cap) != 0)
		goto fail;
	if (gnutls_session_ticket_key_generate(&s->ticket_key) < 0)
		xalloc_die();
	return s;
fail:
	tls_server_free(s);
	return NULL;
}

void tls_server_free(struct tls_server *s)
{
	if (s == NULL)
		return;
	if (s->trust)
		gnutls_x509_trust_list_deinit(s->trust, 1);
	if (s->tls12)
		gnutls_priority_deinit(s->tls12);
	files_free(s->files);
	if (s->ticket_key.data) {
		gnutls_memset(s->ticket_key.data, 0, s->ticket_key.size);
		gnutls_free(s->ticket_key.data);
	}
	free(s->cert_pem);
	free(s->key_pem);
	free(s->ca_pem);
	free(s->priorities);
	free(s->allowed_cn);
	free(s->allowed_hostname);
	free(s);
}

const char *tls_server_cert_pem(const struct tls_server *s)
{
	return s->cert_pem;
}

const char *tls_server_key_pem(const struct tls_server *s)
{
	return s->key_pem;
}

const char *tls_server_ca_pem(const struct tls_server *s)
{
	return s->ca_pem;
}

const char *tls_server_priorities(const struct tls_server *s)
{
	return s->priorities;
}

bool tls_server_client_cert_auth(const struct tls_server *s)
{
	return s->client_cert_auth;
}

/* ---- the client certificate of a handshake ----------------------------- */

/* libmicrohttpd keeps the session's user pointer for itself, so the
 * listener set a handshake belongs to is the one whose daemon runs now
 * (tls_server_running, `running`; one loop thread). */

void tls_server_running(const struct tls_server *s)
{
	running = s;
}

static int check_san(gnutls_session_t session);

/* A refused certificate gets Go's alert (bad_certificate) before the
 * handshake fails: libmicrohttpd sends none itself. A certificate that
 * does not name the peer's address gets none: etcd closes such a
 * connection after its handshake. */
static int verify_cb(gnutls_session_t session)
{
	if (running != NULL && tls_server_verify(running, session) == 0)
		return running->check_san ? check_san(session) : 0;
	gnutls_alert_send(session, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
	return -1;
}

/* After the ClientHello, with the version chosen: a TLS 1.2 session takes
 * its suites from --cipher-suites' list (Go applies the list to TLS 1.2
 * only). */
static int client_hello_cb(gnutls_session_t session)
{
	if (running != NULL && running->tls12 != NULL &&
	    gnutls_protocol_get_version(session) == GNUTLS_TLS1_2)
		return gnutls_priority_set(session, running->tls12);
	return 0;
}

void tls_server_setup_session(const struct tls_server *s, void *session)
{
	if (s->tls12)
		gnutls_handshake_set_post_client_hello_function(session, client_hello_cb);
	/* session tickets, as Go's server sends them (a client that keeps
	 * them resumes: no certificate, no signature; etcd's own clients and
	 * wrk do). Not where each connection's address is checked against
	 * its certificate: a resumed session shows none. */
	if (!(s->check_san && s->client_cert_auth))
		gnutls_session_ticket_enable_server(session, &s->ticket_key);
	if (!s->client_cert_auth)
		return;
	/* REQUEST, not REQUIRE: the verify hook then also runs for a client
	 * that sends no certificate, and answers it with Go's alert */
	gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
	gnutls_session_set_verify_function(session, verify_cb);
}

static char *crt_cn(gnutls_x509_crt_t crt)
{
	char cn[256];
	size_t len = sizeof(cn);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) < 0)
		return xstrdup("");
	return xstrndup(cn, len);
}

/* The peer's chain as sent, imported; NULL if there is none. */
static gnutls_x509_crt_t *peer_chain(gnutls_session_t session, unsigned *n)
{
	const gnutls_datum_t *raw = gnutls_certificate_get_peers(session, n);
	if (raw == NULL || *n == 0)
		return NULL;
	gnutls_x509_crt_t *v = xcalloc(*n, sizeof(*v));
	for (unsigned i = 0; i < *n; i++) {
		if (gnutls_x509_crt_init(&v[i]) < 0)
			xalloc_die();
		if (gnutls_x509_crt_import(v[i], &raw[i], GNUTLS_X509_FMT_DER) < 0) {
			for (unsigned j = 0; j <= i; j++)
				gnutls_x509_crt_deinit(v[j]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static void chain_free(gnutls_x509_crt_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(v[i]);
	free(v);
}

/* etcd's check after the chain verified: the allowed CN or host name. */
static bool allowed(const struct tls_server *s, gnutls_x509_crt_t leaf)
{
	if (s->allowed_cn == NULL && s->allowed_hostname == NULL)
		return true;
	bool ok = false;
	if (s->allowed_cn) {
		char *cn = crt_cn(leaf);
		ok = strcmp(cn, s->allowed_cn) == 0;
		free(cn);
	}
	if (!ok && s->allowed_hostname)
		ok = gnutls_x509_crt_check_hostname(leaf, s->allowed_hostname) != 0;
	return ok;
}

int tls_server_verify(const struct tls_server *s, void *session)
{
	if (s->trust == NULL)
		return -1;
	unsigned n = 0;
	gnutls_x509_crt_t *chain = peer_chain(session, &n);
	if (chain == NULL)
		return -1;
	/* Go checks the client-auth purpose (a certificate without extended
	 * key usage passes, in both) */
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
					 (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
	unsigned status = 0;
	int rc = gnutls_x509_trust_list_verify_crt2(s->trust, chain, n, &purpose, 1, 0, &status,
						    NULL);
	if (rc == 0 && status == 0 && !allowed(s, chain[0]))
		status = GNUTLS_CERT_INVALID;
	chain_free(chain, n);
	return rc == 0 && status == 0 ? 0 : -1;
}

/* ---- etcd's checkSAN (peer listeners) ----------------------------------- */

struct sans {
	struct buf ips;	 /* Go's %q of []net.IP: ["a" "b"] */
	struct buf dns;	 /* Go's %q of []string */
	struct buf list; /* "a, b": the IPs, as x509's HostnameError lists them */
	char **names;	 /* DNS SANs */
	size_t n_ips, n_names;
	bool ip_match;
};

static void quoted_item(struct buf *b, const char *s)
{
	buf_printf(b, "%s\"", b->len > 1 ? " " : "");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* The leaf's IP and DNS SANs; whether an IP SAN is addr (len 4 or 16). */
static void collect_sans(gnutls_x509_crt_t crt, const unsigned char *addr, size_t alen,
			 struct sans *out)
{
	buf_puts(&out->ips, "[");
	buf_puts(&out->dns, "[");
	for (unsigned i = 0;; i++) {
		char v[1024];
		size_t len = sizeof(v) - 1;
		int t = gnutls_x509_crt_get_subject_alt_name(crt, i, v, &len, NULL);
		if (t == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (t == GNUTLS_SAN_IPADDRESS && (len == 4 || len == 16)) {
			char text[INET6_ADDRSTRLEN];
			inet_ntop(len == 4 ? AF_INET : AF_INET6, v, text, sizeof(text));
			quoted_item(&out->ips, text);
			buf_printf(&out->list, "%s%s", out->n_ips ? ", " : "", text);
			out->n_ips++;
			if (len == alen && memcmp(v, addr, len) == 0)
				out->ip_match = true;
		} else if (t == GNUTLS_SAN_DNSNAME) {
			v[len] = '\0';
			quoted_item(&out->dns, v);
			out->names = xrealloc(out->names, (out->n_names + 1) * sizeof(char *));
			out->names[out->n_names++] = xstrdup(v);
		}
	}
	buf_puts(&out->ips, "]");
	buf_puts(&out->dns, "]");
}

/* A reverse lookup's name against a DNS SAN: equal, or for "*.x" any
 * name ending in ".x" (Go's suffix test). */
static bool name_matches(const char *name, const char *san)
{
	if (strncmp(san, "*.", 2) != 0)
		return strcmp(name, san) == 0;
	size_t nl = strlen(name), sl = strlen(san + 1);
	return nl >= sl && strcmp(name + nl - sl, san + 1) == 0;
}

/* Go's isHostInDNS: the reverse lookup's name is one of the names (or
 * ends like a "*.x" one), or a forward lookup of a name gives the host.
 * Blocking lookups, in the loop: only for a certificate from the trusted
 * CA whose IP SANs do not name the peer (peers named by DNS). */
static bool host_in_dns(const char *host, const struct sockaddr_storage *sa, socklen_t salen,
			char *const *names, size_t n, struct buf *why)
{
	char ptr[NI_MAXHOST];
	if (getnameinfo((const struct sockaddr *)sa, salen, ptr, sizeof(ptr), NULL, 0,
			NI_NAMEREQD) == 0) {
		size_t pl = strlen(ptr);
		if (pl && ptr[pl - 1] == '.')
			ptr[--pl] = '\0';
		for (size_t i = 0; i < n; i++)
			if (name_matches(ptr, names[i]))
				return true;
	} else {
		buf_reset(why);
		buf_printf(why, "lookup %s: no such host", host);
	}
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], "*.", 2) == 0)
			continue;
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
		if (getaddrinfo(names[i], NULL, &hints, &res) != 0) {
			buf_reset(why);
			buf_printf(why, "lookup %s: no such host", names[i]);
			continue;
		}
		bool ok = false;
		for (struct addrinfo *a = res; a && !ok; a = a->ai_next) {
			char text[INET6_ADDRSTRLEN] = "";
			if (a->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr,
					  text, sizeof(text));
			else if (a->ai_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr,
					  text, sizeof(text));
			ok = strcmp(text, host) == 0;
		}
		freeaddrinfo(res);
		if (ok)
			return true;
	}
	return false;
}

/* The peer's address: "host", "host:port" (Go's RemoteAddr) and raw bytes. */
static int peer_addr(gnutls_session_t session, struct sockaddr_storage *sa, socklen_t *salen,
		     char *host, char *hostport, unsigned char *raw, size_t *rawlen)
{
	gnutls_transport_ptr_t rp, sp;
	gnutls_transport_get_ptr2(session, &rp, &sp);
	*salen = sizeof(*sa);
	if (getpeername((int)(intptr_t)sp, (struct sockaddr *)sa, salen) != 0)
		return -1;
	if (sa->ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, INET6_ADDRSTRLEN);
		snprintf(hostport, INET6_ADDRSTRLEN + 8, "%s:%u", host, ntohs(in->sin_port));
		memcpy(raw, &in->sin_addr, 4);
		*rawlen = 4;
	} else if (sa->ss_family == AF_INET6) {
		struct sockaddr_in6 *in = (struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in->sin6_addr, host, INET6_ADDRSTRLEN);
		snprintf(hostport, INET6_ADDRSTRLEN + 8, "[%s]:%u", host, ntohs(in->sin6_port));
		memcpy(raw, &in->sin6_addr, 16);
		*rawlen = 16;
	} else {
		return -1;
	}
	return 0;
}

/* etcd's "rejected connection" line (capnslog, embed). */
static void log_rejected(gnutls_session_t session, const char *hostport, const char *err,
			 const struct sans *sans)
{
	char sni[256] = "";
	size_t sl = sizeof(sni);
	unsigned type;
	if (gnutls_server_name_get(session, sni, &sl, &type, 0) != 0)
		sni[0] = '\0';
	struct buf q = BUF_INIT;
	quoted_item(&q, err);
	log_info("embed",
		 "rejected connection from \"%s\" (error %s, ServerName \"%s\", IPAddresses %s, "
		 "DNSNames %s)",
		 hostport, q.data, sni, sans->ips.data, sans->dns.data);
	buf_free(&q);
}

static int check_san(gnutls_session_t session)
{
	unsigned n = 0;
	gnutls_x509_crt_t *chain = peer_chain(session, &n);
	if (chain == NULL)
		return -1;
	struct sockaddr_storage sa;
	socklen_t salen;
	char host[INET6_ADDRSTRLEN] = "?", hostport[INET6_ADDRSTRLEN + 8] = "?";
	unsigned char raw[16];
	size_t rawlen = 0;
	int rc = peer_addr(session, &sa, &salen, host, hostport, raw, &rawlen);
	struct sans sans = {BUF_INIT, BUF_INIT, BUF_INIT, NULL, 0, 0, false};
	collect_sans(chain[0], raw, rawlen, &sans);
	chain_free(chain, n);
	struct buf err = BUF_INIT, why = BUF_INIT;
	if (rc != 0) {
		buf_puts(&err, "cannot read the peer's address");
	} else if ((sans.n_ips == 0 && sans.n_names == 0) || sans.ip_match) {
		rc = 0;
	} else if (sans.n_names == 0) {
		buf_printf(&err, "x509: certificate is valid for %s, not %s", sans.list.data, host);
		rc = -1;
	} else if (host_in_dns(host, &sa, salen, sans.names, sans.n_names, &why)) {
		rc = 0;
	} else {
		buf_printf(&err, "tls: \"%s\" does not match any of DNSNames %s", host,
			   sans.dns.data);
		if (why.len)
			buf_printf(&err, " (%s)", why.data);
		rc = -1;
	}
	if (rc != 0)
		log_rejected(session, hostport, err.data ? err.data : "", &sans);
	for (size_t i = 0; i < sans.n_names; i++)
		free(sans.names[i]);
	free(sans.names);
	buf_free(&sans.ips);
	buf_free(&sans.dns);
	buf_free(&sans.list);
	buf_free(&err);
	buf_free(&why);
	return rc == 0 ? 0 : -1;
}

char *tls_peer_cn(void *session)
{
	unsigned n = 0;
	gnutls_x509_crt_t *chain = peer_chain(session, &n);
	if (chain == NULL)
		return NULL;
	char *cn = crt_cn(chain[0]);
	chain_free(chain, n);
	return cn;
}

/* ---- --cipher-suites --------------------------------------------------- */

/* Go's TLS 1.2 suite names (crypto/tls, as etcd's pkg/tlsutil lists them)
 * and GnuTLS's key exchange, cipher and MAC for each. */
static const struct suite {
	const char *go, *kx, *cipher, *mac;
} suites[] = {
	{"TLS_RSA_WITH_RC4_128_SHA", "RSA", "ARCFOUR-128", "SHA1"},
	{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "RSA", "3DES-CBC", "SHA1"},
	{"TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1"},
	{"TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1"},
	{"TLS_RSA_WITH_AES_128_CBC_SHA256", "RSA", "AES-128-CBC", "SHA256"},
	{"TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES-128-GCM", "AEAD"},
	{"TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD"},
	{"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "ECDHE-ECDSA", "ARCFOUR-128", "SHA1"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC", "SHA1"},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC", "SHA1"},
	{"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA", "ARCFOUR-128", "SHA1"},
	{"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA", "3DES-CBC", "SHA1"},
	{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC", "SHA1"},
	{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC", "SHA1"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA", "AES-128-CBC", "SHA256"},
	{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA", "AES-128-CBC", "SHA256"},
	{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM", "AEAD"},
	{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA", "AES-128-GCM", "AEAD"},
	{"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM", "AEAD"},
	{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA", "AES-256-GCM", "AEAD"},
	{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"},
	{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"},
};

/* Appends ":+item" unless already there. */
static void add_item(struct buf *b, const char *item)
{
	char want[64];
	snprintf(want, sizeof(want), ":+%s:", item);
	struct buf probe = BUF_INIT;
	buf_printf(&probe, "%s:", b->data ? b->data : "");
	bool have = strstr(probe.data, want) != NULL;
	buf_free(&probe);
	if (!have)
		buf_printf(b, ":+%s", item);
}

/* GnuTLS priorities are a cross product (versions x key exchanges x
 * ciphers x MACs), not a list of suites: the string allows every listed
 * suite's key exchange, cipher and MAC, over TLS 1.2 (Go applies the list
 * to TLS 1.2 only; GnuTLS would mix TLS 1.3's own suites in). */
char *tls_priorities_from_suites(char *const *names, size_t n, char *err, size_t cap)
{
	struct buf kx = BUF_INIT, ciph = BUF_INIT, mac = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		const struct suite *s = NULL;
		for (size_t j = 0; j < sizeof(suites) / sizeof(suites[0]); j++)
			if (strcmp(suites[j].go, names[i]) == 0)
				s = &suites[j];
		if (s == NULL) {
			snprintf(err, cap, "unexpected TLS cipher suite \"%s\"", names[i]);
			buf_free(&kx);
			buf_free(&ciph);
			buf_free(&mac);
			return NULL;
		}
		add_item(&kx, s->kx);
		add_item(&ciph, s->cipher);
		add_item(&mac, s->mac);
	}
	struct buf p = BUF_INIT;
	buf_printf(&p, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:-CIPHER-ALL:-MAC-ALL%s%s%s",
		   kx.data ? kx.data : "", ciph.data ? ciph.data : "", mac.data ? mac.data : "");
	buf_free(&kx);
	buf_free(&ciph);
	buf_free(&mac);
	return p.data;
}

/* ---- --auto-tls -------------------------------------------------------- */

static int write_file(const char *path, const gnutls_datum_t *d, mode_t mode, char *err, size_t cap)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		go_errno(err, cap, "open", path, errno);
		return -1;
	}
	size_t off = 0;
	while (off < d->size) {
		ssize_t w = write(fd, d->data + off, d->size - off);
		if (w < 0) {
			go_errno(err, cap, "write", path, errno);
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		go_errno(err, cap, "write", path, errno);
		return -1;
	}
	return 0;
}

static int mkdirs(const char *dir, char *err, size_t cap)
{
	char *p = xstrdup(dir);
	for (char *s = p + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			go_errno(err, cap, "mkdir", p, errno);
			free(p);
			return -1;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return 0;
}

/* The hosts as subject alternative names: addresses as IPs, others as DNS. */
static void add_sans(gnutls_x509_crt_t crt, char *const *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ip[4];
		if (inet_pton(AF_INET, hosts[i], ip) == 1)
			gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
							     GNUTLS_FSAN_APPEND);
		else if (hosts[i][0])
			gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, hosts[i],
							     (unsigned)strlen(hosts[i]),
							     GNUTLS_FSAN_APPEND);
	}
}

static int make_self_cert(const char *cert_path, const char *key_path, char *const *hosts, size_t n,
			  char *err, size_t cap)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0)
		xalloc_die();
	int rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	unsigned char serial[16];
	if (rc == 0)
		rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f; /* positive */
	time_t now = time(NULL);
	if (rc == 0) {
		gnutls_x509_crt_set_version(crt, 3);
		gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
		gnutls_x509_crt_set_activation_time(crt, now);
		gnutls_x509_crt_set_expiration_time(crt, now + 365 * 24 * 3600);
		gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "etcd", 4);
		gnutls_x509_crt_set_key(crt, key);
		gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							   GNUTLS_KEY_KEY_ENCIPHERMENT);
		gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
		gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_CLIENT, 0);
		add_sans(crt, hosts, n);
		rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	}
	gnutls_datum_t cpem = {0}, kpem = {0};
	if (rc == 0)
		rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cpem);
	if (rc == 0)
		rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kpem);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	if (rc < 0) {
		snprintf(err, cap, "cannot generate a certificate: %s", gnutls_strerror(rc));
	} else if (write_file(key_path, &kpem, 0600, err, cap) != 0 ||
		   write_file(cert_path, &cpem, 0600, err, cap) != 0) {
		rc = -1;
	}
	gnutls_free(cpem.data);
	gnutls_free(kpem.data);
	return rc < 0 ? -1 : 0;
}

int tls_self_cert(const char *dir, char *const *hosts, size_t n, char *err, size_t cap)
{
	char cert_path[4096], key_path[4096];
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", dir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
		return 0;
	if (mkdirs(dir, err, cap) != 0)
		return -1;
	return make_self_cert(cert_path, key_path, hosts, n, err, cap);
}

/* ---- a connection's records --------------------------------------------- */

/* GnuTLS reads a record in two calls (its 5-byte header, then the rest);
 * the connection reads ahead instead, so a request costs one recv().
 * Bytes read ahead are served before the socket is read again, and "would
 * block" is answered only when both are empty: libmicrohttpd (epoll, edge
 * triggered) reads until then, so nothing waits unseen in the buffer. */
#define READ_AHEAD 4096

struct tls_conn {
	gnutls_session_t session;
	int fd;
	char *in; /* read ahead, not yet taken by GnuTLS (malloc'd) */
	size_t in_off, in_len;
	bool held;	   /* corked: the answer's writes wait in GnuTLS */
	bool tcp_uncorked; /* TCP_CORK (libmicrohttpd's) cleared */
};

/* Bytes moved (or a socket error or end seen) by any connection's reads
 * and writes: tls_io_progress. */
static __thread uint64_t io_progress;

static void count_io(ssize_t n, int err)
{
	if (n >= 0 || (err != EAGAIN && err != EWOULDBLOCK && err != EINTR))
		io_progress++;
}

uint64_t tls_io_progress(void)
{
	return io_progress;
}

bool tls_conn_has_input(const struct tls_conn *c)
{
	return c->in != NULL || gnutls_record_check_pending(c->session) > 0;
}

static ssize_t take_ahead(struct tls_conn *c, void *data, size_t len)
{
	size_t n = c->in_len - c->in_off;
	if (n > len)
		n = len;
	memcpy(data, c->in + c->in_off, n);
	c->in_off += n;
	if (c->in_off == c->in_len) {
		free(c->in);
		c->in = NULL;
		c->in_off = c->in_len = 0;
	}
	return (ssize_t)n;
}

static ssize_t conn_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct tls_conn *c = ptr;
	if (c->in != NULL) {
		io_progress++;
		return take_ahead(c, data, len);
	}
	if (len >= READ_AHEAD) {
		ssize_t n = recv(c->fd, data, len, 0);
		count_io(n, errno);
		if (n < 0)
			gnutls_transport_set_errno(c->session, errno);
		return n;
	}
	char ahead[READ_AHEAD];
	ssize_t n = recv(c->fd, ahead, sizeof(ahead), 0);
	count_io(n, errno);
	if (n < 0) {
		gnutls_transport_set_errno(c->session, errno);
		return n;
	}
	if ((size_t)n <= len) {
		memcpy(data, ahead, (size_t)n);
		return n;
	}
	memcpy(data, ahead, len);
	c->in_len = (size_t)n - len;
	c->in_off = 0;
	c->in = xmalloc(c->in_len);
	memcpy(c->in, ahead + len, c->in_len);
	return (ssize_t)len;
}

/* Writes: GnuTLS's own (sendmsg, no SIGPIPE), counted. */
static ssize_t conn_push(gnutls_transport_ptr_t ptr, const giovec_t *iov, int iovcnt)
{
	struct msghdr m = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
	ssize_t n = sendmsg((int)(intptr_t)ptr, &m, MSG_NOSIGNAL);
	count_io(n, errno);
	return n;
}

/* GnuTLS's wait for data with a timeout (blocking sessions only). */
static int conn_pull_timeout(gnutls_transport_ptr_t ptr, unsigned ms)
{
	struct tls_conn *c = ptr;
	if (c->in != NULL)
		return 1;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	return poll(&p, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

struct tls_conn *tls_conn_new(void *session, int fd)
{
	struct tls_conn *c = xcalloc(1, sizeof(*c));
	c->session = session;
	c->fd = fd;
	/* reads through the connection (read-ahead), writes to the socket */
	gnutls_transport_set_ptr2(session, c, (gnutls_transport_ptr_t)(intptr_t)fd);
	gnutls_transport_set_pull_function(session, conn_pull);
	gnutls_transport_set_vec_push_function(session, conn_push);
	gnutls_transport_set_pull_timeout_function(session, conn_pull_timeout);
	return c;
}

void tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	free(c->in);
	free(c);
}

void tls_conn_hold(struct tls_conn *c)
{
	if (c->held)
		return;
	gnutls_record_cork(c->session);
	c->held = true;
}

bool tls_conn_held(const struct tls_conn *c)
{
	return c->held;
}

int tls_conn_flush(struct tls_conn *c)
{
	if (!c->held)
		return 0;
	/* libmicrohttpd corks the socket at its first answer and pushes
	 * each answer's end with TCP_NODELAY, before this send: uncorked
	 * once, the one record leaves at once */
	if (!c->tcp_uncorked && gnutls_record_check_corked(c->session) > 0) {
		int off = 0;
		setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &off, sizeof(off));
		c->tcp_uncorked = true;
	}
	int rc = gnutls_record_uncork(c->session, 0);
	if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
		return 1; /* still corked, the rest kept */
	c->held = false;
	return 0;
}
