/* url_escape.c - Go-compatible URL escaping (see url_escape.h). */
#include "util/url_escape.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *url_unescape(const char *s, size_t len, bool plus_is_space, char bad[4], size_t *out_len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				size_t n = len - i < 3 ? len - i : 3;
				memcpy(bad, s + i, n);
				bad[n] = '\0';
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus_is_space) {
			out[o++] = ' ';
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (out_len != NULL)
		*out_len = o;
	return out;
}

char *url_path_unescape(const char *s, size_t len)
{
	char bad[4];
	return url_unescape(s, len, false, bad, NULL);
}

/* path.Clean on an absolute path. */
static char *clean_abs(const char *p)
{
	size_t n = strlen(p);
	char *out = xmalloc(n + 2);
	size_t o = 0;
	out[o++] = '/';
	size_t i = 0;
	while (i < n) {
		while (i < n && p[i] == '/')
			i++;
		size_t start = i;
		while (i < n && p[i] != '/')
			i++;
		size_t seg = i - start;
		if (seg == 0 || (seg == 1 && p[start] == '.'))
			continue;
		if (seg == 2 && p[start] == '.' && p[start + 1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--; /* drop the separator too */
			continue;
		}
		if (o > 1)
			out[o++] = '/';
		memcpy(out + o, p + start, seg);
		o += seg;
	}
	out[o] = '\0';
	return out;
}

char *url_clean_path(const char *p)
{
	if (p[0] == '\0')
		return xstrdup("/");
	char *abs = NULL;
	if (p[0] != '/') {
		size_t n = strlen(p);
		abs = xmalloc(n + 2);
		abs[0] = '/';
		memcpy(abs + 1, p, n + 1);
		p = abs;
	}
	char *np = clean_abs(p);
	size_t plen = strlen(p), nlen = strlen(np);
	if (plen > 0 && p[plen - 1] == '/' && strcmp(np, "/") != 0) {
		np = xrealloc(np, nlen + 2);
		np[nlen] = '/';
		np[nlen + 1] = '\0';
	}
	free(abs);
	return np;
}

static bool path_char_ok(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return strchr("-_.~/!$&'()*+,;=:@", c) != NULL && c != '\0';
}

char *url_escape_path(const char *p)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(p);
	char *out = xmalloc(3 * n + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (path_char_ok(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}
