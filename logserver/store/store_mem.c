/*
 * store_mem.c: the index records that wait in memory (store_index.c says
 * why): loading them at open, the writer's Bloom filter of the labels in
 * LMDB, moving a batch's records in, and, for a reader store beside a
 * writer in another process (kt_store_open_reader), rebuilding the
 * writer's records itself as new commits show up (kt_mem_follow).
 *
 * The records sit in s->mlab and s->mleaf under s->mlock; s->tlab and
 * s->tleaf are scratch (the writer's transaction's records, or a
 * follow's) that kt_mem_merge moves in.
 */
#include <stdlib.h>
#include <string.h>

#include "kt/bytes.h"
#include "kt/leaf.h"
#include "store/internal.h"

/* ---- open: load --------------------------------------------------------- */

/* A read-write lock that prefers the writer, so that a stream of readers
 * cannot hold the writer's (short, in-memory) updates off. */
static void
mlock_init(pthread_rwlock_t *l)
{
#ifdef PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(l, &a);
	pthread_rwlockattr_destroy(&a);
#else
	pthread_rwlock_init(l, NULL);
#endif
}

/* Watermark i of a transaction: i = 0..SLICES-1 into wm[0..n). All 0
 * before the first sweep. An LMDB code (MDB_CORRUPTED for a bad value). */
int
kt_mem_read_swept(MDB_txn *txn, MDB_dbi meta, unsigned first, uint64_t *wm,
    unsigned n)
{
	MDB_val v;
	int rc = meta_get(txn, meta, "swept", &v);

	if (rc == MDB_NOTFOUND) {
		memset(wm, 0, n * sizeof(wm[0]));
		return 0;
	}
	if (rc != 0)
		return rc;
	if (v.mv_size != SWEPT_BYTES)
		return MDB_CORRUPTED;
	for (unsigned i = 0; i < n; i++)
		wm[i] =
		    kt_get_be64((const uint8_t *)v.mv_data + 8 * (first + i));
	return 0;
}

/*
 * Adds the index records of entry i (encoded leaf[0..n)) to lab and leaf:
 * with wm, only those at or above their slice's watermark. *update: 1 if it
 * is an update. KT_ERR_MALFORMED for a leaf that does not decode.
 */
static kt_err
index_leaf(struct kt_recent *lab, struct kt_recent *leaf, const uint8_t *buf,
    size_t n, uint64_t i, const uint64_t *wm, int *update)
{
	struct kt_update u;
	struct kt_hash h;
	uint8_t kind;
	kt_err e;

	*update = 0;
	if (kt_leaf_kind(buf, n, &kind) != KT_OK ||
	    (kind == KT_LEAF_UPDATE && kt_update_decode(buf, n, &u) != KT_OK))
		return KT_ERR_MALFORMED;
	if (kind == KT_LEAF_UPDATE && (wm == NULL || i >= wm[u.index.b[0]])) {
		e = kt_recent_add(lab, u.index.b, u.version, i);
		if (e != KT_OK)
			return e;
		*update = 1;
	}
	kt_hash_leaf(buf, n, &h);
	if (wm == NULL || i >= wm[h.b[0]])
		return kt_recent_add(leaf, h.b, 0, i);
	return KT_OK;
}

/*
 * Builds the in-memory index records at open: those of every entry at or
 * above its slice's watermark (at most a few hundred thousand entries, the
 * newest ones, read in order). A reader store then holds the records of
 * every entry its transaction saw (s->seen).
 */
static kt_err
mem_load(struct kt_store *s, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	MDB_stat st;
	uint8_t k[8];
	uint64_t from = UINT64_MAX, i;
	int rc, update;
	kt_err ke = KT_ERR_IO;

	s->pending = 0;
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = kt_mem_read_swept(txn, s->meta, 0, s->wm, SLICES);
	if (rc != 0)
		goto out;
	for (unsigned j = 0; j < SLICES; j++) {
		s->floor[j] = s->wm[j];
		if (s->wm[j] < from) {
			from = s->wm[j];
			s->next_slice = j; /* the oldest slice is swept first */
		}
	}
	if ((rc = mdb_stat(txn, s->entries, &st)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->entries, &c)) != 0)
		goto out;
	kt_put_be64(k, from);
	key.mv_size = 8;
	key.mv_data = k;
	for (rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		if (key.mv_size != 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		i = kt_get_be64(key.mv_data);
		ke = index_leaf(&s->mlab, &s->mleaf, val.mv_data, val.mv_size,
		    i, s->wm, &update);
		if (ke == KT_ERR_MALFORMED) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (ke != KT_OK)
			goto out;
		s->pending += (unsigned)update;
	}
	atomic_store(&s->seen, st.ms_entries);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	ke = rc == 0 ? KT_OK : KT_ERR_IO;
out:
	if (ke != KT_OK)
		kt_msg(err, errlen, "loading recent index records: %s",
		    rc != 0 ? mdb_strerror(rc) : kt_strerror(ke));
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return ke;
}

/* Fills the writer's Bloom filter with every label in the labels database
 * (one ordered scan; versions of a label are adjacent). */
static kt_err
bloom_load(struct kt_store *s, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	uint8_t prev[KT_HASH_LEN];
	int rc, have = 0;
	kt_err e = KT_OK;

	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc == 0)
		rc = mdb_cursor_open(txn, s->labels, &c);
	for (rc = rc == 0 ? mdb_cursor_get(c, &key, &val, MDB_FIRST) : rc;
	     rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		if (key.mv_size != LABEL_KEY_LEN) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (have && hash_bytes_eq(prev, key.mv_data))
			continue;
		memcpy(prev, key.mv_data, KT_HASH_LEN);
		have = 1;
		e = kt_bloom_add(&s->bloom, prev);
		if (e != KT_OK)
			break;
	}
	if (e == KT_OK && rc != MDB_NOTFOUND)
		e = KT_ERR_IO;
	if (e != KT_OK)
		kt_msg(err, errlen, "loading the label filter: %s",
		    rc != 0 && rc != MDB_NOTFOUND ? mdb_strerror(rc)
		                                  : kt_strerror(e));
	if (c != NULL)
		mdb_cursor_close(c);
	if (txn != NULL)
		mdb_txn_abort(txn);
	return e;
}

/* ---- a reader store follows the writer ---------------------------------- */

void
kt_mem_drop_slice(struct kt_store *s, unsigned sl, uint64_t below)
{
	(void)kt_recent_drop_below(&s->mlab, sl, below);
	(void)kt_recent_drop_below(&s->mleaf, sl, below);
	if (s->floor[sl] < below)
		s->floor[sl] = below;
}

void
kt_mem_drop_scratch(struct kt_store *s)
{
	kt_recent_drop_from(&s->tlab, 0);
	kt_recent_drop_from(&s->tleaf, 0);
}

/*
 * A reader store (kt_store_open_reader): the writer, another process,
 * keeps its newest index records in its own memory. Before a lookup in a
 * snapshot that shows entries this memory has not seen, their records are
 * read from the snapshot's entries (one batch or so: the writer's commits
 * since the last lookup) and published; the records of slices the writer
 * swept since are dropped one sweep late, as the writer drops its own
 * (kt_idx_publish), so that lookups in older snapshots rarely scan
 * entries. One thread at a time; tlab and tleaf, the writer's, are free.
 */
kt_err
kt_mem_follow(struct kt_store_read *r)
{
	struct kt_store *s = r->s;
	uint64_t wm[SLICES], from;
	const uint8_t *buf;
	size_t n;
	int rc, update;
	kt_err e = KT_OK;

	pthread_mutex_lock(&s->follow_mu);
	from = atomic_load(&s->seen);
	if (from >= r->size)
		goto out;
	rc = kt_mem_read_swept(r->txn, s->meta, 0, wm, SLICES);
	if (rc != 0)
		e = rc == MDB_CORRUPTED ? KT_ERR_INTERNAL : KT_ERR_IO;
	for (uint64_t i = from; i < r->size && e == KT_OK; i++) {
		e = kt_store_read_entry(r, i, &buf, &n);
		if (e == KT_OK)
			e = index_leaf(&s->tlab, &s->tleaf, buf, n, i, NULL,
			    &update);
	}
	if (e != KT_OK) {
		kt_mem_drop_scratch(s);
		e = e == KT_ERR_MALFORMED ? KT_ERR_INTERNAL : e;
		goto out;
	}
	pthread_rwlock_wrlock(&s->mlock);
	for (unsigned sl = 0; sl < SLICES; sl++) {
		if (wm[sl] <= s->wm[sl])
			continue;
		kt_mem_drop_slice(s, sl, s->wm[sl]);
		s->wm[sl] = wm[sl];
	}
	e = kt_mem_merge(s);
	if (e != KT_OK) {
		/* Each slice stays in index order: what got in goes. */
		kt_recent_drop_from(&s->mlab, from);
		kt_recent_drop_from(&s->mleaf, from);
	}
	pthread_rwlock_unlock(&s->mlock);
	if (e == KT_OK)
		atomic_store(&s->seen, r->size);
	else
		kt_mem_drop_scratch(s);
out:
	pthread_mutex_unlock(&s->follow_mu);
	return e;
}

/* Moves every record of `from` to the end of its slice in `to`. */
static kt_err
merge_recent(struct kt_recent *to, struct kt_recent *from)
{
	for (unsigned sl = 0; sl < SLICES; sl++) {
		for (uint32_t i = from->head[sl]; i != UINT32_MAX;
		     i = from->pool[i].snext) {
			const struct kt_recent_node *n = &from->pool[i];

			if (kt_recent_add(to, n->key, n->version, n->index) !=
			    KT_OK)
				return KT_ERR_NOMEM;
		}
	}
	kt_recent_drop_from(from, 0);
	return KT_OK;
}

kt_err
kt_mem_merge(struct kt_store *s)
{
	kt_err e = merge_recent(&s->mlab, &s->tlab);

	return e == KT_OK ? merge_recent(&s->mleaf, &s->tleaf) : e;
}

void
kt_mem_init(struct kt_store *s)
{
	mlock_init(&s->mlock);
	kt_recent_init(&s->mlab, KT_HASH_LEN);
	kt_recent_init(&s->mleaf, LEAF_KEY_LEN);
	kt_recent_init(&s->tlab, KT_HASH_LEN);
	kt_recent_init(&s->tleaf, LEAF_KEY_LEN);
	kt_bloom_init(&s->bloom);
}

void
kt_mem_free(struct kt_store *s)
{
	pthread_rwlock_destroy(&s->mlock);
	kt_recent_free(&s->mlab);
	kt_recent_free(&s->mleaf);
	kt_recent_free(&s->tlab);
	kt_recent_free(&s->tleaf);
	kt_bloom_free(&s->bloom);
	free(s->sw);
	s->sw = NULL;
	s->sw_cap = 0;
}

kt_err
kt_mem_load(struct kt_store *s, char *err, size_t errlen)
{
	kt_err e = mem_load(s, err, errlen);

	/* The filter serves only the writer's label lookups. */
	return e == KT_OK && !s->reader ? bloom_load(s, err, errlen) : e;
}
