/* raft_util.c - allocation helpers and the seeded PRNG of the Raft core.
 * Pure: no I/O, no clock; out-of-memory aborts (see raft.h). */
#include "raft/raft_private.h"

#include <string.h>

void *raft_xmemdup(const void *p, size_t n)
{
	if (n == 0)
		return NULL;
	void *q = xmalloc(n);
	memcpy(q, p, n);
	return q;
}

void raft_grow(void **p, size_t *cap, size_t need, size_t elsize)
{
	if (need <= *cap)
		return;
	size_t ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	*p = xrealloc(*p, ncap * elsize);
	*cap = ncap;
}

/* splitmix64: the whole generator state is r->rng, seeded by the caller. */
uint64_t raft_rand(struct raft *r)
{
	uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
