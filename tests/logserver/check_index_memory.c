/*
 * check_index_memory.c: the store's in-memory index helpers: the recent
 * records multimap (recent.c) against a plain array, and the label Bloom
 * filter (bloom.c): never a false "no", few false "maybe"s, across the
 * parts it grows by.
 */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "store/bloom.h"
#include "store/recent.h"

/* Key number i: SHA-256 of its index, as the store's keys are hashes. */
static void
key_of(uint64_t i, uint8_t k[32])
{
	crypto_hash_sha256(k, (const unsigned char *)&i, sizeof(i));
}

START_TEST(test_bloom_no_false_negatives)
{
	struct kt_bloom b;
	uint8_t k[32];
	uint64_t n = 3u << 20, fp = 0, probes = 1u << 20, bad = 0;

	kt_bloom_init(&b);
	key_of(0, k);
	ck_assert_int_eq(kt_bloom_maybe(&b, k), 0); /* empty: always no */
	/* 3 Mi keys: two parts, of 1 and 2 Mi keys. */
	/* (Counted, not asserted per key: Check's asserts cost a syscall.) */
	for (uint64_t i = 0; i < n; i++) {
		key_of(i, k);
		bad += kt_bloom_add(&b, k) != KT_OK;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(b.nparts, 2);
	for (uint64_t i = 0; i < n; i++) {
		key_of(i, k);
		bad += kt_bloom_maybe(&b, k) != 1;
	}
	ck_assert_uint_eq(bad, 0);
	for (uint64_t i = n; i < n + probes; i++) {
		key_of(i, k);
		fp += (uint64_t)kt_bloom_maybe(&b, k);
	}
	/* ~1% per part; two parts, both full: well under 4%. */
	ck_assert_msg(fp < probes / 25, "%llu false positives in %llu",
	    (unsigned long long)fp, (unsigned long long)probes);
	kt_bloom_free(&b);
	ck_assert_uint_eq(b.nparts, 0);
	ck_assert_int_eq(kt_bloom_maybe(&b, k), 0);
}
END_TEST

/* ---- recent.c against a reference array ----------------------------------- */

#define RN 20000

struct ref {
	uint8_t key[32];
	uint64_t version, index;
	int live;
};

static struct ref R[RN];

struct seen {
	uint64_t n, sum;
	uint64_t last_index;
	int ordered;
};

static int
count_fn(void *ctx, const struct kt_recent_node *nd)
{
	struct seen *s = ctx;

	if (s->n > 0 && nd->index <= s->last_index)
		s->ordered = 0;
	s->last_index = nd->index;
	s->n++;
	s->sum += nd->index * 31 + nd->version;
	return 0;
}

/* The live reference records with this key (or of this slice from). */
static void
ref_find(const uint8_t *key, size_t keylen, int slice, uint64_t from,
    struct seen *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < RN; i++) {
		if (!R[i].live)
			continue;
		if (slice >= 0 ? (R[i].key[0] != slice || R[i].index < from)
		               : memcmp(R[i].key, key, keylen) != 0)
			continue;
		s->n++;
		s->sum += R[i].index * 31 + R[i].version;
	}
}

static void
check_same(struct kt_recent *r, size_t keylen)
{
	struct seen a, b;

	for (size_t i = 0; i < RN; i += 97) {
		memset(&a, 0, sizeof(a));
		a.ordered = 1;
		kt_recent_find(r, R[i].key, count_fn, &a);
		ref_find(R[i].key, keylen, -1, 0, &b);
		ck_assert_uint_eq(a.n, b.n);
		ck_assert_uint_eq(a.sum, b.sum);
	}
	for (int sl = 0; sl < 256; sl += 5) {
		memset(&a, 0, sizeof(a));
		a.ordered = 1;
		kt_recent_slice(r, (unsigned)sl, 7000, count_fn, &a);
		ref_find(NULL, keylen, sl, 7000, &b);
		ck_assert_uint_eq(a.n, b.n);
		ck_assert_uint_eq(a.sum, b.sum);
		ck_assert(a.ordered);
	}
}

START_TEST(test_recent_against_array)
{
	struct kt_recent r;
	size_t live = 0, keylen = (size_t)_i ? 8 : 32;

	kt_recent_init(&r, keylen);
	/* Keys repeat (versions of a label): 5000 distinct keys. */
	for (size_t i = 0; i < RN; i++) {
		key_of(i % 5000, R[i].key);
		memset(R[i].key + keylen, 0, 32 - keylen);
		R[i].version = i / 5000 + 1;
		R[i].index = i;
		R[i].live = 1;
		ck_assert_int_eq(kt_recent_add(&r, R[i].key, R[i].version,
		                     R[i].index),
		    KT_OK);
	}
	ck_assert_uint_eq(r.count, RN);
	check_same(&r, keylen);
	/* Drop the prefix below 6000 of every even slice. */
	for (unsigned sl = 0; sl < 256; sl += 2) {
		size_t want = 0, got;

		for (size_t i = 0; i < RN; i++)
			if (R[i].live && R[i].key[0] == sl &&
			    R[i].index < 6000) {
				R[i].live = 0;
				want++;
			}
		got = kt_recent_drop_below(&r, sl, 6000);
		ck_assert_uint_eq(got, want);
	}
	check_same(&r, keylen);
	/* Drop the suffix from 15000 (a failed commit), then add again:
	 * freed nodes are reused. */
	kt_recent_drop_from(&r, 15000);
	for (size_t i = 15000; i < RN; i++)
		R[i].live = 0;
	check_same(&r, keylen);
	for (size_t i = 15000; i < RN; i++) {
		ck_assert_int_eq(kt_recent_add(&r, R[i].key, R[i].version,
		                     R[i].index),
		    KT_OK);
		R[i].live = 1;
	}
	for (size_t i = 0; i < RN; i++)
		live += R[i].live ? 1 : 0;
	ck_assert_uint_eq(r.count, live);
	check_same(&r, keylen);
	kt_recent_drop_from(&r, 0);
	ck_assert_uint_eq(r.count, 0);
	kt_recent_free(&r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("index_memory");

	kt_test_case(s, "bloom", 120, test_bloom_no_false_negatives, NULL);
	tcase_add_loop_test(kt_test_case(s, "recent", 120, NULL),
	    test_recent_against_array, 0, 2);
	return kt_test_run(s);
}
