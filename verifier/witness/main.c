/*
 * witness/main.c: the kt-witness command line, a thin layer over
 * witness.c (state and checks) and witness_http.c (the server).
 *
 *   kt-witness keygen --name NAME --out KEYFILE
 *   kt-witness serve --data DIR --key KEYFILE --listen HOST:PORT
 *       --log VERIFIERKEY [--log VERIFIERKEY ...] [connection limits]
 *
 * Exit codes: 0 success, 1 runtime failure (output that could not be
 * written counts), 2 usage error.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cosigner.h"
#include "kt/note.h"
#include "witness.h"
#include "witness_audit.h"
#include "witness_http.h"

#define EXIT_USAGE 2
#define MAX_LOG_KEYS 256

/* Seconds an auditing witness gives one request to the log. */
#define AUDIT_TIMEOUT 60

/* The bounds of serve's connection options: one thread per connection,
 * and a timeout of at most a day. */
#define MAX_CONNECTIONS_MAX 10000
#define TIMEOUT_MAX 86400

static const char USAGE[] =
    "usage: kt-witness keygen --name NAME --out KEYFILE\n"
    "       kt-witness serve --data DIR --key KEYFILE --listen HOST:PORT\n"
    "                        --log VERIFIERKEY [--log-url URL]\n"
    "                        [--log VERIFIERKEY [--log-url URL] ...]\n"
    "                        [--audit] [connection limits: see serve "
    "--help]\n"
    "       kt-witness COMMAND --help\n";

static const char KEYGEN_USAGE[] =
    "usage: kt-witness keygen --name NAME --out KEYFILE\n"
    "\n"
    "Makes a new witness cosignature key (C2SP tlog-cosignature, Ed25519)\n"
    "named NAME, writes the signer key (PRIVATE+KEY+...) to KEYFILE, which\n"
    "must not exist (created with mode 0600), and prints the verifier key\n"
    "(type 0x04) that clients and logs configure, as the last line.\n";

static const char SERVE_USAGE[] =
    "usage: kt-witness serve --data DIR --key KEYFILE --listen HOST:PORT\n"
    "                        --log VERIFIERKEY [--log-url URL]\n"
    "                        [--log VERIFIERKEY [--log-url URL] ...]\n"
    "                        [--audit] [--max-connections N]\n"
    "                        [--max-connections-per-ip N]\n"
    "                        [--connection-timeout S] [--request-timeout S]\n"
    "\n"
    "Serves C2SP tlog-witness: POST /add-checkpoint, and\n"
    "GET /<hex SHA-256(origin)>/checkpoint for the latest cosigned\n"
    "checkpoint of a log.\n"
    "\n"
    "required, all four (--log once per log this witness cosigns for):\n"
    "  --data DIR          state directory (LMDB), created if missing\n"
    "  --key KEYFILE       witness signer key from 'kt-witness keygen';\n"
    "                      must not be accessible by group or others\n"
    "  --listen HOST:PORT  e.g. 127.0.0.1:7380, [::1]:7380; port 0 picks\n"
    "                      a free port (printed on stdout)\n"
    "  --log VERIFIERKEY   a trusted log key (Ed25519 note verifier key);\n"
    "                      the log's origin is the key's name\n"
    "\n"
    "Auditing (optional):\n"
    "  --log-url URL       the kt-logd URL of the --log before it\n"
    "  --audit             audit every log given a --log-url: cosign a\n"
    "                      checkpoint only after checking every map head\n"
    "                      since the last one cosigned (422 and an\n"
    "                      evidence file in DIR/audit/ when one does not\n"
    "                      follow; 503 when the log cannot be audited)\n"
    "\n"
    "Connection limits (optional):\n"
    "  --max-connections N         open at once, one thread each (default\n"
    "                              128, at most 10000); above 7/8 of it the\n"
    "                              ones waiting longest for a whole request\n"
    "                              are closed to make room\n"
    "  --max-connections-per-ip N  open at once from one address (default\n"
    "                              32); behind a proxy, set it to\n"
    "                              --max-connections\n"
    "  --connection-timeout S      seconds idle before a connection is\n"
    "                              closed (default 30, at most 86400)\n"
    "  --request-timeout S         seconds to read a whole request, or to\n"
    "                              send an answer, however busy the client\n"
    "                              keeps the connection (default 30, at\n"
    "                              most 86400)\n"
    "\n"
    "Stops cleanly on SIGINT or SIGTERM.\n";

/* The numbers in the text above. */
_Static_assert(KT_WITNESS_HTTP_MAX_CONNECTIONS == 128 &&
        MAX_CONNECTIONS_MAX == 10000 && KT_WITNESS_HTTP_MAX_PER_IP == 32 &&
        KT_WITNESS_HTTP_CONN_TIMEOUT == 30 &&
        KT_WITNESS_HTTP_REQUEST_TIMEOUT == 30 && TIMEOUT_MAX == 86400,
    "serve --help states the defaults and bounds");

/* Returns the value of option `name` at argv[*i] ("--name V" or
 * "--name=V"), advancing *i; NULL if argv[*i] is not that option. Sets
 * *missing when the option has no value. */
static const char *
opt(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	(*i)++;
	return argv[*i];
}

static int
is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* ---- keygen ------------------------------------------------------------- */

static int
cmd_keygen(int argc, char **argv)
{
	const char *name = NULL, *outpath = NULL;
	char vkey[KT_KEY_TEXT_MAX], detail[512];
	int missing = 0;
	kt_err err;

	for (int i = 1; i < argc; i++) {
		const char *val;

		if (is_help(argv[i])) {
			fputs(KEYGEN_USAGE, stdout);
			return 0;
		}
		if ((val = opt(argc, argv, &i, "--name", &missing)) != NULL)
			name = val;
		else if ((val = opt(argc, argv, &i, "--out", &missing)) != NULL)
			outpath = val;
		else {
			fprintf(stderr, "kt-witness keygen: %s: %s\n",
			    missing ? "missing value for" : "unknown argument",
			    argv[i]);
			fputs(KEYGEN_USAGE, stderr);
			return EXIT_USAGE;
		}
	}
	if (name == NULL || outpath == NULL) {
		fputs(KEYGEN_USAGE, stderr);
		return EXIT_USAGE;
	}
	err = kt_cosigner_keygen(name, outpath, vkey, detail, sizeof(detail));
	if (err != KT_OK) {
		fprintf(stderr, "kt-witness keygen: %s\n", detail);
		return err == KT_ERR_MALFORMED ? EXIT_USAGE : 1;
	}
	printf("wrote the witness signer key to %s (keep it secret)\n",
	    outpath);
	printf("witness verifier key:\n%s\n", vkey);
	return 0;
}

/* ---- serve -------------------------------------------------------------- */

/* Reads the signer key, refusing a file others could read or write. */
static int
load_key(const char *path, struct kt_signer **out)
{
	char detail[512];

	if (kt_cosigner_load(path, out, detail, sizeof(detail)) != KT_OK) {
		fprintf(stderr, "kt-witness: %s\n", detail);
		return -1;
	}
	return 0;
}

/* "HOST:PORT" or "[V6HOST]:PORT" to a socket address. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;
	struct addrinfo hints, *res = NULL;
	int rc;

	if (colon == NULL || colon[1] == '\0')
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc != 0 || res == NULL || res->ai_addrlen > sizeof(*ss)) {
		if (res != NULL)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* The options of `kt-witness serve`. */
struct serve_opts {
	const char *data;
	const char *keypath;
	const char *listen_s;
	struct sockaddr_storage ss; /* listen_s, resolved */
	socklen_t sslen;
	struct kt_verifier *logs; /* MAX_LOG_KEYS entries, calloc'd */
	const char **urls;        /* --log-url of each, or NULL; calloc'd */
	size_t nlogs;
	int audit;
	struct kt_witness_http_limits limits;
};

/* serve_args: the arguments are fine, go on serving. */
#define SERVE_GO_ON (-1)

/* Adds one --log key to o. SERVE_GO_ON, or EXIT_USAGE with a message. */
static int
add_log_key(struct serve_opts *o, const char *val)
{
	if (o->nlogs == MAX_LOG_KEYS) {
		fprintf(stderr, "kt-witness: at most %d --log keys\n",
		    MAX_LOG_KEYS);
		return EXIT_USAGE;
	}
	if (kt_verifier_parse(val, strlen(val), &o->logs[o->nlogs]) != KT_OK ||
	    o->logs[o->nlogs].type != KT_KEY_ED25519) {
		fprintf(stderr,
		    "kt-witness: --log %s: not an Ed25519 note "
		    "verifier key (name+hexid+base64)\n",
		    val);
		return EXIT_USAGE;
	}
	o->nlogs++;
	return SERVE_GO_ON;
}

/* A number of option name within [lo, hi] into *out. SERVE_GO_ON, or
 * EXIT_USAGE with a message. */
static int
limit_arg(const char *name, const char *val, unsigned lo, unsigned hi,
    unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (val[0] < '0' || val[0] > '9' || *end != '\0' || errno != 0 ||
	    v < lo || v > hi) {
		fprintf(stderr,
		    "kt-witness: %s %s: expected a whole number from %u "
		    "to %u\n",
		    name, val, lo, hi);
		return EXIT_USAGE;
	}
	*out = (unsigned)v;
	return SERVE_GO_ON;
}

/* One of the connection limits at argv[*i], into o->limits: SERVE_GO_ON,
 * EXIT_USAGE with a message, or 0 if argv[*i] is none of them (*missing
 * set if it is one without its value). */
static int
limits_arg(int argc, char **argv, int *i, struct serve_opts *o, int *missing)
{
	const struct {
		const char *name;
		unsigned *field;
		unsigned max;
	} opts[] = {
		{ "--max-connections", &o->limits.max_connections,
		    MAX_CONNECTIONS_MAX },
		{ "--max-connections-per-ip", &o->limits.max_per_ip,
		    MAX_CONNECTIONS_MAX },
		{ "--connection-timeout", &o->limits.conn_timeout,
		    TIMEOUT_MAX },
		{ "--request-timeout", &o->limits.request_timeout,
		    TIMEOUT_MAX },
	};

	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]) && !*missing;
	     k++) {
		const char *val = opt(argc, argv, i, opts[k].name, missing);

		if (val != NULL)
			return limit_arg(opts[k].name, val, 1, opts[k].max,
			    opts[k].field);
	}
	return 0;
}

/*
 * Parses serve's arguments into *o (which the caller zeroes, and whose
 * o->logs it frees). SERVE_GO_ON when all are present and valid; else the
 * exit status: 0 after --help, EXIT_USAGE, or 1 (out of memory).
 */
static int
serve_args(int argc, char **argv, struct serve_opts *o)
{
	int missing = 0;

	o->logs = calloc(MAX_LOG_KEYS, sizeof(*o->logs));
	o->urls = calloc(MAX_LOG_KEYS, sizeof(*o->urls));
	if (o->logs == NULL || o->urls == NULL) {
		fprintf(stderr, "kt-witness: out of memory\n");
		return 1;
	}
	o->limits = (struct kt_witness_http_limits){
		.max_connections = KT_WITNESS_HTTP_MAX_CONNECTIONS,
		.max_per_ip = KT_WITNESS_HTTP_MAX_PER_IP,
		.conn_timeout = KT_WITNESS_HTTP_CONN_TIMEOUT,
		.request_timeout = KT_WITNESS_HTTP_REQUEST_TIMEOUT,
	};
	for (int i = 1; i < argc; i++) {
		const char *val;
		int ret;

		if (is_help(argv[i])) {
			fputs(SERVE_USAGE, stdout);
			return 0;
		}
		if ((val = opt(argc, argv, &i, "--data", &missing)) != NULL)
			o->data = val;
		else if ((val = opt(argc, argv, &i, "--key", &missing)) != NULL)
			o->keypath = val;
		else if ((val = opt(argc, argv, &i, "--listen", &missing)) !=
		    NULL)
			o->listen_s = val;
		else if ((val = opt(argc, argv, &i, "--log", &missing)) !=
		    NULL) {
			ret = add_log_key(o, val);
			if (ret != SERVE_GO_ON)
				return ret;
		} else if ((val = opt(argc, argv, &i, "--log-url", &missing)) !=
		    NULL) {
			if (o->nlogs == 0 || o->urls[o->nlogs - 1] != NULL) {
				fprintf(stderr,
				    "kt-witness: --log-url %s: give it once "
				    "after the --log it is the URL of\n",
				    val);
				return EXIT_USAGE;
			}
			o->urls[o->nlogs - 1] = val;
		} else if (strcmp(argv[i], "--audit") == 0) {
			o->audit = 1;
		} else if ((ret = limits_arg(argc, argv, &i, o, &missing)) !=
		    0) {
			if (ret != SERVE_GO_ON)
				return ret;
		} else {
			fprintf(stderr, "kt-witness serve: %s: %s\n",
			    missing ? "missing value for" : "unknown argument",
			    argv[i]);
			fputs(SERVE_USAGE, stderr);
			return EXIT_USAGE;
		}
	}
	if (o->data == NULL || o->keypath == NULL || o->listen_s == NULL ||
	    o->nlogs == 0) {
		fputs(SERVE_USAGE, stderr);
		return EXIT_USAGE;
	}
	if (parse_listen(o->listen_s, &o->ss, &o->sslen) != 0) {
		fprintf(stderr,
		    "kt-witness: --listen %s: expected HOST:PORT "
		    "with a numeric port\n",
		    o->listen_s);
		return EXIT_USAGE;
	}
	return SERVE_GO_ON;
}

/* The state directory, created (0700) if missing. 0, or -1 with a message. */
static int
make_data_dir(const char *data)
{
	if (mkdir(data, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "kt-witness: %s: %s\n", data, strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens the witness state in o->data. 0, or -1 with a message. */
static int
open_state(const struct serve_opts *o, const struct kt_signer *signer,
    struct kt_witness **w)
{
	char detail[256];
	kt_err err;

	err = kt_witness_open(o->data, signer, o->logs, o->nlogs, w, detail,
	    sizeof(detail));
	if (err != KT_OK) {
		fprintf(stderr, "kt-witness: %s\n", detail);
		return -1;
	}
	return 0;
}

/*
 * Blocks the stop signals (and SIGHUP) before any thread starts, so only
 * wait_for_stop's sigwait sees them; ignores SIGPIPE from closed sockets.
 */
static int
block_stop_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, sigs, NULL) != 0) {
		fprintf(stderr, "kt-witness: pthread_sigmask failed\n");
		return -1;
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		fprintf(stderr, "kt-witness: ignoring SIGPIPE failed\n");
		return -1;
	}
	return 0;
}

/*
 * Starts the HTTP server and prints the witness key, the number of log
 * keys and the port on stdout. 0, or -1 with a message.
 */
static int
start_server(struct kt_witness *w, const struct serve_opts *o,
    struct kt_witness_http **http)
{
	struct kt_verifier self;
	char vkey[KT_KEY_TEXT_MAX], detail[256];
	kt_err err;

	err = kt_witness_http_start(w, (const struct sockaddr *)&o->ss,
	    o->sslen, &o->limits, stderr, http, detail, sizeof(detail));
	if (err != KT_OK) {
		fprintf(stderr, "kt-witness: --listen %s: %s\n", o->listen_s,
		    detail);
		return -1;
	}
	kt_witness_verifier(w, &self);
	if (kt_verifier_format(&self, vkey, sizeof(vkey)) != KT_OK)
		vkey[0] = '\0';
	printf("kt-witness: witness key %s\n", vkey);
	printf("kt-witness: witnessing %zu log key(s)\n", o->nlogs);
	printf("kt-witness: listening on port %u\n",
	    (unsigned)kt_witness_http_port(*http));
	/* Whoever started us may be waiting for the port: say it now. */
	if (fflush(stdout) != 0) {
		fprintf(stderr, "kt-witness: writing to standard output: %s\n",
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Serves until SIGINT or SIGTERM; SIGHUP has nothing to reload. */
static void
wait_for_stop(const sigset_t *sigs)
{
	int sig = 0;

	while (sigwait(sigs, &sig) == 0 && sig == SIGHUP)
		; /* keep serving */
	fprintf(stderr, "kt-witness: signal %d, stopping\n", sig);
}

/* With --audit: the auditor of the logs given a URL, hooked into w.
 * 0, or -1 with a message. */
static int
start_auditor(const struct serve_opts *o, struct kt_witness *w,
    struct kt_witness_auditor **a)
{
	struct kt_witness_audit_ops ops;
	char detail[512];
	size_t n = 0;

	if (!o->audit)
		return 0;
	if (kt_witness_auditor_open(o->data, o->logs, o->urls, o->nlogs,
	        AUDIT_TIMEOUT, a, detail, sizeof(detail)) != KT_OK) {
		fprintf(stderr, "kt-witness: --audit: %s\n", detail);
		return -1;
	}
	kt_witness_auditor_ops(*a, &ops);
	kt_witness_set_auditor(w, &ops);
	for (size_t i = 0; i < o->nlogs; i++)
		n += o->urls[i] != NULL;
	printf("kt-witness: auditing the log(s) of %zu key(s) with a "
	       "--log-url\n",
	    n);
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	struct serve_opts o;
	struct kt_signer *signer = NULL;
	struct kt_witness *w = NULL;
	struct kt_witness_http *http = NULL;
	struct kt_witness_auditor *aud = NULL;
	sigset_t sigs;
	int ret;

	memset(&o, 0, sizeof(o));
	ret = serve_args(argc, argv, &o);
	if (ret != SERVE_GO_ON)
		goto out;
	ret = 1;
	if (make_data_dir(o.data) != 0 || load_key(o.keypath, &signer) != 0 ||
	    open_state(&o, signer, &w) != 0 ||
	    start_auditor(&o, w, &aud) != 0 || block_stop_signals(&sigs) != 0 ||
	    start_server(w, &o, &http) != 0)
		goto out;
	wait_for_stop(&sigs);
	ret = 0;
out:
	kt_witness_http_stop(http);
	kt_witness_close(w);
	kt_witness_auditor_close(aud);
	kt_signer_free(signer);
	free(o.logs);
	free(o.urls);
	return ret;
}

/*
 * The exit status once stdout and stderr are flushed: status, or 1 if it
 * was 0 and a write to either failed (a full disk, a closed pipe). This is
 * the one check of all the writes to them, which are not checked one by
 * one (.clang-tidy says why): a stream's error indicator is sticky.
 */
static int
finish_output(int status)
{
	int failed = 0;

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr,
		    "kt-witness: writing to standard output "
		    "failed\n");
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
		fprintf(stderr, "kt-witness: libsodium failed to initialise\n");
		return 1;
	}
	if (argc < 2) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		fputs(USAGE, stdout);
		return 0;
	}
	if (strcmp(argv[1], "keygen") == 0)
		return cmd_keygen(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	fprintf(stderr, "kt-witness: unknown command %s\n", argv[1]);
	fputs(USAGE, stderr);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	return finish_output(run(argc, argv));
}
