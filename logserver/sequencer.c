/*
 * sequencer.c: group commit. One writer thread integrates everything queued
 * (up to max_batch entries, never splitting a submission) in ONE write
 * transaction, signs one checkpoint for it, commits durably, and only then
 * answers every submitter. There is no timer: while one batch commits, the
 * next one accumulates, so batches grow with the load by themselves.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kt/checkpoint.h"
#include "kt/entry.h"
#include "kt/fmt.h"
#include "kt/note.h"
#include "log.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_write.h"

#define SEQ_DEFAULT_BATCH 4096
#define SEQ_DEFAULT_QUEUE 65536
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

	uint64_t last_ts; /* writer only: timestamps never decrease */

	_Atomic uint64_t entries_appended;
	_Atomic uint64_t batches;
	_Atomic uint64_t batch_size_hist[16];
	_Atomic uint64_t commit_us_hist[16];
	_Atomic uint64_t commit_us_sum;
	_Atomic uint64_t failed_batches;

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

/* ---- integration of one batch ------------------------------------------- */

/*
 * Applies one request in the open transaction: the label's latest entry
 * decides (the transaction sees earlier requests of the same batch).
 */
static kt_err
apply(struct kt_seq *q, struct kt_store_txn *w, const struct kt_seq_req *rq,
    struct kt_seq_res *res)
{
	uint64_t ver, prev;
	const uint8_t *old;
	size_t old_len, len;
	struct kt_entry cur, e;
	uint8_t buf[KT_ENTRY_MAX];
	uint64_t ts;
	int live = 0;
	kt_err err;

	memset(res, 0, sizeof(*res));
	res->err = KT_OK;
	err = kt_store_write_latest(w, rq->label, rq->label_len, &ver, &prev);
	if (err == KT_ERR_RANGE) {
		res->err = KT_ERR_MALFORMED;
		return KT_OK;
	}
	if (err != KT_OK)
		return err;
	if (ver > 0) {
		err = kt_store_write_entry(w, prev, &old, &old_len);
		if (err != KT_OK)
			return err;
		if (kt_entry_decode(old, old_len, &cur) != KT_OK)
			return KT_ERR_INTERNAL;
		live = cur.type == KT_ENTRY_KEY;
	}
	memset(&e, 0, sizeof(e));
	if (rq->revoke) {
		if (!live) {
			/* Nothing to revoke (never published, or revoked). */
			res->err = KT_ERR_CONFLICT;
			return KT_OK;
		}
		e.type = KT_ENTRY_REVOKE;
	} else {
		if (live && cur.key_type_len == rq->key_type_len &&
		    cur.key_len == rq->key_len &&
		    memcmp(cur.key_type, rq->key_type, rq->key_type_len) == 0 &&
		    memcmp(cur.key, rq->key, rq->key_len) == 0) {
			/* Re-publishing the current key: idempotent. */
			res->index = prev;
			res->version = ver;
			res->appended = 0;
			return KT_OK;
		}
		e.type = KT_ENTRY_KEY;
		e.key_type = rq->key_type;
		e.key_type_len = rq->key_type_len;
		e.key = rq->key;
		e.key_len = rq->key_len;
	}
	ts = now_ms();
	if (ts < q->last_ts)
		ts = q->last_ts;
	e.timestamp_ms = ts;
	e.label = rq->label;
	e.label_len = rq->label_len;
	e.version = ver + 1;
	e.prev_index = ver > 0 ? prev : KT_NO_PREV;
	if (kt_entry_encode(&e, buf, sizeof(buf), &len) != KT_OK) {
		/* The caller promised valid fields; refuse just this one. */
		res->err = KT_ERR_MALFORMED;
		return KT_OK;
	}
	err = kt_store_write_append(w, buf, len, &res->index);
	if (err == KT_ERR_MALFORMED || err == KT_ERR_CONFLICT) {
		res->err = err;
		return KT_OK;
	}
	if (err != KT_OK)
		return err;
	q->last_ts = ts;
	res->version = e.version;
	res->appended = 1;
	return KT_OK;
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
 * One write transaction for the whole batch. On KT_ERR_BUSY (map full,
 * grown meanwhile) the caller retries from scratch: nothing of the failed
 * attempt is kept, in the database or in memory.
 */
static kt_err
integrate(struct kt_seq *q, struct sub *batch, uint64_t *tree_size,
    size_t *appended)
{
	struct kt_store_txn *w = NULL;
	uint64_t ts0 = q->last_ts;
	size_t nappended = 0;
	kt_err e;

	e = kt_store_write_begin(q->s, &w);
	if (e != KT_OK)
		return e;
	for (struct sub *b = batch; b != NULL; b = b->next) {
		for (size_t i = 0; i < b->n; i++) {
			e = apply(q, w, &b->reqs[i], &b->res[i]);
			if (e != KT_OK)
				goto fail;
			nappended += b->res[i].appended ? 1 : 0;
		}
	}
	/* Nothing appended (all idempotent or refused): no new checkpoint. */
	if (nappended > 0) {
		e = sign_checkpoint(q, w);
		if (e != KT_OK)
			goto fail;
	}
	*tree_size = kt_store_write_size(w);
	e = kt_store_write_commit(w);
	w = NULL;
	if (e != KT_OK)
		goto fail;
	*appended = nappended;
	return KT_OK;
fail:
	kt_store_write_abort(w);
	q->last_ts = ts0;
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

/* The newest entry's timestamp, so that a restart under a clock that went
 * back still never decreases timestamps. */
static kt_err
load_last_ts(struct kt_seq *q)
{
	struct kt_store_read *r = NULL;
	struct kt_entry e;
	const uint8_t *buf;
	size_t len;
	uint64_t size;
	kt_err err;

	err = kt_store_read_begin(q->s, &r);
	if (err != KT_OK)
		return err;
	size = kt_store_read_size(r);
	if (size > 0) {
		err = kt_store_read_entry(r, size - 1, &buf, &len);
		if (err == KT_OK && kt_entry_decode(buf, len, &e) == KT_OK)
			q->last_ts = e.timestamp_ms;
	}
	kt_store_read_end(r);
	return err;
}

/*
 * The log always has a checkpoint: a store with none (a new, empty log)
 * gets a signed size-0 checkpoint (root = SHA-256 of the empty string),
 * committed durably before any submission, so GET /checkpoint never 404s
 * and clients can start against an empty log.
 */
static kt_err
ensure_checkpoint(struct kt_seq *q)
{
	struct kt_store_read *r = NULL;
	struct kt_store_txn *w = NULL;
	const char *note;
	size_t len;
	unsigned tries = 0;
	kt_err e;

	e = kt_store_read_begin(q->s, &r);
	if (e != KT_OK)
		return e;
	e = kt_store_read_checkpoint(r, &note, &len);
	kt_store_read_end(r);
	if (e != KT_ERR_NOT_FOUND)
		return e;
	do {
		e = kt_store_write_begin(q->s, &w);
		if (e != KT_OK)
			return e;
		if (kt_store_write_size(w) != 0) {
			/* Entries without a checkpoint: never written so. */
			kt_store_write_abort(w);
			return KT_ERR_INTERNAL;
		}
		e = sign_checkpoint(q, w);
		if (e != KT_OK) {
			kt_store_write_abort(w);
			if (e != KT_ERR_BUSY)
				return e;
			continue;
		}
		e = kt_store_write_commit(w);
	} while (e == KT_ERR_BUSY && ++tries < SEQ_MAX_GROW_RETRIES);
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
	e = load_last_ts(q);
	if (e == KT_OK)
		e = ensure_checkpoint(q);
	if (e != KT_OK) {
		free(q);
		return e;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	if (pthread_create(&q->thread, NULL, writer, q) != 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
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
}
