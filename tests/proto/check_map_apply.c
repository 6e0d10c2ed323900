/*
 * check_map_apply.c: the map's batch step, kt_map_apply and
 * kt_map_apply_proofs: the rules a batch must follow (each refusal), the
 * stateless auditor's path (proofs only) against the sequencer's (store),
 * and kt_map_root.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/map.h"
#include "map_testlib.h"

struct fixture {
	struct ref_map ref;
	struct mem_store st;
	struct kt_hash root;
	uint64_t log_size, seed;
};

static void
fx_init(struct fixture *f, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	kt_map_empty_root(&f->root);
	f->seed = seed;
}

/* Applies u to f (must succeed) and to the reference. */
static void
fx_apply(struct fixture *f, const struct kt_map_update *u, size_t n)
{
	struct kt_map_reader r = mem_reader(&f->st);
	struct kt_map_writer w = mem_writer(&f->st);
	struct kt_map_result res;
	struct kt_hash want;
	size_t i;

	ck_assert_int_eq(kt_map_apply(&r, &f->root, u, n, &w, &res), KT_OK);
	for (i = 0; i < n; i++)
		ref_update(&f->ref, &u[i]);
	ref_root(&f->ref, &want);
	ck_assert_mem_eq(res.root.b, want.b, 32);
	f->root = res.root;
}

/* n new labels, version 1 each. */
static struct kt_map_update *
inserts(struct fixture *f, size_t n)
{
	struct kt_map_update *u = calloc(n, sizeof(*u));
	size_t i;

	ck_assert_ptr_nonnull(u);
	for (i = 0; i < n; i++) {
		struct kt_hash idx;

		rnd_hash(&f->seed, &idx);
		u[i] =
		    next_update(&f->ref, &idx, f->log_size++, NULL, &f->seed);
	}
	f->log_size++;
	return u;
}

/* Expects the one-update batch *u to be refused with the reason `why`. */
static void
refused(struct fixture *f, const struct kt_map_update *u, size_t n,
    const char *why)
{
	struct kt_map_reader r = mem_reader(&f->st);
	struct kt_map_result res;

	ck_assert_int_eq(kt_map_apply(&r, &f->root, u, n, NULL, &res),
	    KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(res.why);
	ck_assert_msg(strstr(res.why, why) != NULL, "why: %s", res.why);
}

START_TEST(test_map_apply_rules)
{
	struct fixture f;
	struct kt_map_update *base = NULL, u[3];

	fx_init(&f, 42);
	base = inserts(&f, 50);
	fx_apply(&f, base, 50);

	/* Version 1 again for an index already in the map (akd#495). */
	u[0] = base[7];
	u[0].log_index = f.log_size;
	refused(&f, u, 1, "version 1 of an index already in the map");
	/* A new index must start at 1. */
	u[0] = next_update(&f.ref, &base[7].index, f.log_size, NULL, &f.seed);
	u[0].index.b[0] ^= 0xff;
	refused(&f, u, 1, "not version 1");
	/* Skipped and repeated versions. */
	u[0] = next_update(&f.ref, &base[7].index, f.log_size, NULL, &f.seed);
	u[0].version = 3;
	refused(&f, u, 1, "skips or repeats");
	u[0] = next_update(&f.ref, &base[7].index, f.log_size, NULL, &f.seed);
	u[1] = u[0];
	u[1].log_index++;
	u[1].prev_index = u[0].log_index;
	refused(&f, u, 2, "skips or repeats");
	/* A link to the wrong update. */
	u[0] = next_update(&f.ref, &base[7].index, f.log_size, NULL, &f.seed);
	u[0].prev_index = base[8].log_index;
	refused(&f, u, 1, "does not link");
	u[0] = next_update(&f.ref, &base[7].index, f.log_size, NULL, &f.seed);
	u[1] =
	    next_update(&f.ref, &base[7].index, f.log_size + 1, &u[0], &f.seed);
	u[1].prev_index = base[7].log_index;
	refused(&f, u, 2, "does not link");
	/* Out of log order. */
	u[0] =
	    next_update(&f.ref, &base[7].index, f.log_size + 1, NULL, &f.seed);
	u[1] = next_update(&f.ref, &base[9].index, f.log_size, NULL, &f.seed);
	refused(&f, u, 2, "log order");

	/* And the same batch, valid, passes: three versions in one batch. */
	u[0] = next_update(&f.ref, &base[7].index, f.log_size, NULL, &f.seed);
	u[1] =
	    next_update(&f.ref, &base[7].index, f.log_size + 1, &u[0], &f.seed);
	u[2] =
	    next_update(&f.ref, &base[7].index, f.log_size + 2, &u[1], &f.seed);
	fx_apply(&f, u, 3);
	ck_assert_uint_eq(ref_find(&f.ref, &base[7].index)->version, 4);
	free(base);
	ref_free(&f.ref);
	mem_store_free(&f.st);
}
END_TEST

/* Valid random batches: the stateless path agrees with the store's. */
START_TEST(test_map_apply_proofs)
{
	struct fixture f;
	size_t round;

	fx_init(&f, 500 + (uint64_t)_i);
	for (round = 0; round < 8; round++) {
		size_t n = (size_t)(rnd(&f.seed) % 60) + 1, i, j;
		struct kt_map_update *u = calloc(n, sizeof(*u));
		struct kt_map_proof *p = calloc(n, sizeof(*p));
		struct kt_map_reader r = mem_reader(&f.st);
		struct kt_map_result res;

		ck_assert_ptr_nonnull(u);
		ck_assert_ptr_nonnull(p);
		for (i = 0; i < n; i++) {
			struct kt_hash idx;
			const struct kt_map_update *pend = NULL;

			if (rnd(&f.seed) % 3 == 0 && f.ref.n > 0)
				idx = f.ref.l[rnd(&f.seed) % f.ref.n].index;
			else
				rnd_hash(&f.seed, &idx);
			for (j = i; j-- > 0;)
				if (memcmp(u[j].index.b, idx.b, 32) == 0) {
					pend = &u[j];
					break;
				}
			u[i] = next_update(&f.ref, &idx, f.log_size++, pend,
			    &f.seed);
			/* The proof the log serves for this index. */
			ck_assert_int_eq(kt_map_prove(&r, &f.root, &idx, &p[i]),
			    KT_OK);
		}
		f.log_size++;
		ck_assert_int_eq(kt_map_apply_proofs(&f.root, p, n, u, n, &res),
		    KT_OK);
		fx_apply(&f, u, n);
		ck_assert_mem_eq(res.root.b, f.root.b, 32);

		/* Without one index's proof, the batch cannot be checked
		 * (unless another proof's path covers it). */
		if (n > 1 && round % 2 == 1) {
			struct kt_hash fresh;

			rnd_hash(&f.seed, &fresh);
			u[0] = next_update(&f.ref, &fresh, f.log_size, NULL,
			    &f.seed);
			ck_assert_int_eq(kt_map_apply_proofs(&f.root, p, 0, u,
			                     1, &res),
			    f.ref.n > 0 ? KT_ERR_VERIFY : KT_OK);
		}
		free(u);
		free(p);
	}
	ref_free(&f.ref);
	mem_store_free(&f.st);
}
END_TEST

/* A proof for another root, or a damaged one, is refused. */
START_TEST(test_map_apply_proofs_rejects)
{
	struct fixture f;
	struct kt_map_update *base, u;
	static struct kt_map_proof p;
	struct kt_map_reader r;
	struct kt_map_result res;

	fx_init(&f, 8);
	base = inserts(&f, 30);
	fx_apply(&f, base, 30);
	r = mem_reader(&f.st);
	u = next_update(&f.ref, &base[3].index, f.log_size, NULL, &f.seed);
	ck_assert_int_eq(kt_map_prove(&r, &f.root, &u.index, &p), KT_OK);
	ck_assert_int_eq(kt_map_apply_proofs(&f.root, &p, 1, &u, 1, &res),
	    KT_OK);
	p.step[0].sibling.b[0] ^= 1;
	ck_assert_int_eq(kt_map_apply_proofs(&f.root, &p, 1, &u, 1, &res),
	    KT_ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(res.why, "old map root"));
	free(base);
	ref_free(&f.ref);
	mem_store_free(&f.st);
}
END_TEST

START_TEST(test_map_root)
{
	struct fixture f;
	struct kt_map_update *base;
	struct kt_hash root;
	struct kt_map_leaf two[2];

	fx_init(&f, 3);
	ck_assert_int_eq(kt_map_root(NULL, 0, NULL, &root), KT_OK);
	ck_assert_mem_eq(root.b, f.root.b, 32);
	base = inserts(&f, 100);
	fx_apply(&f, base, 100);
	ck_assert_int_eq(kt_map_root(f.ref.l, f.ref.n, NULL, &root), KT_OK);
	ck_assert_mem_eq(root.b, f.root.b, 32);
	two[0] = f.ref.l[0];
	two[1] = f.ref.l[0];
	ck_assert_int_eq(kt_map_root(two, 2, NULL, &root), KT_ERR_MALFORMED);
	two[1].index.b[5] ^= 1;
	two[1].version = 0;
	ck_assert_int_eq(kt_map_root(two, 2, NULL, &root), KT_ERR_MALFORMED);
	free(base);
	ref_free(&f.ref);
	mem_store_free(&f.st);
}
END_TEST

/* Only the touched paths are read: O(k log n), not O(n). */
START_TEST(test_map_apply_reads)
{
	struct fixture f;
	struct kt_map_update *base, u;
	struct kt_map_reader r;
	struct kt_map_result res;

	fx_init(&f, 11);
	base = inserts(&f, 4000);
	fx_apply(&f, base, 4000);
	f.st.reads = 0;
	r = mem_reader(&f.st);
	u = next_update(&f.ref, &base[0].index, f.log_size, NULL, &f.seed);
	ck_assert_int_eq(kt_map_apply(&r, &f.root, &u, 1, NULL, &res), KT_OK);
	ck_assert_uint_le(f.st.reads, 40);
	ck_assert_uint_ge(f.st.reads, 10);
	free(base);
	ref_free(&f.ref);
	mem_store_free(&f.st);
}
END_TEST

Suite *
map_apply_suite(void)
{
	Suite *s = suite_create("map_apply");
	TCase *tc;

	kt_test_case(s, "kt_map_apply", 60, test_map_apply_rules,
	    test_map_apply_reads, NULL);
	tc = tcase_create("kt_map_apply_proofs");
	tcase_add_loop_test(tc, test_map_apply_proofs, 0, 200);
	tcase_add_test(tc, test_map_apply_proofs_rejects);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	kt_test_case(s, "kt_map_root", 0, test_map_root, NULL);
	return s;
}

int
main(void)
{
	return kt_test_run(map_apply_suite());
}
