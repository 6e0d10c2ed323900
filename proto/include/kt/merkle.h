/*
 * kt/merkle.h: RFC 9162 Merkle tree hashing, proofs and their verification.
 *
 * Hashes are SHA-256 (libsodium). Leaf hash = H(0x00 || entry), interior node
 * = H(0x01 || left || right), the empty tree's root = H(""). RFC 9162 §2.1.
 *
 * Proof generation never knows where hashes live: the caller supplies a
 * kt_node_fn that returns the hash of any perfect subtree (the logserver backs
 * it with LMDB tiles, tests with memory). Pure code: no I/O, no allocation.
 */
#ifndef KT_MERKLE_H
#define KT_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"

#define KT_HASH_LEN 32
#define KT_MAX_PROOF 64 /* bound on proof length for 64-bit tree sizes */

struct kt_hash {
	uint8_t b[KT_HASH_LEN];
};

/* ---- hashing ---------------------------------------------------------- */

/* out = H(0x00 || data). data may be NULL when len is 0. */
void kt_hash_leaf(const uint8_t *data, size_t len, struct kt_hash *out);

/* out = H(0x01 || l || r). out may alias l or r. */
void kt_hash_node(const struct kt_hash *l, const struct kt_hash *r,
    struct kt_hash *out);

/* out = H(""), the root of the empty tree. */
void kt_hash_empty(struct kt_hash *out);

/*
 * 1 if a and b are the same hash, else 0, in constant time. Every hash
 * comparison in kt goes through this one function: most hashes are public,
 * but one rule is easier to read and to check than a judgement per call,
 * and the cost (four word XORs, ~2 ns) is nothing beside the hashing that
 * made them.
 */
int kt_hash_eq(const struct kt_hash *a, const struct kt_hash *b);

/* ---- compact frontier ------------------------------------------------- */

/*
 * The right edge of a tree: one perfect-subtree hash per set bit of size.
 * h[l] is the root of the perfect subtree of 2^l leaves that bit l of size
 * stands for; entries for clear bits are unspecified. Appends cost amortised
 * O(1) hashes (one per trailing one bit), the root O(popcount(size)).
 * A plain value: copy it freely, store it as bytes.
 */
struct kt_frontier {
	uint64_t size;
	struct kt_hash h[64];
};

void kt_frontier_init(struct kt_frontier *f);

/* Appends one leaf hash. KT_ERR_RANGE if size would overflow 2^64-1. */
KT_MUST_CHECK kt_err kt_frontier_append(struct kt_frontier *f,
    const struct kt_hash *leaf);

/* The root of the tree of f->size leaves (H("") for size 0). */
void kt_frontier_root(const struct kt_frontier *f, struct kt_hash *root);

/* ---- proof generation ------------------------------------------------- */

/*
 * Returns in *out the hash of the perfect subtree at height `level` and
 * position `index`: the root over leaves [index << level, (index+1) << level).
 * Level 0 is a leaf hash. proto only asks for subtrees lying wholly inside the
 * tree size it was given. Return KT_OK or an error, which is passed through.
 */
typedef kt_err (*kt_node_fn)(void *ctx, unsigned level, uint64_t index,
    struct kt_hash *out);

struct kt_proof {
	size_t n;
	struct kt_hash h[KT_MAX_PROOF];
};

/*
 * The root of the first `size` leaves, composed from perfect subtrees (at
 * most 64 calls to fn). size 0 gives H("").
 */
KT_MUST_CHECK kt_err kt_merkle_root(kt_node_fn fn, void *ctx, uint64_t size,
    struct kt_hash *root);

/*
 * Inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree of `size`
 * leaves, in RFC order (from the leaf upward). KT_ERR_RANGE if index >= size.
 * Makes O(log size) calls to fn.
 */
KT_MUST_CHECK kt_err kt_merkle_inclusion_proof(kt_node_fn fn, void *ctx,
    uint64_t index, uint64_t size, struct kt_proof *out);

/*
 * The hashes of one tree size's right edge (the subtree of each level that
 * holds the last leaf, cut short by the size), which inclusion proofs of
 * the newest leaves need and which cost up to ~63 hashes each to compose.
 * Proofs to the same size share them: keep one cache per tree size (e.g.
 * per read snapshot) and pass it to kt_merkle_inclusion_proof_cached.
 * Zeroed (or kt_edge_cache_init) it holds nothing; a proof for another
 * size resets it.
 */
struct kt_edge_cache {
	uint64_t size;
	uint64_t have; /* bit i: h[i] is the level-i edge hash */
	struct kt_hash h[64];
};

void kt_edge_cache_init(struct kt_edge_cache *c);

/* kt_merkle_inclusion_proof, reusing and filling c (which may be NULL). */
KT_MUST_CHECK kt_err kt_merkle_inclusion_proof_cached(kt_node_fn fn, void *ctx,
    struct kt_edge_cache *c, uint64_t index, uint64_t size,
    struct kt_proof *out);

/*
 * Consistency proof (RFC 9162 §2.1.4.1) from size `old` to size `new`.
 * KT_ERR_RANGE if old > new. old == 0 or old == new give an empty proof.
 * Makes O(log new_size) calls to fn.
 * KT_ERR_TOO_LARGE (before any call to fn) in the one case the RFC proof
 * would exceed KT_MAX_PROOF: new_size > 2^63 with some odd old sizes need 65
 * hashes. kt does not support such proofs (verification rejects n > 64).
 */
KT_MUST_CHECK kt_err kt_merkle_consistency_proof(kt_node_fn fn, void *ctx,
    uint64_t old, uint64_t new_size, struct kt_proof *out);

/* ---- proof verification ----------------------------------------------- */

/*
 * RFC 9162 §2.1.3.2. KT_OK when `proof` (n hashes) proves that `leaf` is
 * leaf `index` of the tree of `size` leaves with root `root`.
 * KT_ERR_RANGE if index >= size; KT_ERR_VERIFY for a wrong length or a root
 * mismatch. n > KT_MAX_PROOF is KT_ERR_VERIFY.
 */
KT_MUST_CHECK kt_err kt_merkle_verify_inclusion(const struct kt_hash *leaf,
    uint64_t index, uint64_t size, const struct kt_hash *proof, size_t n,
    const struct kt_hash *root);

/*
 * RFC 9162 §2.1.4.2. KT_OK when `proof` proves the tree of `old` leaves with
 * root old_root is a prefix of the tree of `new_size` leaves with new_root.
 * KT_ERR_RANGE if old > new_size. old == new_size needs n == 0 and equal
 * roots. kt's choice (as C2SP tlog-witness): old == 0 with an empty proof is
 * trivially consistent whatever the roots (old_root may be NULL then); old ==
 * 0 with a non-empty proof is KT_ERR_VERIFY. When old == 0 neither root is
 * read, so new_root may be NULL too (a witness checks that a size-0
 * checkpoint's root is H("") itself). See tests/proto/VECTORS.md.
 */
KT_MUST_CHECK kt_err kt_merkle_verify_consistency(uint64_t old,
    uint64_t new_size, const struct kt_hash *proof, size_t n,
    const struct kt_hash *old_root, const struct kt_hash *new_root);

#endif /* KT_MERKLE_H */
