/*
 * check_store.c: the LMDB store against proto's in-memory tree.
 *
 * Reference model: leaf hashes kept in memory; roots of every size from
 * kt_frontier (appended one leaf at a time); proofs from proto's generator
 * over an in-memory node function (every perfect subtree hashed naively from
 * the leaves), and each store proof also verified against the frontier's
 * root; tile rows compared with C2SP tlog-tiles' definition computed by a
 * naive recursive MTH (RFC 9162 §2.1.1). Each test case uses a fresh
 * temporary folder, removed afterwards.
 */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/runner.h"
#include "kt/bytes.h"
#include "kt/entry.h"
#include "kt/merkle.h"
#include "kt/tile.h"
#include "store/store.h"
#include "store/store_write.h"

#define ORIGIN "example.com/kt-test"
#define VKEY \
	"example.com/kt-test+01234567+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define MAXN 4096

/* ---- temp folders --------------------------------------------------------- */

static char tmpdir[64];

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void
tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kt-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
tmp_teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- reference model ------------------------------------------------------ */

struct model {
	uint64_t n;
	struct kt_hash leaf[MAXN];
	struct kt_hash root[MAXN + 1]; /* root of every size */
	uint8_t enc[MAXN][200];
	size_t enc_len[MAXN];
	uint64_t label_count[97];
	uint64_t label_last[97];
	struct kt_frontier f;
	/* all perfect subtrees: lv[l][i] for l <= 12 */
	struct kt_hash *lv[13];
	uint64_t lv_n[13];
};

static struct model *M;

static void
model_init(void)
{
	M = calloc(1, sizeof(*M));
	ck_assert_ptr_nonnull(M);
	kt_frontier_init(&M->f);
	kt_hash_empty(&M->root[0]);
	for (int l = 0; l < 13; l++) {
		M->lv[l] = calloc(MAXN, sizeof(struct kt_hash));
		ck_assert_ptr_nonnull(M->lv[l]);
	}
}

static void
model_free(void)
{
	for (int l = 0; l < 13; l++)
		free(M->lv[l]);
	free(M);
	M = NULL;
}

/* Builds entry number i of the model: label "user-<i % 97>", next version. */
static void
model_make(uint64_t i)
{
	char label[32];
	uint8_t key[32];
	struct kt_entry e;
	unsigned li = (unsigned)(i % 97);

	ck_assert_uint_lt(i, MAXN);
	snprintf(label, sizeof(label), "user-%u@example.com", li);
	for (int b = 0; b < 32; b++)
		key[b] = (uint8_t)(i * 31 + (uint64_t)b);
	memset(&e, 0, sizeof(e));
	e.type = (M->label_count[li] > 0 && i % 11 == 0) ? KT_ENTRY_REVOKE
	                                                 : KT_ENTRY_KEY;
	e.timestamp_ms = 1700000000000ull + i;
	e.label = label;
	e.label_len = strlen(label);
	e.version = M->label_count[li] + 1;
	e.prev_index = M->label_count[li] ? M->label_last[li] : KT_NO_PREV;
	if (e.type == KT_ENTRY_KEY) {
		e.key_type = "ed25519";
		e.key_type_len = 7;
		e.key = key;
		e.key_len = 32;
	}
	ck_assert_int_eq(kt_entry_encode(&e, M->enc[i], sizeof(M->enc[i]),
	                     &M->enc_len[i]),
	    KT_OK);
	M->label_count[li]++;
	M->label_last[li] = i;
	kt_hash_leaf(M->enc[i], M->enc_len[i], &M->leaf[i]);
	ck_assert_int_eq(kt_frontier_append(&M->f, &M->leaf[i]), KT_OK);
	kt_frontier_root(&M->f, &M->root[i + 1]);
	M->n = i + 1;
}

/* Recomputes every perfect subtree naively from the leaves. */
static void
model_levels(void)
{
	for (uint64_t i = 0; i < M->n; i++)
		M->lv[0][i] = M->leaf[i];
	M->lv_n[0] = M->n;
	for (int l = 1; l < 13; l++) {
		M->lv_n[l] = M->lv_n[l - 1] / 2;
		for (uint64_t i = 0; i < M->lv_n[l]; i++)
			kt_hash_node(&M->lv[l - 1][2 * i],
			    &M->lv[l - 1][2 * i + 1], &M->lv[l][i]);
	}
}

static kt_err
mem_node(void *ctx, unsigned level, uint64_t i, struct kt_hash *out)
{
	(void)ctx;
	if (level >= 13 || i >= M->lv_n[level])
		return KT_ERR_RANGE;
	*out = M->lv[level][i];
	return KT_OK;
}

/* RFC 9162 §2.1.1 MTH, naively recursive (k = largest power of 2 < n). */
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

static struct kt_store *
open_store(void)
{
	struct kt_store *s = NULL;
	char err[256];

	ck_assert_msg(kt_store_open(&s, tmpdir, ORIGIN, VKEY, err,
	                  sizeof(err)) == KT_OK,
	    "open: %s", err);
	return s;
}

/* Appends model entries [from, to) in one transaction with a dummy
 * checkpoint; retries (as the sequencer does) when the map was grown. */
static void
append_range(struct kt_store *s, uint64_t from, uint64_t to)
{
	struct kt_store_txn *w;
	char note[64];
	uint64_t idx;
	kt_err e;
	int tries = 0;

again:
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	ck_assert_uint_eq(kt_store_write_size(w), from);
	for (uint64_t i = from; i < to; i++) {
		e = kt_store_write_append(w, M->enc[i], M->enc_len[i], &idx);
		if (e == KT_ERR_BUSY)
			goto retry;
		ck_assert_msg(e == KT_OK, "append %llu: %s (%s)",
		    (unsigned long long)i, kt_strerror(e),
		    kt_store_write_errmsg(s));
		ck_assert_uint_eq(idx, i);
	}
	snprintf(note, sizeof(note), "test checkpoint %llu\n",
	    (unsigned long long)to);
	e = kt_store_write_checkpoint(w, note, strlen(note));
	if (e == KT_ERR_BUSY)
		goto retry;
	ck_assert_int_eq(e, KT_OK);
	e = kt_store_write_commit(w);
	if (e == KT_ERR_BUSY && ++tries < 30)
		goto again;
	ck_assert_msg(e == KT_OK, "commit: %s (%s)", kt_strerror(e),
	    kt_store_write_errmsg(s));
	return;
retry:
	kt_store_write_abort(w);
	ck_assert_int_lt(++tries, 30);
	goto again;
}

static void
check_proofs_at(struct kt_store_read *r, uint64_t size, uint64_t index)
{
	struct kt_proof p, q;

	ck_assert_int_eq(kt_store_inclusion(r, index, size, &p), KT_OK);
	ck_assert_int_eq(kt_merkle_inclusion_proof(mem_node, NULL, index, size,
	                     &q),
	    KT_OK);
	ck_assert_uint_eq(p.n, q.n);
	ck_assert_mem_eq(p.h, q.h, p.n * sizeof(p.h[0]));
	ck_assert_int_eq(kt_merkle_verify_inclusion(&M->leaf[index], index,
	                     size, p.h, p.n, &M->root[size]),
	    KT_OK);
}

static void
check_consistency(struct kt_store_read *r, uint64_t old, uint64_t new_size)
{
	struct kt_proof p, q;

	ck_assert_int_eq(kt_store_consistency(r, old, new_size, &p), KT_OK);
	ck_assert_int_eq(kt_merkle_consistency_proof(mem_node, NULL, old,
	                     new_size, &q),
	    KT_OK);
	ck_assert_uint_eq(p.n, q.n);
	ck_assert_mem_eq(p.h, q.h, p.n * sizeof(p.h[0]));
	ck_assert_int_eq(kt_merkle_verify_consistency(old, new_size, p.h, p.n,
	                     &M->root[old], &M->root[new_size]),
	    KT_OK);
}

/* Everything the store says at its current size agrees with the model. */
static void
check_all(struct kt_store *s, int all_pairs)
{
	struct kt_store_read *r;
	struct kt_hash h;
	const uint8_t *buf;
	size_t len;
	uint64_t n = M->n, idx, cnt;

	model_levels();
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), n);
	/* Root of every size, from stored tiles, = frontier root. */
	for (uint64_t sz = 0; sz <= n; sz++) {
		ck_assert_int_eq(kt_store_root(r, sz, &h), KT_OK);
		ck_assert_msg(kt_hash_eq(&h, &M->root[sz]), "root of size %llu",
		    (unsigned long long)sz);
	}
	ck_assert_int_eq(kt_store_root(r, n + 1, &h), KT_ERR_RANGE);
	/* Entries, leaf hashes, leaf lookup. */
	for (uint64_t i = 0; i < n; i++) {
		ck_assert_int_eq(kt_store_read_entry(r, i, &buf, &len), KT_OK);
		ck_assert_uint_eq(len, M->enc_len[i]);
		ck_assert_mem_eq(buf, M->enc[i], len);
		ck_assert_int_eq(kt_store_read_leaf_hash(r, i, &h), KT_OK);
		ck_assert(kt_hash_eq(&h, &M->leaf[i]));
		ck_assert_int_eq(kt_store_find_leaf(r, &M->leaf[i], &idx),
		    KT_OK);
		ck_assert_uint_eq(idx, i);
	}
	ck_assert_int_eq(kt_store_read_entry(r, n, &buf, &len),
	    KT_ERR_NOT_FOUND);
	memset(&h, 0x5a, sizeof(h));
	ck_assert_int_eq(kt_store_find_leaf(r, &h, &idx), KT_ERR_NOT_FOUND);
	/* Labels. */
	for (unsigned li = 0; li < 97; li++) {
		char label[32];

		snprintf(label, sizeof(label), "user-%u@example.com", li);
		ck_assert_int_eq(kt_store_label_count(r, label, strlen(label),
		                     &cnt),
		    KT_OK);
		ck_assert_uint_eq(cnt, M->label_count[li]);
		if (cnt > 0) {
			ck_assert_int_eq(kt_store_label_version(r, label,
			                     strlen(label), cnt, &idx),
			    KT_OK);
			ck_assert_uint_eq(idx, M->label_last[li]);
		}
		ck_assert_int_eq(kt_store_label_version(r, label, strlen(label),
		                     cnt + 1, &idx),
		    KT_ERR_NOT_FOUND);
		ck_assert_int_eq(kt_store_label_version(r, label, strlen(label),
		                     0, &idx),
		    KT_ERR_NOT_FOUND);
	}
	ck_assert_int_eq(kt_store_label_count(r, "user-1@example.co", 17, &cnt),
	    KT_OK);
	ck_assert_uint_eq(cnt, 0);
	/* Inclusion proofs: all pairs up to 300 (if asked), sampled above. */
	for (uint64_t sz = 1; sz <= n; sz++) {
		if (all_pairs && sz <= 300) {
			for (uint64_t i = 0; i < sz; i++)
				check_proofs_at(r, sz, i);
		} else if (sz % 37 == 0 || sz == n || (sz & 255) <= 1 ||
		    (sz & 255) == 255) {
			for (uint64_t i = 0; i < sz; i += 1 + sz / 13)
				check_proofs_at(r, sz, i);
			check_proofs_at(r, sz, sz - 1);
		}
	}
	{
		struct kt_proof p;

		ck_assert_int_eq(kt_store_inclusion(r, n, n, &p), KT_ERR_RANGE);
		ck_assert_int_eq(kt_store_inclusion(r, 0, n + 1, &p),
		    KT_ERR_RANGE);
		ck_assert_int_eq(kt_store_consistency(r, 1, n + 1, &p),
		    KT_ERR_RANGE);
		ck_assert_int_eq(kt_store_consistency(r, n, n - 1, &p),
		    KT_ERR_RANGE);
	}
	/* Consistency proofs, sampled (old, new). */
	for (uint64_t nw = 1; nw <= n; nw += 1 + nw / 7) {
		for (uint64_t old = 0; old <= nw; old += 1 + old / 3)
			check_consistency(r, old, nw);
		check_consistency(r, nw - 1, nw);
		check_consistency(r, nw, n);
	}
	kt_store_read_end(r);
}

/*
 * Tiles served = C2SP tlog-tiles: hash i of tile t at level l is MTH of
 * leaves [(t*256+i)*256^l, (t*256+i+1)*256^l); any width up to today's.
 */
static void
check_tiles(struct kt_store *s)
{
	static uint8_t buf[256 * (KT_ENTRY_MAX + 2)];
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

	model_init();
	s = open_store();
	for (i = 0; i < 300; i++)
		model_make(i);
	ck_assert_int_eq(kt_store_write_begin(s, &w), KT_OK);
	ck_assert_int_eq(kt_store_write_latest(w, "user-5@example.com", 18,
	                     &ver, &idx),
	    KT_OK);
	ck_assert_uint_eq(ver, 0);
	ck_assert_uint_eq(idx, KT_NO_PREV);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(kt_store_write_append(w, M->enc[i],
		                     M->enc_len[i], &idx),
		    KT_OK);
	ck_assert_int_eq(kt_store_write_latest(w, "user-5@example.com", 18,
	                     &ver, &idx),
	    KT_OK);
	ck_assert_uint_eq(ver, M->label_count[5]);
	ck_assert_uint_eq(idx, M->label_last[5]);
	/* "user-5@example.co" is a prefix of other labels, never published. */
	ck_assert_int_eq(kt_store_write_latest(w, "user-5@example.co", 17, &ver,
	                     &idx),
	    KT_OK);
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
 * Checks a snapshot's label and leaf lookups against the model at its
 * size: model_make gives label i % 97 to entry i, so label li's version v
 * is entry li + 97 (v - 1).
 */
static void
check_indexes(struct kt_store_read *r)
{
	uint64_t n = kt_store_read_size(r), count, idx;
	char label[32];
	struct kt_hash h;

	for (unsigned li = 0; li < 97; li++) {
		uint64_t want = n > li ? (n - li + 96) / 97 : 0;

		snprintf(label, sizeof(label), "user-%u@example.com", li);
		ck_assert_int_eq(kt_store_label_count(r, label, strlen(label),
		                     &count),
		    KT_OK);
		ck_assert_uint_eq(count, want);
		for (uint64_t v = 1; v <= want + 1; v++) {
			kt_err e = kt_store_label_version(r, label,
			    strlen(label), v, &idx);

			if (v > want) {
				ck_assert_int_eq(e, KT_ERR_NOT_FOUND);
				continue;
			}
			ck_assert_int_eq(e, KT_OK);
			ck_assert_uint_eq(idx, li + 97 * (v - 1));
		}
	}
	for (uint64_t i = 0; i < M->n; i++) {
		kt_err e = kt_store_find_leaf(r, &M->leaf[i], &idx);

		if (i >= n) {
			ck_assert_int_eq(e, KT_ERR_NOT_FOUND);
			continue;
		}
		ck_assert_int_eq(e, KT_OK);
		ck_assert_uint_eq(idx, i);
	}
	memset(&h, 0x5a, sizeof(h));
	ck_assert_int_eq(kt_store_find_leaf(r, &h, &idx), KT_ERR_NOT_FOUND);
}

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
	ck_assert_int_eq(kt_store_write_latest(w, "user-7@example.com", 18,
	                     &ver, &idx),
	    KT_OK);
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
 * A folder of an older store format (1 or 2) is refused with a message
 * naming the format found and the one read, and saying to start a new
 * folder; an unknown format is refused too. Nothing is changed: back at
 * format 3 the same folder opens with its entries.
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
	for (uint32_t f = 1; f <= 2; f++) {
		char want[32];

		set_format(f);
		s = NULL;
		ck_assert_int_eq(kt_store_open(&s, tmpdir, ORIGIN, VKEY, err,
		                     sizeof(err)),
		    KT_ERR_CONFLICT);
		ck_assert_ptr_null(s);
		snprintf(want, sizeof(want), "store format %u;", (unsigned)f);
		ck_assert_msg(strstr(err, want) != NULL, "%s", err);
		ck_assert_msg(strstr(err, "reads only format 3") != NULL, "%s",
		    err);
		ck_assert_msg(strstr(err, "a new folder is a new log") != NULL,
		    "%s", err);
	}
	set_format(4);
	ck_assert_int_eq(kt_store_open(&s, tmpdir, ORIGIN, VKEY, err,
	                     sizeof(err)),
	    KT_ERR_CONFLICT);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "unsupported kt store format (4;") != NULL,
	    "%s", err);
	set_format(3);
	s = open_store();
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_uint_eq(kt_store_read_size(r), 300);
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
	uint8_t (*enc)[160];
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
	uint8_t key[32];
	struct kt_entry e;
	uint32_t li = (uint32_t)(rw_rand() % RW_LABELS);

	snprintf(label, sizeof(label), "rw-%u@example.org", li);
	memset(key, (int)(i & 0xff), sizeof(key));
	kt_put_be64(key, i);
	memset(&e, 0, sizeof(e));
	e.type = KT_ENTRY_KEY;
	e.timestamp_ms = 1700000000000ull + i;
	e.label = label;
	e.label_len = strlen(label);
	e.version = ++m->count[li];
	e.prev_index = e.version > 1 ? m->last[li] : KT_NO_PREV;
	m->last[li] = i;
	e.key_type = "ed25519";
	e.key_type_len = 7;
	e.key = key;
	e.key_len = 32;
	ck_assert_int_eq(kt_entry_encode(&e, m->enc[i], sizeof(m->enc[i]),
	                     &m->len[i]),
	    KT_OK);
	kt_hash_leaf(m->enc[i], m->len[i], &m->leaf[i]);
	m->label_of[i] = li;
	m->version_of[i] = e.version;
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
		snprintf(label, sizeof(label), "rw-%u@example.org", li);
		bad += kt_store_label_count(r, label, strlen(label), &cnt) !=
		        KT_OK ||
		    cnt != want[li];
		for (uint64_t v = 1; v <= want[li]; v++)
			bad += kt_store_label_version(r, label, strlen(label),
			           v, &idx) != KT_OK ||
			    idx != where[li][v];
		bad += kt_store_label_version(r, label, strlen(label),
		           want[li] + 1, &idx) != KT_ERR_NOT_FOUND;
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
	return kt_test_run(store_suite());
}
