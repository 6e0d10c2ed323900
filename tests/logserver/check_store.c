/*
 * check_store.c: the LMDB store against proto's in-memory tree: opening,
 * and appends, reopens and proofs across batch boundaries.
 *
 * Reference model: leaf hashes kept in memory; roots of every size from
 * kt_frontier (appended one leaf at a time); proofs from proto's generator
 * over an in-memory node function (every perfect subtree hashed naively from
 * the leaves), and each store proof also verified against the frontier's
 * root (store_testlib.h); tile rows compared with C2SP tlog-tiles' definition computed by a
 * naive recursive MTH (RFC 9162 §2.1.1).
 */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/runner.h"
#include "kt/bytes.h"
#include "kt/leaf.h"
#include "kt/merkle.h"
#include "kt/tile.h"
#include "store/store.h"
#include "store/store_write.h"
#include "store_testlib.h"

/* ---- tiles ---------------------------------------------------------------- */

static void
mth(uint64_t lo, uint64_t hi, struct kt_hash *out)
{
	struct kt_hash l, r;
	uint64_t k = 1;

	if (hi - lo == 1) {
		*out = M->leaf[lo];
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	mth(lo, lo + k, &l);
	mth(lo + k, hi, &r);
	kt_hash_node(&l, &r, out);
}

/* ---- store helpers ---------------------------------------------------------- */
/*
 * Tiles served = C2SP tlog-tiles: hash i of tile t at level l is MTH of
 * leaves [(t*256+i)*256^l, (t*256+i+1)*256^l); any width up to today's.
 */
static void
check_tiles(struct kt_store *s)
{
	static uint8_t buf[256 * (KT_UPDATE_LEN + 2)];
	struct kt_store_read *r;
	struct kt_tile t;
	struct kt_hash h;
	size_t len, off;
	uint64_t n = M->n;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	for (unsigned level = 0; level <= 2; level++) {
		uint64_t span = (uint64_t)1 << (8 * level);
		uint64_t nh = n / span; /* hashes at this level */

		for (uint64_t ti = 0; ti <= nh / 256 + 1; ti++) {
			unsigned have = nh >= (ti + 1) * 256 ? 256
			    : nh > ti * 256 ? (unsigned)(nh - ti * 256)
			                    : 0;

			for (unsigned w = 1; w <= 256; w++) {
				t.level = level;
				t.index = ti;
				t.width = w;
				if (w > have) {
					ck_assert_int_eq(kt_store_read_tile(r,
					                     &t, buf,
					                     sizeof(buf), &len),
					    KT_ERR_NOT_FOUND);
					continue;
				}
				/* Every width of low tiles, a few of others. */
				if (!(w == have || w == 1 || w % 51 == 0))
					continue;
				ck_assert_int_eq(kt_store_read_tile(r, &t, buf,
				                     sizeof(buf), &len),
				    KT_OK);
				ck_assert_uint_eq(len, w * 32u);
				for (unsigned i = 0; i < w; i++) {
					uint64_t lo = (ti * 256 + i) * span;
					struct kt_hash got;

					mth(lo, lo + span, &h);
					memcpy(got.b, buf + i * 32, 32);
					ck_assert_msg(kt_hash_eq(&got, &h),
					    "tile %u/%llu hash %u", level,
					    (unsigned long long)ti, i);
				}
				/* Entry bundles for the level-0 geometry. */
				if (level != 0)
					continue;
				t.level = KT_TILE_LEVEL_ENTRIES;
				ck_assert_int_eq(kt_store_read_tile(r, &t, buf,
				                     sizeof(buf), &len),
				    KT_OK);
				off = 0;
				for (unsigned i = 0; i < w; i++) {
					const uint8_t *ent;
					size_t el;
					uint64_t k = ti * 256 + i;

					ck_assert_int_eq(kt_bundle_next(buf,
					                     len, &off, &ent,
					                     &el),
					    KT_OK);
					ck_assert_uint_eq(el, M->enc_len[k]);
					ck_assert_mem_eq(ent, M->enc[k], el);
				}
				ck_assert_uint_eq(off, len);
				ck_assert_int_eq(kt_store_read_tile(r, &t, buf,
				                     10, &len),
				    KT_ERR_TOO_LARGE);
			}
		}
	}
	t.level = 0;
	t.index = 0;
	t.width = 0;
	ck_assert_int_eq(kt_store_read_tile(r, &t, buf, sizeof(buf), &len),
	    KT_ERR_RANGE);
	t.level = 9;
	t.width = 1;
	ck_assert_int_eq(kt_store_read_tile(r, &t, buf, sizeof(buf), &len),
	    KT_ERR_NOT_FOUND);
	kt_store_read_end(r);
}

/* ---- kt_store_open -------------------------------------------------------- */

START_TEST(test_open_fresh_and_reopen)
{
	struct kt_store *s = open_store();
	struct kt_store_read *r;
	const char *note;
	size_t len;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), 0);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &note, &len),
	    KT_ERR_NOT_FOUND);
	kt_store_read_end(r);
	ck_assert_uint_gt(kt_store_disk_bytes(s), 0);
	kt_store_close(s);
	s = open_store();
	kt_store_close(s);
	kt_store_close(NULL);
}
END_TEST

START_TEST(test_open_refuses)
{
	struct kt_store *s = NULL;
	char err[256], path[128];
	FILE *f;

	kt_store_close(open_store());
	ck_assert_int_eq(kt_store_open(&s, tmpdir, "other.example/log", VKEY,
	                     err, sizeof(err)),
	    KT_ERR_CONFLICT);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "other.example/log"));
	ck_assert_int_eq(
	    kt_store_open(&s, tmpdir, ORIGIN,
	        ORIGIN "+89abcdef+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
	        err, sizeof(err)),
	    KT_ERR_CONFLICT);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "another key"));

	/* A folder with someone else's files. */
	snprintf(path, sizeof(path), "%s/other", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/other/notes.txt", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("hello\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/other", tmpdir);
	ck_assert_int_eq(kt_store_open(&s, path, ORIGIN, VKEY, err,
	                     sizeof(err)),
	    KT_ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(err, "not a kt data folder"));
	/* A plain file where the folder should be. */
	snprintf(path, sizeof(path), "%s/other/notes.txt", tmpdir);
	ck_assert_int_eq(kt_store_open(&s, path, ORIGIN, VKEY, err,
	                     sizeof(err)),
	    KT_ERR_CONFLICT);
	/* A data.mdb that is not LMDB. */
	snprintf(path, sizeof(path), "%s/junk", tmpdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/junk/data.mdb", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 3000; i++)
		fputs("not an lmdb file ", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/junk", tmpdir);
	ck_assert_int_eq(kt_store_open(&s, path, ORIGIN, VKEY, err,
	                     sizeof(err)),
	    KT_ERR_CONFLICT);
	ck_assert_ptr_null(s);
	/* A missing folder is created. */
	snprintf(path, sizeof(path), "%s/new/", tmpdir);
	ck_assert_int_eq(kt_store_open(&s, path, ORIGIN, VKEY, err,
	                     sizeof(err)),
	    KT_OK);
	kt_store_close(s);
	/* The right origin and key still open, but only once at a time. */
	{
		struct kt_store *a = open_store(), *b = NULL;

		ck_assert_int_eq(kt_store_open(&b, tmpdir, ORIGIN, VKEY, err,
		                     sizeof(err)),
		    KT_ERR_BUSY);
		ck_assert_ptr_null(b);
		ck_assert_ptr_nonnull(strstr(err, "in use"));
		kt_store_close(a);
	}
	kt_store_close(open_store());
}
END_TEST

/* Sets the store format recorded in a (closed) test folder, as a kt-logd
 * of that format would have left it. Raw LMDB. */
static void
set_format(uint32_t format)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = { 6, "format" }, v;
	uint8_t fmt[4];

	fmt[0] = (uint8_t)(format >> 24);
	fmt[1] = (uint8_t)(format >> 16);
	fmt[2] = (uint8_t)(format >> 8);
	fmt[3] = (uint8_t)format;
	v.mv_size = sizeof(fmt);
	v.mv_data = fmt;
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 8), 0);
	ck_assert_int_eq(mdb_env_open(env, tmpdir, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	ck_assert_int_eq(mdb_put(txn, meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * A folder of an older store format (1 to 5: 3 is the plain log's, before
 * the key directory, 4 kept the map's strata by hash, 5 had no skeletons)
 * is refused with a message naming the format found and the one read, and
 * saying to start a new folder; an unknown format is refused too. Nothing
 * is changed: back at format 6 the same folder opens with its entries.
 */
START_TEST(test_open_refuses_other_format)
{
	struct kt_store *s = NULL;
	struct kt_store_read *r;
	char err[256];

	model_init();
	for (uint64_t i = 0; i < 300; i++)
		model_make(i);
	s = open_store();
	append_range(s, 0, 300);
	kt_store_close(s);
	for (uint32_t f = 1; f <= 5; f++) {
		char want[32];

		set_format(f);
		s = NULL;
		ck_assert_int_eq(kt_store_open(&s, tmpdir, ORIGIN, VKEY, err,
		                     sizeof(err)),
		    KT_ERR_CONFLICT);
		ck_assert_ptr_null(s);
		snprintf(want, sizeof(want), "store format %u;", (unsigned)f);
		ck_assert_msg(strstr(err, want) != NULL, "%s", err);
		ck_assert_msg(strstr(err, "reads only format 6") != NULL, "%s",
		    err);
		ck_assert_msg(strstr(err, "a new folder is a new log") != NULL,
		    "%s", err);
	}
	set_format(7);
	ck_assert_int_eq(kt_store_open(&s, tmpdir, ORIGIN, VKEY, err,
	                     sizeof(err)),
	    KT_ERR_CONFLICT);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "unsupported kt store format (7;") != NULL,
	    "%s", err);
	set_format(6);
	s = open_store();
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), 300);
	check_indexes(r);
	kt_store_read_end(r);
	kt_store_close(s);
	model_free();
}
END_TEST

/* ---- appends, reopen, proofs across batch boundaries ---------------------- */

static void
run_batches(uint64_t total, uint64_t batch, int all_pairs, int reopen_every)
{
	struct kt_store *s;
	uint64_t done = 0, nb = 0;

	model_init();
	s = open_store();
	while (done < total) {
		uint64_t to = done + batch > total ? total : done + batch;

		for (uint64_t i = done; i < to; i++)
			model_make(i);
		append_range(s, done, to);
		done = to;
		/* Cheap check after every batch: latest root. */
		{
			struct kt_store_read *r;
			struct kt_hash h;

			ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
			ck_assert_uint_eq(kt_store_read_size(r), done);
			ck_assert_int_eq(kt_store_root(r, done, &h), KT_OK);
			ck_assert(kt_hash_eq(&h, &M->root[done]));
			kt_store_read_end(r);
		}
		if (reopen_every && ++nb % reopen_every == 0) {
			kt_store_close(s);
			s = open_store();
		}
	}
	check_all(s, all_pairs);
	check_tiles(s);
	kt_store_close(s);
	/* Everything survives a reopen. */
	s = open_store();
	check_all(s, 0);
	kt_store_close(s);
	model_free();
}

START_TEST(test_batches_of_1)
{
	run_batches(600, 1, 1, 0);
}
END_TEST

START_TEST(test_batches_of_7)
{
	run_batches(1500, 7, 1, 0);
}
END_TEST

START_TEST(test_batches_of_256)
{
	run_batches(3000, 256, 0, 0);
}
END_TEST

START_TEST(test_batches_of_1000)
{
	run_batches(3500, 1000, 0, 0);
}
END_TEST

START_TEST(test_reopen_mid_tile)
{
	/* Batches of 100 and 37 with a close/reopen after every third batch:
	 * the writer reloads partial tiles at every tile level. */
	run_batches(2000, 100, 0, 3);
}
END_TEST

START_TEST(test_reopen_every_batch)
{
	run_batches(700, 37, 0, 1);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *su = suite_create("store");
	TCase *tc;

	tc = tcase_create("kt_store_open");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_open_fresh_and_reopen);
	tcase_add_test(tc, test_open_refuses);
	tcase_add_test(tc, test_open_refuses_other_format);
	suite_add_tcase(su, tc);

	tc = tcase_create("kt_store_proofs");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_batches_of_1);
	tcase_add_test(tc, test_batches_of_7);
	tcase_add_test(tc, test_batches_of_256);
	tcase_add_test(tc, test_batches_of_1000);
	tcase_add_test(tc, test_reopen_mid_tile);
	tcase_add_test(tc, test_reopen_every_batch);
	suite_add_tcase(su, tc);
	return su;
}

int
main(void)
{
	return kt_test_run(store_suite());
}
