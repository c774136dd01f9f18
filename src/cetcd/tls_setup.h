/* tls_setup.h - the TLS flags of a struct config turned into what net
 * serves and presents (net/tls.h, net/http_client.h), as etcd 3.4's embed
 * does: --ca-file adds client certificate authentication, --auto-tls makes
 * (or reuses) a self-signed certificate in <data-dir>/fixtures/client (peer:
 * fixtures/peer) when no certificate is given, --cipher-suites become
 * GnuTLS priorities for both. */
#ifndef CETCD_TLS_SETUP_H
#define CETCD_TLS_SETUP_H

#include <stdbool.h>

#include "cetcd/config.h"
#include "net/http_client.h"
#include "net/tls.h"

struct tls_setup {
	struct http_tls client;		    /* https:// client listeners */
	struct http_tls peer;		    /* https:// peer listeners */
	struct http_client_tls peer_client; /* towards peers' peer URLs */
	/* a proxy towards members' client URLs: the client set, or the peer
	 * set when no client certificate is given (etcd 3.4's startProxy) */
	struct http_client_tls client_client;
	bool has_client, has_peer, has_peer_client, has_client_client;
	/* owned strings the structures above point into */
	char *priorities;
	char *auto_client_cert, *auto_client_key, *auto_peer_cert, *auto_peer_key;
};

/* Fills t from c (generating --auto-tls certificates). Returns 0, or -1
 * after logging etcd's fatal line. Always call tls_setup_free. */
int tls_setup_build(const struct config *c, struct tls_setup *t);
void tls_setup_free(struct tls_setup *t);

#endif /* CETCD_TLS_SETUP_H */
