/*
 * verify.c: the kt_verify handle, `init`, `checkpoint`, and the one place
 * that decides whether a signed checkpoint may replace the stored one.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "verify_internal.h"

/* ---- handle ------------------------------------------------------------ */

kt_err
kt_verify_default_dir(char *buf, size_t cap)
{
	const char *x = getenv("XDG_STATE_HOME");
	const char *h = getenv("HOME");
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, cap, "%s/kt-verify", x);
	else if (h != NULL && h[0] != '\0')
		n = snprintf(buf, cap, "%s/.local/state/kt-verify", h);
	else
		return KT_ERR_NOT_FOUND;
	return (n < 0 || (size_t)n >= cap) ? KT_ERR_TOO_LARGE : KT_OK;
}

static kt_err
mkdir_p(const char *dir, char *err, size_t errlen)
{
	char tmp[KT_VERIFY_PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", tmp,
			    strerror(errno));
			return KT_ERR_IO;
		}
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", tmp, strerror(errno));
		return KT_ERR_IO;
	}
	return KT_OK;
}

/* Parses witness keys into wit[]: cosignature keys, distinct. -1 if bad. */
static int
parse_witnesses(const char *const *keys, size_t n, struct kt_verifier *wit)
{
	if (n > KT_VERIFY_WITNESS_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (kt_verifier_parse(keys[i], strlen(keys[i]), &wit[i])
		    != KT_OK || wit[i].type != KT_KEY_COSIG)
			return -1;
		/* One key counted twice would let one witness make a
		 * quorum of two. */
		for (size_t j = 0; j < i; j++)
			if (memcmp(wit[j].pub, wit[i].pub, KT_PUBKEY_LEN) == 0
			    || (strcmp(wit[j].name, wit[i].name) == 0 &&
			    memcmp(wit[j].id, wit[i].id, KT_KEY_ID_LEN) == 0))
				return -1;
	}
	return 0;
}

/* config.json's optional witness policy. -1 if present but bad. */
static int
load_policy(struct kt_verify *v, const json_t *c)
{
	json_t *jw = json_object_get(c, "witnesses");
	json_t *jq = json_object_get(c, "quorum");
	json_t *ja = json_object_get(c, "max_age");
	const char *keys[KT_VERIFY_WITNESS_MAX];
	size_t n;

	if (jw == NULL && jq == NULL && ja == NULL)
		return 0;
	if (!json_is_array(jw) || (n = json_array_size(jw)) == 0 ||
	    n > KT_VERIFY_WITNESS_MAX || !json_is_integer(jq) ||
	    json_integer_value(jq) < 1 || (size_t)json_integer_value(jq) > n ||
	    !json_is_integer(ja) || json_integer_value(ja) < 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		keys[i] = json_string_value(json_array_get(jw, i));
		if (keys[i] == NULL)
			return -1;
	}
	if (parse_witnesses(keys, n, v->wit) != 0)
		return -1;
	v->nwit = n;
	v->quorum = (unsigned)json_integer_value(jq);
	v->max_age = (uint64_t)json_integer_value(ja);
	return 0;
}

static kt_err
load_config(struct kt_verify *v, char *err, size_t errlen)
{
	json_t *c = NULL, *jl, *jk;
	kt_err e;

	e = kt_vstate_load_json(v->dir, KT_VSTATE_CONFIG, &c, err, errlen);
	if (e != KT_OK)
		return e;
	if (json_object_size(c) == 0) {
		json_decref(c);
		return KT_OK; /* not initialised yet */
	}
	jl = json_object_get(c, "log");
	jk = json_object_get(c, "key");
	if (!json_is_string(jl) || json_string_length(jl) >= KT_URL_MAX ||
	    !json_is_string(jk) ||
	    kt_verifier_parse(json_string_value(jk), json_string_length(jk),
	    &v->vk) != KT_OK || v->vk.type != KT_KEY_ED25519) {
		snprintf(err, errlen, "state file %s/%s is corrupt (bad \"log\" "
		    "or \"key\"); refusing to continue", v->dir,
		    KT_VSTATE_CONFIG);
		json_decref(c);
		return KT_ERR_MALFORMED;
	}
	snprintf(v->url, sizeof(v->url), "%s", json_string_value(jl));
	snprintf(v->vkey_text, sizeof(v->vkey_text), "%s",
	    json_string_value(jk));
	if (load_policy(v, c) != 0) {
		snprintf(err, errlen, "state file %s/%s is corrupt (bad "
		    "\"witnesses\", \"quorum\" or \"max_age\"); refusing "
		    "to continue", v->dir, KT_VSTATE_CONFIG);
		json_decref(c);
		return KT_ERR_MALFORMED;
	}
	v->have_config = 1;
	json_decref(c);
	return KT_OK;
}

static kt_err
load_checkpoint(struct kt_verify *v, char *err, size_t errlen)
{
	struct kt_buf b = {0};
	char d[256];
	kt_err e;

	e = kt_vstate_read(v->dir, KT_VSTATE_CHECKPOINT, KT_NOTE_MAX, &b, err,
	    errlen);
	if (e == KT_ERR_NOT_FOUND)
		return KT_OK;
	if (e != KT_OK)
		return e;
	/* The stored checkpoint is re-verified: a tampered or torn state
	 * file must not become the new trust anchor. */
	if (!v->have_config || kt_vcheck_checkpoint(b.p, b.len, &v->vk,
	    &v->cp, d, sizeof(d)) != KT_OK) {
		snprintf(err, errlen, "state file %s/%s is corrupt (%s); "
		    "refusing to continue", v->dir, KT_VSTATE_CHECKPOINT,
		    v->have_config ? d : "no configuration");
		kt_buf_free(&b);
		return KT_ERR_MALFORMED;
	}
	v->cp_note = b.p;
	v->cp_note_len = b.len;
	v->have_cp = 1;
	return KT_OK;
}

kt_err
kt_verify_open(const char *dir, int create, struct kt_verify **out,
    char *err, size_t errlen)
{
	struct kt_verify *v = NULL;
	char lock[KT_VERIFY_PATH_MAX + 8];
	struct stat st;
	kt_err e;

	*out = NULL;
	if (strlen(dir) == 0 || strlen(dir) >= KT_VERIFY_PATH_MAX - 64) {
		snprintf(err, errlen, "bad state folder path");
		return KT_ERR_RANGE;
	}
	if (stat(dir, &st) != 0) {
		if (!create) {
			snprintf(err, errlen, "state folder %s does not exist "
			    "(run kt-verify init)", dir);
			return KT_ERR_NOT_FOUND;
		}
		if ((e = mkdir_p(dir, err, errlen)) != KT_OK)
			return e;
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a folder", dir);
		return KT_ERR_IO;
	}
	if (sodium_init() < 0)
		return KT_ERR_INTERNAL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return KT_ERR_NOMEM;
	v->lockfd = -1;
	v->connect_s = 10;
	v->total_s = 60;
	snprintf(v->dir, sizeof(v->dir), "%s", dir);
	snprintf(lock, sizeof(lock), "%s/%s", dir, KT_VSTATE_LOCK);
	/* One kt-verify at a time per state folder: two concurrent
	 * read-modify-write cycles could lose a pin or cursor. */
	v->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (v->lockfd < 0 || flock(v->lockfd, LOCK_EX) != 0) {
		snprintf(err, errlen, "lock %s: %s", lock, strerror(errno));
		e = KT_ERR_IO;
		goto fail;
	}
	if ((e = load_config(v, err, errlen)) != KT_OK ||
	    (e = load_checkpoint(v, err, errlen)) != KT_OK)
		goto fail;
	*out = v;
	return KT_OK;
fail:
	kt_verify_close(v);
	return e;
}

void
kt_verify_close(struct kt_verify *v)
{
	if (v == NULL)
		return;
	kt_fetch_close(v->fetch);
	if (v->lockfd >= 0)
		close(v->lockfd);
	free(v->cp_note);
	free(v);
}

void
kt_verify_set_timeouts(struct kt_verify *v, long connect_s, long total_s)
{
	v->connect_s = connect_s;
	v->total_s = total_s;
}

const struct kt_verifier *
kt_verify_log_key(const struct kt_verify *v)
{
	return v->have_config ? &v->vk : NULL;
}

int
kt_verify_need_config(struct kt_verify *v, struct kt_vresult *r)
{
	if (!v->have_config)
		return kt_vres(r, KT_VERIFY_ERROR, "state folder %s is not "
		    "initialised: run kt-verify init --log URL --key KEY",
		    v->dir);
	return KT_VERIFY_OK;
}

kt_err
kt_verify_fetcher(struct kt_verify *v, struct kt_fetch **out,
    struct kt_vresult *r)
{
	kt_err e;

	if (v->fetch == NULL) {
		e = kt_fetch_open(v->url, v->connect_s, v->total_s, &v->fetch);
		if (e != KT_OK) {
			kt_vres(r, KT_VERIFY_ERROR, "HTTP client: %s",
			    kt_strerror(e));
			return e;
		}
	}
	*out = v->fetch;
	return KT_OK;
}

/* ---- init -------------------------------------------------------------- */

int
kt_verify_init(struct kt_verify *v, const char *url, const char *vkey,
    struct kt_vresult *r)
{
	return kt_verify_init_policy(v, url, vkey, NULL, r);
}

static int
save_config(struct kt_verify *v, const char *url, const char *vkey,
    const struct kt_verifier *vk, const struct kt_vpolicy *pol,
    struct kt_vresult *r)
{
	json_t *c, *a;
	char d[256];

	c = json_pack("{s:i,s:s,s:s,s:s}", "version", 1, "log", url, "key",
	    vkey, "origin", vk->name);
	if (c == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (pol != NULL && pol->nwitnesses > 0) {
		a = json_array();
		for (size_t i = 0; i < pol->nwitnesses; i++)
			json_array_append_new(a, json_string(
			    pol->witnesses[i]));
		json_object_set_new(c, "witnesses", a);
		json_object_set_new(c, "quorum", json_integer(pol->quorum));
		json_object_set_new(c, "max_age", json_integer((json_int_t)
		    (pol->max_age ? pol->max_age : KT_VERIFY_MAX_AGE_DEFAULT)));
	}
	if (kt_vstate_save_json(v->dir, KT_VSTATE_CONFIG, c, d, sizeof(d))
	    != KT_OK) {
		json_decref(c);
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	}
	if (load_policy(v, c) != 0) {
		json_decref(c);
		return kt_vres(r, KT_VERIFY_ERROR, "internal: bad policy");
	}
	json_decref(c);
	return KT_VERIFY_OK;
}

int
kt_verify_init_policy(struct kt_verify *v, const char *url, const char *vkey,
    const struct kt_vpolicy *pol, struct kt_vresult *r)
{
	struct kt_verifier vk, wit[KT_VERIFY_WITNESS_MAX];
	char u[KT_URL_MAX];
	size_t n;
	int st, haspol = pol != NULL && pol->nwitnesses > 0;

	if (kt_verifier_parse(vkey, strlen(vkey), &vk) != KT_OK ||
	    vk.type != KT_KEY_ED25519)
		return kt_vres(r, KT_VERIFY_ERROR, "--key is not an Ed25519 "
		    "signed-note verifier key (name+hexid+base64)");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return kt_vres(r, KT_VERIFY_ERROR, "--log must be an http:// "
		    "or https:// URL");
	if (pol != NULL && (pol->nwitnesses > KT_VERIFY_WITNESS_MAX ||
	    (haspol && (pol->quorum < 1 || pol->quorum > pol->nwitnesses)) ||
	    (!haspol && pol->quorum != 0) ||
	    parse_witnesses(pol->witnesses, pol->nwitnesses, wit) != 0))
		return kt_vres(r, KT_VERIFY_ERROR, "bad witness policy: each "
		    "--witness must be a distinct cosignature verifier key "
		    "(type 0x04, from kt-witness keygen), at most %d, and "
		    "--quorum between 1 and their number",
		    KT_VERIFY_WITNESS_MAX);
	n = strlen(url);
	if (n >= sizeof(u) - 1)
		return kt_vres(r, KT_VERIFY_ERROR, "--log URL too long");
	memcpy(u, url, n + 1);
	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	if (v->have_config) {
		if (strcmp(v->url, u) != 0 || strcmp(v->vkey_text, vkey) != 0)
			/* Re-pointing a state at another log or key would
			 * silently drop every guarantee the stored checkpoint
			 * gives. */
			return kt_vres(r, KT_VERIFY_ERROR, "state folder %s is "
			    "already initialised for %s with another log or "
			    "key; use another --state", v->dir, v->url);
		if (!haspol)
			return kt_vres(r, KT_VERIFY_OK, "already initialised "
			    "for %s", u);
		/* Same log: the stored checkpoint stays the anchor; only
		 * the acceptance rule for later ones changes. */
		if ((st = save_config(v, u, vkey, &vk, pol, r)) != 0)
			return st;
		return kt_vres(r, KT_VERIFY_OK, "witness policy of %s set: "
		    "quorum %u of %zu witnesses, max age %" PRIu64 " s",
		    v->dir, v->quorum, v->nwit, v->max_age);
	}
	if ((st = save_config(v, u, vkey, &vk, pol, r)) != 0)
		return st;
	v->vk = vk;
	snprintf(v->url, sizeof(v->url), "%s", u);
	snprintf(v->vkey_text, sizeof(v->vkey_text), "%s", vkey);
	v->have_config = 1;
	json_object_set_new(r->info, "log", json_string(u));
	json_object_set_new(r->info, "origin", json_string(vk.name));
	json_object_set_new(r->info, "state", json_string(v->dir));
	if (haspol)
		return kt_vres(r, KT_VERIFY_OK, "initialised %s for log %s "
		    "(origin %s); checkpoints need %u of %zu witness "
		    "cosignatures, max age %" PRIu64 " s", v->dir, u, vk.name,
		    v->quorum, v->nwit, v->max_age);
	return kt_vres(r, KT_VERIFY_OK, "initialised %s for log %s (origin "
	    "%s)", v->dir, u, vk.name);
}

/* ---- accepting checkpoints ------------------------------------------------ */

static void
cp_info(json_t *o, const char *key, const struct kt_checkpoint *cp)
{
	char root[64];

	sodium_bin2base64(root, sizeof(root), cp->root.b, KT_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(o, key, json_pack("{s:I,s:s}", "size",
	    (json_int_t)cp->size, "root", root));
}

static int
store_checkpoint(struct kt_verify *v, const char *note, size_t len,
    const struct kt_checkpoint *cp, struct kt_vresult *r)
{
	char d[256];
	char *copy;

	if (kt_vstate_write(v->dir, KT_VSTATE_CHECKPOINT, note, len, d,
	    sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	copy = malloc(len + 1);
	if (copy == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	memcpy(copy, note, len);
	copy[len] = '\0';
	free(v->cp_note);
	v->cp_note = copy;
	v->cp_note_len = len;
	v->cp = *cp;
	v->have_cp = 1;
	return KT_VERIFY_OK;
}

/*
 * GET the log's consistency proof from size a to size b (a < b) and verify
 * it between the roots. KT_VERIFY_OK; KT_VERIFY_ATTACK-worthy failure is
 * reported as *bad = 1 with OK returned; FAILED when no usable proof was
 * given; ERROR on network trouble.
 */
static int
check_consistency(struct kt_verify *v, const struct kt_checkpoint *a,
    const struct kt_checkpoint *b, int *bad, struct kt_proof *proof_out,
    struct kt_vresult *r)
{
	struct kt_fetch *f;
	struct kt_buf body = {0};
	struct kt_proof proof;
	json_t *o = NULL;
	char d[512], path[128];
	long status;
	kt_err e;
	int st;

	*bad = 0;
	if (kt_verify_fetcher(v, &f, r) != KT_OK)
		return r->status;
	snprintf(path, sizeof(path), "/v1/proof/consistency?old=%" PRIu64
	    "&new=%" PRIu64, a->size, b->size);
	e = kt_fetch_get(f, path, KT_CAP_PROOF, &body, &status, d, sizeof(d));
	if (e == KT_ERR_NETWORK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "%s", d);
		goto out;
	}
	if (e != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_FAILED, "the log did not give a "
		    "consistency proof from size %" PRIu64 " to %" PRIu64
		    " (HTTP %ld): the new checkpoint is not accepted",
		    a->size, b->size, status);
		goto out;
	}
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK ||
	    (e = kt_vparse_consistency(o, a->size, b->size, &proof, d,
	    sizeof(d))) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "consistency proof: %s", d);
		goto out;
	}
	*bad = kt_merkle_verify_consistency(a->size, b->size, proof.h,
	    proof.n, &a->root, &b->root) != KT_OK;
	*proof_out = proof;
	st = KT_VERIFY_OK;
out:
	json_decref(o);
	kt_buf_free(&body);
	return st;
}

/* A consistency proof from a (smaller) to b failed: the strongest
 * evidence available (evidence.c). */
static int
inconsistent(struct kt_verify *v, const char *a_note, size_t a_len,
    const struct kt_checkpoint *a, const char *b_note, size_t b_len,
    const struct kt_checkpoint *b, const struct kt_proof *p,
    const char *why, struct kt_vresult *r)
{
	return kt_evidence_fork_proof(v, "fork", a_note, a_len, a, b_note,
	    b_len, b, p, why, r);
}

int
kt_verify_relate(struct kt_verify *v, const char *a_note, size_t a_len,
    const struct kt_checkpoint *a, const char *b_note, size_t b_len,
    const struct kt_checkpoint *b, struct kt_vresult *r)
{
	struct kt_proof proof;
	int bad, st;

	if (a->size == b->size) {
		if (kt_hash_eq(&a->root, &b->root))
			return KT_VERIFY_OK;
		return kt_evidence_fork(v, "fork", a_note, a_len, a, b_note,
		    b_len, b, "the log signed two different trees of the same "
		    "size", r);
	}
	if (a->size > b->size)
		return kt_verify_relate(v, b_note, b_len, b, a_note, a_len, a,
		    r);
	if ((st = check_consistency(v, a, b, &bad, &proof, r)) != KT_VERIFY_OK)
		return st;
	if (bad)
		return inconsistent(v, a_note, a_len, a, b_note, b_len, b,
		    &proof, "the consistency proof between two signed "
		    "checkpoints does not verify (fork or rewritten history)",
		    r);
	return KT_VERIFY_OK;
}

int
kt_verify_accept(struct kt_verify *v, const char *note, size_t len,
    struct kt_checkpoint *out, struct kt_vresult *r)
{
	struct kt_checkpoint nc;
	struct kt_vquorum q, sq;
	struct kt_proof proof;
	char d[512];
	kt_err e;
	int bad, st;

	if ((e = kt_vcheck_checkpoint(note, len, &v->vk, &nc, d, sizeof(d)))
	    != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED, "%s", d);
	cp_info(r->info, "checkpoint", &nc);
	/* With a witness policy, a checkpoint the witnesses did not see is
	 * refused before it can touch the stored view. */
	if ((st = kt_vquorum_check(v, note, len, &q, r)) != KT_VERIFY_OK) {
		/* Still signed by the log: the same size as the stored tree
		 * with another root proves a fork whoever cosigned it. */
		if (st == KT_VERIFY_FAILED && q.valid < v->quorum &&
		    v->have_cp && nc.size == v->cp.size &&
		    !kt_hash_eq(&nc.root, &v->cp.root))
			return kt_evidence_fork(v, "fork", v->cp_note,
			    v->cp_note_len, &v->cp, note, len, &nc, "the log "
			    "signed two different trees of the same size (the "
			    "new one lacks the witness quorum)", r);
		return st;
	}
	if (!v->have_cp) {
		/* Trust on first use, after the signature: there is nothing
		 * yet to be consistent with. */
		if ((st = store_checkpoint(v, note, len, &nc, r)) != 0)
			return st;
		*out = nc;
		return KT_VERIFY_OK;
	}
	cp_info(r->info, "stored_checkpoint", &v->cp);
	if (nc.size == v->cp.size) {
		if (kt_hash_eq(&nc.root, &v->cp.root)) {
			/* Same tree: keep the copy with the fresher witnessed
			 * time, so `view` publishes it and staleness is
			 * measured from it. */
			if (v->nwit > 0 && (kt_vquorum_count(v->cp_note,
			    v->cp_note_len, &v->vk, v->wit, v->nwit, v->quorum,
			    &sq, d, sizeof(d)) != KT_OK || sq.valid < v->quorum
			    || sq.witnessed < q.witnessed) &&
			    (st = store_checkpoint(v, note, len, &nc, r)) != 0)
				return st;
			*out = nc;
			return KT_VERIFY_OK;
		}
		return kt_evidence_fork(v, "fork", v->cp_note, v->cp_note_len,
		    &v->cp, note, len, &nc, "the log signed two different "
		    "trees of the same size", r);
	}
	if (nc.size < v->cp.size)
		return kt_evidence_fork(v, "rollback", v->cp_note,
		    v->cp_note_len, &v->cp, note, len, &nc, "the log served "
		    "a smaller tree than one it signed before (rollback)", r);
	if ((st = check_consistency(v, &v->cp, &nc, &bad, &proof, r))
	    != KT_VERIFY_OK)
		return st;
	if (bad)
		return inconsistent(v, v->cp_note, v->cp_note_len, &v->cp,
		    note, len, &nc, &proof, "the consistency proof from the "
		    "stored checkpoint to the new one does not verify (fork "
		    "or rewritten history)", r);
	if ((st = store_checkpoint(v, note, len, &nc, r)) != 0)
		return st;
	*out = nc;
	return KT_VERIFY_OK;
}

int
kt_verify_fetch_checkpoint(struct kt_verify *v, char *note_out,
    size_t *note_len, struct kt_checkpoint *out, struct kt_vresult *r)
{
	struct kt_fetch *f;
	struct kt_buf body = {0};
	char d[512];
	long status;
	kt_err e;
	int st;

	if (kt_verify_fetcher(v, &f, r) != KT_OK)
		return r->status;
	e = kt_fetch_get(f, "/checkpoint", KT_CAP_CHECKPOINT, &body, &status,
	    d, sizeof(d));
	if (e != KT_OK) {
		st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
		    KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_ERROR, "GET /checkpoint: HTTP %ld",
		    status);
		goto out;
	}
	if (body.len > KT_NOTE_MAX) {
		st = kt_vres(r, KT_VERIFY_FAILED, "checkpoint too large");
		goto out;
	}
	st = kt_verify_accept(v, body.p, body.len, out, r);
	if (st == KT_VERIFY_OK && note_out != NULL) {
		memcpy(note_out, body.p, body.len);
		note_out[body.len] = '\0';
		*note_len = body.len;
	}
out:
	kt_buf_free(&body);
	return st;
}

int
kt_verify_checkpoint(struct kt_verify *v, struct kt_vresult *r)
{
	struct kt_checkpoint cp;
	uint64_t before;
	int had, st;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	had = v->have_cp;
	before = v->cp.size;
	st = kt_verify_fetch_checkpoint(v, NULL, NULL, &cp, r);
	if (st != KT_VERIFY_OK)
		return st;
	if (!had)
		kt_vres(r, KT_VERIFY_OK, "first checkpoint verified and "
		    "stored: tree size %" PRIu64 " (signature%s checked; "
		    "nothing earlier to be consistent with)", cp.size,
		    v->nwit > 0 ? " and witness quorum" : "");
	else if (cp.size == before)
		kt_vres(r, KT_VERIFY_OK, "checkpoint verified: tree size "
		    "%" PRIu64 ", unchanged", cp.size);
	else
		kt_vres(r, KT_VERIFY_OK, "checkpoint verified: tree size %"
		    PRIu64 " -> %" PRIu64 ", consistent", before, cp.size);
	return kt_vstale(v, r, KT_VERIFY_OK);
}

/* ---- one leaf by index ----------------------------------------------------- */

int
kt_verify_fetch_leaf(struct kt_verify *v, uint64_t index,
    const struct kt_checkpoint *cp, struct kt_vleaf *out,
    struct kt_vresult *r)
{
	struct kt_fetch *f;
	struct kt_buf body = {0};
	json_t *o = NULL, *a, *j;
	char d[512], path[160];
	long status;
	kt_err e;
	int st;

	if (kt_verify_fetcher(v, &f, r) != KT_OK)
		return r->status;
	snprintf(path, sizeof(path), "/v1/entries?start=%" PRIu64 "&end=%"
	    PRIu64, index, index + 1);
	e = kt_fetch_get(f, path, KT_CAP_PROOF, &body, &status, d, sizeof(d));
	if (e != KT_OK || status != 200) {
		st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
		    KT_VERIFY_FAILED, "GET entry %" PRIu64 ": %s", index,
		    e != KT_OK ? d : "HTTP error");
		goto out;
	}
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	a = json_object_get(o, "entries");
	j = json_array_get(a, 0);
	if (!json_is_array(a) || json_array_size(a) != 1 ||
	    !json_is_string(j) || kt_b64_decode(json_string_value(j),
	    json_string_length(j), out->entry, sizeof(out->entry),
	    &out->entry_len) != KT_OK ||
	    kt_entry_decode(out->entry, out->entry_len, &out->e) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "entry %" PRIu64 ": not one "
		    "well-formed entry", index);
		goto out;
	}
	out->index = index;
	out->version = out->e.version;
	kt_hash_leaf(out->entry, out->entry_len, &out->leaf_hash);
	json_decref(o);
	o = NULL;
	snprintf(path, sizeof(path), "/v1/proof/inclusion?index=%" PRIu64
	    "&size=%" PRIu64, index, cp->size);
	e = kt_fetch_get(f, path, KT_CAP_PROOF, &body, &status, d, sizeof(d));
	if (e != KT_OK || status != 200) {
		st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
		    KT_VERIFY_FAILED, "GET inclusion proof %" PRIu64 ": %s",
		    index, e != KT_OK ? d : "HTTP error");
		goto out;
	}
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK ||
	    kt_vparse_proof(o, &out->proof, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "inclusion proof: %s", d);
		goto out;
	}
	if (out->proof.index != index ||
	    kt_vcheck_inclusion(out, cp, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "entry %" PRIu64 ": %s",
		    index, out->proof.index != index ? "proof for another "
		    "index" : d);
		goto out;
	}
	st = KT_VERIFY_OK;
out:
	json_decref(o);
	kt_buf_free(&body);
	return st;
}
