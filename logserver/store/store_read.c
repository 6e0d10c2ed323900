/*
 * store_read.c: read snapshots. Each is one LMDB read-only transaction
 * (MDB_NOTLS: any thread, handed on between HTTP workers) inside the
 * resize gate (store_env.c), and shows the latest durable checkpoint:
 * the one at the durable size or the last before it, never a commit that
 * a crash could still undo (a reader store syncs the writer's commits
 * itself first: reader_sync). Proofs read nodes from the tiles
 * (store_tile.c); proofs to one size share the right-edge hashes they
 * compose, within a snapshot and, for the newest size, across snapshots.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kt/bytes.h"
#include "kt/merkle.h"
#include "store/internal.h"

/*
 * A reader store (kt_store_open_reader) cannot know whether the writer, in
 * another process, has synced its newest commit yet. Before a snapshot
 * shows a checkpoint past the durable size, it syncs the data file itself:
 * every commit the snapshot sees was written before it began, so after the
 * sync they are all durable (usually the writer's own sync already made
 * them so, and this one has nothing to write). An LMDB code or EIO.
 */
static int
reader_sync(struct kt_store *s, MDB_cursor *c)
{
	MDB_val key, val;
	uint64_t last;
	int rc = mdb_cursor_get(c, &key, &val, MDB_LAST);

	if (rc != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if (key.mv_size != 8)
		return MDB_CORRUPTED;
	last = kt_get_be64(key.mv_data);
	if (last <= atomic_load_explicit(&s->durable, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&s->follow_mu);
	if (last > atomic_load_explicit(&s->durable, memory_order_acquire) &&
	    kt_env_sync(s, last) != KT_OK)
		rc = EIO;
	pthread_mutex_unlock(&s->follow_mu);
	return rc;
}

kt_err
kt_store_read_begin(struct kt_store *s, struct kt_store_read **out)
{
	struct kt_store_read *r;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return KT_ERR_NOMEM;
	r->s = s;
	rc = kt_env_begin(s, MDB_RDONLY, &r->txn);
	if (rc != 0) {
		free(r);
		return rc == MDB_READERS_FULL ? KT_ERR_BUSY : KT_ERR_IO;
	}
	rc = mdb_cursor_open(r->txn, s->ckpts, &c);
	if (rc == 0 && s->reader && (rc = reader_sync(s, c)) != 0)
		mdb_cursor_close(c);
	if (rc == 0) {
		/* The latest durable checkpoint: the one at the durable size,
		 * or the last before it. */
		uint8_t k[8];

		kt_put_be64(k,
		    atomic_load_explicit(&s->durable, memory_order_acquire));
		key.mv_size = 8;
		key.mv_data = k;
		rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
		else if (rc == 0 &&
		    (key.mv_size != 8 || memcmp(key.mv_data, k, 8) != 0))
			rc = mdb_cursor_get(c, &key, &val, MDB_PREV);
		mdb_cursor_close(c);
	}
	if (rc == 0 && key.mv_size == 8) {
		r->size = kt_get_be64(key.mv_data);
		r->note = val.mv_data;
		r->note_len = val.mv_size;
	} else if (rc != MDB_NOTFOUND) {
		kt_store_read_end(r);
		return rc == 0 ? KT_ERR_INTERNAL : KT_ERR_IO; /* bad key */
	}
	*out = r;
	return KT_OK;
}

void
kt_store_read_end(struct kt_store_read *r)
{
	if (r == NULL)
		return;
	mdb_txn_abort(r->txn);
	kt_env_leave(r->s);
	free(r);
}

uint64_t
kt_store_read_size(const struct kt_store_read *r)
{
	return r->size;
}

kt_err
kt_store_read_checkpoint(struct kt_store_read *r, const char **note,
    size_t *len)
{
	if (r->note == NULL)
		return KT_ERR_NOT_FOUND;
	*note = r->note;
	*len = r->note_len;
	return KT_OK;
}

kt_err
kt_store_read_checkpoint_at(struct kt_store_read *r, uint64_t size,
    const char **note, size_t *len)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	int rc;

	if (size == r->size)
		return kt_store_read_checkpoint(r, note, len);
	if (size > r->size)
		return KT_ERR_NOT_FOUND;
	kt_put_be64(k, size);
	rc = mdb_get(r->txn, r->s->ckpts, &key, &val);
	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	*note = val.mv_data;
	*len = val.mv_size;
	return KT_OK;
}

kt_err
kt_store_read_entry(struct kt_store_read *r, uint64_t index,
    const uint8_t **buf, size_t *len)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	int rc;

	if (index >= r->size)
		return KT_ERR_NOT_FOUND;
	kt_put_be64(k, index);
	rc = mdb_get(r->txn, r->s->entries, &key, &val);
	if (rc == MDB_NOTFOUND)
		return KT_ERR_INTERNAL; /* below size: must exist */
	if (rc != 0)
		return KT_ERR_IO;
	*buf = val.mv_data;
	*len = val.mv_size;
	return KT_OK;
}

kt_err
kt_store_read_leaf_hash(struct kt_store_read *r, uint64_t index,
    struct kt_hash *out)
{
	if (index >= r->size)
		return KT_ERR_NOT_FOUND;
	return kt_tiles_read_node(r, 0, index, out);
}

kt_err
kt_store_inclusion(struct kt_store_read *r, uint64_t index, uint64_t size,
    struct kt_proof *out)
{
	struct kt_store *s = r->s;
	uint64_t have0;
	kt_err e;

	if (size > r->size || index >= size)
		return KT_ERR_RANGE;
	/* Start from the hashes other snapshots composed for this size. */
	if (r->edge.size != size) {
		pthread_mutex_lock(&s->edge_mu);
		if (s->edge.size == size)
			r->edge = s->edge;
		pthread_mutex_unlock(&s->edge_mu);
	}
	have0 = r->edge.size == size ? r->edge.have : 0;
	e = kt_merkle_inclusion_proof_cached(kt_tiles_read_node, r, &r->edge,
	    index, size, out);
	if (e == KT_OK && r->edge.size == size && r->edge.have != have0) {
		/* Share what this proof composed (the newest size wins). */
		pthread_mutex_lock(&s->edge_mu);
		if (s->edge.size < size) {
			s->edge = r->edge;
		} else if (s->edge.size == size) {
			for (unsigned i = 0; i < 64; i++)
				if ((r->edge.have >> i) & 1)
					s->edge.h[i] = r->edge.h[i];
			s->edge.have |= r->edge.have;
		}
		pthread_mutex_unlock(&s->edge_mu);
	}
	return e;
}

kt_err
kt_store_consistency(struct kt_store_read *r, uint64_t old, uint64_t new_size,
    struct kt_proof *out)
{
	if (new_size > r->size || old > new_size)
		return KT_ERR_RANGE;
	return kt_merkle_consistency_proof(kt_tiles_read_node, r, old, new_size,
	    out);
}

kt_err
kt_store_root(struct kt_store_read *r, uint64_t size, struct kt_hash *out)
{
	if (size > r->size)
		return KT_ERR_RANGE;
	return kt_merkle_root(kt_tiles_read_node, r, size, out);
}
