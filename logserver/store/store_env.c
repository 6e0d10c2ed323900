/*
 * store_env.c: what readers and the writer share on the LMDB environment:
 * the gate for growing the map, and durability (which commits readers may
 * see).
 *
 * Readers use MDB_NOTLS read-only transactions from any thread and never
 * wait for the writer. The one exception is growing the map, which LMDB
 * allows only with no transaction open in the process: a small gate
 * (mutex + condvar) lets the writer wait for open snapshots to end, and
 * holds new ones back meanwhile. It is entered only for the rare resize.
 *
 * Readers see checkpoints up to the durable size only: the commits that
 * kt_env_sync made durable (store_commit.c says why).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "kt/bytes.h"
#include "store/internal.h"

/* ---- resize gate --------------------------------------------------------- */

static void
gate_enter(struct kt_store *s)
{
	pthread_mutex_lock(&s->gate);
	while (s->resizing)
		pthread_cond_wait(&s->gate_cv, &s->gate);
	s->readers++;
	pthread_mutex_unlock(&s->gate);
}

void
kt_env_leave(struct kt_store *s)
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
int
kt_env_resize(struct kt_store *s, size_t size)
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

int
kt_env_begin(struct kt_store *s, unsigned flags, MDB_txn **txn)
{
	int rc, tries = 0;

	for (;;) {
		gate_enter(s);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc != MDB_MAP_RESIZED || ++tries > MAX_RETRIES_RESIZED)
			break;
		/* Another process grew the map: adopt its size. */
		kt_env_leave(s);
		(void)kt_env_resize(s, 0);
	}
	if (rc != 0)
		kt_env_leave(s);
	return rc;
}

/* ---- space ---------------------------------------------------------------- */

/* Less than this left for the server's user counts as full: a short write
 * leaves less than one page, and a commit needs many. */
#define DISK_FULL_BYTES (1u << 20)

int
kt_env_disk_full(struct kt_store *s)
{
	mdb_filehandle_t fd;
	struct statvfs st;

	if (mdb_env_get_fd(s->env, &fd) != 0 || fstatvfs(fd, &st) != 0)
		return 0;
	return (uint64_t)st.f_bavail * st.f_frsize < DISK_FULL_BYTES;
}

/* Free space that counts as room again: a few batches' worth, so that a
 * disk on the edge does not flap between full and not. */
#define DISK_ROOM_BYTES (64u << 20)

int
kt_env_disk_room(struct kt_store *s)
{
	mdb_filehandle_t fd;
	struct statvfs st;

	if (mdb_env_get_fd(s->env, &fd) != 0 || fstatvfs(fd, &st) != 0)
		return 0;
	return (uint64_t)st.f_bavail * st.f_frsize >= DISK_ROOM_BYTES;
}

/* ---- durability ---------------------------------------------------------- */

/* Readers may now see checkpoints up to size (it only grows). */
static void
mark_durable(struct kt_store *s, uint64_t size)
{
	uint64_t d = atomic_load_explicit(&s->durable, memory_order_relaxed);

	while (size > d &&
	    !atomic_compare_exchange_weak_explicit(&s->durable, &d, size,
	        memory_order_release, memory_order_relaxed))
		;
}

/*
 * Makes every commit so far durable (fdatasync of LMDB's data file), then
 * lets readers see checkpoints up to `size` (UINT64_MAX: the last one).
 */
kt_err
kt_env_sync(struct kt_store *s, uint64_t size)
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
		size =
		    rc == 0 && key.mv_size == 8 ? kt_get_be64(key.mv_data) : 0;
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
