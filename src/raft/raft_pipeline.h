/* raft_pipeline.h - PURE: the driver's ordering bookkeeping between what the
 * core asks to persist and what the disk has made durable (doc/raft-core.md,
 * rules 4 and 5): which disk write covers which persist_seq, which messages
 * must wait for durability, and when both may be released. The driver does
 * the I/O; this only counts. cetcd's driver (member/node.c) and the test
 * cluster (tests/raft/raft_cluster.c) both run through it, so the fixture
 * exercises the ordering code that ships.
 *
 * It lives in the raft library (and its purity check) because it is the
 * other half of the core's persist contract and needs nothing but raft.h;
 * putting it in member/ would leave the fixture, which links libraft.a
 * only, testing a copy. */
#ifndef CETCD_RAFT_PIPELINE_H
#define CETCD_RAFT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

/* A disk write in flight and the persist_seq it makes durable. */
struct raft_pipeline_write {
	uint64_t write_seq;
	uint64_t persist_seq;
};

/* A message that may leave only once persist_seq is durable. Only responses
 * (votes, append acks) are parked: they carry no entries and no snapshot, so
 * a struct copy is a full copy. */
struct raft_pipeline_parked {
	uint64_t persist_seq;
	struct raft_message msg;
};

struct raft_pipeline {
	struct raft_pipeline_write *writes; /* submitted, not yet durable, in order */
	size_t n_writes, cap_writes;
	struct raft_pipeline_parked *parked; /* in the order the core produced them */
	size_t n_parked, cap_parked;
	size_t next_parked;	/* parked[..next_parked] were handed out */
	uint64_t submitted_seq; /* highest persist_seq handed to the disk */
	uint64_t durable_seq;	/* highest persist_seq known durable */
};

#define RAFT_PIPELINE_INIT ((struct raft_pipeline){0})

/* Frees what is held; a crash loses everything parked. p is empty again. */
void raft_pipeline_reset(struct raft_pipeline *p);

/* The disk write write_seq (the driver's numbering: never decreasing) makes
 * persist_seq durable. write_seq may name a write submitted before (nothing
 * new to write: durable once that write is). */
void raft_pipeline_submit(struct raft_pipeline *p, uint64_t write_seq, uint64_t persist_seq);
/* Whether persist_seq was handed to the disk already. */
bool raft_pipeline_submitted(const struct raft_pipeline *p, uint64_t persist_seq);

/* Holds u's messages_after_persist until u->persist_seq is durable (they
 * are ready at once when it already is: see raft_pipeline_next_ready). */
void raft_pipeline_park(struct raft_pipeline *p, const struct raft_update *u);

/* Disk writes up to write_seq are durable. Returns the persist_seq this
 * makes durable that was not before (report it as RAFT_EV_PERSISTED after
 * sending the ready messages), or 0 when nothing new is. */
uint64_t raft_pipeline_durable(struct raft_pipeline *p, uint64_t write_seq);

/* The next parked message whose persist_seq is durable, in order, or NULL.
 * The pointer is valid until the next call on p. */
const struct raft_message *raft_pipeline_next_ready(struct raft_pipeline *p);

#endif /* CETCD_RAFT_PIPELINE_H */
