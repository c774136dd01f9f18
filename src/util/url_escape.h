/* url_escape.h - Go-compatible URL escaping: percent-decoding (url.QueryUnescape and
 * url.PathUnescape), ServeMux's path cleaning and url.URL.EscapedPath. Pure:
 * libc only. */
#ifndef CETCD_URL_ESCAPE_H
#define CETCD_URL_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes %XX (and '+' when plus_is_space) into a NUL-terminated malloc'd
 * copy whose length (which counts decoded NUL bytes) goes to *out_len when
 * not NULL. On a bad escape returns NULL and sets bad to the offending text
 * (up to 3 bytes, as Go reports it). */
char *url_unescape(const char *s, size_t len, bool plus_is_space, char bad[4], size_t *out_len);
/* Percent-decodes a URL path ('+' stays '+'). Returns a malloc'd string, or
 * NULL on a bad escape. */
char *url_path_unescape(const char *s, size_t len);
/* Go's ServeMux cleanPath: resolves "." and "..", squeezes "//", keeps one
 * trailing slash. Returns a malloc'd string. */
char *url_clean_path(const char *p);
/* Escapes a path for a Location header (Go url.URL.EscapedPath). */
char *url_escape_path(const char *p);

#endif /* CETCD_URL_ESCAPE_H */
