/* A ~40-line test harness (after redis testhelp.h / jsmn test.h).
 *
 *   TEST("name") { CHECK(cond); CHECK_NEAR(a, b, tol); ... }
 *   return TEST_REPORT();   // prints "N passed, N failed", returns non-zero on failure
 *
 * Every CHECK counts as one test; a failing CHECK prints file:line and the expression.
 */
#ifndef NASRANK_TEST_H
#define NASRANK_TEST_H

#include <math.h>
#include <stdio.h>

static int test_passed_, test_failed_;
static const char *test_name_ = "";

#define TEST(name) for (int once_ = (test_name_ = (name), 1); once_; once_ = 0)

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) test_passed_++;                                                     \
        else {                                                                        \
            test_failed_++;                                                           \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s\n", __FILE__, __LINE__,     \
                    test_name_, #cond);                                               \
        }                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                          \
    do {                                                                              \
        if (cond) test_passed_++;                                                     \
        else {                                                                        \
            test_failed_++;                                                           \
            fprintf(stderr, "%s:%d: [%s] CHECK failed: %s: ", __FILE__, __LINE__,     \
                    test_name_, #cond);                                               \
            fprintf(stderr, __VA_ARGS__);                                             \
            fputc('\n', stderr);                                                      \
        }                                                                             \
    } while (0)

/* |a-b| <= tol, with a message showing both values. NaN never passes. */
#define CHECK_NEAR(a, b, tol)                                                         \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (double)(tol), "%.17g vs %.17g (tol %g)", \
              (double)(a), (double)(b), (double)(tol))

#define TEST_REPORT()                                                                 \
    (printf("%d passed, %d failed\n", test_passed_, test_failed_), test_failed_ ? 1 : 0)

#endif
