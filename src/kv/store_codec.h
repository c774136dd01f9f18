/* store_codec.h - the store snapshot payload: the whole replicated state of a
 * store (every node, the etcd index, the TTL order, the event history) as
 * bytes, and back. These bytes are the opaque app data inside a snapshot file
 * (doc/disk-format.md, "store snapshot payload"); restart = load the newest
 * snapshot into an empty store, then replay the WAL after it.
 * Not included: live watchers (connections do not survive a restart) and the
 * stats counters (etcd resets them too).
 * PURE: no I/O, no clock. Loop thread (or a forked child's frozen copy). */
#ifndef CETCD_STORE_CODEC_H
#define CETCD_STORE_CODEC_H

#include <stddef.h>

#include "util/buf.h"
#include "kv/store.h"

#define STORE_SNAPSHOT_MAGIC   "CETCDKVS" /* 8 bytes, no terminator in the payload */
#define STORE_SNAPSHOT_VERSION 1

/* Appends the snapshot of s to out. s is only read. */
void store_snapshot_write(const struct store *s, struct buf *out);

/* Receives the next chunk of a streamed snapshot (at most about 256 KiB at a
 * time; data is borrowed for the call). Returns 0, or -1 to stop. */
typedef int (*store_snapshot_emit_fn)(void *ctx, const void *data, size_t len);

/* The same bytes as store_snapshot_write, handed to emit in chunks so the
 * whole payload never sits in memory (e.g. a snap_writer in a forked child).
 * Returns 0, or -1 as soon as emit fails. */
int store_snapshot_write_stream(const struct store *s, store_snapshot_emit_fn emit, void *ctx);

/* Replaces the state of s, which must be empty (a new store: index 0, no
 * nodes, no history; registered watchers are kept), with the snapshot in
 * data[0..len) (borrowed). Returns 0, or -1 with a message in err (cap bytes,
 * always terminated) for a store that is not empty or for input that is
 * malformed, truncated or of another version; s is then still empty.
 * Never crashes on garbage. Event JSON is copied as stored, never re-rendered. */
int store_snapshot_read(struct store *s, const void *data, size_t len, char *err, size_t cap);

/* Same, over a store that holds state: the tree, index, TTLs and history are
 * replaced (a member installing its leader's snapshot); live watchers stay
 * registered and fire on later events, as etcd's store recovery does. On
 * error the store is unchanged. */
int store_snapshot_replace(struct store *s, const void *data, size_t len, char *err, size_t cap);

#endif /* CETCD_STORE_CODEC_H */
