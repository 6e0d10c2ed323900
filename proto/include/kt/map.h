/*
 * kt/map.h: the key directory's map, a compressed binary Merkle trie
 * (Patricia trie) over 256-bit indexes, with membership and absence proofs
 * and the batch step that turns one map root into the next.
 *
 * Every label has one index (the first 32 bytes of its VRF output) and one
 * map leaf: the index, the label's latest version, the log index of its
 * latest update, and a hash chain over all of its update leaves. Bits of an
 * index are numbered 0..255 from the most significant bit of byte 0.
 *
 *   leaf       H(0x02 || index || be64 version || be64 update_index || chain)
 *   interior   H(0x03 || u8 bit || left || right)
 *   chain      chain_1 = H(0x04 || 0^32 || u_1), chain_v = H(0x04 ||
 *              chain_(v-1) || u_v), u_v the RFC 9162 leaf hash of the label's
 *              update leaf of version v
 *   empty map  H(0x06)
 *
 * H is SHA-256. An interior node exists only where two non-empty subtrees
 * split: `bit` is the first bit in which their indexes differ; the left
 * child holds the indexes with that bit 0. Every leaf below a node shares
 * the bits before the node's `bit`. The trie of a set of indexes is unique,
 * so its root commits to the whole directory. proto/README.md "The map" has
 * the reasons for this shape and the byte layout of proofs.
 *
 * Proof generation and the batch step never know where nodes live: they
 * read nodes by hash through a kt_map_reader and hand new nodes to an
 * optional kt_map_writer (the logserver backs these with its store, tests
 * with memory). Pure code: no I/O; the batch step allocates.
 */
#ifndef KT_MAP_H
#define KT_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"

#define KT_MAP_BITS 256
/* A path holds at most one interior node per bit position. */
#define KT_MAP_MAX_DEPTH 256
/* be16 n || n * (u8 bit || 32-byte sibling) || u8 terminal || leaf */
#define KT_MAP_LEAF_LEN 80
#define KT_MAP_PROOF_MAX (2 + KT_MAP_MAX_DEPTH * 33 + 1 + KT_MAP_LEAF_LEN)
#define KT_MAP_NO_PREV UINT64_MAX /* as KT_NO_PREV: version 1 has no link */

/* A label's state in the map. version >= 1. */
struct kt_map_leaf {
	struct kt_hash index;
	uint64_t version;
	uint64_t update_index; /* log index of the latest update leaf */
	struct kt_hash chain;  /* over every update leaf, versions 1..version */
};

/* A node as the store keeps it; its hash is computed, never stored in it. */
struct kt_map_node {
	int is_leaf;
	uint8_t bit;             /* interior: the split bit */
	struct kt_hash child[2]; /* interior: [0] left (bit 0), [1] right */
	struct kt_map_leaf leaf; /* leaf */
};

/* ---- hashing ---------------------------------------------------------- */

/* Bit `bit` (0..255, 0 = most significant of byte 0) of index: 0 or 1. */
int kt_map_bit(const struct kt_hash *index, unsigned bit);

void kt_map_leaf_hash(const struct kt_map_leaf *l, struct kt_hash *out);
void kt_map_node_hash(const struct kt_map_node *n, struct kt_hash *out);
void kt_map_empty_root(struct kt_hash *out);

/* out = the chain after one more update; prev NULL for version 1. */
void kt_map_chain_next(const struct kt_hash *prev,
    const struct kt_hash *update_leaf_hash, struct kt_hash *out);

/* ---- storage callbacks ------------------------------------------------ */

/*
 * Fills *out with the node whose hash is *h. `index` is the index being
 * walked and `depth` the number of interior nodes above the node: hints for
 * a store that groups nodes by position, free to ignore. Return KT_OK,
 * KT_ERR_NOT_FOUND if the store has no such node, or another error, which is
 * passed through. proto hashes every node it reads and fails with
 * KT_ERR_VERIFY if the node does not hash to *h, so a corrupt or lying store
 * cannot make a wrong proof or root; unless the reader is `checked` (below).
 */
typedef kt_err (*kt_map_read_fn)(void *ctx, const struct kt_hash *h,
    const struct kt_hash *index, unsigned depth, struct kt_map_node *out);

/*
 * Receives each node a batch creates, children before parents, each once,
 * with its hash. The nodes of the old map are never changed (a batch makes
 * new nodes on the paths it touches), so every older root stays readable
 * for as long as the store keeps its nodes. Return KT_OK or an error, which
 * aborts the batch and is passed through.
 */
typedef kt_err (*kt_map_write_fn)(void *ctx, const struct kt_hash *h,
    const struct kt_map_node *n);

/*
 * checked = 1 promises that read returns a node only after checking itself
 * that it hashes to *h (a store that hashes every node it decodes, and
 * checks the piece's top against the hash its parent holds, as kt-logd's
 * strata do): proto then skips hashing it again. 0 (the default) for any
 * reader whose nodes come from elsewhere.
 */
struct kt_map_reader {
	kt_map_read_fn read;
	void *ctx;
	int checked;
};

struct kt_map_writer {
	kt_map_write_fn write;
	void *ctx;
};

/* ---- proofs ----------------------------------------------------------- */

struct kt_map_step {
	uint8_t bit;
	struct kt_hash sibling;
};

/*
 * The path from the root to the leaf an index leads to: the interior nodes
 * in order from the root (bits strictly increasing), each as its split bit
 * and the hash of the child the index does not take, then that leaf. The
 * leaf is the index's own (membership) or another label's, whose index
 * shows where the paths part (absence). has_leaf is 0 only in the empty map.
 */
struct kt_map_proof {
	size_t n;
	struct kt_map_step step[KT_MAP_MAX_DEPTH];
	int has_leaf;
	struct kt_map_leaf leaf;
};

/*
 * The proof for `index` in the map whose root is *root: at most
 * KT_MAP_MAX_DEPTH + 1 reads. Errors from the reader are passed through.
 */
KT_MUST_CHECK kt_err kt_map_prove(const struct kt_map_reader *r,
    const struct kt_hash *root, const struct kt_hash *index,
    struct kt_map_proof *out);

/*
 * KT_OK when p proves, against *root, either that index is in the map
 * (*present = 1; its leaf is p->leaf) or that it is absent (*present = 0).
 * KT_ERR_VERIFY otherwise: bits not strictly increasing, a leaf whose index
 * does not take the path's turns, a root mismatch, a leaf with version 0,
 * an empty-map claim for a root that is not the empty map's. present may be
 * NULL.
 */
KT_MUST_CHECK kt_err kt_map_verify(const struct kt_hash *root,
    const struct kt_hash *index, const struct kt_map_proof *p, int *present);

/* Encoded length of p (p->n <= KT_MAP_MAX_DEPTH). */
size_t kt_map_proof_len(const struct kt_map_proof *p);

/* KT_ERR_TOO_LARGE if cap is short, KT_ERR_MALFORMED for an invalid p. */
KT_MUST_CHECK kt_err kt_map_proof_encode(const struct kt_map_proof *p,
    uint8_t *buf, size_t cap, size_t *out_len);

/*
 * Decodes exactly len bytes: KT_ERR_INCOMPLETE for every proper prefix of a
 * valid encoding, KT_ERR_MALFORMED for bits not strictly increasing, a
 * terminal byte other than 0 or 1, an empty terminal after steps, a leaf of
 * version 0 or trailing bytes. Decoding does not verify (kt_map_verify does).
 */
KT_MUST_CHECK kt_err kt_map_proof_decode(const uint8_t *buf, size_t len,
    struct kt_map_proof *out);

/* ---- the batch step --------------------------------------------------- */

/*
 * One update leaf as the map sees it: the label's index, the update's
 * version and link (the log index of the label's previous update,
 * KT_MAP_NO_PREV for version 1), the log index it was appended at, and its
 * RFC 9162 leaf hash.
 */
struct kt_map_update {
	struct kt_hash index;
	uint64_t version;
	uint64_t prev_index;
	uint64_t log_index;
	struct kt_hash leaf_hash;
};

struct kt_map_result {
	struct kt_hash root;
	uint64_t inserted; /* indexes new to the map */
	const char *why;   /* KT_ERR_VERIFY: the rule the batch broke */
};

/*
 * Applies updates u[0..n) (in log order: log_index strictly increasing) to
 * the map with root *old_root, read through r, and gives the new root.
 * Every new node goes to w (NULL: compute the root only). The batch must
 * follow the map's rules, or the result is KT_ERR_VERIFY with res->why
 * naming the rule: an index's updates carry its next versions in order
 * (old version + 1, + 2, ...; 1 only for an index absent before), each
 * links to the label's previous update (the old leaf's update_index, then
 * the batch's own), and log indexes increase. Reads only the paths of the
 * indexes the batch touches. KT_ERR_NOMEM; reader and writer errors pass
 * through.
 */
KT_MUST_CHECK kt_err kt_map_apply(const struct kt_map_reader *r,
    const struct kt_hash *old_root, const struct kt_map_update *u, size_t n,
    const struct kt_map_writer *w, struct kt_map_result *res);

/*
 * kt_map_apply for a stateless auditor: the old map is known only through
 * proofs p[0..np) (each checked against *old_root; typically one per index
 * the batch touches, as the log serves them). An index whose path the
 * proofs do not cover is KT_ERR_VERIFY ("the proofs do not cover ...").
 */
KT_MUST_CHECK kt_err kt_map_apply_proofs(const struct kt_hash *old_root,
    const struct kt_map_proof *p, size_t np, const struct kt_map_update *u,
    size_t n, struct kt_map_result *res);

/*
 * The root of the map holding leaves l[0..n) (any order; indexes distinct,
 * else KT_ERR_MALFORMED), every node handed to w (may be NULL).
 */
KT_MUST_CHECK kt_err kt_map_root(const struct kt_map_leaf *l, size_t n,
    const struct kt_map_writer *w, struct kt_hash *root);

#endif /* KT_MAP_H */
