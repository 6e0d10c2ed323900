/*
 * evidence.c: building, writing and offline checking of evidence files.
 *
 * An evidence file is self-contained JSON that a third party can check with
 * only the log's verifier key (docs/verify.md, "Evidence"). Soundness rules
 * kept here:
 *  - a failing consistency proof proves nothing by itself (anyone can write
 *    a wrong proof), so it is never accepted as evidence;
 *  - a fork is proven only by two signed checkpoints of the same size with
 *    different roots, or by two signed checkpoints each committing, through
 *    a verified path, to a different value for the same perfect subtree
 *    [start, start + 2^level) lying inside both trees: an append-only log
 *    cannot do that without a SHA-256 collision;
 *  - a smaller checkpoint served after a larger one (rollback) is recorded
 *    but does not prove misbehaviour to a third party unless it comes with
 *    such a fork proof;
 *  - a ghost key is proven to be in the log; that it is not the owner's
 *    rests on the owner's stated list of keys, which the file carries.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "kt/tlogproof.h"
#include "verify_internal.h"

#define FORK_MAX_PROBES 16 /* records tried when looking for a fork proof */

/* ---- JSON helpers ---------------------------------------------------------- */

static json_t *
hashes_json(const struct kt_hash *h, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, kt_vb64_json(h[i].b, KT_HASH_LEN));
	return a;
}

static json_t *
note_json(const char *note, size_t len)
{
	return json_stringn(note, len);
}

json_t *
kt_evidence_leaf_json(const struct kt_vleaf *l)
{
	return json_pack("{s:I,s:o,s:o,s:o}", "index", (json_int_t)l->index,
	    "entry", kt_vb64_json(l->entry, l->entry_len),
	    "leaf_hash", kt_vb64_json(l->leaf_hash.b, KT_HASH_LEN),
	    "hashes", hashes_json(l->proof.proof.h, l->proof.proof.n));
}

static void
utc_now(char *buf, size_t cap, const char *fmt)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, fmt, &tm);
}

/* ---- writing --------------------------------------------------------------- */

int
kt_evidence_write(struct kt_verify *v, json_t *ev, struct kt_vresult *r)
{
	char edir[KT_VERIFY_PATH_MAX], name[128], ts[32], d[512];
	const char *type = json_string_value(json_object_get(ev, "type"));
	char *s;
	kt_err e;

	if (type == NULL)
		type = "evidence";
	utc_now(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ");
	json_object_set_new(ev, "kt_evidence", json_integer(1));
	json_object_set_new(ev, "origin", json_string(v->vk.name));
	json_object_set_new(ev, "log", json_string(v->url));
	json_object_set_new(ev, "detected", json_string(ts));
	utc_now(ts, sizeof(ts), "%Y%m%dT%H%M%SZ");
	snprintf(name, sizeof(name), "%s-%s-%08x.json", type, ts,
	    randombytes_random());
	if ((size_t)snprintf(edir, sizeof(edir), "%s/%s", v->dir,
	    KT_VSTATE_EVIDENCE) >= sizeof(edir) ||
	    (mkdir(edir, 0700) != 0 && errno != EEXIST)) {
		r->status = KT_VERIFY_ERROR;
		snprintf(r->msg + strlen(r->msg), sizeof(r->msg) -
		    strlen(r->msg), " (and the evidence file could not be "
		    "written: %s)", strerror(errno));
		return KT_VERIFY_ERROR;
	}
	s = json_dumps(ev, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	e = kt_vstate_write(edir, name, s, strlen(s), d, sizeof(d));
	free(s);
	if (e != KT_OK) {
		r->status = KT_VERIFY_ERROR;
		snprintf(r->msg + strlen(r->msg), sizeof(r->msg) -
		    strlen(r->msg), " (and the evidence file could not be "
		    "written: %s)", d);
		return KT_VERIFY_ERROR;
	}
	if ((size_t)snprintf(r->evidence, sizeof(r->evidence), "%s/%s", edir,
	    name) >= sizeof(r->evidence))
		r->evidence[0] = '\0'; /* cannot happen: dir is bounded */
	json_object_set_new(r->info, "evidence", json_string(r->evidence));
	r->status = KT_VERIFY_ATTACK;
	return KT_VERIFY_ATTACK;
}

/* ---- looking for a provable fork ------------------------------------------ */

/* The value of the level-k node on leaf a's path: a proof of leaf a whose
 * first k steps are all right siblings (a multiple of 2^k, subtree inside
 * the tree), folded. Sound only after the whole proof verified. */
static void
fold_right(const struct kt_hash *leaf, const struct kt_hash *p, unsigned k,
    struct kt_hash *out)
{
	*out = *leaf;
	for (unsigned j = 0; j < k; j++)
		kt_hash_node(out, &p[j], out);
}

static uint64_t
subtree_start(uint64_t size, unsigned k)
{
	/* Bits k..0 of size cleared: where the 2^k subtree of bit k starts. */
	return k >= 63 ? 0 : size & ~((UINT64_C(2) << k) - 1);
}

static json_t *
frontier_claim(const struct kt_frontier *fr, unsigned k)
{
	json_t *a = json_array();

	for (int b = 63; b >= 0; b--)
		if (fr->size >> b & 1)
			json_array_append_new(a, kt_vb64_json(fr->h[b].b,
			    KT_HASH_LEN));
	return json_pack("{s:i,s:I,s:o}", "level", (int)k, "index",
	    (json_int_t)subtree_start(fr->size, k), "frontier", a);
}

static json_t *
leaf_claim(const struct kt_vleaf *l, unsigned k)
{
	json_t *c = kt_evidence_leaf_json(l);

	json_object_set_new(c, "level", json_integer(k));
	return c;
}

static int
write_fork(struct kt_verify *v, const char *a_note, size_t a_len,
    json_t *a_claim, const char *b_note, size_t b_len, json_t *b_claim,
    const char *why, const char *how, struct kt_vresult *r)
{
	json_t *ev = json_pack("{s:s,s:b,s:s,s:[{s:o,s:o},{s:o,s:o}]}",
	    "type", "fork", "provable", 1, "summary", how, "views",
	    "checkpoint", note_json(a_note, a_len),
	    "claim", a_claim ? a_claim : json_null(),
	    "checkpoint", note_json(b_note, b_len),
	    "claim", b_claim ? b_claim : json_null());
	int st;

	kt_vres(r, KT_VERIFY_ATTACK, "ATTACK: %s; proven: %s", why, how);
	st = kt_evidence_write(v, ev, r);
	json_decref(ev);
	return st;
}

/* Frontier material: a monitor cursor's checkpoint and the perfect
 * subtrees of that tree, recomputed from every entry. */
static int
try_frontier(struct kt_verify *v, const json_t *rec, const char *b_note,
    size_t b_len, const struct kt_checkpoint *b, const char *why,
    struct kt_vresult *r, int *probes)
{
	json_t *jn = json_object_get(rec, "checkpoint");
	json_t *jf = json_object_get(rec, "frontier");
	struct kt_checkpoint x;
	struct kt_frontier fr;
	struct kt_hash root;
	char d[256];

	if (!json_is_string(jn) || !json_is_array(jf) ||
	    kt_vcheck_checkpoint(json_string_value(jn), json_string_length(jn),
	    &v->vk, &x, d, sizeof(d)) != KT_OK)
		return -1;
	memset(&fr, 0, sizeof(fr));
	fr.size = x.size;
	for (size_t i = 0, b2 = 64; i < json_array_size(jf); i++) {
		json_t *h = json_array_get(jf, i);
		while (b2 > 0 && !(x.size >> (b2 - 1) & 1))
			b2--;
		if (b2 == 0 || !json_is_string(h) ||
		    kt_vb64_hash(json_string_value(h), json_string_length(h),
		    &fr.h[b2 - 1]) != KT_OK)
			return -1;
		b2--;
	}
	kt_frontier_root(&fr, &root);
	if (!kt_hash_eq(&root, &x.root))
		return -1;
	if (x.size == b->size) {
		if (kt_hash_eq(&x.root, &b->root))
			return -1;
		return write_fork(v, json_string_value(jn),
		    json_string_length(jn), NULL, b_note, b_len, NULL, why,
		    "two signed checkpoints of the same size with different "
		    "roots", r);
	}
	if (x.size > b->size)
		return -1;
	for (int k = 63; k >= 0; k--) {
		struct kt_vresult tmp;
		struct kt_vleaf *l;
		struct kt_hash node;
		uint64_t a;
		int st;

		if (!(x.size >> k & 1))
			continue;
		if (++*probes > 64 + FORK_MAX_PROBES)
			return -1;
		a = subtree_start(x.size, (unsigned)k);
		l = malloc(sizeof(*l));
		if (l == NULL)
			return -1;
		kt_vresult_init(&tmp);
		st = kt_verify_fetch_leaf(v, a, b, l, &tmp);
		kt_vresult_free(&tmp);
		if (st != KT_VERIFY_OK || l->proof.proof.n < (size_t)k) {
			free(l);
			return -1; /* the server will not show us b's tree */
		}
		fold_right(&l->leaf_hash, l->proof.proof.h, (unsigned)k, &node);
		if (!kt_hash_eq(&node, &fr.h[k])) {
			char how[256];
			snprintf(how, sizeof(how), "the two signed trees hold "
			    "different hashes for leaves [%" PRIu64 ", %" PRIu64
			    ")", a, a + (UINT64_C(1) << k));
			st = write_fork(v, json_string_value(jn),
			    json_string_length(jn),
			    frontier_claim(&fr, (unsigned)k), b_note, b_len,
			    leaf_claim(l, (unsigned)k), why, how, r);
			free(l);
			return st;
		}
		free(l);
	}
	return -1;
}

/* Leaf material: a pinned entry with its inclusion proof to a signed
 * checkpoint; ask b's tree for the same index. */
static int
try_leaf(struct kt_verify *v, const json_t *rec, const char *b_note,
    size_t b_len, const struct kt_checkpoint *b, const char *why,
    struct kt_vresult *r, int *probes)
{
	json_t *jn = json_object_get(rec, "checkpoint");
	json_t *jl = json_object_get(rec, "leaf");
	struct kt_checkpoint x;
	struct kt_vleaf *mine = NULL, *theirs = NULL;
	struct kt_vresult tmp;
	char d[256];
	int st = -1;

	if (!json_is_string(jn) || !json_is_object(jl) ||
	    kt_vcheck_checkpoint(json_string_value(jn), json_string_length(jn),
	    &v->vk, &x, d, sizeof(d)) != KT_OK)
		return -1;
	mine = calloc(1, sizeof(*mine));
	theirs = calloc(1, sizeof(*theirs));
	if (mine == NULL || theirs == NULL)
		goto out;
	{
		json_t *je = json_object_get(jl, "entry");
		json_t *ji = json_object_get(jl, "index");
		json_t *jh = json_object_get(jl, "hashes");
		if (!json_is_string(je) || !json_is_integer(ji) ||
		    json_integer_value(ji) < 0 || !json_is_array(jh) ||
		    json_array_size(jh) > KT_MAX_PROOF ||
		    kt_b64_decode(json_string_value(je), json_string_length(je),
		    mine->entry, sizeof(mine->entry), &mine->entry_len) != KT_OK)
			goto out;
		mine->index = (uint64_t)json_integer_value(ji);
		mine->proof.index = mine->index;
		mine->proof.size = x.size;
		mine->proof.proof.n = json_array_size(jh);
		for (size_t i = 0; i < mine->proof.proof.n; i++) {
			json_t *h = json_array_get(jh, i);
			if (!json_is_string(h) || kt_vb64_hash(
			    json_string_value(h), json_string_length(h),
			    &mine->proof.proof.h[i]) != KT_OK)
				goto out;
		}
		kt_hash_leaf(mine->entry, mine->entry_len, &mine->leaf_hash);
		if (kt_vcheck_inclusion(mine, &x, d, sizeof(d)) != KT_OK)
			goto out;
	}
	if (mine->index >= b->size || ++*probes > 64 + FORK_MAX_PROBES)
		goto out;
	kt_vresult_init(&tmp);
	st = kt_verify_fetch_leaf(v, mine->index, b, theirs, &tmp);
	kt_vresult_free(&tmp);
	if (st != KT_VERIFY_OK) {
		st = -1;
		goto out;
	}
	if (kt_hash_eq(&theirs->leaf_hash, &mine->leaf_hash)) {
		st = -1;
		goto out;
	}
	{
		char how[160];
		snprintf(how, sizeof(how), "the two signed trees hold "
		    "different entries at index %" PRIu64, mine->index);
		st = write_fork(v, json_string_value(jn),
		    json_string_length(jn), leaf_claim(mine, 0), b_note, b_len,
		    leaf_claim(theirs, 0), why, how, r);
	}
out:
	free(mine);
	free(theirs);
	return st;
}

/* Same-size fork, else the material search; -1 when nothing proves it. */
static int
fork_proof(struct kt_verify *v, const char *a_note, size_t a_len,
    const struct kt_checkpoint *a, const char *b_note, size_t b_len,
    const struct kt_checkpoint *b, const char *why, struct kt_vresult *r)
{
	json_t *mon = NULL, *pins = NULL;
	const char *key;
	json_t *rec;
	char d[512];
	int probes = 0, st = -1;

	if (a->size == b->size &&
	    !kt_hash_eq(&a->root, &b->root))
		return write_fork(v, a_note, a_len, NULL, b_note, b_len, NULL,
		    why, "two signed checkpoints of the same size with "
		    "different roots", r);

	/* Look through what this client kept for a node both trees commit
	 * to with different values. Failures here are not errors: they only
	 * mean this material cannot prove the fork. */
	if (kt_vstate_load_json(v->dir, KT_VSTATE_MATERIAL, &mon, d, sizeof(d))
	    == KT_OK && json_object_size(mon) > 0) {
		st = try_frontier(v, mon, b_note, b_len, b, why, r, &probes);
		if (st >= 0)
			goto out;
	}
	json_decref(mon);
	mon = NULL;
	if (kt_vstate_load_json(v->dir, KT_VSTATE_MONITOR, &mon, d, sizeof(d))
	    == KT_OK) {
		json_object_foreach(json_object_get(mon, "labels"), key, rec) {
			st = try_frontier(v, rec, b_note, b_len, b, why, r,
			    &probes);
			if (st >= 0)
				goto out;
		}
	}
	if (kt_vstate_load_json(v->dir, KT_VSTATE_PINS, &pins, d, sizeof(d))
	    == KT_OK) {
		json_object_foreach(json_object_get(pins, "labels"), key, rec) {
			st = try_leaf(v, rec, b_note, b_len, b, why, r,
			    &probes);
			if (st >= 0)
				goto out;
		}
	}
	st = -1;
out:
	json_decref(mon);
	json_decref(pins);
	return st;
}

int
kt_evidence_fork_provable(struct kt_verify *v, const char *a_note,
    size_t a_len, const struct kt_checkpoint *a, const char *b_note,
    size_t b_len, const struct kt_checkpoint *b, const char *why,
    struct kt_vresult *r)
{
	return fork_proof(v, a_note, a_len, a, b_note, b_len, b, why, r);
}

int
kt_evidence_fork(struct kt_verify *v, const char *kind, const char *a_note,
    size_t a_len, const struct kt_checkpoint *a, const char *b_note,
    size_t b_len, const struct kt_checkpoint *b, const char *why,
    struct kt_vresult *r)
{
	return kt_evidence_fork_proof(v, kind, a_note, a_len, a, b_note, b_len,
	    b, NULL, why, r);
}

int
kt_evidence_fork_proof(struct kt_verify *v, const char *kind,
    const char *a_note, size_t a_len, const struct kt_checkpoint *a,
    const char *b_note, size_t b_len, const struct kt_checkpoint *b,
    const struct kt_proof *p, const char *why, struct kt_vresult *r)
{
	json_t *ev;
	int st;

	/* The material pins the differing entries (most telling); a failing
	 * consistency proof that still reaches b's root binds b's prefix
	 * (no further requests); else a record. */
	st = fork_proof(v, a_note, a_len, a, b_note, b_len, b, why, r);
	if (st >= 0)
		return st;
	if (p != NULL && (st = kt_evidence_fork_prefix(v, a_note, a_len, a,
	    b_note, b_len, b, p, why, r)) >= 0)
		return st;
	/* Not provable to a third party: keep the record anyway (exit 3 is
	 * always with a file) and say what it does and does not show. */
	ev = json_pack("{s:s,s:b,s:s,s:[{s:o},{s:o}]}", "type",
	    strcmp(kind, "rollback") == 0 ? "rollback" : "inconsistent",
	    "provable", 0, "summary", why, "views",
	    "checkpoint", note_json(a_note, a_len),
	    "checkpoint", note_json(b_note, b_len));
	kt_vres(r, KT_VERIFY_ATTACK, "ATTACK: %s (stored tree size %" PRIu64
	    ", presented %" PRIu64 "); the record holds both signed "
	    "checkpoints but no fork proof", why, a->size, b->size);
	st = kt_evidence_write(v, ev, r);
	json_decref(ev);
	return st;
}

/*
 * The root of the size-m prefix that a consistency proof from m to n binds
 * into the tree with root n_root (RFC 9162 §2.1.4.2 run without the old
 * root, which the proof itself holds unless m is a power of two). -1 when
 * it cannot be computed or the proof does not reach n_root. The result is
 * re-checked with the library's verifier, so a bug here cannot produce an
 * unsound claim.
 */
static int
prefix_root(uint64_t m, uint64_t n, const struct kt_proof *p,
    const struct kt_hash *n_root, struct kt_hash *out)
{
	struct kt_hash fr, sr;
	uint64_t fn, sn;

	if (m == 0 || m >= n || (m & (m - 1)) == 0 || p->n == 0)
		return -1;
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	fr = sr = p->h[0];
	for (size_t i = 1; i < p->n; i++) {
		if (sn == 0)
			return -1;
		if ((fn & 1) || fn == sn) {
			kt_hash_node(&p->h[i], &fr, &fr);
			kt_hash_node(&p->h[i], &sr, &sr);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			kt_hash_node(&sr, &p->h[i], &sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !kt_hash_eq(&sr, n_root) ||
	    kt_merkle_verify_consistency(m, n, p->h, p->n, &fr, n_root)
	    != KT_OK)
		return -1;
	*out = fr;
	return 0;
}

int
kt_evidence_fork_prefix(struct kt_verify *v, const char *a_note,
    size_t a_len, const struct kt_checkpoint *a, const char *b_note,
    size_t b_len, const struct kt_checkpoint *b, const struct kt_proof *p,
    const char *why, struct kt_vresult *r)
{
	struct kt_hash x;
	json_t *claim;
	char how[200];

	if (prefix_root(a->size, b->size, p, &b->root, &x) != 0 ||
	    kt_hash_eq(&x, &a->root))
		return -1;
	claim = json_pack("{s:I,s:o,s:o}", "prefix_size", (json_int_t)a->size,
	    "prefix_root", kt_vb64_json(x.b, KT_HASH_LEN), "hashes",
	    hashes_json(p->h, p->n));
	snprintf(how, sizeof(how), "the signed tree of size %" PRIu64 " has, "
	    "by a consistency proof to its root, a prefix of size %" PRIu64
	    " whose root is not the one the log signed for that size",
	    b->size, a->size);
	return write_fork(v, a_note, a_len, NULL, b_note, b_len, claim, why,
	    how, r);
}

int
kt_evidence_fork_leaves(struct kt_verify *v, const char *a_note,
    size_t a_len, const struct kt_vleaf *a, const char *b_note, size_t b_len,
    const struct kt_vleaf *b, const char *why, struct kt_vresult *r)
{
	char how[160];

	snprintf(how, sizeof(how), "the two signed trees hold different "
	    "entries at index %" PRIu64, a->index);
	return write_fork(v, a_note, a_len, leaf_claim(a, 0), b_note, b_len,
	    leaf_claim(b, 0), why, how, r);
}

size_t
kt_inclusion_len(uint64_t index, uint64_t size)
{
	uint64_t fn = index, sn = size - 1;
	size_t n = 0;

	/* The step count of RFC 9162 §2.1.3.2's loop. */
	while (sn != 0) {
		n++;
		if ((fn & 1) || fn == sn) {
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		}
		fn >>= 1;
		sn >>= 1;
	}
	return n;
}

/* ---- offline verification ------------------------------------------------- */

struct claim {
	unsigned level;
	uint64_t start;
	struct kt_hash node;
};

static int
fail(struct kt_vresult *r, const char *fmt, const char *detail)
{
	return kt_vres(r, KT_VERIFY_FAILED, fmt, detail);
}

static kt_err
json_hash(const json_t *j, struct kt_hash *out)
{
	if (!json_is_string(j))
		return KT_ERR_MALFORMED;
	return kt_vb64_hash(json_string_value(j), json_string_length(j), out);
}

static kt_err
json_hashes(const json_t *a, struct kt_proof *out)
{
	if (!json_is_array(a) || json_array_size(a) > KT_MAX_PROOF)
		return KT_ERR_MALFORMED;
	out->n = json_array_size(a);
	for (size_t i = 0; i < out->n; i++)
		if (json_hash(json_array_get(a, i), &out->h[i]) != KT_OK)
			return KT_ERR_MALFORMED;
	return KT_OK;
}

static kt_err
json_u64(const json_t *o, const char *k, uint64_t *out)
{
	json_t *j = json_object_get(o, k);

	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return KT_ERR_MALFORMED;
	*out = (uint64_t)json_integer_value(j);
	return KT_OK;
}

/* A signed checkpoint from an evidence file. */
static kt_err
ev_checkpoint(const json_t *j, const struct kt_verifier *vk,
    struct kt_checkpoint *cp, char *d, size_t dlen)
{
	if (!json_is_string(j) || json_string_length(j) > KT_NOTE_MAX) {
		snprintf(d, dlen, "a checkpoint is missing or not a string");
		return KT_ERR_MALFORMED;
	}
	return kt_vcheck_checkpoint(json_string_value(j), json_string_length(j),
	    vk, cp, d, dlen);
}

/* A leaf with its inclusion proof against cp; entry bytes optional when a
 * leaf_hash is given. e is set (decoded) when entry bytes are present. */
static kt_err
ev_leaf(const json_t *o, const struct kt_checkpoint *cp, struct kt_vleaf *l,
    int need_entry, char *d, size_t dlen)
{
	json_t *je = json_object_get(o, "entry");
	json_t *jh = json_object_get(o, "leaf_hash");

	memset(l, 0, sizeof(*l));
	if (!json_is_object(o) || json_u64(o, "index", &l->index) != KT_OK ||
	    json_hashes(json_object_get(o, "hashes"), &l->proof.proof)
	    != KT_OK) {
		snprintf(d, dlen, "a leaf record lacks index or hashes");
		return KT_ERR_MALFORMED;
	}
	if (je != NULL) {
		if (!json_is_string(je) || kt_b64_decode(json_string_value(je),
		    json_string_length(je), l->entry, sizeof(l->entry),
		    &l->entry_len) != KT_OK ||
		    kt_entry_decode(l->entry, l->entry_len, &l->e) != KT_OK) {
			snprintf(d, dlen, "entry at index %" PRIu64 " is not a "
			    "well-formed kt entry", l->index);
			return KT_ERR_MALFORMED;
		}
		kt_hash_leaf(l->entry, l->entry_len, &l->leaf_hash);
	} else if (need_entry) {
		snprintf(d, dlen, "entry bytes missing");
		return KT_ERR_MALFORMED;
	}
	if (jh != NULL) {
		struct kt_hash h;
		if (json_hash(jh, &h) != KT_OK) {
			snprintf(d, dlen, "bad leaf_hash");
			return KT_ERR_MALFORMED;
		}
		if (je != NULL && !kt_hash_eq(&h, &l->leaf_hash)) {
			snprintf(d, dlen, "leaf_hash is not the entry's hash");
			return KT_ERR_VERIFY;
		}
		l->leaf_hash = h;
	} else if (je == NULL) {
		snprintf(d, dlen, "neither entry nor leaf_hash given");
		return KT_ERR_MALFORMED;
	}
	l->proof.index = l->index;
	l->proof.size = cp->size;
	return kt_vcheck_inclusion(l, cp, d, dlen);
}

/* A claim that cp's tree holds value node for subtree [start, start+2^k). */
static kt_err
ev_claim(const json_t *o, const struct kt_checkpoint *cp, struct claim *c,
    char *d, size_t dlen)
{
	uint64_t level;
	json_t *jf = json_object_get(o, "frontier");

	if (!json_is_object(o) || json_u64(o, "level", &level) != KT_OK ||
	    level > 63 || json_u64(o, "index", &c->start) != KT_OK) {
		snprintf(d, dlen, "a claim lacks level or index");
		return KT_ERR_MALFORMED;
	}
	c->level = (unsigned)level;
	if (c->start & ((UINT64_C(1) << c->level) - 1) ||
	    c->start > cp->size ||
	    (UINT64_C(1) << c->level) > cp->size - c->start) {
		snprintf(d, dlen, "claimed subtree is not a perfect subtree "
		    "inside its tree");
		return KT_ERR_VERIFY;
	}
	if (jf != NULL) {
		struct kt_frontier fr;
		struct kt_hash root;
		size_t i = 0;

		memset(&fr, 0, sizeof(fr));
		fr.size = cp->size;
		if (!json_is_array(jf) || json_array_size(jf) !=
		    (size_t)__builtin_popcountll(cp->size)) {
			snprintf(d, dlen, "frontier must hold one hash per set "
			    "bit of the tree size");
			return KT_ERR_MALFORMED;
		}
		for (int b = 63; b >= 0; b--)
			if (cp->size >> b & 1)
				if (json_hash(json_array_get(jf, i++),
				    &fr.h[b]) != KT_OK) {
					snprintf(d, dlen, "bad frontier hash");
					return KT_ERR_MALFORMED;
				}
		kt_frontier_root(&fr, &root);
		if (!kt_hash_eq(&root, &cp->root)) {
			snprintf(d, dlen, "frontier does not hash to the "
			    "signed root");
			return KT_ERR_VERIFY;
		}
		if (!(cp->size >> c->level & 1) ||
		    subtree_start(cp->size, c->level) != c->start) {
			snprintf(d, dlen, "claimed subtree is not in the "
			    "frontier");
			return KT_ERR_VERIFY;
		}
		c->node = fr.h[c->level];
		return KT_OK;
	} else {
		struct kt_vleaf *l = malloc(sizeof(*l));
		kt_err e;

		if (l == NULL)
			return KT_ERR_NOMEM;
		e = ev_leaf(o, cp, l, 0, d, dlen);
		if (e == KT_OK && (l->index != c->start ||
		    l->proof.proof.n < c->level)) {
			snprintf(d, dlen, "leaf claim is not for the first "
			    "leaf of its subtree");
			e = KT_ERR_VERIFY;
		}
		if (e == KT_OK)
			fold_right(&l->leaf_hash, l->proof.proof.h, c->level,
			    &c->node);
		free(l);
		return e;
	}
}

/*
 * A prefix claim on the larger view L: a consistency proof from the other
 * view S's size to L's that verifies from `prefix_root` to L's signed root.
 * That binds prefix_root as the root of L's first |S| leaves (barring a
 * SHA-256 collision); if it is not S's signed root, the log signed two
 * trees that cannot be one append-only history.
 */
static int
verify_prefix_claim(const json_t *cl, const struct kt_checkpoint *l,
    const struct kt_checkpoint *s, int other_claim, struct kt_vresult *r)
{
	struct kt_proof p;
	struct kt_hash x;
	uint64_t m;

	if (other_claim)
		return fail(r, "%s", "fork evidence: a prefix claim stands "
		    "alone (the other view's claim must be null)");
	if (json_u64(cl, "prefix_size", &m) != KT_OK ||
	    json_hash(json_object_get(cl, "prefix_root"), &x) != KT_OK ||
	    json_hashes(json_object_get(cl, "hashes"), &p) != KT_OK)
		return fail(r, "%s", "fork evidence: a prefix claim needs "
		    "prefix_size, prefix_root and hashes");
	if (m != s->size || m == 0 || m >= l->size)
		return fail(r, "%s", "fork evidence: the prefix claim must be "
		    "for the other (smaller, non-empty) view's size");
	if (kt_merkle_verify_consistency(m, l->size, p.h, p.n, &x, &l->root)
	    != KT_OK)
		return fail(r, "%s", "fork evidence: the prefix claim's "
		    "consistency proof does not reach the signed root");
	if (kt_hash_eq(&x, &s->root))
		return fail(r, "%s", "fork evidence proves nothing: the prefix "
		    "root is the smaller view's signed root (consistent)");
	return kt_vres(r, KT_VERIFY_OK, "PROVEN: the log signed a tree of "
	    "size %" PRIu64 " whose first %" PRIu64 " leaves (bound by a "
	    "consistency proof to its root) are not the tree of size %" PRIu64
	    " it also signed (a fork)", l->size, m, s->size);
}

static int
verify_fork(const json_t *ev, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	json_t *views = json_object_get(ev, "views");
	struct kt_checkpoint cp[2];
	struct claim c[2];
	char d[512];
	int have[2];

	if (!json_is_array(views) || json_array_size(views) != 2)
		return fail(r, "%s", "fork evidence needs exactly two views");
	for (size_t i = 0; i < 2; i++) {
		json_t *vw = json_array_get(views, i);
		json_t *cl = json_object_get(vw, "claim");
		if (ev_checkpoint(json_object_get(vw, "checkpoint"), vk, &cp[i],
		    d, sizeof(d)) != KT_OK)
			return fail(r, "fork evidence: %s", d);
		have[i] = cl != NULL && !json_is_null(cl);
	}
	for (size_t i = 0; i < 2; i++) {
		json_t *cl = json_object_get(json_array_get(views, i), "claim");
		if (have[i] && json_object_get(cl, "prefix_size") != NULL)
			return verify_prefix_claim(cl, &cp[i], &cp[1 - i],
			    have[1 - i], r);
		if (have[i] && ev_claim(cl, &cp[i], &c[i], d, sizeof(d))
		    != KT_OK)
			return fail(r, "fork evidence: %s", d);
	}
	if (cp[0].size == cp[1].size) {
		if (!kt_hash_eq(&cp[0].root, &cp[1].root))
			return kt_vres(r, KT_VERIFY_OK, "PROVEN: the log signed "
			    "two different trees of size %" PRIu64 " (a fork)",
			    cp[0].size);
	}
	if (!have[0] || !have[1])
		return fail(r, "%s", "fork evidence proves nothing: the "
		    "checkpoints differ in size and no subtree claims are "
		    "given (a smaller tree alone is no misbehaviour)");
	if (c[0].level != c[1].level || c[0].start != c[1].start)
		return fail(r, "%s", "fork evidence: the two claims are about "
		    "different subtrees");
	if (kt_hash_eq(&c[0].node, &c[1].node))
		return fail(r, "%s", "fork evidence proves nothing: both trees "
		    "agree on the claimed subtree");
	return kt_vres(r, KT_VERIFY_OK, "PROVEN: the log signed a tree of "
	    "size %" PRIu64 " and one of size %" PRIu64 " that hold different "
	    "hashes for leaves [%" PRIu64 ", %" PRIu64 "): they cannot both "
	    "be versions of one append-only log (a fork)", cp[0].size,
	    cp[1].size, c[0].start, c[0].start + (UINT64_C(1) << c[0].level));
}

static int
verify_ghost(const json_t *ev, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	json_t *jl = json_object_get(ev, "label");
	json_t *jx = json_object_get(ev, "expected_keys");
	struct kt_checkpoint cp;
	struct kt_vleaf *l = NULL;
	char d[512], fp[48];
	int st;

	if (!json_is_string(jl) || !json_is_array(jx))
		return fail(r, "%s", "ghost-key evidence needs label and "
		    "expected_keys");
	if (ev_checkpoint(json_object_get(ev, "checkpoint"), vk, &cp, d,
	    sizeof(d)) != KT_OK)
		return fail(r, "ghost-key evidence: %s", d);
	l = malloc(sizeof(*l));
	if (l == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (ev_leaf(json_object_get(ev, "leaf"), &cp, l, 1, d, sizeof(d))
	    != KT_OK) {
		st = fail(r, "ghost-key evidence: %s", d);
		goto out;
	}
	if (l->e.label_len != json_string_length(jl) ||
	    memcmp(l->e.label, json_string_value(jl), l->e.label_len) != 0) {
		st = fail(r, "%s", "ghost-key evidence: the entry is for "
		    "another label");
		goto out;
	}
	if (l->e.type != KT_ENTRY_KEY) {
		st = fail(r, "%s", "ghost-key evidence: the entry is not a key");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(jx); i++) {
		uint8_t k[KT_KEY_MAX];
		size_t n;
		json_t *j = json_array_get(jx, i);
		if (!json_is_string(j) || kt_b64_decode(json_string_value(j),
		    json_string_length(j), k, sizeof(k), &n) != KT_OK) {
			st = fail(r, "%s", "ghost-key evidence: bad expected key");
			goto out;
		}
		if (n == l->e.key_len && memcmp(k, l->e.key, n) == 0) {
			st = fail(r, "%s", "ghost-key evidence proves nothing: "
			    "the logged key is one of the expected keys");
			goto out;
		}
	}
	kt_key_fingerprint(l->e.key, l->e.key_len, fp);
	st = kt_vres(r, KT_VERIFY_OK, "PROVEN: the log's signed tree of size "
	    "%" PRIu64 " holds, at index %" PRIu64 ", version %" PRIu64 " of "
	    "label \"%.*s\" with %.*s key %s, which is not among the %zu "
	    "keys its owner states they published (that last part is the "
	    "owner's statement)", cp.size, l->index, l->e.version,
	    (int)l->e.label_len, l->e.label, (int)l->e.key_type_len,
	    l->e.key_type, fp, json_array_size(jx));
out:
	free(l);
	return st;
}

/* The audit rules a pair (or one) of logged entries can break. */
static int
verify_bad_entries(const json_t *ev, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	const char *rule = json_string_value(json_object_get(ev, "rule"));
	json_t *je = json_object_get(ev, "entries");
	struct kt_checkpoint cp;
	struct kt_vleaf *l = NULL;
	char d[512];
	size_t n;
	int st, bad = 0;

	if (rule == NULL || !json_is_array(je) || (n = json_array_size(je)) < 1
	    || n > 2)
		return fail(r, "%s", "bad-entries evidence needs a rule and one "
		    "or two entries");
	if (ev_checkpoint(json_object_get(ev, "checkpoint"), vk, &cp, d,
	    sizeof(d)) != KT_OK)
		return fail(r, "bad-entries evidence: %s", d);
	l = calloc(2, sizeof(*l));
	if (l == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (ev_leaf(json_array_get(je, i), &cp, &l[i], 1, d, sizeof(d))
		    != KT_OK) {
			st = fail(r, "bad-entries evidence: %s", d);
			goto out;
		}
#define SAME_LABEL(a, b) ((a).e.label_len == (b).e.label_len && \
	memcmp((a).e.label, (b).e.label, (a).e.label_len) == 0)
	if (strcmp(rule, "prev-link") == 0) {
		/* entries[0] links to entries[1] (or to itself or later) */
		if (n == 1)
			bad = l[0].e.version >= 2 &&
			    l[0].e.prev_index >= l[0].index;
		else
			bad = l[0].e.version >= 2 &&
			    l[0].e.prev_index == l[1].index &&
			    !(SAME_LABEL(l[0], l[1]) && l[1].index < l[0].index
			    && l[1].e.version == l[0].e.version - 1);
	} else if (strcmp(rule, "version-order") == 0) {
		bad = n == 2 && l[0].index < l[1].index &&
		    SAME_LABEL(l[0], l[1]) && l[1].e.version <= l[0].e.version;
	} else if (strcmp(rule, "revoke-after-revoke") == 0) {
		bad = n == 2 && l[1].e.type == KT_ENTRY_REVOKE &&
		    l[0].e.type == KT_ENTRY_REVOKE && SAME_LABEL(l[0], l[1]) &&
		    l[1].e.prev_index == l[0].index;
	} else if (strcmp(rule, "timestamp") == 0) {
		bad = n == 2 && l[1].index == l[0].index + 1 &&
		    l[1].e.timestamp_ms < l[0].e.timestamp_ms;
	} else {
		st = fail(r, "bad-entries evidence: unknown rule \"%s\"", rule);
		goto out;
	}
#undef SAME_LABEL
	if (!bad) {
		st = fail(r, "bad-entries evidence proves nothing: the entries "
		    "do not break rule \"%s\"", rule);
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_OK, "PROVEN: the log's signed tree of size %"
	    PRIu64 " holds entries (index %" PRIu64 "%s) that break rule "
	    "\"%s\"", cp.size, l[0].index, n == 2 ? " and another" : "", rule);
out:
	free(l);
	return st;
}

static int
verify_tlogproof(const char *buf, size_t len, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	struct kt_tlogproof *tp = malloc(sizeof(*tp));
	struct kt_checkpoint cp;
	struct kt_vleaf *l = malloc(sizeof(*l));
	char d[512], fp[48];
	int st;

	if (tp == NULL || l == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if (kt_tlogproof_parse(buf, len, tp) != KT_OK) {
		st = fail(r, "%s", "not a well-formed C2SP tlog-proof");
		goto out;
	}
	if (kt_vcheck_checkpoint(tp->note, tp->note_len, vk, &cp, d, sizeof(d))
	    != KT_OK) {
		st = fail(r, "tlog-proof: %s", d);
		goto out;
	}
	if (tp->extra_len == 0 || kt_entry_decode(tp->extra, tp->extra_len,
	    &l->e) != KT_OK) {
		st = fail(r, "%s", "tlog-proof: the extra line does not hold "
		    "a kt entry");
		goto out;
	}
	memcpy(l->entry, tp->extra, tp->extra_len);
	l->entry_len = tp->extra_len;
	if (kt_entry_decode(l->entry, l->entry_len, &l->e) != KT_OK) {
		st = fail(r, "%s", "tlog-proof: bad entry");
		goto out;
	}
	kt_hash_leaf(l->entry, l->entry_len, &l->leaf_hash);
	l->index = tp->index;
	l->proof.index = tp->index;
	l->proof.size = cp.size;
	l->proof.proof = tp->proof;
	if (kt_vcheck_inclusion(l, &cp, d, sizeof(d)) != KT_OK) {
		st = fail(r, "tlog-proof: %s", d);
		goto out;
	}
	if (l->e.type == KT_ENTRY_KEY)
		kt_key_fingerprint(l->e.key, l->e.key_len, fp);
	else
		snprintf(fp, sizeof(fp), "(revocation)");
	json_object_set_new(r->info, "label",
	    json_stringn(l->e.label, l->e.label_len));
	json_object_set_new(r->info, "version", json_integer(
	    (json_int_t)l->e.version));
	json_object_set_new(r->info, "index", json_integer(
	    (json_int_t)l->index));
	st = kt_vres(r, KT_VERIFY_OK, "VALID inclusion proof: label \"%.*s\" "
	    "version %" PRIu64 " key %s is entry %" PRIu64 " of the log's "
	    "signed tree of size %" PRIu64 " (proves inclusion, not "
	    "misbehaviour)", (int)l->e.label_len, l->e.label, l->e.version,
	    fp, l->index, cp.size);
out:
	free(tp);
	free(l);
	return st;
}

int
kt_verify_evidence(const char *buf, size_t len, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	static const char tlog_magic[] = "c2sp.org/tlog-proof@v1\n";
	json_t *ev = NULL;
	json_error_t je;
	const char *type;
	int st;

	if (len >= sizeof(tlog_magic) - 1 &&
	    memcmp(buf, tlog_magic, sizeof(tlog_magic) - 1) == 0)
		return verify_tlogproof(buf, len, vk, r);
	ev = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (ev == NULL || !json_is_object(ev)) {
		json_decref(ev);
		return fail(r, "not an evidence file: %s", ev == NULL ?
		    je.text : "not a JSON object");
	}
	if (json_integer_value(json_object_get(ev, "kt_evidence")) != 1 ||
	    !json_is_integer(json_object_get(ev, "kt_evidence"))) {
		st = fail(r, "%s", "not a kt evidence file (kt_evidence != 1)");
		goto out;
	}
	type = json_string_value(json_object_get(ev, "type"));
	if (type == NULL)
		st = fail(r, "%s", "evidence has no type");
	else if (strcmp(type, "fork") == 0)
		st = verify_fork(ev, vk, r);
	else if (strcmp(type, "ghost-key") == 0)
		st = verify_ghost(ev, vk, r);
	else if (strcmp(type, "bad-entries") == 0)
		st = verify_bad_entries(ev, vk, r);
	else if (strcmp(type, "unlogged-key") == 0)
		/* A proof that fails proves nothing: anyone can write one. */
		st = fail(r, "%s", "NOT PROVEN: an unlogged-key record shows "
		    "what a server sent (a key with an inclusion proof that "
		    "does not verify); responses are not signed, so a third "
		    "party cannot tell who made it");
	else if (strcmp(type, "rollback") == 0 ||
	    strcmp(type, "inconsistent") == 0) {
		/* Check what can be checked, then say why it is not proof. */
		json_t *views = json_object_get(ev, "views");
		struct kt_checkpoint cp;
		char d[512];
		st = -1;
		for (size_t i = 0; i < json_array_size(views) && st < 0; i++)
			if (ev_checkpoint(json_object_get(json_array_get(views,
			    i), "checkpoint"), vk, &cp, d, sizeof(d)) != KT_OK)
				st = kt_vres(r, KT_VERIFY_FAILED, "%s evidence: "
				    "%s", type, d);
		if (st < 0)
			st = fail(r, "%s", "NOT PROVEN: the record holds "
			    "checkpoints validly signed by the log, but "
			    "signed checkpoints of different sizes (or a "
			    "failing consistency proof) do not show "
			    "misbehaviour to a third party; it documents what "
			    "this client was shown");
	} else
		st = fail(r, "unknown evidence type \"%s\"", type);
out:
	json_decref(ev);
	return st;
}
