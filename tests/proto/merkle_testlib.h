/*
 * merkle_testlib.h: the independent Merkle reference and the node sources
 * shared by the check_merkle*.c suites.
 *
 * The reference side of every comparison is written independently of the
 * code under test: SHA-256 over concatenated buffers, and the recursive
 * RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 PROOF/SUBPROOF definitions
 * transcribed literally.
 */
#ifndef KT_TESTS_MERKLE_TESTLIB_H
#define KT_TESTS_MERKLE_TESTLIB_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

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

/* The leaf hashes of the in-memory tree (setup_tree fills them). */
extern struct kt_hash leaves[NLEAVES];
/* tab[l][i]: MTH of the perfect subtree at level l, position i. */
extern struct kt_hash tab[NLEVELS][NLEAVES];
/* uniform[l]: every node at level l of the virtual uniform tree. */
extern struct kt_hash uniform[64];

/* H(0x00 || d): the RFC 9162 leaf hash; len must be below 63. */
void ref_leaf(const uint8_t *d, size_t len, struct kt_hash *out);
/* H(0x01 || l || r): the RFC 9162 interior node hash. */
void
ref_node(const struct kt_hash *l, const struct kt_hash *r, struct kt_hash *out);
/* RFC 9162 §2.1.1 MTH(D[a:b]) over the leaf hashes. */
void ref_mth(uint64_t a, uint64_t b, struct kt_hash *out);
/* The reference consistency proof from size m to size n. */
void ref_consistency(uint64_t m, uint64_t n, struct kt_proof *p);
/* The reference inclusion proof of leaf m in a tree of size n. */
void ref_inclusion(uint64_t m, uint64_t n, struct kt_proof *p);
/* 1 when both proofs hold the same hashes in the same order, else 0. */
int proof_eq(const struct kt_proof *a, const struct kt_proof *b);
/* Fixture: fills leaves and tab and clears the MTH memo. */
void setup_tree(void);

/* ---- node sources ------------------------------------------------------ */

struct memsrc {
	uint64_t size; /* proto may only ask inside [0, size) */
	unsigned calls;
	unsigned fail_at; /* fail call number fail_at (1-based); 0: never */
	int outside;      /* set if asked for a subtree beyond size */
};

/* A kt node source over tab, counting calls; see struct memsrc. */
kt_err mem_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out);

/*
 * A virtual tree of any 64-bit size whose leaves all hash to the same value:
 * the node at level l is then u[l] = H(u[l-1], u[l-1]), consistent at every
 * level, so 64-bit sizes can be exercised without storing them.
 */
struct bigsrc {
	uint64_t size;
	unsigned calls;
	int outside;
};

/* A kt node source over uniform; see struct bigsrc. */
kt_err big_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out);
/* Fixture: fills uniform. */
void setup_uniform(void);

/* kt_merkle_inclusion_proof over mem_node; asserts it stays inside n. */
void gen_inclusion(uint64_t i, uint64_t n, struct kt_proof *p);
/* kt_merkle_consistency_proof over mem_node; asserts it stays inside n. */
void gen_consistency(uint64_t m, uint64_t n, struct kt_proof *p);
/* The reference root of the first n leaves. */
void root_of(uint64_t n, struct kt_hash *out);

/* Adds test t as TCase name to s, with the setup_tree and setup_uniform
 * fixtures and the suite's 300 s timeout. */
void merkle_add(Suite *s, const char *name, const TTest *t);

#endif
