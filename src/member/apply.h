/* apply.h - committed entries -> the member's state, in log order: normal
 * entries (decoded payloads: store writes, expiry sweeps, publishes) and
 * configuration entries (the member table follows the log). Completes the
 * proposal this member parked for an entry (if any). Changes to the server
 * go through server.h's functions. Loop thread only. */
#ifndef CETCD_APPLY_H
#define CETCD_APPLY_H

#include <stddef.h>
#include <stdint.h>

/* A members API change refused when its entry is applied completes its
 * proposal with a store_error whose code is MEMBER_REPLY_BASE + the HTTP
 * status and whose cause is etcd's message (api/http_admin.c answers). */
#define MEMBER_REPLY_BASE 20000

struct server;
struct raft_entry;

/* Applies one committed normal entry. time_ns is the entry's (leader) time. */
void apply_entry(struct server *s, uint64_t index, int64_t time_ns, const void *data, size_t len);
/* Applies one committed configuration entry. */
void apply_conf(struct server *s, const struct raft_entry *e);

#endif /* CETCD_APPLY_H */
