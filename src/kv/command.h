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
 *   for CMD_PUBLISH: u32 length + the member attributes (a one-member
 *   table, cluster_encode);
 *   for CMD_CONF: u8 conf type, u64 node, u32 length + the entry context,
 *   where the context = u64 member_id u64 req_id [the added member's table
 *   (cluster_encode)], kept by the Raft configuration entry;
 *   for CMD_UPDATE: u32 length + a one-member table (cluster_encode) with
 *   the changed member's id and new peer URLs (name and client URLs are
 *   not used);
 *   for CMD_AUTH: u8 op, u8 flags (name 1, password 2, grant 4, revoke 8),
 *   [str name] [str password], list roles, list grant, list revoke, then
 *   the role permissions read/write, grant read/write, revoke read/write
 *   (six lists; list = u8 null u32 count + count strs, auth_list_put).
 * Also owned here: the state-snapshot envelope (the application data of a
 * snapshot file): "CETCDSN2", u32 length + the member table
 * (cluster_encode), u32 length + the auth table (auth_encode), then the
 * store (store_codec); "CETCDSN1" (no auth table: auth off, no users) is
 * still read. doc/disk-format.md has every format byte by byte. No I/O, no
 * clock. */
#ifndef CETCD_COMMAND_H
#define CETCD_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "kv/auth.h"
#include "kv/cluster.h"
#include "kv/store.h"

enum cmd_type {
	CMD_WRITE = 1,	 /* a store_write */
	CMD_EXPIRE = 2,	 /* expire every node whose deadline <= entry time */
	CMD_PUBLISH = 3, /* a member's attributes (name, client URLs) */
	CMD_CONF = 4,	 /* a membership change: the leader turns it into a Raft
				 * configuration entry (attrs = entry context) */
	CMD_AUTH = 5,	 /* a change to the v2 auth table (struct auth_op) */
	CMD_UPDATE = 6,	 /* a member's new peer URLs (PUT /v2/members/<id>) */
};

struct command {
	enum cmd_type type;
	uint64_t member_id;
	uint64_t req_id;
	struct store_write write; /* CMD_WRITE: strings point into mem, each
					 * NUL-terminated; value_len and
					 * prev_value_len give the value lengths
					 * (values may hold NUL bytes) */
	const void *attrs;	  /* CMD_PUBLISH: cluster_encode bytes of a
					 * one-member table; CMD_CONF: the conf
					 * entry's context; points into mem */
	size_t attrs_len;
	uint8_t conf_type;   /* CMD_CONF: enum raft_conf_type */
	uint64_t conf_node;  /* CMD_CONF: the member changed */
	struct auth_op auth; /* CMD_AUTH: owned by the command */
	char *mem;	     /* owned by the command */
};

void command_encode_write(struct buf *out, uint64_t member_id, uint64_t req_id,
			  const struct store_write *w);
void command_encode_expire(struct buf *out, uint64_t member_id, uint64_t req_id);
/* A member's published attributes: m's id, name, peer and client URLs, as
 * a one-member table (u32 length + cluster_encode bytes in the payload). */
void command_encode_publish(struct buf *out, const struct member *m);
/* The member a decoded CMD_PUBLISH carries, into *one (a one-member table
 * whose member is the proposer). Returns 0, or -1 (release *one anyway). */
int command_publish_member(const struct command *c, struct cluster *one);

/* A membership change (members API) for the leader to propose as a Raft
 * configuration entry. Its context names the proposing member and its
 * request id (that member answers its client when the entry is applied)
 * and, for an add, the new member's table entry (added, or NULL). */
void command_encode_conf(struct buf *out, uint64_t member_id, uint64_t req_id, uint8_t conf_type,
			 uint64_t node, const struct cluster *added);
/* New peer URLs for member m->id (m's name and client URLs are ignored),
 * proposed by member_id for its request req_id. */
void command_encode_update(struct buf *out, uint64_t member_id, uint64_t req_id,
			   const struct member *m);
/* The member a decoded CMD_UPDATE carries (id and peer URLs) into *one.
 * Returns 0, or -1 (release *one anyway). */
int command_update_member(const struct command *c, struct cluster *one);
/* A change to the auth table (api/http_auth.c builds it; the password, if
 * any, is already hashed). Its proposer answers its client when applied. */
void command_encode_auth(struct buf *out, uint64_t member_id, uint64_t req_id,
			 const struct auth_op *op);

/* Whether a payload is a CMD_CONF (without decoding it all). */
bool command_is_conf(const void *data, size_t len);

/* Decodes a payload. Returns 0, or -1 for a malformed payload (nothing to
 * free then). On success release with command_free. */
int command_decode(const void *data, size_t len, struct command *c);
void command_free(struct command *c);

/* The context of a runtime configuration entry (command_encode_conf). */
struct conf_context {
	uint64_t member_id;   /* the member that proposed it */
	uint64_t req_id;      /* its request id there */
	struct cluster added; /* an add: the new member (one entry); else empty */
};

/* Returns 0, or -1 when data is too short to be one (the bootstrap entry's
 * context is a whole member table, not this). An added table that does not
 * decode leaves out->added empty. Release with conf_context_free. */
int command_decode_conf_context(const void *data, size_t len, struct conf_context *out);
void conf_context_free(struct conf_context *cc);

/* The state snapshot: the bytes before the store's own (magic, the member
 * table, the auth table). The store's snapshot follows them. */
void command_encode_snapshot_head(struct buf *out, const struct cluster *table,
				  const struct auth_state *auth);
/* Splits a state snapshot: *table and *auth are replaced by its member and
 * auth tables (only on success; an old snapshot without an auth table gives
 * an empty one) and *store / *store_len point at the store's bytes inside
 * data. Returns 0, or -1 with a message in err. */
int command_decode_snapshot(const void *data, size_t len, struct cluster *table,
			    struct auth_state *auth, const void **store, size_t *store_len,
			    char *err, size_t cap);

#endif /* CETCD_COMMAND_H */
