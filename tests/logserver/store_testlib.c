/*
 * store_testlib.c: the reference model and store helpers
 * (store_testlib.h).
 */
#define _XOPEN_SOURCE 700
#include "store_testlib.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kt/bytes.h"
#include "kt/leaf.h"
#include "store/store_write.h"

/* ---- temp folders --------------------------------------------------------- */

char tmpdir[64];

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void
tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kt-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

void
tmp_teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- reference model ------------------------------------------------------ */
struct model *M;

void
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

void
model_free(void)
{
	for (int l = 0; l < 13; l++)
		free(M->lv[l]);
	free(M);
	M = NULL;
}

void
test_index(const char *label, struct kt_hash *out)
{
	crypto_hash_sha256(out->b, (const unsigned char *)label, strlen(label));
}

void
model_label(unsigned li, char *buf, size_t cap, struct kt_hash *index)
{
	snprintf(buf, cap, "user-%u@example.com", li);
	test_index(buf, index);
}

/* Builds leaf number i of the model: an update of label "user-<i % 97>",
 * its next version, linked to its previous update, with a commitment drawn
 * from i (the store never opens it). */
void
model_make(uint64_t i)
{
	char label[32];
	uint8_t c[8];
	struct kt_update u;
	unsigned li = (unsigned)(i % 97);

	ck_assert_uint_lt(i, MAXN);
	memset(&u, 0, sizeof(u));
	model_label(li, label, sizeof(label), &u.index);
	u.version = M->label_count[li] + 1;
	u.prev_index = M->label_count[li] ? M->label_last[li] : KT_NO_PREV;
	kt_put_be64(c, i);
	crypto_hash_sha256(u.commitment.b, c, sizeof(c));
	ck_assert_int_eq(kt_update_encode(&u, M->enc[i]), KT_OK);
	M->enc_len[i] = KT_UPDATE_LEN;
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

struct kt_store *
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
void
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
void
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
	/* Labels, by map index. */
	for (unsigned li = 0; li < 97; li++) {
		char label[32];
		struct kt_hash mi;

		model_label(li, label, sizeof(label), &mi);
		ck_assert_int_eq(kt_store_label_count(r, &mi, &cnt), KT_OK);
		ck_assert_uint_eq(cnt, M->label_count[li]);
		if (cnt > 0) {
			ck_assert_int_eq(kt_store_label_version(r, &mi, cnt,
			                     &idx),
			    KT_OK);
			ck_assert_uint_eq(idx, M->label_last[li]);
		}
		ck_assert_int_eq(kt_store_label_version(r, &mi, cnt + 1, &idx),
		    KT_ERR_NOT_FOUND);
		ck_assert_int_eq(kt_store_label_version(r, &mi, 0, &idx),
		    KT_ERR_NOT_FOUND);
	}
	test_index("user-1@example.co", &h);
	ck_assert_int_eq(kt_store_label_count(r, &h, &cnt), KT_OK);
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
 * Checks a snapshot's label and leaf lookups against the model at its
 * size: model_make gives label i % 97 to entry i, so label li's version v
 * is entry li + 97 (v - 1).
 */
void
check_indexes(struct kt_store_read *r)
{
	uint64_t n = kt_store_read_size(r), count, idx;
	char label[32];
	struct kt_hash h;

	for (unsigned li = 0; li < 97; li++) {
		uint64_t want = n > li ? (n - li + 96) / 97 : 0;
		struct kt_hash mi;

		model_label(li, label, sizeof(label), &mi);
		ck_assert_int_eq(kt_store_label_count(r, &mi, &count), KT_OK);
		ck_assert_uint_eq(count, want);
		for (uint64_t v = 1; v <= want + 1; v++) {
			kt_err e = kt_store_label_version(r, &mi, v, &idx);

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
