/*
 * commands.c: kt-verify's command table. One function per subcommand,
 * each a call into libktverify with the arguments it takes, and what each
 * command accepts on the command line (docs/verify.md, "Commands").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/b64.h"
#include "cli.h"

/* ---- one function per subcommand ---------------------------------------- */

static int
cmd_init(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	struct kt_vpolicy pol = { a->witnesses, a->nwit, (unsigned)a->quorum,
		a->max_age };

	return kt_cli_report(a->cmd, a->json, r,
	    kt_verify_init_policy(v, a->log, a->key, a->vrf_key, &pol, r));
}

static int
cmd_checkpoint(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	return kt_cli_report(a->cmd, a->json, r, kt_verify_checkpoint(v, r));
}

static int
cmd_lookup(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	return kt_cli_report(a->cmd, a->json, r,
	    kt_verify_lookup(v, a->pos, a->accept, r));
}

static int
cmd_monitor(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	return kt_cli_report(a->cmd, a->json, r,
	    kt_verify_monitor(v, a->pos, a->keys, a->nkeys, r));
}

static int
cmd_audit(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	/* How often the audit saves its position (tests, operators of very
	 * slow links); the library's default otherwise. */
	const char *e = getenv("KT_VERIFY_AUDIT_SAVE_EVERY");

	if (e != NULL && strtoull(e, NULL, 10) > 0)
		kt_verify_set_audit_save(v, strtoull(e, NULL, 10));
	return kt_cli_report(a->cmd, a->json, r, kt_verify_audit(v, r));
}

static int
cmd_proof(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	return kt_cli_report(a->cmd, a->json, r,
	    kt_verify_proof(v, a->pos, a->out, r));
}

static int
cmd_gossip(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	return kt_cli_report(a->cmd, a->json, r,
	    kt_verify_gossip(v, a->peers, a->npeers, r));
}

static int
cmd_view(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	return kt_cli_report(a->cmd, a->json, r, kt_verify_view(v, a->out, r));
}

/* --vrf-key for `evidence` into pk; *have 0 when not given. */
static kt_err
evidence_vrf(const struct args *a, uint8_t pk[KT_VERIFY_VRF_LEN], int *have)
{
	uint8_t buf[KT_VERIFY_VRF_LEN + 3];
	size_t n;

	*have = 0;
	if (a->vrf_key == NULL)
		return KT_OK;
	if (kt_b64_decode(a->vrf_key, strlen(a->vrf_key), buf, sizeof(buf),
	        &n) != KT_OK ||
	    n != KT_VERIFY_VRF_LEN) {
		kt_cli_usage("--vrf-key is not base64 of a 32-byte VRF key");
		return KT_ERR_MALFORMED;
	}
	memcpy(pk, buf, KT_VERIFY_VRF_LEN);
	*have = 1;
	return KT_OK;
}

/* The log key for `evidence`: --key, else the state's (*opened, when it
 * had to be opened). KT_ERR_* after saying why (exit 1). */
static kt_err
evidence_key(const struct args *a, struct kt_verify **opened,
    struct kt_verifier *vk)
{
	char err[1024];
	kt_err e;

	if (a->key != NULL) {
		if (kt_verifier_parse(a->key, strlen(a->key), vk) != KT_OK ||
		    vk->type != KT_KEY_ED25519) {
			kt_cli_usage("--key is not an Ed25519 verifier key");
			return KT_ERR_MALFORMED;
		}
		return KT_OK;
	}
	e = kt_verify_open(a->state, 0, opened, err, sizeof(err));
	if (e != KT_OK || kt_verify_log_key(*opened) == NULL) {
		fprintf(stderr, "kt-verify: %s\n",
		    e != KT_OK ? err : "no --key and no configured log key");
		return e != KT_OK ? e : KT_ERR_NOT_FOUND;
	}
	*vk = *kt_verify_log_key(*opened);
	return KT_OK;
}

/* Offline: only the log's key, from --key or the state. */
static int
cmd_evidence(struct kt_verify *v, const struct args *a, struct kt_vresult *r)
{
	struct kt_verify *opened = NULL;
	struct kt_verifier vk;
	uint8_t vrf[KT_VERIFY_VRF_LEN];
	const uint8_t *vrf_pk = NULL;
	char *buf = NULL, err[1024];
	size_t len;
	int rc = 1, have_vrf;

	(void)v;
	if (evidence_vrf(a, vrf, &have_vrf) != KT_OK ||
	    evidence_key(a, &opened, &vk) != KT_OK)
		goto out;
	if (have_vrf)
		vrf_pk = vrf;
	else if (opened != NULL)
		vrf_pk = kt_verify_vrf_key(opened);
	else if (kt_verify_open(a->state, 0, &opened, err, sizeof(err)) ==
	    KT_OK)
		vrf_pk = kt_verify_vrf_key(opened); /* NULL: none pinned */
	if (kt_cli_read_file(a->pos, KT_CLI_EVIDENCE_MAX, &buf, &len) !=
	    KT_OK) {
		fprintf(stderr, "kt-verify: %s: %s\n", a->pos, strerror(errno));
		goto out;
	}
	rc = kt_cli_report(a->cmd, a->json, r,
	    kt_verify_evidence(buf, len, &vk, vrf_pk, r));
out:
	free(buf);
	kt_verify_close(opened);
	return rc;
}

/* ---- what each command accepts ------------------------------------------ */

static int
init_ok(const struct args *a)
{
	return a->log != NULL && a->key != NULL && a->pos == NULL &&
	    a->out == NULL && (a->nwit > 0) == (a->quorum > 0) &&
	    !(a->max_age > 0 && a->nwit == 0) && a->quorum <= (long)a->nwit;
}

static int
no_arg(const struct args *a)
{
	return a->pos == NULL;
}

static int
one_arg(const struct args *a)
{
	return a->pos != NULL;
}

static int
monitor_ok(const struct args *a)
{
	/* An --expect file without a key is a mistake, not an empty list. */
	return a->pos != NULL && !(a->nkeys == 0 && a->expect_file != NULL);
}

static int
proof_ok(const struct args *a)
{
	return a->pos != NULL && a->out != NULL;
}

static int
gossip_ok(const struct args *a)
{
	return a->npeers > 0 && a->pos == NULL;
}

static int
view_ok(const struct args *a)
{
	return a->out != NULL && a->pos == NULL;
}

/* ---- the table ----------------------------------------------------------- */

static const struct command commands[] = {
	{ "init", cmd_init, init_ok, KT_CMD_CREATE | KT_CMD_POLICY,
	    "kt-verify init --log URL --key VERIFIERKEY --vrf-key VRFKEY\n"
	    "    [--witness KEY [--witness KEY...] --quorum K "
	    "[--max-age DURATION]]\n"
	    "Stores the log URL, its signed-note verifier key (the log's\n"
	    "origin is the key name) and its VRF public key in the state\n"
	    "folder. Offline.\n"
	    "--log URL and --key VERIFIERKEY are required: the log's http(s)\n"
	    "address and the verifier key its operator published (the last\n"
	    "line of 'kt-logd keygen'; ops/run keeps it in kt-data/log.pub).\n"
	    "--vrf-key VRFKEY (base64; vrf_public_key of GET /v1/log, as the\n"
	    "operator published it) is what lookups, monitor and proof check\n"
	    "label indexes with: they refuse to run until an init gives it\n"
	    "(re-run init with it on an initialised state to add it). It is\n"
	    "never taken from the log unasked.\n"
	    "The rest is optional: with --witness (cosignature verifier keys\n"
	    "from kt-witness keygen) and --quorum K (both or neither),\n"
	    "checkpoints are accepted only when cosigned by at least K of\n"
	    "them; a checkpoint witnessed longer ago than --max-age (default\n"
	    "24h; s, m, h, d suffixes) makes commands exit 5 (stale).\n"
	    "Re-running init for the same log and key replaces the policy.\n" },
	{ "gossip", cmd_gossip, gossip_ok, KT_CMD_PEERS,
	    "kt-verify gossip --peer URL|FILE [--peer ...]\n"
	    "Fetches checkpoints from peers: a witness (http://host:port, or its\n"
	    "full GET /<hex sha256(origin)>/checkpoint URL) or another\n"
	    "monitor's published view (a file, file:// URL, or http URL with a\n"
	    "path). Each must be signed by the log. Views of one size with\n"
	    "different roots, or that the log cannot prove consistent, are a\n"
	    "fork (exit 3, evidence written). A larger consistent view advances\n"
	    "the stored one (if it meets the witness quorum).\n" },
	{ "view", cmd_view, view_ok, 0,
	    "kt-verify view --out FILE\n"
	    "Writes the stored signed checkpoint (with its cosignatures) to FILE\n"
	    "for other monitors' gossip.\n" },
	{ "checkpoint", cmd_checkpoint, no_arg, 0,
	    "kt-verify checkpoint\n"
	    "Fetches /checkpoint, verifies the log's signature and origin and a\n"
	    "consistency proof from the stored checkpoint, then stores it. A\n"
	    "smaller tree, the same size with another root or a failing\n"
	    "consistency proof is an attack (exit 3, evidence written).\n" },
	{ "lookup", cmd_lookup, one_arg, 0,
	    "kt-verify lookup LABEL [--accept]\n"
	    "Fetches LABEL's lookup proof and verifies it (kt_lookup_verify:\n"
	    "VRF proof under the pinned VRF key, map head = the checkpoint's\n"
	    "last leaf, map path, latest update, chain, commitment) against the\n"
	    "signed checkpoint, itself consistent with the stored one (and\n"
	    "witnessed, with a policy). Prints key, version, checkpoint.\n"
	    "Pins the key on first use; a later version with another key shows\n"
	    "the verified history since the pin and exits 4; --accept pins it.\n"
	    "A verified absence (never published) exits 7. A version lower than\n"
	    "one verified before, or an absence after a version, is a\n"
	    "DOWNGRADE (exit 2).\n" },
	{ "monitor", cmd_monitor, monitor_ok, 0,
	    "kt-verify monitor LABEL --expect-b64 KEY [...] | "
	    "--expect FILE\n"
	    "Fetches LABEL's map path at the accepted checkpoint (one request\n"
	    "when nothing changed) and, when it shows new versions, the\n"
	    "history since the last check: each update proven in the log, the\n"
	    "chain link by link up to the map's, each commitment opened. Keys\n"
	    "must come in the order listed (a retired key coming back is not\n"
	    "expected); one that is not is a ghost (exit 3, evidence written).\n"
	    "FILE: one base64 key per line, '#' comments. Expected keys are\n"
	    "remembered for later runs. Prints the bytes fetched.\n" },
	{ "audit", cmd_audit, no_arg, 0,
	    "kt-verify audit\n"
	    "Checks every leaf the log appended since the last audit (from 0\n"
	    "the first time): the tree equals the signed root; each batch,\n"
	    "applied to the previous map head's root with the map paths of\n"
	    "GET /v1/map/audit/<head> (kt_map_apply_proofs: versions step by\n"
	    "one, links, inserts new), makes the map head that closes it; its\n"
	    "log_size, prev_head link, label count and time are right; the\n"
	    "checkpoint ends at a map head. Keeps no map: its position\n"
	    "(audit.json) is saved every 65536 leaves (or\n"
	    "KT_VERIFY_AUDIT_SAVE_EVERY), so an interrupted run resumes.\n"
	    "A map head that does not follow: exit 3, wrong-map evidence.\n" },
	{ "evidence", cmd_evidence, one_arg, KT_CMD_OFFLINE,
	    "kt-verify evidence FILE [--key VERIFIERKEY] [--vrf-key VRFKEY]\n"
	    "Verifies an evidence file (or a lookup's C2SP tlog-proof, which\n"
	    "also needs the VRF key) offline with only the log's keys (from\n"
	    "the options or the state): exit 0 when it proves its claim, 2\n"
	    "when it is forged, malformed or proves nothing.\n" },
	{ "proof", cmd_proof, proof_ok, 0,
	    "kt-verify proof LABEL --out FILE\n"
	    "Verifies LABEL's lookup and writes it as a C2SP tlog-proof (the\n"
	    "map head's inclusion proof, the rest of the lookup proof in its\n"
	    "extra line).\n" },
};

const struct command *
kt_cli_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
kt_cli_args_fit(const struct command *c, const struct args *a)
{
	unsigned flags = c != NULL ? c->flags : 0;

	if (!(flags & KT_CMD_POLICY) &&
	    (a->nwit > 0 || a->quorum > 0 || a->max_age > 0))
		return 0;
	if (!(flags & KT_CMD_PEERS) && a->npeers > 0)
		return 0;
	return c == NULL || c->args_ok(a);
}

void
kt_cli_help(const char *cmd, FILE *to)
{
	const struct command *c = kt_cli_command(cmd);

	if (c != NULL) {
		fputs(c->help, to);
		/* A command's help alone would hide where its state lives. */
		fputs("global options: --state DIR, --json, --timeout SECONDS "
		      "(kt-verify --help)\n",
		    to);
	} else {
		kt_cli_usage_text(to);
	}
}
