/*
 * check_sequencer_concurrent.c: group commit over a real store in a fresh
 * temporary folder under concurrency: many submitters at once (versions,
 * links and batch limits hold), and readers proving while the map grows.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "kt/checkpoint.h"
#include "kt/entry.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "sequencer.h"
#include "store/store.h"
#include "seq_testlib.h"
#include "store/store.h"
#include "store/store_write.h"

/* ---- concurrent submitters --------------------------------------------------- */

#define NTHREADS 4
#define PER_THREAD 300
#define NLABELS 40
#define MAX_BATCH 64

struct tsub {
	int calls;
	kt_err err;
	uint64_t tree_size;
	size_t n;
	struct kt_seq_res res[3];
	struct kt_seq_req rq[3];
	uint8_t key[3][32];
};

struct tctx {
	struct kt_seq *q;
	int id;
	struct tsub *subs;
};

static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_cv = PTHREAD_COND_INITIALIZER;
static int cb_total;
static char label_names[NLABELS][32];

static void
on_tdone(void *arg, kt_err err, uint64_t tree_size,
    const struct kt_seq_res *res, size_t n)
{
	struct tsub *t = arg;

	/* Each submission is touched only by its callback here. */
	t->err = err;
	t->tree_size = tree_size;
	t->n = n;
	memcpy(t->res, res, n * sizeof(*res));
	__atomic_add_fetch(&t->calls, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&cb_mu);
	cb_total++;
	pthread_cond_broadcast(&cb_cv);
	pthread_mutex_unlock(&cb_mu);
}

static void *
submitter(void *arg)
{
	struct tctx *c = arg;
	unsigned seed = (unsigned)c->id * 7919u + 1;

	for (int i = 0; i < PER_THREAD; i++) {
		struct tsub *t = &c->subs[i];
		size_t n = 1 + (size_t)(rand_r(&seed) % 3);

		for (size_t j = 0; j < n; j++) {
			unsigned li = (unsigned)rand_r(&seed) % NLABELS;
			unsigned kind = (unsigned)rand_r(&seed) % 10;

			/* Few distinct keys so that re-publishes are often
			 * idempotent; some revocations. */
			memset(t->key[j], (int)(rand_r(&seed) % 3), 32);
			if (kind == 0)
				t->rq[j] = rev(label_names[li]);
			else
				t->rq[j] = pub(label_names[li], "ed25519",
				    t->key[j], 32);
		}
		while (
		    kt_seq_submit(c->q, t->rq, n, on_tdone, t) == KT_ERR_BUSY)
			usleep(100);
	}
	return NULL;
}

/* Every request of submission t got a result consistent with the entry it
 * names in snapshot r (a conflict only for a revocation). Returns how many
 * of them appended an entry. */
static uint64_t
check_sub_results(struct kt_store_read *r, const struct tsub *t)
{
	uint64_t appended = 0;

	for (size_t k = 0; k < t->n; k++) {
		const struct kt_seq_res *res = &t->res[k];
		const uint8_t *buf;
		size_t len;
		struct kt_entry e;

		if (res->err == KT_ERR_CONFLICT) {
			ck_assert(t->rq[k].revoke);
			continue;
		}
		ck_assert_int_eq(res->err, KT_OK);
		ck_assert_uint_lt(res->index, t->tree_size);
		appended += res->appended ? 1 : 0;
		ck_assert_int_eq(kt_store_read_entry(r, res->index, &buf, &len),
		    KT_OK);
		ck_assert_int_eq(kt_entry_decode(buf, len, &e), KT_OK);
		ck_assert_uint_eq(e.version, res->version);
		ck_assert_uint_eq(e.label_len, t->rq[k].label_len);
		ck_assert_mem_eq(e.label, t->rq[k].label, e.label_len);
		ck_assert_int_eq(e.type,
		    t->rq[k].revoke ? KT_ENTRY_REVOKE : KT_ENTRY_KEY);
		if (!t->rq[k].revoke)
			ck_assert_mem_eq(e.key, t->key[k], 32);
	}
	return appended;
}

/* Versions 1..count per label with previous links; timestamps never
 * decrease (entries [0, size) of snapshot r). */
static void
check_versions_and_links(struct kt_store_read *r, uint64_t size)
{
	uint64_t count[NLABELS] = { 0 }, last_ts = 0;

	for (uint64_t i = 0; i < size; i++) {
		const uint8_t *buf;
		size_t len;
		struct kt_entry e;
		unsigned li;
		uint64_t vidx;

		ck_assert_int_eq(kt_store_read_entry(r, i, &buf, &len), KT_OK);
		ck_assert_int_eq(kt_entry_decode(buf, len, &e), KT_OK);
		ck_assert_uint_ge(e.timestamp_ms, last_ts);
		last_ts = e.timestamp_ms;
		ck_assert_int_eq(sscanf(e.label, "user%u@", &li), 1);
		ck_assert_uint_lt(li, NLABELS);
		ck_assert_uint_eq(e.version, count[li] + 1);
		if (count[li] == 0) {
			ck_assert_uint_eq(e.prev_index, KT_NO_PREV);
		} else {
			ck_assert_int_eq(kt_store_label_version(r, e.label,
			                     e.label_len, count[li], &vidx),
			    KT_OK);
			ck_assert_uint_eq(e.prev_index, vidx);
		}
		count[li]++;
		ck_assert_int_eq(kt_store_label_version(r, e.label, e.label_len,
		                     e.version, &vidx),
		    KT_OK);
		ck_assert_uint_eq(vidx, i);
	}
}

/* Batches never exceed max_batch: consecutive committed sizes seen by
 * callbacks (sizes, sorted here) differ by at most MAX_BATCH. */
static void
check_batch_spacing(uint64_t *sizes, size_t nsizes)
{
	for (size_t i = 1; i < nsizes; i++) {
		for (size_t j = i; j > 0 && sizes[j - 1] > sizes[j]; j--) {
			uint64_t x = sizes[j];

			sizes[j] = sizes[j - 1];
			sizes[j - 1] = x;
		}
	}
	for (size_t i = 1; i < nsizes; i++)
		ck_assert_uint_le(sizes[i] - sizes[i - 1], MAX_BATCH);
	ck_assert_uint_le(sizes[0], MAX_BATCH);
}

START_TEST(test_concurrent_submitters)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, MAX_BATCH, 256);
	struct tctx ctx[NTHREADS];
	pthread_t th[NTHREADS];
	struct kt_seq_stats st;
	struct kt_store_read *r;
	uint64_t size, appended = 0, *sizes;
	size_t nsizes = 0;

	cb_total = 0;
	for (int i = 0; i < NLABELS; i++)
		snprintf(label_names[i], sizeof(label_names[i]),
		    "user%d@example.org", i);
	for (int i = 0; i < NTHREADS; i++) {
		ctx[i].q = q;
		ctx[i].id = i;
		ctx[i].subs = calloc(PER_THREAD, sizeof(struct tsub));
		ck_assert_ptr_nonnull(ctx[i].subs);
		ck_assert_int_eq(pthread_create(&th[i], NULL, submitter,
		                     &ctx[i]),
		    0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_lock(&cb_mu);
	while (cb_total < NTHREADS * PER_THREAD)
		pthread_cond_wait(&cb_cv, &cb_mu);
	pthread_mutex_unlock(&cb_mu);
	/* Batch sizes (in requests) stay within max_batch: buckets past
	 * [6] (33..64) are empty. */
	kt_seq_stats(q, &st);
	for (int i = 7; i < 16; i++)
		ck_assert_uint_eq(st.batch_size_hist[i], 0);
	ck_assert_uint_gt(st.batches, 0);
	kt_seq_stop(q);
	ck_assert_int_eq(cb_total, NTHREADS * PER_THREAD);

	/* Every callback exactly once, OK; results consistent with entries. */
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	size = kt_store_read_size(r);
	sizes = calloc(NTHREADS * PER_THREAD, sizeof(*sizes));
	ck_assert_ptr_nonnull(sizes);
	for (int i = 0; i < NTHREADS; i++) {
		for (int j = 0; j < PER_THREAD; j++) {
			struct tsub *t = &ctx[i].subs[j];

			ck_assert_int_eq(t->calls, 1);
			ck_assert_int_eq(t->err, KT_OK);
			ck_assert_uint_le(t->tree_size, size);
			sizes[nsizes++] = t->tree_size;
			appended += check_sub_results(r, t);
		}
	}
	ck_assert_uint_eq(appended, size);
	check_versions_and_links(r, size);
	kt_store_read_end(r);
	check_batch_spacing(sizes, nsizes);
	ck_assert_uint_eq(st.entries_appended, size);
	free(sizes);
	for (int i = 0; i < NTHREADS; i++)
		free(ctx[i].subs);
	ck_assert_uint_eq(check_checkpoint(s), size);
	kt_store_close(s);
}
END_TEST

/* Readers that keep taking snapshots and proving while the map grows. */
struct rctx {
	struct kt_store *s;
	int stop;
	uint64_t reads;
	int bad;
};

static void *
reader(void *arg)
{
	struct rctx *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
		struct kt_store_read *r;
		struct kt_proof p;
		struct kt_hash h;
		uint64_t n;

		if (kt_store_read_begin(c->s, &r) != KT_OK) {
			__atomic_add_fetch(&c->bad, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		n = kt_store_read_size(r);
		if (kt_store_root(r, n, &h) != KT_OK ||
		    (n > 0 && kt_store_inclusion(r, n / 2, n, &p) != KT_OK))
			__atomic_add_fetch(&c->bad, 1, __ATOMIC_SEQ_CST);
		kt_store_read_end(r);
		__atomic_add_fetch(&c->reads, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

START_TEST(test_stats_and_growth)
{
	struct rctx rc;
	pthread_t rth[2];
	/* A tiny map: the sequencer retries batches as the map doubles. */
	struct kt_store *s = open_store(128 * 1024);
	struct kt_seq *q = start(s, 16, 0);
	struct kt_seq_stats st;
	struct waiter w[40];
	struct kt_seq_req rq[40];
	char labels[40][32];
	uint8_t k[32];
	size_t m0 = kt_store_mapsize(s);
	uint64_t sum = 0, nb = 0;

	memset(&rc, 0, sizeof(rc));
	rc.s = s;
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&rth[i], NULL, reader, &rc), 0);
	memset(k, 3, 32);
	for (int i = 0; i < 40; i++) {
		snprintf(labels[i], sizeof(labels[i]), "grow%d@example.com", i);
		rq[i] = pub(labels[i], "ed25519", k, 32);
	}
	for (int round = 0; round < 30; round++) {
		/* 30 rounds of 10 submissions of 1..4 distinct labels, each
		 * round a new key (the requests borrow k until answered, so
		 * it changes only between rounds) */
		memset(k, round, 32);
		for (int i = 0; i < 10; i++) {
			struct kt_seq_req r[4];

			for (int j = 0; j < 4; j++)
				r[j] = rq[(i * 4 + j) % 40];
			waiter_init(&w[i]);
			ck_assert_int_eq(kt_seq_submit(q, r,
			                     1 + (size_t)(i % 4), on_done,
			                     &w[i]),
			    KT_OK);
		}
		for (int i = 0; i < 10; i++) {
			waiter_wait(&w[i]);
			ck_assert_int_eq(w[i].err, KT_OK);
		}
	}
	__atomic_store_n(&rc.stop, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2; i++)
		pthread_join(rth[i], NULL);
	ck_assert_int_eq(rc.bad, 0);
	ck_assert_uint_gt(rc.reads, 0);
	kt_seq_stats(q, &st);
	ck_assert_uint_gt(kt_store_mapsize(s), m0);
	ck_assert_uint_gt(st.batches, 0);
	ck_assert_uint_eq(st.entries_appended, check_checkpoint(s));
	for (int i = 0; i < 16; i++) {
		nb += st.batch_size_hist[i];
		sum += st.commit_us_hist[i];
		if (i > 4) /* max_batch 16: bucket 4 holds 9..16 */
			ck_assert_uint_eq(st.batch_size_hist[i], 0);
	}
	ck_assert_uint_eq(nb, st.batches);
	ck_assert_uint_eq(sum, st.batches);
	ck_assert_uint_gt(st.commit_us_sum, 0);
	kt_seq_stop(q);
	kt_store_close(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sequencer_concurrent");

	/* Each test on a fresh store. */
	kt_test_fixture_case(s, "kt_seq_submit", 120, setup, teardown,
	    test_concurrent_submitters, NULL);
	kt_test_fixture_case(s, "kt_seq_stats", 120, setup, teardown,
	    test_stats_and_growth, NULL);
	return kt_test_run(s);
}
