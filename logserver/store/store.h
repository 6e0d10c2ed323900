/*
 * store.h: kt-logd's LMDB storage. Only its implementation (the store_*.c
 * files and store/internal.h, which lists them) includes lmdb.h. One LMDB
 * environment in the data folder holds:
 *   - leaves by leaf index (update and map head leaves, kt/leaf.h),
 *   - hash tiles (tlog-tiles, height 8; kept so that any node needed by an
 *     inclusion or consistency proof, for any older size, is a read of a
 *     handful of tiles, and appends rewrite O(1) amortised hashes),
 *   - a label index (map index -> leaf indexes of its updates),
 *   - a leaf-hash index (leaf hash -> leaf index),
 *   - signed checkpoints by tree size, and the latest,
 *   - metadata: format version, origin, log verifier key, index watermarks,
 *   - the directory's private side: each label's VRF proof, each update's
 *     opening and value (store_values.c), and the map's strata
 *     (store_map.h).
 * The index records of the newest entries wait in memory and reach LMDB a
 * key-space slice at a time (store_index.c explains why); lookups see both.
 *
 * Readers use read-only transactions (MDB_NOTLS) and never wait for the
 * writer's I/O (only, for microseconds, for its in-memory index updates).
 * They see durable commits only. Only the sequencer writes (store_write.h).
 * Other processes may read the same folder beside the writer
 * (kt_store_open_reader: read replicas).
 */
#ifndef KT_LOGSERVER_STORE_H
#define KT_LOGSERVER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kt/commit.h"
#include "kt/err.h"
#include "kt/merkle.h"
#include "kt/tile.h"
#include "kt/vrf.h"

struct kt_store;
struct kt_store_read;

/* The key a label's UTS #39 skeleton is kept under: the first bytes of
 * SHA-256 of the skeleton (kt_label_skeleton); kt_store_write_skeleton. */
#define KT_STORE_SKELETON_LEN 16

/*
 * Opens (creating if empty) the store in folder dir for the log `origin`
 * whose verifier key string is `vkey`. A folder holding other files that is
 * not a kt data folder, or a kt folder of another origin, key or store
 * format (an older one is not upgraded: start a new folder), is refused
 * (KT_ERR_CONFLICT) with a message in err. The map grows on MDB_MAP_FULL.
 * On error *out is NULL. Additive: KT_ERR_BUSY if another kt_store (this
 * or another process) has the folder open for writing: one writer per
 * folder (reader stores, below, do not count).
 */
KT_MUST_CHECK kt_err kt_store_open(struct kt_store **out, const char *dir,
    const char *origin, const char *vkey, char *err, size_t errlen);

/*
 * Opens the store in dir read-only, for a process beside the one writer
 * (kt_store_open in another process, running or not): a read replica. The
 * folder must hold this log (origin, key and format checked as above;
 * KT_ERR_CONFLICT) and the writer must have created it (KT_ERR_NOT_FOUND
 * for a missing or empty folder: nothing is created). It never writes the
 * data file. Its snapshots show exactly what the writer's own show: the
 * newest checkpoint the writer committed, once the data file is durable
 * (the first snapshot to see a newer one syncs the file itself, as the
 * writer does before it shows a commit), with the index records of
 * entries the writer keeps only in memory rebuilt here from the entries
 * (at open, then whenever a snapshot shows new ones). The writer may grow
 * the map meanwhile; snapshots adopt its size. Do not open the same
 * folder twice in one process (LMDB's locks are per process): readers and
 * the writer run in separate processes. Write calls on a reader store
 * fail (kt_store_write_begin: KT_ERR_PERM).
 */
KT_MUST_CHECK kt_err kt_store_open_reader(struct kt_store **out,
    const char *dir, const char *origin, const char *vkey, char *err,
    size_t errlen);

/* 1 if s was opened by kt_store_open_reader. */
int kt_store_is_reader(const struct kt_store *s);

/* Closes; accepts NULL. No read or write transaction may be open. */
void kt_store_close(struct kt_store *s);

/* ---- reads: each inside one read-only snapshot -------------------------- */

/* Begins a snapshot of the latest durable state. End with
 * kt_store_read_end on every path. Any thread; cheap (label and leaf-hash
 * lookups share a lock with the writer's in-memory index updates only,
 * never with its I/O). Keep snapshots short and never hold one while
 * waiting for the sequencer: growing the map (rare) waits until open
 * snapshots end. KT_ERR_BUSY if all LMDB reader slots are in use. */
KT_MUST_CHECK kt_err kt_store_read_begin(struct kt_store *s,
    struct kt_store_read **out);
void kt_store_read_end(struct kt_store_read *r);

/* Tree size of the snapshot (the size of its latest checkpoint). */
uint64_t kt_store_read_size(const struct kt_store_read *r);

/* The latest signed checkpoint note (exact C2SP text). Borrowed: valid until
 * kt_store_read_end. KT_ERR_NOT_FOUND only before the first checkpoint. */
KT_MUST_CHECK kt_err kt_store_read_checkpoint(struct kt_store_read *r,
    const char **note, size_t *len);

/* The signed checkpoint stored for tree size `size` (<= the snapshot's):
 * every size a batch committed at. KT_ERR_NOT_FOUND for any other size.
 * Borrowed until kt_store_read_end. */
KT_MUST_CHECK kt_err kt_store_read_checkpoint_at(struct kt_store_read *r,
    uint64_t size, const char **note, size_t *len);
/* Encoded entry at index. Borrowed until kt_store_read_end. */
KT_MUST_CHECK kt_err kt_store_read_entry(struct kt_store_read *r,
    uint64_t index, const uint8_t **buf, size_t *len);

/* Leaf hash of entry `index`. */
KT_MUST_CHECK kt_err kt_store_read_leaf_hash(struct kt_store_read *r,
    uint64_t index, struct kt_hash *out);

/* Leaf index of the entry with this leaf hash (KT_ERR_NOT_FOUND). */
KT_MUST_CHECK kt_err kt_store_find_leaf(struct kt_store_read *r,
    const struct kt_hash *leaf_hash, uint64_t *index);

/* Number of versions of the label with map index mi (0 if never
 * published), and the leaf index of its update of version v (1-based;
 * KT_ERR_NOT_FOUND if v is not 1..count). */
KT_MUST_CHECK kt_err kt_store_label_count(struct kt_store_read *r,
    const struct kt_hash *mi, uint64_t *count);
KT_MUST_CHECK kt_err kt_store_label_version(struct kt_store_read *r,
    const struct kt_hash *mi, uint64_t version, uint64_t *index);

/* ---- the directory's private side (store_values.c) ---------------------- */

/* What an update's commitment hides, and the label's chain before it. */
struct kt_store_value {
	struct kt_hash prev_chain; /* zero for version 1 */
	int erased;                /* only prev_chain is left */
	uint8_t opening[KT_OPENING_LEN];
	uint8_t kind; /* KT_VALUE_KEY or KT_VALUE_REVOKE */
	char key_type[KT_KEY_TYPE_MAX];
	size_t key_type_len;
	uint8_t key[KT_KEY_MAX];
	size_t key_len;
};

/* The value of the update at leaf index `index` (KT_ERR_NOT_FOUND past the
 * snapshot's size or for a leaf that is not an update). */
KT_MUST_CHECK kt_err kt_store_read_value(struct kt_store_read *r,
    uint64_t index, struct kt_store_value *out);
/* The VRF proof kept for a canonical label (KT_ERR_NOT_FOUND for a label
 * never published; KT_ERR_RANGE for an empty or oversized label). */
KT_MUST_CHECK kt_err kt_store_read_vrf(struct kt_store_read *r,
    const char *label, size_t len, uint8_t proof[KT_VRF_PROOF_LEN]);

/* Proofs and roots for any size up to kt_store_read_size. */
KT_MUST_CHECK kt_err kt_store_inclusion(struct kt_store_read *r, uint64_t index,
    uint64_t size, struct kt_proof *out);
KT_MUST_CHECK kt_err kt_store_consistency(struct kt_store_read *r, uint64_t old,
    uint64_t new_size, struct kt_proof *out);
KT_MUST_CHECK kt_err kt_store_root(struct kt_store_read *r, uint64_t size,
    struct kt_hash *out);

/*
 * A tlog-tiles tile for the snapshot: hash tiles (t->level 0..63) as raw
 * concatenated hashes, entry bundles (KT_TILE_LEVEL_ENTRIES) in bundle
 * encoding, written into buf. KT_ERR_NOT_FOUND if the tile at that width
 * does not exist at this size (a partial width must equal the current one,
 * or be a prefix of a now-full tile). Additive: any width up to the current
 * one is served (every prefix was the tile at an older, checkpointed size).
 * KT_ERR_RANGE for width 0 or > 256 or a level past 63, KT_ERR_TOO_LARGE
 * if cap is short (a full bundle can need 256 * (2 + KT_UPDATE_LEN) bytes:
 * an update is the larger leaf).
 */
KT_MUST_CHECK kt_err kt_store_read_tile(struct kt_store_read *r,
    const struct kt_tile *t, uint8_t *buf, size_t cap, size_t *len);

/*
 * Whether writes work now (a reader store: always KT_OK, it never
 * writes): KT_OK; KT_ERR_FULL while commits fail for lack
 * of space (a full disk, or the size limit of kt_store_set_max_bytes):
 * the next commit that stores something clears it, so writes resume by
 * themselves once there is space; KT_ERR_IO once a sync of the data file
 * has failed after a commit: no more writes until the store is reopened
 * (reads go on either way).
 */
kt_err kt_store_write_state(const struct kt_store *s);

/* 1 if kt_store_write_state is KT_OK. */
int kt_store_writable(const struct kt_store *s);

/*
 * Caps the data file at max bytes (0: no cap but the disk's): the map
 * grows no further, and a commit that needs more fails with KT_ERR_FULL.
 * A data file already larger keeps its size as the cap. Call before the
 * first write, with no transaction open.
 */
void kt_store_set_max_bytes(struct kt_store *s, uint64_t max);

/* Bytes of LMDB pages each part of the store holds in a snapshot (pages
 * freed by deletions and not yet reused are in none: the data file's size,
 * kt_store_disk_bytes, is a high-water mark). */
struct kt_store_bytes {
	uint64_t leaves, tiles, indexes, checkpoints, vrf, values, map, total;
};
KT_MUST_CHECK kt_err kt_store_live_bytes(struct kt_store_read *r,
    struct kt_store_bytes *out);

/* Bytes the environment uses on disk (for metrics and the benchmark). */
uint64_t kt_store_disk_bytes(struct kt_store *s);

#endif /* KT_LOGSERVER_STORE_H */
