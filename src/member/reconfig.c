/* reconfig.c - the strict reconfiguration check (see reconfig.h). A
 * member is "started" once its publish is applied (its name is known), as
 * in etcd. "Connected" is the leader's view: it heard from the member (an
 * append or heartbeat answer) in the last election timeout, the window
 * check-quorum uses (etcd counts a peer whose stream broke as down at once,
 * and wants it connected for HealthInterval, 5 s, before it counts it as
 * up: close enough with heartbeats every 100 ms). A follower
 * talks to the leader only, so it cannot tell which other members are up:
 * it counts them as connected and leaves that half of the check to the
 * started-members count (doc/api-compat.md). */
#include "member/reconfig.h"

#include <stdbool.h>
#include <string.h>

#include "kv/cluster.h"
#include "member/node.h"
#include "member/server.h"

const char *reconfig_error(enum reconfig_verdict v)
{
	switch (v) {
	case RECONFIG_NOT_ENOUGH_STARTED:
		return "etcdserver: re-configuration failed due to not enough started members";
	case RECONFIG_UNHEALTHY:
		return "etcdserver: unhealthy cluster";
	default:
		return "";
	}
}

static bool started(const struct member *m)
{
	return m->name != NULL && m->name[0] != '\0';
}

static bool connected(const struct server *s, uint64_t id)
{
	if (id == s->self_id)
		return true;
	if (!node_is_leader(s->node))
		return true; /* unknown to a follower (see the top of the file) */
	uint64_t ago;
	return node_heard_from(s->node, id, &ago) && ago <= s->opts.election_ms;
}

static size_t count_connected(const struct server *s)
{
	const struct cluster *c = server_members(s);
	size_t n = 0;
	for (size_t i = 0; i < c->n_members; i++)
		n += connected(s, c->members[i].id);
	return n;
}

/* etcd's RaftCluster.IsReadyToAddVotingMember: the new member counts as
 * one more member that has not started. */
static bool ready_to_add(const struct cluster *c)
{
	size_t members = 1, n_started = 0;
	for (size_t i = 0; i < c->n_members; i++, members++)
		n_started += started(&c->members[i]);
	if (n_started == 1 && members == 2)
		return true; /* growing a one-member cluster */
	return n_started >= members / 2 + 1;
}

/* etcd's RaftCluster.IsReadyToRemoveVotingMember. */
static bool ready_to_remove(const struct cluster *c, uint64_t id)
{
	size_t members = 0, n_started = 0;
	for (size_t i = 0; i < c->n_members; i++) {
		if (c->members[i].id == id)
			continue;
		members++;
		n_started += started(&c->members[i]);
	}
	return n_started >= members / 2 + 1;
}

enum reconfig_verdict reconfig_may_add(struct server *s)
{
	if (!s->opts.strict_reconfig_check)
		return RECONFIG_OK;
	const struct cluster *c = server_members(s);
	if (!ready_to_add(c))
		return RECONFIG_NOT_ENOUGH_STARTED;
	if (count_connected(s) != c->n_members)
		return RECONFIG_UNHEALTHY; /* not connected to every member */
	return RECONFIG_OK;
}

enum reconfig_verdict reconfig_may_remove(struct server *s, uint64_t id)
{
	if (!s->opts.strict_reconfig_check)
		return RECONFIG_OK;
	const struct cluster *c = server_members(s);
	if (!ready_to_remove(c, id))
		return RECONFIG_NOT_ENOUGH_STARTED;
	if (id != s->self_id && !connected(s, id))
		return RECONFIG_OK; /* a member that is down is not part of the active quorum */
	size_t active = count_connected(s);
	if (active == 0 || active - 1 < 1 + (c->n_members - 1) / 2)
		return RECONFIG_UNHEALTHY;
	return RECONFIG_OK;
}
