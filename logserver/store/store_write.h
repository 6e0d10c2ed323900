/*
 * store_write.h: the store's private write API. Only the sequencer (and the
 * store's tests and benchmark) include it. One write transaction at a time,
 * from one thread: the store keeps the writer's in-memory state (the current
 * partial hash tile of every tile level, which is also the tree's frontier)
 * between transactions, so a batch writes each touched tile once.
 *
 * Flow of one batch:
 *   kt_store_write_begin
 *   kt_store_write_latest / kt_store_write_entry (see earlier writes of
 *     the same transaction), kt_store_write_append ... (any number)
 *   kt_store_write_root, then kt_store_write_checkpoint for the new size
 *   kt_store_write_commit (durable), or kt_store_write_abort.
 *
 * Any call returning an error leaves the transaction failed: the caller must
 * end it with kt_store_write_abort (commit refuses it). KT_ERR_BUSY means the
 * LMDB map was full: kt_store_write_abort grows it (doubling) and the caller
 * retries the whole batch in a new transaction. KT_ERR_FULL means there is
 * no space (the disk, or the map at its cap): retrying now fails again.
 */
#ifndef KT_LOGSERVER_STORE_WRITE_H
#define KT_LOGSERVER_STORE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"
#include "store/store.h"

struct kt_store_txn;

/* Default initial map size; it doubles whenever it is full. */
#define KT_STORE_MAPSIZE_DEFAULT ((size_t)1 << 30)

/*
 * kt_store_open with an explicit initial map size in bytes (tests start it
 * tiny to exercise growth). 0 means KT_STORE_MAPSIZE_DEFAULT.
 */
KT_MUST_CHECK kt_err kt_store_open_mapsize(struct kt_store **out,
    const char *dir, const char *origin, const char *vkey, size_t mapsize,
    char *err, size_t errlen);

/* The origin and verifier key the store was opened with (valid while s). */
const char *kt_store_origin(const struct kt_store *s);
const char *kt_store_vkey(const struct kt_store *s);

/* The current map size in bytes (grows on MDB_MAP_FULL). */
size_t kt_store_mapsize(const struct kt_store *s);

/* A detail message for the last write failure ("mdb_put: MDB_MAP_FULL"),
 * NUL-terminated; "" if none. Valid until the next write call. */
const char *kt_store_write_errmsg(const struct kt_store *s);

/*
 * Begins the one write transaction. KT_ERR_BUSY if one is already open
 * (a bug in the caller), KT_ERR_IO on LMDB failure. *out borrows from s.
 */
KT_MUST_CHECK kt_err kt_store_write_begin(struct kt_store *s,
    struct kt_store_txn **out);

/* Number of entries including those appended in this transaction. */
uint64_t kt_store_write_size(const struct kt_store_txn *w);

/*
 * The latest version of the label with map index mi and the leaf index of
 * its update, seeing this transaction's appends. *version = 0 (and *index =
 * KT_NO_PREV) if the label was never published.
 */
KT_MUST_CHECK kt_err kt_store_write_latest(struct kt_store_txn *w,
    const struct kt_hash *mi, uint64_t *version, uint64_t *index);

/* Encoded entry at index (also one appended in this transaction). Borrowed
 * until the next write call on w. KT_ERR_NOT_FOUND past the end. */
KT_MUST_CHECK kt_err kt_store_write_entry(struct kt_store_txn *w,
    uint64_t index, const uint8_t **buf, size_t *len);

/*
 * Appends one encoded leaf (an update or a map head, kt/leaf.h) as leaf
 * number kt_store_write_size(w) (returned in *index): stores it, its leaf
 * hash, for an update the label index (map index, version), and the hash
 * tiles. The leaf is decoded and must be valid (KT_ERR_MALFORMED); an
 * update's version must not exist yet for its map index (KT_ERR_CONFLICT),
 * a map head's log_size must be its own leaf index (KT_ERR_MALFORMED).
 */
KT_MUST_CHECK kt_err kt_store_write_append(struct kt_store_txn *w,
    const uint8_t *entry, size_t len, uint64_t *index);

/*
 * The directory's private side (store_values.c). kt_store_write_value
 * stores the value of the update just appended at `index` (updates' values
 * go in leaf order); kt_store_write_get_value reads one back (this
 * transaction's included). kt_store_write_erase drops the opening and value
 * of the update at index, keeping its prev_chain (*erased = 1 if there was
 * something to drop). kt_store_write_vrf keeps a label's VRF proof,
 * kt_store_write_get_vrf reads it (KT_ERR_NOT_FOUND).
 */
KT_MUST_CHECK kt_err kt_store_write_value(struct kt_store_txn *w,
    uint64_t index, const struct kt_store_value *v);
KT_MUST_CHECK kt_err kt_store_write_get_value(struct kt_store_txn *w,
    uint64_t index, struct kt_store_value *out);
KT_MUST_CHECK kt_err kt_store_write_erase(struct kt_store_txn *w,
    uint64_t index, int *erased);
KT_MUST_CHECK kt_err kt_store_write_vrf(struct kt_store_txn *w,
    const char *label, size_t len, const uint8_t proof[KT_VRF_PROOF_LEN]);
/*
 * Records skel, the key of a new label's UTS #39 skeleton
 * (KT_STORE_SKELETON_LEN bytes: the first bytes of SHA-256 of the skeleton
 * kt_label_skeleton gives), before the label's first update is appended.
 * KT_ERR_EXISTS, with nothing written, when a label held before (or
 * earlier in this transaction) has the same skeleton: the new label is
 * confusable with it.
 */
KT_MUST_CHECK kt_err kt_store_write_skeleton(struct kt_store_txn *w,
    const uint8_t skel[KT_STORE_SKELETON_LEN]);
KT_MUST_CHECK kt_err kt_store_write_get_vrf(struct kt_store_txn *w,
    const char *label, size_t len, uint8_t proof[KT_VRF_PROOF_LEN]);

/* The root of the tree of kt_store_write_size(w) leaves. */
KT_MUST_CHECK kt_err kt_store_write_root(struct kt_store_txn *w,
    struct kt_hash *root);

/*
 * Stores the signed checkpoint note for the current size
 * (kt_store_write_size). A transaction that appended must store one before
 * commit, so that readers always see a checkpoint covering every entry.
 */
KT_MUST_CHECK kt_err kt_store_write_checkpoint(struct kt_store_txn *w,
    const char *note, size_t len);

/*
 * Writes the touched tiles and commits durably: only then do readers see
 * the new checkpoint (kt_store_read_begin shows durable commits only).
 * If the sync after a successful LMDB commit fails, the commit may or may
 * not survive a crash: KT_ERR_IO, the store takes no more writes
 * (kt_store_write_begin: KT_ERR_IO) until it is reopened, and the caller
 * must not tell anyone the batch was written or not written. On any error the
 * transaction is aborted and the in-memory state rolled back to the last
 * commit (KT_ERR_BUSY: the map was full and has been grown; retry). Either
 * way w is finished.
 */
KT_MUST_CHECK kt_err kt_store_write_commit(struct kt_store_txn *w);

/* Discards the transaction and rolls the in-memory state back; grows the
 * map if the transaction failed with a full map. Accepts NULL. */
void kt_store_write_abort(struct kt_store_txn *w);

/* Test hook: the next `n` commits fail as an I/O error would (the
 * transaction is aborted and rolled back, KT_ERR_IO). */
void kt_store_test_fail_commits(struct kt_store *s, unsigned n);

/* Test hook: the sync after the next `n` commits fails (KT_ERR_IO), as a
 * failing disk's fdatasync would: the store then refuses every later
 * write transaction (KT_ERR_IO) and shows readers nothing new. */
void kt_store_test_fail_syncs(struct kt_store *s, unsigned n);

#endif /* KT_LOGSERVER_STORE_WRITE_H */
