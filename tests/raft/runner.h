/* runner.h - a tiny test runner for the Raft tests: TEST() cases, CHECK()
 * assertions that report file:line and the seed, and a summary line
 * "N passed, N failed". CETCD_SEED=<n> fixes the seed of every case. */
#ifndef CETCD_TESTS_RAFT_RUNNER_H
#define CETCD_TESTS_RAFT_RUNNER_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* set by a CHECK that fails; the case returns at the next CHECK */
extern int test_failed;
extern uint64_t test_seed;
/* optional: called after each case (e.g. to print a trace and free) */
extern void (*test_cleanup)(void);

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed (seed %" PRIu64   \
				")\n", __FILE__, __LINE__, #cond, test_seed);         \
			test_failed = 1;                                         \
			return;                                                  \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                           \
	do {                                                                     \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);     \
		if (check_a_ != check_b_) {                                      \
			fprintf(stderr, "  %s:%d: CHECK_EQ(%s, %s): %" PRIu64        \
				" != %" PRIu64 " (seed %" PRIu64 ")\n", __FILE__,    \
				__LINE__, #a, #b, check_a_, check_b_, test_seed);     \
			test_failed = 1;                                         \
			return;                                                  \
		}                                                                \
	} while (0)

/* Runs every case; returns the process exit status. */
int run_tests(const struct test_case *cases, size_t n, int argc, char **argv);

#endif /* CETCD_TESTS_RAFT_RUNNER_H */
