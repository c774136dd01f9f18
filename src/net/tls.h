/* tls.h - TLS material for the edge, with GnuTLS: what a set of https://
 * listeners serves (certificate, key, the trusted CA and CRL for client
 * certificates, the cipher priorities), read and checked once at start;
 * the client certificate check every handshake runs; etcd's
 * --cipher-suites names as a GnuTLS priority string; and --auto-tls's
 * self-signed certificate. The HTTP server (http_server.c) and client
 * (http_client.c) use it; nothing here knows HTTP. Loop thread only. */
#ifndef CETCD_TLS_H
#define CETCD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the flags say about one set of https:// listeners (--cert-file and
 * friends, or the --peer-* ones). NULL and "" both mean "not set". */
struct http_tls {
	const char *cert_file;	     /* PEM certificate (chain) */
	const char *key_file;	     /* PEM private key, unencrypted */
	const char *trusted_ca_file; /* CA(s) that sign client certificates */
	const char *crl_file;	     /* revoked client certificates (PEM or DER) */
	bool client_cert_auth;	     /* refuse a client without a certificate from the CA */
	/* With client_cert_auth, etcd's --peer-cert-allowed-cn and
	 * --*-cert-allowed-hostname: a certificate must have this CN, or be
	 * valid for this host name (either one lets it in). */
	const char *allowed_cn;
	const char *allowed_hostname;
	/* --cipher-suites as GnuTLS priorities (tls_priorities_from_suites):
	 * what a session that negotiated TLS 1.2 may use (TLS 1.3 keeps its
	 * suites, as Go's); NULL: the defaults */
	const char *priorities;
	/* etcd's peer listeners (unless --experimental-peer-skip-client-san-
	 * verification): a client certificate with IP or DNS SANs must name the
	 * client's address (an IP SAN, or a DNS SAN that a reverse or forward
	 * lookup ties to it); else the connection is closed after the
	 * handshake's certificate check and "rejected connection" logged. */
	bool check_client_san;
};

/* The material of one listener set, loaded and checked. */
struct tls_server;

/* Reads and checks the files of t (certificate and key must match; the CA
 * and CRL must parse). Returns NULL with a message in err otherwise. */
struct tls_server *tls_server_load(const struct http_tls *t, char *err, size_t cap);
void tls_server_free(struct tls_server *s);
/* PEM texts for libmicrohttpd (owned by s); ca is NULL without a CA. */
const char *tls_server_cert_pem(const struct tls_server *s);
const char *tls_server_key_pem(const struct tls_server *s);
const char *tls_server_ca_pem(const struct tls_server *s); /* NULL: none given */
const char *tls_server_priorities(const struct tls_server *s);
/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK for the listener sets: the
 * running set's certificate and key, re-read from their files when they
 * changed (as etcd, which reads them at every handshake); while they do
 * not load, handshakes fail. */
void *tls_server_cert_callback(void);
bool tls_server_client_cert_auth(const struct tls_server *s);

/* The listener set whose daemon runs now: the handshakes of that daemon
 * verify against it (libmicrohttpd keeps a session's user pointer for
 * itself). NULL when none runs. */
void tls_server_running(const struct tls_server *s);
/* Sets up a new session (a gnutls_session_t) of s's listeners before its
 * handshake: session tickets (TLS 1.3 resumption, keys made at load);
 * with client_cert_auth, a client certificate that tls_server_verify
 * accepts is required during the handshake (a client without one gets a
 * bad_certificate alert, as Go's RequireAndVerifyClientCert sends). */
void tls_server_setup_session(const struct tls_server *s, void *session);
/* 0 if the session's peer certificate chain verifies against the trusted
 * CA (and CRL) and its CN is allowed; -1 otherwise. */
int tls_server_verify(const struct tls_server *s, void *session);
/* The common name of the session's (verified) peer certificate, malloc'd;
 * NULL if there is none. */
char *tls_peer_cn(void *session);

/* etcd's --cipher-suites (Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
 * as a GnuTLS priority string for TLS 1.2 (malloc'd). Returns NULL with etcd's message
 * in err for a name Go does not know. */
char *tls_priorities_from_suites(char *const *names, size_t n, char *err, size_t cap);

/* --auto-tls: <dir>/cert.pem and <dir>/key.pem, a self-signed ECDSA P-256
 * certificate for the hosts (IP addresses or names) valid for a year,
 * made once and reused while both files exist. Returns 0, or -1 with a
 * message in err. */
int tls_self_cert(const char *dir, char *const *hosts, size_t n, char *err, size_t cap);

/* One https:// connection's sending side (session: its gnutls_session_t,
 * fd: its socket). libmicrohttpd sends an answer's head and body as two
 * TLS records; held, everything written waits in GnuTLS until
 * tls_conn_flush sends it as one. */
struct tls_conn;
struct tls_conn *tls_conn_new(void *session, int fd);
void tls_conn_free(struct tls_conn *c);
void tls_conn_hold(struct tls_conn *c);
bool tls_conn_held(const struct tls_conn *c);
/* Whether bytes wait in the connection's read-ahead or GnuTLS's buffer
 * (libmicrohttpd can go on without a socket event). */
bool tls_conn_has_input(const struct tls_conn *c);
/* A count that grows whenever a connection's read or write moved bytes or
 * met an end or error (not "would block"): a run of the daemons in which it
 * stayed put did nothing on the sockets. */
uint64_t tls_io_progress(void);
/* Sends what is held: 0 when done (or failed: the connection's next
 * read or write sees the error), 1 when the socket is full (call again
 * when it is writable; the rest stays held). */
int tls_conn_flush(struct tls_conn *c);

#endif /* CETCD_TLS_H */
