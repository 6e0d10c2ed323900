/*
 * runner.h: the one Check runner every test program uses, and a short way
 * to add a test case to a suite.
 *
 *	int
 *	main(void)
 *	{
 *		return kt_test_run(entry_suite());
 *	}
 */
#ifndef KT_TESTS_RUNNER_H
#define KT_TESTS_RUNNER_H

#include <check.h>

/*
 * Runs every test of s and frees it. Before: libsodium is initialised,
 * SIGPIPE ignored (a peer that went away fails a test; it does not end the
 * runner) and the run's temporary folder made (tmpdir.h; removed after the
 * last test). Whether each test runs in a child process is Check's choice:
 * CK_FORK from the environment (meson sets CK_FORK=no for some suites).
 * Returns the exit status for main: 0 when every test passed, 1 otherwise
 * (also when libsodium cannot start).
 */
int kt_test_run(Suite *s);

/* The same, but every test runs in this process whatever CK_FORK says:
 * for tests whose threads and child processes the runner must not split. */
int kt_test_run_in_process(Suite *s);

/*
 * Adds a test case named name (the function it tests) to s, holding the
 * tests given (a NULL-terminated list of START_TEST names), with a
 * timeout of timeout_s seconds (0: Check's default or
 * CK_DEFAULT_TIMEOUT). Returns the case.
 */
TCase *kt_test_case(Suite *s, const char *name, double timeout_s, ...)
    __attribute__((sentinel));

/* The same, with setup and teardown run before and after each test (a
 * checked fixture: in the test's own process). */
TCase *kt_test_fixture_case(Suite *s, const char *name, double timeout_s,
    void (*setup)(void), void (*teardown)(void), ...) __attribute__((sentinel));

#endif /* KT_TESTS_RUNNER_H */
