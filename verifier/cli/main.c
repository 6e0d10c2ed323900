/*
 * cli/main.c: the kt-verify command line, a thin layer over
 * libktverify. The only file of kt-verify that exits.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt/b64.h"
#include "kt/verify.h"

#define EVIDENCE_FILE_MAX (16 * 1024 * 1024)
#define MAX_EXPECT 256

static const char usage_text[] =
"usage: kt-verify [--state DIR] [--json] [--timeout SECONDS] COMMAND ...\n"
"\n"
"commands:\n"
"  init --log URL --key VERIFIERKEY [--witness WITNESSKEY ... --quorum K\n"
"       [--max-age DURATION]]        configure the log to check (and the\n"
"                                     witnesses whose cosignatures it needs)\n"
"  checkpoint                         fetch, verify and store the newest\n"
"                                     checkpoint (consistency-checked)\n"
"  lookup LABEL [--accept]            verified key lookup with pinning\n"
"  monitor LABEL --expect-b64 KEY [--expect-b64 KEY...] | --expect FILE\n"
"                                     owner's check of every new entry\n"
"  audit                              full replay of the log from 0\n"
"  evidence FILE [--key VERIFIERKEY]  check an evidence or tlog-proof\n"
"                                     file offline\n"
"  proof LABEL --out FILE             write a C2SP tlog-proof\n"
"  gossip --peer URL|FILE [--peer ...] compare this view with witnesses'\n"
"                                     and other monitors' checkpoints\n"
"  view --out FILE                    publish this client's view (its\n"
"                                     stored signed checkpoint)\n"
"\n"
"--state DIR defaults to $XDG_STATE_HOME/kt-verify (else\n"
"~/.local/state/kt-verify).\n"
"\n"
"exit status: 0 verified; 1 usage, I/O or network error; 2 verification\n"
"failed (the server or network is broken or lying); 3 attack detected\n"
"(evidence file written, path printed); 4 key changed (lookup); 5 verified\n"
"but stale (witnessed longer ago than --max-age); 6 not yet witnessed\n"
"(lookup: the latest entry is newer than the witnessed checkpoint).\n"
"See docs/verify.md.\n";

static const char *cmd_help[][2] = {
	{ "init", "kt-verify init --log URL --key VERIFIERKEY [--witness KEY "
	  "[--witness KEY...]\n    --quorum K [--max-age DURATION]]\n"
	  "Stores the log URL and its signed-note verifier key (the log's\n"
	  "origin is the key name) in the state folder. Offline. With\n"
	  "--witness (cosignature verifier keys from kt-witness keygen) and\n"
	  "--quorum K, checkpoints are accepted only when cosigned by at least\n"
	  "K of them; a checkpoint witnessed longer ago than --max-age\n"
	  "(default 24h; s, m, h, d suffixes) makes commands exit 5 (stale).\n"
	  "Re-running init for the same log and key replaces the policy.\n" },
	{ "gossip", "kt-verify gossip --peer URL|FILE [--peer ...]\n"
	  "Fetches checkpoints from peers: a witness (http://host:port, or its\n"
	  "full GET /<hex sha256(origin)>/checkpoint URL) or another\n"
	  "monitor's published view (a file, file:// URL, or http URL with a\n"
	  "path). Each must be signed by the log. Views of one size with\n"
	  "different roots, or that the log cannot prove consistent, are a\n"
	  "fork (exit 3, evidence written). A larger consistent view advances\n"
	  "the stored one (if it meets the witness quorum).\n" },
	{ "view", "kt-verify view --out FILE\n"
	  "Writes the stored signed checkpoint (with its cosignatures) to FILE\n"
	  "for other monitors' gossip.\n" },
	{ "checkpoint", "kt-verify checkpoint\n"
	  "Fetches /checkpoint, verifies the log's signature and origin and a\n"
	  "consistency proof from the stored checkpoint, then stores it. A\n"
	  "smaller tree, the same size with another root or a failing\n"
	  "consistency proof is an attack (exit 3, evidence written).\n" },
	{ "lookup", "kt-verify lookup LABEL [--accept]\n"
	  "Fetches LABEL's latest entry and verifies entry, label, inclusion\n"
	  "proof, checkpoint signature and consistency. Pins the key on first\n"
	  "use; a different key than pinned shows the verified history and\n"
	  "exits 4; --accept pins the new key (exit 0).\n" },
	{ "monitor", "kt-verify monitor LABEL --expect-b64 KEY [...] | "
	  "--expect FILE\n"
	  "Reads every entry since the cursor, checks they hash to the signed\n"
	  "root and reports every version of LABEL whose key is not expected\n"
	  "(exit 3, evidence written). FILE: one base64 key per line, '#'\n"
	  "comments. Expected keys are remembered for later runs.\n" },
	{ "audit", "kt-verify audit\n"
	  "Replays every entry from 0: tree equals the signed root, version\n"
	  "chains 1,2,3... with previous links, nothing but a new key after a\n"
	  "revocation, non-decreasing timestamps.\n" },
	{ "evidence", "kt-verify evidence FILE [--key VERIFIERKEY]\n"
	  "Verifies an evidence file (or a C2SP tlog-proof) offline with only\n"
	  "the log's key: exit 0 when it proves its claim, 2 when it is\n"
	  "forged, malformed or proves nothing.\n" },
	{ "proof", "kt-verify proof LABEL --out FILE\n"
	  "Verifies LABEL's latest entry and writes a C2SP tlog-proof with the\n"
	  "entry bytes in its extra line.\n" },
};

/* "3600", "3600s", "90m", "24h", "7d" to seconds (1 s .. 10 years). */
static int
parse_duration(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long n;
	uint64_t mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "d") == 0)
		mul = 86400;
	else if (strcmp(end, "h") == 0)
		mul = 3600;
	else if (strcmp(end, "m") == 0)
		mul = 60;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	if (n == 0 || n > UINT64_C(315360000) / mul)
		return -1;
	*out = (uint64_t)n * mul;
	return 0;
}

static int
usage(const char *msg)
{
	if (msg != NULL)
		fprintf(stderr, "kt-verify: %s\n", msg);
	fputs(usage_text, stderr);
	return 1;
}

static int
cmd_usage(const char *cmd, FILE *to)
{
	for (size_t i = 0; i < sizeof(cmd_help) / sizeof(cmd_help[0]); i++)
		if (strcmp(cmd_help[i][0], cmd) == 0) {
			fputs(cmd_help[i][1], to);
			return 0;
		}
	fputs(usage_text, to);
	return 0;
}

/* The exit status of each outcome (docs/verify.md, "Exit statuses"). No
 * default: a new outcome must be given its status here. */
static int
exit_status(enum kt_verify_outcome o)
{
	switch (o) {
	case KT_VERIFY_OK:
		return 0;
	case KT_VERIFY_ERROR:
		return 1;
	case KT_VERIFY_FAILED:
		return 2;
	case KT_VERIFY_ATTACK:
		return 3;
	case KT_VERIFY_KEY_CHANGED:
		return 4;
	case KT_VERIFY_STALE:
		return 5;
	case KT_VERIFY_UNWITNESSED:
		return 6;
	}
	return 1;
}

/* Whether an outcome is news (stdout) rather than trouble (stderr). */
static int
to_stdout(enum kt_verify_outcome o)
{
	switch (o) {
	case KT_VERIFY_OK:
	case KT_VERIFY_KEY_CHANGED:
	case KT_VERIFY_STALE:
	case KT_VERIFY_UNWITNESSED:
		return 1;
	case KT_VERIFY_ERROR:
	case KT_VERIFY_FAILED:
	case KT_VERIFY_ATTACK:
		return 0;
	}
	return 0;
}

static void
print_human(const char *cmd, const struct kt_vresult *r)
{
	FILE *to = to_stdout(r->outcome) ? stdout : stderr;
	json_t *a;
	size_t i;
	json_t *x;

	fprintf(to, "%s\n", r->msg);
	a = json_object_get(r->info, "changes");
	if (strcmp(cmd, "lookup") == 0 && json_is_array(a)) {
		fprintf(to, "verified changes since the pinned key:\n");
		json_array_foreach(a, i, x) {
			fprintf(to, "  version %lld  index %lld  %s  %s %s\n",
			    (long long)json_integer_value(json_object_get(x,
			    "version")),
			    (long long)json_integer_value(json_object_get(x,
			    "index")),
			    json_string_value(json_object_get(x, "timestamp")),
			    json_string_value(json_object_get(x, "type")),
			    json_object_get(x, "fingerprint") ?
			    json_string_value(json_object_get(x, "fingerprint"))
			    : "");
		}
	}
	a = json_object_get(r->info, "versions");
	if (strcmp(cmd, "monitor") == 0 && json_is_array(a)) {
		json_array_foreach(a, i, x) {
			int ok = json_is_true(json_object_get(x, "expected"));
			fprintf(to, "  version %lld  index %lld  %s  %s\n",
			    (long long)json_integer_value(json_object_get(x,
			    "version")),
			    (long long)json_integer_value(json_object_get(x,
			    "index")),
			    json_string_value(json_object_get(x, "fingerprint")),
			    ok ? "expected" : "NOT EXPECTED");
		}
	}
	a = json_object_get(r->info, "peers");
	if (strcmp(cmd, "gossip") == 0 && json_is_array(a)) {
		json_array_foreach(a, i, x) {
			json_t *c = json_object_get(x, "cosignatures");
			if (json_object_get(x, "size") != NULL && json_is_integer(c))
				fprintf(to, "  %s: tree size %lld, %lld valid "
				    "cosignature(s)\n", json_string_value(
				    json_object_get(x, "peer")), (long long)
				    json_integer_value(json_object_get(x,
				    "size")), (long long)json_integer_value(c));
			else if (json_object_get(x, "size") != NULL)
				fprintf(to, "  %s: tree size %lld\n",
				    json_string_value(json_object_get(x,
				    "peer")), (long long)json_integer_value(
				    json_object_get(x, "size")));
			else
				fprintf(to, "  %s: %s: %s\n",
				    json_string_value(json_object_get(x,
				    "peer")), json_string_value(
				    json_object_get(x, "status")),
				    json_string_value(json_object_get(x,
				    "message")));
		}
	}
	a = json_object_get(r->info, "evidence_files");
	if (json_is_array(a) && json_array_size(a) > 0) {
		json_array_foreach(a, i, x)
			fprintf(to, "evidence: %s\n", json_string_value(x));
	} else if (r->evidence[0] != '\0') {
		fprintf(to, "evidence: %s\n", r->evidence);
	}
}

static void
print_json(const struct kt_vresult *r)
{
	json_t *o = json_deep_copy(r->info);
	char *s;

	if (o == NULL)
		o = json_object();
	json_object_set_new(o, "status", json_integer(exit_status(
	    r->outcome)));
	json_object_set_new(o, "message", json_string(r->msg));
	if (r->evidence[0] != '\0')
		json_object_set_new(o, "evidence", json_string(r->evidence));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (s != NULL)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int
read_file(const char *path, size_t cap, char **out, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	size_t n;

	if (fp == NULL)
		return -1;
	b = malloc(cap + 1);
	if (b == NULL) {
		fclose(fp);
		return -1;
	}
	n = fread(b, 1, cap + 1, fp);
	if (ferror(fp) || n > cap) {
		if (!ferror(fp))
			errno = EFBIG;
		fclose(fp);
		free(b);
		return -1;
	}
	fclose(fp);
	b[n] = '\0';
	*out = b;
	*len = n;
	return 0;
}

/* Strict canonical base64 (kt/b64.h), as the monitor state stores keys. */
static int
decode_key(const char *s, size_t slen, struct kt_vkey *k)
{
	size_t cap = slen / 4 * 3, n = 0;

	k->key = malloc(cap > 0 ? cap : 1);
	if (k->key == NULL ||
	    kt_b64_decode(s, slen, k->key, cap, &n) != KT_OK || n == 0) {
		free(k->key);
		k->key = NULL;
		return -1;
	}
	k->len = n;
	return 0;
}

static int
load_expect_file(const char *path, struct kt_vkey *keys, size_t *n)
{
	char *buf = NULL, *line, *save = NULL;
	size_t len;

	if (read_file(path, 1 << 20, &buf, &len) != 0) {
		fprintf(stderr, "kt-verify: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' ' ||
		    line[l - 1] == '\t'))
			line[--l] = '\0';
		while (*line == ' ' || *line == '\t')
			line++, l--;
		if (l == 0 || line[0] == '#')
			continue;
		if (*n >= MAX_EXPECT || decode_key(line, l, &keys[*n]) != 0) {
			fprintf(stderr, "kt-verify: %s: bad key line \"%s\"\n",
			    path, line);
			free(buf);
			return -1;
		}
		(*n)++;
	}
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *state = NULL, *cmd = NULL, *log = NULL, *key = NULL;
	const char *out = NULL, *pos = NULL, *expect_file = NULL;
	struct kt_vkey keys[MAX_EXPECT];
	size_t nkeys = 0;
	const char *witnesses[KT_VERIFY_WITNESS_MAX];
	const char *peers[KT_VERIFY_PEERS_MAX];
	size_t nwit = 0, npeers = 0;
	long quorum = 0;
	uint64_t max_age = 0;
	int json = 0, accept = 0, help = 0, rc = 1;
	long timeout = 0;
	char dir[4096], err[1024], *endp;
	struct kt_verify *v = NULL;
	struct kt_vresult r;
	enum kt_verify_outcome o;
	kt_err e;

	memset(keys, 0, sizeof(keys));
	kt_vresult_init(&r);
	if (sodium_init() < 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL() do { if (val == NULL) { \
	rc = usage("option needs a value"); goto done; } i++; } while (0)
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help = 1;
		} else if (strcmp(a, "--json") == 0) {
			json = 1;
		} else if (strcmp(a, "--accept") == 0) {
			accept = 1;
		} else if (strcmp(a, "--state") == 0) {
			NEED_VAL(); state = val;
		} else if (strcmp(a, "--timeout") == 0) {
			NEED_VAL(); timeout = strtol(val, NULL, 10);
			if (timeout <= 0 || timeout > 86400) {
				rc = usage("bad --timeout");
				goto done;
			}
		} else if (strcmp(a, "--log") == 0) {
			NEED_VAL(); log = val;
		} else if (strcmp(a, "--key") == 0) {
			NEED_VAL(); key = val;
		} else if (strcmp(a, "--out") == 0) {
			NEED_VAL(); out = val;
		} else if (strcmp(a, "--witness") == 0) {
			NEED_VAL();
			if (nwit >= KT_VERIFY_WITNESS_MAX) {
				rc = usage("too many --witness");
				goto done;
			}
			witnesses[nwit++] = val;
		} else if (strcmp(a, "--peer") == 0) {
			NEED_VAL();
			if (npeers >= KT_VERIFY_PEERS_MAX) {
				rc = usage("too many --peer");
				goto done;
			}
			peers[npeers++] = val;
		} else if (strcmp(a, "--quorum") == 0) {
			NEED_VAL(); quorum = strtol(val, &endp, 10);
			if (*endp != '\0' || quorum < 1 ||
			    quorum > KT_VERIFY_WITNESS_MAX) {
				rc = usage("bad --quorum");
				goto done;
			}
		} else if (strcmp(a, "--max-age") == 0) {
			NEED_VAL();
			if (parse_duration(val, &max_age) != 0) {
				rc = usage("bad --max-age (e.g. 3600, 90m, 24h, "
				    "7d)");
				goto done;
			}
		} else if (strcmp(a, "--expect") == 0) {
			NEED_VAL(); expect_file = val;
		} else if (strcmp(a, "--expect-b64") == 0) {
			NEED_VAL();
			if (nkeys >= MAX_EXPECT || decode_key(val, strlen(val),
			    &keys[nkeys]) != 0) {
				rc = usage("--expect-b64 needs a base64 key");
				goto done;
			}
			nkeys++;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "kt-verify: unknown option %s\n", a);
			rc = usage(NULL);
			goto done;
		} else if (cmd == NULL) {
			cmd = a;
		} else if (pos == NULL) {
			pos = a;
		} else {
			rc = usage("too many arguments");
			goto done;
		}
#undef NEED_VAL
	}
	if (help) {
		cmd_usage(cmd ? cmd : "", stdout);
		rc = 0;
		goto done;
	}
	if (cmd == NULL) {
		rc = usage("no command");
		goto done;
	}
	if (expect_file != NULL && load_expect_file(expect_file, keys, &nkeys))
		goto done;

	/* Check each command's arguments before touching the state. */
	if ((strcmp(cmd, "init") == 0 && (log == NULL || key == NULL ||
	    pos != NULL)) ||
	    ((strcmp(cmd, "checkpoint") == 0 || strcmp(cmd, "audit") == 0) &&
	    pos != NULL) ||
	    (strcmp(cmd, "lookup") == 0 && pos == NULL) ||
	    (strcmp(cmd, "monitor") == 0 && (pos == NULL || (nkeys == 0 &&
	    expect_file != NULL))) ||
	    (strcmp(cmd, "evidence") == 0 && pos == NULL) ||
	    (strcmp(cmd, "proof") == 0 && (pos == NULL || out == NULL)) ||
	    (strcmp(cmd, "init") == 0 && ((nwit > 0) != (quorum > 0) ||
	    (max_age > 0 && nwit == 0) || quorum > (long)nwit)) ||
	    (strcmp(cmd, "init") != 0 && (nwit > 0 || quorum > 0 ||
	    max_age > 0)) ||
	    (strcmp(cmd, "gossip") == 0 && (npeers == 0 || pos != NULL)) ||
	    (strcmp(cmd, "gossip") != 0 && npeers > 0) ||
	    (strcmp(cmd, "view") == 0 && (out == NULL || pos != NULL))) {
		fprintf(stderr, "kt-verify: bad arguments for %s\n", cmd);
		cmd_usage(cmd, stderr);
		goto done;
	}
	if (strcmp(cmd, "init") && strcmp(cmd, "checkpoint") &&
	    strcmp(cmd, "lookup") && strcmp(cmd, "monitor") &&
	    strcmp(cmd, "audit") && strcmp(cmd, "evidence") &&
	    strcmp(cmd, "proof") && strcmp(cmd, "gossip") &&
	    strcmp(cmd, "view")) {
		fprintf(stderr, "kt-verify: unknown command %s\n", cmd);
		rc = usage(NULL);
		goto done;
	}
	if (state == NULL) {
		if (kt_verify_default_dir(dir, sizeof(dir)) != KT_OK) {
			rc = usage("no --state and neither XDG_STATE_HOME nor "
			    "HOME is set");
			goto done;
		}
		state = dir;
	}

	if (strcmp(cmd, "evidence") == 0) {
		struct kt_verifier vk;
		char *buf = NULL;
		size_t len;

		if (key != NULL) {
			if (kt_verifier_parse(key, strlen(key), &vk) != KT_OK ||
			    vk.type != KT_KEY_ED25519) {
				rc = usage("--key is not an Ed25519 verifier "
				    "key");
				goto done;
			}
		} else {
			e = kt_verify_open(state, 0, &v, err, sizeof(err));
			if (e != KT_OK || kt_verify_log_key(v) == NULL) {
				fprintf(stderr, "kt-verify: %s\n", e != KT_OK ?
				    err : "no --key and no configured log "
				    "key");
				goto done;
			}
			vk = *kt_verify_log_key(v);
		}
		if (read_file(pos, EVIDENCE_FILE_MAX, &buf, &len) != 0) {
			fprintf(stderr, "kt-verify: %s: %s\n", pos,
			    strerror(errno));
			goto done;
		}
		o = kt_verify_evidence(buf, len, &vk, &r);
		free(buf);
		goto print;
	}

	e = kt_verify_open(state, strcmp(cmd, "init") == 0, &v, err,
	    sizeof(err));
	if (e != KT_OK) {
		fprintf(stderr, "kt-verify: %s\n", err);
		goto done;
	}
	if (timeout > 0)
		kt_verify_set_timeouts(v, timeout < 10 ? timeout : 10, timeout);
	if (strcmp(cmd, "init") == 0) {
		struct kt_vpolicy pol = { witnesses, nwit, (unsigned)quorum,
		    max_age };
		o = kt_verify_init_policy(v, log, key, &pol, &r);
	} else if (strcmp(cmd, "gossip") == 0)
		o = kt_verify_gossip(v, peers, npeers, &r);
	else if (strcmp(cmd, "view") == 0)
		o = kt_verify_view(v, out, &r);
	else if (strcmp(cmd, "checkpoint") == 0)
		o = kt_verify_checkpoint(v, &r);
	else if (strcmp(cmd, "lookup") == 0)
		o = kt_verify_lookup(v, pos, accept, &r);
	else if (strcmp(cmd, "monitor") == 0)
		o = kt_verify_monitor(v, pos, keys, nkeys, &r);
	else if (strcmp(cmd, "audit") == 0)
		o = kt_verify_audit(v, &r);
	else
		o = kt_verify_proof(v, pos, out, &r);
print:
	rc = exit_status(o);
	if (json)
		print_json(&r);
	else
		print_human(cmd, &r);
done:
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i].key);
	kt_verify_close(v);
	kt_vresult_free(&r);
	return rc;
}
