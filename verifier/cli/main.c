/*
 * cli/main.c: the kt-verify command line, a thin layer over libktverify:
 * read the options (args.c), find the command (commands.c), check its
 * arguments before touching the state, open the state folder and run it.
 * The only file of kt-verify that exits.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"

/* Opens the state folder for c (unless it is offline) and runs c. */
static int
run_command(const struct command *c, const struct args *a)
{
	struct kt_verify *v = NULL;
	struct kt_vresult r;
	char err[1024];
	int rc;

	if (!(c->flags & KT_CMD_OFFLINE)) {
		int create = (c->flags & KT_CMD_CREATE) != 0;

		if (kt_verify_open(a->state, create, &v, err, sizeof(err)) !=
		    KT_OK) {
			fprintf(stderr, "kt-verify: %s\n", err);
			return 1;
		}
		if (a->timeout > 0)
			kt_verify_set_timeouts(v,
			    a->timeout < 10 ? a->timeout : 10, a->timeout);
	}
	kt_vresult_init(&r);
	rc = c->run(v, a, &r);
	kt_vresult_free(&r);
	kt_verify_close(v);
	return rc;
}

/* Everything after the options were read; the exit status. */
static int
run(struct args *a)
{
	const struct command *c;

	if (a->help) {
		kt_cli_help(a->cmd ? a->cmd : "", stdout);
		return 0;
	}
	if (a->cmd == NULL)
		return kt_cli_usage("no command");
	if (a->expect_file != NULL && kt_cli_load_expect(a) != KT_OK)
		return 1;
	c = kt_cli_command(a->cmd);
	if (!kt_cli_args_fit(c, a)) {
		fprintf(stderr, "kt-verify: bad arguments for %s\n", a->cmd);
		kt_cli_help(a->cmd, stderr);
		return 1;
	}
	if (c == NULL) {
		fprintf(stderr, "kt-verify: unknown command %s\n", a->cmd);
		return kt_cli_usage(NULL);
	}
	if (a->state == NULL) {
		if (kt_verify_default_dir(a->dir, sizeof(a->dir)) != KT_OK)
			return kt_cli_usage("no --state and neither "
			                    "XDG_STATE_HOME nor HOME is set");
		a->state = a->dir;
	}
	return run_command(c, a);
}

/*
 * The exit status once stdout and stderr are flushed: status, or 1 if it
 * was 0 and a write to either failed (a full disk, a closed pipe), so a
 * script reading kt-verify's stdout never takes a cut answer for a whole
 * one. This is the one check of all the writes to them, which are not
 * checked one by one (.clang-tidy says why): a stream's error indicator
 * is sticky. Each program kt installs has its own copy: kt-verify shares
 * no library with kt-logd and kt-witness that could hold it, and proto/
 * does no I/O.
 */
static int
finish_output(int status)
{
	int failed = 0;

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr,
		    "kt-verify: writing to standard output "
		    "failed\n");
		failed = 1;
	}
	if (fflush(stderr) != 0 || ferror(stderr))
		failed = 1;
	return failed && status == 0 ? 1 : status;
}

int
main(int argc, char **argv)
{
	static struct args a;
	int rc = 1;

	if (sodium_init() < 0)
		return finish_output(1);
	if (kt_cli_parse(argc, argv, &a) == KT_OK)
		rc = run(&a);
	kt_cli_args_free(&a);
	return finish_output(rc);
}
