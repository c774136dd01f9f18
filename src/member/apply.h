/* apply.h - committed entries -> the store, in log order. Decodes each
 * payload, applies it with the entry's time, and completes the proposal this
 * member parked for it (if any). Loop thread only. */
#ifndef CETCD_APPLY_H
#define CETCD_APPLY_H

#include <stddef.h>
#include <stdint.h>

struct server;

/* Applies one committed normal entry. time_ns is the entry's (leader) time. */
void apply_entry(struct server *s, uint64_t index, int64_t time_ns,
		 const void *data, size_t len);

#endif /* CETCD_APPLY_H */
