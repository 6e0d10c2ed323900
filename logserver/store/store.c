/*
 * store.c: opening and closing kt-logd's store: the data folder, the LMDB
 * environment and the checks of its metadata. store/internal.h lists the
 * other files of the store and who may call whom.
 *
 * Layout of the one environment in the data folder (named databases):
 *   meta        "format" -> u32 BE, "origin" -> text, "vkey" -> text,
 *               "swept" -> the 256 slice watermarks of the two indexes
 *   entries     u64 BE leaf index -> encoded entry (appended with MDB_APPEND)
 *   tiles       u8 tile level || u64 BE tile index -> one tile's full node
 *               set (store_tile.c)
 *   labels      SHA-256(label) || u64 BE version -> u64 BE leaf index
 *   leafhash    first 8 bytes of the leaf hash -> u64 BE leaf index (DUPSORT)
 *   checkpoints u64 BE tree size -> signed checkpoint note; the last is the
 *               latest, and its size is the snapshot's tree size
 *   vrf         SHA-256(label) -> the label's 80-byte VRF proof
 *   values      u64 BE update leaf index -> what its commitment hides
 *               (opening and value) and the label's chain before it
 *   map         u64 BE stratum sequence number -> one stratum of the
 *               directory map, appended in sequence (store_map.c)
 *   mapgc       u64 BE map head leaf index -> the root its batch replaced
 *               and the sequence numbers of the strata it superseded,
 *               deleted once that map falls out of the retention window
 *               (store_map.c)
 *   maproots    map root hash -> u64 BE sequence number of its root
 *               stratum, for every retained map (store_map.c)
 *   skeletons   the first 16 bytes of SHA-256 of a label's UTS #39
 *               skeleton -> nothing: taken by a label the log holds, so a
 *               new label confusable with it is refused (store_values.c)
 *
 * The label and leaf-hash indexes are store_index.c's: their newest
 * records wait in memory and reach LMDB a key-space slice at a time; meta
 * "swept" holds the slices' watermarks.
 *
 * Other processes may open the folder read-only beside the writer
 * (kt_store_open_reader, read replicas): LMDB serves many reader
 * processes; they rebuild the writer's in-memory records themselves.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "store/internal.h"

/* Format 6 is the verifiable key directory's: update and map head leaves,
 * the map's strata appended in sequence (4 keyed them by hash), VRF proofs,
 * commitment openings and the skeletons of the labels held (5 had none).
 * A folder of another format is refused at open: older ones are not
 * upgraded (kt has no deployments that would need it). */
#define STORE_FORMAT 6u

/* A reader store's map: 1 TiB of address space (kt_store_open_reader). */
#define READER_MAPSIZE ((size_t)1 << 40)

/* ---- open / close -------------------------------------------------------- */

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
			kt_msg(err, errlen, "%s: %s", dir, strerror(errno));
			return KT_ERR_IO;
		}
		if (mkdir(dir, 0700) != 0) {
			kt_msg(err, errlen, "mkdir %s: %s", dir,
			    strerror(errno));
			return KT_ERR_IO;
		}
		return KT_OK;
	}
	if (!S_ISDIR(st.st_mode)) {
		kt_msg(err, errlen, "%s is not a folder", dir);
		return KT_ERR_CONFLICT;
	}
	d = opendir(dir);
	if (d == NULL) {
		kt_msg(err, errlen, "%s: %s", dir, strerror(errno));
		return KT_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, "data.mdb") == 0)
			has_db = 1;
		else if (strcmp(de->d_name, "lock.mdb") != 0 && other[0] == 0)
			kt_msg(other, sizeof(other), "%s", de->d_name);
	}
	closedir(d);
	if (!has_db && other[0] != 0) {
		kt_msg(err, errlen,
		    "%s is not a kt data folder (it holds \"%s\" "
		    "and no kt database); use an empty or new folder",
		    dir, other);
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
			kt_msg(err, errlen,
			    "%s holds an LMDB database that is "
			    "not a kt log (no kt metadata)",
			    dir);
			return KT_ERR_CONFLICT;
		}
		*fresh = 1;
		rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
	}
	if (rc == MDB_INCOMPATIBLE) {
		kt_msg(err, errlen, "%s is not a kt data folder", dir);
		return KT_ERR_CONFLICT;
	}
	if (rc != 0) {
		kt_msg(err, errlen, "%s: opening metadata: %s", dir,
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
		kt_msg(err, errlen,
		    "%s is not a kt data folder (no format "
		    "version)",
		    dir);
		return KT_ERR_CONFLICT;
	}
	p = v.mv_data;
	found = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	if (found == STORE_FORMAT)
		return KT_OK;
	if (found != 0 && found < STORE_FORMAT)
		kt_msg(err, errlen,
		    "%s holds kt store format %u; this kt-logd "
		    "reads only format %u and does not upgrade older ones "
		    "(kt has no release yet): a new folder is a new log, "
		    "with a new origin and key that clients pin again with "
		    "kt-verify init",
		    dir, (unsigned)found, STORE_FORMAT);
	else
		kt_msg(err, errlen,
		    "%s has an unsupported kt store format "
		    "(%u; this kt-logd reads format %u)",
		    dir, (unsigned)found, STORE_FORMAT);
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
		kt_msg(err, errlen,
		    "%s belongs to another log (origin "
		    "\"%.*s\"), not \"%s\"",
		    dir, (int)(v.mv_size > 255 ? 255 : v.mv_size),
		    (const char *)v.mv_data, s->origin);
		return KT_ERR_CONFLICT;
	}
	if (meta_get(txn, s->meta, "vkey", &v) != 0) {
		v.mv_size = 0;
		v.mv_data = (void *)"";
	}
	if (!val_is(&v, s->vkey)) {
		kt_msg(err, errlen,
		    "%s belongs to log \"%s\" under another "
		    "key (%.*s), not %s",
		    dir, s->origin, (int)(v.mv_size > 400 ? 400 : v.mv_size),
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
	    (rc = mdb_dbi_open(txn, "leafhash", c | MDB_DUPSORT | MDB_DUPFIXED,
	         &s->leafhash)) != 0 ||
	    (rc = mdb_dbi_open(txn, "checkpoints", c, &s->ckpts)) != 0 ||
	    (rc = mdb_dbi_open(txn, "vrf", c, &s->vrf)) != 0 ||
	    (rc = mdb_dbi_open(txn, "values", c, &s->values)) != 0 ||
	    (rc = mdb_dbi_open(txn, "map", c, &s->map)) != 0 ||
	    (rc = mdb_dbi_open(txn, "mapgc", c, &s->mapgc)) != 0 ||
	    (rc = mdb_dbi_open(txn, "maproots", c, &s->maproots)) != 0 ||
	    (rc = mdb_dbi_open(txn, "skeletons", c, &s->skeletons)) != 0) {
		kt_msg(err, errlen, "%s: opening databases: %s", dir,
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
	    (rc = meta_put(txn, s->meta, "vkey", s->vkey, strlen(s->vkey))) !=
	        0) {
		kt_msg(err, errlen, "writing metadata: %s", mdb_strerror(rc));
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
		kt_msg(err, errlen, "mdb_txn_begin: %s", mdb_strerror(rc));
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
		kt_msg(err, errlen, "mdb_txn_commit: %s", mdb_strerror(rc));
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
	pthread_mutex_init(&s->follow_mu, NULL);
	kt_mem_init(s);
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
 * size LMDB uses (an existing environment keeps a larger one; 0 adopts
 * the size the environment records). */
static kt_err
env_open(struct kt_store *s, const char *dir, unsigned flags, char *err,
    size_t errlen)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 16)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, 512)) != 0 ||
	    (s->mapsize != 0 &&
	        (rc = mdb_env_set_mapsize(s->env, s->mapsize)) != 0)) {
		kt_msg(err, errlen, "lmdb setup: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	/*
	 * MDB_NOMETASYNC: a commit syncs its data pages, then writes its meta
	 * page without waiting; kt_store_write_commit then syncs (kt_env_sync)
	 * and only after that shows the commit to readers, so no reader ever
	 * sees a checkpoint that a crash could still undo (with LMDB's own
	 * synchronous meta write, a reader could read the new meta page from
	 * the map while its write was still in flight). LMDB keeps the
	 * previous commit's pages intact meanwhile. Never MDB_NOSYNC.
	 * MDB_NOTLS: read transactions are not bound to threads (HTTP
	 * workers hand them on). A reader store passes MDB_RDONLY instead
	 * of MDB_NOMETASYNC: LMDB then never writes the data file, and
	 * still registers the process's snapshots in the lock file, so the
	 * writer keeps the pages they read.
	 */
	rc = mdb_env_open(s->env, dir, MDB_NOTLS | flags, 0600);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
		kt_msg(err, errlen,
		    "%s is not a kt data folder (data.mdb is "
		    "not a usable LMDB database)",
		    dir);
		return KT_ERR_CONFLICT;
	}
	if (rc != 0) {
		kt_msg(err, errlen, "%s: mdb_env_open: %s", dir,
		    mdb_strerror(rc));
		/* ENOMEM: no room for the mapping (address space) */
		return rc == ENOMEM ? KT_ERR_NOMEM : KT_ERR_IO;
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

	if (kt_fmt(lp, sizeof(lp), "%s/lock.mdb", dir) != KT_OK) {
		kt_msg(err, errlen, "%s: folder path too long", dir);
		return KT_ERR_RANGE;
	}
	s->lockfd = open(lp, O_RDWR | O_CLOEXEC);
	if (s->lockfd < 0) {
		kt_msg(err, errlen, "%s: %s", lp, strerror(errno));
		return KT_ERR_IO;
	}
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
		kt_msg(err, errlen, "%s is in use by another kt-logd process",
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
		kt_msg(err, errlen,
		    "store: missing or oversized folder, origin "
		    "or key");
		return KT_ERR_RANGE;
	}
	e = check_folder(dir, err, errlen);
	if (e == KT_OK)
		e = store_new(&s, origin, vkey, mapsize);
	if (e == KT_OK)
		e = env_open(s, dir, MDB_NOMETASYNC, err, errlen);
	if (e == KT_OK)
		e = lock_folder(s, dir, err, errlen);
	if (e == KT_OK)
		e = init_dbs(s, dir, err, errlen);
	if (e == KT_OK)
		e = kt_mem_load(s, err, errlen);
	/* Whatever a previous process committed is made durable before
	 * anyone reads it. */
	if (e == KT_OK && kt_env_sync(s, UINT64_MAX) != KT_OK) {
		kt_msg(err, errlen, "%s: syncing data.mdb failed", dir);
		e = KT_ERR_IO;
	}
	if (e == KT_OK) {
		*out = s;
		return KT_OK;
	}
	if (e == KT_ERR_NOMEM)
		kt_msg(err, errlen, "store: out of memory");
	kt_store_close(s);
	return e;
}

kt_err
kt_store_open(struct kt_store **out, const char *dir, const char *origin,
    const char *vkey, char *err, size_t errlen)
{
	return kt_store_open_mapsize(out, dir, origin, vkey, 0, err, errlen);
}

/* ---- a reader beside the writer ------------------------------------------ */

/* A reader's folder must hold the writer's data file: it creates nothing. */
static kt_err
check_reader_folder(const char *dir, char *err, size_t errlen)
{
	char p[4096];
	struct stat st;

	if (kt_fmt(p, sizeof(p), "%s/data.mdb", dir) != KT_OK) {
		kt_msg(err, errlen, "%s: folder path too long", dir);
		return KT_ERR_RANGE;
	}
	if (stat(p, &st) != 0 || st.st_size == 0) {
		kt_msg(err, errlen,
		    "%s holds no kt log yet (no data.mdb): start the writer "
		    "(kt-logd serve without --read-only) on it first",
		    dir);
		return KT_ERR_NOT_FOUND;
	}
	return KT_OK;
}

/* Opens the named databases in a read-only transaction (committed, so the
 * handles stay open) and checks the metadata. */
static kt_err
init_dbs_reader(struct kt_store *s, const char *dir, char *err, size_t errlen)
{
	MDB_txn *txn = NULL;
	int rc;
	kt_err e;

	rc = kt_env_begin(s, MDB_RDONLY, &txn);
	if (rc != 0) {
		kt_msg(err, errlen, "mdb_txn_begin: %s", mdb_strerror(rc));
		return KT_ERR_IO;
	}
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND) {
		kt_msg(err, errlen,
		    "%s holds no kt log yet (no metadata): start the "
		    "writer on it first",
		    dir);
		e = KT_ERR_NOT_FOUND;
	} else if (rc == MDB_INCOMPATIBLE) {
		kt_msg(err, errlen, "%s is not a kt data folder", dir);
		e = KT_ERR_CONFLICT;
	} else if (rc != 0) {
		kt_msg(err, errlen, "%s: opening metadata: %s", dir,
		    mdb_strerror(rc));
		e = KT_ERR_IO;
	} else {
		e = check_format(s, txn, dir, err, errlen);
	}
	if (e == KT_OK)
		e = check_owner(s, txn, dir, err, errlen);
	if (e == KT_OK)
		e = open_tables(s, txn, 0, dir, err, errlen);
	if (e == KT_OK) {
		rc = mdb_txn_commit(txn);
		if (rc != 0) {
			kt_msg(err, errlen, "mdb_txn_commit: %s",
			    mdb_strerror(rc));
			e = KT_ERR_IO;
		}
	} else {
		mdb_txn_abort(txn);
	}
	kt_env_leave(s);
	return e;
}

kt_err
kt_store_open_reader(struct kt_store **out, const char *dir, const char *origin,
    const char *vkey, char *err, size_t errlen)
{
	struct kt_store *s = NULL;
	int dead;
	kt_err e;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = 0;
	if (dir == NULL || origin == NULL || vkey == NULL || origin[0] == 0 ||
	    vkey[0] == 0 || strlen(origin) > 255 || strlen(vkey) > 400) {
		kt_msg(err, errlen,
		    "store: missing or oversized folder, origin or key");
		return KT_ERR_RANGE;
	}
	e = check_reader_folder(dir, err, errlen);
	if (e == KT_OK)
		e = store_new(&s, origin, vkey, 0);
	if (e == KT_OK) {
		s->reader = 1;
		/* A map far larger than the writer's: a read-only mapping
		 * past the end of the file costs only address space, and
		 * adopting the writer's growth (kt_env_begin, on
		 * MDB_MAP_RESIZED) would wait for every open snapshot of
		 * this process to end. */
		for (size_t size = READER_MAPSIZE;; size /= 4) {
			/* Less where the address space is short (e.g. under
			 * ThreadSanitizer); 0 at last: the file's size. */
			s->mapsize = size < ((size_t)1 << 30) ? 0 : size;
			e = env_open(s, dir, MDB_RDONLY, err, errlen);
			if (e != KT_ERR_NOMEM || s->mapsize == 0)
				break;
			mdb_env_close(s->env);
			s->env = NULL;
		}
	}
	if (e == KT_OK)
		e = init_dbs_reader(s, dir, err, errlen);
	if (e == KT_OK)
		e = kt_mem_load(s, err, errlen);
	/* What the writer committed is made durable before anyone reads it,
	 * as the writer itself does at open. */
	if (e == KT_OK && kt_env_sync(s, UINT64_MAX) != KT_OK) {
		kt_msg(err, errlen, "%s: syncing data.mdb failed", dir);
		e = KT_ERR_IO;
	}
	if (e == KT_OK) {
		/* Slots a killed reader left behind would keep the writer
		 * from reusing pages. */
		(void)mdb_reader_check(s->env, &dead);
		*out = s;
		return KT_OK;
	}
	if (e == KT_ERR_NOMEM)
		kt_msg(err, errlen, "store: out of memory");
	kt_store_close(s);
	return e;
}

int
kt_store_is_reader(const struct kt_store *s)
{
	return s->reader;
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
	pthread_mutex_destroy(&s->follow_mu);
	kt_mem_free(s);
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
	return kt_store_write_state(s) == KT_OK;
}

kt_err
kt_store_write_state(const struct kt_store *s)
{
	struct kt_store *m = (struct kt_store *)s;

	if (m->reader)
		return KT_OK; /* it never writes */
	if (atomic_load_explicit(&m->broken, memory_order_relaxed))
		return KT_ERR_IO;
	switch (atomic_load_explicit(&m->nospace, memory_order_relaxed)) {
	case 0:
		return KT_OK;
	case KT_NOSPACE_DISK:
		/* No write may come to clear it (a load balancer that saw
		 * /healthz fail sends none): look at the disk itself. */
		if (!kt_env_disk_room(m))
			return KT_ERR_FULL;
		atomic_store(&m->nospace, 0);
		return KT_OK;
	default:
		return KT_ERR_FULL; /* max_db_size: the next commit that fits */
	}
}

void
kt_store_set_max_bytes(struct kt_store *s, uint64_t max)
{
	s->max_bytes = max;
	/* A smaller map now; LMDB keeps it no smaller than the data. */
	if (max != 0 && s->mapsize > max)
		(void)kt_env_resize(s, (size_t)max);
}

/* Pages in use by one database, in bytes. */
static uint64_t
db_bytes(MDB_txn *txn, MDB_dbi dbi, unsigned psize)
{
	MDB_stat st;

	if (mdb_stat(txn, dbi, &st) != 0)
		return 0;
	return ((uint64_t)st.ms_branch_pages + st.ms_leaf_pages +
	           st.ms_overflow_pages) *
	    psize;
}

kt_err
kt_store_live_bytes(struct kt_store_read *r, struct kt_store_bytes *out)
{
	struct kt_store *s = r->s;
	MDB_stat st;
	unsigned ps;

	memset(out, 0, sizeof(*out));
	if (mdb_env_stat(s->env, &st) != 0)
		return KT_ERR_IO;
	ps = st.ms_psize;
	out->leaves = db_bytes(r->txn, s->entries, ps);
	out->tiles = db_bytes(r->txn, s->tiles, ps);
	out->indexes = db_bytes(r->txn, s->labels, ps) +
	    db_bytes(r->txn, s->leafhash, ps) +
	    db_bytes(r->txn, s->skeletons, ps);
	out->checkpoints = db_bytes(r->txn, s->ckpts, ps);
	out->vrf = db_bytes(r->txn, s->vrf, ps);
	out->values = db_bytes(r->txn, s->values, ps);
	out->map = db_bytes(r->txn, s->map, ps) +
	    db_bytes(r->txn, s->mapgc, ps) + db_bytes(r->txn, s->maproots, ps);
	out->total = out->leaves + out->tiles + out->indexes +
	    out->checkpoints + out->vrf + out->values + out->map;
	return KT_OK;
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
