/*
 * mirror/main.c: the kt-mirror command line, a thin layer over
 * mirror_store.c (LMDB), mirror_pull.c (following each log) and
 * mirror_http.c (serving them), with the cosigner key of libktcosigner.
 *
 *   kt-mirror keygen --name NAME --out KEYFILE
 *   kt-mirror serve --data DIR --key KEYFILE --listen HOST:PORT
 *       --log URL=VERIFIERKEY [--log URL=VERIFIERKEY ...] [--interval S]
 *       [connection limits]
 *
 * Exit codes: 0 success, 1 runtime failure, 2 usage error.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "cosigner.h"
#include "kt/note.h"
#include "mirror_http.h"
#include "mirror_pull.h"
#include "mirror_store.h"

#define EXIT_USAGE 2
#define MAX_LOGS 64
#define KT_URL_LEN 1024 /* a --log URL, with its NUL */
#define INTERVAL_MAX 86400
#define MAX_CONNECTIONS_MAX 10000
#define TIMEOUT_MAX 86400
/* Seconds one HTTP request to a log may take (a bundle is <= 16 MiB). */
#define FETCH_TIMEOUT 120
/* The largest the data file may grow to (less where the address space is
 * short: start). */
#define MAP_SIZE ((uint64_t)1 << 40)

static const char USAGE[] =
    "usage: kt-mirror keygen --name NAME --out KEYFILE\n"
    "       kt-mirror serve --data DIR --key KEYFILE --listen HOST:PORT\n"
    "                       --log URL=VERIFIERKEY [--map] [--log ...]\n"
    "                       [--interval S] [connection limits: see serve "
    "--help]\n"
    "       kt-mirror COMMAND --help\n";

static const char KEYGEN_USAGE[] =
    "usage: kt-mirror keygen --name NAME --out KEYFILE\n"
    "\n"
    "Makes a new mirror cosignature key (C2SP tlog-cosignature, Ed25519)\n"
    "named NAME, writes the signer key (PRIVATE+KEY+...) to KEYFILE, which\n"
    "must not exist (created with mode 0600), and prints the verifier key\n"
    "(type 0x04) that clients configure, as the last line.\n";

static const char SERVE_USAGE[] =
    "usage: kt-mirror serve --data DIR --key KEYFILE --listen HOST:PORT\n"
    "                       --log URL=VERIFIERKEY [--map] [--log ...]\n"
    "                       [--interval S] [--stage-bundles N]\n"
    "                       [--max-connections N] [--max-connections-per-ip N]\n"
    "                       [--connection-timeout S] [--request-timeout S]\n"
    "\n"
    "Follows each log (any C2SP tlog-tiles log: its checkpoint and entry\n"
    "bundles under URL), checks every entry against the log's signed\n"
    "checkpoint and the tree mirrored before, stores them, and serves each\n"
    "log as tlog-tiles under /<hex SHA-256(origin)>/ with the checkpoint\n"
    "cosigned by the mirror once everything under it is stored.\n"
    "\n"
    "required (--log once per log):\n"
    "  --data DIR               state directory (LMDB), created if missing\n"
    "  --key KEYFILE            signer key from 'kt-mirror keygen'; must "
    "not\n"
    "                           be accessible by group or others\n"
    "  --listen HOST:PORT       port 0 picks a free port (printed on "
    "stdout)\n"
    "  --log URL=VERIFIERKEY    the log's tlog-tiles URL and its Ed25519\n"
    "                           note key (the origin is the key's name)\n"
    "optional:\n"
    "  --map                    after the --log of a kt log: rebuild its\n"
    "                           directory map from the leaves (every map\n"
    "                           head must follow from its batch) and serve\n"
    "                           GET /<hex>/v1/map/<index>\n"
    "  --interval S             seconds between two reads of a log's\n"
    "                           checkpoint once caught up (default 5)\n"
    "  --stage-bundles N        entry bundles written per transaction while\n"
    "                           catching up (default 256, at most 4096):\n"
    "                           more is faster, fewer resumes closer to\n"
    "                           where a killed catch-up stopped\n"
    "  --max-connections N, --max-connections-per-ip N (default 128, 32)\n"
    "  --connection-timeout S, --request-timeout S (default 30, 30)\n"
    "\n"
    "Stops cleanly on SIGINT or SIGTERM.\n";

/* One followed log and its thread. */
struct follower {
	struct kt_mpull *p;
	pthread_t th;
	int started;
};

/* What every follower thread shares. */
static atomic_int stopping;
static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;
static unsigned interval_s = 5;
static unsigned stage_bundles = KT_MPULL_CHUNK;

/* ---- options ------------------------------------------------------------ */

/* The value of option `name` at argv[*i] ("--name V" or "--name=V"),
 * advancing *i; NULL if it is not that option (*missing: no value). */
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

/* A whole number in [lo, hi] into *out; 0, or -1 with a message. */
static int
number_arg(const char *name, const char *val, unsigned lo, unsigned hi,
    unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (val[0] < '0' || val[0] > '9' || *end != '\0' || errno != 0 ||
	    v < lo || v > hi) {
		fprintf(stderr,
		    "kt-mirror: %s %s: expected a whole number from %u to "
		    "%u\n",
		    name, val, lo, hi);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* "HOST:PORT" or "[V6HOST]:PORT" to a socket address. */
static int
parse_listen(const char *s, struct sockaddr_storage *ss)
{
	char host[256];
	const char *colon = strrchr(s, ':'), *h = s;
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
	freeaddrinfo(res);
	return 0;
}

struct serve_opts {
	const char *data, *keypath, *listen_s;
	struct sockaddr_storage ss;
	char urls[MAX_LOGS][KT_URL_LEN]; /* each --log's URL part */
	struct kt_verifier keys[MAX_LOGS];
	int maps[MAX_LOGS]; /* --map after the --log */
	size_t nlogs;
	struct kt_mirror_http_limits limits;
};

/* One --log URL=VERIFIERKEY: split at the first '=' after which a
 * verifier key parses (a key ends in base64 padding, a URL may hold '='). */
static int
add_log(struct serve_opts *o, const char *val)
{
	struct kt_verifier *k = &o->keys[o->nlogs];
	const char *eq;

	if (o->nlogs == MAX_LOGS) {
		fprintf(stderr, "kt-mirror: at most %d --log\n", MAX_LOGS);
		return -1;
	}
	for (eq = strchr(val, '='); eq != NULL; eq = strchr(eq + 1, '='))
		if (eq != val &&
		    kt_verifier_parse(eq + 1, strlen(eq + 1), k) == KT_OK &&
		    k->type == KT_KEY_ED25519)
			break;
	if (eq == NULL) {
		fprintf(stderr,
		    "kt-mirror: --log %s: expected URL=VERIFIERKEY with an "
		    "Ed25519 note verifier key\n",
		    val);
		return -1;
	}
	if ((size_t)(eq - val) >= KT_URL_LEN) {
		fprintf(stderr, "kt-mirror: --log: the URL is too long\n");
		return -1;
	}
	memcpy(o->urls[o->nlogs], val, (size_t)(eq - val));
	o->urls[o->nlogs++][eq - val] = '\0';
	return 0;
}

/* A connection limit or --interval at argv[*i]: 1 taken, 0 not one of
 * them, -1 a bad value (with a message). */
static int
number_opt(int argc, char **argv, int *i, struct serve_opts *o, int *missing)
{
	const struct {
		const char *name;
		unsigned *field;
		unsigned max;
	} opts[] = {
		{ "--interval", &interval_s, INTERVAL_MAX },
		{ "--stage-bundles", &stage_bundles, KT_MPULL_CHUNK_MAX },
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
			return number_arg(opts[k].name, val, 1, opts[k].max,
			           opts[k].field) == 0
			    ? 1
			    : -1;
	}
	return 0;
}

/* serve's arguments into *o: -1 go on, else the exit status. */
static int
serve_args(int argc, char **argv, struct serve_opts *o)
{
	int missing = 0, r;

	o->limits = (struct kt_mirror_http_limits){
		.max_connections = KT_MIRROR_HTTP_MAX_CONNECTIONS,
		.max_per_ip = KT_MIRROR_HTTP_MAX_PER_IP,
		.conn_timeout = KT_MIRROR_HTTP_CONN_TIMEOUT,
		.request_timeout = KT_MIRROR_HTTP_REQUEST_TIMEOUT,
	};
	for (int i = 1; i < argc; i++) {
		const char *val;

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
			if (add_log(o, val) != 0)
				return EXIT_USAGE;
		} else if (strcmp(argv[i], "--map") == 0) {
			if (o->nlogs == 0 || o->maps[o->nlogs - 1]) {
				fprintf(stderr,
				    "kt-mirror: --map: give it once after the "
				    "--log of a kt log\n");
				return EXIT_USAGE;
			}
			o->maps[o->nlogs - 1] = 1;
		} else if ((r = number_opt(argc, argv, &i, o, &missing)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
		} else {
			fprintf(stderr, "kt-mirror serve: %s: %s\n",
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
	if (parse_listen(o->listen_s, &o->ss) != 0) {
		fprintf(stderr,
		    "kt-mirror: --listen %s: expected HOST:PORT with a "
		    "numeric port\n",
		    o->listen_s);
		return EXIT_USAGE;
	}
	return -1;
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
			fprintf(stderr, "kt-mirror keygen: %s: %s\n",
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
		fprintf(stderr, "kt-mirror keygen: %s\n", detail);
		return err == KT_ERR_MALFORMED ? EXIT_USAGE : 1;
	}
	printf("wrote the mirror signer key to %s (keep it secret)\n", outpath);
	printf("mirror verifier key:\n%s\n", vkey);
	return 0;
}

/* ---- following ---------------------------------------------------------- */

/* One log line for a round's outcome. */
static void
report(struct kt_mpull *p, kt_err err, const struct kt_mpull_report *r,
    const char *detail)
{
	const char *o = kt_mpull_origin(p);

	if (err == KT_OK && r->new_size > r->old_size)
		fprintf(stderr,
		    "kt-mirror: %s: mirrored size %llu (from %llu: %llu "
		    "bundles fetched, %llu staged before; %.3f s, %.0f "
		    "entries/s)\n",
		    o, (unsigned long long)r->new_size,
		    (unsigned long long)r->old_size,
		    (unsigned long long)r->bundles_fetched,
		    (unsigned long long)r->bundles_cached, r->seconds,
		    r->seconds > 0
		        ? (double)(r->new_size - r->old_size) / r->seconds
		        : 0.0);
	else if (err == KT_ERR_VERIFY || err == KT_ERR_MALFORMED)
		fprintf(stderr,
		    "kt-mirror: %s: refused the log's checkpoint of size "
		    "%llu (the mirror stays at %llu): %s\n",
		    o, (unsigned long long)r->log_size,
		    (unsigned long long)r->old_size, detail);
	else if (err != KT_OK && err != KT_ERR_BUSY)
		fprintf(stderr, "kt-mirror: %s: round failed: %s: %s\n", o,
		    kt_strerror(err), detail);
}

/* Rounds until stopped: at once again after one that did work, else
 * after the interval. */
static void *
follow(void *arg)
{
	struct follower *f = arg;
	struct kt_mpull_report rep;
	char detail[1024];
	struct timespec ts;

	while (!atomic_load(&stopping)) {
		kt_err err = kt_mpull_round(f->p, (uint64_t)time(NULL),
		    &stopping, &rep, detail, sizeof(detail));

		report(f->p, err, &rep, detail);
		if (err == KT_OK && rep.new_size > rep.old_size)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += interval_s;
		pthread_mutex_lock(&stop_mu);
		while (!atomic_load(&stopping) &&
		    pthread_cond_timedwait(&stop_cv, &stop_mu, &ts) == 0)
			;
		pthread_mutex_unlock(&stop_mu);
	}
	return NULL;
}

static void
stop_followers(struct follower *fs, size_t n)
{
	pthread_mutex_lock(&stop_mu);
	atomic_store(&stopping, 1);
	pthread_cond_broadcast(&stop_cv);
	pthread_mutex_unlock(&stop_mu);
	for (size_t i = 0; i < n; i++) {
		if (fs[i].started)
			pthread_join(fs[i].th, NULL);
		kt_mpull_close(fs[i].p);
	}
}

/* ---- serve -------------------------------------------------------------- */

/* Opens the store, one follower per log, and the server. 0 or -1. */
static int
start(const struct serve_opts *o, const struct kt_signer *signer,
    struct kt_mstore **st, struct follower *fs, uint8_t (*ohs)[KT_HASH_LEN],
    struct kt_mirror_http **http)
{
	char detail[512];

	if (mkdir(o->data, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "kt-mirror: %s: %s\n", o->data,
		    strerror(errno));
		return -1;
	}
	/* 1 TiB of address space asked; a quarter at a time down to 1 GiB
	 * where there is less (e.g. under ThreadSanitizer). */
	for (uint64_t size = MAP_SIZE;; size /= 4) {
		kt_err e =
		    kt_mstore_open(o->data, size, st, detail, sizeof(detail));
		if (e == KT_OK)
			break;
		if (e != KT_ERR_NOMEM || size / 4 < ((uint64_t)1 << 30)) {
			fprintf(stderr, "kt-mirror: %s\n", detail);
			return -1;
		}
	}
	for (size_t i = 0; i < o->nlogs; i++) {
		if (kt_mpull_open(*st, signer, o->urls[i], &o->keys[i],
		        o->maps[i], FETCH_TIMEOUT, &fs[i].p, detail,
		        sizeof(detail)) != KT_OK) {
			fprintf(stderr, "kt-mirror: --log %s: %s\n", o->urls[i],
			    detail);
			return -1;
		}
		kt_mpull_set_stage(fs[i].p, stage_bundles);
		memcpy(ohs[i], kt_mpull_origin_hash(fs[i].p), KT_HASH_LEN);
	}
	if (kt_mirror_http_start(*st, (const uint8_t(*)[KT_HASH_LEN])ohs,
	        o->nlogs, (const struct sockaddr *)&o->ss, &o->limits, http,
	        detail, sizeof(detail)) != KT_OK) {
		fprintf(stderr, "kt-mirror: --listen %s: %s\n", o->listen_s,
		    detail);
		return -1;
	}
	for (size_t i = 0; i < o->nlogs; i++) {
		if (pthread_create(&fs[i].th, NULL, follow, &fs[i]) != 0) {
			fprintf(stderr, "kt-mirror: cannot start a thread\n");
			return -1;
		}
		fs[i].started = 1;
	}
	return 0;
}

/* Prints the key, the logs and the port; whoever started us may be
 * waiting for the port. */
static int
banner(const struct kt_signer *signer, const struct serve_opts *o,
    const struct follower *fs, const uint8_t (*ohs)[KT_HASH_LEN],
    const struct kt_mirror_http *http)
{
	struct kt_verifier self;
	char vkey[KT_KEY_TEXT_MAX], hex[2 * KT_HASH_LEN + 1];

	kt_signer_verifier(signer, &self);
	if (kt_verifier_format(&self, vkey, sizeof(vkey)) != KT_OK)
		vkey[0] = '\0';
	printf("kt-mirror: mirror key %s\n", vkey);
	for (size_t i = 0; i < o->nlogs; i++) {
		sodium_bin2hex(hex, sizeof(hex), ohs[i], KT_HASH_LEN);
		printf("kt-mirror: mirroring %s from %s at /%s/\n",
		    kt_mpull_origin(fs[i].p), o->urls[i], hex);
	}
	printf("kt-mirror: listening on port %u\n",
	    (unsigned)kt_mirror_http_port(http));
	return fflush(stdout) == 0 ? 0 : -1;
}

static int
load_cosigner(const char *path, struct kt_signer **signer)
{
	struct kt_verifier v;
	char detail[512];

	if (kt_cosigner_load(path, signer, detail, sizeof(detail)) != KT_OK) {
		fprintf(stderr, "kt-mirror: %s\n", detail);
		return -1;
	}
	kt_signer_verifier(*signer, &v);
	if (v.type != KT_KEY_COSIG) {
		fprintf(stderr,
		    "kt-mirror: %s: not a cosignature (type 0x04) key\n", path);
		return -1;
	}
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	struct serve_opts *o = calloc(1, sizeof(*o));
	struct follower *fs = calloc(MAX_LOGS, sizeof(*fs));
	uint8_t(*ohs)[KT_HASH_LEN] = calloc(MAX_LOGS, KT_HASH_LEN);
	struct kt_signer *signer = NULL;
	struct kt_mstore *st = NULL;
	struct kt_mirror_http *http = NULL;
	sigset_t sigs;
	int ret = 1, sig = 0;

	if (o == NULL || fs == NULL || ohs == NULL) {
		fprintf(stderr, "kt-mirror: out of memory\n");
		goto out;
	}
	if ((ret = serve_args(argc, argv, o)) != -1)
		goto out;
	ret = 1;
	/* Only sigwait below sees the stop signals; closed sockets are not
	 * fatal. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		goto out;
	if (load_cosigner(o->keypath, &signer) != 0 ||
	    start(o, signer, &st, fs, ohs, &http) != 0 ||
	    banner(signer, o, fs, (const uint8_t(*)[KT_HASH_LEN])ohs, http) !=
	        0)
		goto out;
	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		; /* nothing to reload */
	fprintf(stderr, "kt-mirror: signal %d, stopping\n", sig);
	ret = 0;
out:
	kt_mirror_http_stop(http);
	if (fs != NULL && o != NULL)
		stop_followers(fs, o->nlogs);
	kt_mstore_close(st);
	kt_signer_free(signer);
	free(ohs);
	free(fs);
	free(o);
	return ret;
}

/* The exit status once stdout and stderr are flushed. */
static int
finish_output(int status)
{
	int failed = 0;

	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr,
		    "kt-mirror: writing to standard output failed\n");
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
		fprintf(stderr, "kt-mirror: libsodium failed to initialise\n");
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
	fprintf(stderr, "kt-mirror: unknown command %s\n", argv[1]);
	fputs(USAGE, stderr);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	return finish_output(run(argc, argv));
}
