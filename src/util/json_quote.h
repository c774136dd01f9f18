/* json_quote.h - making JSON with uint64 numbers readable by a parser whose
 * integers are int64 (jansson): every number outside a string becomes the
 * string "#<number>". Pure. */
#ifndef CETCD_JSON_QUOTE_H
#define CETCD_JSON_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Copies the JSON text json[0..len) to out with every number outside a
 * string turned into the string "#<number>" (etcd 3.4's peer /members gives
 * member ids as uint64 numbers, often above 2^63). */
void json_quote_numbers(const char *json, size_t len, struct buf *out);
/* A member id from a quoted number ("#<decimal>", json_quote_numbers) or a
 * hex string (the client shape, stats). 0 if s is neither (or NULL). */
uint64_t json_quoted_id(const char *s);

#endif /* CETCD_JSON_QUOTE_H */
