/*
 * store/internal.h: what the files of kt-logd's store share, private to them.
 * They are the only files that include lmdb.h. One file per concern:
 *
 *   store.c         open and close: the folder, the environment, the
 *                   metadata checks (format, origin, key)
 *   store_commit.c  the one write transaction: begin, append, root,
 *                   checkpoint, commit (then sync, then show) or abort
 *   store_index.c   the label and leaf-hash indexes: lookups, the writer's
 *                   new records, sweeps into LMDB, publishing to readers
 *   store_mem.c     the index records waiting in memory: loading them at
 *                   open, merging a batch's, and a reader store's
 *                   following of a writer in another process
 *   store_read.c    read snapshots: checkpoint, entries, proofs, roots
 *   store_tile.c    hash tiles: node reads for readers and the writer,
 *                   tile and entry-bundle reads, the writer's right edge
 *   store_values.c  the directory's private side: VRF proofs by label,
 *                   openings and values by update (reads and writes)
 *   store_env.c     what readers and the writer share on the environment:
 *                   the gate for growing the map, sync and the durable size
 *   recent.c, bloom.c  in-memory structures (no LMDB, call no store file)
 *
 * Who may call whom: a file calls only files listed below it, never one
 * above, so no two files call each other (store.c may call every other
 * file; store_env.c calls none). The blocks of private prototypes below
 * follow the same order; store.c and store_commit.c have none (they only
 * implement store.h and store_write.h). The static inline helpers here are
 * for every file.
 */
#ifndef KT_LOGSERVER_STORE_INTERNAL_H
#define KT_LOGSERVER_STORE_INTERNAL_H

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "kt/fmt.h"
#include "kt/merkle.h"
#include "store/bloom.h"
#include "store/recent.h"
#include "store/store.h"
#include "store/store_write.h"

#define TILE_NODES 511
#define TILE_BYTES (TILE_NODES * KT_HASH_LEN)
#define TILE_LEVELS 8 /* tile levels 0..7 hold tree levels 0..63 */
#define TILE_KEY_LEN 9
#define LEAF_KEY_LEN 8
#define LABEL_KEY_LEN (KT_HASH_LEN + 8)
#define MAX_RETRIES_RESIZED 8
/* Entries whose index records may wait in memory: size / 16, within
 * [1 Ki, 256 Ki] (at most ~60 MiB of memory with the records that wait one
 * more round before they are dropped). */
#define SLICES KT_RECENT_SLICES
#define SWEPT_BYTES (SLICES * 8)
#define RECENT_DIV 16
#define RECENT_MIN 1024
#define RECENT_MAX 262144

/* Offset of row k (tree level 8L + k) in a stored tile. */
#define ROW(k) (512u - (512u >> (k)))

struct wtile {
	uint64_t index; /* tile index N of the level's rightmost tile */
	unsigned width; /* hashes filled in its row 0 (0..255) */
	int dirty;      /* changed since the last commit */
	struct kt_hash n[TILE_NODES];
};

/* An index record on its way into LMDB (sorted by key, then value). */
struct sweeprec {
	uint8_t k[LABEL_KEY_LEN];
	uint8_t v[8];
};

struct kt_store_txn {
	struct kt_store *s;
	MDB_txn *txn;
	MDB_cursor *lcur;    /* labels, kept open for the transaction */
	uint64_t wm[SLICES]; /* watermarks, as this transaction moves them */
	uint64_t old_wm[SLICES]; /* ... and before, for slices it swept */
	uint8_t swept[SLICES];
	uint64_t pending; /* entries whose label record is not in LMDB */
	unsigned slice0;  /* s->next_slice at begin */
	/* the map index of the last kt_store_write_latest and its latest
	 * version: the append that usually follows needs them again */
	uint8_t last_lh[KT_HASH_LEN];
	uint64_t last_version, last_index;
	int last_valid;
	uint64_t size0; /* size at begin */
	uint64_t size;
	uint64_t ckpt_size;
	int has_ckpt;
	int failed;
	int full; /* failed with MDB_MAP_FULL */
};

/* Why commits fail for lack of space (struct kt_store.nospace). */
#define KT_NOSPACE_DISK 1 /* the file system is full */
#define KT_NOSPACE_CAP 2  /* the data file reached max_db_size */

struct kt_store {
	MDB_env *env;
	MDB_dbi meta, entries, tiles, labels, leafhash, ckpts;
	MDB_dbi vrf, values, map, mapgc, maproots, skeletons;
	char *origin;
	char *vkey;
	size_t mapsize;

	/* resize gate */
	pthread_mutex_t gate;
	pthread_cond_t gate_cv;
	unsigned readers;
	int resizing;

	/* writer state: touched by the one writer thread only */
	int wloaded;
	int wopen;
	uint64_t wsize;   /* committed entries */
	struct wtile *wt; /* [TILE_LEVELS] */
	struct kt_store_txn w;
	struct sweeprec *sw; /* scratch for sweeps */
	size_t sw_cap;
	unsigned next_slice;          /* next slice to sweep */
	uint64_t wm[SLICES];          /* committed watermarks */
	uint64_t pending;             /* committed entries not yet swept */
	struct kt_recent tlab, tleaf; /* this transaction's new records */
	struct kt_bloom bloom;        /* label hashes in the labels database */

	/* Index records not yet in LMDB, shared with readers under mlock:
	 * the writer changes them (never across I/O), readers only look. */
	pthread_rwlock_t mlock;
	struct kt_recent mlab;  /* SHA-256(label) -> (version, index) */
	struct kt_recent mleaf; /* leaf hash[0..8) -> index */
	uint64_t floor[SLICES]; /* memory holds every record >= floor */

	/* Readers see checkpoints up to this size: the commits that are
	 * durable (kt_env_sync). */
	_Atomic uint64_t durable;

	/* The right-edge hashes of the newest tree size any proof asked for,
	 * shared by all snapshots: most proofs are to the latest size. */
	pthread_mutex_t edge_mu;
	struct kt_edge_cache edge;
	char werr[160];
	unsigned fail_commits; /* test hook */
	unsigned fail_syncs;   /* test hook */
	_Atomic int broken;    /* a sync after a commit failed */
	/* The last commit found no space (a full disk, or the map at
	 * max_bytes); the next commit that stores something clears it. */
	_Atomic int nospace; /* 0, KT_NOSPACE_DISK or KT_NOSPACE_CAP */
	uint64_t max_bytes;  /* the map never grows past it; 0: no limit */
	int lockfd;          /* flock: one server per folder */
	time_t stale_check;  /* the writer's last mdb_reader_check */

	/* A reader store (kt_store_open_reader) follows a writer in another
	 * process. It has no writer state: s->wm holds the watermarks it
	 * last adopted from a snapshot, and memory the index records of
	 * every entry in [floor, seen). One thread at a time follows (syncs
	 * the data file, indexes new entries), under follow_mu. */
	int reader;
	pthread_mutex_t follow_mu;
	_Atomic uint64_t seen;
};

struct kt_store_read {
	struct kt_store *s;
	MDB_txn *txn;
	uint64_t size;
	const char *note;
	size_t note_len;
	/* one cached tile per tile level: pointers stay valid for the txn */
	uint64_t cache_n[TILE_LEVELS];
	const uint8_t *cache_p[TILE_LEVELS];
	/* right-edge hashes: proofs to one size (a batch's answers, a
	 * label's history) compose them once */
	struct kt_edge_cache edge;
};

/* ---- small helpers for every file ---------------------------------------- */

static inline int
meta_put(MDB_txn *txn, MDB_dbi dbi, const char *k, const void *v, size_t len)
{
	MDB_val key = { strlen(k), (void *)k };
	MDB_val val = { len, (void *)v };

	return mdb_put(txn, dbi, &key, &val, 0);
}

static inline int
meta_get(MDB_txn *txn, MDB_dbi dbi, const char *k, MDB_val *val)
{
	MDB_val key = { strlen(k), (void *)k };

	return mdb_get(txn, dbi, &key, val);
}

static inline int
val_is(const MDB_val *v, const char *s)
{
	size_t n = strlen(s);

	return v->mv_size == n && memcmp(v->mv_data, s, n) == 0;
}

/* Hash equality (kt_hash_eq) for hashes held as bytes: the label hash at
 * the start of a label-index key, a label hash. Copied first, as LMDB's
 * bytes have no alignment or type. */
static inline int
hash_bytes_eq(const uint8_t *a, const uint8_t *b)
{
	struct kt_hash x, y;

	memcpy(x.b, a, KT_HASH_LEN);
	memcpy(y.b, b, KT_HASH_LEN);
	return kt_hash_eq(&x, &y);
}

/*
 * 1 if the filesystem of the data file has (almost) no space left. LMDB
 * 0.9 reports a short write(2), which is what a write that fills the disk
 * returns, as EIO: a failed commit with the disk full after it was most
 * likely for lack of space.
 */
int kt_env_disk_full(struct kt_store *s);
/* 1 when the data file's file system has room again for writes (well
 * above what kt_env_disk_full counts as full). */
int kt_env_disk_room(struct kt_store *s);

/*
 * Maps an LMDB failure of a write for lack of space: a full map that may
 * still grow is KT_ERR_BUSY (grow and retry: w->full); one at max_bytes,
 * or a full disk (ENOSPC, EDQUOT: what a failed write(2) returns, which
 * LMDB passes on), is KT_ERR_FULL and marks the store out of space. Any
 * other code is KT_ERR_IO.
 */
static inline kt_err
wspace(struct kt_store_txn *w, int rc)
{
	struct kt_store *s = w->s;

	if (rc == MDB_MAP_FULL) {
		w->full = 1;
		if (s->max_bytes == 0 || s->mapsize < s->max_bytes)
			return KT_ERR_BUSY;
	} else if (rc != ENOSPC && rc != EDQUOT &&
	    !(rc == EIO && kt_env_disk_full(s))) {
		return KT_ERR_IO;
	}
	atomic_store(&s->nospace,
	    rc == MDB_MAP_FULL ? KT_NOSPACE_CAP : KT_NOSPACE_DISK);
	return KT_ERR_FULL;
}

/* Records an LMDB failure on the write transaction (its message in werr)
 * and maps it as wspace does. */
static inline kt_err
wfail(struct kt_store_txn *w, int rc, const char *what)
{
	w->failed = 1;
	kt_msg(w->s->werr, sizeof(w->s->werr), "%s: %s", what,
	    mdb_strerror(rc));
	return wspace(w, rc);
}

/* ---- store_index.c (calls store_mem.c, store_read.c, store_tile.c) ------ */

/* kt_store_write_append's two index steps for an update: refuse a version
 * that exists for its map index (KT_ERR_CONFLICT, nothing changed), then
 * record the appended update (label and leaf-hash records). A map head gets
 * only its leaf-hash record (kt_idx_add_leaf). */
KT_MUST_CHECK kt_err kt_idx_check_version(struct kt_store_txn *w,
    const struct kt_hash *mi, uint64_t version);
KT_MUST_CHECK kt_err kt_idx_add(struct kt_store_txn *w, uint64_t version,
    const struct kt_hash *leaf, uint64_t index);
KT_MUST_CHECK kt_err kt_idx_add_leaf(struct kt_store_txn *w,
    const struct kt_hash *leaf, uint64_t index);
/* At commit: sweeps (in the transaction), then, just before LMDB's
 * commit, publishes the records to readers; unpublish after a failure
 * (it also discards). At abort before publishing: discard, which drops
 * the transaction's records (readers never saw them). */
KT_MUST_CHECK kt_err kt_idx_sweep(struct kt_store_txn *w);
KT_MUST_CHECK kt_err kt_idx_publish(struct kt_store_txn *w);
void kt_idx_unpublish(struct kt_store_txn *w);
void kt_idx_discard(struct kt_store_txn *w);

/* ---- store_mem.c (calls store_read.c) ------------------------------------ */

/* Empty indexes in memory (no I/O); kt_mem_free frees them (and the
 * writer's sweep scratch). */
void kt_mem_init(struct kt_store *s);
void kt_mem_free(struct kt_store *s);
/* At open: the waiting records and (the writer's) label filter, from the
 * database; a reader store also notes the entries it saw (s->seen). */
KT_MUST_CHECK kt_err kt_mem_load(struct kt_store *s, char *err, size_t errlen);
/* Watermarks first..first+n-1 of the "swept" meta record in txn into wm
 * (all 0 before the first sweep). An LMDB code (MDB_CORRUPTED for a bad
 * value). */
KT_MUST_CHECK int kt_mem_read_swept(MDB_txn *txn, MDB_dbi meta, unsigned first,
    uint64_t *wm, unsigned n);
/* Under s->mlock (exclusive): drops a slice's records below `below` (a
 * sweep put them in LMDB) and raises its floor; moves the scratch records
 * (s->tlab, s->tleaf) in, KT_ERR_NOMEM part way. */
void kt_mem_drop_slice(struct kt_store *s, unsigned sl, uint64_t below);
KT_MUST_CHECK kt_err kt_mem_merge(struct kt_store *s);
/* Empties the scratch records. */
void kt_mem_drop_scratch(struct kt_store *s);
/* A reader store: makes memory hold the index records of every entry of
 * r's snapshot (reads the entries it has not seen). KT_ERR_IO,
 * KT_ERR_NOMEM, KT_ERR_INTERNAL for an entry that does not decode. */
KT_MUST_CHECK kt_err kt_mem_follow(struct kt_store_read *r);

/* ---- store_read.c (calls store_tile.c, store_env.c) ---------------------- */

/* No private functions: store_index.c calls store.h's kt_store_read_entry. */

/* ---- store_tile.c (calls no store file) ---------------------------------- */

/* The stored tile n of tile level `level` (TILE_BYTES, borrowed from txn).
 * KT_ERR_NOT_FOUND, KT_ERR_IO, KT_ERR_INTERNAL for a bad size. */
KT_MUST_CHECK kt_err kt_tiles_get(MDB_txn *txn, MDB_dbi dbi, unsigned level,
    uint64_t n, const uint8_t **p);
/* kt_node_fn over a read snapshot (ctx: struct kt_store_read *): one tile
 * read, cached per tile level, no hashing. */
KT_MUST_CHECK kt_err kt_tiles_read_node(void *ctx, unsigned level, uint64_t i,
    struct kt_hash *out);
/* kt_node_fn for the writer (ctx: struct kt_store_txn *): the rightmost
 * tile of each level from memory, full tiles from the transaction. */
KT_MUST_CHECK kt_err kt_tiles_write_node(void *ctx, unsigned level, uint64_t i,
    struct kt_hash *out);
/* Loads the writer's state (size, rightmost tile of every level) from the
 * committed database in txn. */
KT_MUST_CHECK kt_err kt_tiles_load(struct kt_store *s, MDB_txn *txn);
/* Appends a leaf hash to the writer's tiles (full tiles are written). */
KT_MUST_CHECK kt_err kt_tiles_push(struct kt_store_txn *w,
    const struct kt_hash *leaf);
/* At commit: writes the partial tiles the transaction changed; once LMDB
 * committed, kt_tiles_committed marks them clean. */
KT_MUST_CHECK kt_err kt_tiles_flush(struct kt_store_txn *w);
void kt_tiles_committed(struct kt_store *s);

/* ---- store_env.c (calls no store file) ----------------------------------- */

/*
 * Begins a transaction (flags 0 or MDB_RDONLY) inside the resize gate,
 * adopting a map size another process set (MDB_MAP_RESIZED) on the way.
 * On success the caller is inside the gate until kt_env_leave, after its
 * transaction ended; on failure it is not. Returns an LMDB code.
 */
KT_MUST_CHECK int
kt_env_begin(struct kt_store *s, unsigned flags, MDB_txn **txn);
void kt_env_leave(struct kt_store *s);
/* Sets the map size (0: adopt the size another process set) once no
 * transaction is open in this process: the writer with no write
 * transaction open, or kt_env_begin (a reader store too). An LMDB code. */
int kt_env_resize(struct kt_store *s, size_t size);
/* Makes every commit so far durable (fdatasync of LMDB's data file), then
 * lets readers see checkpoints up to size (UINT64_MAX: the last one). */
KT_MUST_CHECK kt_err kt_env_sync(struct kt_store *s, uint64_t size);

#endif /* KT_LOGSERVER_STORE_INTERNAL_H */
