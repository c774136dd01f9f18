/* harness.c - check counting, failure reports and the case runner (see
 * harness.h). */
#include "harness.h"

#include <stdarg.h>

int check_passed, check_failed;
uint64_t test_seed;
bool test_failed;
void (*test_cleanup)(void);

/* the running case's name; NULL outside run_tests() */
static const char *case_name;

/* Counts one check; on failure prints "file:line: FAIL: <what>" (and the
 * case's seed inside run_tests()) from the printf-style rest. */
static bool record(bool ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool record(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		check_passed++;
		return true;
	}
	check_failed++;
	test_failed = true;
	fflush(stdout); /* keep the log in order: stdout is buffered in a file */
	fprintf(stderr, "%s:%d: FAIL: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (case_name)
		fprintf(stderr, " (seed %" PRIu64 ")", test_seed);
	fputc('\n', stderr);
	return false;
}

bool check_that(bool ok, const char *what, const char *file, int line)
{
	return record(ok, file, line, "%s", what);
}

/* A value as it was meant: a negative int cast to uint64_t prints as such. */
static void format_int(uint64_t v, char *out, size_t n)
{
	if ((int64_t)v < 0)
		snprintf(out, n, "%" PRId64, (int64_t)v);
	else
		snprintf(out, n, "%" PRIu64, v);
}

bool check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb, const char *file, int line)
{
	char sa[24], sb[24];

	format_int(a, sa, sizeof sa);
	format_int(b, sb, sizeof sb);
	return record(a == b, file, line, "%s == %s (%s != %s)", ea, eb, sa, sb);
}

bool check_str(const char *a, const char *b, const char *ea, const char *file, int line)
{
	return record(a && b && strcmp(a, b) == 0, file, line, "%s == \"%s\", got \"%s\"", ea,
		      b ? b : "(null)", a ? a : "(null)");
}

int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

int run_tests(const struct test_case *cases, size_t n, int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	const char *env = getenv("CETCD_SEED");

	for (size_t i = 0; i < n; i++) {
		if (only && strstr(cases[i].name, only) == NULL)
			continue;
		case_name = cases[i].name;
		test_failed = false;
		test_seed = env ? strtoull(env, NULL, 0) : 1 + i;
		cases[i].fn();
		if (test_cleanup)
			test_cleanup();
		if (test_failed)
			printf("FAIL %s (replay: CETCD_SEED=%" PRIu64 " %s %s)\n", case_name,
			       test_seed, argv[0], case_name);
		else
			printf("ok   %s\n", case_name);
	}
	case_name = NULL;
	return check_summary();
}
