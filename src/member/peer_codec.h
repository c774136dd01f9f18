/* peer_codec.h - the bytes of a peer POST /raft body: a versioned batch of
 * records, each a Raft message (every field of struct raft_message, its
 * entries and its snapshot) or a forwarded proposal (opaque payload).
 * PURE: no I/O, no clock, no globals. Format: doc/peer-protocol.md.
 *
 * Encoding appends to a struct buf (buf.h; out-of-memory aborts). A batch is
 * peer_encode_header(n) followed by exactly n records; records can be
 * encoded one by one (the sender queues them) and concatenated later.
 *
 * Decoding never reads outside [data, data + len), never trusts a count or a
 * length before checking it against the bytes left, and returns an error
 * value for anything malformed (truncated, bad magic/version, unknown kind or
 * type, trailing bytes). */
#ifndef CETCD_PEER_CODEC_H
#define CETCD_PEER_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "raft/raft.h"

#define PEER_CODEC_MAGIC0     0xCE /* batch starts with 0xCE 'R' version */
#define PEER_CODEC_MAGIC1     'R'
#define PEER_CODEC_VERSION    1
#define PEER_CODEC_HEADER_LEN 8 /* magic(2) version(1) flags(1) count(4) */

enum peer_record_kind {
	PEER_REC_MESSAGE = 1,  /* a struct raft_message */
	PEER_REC_PROPOSAL = 2, /* a client write forwarded to the leader */
};

enum peer_codec_err {
	PEER_CODEC_OK = 0,
	PEER_CODEC_ERR_TRUNCATED, /* a length or count runs past the end */
	PEER_CODEC_ERR_MAGIC,	  /* not a cetcd peer batch */
	PEER_CODEC_ERR_VERSION,	  /* a batch format this build does not know */
	PEER_CODEC_ERR_KIND,	  /* unknown record kind */
	PEER_CODEC_ERR_INVALID,	  /* bad field value, flags or trailing bytes */
};

const char *peer_codec_strerror(int err);

/* ---- encoding ------------------------------------------------------------ */

/* Appends the 8-byte batch header announcing n_records records. */
void peer_encode_header(struct buf *b, uint32_t n_records);
/* Appends one record holding m (borrowed: everything is copied into b). */
void peer_encode_message(struct buf *b, const struct raft_message *m);
/* Appends one record holding a forwarded proposal's payload (copied). */
void peer_encode_proposal(struct buf *b, const void *payload, size_t len);

/* ---- decoding ------------------------------------------------------------ */

struct peer_record {
	uint8_t kind;		 /* enum peer_record_kind */
	struct raft_message msg; /* PEER_REC_MESSAGE */
	const void *payload;	 /* PEER_REC_PROPOSAL (NULL when len == 0) */
	size_t len;
};

/* The result of peer_decode. Lifetime: the records, their entries arrays and
 * snapshots live in memory owned by this struct; entry data, snapshot data
 * and proposal payloads point into the input bytes (zero copy). Everything
 * stays valid until peer_decoded_free() or until the caller frees the input
 * bytes, whichever comes first. */
struct peer_decoded {
	struct peer_record *records;
	size_t n_records;
	void *mem; /* one allocation for records, entries, snapshots */
};

/* Decodes a whole batch. On success fills out and returns PEER_CODEC_OK; on
 * error returns the reason and leaves out empty (nothing to free, though
 * calling peer_decoded_free is harmless). */
int peer_decode(const void *data, size_t len, struct peer_decoded *out);
void peer_decoded_free(struct peer_decoded *d);

#endif /* CETCD_PEER_CODEC_H */
