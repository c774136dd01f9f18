/* buf.c - growable byte buffer and JSON string escaping (see buf.h). */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/le.h"
#include "util/xalloc.h"

void buf_reserve(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	/* 256: one allocation holds a typical reply, command or form body */
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void errbuf_printf(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!dst || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(dst, cap, fmt, ap);
	va_end(ap);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_put_byte(struct buf *b, uint8_t v)
{
	buf_append(b, &v, 1);
}

void buf_put_le32(struct buf *b, uint32_t v)
{
	uint8_t t[4];
	le_put_u32(t, v);
	buf_append(b, t, 4);
}

void buf_put_le64(struct buf *b, uint64_t v)
{
	uint8_t t[8];
	le_put_u64(t, v);
	buf_append(b, t, 8);
}

void buf_put_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_append(b, tmp + i, sizeof(tmp) - (size_t)i);
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if it is invalid
 * (overlong, surrogate, above U+10FFFF, truncated), as Go's utf8 decoder. */
static size_t utf8_valid_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t min, cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) {
		n = 2, min = 0x80, cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, min = 0x800, cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* How many bytes from p on (whole blocks only, at most len) need no look:
 * each is 0x20 .. 0x7F and none of " \\ < > &. A 64 KiB value is then
 * 4,096 SSE2 steps (or 8,192 portable ones), not 65,536 byte steps: a GET
 * of such a value spent most of its time here. The portable tests are the
 * classic exact "has a zero byte" / "has a byte below n" SWAR ones. */
#ifdef __SSE2__
#include <emmintrin.h>
static size_t json_plain_run(const unsigned char *p, size_t len)
{
	const __m128i lo = _mm_set1_epi8(0x20), q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'),
		      lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'), amp = _mm_set1_epi8('&');
	size_t i = 0;
	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(p + i));
		/* signed: below 0x20 or 0x80 and up */
		__m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, lo), _mm_cmpeq_epi8(v, q));
		bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, bs));
		bad = _mm_or_si128(bad, _mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, gt)));
		bad = _mm_or_si128(bad, _mm_cmpeq_epi8(v, amp));
		if (_mm_movemask_epi8(bad))
			break;
	}
	return i;
}
#else
#define ONES	     (~(uint64_t)0 / 255)
#define HAS_ZERO(v)  (((v)-ONES) & ~(v) & (ONES * 0x80))
#define HAS_EQ(v, c) HAS_ZERO((v) ^ (ONES * (c)))
static size_t json_plain_run(const unsigned char *p, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t v;
		memcpy(&v, p + i, 8);
		uint64_t bad = (v & (ONES * 0x80)) | ((v - ONES * 0x20) & ~v & (ONES * 0x80)) |
			       HAS_EQ(v, '"') | HAS_EQ(v, '\\') | HAS_EQ(v, '<') | HAS_EQ(v, '>') |
			       HAS_EQ(v, '&');
		if (bad)
			break;
	}
	return i;
}
#endif

void buf_put_json_str(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	buf_reserve(b, len + 2);
	b->data[b->len++] = '"';
	size_t start = 0;
	for (size_t i = 0; i < len;) {
		size_t plain = json_plain_run(u + i, len - i);
		if (plain) {
			i += plain;
			continue;
		}
		unsigned char c = u[i];
		const char *esc = NULL;
		char tmp[7];
		size_t adv = 1;
		if (c >= 0x80) {
			adv = utf8_valid_len(u + i, len - i);
			if (adv == 3 && c == 0xE2 && u[i + 1] == 0x80 &&
			    (u[i + 2] == 0xA8 || u[i + 2] == 0xA9))
				esc = u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
			else if (adv == 0)
				esc = "\\ufffd", adv = 1; /* Go replaces invalid UTF-8 */
		} else if (c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&') {
			switch (c) {
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
			default:
				tmp[0] = '\\';
				tmp[1] = 'u';
				tmp[2] = '0';
				tmp[3] = '0';
				tmp[4] = hex[c >> 4];
				tmp[5] = hex[c & 15];
				tmp[6] = '\0';
				esc = tmp;
			}
		}
		if (esc) {
			buf_append(b, s + start, i - start);
			buf_puts(b, esc);
			start = i + adv;
		}
		i += adv;
	}
	buf_append(b, s + start, len - start);
	buf_putc(b, '"');
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *buf_steal(struct buf *b, size_t *len)
{
	if (b->data == NULL)
		buf_reserve(b, 0), b->data[0] = '\0';
	char *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
