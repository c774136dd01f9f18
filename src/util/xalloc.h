/* xalloc.h - allocation or abort: the process's one out-of-memory policy.
 * A server that has acknowledged writes in flight cannot recover from a
 * failed allocation, so every wrapper prints "cetcd: out of memory" and
 * aborts instead of returning NULL. Zero-byte requests return a valid
 * pointer. Pure (libc only). */
#ifndef CETCD_XALLOC_H
#define CETCD_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* A NUL-terminated copy of s[0..n) (s may hold NULs or be unterminated). */
char *xstrndup(const char *s, size_t n);
/* Prints the message and aborts (for a size that cannot be represented). */
_Noreturn void xalloc_die(void);

#endif /* CETCD_XALLOC_H */
