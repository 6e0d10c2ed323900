/*
 * store_impl.h: what the two halves of kt-logd's store share, private to
 * them: store.c (the LMDB environment, tiles, snapshots, commits) and
 * store_index.c (the label and leaf-hash indexes, whose newest records
 * wait in memory). The only files that include lmdb.h.
 */
#ifndef KT_LOGSERVER_STORE_IMPL_H
#define KT_LOGSERVER_STORE_IMPL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kt/entry.h"
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
	uint64_t index;   /* tile index N of the level's rightmost tile */
	unsigned width;   /* hashes filled in its row 0 (0..255) */
	int dirty;        /* changed since the last commit */
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
	MDB_cursor *lcur;  /* labels, kept open for the transaction */
	uint64_t wm[SLICES];       /* watermarks, as this transaction moves them */
	uint64_t old_wm[SLICES];   /* ... and before, for slices it swept */
	uint8_t swept[SLICES];
	uint64_t pending;  /* entries whose label record is not in LMDB */
	unsigned slice0;   /* s->next_slice at begin */
	/* the label of the last kt_store_write_latest, its hash and latest
	 * version: the append that usually follows needs them again */
	char last_label[KT_LABEL_MAX];
	size_t last_label_len;
	uint8_t last_lh[KT_HASH_LEN];
	uint64_t last_version, last_index;
	int last_valid;
	uint64_t size0;    /* size at begin */
	uint64_t size;
	uint64_t ckpt_size;
	int has_ckpt;
	int failed;
	int full;          /* failed with MDB_MAP_FULL */
};

struct kt_store {
	MDB_env *env;
	MDB_dbi meta, entries, tiles, labels, leafhash, ckpts;
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
	uint64_t wsize;              /* committed entries */
	struct wtile *wt;            /* [TILE_LEVELS] */
	struct kt_store_txn w;
	struct sweeprec *sw;         /* scratch for sweeps */
	size_t sw_cap;
	unsigned next_slice;         /* next slice to sweep */
	uint64_t wm[SLICES];         /* committed watermarks */
	uint64_t pending;            /* committed entries not yet swept */
	struct kt_recent tlab, tleaf; /* this transaction's new records */
	struct kt_bloom bloom;       /* label hashes in the labels database */

	/* Index records not yet in LMDB, shared with readers under mlock:
	 * the writer changes them (never across I/O), readers only look. */
	pthread_rwlock_t mlock;
	struct kt_recent mlab;       /* SHA-256(label) -> (version, index) */
	struct kt_recent mleaf;      /* leaf hash[0..8) -> index */
	uint64_t floor[SLICES];      /* memory holds every record >= floor */

	/* Readers see checkpoints up to this size: the commits that are
	 * durable (store_sync). */
	_Atomic uint64_t durable;

	/* The right-edge hashes of the newest tree size any proof asked for,
	 * shared by all snapshots: most proofs are to the latest size. */
	pthread_mutex_t edge_mu;
	struct kt_edge_cache edge;
	char werr[160];
	unsigned fail_commits;       /* test hook */
	unsigned fail_syncs;         /* test hook */
	_Atomic int broken;          /* a sync after a commit failed */
	int lockfd;                  /* flock: one server per folder */
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

/* ---- small helpers for both halves ------------------------------------- */

static inline void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

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

/* ---- store.c ------------------------------------------------------------- */

/* kt_node_fn over a read snapshot (ctx: struct kt_store_read *). */
kt_err kt_st_read_node(void *ctx, unsigned level, uint64_t i,
    struct kt_hash *out);
/* Records an LMDB failure on the write transaction and maps it. */
kt_err kt_st_wfail(struct kt_store_txn *w, int rc, const char *what);

/* ---- store_index.c ------------------------------------------------------- */

/* Empty indexes in memory (no I/O); kt_idx_free frees them. */
void kt_idx_init(struct kt_store *s);
void kt_idx_free(struct kt_store *s);
/* At open: the waiting records and the label filter, from the database. */
kt_err kt_idx_load(struct kt_store *s, char *err, size_t errlen);
/* kt_store_write_append's two index steps: refuse a version that exists
 * (KT_ERR_CONFLICT, nothing changed), then record the appended entry. */
kt_err kt_idx_check_version(struct kt_store_txn *w,
    const struct kt_entry *e);
kt_err kt_idx_add(struct kt_store_txn *w, uint64_t version,
    const struct kt_hash *leaf, uint64_t index);
/* At commit: sweeps (in the transaction), then, just before LMDB's
 * commit, publishes the records to readers; unpublish after a failure. */
kt_err kt_idx_sweep(struct kt_store_txn *w);
kt_err kt_idx_publish(struct kt_store_txn *w);
void kt_idx_unpublish(struct kt_store_txn *w);

#endif /* KT_LOGSERVER_STORE_IMPL_H */
