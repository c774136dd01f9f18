/* runner.c - the tiny test runner (see runner.h). */
#include "runner.h"

int test_failed;
uint64_t test_seed;
void (*test_cleanup)(void);

int run_tests(const struct test_case *cases, size_t n, int argc, char **argv)
{
	size_t passed = 0, failed = 0;
	const char *only = argc > 1 ? argv[1] : NULL;
	const char *env = getenv("CETCD_SEED");
	for (size_t i = 0; i < n; i++) {
		if (only && strstr(cases[i].name, only) == NULL)
			continue;
		test_failed = 0;
		test_seed = env ? strtoull(env, NULL, 0) : 1 + i;
		cases[i].fn();
		if (test_cleanup)
			test_cleanup();
		if (test_failed) {
			failed++;
			printf("FAIL %s (replay: CETCD_SEED=%" PRIu64 " %s %s)\n", cases[i].name,
			       test_seed, argv[0], cases[i].name);
		} else {
			passed++;
			printf("ok   %s\n", cases[i].name);
		}
	}
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}
