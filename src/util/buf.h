/* buf.h - a growable byte buffer with JSON string escaping. Pure (no I/O).
 * Allocation failure aborts the process (out-of-memory is not recoverable
 * in a server that has acknowledged writes in flight). */
#ifndef CETCD_BUF_H
#define CETCD_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data; /* owned; always NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
};

#define BUF_INIT ((struct buf){NULL, 0, 0})

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error message into a caller's fixed buffer (dst may be NULL or cap 0:
 * nothing is written). */
void errbuf_printf(char *dst, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void buf_put_u64(struct buf *b, uint64_t v); /* decimal */
/* Binary, little-endian (le.h): one byte, 4 bytes, 8 bytes. */
void buf_put_byte(struct buf *b, uint8_t v);
void buf_put_le32(struct buf *b, uint32_t v);
void buf_put_le64(struct buf *b, uint64_t v);
/* Appends s as a JSON string literal, quotes included (escapes as Go's
 * encoding/json does: \" \\ \n \r \t, \u00XX for other controls, and
 * \u003c \u003e \u0026 for < > &, \u2028 \u2029). */
void buf_put_json_str(struct buf *b, const char *s, size_t len);
void buf_reset(struct buf *b); /* len = 0, keeps memory */
void buf_free(struct buf *b);  /* frees memory, back to BUF_INIT */
/* Hands the bytes to the caller (who frees them); b is back to BUF_INIT. */
char *buf_steal(struct buf *b, size_t *len);

#endif /* CETCD_BUF_H */
