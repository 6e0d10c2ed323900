/*
 * check_verify_evidence.c: Check units for libktverify: the accept/reject
 * table for evidence files (forks, prefixes, other claims).
 */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "attack_dir.h"
#include "harness/runner.h"
#include "kt/tlogproof.h"
#include "verify_internal.h"
#include "verify_testlib.h"

/* ---- evidence accept / reject table ------------------------------------------ */

/* The status of fork evidence from two checkpoint notes without claims. */
static int
fork_views(const char *n1, const char *n2)
{
	return status_ev(json_pack("{s:i,s:s,s:[{s:s},{s:s}]}", "kt_evidence",
	    1, "type", "fork", "views", "checkpoint", n1, "checkpoint", n2));
}

/* The status of fork evidence from two checkpoint notes with a claim
 * each (the claims are not consumed). */
static int
fork_claims(const char *n1, json_t *c1, const char *n2, json_t *c2)
{
	return status_ev(json_pack("{s:i,s:s,s:[{s:s,s:O},{s:s,s:O}]}",
	    "kt_evidence", 1, "type", "fork", "views", "checkpoint", n1,
	    "claim", c1, "checkpoint", n2, "claim", c2));
}

/* A frontier claim on a's subtree [4, 6) (bit 1 of size 6) against
 * b's leaf claim on it: proven; a frontier of the wrong length, or
 * one that does not fold to a's signed root: refused */
static void
check_frontier_claim(struct tree *a, const char *na, const char *nb, json_t *cb)
{
	struct kt_frontier fr;
	json_t *fc;

	kt_frontier_init(&fr);
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(kt_frontier_append(&fr, &a->leaf[i]), KT_OK);
	fc = json_pack("{s:i,s:i,s:o}", "level", 1, "index", 4, "frontier",
	    kt_vfrontier_json(&fr));
	ck_assert_int_eq(fork_claims(na, fc, nb, cb), KT_VERIFY_OK);
	json_array_remove(json_object_get(fc, "frontier"), 0);
	ck_assert_int_eq(fork_claims(na, fc, nb, cb), KT_VERIFY_FAILED);
	json_array_insert_new(json_object_get(fc, "frontier"), 0,
	    kt_vb64_json(a->leaf[0].b, KT_HASH_LEN));
	ck_assert_int_eq(fork_claims(na, fc, nb, cb), KT_VERIFY_FAILED);
	json_decref(fc);
}

START_TEST(test_verify_evidence_fork)
{
	struct tree *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	char *na, *nb, *na2;
	json_t *ca, *cb;

	/* a and b share leaves 0..3, then differ at index 4 */
	fill(a, 4);
	*b = *a;
	add(a, "alice", KT_VALUE_KEY, 1, KT_NO_PREV, 0x11, 2000);
	add(b, "carol", KT_VALUE_KEY, 1, KT_NO_PREV, 0x22, 2000);
	fill(a, 1);
	fill(b, 3);
	na = note_of(a, 6, signer);
	na2 = note_of(a, 6, other);
	nb = note_of(b, 6, signer);

	/* same size, different roots: proven */
	ck_assert_int_eq(fork_views(na, nb), KT_VERIFY_OK);
	/* the same checkpoint twice: nothing */
	ck_assert_int_eq(fork_views(na, na), KT_VERIFY_FAILED);
	/* one checkpoint signed by another key: forged */
	ck_assert_int_eq(fork_views(na2, nb), KT_VERIFY_FAILED);
	free(nb);
	nb = note_of(b, 8, signer);
	/* different sizes, no claims: a smaller tree proves nothing */
	ck_assert_int_eq(fork_views(na, nb), KT_VERIFY_FAILED);
	/* leaf claims at index 4 in size 6 and size 8: proven */
	ca = leaf_rec(a, 4, 6);
	cb = leaf_rec(b, 4, 8);
	json_object_set_new(ca, "level", json_integer(0));
	json_object_set_new(cb, "level", json_integer(0));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_OK);
	/* level-1 claims on subtree [4, 6): proven */
	json_object_set_new(ca, "level", json_integer(1));
	json_object_set_new(cb, "level", json_integer(1));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_OK);
	check_frontier_claim(a, na, nb, cb);
	/* a claim about a subtree sticking out of the tree: refused */
	json_object_set_new(ca, "level", json_integer(2));
	json_object_set_new(cb, "level", json_integer(2));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_FAILED);
	json_decref(ca);
	json_decref(cb);
	/* both claims on the same (shared) leaf 2: they agree, nothing */
	ca = leaf_rec(a, 2, 6);
	cb = leaf_rec(b, 2, 8);
	json_object_set_new(ca, "level", json_integer(0));
	json_object_set_new(cb, "level", json_integer(0));
	ck_assert_int_eq(fork_claims(na, ca, nb, cb), KT_VERIFY_FAILED);
	/* a claim whose proof is for the other tree: does not verify */
	ck_assert_int_eq(fork_claims(nb, ca, na, cb), KT_VERIFY_FAILED);
	json_decref(ca);
	json_decref(cb);
	free(na);
	free(na2);
	free(nb);
	free(a);
	free(b);
}
END_TEST

/* A ghost-key file for alice's version 2 (leaf 4 of t), its commitment
 * opened with keybyte's opening and key kb, the keys in `expected`. */
static int
ghost_ev(const char *note, json_t *leaf, const char *label, uint8_t kb,
    json_t *expected)
{
	uint8_t op[KT_OPENING_LEN], key[32];

	mkopening(0xff, op);
	memset(key, kb, sizeof(key));
	return status_ev(json_pack("{s:i,s:s,s:s,s:o,s:s,s:O,s:i,s:o,s:s,s:o}",
	    "kt_evidence", 1, "type", "ghost-key", "label", label,
	    "expected_keys", expected, "checkpoint", note, "leaf", leaf,
	    "version", 2, "opening", kt_vb64_json(op, sizeof(op)), "key_type",
	    "ed25519", "key", kt_vb64_json(key, sizeof(key))));
}

START_TEST(test_verify_evidence_other)
{
	struct tree *t = calloc(1, sizeof(*t));
	uint8_t k11[32], kff[32];
	char *note, *tp = malloc(KT_TLOGPROOF_MAX);
	struct kt_proof p;
	size_t len;
	json_t *leaf;

	memset(k11, 0x11, 32);
	memset(kff, 0xff, 32);
	fill(t, 3);
	add(t, "alice", KT_VALUE_KEY, 1, KT_NO_PREV, 0x11, 0); /* 3 */
	add(t, "alice", KT_VALUE_KEY, 2, 3, 0xff, 0);          /* 4 */
	addhead(t, 5, 2000);                                   /* 5 */
	addhead(t, 6, 1500);                                   /* 6 */
	addhead(t, 3, 2500);                                   /* 7 */
	note = note_of(t, 8, signer);

	/* ghost key: the commitment opens to kff, not expected: proven;
	 * with kff expected, another label, another key stated or another
	 * index: not */
	leaf = leaf_rec(t, 4, 8);
	ck_assert_int_eq(ghost_ev(note, leaf, "alice", 0xff,
	                     json_pack("[o]", kt_vb64_json(k11, 32))),
	    KT_VERIFY_OK);
	ck_assert_int_eq(ghost_ev(note, leaf, "alice", 0xff,
	                     json_pack("[o,o]", kt_vb64_json(k11, 32),
	                         kt_vb64_json(kff, 32))),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(ghost_ev(note, leaf, "bob", 0xff,
	                     json_pack("[o]", kt_vb64_json(k11, 32))),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(ghost_ev(note, leaf, "alice", 0x22,
	                     json_pack("[o]", kt_vb64_json(k11, 32))),
	    KT_VERIFY_FAILED);
	json_object_set_new(leaf, "index", json_integer(3));
	ck_assert_int_eq(ghost_ev(note, leaf, "alice", 0xff,
	                     json_pack("[o]", kt_vb64_json(k11, 32))),
	    KT_VERIFY_FAILED);
	json_decref(leaf);

	/* bad entries: map head times 5 -> 6 go back: proven; 6 -> 7 and
	 * two updates do not; map head 7 says log_size 3: proven, 5 not */
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "timestamp", "checkpoint", note, "entries",
	                     leaf_rec(t, 5, 8), leaf_rec(t, 6, 8))),
	    KT_VERIFY_OK);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "timestamp", "checkpoint", note, "entries",
	                     leaf_rec(t, 6, 8), leaf_rec(t, 7, 8))),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "timestamp", "checkpoint", note, "entries",
	                     leaf_rec(t, 3, 8), leaf_rec(t, 4, 8))),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "log-size", "checkpoint", note, "entries",
	                     leaf_rec(t, 7, 8))),
	    KT_VERIFY_OK);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "log-size", "checkpoint", note, "entries",
	                     leaf_rec(t, 5, 8))),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:s,s:s,s:[o,o]}",
	                     "kt_evidence", 1, "type", "bad-entries", "rule",
	                     "whatever", "checkpoint", note, "entries",
	                     leaf_rec(t, 5, 8), leaf_rec(t, 6, 8))),
	    KT_VERIFY_FAILED);

	/* records that are not proof */
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s,s:[{s:s},{s:s}]}",
	                     "kt_evidence", 1, "type", "rollback", "views",
	                     "checkpoint", note, "checkpoint", note)),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_ev(json_pack("{s:i,s:s}", "kt_evidence", 1,
	                     "type", "unlogged-key")),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(status_of("{\"type\":\"fork\"}"), KT_VERIFY_FAILED);
	ck_assert_int_eq(status_of("not json"), KT_VERIFY_FAILED);
	ck_assert_int_eq(status_of(""), KT_VERIFY_FAILED);

	/* a tlog-proof of a bare leaf (no lookup proof in its extra line) is
	 * not a kt lookup tlog-proof (valid lookup tlog-proofs are checked
	 * against the real kt-logd in e2e_verify_honest.sh) */
	ck_assert_int_eq(kt_merkle_inclusion_proof(node, t, 4, 8, &p), KT_OK);
	ck_assert_int_eq(kt_tlogproof_format(t->ent[4], t->elen[4], 4, &p, note,
	                     strlen(note), tp, KT_TLOGPROOF_MAX, &len),
	    KT_OK);
	ck_assert_int_eq(status_of(tp), KT_VERIFY_FAILED);
	free(tp);
	free(note);
	free(t);
}
END_TEST

/* A prefix claim: a consistency proof from the smaller view's size that
 * reaches the larger view's root from another prefix root. */
static json_t *
prefix_ev(const char *ns, const char *nl, uint64_t m, const struct kt_hash *x,
    const struct kt_proof *p)
{
	return json_pack("{s:i,s:s,s:[{s:s,s:n},{s:s,s:{s:I,s:o,s:o}}]}",
	    "kt_evidence", 1, "type", "fork", "views", "checkpoint", ns,
	    "claim", "checkpoint", nl, "claim", "prefix_size", (json_int_t)m,
	    "prefix_root", kt_vb64_json(x->b, KT_HASH_LEN), "hashes",
	    hashes(p));
}

START_TEST(test_verify_evidence_prefix)
{
	struct tree *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct kt_hash ra, rb6;
	struct kt_proof p;
	char *na, *nb, *nb6;

	fill(a, 4);
	*b = *a;
	add(a, "alice", KT_VALUE_KEY, 1, KT_NO_PREV, 0x11, 2000);
	add(b, "carol", KT_VALUE_KEY, 1, KT_NO_PREV, 0x22, 2000);
	fill(a, 1);
	fill(b, 4);
	na = note_of(a, 6, signer);
	nb = note_of(b, 9, signer);
	nb6 = note_of(b, 6, signer);
	ck_assert_int_eq(kt_merkle_root(node, a, 6, &ra), KT_OK);
	ck_assert_int_eq(kt_merkle_root(node, b, 6, &rb6), KT_OK);
	ck_assert_int_eq(kt_merkle_consistency_proof(node, b, 6, 9, &p), KT_OK);
	/* b's own proof binds b's prefix root, which is not a's: proven */
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &rb6, &p)),
	    KT_VERIFY_OK);
	/* claiming a's root as the prefix: the proof does not reach */
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &ra, &p)),
	    KT_VERIFY_FAILED);
	/* a consistent pair (b at 6 and 9) proves nothing */
	ck_assert_int_eq(status_ev(prefix_ev(nb6, nb, 6, &rb6, &p)),
	    KT_VERIFY_FAILED);
	/* a prefix claim for another size */
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 5, &rb6, &p)),
	    KT_VERIFY_FAILED);
	/* every single flipped bit of every proof hash breaks it */
	for (size_t i = 0; i < p.n; i++) {
		p.h[i].b[i % KT_HASH_LEN] ^= 1;
		ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &rb6, &p)),
		    KT_VERIFY_FAILED);
		p.h[i].b[i % KT_HASH_LEN] ^= 1;
	}
	/* the larger view signed by another key: forged */
	free(nb);
	nb = note_of(b, 9, other);
	ck_assert_int_eq(status_ev(prefix_ev(na, nb, 6, &rb6, &p)),
	    KT_VERIFY_FAILED);
	free(na);
	free(nb);
	free(nb6);
	free(a);
	free(b);
}
END_TEST

/* ---- downgrade and hidden-version (evidence_lookup.c) ------------------------ */

/* A directory built as kt-logd builds one (attack_dir.c), its log key as
 * a verifier and its VRF key. */
static struct dir_keys D;
static struct kt_verifier dvk, dother;

static void
dir_setup(void)
{
	setup();
	ck_assert_int_eq(dir_init(&D, "ev.example/kt"), 0);
	kt_signer_verifier(D.signer, &dvk);
	kt_signer_verifier(D.other, &dother);
}

static void
dir_teardown(void)
{
	dir_fini(&D);
	teardown();
}

/* kt_verify_evidence's status for ev (not consumed). */
static int
dstatus(const json_t *ev, const struct kt_verifier *k, const uint8_t *vrf)
{
	char *s = json_dumps(ev, JSON_COMPACT);
	struct kt_vresult r;
	int st;

	kt_vresult_init(&r);
	st = kt_verify_evidence(s, strlen(s), k, vrf, &r);
	kt_vresult_free(&r);
	free(s);
	return st;
}

/* dstatus of ev, which it consumes. */
static int
dstatus_new(json_t *ev, const struct kt_verifier *k, const uint8_t *vrf)
{
	int st = dstatus(ev, k, vrf);

	json_decref(ev);
	return st;
}

static void
dadd(struct view *v, const char *label, uint8_t keybyte)
{
	uint8_t key[32];

	memset(key, keybyte, sizeof(key));
	ck_assert_int_ge(view_add(v, &D, label, KT_VALUE_KEY, "ed25519", key,
	                     sizeof(key), 0, 0),
	    0);
}

/* Seals v's batch (omit, rollback as view_seal); returns the size. */
static uint64_t
dseal(struct view *v, const char *omit, uint64_t rollback)
{
	struct seal_lie lie;
	const char *why;

	seal_lie_init(&lie);
	lie.omit = omit;
	lie.rollback_head = rollback;
	ck_assert_int_eq(view_seal(v, &D, 1000 + v->n, &lie, &why), 0);
	return v->n;
}

static json_t *
dnote(struct view *v, uint64_t size, const struct kt_signer *s)
{
	char buf[KT_NOTE_MAX];

	ck_assert_int_eq(view_note(v, &D, size, s, buf, sizeof(buf)), 0);
	return json_string(buf);
}

/* Leaf i of v with its inclusion proof in the tree of `size` leaves. */
static json_t *
dleaf_rec(struct view *v, uint64_t i, uint64_t size)
{
	struct kt_proof p;

	ck_assert_int_eq(view_inclusion(v, i, size, &p), 0);
	return json_pack("{s:I,s:o,s:o}", "index", (json_int_t)i, "entry",
	    kt_vb64_json(v->l[i].bytes, v->l[i].len), "hashes", hashes(&p));
}

/* The path of idx in the map of v's map head h. */
static json_t *
dpath(struct view *v, uint64_t h, const struct kt_hash *idx)
{
	struct kt_map_proof *mp = malloc(sizeof(*mp));
	json_t *j;

	ck_assert_ptr_nonnull(mp);
	ck_assert_int_eq(dir_map_prove(&v->l[h].h.root, idx, mp), 0);
	j = kt_vmap_proof_json(mp);
	free(mp);
	return j;
}

/* A lookup-proof state of label at size. */
static json_t *
lstate(struct view *v, const char *label, uint64_t size)
{
	struct kt_lookup_proof *p = malloc(sizeof(*p));
	json_t *j;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(view_lookup(v, &D, label, size, p), 0);
	j = json_pack("{s:o,s:o}", "checkpoint", dnote(v, size, D.signer),
	    "lookup_proof", kt_vlookup_json(p));
	free(p);
	return j;
}

/* A map-path state of idx at size (its last leaf's map). */
static json_t *
mstate(struct view *v, const struct kt_hash *idx, uint64_t size)
{
	return json_pack("{s:o,s:o,s:o}", "checkpoint",
	    dnote(v, size, D.signer), "head", dleaf_rec(v, size - 1, size),
	    "map_proof", dpath(v, size - 1, idx));
}

static json_t *
downgrade_ev(const char *label, const struct kt_hash *idx, json_t *earlier,
    json_t *later)
{
	return json_pack("{s:i,s:s,s:s,s:o,s:o,s:o}", "kt_evidence", 1, "type",
	    "downgrade", "label", label, "map_index",
	    kt_vb64_json(idx->b, KT_HASH_LEN), "earlier", earlier, "later",
	    later);
}

/* Flips each byte of the base64 field key of ev's object at path in
 * turn: every copy is refused. */
static void
flip_each(json_t *ev, json_t *obj, const char *key, const uint8_t *vrf)
{
	json_t *j = json_object_get(obj, key);
	uint8_t *buf = malloc(KT_LOOKUP_MAX), orig[KT_LOOKUP_MAX];
	size_t n;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(kt_b64_decode(json_string_value(j),
	                     json_string_length(j), orig, sizeof(orig), &n),
	    KT_OK);
	json_incref(j);
	for (size_t i = 0; i < n; i++) {
		memcpy(buf, orig, n);
		buf[i] ^= 0x01;
		json_object_set_new(obj, key, kt_vb64_json(buf, n));
		ck_assert_int_eq(dstatus(ev, &dvk, vrf), KT_VERIFY_FAILED);
	}
	json_object_set_new(obj, key, j);
	ck_assert_int_eq(dstatus(ev, &dvk, vrf), KT_VERIFY_OK);
	free(buf);
}

START_TEST(test_verify_evidence_downgrade)
{
	struct view *v = calloc(1, sizeof(*v));
	uint8_t pi[KT_VRF_PROOF_LEN], bad_vrf[KT_VRF_PUBLIC_LEN];
	struct kt_hash idx, idx2;
	uint64_t s1, s3, s4, s5;
	json_t *ev, *e;

	view_init(v, 1000);
	dadd(v, "bob", 0x0b);
	dadd(v, "alice", 0x11);
	s1 = dseal(v, NULL, UINT64_MAX);
	dadd(v, "alice", 0x22);
	dseal(v, NULL, UINT64_MAX);
	dadd(v, "alice", 0x33);
	s3 = dseal(v, NULL, UINT64_MAX);
	s4 = dseal(v, NULL, s1 - 1); /* the map of version 1 again */
	s5 = dseal(v, NULL, 0);      /* the empty map again */
	ck_assert_int_eq(dir_vrf(&D, "alice", 5, pi, &idx), 0);
	ck_assert_int_eq(dir_vrf(&D, "bob", 3, pi, &idx2), 0);
	{
		/* another VRF key: the scalar 2 */
		uint8_t sk[KT_VRF_SECRET_LEN] = { 2 };
		struct kt_vrf_key *k;

		ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_OK);
		kt_vrf_public(k, bad_vrf);
		kt_vrf_key_free(k);
	}

	/* two signed lookups: version 3, then 1; then none */
	ev = downgrade_ev("alice", &idx, lstate(v, "alice", s3),
	    lstate(v, "alice", s4));
	ck_assert_int_eq(dstatus(ev, &dvk, D.vrf_pk), KT_VERIFY_OK);
	/* without the VRF key, with another log key: refused */
	ck_assert_int_eq(dstatus(ev, &dvk, NULL), KT_VERIFY_FAILED);
	ck_assert_int_eq(dstatus(ev, &dother, D.vrf_pk), KT_VERIFY_FAILED);
	ck_assert_int_eq(dstatus(ev, &vk, D.vrf_pk), KT_VERIFY_FAILED);
	ck_assert_int_eq(dstatus(ev, &dvk, bad_vrf), KT_VERIFY_FAILED);
	/* every byte of either lookup proof changed: refused */
	flip_each(ev, json_object_get(ev, "later"), "lookup_proof", D.vrf_pk);
	flip_each(ev, json_object_get(ev, "earlier"), "lookup_proof", D.vrf_pk);
	/* another label, another map index, a checkpoint by another key */
	e = json_deep_copy(ev);
	json_object_set_new(e, "label", json_string("bob"));
	ck_assert_int_eq(dstatus(e, &dvk, D.vrf_pk), KT_VERIFY_FAILED);
	json_object_set_new(e, "label", json_string("alice"));
	json_object_set_new(e, "map_index", kt_vb64_json(idx2.b, KT_HASH_LEN));
	ck_assert_int_eq(dstatus(e, &dvk, D.vrf_pk), KT_VERIFY_FAILED);
	json_object_set_new(e, "map_index", kt_vb64_json(idx.b, KT_HASH_LEN));
	json_object_set_new(json_object_get(e, "later"), "checkpoint",
	    dnote(v, s4, D.other));
	ck_assert_int_eq(dstatus(e, &dvk, D.vrf_pk), KT_VERIFY_FAILED);
	json_decref(e);
	/* the later answer smaller (a rollback), or not lower: refused */
	ck_assert_int_eq(dstatus_new(downgrade_ev("alice", &idx,
	                                 lstate(v, "alice", s4),
	                                 lstate(v, "alice", s3)),
	                     &dvk, D.vrf_pk),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(dstatus_new(downgrade_ev("alice", &idx,
	                                 lstate(v, "alice", s1),
	                                 lstate(v, "alice", s3)),
	                     &dvk, D.vrf_pk),
	    KT_VERIFY_FAILED);
	ck_assert_int_eq(dstatus_new(downgrade_ev("alice", &idx,
	                                 lstate(v, "alice", s3),
	                                 lstate(v, "alice", s3)),
	                     &dvk, D.vrf_pk),
	    KT_VERIFY_FAILED);
	/* absence after version 3: proven */
	json_decref(ev);
	ev = downgrade_ev("alice", &idx, lstate(v, "alice", s3),
	    lstate(v, "alice", s5));
	ck_assert_int_eq(dstatus(ev, &dvk, D.vrf_pk), KT_VERIFY_OK);
	json_decref(ev);

	/* map paths (monitor): no VRF key needed; mixed with a lookup */
	ev = downgrade_ev("alice", &idx, mstate(v, &idx, s3),
	    mstate(v, &idx, s4));
	ck_assert_int_eq(dstatus(ev, &dvk, NULL), KT_VERIFY_OK);
	ck_assert_int_eq(dstatus(ev, &dother, NULL), KT_VERIFY_FAILED);
	flip_each(ev, json_object_get(ev, "later"), "map_proof", NULL);
	e = json_deep_copy(ev);
	/* a head that is not the checkpoint's last leaf */
	json_object_set_new(json_object_get(e, "later"), "head",
	    dleaf_rec(v, s3 - 1, s4));
	ck_assert_int_eq(dstatus(e, &dvk, NULL), KT_VERIFY_FAILED);
	json_object_set_new(json_object_get(e, "later"), "map_proof",
	    dpath(v, s4 - 1, &idx2));
	ck_assert_int_eq(dstatus(e, &dvk, NULL), KT_VERIFY_FAILED);
	json_decref(e);
	json_decref(ev);
	ev = downgrade_ev("alice", &idx, lstate(v, "alice", s3),
	    mstate(v, &idx, s5));
	ck_assert_int_eq(dstatus(ev, &dvk, D.vrf_pk), KT_VERIFY_OK);
	json_decref(ev);
	view_free(v);
	free(v);
}
END_TEST

/* The same version with another update: two branches of one tree. */
START_TEST(test_verify_evidence_rewrite)
{
	struct view *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint8_t pi[KT_VRF_PROOF_LEN];
	struct kt_hash idx;
	uint64_t sa, sb;
	json_t *ev;

	view_init(a, 1000);
	dadd(a, "f0", 0x01);
	dseal(a, NULL, UINT64_MAX);
	view_copy(b, a);
	dadd(a, "alice", 0x11);
	sa = dseal(a, NULL, UINT64_MAX);
	dadd(b, "alice", 0x22);
	dadd(b, "f1", 0x02);
	sb = dseal(b, NULL, UINT64_MAX);
	ck_assert_int_eq(dir_vrf(&D, "alice", 5, pi, &idx), 0);
	ev = downgrade_ev("alice", &idx, lstate(a, "alice", sa),
	    lstate(b, "alice", sb));
	ck_assert_int_eq(dstatus(ev, &dvk, D.vrf_pk), KT_VERIFY_OK);
	json_decref(ev);
	ev = downgrade_ev("alice", &idx, mstate(a, &idx, sa),
	    mstate(b, &idx, sb));
	ck_assert_int_eq(dstatus(ev, &dvk, NULL), KT_VERIFY_OK);
	json_decref(ev);
	view_free(a);
	view_free(b);
	free(a);
	free(b);
}
END_TEST

static json_t *
hidden_ev(struct view *v, uint64_t size, uint64_t head, uint64_t upd,
    const struct kt_hash *idx)
{
	return json_pack("{s:i,s:s,s:s,s:o,s:o,s:o,s:o}", "kt_evidence", 1,
	    "type", "hidden-version", "label", "alice", "checkpoint",
	    dnote(v, size, D.signer), "head", dleaf_rec(v, head, size),
	    "map_proof", dpath(v, head, idx), "update",
	    dleaf_rec(v, upd, size));
}

START_TEST(test_verify_evidence_hidden)
{
	struct view *v = calloc(1, sizeof(*v)), *h = calloc(1, sizeof(*h));
	uint8_t pi[KT_VRF_PROOF_LEN];
	struct kt_hash idx;
	uint64_t s1, s2, s3, u1, u2;
	json_t *ev, *e;

	view_init(v, 1000);
	dadd(v, "f0", 0x01);
	u1 = v->n;
	dadd(v, "alice", 0x11);
	s1 = dseal(v, NULL, UINT64_MAX);
	view_copy(h, v);
	u2 = v->n;
	dadd(v, "alice", 0x22);
	s2 = dseal(v, "alice", UINT64_MAX); /* version 2 left out */
	dadd(v, "f1", 0x02);
	s3 = dseal(v, NULL, UINT64_MAX);
	ck_assert_int_eq(dir_vrf(&D, "alice", 5, pi, &idx), 0);

	/* version 2 logged before map head s2 - 1, whose map shows 1 */
	ev = hidden_ev(v, s3, s2 - 1, u2, &idx);
	ck_assert_int_eq(dstatus(ev, &dvk, NULL), KT_VERIFY_OK);
	ck_assert_int_eq(dstatus(ev, &dother, NULL), KT_VERIFY_FAILED);
	ck_assert_int_eq(dstatus(ev, &vk, NULL), KT_VERIFY_FAILED);
	flip_each(ev, ev, "map_proof", NULL);
	flip_each(ev, json_object_get(ev, "update"), "entry", NULL);
	flip_each(ev, json_object_get(ev, "head"), "entry", NULL);
	e = json_deep_copy(ev);
	json_object_set_new(e, "checkpoint", dnote(v, s3, D.other));
	ck_assert_int_eq(dstatus(e, &dvk, NULL), KT_VERIFY_FAILED);
	json_object_set_new(e, "checkpoint", dnote(v, s2, D.signer));
	ck_assert_int_eq(dstatus(e, &dvk, NULL), KT_VERIFY_FAILED);
	json_decref(e);
	e = json_deep_copy(ev);
	json_object_set_new(json_object_get(e, "update"), "index",
	    json_integer((json_int_t)u1));
	ck_assert_int_eq(dstatus(e, &dvk, NULL), KT_VERIFY_FAILED);
	json_decref(e);
	json_decref(ev);
	/* version 1 (in the map), a head before the update, the honest
	 * branch: nothing proven */
	ev = hidden_ev(v, s3, s2 - 1, u1, &idx);
	ck_assert_int_eq(dstatus(ev, &dvk, NULL), KT_VERIFY_FAILED);
	json_decref(ev);
	ev = hidden_ev(v, s3, s1 - 1, u2, &idx);
	ck_assert_int_eq(dstatus(ev, &dvk, NULL), KT_VERIFY_FAILED);
	json_decref(ev);
	dadd(h, "alice", 0x22);
	s2 = dseal(h, NULL, UINT64_MAX);
	ev = hidden_ev(h, s2, s2 - 1, u2, &idx);
	ck_assert_int_eq(dstatus(ev, &dvk, NULL), KT_VERIFY_FAILED);
	json_decref(ev);
	view_free(v);
	view_free(h);
	free(v);
	free(h);
}
END_TEST

static Suite *
verify_evidence_suite(void)
{
	Suite *s = suite_create("verify_evidence");
	struct {
		const char *name;
		const TTest *t;
	} tcs[] = {
		{ "kt_verify_evidence_fork", test_verify_evidence_fork },
		{ "kt_verify_evidence_other", test_verify_evidence_other },
		{ "kt_verify_evidence_prefix", test_verify_evidence_prefix },
	};

	const struct {
		const char *name;
		const TTest *t;
	} dtcs[] = {
		{ "kt_verify_evidence_downgrade",
		    test_verify_evidence_downgrade },
		{ "kt_verify_evidence_rewrite", test_verify_evidence_rewrite },
		{ "kt_verify_evidence_hidden", test_verify_evidence_hidden },
	};

	for (size_t i = 0; i < sizeof(tcs) / sizeof(tcs[0]); i++)
		verify_add(s, tcs[i].name, tcs[i].t);
	for (size_t i = 0; i < sizeof(dtcs) / sizeof(dtcs[0]); i++) {
		TCase *tc = tcase_create(dtcs[i].name);

		tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
		tcase_add_test(tc, dtcs[i].t);
		tcase_set_timeout(tc, 120);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return kt_test_run(verify_evidence_suite());
}
