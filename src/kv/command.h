/* command.h - PURE: the log payload format. A payload is what a proposal
 * carries through the Raft log: a store write, or an expiry sweep, tagged with
 * the proposing member and its request id (so that member can answer the
 * parked HTTP request when the entry is applied). The time is not in the
 * payload: it is the entry's time, stamped by the leader.
 * Format (little-endian), version 1:
 *   u8 version(1) u8 type u64 member_id u64 req_id, then for CMD_WRITE:
 *   u8 op u8 flags u64 ttl u64 prev_index, str path [str value] [str prev_value]
 *   where str = u32 length + bytes (values are binary: NULs allowed;
 *   the path may not hold a NUL) and flags = dir 1, unique 2, recursive 4,
 *   refresh 8, has_ttl 16, has_value 32, has_prev_value 64;
 *   for CMD_PUBLISH: u32 length + the member attributes;
 *   for CMD_CONF: u8 conf type, u64 node, u32 length + the entry context.
 * No I/O, no clock. */
#ifndef CETCD_COMMAND_H
#define CETCD_COMMAND_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "kv/store.h"

enum cmd_type {
	CMD_WRITE = 1,	/* a store_write */
	CMD_EXPIRE = 2,	/* expire every node whose deadline <= entry time */
	CMD_PUBLISH = 3,	/* a member's attributes (name, client URLs) */
	CMD_CONF = 4,		/* a membership change: the leader turns it into a Raft
				 * configuration entry (attrs = entry context) */
};

struct command {
	enum cmd_type type;
	uint64_t member_id;
	uint64_t req_id;
	struct store_write write;	/* CMD_WRITE: strings point into mem, each
					 * NUL-terminated; value_len and
					 * prev_value_len give the value lengths
					 * (values may hold NUL bytes) */
	const void *attrs;		/* CMD_PUBLISH: cluster_encode bytes of a
					 * one-member table; CMD_CONF: the conf
					 * entry's context; points into mem */
	size_t attrs_len;
	uint8_t conf_type;		/* CMD_CONF: enum raft_conf_type */
	uint64_t conf_node;		/* CMD_CONF: the member changed */
	char *mem;			/* owned by the command */
};

void command_encode_write(struct buf *out, uint64_t member_id, uint64_t req_id,
			  const struct store_write *w);
void command_encode_expire(struct buf *out, uint64_t member_id, uint64_t req_id);
/* attrs: opaque member attributes (u32 length + bytes in the payload). */
void command_encode_publish(struct buf *out, uint64_t member_id, const void *attrs,
			    size_t len);

/* A membership change for the leader to propose as a Raft configuration
 * entry; ctx becomes the entry's context. */
void command_encode_conf(struct buf *out, uint64_t member_id, uint8_t conf_type,
			 uint64_t node, const void *ctx, size_t len);

/* Decodes a payload. Returns 0, or -1 for a malformed payload (nothing to
 * free then). On success release with command_free. */
int command_decode(const void *data, size_t len, struct command *c);
void command_free(struct command *c);

#endif /* CETCD_COMMAND_H */
