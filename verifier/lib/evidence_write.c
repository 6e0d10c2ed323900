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

#include "kt/fmt.h"
#include "verify_internal.h"

#define FORK_MAX_PROBES 16 /* records tried when looking for a fork proof */
#define HOW_MAX 256        /* what a fork proof shows, for the message */

/* ---- writing ------------------------------------------------------------- */

/* The current UTC time in fmt (strftime), into buf. KT_ERR_INTERNAL if
 * the clock cannot be read or the time does not fit. */
static kt_err
utc_now(char *buf, size_t cap, const char *fmt)
{
	time_t t = time(NULL);
	struct tm tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, cap, fmt, &tm) == 0)
		return KT_ERR_INTERNAL;
	return KT_OK;
}

/* Writes ev (sets "kt_evidence", "type" must be set) under dir/evidence/;
 * fills r->evidence. Returns KT_VERIFY_ATTACK, or KT_VERIFY_ERROR if the
 * file could not be written. */
static enum kt_verify_outcome
write_file(struct kt_verify *v, json_t *ev, struct kt_vresult *r)
{
	char edir[KT_VERIFY_PATH_MAX], name[128], ts[32], d[512];
	char stamp[32];
	const char *type = json_string_value(json_object_get(ev, "type"));
	char *s;
	kt_err e;

	if (type == NULL)
		type = "evidence";
	if (utc_now(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ") != KT_OK ||
	    utc_now(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ") != KT_OK)
		return kt_vres_append(r, KT_VERIFY_ERROR,
		    " (and the evidence "
		    "file could not be written: the clock cannot be read)");
	/* type is one of this file's names; edir is bounded as v->dir is */
	if (kt_fmt(name, sizeof(name), "%s-%s-%08x.json", type, stamp,
	        randombytes_random()) != KT_OK ||
	    kt_fmt(edir, sizeof(edir), "%s/%s", v->dir, KT_VSTATE_EVIDENCE) !=
	        KT_OK)
		return kt_vres_append(r, KT_VERIFY_ERROR,
		    " (and the evidence "
		    "file could not be written: internal: its path is too "
		    "long)");
	json_object_set_new(ev, "kt_evidence", json_integer(1));
	json_object_set_new(ev, "origin", json_string(v->vk.name));
	json_object_set_new(ev, "log", json_string(v->url));
	json_object_set_new(ev, "detected", json_string(ts));
	if (mkdir(edir, 0700) != 0 && errno != EEXIST)
		return kt_vres_append(r, KT_VERIFY_ERROR,
		    " (and the evidence "
		    "file could not be written: %s)",
		    strerror(errno));
	s = json_dumps(ev, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	e = kt_vstate_write(edir, name, s, strlen(s), d, sizeof(d));
	free(s);
	if (e != KT_OK)
		return kt_vres_append(r, KT_VERIFY_ERROR,
		    " (and the evidence "
		    "file could not be written: %s)",
		    d);
	if (kt_fmt(r->evidence, sizeof(r->evidence), "%s/%s", edir, name) !=
	    KT_OK)
		/* cannot happen: kt_vstate_write has just joined the same
		 * path into a buffer of this size */
		return kt_vres_append(r, KT_VERIFY_ERROR,
		    " (and the evidence "
		    "file's path is too long to report)");
	json_object_set_new(r->info, "evidence", json_string(r->evidence));
	return kt_vres_outcome(r, KT_VERIFY_ATTACK);
}

/* Writes ev and releases it. */
static enum kt_verify_outcome
write_ev(struct kt_verify *v, json_t *ev, struct kt_vresult *r)
{
	enum kt_verify_outcome st = write_file(v, ev, r);

	json_decref(ev);
	return st;
}

enum kt_verify_outcome
kt_evidence_write(struct kt_verify *v, json_t *ev, struct kt_vresult *r)
{
	return write_ev(v, ev, r);
}

/* ---- fork evidence --------------------------------------------------------- */

static json_t *
note_json(const struct kt_signed_checkpoint *sc)
{
	return json_stringn(sc->note, sc->note_len);
}

/* A provable fork: two signed views and their claims (NULL: null). */
static json_t *
fork_json(const struct kt_signed_checkpoint *a, json_t *a_claim,
    const struct kt_signed_checkpoint *b, json_t *b_claim, const char *how)
{
	return json_pack("{s:s,s:b,s:s,s:[{s:o,s:o},{s:o,s:o}]}", "type",
	    "fork", "provable", 1, "summary", how, "views", "checkpoint",
	    note_json(a), "claim", a_claim ? a_claim : json_null(),
	    "checkpoint", note_json(b), "claim",
	    b_claim ? b_claim : json_null());
}

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

/* Writes proven fork evidence ev (released) with its message. */
static enum kt_verify_outcome
write_proven(struct kt_verify *v, json_t *ev, const char *why, const char *how,
    struct kt_vresult *r)
{
	kt_vres(r, KT_VERIFY_ATTACK, "ATTACK: %s; proven: %s", why, how);
	return write_ev(v, ev, r);
}

/*
 * The searches below look through what this client kept for a node that
 * the material's signed tree and b's tree both commit to, with different
 * values. Each returns the fork evidence (how says what it shows) or NULL
 * when its material proves nothing; failures are not errors, they only
 * mean this material cannot prove the fork. probes bounds the requests.
 */

/* Frontier material: a monitor cursor's checkpoint and the perfect
 * subtrees of that tree, recomputed from every entry. Each subtree is
 * compared with b's tree through the leaf that starts it. */
static json_t *
try_frontier(struct kt_verify *v, const json_t *rec,
    const struct kt_signed_checkpoint *b, int *probes, char how[HOW_MAX])
{
	json_t *jn = json_object_get(rec, "checkpoint"), *ev = NULL;
	struct kt_signed_checkpoint x;
	struct kt_frontier fr;
	struct kt_vleaf *l = NULL;
	struct kt_hash root, node;
	char d[256];

	if (!json_is_string(jn) ||
	    kt_vcheck_checkpoint(json_string_value(jn), json_string_length(jn),
	        &v->vk, &x, d, sizeof(d)) != KT_OK ||
	    kt_vparse_frontier(json_object_get(rec, "frontier"), x.cp.size, &fr,
	        d, sizeof(d)) != KT_OK)
		return NULL;
	kt_frontier_root(&fr, &root);
	if (!kt_hash_eq(&root, &x.cp.root) || x.cp.size > b->cp.size)
		return NULL;
	if (x.cp.size == b->cp.size) {
		if (kt_hash_eq(&x.cp.root, &b->cp.root))
			return NULL;
		kt_msg(how, HOW_MAX,
		    "two signed checkpoints of the same "
		    "size with different roots");
		return fork_json(&x, NULL, b, NULL, how);
	}
	if ((l = malloc(sizeof(*l))) == NULL)
		return NULL;
	for (int k = 63; k >= 0 && ev == NULL; k--) {
		uint64_t a = kt_vsubtree_start(x.cp.size, (unsigned)k);

		if (!(x.cp.size >> k & 1))
			continue;
		/* A server that will not show us b's tree ends the search. */
		if (++*probes > 64 + FORK_MAX_PROBES ||
		    kt_vlog_leaf(v, a, &b->cp, l, NULL) != KT_VERIFY_OK ||
		    l->proof.proof.n < (size_t)k)
			break;
		kt_vsubtree_node(&l->leaf_hash, l->proof.proof.h, (unsigned)k,
		    &node);
		if (kt_hash_eq(&node, &fr.h[k]))
			continue;
		kt_msg(how, HOW_MAX,
		    "the two signed trees hold different "
		    "hashes for leaves [%" PRIu64 ", %" PRIu64 ")",
		    a, a + (UINT64_C(1) << k));
		ev = fork_json(&x, frontier_claim(&fr, (unsigned)k), b,
		    leaf_claim(l, (unsigned)k), how);
	}
	free(l);
	return ev;
}

/* Leaf material: a pinned entry with its inclusion proof to a signed
 * checkpoint; ask b's tree for the same index. */
static json_t *
try_leaf(struct kt_verify *v, const json_t *rec,
    const struct kt_signed_checkpoint *b, int *probes, char how[HOW_MAX])
{
	json_t *jn = json_object_get(rec, "checkpoint"), *ev = NULL;
	struct kt_signed_checkpoint x;
	struct kt_vleaf *mine = NULL, *theirs = NULL;
	char d[256];

	if (!json_is_string(jn) ||
	    kt_vcheck_checkpoint(json_string_value(jn), json_string_length(jn),
	        &v->vk, &x, d, sizeof(d)) != KT_OK)
		return NULL;
	mine = malloc(sizeof(*mine));
	theirs = malloc(sizeof(*theirs));
	if (mine == NULL || theirs == NULL ||
	    kt_vparse_stored_leaf(json_object_get(rec, "leaf"), mine) != KT_OK)
		goto out;
	mine->proof.size = x.cp.size;
	if (kt_vcheck_inclusion(mine, &x.cp, d, sizeof(d)) != KT_OK ||
	    mine->index >= b->cp.size || ++*probes > 64 + FORK_MAX_PROBES ||
	    kt_vlog_leaf(v, mine->index, &b->cp, theirs, NULL) !=
	        KT_VERIFY_OK ||
	    kt_hash_eq(&theirs->leaf_hash, &mine->leaf_hash))
		goto out;
	kt_msg(how, HOW_MAX,
	    "the two signed trees hold different entries "
	    "at index %" PRIu64,
	    mine->index);
	ev = fork_json(&x, leaf_claim(mine, 0), b, leaf_claim(theirs, 0), how);
out:
	free(mine);
	free(theirs);
	return ev;
}

/* Every record of this client's material in turn: material.json, the
 * monitor cursors, the pinned leaves. */
static json_t *
search_material(struct kt_verify *v, const struct kt_signed_checkpoint *b,
    char how[HOW_MAX])
{
	json_t *mat = NULL, *mon = NULL, *pins = NULL, *rec, *ev = NULL;
	const char *key;
	char d[512];
	int probes = 0;

	if (kt_vstate_load_json(v->dir, KT_VSTATE_MATERIAL, &mat, d,
	        sizeof(d)) == KT_OK &&
	    json_object_size(mat) > 0)
		ev = try_frontier(v, mat, b, &probes, how);
	if (ev == NULL &&
	    kt_vstate_load_json(v->dir, KT_VSTATE_MONITOR, &mon, d,
	        sizeof(d)) == KT_OK)
		json_object_foreach(json_object_get(mon, "labels"), key,
		    rec) if ((ev = try_frontier(v, rec, b, &probes, how)) !=
		    NULL) break;
	if (ev == NULL &&
	    kt_vstate_load_json(v->dir, KT_VSTATE_PINS, &pins, d, sizeof(d)) ==
	        KT_OK)
		json_object_foreach(json_object_get(pins, "labels"), key,
		    rec) if ((ev = try_leaf(v, rec, b, &probes, how)) !=
		    NULL) break;
	json_decref(mat);
	json_decref(mon);
	json_decref(pins);
	return ev;
}

/*
 * The root of the size-m prefix that a consistency proof from m to n binds
 * into the tree with root n_root (RFC 9162 §2.1.4.2 run without the old
 * root, which the proof itself holds unless m is a power of two).
 * KT_ERR_VERIFY when it cannot be computed or the proof does not reach
 * n_root. The result is re-checked with the library's verifier, so a bug
 * here cannot produce an unsound claim.
 */
static kt_err
prefix_root(uint64_t m, uint64_t n, const struct kt_proof *p,
    const struct kt_hash *n_root, struct kt_hash *out)
{
	struct kt_hash fr, sr;
	uint64_t fn, sn;

	if (m == 0 || m >= n || (m & (m - 1)) == 0 || p->n == 0)
		return KT_ERR_VERIFY;
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	fr = sr = p->h[0];
	for (size_t i = 1; i < p->n; i++) {
		if (sn == 0)
			return KT_ERR_VERIFY;
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
	    kt_merkle_verify_consistency(m, n, p->h, p->n, &fr, n_root) !=
	        KT_OK)
		return KT_ERR_VERIFY;
	*out = fr;
	return KT_OK;
}

/* a (smaller) and b (larger) are signed; p is a consistency proof from a's
 * size to b's. A prefix claim when p reaches b's root from a prefix root
 * other than a's root (docs/verify.md); NULL when it does not. */
static json_t *
prefix_fork(const struct kt_signed_checkpoint *a,
    const struct kt_signed_checkpoint *b, const struct kt_proof *p,
    char how[HOW_MAX])
{
	struct kt_hash x;
	json_t *claim;

	if (prefix_root(a->cp.size, b->cp.size, p, &b->cp.root, &x) != KT_OK ||
	    kt_hash_eq(&x, &a->cp.root))
		return NULL;
	claim =
	    json_pack("{s:I,s:o,s:o}", "prefix_size", (json_int_t)a->cp.size,
	        "prefix_root", kt_vb64_json(x.b, KT_HASH_LEN), "hashes",
	        kt_vhashes_json(p->h, p->n));
	kt_msg(how, HOW_MAX,
	    "the signed tree of size %" PRIu64 " has, by "
	    "a consistency proof to its root, a prefix of size %" PRIu64
	    " whose root is not the one the log signed for that size",
	    b->cp.size, a->cp.size);
	return fork_json(a, NULL, b, claim, how);
}

/*
 * The strongest proof that a and b are not one log: the same size with
 * other roots; the material, which names the differing entries (most
 * telling); a prefix claim from the failing proof p (no further requests).
 * NULL when none applies.
 */
static json_t *
provable_fork(struct kt_verify *v, const struct kt_signed_checkpoint *a,
    const struct kt_signed_checkpoint *b, const struct kt_proof *p,
    char how[HOW_MAX])
{
	json_t *ev;

	if (a->cp.size == b->cp.size && !kt_hash_eq(&a->cp.root, &b->cp.root)) {
		kt_msg(how, HOW_MAX,
		    "two signed checkpoints of the same "
		    "size with different roots");
		return fork_json(a, NULL, b, NULL, how);
	}
	if ((ev = search_material(v, b, how)) != NULL)
		return ev;
	return p != NULL ? prefix_fork(a, b, p, how) : NULL;
}

enum kt_verify_outcome
kt_evidence_fork(struct kt_verify *v, const char *kind,
    const struct kt_signed_checkpoint *a, const struct kt_signed_checkpoint *b,
    const struct kt_proof *p, const char *why, struct kt_vresult *r)
{
	char how[HOW_MAX];
	json_t *ev = provable_fork(v, a, b, p, how);

	if (ev != NULL)
		return write_proven(v, ev, why, how, r);
	/* Not provable to a third party: keep the record anyway (exit 3 is
	 * always with a file) and say what it does and does not show. */
	ev = json_pack("{s:s,s:b,s:s,s:[{s:o},{s:o}]}", "type",
	    strcmp(kind, "rollback") == 0 ? "rollback" : "inconsistent",
	    "provable", 0, "summary", why, "views", "checkpoint", note_json(a),
	    "checkpoint", note_json(b));
	kt_vres(r, KT_VERIFY_ATTACK,
	    "ATTACK: %s (stored tree size %" PRIu64 ", presented %" PRIu64
	    "); the record holds both signed "
	    "checkpoints but no fork proof",
	    why, a->cp.size, b->cp.size);
	return write_ev(v, ev, r);
}

enum kt_verify_outcome
kt_evidence_fork_provable(struct kt_verify *v,
    const struct kt_signed_checkpoint *a, const struct kt_signed_checkpoint *b,
    const char *why, struct kt_vresult *r)
{
	char how[HOW_MAX];
	json_t *ev = provable_fork(v, a, b, NULL, how);

	if (ev == NULL)
		return KT_VERIFY_FAILED;
	return write_proven(v, ev, why, how, r);
}

enum kt_verify_outcome
kt_evidence_fork_leaves(struct kt_verify *v,
    const struct kt_signed_checkpoint *a, const struct kt_vleaf *al,
    const struct kt_signed_checkpoint *b, const struct kt_vleaf *bl,
    const char *why, struct kt_vresult *r)
{
	char how[HOW_MAX];

	kt_msg(how, sizeof(how),
	    "the two signed trees hold different "
	    "entries at index %" PRIu64,
	    al->index);
	return write_proven(v,
	    fork_json(a, leaf_claim(al, 0), b, leaf_claim(bl, 0), how), why,
	    how, r);
}

/* ---- what a command found ------------------------------------------------- */

enum kt_verify_outcome
kt_evidence_unlogged(struct kt_verify *v, const char *label,
    const struct kt_signed_checkpoint *sc, const struct kt_vleaf *l,
    struct kt_vresult *r)
{
	return write_ev(v,
	    json_pack("{s:s,s:b,s:s,s:s,s:o,s:o}", "type", "unlogged-key",
	        "provable", 0, "summary",
	        "a key served with an "
	        "inclusion proof that does not verify",
	        "label", label, "checkpoint", note_json(sc), "leaf",
	        kt_vleaf_json(l)),
	    r);
}

enum kt_verify_outcome
kt_evidence_ghost(struct kt_verify *v, const char *label,
    const json_t *expected, const struct kt_signed_checkpoint *sc,
    const struct kt_vleaf *l, const uint8_t opening[KT_OPENING_LEN],
    const struct kt_value *val, struct kt_vresult *r)
{
	json_t *ev = json_pack("{s:s,s:b,s:s,s:s,s:O,s:o,s:o,s:I,s:o}", "type",
	    "ghost-key", "provable", 1, "summary",
	    "an update logged for the label whose commitment opens to a key "
	    "its owner did not publish",
	    "label", label, "expected_keys", expected, "checkpoint",
	    note_json(sc), "leaf", kt_vleaf_json(l), "version",
	    (json_int_t)l->u.version, "opening",
	    kt_vb64_json(opening, KT_OPENING_LEN));

	if (ev != NULL && val->kind == KT_VALUE_KEY) {
		json_object_set_new(ev, "key_type",
		    json_stringn(val->key_type, val->key_type_len));
		json_object_set_new(ev, "key",
		    kt_vb64_json(val->key, val->key_len));
	}
	return write_ev(v, ev, r);
}

enum kt_verify_outcome
kt_evidence_bad_entries(struct kt_verify *v, const char *rule,
    const struct kt_signed_checkpoint *sc, json_t *entries, int provable,
    struct kt_vresult *r)
{
	return write_ev(v,
	    json_pack("{s:s,s:b,s:s,s:s,s:o,s:o}", "type", "bad-entries",
	        "provable", provable, "summary",
	        "logged entries "
	        "that break the log's rules",
	        "rule", rule, "checkpoint", note_json(sc), "entries", entries),
	    r);
}
