/* runner.c: see runner.h. */
#include "harness/runner.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "harness/tmpdir.h"

static int
run(Suite *s, int in_process)
{
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if (tmpdir_run_begin() != 0)
		fprintf(stderr, "kt_test_run: no run folder; using $TMPDIR\n");
	sr = srunner_create(s);
	if (in_process)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	tmpdir_run_end();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
kt_test_run(Suite *s)
{
	return run(s, 0);
}

int
kt_test_run_in_process(Suite *s)
{
	return run(s, 1);
}

static TCase *
add_case(Suite *s, const char *name, double timeout_s, va_list ap)
{
	TCase *tc = tcase_create(name);
	const TTest *t;

	if (timeout_s > 0)
		tcase_set_timeout(tc, timeout_s);
	while ((t = va_arg(ap, const TTest *)) != NULL)
		tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
	return tc;
}

TCase *
kt_test_case(Suite *s, const char *name, double timeout_s, ...)
{
	TCase *tc;
	va_list ap;

	va_start(ap, timeout_s);
	tc = add_case(s, name, timeout_s, ap);
	va_end(ap);
	return tc;
}

TCase *
kt_test_fixture_case(Suite *s, const char *name, double timeout_s,
    void (*setup)(void), void (*teardown)(void), ...)
{
	TCase *tc;
	va_list ap;

	va_start(ap, teardown);
	tc = add_case(s, name, timeout_s, ap);
	va_end(ap);
	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}
