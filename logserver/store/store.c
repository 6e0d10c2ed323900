/*
 * store.c: kt-logd's LMDB storage: the environment, tiles, snapshots and
 * commits (with store_index.c, the only files that include lmdb.h).
 *
 * Layout of the one environment in the data folder (named databases):
 *   meta        "format" -> u32 BE, "origin" -> text, "vkey" -> text
 *   entries     u64 BE leaf index -> encoded entry (appended with MDB_APPEND)
 *   tiles       u8 tile level || u64 BE tile index -> one tile's full node set
 *   labels      SHA-256(label) || u64 BE version -> u64 BE leaf index
 *   leafhash    first 8 bytes of the leaf hash -> u64 BE leaf index (DUPSORT)
 *   checkpoints u64 BE tree size -> signed checkpoint note; the last is the
 *               latest, and its size is the snapshot's tree size
 *   (meta "swept": the 256 slice watermarks of the two indexes, see below)
 *
 * Hash tiles (C2SP tlog-tiles, height 8). A tile of tile level L and index N
 * stores not only its 256-hash row (tree level 8L) but every node of the
 * tile's internal levels: 256 + 128 + ... + 2 + 1 = 511 hashes, row k
 * (tree level 8L+k) at offset 512 - (512 >> k). So the hash of ANY perfect
 * subtree (level, index) is one tile read and no hashing, and an inclusion
 * or consistency proof reads O(log n / 8) tiles. 511 * 32 + 16 (LMDB page
 * header) fits four 4 KiB overflow pages exactly. The partial tile of each
 * level is rewritten by every batch that touches it, unused hashes zero.
 * Because the tree is append-only, a node that was complete at an older
 * size has the same hash in today's tiles, so proofs for any older size are
 * served from the current tiles.
 *
 * The label and leaf-hash indexes are store_index.c's (see there): their
 * newest records wait in memory and reach LMDB a key-space slice at a
 * time; meta "swept" holds the slices' watermarks.
 *
 * Concurrency: readers use MDB_NOTLS read-only transactions from any thread
 * and never wait for the writer. The one exception is growing the map, which
 * LMDB allows only with no transaction open in the process: a small gate
 * (mutex + condvar) lets the writer wait for open snapshots to end, and holds
 * new ones back meanwhile. It is entered only for the rare resize.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "kt/bytes.h"
#include "kt/entry.h"
#include "kt/merkle.h"
#include "kt/tile.h"
#include "store/store_impl.h"

/* Format 3 keys labels by SHA-256 and keeps recent index records in memory.
 * A folder of another format is refused at open: older ones are not
 * upgraded (kt has no deployments that would need it). */
#define STORE_FORMAT 3u
static kt_err store_sync(struct kt_store *s, uint64_t size);

/* ---- small helpers ------------------------------------------------------- */

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

/* ---- resize gate ---------------------------------------------------------- */

static void
gate_enter(struct kt_store *s)
{
	pthread_mutex_lock(&s->gate);
	while (s->resizing)
		pthread_cond_wait(&s->gate_cv, &s->gate);
	s->readers++;
	pthread_mutex_unlock(&s->gate);
}

static void
gate_leave(struct kt_store *s)
{
	pthread_mutex_lock(&s->gate);
	if (--s->readers == 0)
		pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->gate);
}

/*
 * Sets the map size (0: adopt the size another process set) once no
 * transaction is open in this process, as mdb_env_set_mapsize requires.
 * Only called by the writer with no write transaction open.
 */
static int
gate_resize(struct kt_store *s, size_t size)
{
	int rc;
	MDB_envinfo info;

	pthread_mutex_lock(&s->gate);
	while (s->resizing)
		pthread_cond_wait(&s->gate_cv, &s->gate);
	s->resizing = 1;
	while (s->readers > 0)
		pthread_cond_wait(&s->gate_cv, &s->gate);
	rc = mdb_env_set_mapsize(s->env, size);
	if (rc == 0 && mdb_env_info(s->env, &info) == 0)
		s->mapsize = info.me_mapsize;
	s->resizing = 0;
	pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->gate);
	return rc;
}

/* ---- open / close ---------------------------------------------------------- */

/*
 * A folder may be used if it is missing, empty, or already holds an LMDB
 * environment (whose metadata is then checked). Anything else is someone
 * else's folder: refuse rather than write a database into it.
 */
static kt_err
check_folder(const char *dir, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char other[256] = "";
	int has_db = 0;

	if (stat(dir, &st) != 0) {
		if (errno != ENOENT) {
			seterr(err, errlen, "%s: %s", dir, strerror(errno));
			return KT_ERR_IO;
		}
		if (mkdir(dir, 0700) != 0) {
			seterr(err, errlen, "mkdir %s: %s", dir, strerror(errno));
			return KT_ERR_IO;
		}
		return KT_OK;
	}
	if (!S_ISDIR(st.st_mode)) {
		seterr(err, errlen, "%s is not a folder", dir);
		return KT_ERR_CONFLICT;
	}
	d = opendir(dir);
	if (d == NULL) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return KT_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "data.mdb") == 0)
			has_db = 1;
		else if (strcmp(de->d_name, "lock.mdb") != 0 && other[0] == 0)
			snprintf(other, sizeof(other), "%s", de->d_name);
	}
	closedir(d);
	if (!has_db && other[0] != 0) {
		seterr(err, errlen, "%s is not a kt data folder (it holds \"%s\" "
		    "and no kt database); use an empty or new folder", dir, other);
		return KT_ERR_CONFLICT;
	}
	return KT_OK;
}

/*
 * Opens the "meta" database in txn. An environment without one is fresh
 * (*fresh = 1; meta is created) if it is empty: just created, or a crash
 * before the first commit. One with other data is not a kt log.
 */
static kt_err
open_meta(struct kt_store *s, MDB_txn *txn, const char *dir, int *fresh,
    char *err, size_t errlen)
{
	MDB_dbi main_dbi;
	MDB_stat st;
	int rc;

	*fresh = 0;
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND) {
		rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
		if (rc == 0)
			rc = mdb_stat(txn, main_dbi, &st);
		if (rc == 0 && st.ms_entries != 0) {
			seterr(err, errlen, "%s holds an LMDB database that is "
			    "not a kt log (no kt metadata)", dir);
			return KT_ERR_CONFLICT;
		}
		*fresh = 1;
		rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
	}
	if (rc == MDB_INCOMPATIBLE) {
		seterr(err, errlen, "%s is not a kt data folder", dir);
		return KT_ERR_CONFLICT;
	}
	if (rc != 0) {
		seterr(err, errlen, "%s: opening metadata: %s", dir,
		    mdb_strerror(rc));
		return KT_ERR_IO;
	}
	return KT_OK;
}

/*
 * The folder's store format must be STORE_FORMAT. An older one is refused,
 * not upgraded: the message names both formats and says to start a new
 * folder.
 */
static kt_err
check_format(struct kt_store *s, MDB_txn *txn, const char *dir, char *err,
    size_t errlen)
{
	MDB_val v;
	const uint8_t *p;
	uint32_t found;

	if (meta_get(txn, s->meta, "format", &v) != 0 || v.mv_size != 4) {
		seterr(err, errlen, "%s is not a kt data folder (no format "
		    "version)", dir);
		return KT_ERR_CONFLICT;
	}
	p = v.mv_data;
	found = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (found == STORE_FORMAT)
		return KT_OK;
	if (found != 0 && found < STORE_FORMAT)
		seterr(err, errlen, "%s holds kt store format %u; this kt-logd "
		    "reads only format %u and does not upgrade older ones: "
		    "start a new data folder", dir, (unsigned)found,
		    STORE_FORMAT);
	else
		seterr(err, errlen, "%s has an unsupported kt store format "
		    "(%u; this kt-logd reads format %u)", dir, (unsigned)found,
		    STORE_FORMAT);
	return KT_ERR_CONFLICT;
}

/* The folder must belong to this log: the same origin and verifier key. */
static kt_err
check_owner(struct kt_store *s, MDB_txn *txn, const char *dir, char *err,
    size_t errlen)
{
	MDB_val v;

	if (meta_get(txn, s->meta, "origin", &v) != 0) {
		v.mv_size = 0;
		v.mv_data = (void *)"";
	}
	if (!val_is(&v, s->origin)) {
		seterr(err, errlen, "%s belongs to another log (origin "
		    "\"%.*s\"), not \"%s\"", dir,
		    (int)(v.mv_size > 255 ? 255 : v.mv_size),
		    (const char *)v.mv_data, s->origin);
		return KT_ERR_CONFLICT;
	}
	if (meta_get(txn, s->meta, "vkey", &v) != 0) {
		v.mv_size = 0;
		v.mv_data = (void *)"";
	}
	if (!val_is(&v, s->vkey)) {
		seterr(err, errlen, "%s belongs to log \"%s\" under another "
		    "key (%.*s), not %s", dir, s->origin,
		    (int)(v.mv_size > 400 ? 400 : v.mv_size),
		    (const char *)v.mv_data, s->vkey);
		return KT_ERR_CONFLICT;
	}
	return KT_OK;
}

/* Opens (in a fresh environment: creates) the data databases. */
static kt_err
open_tables(struct kt_store *s, MDB_txn *txn, int fresh, const char *dir,
    char *err, size_t errlen)
{
	unsigned c = fresh ? MDB_CREATE : 0;
	int rc;

	if ((rc = mdb_dbi_open(txn, "entries", c, &s->entries)) != 0 ||
	    (rc = mdb_dbi_open(txn, "tiles", c, &s->tiles)) != 0 ||
	    (rc = mdb_dbi_open(txn, "labels", c, &s->labels)) != 0 ||
	    (rc = mdb_dbi_open(txn, "leafhash", c | MDB_DUPSORT |
	    MDB_DUPFIXED, &s->leafhash)) != 0 ||
	    (rc = mdb_dbi_open(txn, "checkpoints", c, &s->ckpts)) != 0) {
		seterr(err, errlen, "%s: opening databases: %s", dir,
		    mdb_strerror(rc));
		return rc == MDB_NOTFOUND ? KT_ERR_CONFLICT : KT_ERR_IO;
	}
	return KT_OK;
}

/* A fresh folder's metadata: format, origin, verifier key. */
static kt_err
write_meta(struct kt_store *s, MDB_txn *txn, char *err, size_t errlen)
{
	uint8_t fmt[4] = { 0, 0, 0, (uint8_t)STORE_FORMAT };
	int rc;

	if ((rc = meta_put(txn, s->meta, "format", fmt, 4)) != 0 ||
	    (rc = meta_put(txn, s->meta, "origin", s->origin,
	    strlen(s->origin))) != 0 ||
	    (rc = meta_put(txn, s->meta, "vkey", s->vkey,
	    strlen(s->vkey))) != 0) {
		seterr(err, errlen, "writing metadata: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	return KT_OK;
}

/* Opens or creates the named databases and checks or writes the metadata,
 * in one transaction. */
static kt_err
init_dbs(struct kt_store *s, const char *dir, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	int rc, fresh;
	kt_err e;

	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0) {
		seterr(err, errlen, "mdb_txn_begin: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	e = open_meta(s, txn, dir, &fresh, err, errlen);
	if (e == KT_OK && !fresh)
		e = check_format(s, txn, dir, err, errlen);
	if (e == KT_OK && !fresh)
		e = check_owner(s, txn, dir, err, errlen);
	if (e == KT_OK)
		e = open_tables(s, txn, fresh, dir, err, errlen);
	if (e == KT_OK && fresh)
		e = write_meta(s, txn, err, errlen);
	if (e != KT_OK)
		goto out;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		seterr(err, errlen, "mdb_txn_commit: %s", mdb_strerror(rc));
		e = KT_ERR_IO;
	}
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return e;
}

/* A store with no environment yet: locks, empty indexes, copies of origin
 * and key, the writer's tiles. kt_store_close frees a partial one. */
static kt_err
store_new(struct kt_store **out, const char *origin, const char *vkey,
    size_t mapsize)
{
	struct kt_store *s;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return KT_ERR_NOMEM;
	s->lockfd = -1;
	pthread_mutex_init(&s->gate, NULL);
	pthread_cond_init(&s->gate_cv, NULL);
	pthread_mutex_init(&s->edge_mu, NULL);
	kt_idx_init(s);
	s->origin = strdup(origin);
	s->vkey = strdup(vkey);
	s->wt = calloc(TILE_LEVELS, sizeof(*s->wt));
	s->mapsize = mapsize ? mapsize : KT_STORE_MAPSIZE_DEFAULT;
	if (s->origin == NULL || s->vkey == NULL || s->wt == NULL) {
		kt_store_close(s);
		return KT_ERR_NOMEM;
	}
	*out = s;
	return KT_OK;
}

/* Creates and opens the LMDB environment in dir; s->mapsize becomes the
 * size LMDB uses (an existing environment keeps a larger one). */
static kt_err
env_open(struct kt_store *s, const char *dir, char *err, size_t errlen)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 512)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->mapsize)) != 0) {
		seterr(err, errlen, "lmdb setup: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	/*
	 * MDB_NOMETASYNC: a commit syncs its data pages, then writes its meta
	 * page without waiting; kt_store_write_commit then syncs (store_sync)
	 * and only after that shows the commit to readers, so no reader ever
	 * sees a checkpoint that a crash could still undo (with LMDB's own
	 * synchronous meta write, a reader could read the new meta page from
	 * the map while its write was still in flight). LMDB keeps the
	 * previous commit's pages intact meanwhile. Never MDB_NOSYNC.
	 * MDB_NOTLS: read transactions are not bound to threads (HTTP
	 * workers hand them on).
	 */
	rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOMETASYNC, 0600);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
		seterr(err, errlen, "%s is not a kt data folder (data.mdb is "
		    "not a usable LMDB database)", dir);
		return KT_ERR_CONFLICT;
	}
	if (rc != 0) {
		seterr(err, errlen, "%s: mdb_env_open: %s", dir,
		    mdb_strerror(rc));
		return KT_ERR_IO;
	}
	if (mdb_env_info(s->env, &info) == 0)
		s->mapsize = info.me_mapsize;
	return KT_OK;
}

/*
 * One kt-logd per folder: LMDB lets several processes write, but the
 * writer's in-memory tiles assume nobody else appends. An flock on LMDB's
 * own lock file (independent of LMDB's fcntl locks; mdb_copy backups are
 * unaffected) refuses a second server.
 */
static kt_err
lock_folder(struct kt_store *s, const char *dir, char *err, size_t errlen)
{
	char lp[4096];

	snprintf(lp, sizeof(lp), "%s/lock.mdb", dir);
	s->lockfd = open(lp, O_RDWR | O_CLOEXEC);
	if (s->lockfd < 0) {
		seterr(err, errlen, "%s: %s", lp, strerror(errno));
		return KT_ERR_IO;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		seterr(err, errlen, "%s is in use by another kt-logd process",
		    dir);
		return KT_ERR_BUSY;
	}
	return KT_OK;
}

kt_err
kt_store_open_mapsize(struct kt_store **out, const char *dir,
    const char *origin, const char *vkey, size_t mapsize, char *err,
    size_t errlen)
{
	struct kt_store *s = NULL;
	kt_err e;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = 0;
	if (dir == NULL || origin == NULL || vkey == NULL || origin[0] == 0 ||
	    vkey[0] == 0 || strlen(origin) > 255 || strlen(vkey) > 400) {
		seterr(err, errlen, "store: missing or oversized folder, origin "
		    "or key");
		return KT_ERR_RANGE;
	}
	e = check_folder(dir, err, errlen);
	if (e == KT_OK)
		e = store_new(&s, origin, vkey, mapsize);
	if (e == KT_OK)
		e = env_open(s, dir, err, errlen);
	if (e == KT_OK)
		e = lock_folder(s, dir, err, errlen);
	if (e == KT_OK)
		e = init_dbs(s, dir, err, errlen);
	if (e == KT_OK)
		e = kt_idx_load(s, err, errlen);
	/* Whatever a previous process committed is made durable before
	 * anyone reads it. */
	if (e == KT_OK && store_sync(s, UINT64_MAX) != KT_OK) {
		seterr(err, errlen, "%s: syncing data.mdb failed", dir);
		e = KT_ERR_IO;
	}
	if (e == KT_OK) {
		*out = s;
		return KT_OK;
	}
	if (e == KT_ERR_NOMEM)
		seterr(err, errlen, "store: out of memory");
	kt_store_close(s);
	return e;
}

kt_err
kt_store_open(struct kt_store **out, const char *dir, const char *origin,
    const char *vkey, char *err, size_t errlen)
{
	return kt_store_open_mapsize(out, dir, origin, vkey, 0, err, errlen);
}

void
kt_store_close(struct kt_store *s)
{
	if (s == NULL)
		return;
	if (s->wopen)
		kt_store_write_abort(&s->w);
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lockfd >= 0)
		close(s->lockfd);
	pthread_mutex_destroy(&s->gate);
	pthread_cond_destroy(&s->gate_cv);
	pthread_mutex_destroy(&s->edge_mu);
	kt_idx_free(s);
	free(s->wt);
	free(s->origin);
	free(s->vkey);
	free(s);
}

const char *
kt_store_origin(const struct kt_store *s)
{
	return s->origin;
}

const char *
kt_store_vkey(const struct kt_store *s)
{
	return s->vkey;
}

size_t
kt_store_mapsize(const struct kt_store *s)
{
	return s->mapsize;
}

int
kt_store_writable(const struct kt_store *s)
{
	return !atomic_load_explicit(&((struct kt_store *)s)->broken,
	    memory_order_relaxed);
}

uint64_t
kt_store_disk_bytes(struct kt_store *s)
{
	MDB_envinfo info;
	MDB_stat st;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
		return 0;
	return ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

/* ---- shared lookups (read or write transaction) ------------------------- */

static kt_err
get_tile(MDB_txn *txn, MDB_dbi dbi, unsigned level, uint64_t n,
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

/* ---- reads --------------------------------------------------------------- */

kt_err
kt_store_read_begin(struct kt_store *s, struct kt_store_read **out)
{
	struct kt_store_read *r;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc, tries = 0;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return KT_ERR_NOMEM;
	r->s = s;
	for (;;) {
		gate_enter(s);
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
		if (rc != MDB_MAP_RESIZED || ++tries > MAX_RETRIES_RESIZED)
			break;
		/* Another process grew the map: adopt its size. */
		gate_leave(s);
		(void)gate_resize(s, 0);
	}
	if (rc != 0) {
		gate_leave(s);
		free(r);
		return rc == MDB_READERS_FULL ? KT_ERR_BUSY : KT_ERR_IO;
	}
	rc = mdb_cursor_open(r->txn, s->ckpts, &c);
	if (rc == 0) {
		/* The latest durable checkpoint: the one at the durable size,
		 * or the last before it. */
		uint8_t k[8];

		kt_put_be64(k, atomic_load_explicit(&s->durable,
		    memory_order_acquire));
		key.mv_size = 8;
		key.mv_data = k;
		rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
		else if (rc == 0 && (key.mv_size != 8 ||
		    memcmp(key.mv_data, k, 8) != 0))
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
	gate_leave(r->s);
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

/* kt_node_fn over a read snapshot: one tile read (cached per tile level),
 * no hashing. */
kt_err
kt_st_read_node(void *ctx, unsigned level, uint64_t i, struct kt_hash *out)
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
		e = get_tile(r->txn, r->s->tiles, L, n, &r->cache_p[L]);
		if (e != KT_OK) {
			r->cache_p[L] = NULL;
			return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
		}
		r->cache_n[L] = n;
	}
	memcpy(out->b, r->cache_p[L] + (size_t)(ROW(k) +
	    (i & ((256u >> k) - 1))) * KT_HASH_LEN, KT_HASH_LEN);
	return KT_OK;
}

kt_err
kt_store_read_leaf_hash(struct kt_store_read *r, uint64_t index,
    struct kt_hash *out)
{
	if (index >= r->size)
		return KT_ERR_NOT_FOUND;
	return kt_st_read_node(r, 0, index, out);
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
	e = kt_merkle_inclusion_proof_cached(kt_st_read_node, r, &r->edge, index,
	    size, out);
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
kt_store_consistency(struct kt_store_read *r, uint64_t old,
    uint64_t new_size, struct kt_proof *out)
{
	if (new_size > r->size || old > new_size)
		return KT_ERR_RANGE;
	return kt_merkle_consistency_proof(kt_st_read_node, r, old, new_size, out);
}

kt_err
kt_store_root(struct kt_store_read *r, uint64_t size, struct kt_hash *out)
{
	if (size > r->size)
		return KT_ERR_RANGE;
	return kt_merkle_root(kt_st_read_node, r, size, out);
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
	e = get_tile(r->txn, r->s->tiles, level, t->index, &p);
	if (e != KT_OK)
		return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
	memcpy(buf, p, (size_t)t->width * KT_HASH_LEN);
	*len = (size_t)t->width * KT_HASH_LEN;
	return KT_OK;
}

/* ---- writes -------------------------------------------------------------- */

/* Records an LMDB failure on the write transaction and maps it. */
kt_err
kt_st_wfail(struct kt_store_txn *w, int rc, const char *what)
{
	w->failed = 1;
	snprintf(w->s->werr, sizeof(w->s->werr), "%s: %s", what,
	    mdb_strerror(rc));
	if (rc == MDB_MAP_FULL) {
		w->full = 1;
		return KT_ERR_BUSY;
	}
	return KT_ERR_IO;
}

/* Loads the writer's state (size, rightmost tile of every level) from the
 * committed database. */
static kt_err
wload(struct kt_store *s, MDB_txn *txn)
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
		e = get_tile(txn, s->tiles, L, t->index, &p);
		if (e != KT_OK) {
			snprintf(s->werr, sizeof(s->werr), "loading tile %u/%llu:"
			    " %s", L, (unsigned long long)t->index,
			    kt_strerror(e));
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
		return kt_st_wfail(w, rc, "mdb_put(tile)");
	return KT_OK;
}

/*
 * Adds a hash to row 0 of level L's rightmost tile, computes the tile's
 * internal nodes it completes (one hash per trailing one bit of its
 * position), and when the tile fills, writes it for good and carries its top
 * hash into the next level.
 */
static kt_err
wpush(struct kt_store_txn *w, unsigned L, const struct kt_hash *leaf)
{
	struct kt_hash h = *leaf;
	kt_err e;

	for (; L < TILE_LEVELS; L++) {
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

kt_err
kt_store_write_begin(struct kt_store *s, struct kt_store_txn **out)
{
	struct kt_store_txn *w = &s->w;
	int rc, tries = 0;
	kt_err e;

	*out = NULL;
	if (s->broken)
		return KT_ERR_IO; /* werr still says why */
	s->werr[0] = 0;
	if (s->wopen)
		return KT_ERR_BUSY;
	memset(w, 0, sizeof(*w));
	w->s = s;
	/* The write transaction counts as an open transaction for the
	 * resize gate too: a reader adopting another process's map size must
	 * not resize under it. */
	for (;;) {
		gate_enter(s);
		rc = mdb_txn_begin(s->env, NULL, 0, &w->txn);
		if (rc != MDB_MAP_RESIZED || ++tries > MAX_RETRIES_RESIZED)
			break;
		gate_leave(s);
		(void)gate_resize(s, 0);
	}
	if (rc != 0) {
		gate_leave(s);
		snprintf(s->werr, sizeof(s->werr), "mdb_txn_begin: %s",
		    mdb_strerror(rc));
		return KT_ERR_IO;
	}
	if (!s->wloaded) {
		e = wload(s, w->txn);
		if (e != KT_OK) {
			mdb_txn_abort(w->txn);
			gate_leave(s);
			return e;
		}
	}
	rc = mdb_cursor_open(w->txn, s->labels, &w->lcur);
	if (rc != 0) {
		mdb_txn_abort(w->txn);
		gate_leave(s);
		snprintf(s->werr, sizeof(s->werr), "mdb_cursor_open: %s",
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
		return kt_st_wfail(w, rc, "mdb_get(entry)");
	*buf = val.mv_data;
	*len = val.mv_size;
	return KT_OK;
}

kt_err
kt_store_write_append(struct kt_store_txn *w, const uint8_t *entry,
    size_t len, uint64_t *index)
{
	struct kt_entry e;
	struct kt_hash h;
	uint8_t ik[8];
	MDB_val key, val;
	int rc;
	kt_err ke;

	if (w->failed)
		return KT_ERR_INTERNAL;
	if (kt_entry_decode(entry, len, &e) != KT_OK)
		return KT_ERR_MALFORMED;
	if (w->size == UINT64_MAX)
		return KT_ERR_RANGE;
	kt_put_be64(ik, w->size);
	/* A version that exists is refused before anything is written, so
	 * the transaction stays usable. */
	ke = kt_idx_check_version(w, &e);
	if (ke != KT_OK)
		return ke;
	key.mv_size = 8;
	key.mv_data = ik;
	val.mv_size = len;
	val.mv_data = (void *)entry;
	rc = mdb_put(w->txn, w->s->entries, &key, &val, MDB_APPEND);
	if (rc != 0)
		return kt_st_wfail(w, rc, "mdb_put(entry)");
	kt_hash_leaf(entry, len, &h);
	ke = kt_idx_add(w, e.version, &h, w->size);
	if (ke != KT_OK)
		return ke;
	ke = wpush(w, 0, &h);
	if (ke != KT_OK) {
		w->failed = 1;
		return ke;
	}
	*index = w->size++;
	return KT_OK;
}

/* kt_node_fn for the writer: the rightmost tile of each level from memory,
 * full tiles from the transaction. */
static kt_err
write_node(void *ctx, unsigned level, uint64_t i, struct kt_hash *out)
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
	e = get_tile(w->txn, w->s->tiles, L, n, &p);
	if (e != KT_OK)
		return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
	memcpy(out->b, p + (size_t)(ROW(k) + pos) * KT_HASH_LEN, KT_HASH_LEN);
	return KT_OK;
}

kt_err
kt_store_write_root(struct kt_store_txn *w, struct kt_hash *root)
{
	if (w->failed)
		return KT_ERR_INTERNAL;
	return kt_merkle_root(write_node, w, w->size, root);
}

kt_err
kt_store_write_checkpoint(struct kt_store_txn *w, const char *note,
    size_t len)
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
		return kt_st_wfail(w, rc, "mdb_put(checkpoint)");
	w->has_ckpt = 1;
	w->ckpt_size = w->size;
	return KT_OK;
}

/* Ends the transaction's bookkeeping after an abort or failed commit: the
 * in-memory tiles are reloaded from the committed state at the next begin,
 * and a full map is doubled. */
static void
wfinish_failed(struct kt_store *s, int full)
{
	s->next_slice = s->w.slice0; /* the sweeps did not happen */
	s->wloaded = 0;
	s->wopen = 0;
	gate_leave(s);
	if (full) {
		size_t next = s->mapsize * 2;

		if (next > s->mapsize)
			(void)gate_resize(s, next);
	}
}

/* Readers may now see checkpoints up to size (it only grows). */
static void
mark_durable(struct kt_store *s, uint64_t size)
{
	uint64_t d = atomic_load_explicit(&s->durable, memory_order_relaxed);

	while (size > d && !atomic_compare_exchange_weak_explicit(&s->durable,
	    &d, size, memory_order_release, memory_order_relaxed))
		;
}

/*
 * Makes every commit so far durable (fdatasync of LMDB's data file), then
 * lets readers see checkpoints up to `size` (UINT64_MAX: the last one).
 */
static kt_err
store_sync(struct kt_store *s, uint64_t size)
{
	mdb_filehandle_t fd;

	/* fdatasync of LMDB's data file directly: mdb_env_sync would read
	 * the map, which a concurrent map resize may be replacing. */
	if (mdb_env_get_fd(s->env, &fd) != 0 || fdatasync(fd) != 0)
		return KT_ERR_IO;
	if (size == UINT64_MAX) {
		/* At open: everything committed, i.e. the last checkpoint. */
		MDB_txn *txn = NULL;
		MDB_cursor *c = NULL;
		MDB_val key, val;
		int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);

		if (rc == 0)
			rc = mdb_cursor_open(txn, s->ckpts, &c);
		if (rc == 0)
			rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
		size = rc == 0 && key.mv_size == 8 ? kt_get_be64(key.mv_data) :
		    0;
		if (c != NULL)
			mdb_cursor_close(c);
		if (txn != NULL)
			mdb_txn_abort(txn);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return KT_ERR_IO;
	}
	mark_durable(s, size);
	return KT_OK;
}


static kt_err commit_txn(struct kt_store_txn *w);

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
		e = store_sync(s, size);
	}
	if (e != KT_OK) {
		s->broken = 1;
		snprintf(s->werr, sizeof(s->werr), "fdatasync after a commit "
		    "failed: not acknowledged; the log takes no more writes "
		    "until kt-logd is restarted");
	}
	return e;
}

/* Commits the write transaction; durable only after store_sync. */
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
		snprintf(s->werr, sizeof(s->werr), "commit without a "
		    "checkpoint for size %llu", (unsigned long long)w->size);
		kt_store_write_abort(w);
		return KT_ERR_INTERNAL;
	}
	e = w->size != w->size0 ? kt_idx_sweep(w) : KT_OK;
	if (e != KT_OK) {
		kt_store_write_abort(w);
		return e;
	}
	for (unsigned L = 0; L < TILE_LEVELS; L++) {
		if (!s->wt[L].dirty || s->wt[L].width == 0)
			continue;
		e = put_tile(w, L, &s->wt[L]);
		if (e != KT_OK) {
			kt_store_write_abort(w);
			return e;
		}
	}
	mdb_cursor_close(w->lcur);
	w->lcur = NULL;
	e = kt_idx_publish(w);
	if (e != KT_OK) {
		snprintf(s->werr, sizeof(s->werr), "out of memory");
		goto unpublish;
	}
	if (s->fail_commits > 0) {
		/* As if mdb_txn_commit failed: after the records went public. */
		s->fail_commits--;
		snprintf(s->werr, sizeof(s->werr), "injected commit failure");
		e = KT_ERR_IO;
		goto unpublish;
	}
	rc = mdb_txn_commit(w->txn);
	w->txn = NULL;
	if (rc != 0) {
		snprintf(s->werr, sizeof(s->werr), "mdb_txn_commit: %s",
		    mdb_strerror(rc));
		kt_idx_unpublish(w);
		wfinish_failed(s, rc == MDB_MAP_FULL);
		return rc == MDB_MAP_FULL ? KT_ERR_BUSY : KT_ERR_IO;
	}
	for (unsigned L = 0; L < TILE_LEVELS; L++)
		s->wt[L].dirty = 0;
	memcpy(s->wm, w->wm, sizeof(s->wm));
	s->pending = w->pending;
	s->wsize = w->size;
	s->wopen = 0;
	gate_leave(s);
	return KT_OK;
unpublish:
	/* Failed after the records went public, before LMDB committed. */
	kt_idx_unpublish(w);
	mdb_txn_abort(w->txn);
	w->txn = NULL;
	wfinish_failed(s, 0);
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
	kt_recent_drop_from(&w->s->tlab, 0);
	kt_recent_drop_from(&w->s->tleaf, 0);
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
