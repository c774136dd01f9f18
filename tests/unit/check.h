/* check.h - the smallest test harness: CHECK(cond) counts and reports, and
 * check_summary() prints "N passed, N failed" and gives the exit code. */
#ifndef CETCD_CHECK_H
#define CETCD_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (cond) {                                                  \
			check_passed++;                                      \
		} else {                                                     \
			check_failed++;                                      \
			fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, \
				#cond);                                      \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                      \
	do {                                                                 \
		const char *check_a_ = (a), *check_b_ = (b);                 \
		if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) {  \
			check_passed++;                                      \
		} else {                                                     \
			check_failed++;                                      \
			fprintf(stderr, "%s:%d: FAIL: %s == \"%s\", got \"%s\"\n", \
				__FILE__, __LINE__, #a, check_b_ ? check_b_ : "(null)", \
				check_a_ ? check_a_ : "(null)");             \
		}                                                            \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif /* CETCD_CHECK_H */
