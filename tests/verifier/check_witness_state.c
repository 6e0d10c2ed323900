/*
 * check_witness_state.c: units of the kt-witness logic
 * (verifier/witness/witness.c): serving the witnessed checkpoint and parsing
 * its path, keeping the state across a restart, and concurrent conflicting
 * submissions (exactly one cosigned).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "harness/runner.h"
#include "witness.h"
#include "witness_fixture.h"
#include "witness_testlib.h"

/* ---- kt_witness_get_checkpoint ------------------------------------------ */

START_TEST(test_get_checkpoint)
{
	char got[KT_WITNESS_NOTE_MAX], small[16];
	uint8_t hash[KT_HASH_LEN];
	struct kt_verifier vs[2];
	uint8_t ok[2];
	uint64_t times[2];
	static struct kt_note n;
	struct kt_checkpoint cp;
	struct kt_hash root;
	size_t gl = 1;

	crypto_hash_sha256(hash, (const uint8_t *)ORIGIN_A, strlen(ORIGIN_A));
	ck_assert_int_eq(kt_witness_get_checkpoint(w, hash, got, sizeof(got),
	                     &gl),
	    KT_ERR_NOT_FOUND);
	ck_assert_uint_eq(gl, 0);
	cosign_a(0, 11);
	ck_assert_int_eq(kt_witness_get_checkpoint(w, hash, got, sizeof(got),
	                     &gl),
	    KT_OK);
	ck_assert_uint_eq(strlen(got), gl);
	/* Verifies with the log key and the witness key. */
	kt_signer_verifier(log_a, &vs[0]);
	vs[1] = wit_v;
	ck_assert_int_eq(kt_note_open(got, gl, vs, 2, &n, ok, times), KT_OK);
	ck_assert_int_eq(ok[0], 1);
	ck_assert_int_eq(ok[1], 1);
	ck_assert_uint_eq(times[1], NOW);
	ck_assert_int_eq(wt_note_checkpoint(got, gl, &cp), 0);
	ck_assert_uint_eq(cp.size, 11);
	wt_root(&ta, 11, &root);
	ck_assert_int_eq(memcmp(cp.root.b, root.b, KT_HASH_LEN), 0);
	ck_assert_int_eq(kt_witness_get_checkpoint(w, hash, small,
	                     sizeof(small), &gl),
	    KT_ERR_TOO_LARGE);
	/* Another origin: nothing yet. */
	crypto_hash_sha256(hash, (const uint8_t *)ORIGIN_B, strlen(ORIGIN_B));
	ck_assert_int_eq(kt_witness_get_checkpoint(w, hash, got, sizeof(got),
	                     &gl),
	    KT_ERR_NOT_FOUND);
}
END_TEST

/* ---- kt_witness_parse_get_path ------------------------------------------ */

START_TEST(test_parse_get_path)
{
	char path[128], hex[2 * KT_HASH_LEN + 1];
	uint8_t hash[KT_HASH_LEN], got[KT_HASH_LEN];

	crypto_hash_sha256(hash, (const uint8_t *)ORIGIN_A, strlen(ORIGIN_A));
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(path, sizeof(path), "%s/checkpoint", hex);
	ck_assert_int_eq(kt_witness_parse_get_path(path, strlen(path), got),
	    KT_OK);
	ck_assert_int_eq(memcmp(got, hash, KT_HASH_LEN), 0);
	/* Every truncation fails. */
	for (size_t i = 0; i < strlen(path); i++)
		ck_assert_int_eq(kt_witness_parse_get_path(path, i, got),
		    KT_ERR_MALFORMED);
	/* Uppercase hex, a non-hex character, a wrong suffix. */
	path[0] = 'A';
	ck_assert_int_eq(kt_witness_parse_get_path(path, strlen(path), got),
	    KT_ERR_MALFORMED);
	path[0] = 'g';
	ck_assert_int_eq(kt_witness_parse_get_path(path, strlen(path), got),
	    KT_ERR_MALFORMED);
	snprintf(path, sizeof(path), "%s/checkpoinx", hex);
	ck_assert_int_eq(kt_witness_parse_get_path(path, strlen(path), got),
	    KT_ERR_MALFORMED);
	snprintf(path, sizeof(path), "%s/checkpoint/", hex);
	ck_assert_int_eq(kt_witness_parse_get_path(path, strlen(path), got),
	    KT_ERR_MALFORMED);
}
END_TEST

/* ---- restart ------------------------------------------------------------ */

START_TEST(test_restart_keeps_state)
{
	size_t len;

	cosign_a(0, 21);
	len = wt_body_for(log_b, &tb, 0, 6, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_OK);
	kt_witness_close(w);
	w = NULL;
	open_witness();
	ck_assert_uint_eq(probe_a(), 21);
	len = wt_body_for(log_b, &tb, 0, 9, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_CONFLICT);
	ck_assert_uint_eq(ans.latest_size, 6);
	/* The fork is still refused after the restart. */
	len = wt_body_for(log_a, &tb, 21, 30, body, sizeof(body));
	ck_assert_int_eq(submit(len, NOW), KT_ERR_VERIFY);
	cosign_a(21, 30);
}
END_TEST

/* ---- concurrency -------------------------------------------------------- */

struct racer {
	pthread_barrier_t *start;
	const struct wt_tree *t;
	uint64_t old, size;
	char body[8192];
	size_t len;
	kt_err err;
	struct kt_witness_answer ans;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	r->err = kt_witness_add_checkpoint(w, r->body, r->len, NOW, &r->ans);
	return NULL;
}

/*
 * Two (or more) threads submit checkpoints that cannot both be cosigned,
 * released together by a barrier: exactly one is cosigned, and the stored
 * state is the winner's.
 */
static void
run_race(struct racer *rs, size_t n)
{
	pthread_t th[8];
	pthread_barrier_t start;
	size_t winners = 0, win = 0;
	uint8_t hash[KT_HASH_LEN];
	char got[KT_WITNESS_NOTE_MAX];
	struct kt_checkpoint cp;
	struct kt_hash root;
	size_t gl;

	ck_assert_int_eq(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
	for (size_t i = 0; i < n; i++) {
		rs[i].start = &start;
		rs[i].len = wt_body_for(log_a, rs[i].t, rs[i].old, rs[i].size,
		    rs[i].body, sizeof(rs[i].body));
		ck_assert_int_eq(pthread_create(&th[i], NULL, race, &rs[i]), 0);
	}
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	pthread_barrier_destroy(&start);
	for (size_t i = 0; i < n; i++) {
		if (rs[i].err == KT_OK) {
			winners++;
			win = i;
		} else {
			ck_assert_msg(rs[i].err == KT_ERR_CONFLICT ||
			        rs[i].err == KT_ERR_VERIFY,
			    "racer %zu: %s", i, rs[i].ans.detail);
		}
	}
	ck_assert_uint_eq(winners, 1);
	crypto_hash_sha256(hash, (const uint8_t *)ORIGIN_A, strlen(ORIGIN_A));
	ck_assert_int_eq(kt_witness_get_checkpoint(w, hash, got, sizeof(got),
	                     &gl),
	    KT_OK);
	ck_assert_int_eq(wt_note_checkpoint(got, gl, &cp), 0);
	wt_root(rs[win].t, rs[win].size, &root);
	ck_assert_uint_eq(cp.size, rs[win].size);
	ck_assert_int_eq(memcmp(cp.root.b, root.b, KT_HASH_LEN), 0);
}

START_TEST(test_concurrent_conflicting)
{
	for (int round = 0; round < 25; round++) {
		struct racer rs[2];

		memset(rs, 0, sizeof(rs));
		kt_witness_close(w);
		w = NULL;
		wt_rmrf(dir);
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		open_witness();
		cosign_a(0, 4);
		/* Same size, two branches, both from the witness's size. */
		rs[0].t = &ta;
		rs[1].t = &tb;
		rs[0].old = rs[1].old = 4;
		rs[0].size = rs[1].size = 8 + (uint64_t)(round % 5);
		run_race(rs, 2);
	}
}
END_TEST

START_TEST(test_concurrent_many)
{
	/* Eight racers from a fresh state, mixed branches and sizes, old 0:
	 * the first commit makes every other old size stale. */
	for (int round = 0; round < 10; round++) {
		struct racer rs[8];

		memset(rs, 0, sizeof(rs));
		kt_witness_close(w);
		w = NULL;
		wt_rmrf(dir);
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		open_witness();
		for (size_t i = 0; i < 8; i++) {
			rs[i].t = i % 2 ? &tb : &ta;
			rs[i].old = 0;
			rs[i].size = 6 + i;
		}
		run_race(rs, 8);
	}
}
END_TEST

static Suite *
witness_state_suite(void)
{
	Suite *s = suite_create("witness_state");
	TCase *tc;

#define TC(name, ...) \
	do { \
		tc = tcase_create(name); \
		tcase_add_checked_fixture(tc, setup, teardown); \
		tcase_set_timeout(tc, 120); \
		__VA_ARGS__ \
		suite_add_tcase(s, tc); \
	} while (0)

	TC("kt_witness_get_checkpoint",
	    tcase_add_test(tc, test_get_checkpoint););
	TC("kt_witness_parse_get_path",
	    tcase_add_test(tc, test_parse_get_path););
	TC("restart", tcase_add_test(tc, test_restart_keeps_state););
	TC("concurrency", tcase_add_test(tc, test_concurrent_conflicting);
	    tcase_add_test(tc, test_concurrent_many););
#undef TC
	return s;
}

int
main(void)
{
	return kt_test_run(witness_state_suite());
}
