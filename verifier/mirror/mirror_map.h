/*
 * mirror_map.h: the directory map of a kt log, rebuilt by the mirror from
 * the log's leaves as an auditor does (kt-mirror --map).
 *
 * A kt log's leaves are update leaves in batches, each batch closed by a
 * map head leaf carrying the map's root after it (proto/README.md,
 * sections 12-13). The mirror applies each batch to the map it holds
 * (kt_map_apply, over the store's nodes, in the round's transaction) and
 * requires the root, the link to the previous head, the label count and
 * the head's log size to be exactly what the batch gives; a checkpoint
 * must end with a map head. Any other leaf, or a head that does not
 * follow, fails the round: nothing is published.
 *
 * Only the map at the mirror checkpoint is kept. Before a batch is
 * applied, the nodes on the paths it rewrites (the old map's nodes above
 * each touched leaf, or above where a new leaf goes in) are noted; once
 * applied they belong to no map the mirror will serve. Those the round
 * made itself (a node's stamp is its batch's map head index, at least the
 * round's first leaf) are deleted at once; those of the published map
 * only in the transaction that publishes the next one, so a round that
 * fails or is killed leaves the published map whole.
 */
#ifndef KT_MIRROR_MAP_H
#define KT_MIRROR_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/map.h"
#include "mirror_store.h"

/* A growable list of node hashes. */
struct kt_hashes {
	struct kt_hash *h;
	size_t n, cap;
};

/* The map being rebuilt during one round. */
struct kt_mmap {
	struct kt_mstore_map m;  /* after the last map head seen */
	struct kt_map_update *u; /* the open batch, u[0..n) */
	size_t n, cap;
	uint64_t start;            /* the round's first leaf */
	struct kt_hashes dead;     /* the open batch's rewritten nodes */
	struct kt_hashes deferred; /* the published map's, to delete */
};

/* Starts from the map at the mirror checkpoint (*at; size 0: the empty
 * map). */
void kt_mmap_begin(struct kt_mmap *mm, const struct kt_mstore_map *at);

/* Deletes, in t (the transaction that publishes the new map), the nodes
 * of the old map that the round's batches rewrote. KT_ERR_IO. */
KT_MUST_CHECK kt_err kt_mmap_flush(struct kt_mmap *mm, struct kt_mstore_txn *t);

/* Frees the batch and the lists. Accepts a zeroed mm. */
void kt_mmap_end(struct kt_mmap *mm);

/*
 * Leaf `index` (entry[0..len), its RFC 9162 leaf hash h) into the map:
 * an update joins the batch; a map head applies it through t's nodes and
 * is checked. The leaf is not yet proven the log's: the caller publishes
 * nothing, and reports a refusal from here only, once the tree's root is
 * the signed one (mirror_pull.c).
 * KT_ERR_MALFORMED (not a kt leaf), KT_ERR_VERIFY (a head that does not
 * follow: `detail` names the rule), KT_ERR_NOMEM, store errors.
 */
KT_MUST_CHECK kt_err kt_mmap_leaf(struct kt_mmap *mm, struct kt_mstore_txn *t,
    uint64_t index, const uint8_t *entry, size_t len, const struct kt_hash *h,
    char *detail, size_t cap);

/* At the end of the round's leaves (size leaves): KT_ERR_VERIFY unless
 * the last one was a map head (a kt checkpoint ends a batch). */
KT_MUST_CHECK kt_err kt_mmap_finish(const struct kt_mmap *mm, uint64_t size,
    char *detail, size_t cap);

#endif /* KT_MIRROR_MAP_H */
