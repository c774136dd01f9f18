/* fuzz.h - what every libFuzzer target in tests/fuzz/ shares: the entry
 * point libFuzzer (or replay_main.c) calls, and FUZZ_CHECK, an invariant
 * that aborts with its text (so libFuzzer records the input as a crash). */
#ifndef CETCD_FUZZ_H
#define CETCD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                     \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                      \
			abort();                                                             \
		}                                                                            \
	} while (0)

/* A reader over the input for targets that build structured input from it. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)fuzz_u8(in) << (8 * i);
	return v;
}

/* The next n bytes (fewer at the end); *len gets how many. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *len)
{
	const uint8_t *p = in->p;
	*len = n < in->n ? n : in->n;
	in->p += *len;
	in->n -= *len;
	return p;
}

#endif /* CETCD_FUZZ_H */
