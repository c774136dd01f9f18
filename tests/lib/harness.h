/* harness.h - the one harness of the C tests (tests/unit, tests/raft).
 *
 * Checks. CHECK(cond), CHECK_EQ(a, b) (integers) and CHECK_STR(a, b) count a
 * pass, or print file:line and what failed and carry on. REQUIRE(cond) and
 * REQUIRE_EQ(a, b) do the same but return from the calling function on
 * failure: use them in void functions (a test case) where going on makes no
 * sense. check_summary() prints the one summary line "N passed, N failed"
 * (N counts checks) and returns the exit status: 0, or 1 after any failure.
 *
 * Cases (optional). run_tests() runs an array of named cases, each with its
 * own seed test_seed (1 + its position; CETCD_SEED=<n> fixes it for every
 * case), prints "ok   name" or "FAIL name (replay: ...)" per case and ends
 * with check_summary(). argv[1], if given, runs only the cases whose name
 * contains it. */
#ifndef CETCD_TESTS_HARNESS_H
#define CETCD_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* counts of passed and failed checks so far */
extern int check_passed, check_failed;

/* Records one check; prints the failure. Returns ok. */
bool check_that(bool ok, const char *what, const char *file, int line);
bool check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb, const char *file, int line);
bool check_str(const char *a, const char *b, const char *ea, const char *file, int line);

/* Prints "N passed, N failed"; returns the exit status. */
int check_summary(void);

#define CHECK(cond)                                              \
	do {                                                     \
		check_that(!!(cond), #cond, __FILE__, __LINE__); \
	} while (0)

#define REQUIRE(cond)                                                 \
	do {                                                          \
		if (!check_that(!!(cond), #cond, __FILE__, __LINE__)) \
			return;                                       \
	} while (0)

#define CHECK_EQ(a, b)                                                              \
	do {                                                                        \
		check_eq((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__); \
	} while (0)

#define REQUIRE_EQ(a, b)                                                                 \
	do {                                                                             \
		if (!check_eq((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)) \
			return;                                                          \
	} while (0)

/* a and b are C strings; NULL never matches */
#define CHECK_STR(a, b)                                      \
	do {                                                 \
		check_str((a), (b), #a, __FILE__, __LINE__); \
	} while (0)

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* the running case's seed; 0 outside run_tests() */
extern uint64_t test_seed;
/* set when a check of the running case fails */
extern bool test_failed;
/* optional: called after each case (e.g. to print a trace and free) */
extern void (*test_cleanup)(void);

/* Runs the cases (see the top of this file); returns the exit status. */
int run_tests(const struct test_case *cases, size_t n, int argc, char **argv);

#endif /* CETCD_TESTS_HARNESS_H */
