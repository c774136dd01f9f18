/* dns_srv.c - SRV records through glibc's resolver (res_nquery, ns_parserr,
 * dn_expand from libresolv) and host:port resolution through getaddrinfo.
 * The resolver reads /etc/resolv.conf (and RES_OPTIONS, LOCALDOMAIN) as
 * every program on the machine does. */
#include "net/dns_srv.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/xalloc.h"

/* " on 127.0.0.1:53" for Go's message, from the first name server. */
static void ns_label(const res_state st, char *out, size_t cap)
{
	char ip[INET_ADDRSTRLEN];
	const struct sockaddr_in *sa = &st->nsaddr_list[0];

	out[0] = '\0';
	if (st->nscount > 0 && sa->sin_family == AF_INET &&
	    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip))
		snprintf(out, cap, " on %s:%u", ip, (unsigned)ntohs(sa->sin_port));
}

/* Go's texts for the resolver's failures. */
static const char *herr_text(int h)
{
	switch (h) {
	case HOST_NOT_FOUND:
	case NO_DATA:
		return "no such host";
	case TRY_AGAIN:
		return "server misbehaving";
	default:
		return hstrerror(h);
	}
}

/* Heaviest first within a priority; target last so the order is stable. */
static int cmp_srv(const void *a, const void *b)
{
	const struct dns_srv *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->target, y->target);
}

/* The SRV records of the answer section. Returns how many. */
static size_t parse_answer(const unsigned char *ans, int len, struct dns_srv **out)
{
	ns_msg msg;
	size_t n = 0;

	*out = NULL;
	if (ns_initparse(ans, len, &msg) < 0)
		return 0;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		ns_rr rr;
		char name[NS_MAXDNAME];

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_srv ||
		    ns_rr_rdlen(rr) < 7)
			continue;
		const unsigned char *rd = ns_rr_rdata(rr);
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, name, sizeof name) < 0)
			continue;
		*out = xrealloc(*out, (n + 1) * sizeof **out);
		struct dns_srv *s = &(*out)[n++];
		s->priority = ns_get16(rd);
		s->weight = ns_get16(rd + 2);
		s->port = ns_get16(rd + 4);
		size_t tl = strlen(name);
		s->target = xmalloc(tl + 2);
		memcpy(s->target, name, tl);
		s->target[tl] = '.';
		s->target[tl + 1] = '\0';
	}
	return n;
}

int dns_srv_lookup(const char *service, const char *proto, const char *domain, struct dns_srv **out,
		   size_t *n, char *err, size_t cap)
{
	struct __res_state st;
	unsigned char ans[NS_MAXMSG];
	char qname[NS_MAXDNAME], on[64];

	*out = NULL;
	*n = 0;
	snprintf(qname, sizeof qname, "_%s._%s.%s", service, proto, domain);
	memset(&st, 0, sizeof st);
	if (res_ninit(&st) != 0) {
		snprintf(err, cap, "lookup %s: cannot initialise the resolver", qname);
		return -1;
	}
	ns_label(&st, on, sizeof on);
	int len = res_nquery(&st, qname, ns_c_in, ns_t_srv, ans, sizeof ans);
	if (len < 0) {
		snprintf(err, cap, "lookup %s%s: %s", qname, on, herr_text(st.res_h_errno));
		res_nclose(&st);
		return -1;
	}
	res_nclose(&st);
	*n = parse_answer(ans, len, out);
	if (*n == 0) {
		snprintf(err, cap, "lookup %s%s: no such host", qname, on);
		return -1;
	}
	qsort(*out, *n, sizeof **out, cmp_srv);
	return 0;
}

void dns_srv_free(struct dns_srv *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].target);
	free(v);
}

/* The first IPv4 address of the list, else the first one. */
static const struct addrinfo *pick(const struct addrinfo *ai)
{
	for (const struct addrinfo *p = ai; p; p = p->ai_next)
		if (p->ai_family == AF_INET)
			return p;
	return ai;
}

int dns_tcp_addr(const char *host, const char *port, char *out, size_t outcap, char *err,
		 size_t cap)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	char ip[INET6_ADDRSTRLEN];

	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		snprintf(err, cap, "lookup %s: %s", host,
			 rc == EAI_NONAME || rc == EAI_NODATA ? "no such host" : gai_strerror(rc));
		if (ai)
			freeaddrinfo(ai);
		return -1;
	}
	const struct addrinfo *p = pick(ai);
	if (p->ai_family == AF_INET) {
		const struct sockaddr_in *sa = (const void *)p->ai_addr;
		inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
		snprintf(out, outcap, "%s:%u", ip, (unsigned)ntohs(sa->sin_port));
	} else {
		const struct sockaddr_in6 *sa = (const void *)p->ai_addr;
		inet_ntop(AF_INET6, &sa->sin6_addr, ip, sizeof ip);
		snprintf(out, outcap, "[%s]:%u", ip, (unsigned)ntohs(sa->sin6_port));
	}
	freeaddrinfo(ai);
	return 0;
}
