/*
 * evidence_write.c: building and writing evidence files (the offline check
 * of the same files is evidence_check.c).
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

#include "verify_internal.h"

#define FORK_MAX_PROBES 16 /* records tried when looking for a fork proof */

/* ---- JSON helpers --------------------------------------------------------- */

static json_t *
note_json(const char *note, size_t len)
{
	return json_stringn(note, len);
}

static void
utc_now(char *buf, size_t cap, const char *fmt)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, fmt, &tm);
}

/* ---- writing -------------------------------------------------------------- */

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

static json_t *
frontier_claim(const struct kt_frontier *fr, unsigned k)
{
	return json_pack("{s:i,s:I,s:o}", "level", (int)k, "index",
	    (json_int_t)kt_vsubtree_start(fr->size, k), "frontier",
	    kt_vfrontier_json(fr));
}

static json_t *
leaf_claim(const struct kt_vleaf *l, unsigned k)
{
	json_t *c = kt_vleaf_json(l);

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
		a = kt_vsubtree_start(x.size, (unsigned)k);
		l = malloc(sizeof(*l));
		if (l == NULL)
			return -1;
		kt_vresult_init(&tmp);
		st = kt_vlog_leaf(v, a, b, l, &tmp);
		kt_vresult_free(&tmp);
		if (st != KT_VERIFY_OK || l->proof.proof.n < (size_t)k) {
			free(l);
			return -1; /* the server will not show us b's tree */
		}
		kt_vsubtree_node(&l->leaf_hash, l->proof.proof.h, (unsigned)k, &node);
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
	st = kt_vlog_leaf(v, mine->index, b, theirs, &tmp);
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
	    kt_vhashes_json(p->h, p->n));
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
