/*
 * store_map.h: the directory map in kt-logd's store, private to the store,
 * the sequencer, and their tests and benchmark.
 *
 * The map (kt/map.h) is kept as strata (strata.h): one `map` record per
 * stratum, keyed by its sequence number (u64 BE), numbered in the order
 * they are written. Each batch is copy-on-write: it writes new strata for
 * the paths it changes, children before parents, under the next sequence
 * numbers after the last one stored (MDB_APPEND: one sequential run of
 * fresh pages per batch), and reuses every stratum it does not change, so
 * every older map root stays readable until pruned. An exit holds its
 * child's hash and sequence number, so readers need no index by hash;
 * `maproots` maps each retained map's root hash to its root stratum's
 * sequence number. The old root and the strata a batch replaced are listed
 * in `mapgc` under the log index of the batch's map head (u64 BE -> old
 * root[32] || their sequence numbers, u64 BE each); kt_store_map_prune
 * deletes them once no retained map needs them.
 *
 * Not done yet: the prune deletes superseded strata one by one, which
 * dirties a random page of `map` per stratum as before (only the writes are
 * sequential now). The next step marks them dead instead and compacts the
 * oldest range of sequence numbers once it is mostly dead: re-appending
 * its strata that the current map still uses, then deleting the whole
 * range with one cursor sweep.
 */
#ifndef KT_LOGSERVER_STORE_MAP_H
#define KT_LOGSERVER_STORE_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/map.h"
#include "store/store.h"
#include "store/store_write.h"

/*
 * In the one write transaction: applies updates u[0..n) (log order) to the
 * map with root *old_root (kt_map_empty_root for the first batch), stores
 * the new strata, and records the strata it superseded under head_index
 * (the log index the batch's map head takes). res as kt_map_apply's:
 * KT_ERR_VERIFY with res->why for a batch that breaks the map's rules
 * (nothing stored: the caller aborts anyway). KT_ERR_NOT_FOUND if the old
 * root's strata are not stored, KT_ERR_VERIFY for a stored stratum that
 * does not hash to its key, KT_ERR_NOMEM; a failed LMDB write is KT_ERR_BUSY
 * (a full map: abort, which grows it, and retry), KT_ERR_FULL or KT_ERR_IO,
 * and leaves the transaction failed.
 */
KT_MUST_CHECK kt_err kt_store_map_apply(struct kt_store_txn *w,
    const struct kt_hash *old_root, const struct kt_map_update *u, size_t n,
    uint64_t head_index, struct kt_map_result *res);

/* In the write transaction: deletes the strata superseded by batches whose
 * map head index is < before, the maproots records of the maps they
 * replaced, and their mapgc records. Maps of heads >= before stay readable;
 * older ones are KT_ERR_NOT_FOUND to kt_store_map_prove. KT_ERR_VERIFY for
 * a malformed mapgc record; LMDB failures as for kt_store_map_apply. */
KT_MUST_CHECK kt_err kt_store_map_prune(struct kt_store_txn *w,
    uint64_t before);

/*
 * The proof for index in the map whose root is *root, in a read snapshot
 * (kt_store_map_prove) or in the write transaction (_w: sees its own
 * batch). KT_ERR_NOT_FOUND when the root's strata are not (or no longer)
 * stored; KT_ERR_VERIFY for a stored stratum that is corrupt; KT_ERR_IO,
 * KT_ERR_NOMEM. The empty map's root needs no strata.
 */
KT_MUST_CHECK kt_err kt_store_map_prove(struct kt_store_read *r,
    const struct kt_hash *root, const struct kt_hash *index,
    struct kt_map_proof *out);
KT_MUST_CHECK kt_err kt_store_map_prove_w(struct kt_store_txn *w,
    const struct kt_hash *root, const struct kt_hash *index,
    struct kt_map_proof *out);

/*
 * Many proofs in one map (a snapshot's), as GET /v1/map/audit serves them:
 * the decoded strata are kept between proofs (64 of them, about 256 KB),
 * so paths in index order share the strata near the root instead of each
 * reading and hashing them again. Open fails as kt_store_map_prove does
 * for the root; prove as kt_store_map_prove; close accepts NULL. The
 * snapshot must outlive the prover.
 */
struct kt_store_map_prover;
KT_MUST_CHECK kt_err kt_store_map_prover_open(struct kt_store_read *r,
    const struct kt_hash *root, struct kt_store_map_prover **out);
KT_MUST_CHECK kt_err kt_store_map_prover_prove(struct kt_store_map_prover *pv,
    const struct kt_hash *index, struct kt_map_proof *out);
void kt_store_map_prover_close(struct kt_store_map_prover *pv);

struct kt_store_map_stats {
	uint64_t records; /* strata in `map` */
	uint64_t bytes;   /* pages of `map` (branch, leaf, overflow) * size */
	uint64_t gc_records, gc_bytes; /* the same for mapgc and maproots */
	uint64_t last_seq; /* the highest stratum sequence number; 0: none */
};

/* mdb_stat of the map's databases in a read snapshot. KT_ERR_IO. */
KT_MUST_CHECK kt_err kt_store_map_stats(struct kt_store_read *r,
    struct kt_store_map_stats *out);

struct kt_store_map_scan {
	uint64_t records;
	uint64_t value_bytes;  /* sum of the records' lengths */
	uint64_t interior;     /* interior nodes in all strata */
	uint64_t leaves;       /* leaves in all strata */
	unsigned max_interior; /* the most interior nodes in one stratum */
	unsigned max_children; /* the most leaves + exits in one stratum */
};

/* Decodes every stored stratum (a test and benchmark check: each must
 * decode, and its exits point to earlier sequence numbers). KT_ERR_VERIFY,
 * KT_ERR_MALFORMED for a bad one, KT_ERR_IO, KT_ERR_NOMEM. */
KT_MUST_CHECK kt_err kt_store_map_scan(struct kt_store_read *r,
    struct kt_store_map_scan *out);

#endif /* KT_LOGSERVER_STORE_MAP_H */
