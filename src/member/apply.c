/* apply.c - committed entries -> store writes and expiry sweeps (see apply.h). */
#include "member/apply.h"

#include <stdio.h>

#include "kv/cluster.h"
#include "kv/command.h"
#include "member/proposal.h"
#include "member/server.h"
#include "kv/store.h"

static void apply_write(struct server *s, const struct command *c, int64_t time_ns)
{
	struct store_event *ev = NULL;
	struct store_error err = {0};
	int rc = store_write(s->store, &c->write, time_ns, &ev, &err);
	if (c->member_id == s->self_id && c->req_id != 0)
		proposals_complete(s->props, c->req_id, rc == 0 ? ev : NULL,
				   rc == 0 ? NULL : &err);
	store_event_unref(ev);
	store_error_clear(&err);
}

/* A member's published name and client URLs join the member table. */
static void apply_publish(struct server *s, const struct command *c)
{
	struct cluster one = {0};
	if (cluster_decode(&one, c->attrs, c->attrs_len) == 0 && one.n_members == 1 &&
	    one.members[0].id == c->member_id) {
		const struct member *m = &one.members[0];
		cluster_publish(&s->cluster, m->id, m->name, m->client_urls, m->n_client_urls);
		if (m->id == s->self_id)
			s->published_applied = true;
	}
	cluster_free(&one);
}

void apply_entry(struct server *s, uint64_t index, int64_t time_ns,
		 const void *data, size_t len)
{
	struct command c;
	if (command_decode(data, len, &c) != 0) {
		fprintf(stderr, "cetcd: entry %llu: malformed payload ignored\n",
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
	case CMD_CONF:
		/* the leader turns these into configuration entries; one that
		 * reached the log as a normal entry changes nothing */
		break;
	case CMD_EXPIRE:
		store_expire(s->store, time_ns);
		if (c.member_id == s->self_id)
			s->expire_in_flight = false;
		break;
	}
	command_free(&c);
}
