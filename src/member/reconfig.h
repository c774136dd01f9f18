/* reconfig.h - etcd's --strict-reconfig-check (etcdserver/server.go
 * mayAddMember, mayRemoveMember): a members API add or remove is refused
 * when it would leave the cluster without a quorum of started members, or
 * of members this one is connected to. Loop thread only. */
#ifndef CETCD_RECONFIG_H
#define CETCD_RECONFIG_H

#include <stdint.h>

struct server;

enum reconfig_verdict {
	RECONFIG_OK = 0,
	RECONFIG_NOT_ENOUGH_STARTED, /* etcdserver.ErrNotEnoughStartedMembers */
	RECONFIG_UNHEALTHY,	     /* etcdserver.ErrUnhealthy */
};

/* etcd's messages for the verdicts ("" for RECONFIG_OK). */
const char *reconfig_error(enum reconfig_verdict v);

/* Whether adding a member (POST /v2/members) may go ahead now. */
enum reconfig_verdict reconfig_may_add(struct server *s);
/* Whether removing member id (DELETE /v2/members/<id>) may go ahead now. */
enum reconfig_verdict reconfig_may_remove(struct server *s, uint64_t id);

#endif /* CETCD_RECONFIG_H */
