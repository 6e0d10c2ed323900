/*
 * check_store_write.c: the LMDB store's write transactions, snapshots,
 * indexes, failed syncs and map growth, against the reference model of
 * store_testlib.h. Each test case uses a fresh temporary folder, removed
 * afterwards.
 */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/runner.h"
#include "kt/bytes.h"
#include "kt/leaf.h"
#include "kt/merkle.h"
#include "store/store.h"
#include "store/store_write.h"
#include "store_testlib.h"

/* ---- write transactions ----------------------------------------------------- */

START_TEST(test_write_abort_rolls_back)
{
	struct kt_store *s;
	struct kt_store_txn *w;
	uint64_t idx;

	model_init();
	s = open_store();
	for (uint64_t i = 0; i < 700; i++)
		model_make(i);
	append_range(s, 0, 300);
	/* A batch crossing a tile boundary, aborted: nothing of it stays. */
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	for (uint64_t i = 300; i < 600; i++)
		ck_assert_int_eq(kt_store_write_append(w, M->enc[i],
		                     M->enc_len[i], &idx),
		    KT_OK);
	kt_store_write_abort(w);
	/* A commit without a checkpoint is refused and rolled back. */
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	ck_assert_uint_eq(kt_store_write_size(w), 300);
	ck_assert_int_eq(kt_store_write_append(w, M->enc[300], M->enc_len[300],
	                     &idx),
	    KT_OK);
	ck_assert_int_eq(kt_store_write_commit(w), KT_ERR_INTERNAL);
	/* Only one write transaction at a time. */
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	{
		struct kt_store_txn *w2;

		ck_assert_int_eq(kt_store_write_begin(s, &w2), KT_ERR_BUSY);
	}
	/* A version that exists is a conflict and leaves the txn usable. */
	ck_assert_int_eq(kt_store_write_append(w, M->enc[0], M->enc_len[0],
	                     &idx),
	    KT_ERR_CONFLICT);
	ck_assert_int_eq(kt_store_write_append(w, (const uint8_t *)"x", 1,
	                     &idx),
	    KT_ERR_MALFORMED);
	kt_store_write_abort(w);
	append_range(s, 300, 700);
	check_all(s, 0);
	kt_store_close(s);
	model_free();
}
END_TEST

START_TEST(test_write_latest_sees_batch)
{
	struct kt_store *s;
	struct kt_store_txn *w;
	uint64_t ver, idx, i;
	const uint8_t *buf;
	size_t len;
	char label[32];
	struct kt_hash mi;

	model_init();
	s = open_store();
	for (i = 0; i < 300; i++)
		model_make(i);
	model_label(5, label, sizeof(label), &mi);
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	ck_assert_int_eq(kt_store_write_latest(w, &mi, &ver, &idx), KT_OK);
	ck_assert_uint_eq(ver, 0);
	ck_assert_uint_eq(idx, KT_NO_PREV);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(kt_store_write_append(w, M->enc[i],
		                     M->enc_len[i], &idx),
		    KT_OK);
	ck_assert_int_eq(kt_store_write_latest(w, &mi, &ver, &idx), KT_OK);
	ck_assert_uint_eq(ver, M->label_count[5]);
	ck_assert_uint_eq(idx, M->label_last[5]);
	/* "user-5@example.co" is a prefix of other labels, never published. */
	test_index("user-5@example.co", &mi);
	ck_assert_int_eq(kt_store_write_latest(w, &mi, &ver, &idx), KT_OK);
	ck_assert_uint_eq(ver, 0);
	ck_assert_int_eq(kt_store_write_entry(w, 299, &buf, &len), KT_OK);
	ck_assert_mem_eq(buf, M->enc[299], len);
	ck_assert_int_eq(kt_store_write_entry(w, 300, &buf, &len),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(kt_store_write_checkpoint(w, "c\n", 2), KT_OK);
	ck_assert_int_eq(kt_store_write_commit(w), KT_OK);
	kt_store_close(s);
	model_free();
}
END_TEST

START_TEST(test_snapshot_isolation)
{
	struct kt_store *s;
	struct kt_store_read *r;
	struct kt_proof p;
	struct kt_hash h;
	const char *note;
	size_t len;

	model_init();
	s = open_store();
	for (uint64_t i = 0; i < 900; i++)
		model_make(i);
	append_range(s, 0, 400);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	append_range(s, 400, 900);
	/* The old snapshot still sees size 400, its checkpoint and tiles. */
	ck_assert_uint_eq(kt_store_read_size(r), 400);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &note, &len), KT_OK);
	ck_assert_uint_eq(len, strlen("test checkpoint 400\n"));
	ck_assert_mem_eq(note, "test checkpoint 400\n", len);
	ck_assert_int_eq(kt_store_root(r, 400, &h), KT_OK);
	ck_assert_mem_eq(h.b, M->root[400].b, 32);
	ck_assert_int_eq(kt_store_inclusion(r, 0, 401, &p), KT_ERR_RANGE);
	kt_store_read_end(r);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), 900);
	kt_store_read_end(r);
	kt_store_close(s);
	model_free();
}
END_TEST

/*
 * Leaf-hash records wait in memory and commits move key-space slices into
 * LMDB: a snapshot taken mid-way finds exactly its leaves, whatever the
 * commits after it moved, and the newest state finds all.
 */
START_TEST(test_leaf_lookup_across_sweeps)
{
	struct kt_store *s;
	struct kt_store_read *old, *r;
	struct kt_hash h;
	uint64_t idx;

	model_init();
	s = open_store();
	for (uint64_t i = 0; i < 2000; i++)
		model_make(i);
	for (uint64_t b = 0; b < 20; b++)
		append_range(s, b * 50, b * 50 + 50);
	ck_assert_int_eq(kt_store_read_begin(s, &old), KT_OK);
	/* 20 more commits: past 1 Ki waiting records, slices move. */
	for (uint64_t b = 20; b < 40; b++)
		append_range(s, b * 50, b * 50 + 50);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	for (uint64_t i = 0; i < 2000; i++) {
		ck_assert_int_eq(kt_store_find_leaf(r, &M->leaf[i], &idx),
		    KT_OK);
		ck_assert_uint_eq(idx, i);
		if (i < 1000) {
			ck_assert_int_eq(kt_store_find_leaf(old, &M->leaf[i],
			                     &idx),
			    KT_OK);
			ck_assert_uint_eq(idx, i);
		} else {
			ck_assert_int_eq(kt_store_find_leaf(old, &M->leaf[i],
			                     &idx),
			    KT_ERR_NOT_FOUND);
		}
	}
	memset(&h, 0xa5, sizeof(h));
	ck_assert_int_eq(kt_store_find_leaf(r, &h, &idx), KT_ERR_NOT_FOUND);
	kt_store_read_end(old);
	kt_store_read_end(r);
	/* And after a reopen (the slice position starts over). */
	kt_store_close(s);
	s = open_store();
	/* An empty commit re-signing size 2000 replaces its checkpoint. */
	append_range(s, 2000, 2000);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	for (uint64_t i = 0; i < 2000; i += 7) {
		ck_assert_int_eq(kt_store_find_leaf(r, &M->leaf[i], &idx),
		    KT_OK);
		ck_assert_uint_eq(idx, i);
	}
	kt_store_read_end(r);
	kt_store_close(s);
	model_free();
}
END_TEST

/*
 * Index records wait in memory and move into LMDB one slice at a time.
 * 512 small commits past the 1 Ki threshold sweep every slice several
 * times: snapshots held across them (whose records memory has dropped
 * since) still see exactly their labels and leaves, the newest state sees
 * everything, and so does a reopen (memory rebuilt from the entries).
 */
START_TEST(test_indexes_across_sweeps)
{
	struct kt_store *s;
	struct kt_store_read *old1, *old2, *r;
	struct kt_store_txn *w;
	uint64_t ver, idx;
	char label[32];
	struct kt_hash mi;

	model_init();
	s = open_store();
	for (uint64_t i = 0; i < MAXN; i++)
		model_make(i);
	for (uint64_t b = 0; b < MAXN / 8; b++) {
		append_range(s, b * 8, b * 8 + 8);
		if (b * 8 + 8 == 1200)
			ck_assert_int_eq(kt_store_read_begin(s, &old1), KT_OK);
		if (b * 8 + 8 == 2400)
			ck_assert_int_eq(kt_store_read_begin(s, &old2), KT_OK);
	}
	ck_assert_uint_eq(kt_store_read_size(old1), 1200);
	check_indexes(old1);
	check_indexes(old2);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	check_indexes(r);
	kt_store_read_end(old1);
	kt_store_read_end(old2);
	kt_store_read_end(r);
	/* The writer sees the same, and refuses an existing version. */
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	model_label(7, label, sizeof(label), &mi);
	ck_assert_int_eq(kt_store_write_latest(w, &mi, &ver, &idx), KT_OK);
	ck_assert_uint_eq(ver, M->label_count[7]);
	ck_assert_uint_eq(idx, M->label_last[7]);
	ck_assert_int_eq(kt_store_write_append(w, M->enc[MAXN - 1],
	                     M->enc_len[MAXN - 1], &idx),
	    KT_ERR_CONFLICT);
	kt_store_write_abort(w);
	kt_store_close(s);
	s = open_store();
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	check_indexes(r);
	kt_store_read_end(r);
	kt_store_close(s);
	model_free();
}
END_TEST

/*
 * A failed sync after a commit (a failing disk): the commit is not shown
 * to readers, the store takes no more writes, and a reopen shows whatever
 * the disk holds (here, the page cache: everything), consistently.
 */
START_TEST(test_failed_sync_stops_writes)
{
	struct kt_store *s;
	struct kt_store_read *r;
	struct kt_store_txn *w;
	uint64_t idx;

	model_init();
	for (uint64_t i = 0; i < 1500; i++)
		model_make(i);
	s = open_store();
	append_range(s, 0, 1200);
	kt_store_test_fail_syncs(s, 1);
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	for (uint64_t i = 1200; i < 1300; i++)
		ck_assert_int_eq(kt_store_write_append(w, M->enc[i],
		                     M->enc_len[i], &idx),
		    KT_OK);
	ck_assert_int_eq(kt_store_write_checkpoint(w, "c\n", 2), KT_OK);
	ck_assert_int_eq(kt_store_write_commit(w), KT_ERR_IO);
	ck_assert_ptr_nonnull(strstr(kt_store_write_errmsg(s), "fdatasync"));
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), 1200);
	check_indexes(r);
	kt_store_read_end(r);
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_ERR_IO);
	ck_assert_int_eq(kt_store_writable(s), 0);
	kt_store_close(s);
	s = open_store();
	ck_assert_int_eq(kt_store_writable(s), 1);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), 1300);
	check_indexes(r);
	kt_store_read_end(r);
	append_range(s, 1300, 1500);
	check_all(s, 0);
	kt_store_close(s);
	model_free();
}
END_TEST

/*
 * A seeded random workload against a model: 3000 labels published again
 * and again (many versions each), batches of 1..300, commits that fail
 * after their records went public (then retried), reopens, and snapshots
 * held across many commits. Every snapshot must see exactly the labels,
 * versions and leaves of its size.
 */
#define RW_N 40000
#define RW_LABELS 3000

struct rw {
	uint8_t (*enc)[KT_UPDATE_LEN];
	size_t *len;
	struct kt_hash *leaf;
	uint32_t *label_of;        /* entry -> label number */
	uint64_t *version_of;      /* entry -> version */
	uint64_t count[RW_LABELS]; /* versions so far */
	uint64_t last[RW_LABELS];  /* index of the latest version */
};

static uint64_t rw_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rw_rand(void)
{
	rw_state ^= rw_state << 13;
	rw_state ^= rw_state >> 7;
	rw_state ^= rw_state << 17;
	return rw_state;
}

static void
rw_make(struct rw *m, uint64_t i)
{
	char label[48];
	struct kt_update u;
	uint32_t li = (uint32_t)(rw_rand() % RW_LABELS);

	snprintf(label, sizeof(label), "rw-%u@example.org", li);
	memset(&u, 0, sizeof(u));
	test_index(label, &u.index);
	u.version = ++m->count[li];
	u.prev_index = u.version > 1 ? m->last[li] : KT_NO_PREV;
	m->last[li] = i;
	memset(u.commitment.b, (int)(i & 0xff), KT_HASH_LEN);
	kt_put_be64(u.commitment.b, i);
	ck_assert_int_eq(kt_update_encode(&u, m->enc[i]), KT_OK);
	m->len[i] = KT_UPDATE_LEN;
	kt_hash_leaf(m->enc[i], m->len[i], &m->leaf[i]);
	m->label_of[i] = li;
	m->version_of[i] = u.version;
}

/* Checks a snapshot: for a sample of labels, the count and every version;
 * for a sample of leaves, the index (or absence past the size). */
static void
rw_check(struct rw *m, struct kt_store_read *r, uint64_t made)
{
	uint64_t n = kt_store_read_size(r), idx, cnt;
	uint64_t *want = calloc(RW_LABELS, sizeof(*want));
	uint64_t **where = calloc(RW_LABELS, sizeof(*where));
	char label[48];
	unsigned bad = 0;

	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(where);
	for (uint64_t i = 0; i < n; i++)
		want[m->label_of[i]]++;
	for (uint32_t li = 0; li < RW_LABELS; li++)
		where[li] = calloc(want[li] + 1, sizeof(uint64_t));
	for (uint64_t i = 0; i < n; i++)
		where[m->label_of[i]][m->version_of[i]] = i;
	for (uint32_t li = 0; li < RW_LABELS; li += 7) {
		struct kt_hash mi;

		snprintf(label, sizeof(label), "rw-%u@example.org", li);
		test_index(label, &mi);
		bad += kt_store_label_count(r, &mi, &cnt) != KT_OK ||
		    cnt != want[li];
		for (uint64_t v = 1; v <= want[li]; v++)
			bad +=
			    kt_store_label_version(r, &mi, v, &idx) != KT_OK ||
			    idx != where[li][v];
		bad += kt_store_label_version(r, &mi, want[li] + 1, &idx) !=
		    KT_ERR_NOT_FOUND;
	}
	for (uint64_t i = 0; i < made; i += 13) {
		kt_err e = kt_store_find_leaf(r, &m->leaf[i], &idx);

		bad += i < n ? (e != KT_OK || idx != i) : e != KT_ERR_NOT_FOUND;
	}
	ck_assert_msg(bad == 0, "%u wrong answers at size %llu", bad,
	    (unsigned long long)n);
	for (uint32_t li = 0; li < RW_LABELS; li++)
		free(where[li]);
	free(where);
	free(want);
}

/* The random workload's model: RW_N entries made by rw_make. */
static struct rw *
rw_new(void)
{
	struct rw *m = calloc(1, sizeof(*m));

	ck_assert_ptr_nonnull(m);
	m->enc = calloc(RW_N, sizeof(*m->enc));
	m->len = calloc(RW_N, sizeof(*m->len));
	m->leaf = calloc(RW_N, sizeof(*m->leaf));
	m->label_of = calloc(RW_N, sizeof(*m->label_of));
	m->version_of = calloc(RW_N, sizeof(*m->version_of));
	ck_assert(m->enc && m->len && m->leaf && m->label_of && m->version_of);
	for (uint64_t i = 0; i < RW_N; i++)
		rw_make(m, i);
	return m;
}

static void
rw_free(struct rw *m)
{
	free(m->enc);
	free(m->len);
	free(m->leaf);
	free(m->label_of);
	free(m->version_of);
	free(m);
}

/* Appends the model's entries [size, size + b) and a checkpoint note in
 * one write transaction; returns what the commit returned. */
static kt_err
rw_commit(struct kt_store *s, const struct rw *m, uint64_t size, uint64_t b)
{
	struct kt_store_txn *w;
	uint64_t idx;
	char note[48];

	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	for (uint64_t i = size; i < size + b; i++)
		ck_assert_int_eq(kt_store_write_append(w, m->enc[i], m->len[i],
		                     &idx),
		    KT_OK);
	snprintf(note, sizeof(note), "rw %llu\n",
	    (unsigned long long)(size + b));
	ck_assert_int_eq(kt_store_write_checkpoint(w, note, strlen(note)),
	    KT_OK);
	return kt_store_write_commit(w);
}

/* Checks every held snapshot against the model (the log now has `size`
 * entries) and ends it. */
static void
rw_release_held(struct rw *m, struct kt_store_read *held[3], uint64_t size)
{
	for (unsigned k = 0; k < 3; k++) {
		if (held[k] != NULL) {
			rw_check(m, held[k], size);
			kt_store_read_end(held[k]);
			held[k] = NULL;
		}
	}
}

/* The newest snapshot of s holds all RW_N entries of the model. */
static void
rw_check_latest(struct rw *m, struct kt_store *s)
{
	struct kt_store_read *r;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), RW_N);
	rw_check(m, r, RW_N);
	kt_store_read_end(r);
}

START_TEST(test_random_workload)
{
	struct rw *m = rw_new();
	struct kt_store *s;
	struct kt_store_read *held[3] = { NULL, NULL, NULL };
	uint64_t size = 0;
	unsigned failures = 0, reopens = 0;

	s = open_store();
	while (size < RW_N) {
		uint64_t b = 1 + rw_rand() % 120;
		unsigned r = (unsigned)(rw_rand() % 100);

		if (b > RW_N - size)
			b = RW_N - size;
		if (r < 4) {
			/* This commit fails after publishing its records. */
			kt_store_test_fail_commits(s, 1);
			failures++;
		}
		if (rw_commit(s, m, size, b) != KT_OK) {
			ck_assert_uint_lt(r, 4);
			continue; /* retried with the same entries */
		}
		size += b;
		if (r >= 4 && r < 8) {
			/* Hold a snapshot for a while (replacing the oldest). */
			unsigned k = (unsigned)(rw_rand() % 3);

			if (held[k] != NULL) {
				rw_check(m, held[k], size);
				kt_store_read_end(held[k]);
			}
			ck_assert_int_eq(kt_store_read_begin(s, &held[k]),
			    KT_OK);
		} else if (r == 8 || r == 9) {
			rw_release_held(m, held, size);
			kt_store_close(s);
			s = open_store();
			reopens++;
		}
	}
	rw_release_held(m, held, size);
	rw_check_latest(m, s);
	kt_store_close(s);
	s = open_store();
	rw_check_latest(m, s);
	kt_store_close(s);
	ck_assert_uint_gt(failures, 10);
	ck_assert_uint_gt(reopens, 2);
	rw_free(m);
}
END_TEST

START_TEST(test_map_growth)
{
	struct kt_store *s = NULL;
	char err[256];
	size_t m0;

	model_init();
	/* 256 KiB: full after a few dozen entries, then doubles repeatedly. */
	ck_assert_int_eq(kt_store_open_mapsize(&s, tmpdir, ORIGIN, VKEY,
	                     256 * 1024, err, sizeof(err)),
	    KT_OK);
	m0 = kt_store_mapsize(s);
	for (uint64_t i = 0; i < 3000; i++)
		model_make(i);
	for (uint64_t i = 0; i < 3000; i += 150)
		append_range(s, i, i + 150);
	ck_assert_uint_gt(kt_store_mapsize(s), m0);
	check_all(s, 0);
	kt_store_close(s);
	/* Reopen with the small size: LMDB keeps the grown one. */
	ck_assert_int_eq(kt_store_open_mapsize(&s, tmpdir, ORIGIN, VKEY,
	                     256 * 1024, err, sizeof(err)),
	    KT_OK);
	check_all(s, 0);
	kt_store_close(s);
	model_free();
}
END_TEST

static Suite *
store_write_suite(void)
{
	Suite *su = suite_create("store_write");
	TCase *tc;

	tc = tcase_create("kt_store_write");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_write_abort_rolls_back);
	tcase_add_test(tc, test_write_latest_sees_batch);
	tcase_add_test(tc, test_snapshot_isolation);
	tcase_add_test(tc, test_leaf_lookup_across_sweeps);
	tcase_add_test(tc, test_indexes_across_sweeps);
	tcase_add_test(tc, test_failed_sync_stops_writes);
	tcase_add_test(tc, test_random_workload);
	tcase_add_test(tc, test_map_growth);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return kt_test_run(store_write_suite());
}
