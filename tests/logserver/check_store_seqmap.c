/*
 * check_store_seqmap.c: the map store's sequence-numbered strata
 * (store/store_map.h): sequence numbers only grow, across commits, prunes
 * and reopening; every stored stratum's exits point to earlier numbers; a
 * reader of every retained root finds all its strata while older roots are
 * gone. Batches: inserts of fresh indexes and rotations of old ones, checked
 * against the reference map (tests/proto/map_testlib.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/map_testlib.h"
#include "harness/runner.h"
#include "kt/map.h"
#include "store/store.h"
#include "store/store_map.h"
#include "store/store_write.h"
#include "store_testlib.h"

#define NIDX 2048
#define KEEP 3

struct sx {
	struct kt_store *s;
	struct ref_map ref;
	struct kt_hash root;
	struct kt_hash idx[NIDX];
	uint64_t ver[NIDX], last[NIDX];
	size_t nidx;
	uint64_t log_size, seed;
	struct kt_hash roots[64];
	uint64_t heads[64];
	size_t nb;
};

static uint64_t
last_seq(struct sx *x)
{
	struct kt_store_read *r;
	struct kt_store_map_stats st;
	struct kt_store_map_scan sc;

	ck_assert_int_eq(kt_store_read_begin(x->s, &r), KT_OK);
	ck_assert_int_eq(kt_store_map_stats(r, &st), KT_OK);
	/* Every exit points to an earlier sequence number. */
	ck_assert_int_eq(kt_store_map_scan(r, &sc), KT_OK);
	kt_store_read_end(r);
	return st.last_seq;
}

/* One batch of ins new indexes and rot rotations, then a prune keeping
 * KEEP older maps, in one transaction. */
static void
batch(struct sx *x, size_t ins, size_t rot)
{
	struct kt_map_update u[64];
	struct kt_store_txn *w;
	struct kt_map_result res;
	struct kt_hash want;
	size_t n = 0, i, k;
	kt_err e;

	ck_assert_uint_le(ins + rot, 64);
	for (i = 0; i < ins && x->nidx < NIDX; i++, n++) {
		rnd_hash(&x->seed, &x->idx[x->nidx]);
		u[n].index = x->idx[x->nidx];
		u[n].version = 1;
		u[n].prev_index = KT_MAP_NO_PREV;
		x->ver[x->nidx] = 1;
		x->last[x->nidx] = x->log_size;
		u[n].log_index = x->log_size++;
		rnd_hash(&x->seed, &u[n].leaf_hash);
		x->nidx++;
	}
	for (i = 0; i < rot && x->nidx > ins; i++, n++) {
		/* Indexes from before this batch, once each at most. */
		k = (size_t)(rnd(&x->seed) % (x->nidx - ins));
		u[n].index = x->idx[k];
		u[n].version = ++x->ver[k];
		u[n].prev_index = x->last[k];
		x->last[k] = x->log_size;
		u[n].log_index = x->log_size++;
		rnd_hash(&x->seed, &u[n].leaf_hash);
		for (size_t j = ins; j < n; j++)
			if (kt_hash_eq(&u[j].index, &u[n].index)) {
				x->ver[k]--;
				x->last[k] = u[n].prev_index;
				x->log_size--;
				n--;
				break;
			}
	}
	ck_assert_int_eq(kt_store_write_begin(x->s, &w), KT_OK);
	e = kt_store_map_apply(w, &x->root, u, n, x->log_size, &res);
	ck_assert_int_eq(e, KT_OK);
	if (x->nb >= KEEP)
		ck_assert_int_eq(kt_store_map_prune(w, x->heads[x->nb - KEEP]),
		    KT_OK);
	ck_assert_int_eq(kt_store_write_commit(w), KT_OK);
	for (i = 0; i < n; i++)
		ref_update(&x->ref, &u[i]);
	ref_root(&x->ref, &want);
	ck_assert_mem_eq(res.root.b, want.b, KT_HASH_LEN);
	x->root = res.root;
	x->roots[x->nb] = res.root;
	x->heads[x->nb++] = x->log_size++;
}

static kt_err
prove(struct sx *x, const struct kt_hash *root, const struct kt_hash *index)
{
	struct kt_store_read *r;
	struct kt_map_proof p;
	kt_err e;

	ck_assert_int_eq(kt_store_read_begin(x->s, &r), KT_OK);
	e = kt_store_map_prove(r, root, index, &p);
	kt_store_read_end(r);
	if (e == KT_OK)
		ck_assert_int_eq(kt_map_verify(root, index, &p, NULL), KT_OK);
	return e;
}

/* ---- sequence numbers ---------------------------------------------------- */

START_TEST(test_seq_grows_across_reopen)
{
	struct sx *x = calloc(1, sizeof(*x));
	struct kt_store_txn *w;
	uint64_t seq, prev = 0;
	size_t b, k, i;

	ck_assert_ptr_nonnull(x);
	x->seed = 0x5eed5e01;
	kt_map_empty_root(&x->root);
	x->s = open_store();
	ck_assert_uint_eq(last_seq(x), 0);
	for (b = 0; b < 30; b++) {
		batch(x, b < 10 ? 50 : 5, b < 10 ? 0 : 30);
		seq = last_seq(x);
		ck_assert_uint_gt(seq, prev);
		prev = seq;
		if (b % 7 == 6) {
			kt_store_close(x->s);
			x->s = open_store();
			ck_assert_uint_eq(last_seq(x), prev);
		}
		/* Retained maps prove every sampled index; pruned ones are
		 * gone (map k needs what batch k + 1 superseded). */
		for (k = 0; k < x->nb; k++) {
			int kept = k + KEEP + 2 >= x->nb;

			for (i = 0; i < 8; i++)
				ck_assert_int_eq(prove(x, &x->roots[k],
				                     &x->idx[rnd(&x->seed) %
				                         x->nidx]),
				    kept ? KT_OK : KT_ERR_NOT_FOUND);
		}
	}
	/* Pruning everything keeps the current map, whose root stratum is
	 * the newest: numbering goes on after it, never back. */
	ck_assert_int_eq(kt_store_write_begin(x->s, &w), KT_OK);
	ck_assert_int_eq(kt_store_map_prune(w, UINT64_MAX), KT_OK);
	ck_assert_int_eq(kt_store_write_commit(w), KT_OK);
	kt_store_close(x->s);
	x->s = open_store();
	ck_assert_uint_eq(last_seq(x), prev);
	batch(x, 3, 3);
	ck_assert_uint_gt(last_seq(x), prev);
	for (i = 0; i < x->nidx; i++)
		ck_assert_int_eq(prove(x, &x->root, &x->idx[i]), KT_OK);
	kt_store_close(x->s);
	ref_free(&x->ref);
	free(x);
}
END_TEST

static Suite *
store_seqmap_suite(void)
{
	Suite *su = suite_create("store_seqmap");
	TCase *tc;

	tc = tcase_create("sequence numbers");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_seq_grows_across_reopen);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return kt_test_run(store_seqmap_suite());
}
