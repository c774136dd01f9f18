/* discovery_srv.c - the initial cluster from SRV records, as etcd 3.4's
 * srv.GetCluster builds it: resolve this member's advertise peer URLs,
 * resolve every SRV target, name the one that matches after this member
 * and the others by a counter. Unlike etcd 3.4 (whose GetDNSClusterNames
 * drops the _etcd-server records when that lookup succeeds: a bug fixed
 * in etcd 3.5), the https and http records are combined (doc/api-compat.md). */
#include "cetcd/discovery_srv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/dns_srv.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The advertise URLs as resolved TCP addresses (tcp2ap). */
struct self_addrs {
	char (*addr)[80];
	const struct url **url;
	size_t n;
};

static int resolve_self(const struct url_list *ap, struct self_addrs *s, char *err, size_t cap)
{
	s->addr = xcalloc(ap->n ? ap->n : 1, sizeof *s->addr);
	s->url = xcalloc(ap->n ? ap->n : 1, sizeof *s->url);
	s->n = 0;
	for (size_t i = 0; i < ap->n; i++) {
		if (dns_tcp_addr(ap->v[i].host, ap->v[i].port, s->addr[s->n], sizeof s->addr[0],
				 err, cap) != 0)
			return -1;
		s->url[s->n++] = &ap->v[i];
	}
	return 0;
}

static const struct url *match_self(const struct self_addrs *s, const char *addr)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->addr[i], addr) == 0)
			return s->url[i];
	return NULL;
}

/* srv.GetCluster for one service. Appends "n=scheme://host:port" parts to
 * parts; returns 0, or -1 with etcd's error in err when no part came. */
static int get_cluster(const char *scheme, const char *service, const char *name,
		       const char *domain, const struct self_addrs *self, unsigned *temp,
		       struct buf *parts, char *err, size_t cap)
{
	struct dns_srv *v;
	size_t n, added = 0;
	char why[512] = "";

	if (dns_srv_lookup(service, "tcp", domain, &v, &n, why, sizeof why) != 0) {
		errbuf_printf(err, cap, "error querying DNS SRV records for _%s %s", service, why);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char port[8], addr[80], host[300];
		snprintf(port, sizeof port, "%u", (unsigned)v[i].port);
		snprintf(host, sizeof host, "%s", v[i].target);
		size_t hl = strlen(host);
		if (hl && host[hl - 1] == '.')
			host[hl - 1] = '\0'; /* SRV targets end with a dot, URLs do not */
		if (dns_tcp_addr(host, port, addr, sizeof addr, why, sizeof why) != 0)
			continue;
		const struct url *mine = match_self(self, addr);
		char nm[32];
		if (!mine)
			snprintf(nm, sizeof nm, "%u", (*temp)++);
		const char *bracket = strchr(host, ':') ? "[" : "";
		const char *close = bracket[0] ? "]" : "";
		if (mine && strcmp(mine->scheme, scheme) != 0) {
			snprintf(why, sizeof why,
				 "bootstrap at %s://%s%s%s:%s from DNS for %s has scheme mismatch "
				 "with expected peer %s",
				 scheme, bracket, host, close, port, service, mine->str);
			continue;
		}
		buf_printf(parts, "%s%s=%s://%s%s%s:%s", parts->len ? "," : "", mine ? name : nm,
			   scheme, bracket, host, close, port);
		added++;
	}
	dns_srv_free(v, n);
	if (added == 0) {
		errbuf_printf(err, cap, "error querying DNS SRV records for _%s %s", service, why);
		return -1;
	}
	return 0;
}

int discovery_srv_cluster(const char *domain, const char *srv_name, const char *name,
			  const struct url_list *apurls, char **cluster, char *err, size_t cap)
{
	struct self_addrs self;
	struct buf parts = BUF_INIT, svc = BUF_INIT;
	char e1[700] = "", e2[700] = "";
	unsigned temp = 0;
	int rc = -1;
	const char *sfx = srv_name[0] ? "-" : "";

	*cluster = NULL;
	if (resolve_self(apurls, &self, err, cap) != 0)
		goto out;
	buf_printf(&svc, "etcd-server-ssl%s%s", sfx, srv_name);
	int r1 = get_cluster("https", svc.data, name, domain, &self, &temp, &parts, e1, sizeof e1);
	buf_reset(&svc);
	buf_printf(&svc, "etcd-server%s%s", sfx, srv_name);
	int r2 = get_cluster("http", svc.data, name, domain, &self, &temp, &parts, e2, sizeof e2);
	if (r1 != 0 && r2 != 0) {
		errbuf_printf(err, cap, "%s", e1); /* etcd reports the https lookup's */
		goto out;
	}
	buf_puts(&parts, "");
	char *dup = xstrdup(parts.data), *rest = dup, *tok;
	while ((tok = strsep(&rest, ",")) != NULL)
		log_notice("embed", "got bootstrap from DNS for etcd-server at %s", tok);
	free(dup);
	*cluster = buf_steal(&parts, NULL);
	rc = 0;
out:
	free(self.addr);
	free(self.url);
	buf_free(&parts);
	buf_free(&svc);
	return rc;
}
