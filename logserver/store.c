/*
 * store.c: kt-logd's LMDB storage (the only file that includes lmdb.h).
 *
 * Layout of the one environment in the data folder (named databases):
 *   meta        "format" -> u32 BE, "origin" -> text, "vkey" -> text
 *   entries     u64 BE leaf index -> encoded entry (appended with MDB_APPEND)
 *   tiles       u8 tile level || u64 BE tile index -> one tile's full node set
 *   labels      label || 0x00 || u64 BE version -> u64 BE leaf index
 *   leafhash    first 8 bytes of the leaf hash -> u64 BE leaf index (DUPSORT)
 *   leafrecent  the same, for recent leaves not yet moved into leafhash
 *   checkpoints u64 BE tree size -> signed checkpoint note; the last is the
 *               latest, and its size is the snapshot's tree size
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
 * The label index needs no count record: the latest version of a label is
 * the key just before label || 0x01 (labels hold no bytes below 0x20, so no
 * other label's keys fall between), one cursor seek.
 *
 * The leaf-hash index keys only 8 bytes of the hash (a third of the bytes of
 * a full-hash key); candidates are confirmed against the level-0 tile.
 * It has two levels, so that a batch does not dirty one page of a big
 * random-key index per entry: a commit inserts its records (sorted) into the
 * small leafrecent, then, while leafrecent holds more than about 1/16 of the
 * leaves (at most 64 Ki records), moves the records of the next 1/256 of the
 * key space (a slice, taken in turn) from leafrecent into leafhash. A
 * slice's records thus arrive in leafhash together (~256 records into 1/256
 * of its pages when leafrecent is full) whatever the batch size, and the
 * work per commit stays proportional to the batch. Each record is in exactly
 * one of the two in every committed state, and a reader looks in both
 * within its snapshot.
 *
 * Concurrency: readers use MDB_NOTLS read-only transactions from any thread
 * and never wait for the writer. The one exception is growing the map, which
 * LMDB allows only with no transaction open in the process: a small gate
 * (mutex + condvar) lets the writer wait for open snapshots to end, and holds
 * new ones back meanwhile. It is entered only for the rare resize.
 */
#include <dirent.h>
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
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
#include "store.h"
#include "store_write.h"

/* Format 2 added the leafrecent database. A format-1 folder is upgraded in
 * place at open (it just has no recent records yet); the bump makes older
 * binaries, which would not look in leafrecent, refuse the folder. */
#define STORE_FORMAT 2u
#define STORE_FORMAT_OLDEST 1u
#define TILE_NODES 511
#define TILE_BYTES (TILE_NODES * KT_HASH_LEN)
#define TILE_LEVELS 8 /* tile levels 0..7 hold tree levels 0..63 */
#define TILE_KEY_LEN 9
#define LEAF_KEY_LEN 8
#define LABEL_KEY_MAX (KT_LABEL_MAX + 9)
#define MAX_RETRIES_RESIZED 8
/* Leaf-hash sweep: slices of the key space (by the first byte) and the
 * size leafrecent is kept near: size / 16, within [1 Ki, 64 Ki] records. */
#define LH_SLICES 256
#define LH_RECENT_DIV 16
#define LH_RECENT_MIN 1024
#define LH_RECENT_MAX 65536

/* Offset of row k (tree level 8L + k) in a stored tile. */
#define ROW(k) (512u - (512u >> (k)))

struct wtile {
	uint64_t index;   /* tile index N of the level's rightmost tile */
	unsigned width;   /* hashes filled in its row 0 (0..255) */
	int dirty;        /* changed since the last commit */
	struct kt_hash n[TILE_NODES];
};

/* A leaf-hash index record waiting for the commit (see lh_flush). */
struct lhrec {
	uint8_t k[LEAF_KEY_LEN];
	uint8_t v[8];
};

struct kt_store_txn {
	struct kt_store *s;
	MDB_txn *txn;
	MDB_cursor *lcur;  /* labels, kept open for the transaction */
	size_t nlh;        /* records in s->lh for this transaction */
	uint64_t size0;    /* size at begin */
	uint64_t size;
	uint64_t ckpt_size;
	int has_ckpt;
	int failed;
	int full;          /* failed with MDB_MAP_FULL */
};

struct kt_store {
	MDB_env *env;
	MDB_dbi meta, entries, tiles, labels, leafhash, leafrecent, ckpts;
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
	struct lhrec *lh;            /* leaf-hash records of the open txn */
	size_t lh_cap;
	unsigned lh_slice;           /* next slice to move to leafhash */
	char werr[160];
	unsigned fail_commits;       /* test hook */
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
};

/* ---- small helpers ------------------------------------------------------- */

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
tile_key(uint8_t key[TILE_KEY_LEN], unsigned level, uint64_t n)
{
	key[0] = (uint8_t)level;
	kt_put_be64(key + 1, n);
}

/* Builds label || 0x00 || be64(version) into key; returns its length. */
static size_t
label_key(uint8_t key[LABEL_KEY_MAX], const char *label, size_t len,
    uint64_t version)
{
	memcpy(key, label, len);
	key[len] = 0;
	kt_put_be64(key + len + 1, version);
	return len + 9;
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
check_folder(const char *dir, int *has_db, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	char other[256] = "";

	*has_db = 0;
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
			*has_db = 1;
		else if (strcmp(de->d_name, "lock.mdb") != 0 && other[0] == 0)
			snprintf(other, sizeof(other), "%s", de->d_name);
	}
	closedir(d);
	if (!*has_db && other[0] != 0) {
		seterr(err, errlen, "%s is not a kt data folder (it holds \"%s\" "
		    "and no kt database); use an empty or new folder", dir, other);
		return KT_ERR_CONFLICT;
	}
	return KT_OK;
}

static int
meta_put(MDB_txn *txn, MDB_dbi dbi, const char *k, const void *v, size_t len)
{
	MDB_val key = { strlen(k), (void *)k };
	MDB_val val = { len, (void *)v };

	return mdb_put(txn, dbi, &key, &val, 0);
}

static int
meta_get(MDB_txn *txn, MDB_dbi dbi, const char *k, MDB_val *val)
{
	MDB_val key = { strlen(k), (void *)k };

	return mdb_get(txn, dbi, &key, val);
}

static int
val_is(const MDB_val *v, const char *s)
{
	size_t n = strlen(s);

	return v->mv_size == n && memcmp(v->mv_data, s, n) == 0;
}

/* Opens or creates the named databases and checks or writes the metadata. */
static kt_err
init_dbs(struct kt_store *s, const char *dir, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	MDB_val v;
	MDB_stat st;
	int rc, fresh = 0, upgrade = 0;
	kt_err e = KT_ERR_IO;
	uint8_t fmt[4];

	rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0) {
		seterr(err, errlen, "mdb_txn_begin: %s", mdb_strerror(rc));
		goto out;
	}
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND) {
		/* No metadata: fine only if the environment is empty (just
		 * created, or a crash before the first commit). */
		MDB_dbi main_dbi;

		rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
		if (rc == 0)
			rc = mdb_stat(txn, main_dbi, &st);
		if (rc == 0 && st.ms_entries != 0) {
			seterr(err, errlen, "%s holds an LMDB database that is "
			    "not a kt log (no kt metadata)", dir);
			e = KT_ERR_CONFLICT;
			goto out;
		}
		fresh = 1;
		rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
	}
	if (rc != 0) {
		seterr(err, errlen, "%s: opening metadata: %s", dir,
		    mdb_strerror(rc));
		if (rc == MDB_INCOMPATIBLE) {
			seterr(err, errlen, "%s is not a kt data folder", dir);
			e = KT_ERR_CONFLICT;
		}
		goto out;
	}
	if (!fresh) {
		if (meta_get(txn, s->meta, "format", &v) != 0 || v.mv_size != 4) {
			seterr(err, errlen, "%s is not a kt data folder (no "
			    "format version)", dir);
			e = KT_ERR_CONFLICT;
			goto out;
		}
		fmt[0] = fmt[1] = fmt[2] = 0;
		fmt[3] = (uint8_t)STORE_FORMAT;
		if (memcmp(v.mv_data, fmt, 3) == 0 &&
		    ((const uint8_t *)v.mv_data)[3] >= STORE_FORMAT_OLDEST &&
		    ((const uint8_t *)v.mv_data)[3] < STORE_FORMAT)
			upgrade = 1;
		else if (memcmp(v.mv_data, fmt, 4) != 0) {
			seterr(err, errlen, "%s has an unsupported kt store "
			    "format", dir);
			e = KT_ERR_CONFLICT;
			goto out;
		}
		if (meta_get(txn, s->meta, "origin", &v) != 0) {
			v.mv_size = 0;
			v.mv_data = (void *)"";
		}
		if (!val_is(&v, s->origin)) {
			seterr(err, errlen, "%s belongs to another log (origin "
			    "\"%.*s\"), not \"%s\"", dir,
			    (int)(v.mv_size > 255 ? 255 : v.mv_size),
			    (const char *)v.mv_data, s->origin);
			e = KT_ERR_CONFLICT;
			goto out;
		}
		if (meta_get(txn, s->meta, "vkey", &v) != 0) {
			v.mv_size = 0;
			v.mv_data = (void *)"";
		}
		if (!val_is(&v, s->vkey)) {
			seterr(err, errlen, "%s belongs to log \"%s\" under "
			    "another key (%.*s), not %s", dir, s->origin,
			    (int)(v.mv_size > 400 ? 400 : v.mv_size),
			    (const char *)v.mv_data, s->vkey);
			e = KT_ERR_CONFLICT;
			goto out;
		}
	}
	{
		unsigned c = fresh ? MDB_CREATE : 0;

		if ((rc = mdb_dbi_open(txn, "entries", c, &s->entries)) != 0 ||
		    (rc = mdb_dbi_open(txn, "tiles", c, &s->tiles)) != 0 ||
		    (rc = mdb_dbi_open(txn, "labels", c, &s->labels)) != 0 ||
		    (rc = mdb_dbi_open(txn, "leafhash", c | MDB_DUPSORT |
		    MDB_DUPFIXED, &s->leafhash)) != 0 ||
		    /* Created in older folders too: they simply have no
		     * recent records yet. */
		    (rc = mdb_dbi_open(txn, "leafrecent", MDB_CREATE |
		    MDB_DUPSORT | MDB_DUPFIXED, &s->leafrecent)) != 0 ||
		    (rc = mdb_dbi_open(txn, "checkpoints", c, &s->ckpts)) != 0) {
			seterr(err, errlen, "%s: opening databases: %s", dir,
			    mdb_strerror(rc));
			e = rc == MDB_NOTFOUND ? KT_ERR_CONFLICT : KT_ERR_IO;
			goto out;
		}
	}
	if (upgrade) {
		fmt[0] = fmt[1] = fmt[2] = 0;
		fmt[3] = (uint8_t)STORE_FORMAT;
		if ((rc = meta_put(txn, s->meta, "format", fmt, 4)) != 0) {
			seterr(err, errlen, "upgrading the format: %s",
			    mdb_strerror(rc));
			goto out;
		}
	}
	if (fresh) {
		fmt[0] = fmt[1] = fmt[2] = 0;
		fmt[3] = (uint8_t)STORE_FORMAT;
		if ((rc = meta_put(txn, s->meta, "format", fmt, 4)) != 0 ||
		    (rc = meta_put(txn, s->meta, "origin", s->origin,
		    strlen(s->origin))) != 0 ||
		    (rc = meta_put(txn, s->meta, "vkey", s->vkey,
		    strlen(s->vkey))) != 0) {
			seterr(err, errlen, "writing metadata: %s",
			    mdb_strerror(rc));
			goto out;
		}
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		seterr(err, errlen, "mdb_txn_commit: %s", mdb_strerror(rc));
		goto out;
	}
	e = KT_OK;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return e;
}

kt_err
kt_store_open_mapsize(struct kt_store **out, const char *dir,
    const char *origin, const char *vkey, size_t mapsize, char *err,
    size_t errlen)
{
	struct kt_store *s = NULL;
	int has_db, rc;
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
	e = check_folder(dir, &has_db, err, errlen);
	if (e != KT_OK)
		return e;
	e = KT_ERR_NOMEM;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto out;
	s->lockfd = -1;
	pthread_mutex_init(&s->gate, NULL);
	pthread_cond_init(&s->gate_cv, NULL);
	s->origin = strdup(origin);
	s->vkey = strdup(vkey);
	s->wt = calloc(TILE_LEVELS, sizeof(*s->wt));
	if (s->origin == NULL || s->vkey == NULL || s->wt == NULL)
		goto out;
	s->mapsize = mapsize ? mapsize : KT_STORE_MAPSIZE_DEFAULT;
	e = KT_ERR_IO;
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 512)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->mapsize)) != 0) {
		seterr(err, errlen, "lmdb setup: %s", mdb_strerror(rc));
		goto out;
	}
	/* Durable commits: no MDB_NOSYNC / MDB_NOMETASYNC. MDB_NOTLS: read
	 * transactions are not bound to threads (HTTP workers hand them on). */
	rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600);
	if (rc != 0) {
		seterr(err, errlen, "%s: mdb_env_open: %s", dir,
		    mdb_strerror(rc));
		if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
			seterr(err, errlen, "%s is not a kt data folder "
			    "(data.mdb is not a usable LMDB database)", dir);
			e = KT_ERR_CONFLICT;
		}
		goto out;
	}
	{
		MDB_envinfo info;

		if (mdb_env_info(s->env, &info) == 0)
			s->mapsize = info.me_mapsize;
	}
	(void)has_db;
	/*
	 * One kt-logd per folder: LMDB lets several processes write, but the
	 * writer's in-memory tiles assume nobody else appends. An flock on
	 * LMDB's own lock file (independent of LMDB's fcntl locks; mdb_copy
	 * backups are unaffected) refuses a second server.
	 */
	{
		char lp[4096];

		snprintf(lp, sizeof(lp), "%s/lock.mdb", dir);
		s->lockfd = open(lp, O_RDWR | O_CLOEXEC);
		if (s->lockfd < 0) {
			seterr(err, errlen, "%s: %s", lp, strerror(errno));
			goto out;
		}
		if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
			seterr(err, errlen, "%s is in use by another kt-logd "
			    "process", dir);
			e = KT_ERR_BUSY;
			goto out;
		}
	}
	e = init_dbs(s, dir, err, errlen);
	if (e != KT_OK)
		goto out;
	*out = s;
	s = NULL;
	e = KT_OK;
out:
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
	free(s->wt);
	free(s->lh);
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

/* Latest version of a label via cursor c: the key just before
 * label || 0x01. */
static int
latest_version(MDB_cursor *c, const char *label, size_t len,
    uint64_t *version, uint64_t *index)
{
	uint8_t k[LABEL_KEY_MAX];
	MDB_val key, val;
	int rc;

	*version = 0;
	*index = KT_NO_PREV;
	memcpy(k, label, len);
	k[len] = 1;
	key.mv_size = len + 1;
	key.mv_data = k;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
	else if (rc == 0)
		rc = mdb_cursor_get(c, &key, &val, MDB_PREV);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (key.mv_size != len + 9 || memcmp(key.mv_data, label, len) != 0 ||
	    ((uint8_t *)key.mv_data)[len] != 0)
		return 0;
	if (val.mv_size != 8)
		return MDB_CORRUPTED;
	*version = kt_get_be64((uint8_t *)key.mv_data + len + 1);
	*index = kt_get_be64(val.mv_data);
	return 0;
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
		rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
		mdb_cursor_close(c);
	}
	if (rc == 0 && key.mv_size == 8) {
		r->size = kt_get_be64(key.mv_data);
		r->note = val.mv_data;
		r->note_len = val.mv_size;
	} else if (rc != 0 && rc != MDB_NOTFOUND) {
		kt_store_read_end(r);
		return KT_ERR_IO;
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
static kt_err
read_node(void *ctx, unsigned level, uint64_t i, struct kt_hash *out)
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
	return read_node(r, 0, index, out);
}

static kt_err
find_leaf_in(struct kt_store_read *r, MDB_dbi dbi,
    const struct kt_hash *leaf_hash, uint64_t *index)
{
	MDB_cursor *c = NULL;
	MDB_val key = { LEAF_KEY_LEN, (void *)leaf_hash->b }, val;
	struct kt_hash h;
	uint64_t idx;
	int rc;
	kt_err e = KT_ERR_NOT_FOUND;

	if (mdb_cursor_open(r->txn, dbi, &c) != 0)
		return KT_ERR_IO;
	rc = mdb_cursor_get(c, &key, &val, MDB_SET_KEY);
	while (rc == 0) {
		if (val.mv_size != 8) {
			e = KT_ERR_INTERNAL;
			break;
		}
		idx = kt_get_be64(val.mv_data);
		/* 8 bytes of hash select candidates; the tile confirms. */
		if (idx < r->size) {
			e = read_node(r, 0, idx, &h);
			if (e != KT_OK)
				break;
			if (memcmp(h.b, leaf_hash->b, KT_HASH_LEN) == 0) {
				*index = idx;
				break;
			}
			e = KT_ERR_NOT_FOUND;
		}
		rc = mdb_cursor_get(c, &key, &val, MDB_NEXT_DUP);
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		e = KT_ERR_IO;
	mdb_cursor_close(c);
	return e;
}

kt_err
kt_store_find_leaf(struct kt_store_read *r, const struct kt_hash *leaf_hash,
    uint64_t *index)
{
	/* Both levels of the index, in the same snapshot: each record is in
	 * exactly one of them. */
	kt_err e = find_leaf_in(r, r->s->leafhash, leaf_hash, index);

	if (e == KT_ERR_NOT_FOUND)
		e = find_leaf_in(r, r->s->leafrecent, leaf_hash, index);
	return e;
}

kt_err
kt_store_label_count(struct kt_store_read *r, const char *label, size_t len,
    uint64_t *count)
{
	MDB_cursor *c = NULL;
	uint64_t idx;
	int rc;

	*count = 0;
	if (label == NULL || len == 0 || len > KT_LABEL_MAX)
		return KT_ERR_RANGE;
	if (memchr(label, 0, len) != NULL || memchr(label, 1, len) != NULL)
		return KT_OK; /* never a valid label: never published */
	if (mdb_cursor_open(r->txn, r->s->labels, &c) != 0)
		return KT_ERR_IO;
	rc = latest_version(c, label, len, count, &idx);
	mdb_cursor_close(c);
	return rc == 0 ? KT_OK : KT_ERR_IO;
}

kt_err
kt_store_label_version(struct kt_store_read *r, const char *label,
    size_t len, uint64_t version, uint64_t *index)
{
	uint8_t k[LABEL_KEY_MAX];
	MDB_val key, val;
	int rc;

	if (label == NULL || len == 0 || len > KT_LABEL_MAX)
		return KT_ERR_RANGE;
	if (version == 0)
		return KT_ERR_NOT_FOUND;
	key.mv_size = label_key(k, label, len, version);
	key.mv_data = k;
	rc = mdb_get(r->txn, r->s->labels, &key, &val);
	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	if (val.mv_size != 8)
		return KT_ERR_INTERNAL;
	*index = kt_get_be64(val.mv_data);
	return KT_OK;
}

kt_err
kt_store_inclusion(struct kt_store_read *r, uint64_t index, uint64_t size,
    struct kt_proof *out)
{
	if (size > r->size || index >= size)
		return KT_ERR_RANGE;
	return kt_merkle_inclusion_proof(read_node, r, index, size, out);
}

kt_err
kt_store_consistency(struct kt_store_read *r, uint64_t old,
    uint64_t new_size, struct kt_proof *out)
{
	if (new_size > r->size || old > new_size)
		return KT_ERR_RANGE;
	return kt_merkle_consistency_proof(read_node, r, old, new_size, out);
}

kt_err
kt_store_root(struct kt_store_read *r, uint64_t size, struct kt_hash *out)
{
	if (size > r->size)
		return KT_ERR_RANGE;
	return kt_merkle_root(read_node, r, size, out);
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
static kt_err
wfail(struct kt_store_txn *w, int rc, const char *what)
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
		return wfail(w, rc, "mdb_put(tile)");
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
kt_store_write_latest(struct kt_store_txn *w, const char *label, size_t len,
    uint64_t *version, uint64_t *index)
{
	int rc;

	*version = 0;
	*index = KT_NO_PREV;
	if (w->failed)
		return KT_ERR_INTERNAL;
	if (label == NULL || len == 0 || len > KT_LABEL_MAX)
		return KT_ERR_RANGE;
	if (memchr(label, 0, len) != NULL || memchr(label, 1, len) != NULL)
		return KT_OK;
	rc = latest_version(w->lcur, label, len, version, index);
	if (rc != 0)
		return wfail(w, rc, "label lookup");
	return KT_OK;
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
kt_store_write_append(struct kt_store_txn *w, const uint8_t *entry,
    size_t len, uint64_t *index)
{
	struct kt_entry e;
	struct kt_hash h;
	uint8_t ik[8], lk[LABEL_KEY_MAX];
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
	/* The label index first, with MDB_NOOVERWRITE: a version that exists
	 * is refused before anything else is written, so the transaction
	 * stays usable. */
	key.mv_size = label_key(lk, e.label, e.label_len, e.version);
	key.mv_data = lk;
	val.mv_size = 8;
	val.mv_data = ik;
	/* Through the labels cursor: kt_store_write_latest left it on this
	 * label's page, and LMDB then skips the descent from the root. */
	rc = mdb_cursor_put(w->lcur, &key, &val, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return KT_ERR_CONFLICT;
	if (rc != 0)
		return wfail(w, rc, "mdb_put(label)");
	key.mv_size = 8;
	key.mv_data = ik;
	val.mv_size = len;
	val.mv_data = (void *)entry;
	rc = mdb_put(w->txn, w->s->entries, &key, &val, MDB_APPEND);
	if (rc != 0)
		return wfail(w, rc, "mdb_put(entry)");
	kt_hash_leaf(entry, len, &h);
	/* The leaf-hash index record is kept for the commit, which inserts
	 * the batch's records in key order (lh_flush). */
	if (w->nlh == w->s->lh_cap) {
		size_t cap = w->s->lh_cap ? w->s->lh_cap * 2 : 1024;
		struct lhrec *n = realloc(w->s->lh, cap * sizeof(*n));

		if (n == NULL) {
			w->failed = 1;
			snprintf(w->s->werr, sizeof(w->s->werr), "out of memory");
			return KT_ERR_NOMEM;
		}
		w->s->lh = n;
		w->s->lh_cap = cap;
	}
	memcpy(w->s->lh[w->nlh].k, h.b, LEAF_KEY_LEN);
	memcpy(w->s->lh[w->nlh].v, ik, 8);
	w->nlh++;
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
		return wfail(w, rc, "mdb_put(checkpoint)");
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
	s->wloaded = 0;
	s->wopen = 0;
	gate_leave(s);
	if (full) {
		size_t next = s->mapsize * 2;

		if (next > s->mapsize)
			(void)gate_resize(s, next);
	}
}

static int
lhrec_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct lhrec)); /* key, then value: both BE */
}

/*
 * Inserts the transaction's leaf-hash records sorted by key, through one
 * cursor: consecutive inserts then walk the index in order (branch pages
 * stay in cache, and LMDB skips the descent when the next key falls on the
 * cursor's page) instead of jumping around it for every entry.
 */
static kt_err
lh_flush(struct kt_store_txn *w)
{
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc;

	if (w->nlh == 0)
		return KT_OK;
	qsort(w->s->lh, w->nlh, sizeof(struct lhrec), lhrec_cmp);
	rc = mdb_cursor_open(w->txn, w->s->leafrecent, &c);
	if (rc != 0)
		return wfail(w, rc, "mdb_cursor_open(leafhash)");
	for (size_t i = 0; i < w->nlh; i++) {
		key.mv_size = LEAF_KEY_LEN;
		key.mv_data = w->s->lh[i].k;
		val.mv_size = 8;
		val.mv_data = w->s->lh[i].v;
		rc = mdb_cursor_put(c, &key, &val, 0);
		if (rc != 0) {
			mdb_cursor_close(c);
			return wfail(w, rc, "mdb_put(leafhash)");
		}
	}
	mdb_cursor_close(c);
	w->nlh = 0;
	return KT_OK;
}

/*
 * Moves the records of the next key-space slice from leafrecent into
 * leafhash, in key order (both through cursors). The records are first
 * copied out (s->lh, free again after lh_flush): LMDB's pointers into a
 * page do not survive the writes.
 */
static kt_err
lh_sweep(struct kt_store_txn *w, size_t *moved)
{
	struct kt_store *s = w->s;
	MDB_cursor *rcur = NULL, *mc = NULL;
	MDB_val key, val;
	uint8_t start[LEAF_KEY_LEN] = { 0 };
	unsigned slice = s->lh_slice;
	size_t n = 0;
	int rc;
	kt_err e = KT_OK;

	*moved = 0;
	start[0] = (uint8_t)(slice * (256 / LH_SLICES));
	if ((rc = mdb_cursor_open(w->txn, s->leafrecent, &rcur)) != 0 ||
	    (rc = mdb_cursor_open(w->txn, s->leafhash, &mc)) != 0) {
		e = wfail(w, rc, "mdb_cursor_open(leaf sweep)");
		goto out;
	}
	key.mv_size = LEAF_KEY_LEN;
	key.mv_data = start;
	rc = mdb_cursor_get(rcur, &key, &val, MDB_SET_RANGE);
	while (rc == 0) {
		if (key.mv_size != LEAF_KEY_LEN || val.mv_size != 8) {
			w->failed = 1;
			e = KT_ERR_INTERNAL;
			goto out;
		}
		if (((const uint8_t *)key.mv_data)[0] / (256 / LH_SLICES) !=
		    slice)
			break;
		if (n == s->lh_cap) {
			size_t cap = s->lh_cap ? s->lh_cap * 2 : 1024;
			struct lhrec *p = realloc(s->lh, cap * sizeof(*p));

			if (p == NULL) {
				w->failed = 1;
				snprintf(s->werr, sizeof(s->werr), "out of memory");
				e = KT_ERR_NOMEM;
				goto out;
			}
			s->lh = p;
			s->lh_cap = cap;
		}
		memcpy(s->lh[n].k, key.mv_data, LEAF_KEY_LEN);
		memcpy(s->lh[n].v, val.mv_data, 8);
		n++;
		rc = mdb_cursor_get(rcur, &key, &val, MDB_NEXT);
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		e = wfail(w, rc, "mdb_cursor_get(leafrecent)");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		key.mv_size = LEAF_KEY_LEN;
		key.mv_data = s->lh[i].k;
		val.mv_size = 8;
		val.mv_data = s->lh[i].v;
		rc = mdb_cursor_put(mc, &key, &val, 0);
		if (rc == 0)
			rc = mdb_del(w->txn, s->leafrecent, &key, &val);
		if (rc != 0) {
			e = wfail(w, rc, "leaf sweep");
			goto out;
		}
	}
	s->lh_slice = (slice + 1) % LH_SLICES;
	*moved = n;
out:
	if (mc != NULL)
		mdb_cursor_close(mc);
	if (rcur != NULL)
		mdb_cursor_close(rcur);
	return e;
}

/* Sweeps slices, in turn, while leafrecent is over its target size. */
static kt_err
lh_balance(struct kt_store_txn *w)
{
	MDB_stat st;
	uint64_t target = w->size / LH_RECENT_DIV;
	size_t cnt, moved;
	int rc;
	kt_err e;

	if (target < LH_RECENT_MIN)
		target = LH_RECENT_MIN;
	if (target > LH_RECENT_MAX)
		target = LH_RECENT_MAX;
	rc = mdb_stat(w->txn, w->s->leafrecent, &st);
	if (rc != 0)
		return wfail(w, rc, "mdb_stat(leafrecent)");
	cnt = st.ms_entries;
	for (unsigned k = 0; k < LH_SLICES && cnt > target; k++) {
		e = lh_sweep(w, &moved);
		if (e != KT_OK)
			return e;
		cnt -= moved < cnt ? moved : cnt;
	}
	return KT_OK;
}

kt_err
kt_store_write_commit(struct kt_store_txn *w)
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
	e = lh_flush(w);
	if (e == KT_OK && w->size != w->size0)
		e = lh_balance(w);
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
	if (s->fail_commits > 0) {
		s->fail_commits--;
		snprintf(s->werr, sizeof(s->werr), "injected commit failure");
		kt_store_write_abort(w);
		return KT_ERR_IO;
	}
	mdb_cursor_close(w->lcur);
	w->lcur = NULL;
	rc = mdb_txn_commit(w->txn);
	w->txn = NULL;
	if (rc != 0) {
		snprintf(s->werr, sizeof(s->werr), "mdb_txn_commit: %s",
		    mdb_strerror(rc));
		wfinish_failed(s, rc == MDB_MAP_FULL);
		return rc == MDB_MAP_FULL ? KT_ERR_BUSY : KT_ERR_IO;
	}
	for (unsigned L = 0; L < TILE_LEVELS; L++)
		s->wt[L].dirty = 0;
	s->wsize = w->size;
	s->wopen = 0;
	gate_leave(s);
	return KT_OK;
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
