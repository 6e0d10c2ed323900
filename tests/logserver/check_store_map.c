/*
 * check_store_map.c: the directory map in the store as strata
 * (store/store_map.h): seeded batches of inserts and updates whose roots
 * must equal the reference map's (tests/proto/map_testlib.c), proofs
 * against the current root and every retained older root, pruning, a batch
 * that breaks the map's rules, a failed commit, reopening, and the strata
 * themselves (bounded, far fewer records than nodes, no leaked strata).
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
#include "store/strata.h"
#include "store_testlib.h"

#define MAXB 256 /* batches per test */
#define KEEP 4   /* retained older maps */

struct fx {
	struct kt_store *s;
	struct ref_map ref;
	struct kt_hash root;
	struct kt_hash *idx; /* every index inserted, in order */
	size_t nidx, cap;
	uint64_t log_size, seed;
	/* the map after batch k: its root and head index */
	struct kt_hash roots[MAXB];
	uint64_t heads[MAXB];
	size_t nb;
	uint64_t pruned_before; /* heads below it are pruned */
	unsigned grown;         /* batches retried after the map grew */
};

static void
fx_init(struct fx *f, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->seed = seed;
	kt_map_empty_root(&f->root);
	f->s = open_store();
}

static void
fx_free(struct fx *f)
{
	kt_store_close(f->s);
	ref_free(&f->ref);
	free(f->idx);
}

static void
add_index(struct fx *f, const struct kt_hash *h)
{
	if (f->nidx == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->idx = realloc(f->idx, f->cap * sizeof(*f->idx));
		ck_assert_ptr_nonnull(f->idx);
	}
	f->idx[f->nidx++] = *h;
}

/* A batch of `ins` new indexes and `upd` updates of existing ones (some
 * indexes get several versions), in log order. */
static struct kt_map_update *
make_batch(struct fx *f, size_t ins, size_t upd, size_t *n)
{
	struct kt_map_update *u = calloc(ins + upd + 1, sizeof(*u));
	size_t i, k = 0, j, old = f->nidx;

	ck_assert_ptr_nonnull(u);
	for (i = 0; i < ins + upd; i++) {
		struct kt_hash h;
		const struct kt_map_update *pend = NULL;

		if (i < ins || old == 0) {
			rnd_hash(&f->seed, &h);
			add_index(f, &h);
		} else {
			h = f->idx[rnd(&f->seed) % old];
		}
		for (j = k; j-- > 0;)
			if (kt_hash_eq(&u[j].index, &h)) {
				pend = &u[j];
				break;
			}
		u[k] = next_update(&f->ref, &h, f->log_size++, pend, &f->seed);
		k++;
	}
	*n = k;
	return u;
}

/* Checks the proof of index in root (a map the test knows): it verifies,
 * and against the current root it shows the reference's leaf. */
static void
check_proof(struct fx *f, const struct kt_hash *root,
    const struct kt_hash *index, int current)
{
	struct kt_store_read *r;
	struct kt_map_proof p;
	int present;

	ck_assert_int_eq(kt_store_read_begin(f->s, &r), KT_OK);
	ck_assert_int_eq(kt_store_map_prove(r, root, index, &p), KT_OK);
	kt_store_read_end(r);
	ck_assert_int_eq(kt_map_verify(root, index, &p, &present), KT_OK);
	if (current) {
		const struct kt_map_leaf *l = ref_find(&f->ref, index);

		ck_assert_int_eq(present, l != NULL);
		if (l != NULL)
			ck_assert_mem_eq(&p.leaf, l, sizeof(*l));
	}
}

static int
prove_err(struct fx *f, const struct kt_hash *root, const struct kt_hash *idx)
{
	struct kt_store_read *r;
	struct kt_map_proof p;
	kt_err e;

	ck_assert_int_eq(kt_store_read_begin(f->s, &r), KT_OK);
	e = kt_store_map_prove(r, root, idx, &p);
	kt_store_read_end(r);
	return e;
}

/* Applies one batch in its own transaction, prunes to keep KEEP older
 * maps, commits (again from the start when the LMDB map was full and has
 * grown, as the sequencer does); checks the root against the reference. */
static void
run_batch(struct fx *f, size_t ins, size_t upd)
{
	struct kt_store_txn *w;
	struct kt_map_result res;
	struct kt_map_proof p;
	struct kt_map_update *u;
	struct kt_hash want;
	uint64_t head;
	size_t n, i;
	kt_err e;

	ck_assert_uint_lt(f->nb, MAXB);
	u = make_batch(f, ins, upd, &n);
	head = f->log_size++;
	do {
		ck_assert_int_eq(kt_store_write_begin(f->s, &w), KT_OK);
		e = kt_store_map_apply(w, &f->root, u, n, head, &res);
		if (e == KT_OK && f->nb >= KEEP)
			e = kt_store_map_prune(w, f->heads[f->nb - KEEP]);
		if (e == KT_OK) {
			/* The transaction sees its own strata. */
			ck_assert_int_eq(kt_store_map_prove_w(w, &res.root,
			                     &u[0].index, &p),
			    KT_OK);
			ck_assert_int_eq(kt_map_verify(&res.root, &u[0].index,
			                     &p, NULL),
			    KT_OK);
			e = kt_store_write_commit(w);
		} else {
			kt_store_write_abort(w);
		}
		f->grown += e == KT_ERR_BUSY;
	} while (e == KT_ERR_BUSY);
	ck_assert_int_eq(e, KT_OK);
	for (i = 0; i < n; i++)
		ref_update(&f->ref, &u[i]);
	ref_root(&f->ref, &want);
	ck_assert_mem_eq(res.root.b, want.b, KT_HASH_LEN);
	if (f->nb >= KEEP)
		f->pruned_before = f->heads[f->nb - KEEP];
	f->root = res.root;
	f->roots[f->nb] = res.root;
	f->heads[f->nb] = head;
	f->nb++;
	free(u);
}

/* Every retained map proves (sampled indexes, present and absent); every
 * pruned one is gone. */
static void
check_maps(struct fx *f, size_t samples)
{
	struct kt_hash absent;
	size_t k, i;

	for (k = 0; k < f->nb; k++) {
		int cur = k + 1 == f->nb;

		/* Map k needs the strata batch k + 1 superseded. */
		if (k + 1 < f->nb && f->heads[k + 1] < f->pruned_before) {
			ck_assert_int_eq(prove_err(f, &f->roots[k], &f->idx[0]),
			    KT_ERR_NOT_FOUND);
			continue;
		}
		for (i = 0; i < samples && i < f->nidx; i++)
			check_proof(f, &f->roots[k],
			    &f->idx[rnd(&f->seed) % f->nidx], cur);
		rnd_hash(&f->seed, &absent);
		check_proof(f, &f->roots[k], &absent, cur);
	}
}

static void
check_all_current(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->nidx; i++)
		check_proof(f, &f->root, &f->idx[i], 1);
}

static int
hash_order(const void *a, const void *b)
{
	return memcmp(a, b, KT_HASH_LEN);
}

/* The prover of many paths gives, for every index inserted (in index
 * order, as the map audit asks, then in insertion order, which defeats
 * its cache) and for indexes never inserted, exactly kt_store_map_prove's
 * proof; in an older map too. */
static void
check_prover(struct fx *f, const struct kt_hash *root)
{
	struct kt_store_read *r;
	struct kt_store_map_prover *pv;
	struct kt_map_proof a, b;
	struct kt_hash *sorted = malloc((f->nidx + 64) * sizeof(*sorted));
	size_t n = f->nidx + 64;

	ck_assert_ptr_nonnull(sorted);
	memcpy(sorted, f->idx, f->nidx * sizeof(*sorted));
	for (size_t i = f->nidx; i < n; i++)
		for (size_t j = 0; j < KT_HASH_LEN; j += 8) {
			uint64_t x = rnd(&f->seed);
			memcpy(sorted[i].b + j, &x, 8);
		}
	qsort(sorted, n, sizeof(*sorted), hash_order);
	ck_assert_int_eq(kt_store_read_begin(f->s, &r), KT_OK);
	ck_assert_int_eq(kt_store_map_prover_open(r, root, &pv), KT_OK);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			const struct kt_hash *x = pass == 0 ? &sorted[i]
			    : i < f->nidx                   ? &f->idx[i]
			                                    : &sorted[i];
			memset(&a, 0xa5, sizeof(a));
			memset(&b, 0x5a, sizeof(b));
			ck_assert_int_eq(kt_store_map_prover_prove(pv, x, &a),
			    KT_OK);
			ck_assert_int_eq(kt_store_map_prove(r, root, x, &b),
			    KT_OK);
			ck_assert_int_eq(a.n, b.n);
			ck_assert_int_eq(a.has_leaf, b.has_leaf);
			ck_assert_mem_eq(a.step, b.step,
			    a.n * sizeof(a.step[0]));
			if (a.has_leaf)
				ck_assert_mem_eq(&a.leaf, &b.leaf,
				    sizeof(a.leaf));
		}
	kt_store_map_prover_close(pv);
	kt_store_read_end(r);
	free(sorted);
}

static struct kt_store_map_scan
scan(struct fx *f)
{
	struct kt_store_read *r;
	struct kt_store_map_scan sc;

	ck_assert_int_eq(kt_store_read_begin(f->s, &r), KT_OK);
	ck_assert_int_eq(kt_store_map_scan(r, &sc), KT_OK);
	kt_store_read_end(r);
	return sc;
}

/* ---- kt_store_map_apply -------------------------------------------------- */

START_TEST(test_random_batches)
{
	struct fx f;
	size_t b;

	fx_init(&f, 0x5eed0001 + (uint64_t)_i);
	/* A one-leaf map first: its root is a leaf stratum. */
	run_batch(&f, 1, 0);
	check_maps(&f, 1);
	for (b = 0; b < 40; b++) {
		size_t ins = rnd(&f.seed) % 120, upd = rnd(&f.seed) % 60;

		run_batch(&f, ins, upd);
		check_maps(&f, 6);
	}
	check_all_current(&f);
	check_prover(&f, &f.root);
	check_prover(&f, &f.roots[f.nb - 3]);
	fx_free(&f);
}
END_TEST

START_TEST(test_bad_batch_stores_nothing)
{
	struct fx f;
	struct kt_store_txn *w;
	struct kt_map_result res;
	struct kt_map_update u[2];
	struct kt_store_map_stats before, after;
	struct kt_store_read *r;

	fx_init(&f, 0x5eed0100);
	run_batch(&f, 50, 0);
	ck_assert_int_eq(kt_store_read_begin(f.s, &r), KT_OK);
	ck_assert_int_eq(kt_store_map_stats(r, &before), KT_OK);
	kt_store_read_end(r);
	/* A new update, then version 1 again for an index in the map. */
	u[0] = next_update(&f.ref, &f.idx[1], f.log_size, NULL, &f.seed);
	u[1] = next_update(&f.ref, &f.idx[3], f.log_size + 1, NULL, &f.seed);
	u[1].version = 1;
	u[1].prev_index = KT_MAP_NO_PREV;
	ck_assert_int_eq(kt_store_write_begin(f.s, &w), KT_OK);
	ck_assert_int_eq(kt_store_map_apply(w, &f.root, u, 2, 99, &res),
	    KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(res.why);
	kt_store_write_abort(w);
	ck_assert_int_eq(kt_store_read_begin(f.s, &r), KT_OK);
	ck_assert_int_eq(kt_store_map_stats(r, &after), KT_OK);
	kt_store_read_end(r);
	ck_assert_uint_eq(after.records, before.records);
	ck_assert_uint_eq(after.gc_records, before.gc_records);
	/* The next batch works. */
	run_batch(&f, 10, 10);
	check_all_current(&f);
	fx_free(&f);
}
END_TEST

START_TEST(test_failed_commit_keeps_map)
{
	struct fx f;
	struct kt_store_txn *w;
	struct kt_map_result res;
	struct kt_map_update *u;
	struct kt_hash saved_seed_root;
	size_t n;

	fx_init(&f, 0x5eed0200);
	run_batch(&f, 200, 0);
	run_batch(&f, 20, 30);
	/* A batch whose commit fails: nothing of it is stored. */
	u = make_batch(&f, 30, 30, &n);
	ck_assert_int_eq(kt_store_write_begin(f.s, &w), KT_OK);
	ck_assert_int_eq(kt_store_map_apply(w, &f.root, u, n, f.log_size, &res),
	    KT_OK);
	ck_assert_int_eq(kt_store_map_prune(w, UINT64_MAX), KT_OK);
	kt_store_test_fail_commits(f.s, 1);
	ck_assert_int_eq(kt_store_write_commit(w), KT_ERR_IO);
	saved_seed_root = res.root;
	ck_assert_int_eq(prove_err(&f, &saved_seed_root, &u[0].index),
	    KT_ERR_NOT_FOUND);
	free(u);
	/* The indexes the failed batch added are not in the reference map:
	 * forget them, then the maps before still prove, all of them. */
	f.nidx -= 30;
	check_maps(&f, 20);
	check_all_current(&f);
	run_batch(&f, 10, 10);
	check_all_current(&f);
	fx_free(&f);
}
END_TEST

START_TEST(test_reopen_continues)
{
	struct fx f;
	size_t b;

	fx_init(&f, 0x5eed0300);
	for (b = 0; b < 6; b++)
		run_batch(&f, 80, 20);
	kt_store_close(f.s);
	f.s = open_store();
	check_maps(&f, 10);
	for (b = 0; b < 6; b++)
		run_batch(&f, 30, 40);
	check_maps(&f, 10);
	check_all_current(&f);
	fx_free(&f);
}
END_TEST

START_TEST(test_full_map_grows)
{
	struct fx f;
	char err[256];
	size_t b;

	fx_init(&f, 0x5eed0600);
	kt_store_close(f.s);
	/* A fresh folder with a tiny map: batches fill it and are retried. */
	tmp_teardown();
	tmp_setup();
	ck_assert_msg(kt_store_open_mapsize(&f.s, tmpdir, ORIGIN, VKEY,
	                  64 * 1024, err, sizeof(err)) == KT_OK,
	    "open: %s", err);
	for (b = 0; b < 8; b++)
		run_batch(&f, 150, 50);
	ck_assert_uint_gt(f.grown, 0);
	check_maps(&f, 10);
	check_all_current(&f);
	fx_free(&f);
}
END_TEST

/* ---- kt_store_map_prune -------------------------------------------------- */

START_TEST(test_prune_keeps_current)
{
	struct fx f;
	struct kt_store_txn *w;
	struct kt_store_map_scan sc;
	size_t b;

	fx_init(&f, 0x5eed0400);
	for (b = 0; b < 12; b++)
		run_batch(&f, 60, 30);
	check_maps(&f, 10);
	/* Prune every older map: only the current one's strata remain, so
	 * the strata hold each label's leaf exactly once (none leaked). */
	ck_assert_int_eq(kt_store_write_begin(f.s, &w), KT_OK);
	ck_assert_int_eq(kt_store_map_prune(w, UINT64_MAX), KT_OK);
	ck_assert_int_eq(kt_store_write_commit(w), KT_OK);
	f.pruned_before = UINT64_MAX;
	check_maps(&f, 10);
	check_all_current(&f);
	{
		struct kt_store_read *r;
		struct kt_store_map_prover *pv = NULL;

		/* A pruned map: the prover does not open. */
		ck_assert_int_eq(kt_store_read_begin(f.s, &r), KT_OK);
		ck_assert_int_eq(kt_store_map_prover_open(r, &f.roots[2], &pv),
		    KT_ERR_NOT_FOUND);
		ck_assert_ptr_null(pv);
		kt_store_read_end(r);
	}
	sc = scan(&f);
	ck_assert_uint_eq(sc.leaves, f.ref.n);
	ck_assert_uint_eq(sc.interior, f.ref.n - 1);
	fx_free(&f);
}
END_TEST

/* ---- the strata ---------------------------------------------------------- */

START_TEST(test_strata_bounded_and_few)
{
	struct fx f;
	struct kt_store_txn *w;
	struct kt_store_map_scan sc;
	size_t b;

	fx_init(&f, 0x5eed0500);
	for (b = 0; b < 10; b++)
		run_batch(&f, 400, 100);
	ck_assert_int_eq(kt_store_write_begin(f.s, &w), KT_OK);
	ck_assert_int_eq(kt_store_map_prune(w, UINT64_MAX), KT_OK);
	ck_assert_int_eq(kt_store_write_commit(w), KT_OK);
	sc = scan(&f);
	ck_assert_uint_le(sc.max_interior, STRATA_MAX_INTERIOR);
	ck_assert_uint_le(sc.max_children, STRATA_MAX_INTERIOR + 1);
	/* Not one record per node: ~4000 labels, ~8000 nodes. */
	ck_assert_uint_eq(sc.leaves, f.ref.n);
	ck_assert_uint_lt(sc.records * 4, sc.leaves + sc.interior);
	fx_free(&f);
}
END_TEST

static Suite *
store_map_suite(void)
{
	Suite *su = suite_create("store_map");
	TCase *tc;

	tc = tcase_create("kt_store_map_apply");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_random_batches, 0, 3);
	tcase_add_test(tc, test_bad_batch_stores_nothing);
	tcase_add_test(tc, test_failed_commit_keeps_map);
	tcase_add_test(tc, test_reopen_continues);
	tcase_add_test(tc, test_full_map_grows);
	suite_add_tcase(su, tc);
	tc = tcase_create("kt_store_map_prune");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_prune_keeps_current);
	suite_add_tcase(su, tc);
	tc = tcase_create("strata");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_strata_bounded_and_few);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return kt_test_run(store_map_suite());
}
