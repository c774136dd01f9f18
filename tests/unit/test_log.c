/* test_log.c - util/log.h: etcd 3.4's capnslog line format (local time,
 * microseconds, level letter, package), the threshold, the --log-level
 * names, and lines longer than the stack buffer. */
#include <stdlib.h>
#include <time.h>

#include "../lib/harness.h"
#include "util/log.h"

static int64_t fixed_clock(void)
{
	return 1796666400LL * 1000000000 + 42999; /* 2026-12-07 18:00:00.000042999 UTC */
}

/* Runs fn with the log captured; returns the text (caller frees). */
static char *captured(void (*fn)(void))
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	log_set_output(f);
	fn();
	log_set_output(NULL);
	fclose(f);
	return text;
}

static void some_lines(void)
{
	log_info("etcdserver", "published %s to cluster %x", "{Name:a}", 0x48276a8);
	log_notice("embed", "serving insecure client requests on %s", "127.0.0.1:2379");
	log_warn("etcdmain", "ends in a newline\n");
	log_debug("etcdserver", "dropped at info");
	log_crit("etcdmain", "%s", "");
}

static void test_format(void)
{
	char *t = captured(some_lines);

	CHECK_STR(
		t,
		"2026-12-07 18:00:00.000042 I | etcdserver: published {Name:a} to cluster 48276a8\n"
		"2026-12-07 18:00:00.000042 N | embed: serving insecure client requests on 127.0.0.1:2379\n"
		"2026-12-07 18:00:00.000042 W | etcdmain: ends in a newline\n"
		"2026-12-07 18:00:00.000042 C | etcdmain: \n");
	free(t);
}

static void threshold_lines(void)
{
	log_set_level(LOGL_WARNING);
	log_error("a", "e");
	log_warn("a", "w");
	log_notice("a", "n");
	log_info("a", "i");
	log_set_level(LOGL_DEBUG);
	log_debug("a", "d");
	log_set_level(LOGL_INFO);
}

static void test_threshold(void)
{
	char *t = captured(threshold_lines);

	CHECK_STR(t, "2026-12-07 18:00:00.000042 E | a: e\n"
		     "2026-12-07 18:00:00.000042 W | a: w\n"
		     "2026-12-07 18:00:00.000042 D | a: d\n");
	free(t);
	CHECK(log_enabled(LOGL_INFO) && !log_enabled(LOGL_DEBUG));
}

static void long_line(void)
{
	char big[3000];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_error("rafthttp", "%s|", big);
}

static void test_long_line(void)
{
	char *t = captured(long_line);
	size_t n = strlen(t);

	CHECK(n == strlen("2026-12-07 18:00:00.000042 E | rafthttp: ") + 2999 + 2);
	CHECK(strncmp(t, "2026-12-07 18:00:00.000042 E | rafthttp: xxx", 44) == 0);
	CHECK(n > 2 && strcmp(t + n - 3, "x|\n") == 0);
	free(t);
}

static void test_level_names(void)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} ok[] = {
		{"debug", LOGL_DEBUG},	  {"info", LOGL_INFO},	     {"warn", LOGL_WARNING},
		{"error", LOGL_ERROR},	  {"dpanic", LOGL_CRITICAL}, {"panic", LOGL_CRITICAL},
		{"fatal", LOGL_CRITICAL},
	};
	enum log_level l;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		CHECK(log_level_parse(ok[i].name, &l) == 0 && l == ok[i].lvl);
	CHECK(log_level_parse("warning", &l) == -1);
	CHECK(log_level_parse("INFO", &l) == -1);
	CHECK(log_level_parse("", &l) == -1);
}

/* Local time, as Go's time.Now(): a zone east of UTC moves the date. */
static void test_local_time(void)
{
	char *t;

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	t = captured(some_lines);
	CHECK(strncmp(t, "2026-12-08 03:00:00.000042 I | etcdserver: ", 43) == 0);
	free(t);
	setenv("TZ", "UTC", 1);
	tzset();
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	log_set_clock(fixed_clock);
	test_format();
	test_threshold();
	test_long_line();
	test_level_names();
	test_local_time();
	return check_summary();
}
