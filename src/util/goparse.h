/* goparse.h - Go's value parsers as etcd's flags and HTTP parameters use
 * them: strconv.ParseUint / ParseInt / ParseBool, time.ParseDuration, and
 * strconv.Quote (Go's %q) for the error messages that echo a value.
 * Pure libc: no I/O, no clock, no locale. */
#ifndef CETCD_GOPARSE_H
#define CETCD_GOPARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

/* Why a number did not parse: Go's strconv.ErrSyntax / ErrRange. */
enum go_num_err {
	GO_NUM_OK = 0,
	GO_NUM_SYNTAX,
	GO_NUM_RANGE
};

/* strconv.ParseUint(s, base, bits). base 0 takes Go's prefixes (0b, 0o,
 * 0x, a leading 0 for octal) and '_' between digits; base 2..36 takes
 * neither. bits is 1..64. On GO_NUM_RANGE *out is the largest value that
 * fits in bits, as in Go; on GO_NUM_SYNTAX it is 0. */
enum go_num_err go_parse_uint(const char *s, int base, int bits, uint64_t *out);

/* strconv.ParseInt(s, base, bits): an optional sign, then as
 * go_parse_uint. *out is 0 on any error. */
enum go_num_err go_parse_int(const char *s, int base, int bits, int64_t *out);

/* strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
 * Returns 0, or -1 for anything else. */
int go_parse_bool(const char *s, bool *out);

/* time.ParseDuration into nanoseconds ("1h2m3.5s", "-1.5ms", "0").
 * Returns 0, or -1 on bad syntax, a unit it does not know, or overflow. */
int go_parse_duration(const char *s, int64_t *ns);

/* Appends strconv.Quote(s) for ASCII: quotes, backslash escapes, \xNN for
 * other control bytes; bytes >= 0x80 are copied as they are. */
void go_quote(struct buf *b, const char *s);
/* go_quote into a new string the caller frees. */
char *go_quoted(const char *s);

#endif /* CETCD_GOPARSE_H */
