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

struct kt_mstore {
	MDB_env *env;
	MDB_dbi logs, tiles;
};

struct kt_mstore_txn {
	struct kt_mstore *s;
	MDB_txn *txn;
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
	    (rc = mdb_env_set_maxdbs(s->env, 2)) != 0)
		goto fail;
	/* MDB_NOTLS: HTTP threads and pull threads open short read
	 * transactions. No MDB_NOSYNC: a commit is on disk before the
	 * checkpoint it holds is served. */
	if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_reader_check(s->env, NULL)) != 0 ||
	    (rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 ||
	    (rc = mdb_dbi_open(txn, "logs", MDB_CREATE, &s->logs)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tiles", MDB_CREATE, &s->tiles)) != 0)
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
