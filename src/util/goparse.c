/* goparse.c - Go's strconv and time.ParseDuration rules in C (see
 * goparse.h). The comments name the Go function each piece follows. */
#include "util/goparse.h"

#include <string.h>

static char lower(char ch)
{
	return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

/* strconv.underscoreOK: '_' only between digits (or after a base prefix). */
static bool underscore_ok(const char *s)
{
	char saw = '^';
	bool hex = false;
	size_t i = 0, n;

	if (*s == '-' || *s == '+')
		s++;
	n = strlen(s);
	if (n >= 2 && s[0] == '0' &&
	    (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
		i = 2;
		saw = '0';
		hex = lower(s[1]) == 'x';
	}
	for (; i < n; i++) {
		char ch = s[i];

		if ((ch >= '0' && ch <= '9') || (hex && lower(ch) >= 'a' && lower(ch) <= 'f')) {
			saw = '0';
			continue;
		}
		if (ch == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* The base-0 prefix of ParseUint: returns the base and skips the prefix. */
static unsigned base_from_prefix(const char **s)
{
	const char *p = *s;
	size_t len = strlen(p);

	if (p[0] != '0')
		return 10;
	if (len >= 3 && lower(p[1]) == 'b')
		return *s += 2, 2;
	if (len >= 3 && lower(p[1]) == 'o')
		return *s += 2, 8;
	if (len >= 3 && lower(p[1]) == 'x')
		return *s += 2, 16;
	return *s += 1, 8;
}

/* strconv.ParseUint */
enum go_num_err go_parse_uint(const char *s0, int base, int bits, uint64_t *out)
{
	const char *s = s0;
	bool base0 = base == 0, underscores = false;
	uint64_t n = 0, max = bits >= 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
	uint64_t cutoff;
	unsigned b = (unsigned)base;

	*out = 0;
	if (*s == '\0')
		return GO_NUM_SYNTAX;
	if (base0)
		b = base_from_prefix(&s);
	cutoff = UINT64_MAX / b + 1;
	for (; *s; s++) {
		char ch = *s;
		unsigned d;

		if (ch == '_' && base0) {
			underscores = true;
			continue;
		} else if (ch >= '0' && ch <= '9') {
			d = (unsigned)(ch - '0');
		} else if (lower(ch) >= 'a' && lower(ch) <= 'z') {
			d = (unsigned)(lower(ch) - 'a' + 10);
		} else {
			return GO_NUM_SYNTAX;
		}
		if (d >= b)
			return GO_NUM_SYNTAX;
		if (n >= cutoff || n * b + d < n * b || n * b + d > max) {
			*out = max;
			return GO_NUM_RANGE;
		}
		n = n * b + d;
	}
	if (underscores && !underscore_ok(s0))
		return GO_NUM_SYNTAX;
	*out = n;
	return GO_NUM_OK;
}

/* strconv.ParseInt */
enum go_num_err go_parse_int(const char *s, int base, int bits, int64_t *out)
{
	const uint64_t cutoff = (uint64_t)1 << (bits - 1);
	bool neg = false;
	uint64_t un;
	enum go_num_err e;

	*out = 0;
	if (*s == '\0')
		return GO_NUM_SYNTAX;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	e = go_parse_uint(s, base, bits, &un);
	if (e == GO_NUM_SYNTAX)
		return GO_NUM_SYNTAX;
	if (e == GO_NUM_RANGE || (!neg && un >= cutoff) || (neg && un > cutoff))
		return GO_NUM_RANGE;
	if (neg)
		*out = un == ((uint64_t)1 << 63) ? INT64_MIN : -(int64_t)un;
	else
		*out = (int64_t)un;
	return GO_NUM_OK;
}

/* strconv.ParseBool */
int go_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(s, yes[i]) == 0)
			return *out = true, 0;
		if (strcmp(s, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* time.ParseDuration's unit table; 0 = not a unit. */
static uint64_t duration_unit(const char *u, size_t n)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{"ns", 1},
		{"us", 1000},
		{"\xc2\xb5s", 1000},
		{"\xce\xbcs", 1000},
		{"ms", 1000000},
		{"s", 1000000000ULL},
		{"m", 60000000000ULL},
		{"h", 3600000000000ULL},
	};

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
			return units[i].ns;
	return 0;
}

/* One "<number><unit>" term of a duration, in ns, added to *d; advances *sp.
 * Returns 0, or -1 as ParseDuration would fail. */
static int duration_term(const char **sp, uint64_t *d)
{
	const uint64_t lim = (uint64_t)1 << 63;
	const char *s = *sp, *start = s, *u;
	uint64_t v = 0, f = 0, unit;
	double scale = 1;
	bool pre, post = false;

	if (!(*s == '.' || (*s >= '0' && *s <= '9')))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) { /* leadingInt */
		if (v > (lim - 1) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > lim)
			return -1;
	}
	pre = s != start;
	if (*s == '.') { /* leadingFraction: digits past precision are dropped */
		bool overflow = false;

		start = ++s;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (overflow || f > (lim - 1) / 10) {
				overflow = true;
				continue;
			}
			f = f * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
		post = s != start;
	}
	if (!pre && !post)
		return -1;
	for (u = s; *s && *s != '.' && !(*s >= '0' && *s <= '9'); s++)
		;
	unit = s == u ? 0 : duration_unit(u, (size_t)(s - u));
	if (!unit || v > lim / unit)
		return -1; /* missing or unknown unit, overflow */
	v *= unit;
	if (f > 0) {
		v += (uint64_t)((double)f * ((double)unit / scale));
		if (v > lim)
			return -1;
	}
	*d += v;
	if (*d > lim)
		return -1;
	*sp = s;
	return 0;
}

/* time.ParseDuration */
int go_parse_duration(const char *s, int64_t *ns)
{
	const uint64_t lim = (uint64_t)1 << 63;
	uint64_t d = 0;
	bool neg = false;

	*ns = 0;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0)
		return 0;
	if (*s == '\0')
		return -1;
	while (*s)
		if (duration_term(&s, &d) < 0)
			return -1;
	if (neg) {
		*ns = d == lim ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > lim - 1)
		return -1;
	*ns = (int64_t)d;
	return 0;
}

/* strconv.Quote, ASCII subset */
void go_quote(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '"':
			buf_puts(b, "\\\"");
			break;
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case '\a':
			buf_puts(b, "\\a");
			break;
		case '\b':
			buf_puts(b, "\\b");
			break;
		case '\f':
			buf_puts(b, "\\f");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		case '\r':
			buf_puts(b, "\\r");
			break;
		case '\t':
			buf_puts(b, "\\t");
			break;
		case '\v':
			buf_puts(b, "\\v");
			break;
		default:
			if (ch < 0x20 || ch == 0x7f)
				buf_printf(b, "\\x%02x", ch);
			else
				buf_putc(b, (char)ch);
		}
	}
	buf_putc(b, '"');
}

char *go_quoted(const char *s)
{
	struct buf b = BUF_INIT;

	go_quote(&b, s);
	return buf_steal(&b, NULL);
}
