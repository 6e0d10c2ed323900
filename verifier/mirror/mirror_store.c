/*
 * mirror_store.c: kt-mirror's LMDB state (mirror_store.h): the mirror
 * checkpoint of each log and the tiles and entry bundles under it.
 */
#include "mirror_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "kt/bytes.h"
#include "kt/fmt.h"
#include "kt/tile.h"

#define STATE_FORMAT 1
#define STATE_HDR (1 + 8 + KT_HASH_LEN)
#define TILE_KEY_LEN (KT_HASH_LEN + 1 + 8 + 2)

#define MAP_FORMAT 1
#define MAP_REC_LEN (1 + 8 + 8 + 8 + KT_HASH_LEN)
/* A node's bytes, then be64 the stamp of the batch that made it. */
#define NODE_LEAF_LEN (1 + KT_HASH_LEN + 8 + 8 + KT_HASH_LEN + 8)
#define NODE_INNER_LEN (1 + 1 + 2 * KT_HASH_LEN + 8)

struct kt_mstore {
	MDB_env *env;
	MDB_dbi logs, tiles, maps, nodes;
};

struct kt_mstore_txn {
	struct kt_mstore *s;
	MDB_txn *txn;
	uint64_t stamp; /* written with each map node */
};

/* An LMDB code as kt_err, with a detail naming the operation. */
static kt_err
lmdb_err(int rc, const char *what, char *detail, size_t cap)
{
	kt_msg(detail, cap, "lmdb: %s: %s", what, mdb_strerror(rc));
	if (rc == MDB_MAP_FULL)
		return KT_ERR_FULL;
	return rc == ENOMEM ? KT_ERR_NOMEM : KT_ERR_IO;
}

static void
tile_key(const uint8_t oh[KT_HASH_LEN], unsigned level, uint64_t index,
    unsigned width, uint8_t k[TILE_KEY_LEN])
{
	memcpy(k, oh, KT_HASH_LEN);
	k[KT_HASH_LEN] = (uint8_t)level;
	kt_put_be64(k + KT_HASH_LEN + 1, index);
	kt_put_be16(k + KT_HASH_LEN + 9, (uint16_t)width);
}

kt_err
kt_mstore_open(const char *dir, uint64_t map_size, struct kt_mstore **out,
    char *detail, size_t cap)
{
	struct kt_mstore *s;
	MDB_txn *txn = NULL;
	int rc;
	kt_err err;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	if ((rc = mdb_env_create(&s->env)) != 0) {
		s->env = NULL;
		goto fail;
	}
	if ((rc = mdb_env_set_mapsize(s->env, (size_t)map_size)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 4)) != 0)
		goto fail;
	/* MDB_NOTLS: HTTP threads and pull threads open short read
	 * transactions. No MDB_NOSYNC: a commit is on disk before the
	 * checkpoint it holds is served. */
	if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_reader_check(s->env, NULL)) != 0 ||
	    (rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "logs", MDB_CREATE, &s->logs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tiles", MDB_CREATE, &s->tiles)) != 0 ||
	    (rc = mdb_dbi_open(txn, "maps", MDB_CREATE, &s->maps)) != 0 ||
	    (rc = mdb_dbi_open(txn, "nodes", MDB_CREATE, &s->nodes)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	*out = s;
	return KT_OK;
fail:
	err = lmdb_err(rc, dir, detail, cap);
	if (txn != NULL)
		mdb_txn_abort(txn);
	kt_mstore_close(s);
	return err;
}

void
kt_mstore_close(struct kt_mstore *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s);
}

/* ---- reads -------------------------------------------------------------- */

/* The state record of oh in txn into *out (copied). */
static kt_err
state_read(struct kt_mstore *s, MDB_txn *txn, const uint8_t oh[KT_HASH_LEN],
    struct kt_mstore_state *out)
{
	MDB_val k = { KT_HASH_LEN, (void *)oh }, v;
	const uint8_t *p;
	int rc = mdb_get(txn, s->logs, &k, &v);

	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	p = v.mv_data;
	if (v.mv_size < STATE_HDR || p[0] != STATE_FORMAT ||
	    v.mv_size - STATE_HDR > KT_MSTORE_NOTE_MAX)
		return KT_ERR_MALFORMED;
	out->size = kt_get_be64(p + 1);
	memcpy(out->root.b, p + 9, KT_HASH_LEN);
	out->note_len = v.mv_size - STATE_HDR;
	memcpy(out->note, p + STATE_HDR, out->note_len);
	out->note[out->note_len] = '\0';
	return KT_OK;
}

kt_err
kt_mstore_get_state(struct kt_mstore *s, const uint8_t oh[KT_HASH_LEN],
    struct kt_mstore_state *out)
{
	MDB_txn *txn;
	kt_err err;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
		return KT_ERR_IO;
	err = state_read(s, txn, oh, out);
	mdb_txn_abort(txn);
	return err;
}

/* A copy of tile (level, index, width) of oh in txn. */
static kt_err
tile_read(struct kt_mstore *s, MDB_txn *txn, const uint8_t oh[KT_HASH_LEN],
    unsigned level, uint64_t index, unsigned width, uint8_t **buf, size_t *len)
{
	uint8_t key[TILE_KEY_LEN];
	MDB_val k = { TILE_KEY_LEN, key }, v;
	int rc;

	tile_key(oh, level, index, width, key);
	rc = mdb_get(txn, s->tiles, &k, &v);
	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	/* v borrows from the transaction: copy it before it ends. */
	if ((*buf = malloc(v.mv_size > 0 ? v.mv_size : 1)) == NULL)
		return KT_ERR_NOMEM;
	memcpy(*buf, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return KT_OK;
}

kt_err
kt_mstore_served_tile(struct kt_mstore *s, const uint8_t oh[KT_HASH_LEN],
    unsigned level, uint64_t index, unsigned *width, uint8_t **buf, size_t *len)
{
	struct kt_mstore_state *st;
	MDB_txn *txn;
	kt_err err;

	*buf = NULL;
	*len = 0;
	if ((st = malloc(sizeof(*st))) == NULL)
		return KT_ERR_NOMEM;
	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0) {
		free(st);
		return KT_ERR_IO;
	}
	err = state_read(s, txn, oh, st);
	if (err == KT_OK) {
		*width = kt_tile_width(st->size, level, index);
		err = *width == 0
		    ? KT_ERR_NOT_FOUND
		    : tile_read(s, txn, oh, level, index, *width, buf, len);
		/* Published tiles are written with their checkpoint. */
		if (err == KT_ERR_NOT_FOUND && *width != 0)
			err = KT_ERR_INTERNAL;
	}
	mdb_txn_abort(txn);
	free(st);
	return err;
}

kt_err
kt_mstore_get_tile(struct kt_mstore *s, const uint8_t oh[KT_HASH_LEN],
    unsigned level, uint64_t index, unsigned width, uint8_t **buf, size_t *len)
{
	MDB_txn *txn;
	kt_err err;

	*buf = NULL;
	*len = 0;
	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
		return KT_ERR_IO;
	err = tile_read(s, txn, oh, level, index, width, buf, len);
	mdb_txn_abort(txn);
	return err;
}

/* ---- writes ------------------------------------------------------------- */

kt_err
kt_mstore_begin(struct kt_mstore *s, struct kt_mstore_txn **out, char *detail,
    size_t cap)
{
	struct kt_mstore_txn *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	t->s = s;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &t->txn)) != 0) {
		free(t);
		return lmdb_err(rc, "begin", detail, cap);
	}
	*out = t;
	return KT_OK;
}

kt_err
kt_mstore_put_tile(struct kt_mstore_txn *t, const uint8_t oh[KT_HASH_LEN],
    unsigned level, uint64_t index, unsigned width, const uint8_t *p,
    size_t len, char *detail, size_t cap)
{
	uint8_t key[TILE_KEY_LEN];
	MDB_val k = { TILE_KEY_LEN, key }, v = { len, (void *)p };
	int rc;

	tile_key(oh, level, index, width, key);
	if ((rc = mdb_put(t->txn, t->s->tiles, &k, &v, 0)) != 0)
		return lmdb_err(rc, "put tile", detail, cap);
	return KT_OK;
}

kt_err
kt_mstore_del_tile(struct kt_mstore_txn *t, const uint8_t oh[KT_HASH_LEN],
    unsigned level, uint64_t index, unsigned width, char *detail, size_t cap)
{
	uint8_t key[TILE_KEY_LEN];
	MDB_val k = { TILE_KEY_LEN, key };
	int rc;

	tile_key(oh, level, index, width, key);
	rc = mdb_del(t->txn, t->s->tiles, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return lmdb_err(rc, "delete tile", detail, cap);
	return KT_OK;
}

kt_err
kt_mstore_put_state(struct kt_mstore_txn *t, const uint8_t oh[KT_HASH_LEN],
    const struct kt_mstore_state *st, char *detail, size_t cap)
{
	MDB_val k = { KT_HASH_LEN, (void *)oh }, v;
	uint8_t *rec;
	int rc;

	if (st->note_len > KT_MSTORE_NOTE_MAX) {
		kt_msg(detail, cap, "the cosigned note is too large");
		return KT_ERR_TOO_LARGE;
	}
	if ((rec = malloc(STATE_HDR + st->note_len)) == NULL) {
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	rec[0] = STATE_FORMAT;
	kt_put_be64(rec + 1, st->size);
	memcpy(rec + 9, st->root.b, KT_HASH_LEN);
	memcpy(rec + STATE_HDR, st->note, st->note_len);
	v = (MDB_val){ STATE_HDR + st->note_len, rec };
	rc = mdb_put(t->txn, t->s->logs, &k, &v, 0);
	free(rec);
	if (rc != 0)
		return lmdb_err(rc, "put checkpoint", detail, cap);
	return KT_OK;
}

kt_err
kt_mstore_commit(struct kt_mstore_txn *t, char *detail, size_t cap)
{
	int rc = mdb_txn_commit(t->txn);

	free(t);
	if (rc != 0)
		return lmdb_err(rc, "commit", detail, cap);
	return KT_OK;
}

void
kt_mstore_abort(struct kt_mstore_txn *t)
{
	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	free(t);
}

/* ---- purge -------------------------------------------------------------- */

/* Deletes the tiles of one level of oh from the right edge of the tree of
 * `size` leaves on, but the edge's published partial tile. */
static int
purge_level(struct kt_mstore_txn *t, MDB_cursor *c,
    const uint8_t oh[KT_HASH_LEN], unsigned level, uint64_t size,
    size_t *removed)
{
	uint64_t first;
	unsigned keep;
	uint8_t key[TILE_KEY_LEN];
	MDB_val k = { TILE_KEY_LEN, key }, v;
	int rc;

	if (level == KT_TILE_LEVEL_ENTRIES)
		first = size / KT_TILE_WIDTH;
	else
		first = level * 8u >= 64
		    ? 0
		    : (size >> (level * 8u)) / KT_TILE_WIDTH;
	keep = kt_tile_width(size, level, first); /* 0 or 1..255 */
	tile_key(oh, level, first, 0, key);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;

		if (k.mv_size != TILE_KEY_LEN ||
		    memcmp(p, oh, KT_HASH_LEN) != 0 || p[KT_HASH_LEN] != level)
			break;
		if (kt_get_be64(p + KT_HASH_LEN + 1) == first &&
		    kt_get_be16(p + KT_HASH_LEN + 9) == keep && keep != 0)
			continue;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			return rc;
		(*removed)++;
	}
	(void)t;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

kt_err
kt_mstore_purge(struct kt_mstore *s, const uint8_t oh[KT_HASH_LEN],
    uint64_t size, size_t *removed, char *detail, size_t cap)
{
	struct kt_mstore_txn *t = NULL;
	MDB_cursor *c = NULL;
	int rc = 0;
	kt_err err;

	*removed = 0;
	if ((err = kt_mstore_begin(s, &t, detail, cap)) != KT_OK)
		return err;
	if ((rc = mdb_cursor_open(t->txn, s->tiles, &c)) != 0)
		goto fail;
	for (unsigned level = 0; level < 64 && rc == 0; level++)
		rc = purge_level(t, c, oh, level, size, removed);
	if (rc == 0)
		rc =
		    purge_level(t, c, oh, KT_TILE_LEVEL_ENTRIES, size, removed);
	mdb_cursor_close(c);
	if (rc != 0)
		goto fail;
	return kt_mstore_commit(t, detail, cap);
fail:
	kt_mstore_abort(t);
	return lmdb_err(rc, "purge", detail, cap);
}

/* ---- the directory map -------------------------------------------------- */

kt_err
kt_mstore_put_map(struct kt_mstore_txn *t, const uint8_t oh[KT_HASH_LEN],
    const struct kt_mstore_map *m, char *detail, size_t cap)
{
	uint8_t rec[MAP_REC_LEN];
	MDB_val k = { KT_HASH_LEN, (void *)oh }, v = { sizeof(rec), rec };
	int rc;

	rec[0] = MAP_FORMAT;
	kt_put_be64(rec + 1, m->size);
	kt_put_be64(rec + 9, m->head_index);
	kt_put_be64(rec + 17, m->label_count);
	memcpy(rec + 25, m->root.b, KT_HASH_LEN);
	if ((rc = mdb_put(t->txn, t->s->maps, &k, &v, 0)) != 0)
		return lmdb_err(rc, "put map", detail, cap);
	return KT_OK;
}

static kt_err
map_read(struct kt_mstore *s, MDB_txn *txn, const uint8_t oh[KT_HASH_LEN],
    struct kt_mstore_map *out)
{
	MDB_val k = { KT_HASH_LEN, (void *)oh }, v;
	const uint8_t *p;
	int rc = mdb_get(txn, s->maps, &k, &v);

	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	p = v.mv_data;
	if (v.mv_size != MAP_REC_LEN || p[0] != MAP_FORMAT)
		return KT_ERR_MALFORMED;
	out->size = kt_get_be64(p + 1);
	out->head_index = kt_get_be64(p + 9);
	out->label_count = kt_get_be64(p + 17);
	memcpy(out->root.b, p + 25, KT_HASH_LEN);
	return KT_OK;
}

kt_err
kt_mstore_get_map(struct kt_mstore *s, const uint8_t oh[KT_HASH_LEN],
    struct kt_mstore_map *out)
{
	MDB_txn *txn;
	kt_err err;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
		return KT_ERR_IO;
	err = map_read(s, txn, oh, out);
	mdb_txn_abort(txn);
	return err;
}

/* kt_map_read_fn over the nodes table of the transaction ctx. */
static kt_err
node_get(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	struct kt_mstore_txn *t = ctx;
	MDB_val k = { KT_HASH_LEN, (void *)h->b }, v;
	const uint8_t *p;
	int rc = mdb_get(t->txn, t->s->nodes, &k, &v);

	(void)index;
	(void)depth;
	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	p = v.mv_data;
	memset(out, 0, sizeof(*out));
	if (v.mv_size == NODE_LEAF_LEN && p[0] == 0) {
		out->is_leaf = 1;
		memcpy(out->leaf.index.b, p + 1, KT_HASH_LEN);
		out->leaf.version = kt_get_be64(p + 33);
		out->leaf.update_index = kt_get_be64(p + 41);
		memcpy(out->leaf.chain.b, p + 49, KT_HASH_LEN);
	} else if (v.mv_size == NODE_INNER_LEN && p[0] == 1) {
		out->bit = p[1];
		memcpy(out->child[0].b, p + 2, KT_HASH_LEN);
		memcpy(out->child[1].b, p + 2 + KT_HASH_LEN, KT_HASH_LEN);
	} else {
		return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

/* kt_map_write_fn into the nodes table of the transaction ctx. */
static kt_err
node_put(void *ctx, const struct kt_hash *h, const struct kt_map_node *n)
{
	struct kt_mstore_txn *t = ctx;
	uint8_t b[NODE_LEAF_LEN];
	MDB_val k = { KT_HASH_LEN, (void *)h->b }, v = { 0, b };

	if (n->is_leaf) {
		b[0] = 0;
		memcpy(b + 1, n->leaf.index.b, KT_HASH_LEN);
		kt_put_be64(b + 33, n->leaf.version);
		kt_put_be64(b + 41, n->leaf.update_index);
		memcpy(b + 49, n->leaf.chain.b, KT_HASH_LEN);
		kt_put_be64(b + 81, t->stamp);
		v.mv_size = NODE_LEAF_LEN;
	} else {
		b[0] = 1;
		b[1] = n->bit;
		memcpy(b + 2, n->child[0].b, KT_HASH_LEN);
		memcpy(b + 2 + KT_HASH_LEN, n->child[1].b, KT_HASH_LEN);
		kt_put_be64(b + 66, t->stamp);
		v.mv_size = NODE_INNER_LEN;
	}
	switch (mdb_put(t->txn, t->s->nodes, &k, &v, 0)) {
	case 0:
		return KT_OK;
	case MDB_MAP_FULL:
		return KT_ERR_FULL;
	default:
		return KT_ERR_IO;
	}
}

void
kt_mstore_map_io(struct kt_mstore_txn *t, uint64_t stamp,
    struct kt_map_reader *r, struct kt_map_writer *w)
{
	t->stamp = stamp;
	*r = (struct kt_map_reader){ node_get, t, 0 };
	*w = (struct kt_map_writer){ node_put, t };
}

kt_err
kt_mstore_node_stamp(struct kt_mstore_txn *t, const struct kt_hash *h,
    uint64_t *stamp)
{
	MDB_val k = { KT_HASH_LEN, (void *)h->b }, v;
	int rc = mdb_get(t->txn, t->s->nodes, &k, &v);

	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0 || v.mv_size < 8)
		return KT_ERR_IO;
	*stamp = kt_get_be64((const uint8_t *)v.mv_data + v.mv_size - 8);
	return KT_OK;
}

kt_err
kt_mstore_del_node(struct kt_mstore_txn *t, const struct kt_hash *h)
{
	MDB_val k = { KT_HASH_LEN, (void *)h->b };
	int rc = mdb_del(t->txn, t->s->nodes, &k, NULL);

	return rc == 0 || rc == MDB_NOTFOUND ? KT_OK : KT_ERR_IO;
}

/* Tiles of one snapshot for kt_merkle_*: the tree of `size` leaves. */
struct tree_ctx {
	struct kt_mstore_txn *t;
	const uint8_t *oh;
	uint64_t size;
};

/* kt_node_fn over the published tiles: the subtree's level's tile, at the
 * width the size gives it. */
static kt_err
tree_node(void *ctx, unsigned height, uint64_t index, struct kt_hash *out)
{
	struct tree_ctx *c = ctx;
	unsigned l = height / KT_TILE_HEIGHT, s = height % KT_TILE_HEIGHT, w;
	uint64_t pos = index << s, tile = pos / KT_TILE_WIDTH;
	uint8_t key[TILE_KEY_LEN];
	MDB_val k = { TILE_KEY_LEN, key }, v;

	w = kt_tile_width(c->size, l, tile);
	if (w == 0)
		return KT_ERR_INTERNAL;
	tile_key(c->oh, l, tile, w, key);
	if (mdb_get(c->t->txn, c->t->s->tiles, &k, &v) != 0 ||
	    v.mv_size != (size_t)w * KT_HASH_LEN)
		return KT_ERR_INTERNAL;
	/* The tile's hashes are read in place, inside the snapshot. */
	return kt_tile_subtree((const struct kt_hash *)v.mv_data, w, s,
	    (unsigned)((pos % KT_TILE_WIDTH) >> s), out);
}

/* The last leaf of the tree of `size` leaves, from its bundle. */
static kt_err
last_entry(struct kt_mstore_txn *t, const uint8_t oh[KT_HASH_LEN],
    uint64_t size, uint8_t *buf, size_t cap, size_t *len)
{
	uint64_t k = (size - 1) / KT_TILE_WIDTH;
	unsigned w = kt_tile_width(size, KT_TILE_LEVEL_ENTRIES, k);
	uint8_t key[TILE_KEY_LEN];
	MDB_val kv = { TILE_KEY_LEN, key }, v;
	const uint8_t *e = NULL;
	size_t off = 0, n = 0;

	tile_key(oh, KT_TILE_LEVEL_ENTRIES, k, w, key);
	if (mdb_get(t->txn, t->s->tiles, &kv, &v) != 0)
		return KT_ERR_INTERNAL;
	for (unsigned i = 0; i < w; i++)
		if (kt_bundle_next(v.mv_data, v.mv_size, &off, &e, &n) != KT_OK)
			return KT_ERR_INTERNAL;
	if (n > cap)
		return KT_ERR_INTERNAL;
	memcpy(buf, e, n);
	*len = n;
	return KT_OK;
}

kt_err
kt_mstore_map_path(struct kt_mstore *s, const uint8_t oh[KT_HASH_LEN],
    const struct kt_hash *index, struct kt_mstore_path *out)
{
	struct kt_mstore_txn t = { s, NULL, 0 };
	struct kt_mstore_map m;
	struct tree_ctx tc = { &t, oh, 0 };
	struct kt_map_reader r;
	struct kt_map_writer w;
	kt_err err;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t.txn) != 0)
		return KT_ERR_IO;
	if ((err = state_read(s, t.txn, oh, &out->st)) != KT_OK ||
	    (err = map_read(s, t.txn, oh, &m)) != KT_OK)
		goto out;
	/* Written in one transaction; a map with no head has no path. */
	if (m.size != out->st.size || m.head_index != m.size - 1) {
		err = m.size == 0 ? KT_ERR_NOT_FOUND : KT_ERR_INTERNAL;
		goto out;
	}
	tc.size = m.size;
	kt_mstore_map_io(&t, 0, &r, &w);
	if ((err = last_entry(&t, oh, m.size, out->head, sizeof(out->head),
	         &out->head_len)) != KT_OK ||
	    (err = kt_merkle_inclusion_proof(tree_node, &tc, m.size - 1, m.size,
	         &out->head_proof)) != KT_OK)
		goto out;
	err = kt_map_prove(&r, &m.root, index, &out->proof);
	if (err == KT_ERR_NOT_FOUND || err == KT_ERR_VERIFY ||
	    err == KT_ERR_MALFORMED)
		err = KT_ERR_INTERNAL;
out:
	mdb_txn_abort(t.txn);
	return err;
}
