/*
 * store_commit.c: the one write transaction (store_write.h): begin,
 * appends, root, checkpoint, then commit or abort. The sequencer runs one
 * per batch (group commit): a batch's entries, index records and touched
 * tiles go to LMDB in one transaction, and one sync makes it durable.
 *
 * Commit order: index sweeps and the partial tiles are written in the
 * transaction; the batch's index records are published to readers
 * (store_index.c; readers of older snapshots skip them by index); LMDB
 * commits with MDB_NOMETASYNC (data pages synced, meta page written but
 * not synced); kt_env_sync makes it durable and only then lets readers see
 * the new checkpoint. A failure before LMDB's commit unpublishes the
 * records and rolls the writer's memory back to the last commit.
 */
#include <string.h>

#include "kt/bytes.h"
#include "kt/leaf.h"
#include "kt/merkle.h"
#include "store/internal.h"

/* ---- begin, appends, checkpoint ------------------------------------------ */

/*
 * A read replica killed while it held a snapshot leaves its slot in LMDB's
 * reader table, and the writer could then never reuse the pages freed
 * after that snapshot: the data file would grow for ever. Once a second
 * at most, the writer frees the slots of processes that are gone.
 */
static void
clear_stale_readers(struct kt_store *s)
{
	time_t now = time(NULL);
	int dead;

	if (now == s->stale_check)
		return;
	s->stale_check = now;
	(void)mdb_reader_check(s->env, &dead);
}

kt_err
kt_store_write_begin(struct kt_store *s, struct kt_store_txn **out)
{
	struct kt_store_txn *w = &s->w;
	int rc;
	kt_err e;

	*out = NULL;
	if (s->reader)
		return KT_ERR_PERM;
	if (s->broken)
		return KT_ERR_IO; /* werr still says why */
	s->werr[0] = 0;
	if (s->wopen)
		return KT_ERR_BUSY;
	clear_stale_readers(s);
	memset(w, 0, sizeof(*w));
	w->s = s;
	/* The write transaction counts as an open transaction for the
	 * resize gate too: a reader adopting another process's map size must
	 * not resize under it. */
	rc = kt_env_begin(s, 0, &w->txn);
	if (rc != 0) {
		kt_msg(s->werr, sizeof(s->werr), "mdb_txn_begin: %s%s",
		    mdb_strerror(rc),
		    rc == MDB_PANIC ? " (LMDB could not write its meta page; "
		                      "restart kt-logd)"
		                    : "");
		/* After a failed meta-page write (a full copy-on-write file
		 * system) LMDB refuses every transaction until the
		 * environment is reopened: not a state that space clears. */
		if (rc == MDB_PANIC) {
			s->broken = 1;
			atomic_store(&s->nospace, 0);
		}
		return KT_ERR_IO;
	}
	if (!s->wloaded) {
		e = kt_tiles_load(s, w->txn);
		if (e != KT_OK) {
			mdb_txn_abort(w->txn);
			kt_env_leave(s);
			return e;
		}
	}
	rc = mdb_cursor_open(w->txn, s->labels, &w->lcur);
	if (rc != 0) {
		mdb_txn_abort(w->txn);
		kt_env_leave(s);
		kt_msg(s->werr, sizeof(s->werr), "mdb_cursor_open: %s",
		    mdb_strerror(rc));
		return KT_ERR_IO;
	}
	w->size0 = w->size = s->wsize;
	memcpy(w->wm, s->wm, sizeof(w->wm));
	w->pending = s->pending;
	w->slice0 = s->next_slice;
	s->wopen = 1;
	*out = w;
	return KT_OK;
}

uint64_t
kt_store_write_size(const struct kt_store_txn *w)
{
	return w->size;
}

kt_err
kt_store_write_entry(struct kt_store_txn *w, uint64_t index,
    const uint8_t **buf, size_t *len)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	int rc;

	if (w->failed)
		return KT_ERR_INTERNAL;
	if (index >= w->size)
		return KT_ERR_NOT_FOUND;
	kt_put_be64(k, index);
	rc = mdb_get(w->txn, w->s->entries, &key, &val);
	if (rc != 0)
		return wfail(w, rc, "mdb_get(entry)");
	*buf = val.mv_data;
	*len = val.mv_size;
	return KT_OK;
}

kt_err
kt_store_write_append(struct kt_store_txn *w, const uint8_t *entry, size_t len,
    uint64_t *index)
{
	struct kt_update u;
	struct kt_map_head mh;
	struct kt_hash h;
	uint8_t ik[8], kind;
	MDB_val key, val;
	int rc;
	kt_err ke;

	if (w->failed)
		return KT_ERR_INTERNAL;
	if (kt_leaf_kind(entry, len, &kind) != KT_OK ||
	    (kind == KT_LEAF_UPDATE
	            ? kt_update_decode(entry, len, &u)
	            : kt_map_head_decode(entry, len, &mh)) != KT_OK)
		return KT_ERR_MALFORMED;
	if (w->size == UINT64_MAX)
		return KT_ERR_RANGE;
	/* A map head says which leaf it is. */
	if (kind == KT_LEAF_MAP_HEAD && mh.log_size != w->size)
		return KT_ERR_MALFORMED;
	kt_put_be64(ik, w->size);
	/* A version that exists is refused before anything is written, so
	 * the transaction stays usable. */
	if (kind == KT_LEAF_UPDATE) {
		ke = kt_idx_check_version(w, &u.index, u.version);
		if (ke != KT_OK)
			return ke;
	}
	key.mv_size = 8;
	key.mv_data = ik;
	val.mv_size = len;
	val.mv_data = (void *)entry;
	rc = mdb_put(w->txn, w->s->entries, &key, &val, MDB_APPEND);
	if (rc != 0)
		return wfail(w, rc, "mdb_put(entry)");
	kt_hash_leaf(entry, len, &h);
	ke = kind == KT_LEAF_UPDATE ? kt_idx_add(w, u.version, &h, w->size)
	                            : kt_idx_add_leaf(w, &h, w->size);
	if (ke != KT_OK)
		return ke;
	ke = kt_tiles_push(w, &h);
	if (ke != KT_OK) {
		w->failed = 1;
		return ke;
	}
	*index = w->size++;
	return KT_OK;
}

kt_err
kt_store_write_root(struct kt_store_txn *w, struct kt_hash *root)
{
	if (w->failed)
		return KT_ERR_INTERNAL;
	return kt_merkle_root(kt_tiles_write_node, w, w->size, root);
}

kt_err
kt_store_write_checkpoint(struct kt_store_txn *w, const char *note, size_t len)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val = { len, (void *)note };
	int rc;

	if (w->failed)
		return KT_ERR_INTERNAL;
	if (note == NULL || len == 0 || len > 65536)
		return KT_ERR_RANGE;
	kt_put_be64(k, w->size);
	/* Sizes only grow: append at the end without a search. */
	rc = mdb_put(w->txn, w->s->ckpts, &key, &val, MDB_APPEND);
	if (rc == MDB_KEYEXIST) /* re-signed at the same size: replace */
		rc = mdb_put(w->txn, w->s->ckpts, &key, &val, 0);
	if (rc != 0)
		return wfail(w, rc, "mdb_put(checkpoint)");
	w->has_ckpt = 1;
	w->ckpt_size = w->size;
	return KT_OK;
}

/* ---- commit and abort ---------------------------------------------------- */

/* Ends the transaction's bookkeeping after an abort or failed commit: the
 * in-memory tiles are reloaded from the committed state at the next begin,
 * and a full map is doubled. */
static void
wfinish_failed(struct kt_store *s, int full)
{
	s->next_slice = s->w.slice0; /* the sweeps did not happen */
	s->wloaded = 0;
	s->wopen = 0;
	kt_env_leave(s);
	if (full) {
		size_t next = s->mapsize * 2;

		if (s->max_bytes != 0 && next > s->max_bytes)
			next = (size_t)s->max_bytes;
		if (next > s->mapsize)
			(void)kt_env_resize(s, next);
	}
}

/* Commits the write transaction; durable only after kt_env_sync. */
static kt_err
commit_txn(struct kt_store_txn *w)
{
	struct kt_store *s = w->s;
	int rc;
	kt_err e;

	if (w->failed) {
		kt_store_write_abort(w);
		return KT_ERR_INTERNAL;
	}
	if (w->size != w->size0 && (!w->has_ckpt || w->ckpt_size != w->size)) {
		kt_msg(s->werr, sizeof(s->werr),
		    "commit without a "
		    "checkpoint for size %llu",
		    (unsigned long long)w->size);
		kt_store_write_abort(w);
		return KT_ERR_INTERNAL;
	}
	e = w->size != w->size0 ? kt_idx_sweep(w) : KT_OK;
	if (e != KT_OK) {
		kt_store_write_abort(w);
		return e;
	}
	e = kt_tiles_flush(w);
	if (e != KT_OK) {
		kt_store_write_abort(w);
		return e;
	}
	mdb_cursor_close(w->lcur);
	w->lcur = NULL;
	e = kt_idx_publish(w);
	if (e != KT_OK) {
		kt_msg(s->werr, sizeof(s->werr), "out of memory");
		goto unpublish;
	}
	if (s->fail_commits > 0) {
		/* As if mdb_txn_commit failed: after the records went public. */
		s->fail_commits--;
		kt_msg(s->werr, sizeof(s->werr), "injected commit failure");
		e = KT_ERR_IO;
		goto unpublish;
	}
	rc = mdb_txn_commit(w->txn);
	w->txn = NULL;
	if (rc != 0) {
		kt_msg(s->werr, sizeof(s->werr), "mdb_txn_commit: %s",
		    mdb_strerror(rc));
		kt_idx_unpublish(w);
		e = wspace(w, rc);
		wfinish_failed(s, e == KT_ERR_BUSY);
		return e;
	}
	/* Something was stored: there was space after all. */
	if (w->size != w->size0)
		atomic_store(&s->nospace, 0);
	kt_tiles_committed(s);
	memcpy(s->wm, w->wm, sizeof(s->wm));
	s->pending = w->pending;
	s->wsize = w->size;
	s->wopen = 0;
	kt_env_leave(s);
	return KT_OK;
unpublish:
	/* Failed after the records went public, before LMDB committed. */
	kt_idx_unpublish(w);
	mdb_txn_abort(w->txn);
	w->txn = NULL;
	wfinish_failed(s, 0);
	return e;
}

kt_err
kt_store_write_commit(struct kt_store_txn *w)
{
	uint64_t size = w->size;
	struct kt_store *s = w->s;
	kt_err e = commit_txn(w);

	if (e != KT_OK)
		return e;
	/* LMDB has synced the data and written the meta page (not synced:
	 * MDB_NOMETASYNC); this sync makes the commit durable, and only then
	 * do readers see it. If it fails, the commit is in LMDB but may not
	 * be on disk, and after a failed fdatasync the kernel may have
	 * dropped the pages so that a later one "succeeds" without them: no
	 * more writes, nothing more shown, until a restart reads what the
	 * disk really holds. */
	if (s->fail_syncs > 0) {
		s->fail_syncs--;
		e = KT_ERR_IO;
	} else {
		e = kt_env_sync(s, size);
	}
	if (e != KT_OK) {
		s->broken = 1;
		kt_msg(s->werr, sizeof(s->werr),
		    "fdatasync after a commit "
		    "failed: not acknowledged; the log takes no more writes "
		    "until kt-logd is restarted");
	}
	return e;
}

void
kt_store_write_abort(struct kt_store_txn *w)
{
	if (w == NULL || !w->s->wopen)
		return;
	if (w->lcur != NULL)
		mdb_cursor_close(w->lcur);
	w->lcur = NULL;
	if (w->txn != NULL)
		mdb_txn_abort(w->txn);
	w->txn = NULL;
	kt_idx_discard(w);
	wfinish_failed(w->s, w->full);
}

const char *
kt_store_write_errmsg(const struct kt_store *s)
{
	return s->werr;
}

void
kt_store_test_fail_commits(struct kt_store *s, unsigned n)
{
	s->fail_commits = n;
}

void
kt_store_test_fail_syncs(struct kt_store *s, unsigned n)
{
	s->fail_syncs = n;
}
