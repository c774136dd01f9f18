/* discovery_srv.h - --discovery-srv: the initial cluster from DNS SRV
 * records (etcd's embed.GetDNSClusterNames and pkg/srv.GetCluster), looked
 * up through net/dns_srv. */
#ifndef CETCD_DISCOVERY_SRV_H
#define CETCD_DISCOVERY_SRV_H

#include <stdbool.h>
#include <stddef.h>

#include "util/url.h"

/* Queries _etcd-server-ssl[-srv_name]._tcp.<domain> (https URLs) and
 * _etcd-server[-srv_name]._tcp.<domain> (http URLs) and returns the
 * cluster as "name=url,..." in *cluster (owned): the record whose target
 * resolves to one of apurls is named `name`, the others "0", "1", ... in
 * record order. Each found member is logged as etcd logs it. Returns 0, or
 * -1 with etcd's message in err (both lookups failed: the
 * _etcd-server-ssl one's, an advertise URL does
 * not resolve, a scheme mismatch). */
int discovery_srv_cluster(const char *domain, const char *srv_name, const char *name,
			  const struct url_list *apurls, char **cluster, char *err, size_t cap);

#endif /* CETCD_DISCOVERY_SRV_H */
