/* members_json.c - the member table as etcd's JSON (see members_json.h). */
#include "api/members_json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static void put_str_array(struct buf *b, char *const *v, size_t n)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_put_json_str(b, v[i], strlen(v[i]));
	}
	buf_putc(b, ']');
}

void json_put_member(struct buf *b, const struct member *m)
{
	buf_printf(b, "{\"id\":\"%" PRIx64 "\",\"name\":", m->id);
	buf_put_json_str(b, m->name, strlen(m->name));
	buf_puts(b, ",\"peerURLs\":");
	put_str_array(b, m->peer_urls, m->n_peer_urls);
	buf_puts(b, ",\"clientURLs\":");
	put_str_array(b, m->client_urls, m->n_client_urls);
	buf_putc(b, '}');
}

void json_put_members(struct buf *b, const struct cluster *c)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < c->n_members; i++) {
		if (i)
			buf_putc(b, ',');
		json_put_member(b, &c->members[i]);
	}
	buf_putc(b, ']');
}

/* etcd 3.4's membership.Member as encoding/json writes it: the id a uint64
 * number (printed unsigned, so ids above 2^63 stay exact), the embedded
 * RaftAttributes (peerURLs, isLearner omitempty) before the Attributes (name
 * and clientURLs, both omitempty, so an unstarted member has neither). */
static void json_put_peer_member(struct buf *b, const struct member *m)
{
	buf_printf(b, "{\"id\":%" PRIu64 ",\"peerURLs\":", m->id);
	if (m->n_peer_urls)
		put_str_array(b, m->peer_urls, m->n_peer_urls);
	else
		buf_puts(b, "null");
	if (m->name[0]) {
		buf_puts(b, ",\"name\":");
		buf_put_json_str(b, m->name, strlen(m->name));
	}
	if (m->n_client_urls) {
		buf_puts(b, ",\"clientURLs\":");
		put_str_array(b, m->client_urls, m->n_client_urls);
	}
	buf_putc(b, '}');
}

void json_put_peer_members(struct buf *b, const struct cluster *c)
{
	buf_putc(b, '[');
	for (size_t i = 0; i < c->n_members; i++) {
		if (i)
			buf_putc(b, ',');
		json_put_peer_member(b, &c->members[i]);
	}
	buf_putc(b, ']');
}

/* ---- Go's JSON syntax errors (encoding/json/scanner.go's wording) ------- */

enum go_scan_state {
	GS_BEGIN_VALUE,
	GS_BEGIN_VALUE_OR_EMPTY,
	GS_BEGIN_STRING_OR_EMPTY,
	GS_BEGIN_STRING,
	GS_END_VALUE,
	GS_END_TOP,
	GS_IN_STRING,
	GS_STRING_ESC,
	GS_STRING_HEX, /* hex digits left in a \u escape: go_scan.hex */
	GS_NEG,
	GS_1, /* digits after a leading 1-9 */
	GS_0, /* after a leading 0, or the integer part */
	GS_DOT,
	GS_DOT0,
	GS_E,
	GS_ESIGN,
	GS_E0,
	GS_LITERAL, /* go_scan.lit[go_scan.lit_pos] expected next */
};

enum {
	GP_OBJ_KEY,
	GP_OBJ_VALUE,
	GP_ARRAY
};

struct go_scan {
	enum go_scan_state st;
	unsigned char stack[512]; /* nesting (deeper input: "exceeded max depth") */
	size_t depth;
	int hex;
	const char *lit; /* "true", "false", "null" */
	size_t lit_pos;
	char *msg;
	size_t cap;
};

/* Go's quoteChar: 'x', '\'', '"', '\n', '\x01' ... */
static void go_quote_char(unsigned char c, char *out, size_t cap)
{
	if (c == '\'')
		snprintf(out, cap, "'\\''");
	else if (c == '"')
		snprintf(out, cap, "'\"'");
	else if (c == '\n')
		snprintf(out, cap, "'\\n'");
	else if (c == '\r')
		snprintf(out, cap, "'\\r'");
	else if (c == '\t')
		snprintf(out, cap, "'\\t'");
	else if (c == '\\')
		snprintf(out, cap, "'\\\\'");
	else if (c < 0x20 || c == 0x7f)
		snprintf(out, cap, "'\\x%02x'", c);
	else if (c >= 0x80)
		snprintf(out, cap, "'%c%c'", 0xc0 | (c >> 6),
			 0x80 | (c & 0x3f)); /* U+0080..U+00FF */
	else
		snprintf(out, cap, "'%c'", c);
}

static int go_scan_error(struct go_scan *s, unsigned char c, const char *context)
{
	char q[16];
	go_quote_char(c, q, sizeof(q));
	snprintf(s->msg, s->cap, "invalid character %s %s", q, context);
	return -1;
}

static bool go_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int go_push(struct go_scan *s, unsigned char kind)
{
	if (s->depth == sizeof(s->stack)) {
		snprintf(s->msg, s->cap, "exceeded max depth");
		return -1;
	}
	s->stack[s->depth++] = kind;
	return 0;
}

static int go_step(struct go_scan *s, unsigned char c);

static int go_begin_value(struct go_scan *s, unsigned char c)
{
	if (go_space(c))
		return 0;
	switch (c) {
	case '{':
		s->st = GS_BEGIN_STRING_OR_EMPTY;
		return go_push(s, GP_OBJ_KEY);
	case '[':
		s->st = GS_BEGIN_VALUE_OR_EMPTY;
		return go_push(s, GP_ARRAY);
	case '"':
		s->st = GS_IN_STRING;
		return 0;
	case '-':
		s->st = GS_NEG;
		return 0;
	case '0':
		s->st = GS_0;
		return 0;
	case 't':
	case 'f':
	case 'n':
		s->lit = c == 't' ? "true" : (c == 'f' ? "false" : "null");
		s->lit_pos = 1;
		s->st = GS_LITERAL;
		return 0;
	default:
		if (c >= '1' && c <= '9') {
			s->st = GS_1;
			return 0;
		}
		return go_scan_error(s, c, "looking for beginning of value");
	}
}

static int go_end_value(struct go_scan *s, unsigned char c)
{
	if (s->depth == 0) {
		s->st = GS_END_TOP;
		return go_step(s, c);
	}
	if (go_space(c)) {
		s->st = GS_END_VALUE;
		return 0;
	}
	unsigned char *top = &s->stack[s->depth - 1];
	switch (*top) {
	case GP_OBJ_KEY:
		if (c != ':')
			return go_scan_error(s, c, "after object key");
		*top = GP_OBJ_VALUE;
		s->st = GS_BEGIN_VALUE;
		return 0;
	case GP_OBJ_VALUE:
		if (c == ',') {
			*top = GP_OBJ_KEY;
			s->st = GS_BEGIN_STRING;
			return 0;
		}
		if (c != '}')
			return go_scan_error(s, c, "after object key:value pair");
		break;
	default:
		if (c == ',') {
			s->st = GS_BEGIN_VALUE;
			return 0;
		}
		if (c != ']')
			return go_scan_error(s, c, "after array element");
		break;
	}
	s->depth--;
	s->st = GS_END_VALUE;
	if (s->depth == 0)
		s->st = GS_END_TOP;
	return 0;
}

static bool go_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int go_step_string(struct go_scan *s, unsigned char c)
{
	switch (s->st) {
	case GS_IN_STRING:
		if (c == '"') {
			s->st = GS_END_VALUE;
			return 0;
		}
		if (c == '\\')
			s->st = GS_STRING_ESC;
		else if (c < 0x20)
			return go_scan_error(s, c, "in string literal");
		return 0;
	case GS_STRING_ESC:
		if (c == 'u') {
			s->st = GS_STRING_HEX;
			s->hex = 4;
			return 0;
		}
		if (strchr("bfnrt\\/\"", c) == NULL || c == '\0')
			return go_scan_error(s, c, "in string escape code");
		s->st = GS_IN_STRING;
		return 0;
	default: /* GS_STRING_HEX */
		if (!go_hex(c))
			return go_scan_error(s, c, "in \\u hexadecimal character escape");
		if (--s->hex == 0)
			s->st = GS_IN_STRING;
		return 0;
	}
}

static int go_step_number(struct go_scan *s, unsigned char c)
{
	bool digit = c >= '0' && c <= '9';
	switch (s->st) {
	case GS_NEG:
		if (c == '0') {
			s->st = GS_0;
			return 0;
		}
		if (digit && c != '0') {
			s->st = GS_1;
			return 0;
		}
		return go_scan_error(s, c, "in numeric literal");
	case GS_1:
		if (digit)
			return 0;
		/* fall through */
	case GS_0:
		if (c == '.') {
			s->st = GS_DOT;
			return 0;
		}
		if (c == 'e' || c == 'E') {
			s->st = GS_E;
			return 0;
		}
		return go_end_value(s, c);
	case GS_DOT:
		if (digit) {
			s->st = GS_DOT0;
			return 0;
		}
		return go_scan_error(s, c, "after decimal point in numeric literal");
	case GS_DOT0:
		if (digit)
			return 0;
		if (c == 'e' || c == 'E') {
			s->st = GS_E;
			return 0;
		}
		return go_end_value(s, c);
	case GS_E:
		if (c == '+' || c == '-') {
			s->st = GS_ESIGN;
			return 0;
		}
		/* fall through */
	case GS_ESIGN:
		if (digit) {
			s->st = GS_E0;
			return 0;
		}
		return go_scan_error(s, c, "in exponent of numeric literal");
	default: /* GS_E0 */
		if (digit)
			return 0;
		return go_end_value(s, c);
	}
}

static int go_step(struct go_scan *s, unsigned char c)
{
	switch (s->st) {
	case GS_BEGIN_VALUE:
		return go_begin_value(s, c);
	case GS_BEGIN_VALUE_OR_EMPTY:
		if (go_space(c))
			return 0;
		if (c == ']')
			return go_end_value(s, c);
		return go_begin_value(s, c);
	case GS_BEGIN_STRING_OR_EMPTY:
		if (go_space(c))
			return 0;
		if (c == '}') {
			s->stack[s->depth - 1] = GP_OBJ_VALUE;
			return go_end_value(s, c);
		}
		/* fall through */
	case GS_BEGIN_STRING:
		if (go_space(c))
			return 0;
		if (c == '"') {
			s->st = GS_IN_STRING;
			return 0;
		}
		return go_scan_error(s, c, "looking for beginning of object key string");
	case GS_END_VALUE:
		return go_end_value(s, c);
	case GS_END_TOP:
		if (go_space(c))
			return 0;
		return go_scan_error(s, c, "after top-level value");
	case GS_IN_STRING:
	case GS_STRING_ESC:
	case GS_STRING_HEX:
		return go_step_string(s, c);
	case GS_LITERAL:
		if (c != (unsigned char)s->lit[s->lit_pos]) {
			char ctx[64];
			snprintf(ctx, sizeof(ctx), "in literal %s (expecting '%c')", s->lit,
				 s->lit[s->lit_pos]);
			return go_scan_error(s, c, ctx);
		}
		if (s->lit[++s->lit_pos] == '\0')
			s->st = GS_END_VALUE;
		return 0;
	default:
		return go_step_number(s, c);
	}
}

int json_go_syntax_check(const char *data, size_t len, char *msg, size_t cap)
{
	struct go_scan s = {.st = GS_BEGIN_VALUE, .msg = msg, .cap = cap};
	for (size_t i = 0; i < len; i++)
		if (go_step(&s, (unsigned char)data[i]) != 0)
			return -1;
	/* Go's eof: one more space ends a number or shows a cut literal */
	if (go_step(&s, ' ') != 0)
		return -1;
	if (s.st != GS_END_TOP) {
		snprintf(msg, cap, "unexpected end of JSON input");
		return -1;
	}
	return 0;
}
