/* raft_pipeline.c - PURE: the driver's persist/send ordering bookkeeping
 * (see raft_pipeline.h). No I/O, no clock, no globals. */
#include "raft/raft_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "raft/raft_private.h"

void raft_pipeline_reset(struct raft_pipeline *p)
{
	free(p->writes);
	free(p->parked);
	memset(p, 0, sizeof(*p));
}

void raft_pipeline_submit(struct raft_pipeline *p, uint64_t write_seq, uint64_t persist_seq)
{
	RAFT_GROW(p->writes, p->cap_writes, p->n_writes + 1);
	p->writes[p->n_writes++] = (struct raft_pipeline_write){write_seq, persist_seq};
	p->submitted_seq = persist_seq;
}

bool raft_pipeline_submitted(const struct raft_pipeline *p, uint64_t persist_seq)
{
	return persist_seq <= p->submitted_seq;
}

void raft_pipeline_park(struct raft_pipeline *p, const struct raft_update *u)
{
	RAFT_GROW(p->parked, p->cap_parked, p->n_parked + u->n_messages_after_persist);
	for (size_t i = 0; i < u->n_messages_after_persist; i++) {
		struct raft_pipeline_parked *k = &p->parked[p->n_parked++];
		k->persist_seq = u->persist_seq;
		k->msg = u->messages_after_persist[i];
		k->msg.entries = NULL; /* responses carry none */
		k->msg.n_entries = 0;
		k->msg.snapshot = NULL;
	}
}

uint64_t raft_pipeline_durable(struct raft_pipeline *p, uint64_t write_seq)
{
	uint64_t persist_seq = 0;
	size_t done = 0;
	while (done < p->n_writes && p->writes[done].write_seq <= write_seq)
		persist_seq = p->writes[done++].persist_seq;
	if (done > 0) {
		memmove(p->writes, p->writes + done, (p->n_writes - done) * sizeof(*p->writes));
		p->n_writes -= done;
	}
	if (persist_seq <= p->durable_seq)
		return 0;
	p->durable_seq = persist_seq;
	return persist_seq;
}

/* Drops the parked messages already handed out. */
static void compact_parked(struct raft_pipeline *p)
{
	if (p->next_parked == 0)
		return;
	memmove(p->parked, p->parked + p->next_parked,
		(p->n_parked - p->next_parked) * sizeof(*p->parked));
	p->n_parked -= p->next_parked;
	p->next_parked = 0;
}

const struct raft_message *raft_pipeline_next_ready(struct raft_pipeline *p)
{
	if (p->next_parked < p->n_parked && p->parked[p->next_parked].persist_seq <= p->durable_seq)
		return &p->parked[p->next_parked++].msg;
	compact_parked(p);
	return NULL;
}
