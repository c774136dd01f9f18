/* le.h - little-endian integers in byte buffers: the byte order of every
 * cetcd on-disk and on-wire format, and a bounded reader over such a buffer.
 * Header-only, pure. */
#ifndef CETCD_LE_H
#define CETCD_LE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void le_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t le_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t le_get_u64(const uint8_t *p)
{
	return (uint64_t)le_get_u32(p) | (uint64_t)le_get_u32(p + 4) << 32;
}

/* A width-byte (1..8) unsigned integer. */
static inline uint64_t le_get_uint(const uint8_t *p, int width)
{
	uint64_t v = 0;
	for (int i = 0; i < width; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Reads from p, at most left bytes. A read past the end returns 0 (or NULL)
 * and sets bad, which stays set: check it once after decoding. */
struct le_reader {
	const uint8_t *p;
	size_t left;
	bool bad;
};

/* Takes the next n bytes (a pointer into the input), or NULL. */
static inline const uint8_t *le_read_bytes(struct le_reader *r, size_t n)
{
	if (r->bad || r->left < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

/* Takes a width-byte (1..8) unsigned integer, or 0. */
static inline uint64_t le_read_uint(struct le_reader *r, int width)
{
	const uint8_t *p = le_read_bytes(r, (size_t)width);
	return p ? le_get_uint(p, width) : 0;
}

#endif /* CETCD_LE_H */
