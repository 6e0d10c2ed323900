/*
 * check_merkle_proof.c: tests for proto/merkle.c (kt/merkle.h): inclusion
 * and consistency proofs, their generation and their verification.
 *
 * The reference side is merkle_testlib.h.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/merkle.h"
#include "merkle_testlib.h"

/* ---- inclusion proofs ------------------------------------------------- */

/* 64-bit sizes: inclusion proofs of bounded length, in range, and
 * verifying; the longest is exactly 64 hashes. */
static void
inclusion_big_sizes(void)
{
	struct kt_proof p;
	struct kt_hash root;
	uint64_t sizes[] = { UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 63,
		((uint64_t)1 << 63) + 1, 0x123456789abcdefULL };
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		uint64_t idx[] = { 0, 1, sizes[k] / 2, sizes[k] - 2,
			sizes[k] - 1, 0x5555555555555555ULL % sizes[k] };
		struct bigsrc rs = { .size = sizes[k] };
		size_t j;

		ck_assert_int_eq(kt_merkle_root(big_node, &rs, sizes[k], &root),
		    KT_OK);
		for (j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
			struct bigsrc s = { .size = sizes[k] };

			ck_assert_int_eq(kt_merkle_inclusion_proof(big_node, &s,
			                     idx[j], sizes[k], &p),
			    KT_OK);
			ck_assert_int_eq(s.outside, 0);
			ck_assert_uint_le(p.n, KT_MAX_PROOF);
			CHECK_ERR(kt_merkle_verify_inclusion(&uniform[0],
			              idx[j], sizes[k], p.h, p.n, &root),
			    KT_OK);
		}
	}
	/* The longest inclusion proof is exactly 64 hashes. */
	{
		struct bigsrc s = { .size = UINT64_MAX };

		ck_assert_int_eq(kt_merkle_inclusion_proof(big_node, &s, 0,
		                     UINT64_MAX, &p),
		    KT_OK);
		ck_assert_uint_eq(p.n, 64);
	}
}

START_TEST(test_merkle_inclusion_proof)
{
	struct kt_proof p, want;
	struct kt_hash root;
	uint64_t n, i;

	for (n = 0; n <= MAXN; n++) {
		root_of(n, &root);
		for (i = 0; i < n; i++) {
			struct memsrc s = { .size = n };

			ck_assert_int_eq(kt_merkle_inclusion_proof(mem_node, &s,
			                     i, n, &p),
			    KT_OK);
			ck_assert_int_eq(s.outside, 0);
			ref_inclusion(i, n, &want);
			ck_assert(proof_eq(&p, &want));
			/*
			 * One call per proof hash, plus the extra perfect
			 * subtrees of at most one non-perfect right part.
			 */
			ck_assert_uint_le(s.calls, p.n + 6);
			if ((n & (n - 1)) == 0)
				ck_assert_uint_eq(s.calls, p.n);
			CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, n,
			              p.h, p.n, &root),
			    KT_OK);
		}
		for (i = n; i < n + 3; i++) {
			struct memsrc s = { .size = n };

			ck_assert_int_eq(kt_merkle_inclusion_proof(mem_node, &s,
			                     i, n, &p),
			    KT_ERR_RANGE);
			ck_assert_uint_eq(s.calls, 0);
		}
	}
	/* Errors from fn are passed through. */
	for (i = 1; i <= 5; i++) {
		struct memsrc s = { .size = 21, .fail_at = (unsigned)i };

		ck_assert_int_eq(kt_merkle_inclusion_proof(mem_node, &s, 4, 21,
		                     &p),
		    KT_ERR_IO);
	}
	inclusion_big_sizes();
}
END_TEST

/* Flips every bit of every proof hash: each flip must fail. */
static void
flip_inclusion(const struct kt_hash *leaf, uint64_t i, uint64_t n,
    struct kt_proof *p, const struct kt_hash *root)
{
	size_t j;
	unsigned bit;

	for (j = 0; j < p->n; j++)
		for (bit = 0; bit < 8 * KT_HASH_LEN; bit++) {
			p->h[j].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			CHECK_ERR(kt_merkle_verify_inclusion(leaf, i, n, p->h,
			              p->n, root),
			    KT_ERR_VERIFY);
			p->h[j].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
}

/*
 * The edge cache: one cache shared by every proof, sizes interleaved so
 * that it is reset and refilled again and again, gives exactly the proofs
 * of the uncached generator; a cache hit spares the calls to fn that
 * composing the edge took.
 */
START_TEST(test_merkle_inclusion_proof_cached)
{
	struct kt_edge_cache c;
	struct kt_proof p, want;
	uint64_t n, i;
	int pass;

	kt_edge_cache_init(&c);
	for (pass = 0; pass < 2; pass++) {
		for (n = 1; n <= MAXN; n++) {
			for (i = 0; i < n; i++) {
				struct memsrc s = { .size = n };
				struct memsrc t = { .size = n };
				uint64_t j = (i * 7 + (uint64_t)pass) % n;

				ck_assert_int_eq(kt_merkle_inclusion_proof(
				                     mem_node, &s, j, n, &want),
				    KT_OK);
				ck_assert_int_eq(
				    kt_merkle_inclusion_proof_cached(mem_node,
				        &t, &c, j, n, &p),
				    KT_OK);
				ck_assert(proof_eq(&p, &want));
				ck_assert_uint_le(t.calls, s.calls);
				/* The same proof again: nothing composed. */
				t.calls = 0;
				ck_assert_int_eq(
				    kt_merkle_inclusion_proof_cached(mem_node,
				        &t, &c, j, n, &p),
				    KT_OK);
				ck_assert(proof_eq(&p, &want));
				ck_assert_uint_le(t.calls, want.n);
			}
			/* Another size in between resets the cache. */
			if (n > 2) {
				struct memsrc u = { .size = n - 1 };

				ck_assert_int_eq(
				    kt_merkle_inclusion_proof_cached(mem_node,
				        &u, &c, 0, n - 1, &p),
				    KT_OK);
				ck_assert_int_eq(
				    kt_merkle_inclusion_proof(mem_node, &u, 0,
				        n - 1, &want),
				    KT_OK);
				ck_assert(proof_eq(&p, &want));
			}
		}
	}
	/* Errors from fn are passed through and cache nothing. */
	kt_edge_cache_init(&c);
	for (i = 1; i <= 5; i++) {
		struct memsrc s = { .size = 21, .fail_at = (unsigned)i };

		ck_assert_int_eq(kt_merkle_inclusion_proof_cached(mem_node, &s,
		                     &c, 4, 21, &p),
		    KT_ERR_IO);
	}
	ck_assert_uint_eq(c.have, 0);
	ck_assert_int_eq(kt_merkle_inclusion_proof_cached(mem_node, NULL, NULL,
	                     3, 2, &p),
	    KT_ERR_RANGE);
}
END_TEST

/* Every single-bit change to the valid inclusion proof p of leaf i in
 * size n (or to the leaf or the root), every truncation and every
 * extension is rejected. */
static void
mutate_inclusion(uint64_t i, uint64_t n, struct kt_proof *p,
    const struct kt_hash *root)
{
	struct kt_proof q;
	struct kt_hash h, extra;
	size_t k;
	unsigned bit;

	memset(&extra, 0x42, sizeof(extra));
	flip_inclusion(&leaves[i], i, n, p, root);
	/* Every bit of the leaf and of the root. */
	for (bit = 0; bit < 8 * KT_HASH_LEN; bit++) {
		h = leaves[i];
		h.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_ERR(kt_merkle_verify_inclusion(&h, i, n, p->h, p->n,
		              root),
		    KT_ERR_VERIFY);
		h = *root;
		h.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, n, p->h,
		              p->n, &h),
		    KT_ERR_VERIFY);
	}
	/* Every truncation. */
	for (k = 0; k < p->n; k++)
		CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, n, p->h, k,
		              root),
		    KT_ERR_VERIFY);
	/* Extensions: one hash appended or prepended. */
	for (k = 0; k <= p->n; k++) {
		const struct kt_hash *add = k < p->n ? &p->h[k] : &extra;

		q = *p;
		q.h[q.n++] = *add;
		CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, n, q.h, q.n,
		              root),
		    KT_ERR_VERIFY);
		q.h[0] = *add;
		memcpy(&q.h[1], p->h, p->n * sizeof(p->h[0]));
		CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, n, q.h, q.n,
		              root),
		    KT_ERR_VERIFY);
	}
}

/* The valid inclusion proof p of leaf i in size n, claimed for another
 * index or another size, passes only where RFC 9162 says it must. */
static void
inclusion_wrong_index_and_size(uint64_t i, uint64_t n, const struct kt_proof *p,
    const struct kt_hash *root)
{
	struct kt_proof other;
	uint64_t j, s2;

	/* Wrong index: the same leaf claimed elsewhere. */
	for (j = 0; j < n + 3; j++) {
		if (j == i)
			continue;
		CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], j, n, p->h,
		              p->n, root),
		    j < n ? KT_ERR_VERIFY : KT_ERR_RANGE);
	}
	/*
	 * Wrong size, with that size's real root. RFC 9162
	 * proofs do not bind the size on their own: they pass
	 * exactly when PATH(i, D[s2]) happens to be the same.
	 */
	for (s2 = 0; s2 <= 2 * MUTN; s2++) {
		struct kt_hash r2;

		if (s2 == n)
			continue;
		root_of(s2, &r2);
		if (i >= s2) {
			CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, s2,
			              p->h, p->n, &r2),
			    KT_ERR_RANGE);
			continue;
		}
		ref_inclusion(i, s2, &other);
		CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, s2, p->h,
		              p->n, &r2),
		    proof_eq(p, &other) ? KT_OK : KT_ERR_VERIFY);
		/* And the wrong root for the right size. */
		CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, n, p->h,
		              p->n, &r2),
		    KT_ERR_VERIFY);
	}
}

START_TEST(test_merkle_verify_inclusion)
{
	struct kt_proof p;
	struct kt_hash root;
	uint64_t n, i;

	for (n = 1; n <= MUTN; n++) {
		root_of(n, &root);
		for (i = 0; i < n; i++) {
			gen_inclusion(i, n, &p);
			CHECK_ERR(kt_merkle_verify_inclusion(&leaves[i], i, n,
			              p.h, p.n, &root),
			    KT_OK);
			mutate_inclusion(i, n, &p, &root);
			inclusion_wrong_index_and_size(i, n, &p, &root);
		}
	}
	/* Malformed arguments. */
	root_of(8, &root);
	gen_inclusion(3, 8, &p);
	CHECK_ERR(kt_merkle_verify_inclusion(&leaves[3], 8, 8, p.h, p.n, &root),
	    KT_ERR_RANGE);
	CHECK_ERR(kt_merkle_verify_inclusion(&leaves[3], 0, 0, p.h, 0, &root),
	    KT_ERR_RANGE);
	CHECK_ERR(kt_merkle_verify_inclusion(&leaves[3], UINT64_MAX, UINT64_MAX,
	              p.h, 0, &root),
	    KT_ERR_RANGE);
	CHECK_ERR(kt_merkle_verify_inclusion(&leaves[3], 3, 8, p.h,
	              KT_MAX_PROOF + 1, &root),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_inclusion(&leaves[3], 3, 8, p.h, SIZE_MAX,
	              &root),
	    KT_ERR_VERIFY);
	/* Size 1: the leaf is the root, the proof is empty. */
	CHECK_ERR(kt_merkle_verify_inclusion(&leaves[0], 0, 1, NULL, 0,
	              &leaves[0]),
	    KT_OK);
	CHECK_ERR(kt_merkle_verify_inclusion(&leaves[0], 0, 1, p.h, 1,
	              &leaves[0]),
	    KT_ERR_VERIFY);
}
END_TEST

/* ---- consistency proofs ----------------------------------------------- */

/* 64-bit sizes: consistency proofs in range and verifying, except the one
 * case RFC 9162 needs 65 hashes. */
static void
consistency_big_sizes(void)
{
	struct kt_proof p;
	struct kt_hash r1, r2;
	uint64_t pairs[][2] = {
		{ 1, UINT64_MAX },
		{ 2, UINT64_MAX },
		{ UINT64_MAX - 1, UINT64_MAX },
		{ (uint64_t)1 << 63, UINT64_MAX },
		{ ((uint64_t)1 << 63) - 1, (uint64_t)1 << 63 },
		{ 0x123456789abcdefULL, 0x7edcba9876543210ULL },
		{ 6, ((uint64_t)1 << 63) },
		{ 4, ((uint64_t)1 << 63) + 1 },
		{ 3, (uint64_t)1 << 63 },
	};
	size_t j;

	for (j = 0; j < sizeof(pairs) / sizeof(pairs[0]); j++) {
		struct bigsrc s = { .size = pairs[j][1] };
		struct bigsrc rs1 = { .size = pairs[j][0] };
		struct bigsrc rs2 = { .size = pairs[j][1] };

		ck_assert_int_eq(kt_merkle_root(big_node, &rs1, pairs[j][0],
		                     &r1),
		    KT_OK);
		ck_assert_int_eq(kt_merkle_root(big_node, &rs2, pairs[j][1],
		                     &r2),
		    KT_OK);
		ck_assert_int_eq(kt_merkle_consistency_proof(big_node, &s,
		                     pairs[j][0], pairs[j][1], &p),
		    KT_OK);
		ck_assert_int_eq(s.outside, 0);
		CHECK_ERR(kt_merkle_verify_consistency(pairs[j][0], pairs[j][1],
		              p.h, p.n, &r1, &r2),
		    KT_OK);
	}
	/*
	 * The one case RFC 9162 needs 65 hashes (odd old, new_size > 2^63):
	 * refused before asking fn for anything.
	 */
	{
		struct bigsrc s = { .size = UINT64_MAX };

		ck_assert_int_eq(kt_merkle_consistency_proof(big_node, &s, 3,
		                     UINT64_MAX, &p),
		    KT_ERR_TOO_LARGE);
		ck_assert_uint_eq(s.calls, 0);
		s.calls = 0;
		ck_assert_int_eq(kt_merkle_consistency_proof(big_node, &s, 3,
		                     ((uint64_t)1 << 63) + 1, &p),
		    KT_ERR_TOO_LARGE);
		ck_assert_uint_eq(s.calls, 0);
	}
}

START_TEST(test_merkle_consistency_proof)
{
	struct kt_proof p, want;
	struct kt_hash r1, r2;
	uint64_t m, n;
	unsigned k;

	for (n = 0; n <= MAXN; n++) {
		root_of(n, &r2);
		for (m = 0; m <= n; m++) {
			struct memsrc s = { .size = n };

			root_of(m, &r1);
			ck_assert_int_eq(kt_merkle_consistency_proof(mem_node,
			                     &s, m, n, &p),
			    KT_OK);
			ck_assert_int_eq(s.outside, 0);
			ref_consistency(m, n, &want);
			ck_assert(proof_eq(&p, &want));
			ck_assert_uint_le(s.calls, p.n + 6);
			if (m == 0 || m == n)
				ck_assert_uint_eq(s.calls, 0);
			CHECK_ERR(kt_merkle_verify_consistency(m, n, p.h, p.n,
			              &r1, &r2),
			    KT_OK);
		}
		{
			struct memsrc s = { .size = n };

			ck_assert_int_eq(kt_merkle_consistency_proof(mem_node,
			                     &s, n + 1, n, &p),
			    KT_ERR_RANGE);
			ck_assert_uint_eq(s.calls, 0);
		}
	}
	/* RFC 9162 §2.1.4.3 example proofs, by name, over D[7]. */
	gen_consistency(3, 7, &p); /* [c, d, g, l] */
	ck_assert_uint_eq(p.n, 4);
	ck_assert_mem_eq(p.h[0].b, leaves[2].b, KT_HASH_LEN);
	ck_assert_mem_eq(p.h[1].b, leaves[3].b, KT_HASH_LEN);
	ck_assert_mem_eq(p.h[2].b, tab[1][0].b, KT_HASH_LEN);
	ref_mth(4, 7, &r1);
	ck_assert_mem_eq(p.h[3].b, r1.b, KT_HASH_LEN);
	gen_consistency(4, 7, &p); /* [l] */
	ck_assert_uint_eq(p.n, 1);
	ck_assert_mem_eq(p.h[0].b, r1.b, KT_HASH_LEN);
	gen_consistency(6, 7, &p); /* [i, j, k] */
	ck_assert_uint_eq(p.n, 3);
	ck_assert_mem_eq(p.h[0].b, tab[1][2].b, KT_HASH_LEN);
	ck_assert_mem_eq(p.h[1].b, leaves[6].b, KT_HASH_LEN);
	ck_assert_mem_eq(p.h[2].b, tab[2][0].b, KT_HASH_LEN);
	/* Errors from fn are passed through. */
	for (k = 1; k <= 4; k++) {
		struct memsrc s = { .size = 7, .fail_at = k };

		ck_assert_int_eq(kt_merkle_consistency_proof(mem_node, &s, 3, 7,
		                     &p),
		    KT_ERR_IO);
	}
	consistency_big_sizes();
}
END_TEST

/* Every single-bit change to a valid consistency proof p from m to n (or
 * to either root), every truncation and every extension is rejected. */
static void
mutate_consistency(uint64_t m, uint64_t n, struct kt_proof *p,
    const struct kt_hash *r1, const struct kt_hash *r2)
{
	struct kt_proof q;
	struct kt_hash h, extra;
	size_t k, j;
	unsigned bit;

	memset(&extra, 0x42, sizeof(extra));
	/* Every bit of every proof hash. */
	for (j = 0; j < p->n; j++)
		for (bit = 0; bit < 8 * KT_HASH_LEN; bit++) {
			p->h[j].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			CHECK_ERR(kt_merkle_verify_consistency(m, n, p->h, p->n,
			              r1, r2),
			    KT_ERR_VERIFY);
			p->h[j].b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
	/*
	 * Every bit of either root. From size 0 no root is
	 * read (kt's semantics), so there anything goes.
	 */
	for (bit = 0; bit < 8 * KT_HASH_LEN; bit++) {
		kt_err want = m == 0 ? KT_OK : KT_ERR_VERIFY;

		h = *r1;
		h.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_ERR(kt_merkle_verify_consistency(m, n, p->h, p->n, &h,
		              r2),
		    want);
		h = *r2;
		h.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_ERR(kt_merkle_verify_consistency(m, n, p->h, p->n, r1,
		              &h),
		    want);
	}
	if (m != n)
		CHECK_ERR(kt_merkle_verify_consistency(m, n, p->h, p->n, r2,
		              r1),
		    m == 0 ? KT_OK : KT_ERR_VERIFY);
	/* Every truncation. */
	for (k = 0; k < p->n; k++)
		CHECK_ERR(kt_merkle_verify_consistency(m, n, p->h, k, r1, r2),
		    KT_ERR_VERIFY);
	/* Extensions, including any proof for 0 or m == n. */
	for (k = 0; k <= p->n; k++) {
		const struct kt_hash *add = k < p->n ? &p->h[k] : &extra;

		q = *p;
		q.h[q.n++] = *add;
		CHECK_ERR(kt_merkle_verify_consistency(m, n, q.h, q.n, r1, r2),
		    KT_ERR_VERIFY);
		q.h[0] = *add;
		memcpy(&q.h[1], p->h, p->n * sizeof(p->h[0]));
		CHECK_ERR(kt_merkle_verify_consistency(m, n, q.h, q.n, r1, r2),
		    KT_ERR_VERIFY);
	}
	q = *p;
	q.h[q.n++] = *r1; /* the old root itself, appended */
	CHECK_ERR(kt_merkle_verify_consistency(m, n, q.h, q.n, r1, r2),
	    KT_ERR_VERIFY);
}

/* The valid consistency proof p from m to n, presented for a wrong old
 * or new size with that size's real root, passes exactly when the RFC
 * proof for the claimed sizes is the same hashes. */
static void
consistency_wrong_sizes(uint64_t m, uint64_t n, const struct kt_proof *p,
    const struct kt_hash *r1, const struct kt_hash *r2)
{
	struct kt_proof other;
	uint64_t x;

	for (x = 0; x <= 2 * MUTN; x++) {
		struct kt_hash rx;
		kt_err want;

		root_of(x, &rx);
		if (x != m) {
			if (x > n) {
				want = KT_ERR_RANGE;
			} else {
				ref_consistency(x, n, &other);
				want =
				    proof_eq(p, &other) ? KT_OK : KT_ERR_VERIFY;
			}
			CHECK_ERR(kt_merkle_verify_consistency(x, n, p->h, p->n,
			              &rx, r2),
			    want);
		}
		if (x != n) {
			if (x < m) {
				want = KT_ERR_RANGE;
			} else {
				ref_consistency(m, x, &other);
				want =
				    proof_eq(p, &other) ? KT_OK : KT_ERR_VERIFY;
			}
			CHECK_ERR(kt_merkle_verify_consistency(m, x, p->h, p->n,
			              r1, &rx),
			    want);
		}
	}
}

/* Malformed arguments and kt's size-0 semantics. */
static void
consistency_bad_args(void)
{
	struct kt_proof p;
	struct kt_hash r1, r2;

	root_of(3, &r1);
	root_of(7, &r2);
	gen_consistency(3, 7, &p);
	CHECK_ERR(kt_merkle_verify_consistency(7, 3, p.h, p.n, &r2, &r1),
	    KT_ERR_RANGE);
	CHECK_ERR(kt_merkle_verify_consistency(1, 0, NULL, 0, &r1, &r1),
	    KT_ERR_RANGE);
	CHECK_ERR(kt_merkle_verify_consistency(3, 7, p.h, KT_MAX_PROOF + 1, &r1,
	              &r2),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_consistency(3, 7, p.h, SIZE_MAX, &r1, &r2),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_consistency(3, 7, NULL, 0, &r1, &r2),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_consistency(0, 7, NULL, 0, NULL, NULL),
	    KT_OK);
	CHECK_ERR(kt_merkle_verify_consistency(0, 0, NULL, 0, NULL, NULL),
	    KT_OK);
	CHECK_ERR(kt_merkle_verify_consistency(0, 7, p.h, 1, NULL, NULL),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_consistency(0, 0, p.h, 1, &r1, &r1),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_consistency(3, 3, NULL, 0, &r1, &r1), KT_OK);
	CHECK_ERR(kt_merkle_verify_consistency(3, 3, p.h, 1, &r1, &r1),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_consistency(3, 3, NULL, 0, &r1, &r2),
	    KT_ERR_VERIFY);
	CHECK_ERR(kt_merkle_verify_consistency(UINT64_MAX, UINT64_MAX, NULL, 0,
	              &r1, &r1),
	    KT_OK);
}

START_TEST(test_merkle_verify_consistency)
{
	struct kt_proof p;
	struct kt_hash r1, r2;
	uint64_t m, n;

	for (n = 0; n <= MUTN; n++) {
		root_of(n, &r2);
		for (m = 0; m <= n; m++) {
			root_of(m, &r1);
			gen_consistency(m, n, &p);
			CHECK_ERR(kt_merkle_verify_consistency(m, n, p.h, p.n,
			              &r1, &r2),
			    KT_OK);
			mutate_consistency(m, n, &p, &r1, &r2);
			consistency_wrong_sizes(m, n, &p, &r1, &r2);
		}
	}
	consistency_bad_args();
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int
main(void)
{
	Suite *s = suite_create("merkle_proof");

	merkle_add(s, "kt_merkle_inclusion_proof", test_merkle_inclusion_proof);
	merkle_add(s, "kt_merkle_consistency_proof",
	    test_merkle_consistency_proof);
	merkle_add(s, "kt_merkle_inclusion_proof_cached",
	    test_merkle_inclusion_proof_cached);
	merkle_add(s, "kt_merkle_verify_inclusion",
	    test_merkle_verify_inclusion);
	merkle_add(s, "kt_merkle_verify_consistency",
	    test_merkle_verify_consistency);
	return kt_test_run(s);
}
