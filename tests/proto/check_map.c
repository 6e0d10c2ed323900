/*
 * check_map.c: the directory map, kt/map.h: hashing, proofs, the proof
 * codec and the batch step, against the reference map in map_testlib.c.
 *
 * Known answers come from a short Python script using hashlib (the
 * definitions in proto/README.md "The map"), not from map.c.
 */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/map.h"
#include "map_testlib.h"

/* ---- helpers ------------------------------------------------------------- */

/* A map kept three ways: the reference, a store, and its root. */
struct world {
	struct ref_map ref;
	struct mem_store st;
	struct kt_hash root;
	uint64_t log_size;
	uint64_t seed;
};

static void
world_init(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	mem_store_init(&w->st);
	kt_map_empty_root(&w->root);
	w->seed = seed;
}

static void
world_free(struct world *w)
{
	ref_free(&w->ref);
	mem_store_free(&w->st);
}

/*
 * Makes a valid batch of n updates: mostly new indexes, some next versions
 * of existing ones (with several versions of one index at times).
 */
static struct kt_map_update *
make_batch(struct world *w, size_t n)
{
	struct kt_map_update *u = calloc(n ? n : 1, sizeof(*u));
	size_t i, j;

	ck_assert_ptr_nonnull(u);
	for (i = 0; i < n; i++) {
		struct kt_hash idx;
		const struct kt_map_update *pending = NULL;
		uint64_t r = rnd(&w->seed) % 8;

		if (r < 2 && w->ref.n > 0)
			idx = w->ref.l[rnd(&w->seed) % w->ref.n].index;
		else if (r == 2 && i > 0)
			idx = u[rnd(&w->seed) % i].index;
		else
			rnd_hash(&w->seed, &idx);
		for (j = i; j-- > 0;)
			if (memcmp(u[j].index.b, idx.b, 32) == 0) {
				pending = &u[j];
				break;
			}
		u[i] = next_update(&w->ref, &idx, w->log_size++, pending,
		    &w->seed);
		w->log_size++; /* leave room, as map heads do */
	}
	return u;
}

/* Applies a batch to the store and the reference; checks the roots agree. */
static void
world_apply(struct world *w, const struct kt_map_update *u, size_t n)
{
	struct kt_map_reader r = mem_reader(&w->st);
	struct kt_map_writer wr = mem_writer(&w->st);
	struct kt_map_result res;
	struct kt_hash want;
	size_t i, before = w->ref.n;

	ck_assert_int_eq(kt_map_apply(&r, &w->root, u, n, &wr, &res), KT_OK);
	for (i = 0; i < n; i++)
		ref_update(&w->ref, &u[i]);
	ref_root(&w->ref, &want);
	ck_assert_mem_eq(res.root.b, want.b, 32);
	ck_assert_uint_eq(res.inserted, w->ref.n - before);
	w->root = res.root;
}

static void
prove(struct world *w, const struct kt_hash *idx, struct kt_map_proof *p)
{
	struct kt_map_reader r = mem_reader(&w->st);

	ck_assert_int_eq(kt_map_prove(&r, &w->root, idx, p), KT_OK);
}

static void
check_all_proofs(struct world *w, size_t absent)
{
	static struct kt_map_proof p;
	size_t i;
	int present;

	for (i = 0; i < w->ref.n; i++) {
		prove(w, &w->ref.l[i].index, &p);
		ck_assert_int_eq(kt_map_verify(&w->root, &w->ref.l[i].index, &p,
		                     &present),
		    KT_OK);
		ck_assert_int_eq(present, 1);
		ck_assert_mem_eq(&p.leaf, &w->ref.l[i], sizeof(p.leaf));
	}
	for (i = 0; i < absent; i++) {
		struct kt_hash idx;

		rnd_hash(&w->seed, &idx);
		/* Half of them share all but the last bits with a label. */
		if (w->ref.n > 0 && i % 2 == 0) {
			idx = w->ref.l[rnd(&w->seed) % w->ref.n].index;
			idx.b[31] ^= (uint8_t)(1u << (i / 2 % 8));
		}
		if (ref_find(&w->ref, &idx) != NULL)
			continue;
		prove(w, &idx, &p);
		ck_assert_int_eq(kt_map_verify(&w->root, &idx, &p, &present),
		    KT_OK);
		ck_assert_int_eq(present, 0);
	}
}

static struct kt_hash
hex32(const char *hex)
{
	struct kt_hash h;

	ck_assert_int_eq(sodium_hex2bin(h.b, 32, hex, 64, NULL, NULL, NULL), 0);
	return h;
}

/* ---- hashing ------------------------------------------------------------- */

START_TEST(test_map_hashes)
{
	struct kt_map_leaf l[3];
	struct kt_hash h, u;
	size_t i;

	kt_map_empty_root(&h);
	ck_assert_mem_eq(h.b,
	    hex32("67586e98fad27da0b9968bc039a1ef34c939b9b8e52"
	          "3a8bef89d478608c5ecf6")
	        .b,
	    32);
	ck_assert_int_eq(kt_map_bit(&h, 0), 0); /* 0x67 = 0110 0111 */
	ck_assert_int_eq(kt_map_bit(&h, 1), 1);
	ck_assert_int_eq(kt_map_bit(&h, 7), 1);
	ck_assert_int_eq(kt_map_bit(&h, 255), 0); /* 0xf6 */

	/* One leaf: index ab..ab, version 2, update_index 7, a chain of two
	 * updates whose leaf hashes are both 11..11. */
	memset(&l[0], 0, sizeof(l[0]));
	memset(l[0].index.b, 0xab, 32);
	l[0].version = 2;
	l[0].update_index = 7;
	memset(u.b, 0x11, 32);
	kt_map_chain_next(NULL, &u, &l[0].chain);
	kt_map_chain_next(&l[0].chain, &u, &l[0].chain);
	ck_assert_mem_eq(l[0].chain.b,
	    hex32("2539acd838259f5c0e7bef4c58ed1c2a298d6ca28ccef243338ffd059240"
	          "3abd")
	        .b,
	    32);
	kt_map_leaf_hash(&l[0], &h);
	ck_assert_mem_eq(h.b,
	    hex32("194ddad453d94a2ffb3483ad87d7a63c24961f73c4044e8fbbed16e8f5d8"
	          "0a3a")
	        .b,
	    32);

	/* Three leaves 00.., 40.., 80.. (version 1, update_index i, chain
	 * over one update of leaf hash i+1 repeated): node(0, node(1, A, B),
	 * C), the README's worked example. */
	for (i = 0; i < 3; i++) {
		memset(&l[i], 0, sizeof(l[i]));
		l[i].index.b[0] = (uint8_t)(i * 0x40);
		l[i].version = 1;
		l[i].update_index = i;
		memset(u.b, (int)(i + 1), 32);
		kt_map_chain_next(NULL, &u, &l[i].chain);
	}
	ck_assert_int_eq(kt_map_root(l, 3, NULL, &h), KT_OK);
	ck_assert_mem_eq(h.b,
	    hex32("eeec4977b48166c696ff311b77acea15f3d7a7a9c7584b19eae042f43675"
	          "11f7")
	        .b,
	    32);
}
END_TEST

/* ---- proofs -------------------------------------------------------------- */

START_TEST(test_map_prove)
{
	struct world w;
	size_t round;

	world_init(&w, 1 + (uint64_t)_i);
	check_all_proofs(&w, 4);
	for (round = 0; round < 6; round++) {
		size_t n = (size_t)(rnd(&w.seed) % (round < 3 ? 3 : 40)) + 1;
		struct kt_map_update *u = make_batch(&w, n);

		world_apply(&w, u, n);
		free(u);
		check_all_proofs(&w, 8);
	}
	world_free(&w);
}
END_TEST

START_TEST(test_map_prove_large)
{
	struct world w;
	size_t round;

	world_init(&w, 1000 + (uint64_t)_i);
	for (round = 0; round < 3; round++) {
		size_t n = (size_t)(rnd(&w.seed) % 700) + 1;
		struct kt_map_update *u = make_batch(&w, n);

		world_apply(&w, u, n);
		free(u);
	}
	check_all_proofs(&w, 64);
	world_free(&w);
}
END_TEST

START_TEST(test_map_prove_lying_store)
{
	struct world w;
	struct kt_map_update *u;
	static struct kt_map_proof p;
	struct kt_map_reader r;

	world_init(&w, 77);
	u = make_batch(&w, 20);
	world_apply(&w, u, 20);
	w.st.lie = 1;
	r = mem_reader(&w.st);
	ck_assert_int_eq(kt_map_prove(&r, &w.root, &u[0].index, &p),
	    KT_ERR_VERIFY);
	free(u);
	world_free(&w);
}
END_TEST

/* ---- verification: forged and damaged proofs ----------------------------- */

START_TEST(test_map_verify_rejects)
{
	struct world w;
	struct kt_map_update *u;
	static struct kt_map_proof p, q;
	struct kt_hash other;
	size_t i;
	int present;

	world_init(&w, 5);
	u = make_batch(&w, 200);
	world_apply(&w, u, 200);
	prove(&w, &w.ref.l[3].index, &p);
	ck_assert_uint_gt(p.n, 2);

	/* Every field of every step and of the leaf matters. */
	for (i = 0; i < p.n; i++) {
		q = p;
		q.step[i].sibling.b[i % 32] ^= 1;
		ck_assert_int_eq(kt_map_verify(&w.root, &p.leaf.index, &q,
		                     NULL),
		    KT_ERR_VERIFY);
		q = p;
		q.step[i].bit ^= 1;
		ck_assert_int_eq(kt_map_verify(&w.root, &p.leaf.index, &q,
		                     NULL),
		    KT_ERR_VERIFY);
	}
	q = p;
	q.leaf.version++;
	ck_assert_int_eq(kt_map_verify(&w.root, &p.leaf.index, &q, NULL),
	    KT_ERR_VERIFY);
	q = p;
	q.leaf.version = 0;
	ck_assert_int_eq(kt_map_verify(&w.root, &p.leaf.index, &q, NULL),
	    KT_ERR_VERIFY);
	q = p;
	q.n--; /* a path cut short */
	ck_assert_int_eq(kt_map_verify(&w.root, &p.leaf.index, &q, NULL),
	    KT_ERR_VERIFY);

	/*
	 * Prefix confusion: a path whose leaf does not take the index's turns
	 * proves nothing about the index, even though it hashes to the root.
	 */
	other = p.leaf.index;
	other.b[0] ^= 0x80; /* turns the other way at bit 0 */
	ck_assert_int_eq(kt_map_verify(&w.root, &other, &p, &present),
	    KT_ERR_VERIFY);
	for (i = 0; i < p.n; i++) {
		other = p.leaf.index;
		other.b[p.step[i].bit / 8] ^=
		    (uint8_t)(0x80 >> (p.step[i].bit % 8));
		ck_assert_int_eq(kt_map_verify(&w.root, &other, &p, &present),
		    KT_ERR_VERIFY);
	}
	/*
	 * A malformed trie: a node at bit 5 whose left child is a leaf with
	 * bit 5 set. Walking an index with bit 5 clear reaches that leaf;
	 * the path hashes to the root, but the leaf did not take the turn
	 * the index took, so the path proves nothing.
	 */
	{
		struct kt_map_node node = { .is_leaf = 1 },
		                   top = { .is_leaf = 0 };
		struct kt_hash idx, root;

		node.leaf = p.leaf;
		node.leaf.index.b[0] |= 0x04; /* bit 5 set */
		kt_map_node_hash(&node, &top.child[0]);
		memset(top.child[1].b, 0x5a, 32);
		top.bit = 5;
		kt_map_node_hash(&top, &root);
		memset(&q, 0, sizeof(q));
		q.n = 1;
		q.step[0].bit = 5;
		q.step[0].sibling = top.child[1];
		q.has_leaf = 1;
		q.leaf = node.leaf;
		idx = node.leaf.index;
		/* The misplaced leaf cannot be proven present either. */
		ck_assert_int_eq(kt_map_verify(&root, &idx, &q, &present),
		    KT_ERR_VERIFY);
		idx.b[0] &= (uint8_t)~0x04; /* bit 5 clear: left, as q */
		ck_assert_int_eq(kt_map_verify(&root, &idx, &q, &present),
		    KT_ERR_VERIFY);
	}
	/* An index that turns as the leaf does but differs after: absent. */
	other = p.leaf.index;
	other.b[31] ^= 1;
	if (ref_find(&w.ref, &other) == NULL) {
		ck_assert_int_eq(kt_map_verify(&w.root, &other, &p, &present),
		    KT_OK);
		ck_assert_int_eq(present, 0);
	}

	/* The empty-map claim holds only for the empty map. */
	memset(&q, 0, sizeof(q));
	ck_assert_int_eq(kt_map_verify(&w.root, &other, &q, NULL),
	    KT_ERR_VERIFY);
	kt_map_empty_root(&other);
	ck_assert_int_eq(kt_map_verify(&other, &other, &q, &present), KT_OK);
	ck_assert_int_eq(present, 0);
	free(u);
	world_free(&w);
}
END_TEST

/* ---- codec --------------------------------------------------------------- */

START_TEST(test_map_proof_codec)
{
	struct world w;
	struct kt_map_update *u;
	static struct kt_map_proof p, q;
	static uint8_t buf[KT_MAP_PROOF_MAX], flip[KT_MAP_PROOF_MAX];
	size_t len, i, k;
	int present;

	world_init(&w, 9);
	u = make_batch(&w, 300);
	world_apply(&w, u, 300);
	for (k = 0; k < 2; k++) {
		struct kt_hash idx = w.ref.l[17].index;

		if (k == 1)
			idx.b[31] ^= 1; /* an absence proof */
		prove(&w, &idx, &p);
		ck_assert_int_eq(kt_map_proof_encode(&p, buf, sizeof(buf),
		                     &len),
		    KT_OK);
		ck_assert_uint_eq(len, kt_map_proof_len(&p));
		ck_assert_uint_eq(len, 2 + 33 * p.n + 1 + 80);
		ck_assert_int_eq(kt_map_proof_decode(buf, len, &q), KT_OK);
		ck_assert_int_eq(kt_map_verify(&w.root, &idx, &q, &present),
		    KT_OK);
		ck_assert_int_eq(present, k == 0);
		ck_assert_int_eq(kt_map_proof_encode(&p, buf, len - 1, NULL),
		    KT_ERR_TOO_LARGE);

		/* Every truncation is INCOMPLETE, trailing bytes MALFORMED. */
		for (i = 0; i < len; i++)
			ck_assert_int_eq(kt_map_proof_decode(buf, i, &q),
			    KT_ERR_INCOMPLETE);
		buf[len] = 0;
		ck_assert_int_eq(kt_map_proof_decode(buf, len + 1, &q),
		    KT_ERR_MALFORMED);

		/* Every bit flip: refused by decode or by verify. */
		for (i = 0; i < len * 8; i++) {
			memcpy(flip, buf, len);
			flip[i / 8] ^= (uint8_t)(1u << (i % 8));
			if (kt_map_proof_decode(flip, len, &q) != KT_OK)
				continue;
			ck_assert_int_eq(kt_map_verify(&w.root, &idx, &q,
			                     &present),
			    KT_ERR_VERIFY);
		}
	}
	/* Malformed by construction. */
	memset(&q, 0, sizeof(q));
	q.n = 1;
	ck_assert_int_eq(kt_map_proof_encode(&q, buf, sizeof(buf), &len),
	    KT_ERR_MALFORMED); /* steps but no leaf */
	buf[0] = 0x01;
	buf[1] = 0x01; /* n = 257 */
	ck_assert_int_eq(kt_map_proof_decode(buf, 2, &q), KT_ERR_MALFORMED);
	buf[0] = 0;
	buf[1] = 0;
	buf[2] = 2; /* terminal byte */
	ck_assert_int_eq(kt_map_proof_decode(buf, 3, &q), KT_ERR_MALFORMED);
	free(u);
	world_free(&w);
}
END_TEST

Suite *
map_suite(void)
{
	Suite *s = suite_create("map");
	TCase *tc;

	kt_test_case(s, "kt_map_hashes", 0, test_map_hashes, NULL);
	tc = tcase_create("kt_map_prove");
	tcase_add_loop_test(tc, test_map_prove, 0, 1000);
	tcase_add_loop_test(tc, test_map_prove_large, 0, 4);
	tcase_add_test(tc, test_map_prove_lying_store);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	kt_test_case(s, "kt_map_verify", 0, test_map_verify_rejects, NULL);
	kt_test_case(s, "kt_map_proof_decode", 0, test_map_proof_codec, NULL);
	return s;
}

int
main(void)
{
	return kt_test_run(map_suite());
}
