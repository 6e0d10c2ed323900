/*
 * check_tile.c: C2SP tlog-tiles helpers, kt/tile.h.
 *
 * Path and width examples are those of C2SP tlog-tiles as digested in
 * shared/reference/protocols.md (1234067 -> x001/x234/067; a tree of 70,000
 * leaves). Subtree roots are checked against RFC 9162 §2.1 node hashing done
 * here with libsodium directly, independently of proto/merkle.c.
 */
#include <check.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/tile.h"

/* ---- kt_tile_path -------------------------------------------------------- */

static void
path_is(unsigned level, uint64_t index, unsigned width, const char *want)
{
	struct kt_tile t = { level, index, width };
	char buf[KT_TILE_PATH_MAX];

	ck_assert_int_eq(kt_tile_path(&t, buf, sizeof(buf)), KT_OK);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_path_examples)
{
	path_is(0, 1234067, 256, "tile/0/x001/x234/067");
	path_is(0, 1234067, 5, "tile/0/x001/x234/067.p/5");
	path_is(KT_TILE_LEVEL_ENTRIES, 1234067, 256,
	    "tile/entries/x001/x234/067");
	path_is(KT_TILE_LEVEL_ENTRIES, 0, 1, "tile/entries/000.p/1");
	path_is(0, 0, 256, "tile/0/000");
	path_is(1, 1, 17, "tile/1/001.p/17");
	path_is(2, 0, 1, "tile/2/000.p/1");
	path_is(0, 273, 112, "tile/0/273.p/112");
	path_is(0, 999, 255, "tile/0/999.p/255");
	path_is(0, 1000, 256, "tile/0/x001/000");
	path_is(63, 1000000, 256, "tile/63/x001/x000/000");
	path_is(10, 1001001, 256, "tile/10/x001/x001/001");
	path_is(0, UINT64_MAX, 256, "tile/0/x018/x446/x744/x073/x709/x551/615");
}
END_TEST

START_TEST(test_path_invalid)
{
	struct kt_tile t = { 0, 1234067, 256 };
	char buf[KT_TILE_PATH_MAX];
	size_t need, cap;

	t.level = 64;
	ck_assert_int_eq(kt_tile_path(&t, buf, sizeof(buf)), KT_ERR_MALFORMED);
	t.level = 254;
	ck_assert_int_eq(kt_tile_path(&t, buf, sizeof(buf)), KT_ERR_MALFORMED);
	t.level = 0;
	t.width = 0;
	ck_assert_int_eq(kt_tile_path(&t, buf, sizeof(buf)), KT_ERR_MALFORMED);
	t.width = 257;
	ck_assert_int_eq(kt_tile_path(&t, buf, sizeof(buf)), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_tile_path(NULL, buf, sizeof(buf)),
	    KT_ERR_MALFORMED);

	/* Every buffer shorter than path + NUL is refused; nothing written
	 * past cap. */
	t.width = 200;
	ck_assert_int_eq(kt_tile_path(&t, buf, sizeof(buf)), KT_OK);
	need = strlen(buf) + 1;
	for (cap = 0; cap < need; cap++) {
		memset(buf, '#', sizeof(buf));
		ck_assert_int_eq(kt_tile_path(&t, buf, cap), KT_ERR_TOO_LARGE);
		ck_assert_int_eq(buf[cap], '#');
	}
	ck_assert_int_eq(kt_tile_path(&t, buf, need), KT_OK);
	ck_assert_str_eq(buf, "tile/0/x001/x234/067.p/200");
}
END_TEST

/* ---- kt_tile_parse_path -------------------------------------------------- */

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s;
}

START_TEST(test_parse_roundtrip)
{
	static const uint64_t ns[] = {
		0,
		1,
		9,
		10,
		99,
		100,
		999,
		1000,
		1001,
		9999,
		10000,
		999999,
		1000000,
		1000001,
		1234067,
		999999999,
		1000000000,
		UINT64_MAX / 1000,
		UINT64_MAX - 1,
		UINT64_MAX,
	};
	static const unsigned levels[] = { 0, 1, 2, 7, 9, 10, 63,
		KT_TILE_LEVEL_ENTRIES };
	static const unsigned widths[] = { 1, 2, 9, 10, 99, 100, 112, 255,
		256 };
	char buf[KT_TILE_PATH_MAX];
	struct kt_tile t, p;
	uint64_t seed = 42;
	size_t a, b, c, i;

	for (a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
		for (b = 0; b < sizeof(levels) / sizeof(levels[0]); b++)
			for (c = 0; c < sizeof(widths) / sizeof(widths[0]);
			     c++) {
				t.level = levels[b];
				t.index = ns[a];
				t.width = widths[c];
				ck_assert_int_eq(kt_tile_path(&t, buf,
				                     sizeof(buf)),
				    KT_OK);
				ck_assert_int_eq(kt_tile_parse_path(buf,
				                     strlen(buf), &p),
				    KT_OK);
				ck_assert_uint_eq(p.level, t.level);
				ck_assert_uint_eq(p.index, t.index);
				ck_assert_uint_eq(p.width, t.width);
			}
	/* Pseudo-random N of every magnitude, every width, every level. */
	for (i = 0; i < 20000; i++) {
		uint64_t r = lcg(&seed);

		t.index = r >> (lcg(&seed) % 64);
		t.width = (unsigned)(i % 256) + 1;
		t.level = (unsigned)(i % 65);
		if (t.level == 64)
			t.level = KT_TILE_LEVEL_ENTRIES;
		ck_assert_int_eq(kt_tile_path(&t, buf, sizeof(buf)), KT_OK);
		ck_assert_int_eq(kt_tile_parse_path(buf, strlen(buf), &p),
		    KT_OK);
		ck_assert_uint_eq(p.level, t.level);
		ck_assert_uint_eq(p.index, t.index);
		ck_assert_uint_eq(p.width, t.width);
	}
}
END_TEST

START_TEST(test_parse_bad)
{
	static const char *bad[] = {
		"",
		"tile",
		"tile/",
		"tile/0",
		"tile/0/",
		"/tile/0/000",
		"tiles/0/000",
		"tile/00/000", /* leading zero in L */
		"tile/01/000",
		"tile/64/000", /* L > 63 */
		"tile/100/000",
		"tile/-1/000",
		"tile/+1/000",
		"tile/a/000",
		"tile/0/00",   /* short group */
		"tile/0/0000", /* long group */
		"tile/0/1",
		"tile/0/x000/001", /* non-canonical leading group */
		"tile/0/x000/x001/001",
		"tile/0/x001", /* 'x' on the last group */
		"tile/0/x001/x234",
		"tile/0/001/234",   /* missing 'x' on a leading group */
		"tile/0/x001/234/", /* trailing slash */
		"tile/0/000/",
		"tile/0/x001//234",
		"tile/0/xx001/234",
		"tile/0/x01/234",
		"tile/0/x001/x018/x446/x744/x073/x709/x551/615", /* 8 groups */
		"tile/0/x018/x446/x744/x073/x709/x551/616", /* > UINT64_MAX */
		"tile/0/x099/x999/x999/x999/x999/x999/999",
		"tile/0/000.p/",
		"tile/0/000.p/0",   /* width 0 */
		"tile/0/000.p/256", /* width 256 is the full tile */
		"tile/0/000.p/05",  /* leading zero in W */
		"tile/0/000.p/1000",
		"tile/0/000.p/1/",
		"tile/0/000.p/1x",
		"tile/0/000.q/1",
		"tile/0/000p/1",
		"tile/0/000.p",
		"tile/0/000 ",
		"tile/0/000\n",
		"tile/0/ 000",
		"tile/entries/",
		"tile/entries/00",
		"tile/entries/x000/001",
		"tile/entries/000/",
		"tile/entry/000",
		"tile/ENTRIES/000",
		"tile/0/x001/x234/067.p/5/",
		"TILE/0/000",
		"tile/0/data/000",
	};
	struct kt_tile t;
	size_t i;

	ck_assert_uint_ge(sizeof(bad) / sizeof(bad[0]), 15);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(kt_tile_parse_path(bad[i], strlen(bad[i]), &t) ==
		        KT_ERR_MALFORMED,
		    "bad path '%s'", bad[i]);
	/* An embedded NUL inside the given length is not part of a path. */
	ck_assert_int_eq(kt_tile_parse_path("tile/0/000\0", 11, &t),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_tile_parse_path("tile/0\0/000", 11, &t),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_tile_parse_path(NULL, 0, &t), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_tile_parse_path("tile/0/000", 10, NULL),
	    KT_ERR_MALFORMED);
}
END_TEST

START_TEST(test_parse_good)
{
	struct kt_tile t;

	ck_assert_int_eq(kt_tile_parse_path("tile/0/x001/x234/067", 20, &t),
	    KT_OK);
	ck_assert_uint_eq(t.level, 0);
	ck_assert_uint_eq(t.index, 1234067);
	ck_assert_uint_eq(t.width, 256);
	ck_assert_int_eq(kt_tile_parse_path("tile/entries/x001/x234/067.p/5",
	                     30, &t),
	    KT_OK);
	ck_assert_uint_eq(t.level, KT_TILE_LEVEL_ENTRIES);
	ck_assert_uint_eq(t.index, 1234067);
	ck_assert_uint_eq(t.width, 5);
	ck_assert_int_eq(kt_tile_parse_path("tile/63/000.p/255", 17, &t),
	    KT_OK);
	ck_assert_uint_eq(t.level, 63);
	ck_assert_uint_eq(t.index, 0);
	ck_assert_uint_eq(t.width, 255);
	/* Only len bytes are read: a prefix of a longer string. */
	ck_assert_int_eq(kt_tile_parse_path("tile/1/017.p/99garbage", 15, &t),
	    KT_OK);
	ck_assert_uint_eq(t.level, 1);
	ck_assert_uint_eq(t.index, 17);
	ck_assert_uint_eq(t.width, 99);
	ck_assert_int_eq(
	    kt_tile_parse_path("tile/0/x018/x446/x744/x073/x709/x551/615", 40,
	        &t),
	    KT_OK);
	ck_assert_uint_eq(t.index, UINT64_MAX);
}
END_TEST

/* Every proper prefix of a valid path that is not itself valid is refused,
 * and none crashes. */
START_TEST(test_parse_prefixes)
{
	const char *p = "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255";
	struct kt_tile t;
	size_t k, ok = 0;

	for (k = 0; k <= strlen(p); k++)
		if (kt_tile_parse_path(p, k, &t) == KT_OK)
			ok++;
	/* Valid prefixes: ".../615", ".../615.p/2", ".../615.p/25", full. */
	ck_assert_uint_eq(ok, 4);
}
END_TEST

/* ---- kt_tile_width ------------------------------------------------------- */

START_TEST(test_width_70000)
{
	uint64_t n;

	/* protocols.md: 273 full level-0 tiles + a partial of 112; one full
	 * level-1 tile + a partial of 17; a level-2 partial of 1. */
	for (n = 0; n < 273; n++)
		ck_assert_uint_eq(kt_tile_width(70000, 0, n), 256);
	ck_assert_uint_eq(kt_tile_width(70000, 0, 273), 112);
	ck_assert_uint_eq(kt_tile_width(70000, 0, 274), 0);
	ck_assert_uint_eq(kt_tile_width(70000, KT_TILE_LEVEL_ENTRIES, 273),
	    112);
	ck_assert_uint_eq(kt_tile_width(70000, 1, 0), 256);
	ck_assert_uint_eq(kt_tile_width(70000, 1, 1), 17);
	ck_assert_uint_eq(kt_tile_width(70000, 1, 2), 0);
	ck_assert_uint_eq(kt_tile_width(70000, 2, 0), 1);
	ck_assert_uint_eq(kt_tile_width(70000, 2, 1), 0);
	ck_assert_uint_eq(kt_tile_width(70000, 3, 0), 0);
}
END_TEST

START_TEST(test_width_boundaries)
{
	static const struct {
		uint64_t size;
		unsigned level;
		uint64_t index;
		unsigned want;
	} cases[] = {
		{ 0, 0, 0, 0 },
		{ 1, 0, 0, 1 },
		{ 255, 0, 0, 255 },
		{ 256, 0, 0, 256 },
		{ 256, 0, 1, 0 },
		{ 257, 0, 0, 256 },
		{ 257, 0, 1, 1 },
		{ 255, 1, 0, 0 },
		{ 256, 1, 0, 1 },
		{ 511, 1, 0, 1 },
		{ 512, 1, 0, 2 },
		{ 65535, 0, 255, 255 },
		{ 65535, 1, 0, 255 },
		{ 65535, 2, 0, 0 },
		{ 65536, 0, 255, 256 },
		{ 65536, 0, 256, 0 },
		{ 65536, 1, 0, 256 },
		{ 65536, 1, 1, 0 },
		{ 65536, 2, 0, 1 },
		{ 65537, 0, 256, 1 },
		{ 16777215, 2, 0, 255 },
		{ 16777216, 2, 0, 256 },
		{ 16777216, 3, 0, 1 },
		{ UINT64_MAX, 7, 0, 255 },
		{ UINT64_MAX, 6, 254, 256 },
		{ UINT64_MAX, 6, 255, 255 },
		{ UINT64_MAX, 6, 256, 0 },
		{ UINT64_MAX, 0, UINT64_MAX / 256 - 1, 256 },
		{ UINT64_MAX, 0, UINT64_MAX / 256, 255 },
		{ UINT64_MAX, 0, UINT64_MAX, 0 },
		{ UINT64_MAX, 8, 0, 0 },
		{ UINT64_MAX, 63, 0, 0 },
		{ UINT64_MAX, 64, 0, 0 },
		{ 1ULL << 56, 7, 0, 1 },
		{ (1ULL << 56) - 1, 7, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(kt_tile_width(cases[i].size, cases[i].level,
		                  cases[i].index) == cases[i].want,
		    "width case %zu", i);
}
END_TEST

/* For every size up to 70,000 and every level, the widths add up to the
 * number of hashes at that level, all full but the last. */
START_TEST(test_width_sums)
{
	uint64_t size, n;
	unsigned level;

	for (size = 0; size <= 70000; size += (size < 1100 ? 1 : 97)) {
		for (level = 0; level < 3; level++) {
			uint64_t want = size >> (8 * level), sum = 0;
			unsigned w;

			for (n = 0; (w = kt_tile_width(size, level, n)) != 0;
			     n++) {
				if (w != 256)
					ck_assert_uint_eq(kt_tile_width(size,
					                      level, n + 1),
					    0);
				sum += w;
			}
			ck_assert_uint_eq(sum, want);
		}
	}
}
END_TEST

/* ---- kt_tile_subtree ----------------------------------------------------- */

static void
ref_node(const struct kt_hash *l, const struct kt_hash *r, struct kt_hash *o)
{
	crypto_hash_sha256_state st;
	uint8_t one = 1;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &one, 1);
	crypto_hash_sha256_update(&st, l->b, KT_HASH_LEN);
	crypto_hash_sha256_update(&st, r->b, KT_HASH_LEN);
	crypto_hash_sha256_final(&st, o->b);
}

/* RFC 9162 MTH over n (a power of two) hashes, bottom-up in place. */
static void
ref_root(const struct kt_hash *row, size_t n, struct kt_hash *out)
{
	struct kt_hash tmp[KT_TILE_WIDTH];
	size_t i;

	memcpy(tmp, row, n * sizeof(*row));
	while (n > 1) {
		for (i = 0; i < n / 2; i++)
			ref_node(&tmp[2 * i], &tmp[2 * i + 1], &tmp[i]);
		n /= 2;
	}
	*out = tmp[0];
}

static struct kt_hash row[KT_TILE_WIDTH];

static void
fill_row(void)
{
	uint8_t seed[4];
	unsigned i;

	for (i = 0; i < KT_TILE_WIDTH; i++) {
		seed[0] = 'k';
		seed[1] = 't';
		seed[2] = (uint8_t)i;
		seed[3] = (uint8_t)(i >> 8);
		crypto_hash_sha256(row[i].b, seed, sizeof(seed));
	}
}

START_TEST(test_subtree_all)
{
	static const unsigned widths[] = { 1, 2, 3, 4, 7, 8, 100, 127, 128, 129,
		255, 256 };
	struct kt_hash got, want;
	size_t w;
	unsigned sub, idx;

	fill_row();
	for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
		unsigned width = widths[w];

		for (sub = 0; sub <= KT_TILE_HEIGHT; sub++) {
			for (idx = 0; idx <= 256; idx++) {
				int fits = ((idx + 1) << sub) <= width;
				kt_err err =
				    kt_tile_subtree(row, width, sub, idx, &got);

				if (!fits) {
					ck_assert_int_eq(err, KT_ERR_RANGE);
					continue;
				}
				ck_assert_int_eq(err, KT_OK);
				ref_root(row + (idx << sub), (size_t)1 << sub,
				    &want);
				ck_assert_mem_eq(got.b, want.b, KT_HASH_LEN);
			}
		}
	}
}
END_TEST

START_TEST(test_subtree_edges)
{
	struct kt_hash got, want;

	fill_row();
	/* Level 0 is the row hash itself. */
	ck_assert_int_eq(kt_tile_subtree(row, 256, 0, 255, &got), KT_OK);
	ck_assert_mem_eq(got.b, row[255].b, KT_HASH_LEN);
	/* Height 1 is H(0x01 || l || r), RFC 9162 §2.1.1. */
	ck_assert_int_eq(kt_tile_subtree(row, 2, 1, 0, &got), KT_OK);
	ref_node(&row[0], &row[1], &want);
	ck_assert_mem_eq(got.b, want.b, KT_HASH_LEN);
	/* The whole full tile is one hash of the level above. */
	ck_assert_int_eq(kt_tile_subtree(row, 256, 8, 0, &got), KT_OK);
	ref_root(row, 256, &want);
	ck_assert_mem_eq(got.b, want.b, KT_HASH_LEN);

	ck_assert_int_eq(kt_tile_subtree(row, 255, 8, 0, &got), KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(row, 256, 9, 0, &got), KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(row, 257, 0, 0, &got), KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(row, 0, 0, 0, &got), KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(row, 256, 0, 256, &got), KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(row, 256, 8, UINT32_MAX, &got),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(row, 256, 0, UINT32_MAX, &got),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(row, 256, UINT32_MAX, 0, &got),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_tile_subtree(NULL, 256, 0, 0, &got), KT_ERR_RANGE);
}
END_TEST

/* ---- bundles ------------------------------------------------------------- */

static uint8_t big[65536];

/* Builds a bundle of entries of the given lengths; returns its length. */
static size_t
build_bundle(uint8_t *buf, size_t cap, const size_t *lens, size_t n)
{
	size_t off = 0, i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(kt_bundle_append(buf, cap, &off, big, lens[i]),
		    KT_OK);
	return off;
}

START_TEST(test_bundle_append)
{
	static uint8_t buf[70000];
	size_t off = 0, cap;
	const uint8_t e[3] = { 0xaa, 0xbb, 0xcc };

	ck_assert_int_eq(kt_bundle_append(buf, sizeof(buf), &off, e, 3), KT_OK);
	ck_assert_uint_eq(off, 5);
	ck_assert_uint_eq(buf[0], 0x00);
	ck_assert_uint_eq(buf[1], 0x03);
	ck_assert_mem_eq(buf + 2, e, 3);
	ck_assert_int_eq(kt_bundle_append(buf, sizeof(buf), &off, big, 0x1234),
	    KT_OK);
	ck_assert_uint_eq(buf[5], 0x12);
	ck_assert_uint_eq(buf[6], 0x34);
	ck_assert_uint_eq(off, 5 + 2 + 0x1234);

	off = 0;
	ck_assert_int_eq(kt_bundle_append(buf, sizeof(buf), &off, big, 65535),
	    KT_OK);
	ck_assert_uint_eq(off, 65537);
	off = 0;
	ck_assert_int_eq(kt_bundle_append(buf, sizeof(buf), &off, big, 65536),
	    KT_ERR_TOO_LARGE);
	ck_assert_uint_eq(off, 0);
	/* Every too-short buffer is refused and leaves *off alone. */
	for (cap = 0; cap < 5; cap++) {
		off = 0;
		ck_assert_int_eq(kt_bundle_append(buf, cap, &off, e, 3),
		    KT_ERR_TOO_LARGE);
		ck_assert_uint_eq(off, 0);
	}
	off = 10;
	ck_assert_int_eq(kt_bundle_append(buf, 9, &off, e, 0),
	    KT_ERR_TOO_LARGE);
	ck_assert_uint_eq(off, 10);
	off = 0;
	ck_assert_int_eq(kt_bundle_append(buf, 5, &off, e, 3), KT_OK);
	ck_assert_uint_eq(off, 5);
}
END_TEST

START_TEST(test_bundle_roundtrip)
{
	static const size_t lens[] = { 95, 0, 1, 300, 4396, 65535, 2 };
	static uint8_t buf[80000];
	const size_t n = sizeof(lens) / sizeof(lens[0]);
	const uint8_t *e;
	size_t len, off = 0, el, i;

	len = build_bundle(buf, sizeof(buf), lens, n);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(kt_bundle_next(buf, len, &off, &e, &el),
		    KT_OK);
		ck_assert_uint_eq(el, lens[i]);
		if (el != 0)
			ck_assert_mem_eq(e, big, el);
	}
	ck_assert_uint_eq(off, len);
	ck_assert_int_eq(kt_bundle_next(buf, len, &off, &e, &el),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(kt_bundle_next(buf, len, &off, &e, &el),
	    KT_ERR_NOT_FOUND);
	off = len + 1;
	ck_assert_int_eq(kt_bundle_next(buf, len, &off, &e, &el), KT_ERR_RANGE);
	off = 0;
	ck_assert_int_eq(kt_bundle_next(NULL, 0, &off, &e, &el),
	    KT_ERR_NOT_FOUND);
}
END_TEST

/* Cut the bundle at every length: the whole entries before the cut read
 * back, then NOT_FOUND exactly at an entry boundary, else INCOMPLETE. */
START_TEST(test_bundle_truncations)
{
	static const size_t lens[] = { 3, 0, 40, 1, 256, 2 };
	static uint8_t buf[1024];
	const size_t n = sizeof(lens) / sizeof(lens[0]);
	size_t bounds[8], len, cut, i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	len = build_bundle(buf, sizeof(buf), lens, n);
	bounds[0] = 0;
	for (i = 0; i < n; i++)
		bounds[i + 1] = bounds[i] + 2 + lens[i];
	ck_assert_uint_eq(bounds[n], len);

	for (cut = 0; cut <= len; cut++) {
		size_t off = 0, el, got = 0, whole = 0;
		const uint8_t *e;
		kt_err err;
		int at_bound = 0;

		for (i = 0; i <= n; i++) {
			if (bounds[i] <= cut)
				whole = i;
			if (bounds[i] == cut)
				at_bound = 1;
		}
		while (
		    (err = kt_bundle_next(buf, cut, &off, &e, &el)) == KT_OK) {
			ck_assert_uint_eq(el, lens[got]);
			ck_assert(e + el <= buf + cut);
			got++;
		}
		ck_assert_uint_eq(got, whole);
		ck_assert_uint_eq(off, bounds[whole]);
		ck_assert_int_eq(err,
		    at_bound ? KT_ERR_NOT_FOUND : KT_ERR_INCOMPLETE);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tile");

	kt_test_case(s, "kt_tile_path", 0, test_path_examples,
	    test_path_invalid, NULL);
	kt_test_case(s, "kt_tile_parse_path", 0, test_parse_roundtrip,
	    test_parse_bad, test_parse_good, test_parse_prefixes, NULL);
	kt_test_case(s, "kt_tile_width", 0, test_width_70000,
	    test_width_boundaries, test_width_sums, NULL);
	kt_test_case(s, "kt_tile_subtree", 60, test_subtree_all,
	    test_subtree_edges, NULL);
	kt_test_case(s, "kt_bundle_append", 0, test_bundle_append, NULL);
	kt_test_case(s, "kt_bundle_next", 0, test_bundle_roundtrip,
	    test_bundle_truncations, NULL);
	return kt_test_run(s);
}
