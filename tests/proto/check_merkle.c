/*
 * check_merkle.c: tests for proto/merkle.c (kt/merkle.h).
 *
 * The reference side of every comparison is written here independently of
 * the code under test: SHA-256 over concatenated buffers, and the recursive
 * RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 PROOF/SUBPROOF definitions
 * transcribed literally.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/runner.h"
#include "kt/merkle.h"

#define NLEAVES 1024u /* leaves in the in-memory tree */
#define NLEVELS 11    /* 2^10 = NLEAVES */
#define MAXN 72       /* exhaustive proof generation/verification bound */
#define MUTN 32       /* exhaustive mutation bound (keeps the run short) */

/*
 * ck_assert_* records a checkpoint on every success, which dominates the
 * million-case mutation loops; this only calls into Check on failure.
 */
#define CHECK_ERR(expr, want) \
	do { \
		kt_err got_ = (expr), want_ = (want); \
		if (got_ != want_) \
			ck_abort_msg("line %d: %s gave %d, want %d", __LINE__, \
			    #expr, (int)got_, (int)want_); \
	} while (0)

/* ---- independent reference ------------------------------------------- */

static struct kt_hash leaves[NLEAVES];
/* tab[l][i]: MTH of the perfect subtree at level l, position i. */
static struct kt_hash tab[NLEVELS][NLEAVES];

static void
ref_leaf(const uint8_t *d, size_t len, struct kt_hash *out)
{
	uint8_t buf[64];

	ck_assert_uint_lt(len, sizeof(buf));
	buf[0] = 0x00;
	if (len > 0)
		memcpy(buf + 1, d, len);
	crypto_hash_sha256(out->b, buf, len + 1);
}

static void
ref_node(const struct kt_hash *l, const struct kt_hash *r, struct kt_hash *out)
{
	uint8_t buf[1 + 2 * KT_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l->b, KT_HASH_LEN);
	memcpy(buf + 1 + KT_HASH_LEN, r->b, KT_HASH_LEN);
	crypto_hash_sha256(out->b, buf, sizeof(buf));
}

/* k: the largest power of two strictly smaller than n (n > 1). */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* Memo of ref_mth for small ranges, only to keep the exhaustive loops fast. */
#define MEMO 130
static struct kt_hash memo[MEMO][MEMO];
static unsigned char memo_ok[MEMO][MEMO];

/* RFC 9162 §2.1.1 MTH(D[a:b]) over the leaf hashes. */
static void
ref_mth(uint64_t a, uint64_t b, struct kt_hash *out)
{
	struct kt_hash l, r;
	uint64_t k;

	if (b < MEMO && memo_ok[a][b]) {
		*out = memo[a][b];
		return;
	}
	if (b == a) {
		crypto_hash_sha256(out->b, NULL, 0);
		return;
	}
	if (b - a == 1) {
		*out = leaves[a];
		return;
	}
	k = split(b - a);
	ref_mth(a, a + k, &l);
	ref_mth(a + k, b, &r);
	ref_node(&l, &r, out);
	if (b < MEMO) {
		memo[a][b] = *out;
		memo_ok[a][b] = 1;
	}
}

/* RFC 9162 §2.1.3.1 PATH(m, D[a:b]). */
static void
ref_path(uint64_t m, uint64_t a, uint64_t b, struct kt_proof *p)
{
	uint64_t n = b - a, k;

	if (n <= 1)
		return;
	k = split(n);
	if (m < k) {
		ref_path(m, a, a + k, p);
		ref_mth(a + k, b, &p->h[p->n++]);
	} else {
		ref_path(m - k, a + k, b, p);
		ref_mth(a, a + k, &p->h[p->n++]);
	}
}

/* RFC 9162 §2.1.4.1 SUBPROOF(m, D[a:b], first). */
static void
ref_subproof(uint64_t m, uint64_t a, uint64_t b, int first, struct kt_proof *p)
{
	uint64_t n = b - a, k;

	if (m == n) {
		if (!first)
			ref_mth(a, b, &p->h[p->n++]);
		return;
	}
	k = split(n);
	if (m <= k) {
		ref_subproof(m, a, a + k, first, p);
		ref_mth(a + k, b, &p->h[p->n++]);
	} else {
		ref_subproof(m - k, a + k, b, 0, p);
		ref_mth(a, a + k, &p->h[p->n++]);
	}
}

static void
ref_consistency(uint64_t m, uint64_t n, struct kt_proof *p)
{
	p->n = 0;
	/* RFC: PROOF(m, D[n]) for 0 < m < n; kt: empty for m == 0 or m == n. */
	if (m > 0 && m < n)
		ref_subproof(m, 0, n, 1, p);
}

static void
ref_inclusion(uint64_t m, uint64_t n, struct kt_proof *p)
{
	p->n = 0;
	ref_path(m, 0, n, p);
}

static int
proof_eq(const struct kt_proof *a, const struct kt_proof *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (!kt_hash_eq(&a->h[i], &b->h[i]))
			return 0;
	return 1;
}

/*
 * The 8 entries of the RFC 6962 reference tree (the CT test tree, also the
 * tree behind ../shared/vectors/merkle), then filler entries "kt-<i>".
 */
static const char *rfc_entries_hex[8] = {
	"",
	"00",
	"10",
	"2021",
	"3031",
	"40414243",
	"5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static void
hex_hash(const char *hex, struct kt_hash *out)
{
	size_t len = 0;

	ck_assert_int_eq(sodium_hex2bin(out->b, KT_HASH_LEN, hex, strlen(hex),
	                     NULL, &len, NULL),
	    0);
	ck_assert_uint_eq(len, KT_HASH_LEN);
}

static void
setup_tree(void)
{
	unsigned i, l;

	memset(memo_ok, 0, sizeof(memo_ok));
	for (i = 0; i < NLEAVES; i++) {
		uint8_t buf[32];
		size_t len = 0;

		if (i < 8) {
			ck_assert_int_eq(sodium_hex2bin(buf, sizeof(buf),
			                     rfc_entries_hex[i],
			                     strlen(rfc_entries_hex[i]), NULL,
			                     &len, NULL),
			    0);
		} else {
			len = (size_t)snprintf((char *)buf, sizeof(buf),
			    "kt-%u", i);
		}
		ref_leaf(buf, len, &leaves[i]);
		tab[0][i] = leaves[i];
	}
	for (l = 1; l < NLEVELS; l++)
		for (i = 0; i < (NLEAVES >> l); i++)
			ref_node(&tab[l - 1][2 * i], &tab[l - 1][2 * i + 1],
			    &tab[l][i]);
}

/* ---- node sources ------------------------------------------------------ */

struct memsrc {
	uint64_t size; /* proto may only ask inside [0, size) */
	unsigned calls;
	unsigned fail_at; /* fail call number fail_at (1-based); 0: never */
	int outside;      /* set if asked for a subtree beyond size */
};

static kt_err
mem_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct memsrc *s = ctx;

	s->calls++;
	if (s->fail_at != 0 && s->calls == s->fail_at)
		return KT_ERR_IO;
	if (level >= NLEVELS || index >= (s->size >> level)) {
		s->outside = 1;
		return KT_ERR_INTERNAL;
	}
	*out = tab[level][index];
	return KT_OK;
}

/*
 * A virtual tree of any 64-bit size whose leaves all hash to the same value:
 * the node at level l is then u[l] = H(u[l-1], u[l-1]), consistent at every
 * level, so 64-bit sizes can be exercised without storing them.
 */
static struct kt_hash uniform[64];

struct bigsrc {
	uint64_t size;
	unsigned calls;
	int outside;
};

static kt_err
big_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct bigsrc *s = ctx;

	s->calls++;
	if (level >= 64 || index >= (s->size >> level)) {
		s->outside = 1;
		return KT_ERR_INTERNAL;
	}
	*out = uniform[level];
	return KT_OK;
}

static void
setup_uniform(void)
{
	unsigned l;

	ref_leaf((const uint8_t *)"u", 1, &uniform[0]);
	for (l = 1; l < 64; l++)
		ref_node(&uniform[l - 1], &uniform[l - 1], &uniform[l]);
}

static void
gen_inclusion(uint64_t i, uint64_t n, struct kt_proof *p)
{
	struct memsrc s = { .size = n };

	ck_assert_int_eq(kt_merkle_inclusion_proof(mem_node, &s, i, n, p),
	    KT_OK);
	ck_assert_int_eq(s.outside, 0);
}

static void
gen_consistency(uint64_t m, uint64_t n, struct kt_proof *p)
{
	struct memsrc s = { .size = n };

	ck_assert_int_eq(kt_merkle_consistency_proof(mem_node, &s, m, n, p),
	    KT_OK);
	ck_assert_int_eq(s.outside, 0);
}

static void
root_of(uint64_t n, struct kt_hash *out)
{
	ref_mth(0, n, out);
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

/* ---- public vectors (../shared/vectors/merkle) ------------------------- */

/*
 * The vectors kt reads differently from transparency-dev/merkle, each with
 * the reason (tests/proto/VECTORS.md says the same). For these the test
 * asserts kt's outcome, the opposite of the file's wantErr.
 */
static struct {
	const char *path; /* relative to $KT_VECTORS/merkle */
	int err;          /* kt's outcome: 1 error, 0 success */
	const char *why;
	int seen;
} differs[] = {
	{ "consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json",
	    0, "old size 0 + empty proof is consistent (C2SP tlog-witness)",
	    0 },
	{ "consistency/additional/sizes-are-equal-zero-but-roots-are-not.json",
	    0, "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/roots-do-not-match-and-sizes-are-zero.json",
	    0, "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/size1-is-zero-and-does-not-equal-size2.json",
	    0, "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/size1-is-zero-and-size2-is-not-zero.json", 0,
	    "old size 0 + empty proof is consistent; roots not read", 0 },
	{ "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
	    1,
	    "12-byte roots: kt hashes are 32 bytes, rejected as malformed "
	    "before verification",
	    0 },
};
#define NDIFFERS (sizeof(differs) / sizeof(differs[0]))

struct vstats {
	unsigned inclusion, consistency, differ;
};

/*
 * Decodes a standard-base64 JSON string into a kt hash. 0 when it is not
 * exactly KT_HASH_LEN bytes: kt's callers parse hashes as 32 bytes before any
 * verification, so such a field can never reach kt_merkle_verify_*.
 */
static int
b64_hash(json_t *v, struct kt_hash *out)
{
	uint8_t buf[128];
	const char *s;
	size_t len = 0;

	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	if (sodium_base642bin(buf, sizeof(buf), s, strlen(s), NULL, &len, NULL,
	        sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	if (len != KT_HASH_LEN)
		return 0;
	memcpy(out->b, buf, KT_HASH_LEN);
	return 1;
}

/* 1 if all proof elements decode; proof may be JSON null (empty). */
static int
b64_proof(json_t *v, struct kt_proof *p)
{
	size_t i;

	p->n = 0;
	if (json_is_null(v))
		return 1;
	ck_assert(json_is_array(v));
	if (json_array_size(v) > KT_MAX_PROOF)
		return 0;
	for (i = 0; i < json_array_size(v); i++) {
		if (!b64_hash(json_array_get(v, i), &p->h[p->n]))
			return 0;
		p->n++;
	}
	return 1;
}

/*
 * The vectors hold uint64 sizes and indices up to 2^64-1 (index 0 minus 1),
 * which jansson's int64 refuses. So the four numeric fields are read from the
 * text with strtoull and blanked to "0" before jansson parses the rest;
 * json_u64 then checks the field really was a JSON integer there.
 */
static const char *num_keys[4] = { "leafIdx", "treeSize", "size1", "size2" };

struct nums {
	uint64_t v[4];
	int found[4];
};

static void
take_numbers(char *text, struct nums *nu, const char *file)
{
	int k;

	for (k = 0; k < 4; k++) {
		char pat[32];
		char *p, *end;

		nu->found[k] = 0;
		snprintf(pat, sizeof(pat), "\"%s\"", num_keys[k]);
		p = strstr(text, pat);
		if (p == NULL)
			continue;
		p += strlen(pat);
		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			p++;
		ck_assert_msg(*p == ':', "%s: %s", file, num_keys[k]);
		p++;
		while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
			p++;
		ck_assert_msg(*p >= '0' && *p <= '9', "%s: %s not unsigned",
		    file, num_keys[k]);
		nu->v[k] = strtoull(p, &end, 10);
		ck_assert_msg(end > p && end - p <= 20, "%s", file);
		nu->found[k] = 1;
		*p++ = '0';
		while (p < end)
			*p++ = ' ';
	}
}

static uint64_t
json_u64(json_t *o, const struct nums *nu, const char *key)
{
	json_t *v = json_object_get(o, key);
	int k;

	ck_assert_msg(json_is_integer(v), "%s not an integer", key);
	for (k = 0; k < 4; k++)
		if (strcmp(key, num_keys[k]) == 0 && nu->found[k])
			return nu->v[k];
	ck_abort_msg("%s not found", key);
	return 0;
}

static json_t *
load_vector(const char *file, struct nums *nu)
{
	json_error_t jerr;
	json_t *o;
	char *text;
	long len;
	FILE *f = fopen(file, "rb");

	ck_assert_msg(f != NULL, "cannot open %s", file);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert(len > 0 && len < 1 << 20);
	rewind(f);
	text = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	text[len] = '\0';
	take_numbers(text, nu, file);
	o = json_loads(text, 0, &jerr);
	free(text);
	ck_assert_msg(o != NULL, "%s: %s", file, jerr.text);
	return o;
}

/* Runs one vector file; returns kt's outcome (1 error, 0 success). */
static int
run_vector(const char *file, int is_inclusion)
{
	struct nums nu;
	json_t *o;
	struct kt_proof p;
	struct kt_hash a, b;
	int ok, got;

	o = load_vector(file, &nu);
	ok = b64_proof(json_object_get(o, "proof"), &p);
	if (is_inclusion) {
		uint64_t idx = json_u64(o, &nu, "leafIdx");
		uint64_t size = json_u64(o, &nu, "treeSize");

		ok = ok && b64_hash(json_object_get(o, "leafHash"), &a) &&
		    b64_hash(json_object_get(o, "root"), &b);
		got = !ok ||
		    kt_merkle_verify_inclusion(&a, idx, size, p.h, p.n, &b) !=
		        KT_OK;
	} else {
		uint64_t s1 = json_u64(o, &nu, "size1");
		uint64_t s2 = json_u64(o, &nu, "size2");

		/* From size 0 kt reads no root, so none needs decoding. */
		if (s1 == 0) {
			got = !ok ||
			    kt_merkle_verify_consistency(0, s2, p.h, p.n, NULL,
			        NULL) != KT_OK;
		} else {
			ok = ok && b64_hash(json_object_get(o, "root1"), &a) &&
			    b64_hash(json_object_get(o, "root2"), &b);
			got = !ok ||
			    kt_merkle_verify_consistency(s1, s2, p.h, p.n, &a,
			        &b) != KT_OK;
		}
	}
	{
		json_t *w = json_object_get(o, "wantErr");
		const char *rel = strstr(file, "/merkle/");
		int want, i, listed = -1;

		ck_assert_msg(json_is_boolean(w), "%s: no wantErr", file);
		want = json_is_true(w);
		ck_assert(rel != NULL);
		rel += strlen("/merkle/");
		for (i = 0; i < (int)NDIFFERS; i++)
			if (strcmp(rel, differs[i].path) == 0)
				listed = i;
		if (listed >= 0) {
			differs[listed].seen++;
			/* Listed because kt's answer really is the other. */
			ck_assert_int_ne(differs[listed].err, want);
			ck_assert_msg(got == differs[listed].err,
			    "%s: kt gave %d, documented %d (%s)", rel, got,
			    differs[listed].err, differs[listed].why);
		} else {
			ck_assert_msg(got == want,
			    "%s (%s): kt gave err=%d, "
			    "want err=%d",
			    rel, json_string_value(json_object_get(o, "desc")),
			    got, want);
		}
	}
	json_decref(o);
	return got;
}

static void
walk(const char *dir, int is_inclusion, struct vstats *st)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat sb;
		size_t len = strlen(e->d_name);

		if (e->d_name[0] == '.')
			continue;
		ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", dir,
		                     e->d_name),
		    (int)sizeof(path));
		ck_assert_int_eq(stat(path, &sb), 0);
		if (S_ISDIR(sb.st_mode)) {
			walk(path, is_inclusion, st);
		} else if (len > 5 &&
		    strcmp(e->d_name + len - 5, ".json") == 0) {
			run_vector(path, is_inclusion);
			if (is_inclusion)
				st->inclusion++;
			else
				st->consistency++;
		}
	}
	closedir(d);
}

START_TEST(test_vectors)
{
	const char *root = getenv("KT_VECTORS");
	char dir[4096];
	struct vstats st = { 0, 0, 0 };
	size_t i;

	ck_assert_msg(root != NULL && root[0] != '\0',
	    "KT_VECTORS is not set: the public vectors must be read");
	for (i = 0; i < NDIFFERS; i++)
		differs[i].seen = 0;
	snprintf(dir, sizeof(dir), "%s/merkle/inclusion", root);
	walk(dir, 1, &st);
	snprintf(dir, sizeof(dir), "%s/merkle/consistency", root);
	walk(dir, 0, &st);
	/* 98 + 98 files at transparency-dev/merkle 417fb0c3. */
	ck_assert_uint_ge(st.inclusion, 98);
	ck_assert_uint_ge(st.consistency, 98);
	for (i = 0; i < NDIFFERS; i++)
		ck_assert_msg(differs[i].seen == 1, "%s not seen once",
		    differs[i].path);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static void
add(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = kt_test_case(s, name, 300, t, NULL);

	tcase_add_unchecked_fixture(tc, setup_tree, NULL);
	tcase_add_unchecked_fixture(tc, setup_uniform, NULL);
}

int
main(void)
{
	Suite *s = suite_create("merkle");

	add(s, "kt_hash_leaf", test_hash_leaf);
	add(s, "kt_hash_node", test_hash_node);
	add(s, "kt_hash_empty", test_hash_empty);
	add(s, "kt_frontier_init", test_frontier_init);
	add(s, "kt_frontier_append", test_frontier_append);
	add(s, "kt_frontier_root", test_frontier_root);
	add(s, "kt_merkle_root", test_merkle_root);
	add(s, "kt_merkle_inclusion_proof", test_merkle_inclusion_proof);
	add(s, "kt_merkle_consistency_proof", test_merkle_consistency_proof);
	add(s, "kt_merkle_inclusion_proof_cached",
	    test_merkle_inclusion_proof_cached);
	add(s, "kt_merkle_verify_inclusion", test_merkle_verify_inclusion);
	add(s, "kt_merkle_verify_consistency", test_merkle_verify_consistency);
	add(s, "public_vectors", test_vectors);
	return kt_test_run(s);
}
