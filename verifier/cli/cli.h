/*
 * cli.h: the parts of the kt-verify command line, between its files:
 * args.c (the options, read into struct args), commands.c (the command
 * table: one function per subcommand), print.c (how an outcome is shown)
 * and main.c (which puts them together and is the only one to exit).
 * args.c and print.c call no other file; commands.c calls both.
 */
#ifndef KT_CLI_H
#define KT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kt/err.h"
#include "kt/verify.h"

#define KT_CLI_EXPECT_MAX 256 /* expected keys for `monitor` */
#define KT_CLI_EVIDENCE_MAX (16 * 1024 * 1024)

/* The command line, as given. Strings borrow argv. */
struct args {
	const char *cmd;   /* the command, or NULL */
	const char *pos;   /* its one positional argument, or NULL */
	const char *state; /* --state, or the default folder (dir) */
	const char *log, *key, *vrf_key, *out, *expect_file;
	struct kt_vkey keys[KT_CLI_EXPECT_MAX]; /* --expect-b64 (owned) */
	size_t nkeys;
	const char *witnesses[KT_VERIFY_WITNESS_MAX];
	size_t nwit;
	const char *peers[KT_VERIFY_PEERS_MAX];
	size_t npeers;
	long quorum;
	uint64_t max_age; /* seconds; 0: not given */
	long timeout;     /* seconds; 0: not given */
	int json, accept, help;
	char dir[KT_VERIFY_PATH_MAX];
};

/* ---- args.c ------------------------------------------------------------ */
/*
 * Reads argv into a (zeroed first). Options may come before or after the
 * command. KT_ERR_MALFORMED after printing why and the usage to stderr.
 */
KT_MUST_CHECK kt_err kt_cli_parse(int argc, char **argv, struct args *a);
/* Releases the keys a owns. */
void kt_cli_args_free(struct args *a);
/* Adds the keys of --expect FILE (one base64 key per line, '#' comments)
 * to a->keys. KT_ERR_IO or KT_ERR_MALFORMED after saying why on stderr. */
KT_MUST_CHECK kt_err kt_cli_load_expect(struct args *a);
/* Reads path whole into a new NUL-terminated buffer; a file over cap
 * bytes is KT_ERR_TOO_LARGE. KT_ERR_IO with errno set. */
KT_MUST_CHECK kt_err kt_cli_read_file(const char *path, size_t cap, char **out,
    size_t *len);
/* Prints "kt-verify: msg" (if msg) and the usage to stderr; returns 1. */
int kt_cli_usage(const char *msg);
/* The general usage text. */
void kt_cli_usage_text(FILE *to);

/* ---- print.c ----------------------------------------------------------- */
/* The exit status of an outcome (docs/verify.md, "Exit statuses"). */
int kt_cli_exit_status(enum kt_verify_outcome o);
/* Shows what command cmd ended with, as one JSON object on stdout when
 * json, else for humans; returns its exit status. */
int kt_cli_report(const char *cmd, int json, const struct kt_vresult *r,
    enum kt_verify_outcome o);

/* ---- commands.c -------------------------------------------------------- */
/*
 * One subcommand: its name, the function that runs it, whether its
 * arguments fit, what it takes and its --help text. run gets the opened
 * state folder (NULL for an offline command) and returns the exit status,
 * having printed what there is to print.
 */
struct command {
	const char *name;
	int (*run)(struct kt_verify *v, const struct args *a,
	    struct kt_vresult *r);
	int (*args_ok)(const struct args *a);
	unsigned flags; /* KT_CMD_* */
	const char *help;
};
#define KT_CMD_CREATE 1u  /* makes the state folder if missing (init) */
#define KT_CMD_OFFLINE 2u /* opens no state folder itself (evidence) */
#define KT_CMD_POLICY 4u  /* takes --witness, --quorum, --max-age */
#define KT_CMD_PEERS 8u   /* takes --peer */

/* The command called name, or NULL. */
const struct command *kt_cli_command(const char *name);
/* Whether a's options and arguments fit command c (NULL: an unknown
 * command, which takes none of the command-specific options). */
int kt_cli_args_fit(const struct command *c, const struct args *a);
/* Prints cmd's help, or the usage when there is no such command. */
void kt_cli_help(const char *cmd, FILE *to);

#endif /* KT_CLI_H */
