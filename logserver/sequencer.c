/*
 * sequencer.c: group commit of the key directory. One writer thread
 * integrates everything queued (up to max_batch entries, never splitting a
 * submission) in ONE write transaction: update leaves with their values,
 * the map's step, one map head, one checkpoint; it commits durably, and
 * only then answers every submitter. There is no timer: while one batch commits, the
 * next one accumulates, so batches grow with the load by themselves.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kt/checkpoint.h"
#include "kt/commit.h"
#include "kt/fmt.h"
#include "kt/label.h"
#include "kt/leaf.h"
#include "kt/map.h"
#include "kt/note.h"
#include "log.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_map.h"
#include "store/store_write.h"

#define SEQ_DEFAULT_BATCH 4096
#define SEQ_DEFAULT_QUEUE 65536
#define SEQ_DEFAULT_RETENTION_MS (600u * 1000u)
/* A batch that keeps hitting a full map after growing is an I/O error. */
#define SEQ_MAX_GROW_RETRIES 24

/* At most one log line about failing batches per this many µs. */
#define SEQ_FAIL_LOG_US (10u * 1000000u)
#define NOTE_CAP (KT_CHECKPOINT_TEXT_MAX + 512)

struct sub {
	struct sub *next;
	kt_seq_done_fn done;
	void *arg;
	size_t n;
	struct kt_seq_req *reqs; /* copied array; strings borrowed */
	struct kt_seq_res *res;
};

/* The map's state at the last commit, and what a batch makes of it. */
struct mapstate {
	struct kt_hash root;
	uint64_t head;   /* leaf index of the last map head */
	uint64_t labels; /* label_count */
	uint64_t ts;     /* its timestamp */
};

struct headtime {
	uint64_t head, ts;
};

struct kt_seq {
	struct kt_store *s;
	const struct kt_signer *signer;
	size_t max_batch;
	size_t max_queue;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sub *head, *tail;
	size_t queued; /* entries queued */
	int stopping;
	pthread_t thread;

	uint64_t retention_ms;

	_Atomic uint64_t entries_appended;
	_Atomic uint64_t batches;
	_Atomic uint64_t batch_size_hist[16];
	_Atomic uint64_t commit_us_hist[16];
	_Atomic uint64_t commit_us_sum;
	_Atomic uint64_t failed_batches;
	_Atomic uint64_t labels;
	_Atomic uint64_t map_us_sum;

	/* writer only: the map at the last commit, the batch's map updates,
	 * scratch values, and the map heads committed since start (oldest
	 * first) with their times, for pruning */
	struct mapstate map;
	struct kt_map_update *ups;
	size_t nups, ups_cap;
	uint8_t *openings; /* ups_cap of them, drawn for each batch */
	struct kt_store_value cur, scratch;
	struct headtime *ring;
	size_t ring_head, ring_len, ring_cap;

	/* writer only: failed batches are logged at most once per
	 * SEQ_FAIL_LOG_US (a full disk fails every batch) */
	uint64_t fail_logged_us;
	uint64_t fail_unlogged;
	int failing;
};

/* ---- helpers -------------------------------------------------------------- */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Bucket of batch size n: [0] = 1, [1] = 2, [2] = 3..4, [k] = up to 2^k. */
static unsigned
size_bucket(size_t n)
{
	unsigned k = 0;

	while (k < 15 && ((size_t)1 << k) < n)
		k++;
	return k;
}

/* Bucket of a latency: [k] = up to 50 * 2^k microseconds. */
static unsigned
us_bucket(uint64_t us)
{
	unsigned k = 0;

	while (k < 15 && ((uint64_t)50 << k) < us)
		k++;
	return k;
}

/* ---- retention of older maps -------------------------------------------- */

/*
 * A batch with map head X records the strata it superseded under X
 * (store_map.h): deleting them makes the maps of heads before X unreadable.
 * The map before X was current until X's time, so it is kept until
 * X's time + retention: the prune bound is 1 + the newest head committed at
 * least retention_ms before now. The heads live in a ring (oldest first);
 * it starts empty at each start, so heads from before a restart are pruned
 * with the first one after it that is old enough.
 */
static uint64_t
prune_bound(const struct kt_seq *q, uint64_t now)
{
	uint64_t before = 0;

	for (size_t i = 0; i < q->ring_len; i++) {
		const struct headtime *h =
		    &q->ring[(q->ring_head + i) % q->ring_cap];

		if (h->ts + q->retention_ms > now)
			break;
		before = h->head + 1;
	}
	return before;
}

static kt_err
prune(struct kt_seq *q, struct kt_store_txn *w, uint64_t now)
{
	uint64_t before = prune_bound(q, now);

	return before == 0 ? KT_OK : kt_store_map_prune(w, before);
}

/* After the commit: drops the pruned heads from the ring, adds the new. */
static void
prune_committed(struct kt_seq *q, uint64_t head, uint64_t now)
{
	while (q->ring_len > 0 &&
	    q->ring[q->ring_head].ts + q->retention_ms <= now) {
		q->ring_head = (q->ring_head + 1) % q->ring_cap;
		q->ring_len--;
	}
	if (q->ring_len == q->ring_cap) {
		size_t cap = q->ring_cap ? q->ring_cap * 2 : 1024;
		struct headtime *r = malloc(cap * sizeof(*r));

		if (r == NULL)
			return; /* this head is pruned later, with a newer one */
		for (size_t i = 0; i < q->ring_len; i++)
			r[i] = q->ring[(q->ring_head + i) % q->ring_cap];
		free(q->ring);
		q->ring = r;
		q->ring_cap = cap;
		q->ring_head = 0;
	}
	q->ring[(q->ring_head + q->ring_len) % q->ring_cap] =
	    (struct headtime){ head, now };
	q->ring_len++;
}

/* ---- integration of one batch ------------------------------------------- */

/* The label's chain after its update at leaf index `at` whose value is v. */
static kt_err
chain_at(struct kt_store_txn *w, uint64_t at, const struct kt_store_value *v,
    struct kt_hash *out)
{
	struct kt_update u;
	struct kt_hash lh;
	const uint8_t *buf;
	size_t len;
	kt_err e;

	e = kt_store_write_entry(w, at, &buf, &len);
	if (e != KT_OK)
		return e;
	if (kt_update_decode(buf, len, &u) != KT_OK)
		return KT_ERR_INTERNAL;
	kt_update_leaf_hash(&u, &lh);
	kt_map_chain_next(u.version == 1 ? NULL : &v->prev_chain, &lh, out);
	return KT_OK;
}

/* The update and value of version ver + 1 for rq, appended. */
static kt_err
append_update(struct kt_seq *q, struct kt_store_txn *w,
    const struct kt_seq_req *rq, uint64_t ver, uint64_t prev,
    const struct kt_store_value *cur, struct kt_seq_res *res)
{
	struct kt_store_value *nv = &q->scratch;
	struct kt_value val;
	struct kt_update u;
	struct kt_map_update *mu;
	uint8_t leaf[KT_UPDATE_LEN];
	kt_err e;

	memset(nv, 0, sizeof(*nv));
	if (ver > 0) {
		e = chain_at(w, prev, cur, &nv->prev_chain);
		if (e != KT_OK)
			return e;
	}
	if (q->nups == q->ups_cap)
		return KT_ERR_INTERNAL; /* sized for max_batch */
	memcpy(nv->opening, q->openings + (size_t)q->nups * KT_OPENING_LEN,
	    KT_OPENING_LEN);
	nv->kind = rq->op == KT_SEQ_REVOKE ? KT_VALUE_REVOKE : KT_VALUE_KEY;
	if (nv->kind == KT_VALUE_KEY) {
		memcpy(nv->key_type, rq->key_type, rq->key_type_len);
		nv->key_type_len = rq->key_type_len;
		memcpy(nv->key, rq->key, rq->key_len);
		nv->key_len = rq->key_len;
	}
	val.kind = nv->kind;
	val.key_type = nv->key_type;
	val.key_type_len = nv->key_type_len;
	val.key = nv->key;
	val.key_len = nv->key_len;
	u.index = rq->index;
	u.version = ver + 1;
	u.prev_index = ver > 0 ? prev : KT_NO_PREV;
	if (kt_commit(nv->opening, rq->label, rq->label_len, u.version, &val,
	        &u.commitment) != KT_OK ||
	    kt_update_encode(&u, leaf) != KT_OK) {
		/* The caller promised valid fields; refuse just this one. */
		res->err = KT_ERR_MALFORMED;
		return KT_OK;
	}
	e = kt_store_write_append(w, leaf, sizeof(leaf), &res->index);
	if (e == KT_OK)
		e = kt_store_write_value(w, res->index, nv);
	if (e == KT_OK && u.version == 1)
		e = kt_store_write_vrf(w, rq->label, rq->label_len,
		    rq->vrf_proof);
	if (e != KT_OK)
		return e;
	mu = &q->ups[q->nups++];
	mu->index = u.index;
	mu->version = u.version;
	mu->prev_index = ver > 0 ? prev : KT_MAP_NO_PREV;
	mu->log_index = res->index;
	kt_update_leaf_hash(&u, &mu->leaf_hash);
	res->version = u.version;
	res->appended = 1;
	return KT_OK;
}

/* Drops the openings of every version before the latest (at `latest`). */
static kt_err
erase_retired(struct kt_store_txn *w, uint64_t latest, struct kt_seq_res *res)
{
	struct kt_update u;
	const uint8_t *buf;
	size_t len;
	uint64_t at = latest;
	int erased;
	kt_err e;

	for (;;) {
		e = kt_store_write_entry(w, at, &buf, &len);
		if (e != KT_OK)
			return e;
		if (kt_update_decode(buf, len, &u) != KT_OK)
			return KT_ERR_INTERNAL;
		if (u.version == 1)
			return KT_OK;
		at = u.prev_index;
		e = kt_store_write_erase(w, at, &erased);
		if (e != KT_OK)
			return e;
		res->erased += (uint64_t)erased;
	}
}

/*
 * Applies one request in the open transaction: the label's latest update
 * decides (the transaction sees earlier requests of the same batch).
 */
static kt_err
apply(struct kt_seq *q, struct kt_store_txn *w, const struct kt_seq_req *rq,
    struct kt_seq_res *res)
{
	struct kt_store_value *cur = &q->cur;
	uint64_t ver, prev;
	int live = 0;
	kt_err err;

	memset(res, 0, sizeof(*res));
	res->err = KT_OK;
	if (rq->label == NULL || rq->label_len == 0 ||
	    rq->label_len > KT_CANON_MAX || rq->vrf_proof == NULL ||
	    (rq->op == KT_SEQ_PUBLISH &&
	        (rq->key_type_len > KT_KEY_TYPE_MAX ||
	            rq->key_len > KT_KEY_MAX))) {
		res->err = KT_ERR_MALFORMED;
		return KT_OK;
	}
	err = kt_store_write_latest(w, &rq->index, &ver, &prev);
	if (err != KT_OK)
		return err;
	if (ver == 0 && rq->op == KT_SEQ_PUBLISH && rq->has_skeleton) {
		/* A new label: its skeleton must be free (UTS #39). */
		err = kt_store_write_skeleton(w, rq->skeleton);
		if (err == KT_ERR_EXISTS) {
			res->err = KT_ERR_REFUSED;
			return KT_OK;
		}
		if (err != KT_OK)
			return err;
	}
	if (ver > 0) {
		err = kt_store_write_get_value(w, prev, cur);
		if (err != KT_OK)
			return err == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : err;
		live = !cur->erased && cur->kind == KT_VALUE_KEY;
	}
	switch (rq->op) {
	case KT_SEQ_ERASE:
		if (ver == 0) {
			res->err = KT_ERR_NOT_FOUND;
			return KT_OK;
		}
		res->index = prev;
		res->version = ver;
		return erase_retired(w, prev, res);
	case KT_SEQ_REVOKE:
		if (!live) {
			/* Nothing to revoke (never published, or revoked). */
			res->err = KT_ERR_CONFLICT;
			return KT_OK;
		}
		break;
	default:
		if (live && cur->key_type_len == rq->key_type_len &&
		    cur->key_len == rq->key_len &&
		    memcmp(cur->key_type, rq->key_type, rq->key_type_len) ==
		        0 &&
		    memcmp(cur->key, rq->key, rq->key_len) == 0) {
			/* Re-publishing the current key: idempotent. */
			res->index = prev;
			res->version = ver;
			return KT_OK;
		}
	}
	return append_update(q, w, rq, ver, prev, cur, res);
}

/* Signs and stores the checkpoint for the transaction's size. */
static kt_err
sign_checkpoint(struct kt_seq *q, struct kt_store_txn *w)
{
	struct kt_checkpoint c;
	char text[KT_CHECKPOINT_TEXT_MAX];
	char note[NOTE_CAP];
	size_t text_len, note_len;
	kt_err e;

	memset(&c, 0, sizeof(c));
	/* The store takes only origins a checkpoint can carry. */
	if (kt_fmt(c.origin, sizeof(c.origin), "%s", kt_store_origin(q->s)) !=
	    KT_OK)
		return KT_ERR_INTERNAL;
	c.size = kt_store_write_size(w);
	e = kt_store_write_root(w, &c.root);
	if (e != KT_OK)
		return e;
	e = kt_checkpoint_format(&c, text, sizeof(text), &text_len);
	if (e != KT_OK)
		return e;
	e = kt_note_sign(q->signer, text, text_len, note, sizeof(note),
	    &note_len);
	if (e != KT_OK)
		return e;
	return kt_store_write_checkpoint(w, note, note_len);
}

/*
 * Closes a batch: the map's step over the batch's updates, the map head
 * leaf after them, the checkpoint at that size, and the pruning of maps
 * older than the retention. *next is the map after the batch.
 */
static kt_err
close_batch(struct kt_seq *q, struct kt_store_txn *w, struct mapstate *next)
{
	struct kt_map_result mr;
	struct kt_map_head h;
	uint8_t leaf[KT_MAP_HEAD_LEN];
	uint64_t at, t0 = mono_us();
	kt_err e;

	memset(&mr, 0, sizeof(mr));
	at = kt_store_write_size(w);
	if (q->nups > 0) {
		e = kt_store_map_apply(w, &q->map.root, q->ups, q->nups, at,
		    &mr);
		if (e == KT_ERR_VERIFY) {
			/* Our own updates broke a map rule: a bug. */
			KT_LOG(KT_LOG_ERROR, "map_refused",
			    kt_log_str("why", mr.why != NULL ? mr.why : ""));
			return KT_ERR_INTERNAL;
		}
		if (e != KT_OK)
			return e;
	} else {
		kt_map_empty_root(&mr.root);
	}
	atomic_fetch_add_explicit(&q->map_us_sum, mono_us() - t0,
	    memory_order_relaxed);
	h.root = mr.root;
	h.timestamp_ms = now_ms();
	if (h.timestamp_ms < q->map.ts)
		h.timestamp_ms = q->map.ts; /* never back in time */
	h.log_size = at;
	h.prev_head = at == 0 ? KT_NO_PREV : q->map.head;
	h.label_count = q->map.labels + mr.inserted;
	if (kt_map_head_encode(&h, leaf) != KT_OK)
		return KT_ERR_INTERNAL;
	e = kt_store_write_append(w, leaf, sizeof(leaf), &next->head);
	if (e == KT_OK)
		e = sign_checkpoint(q, w);
	if (e == KT_OK)
		e = prune(q, w, h.timestamp_ms);
	if (e != KT_OK)
		return e;
	next->root = h.root;
	next->labels = h.label_count;
	next->ts = h.timestamp_ms;
	return KT_OK;
}

/*
 * The openings of a batch's updates, one 32-byte opening per request: one
 * system call for a fresh 32-byte seed, expanded by libsodium's ChaCha20
 * (randombytes_buf_deterministic), instead of one getrandom(2) per update.
 * Each batch draws a new seed, so openings stay unpredictable and are never
 * reused, even when a failed batch is retried.
 */
static void
draw_openings(struct kt_seq *q, const struct sub *batch)
{
	uint8_t seed[randombytes_SEEDBYTES];
	size_t n = 0;

	for (const struct sub *b = batch; b != NULL; b = b->next)
		n += b->n;
	if (n > q->ups_cap)
		n = q->ups_cap;
	randombytes_buf(seed, sizeof(seed));
	randombytes_buf_deterministic(q->openings, n * KT_OPENING_LEN, seed);
	sodium_memzero(seed, sizeof(seed));
}

/*
 * One write transaction for the whole batch. On KT_ERR_BUSY (map full,
 * grown meanwhile) the caller retries from scratch: nothing of the failed
 * attempt is kept, in the database or in memory.
 */
static kt_err
integrate(struct kt_seq *q, struct sub *batch, uint64_t *tree_size,
    size_t *appended)
{
	struct kt_store_txn *w = NULL;
	struct mapstate next = q->map;
	kt_err e;

	q->nups = 0;
	draw_openings(q, batch);
	e = kt_store_write_begin(q->s, &w);
	if (e != KT_OK)
		return e;
	for (struct sub *b = batch; b != NULL; b = b->next) {
		for (size_t i = 0; i < b->n; i++) {
			e = apply(q, w, &b->reqs[i], &b->res[i]);
			if (e != KT_OK)
				goto fail;
		}
	}
	/* Nothing appended (all idempotent, refused or erasures): no new
	 * map head, no new checkpoint. */
	if (q->nups > 0) {
		e = close_batch(q, w, &next);
		if (e != KT_OK)
			goto fail;
	}
	*tree_size = kt_store_write_size(w);
	e = kt_store_write_commit(w);
	w = NULL;
	if (e != KT_OK)
		goto fail;
	if (q->nups > 0)
		prune_committed(q, next.head, next.ts);
	q->map = next;
	atomic_store_explicit(&q->labels, next.labels, memory_order_relaxed);
	*appended = q->nups;
	return KT_OK;
fail:
	kt_store_write_abort(w);
	return e;
}

/*
 * One line for a failed batch, unless one was written in the last
 * SEQ_FAIL_LOG_US: then it is only counted, and the next line says how
 * many went unlogged (a full disk fails every batch, and each would
 * otherwise log).
 */
static void
log_failure(struct kt_seq *q, kt_err e, size_t nreq)
{
	uint64_t now = mono_us();

	atomic_fetch_add_explicit(&q->failed_batches, 1, memory_order_relaxed);
	if (q->failing && now - q->fail_logged_us < SEQ_FAIL_LOG_US) {
		q->fail_unlogged++;
		return;
	}
	/* The detail may quote a path: the logger escapes it. */
	KT_LOG(KT_LOG_ERROR, "batch_failed",
	    kt_log_str("error", kt_strerror(e)),
	    kt_log_str("detail", kt_store_write_errmsg(q->s)),
	    kt_log_uint("entries", nreq),
	    kt_log_uint("failed_batches_not_logged", q->fail_unlogged),
	    kt_log_str("msg", "batch failed, not acknowledged"));
	q->failing = 1;
	q->fail_logged_us = now;
	q->fail_unlogged = 0;
}

static void
run_batch(struct kt_seq *q, struct sub *batch, size_t nreq)
{
	uint64_t tree_size = 0, t0 = mono_us(), us;
	size_t appended = 0;
	unsigned tries = 0;
	kt_err e;

	do {
		e = integrate(q, batch, &tree_size, &appended);
	} while (e == KT_ERR_BUSY && ++tries < SEQ_MAX_GROW_RETRIES);
	if (e == KT_ERR_BUSY)
		e = KT_ERR_IO;
	if (e != KT_OK) {
		log_failure(q, e, nreq);
	} else {
		if (q->failing) {
			KT_LOG(KT_LOG_INFO, "writes_resumed",
			    kt_log_uint("failed_batches_not_logged",
			        q->fail_unlogged));
			q->failing = 0;
			q->fail_unlogged = 0;
		}
		us = mono_us() - t0;
		atomic_fetch_add_explicit(&q->entries_appended, appended,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&q->batches, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&q->batch_size_hist[size_bucket(
		                              nreq)],
		    1, memory_order_relaxed);
		atomic_fetch_add_explicit(&q->commit_us_hist[us_bucket(us)], 1,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&q->commit_us_sum, us,
		    memory_order_relaxed);
	}
	/* Durable (or failed as a whole): now answer everyone, in order. */
	while (batch != NULL) {
		struct sub *next = batch->next;

		if (e != KT_OK) {
			/* Every result says so too, for callers that look
			 * only at res[i].err. */
			memset(batch->res, 0, batch->n * sizeof(*batch->res));
			for (size_t i = 0; i < batch->n; i++)
				batch->res[i].err = e;
		}
		batch->done(batch->arg, e, e == KT_OK ? tree_size : 0,
		    batch->res, batch->n);
		free(batch);
		batch = next;
	}
}

static void *
writer(void *arg)
{
	struct kt_seq *q = arg;
	struct sub *batch, *last;
	size_t n;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->head == NULL)
			break; /* stopping and drained */
		/* Everything queued up to max_batch entries, whole
		 * submissions only (one always fits: n <= max_batch). */
		batch = last = q->head;
		n = batch->n;
		while (
		    last->next != NULL && n + last->next->n <= q->max_batch) {
			last = last->next;
			n += last->n;
		}
		q->head = last->next;
		if (q->head == NULL)
			q->tail = NULL;
		last->next = NULL;
		q->queued -= n;
		pthread_mutex_unlock(&q->mu);
		run_batch(q, batch, n);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* ---- public ------------------------------------------------------------- */

/*
 * The map at the last commit, from the store's last leaf, which is a map
 * head (every commit that appends ends with one). *empty = 1 for a store
 * with no leaf at all.
 */
static kt_err
load_map(struct kt_seq *q, int *empty)
{
	struct kt_store_read *r = NULL;
	struct kt_map_head h;
	const uint8_t *buf;
	size_t len;
	uint64_t size;
	kt_err err;

	*empty = 0;
	err = kt_store_read_begin(q->s, &r);
	if (err != KT_OK)
		return err;
	size = kt_store_read_size(r);
	if (size == 0) {
		*empty = 1;
	} else {
		err = kt_store_read_entry(r, size - 1, &buf, &len);
		if (err == KT_OK && kt_map_head_decode(buf, len, &h) != KT_OK)
			err = KT_ERR_INTERNAL;
		if (err == KT_OK) {
			q->map.root = h.root;
			q->map.head = size - 1;
			q->map.labels = h.label_count;
			q->map.ts = h.timestamp_ms;
		}
	}
	kt_store_read_end(r);
	return err;
}

/*
 * A new log (no leaf, no checkpoint) gets the empty map's head as leaf 0
 * and a signed size-1 checkpoint, committed durably before any
 * submission: GET /checkpoint never 404s, and every checkpoint, the first
 * included, ends with a map head that lookups and absence proofs use.
 */
static kt_err
ensure_head(struct kt_seq *q)
{
	struct kt_store_txn *w = NULL;
	struct mapstate next;
	unsigned tries = 0;
	int empty;
	kt_err e;

	e = load_map(q, &empty);
	if (e != KT_OK || !empty)
		return e;
	do {
		e = kt_store_write_begin(q->s, &w);
		if (e != KT_OK)
			return e;
		if (kt_store_write_size(w) != 0) {
			kt_store_write_abort(w);
			return KT_ERR_INTERNAL;
		}
		q->nups = 0;
		memset(&q->map, 0, sizeof(q->map));
		e = close_batch(q, w, &next);
		if (e != KT_OK) {
			kt_store_write_abort(w);
			if (e != KT_ERR_BUSY)
				return e;
			continue;
		}
		e = kt_store_write_commit(w);
	} while (e == KT_ERR_BUSY && ++tries < SEQ_MAX_GROW_RETRIES);
	if (e == KT_OK)
		q->map = next;
	return e == KT_ERR_BUSY ? KT_ERR_IO : e;
}

kt_err
kt_seq_start(struct kt_seq **out, struct kt_store *s,
    const struct kt_signer *signer, const struct kt_seq_opts *opts)
{
	struct kt_seq *q;
	struct kt_verifier v;
	char vk[KT_KEY_TEXT_MAX];
	kt_err e;

	*out = NULL;
	if (s == NULL || signer == NULL)
		return KT_ERR_RANGE;
	/* Checkpoints must verify under the key the store belongs to. */
	kt_signer_verifier(signer, &v);
	if (kt_verifier_format(&v, vk, sizeof(vk)) != KT_OK ||
	    strcmp(vk, kt_store_vkey(s)) != 0 ||
	    strcmp(v.name, kt_store_origin(s)) != 0)
		return KT_ERR_CONFLICT;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return KT_ERR_NOMEM;
	q->s = s;
	q->signer = signer;
	q->max_batch = opts != NULL && opts->max_batch ? opts->max_batch
	                                               : SEQ_DEFAULT_BATCH;
	q->max_queue = opts != NULL && opts->max_queue ? opts->max_queue
	                                               : SEQ_DEFAULT_QUEUE;
	if (q->max_queue < q->max_batch)
		q->max_queue = q->max_batch;
	q->retention_ms = opts != NULL && opts->map_retention_ms
	    ? opts->map_retention_ms
	    : SEQ_DEFAULT_RETENTION_MS;
	q->ups_cap = q->max_batch;
	q->ups = calloc(q->ups_cap, sizeof(*q->ups));
	q->openings = sodium_malloc(q->ups_cap * KT_OPENING_LEN);
	e = q->ups == NULL || q->openings == NULL ? KT_ERR_NOMEM
	                                          : ensure_head(q);
	if (e != KT_OK) {
		free(q->ups);
		if (q->openings != NULL)
			sodium_free(q->openings);
		free(q);
		return e;
	}
	atomic_store(&q->labels, q->map.labels);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (pthread_create(&q->thread, NULL, writer, q) != 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
		free(q->ups);
		sodium_free(q->openings);
		free(q);
		return KT_ERR_NOMEM;
	}
	*out = q;
	return KT_OK;
}

kt_err
kt_seq_submit(struct kt_seq *q, const struct kt_seq_req *reqs, size_t n,
    kt_seq_done_fn done, void *arg)
{
	struct sub *b;

	if (n == 0 || n > q->max_batch || reqs == NULL || done == NULL)
		return KT_ERR_RANGE;
	/* One allocation: the submission, a copy of the request array (the
	 * strings stay borrowed) and room for the results. */
	b = malloc(sizeof(*b) + n * (sizeof(*b->reqs) + sizeof(*b->res)));
	if (b == NULL)
		return KT_ERR_NOMEM;
	b->next = NULL;
	b->done = done;
	b->arg = arg;
	b->n = n;
	b->reqs = (struct kt_seq_req *)(b + 1);
	b->res = (struct kt_seq_res *)(b->reqs + n);
	memcpy(b->reqs, reqs, n * sizeof(*reqs));
	pthread_mutex_lock(&q->mu);
	if (q->stopping || q->queued + n > q->max_queue) {
		pthread_mutex_unlock(&q->mu);
		free(b);
		return KT_ERR_BUSY;
	}
	if (q->tail != NULL)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->queued += n;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return KT_OK;
}

void
kt_seq_stop(struct kt_seq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	sodium_memzero(&q->cur, sizeof(q->cur));
	sodium_memzero(&q->scratch, sizeof(q->scratch));
	free(q->ring);
	free(q->ups);
	sodium_free(q->openings); /* wipes them */
	free(q);
}

void
kt_seq_stats(const struct kt_seq *q, struct kt_seq_stats *out)
{
	struct kt_seq *m = (struct kt_seq *)q; /* atomics: loads only */

	out->entries_appended =
	    atomic_load_explicit(&m->entries_appended, memory_order_relaxed);
	out->batches = atomic_load_explicit(&m->batches, memory_order_relaxed);
	for (unsigned i = 0; i < 16; i++) {
		out->batch_size_hist[i] =
		    atomic_load_explicit(&m->batch_size_hist[i],
		        memory_order_relaxed);
		out->commit_us_hist[i] =
		    atomic_load_explicit(&m->commit_us_hist[i],
		        memory_order_relaxed);
	}
	out->commit_us_sum =
	    atomic_load_explicit(&m->commit_us_sum, memory_order_relaxed);
	out->failed_batches =
	    atomic_load_explicit(&m->failed_batches, memory_order_relaxed);
	out->labels = atomic_load_explicit(&m->labels, memory_order_relaxed);
	out->map_us_sum =
	    atomic_load_explicit(&m->map_us_sum, memory_order_relaxed);
}
