/*
 * mirror_store.h: kt-mirror's LMDB state, one environment per data folder
 * (data.mdb and lock.mdb, mode 0600).
 *
 * Two tables:
 *   logs   SHA-256(origin) -> the mirror checkpoint: u8 format (1), be64
 *          size, its 32-byte root, then the cosigned note (the log's
 *          signed checkpoint with the mirror's cosignature line last).
 *   tiles  SHA-256(origin) || u8 level (0..63, 255 for entry bundles) ||
 *          be64 index || be16 width (256 for a full tile) -> the tile's
 *          bytes, exactly as tlog-tiles serves them.
 * and, for kt logs whose directory map the mirror rebuilds (--map):
 *   maps   SHA-256(origin) -> the map at the mirror checkpoint: u8 format
 *          (1), be64 size, be64 last map head's leaf index, be64 label
 *          count, its 32-byte root (written with the checkpoint).
 *   nodes  a map node's hash -> the node (u8 0 and the leaf's index, be64
 *          version, be64 update index, chain; or u8 1, the split bit and
 *          both children's hashes), then be64 its stamp: the leaf index
 *          of the map head whose batch made it. Only the map at the
 *          mirror checkpoint is kept (mirror_map.h says how); a failed
 *          round may leave nodes that no map uses.
 *
 * A tile is PUBLISHED when the mirror checkpoint's tree holds it at that
 * width: a full tile below the right edge, or the right edge's partial
 * tile of the width the size gives. Only published tiles are served
 * (kt_mstore_served_tile), so a tile written before its checkpoint (one
 * being verified, staged in an earlier transaction of a long catch-up)
 * is never served; kt_mstore_purge removes them after a failed check or
 * at start. The checkpoint is written in the same transaction as the last
 * tile it needs, so a served checkpoint never names a missing tile.
 *
 * mirror_store.c is the only file of kt-mirror that includes lmdb.h. Every
 * function is thread-safe: LMDB admits one write transaction at a time
 * and reads see a snapshot.
 */
#ifndef KT_MIRROR_STORE_H
#define KT_MIRROR_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/map.h"
#include "kt/merkle.h"
#include "kt/note.h"

/* The cosigned note: a log's note and one more signature line. */
#define KT_MSTORE_NOTE_MAX (KT_NOTE_MAX + 4 + KT_KEY_NAME_MAX + 110)

/* The level of entry bundles in tile keys (as kt_tile.level). */
#define KT_MSTORE_ENTRIES 255

struct kt_mstore;     /* opaque: the environment and its tables */
struct kt_mstore_txn; /* opaque: one write transaction */

/* The mirror checkpoint of one log. */
struct kt_mstore_state {
	uint64_t size;
	struct kt_hash root;
	size_t note_len;
	char note[KT_MSTORE_NOTE_MAX + 1]; /* NUL-terminated */
};

/*
 * Opens (creating) the environment in directory dir, which must exist.
 * map_size is the largest the data file may grow to, in bytes.
 * KT_ERR_IO with `detail`; *out is NULL on error.
 */
KT_MUST_CHECK kt_err kt_mstore_open(const char *dir, uint64_t map_size,
    struct kt_mstore **out, char *detail, size_t cap);

/* Closes. Accepts NULL; no transaction may be open. */
void kt_mstore_close(struct kt_mstore *s);

/*
 * The mirror checkpoint of origin hash oh into *out (copied).
 * KT_ERR_NOT_FOUND if nothing is mirrored yet, KT_ERR_IO,
 * KT_ERR_MALFORMED (a record this version cannot read).
 */
KT_MUST_CHECK kt_err kt_mstore_get_state(struct kt_mstore *s,
    const uint8_t oh[KT_HASH_LEN], struct kt_mstore_state *out);

/*
 * The published tile (level, index) of oh at the mirror checkpoint, read
 * in one snapshot: *width gets its width there (256 full, else the
 * partial width) and *buf a malloc'd copy of its bytes (*len), which the
 * caller frees. KT_ERR_NOT_FOUND if the mirror checkpoint's tree holds no
 * such tile (or nothing is mirrored), KT_ERR_IO, KT_ERR_NOMEM,
 * KT_ERR_INTERNAL (a published tile is missing: never, by construction).
 */
KT_MUST_CHECK kt_err kt_mstore_served_tile(struct kt_mstore *s,
    const uint8_t oh[KT_HASH_LEN], unsigned level, uint64_t index,
    unsigned *width, uint8_t **buf, size_t *len);

/*
 * Any stored tile (level, index, width) of oh, published or not (a
 * staged one is unverified: the caller verifies it as if downloaded).
 * *buf is malloc'd. KT_ERR_NOT_FOUND, KT_ERR_IO, KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_mstore_get_tile(struct kt_mstore *s,
    const uint8_t oh[KT_HASH_LEN], unsigned level, uint64_t index,
    unsigned width, uint8_t **buf, size_t *len);

/* Begins a write transaction (waits for LMDB's writer lock). KT_ERR_IO. */
KT_MUST_CHECK kt_err kt_mstore_begin(struct kt_mstore *s,
    struct kt_mstore_txn **out, char *detail, size_t cap);

/* Writes tile (level, index, width) of oh in t. KT_ERR_FULL (the data
 * file is at map_size), KT_ERR_IO; t must then be aborted. */
KT_MUST_CHECK kt_err kt_mstore_put_tile(struct kt_mstore_txn *t,
    const uint8_t oh[KT_HASH_LEN], unsigned level, uint64_t index,
    unsigned width, const uint8_t *p, size_t len, char *detail, size_t cap);

/* Deletes tile (level, index, width) of oh in t if present. KT_ERR_IO. */
KT_MUST_CHECK kt_err kt_mstore_del_tile(struct kt_mstore_txn *t,
    const uint8_t oh[KT_HASH_LEN], unsigned level, uint64_t index,
    unsigned width, char *detail, size_t cap);

/* Writes the mirror checkpoint of oh in t. KT_ERR_FULL, KT_ERR_IO,
 * KT_ERR_TOO_LARGE (a note over KT_MSTORE_NOTE_MAX). */
KT_MUST_CHECK kt_err kt_mstore_put_state(struct kt_mstore_txn *t,
    const uint8_t oh[KT_HASH_LEN], const struct kt_mstore_state *st,
    char *detail, size_t cap);

/* Commits t (synced to disk) and frees it, whatever the outcome.
 * KT_ERR_FULL, KT_ERR_IO: nothing of t was written. */
KT_MUST_CHECK kt_err kt_mstore_commit(struct kt_mstore_txn *t, char *detail,
    size_t cap);

/* Aborts t and frees it. Accepts NULL. */
void kt_mstore_abort(struct kt_mstore_txn *t);

/*
 * Deletes, in one transaction, every tile of oh that the tree of `size`
 * leaves (the mirror checkpoint's) does not publish: what a failed or
 * interrupted catch-up staged. *removed gets how many. KT_ERR_IO.
 */
KT_MUST_CHECK kt_err kt_mstore_purge(struct kt_mstore *s,
    const uint8_t oh[KT_HASH_LEN], uint64_t size, size_t *removed, char *detail,
    size_t cap);

/* ---- the directory map of kt logs -------------------------------------- */

/* The map at a mirror checkpoint. */
struct kt_mstore_map {
	uint64_t size; /* the mirror checkpoint's */
	uint64_t
	    head_index; /* the last map head's leaf (KT_MAP_NO_PREV: none) */
	uint64_t label_count; /* as that map head says */
	struct kt_hash root;  /* the empty map's root when there is no head */
};

/* Writes the map record of oh in t. KT_ERR_FULL, KT_ERR_IO. */
KT_MUST_CHECK kt_err kt_mstore_put_map(struct kt_mstore_txn *t,
    const uint8_t oh[KT_HASH_LEN], const struct kt_mstore_map *m, char *detail,
    size_t cap);

/* The map record of oh (the last one committed). KT_ERR_NOT_FOUND,
 * KT_ERR_IO, KT_ERR_MALFORMED. */
KT_MUST_CHECK kt_err kt_mstore_get_map(struct kt_mstore *s,
    const uint8_t oh[KT_HASH_LEN], struct kt_mstore_map *out);

/* A map reader and writer over t's nodes (valid while t is open): what
 * t wrote is read back; every node written is stamped with `stamp`. The
 * reader is not `checked`: proto hashes every node it reads. */
void kt_mstore_map_io(struct kt_mstore_txn *t, uint64_t stamp,
    struct kt_map_reader *r, struct kt_map_writer *w);

/* The stamp node h was written with. KT_ERR_NOT_FOUND, KT_ERR_IO. */
KT_MUST_CHECK kt_err kt_mstore_node_stamp(struct kt_mstore_txn *t,
    const struct kt_hash *h, uint64_t *stamp);

/* Deletes node h if present. KT_ERR_IO. */
KT_MUST_CHECK kt_err kt_mstore_del_node(struct kt_mstore_txn *t,
    const struct kt_hash *h);

/* A map path at the mirror checkpoint, read in one snapshot. */
#define KT_MSTORE_HEAD_MAX 128
struct kt_mstore_path {
	struct kt_mstore_state st;        /* the cosigned checkpoint */
	uint8_t head[KT_MSTORE_HEAD_MAX]; /* the last leaf's bytes */
	size_t head_len;
	struct kt_proof head_proof; /* its inclusion in st.size */
	struct kt_map_proof proof;  /* the index's path in its map */
};

/*
 * The path of `index` in the map of oh at the mirror checkpoint, with
 * the map head ending the checkpoint and its inclusion proof, into *out.
 * KT_ERR_NOT_FOUND (nothing mirrored, or no map for oh), KT_ERR_IO,
 * KT_ERR_NOMEM, KT_ERR_INTERNAL (a node or tile the checkpoint needs is
 * missing or wrong: never, by construction).
 */
KT_MUST_CHECK kt_err kt_mstore_map_path(struct kt_mstore *s,
    const uint8_t oh[KT_HASH_LEN], const struct kt_hash *index,
    struct kt_mstore_path *out);

#endif /* KT_MIRROR_STORE_H */
