/*
 * kt-logd: the kt log server. Thin: parses the command line, calls into
 * libktlogd, and is the only place that exits.
 *
 *   kt-logd keygen --origin ORIGIN --out KEYFILE
 *   kt-logd token
 *   kt-logd serve --data DIR --key KEYFILE [--listen HOST:PORT]
 *                 [--tokens FILE] [--config FILE] [--threads N]
 *                 [--allow-anonymous-writes] [--witness URL=VKEY ...]
 *                 [--witness-interval D] [--witness-quorum K]
 *                 [--read-only [--writer URL]]
 */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "keyfile.h"
#include "serve.h"
#include "token.h"

#define EXIT_USAGE 2

static const char usage_main[] =
    "usage: kt-logd <command> [options]\n"
    "\n"
    "commands:\n"
    "  keygen   make the log's signing key and VRF key\n"
    "  token    make a bearer token for writes\n"
    "  serve    run the log\n"
    "\n"
    "Run 'kt-logd <command> --help' for a command's options.\n";

static const char usage_keygen[] =
    "usage: kt-logd keygen --origin ORIGIN --out KEYFILE\n"
    "\n"
    "Writes a new Ed25519 signer key for the log ORIGIN (e.g.\n"
    "kt.example.com/log) to KEYFILE and a new VRF key (c2sp.org/vrf-r255,\n"
    "which hides labels) to KEYFILE.vrf, both with mode 0600 (never\n"
    "overwrites). Prints the VRF public key and, as the last line, the\n"
    "verifier key: clients pin both.\n";

static const char usage_token[] =
    "usage: kt-logd token\n"
    "       kt-logd token --check FILE\n"
    "\n"
    "Prints a new random bearer token on line 1 (give it to the writer)\n"
    "and on line 2 the line to add to the tokens file (sha256:<hex>).\n"
    "\n"
    "--check FILE reads a tokens file as a reload (SIGHUP) would: exit 0\n"
    "and the number of tokens if kt-logd would use it, else exit 1 and\n"
    "why (run it before reloading, e.g. as the unit's ExecReload).\n";

static const char usage_serve[] =
    "usage: kt-logd serve --data DIR --key KEYFILE [options]\n"
    "\n"
    "required (here, or as data and key in the config file):\n"
    "  --data DIR        data folder (created if missing)\n"
    "  --key KEYFILE     signer key from 'kt-logd keygen' (mode 0600); its\n"
    "                    VRF key is read from KEYFILE.vrf\n"
    "\n"
    "optional:\n"
    "  --listen H:P      address to listen on (default 127.0.0.1:8080);\n"
    "                    port 0 picks a free port\n"
    "  --tokens FILE     sha256:<hex> lines; writes need one of the tokens\n"
    "                    (without it, and without --allow-anonymous-writes,\n"
    "                    every write is refused with 403)\n"
    "  --config FILE     settings and limits (see kt-logd.conf.example);\n"
    "                    flags given on the command line win\n"
    "  --threads N       HTTP worker threads (default 2)\n"
    "  --allow-anonymous-writes\n"
    "                    accept writes without a token; refused unless\n"
    "                    listening on loopback (for local trials only)\n"
    "  --witness URL=VKEY  submit checkpoints to this tlog-witness\n"
    "                    (repeatable; VKEY is its cosignature verifier key);\n"
    "                    /checkpoint then serves the newest cosigned one\n"
    "  --witness-interval D  how often to submit: 500ms, 1s, 2m (default 1s)\n"
    "  --witness-quorum K  cosignatures a newer checkpoint needs before\n"
    "                    /checkpoint serves it (default 1)\n"
    "  --read-only       a read replica: serve every GET from the data\n"
    "                    folder of the writer (a kt-logd on this host),\n"
    "                    following its commits; writes get 405. Same key\n"
    "                    file; no --witness (docs/deploy.md)\n"
    "  --writer URL      the writer's URL, named in a replica's 405\n"
    "\n"
    "Prints two start-up lines once it listens (the second is the log's\n"
    "identity as kt-verify init takes it). Stops on SIGTERM or SIGINT\n"
    "after committing what is queued.\n";

static int
usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "kt-logd: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return EXIT_USAGE;
}

static int
wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int
cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "out", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *origin = NULL, *path = NULL;
	char vkey[KT_KEY_TEXT_MAX], vrf[KT_VRF_PUBLIC_B64_LEN], err[512];
	int ch;

	if (wants_help(argc, argv)) {
		fputs(usage_keygen, stdout);
		return 0;
	}
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			origin = optarg;
			break;
		case 'f':
			path = optarg;
			break;
		default:
			return usage_error(usage_keygen,
			    "unknown or incomplete "
			    "option '%s'",
			    argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_error(usage_keygen, "unexpected argument '%s'",
		    argv[optind]);
	if (origin == NULL || path == NULL)
		return usage_error(usage_keygen, "%s",
		    "--origin and --out are "
		    "required");
	if (kt_keyfile_generate(origin, path, vkey, vrf, err, sizeof err) !=
	    KT_OK) {
		fprintf(stderr, "kt-logd keygen: %s\n", err);
		return 1;
	}
	printf("wrote the signer key for %s to %s and its VRF key to %s%s "
	       "(keep both secret)\n",
	    origin, path, path, KT_VRF_KEYFILE_SUFFIX);
	printf("VRF public key: %s\n", vrf);
	printf("%s\n", vkey);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmd_token(int argc, char **argv)
{
	char tok[KT_TOKEN_LEN + 1], line[KT_TOKEN_LINE_LEN + 1];

	if (wants_help(argc, argv)) {
		fputs(usage_token, stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "--check") == 0) {
		struct kt_tokens *t = NULL;
		char err[512];

		if (argc != 3)
			return usage_error(usage_token, "%s needs one FILE",
			    "--check");
		if (kt_tokens_load(argv[2], 1, &t, err, sizeof err) != KT_OK) {
			fprintf(stderr, "kt-logd: %s\n", err);
			return 1;
		}
		printf("%s: %zu token(s)%s\n", argv[2], kt_tokens_count(t),
		    kt_tokens_count(t) == 0 ? " (every write would be "
		                              "refused)"
		                            : "");
		kt_tokens_free(t);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (argc != 1)
		return usage_error(usage_token, "unexpected argument '%s'",
		    argv[1]);
	kt_token_new(tok, line);
	printf("%s\n%s\n", tok, line);
	sodium_memzero(tok, sizeof tok);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "listen", required_argument, NULL, 'l' },
		{ "tokens", required_argument, NULL, 't' },
		{ "config", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'n' },
		{ "allow-anonymous-writes", no_argument, NULL, 'a' },
		{ "witness", required_argument, NULL, 'W' },
		{ "witness-interval", required_argument, NULL, 'I' },
		{ "witness-quorum", required_argument, NULL, 'Q' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "writer", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* Flags are applied after the config file, whatever their order. */
	const char *names[12 + KT_WCLIENT_MAX], *values[12 + KT_WCLIENT_MAX];
	size_t nset = 0;
	const char *config = NULL;
	struct kt_config c;
	char err[1024];
	int ch;

	if (wants_help(argc, argv)) {
		fputs(usage_serve, stdout);
		return 0;
	}
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char *name = NULL;
		switch (ch) {
		case 'd':
			name = "data";
			break;
		case 'k':
			name = "key";
			break;
		case 'l':
			name = "listen";
			break;
		case 't':
			name = "tokens";
			break;
		case 'n':
			name = "threads";
			break;
		case 'a':
			name = "allow_anonymous_writes";
			break;
		case 'W':
			name = "witness";
			break;
		case 'I':
			name = "witness_interval";
			break;
		case 'Q':
			name = "witness_quorum";
			break;
		case 'r':
			name = "read_only";
			break;
		case 'w':
			name = "writer_url";
			break;
		case 'c':
			config = optarg;
			continue;
		default:
			return usage_error(usage_serve,
			    "unknown or incomplete "
			    "option '%s'",
			    argv[optind - 1]);
		}
		if (nset == sizeof names / sizeof names[0])
			return usage_error(usage_serve, "%s",
			    "too many options");
		names[nset] = name;
		values[nset] = ch == 'a' || ch == 'r' ? "true" : optarg;
		nset++;
	}
	if (optind != argc)
		return usage_error(usage_serve, "unexpected argument '%s'",
		    argv[optind]);
	kt_config_defaults(&c);
	if (config != NULL &&
	    kt_config_load(&c, config, err, sizeof err) != KT_OK)
		return usage_error(usage_serve, "%s", err);
	for (size_t i = 0; i < nset; i++)
		if (kt_config_set(&c, names[i], values[i], err, sizeof err) !=
		    KT_OK)
			return usage_error(usage_serve, "%s", err);
	if (kt_config_check(&c, err, sizeof err) != KT_OK)
		return usage_error(usage_serve, "%s", err);
	if (kt_serve(&c, stdout, err, sizeof err) != KT_OK) {
		fprintf(stderr, "kt-logd serve: %s\n", err);
		return 1;
	}
	return 0;
}

/*
 * The exit status once stdout and stderr are flushed: status, or 1 if it
 * was 0 and a write to either failed (a full disk, a closed pipe). This is
 * the one check of all the writes to them, which are not checked one by
 * one (.clang-tidy says why): a stream's error indicator is sticky. Each
 * program kt installs has its own copy: kt-logd shares no library with
 * kt-verify and kt-witness that could hold it, and proto/ does no I/O.
 */
static int
finish_output(int status)
{
	int failed = 0;

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kt-logd: writing to standard output failed\n");
		failed = 1;
	}
	if (fflush(stderr) != 0 || ferror(stderr))
		failed = 1;
	return failed && status == 0 ? 1 : status;
}

static int
run(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "kt-logd: libsodium failed to initialise\n");
		return 1;
	}
	if (argc < 2) {
		fputs(usage_main, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	fprintf(stderr, "kt-logd: unknown command '%s'\n%s", argv[1],
	    usage_main);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	return finish_output(run(argc, argv));
}
