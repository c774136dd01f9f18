/* log.c - capnslog's PrettyFormatter without the debug caller field (see
 * log.h). The only state: threshold, output, clock. */
#include "util/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/xalloc.h"

static enum log_level threshold = LOGL_INFO;
static FILE *output;
static int64_t (*wall_clock)(void) = clock_wall_ns;

void log_set_level(enum log_level max)
{
	threshold = max;
}

bool log_enabled(enum log_level lvl)
{
	return lvl <= threshold;
}

int log_level_parse(const char *name, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} names[] = {
		{"debug", LOGL_DEBUG},	  {"info", LOGL_INFO},	     {"warn", LOGL_WARNING},
		{"error", LOGL_ERROR},	  {"dpanic", LOGL_CRITICAL}, {"panic", LOGL_CRITICAL},
		{"fatal", LOGL_CRITICAL},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i].name) == 0)
			return *out = names[i].lvl, 0;
	return -1;
}

void log_set_output(FILE *f)
{
	output = f;
}

void log_set_clock(int64_t (*wall_ns)(void))
{
	wall_clock = wall_ns ? wall_ns : clock_wall_ns;
}

/* "2006-01-02 15:04:05.000000 L | pkg: " in local time, as Go's time.Now();
 * without "pkg: " for pkg NULL (Go's standard log package through capnslog).
 * Returns its length (cut to fit cap, which must hold the stamp). */
static size_t line_prefix(char *dst, size_t cap, enum log_level lvl, const char *pkg)
{
	static const char letter[] = "CEWNID";
	int64_t ns = wall_clock();
	time_t sec = (time_t)(ns / 1000000000);
	long usec = (long)(ns % 1000000000) / 1000;
	struct tm tm;
	size_t n;
	int more;

	if (usec < 0) {
		sec--;
		usec += 1000000;
	}
	localtime_r(&sec, &tm);
	n = strftime(dst, cap, "%Y-%m-%d %H:%M:%S", &tm);
	more = snprintf(dst + n, cap - n, ".%06ld %c | %s%s", usec, letter[lvl], pkg ? pkg : "",
			pkg ? ": " : "");
	if (more < 0)
		return n;
	return n + (size_t)more < cap ? n + (size_t)more : cap - 1;
}

void log_line(enum log_level lvl, const char *pkg, const char *fmt, ...)
{
	char small[512], *line = small;
	size_t head, len;
	int body;
	va_list ap;

	if (lvl > threshold)
		return;
	head = line_prefix(small, 128, lvl, pkg); /* a package name is short */
	va_start(ap, fmt);
	body = vsnprintf(small + head, sizeof small - head, fmt, ap);
	va_end(ap);
	if (body < 0)
		body = 0;
	len = head + (size_t)body;
	if (len + 2 > sizeof small) { /* too long for the stack: once more */
		line = xmalloc(len + 2);
		memcpy(line, small, head);
		va_start(ap, fmt);
		vsnprintf(line + head, (size_t)body + 1, fmt, ap);
		va_end(ap);
	}
	if (line[len - 1] != '\n')
		line[len++] = '\n';
	fwrite(line, 1, len, output ? output : stderr);
	if (line != small)
		free(line);
}
