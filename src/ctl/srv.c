/* srv.c - cetcdctl --discovery-srv: client endpoints from DNS SRV records,
 * as etcdctl v2 finds them (client.NewSRVDiscover, pkg/srv.GetClient):
 * _etcd-client-ssl[-name]._tcp.<domain> as https:// and
 * _etcd-client[-name]._tcp.<domain> as http:// URLs, targets kept with
 * their trailing dot; http:// ones dropped (with a line on stderr) unless
 * --insecure-discovery. The lookup itself is net/dns_srv's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "net/dns_srv.h"
#include "util/buf.h"
#include "util/xalloc.h"

static void push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

/* updateURLs: 0, or -1 with the lookup's error in err. */
static int lookup(const char *service, const char *scheme, const char *domain, char ***urls,
		  size_t *n, char *err, size_t cap)
{
	struct dns_srv *v;
	size_t k;
	if (dns_srv_lookup(service, "tcp", domain, &v, &k, err, cap) != 0)
		return -1;
	for (size_t i = 0; i < k; i++) {
		struct buf u = BUF_INIT;
		bool v6 = strchr(v[i].target, ':') != NULL;
		buf_printf(&u, "%s://%s%s%s:%u", scheme, v6 ? "[" : "", v[i].target, v6 ? "]" : "",
			   (unsigned)v[i].port);
		push(urls, n, buf_steal(&u, NULL));
	}
	dns_srv_free(v, k);
	return 0;
}

int ctl_srv_endpoints(const char *domain, const char *name, bool insecure, char ***eps,
		      size_t *neps, struct buf *err)
{
	char e1[600], e2[600];
	struct buf svc = BUF_INIT;
	char **urls = NULL;
	size_t n = 0;
	const char *dash = name[0] ? "-" : "";

	buf_printf(&svc, "etcd-client-ssl%s%s", dash, name);
	int r1 = lookup(svc.data, "https", domain, &urls, &n, e1, sizeof e1);
	buf_reset(&svc);
	buf_printf(&svc, "etcd-client%s%s", dash, name);
	int r2 = lookup(svc.data, "http", domain, &urls, &n, e2, sizeof e2);
	buf_free(&svc);
	if (r1 != 0 && r2 != 0) {
		buf_printf(err, "dns lookup errors: %s and %s", e1, e2);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!insecure && strncmp(urls[i], "http://", 7) == 0) {
			fprintf(stderr, "ignoring discovered insecure endpoint \"%s\"\n", urls[i]);
			free(urls[i]);
			continue;
		}
		push(eps, neps, urls[i]);
	}
	free(urls);
	return 0;
}
