/* json_quote.c - turning JSON numbers into strings so that uint64 member ids
 * survive a parser with int64 integers, and reading such ids back. */
#include "util/json_quote.h"

#include <stdbool.h>
#include <string.h>

#include "util/goparse.h"

void json_quote_numbers(const char *json, size_t len, struct buf *out)
{
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char ch = json[i];
		if (in_str) {
			buf_putc(out, ch);
			if (ch == '\\' && i + 1 < len)
				buf_putc(out, json[++i]);
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
			buf_putc(out, ch);
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			buf_puts(out, "\"#");
			while (i < len && json[i] && strchr("-+.eE0123456789", json[i]) != NULL)
				buf_putc(out, json[i++]);
			buf_putc(out, '"');
			i--;
		} else {
			buf_putc(out, ch);
		}
	}
}

uint64_t json_quoted_id(const char *s)
{
	uint64_t id;
	if (s == NULL)
		return 0;
	if (s[0] == '#')
		return go_parse_uint(s + 1, 10, 64, &id) == GO_NUM_OK ? id : 0;
	return go_parse_uint(s, 16, 64, &id) == GO_NUM_OK ? id : 0;
}
