/*
 * check_merkle.c: tests for proto/merkle.c (kt/merkle.h): the hashes, the
 * frontier and the root.
 *
 * The reference side is merkle_testlib.h.
 */
#include <check.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/merkle.h"
#include "merkle_testlib.h"

static void
hex_hash(const char *hex, struct kt_hash *out)
{
	size_t len = 0;

	ck_assert_int_eq(sodium_hex2bin(out->b, KT_HASH_LEN, hex, strlen(hex),
	                     NULL, &len, NULL),
	    0);
	ck_assert_uint_eq(len, KT_HASH_LEN);
}

/* ---- known answers ---------------------------------------------------- */

/*
 * MTH of the first n entries of the RFC 6962 reference tree, n = 1..8. These
 * are the well-known CT test roots: google/certificate-transparency
 * python/ct/crypto/merkle_test.py (test_vector_hashes), the Go test data in
 * transparency-dev/merkle (testonly RootHashes); size 8 is also the root
 * given in ../shared/vectors/README.md. Recomputed independently with Python
 * hashlib for this file, and below by ref_mth.
 */
static const char *known_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* ---- kt_hash_leaf, kt_hash_node, kt_hash_empty ------------------------- */

START_TEST(test_hash_leaf)
{
	struct kt_hash h, want;
	uint8_t data[40];
	size_t len;

	/* Leaf hash of the empty entry is the size-1 known root. */
	kt_hash_leaf(NULL, 0, &h);
	hex_hash(known_roots[1], &want);
	ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
	for (len = 0; len < sizeof(data); len++)
		data[len] = (uint8_t)(len * 7 + 1);
	for (len = 0; len < sizeof(data); len++) {
		kt_hash_leaf(data, len, &h);
		ref_leaf(data, len, &want);
		ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
	}
	/* The 0x00 prefix matters: H(data) is not the leaf hash. */
	crypto_hash_sha256(want.b, data, 3);
	kt_hash_leaf(data, 3, &h);
	ck_assert_mem_ne(h.b, want.b, KT_HASH_LEN);
}
END_TEST

START_TEST(test_hash_node)
{
	struct kt_hash a, b, h, want, c;

	a = leaves[0];
	b = leaves[1];
	kt_hash_node(&a, &b, &h);
	ref_node(&a, &b, &want);
	ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
	hex_hash(known_roots[2], &c);
	ck_assert_mem_eq(h.b, c.b, KT_HASH_LEN);
	/* Order matters. */
	kt_hash_node(&b, &a, &h);
	ck_assert_mem_ne(h.b, want.b, KT_HASH_LEN);
	/* out aliasing l, r, and both. */
	c = a;
	kt_hash_node(&c, &b, &c);
	ck_assert_mem_eq(c.b, want.b, KT_HASH_LEN);
	c = b;
	kt_hash_node(&a, &c, &c);
	ck_assert_mem_eq(c.b, want.b, KT_HASH_LEN);
	c = a;
	kt_hash_node(&c, &c, &c);
	ref_node(&a, &a, &want);
	ck_assert_mem_eq(c.b, want.b, KT_HASH_LEN);
}
END_TEST

START_TEST(test_hash_empty)
{
	struct kt_hash h, want;

	kt_hash_empty(&h);
	hex_hash(known_roots[0], &want);
	ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
}
END_TEST

/* ---- frontier ----------------------------------------------------------- */

START_TEST(test_frontier_init)
{
	struct kt_frontier f;
	struct kt_hash h, want;

	memset(&f, 0xa5, sizeof(f));
	kt_frontier_init(&f);
	ck_assert_uint_eq(f.size, 0);
	kt_frontier_root(&f, &h);
	hex_hash(known_roots[0], &want);
	ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
}
END_TEST

START_TEST(test_frontier_append)
{
	struct kt_frontier f, g;
	struct kt_hash h;
	uint64_t n;

	kt_frontier_init(&f);
	for (n = 0; n < 100; n++) {
		ck_assert_int_eq(kt_frontier_append(&f, &leaves[n]), KT_OK);
		ck_assert_uint_eq(f.size, n + 1);
	}
	/* The one bound: size may not pass 2^64 - 1. */
	kt_frontier_init(&f);
	f.size = UINT64_MAX - 1;
	ck_assert_int_eq(kt_frontier_append(&f, &leaves[0]), KT_OK);
	ck_assert_uint_eq(f.size, UINT64_MAX);
	g = f;
	ck_assert_int_eq(kt_frontier_append(&f, &leaves[1]), KT_ERR_RANGE);
	ck_assert_mem_eq(&f, &g, sizeof(f));
	kt_frontier_root(&f, &h); /* must not read past h[63] */
}
END_TEST

START_TEST(test_frontier_root)
{
	struct kt_frontier f, copy;
	struct kt_hash h, want;
	uint64_t n;

	kt_frontier_init(&f);
	for (n = 0; n <= 1000; n++) {
		kt_frontier_root(&f, &h);
		root_of(n, &want);
		ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
		if (n <= 8) {
			hex_hash(known_roots[n], &want);
			ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
		}
		if (n == 500)
			copy = f; /* a plain value: a copy carries on alone */
		if (n < 1000)
			ck_assert_int_eq(kt_frontier_append(&f, &leaves[n]),
			    KT_OK);
	}
	for (n = 500; n < 700; n++)
		ck_assert_int_eq(kt_frontier_append(&copy, &leaves[n]), KT_OK);
	kt_frontier_root(&copy, &h);
	root_of(700, &want);
	ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
}
END_TEST

/* ---- kt_merkle_root ----------------------------------------------------- */

START_TEST(test_merkle_root)
{
	struct kt_hash h, want;
	uint64_t n;
	unsigned k;

	for (n = 0; n <= NLEAVES; n++) {
		struct memsrc s = { .size = n };

		ck_assert_int_eq(kt_merkle_root(mem_node, &s, n, &h), KT_OK);
		ck_assert_int_eq(s.outside, 0);
		/* One call per perfect subtree, no more. */
		ck_assert_uint_eq(s.calls, (unsigned)__builtin_popcountll(n));
		root_of(n, &want);
		ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
		if (n <= 8) {
			hex_hash(known_roots[n], &want);
			ck_assert_mem_eq(h.b, want.b, KT_HASH_LEN);
		}
	}
	/* fn errors are passed through, whichever call fails. */
	for (k = 1; k <= 3; k++) {
		struct memsrc s = { .size = 7, .fail_at = k };

		ck_assert_int_eq(kt_merkle_root(mem_node, &s, 7, &h),
		    KT_ERR_IO);
	}
	/* 64-bit sizes: at most 64 calls, all inside the tree. */
	{
		uint64_t sizes[] = { UINT64_MAX, UINT64_MAX - 1,
			(uint64_t)1 << 63, ((uint64_t)1 << 63) + 1 };
		size_t i;

		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct bigsrc s = { .size = sizes[i] };

			ck_assert_int_eq(kt_merkle_root(big_node, &s, sizes[i],
			                     &h),
			    KT_OK);
			ck_assert_int_eq(s.outside, 0);
			ck_assert_uint_eq(s.calls,
			    (unsigned)__builtin_popcountll(sizes[i]));
		}
	}
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int
main(void)
{
	Suite *s = suite_create("merkle");

	merkle_add(s, "kt_hash_leaf", test_hash_leaf);
	merkle_add(s, "kt_hash_node", test_hash_node);
	merkle_add(s, "kt_hash_empty", test_hash_empty);
	merkle_add(s, "kt_frontier_init", test_frontier_init);
	merkle_add(s, "kt_frontier_append", test_frontier_append);
	merkle_add(s, "kt_frontier_root", test_frontier_root);
	merkle_add(s, "kt_merkle_root", test_merkle_root);
	return kt_test_run(s);
}
