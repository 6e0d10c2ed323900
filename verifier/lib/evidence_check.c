/*
 * evidence_check.c: `kt-verify evidence`, the offline check of an evidence
 * file (or a C2SP tlog-proof) with only the log's verifier key. No I/O.
 *
 * What each type proves, and what it cannot, is in docs/verify.md ("What
 * each type proves"); evidence_write.c writes the same files. A failing
 * consistency proof, a rollback or an unlogged key served with a bad proof
 * are records of what a client saw, never proof: anyone can write a wrong
 * proof, and responses are not signed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "kt/tlogproof.h"
#include "verify_internal.h"

struct claim {
	unsigned level;
	uint64_t start;
	struct kt_hash node;
};

static enum kt_verify_outcome
fail(struct kt_vresult *r, const char *fmt, const char *detail)
{
	return kt_vres(r, KT_VERIFY_FAILED, fmt, detail);
}

/* A signed checkpoint from an evidence file. */
static kt_err
ev_checkpoint(const json_t *j, const struct kt_verifier *vk,
    struct kt_checkpoint *cp, char *d, size_t dlen)
{
	struct kt_signed_checkpoint sc;
	kt_err e;

	if (!json_is_string(j) || json_string_length(j) > KT_NOTE_MAX) {
		kt_msg(d, dlen, "a checkpoint is missing or not a string");
		return KT_ERR_MALFORMED;
	}
	if ((e = kt_vcheck_checkpoint(json_string_value(j),
	         json_string_length(j), vk, &sc, d, dlen)) != KT_OK)
		return e;
	*cp = sc.cp;
	return KT_OK;
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
	if (!json_is_object(o) ||
	    kt_vparse_u64(o, "index", &l->index) != KT_OK ||
	    kt_vparse_hashes(json_object_get(o, "hashes"), &l->proof.proof) !=
	        KT_OK) {
		kt_msg(d, dlen, "a leaf record lacks index or hashes");
		return KT_ERR_MALFORMED;
	}
	if (je != NULL) {
		if (!json_is_string(je) ||
		    kt_b64_decode(json_string_value(je), json_string_length(je),
		        l->entry, sizeof(l->entry), &l->entry_len) != KT_OK ||
		    kt_vleaf_decode(l) != KT_OK) {
			kt_msg(d, dlen,
			    "entry at index %" PRIu64 " is not an update "
			    "or map head leaf",
			    l->index);
			return KT_ERR_MALFORMED;
		}
	} else if (need_entry) {
		kt_msg(d, dlen, "entry bytes missing");
		return KT_ERR_MALFORMED;
	}
	if (jh != NULL) {
		struct kt_hash h;
		if (kt_vparse_hash(jh, &h) != KT_OK) {
			kt_msg(d, dlen, "bad leaf_hash");
			return KT_ERR_MALFORMED;
		}
		if (je != NULL && !kt_hash_eq(&h, &l->leaf_hash)) {
			kt_msg(d, dlen, "leaf_hash is not the entry's hash");
			return KT_ERR_VERIFY;
		}
		l->leaf_hash = h;
	} else if (je == NULL) {
		kt_msg(d, dlen, "neither entry nor leaf_hash given");
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

	if (!json_is_object(o) || kt_vparse_u64(o, "level", &level) != KT_OK ||
	    level > 63 || kt_vparse_u64(o, "index", &c->start) != KT_OK) {
		kt_msg(d, dlen, "a claim lacks level or index");
		return KT_ERR_MALFORMED;
	}
	c->level = (unsigned)level;
	if (c->start & ((UINT64_C(1) << c->level) - 1) || c->start > cp->size ||
	    (UINT64_C(1) << c->level) > cp->size - c->start) {
		kt_msg(d, dlen,
		    "claimed subtree is not a perfect subtree "
		    "inside its tree");
		return KT_ERR_VERIFY;
	}
	if (jf != NULL) {
		struct kt_frontier fr;
		struct kt_hash root;

		if (kt_vparse_frontier(jf, cp->size, &fr, d, dlen) != KT_OK)
			return KT_ERR_MALFORMED;
		kt_frontier_root(&fr, &root);
		if (!kt_hash_eq(&root, &cp->root)) {
			kt_msg(d, dlen,
			    "frontier does not hash to the "
			    "signed root");
			return KT_ERR_VERIFY;
		}
		if (!(cp->size >> c->level & 1) ||
		    kt_vsubtree_start(cp->size, c->level) != c->start) {
			kt_msg(d, dlen,
			    "claimed subtree is not in the "
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
		if (e == KT_OK &&
		    (l->index != c->start || l->proof.proof.n < c->level)) {
			kt_msg(d, dlen,
			    "leaf claim is not for the first "
			    "leaf of its subtree");
			e = KT_ERR_VERIFY;
		}
		if (e == KT_OK)
			kt_vsubtree_node(&l->leaf_hash, l->proof.proof.h,
			    c->level, &c->node);
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
static enum kt_verify_outcome
verify_prefix_claim(const json_t *cl, const struct kt_checkpoint *l,
    const struct kt_checkpoint *s, int other_claim, struct kt_vresult *r)
{
	struct kt_proof p;
	struct kt_hash x;
	uint64_t m;

	if (other_claim)
		return fail(r, "%s",
		    "fork evidence: a prefix claim stands "
		    "alone (the other view's claim must be null)");
	if (kt_vparse_u64(cl, "prefix_size", &m) != KT_OK ||
	    kt_vparse_hash(json_object_get(cl, "prefix_root"), &x) != KT_OK ||
	    kt_vparse_hashes(json_object_get(cl, "hashes"), &p) != KT_OK)
		return fail(r, "%s",
		    "fork evidence: a prefix claim needs "
		    "prefix_size, prefix_root and hashes");
	if (m != s->size || m == 0 || m >= l->size)
		return fail(r, "%s",
		    "fork evidence: the prefix claim must be "
		    "for the other (smaller, non-empty) view's size");
	if (kt_merkle_verify_consistency(m, l->size, p.h, p.n, &x, &l->root) !=
	    KT_OK)
		return fail(r, "%s",
		    "fork evidence: the prefix claim's "
		    "consistency proof does not reach the signed root");
	if (kt_hash_eq(&x, &s->root))
		return fail(r, "%s",
		    "fork evidence proves nothing: the prefix "
		    "root is the smaller view's signed root (consistent)");
	return kt_vres(r, KT_VERIFY_OK,
	    "PROVEN: the log signed a tree of "
	    "size %" PRIu64 " whose first %" PRIu64 " leaves (bound by a "
	    "consistency proof to its root) are not the tree of size %" PRIu64
	    " it also signed (a fork)",
	    l->size, m, s->size);
}

static enum kt_verify_outcome
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
		if (have[i] &&
		    ev_claim(cl, &cp[i], &c[i], d, sizeof(d)) != KT_OK)
			return fail(r, "fork evidence: %s", d);
	}
	if (cp[0].size == cp[1].size) {
		if (!kt_hash_eq(&cp[0].root, &cp[1].root))
			return kt_vres(r, KT_VERIFY_OK,
			    "PROVEN: the log signed "
			    "two different trees of size %" PRIu64 " (a fork)",
			    cp[0].size);
	}
	if (!have[0] || !have[1])
		return fail(r, "%s",
		    "fork evidence proves nothing: the "
		    "checkpoints differ in size and no subtree claims are "
		    "given (a smaller tree alone is no misbehaviour)");
	if (c[0].level != c[1].level || c[0].start != c[1].start)
		return fail(r, "%s",
		    "fork evidence: the two claims are about "
		    "different subtrees");
	if (kt_hash_eq(&c[0].node, &c[1].node))
		return fail(r, "%s",
		    "fork evidence proves nothing: both trees "
		    "agree on the claimed subtree");
	return kt_vres(r, KT_VERIFY_OK,
	    "PROVEN: the log signed a tree of "
	    "size %" PRIu64 " and one of size %" PRIu64 " that hold different "
	    "hashes for leaves [%" PRIu64 ", %" PRIu64 "): they cannot both "
	    "be versions of one append-only log (a fork)",
	    cp[0].size, cp[1].size, c[0].start,
	    c[0].start + (UINT64_C(1) << c[0].level));
}

/* The value a ghost-key file states: a key (key_type, key into buf). */
static kt_err
ev_value(const json_t *ev, uint8_t *buf, size_t cap, struct kt_value *val)
{
	json_t *jt = json_object_get(ev, "key_type");
	json_t *jk = json_object_get(ev, "key");

	memset(val, 0, sizeof(*val));
	if (!json_is_string(jt) || !json_is_string(jk) ||
	    kt_b64_decode(json_string_value(jk), json_string_length(jk), buf,
	        cap, &val->key_len) != KT_OK)
		return KT_ERR_MALFORMED;
	val->kind = KT_VALUE_KEY;
	val->key_type = json_string_value(jt);
	val->key_type_len = json_string_length(jt);
	val->key = buf;
	return KT_OK;
}

static enum kt_verify_outcome
verify_ghost(const json_t *ev, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	json_t *jl = json_object_get(ev, "label");
	json_t *jx = json_object_get(ev, "expected_keys");
	struct kt_checkpoint cp;
	struct kt_vleaf *l = NULL;
	struct kt_value val;
	uint8_t *key = NULL, op[KT_OPENING_LEN];
	char d[512], fp[48];
	enum kt_verify_outcome st;

	if (!json_is_string(jl) || !json_is_array(jx))
		return fail(r, "%s",
		    "ghost-key evidence needs label and "
		    "expected_keys");
	if (ev_checkpoint(json_object_get(ev, "checkpoint"), vk, &cp, d,
	        sizeof(d)) != KT_OK)
		return fail(r, "ghost-key evidence: %s", d);
	l = malloc(sizeof(*l));
	key = malloc(KT_KEY_MAX);
	if (l == NULL || key == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if (ev_leaf(json_object_get(ev, "leaf"), &cp, l, 1, d, sizeof(d)) !=
	    KT_OK) {
		st = fail(r, "ghost-key evidence: %s", d);
		goto out;
	}
	if (l->kind != KT_LEAF_UPDATE) {
		st = fail(r, "%s",
		    "ghost-key evidence: the leaf is not an update");
		goto out;
	}
	/* The commitment binds label, version and key: opened here, it
	 * shows the log logged that key for that label. */
	if (kt_vparse_b64n(ev, "opening", op, sizeof(op)) != KT_OK ||
	    ev_value(ev, key, KT_KEY_MAX, &val) != KT_OK ||
	    kt_commit_verify(op, json_string_value(jl), json_string_length(jl),
	        l->u.version, &val, &l->u.commitment) != KT_OK) {
		st = fail(r, "%s",
		    "ghost-key evidence: the update's commitment does not "
		    "open to the stated label, version and key");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(jx); i++) {
		uint8_t k[KT_KEY_MAX];
		size_t n;
		json_t *j = json_array_get(jx, i);
		if (!json_is_string(j) ||
		    kt_b64_decode(json_string_value(j), json_string_length(j),
		        k, sizeof(k), &n) != KT_OK) {
			st = fail(r, "%s",
			    "ghost-key evidence: bad expected key");
			goto out;
		}
		if (n == val.key_len && memcmp(k, val.key, n) == 0) {
			st = fail(r, "%s",
			    "ghost-key evidence proves nothing: "
			    "the logged key is one of the expected keys");
			goto out;
		}
	}
	kt_key_fingerprint(val.key, val.key_len, fp);
	st = kt_vres(r, KT_VERIFY_OK,
	    "PROVEN: the log's signed tree of size "
	    "%" PRIu64 " holds, at index %" PRIu64 ", version %" PRIu64 " of "
	    "label \"%s\" committed to %.*s key %s, which is not among the "
	    "%zu keys its owner states they published (that last part is the "
	    "owner's statement)",
	    cp.size, l->index, l->u.version, json_string_value(jl),
	    (int)val.key_type_len, val.key_type, fp, json_array_size(jx));
out:
	free(l);
	free(key);
	return st;
}

/* The audit rules a pair (or one) of logged entries can break. */
static enum kt_verify_outcome
verify_bad_entries(const json_t *ev, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	const char *rule = json_string_value(json_object_get(ev, "rule"));
	json_t *je = json_object_get(ev, "entries");
	struct kt_checkpoint cp;
	struct kt_vleaf *l = NULL;
	char d[512];
	size_t n;
	enum kt_verify_outcome st;
	int bad = 0;

	if (rule == NULL || !json_is_array(je) ||
	    (n = json_array_size(je)) < 1 || n > 2)
		return fail(r, "%s",
		    "bad-entries evidence needs a rule and one "
		    "or two entries");
	if (ev_checkpoint(json_object_get(ev, "checkpoint"), vk, &cp, d,
	        sizeof(d)) != KT_OK)
		return fail(r, "bad-entries evidence: %s", d);
	l = calloc(2, sizeof(*l));
	if (l == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (ev_leaf(json_array_get(je, i), &cp, &l[i], 1, d,
		        sizeof(d)) != KT_OK) {
			st = fail(r, "bad-entries evidence: %s", d);
			goto out;
		}
#define HEAD(x) ((x).kind == KT_LEAF_MAP_HEAD)
	if (strcmp(rule, "log-size") == 0) {
		/* a map head's log_size is its own leaf index */
		bad = n == 1 && HEAD(l[0]) && l[0].h.log_size != l[0].index;
	} else if (strcmp(rule, "timestamp") == 0) {
		/* map heads' times never run backwards */
		bad = n == 2 && HEAD(l[0]) && HEAD(l[1]) &&
		    l[0].index < l[1].index &&
		    l[1].h.timestamp_ms < l[0].h.timestamp_ms;
	} else if (strcmp(rule, "head-link") == 0) {
		/* a map head links to a leaf that is not a map head */
		bad = n == 2 && HEAD(l[0]) && !HEAD(l[1]) &&
		    l[0].h.prev_head == l[1].index;
	} else if (strcmp(rule, "checkpoint-at-head") == 0) {
		/* a checkpoint's last leaf is a map head */
		bad = n == 1 && !HEAD(l[0]) && l[0].index == cp.size - 1;
	} else {
		st = fail(r, "bad-entries evidence: unknown rule \"%s\"", rule);
		goto out;
	}
#undef HEAD
	if (!bad) {
		st = fail(r,
		    "bad-entries evidence proves nothing: the entries "
		    "do not break rule \"%s\"",
		    rule);
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_OK,
	    "PROVEN: the log's signed tree of size %" PRIu64
	    " holds entries (index %" PRIu64 "%s) that break rule "
	    "\"%s\"",
	    cp.size, l[0].index, n == 2 ? " and another" : "", rule);
out:
	free(l);
	return st;
}

/* A lookup as a C2SP tlog-proof (kt_lookup_tlogproof_format): its
 * checkpoint signed by the log, its lookup proof verified against it and
 * the VRF key. */
static enum kt_verify_outcome
verify_tlogproof(const char *buf, size_t len, const struct kt_verifier *vk,
    const uint8_t *vrf_pk, struct kt_vresult *r)
{
	struct kt_lookup_proof *p = malloc(sizeof(*p));
	struct kt_lookup_result res;
	struct kt_signed_checkpoint sc;
	const char *note;
	size_t note_len;
	char d[512], fp[48];
	enum kt_verify_outcome st;

	if (p == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if (kt_lookup_tlogproof_parse(buf, len, p, &note, &note_len) != KT_OK) {
		st = fail(r, "%s", "not a well-formed kt lookup tlog-proof");
		goto out;
	}
	if (vrf_pk == NULL) {
		st = fail(r, "%s",
		    "tlog-proof: checking a lookup needs the log's VRF key "
		    "(--vrf-key, or a state folder that pins it)");
		goto out;
	}
	if (kt_vcheck_checkpoint(note, note_len, vk, &sc, d, sizeof(d)) !=
	    KT_OK) {
		st = fail(r, "tlog-proof: %s", d);
		goto out;
	}
	if (kt_lookup_verify(p, vrf_pk, &sc.cp, p->label, p->label_len, &res) !=
	    KT_OK) {
		st = fail(r, "%s",
		    "tlog-proof: the lookup proof does not verify against its "
		    "checkpoint and the VRF key");
		goto out;
	}
	json_object_set_new(r->info, "label", json_string(p->label));
	json_object_set_new(r->info, "present", json_boolean(res.present));
	if (!res.present) {
		st = kt_vres(r, KT_VERIFY_OK,
		    "VALID lookup proof: label \"%s\" has no version in the "
		    "log's signed tree of size %" PRIu64,
		    p->label, sc.cp.size);
		goto out;
	}
	json_object_set_new(r->info, "version",
	    json_integer((json_int_t)res.leaf.version));
	if (res.revoked)
		kt_msg(fp, sizeof(fp), "(revocation)");
	else
		kt_key_fingerprint(res.key, res.key_len, fp);
	st = kt_vres(r, KT_VERIFY_OK,
	    "VALID lookup proof: label \"%s\" version %" PRIu64
	    " key %s is the latest in the log's signed tree of size %" PRIu64
	    " (proves the latest version, not misbehaviour)",
	    p->label, res.leaf.version, fp, sc.cp.size);
out:
	free(p);
	return st;
}

/* A rollback or inconsistent record: check what can be checked (the
 * signatures), then say why it is not proof. */
static enum kt_verify_outcome
verify_record(const json_t *ev, const char *type, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	json_t *views = json_object_get(ev, "views");
	struct kt_checkpoint cp;
	char d[512];

	for (size_t i = 0; i < json_array_size(views); i++)
		if (ev_checkpoint(json_object_get(json_array_get(views, i),
		                      "checkpoint"),
		        vk, &cp, d, sizeof(d)) != KT_OK)
			return kt_vres(r, KT_VERIFY_FAILED, "%s evidence: %s",
			    type, d);
	return fail(r, "%s",
	    "NOT PROVEN: the record holds checkpoints "
	    "validly signed by the log, but signed checkpoints of different "
	    "sizes (or a failing consistency proof) do not show misbehaviour "
	    "to a third party; it documents what this client was shown");
}

/* An evidence file of a known format: by its type. */
static enum kt_verify_outcome
verify_typed(const json_t *ev, const struct kt_verifier *vk,
    const uint8_t *vrf_pk, struct kt_vresult *r)
{
	const char *type = json_string_value(json_object_get(ev, "type"));

	if (json_integer_value(json_object_get(ev, "kt_evidence")) != 1 ||
	    !json_is_integer(json_object_get(ev, "kt_evidence")))
		return fail(r, "%s",
		    "not a kt evidence file (kt_evidence != "
		    "1)");
	if (type == NULL)
		return fail(r, "%s", "evidence has no type");
	if (strcmp(type, "fork") == 0)
		return verify_fork(ev, vk, r);
	if (strcmp(type, "ghost-key") == 0)
		return verify_ghost(ev, vk, r);
	if (strcmp(type, "bad-entries") == 0)
		return verify_bad_entries(ev, vk, r);
	if (strcmp(type, "downgrade") == 0)
		return kt_vevidence_downgrade(ev, vk, vrf_pk, r);
	if (strcmp(type, "hidden-version") == 0)
		return kt_vevidence_hidden(ev, vk, r);
	if (strcmp(type, "wrong-map") == 0)
		return kt_vevidence_wrong_map(ev, vk, r);
	if (strcmp(type, "unlogged-key") == 0)
		/* A proof that fails proves nothing: anyone can write one. */
		return fail(r, "%s",
		    "NOT PROVEN: an unlogged-key record shows "
		    "what a server sent (a key with an inclusion proof that "
		    "does not verify); responses are not signed, so a third "
		    "party cannot tell who made it");
	if (strcmp(type, "rollback") == 0 || strcmp(type, "inconsistent") == 0)
		return verify_record(ev, type, vk, r);
	return fail(r, "unknown evidence type \"%s\"", type);
}

enum kt_verify_outcome
kt_verify_evidence(const char *buf, size_t len, const struct kt_verifier *vk,
    const uint8_t *vrf_pk, struct kt_vresult *r)
{
	static const char tlog_magic[] = "c2sp.org/tlog-proof@v1\n";
	json_t *ev = NULL;
	json_error_t je;
	enum kt_verify_outcome st;

	if (len >= sizeof(tlog_magic) - 1 &&
	    memcmp(buf, tlog_magic, sizeof(tlog_magic) - 1) == 0)
		return verify_tlogproof(buf, len, vk, vrf_pk, r);
	ev = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (ev == NULL || !json_is_object(ev)) {
		json_decref(ev);
		return fail(r, "not an evidence file: %s",
		    ev == NULL ? je.text : "not a JSON object");
	}
	st = verify_typed(ev, vk, vrf_pk, r);
	json_decref(ev);
	return st;
}
