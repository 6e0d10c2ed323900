/*
 * strata.h: the byte layout of the directory map's strata, with no LMDB
 * (store_map.c stores them). A stratum is a connected piece of the map's
 * trie kept as one record, keyed by the hash of its root node.
 *
 * Boundaries go by bit band, not by depth (an insert shifts depths, never
 * split bits): an interior node with split bit s is in band s / STRATA_B.
 * A stratum holds its root, every interior node below it in the root's
 * band that is reached through interior nodes of that band, and the leaves
 * that are their children. A child interior node of a higher band is an
 * exit: the 32-byte hash of the root of another stratum and that stratum's
 * sequence number (its key in the store, store_map.h), so a reader follows
 * sequence numbers and the store needs no index by hash. Bits grow strictly
 * along a path, so a stratum is at most STRATA_B interior levels deep: at
 * most 2^B - 1 interior nodes and 2^B children. A map whose root is a leaf
 * is one stratum holding that leaf.
 *
 * Layout: the nodes in preorder (a node, its left subtree, its right), each
 * starting with a tag byte. Hashes are not stored but recomputed on decode
 * (proto hashes every node it reads anyway):
 *
 *   0x00 bit                 interior node of the stratum: then its left
 *                            child, then its right child
 *   0x01 index[32] uv version uv update_index chain[32]
 *                            leaf (uv: unsigned LEB128, at most 10 bytes)
 *   0x02 hash[32] uv seq     exit: the root of another stratum, and the
 *                            sequence number it is stored under
 *
 * The first node is the stratum's root and is never an exit.
 */
#ifndef KT_LOGSERVER_STORE_STRATA_H
#define KT_LOGSERVER_STORE_STRATA_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/map.h"

/* Bits per band. A build may override it (the benchmark compares 4, 6, 8);
 * strata written with one B are refused as malformed by another. */
#ifndef STRATA_B
#define STRATA_B 4
#endif
#define STRATA_MAX_INTERIOR ((1u << STRATA_B) - 1)
#define STRATA_MAX_NODES (2u * STRATA_MAX_INTERIOR + 1)
#define STRATA_LEAF_MAX (1 + 32 + 10 + 10 + 32) /* > an exit's 1 + 32 + 10 */
#define STRATA_MAX_BYTES \
	(2 * STRATA_MAX_INTERIOR + (STRATA_MAX_INTERIOR + 1) * STRATA_LEAF_MAX)

#define SN_INTERIOR 0
#define SN_LEAF 1
#define SN_EXIT 2

static inline unsigned
strata_band(unsigned bit)
{
	return bit / STRATA_B;
}

/* A decoded node: its hash is computed (an exit's is the stored one). */
struct snode {
	struct kt_hash h;
	uint8_t kind;  /* SN_* */
	uint8_t bit;   /* interior */
	uint16_t c[2]; /* interior: the children's positions in the stratum */
	uint64_t seq;  /* exit: the child stratum's sequence number */
	struct kt_map_leaf leaf; /* leaf */
};

/* A decoded stratum: node[0] is the root, the rest in preorder. */
struct stratum {
	size_t n;
	unsigned interior;
	struct snode node[STRATA_MAX_NODES];
};

/*
 * Decodes exactly len bytes and hashes every node (one SHA-256 per leaf
 * and interior node). KT_ERR_MALFORMED if the bytes are not one stratum:
 * an unknown tag, a short node, an exit at the root, an inline interior
 * node whose bit does not grow or leaves the root's band, a leaf of version
 * 0, a non-minimal or overlong varint, trailing bytes.
 */
KT_MUST_CHECK kt_err kt_strata_decode(const uint8_t *buf, size_t len,
    struct stratum *out);

/* The map node at position i (not an exit) as proto reads it. */
void kt_strata_node(const struct stratum *s, size_t i, struct kt_map_node *out);

/* Appends one node's bytes at buf + *len (the caller keeps the total within
 * STRATA_MAX_BYTES by the band rule). */
void kt_strata_put_interior(uint8_t *buf, size_t *len, uint8_t bit);
void kt_strata_put_leaf(uint8_t *buf, size_t *len, const struct kt_map_leaf *l);
void kt_strata_put_exit(uint8_t *buf, size_t *len, const struct kt_hash *h,
    uint64_t seq);

#endif /* KT_LOGSERVER_STORE_STRATA_H */
