/* forward.c - the one way into the log for every write (node_propose): key
 * writes, expiry sweeps, publishes and membership changes alike. A leader
 * batches its proposals until the loop is about to sleep; a follower
 * forwards them to the leader over the peer channel (rule 13 of
 * doc/raft-core.md); with no leader known, they wait for one. */
#include <stdlib.h>
#include <string.h>

#include "kv/command.h"
#include "member/node_private.h"
#include "member/peer_send.h"
#include "member/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

/* A client write proposed while no leader was known: forwarded (or proposed)
 * once one is. The proposal's own timeout bounds the wait. */
struct waiting {
	void *data;
	size_t len;
};

#define MAX_WAITING 4096

/* The entry comes back through the log with this member's request id, and
 * apply answers the client here. With no leader, the write waits. */
static int forward_or_wait(struct node *n, const void *data, size_t len)
{
	if (n->leader != RAFT_NONE && n->leader != n->srv->self_id)
		return peer_sender_forward_proposal(n->srv->peers, n->leader, data, len);
	if (n->n_waiting == MAX_WAITING)
		return -1;
	if (n->waiting == NULL) {
		n->waiting = xcalloc(MAX_WAITING, sizeof(*n->waiting));
	}
	struct waiting *w = &n->waiting[n->n_waiting++];
	w->data = xmalloc(len);
	memcpy(w->data, data, len);
	w->len = len;
	return 0;
}

/* The core refused a proposal because another member leads, or will. */
static bool leader_elsewhere(int rc)
{
	return rc == RAFT_ERR_NOT_LEADER || rc == RAFT_ERR_NO_LEADER || rc == RAFT_ERR_TRANSFERRING;
}

/* A leader's proposals wait here until the loop is about to sleep
 * (forward_flush): one PROPOSE for all the writes of a loop iteration, so
 * one append message per follower carries them all, and a follower syncs
 * and acknowledges them once. */
static void queue_proposal(struct node *n, const void *data, size_t len)
{
	if (n->n_props == n->cap_props) {
		n->cap_props = n->cap_props ? 2 * n->cap_props : 64;
		n->prop_lens = xrealloc(n->prop_lens, n->cap_props * sizeof(*n->prop_lens));
	}
	buf_append(&n->prop_bytes, data, len);
	n->prop_lens[n->n_props++] = len;
}

void forward_flush(struct node *n)
{
	if (n->n_props == 0 || n->failed)
		return;
	/* taken out first: stepping may queue more (forward_leader_known) */
	struct buf bytes = n->prop_bytes;
	size_t *lens = n->prop_lens, count = n->n_props;
	n->prop_bytes = BUF_INIT;
	n->prop_lens = NULL;
	n->n_props = n->cap_props = 0;
	struct raft_payload *v = xmalloc(count * sizeof(*v));
	size_t off = 0;
	for (size_t i = 0; i < count; i++) {
		v[i].data = bytes.data + off;
		v[i].len = lens[i];
		off += lens[i];
	}
	struct raft_event ev = node_event(RAFT_EV_PROPOSE);
	ev.u.propose.batch = v;
	ev.u.propose.n_batch = count;
	int rc = node_step(n, &ev);
	/* leadership moved on since they were queued: as node_propose would
	 * have; anything else is lost, and the client's request times out */
	if (leader_elsewhere(rc))
		for (size_t i = 0; i < count; i++)
			forward_or_wait(n, v[i].data, v[i].len);
	free(v);
	free(lens);
	buf_free(&bytes);
}

/* A membership change (CMD_CONF) becomes a Raft configuration entry here. */
static int propose_conf(struct node *n, const void *data, size_t len)
{
	struct command c;
	if (command_decode(data, len, &c) != 0)
		return RAFT_ERR_INVALID;
	struct raft_event ev = node_event(RAFT_EV_CONF_CHANGE);
	ev.u.conf_change.type = c.conf_type;
	ev.u.conf_change.node = c.conf_node;
	ev.u.conf_change.context = c.attrs;
	ev.u.conf_change.context_len = c.attrs_len;
	int rc = node_step(n, &ev);
	command_free(&c);
	return rc;
}

/* A membership change the leader refused because another one is not
 * committed yet (a learner's promotion, which the leader proposes itself,
 * or a concurrent request) is proposed again at every tick for up to
 * CONF_RETRY_MS; then it is dropped and its client's request times out. */
struct conf_retry {
	void *data;
	size_t len;
	uint64_t until_ms;
};

#define CONF_RETRY_MS  3000
#define MAX_CONF_RETRY 16

static bool park_conf(struct node *n, const void *data, size_t len, uint64_t until_ms)
{
	if (n->n_conf_retry == MAX_CONF_RETRY)
		return false;
	if (n->conf_retry == NULL)
		n->conf_retry = xcalloc(MAX_CONF_RETRY, sizeof(*n->conf_retry));
	struct conf_retry *c = &n->conf_retry[n->n_conf_retry++];
	c->data = xmalloc(len);
	memcpy(c->data, data, len);
	c->len = len;
	c->until_ms = until_ms;
	return true;
}

/* A membership change is stepped at once (parked while another one is
 * pending); a leader's write is queued for forward_flush; anyone else's
 * write steps PROPOSE, which refuses it. */
static int propose_here(struct node *n, const void *data, size_t len)
{
	if (command_is_conf(data, len)) {
		int rc = propose_conf(n, data, len);
		if (rc == RAFT_ERR_CONF_PENDING &&
		    park_conf(n, data, len, clock_mono_ms() + CONF_RETRY_MS))
			return RAFT_OK;
		return rc;
	}
	if (n->role == RAFT_LEADER) {
		queue_proposal(n, data, len);
		return RAFT_OK;
	}
	struct raft_event ev = node_event(RAFT_EV_PROPOSE);
	ev.u.propose.data = data;
	ev.u.propose.len = len;
	return node_step(n, &ev);
}

int node_propose(struct node *n, const void *data, size_t len)
{
	if (n->failed)
		return -1;
	int rc = propose_here(n, data, len);
	if (rc == RAFT_OK)
		return 0;
	if (leader_elsewhere(rc))
		return forward_or_wait(n, data, len);
	return -1;
}

void node_receive_proposal(struct node *n, const void *payload, size_t len)
{
	/* proposed only by the leader; a stale forward is dropped (the client's
	 * member times the request out, as etcd does for a lost proposal) */
	if (!n->failed && n->role == RAFT_LEADER)
		propose_here(n, payload, len);
}

/* A leader is known again: hand over the writes that waited for one. */
void forward_leader_known(struct node *n)
{
	size_t count = n->n_waiting;
	struct waiting *w = n->waiting;
	n->waiting = NULL;
	n->n_waiting = 0;
	for (size_t i = 0; i < count; i++) {
		node_propose(n, w[i].data, w[i].len);
		free(w[i].data);
	}
	free(w);
}

void forward_conf_retry(struct node *n)
{
	if (n->n_conf_retry == 0 || n->failed)
		return;
	/* taken out first: stepping may park more */
	struct conf_retry *v = n->conf_retry;
	size_t count = n->n_conf_retry;
	n->conf_retry = NULL;
	n->n_conf_retry = 0;
	uint64_t now = clock_mono_ms();
	for (size_t i = 0; i < count; i++) {
		int rc = propose_conf(n, v[i].data, v[i].len);
		if (rc == RAFT_ERR_CONF_PENDING && now < v[i].until_ms)
			park_conf(n, v[i].data, v[i].len, v[i].until_ms);
		else if (leader_elsewhere(rc))
			forward_or_wait(n, v[i].data, v[i].len);
		else if (rc != RAFT_OK)
			log_warn("etcdserver", "membership change dropped: %s", raft_strerror(rc));
		free(v[i].data);
	}
	free(v);
}

void forward_free(struct node *n)
{
	for (size_t i = 0; i < n->n_conf_retry; i++)
		free(n->conf_retry[i].data);
	free(n->conf_retry);
	for (size_t i = 0; i < n->n_waiting; i++)
		free(n->waiting[i].data);
	free(n->waiting);
	buf_free(&n->prop_bytes); /* proposals never stepped: their requests are gone too */
	free(n->prop_lens);
}
