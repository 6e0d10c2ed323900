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

	for (size_t i = 0; i < sizeof(tcs) / sizeof(tcs[0]); i++)
		verify_add(s, tcs[i].name, tcs[i].t);
	return s;
}

int
main(void)
{
	return kt_test_run(verify_evidence_suite());
}
