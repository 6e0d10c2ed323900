/*
 * check_sequencer_concurrent.c: group commit over a real store in a fresh
 * temporary folder under concurrency: many submitters at once (versions,
 * links, commitments, map heads and batch limits hold), and readers
 * proving (tree and directory map) while the LMDB map grows.
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
#include "kt/commit.h"
#include "kt/leaf.h"
#include "kt/map.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "seq_testlib.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_map.h"
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

/* Every request of submission t got a result consistent with the update
 * it names in snapshot r: the label's map index, the version, and a
 * commitment that opens to the request's value (a conflict only for a
 * revocation). Returns how many of them appended an update. */
static uint64_t
check_sub_results(struct kt_store_read *r, const struct tsub *t)
{
	uint64_t appended = 0;

	for (size_t k = 0; k < t->n; k++) {
		const struct kt_seq_res *res = &t->res[k];
		const struct kt_seq_req *rq = &t->rq[k];
		const uint8_t *buf;
		size_t len;
		struct kt_update u;
		struct kt_store_value v;
		struct kt_value val;

		if (res->err == KT_ERR_CONFLICT) {
			ck_assert(rq->op == KT_SEQ_REVOKE);
			continue;
		}
		ck_assert_int_eq(res->err, KT_OK);
		ck_assert_uint_lt(res->index, t->tree_size);
		appended += res->appended ? 1 : 0;
		ck_assert_int_eq(kt_store_read_entry(r, res->index, &buf, &len),
		    KT_OK);
		ck_assert_int_eq(kt_update_decode(buf, len, &u), KT_OK);
		ck_assert_uint_eq(u.version, res->version);
		ck_assert(kt_hash_eq(&u.index, &rq->index));
		ck_assert_int_eq(kt_store_read_value(r, res->index, &v), KT_OK);
		memset(&val, 0, sizeof(val));
		val.kind =
		    rq->op == KT_SEQ_REVOKE ? KT_VALUE_REVOKE : KT_VALUE_KEY;
		ck_assert_uint_eq(v.kind, val.kind);
		if (val.kind == KT_VALUE_KEY) {
			val.key_type = rq->key_type;
			val.key_type_len = rq->key_type_len;
			val.key = t->key[k];
			val.key_len = 32;
		}
		ck_assert_int_eq(kt_commit_verify(v.opening, rq->label,
		                     rq->label_len, u.version, &val,
		                     &u.commitment),
		    KT_OK);
	}
	return appended;
}

/* The label number whose map index is mi. */
static unsigned
label_of(const struct kt_hash *mi)
{
	for (unsigned li = 0; li < NLABELS; li++)
		if (kt_hash_eq(&label_vrf(label_names[li])->index, mi))
			return li;
	ck_abort_msg("an update for no label of the test");
	return 0;
}

/* Leaves [0, size) of snapshot r: each label's updates carry versions
 * 1..count with previous links; map heads link to the previous head,
 * their timestamps never decrease, and each follows at least one update.
 * Returns the number of updates. */
static uint64_t
check_versions_and_links(struct kt_store_read *r, uint64_t size)
{
	uint64_t count[NLABELS] = { 0 }, last_ts = 0, last_head = KT_NO_PREV;
	uint64_t updates = 0;
	int since_head = 0;

	for (uint64_t i = 0; i < size; i++) {
		const uint8_t *buf;
		size_t len;
		struct kt_update u;
		struct kt_map_head h;
		unsigned li;
		uint64_t vidx;

		ck_assert_int_eq(kt_store_read_entry(r, i, &buf, &len), KT_OK);
		if (kt_map_head_decode(buf, len, &h) == KT_OK) {
			ck_assert_uint_ge(h.timestamp_ms, last_ts);
			ck_assert_uint_eq(h.log_size, i);
			ck_assert_uint_eq(h.prev_head, last_head);
			ck_assert(i == 0 || since_head > 0);
			last_ts = h.timestamp_ms;
			last_head = i;
			since_head = 0;
			continue;
		}
		ck_assert_int_eq(kt_update_decode(buf, len, &u), KT_OK);
		since_head++;
		updates++;
		li = label_of(&u.index);
		ck_assert_uint_eq(u.version, count[li] + 1);
		if (count[li] == 0) {
			ck_assert_uint_eq(u.prev_index, KT_NO_PREV);
		} else {
			ck_assert_int_eq(kt_store_label_version(r, &u.index,
			                     count[li], &vidx),
			    KT_OK);
			ck_assert_uint_eq(u.prev_index, vidx);
		}
		count[li]++;
		ck_assert_int_eq(kt_store_label_version(r, &u.index, u.version,
		                     &vidx),
		    KT_OK);
		ck_assert_uint_eq(vidx, i);
	}
	ck_assert_uint_eq(last_head, size - 1);
	return updates;
}

/* Batches never exceed max_batch: consecutive committed sizes seen by
 * callbacks (sizes, sorted here) differ by at most MAX_BATCH updates and
 * one map head. */
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
		ck_assert_uint_le(sizes[i] - sizes[i - 1], MAX_BATCH + 1);
	ck_assert_uint_le(sizes[0], 1 + MAX_BATCH + 1);
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
	/* Proved here, so that submitters find them ready. */
	for (int i = 0; i < NLABELS; i++) {
		snprintf(label_names[i], sizeof(label_names[i]),
		    "user%d@example.org", i);
		(void)label_vrf(label_names[i]);
	}
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
	ck_assert_uint_eq(check_versions_and_links(r, size), appended);
	kt_store_read_end(r);
	check_batch_spacing(sizes, nsizes);
	ck_assert_uint_eq(st.entries_appended, appended);
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
	struct kt_hash index; /* a label's map index to prove */
	int stop;
	uint64_t reads;
	int bad;
};

/* The map of the snapshot's last map head proves index (present or
 * absent) against its root. */
static int
map_proves(struct kt_store_read *r, uint64_t n, const struct kt_hash *index)
{
	struct kt_map_proof mp;
	struct kt_map_head h;
	const uint8_t *buf;
	size_t len;
	int present;

	return kt_store_read_entry(r, n - 1, &buf, &len) == KT_OK &&
	    kt_map_head_decode(buf, len, &h) == KT_OK &&
	    kt_store_map_prove(r, &h.root, index, &mp) == KT_OK &&
	    kt_map_verify(&h.root, index, &mp, &present) == KT_OK;
}

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
		    (n > 0 && kt_store_inclusion(r, n / 2, n, &p) != KT_OK) ||
		    (n > 0 && !map_proves(r, n, &c->index)))
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
	rc.index = label_vrf("grow7@example.com")->index;
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
	/* Every batch appended its updates and one map head. */
	ck_assert_uint_eq(st.entries_appended + st.batches + 1,
	    check_checkpoint(s));
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
