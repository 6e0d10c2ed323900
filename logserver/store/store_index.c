/*
 * store_index.c: the store's two indexes, label -> versions (keyed by the
 * label's map index, VRF(label), || u64 BE version -> u64 BE leaf index of
 * the update) and leaf hash -> index (8 bytes of the hash -> u64 BE leaf
 * index, DUPSORT). The map index is what an update leaf carries, so the
 * index never needs the label itself, and the writer keeps a label's
 * versions apart from the map (whose leaf holds only the latest).
 *
 * Both take random keys: written straight into B-trees, every new entry
 * would dirty about one 4 KiB page of each (copied, written and synced at
 * every commit). So they are written late and in bulk. Index records are
 * split into 256 slices by the first byte of their key (the map index,
 * the leaf hash), and each slice has a watermark W[s] (meta
 * "swept"): the records of entries below W[s] are in LMDB, those of newer
 * entries are only in memory (recent.c), rebuilt at open from the entries
 * themselves (which are appended in order, so a commit writes them on a
 * page or two). While more than ~1/16 of the entries (at least 1 Ki, at
 * most 256 Ki) are only in memory, a commit moves the next slice, in turn,
 * into LMDB in key order and raises its watermark to the new size. A
 * slice's records thus reach its part of the B-tree together, several per
 * page, and the work per commit stays proportional to the batch (no merge
 * stalls).
 *
 * A reader looks in its snapshot's B-trees and in memory (records of
 * entries below its snapshot's size). The writer adds a batch's records to
 * memory just before the commit (readers of older snapshots skip them by
 * index) and drops a slice's old records only after a later sweep of that
 * slice, under a read-write lock that is never held across I/O. A reader
 * whose snapshot is older than the memory's floor for a slice (two sweeps
 * of it ran during its request) reads the missing range from its own
 * snapshot's entries instead: slower, never wrong.
 *
 * A Bloom filter of the labels in LMDB (bloom.c, writer only) spares most
 * new labels the descent of the label B-tree. ops/bench/store_bench.md has
 * the measurements behind all this.
 */
#include <stdlib.h>
#include <string.h>

#include "kt/bytes.h"
#include "kt/leaf.h"
#include "store/internal.h"

/* lh || be64(version) */
static void
label_key(uint8_t key[LABEL_KEY_LEN], const uint8_t lh[KT_HASH_LEN],
    uint64_t version)
{
	memcpy(key, lh, KT_HASH_LEN);
	kt_put_be64(key + KT_HASH_LEN, version);
}

/* ---- lookups (read or write transaction) -------------------------------- */

/* Latest version of a label in the label index via cursor c: the last key
 * with prefix lh (version 2^64-1 is never reached). */
static int
latest_version(MDB_cursor *c, const uint8_t lh[KT_HASH_LEN], uint64_t limit,
    uint64_t *version, uint64_t *index)
{
	uint8_t k[LABEL_KEY_LEN];
	MDB_val key, val;
	int rc;

	*version = 0;
	*index = KT_NO_PREV;
	label_key(k, lh, UINT64_MAX);
	key.mv_size = sizeof(k);
	key.mv_data = k;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
	else if (rc == 0)
		rc = mdb_cursor_get(c, &key, &val, MDB_PREV);
	/* Versions of entries at or past limit (a snapshot that sees a
	 * commit not yet durable, see kt_env_sync) do not count. */
	for (; rc == 0; rc = mdb_cursor_get(c, &key, &val, MDB_PREV)) {
		if (key.mv_size != LABEL_KEY_LEN ||
		    !hash_bytes_eq(key.mv_data, lh))
			return 0;
		if (val.mv_size != 8)
			return MDB_CORRUPTED;
		if (kt_get_be64(val.mv_data) < limit)
			break;
	}
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	*version = kt_get_be64((uint8_t *)key.mv_data + KT_HASH_LEN);
	*index = kt_get_be64(val.mv_data);
	return 0;
}

/*
 * A search among in-memory records: those below `limit` (the snapshot's
 * size) count; want = 0 looks for the latest version, else for that one.
 */
struct pick {
	uint64_t limit, want;
	uint64_t version, index;
	int found;
};

static void
pick_take(struct pick *p, uint64_t version, uint64_t index)
{
	if (index >= p->limit)
		return;
	if (p->want == 0 ? version > p->version : version == p->want) {
		p->version = version;
		p->index = index;
		p->found = 1;
	}
}

static int
pick_fn(void *ctx, const struct kt_recent_node *n)
{
	pick_take(ctx, n->version, n->index);
	return 0;
}

/* Candidates for a leaf hash: 8 bytes of it select, the tile confirms. */
struct leafpick {
	struct kt_store_read *r;
	const struct kt_hash *want;
	uint64_t index;
	kt_err e; /* KT_ERR_NOT_FOUND until found */
};

static int
leaf_try(struct leafpick *p, uint64_t idx)
{
	struct kt_hash h;
	kt_err e;

	if (idx >= p->r->size)
		return 0;
	e = kt_tiles_read_node(p->r, 0, idx, &h);
	if (e != KT_OK) {
		p->e = e;
		return 1;
	}
	if (!kt_hash_eq(&h, p->want))
		return 0;
	p->index = idx;
	p->e = KT_OK;
	return 1;
}

/* Candidate indexes from memory, collected under the lock and checked
 * against the tiles after it (reading a tile may wait for the disk). */
#define LEAF_CANDIDATES 64

struct leafcand {
	uint64_t limit;
	uint64_t idx[LEAF_CANDIDATES];
	size_t n;
	int overflow;
};

static int
leaf_fn(void *ctx, const struct kt_recent_node *nd)
{
	struct leafcand *c = ctx;

	if (nd->index >= c->limit)
		return 0;
	if (c->n == LEAF_CANDIDATES) {
		c->overflow = 1; /* 64 leaves sharing 8 hash bytes: never */
		return 1;
	}
	c->idx[c->n++] = nd->index;
	return 0;
}

/*
 * The in-memory records of a slice for this snapshot: fn over the records
 * with key; and [*gap_from, *gap_to), the range of entries the snapshot needs
 * that memory no longer holds (empty unless two sweeps of the slice ran
 * since the snapshot began; the caller then reads those entries).
 */
static kt_err
mem_lookup(struct kt_store_read *r, const struct kt_recent *m,
    const uint8_t *key, kt_recent_fn fn, void *ctx, uint64_t *gap_from,
    uint64_t *gap_to)
{
	uint64_t wm, fl;
	int rc;
	kt_err e;

	*gap_from = *gap_to = 0;
	if (r->s->reader && atomic_load(&r->s->seen) < r->size &&
	    (e = kt_mem_follow(r)) != KT_OK)
		return e;
	rc = kt_mem_read_swept(r->txn, r->s->meta, key[0], &wm, 1);
	if (rc != 0)
		return rc == MDB_CORRUPTED ? KT_ERR_INTERNAL : KT_ERR_IO;
	pthread_rwlock_rdlock(&r->s->mlock);
	kt_recent_find(m, key, fn, ctx);
	fl = r->s->floor[key[0]];
	pthread_rwlock_unlock(&r->s->mlock);
	if (fl > wm) {
		*gap_from = wm;
		*gap_to = fl < r->size ? fl : r->size;
	}
	return KT_OK;
}

kt_err
kt_store_find_leaf(struct kt_store_read *r, const struct kt_hash *leaf_hash,
    uint64_t *index)
{
	MDB_cursor *c = NULL;
	MDB_val key = { LEAF_KEY_LEN, (void *)leaf_hash->b }, val;
	struct leafpick p = { r, leaf_hash, 0, KT_ERR_NOT_FOUND };
	uint64_t from, to;
	int rc;
	kt_err e;

	if (mdb_cursor_open(r->txn, r->s->leafhash, &c) != 0)
		return KT_ERR_IO;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_KEY);
	while (rc == 0) {
		if (val.mv_size != 8) {
			p.e = KT_ERR_INTERNAL;
			break;
		}
		if (leaf_try(&p, kt_get_be64(val.mv_data)))
			break;
		rc = mdb_cursor_get(c, &key, &val, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return KT_ERR_IO;
	if (p.e != KT_ERR_NOT_FOUND)
		goto done;
	{
		struct leafcand c;

		memset(&c, 0, sizeof(c));
		c.limit = r->size;
		e = mem_lookup(r, &r->s->mleaf, leaf_hash->b, leaf_fn, &c,
		    &from, &to);
		if (e != KT_OK)
			return e;
		if (c.overflow)
			return KT_ERR_INTERNAL;
		for (size_t i = 0; i < c.n && !leaf_try(&p, c.idx[i]); i++)
			;
	}
	for (uint64_t i = from; i < to && p.e == KT_ERR_NOT_FOUND; i++)
		(void)leaf_try(&p, i);
done:
	if (p.e == KT_OK)
		*index = p.index;
	return p.e;
}

/* Reads entries [from, to) of the snapshot for updates of a map index:
 * the rare path when memory moved on (mem_lookup). */
static kt_err
scan_label(struct kt_store_read *r, uint64_t from, uint64_t to,
    const struct kt_hash *index, struct pick *p)
{
	struct kt_update u;
	const uint8_t *buf;
	size_t n;
	uint8_t kind;
	kt_err ke;

	for (uint64_t i = from; i < to; i++) {
		ke = kt_store_read_entry(r, i, &buf, &n);
		if (ke != KT_OK)
			return ke;
		if (kt_leaf_kind(buf, n, &kind) != KT_OK)
			return KT_ERR_INTERNAL;
		if (kind != KT_LEAF_UPDATE)
			continue;
		if (kt_update_decode(buf, n, &u) != KT_OK)
			return KT_ERR_INTERNAL;
		if (kt_hash_eq(&u.index, index))
			pick_take(p, u.version, i);
	}
	return KT_OK;
}

/* The latest version (want 0) or version `want` of a label in the
 * snapshot: its index in LMDB, then memory. */
static kt_err
find_label(struct kt_store_read *r, const struct kt_hash *index, uint64_t want,
    struct pick *p)
{
	MDB_cursor *c = NULL;
	const uint8_t *lh = index->b;
	uint64_t from, to, v, idx;
	int rc;
	kt_err e;

	memset(p, 0, sizeof(*p));
	p->limit = r->size;
	p->want = want;
	if (want == 0) {
		if (mdb_cursor_open(r->txn, r->s->labels, &c) != 0)
			return KT_ERR_IO;
		rc = latest_version(c, lh, r->size, &v, &idx);
		mdb_cursor_close(c);
		if (rc != 0)
			return KT_ERR_IO;
		if (v > 0)
			pick_take(p, v, idx);
	} else {
		uint8_t k[LABEL_KEY_LEN];
		MDB_val key = { sizeof(k), k }, val;

		label_key(k, lh, want);
		rc = mdb_get(r->txn, r->s->labels, &key, &val);
		if (rc == 0) {
			if (val.mv_size != 8)
				return KT_ERR_INTERNAL;
			pick_take(p, want, kt_get_be64(val.mv_data));
			return KT_OK;
		}
		if (rc != MDB_NOTFOUND)
			return KT_ERR_IO;
	}
	e = mem_lookup(r, &r->s->mlab, lh, pick_fn, p, &from, &to);
	if (e == KT_OK && from < to)
		e = scan_label(r, from, to, index, p);
	return e;
}

kt_err
kt_store_label_count(struct kt_store_read *r, const struct kt_hash *index,
    uint64_t *count)
{
	struct pick p;
	kt_err e = find_label(r, index, 0, &p);

	*count = e == KT_OK ? p.version : 0;
	return e;
}

kt_err
kt_store_label_version(struct kt_store_read *r, const struct kt_hash *mi,
    uint64_t version, uint64_t *index)
{
	struct pick p;
	kt_err e;

	if (version == 0)
		return KT_ERR_NOT_FOUND;
	e = find_label(r, mi, version, &p);
	if (e != KT_OK)
		return e;
	if (!p.found)
		return KT_ERR_NOT_FOUND;
	*index = p.index;
	return KT_OK;
}

/* ---- the writer --------------------------------------------------------- */

/* The latest version of the label with hash lh as the writer sees it:
 * LMDB (with this transaction's sweeps), committed memory, this
 * transaction's records. No lock: only this thread changes memory. */
static int
wlatest(struct kt_store_txn *w, const uint8_t lh[KT_HASH_LEN],
    uint64_t *version, uint64_t *index)
{
	struct pick p;
	uint64_t v, idx;
	int rc;

	memset(&p, 0, sizeof(p));
	p.limit = UINT64_MAX;
	/* Most new labels are ruled out without descending the B-tree. */
	if (kt_bloom_maybe(&w->s->bloom, lh)) {
		rc = latest_version(w->lcur, lh, UINT64_MAX, &v, &idx);
		if (rc != 0)
			return rc;
		if (v > 0)
			pick_take(&p, v, idx);
	}
	kt_recent_find(&w->s->mlab, lh, pick_fn, &p);
	kt_recent_find(&w->s->tlab, lh, pick_fn, &p);
	*version = p.version;
	*index = p.found ? p.index : KT_NO_PREV;
	return 0;
}

kt_err
kt_store_write_latest(struct kt_store_txn *w, const struct kt_hash *mi,
    uint64_t *version, uint64_t *index)
{
	int rc;

	*version = 0;
	*index = KT_NO_PREV;
	if (w->failed)
		return KT_ERR_INTERNAL;
	memcpy(w->last_lh, mi->b, KT_HASH_LEN);
	rc = wlatest(w, w->last_lh, version, index);
	if (rc != 0) {
		w->last_valid = 0;
		return wfail(w, rc, "label lookup");
	}
	/* kt_store_write_append of this label usually follows: keep it. */
	w->last_version = *version;
	w->last_index = *index;
	w->last_valid = 1;
	return KT_OK;
}

static int
sweeprec_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sweeprec)); /* key, then value */
}

/* Collects records into s->sw for a sweep. */
struct collect {
	struct kt_store_txn *w;
	size_t n;
	int label; /* label records (key lh || version), else leaf ones */
	int nomem;
};

static int
collect_fn(void *ctx, const struct kt_recent_node *nd)
{
	struct collect *c = ctx;
	struct kt_store *s = c->w->s;
	struct sweeprec *r;

	if (c->n == s->sw_cap) {
		size_t cap = s->sw_cap ? s->sw_cap * 2 : 4096;
		struct sweeprec *p = realloc(s->sw, cap * sizeof(*p));

		if (p == NULL) {
			c->nomem = 1;
			return 1;
		}
		s->sw = p;
		s->sw_cap = cap;
	}
	r = &s->sw[c->n++];
	memset(r->k, 0, sizeof(r->k));
	if (c->label)
		label_key(r->k, nd->key, nd->version);
	else
		memcpy(r->k, nd->key, LEAF_KEY_LEN);
	kt_put_be64(r->v, nd->index);
	return 0;
}

/* Writes the records of one slice not yet in LMDB (committed memory above
 * the watermark, and this transaction's) into dbi, sorted, through one
 * cursor. *moved: how many. */
static kt_err
sweep_db(struct kt_store_txn *w, unsigned slice, int label, size_t *moved)
{
	struct kt_store *s = w->s;
	struct collect c = { w, 0, label, 0 };
	MDB_cursor *cur = NULL;
	MDB_val key, val;
	int rc;

	kt_recent_slice(label ? &s->mlab : &s->mleaf, slice, w->wm[slice],
	    collect_fn, &c);
	if (!c.nomem)
		kt_recent_slice(label ? &s->tlab : &s->tleaf, slice, 0,
		    collect_fn, &c);
	if (c.nomem) {
		w->failed = 1;
		kt_msg(s->werr, sizeof(s->werr), "out of memory");
		return KT_ERR_NOMEM;
	}
	*moved = c.n;
	if (c.n == 0)
		return KT_OK;
	qsort(s->sw, c.n, sizeof(*s->sw), sweeprec_cmp);
	rc = mdb_cursor_open(w->txn, label ? s->labels : s->leafhash, &cur);
	if (rc != 0)
		return wfail(w, rc, "mdb_cursor_open(sweep)");
	for (size_t i = 0; i < c.n; i++) {
		key.mv_size = label ? LABEL_KEY_LEN : LEAF_KEY_LEN;
		key.mv_data = s->sw[i].k;
		val.mv_size = 8;
		val.mv_data = s->sw[i].v;
		rc = mdb_cursor_put(cur, &key, &val, 0);
		if (rc != 0) {
			mdb_cursor_close(cur);
			return wfail(w, rc,
			    label ? "mdb_put(label)" : "mdb_put(leafhash)");
		}
		/* Every label in the database is in the filter (a commit
		 * that then fails leaves a harmless extra "maybe"). */
		if (label &&
		    (i == 0 || !hash_bytes_eq(s->sw[i].k, s->sw[i - 1].k)) &&
		    !kt_bloom_maybe(&s->bloom, s->sw[i].k) &&
		    kt_bloom_add(&s->bloom, s->sw[i].k) != KT_OK) {
			mdb_cursor_close(cur);
			w->failed = 1;
			kt_msg(s->werr, sizeof(s->werr), "out of memory");
			return KT_ERR_NOMEM;
		}
	}
	mdb_cursor_close(cur);
	return KT_OK;
}

/*
 * Sweeps slices, in turn, while more entries than the target wait in
 * memory: each sweep moves one slice's label and leaf records into LMDB
 * and raises its watermark to this transaction's size.
 */
kt_err
kt_idx_sweep(struct kt_store_txn *w)
{
	struct kt_store *s = w->s;
	uint64_t target = w->size / RECENT_DIV;
	uint8_t buf[SWEPT_BYTES];
	size_t moved, leaves;
	unsigned k = 0;
	MDB_val key = { 5, (void *)"swept" }, val = { sizeof(buf), buf };
	int rc;
	kt_err e;

	if (target < RECENT_MIN)
		target = RECENT_MIN;
	if (target > RECENT_MAX)
		target = RECENT_MAX;
	for (; k < SLICES && w->pending > target; k++) {
		unsigned slice = s->next_slice;

		e = sweep_db(w, slice, 1, &moved);
		if (e == KT_OK)
			e = sweep_db(w, slice, 0, &leaves);
		if (e != KT_OK)
			return e;
		w->swept[slice] = 1;
		w->old_wm[slice] = w->wm[slice];
		w->wm[slice] = w->size;
		w->pending -= moved < w->pending ? moved : w->pending;
		s->next_slice = (slice + 1) % SLICES;
	}
	if (k == 0)
		return KT_OK;
	for (unsigned i = 0; i < SLICES; i++)
		kt_put_be64(buf + 8 * i, w->wm[i]);
	rc = mdb_put(w->txn, s->meta, &key, &val, 0);
	if (rc != 0)
		return wfail(w, rc, "mdb_put(swept)");
	return KT_OK;
}

/*
 * Just before the commit, under the memory lock: drops the records of the
 * slices this transaction swept that an earlier sweep already put in
 * LMDB (below their old watermark, committed), and adds this
 * transaction's records (readers of older snapshots skip them by index).
 */
kt_err
kt_idx_publish(struct kt_store_txn *w)
{
	struct kt_store *s = w->s;
	kt_err e;

	pthread_rwlock_wrlock(&s->mlock);
	for (unsigned sl = 0; sl < SLICES; sl++)
		if (w->swept[sl])
			kt_mem_drop_slice(s, sl, w->old_wm[sl]);
	e = kt_mem_merge(s);
	pthread_rwlock_unlock(&s->mlock);
	return e;
}

/* After a failed commit: memory forgets this transaction's records. */
void
kt_idx_unpublish(struct kt_store_txn *w)
{
	struct kt_store *s = w->s;

	pthread_rwlock_wrlock(&s->mlock);
	kt_recent_drop_from(&s->mlab, w->size0);
	kt_recent_drop_from(&s->mleaf, w->size0);
	pthread_rwlock_unlock(&s->mlock);
	kt_idx_discard(w);
}

void
kt_idx_discard(struct kt_store_txn *w)
{
	kt_mem_drop_scratch(w->s);
}

kt_err
kt_idx_check_version(struct kt_store_txn *w, const struct kt_hash *mi,
    uint64_t version)
{
	int rc;

	if (!w->last_valid || !hash_bytes_eq(w->last_lh, mi->b)) {
		memcpy(w->last_lh, mi->b, KT_HASH_LEN);
		rc = wlatest(w, w->last_lh, &w->last_version, &w->last_index);
		if (rc != 0) {
			w->last_valid = 0;
			return wfail(w, rc, "label lookup");
		}
		w->last_valid = 1;
	}
	return version <= w->last_version ? KT_ERR_CONFLICT : KT_OK;
}

kt_err
kt_idx_add(struct kt_store_txn *w, uint64_t version, const struct kt_hash *leaf,
    uint64_t index)
{
	/* The label is the one kt_idx_check_version just saw. */
	if (kt_recent_add(&w->s->tlab, w->last_lh, version, index) != KT_OK ||
	    kt_recent_add(&w->s->tleaf, leaf->b, 0, index) != KT_OK) {
		w->failed = 1;
		kt_msg(w->s->werr, sizeof(w->s->werr), "out of memory");
		return KT_ERR_NOMEM;
	}
	w->last_version = version;
	w->last_index = index;
	w->pending++;
	return KT_OK;
}

kt_err
kt_idx_add_leaf(struct kt_store_txn *w, const struct kt_hash *leaf,
    uint64_t index)
{
	if (kt_recent_add(&w->s->tleaf, leaf->b, 0, index) != KT_OK) {
		w->failed = 1;
		kt_msg(w->s->werr, sizeof(w->s->werr), "out of memory");
		return KT_ERR_NOMEM;
	}
	return KT_OK;
}
