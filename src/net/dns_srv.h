/* dns_srv.h - DNS SRV lookups and host:port resolution for bootstrap
 * (cetcd --discovery-srv) and client endpoints (cetcdctl --discovery-srv),
 * through glibc's resolver: res_nquery + ns_parserr (libresolv) for the SRV
 * records, getaddrinfo for their targets. No DNS wire parsing of our own.
 * Blocking: call before any loop runs. */
#ifndef CETCD_NET_DNS_SRV_H
#define CETCD_NET_DNS_SRV_H

#include <stddef.h>
#include <stdint.h>

/* One SRV record. target ends with a dot, as Go's net.LookupSRV gives it. */
struct dns_srv {
	char *target; /* owned */
	uint16_t port, priority, weight;
};

/* Looks up _service._proto.domain (Go's net.LookupSRV(service, proto,
 * domain)). On success returns 0 with *out (owned, free with dns_srv_free)
 * and *n >= 1, sorted by priority, then weight (heaviest first), then
 * target: Go shuffles equal priorities by weight, cetcd keeps one order.
 * Returns -1 with Go's style of message in err ("lookup
 * _etcd-server._tcp.example.com on 127.0.0.1:53: no such host"). */
int dns_srv_lookup(const char *service, const char *proto, const char *domain, struct dns_srv **out,
		   size_t *n, char *err, size_t cap);
void dns_srv_free(struct dns_srv *v, size_t n);

/* Resolves host (a name, an IPv4 or an IPv6 address, no brackets) and port
 * to its first TCP address as Go prints a net.TCPAddr: "1.2.3.4:80" or
 * "[::1]:80" (IPv4 preferred, as Go's ResolveTCPAddr does). Returns 0, or -1
 * with "lookup <host>: <why>" in err. */
int dns_tcp_addr(const char *host, const char *port, char *out, size_t outcap, char *err,
		 size_t cap);

#endif /* CETCD_NET_DNS_SRV_H */
