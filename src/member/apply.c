/* apply.c - committed entries -> store writes, expiry sweeps, publishes,
 * auth table changes and membership changes (see apply.h). */
#include "member/apply.h"

#include <stdio.h>

#include "kv/auth.h"
#include "kv/cluster.h"
#include "kv/command.h"
#include "member/proposal.h"
#include "member/server.h"
#include "kv/store.h"
#include "raft/raft.h"
#include "util/log.h"

static void apply_write(struct server *s, const struct command *c, int64_t time_ns)
{
	struct store_event *ev = NULL;
	struct store_error err = {0};
	int rc = store_write(s->store, &c->write, time_ns, &ev, &err);
	if (c->member_id == s->self_id && c->req_id != 0)
		proposals_complete(s->props, c->req_id, rc == 0 ? ev : NULL, rc == 0 ? NULL : &err);
	store_event_unref(ev);
	store_error_clear(&err);
}

/* A change to the auth table. Its proposer's request learns the answer as a
 * store_error whose code is AUTH_REPLY_BASE + the HTTP status (2xx on
 * success) and whose cause is etcd's message (api/http_auth.c). */
static void apply_auth(struct server *s, const struct command *c)
{
	struct auth_result res;
	auth_apply(s->auth, &c->auth, &res);
	if (c->member_id == s->self_id && c->req_id != 0) {
		struct store_error err = {.code = AUTH_REPLY_BASE + (int)res.status,
					  .cause = res.message};
		proposals_complete(s->props, c->req_id, NULL, &err);
	}
	auth_result_clear(&res);
}

/* A member's published name and client URLs join the member table. */
static void apply_publish(struct server *s, const struct command *c)
{
	struct cluster one = {0};
	if (command_publish_member(c, &one) == 0)
		server_member_published(s, &one.members[0]);
	cluster_free(&one);
}

/* PUT /v2/members/<id>: checked again here, in log order, as etcd's
 * ValidateConfigurationChange does (a concurrent change may have taken the
 * URL or removed the member since the request was checked). */
static void apply_update(struct server *s, const struct command *c)
{
	struct cluster one = {0};
	char msg[128] = "";
	int status = 0;
	if (command_update_member(c, &one) != 0) {
		status = 400;
		snprintf(msg, sizeof(msg), "malformed member update");
	} else {
		const struct member *m = &one.members[0];
		status = server_member_updated(s, m->id, m->peer_urls, m->n_peer_urls);
		if (status == 404)
			snprintf(msg, sizeof(msg), "No such member: %llx",
				 (unsigned long long)m->id);
		else if (status == 409)
			snprintf(msg, sizeof(msg), "membership: peerURL exists");
		else if (status == 500)
			snprintf(msg, sizeof(msg), "Internal Server Error");
	}
	if (c->member_id == s->self_id && c->req_id != 0) {
		struct store_error err = {.code = MEMBER_REPLY_BASE + status, .cause = msg};
		proposals_complete(s->props, c->req_id, NULL, status ? &err : NULL);
	}
	cluster_free(&one);
}

void apply_entry(struct server *s, uint64_t index, int64_t time_ns, const void *data, size_t len)
{
	struct command c;
	if (command_decode(data, len, &c) != 0) {
		log_error("etcdserver", "entry %llu: malformed payload ignored",
			  (unsigned long long)index);
		return;
	}
	switch (c.type) {
	case CMD_WRITE:
		apply_write(s, &c, time_ns);
		break;
	case CMD_PUBLISH:
		apply_publish(s, &c);
		break;
	case CMD_AUTH:
		apply_auth(s, &c);
		break;
	case CMD_UPDATE:
		apply_update(s, &c);
		break;
	case CMD_CONF:
		/* the leader turns these into configuration entries; one that
		 * reached the log as a normal entry changes nothing */
		break;
	case CMD_EXPIRE:
		store_expire(s->store, time_ns);
		if (c.member_id == s->self_id)
			server_expiry_applied(s);
		break;
	}
	command_free(&c);
}

/* A runtime change (members API) completes the request of the member that
 * proposed it; the bootstrap entry (SET) has no request. */
static void complete_conf(struct server *s, const struct raft_conf_change *cc)
{
	struct conf_context ctx;
	if (cc->type == RAFT_CONF_SET ||
	    command_decode_conf_context(cc->context, cc->context_len, &ctx) != 0)
		return;
	if (ctx.member_id == s->self_id)
		proposals_complete(s->props, ctx.req_id, NULL, NULL);
	conf_context_free(&ctx);
}

static void apply_added(struct server *s, const struct raft_conf_change *cc)
{
	struct conf_context ctx;
	if (command_decode_conf_context(cc->context, cc->context_len, &ctx) != 0)
		return;
	if (ctx.added.n_members == 1)
		server_member_added(s, cc->node, &ctx.added.members[0]);
	conf_context_free(&ctx);
}

void apply_conf(struct server *s, const struct raft_entry *e)
{
	struct raft_conf_change cc;
	if (raft_conf_change_decode(e, &cc) != RAFT_OK)
		return;
	switch (cc.type) {
	case RAFT_CONF_SET: {
		/* the bootstrap entry: its context is the whole member table */
		struct cluster table = {0};
		if (cc.context_len && cluster_decode(&table, cc.context, cc.context_len) == 0)
			server_replace_members(s, &table);
		break;
	}
	case RAFT_CONF_ADD_VOTER:
	case RAFT_CONF_ADD_LEARNER:
		apply_added(s, &cc);
		break;
	case RAFT_CONF_PROMOTE:
		server_member_promoted(s, cc.node);
		break;
	case RAFT_CONF_REMOVE:
		server_member_removed(s, cc.node);
		break;
	default:
		break;
	}
	complete_conf(s, &cc);
}
