/* discovery.h - etcd 3.4's v2 discovery protocol (etcdserver/api/
 * v2discovery): a new member registers <token>/<id> with its name=peerURL
 * pairs on a discovery service (any v2 keys API: a real etcd, a cetcd),
 * waits until <token>/_config/size members have registered, and boots with
 * the first `size` of them by createdIndex as its initial cluster. A proxy
 * only reads the cluster. Blocking, before any loop runs (libcurl easy).
 *
 * Retries: a discovery service that cannot be reached is retried with
 * etcd's backoff (2s, 4s, ... 256s) but at most CETCD_DISCOVERY_RETRIES
 * times (default 8, about 8.5 minutes in all; etcd retries 2^32 times),
 * then "discovery: too many retries". Log lines are etcd's (capnslog,
 * package "discovery"). */
#ifndef CETCD_DISCOVERY_H
#define CETCD_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

/* etcd's v2discovery errors, and DISC_OTHER for any other error (its text
 * is the error's, e.g. a v2 error "100: Key not found (/t/_config) [4]"). */
enum disc_err {
	DISC_OK = 0,
	DISC_INVALID_URL,      /* "discovery: invalid URL" */
	DISC_BAD_SIZE,	       /* "discovery: size key is bad" */
	DISC_SIZE_NOT_FOUND,   /* "discovery: size key not found" */
	DISC_DUPLICATE_ID,     /* "discovery: found duplicate id" */
	DISC_DUPLICATE_NAME,   /* "discovery: found duplicate name" */
	DISC_FULL_CLUSTER,     /* "discovery: cluster is full" */
	DISC_TOO_MANY_RETRIES, /* "discovery: too many retries" */
	DISC_BAD_ENDPOINT,     /* "discovery: bad discovery endpoint" */
	DISC_OTHER,
};

/* Registers member id (config = its "name=peerURL,..." as etcd's
 * URLsMap.String()) at durl through the HTTP proxy dproxy ("" = none) and
 * waits for the cluster to fill. Returns DISC_OK with *cluster (owned: the
 * "name=url,..." of the whole initial cluster), or an error with its text
 * in err. */
enum disc_err discovery_join(const char *durl, const char *dproxy, uint64_t id, const char *config,
			     char **cluster, char *err, size_t cap);

/* A proxy's view: the first `size` members registered at durl (waits
 * while there are fewer). Same results as discovery_join. */
enum disc_err discovery_get_cluster(const char *durl, const char *dproxy, char **cluster, char *err,
				    size_t cap);

#endif /* CETCD_DISCOVERY_H */
