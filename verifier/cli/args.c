/*
 * args.c: kt-verify's options, read into struct args, and its usage.
 *
 * Options may come before or after the command; the first word that is
 * not an option is the command, the second its argument. An option that
 * takes a value takes the next word, whatever it looks like.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/b64.h"
#include "cli.h"

#define EXPECT_FILE_MAX (1 << 20)

static const char usage_text[] =
    "usage: kt-verify [--state DIR] [--json] [--timeout SECONDS] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  init --log URL --key VERIFIERKEY --vrf-key VRFKEY [--witness WITNESSKEY\n"
    "       ... --quorum K [--max-age DURATION]]\n"
    "                                     configure the log to check (its VRF\n"
    "                                     key, and the witnesses whose\n"
    "                                     cosignatures it needs)\n"
    "  checkpoint                         fetch, verify and store the newest\n"
    "                                     checkpoint (consistency-checked)\n"
    "  lookup LABEL [--accept]            verified lookup (latest version or\n"
    "                                     absence) with pinning\n"
    "  monitor LABEL --expect-b64 KEY [--expect-b64 KEY...] | --expect FILE\n"
    "                                     owner's check of the label's map\n"
    "                                     path and every new version\n"
    "  audit                              check the log and its map since the\n"
    "                                     last audit (stateless, resumable)\n"
    "  evidence FILE [--key VERIFIERKEY] [--vrf-key VRFKEY]\n"
    "                                     check an evidence or tlog-proof\n"
    "                                     file offline\n"
    "  proof LABEL --out FILE             write a C2SP tlog-proof of a lookup\n"
    "  gossip --peer URL|FILE [--peer ...] compare this view with witnesses'\n"
    "                                     and other monitors' checkpoints\n"
    "  view --out FILE                    publish this client's view (its\n"
    "                                     stored signed checkpoint)\n"
    "\n"
    "--state DIR defaults to $XDG_STATE_HOME/kt-verify (else\n"
    "~/.local/state/kt-verify).\n"
    "\n"
    "exit status: 0 verified; 1 usage, I/O or network error; 2 verification\n"
    "failed (the server or network is broken or lying, or, when the message\n"
    "says so, the key or URL given at init is not this log's); 3 attack\n"
    "detected (evidence file written, path printed); 4 key changed (lookup);\n"
    "5 verified but stale (witnessed longer ago than --max-age); 6 not yet\n"
    "witnessed (lookup: the latest version is newer than the witnessed\n"
    "checkpoint); 7 absent (lookup: the label's absence is verified).\n"
    "A lookup or monitor that sees fewer versions than this client verified\n"
    "before (a DOWNGRADE) exits 2.\n"
    "See docs/verify.md.\n";

void
kt_cli_usage_text(FILE *to)
{
	fputs(usage_text, to);
}

int
kt_cli_usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "kt-verify: %s\n", msg);
	fputs(usage_text, stderr);
	return 1;
}

/* "3600", "3600s", "90m", "24h", "7d" to seconds (1 s .. 10 years). */
static kt_err
parse_duration(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t mul = 1;

	if (*s < '0' || *s > '9')
		return KT_ERR_MALFORMED;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return KT_ERR_MALFORMED;
	if (strcmp(end, "d") == 0)
		mul = 86400;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else if (strcmp(end, "m") == 0)
		mul = 60;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return KT_ERR_MALFORMED;
	if (n == 0 || n > UINT64_C(315360000) / mul)
		return KT_ERR_MALFORMED;
	*out = (uint64_t)n * mul;
	return KT_OK;
}

/* Strict canonical base64 (kt/b64.h), as the monitor state stores keys. */
static kt_err
decode_key(const char *s, size_t slen, struct kt_vkey *k)
{
	size_t cap = slen / 4 * 3, n = 0;

	k->key = malloc(cap > 0 ? cap : 1);
	if (k->key == NULL ||
	    kt_b64_decode(s, slen, k->key, cap, &n) != KT_OK || n == 0) {
		free(k->key);
		k->key = NULL;
		return KT_ERR_MALFORMED;
	}
	k->len = n;
	return KT_OK;
}

/* ---- the options ------------------------------------------------------- */

/* Each sets one option from its value (NULL for a flag); on a bad value it
 * prints the usage and fails. */
typedef kt_err (*opt_fn)(struct args *a, const char *val);

static kt_err
bad(const char *msg)
{
	kt_cli_usage(msg);
	return KT_ERR_MALFORMED;
}

static kt_err
opt_help(struct args *a, const char *val)
{
	(void)val;
	a->help = 1;
	return KT_OK;
}

static kt_err
opt_json(struct args *a, const char *val)
{
	(void)val;
	a->json = 1;
	return KT_OK;
}

static kt_err
opt_accept(struct args *a, const char *val)
{
	(void)val;
	a->accept = 1;
	return KT_OK;
}

static kt_err
opt_state(struct args *a, const char *val)
{
	a->state = val;
	return KT_OK;
}

static kt_err
opt_timeout(struct args *a, const char *val)
{
	a->timeout = strtol(val, NULL, 10);
	if (a->timeout <= 0 || a->timeout > 86400)
		return bad("bad --timeout");
	return KT_OK;
}

static kt_err
opt_witness(struct args *a, const char *val)
{
	if (a->nwit >= KT_VERIFY_WITNESS_MAX)
		return bad("too many --witness");
	a->witnesses[a->nwit++] = val;
	return KT_OK;
}

static kt_err
opt_peer(struct args *a, const char *val)
{
	if (a->npeers >= KT_VERIFY_PEERS_MAX)
		return bad("too many --peer");
	a->peers[a->npeers++] = val;
	return KT_OK;
}

static kt_err
opt_quorum(struct args *a, const char *val)
{
	char *end;

	a->quorum = strtol(val, &end, 10);
	if (*end != '\0' || a->quorum < 1 || a->quorum > KT_VERIFY_WITNESS_MAX)
		return bad("bad --quorum");
	return KT_OK;
}

static kt_err
opt_max_age(struct args *a, const char *val)
{
	if (parse_duration(val, &a->max_age) != KT_OK)
		return bad("bad --max-age (e.g. 3600, 90m, 24h, 7d)");
	return KT_OK;
}

static kt_err
opt_expect_b64(struct args *a, const char *val)
{
	if (a->nkeys >= KT_CLI_EXPECT_MAX ||
	    decode_key(val, strlen(val), &a->keys[a->nkeys]) != KT_OK)
		return bad("--expect-b64 needs a base64 key");
	a->nkeys++;
	return KT_OK;
}

/*
 * The options. An option whose value is only kept (set NULL) stores it in
 * the const char * field at offset `field` of struct args.
 */
#define KEEP(f) NULL, offsetof(struct args, f)
#define CALL(fn) fn, 0
static const struct {
	const char *name;
	int takes_value;
	opt_fn set;
	size_t field;
} options[] = {
	{ "--help", 0, CALL(opt_help) },
	{ "-h", 0, CALL(opt_help) },
	{ "--json", 0, CALL(opt_json) },
	{ "--accept", 0, CALL(opt_accept) },
	{ "--state", 1, CALL(opt_state) },
	{ "--timeout", 1, CALL(opt_timeout) },
	{ "--log", 1, KEEP(log) },
	{ "--key", 1, KEEP(key) },
	{ "--vrf-key", 1, KEEP(vrf_key) },
	{ "--out", 1, KEEP(out) },
	{ "--witness", 1, CALL(opt_witness) },
	{ "--peer", 1, CALL(opt_peer) },
	{ "--quorum", 1, CALL(opt_quorum) },
	{ "--max-age", 1, CALL(opt_max_age) },
	{ "--expect", 1, KEEP(expect_file) },
	{ "--expect-b64", 1, CALL(opt_expect_b64) },
};

/* argv[*i], a word that is not an option: the command, then its
 * argument. */
static kt_err
positional(struct args *a, const char *w)
{
	if (a->cmd == NULL)
		a->cmd = w;
	else if (a->pos == NULL)
		a->pos = w;
	else
		return bad("too many arguments");
	return KT_OK;
}

/* argv[*i] and, for an option with a value, the word after it (*i moves
 * past it). */
static kt_err
word(struct args *a, int argc, char **argv, int *i)
{
	const char *w = argv[*i];

	for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
		if (strcmp(w, options[k].name) != 0)
			continue;
		if (!options[k].takes_value)
			return options[k].set(a, NULL);
		if (*i + 1 >= argc)
			return bad("option needs a value");
		if (options[k].set == NULL) {
			*(const char **)(void *)((char *)a + options[k].field) =
			    argv[++*i];
			return KT_OK;
		}
		return options[k].set(a, argv[++*i]);
	}
	if (w[0] == '-' && w[1] != '\0') {
		fprintf(stderr, "kt-verify: unknown option %s\n", w);
		return bad(NULL);
	}
	return positional(a, w);
}

kt_err
kt_cli_parse(int argc, char **argv, struct args *a)
{
	kt_err e;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++)
		if ((e = word(a, argc, argv, &i)) != KT_OK)
			return e;
	return KT_OK;
}

void
kt_cli_args_free(struct args *a)
{
	for (size_t i = 0; i < a->nkeys; i++)
		free(a->keys[i].key);
	a->nkeys = 0;
}

/* ---- files ------------------------------------------------------------- */

kt_err
kt_cli_read_file(const char *path, size_t cap, char **out, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	size_t n;

	if (fp == NULL)
		return KT_ERR_IO;
	b = malloc(cap + 1);
	if (b == NULL) {
		(void)fclose(fp); /* read-only: nothing to lose */
		return KT_ERR_NOMEM;
	}
	n = fread(b, 1, cap + 1, fp);
	if (ferror(fp) || n > cap) {
		if (!ferror(fp))
			errno = EFBIG;
		(void)fclose(fp); /* read-only: nothing to lose */
		free(b);
		return KT_ERR_IO;
	}
	(void)fclose(fp); /* read-only, data already read */
	b[n] = '\0';
	*out = b;
	*len = n;
	return KT_OK;
}

kt_err
kt_cli_load_expect(struct args *a)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len;

	if (kt_cli_read_file(a->expect_file, EXPECT_FILE_MAX, &buf, &len) !=
	    KT_OK) {
		fprintf(stderr, "kt-verify: %s: %s\n", a->expect_file,
		    strerror(errno));
		return KT_ERR_IO;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l > 0 &&
		    (line[l - 1] == '\r' || line[l - 1] == ' ' ||
		        line[l - 1] == '\t'))
			line[--l] = '\0';
		while (*line == ' ' || *line == '\t')
			line++, l--;
		if (l == 0 || line[0] == '#')
			continue;
		if (a->nkeys >= KT_CLI_EXPECT_MAX ||
		    decode_key(line, l, &a->keys[a->nkeys]) != KT_OK) {
			fprintf(stderr, "kt-verify: %s: bad key line \"%s\"\n",
			    a->expect_file, line);
			free(buf);
			return KT_ERR_MALFORMED;
		}
		a->nkeys++;
	}
	free(buf);
	return KT_OK;
}
