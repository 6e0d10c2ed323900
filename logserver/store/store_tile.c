/*
 * store_tile.c: the hash tiles (C2SP tlog-tiles, height 8), the node
 * functions that proofs read through, tile and entry-bundle reads for a
 * snapshot, and the writer's right edge.
 *
 * A tile of tile level L and index N stores not only its 256-hash row
 * (tree level 8L) but every node of the tile's internal levels: 256 + 128
 * + ... + 2 + 1 = 511 hashes, row k (tree level 8L+k) at offset
 * 512 - (512 >> k). So the hash of ANY perfect subtree (level, index) is
 * one tile read and no hashing, and an inclusion or consistency proof
 * reads O(log n / 8) tiles. 511 * 32 + 16 (LMDB page header) fits four
 * 4 KiB overflow pages exactly. The partial tile of each level is
 * rewritten by every batch that touches it, unused hashes zero. Because
 * the tree is append-only, a node that was complete at an older size has
 * the same hash in today's tiles, so proofs for any older size are served
 * from the current tiles.
 *
 * The writer keeps the rightmost (partial) tile of every level in memory
 * between transactions (it is also the tree's frontier), so a batch
 * writes each touched tile once, at commit.
 */
#include <string.h>

#include "kt/bytes.h"
#include "kt/merkle.h"
#include "kt/tile.h"
#include "store/internal.h"

/* ---- tile geometry and lookups (read or write transaction) --------------- */

static void
tile_key(uint8_t key[TILE_KEY_LEN], unsigned level, uint64_t n)
{
	key[0] = (uint8_t)level;
	kt_put_be64(key + 1, n);
}

/*
 * Number of hashes in tile n of `level` for a tree of `size` leaves: 256
 * full, 1..255 partial, 0 none (tlog-tiles: floor(size / 256^level) mod 256
 * for the rightmost one).
 */
static unsigned
tile_width(uint64_t size, unsigned level, uint64_t n)
{
	uint64_t nl;

	if (level >= TILE_LEVELS)
		return 0;
	nl = size >> (8 * level);
	if (n < (nl >> 8))
		return 256;
	if (n == (nl >> 8))
		return (unsigned)(nl & 255);
	return 0;
}

kt_err
kt_tiles_get(MDB_txn *txn, MDB_dbi dbi, unsigned level, uint64_t n,
    const uint8_t **p)
{
	uint8_t k[TILE_KEY_LEN];
	MDB_val key = { sizeof(k), k }, val;
	int rc;

	tile_key(k, level, n);
	rc = mdb_get(txn, dbi, &key, &val);
	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	if (val.mv_size != TILE_BYTES)
		return KT_ERR_INTERNAL;
	*p = val.mv_data;
	return KT_OK;
}

/* ---- reads over a snapshot ----------------------------------------------- */

/* kt_node_fn over a read snapshot: one tile read (cached per tile level),
 * no hashing. */
kt_err
kt_tiles_read_node(void *ctx, unsigned level, uint64_t i, struct kt_hash *out)
{
	struct kt_store_read *r = ctx;
	unsigned L, k;
	uint64_t n;
	kt_err e;

	/* Complete at the snapshot's size: (i + 1) << level <= size. */
	if (level >= 64 || i >= (r->size >> level))
		return KT_ERR_RANGE;
	L = level / 8;
	k = level % 8;
	n = i >> (8 - k);
	if (r->cache_p[L] == NULL || r->cache_n[L] != n) {
		e = kt_tiles_get(r->txn, r->s->tiles, L, n, &r->cache_p[L]);
		if (e != KT_OK) {
			r->cache_p[L] = NULL;
			return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
		}
		r->cache_n[L] = n;
	}
	memcpy(out->b,
	    r->cache_p[L] +
	        (size_t)(ROW(k) + (i & ((256u >> k) - 1))) * KT_HASH_LEN,
	    KT_HASH_LEN);
	return KT_OK;
}

static kt_err
read_bundle(struct kt_store_read *r, uint64_t n, unsigned width, uint8_t *buf,
    size_t cap, size_t *len)
{
	MDB_cursor *c = NULL;
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	size_t off = 0;
	int rc;
	kt_err e = KT_OK;

	kt_put_be64(k, n * 256);
	if (mdb_cursor_open(r->txn, r->s->entries, &c) != 0)
		return KT_ERR_IO;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_KEY);
	for (unsigned i = 0; i < width && e == KT_OK; i++) {
		if (rc != 0) {
			e = rc == MDB_NOTFOUND ? KT_ERR_INTERNAL : KT_ERR_IO;
			break;
		}
		e = kt_bundle_append(buf, cap, &off, val.mv_data, val.mv_size);
		if (i + 1 < width)
			rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (e == KT_OK)
		*len = off;
	return e;
}

kt_err
kt_store_read_tile(struct kt_store_read *r, const struct kt_tile *t,
    uint8_t *buf, size_t cap, size_t *len)
{
	unsigned have, level;
	const uint8_t *p;
	kt_err e;

	if (t->width < 1 || t->width > 256)
		return KT_ERR_RANGE;
	/* Entry bundles follow the level-0 tile geometry. */
	level = t->level == KT_TILE_LEVEL_ENTRIES ? 0 : t->level;
	if (t->level != KT_TILE_LEVEL_ENTRIES && t->level > 63)
		return KT_ERR_RANGE;
	have = tile_width(r->size, level, t->index);
	/* Append-only: every prefix of today's tile was a tile at an older
	 * (checkpointed) size, so any width up to today's is served. */
	if (have == 0 || t->width > have)
		return KT_ERR_NOT_FOUND;
	if (t->level == KT_TILE_LEVEL_ENTRIES)
		return read_bundle(r, t->index, t->width, buf, cap, len);
	if ((size_t)t->width * KT_HASH_LEN > cap)
		return KT_ERR_TOO_LARGE;
	e = kt_tiles_get(r->txn, r->s->tiles, level, t->index, &p);
	if (e != KT_OK)
		return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
	memcpy(buf, p, (size_t)t->width * KT_HASH_LEN);
	*len = (size_t)t->width * KT_HASH_LEN;
	return KT_OK;
}

/* ---- the writer's right edge --------------------------------------------- */

/* Loads the writer's state (size, rightmost tile of every level) from the
 * committed database. */
kt_err
kt_tiles_load(struct kt_store *s, MDB_txn *txn)
{
	MDB_stat st;
	const uint8_t *p;
	kt_err e;

	if (mdb_stat(txn, s->entries, &st) != 0)
		return KT_ERR_IO;
	s->wsize = st.ms_entries;
	for (unsigned L = 0; L < TILE_LEVELS; L++) {
		struct wtile *t = &s->wt[L];
		uint64_t nl = s->wsize >> (8 * L);

		t->index = nl >> 8;
		t->width = (unsigned)(nl & 255);
		t->dirty = 0;
		if (t->width == 0) {
			memset(t->n, 0, sizeof(t->n));
			continue;
		}
		e = kt_tiles_get(txn, s->tiles, L, t->index, &p);
		if (e != KT_OK) {
			kt_msg(s->werr, sizeof(s->werr),
			    "loading tile %u/%llu:"
			    " %s",
			    L, (unsigned long long)t->index, kt_strerror(e));
			return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
		}
		memcpy(t->n, p, TILE_BYTES);
	}
	s->wloaded = 1;
	return KT_OK;
}

static kt_err
put_tile(struct kt_store_txn *w, unsigned L, const struct wtile *t)
{
	uint8_t k[TILE_KEY_LEN];
	MDB_val key = { sizeof(k), k };
	MDB_val val = { TILE_BYTES, (void *)t->n };
	int rc;

	tile_key(k, L, t->index);
	rc = mdb_put(w->txn, w->s->tiles, &key, &val, 0);
	if (rc != 0)
		return wfail(w, rc, "mdb_put(tile)");
	return KT_OK;
}

/*
 * Adds a leaf hash to row 0 of level 0's rightmost tile, computes the
 * tile's internal nodes it completes (one hash per trailing one bit of its
 * position), and when the tile fills, writes it for good and carries its
 * top hash into the next level, and so on up.
 */
kt_err
kt_tiles_push(struct kt_store_txn *w, const struct kt_hash *leaf)
{
	struct kt_hash h = *leaf;
	kt_err e;

	for (unsigned L = 0; L < TILE_LEVELS; L++) {
		struct wtile *t = &w->s->wt[L];
		unsigned p = t->width, k = 0;

		t->n[p] = h;
		t->width = p + 1;
		t->dirty = 1;
		while (p & 1) {
			kt_hash_node(&t->n[ROW(k) + p - 1], &t->n[ROW(k) + p],
			    &t->n[ROW(k + 1) + (p >> 1)]);
			k++;
			p >>= 1;
		}
		if (t->width < 256)
			return KT_OK;
		e = put_tile(w, L, t);
		if (e != KT_OK)
			return e;
		h = t->n[ROW(8)];
		t->index++;
		t->width = 0;
		t->dirty = 0;
		memset(t->n, 0, sizeof(t->n));
	}
	return KT_OK;
}

/* kt_node_fn for the writer: the rightmost tile of each level from memory,
 * full tiles from the transaction. */
kt_err
kt_tiles_write_node(void *ctx, unsigned level, uint64_t i, struct kt_hash *out)
{
	struct kt_store_txn *w = ctx;
	const struct wtile *t;
	const uint8_t *p;
	unsigned L, k, pos;
	uint64_t n;
	kt_err e;

	if (level >= 64 || i >= (w->size >> level))
		return KT_ERR_RANGE;
	L = level / 8;
	k = level % 8;
	n = i >> (8 - k);
	pos = (unsigned)(i & ((256u >> k) - 1));
	t = &w->s->wt[L];
	if (n == t->index) {
		if (((pos + 1) << k) > t->width)
			return KT_ERR_INTERNAL;
		*out = t->n[ROW(k) + pos];
		return KT_OK;
	}
	e = kt_tiles_get(w->txn, w->s->tiles, L, n, &p);
	if (e != KT_OK)
		return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
	memcpy(out->b, p + (size_t)(ROW(k) + pos) * KT_HASH_LEN, KT_HASH_LEN);
	return KT_OK;
}

kt_err
kt_tiles_flush(struct kt_store_txn *w)
{
	struct kt_store *s = w->s;
	kt_err e;

	for (unsigned L = 0; L < TILE_LEVELS; L++) {
		if (!s->wt[L].dirty || s->wt[L].width == 0)
			continue;
		e = put_tile(w, L, &s->wt[L]);
		if (e != KT_OK)
			return e;
	}
	return KT_OK;
}

void
kt_tiles_committed(struct kt_store *s)
{
	for (unsigned L = 0; L < TILE_LEVELS; L++)
		s->wt[L].dirty = 0;
}
