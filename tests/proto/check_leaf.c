/*
 * check_leaf.c: the update and map head leaves, kt/leaf.h.
 *
 * The known answers below (encodings and RFC 9162 leaf hashes) were
 * computed with Python's struct and hashlib from the layouts in
 * proto/README.md ("Update and map head leaves"), not with kt:
 *
 *   upd = bytes([3]) + index + struct.pack('>QQ', version, prev_index)
 *         + commitment
 *   head = bytes([4]) + root + struct.pack('>QQQQ', timestamp_ms,
 *          log_size, prev_head, label_count)
 *   hashlib.sha256(b'\0' + leaf).hexdigest()
 *
 * The README's worked examples are asserted here byte for byte and the
 * README is checked to quote them. Leaf hashes are also recomputed with
 * libsodium directly, not through kt/merkle.h. Decoding is tested as
 * picohttpparser's parsers are: every prefix, every extension, every
 * single-bit flip and every single-byte value of every valid leaf. Each
 * decode gets an exact-size heap copy (harness/exact.h), so a read past
 * the end is an AddressSanitizer report.
 */
#include <check.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/exact.h"
#include "harness/runner.h"
#include "kt/leaf.h"

/* ---- the two codecs behind one interface ------------------------------- */

/*
 * The property tests below run unchanged over both leaf kinds: each kind is
 * a codec working on an untyped value of `size` bytes.
 */
struct codec {
	const char *name;
	uint8_t kind;
	size_t len;  /* encoded length */
	size_t size; /* sizeof the struct */
	kt_err (*encode)(const void *v, uint8_t *out);
	kt_err (*decode)(const uint8_t *buf, size_t len, void *out);
	void (*leaf_hash)(const void *v, struct kt_hash *out);
	int (*eq)(const void *a, const void *b);
};

static kt_err
update_encode(const void *v, uint8_t *out)
{
	return kt_update_encode(v, out);
}

static kt_err
update_decode(const uint8_t *buf, size_t len, void *out)
{
	return kt_update_decode(buf, len, out);
}

static void
update_leaf_hash(const void *v, struct kt_hash *out)
{
	kt_update_leaf_hash(v, out);
}

static int
update_eq(const void *pa, const void *pb)
{
	const struct kt_update *a = pa, *b = pb;

	return kt_hash_eq(&a->index, &b->index) && a->version == b->version &&
	    a->prev_index == b->prev_index &&
	    kt_hash_eq(&a->commitment, &b->commitment);
}

static kt_err
head_encode(const void *v, uint8_t *out)
{
	return kt_map_head_encode(v, out);
}

static kt_err
head_decode(const uint8_t *buf, size_t len, void *out)
{
	return kt_map_head_decode(buf, len, out);
}

static void
head_leaf_hash(const void *v, struct kt_hash *out)
{
	kt_map_head_leaf_hash(v, out);
}

static int
head_eq(const void *pa, const void *pb)
{
	const struct kt_map_head *a = pa, *b = pb;

	return kt_hash_eq(&a->root, &b->root) &&
	    a->timestamp_ms == b->timestamp_ms && a->log_size == b->log_size &&
	    a->prev_head == b->prev_head && a->label_count == b->label_count;
}

static const struct codec update_codec = { "update", KT_LEAF_UPDATE,
	KT_UPDATE_LEN, sizeof(struct kt_update), update_encode, update_decode,
	update_leaf_hash, update_eq };
static const struct codec head_codec = { "map head", KT_LEAF_MAP_HEAD,
	KT_MAP_HEAD_LEN, sizeof(struct kt_map_head), head_encode, head_decode,
	head_leaf_hash, head_eq };

/* Decodes an exact-size heap copy of buf[0..len). */
static kt_err
decode_exact(const struct codec *c, const uint8_t *buf, size_t len, void *out)
{
	char *copy = exact_copy(buf, len);
	kt_err err = c->decode((const uint8_t *)copy, len, out);

	free(copy);
	return err;
}

/* ---- values ------------------------------------------------------------- */

static struct kt_hash
hash_of_bytes(uint8_t first)
{
	struct kt_hash h;
	size_t i;

	for (i = 0; i < sizeof(h.b); i++)
		h.b[i] = (uint8_t)(first + i);
	return h;
}

static struct kt_hash
hash_fill(uint8_t v)
{
	struct kt_hash h;

	memset(h.b, v, sizeof(h.b));
	return h;
}

/* The commitment of proto/README.md's "Commitments" example. */
static struct kt_hash
readme_commitment(void)
{
	struct kt_hash h;
	size_t n;

	ck_assert_int_eq(sodium_hex2bin(h.b, sizeof(h.b),
	                     "74dd55109246479750c4bd61d82ee7c0"
	                     "df2d027cd4c88c9d978823f9021202c2",
	                     64, NULL, &n, NULL),
	    0);
	ck_assert_uint_eq(n, 32);
	return h;
}

static struct kt_update
update(uint64_t version, uint64_t prev_index)
{
	struct kt_update u;

	u.index = hash_of_bytes(0xc0);
	u.version = version;
	u.prev_index = prev_index;
	u.commitment = readme_commitment();
	return u;
}

static struct kt_map_head
head(uint64_t log_size, uint64_t prev_head, uint64_t label_count)
{
	struct kt_map_head h;

	h.root = hash_of_bytes(0xa0);
	h.timestamp_ms = 1700000000000ULL;
	h.log_size = log_size;
	h.prev_head = prev_head;
	h.label_count = label_count;
	return h;
}

#define MAX_VALID 8

/* Valid updates at the edges of every rule. */
static size_t
valid_updates(struct kt_update *us)
{
	size_t n = 0;

	us[n++] = update(2, 41); /* the README's */
	us[n++] = update(1, KT_NO_PREV);
	us[n++] = update(2, 0);
	us[n++] = update(UINT64_MAX, UINT64_MAX - 1);
	us[n] = update(3, 0x0102030405060708ULL);
	us[n].index = hash_fill(0);
	us[n++].commitment = hash_fill(0xff);
	us[n] = update(1, KT_NO_PREV);
	us[n].index = hash_fill(0xff);
	us[n++].commitment = hash_fill(0);
	return n;
}

/* Valid map heads at the edges of every rule. */
static size_t
valid_heads(struct kt_map_head *hs)
{
	size_t n = 0;

	hs[n++] = head(1000, 990, 640); /* the README's */
	hs[n++] = head(0, KT_NO_PREV, 0);
	hs[n++] = head(1, 0, 1);
	hs[n++] = head(5, KT_NO_PREV, 5);
	hs[n++] = head(UINT64_MAX - 1, UINT64_MAX - 2, UINT64_MAX - 1);
	hs[n] = head(UINT64_MAX - 1, KT_NO_PREV, 0);
	hs[n].timestamp_ms = UINT64_MAX;
	hs[n++].root = hash_fill(0xff);
	hs[n] = head(7, 6, 0);
	hs[n].timestamp_ms = 0;
	hs[n++].root = hash_fill(0);
	return n;
}

/* The valid values of codec c, as an array of c->size-byte structs. */
static size_t
valid_values(const struct codec *c, void *out)
{
	if (c == &update_codec)
		return valid_updates(out);
	return valid_heads(out);
}

/* Storage for MAX_VALID values of either kind. */
union values {
	struct kt_update u[MAX_VALID];
	struct kt_map_head h[MAX_VALID];
};

static const void *
nth(const struct codec *c, const union values *vs, size_t i)
{
	return (const uint8_t *)vs + i * c->size;
}

static void
to_hex(const uint8_t *b, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

static void
sha256_leaf(const uint8_t *b, size_t n, struct kt_hash *out)
{
	crypto_hash_sha256_state st;
	uint8_t zero = 0;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &zero, 1);
	crypto_hash_sha256_update(&st, b, n);
	crypto_hash_sha256_final(&st, out->b);
}

/* ---- known answers ------------------------------------------------------ */

/*
 * The worked examples of proto/README.md. If you change these, change the
 * README: these strings are copied there.
 */
#define README_UPDATE \
	"03" \
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" \
	"0000000000000002" \
	"0000000000000029" \
	"74dd55109246479750c4bd61d82ee7c0df2d027cd4c88c9d978823f9021202c2"
#define README_UPDATE_LEAF \
	"68d48b64adb3b9296c3b3e8ffa2d608d77b0566341bbc847d7abe3c97054f388"
#define README_HEAD \
	"04" \
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf" \
	"0000018bcfe56800" \
	"00000000000003e8" \
	"00000000000003de" \
	"0000000000000280"
#define README_HEAD_LEAF \
	"e6865cb56d8aa6e0baccf0c38f3e2afaf2b12b0fff5d033b4f1bb10c430576da"
/* A version-1 update with a zero commitment; the first map head of a log
 * (size 0, zero root). */
#define UPDATE_V1 \
	"03" \
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf" \
	"0000000000000001" \
	"ffffffffffffffff" \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define UPDATE_V1_LEAF \
	"5aa7d1be50f11107fd512227cc315e36ae7f058c9b73f8a57f904fd7836cf946"
#define FIRST_HEAD \
	"04" \
	"0000000000000000000000000000000000000000000000000000000000000000" \
	"0000018bcfe56800" \
	"0000000000000000" \
	"ffffffffffffffff" \
	"0000000000000000"
#define FIRST_HEAD_LEAF \
	"6688684abfb3e4d6f003ffaf38faf671e888d6f9254f4bbed57272acdcac32d4"

/* Encodes v, checks the hex and the leaf hash (kt's and libsodium's). */
static void
check_known(const struct codec *c, const void *v, const char *hex,
    const char *leaf_hex)
{
	uint8_t buf[KT_UPDATE_LEN];
	char got[2 * KT_UPDATE_LEN + 1];
	struct kt_hash h, want;

	ck_assert_int_eq(c->encode(v, buf), KT_OK);
	to_hex(buf, c->len, got);
	if (getenv("KT_PRINT_EXAMPLES") != NULL)
		printf("%s: %s\n", c->name, got);
	ck_assert_str_eq(got, hex);
	c->leaf_hash(v, &h);
	to_hex(h.b, sizeof(h.b), got);
	ck_assert_str_eq(got, leaf_hex);
	sha256_leaf(buf, c->len, &want);
	ck_assert(kt_hash_eq(&h, &want));
	kt_hash_leaf(buf, c->len, &want);
	ck_assert(kt_hash_eq(&h, &want));
}

START_TEST(test_update_known_answers)
{
	struct kt_update u = update(2, 41);

	check_known(&update_codec, &u, README_UPDATE, README_UPDATE_LEAF);
	u = update(1, KT_NO_PREV);
	u.commitment = hash_fill(0);
	check_known(&update_codec, &u, UPDATE_V1, UPDATE_V1_LEAF);
}
END_TEST

START_TEST(test_head_known_answers)
{
	struct kt_map_head h = head(1000, 990, 640);

	check_known(&head_codec, &h, README_HEAD, README_HEAD_LEAF);
	h = head(0, KT_NO_PREV, 0);
	h.root = hash_fill(0);
	check_known(&head_codec, &h, FIRST_HEAD, FIRST_HEAD_LEAF);
}
END_TEST

/*
 * proto/README.md must quote the examples exactly. It is found from this
 * file's compile-time path (relative to the build folder, where meson runs
 * tests); run from elsewhere, the check says so and skips.
 */
START_TEST(test_readme_quotes_examples)
{
	static const char *want[] = { README_UPDATE, README_UPDATE_LEAF,
		README_HEAD, README_HEAD_LEAF };
	static char text[262144];
	const char *self = __FILE__, *tail = "tests/proto/check_leaf.c";
	char path[4096];
	size_t n, i, plen = strlen(self) - strlen(tail);
	FILE *f;

	ck_assert_uint_gt(strlen(self), strlen(tail));
	ck_assert_str_eq(self + plen, tail);
	ck_assert_int_lt(snprintf(path, sizeof(path), "%.*sproto/README.md",
	                     (int)plen, self),
	    (int)sizeof(path));
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr,
		    "check_leaf: %s not found from here; README "
		    "example check skipped\n",
		    path);
		return;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(text, want[i]) != NULL,
		    "proto/README.md does not quote %s", want[i]);
}
END_TEST

/* ---- round trips and leaf hashes ----------------------------------------- */

static void
check_roundtrip(const struct codec *c)
{
	union values vs, d;
	uint8_t buf[KT_UPDATE_LEN], re[KT_UPDATE_LEN];
	struct kt_hash h, want;
	size_t i, n = valid_values(c, &vs);

	ck_assert_uint_ge(n, 6);
	for (i = 0; i < n; i++) {
		const void *v = nth(c, &vs, i);

		ck_assert_int_eq(c->encode(v, buf), KT_OK);
		ck_assert_uint_eq(buf[0], c->kind);
		ck_assert_int_eq(decode_exact(c, buf, c->len, &d), KT_OK);
		ck_assert_msg(c->eq(v, &d), "%s %zu", c->name, i);
		ck_assert_int_eq(c->encode(&d, re), KT_OK);
		ck_assert_mem_eq(re, buf, c->len);
		c->leaf_hash(v, &h);
		sha256_leaf(buf, c->len, &want);
		ck_assert(kt_hash_eq(&h, &want));
	}
}

START_TEST(test_update_roundtrip)
{
	check_roundtrip(&update_codec);
}
END_TEST

START_TEST(test_head_roundtrip)
{
	check_roundtrip(&head_codec);
}
END_TEST

/* Distinct values have distinct leaf hashes; the two kinds never meet. */
START_TEST(test_leaf_hashes_distinct)
{
	union values us, hs;
	struct kt_hash h[2 * MAX_VALID];
	size_t i, j, n = 0, nu = valid_updates(us.u), nh = valid_heads(hs.h);

	for (i = 0; i < nu; i++)
		kt_update_leaf_hash(&us.u[i], &h[n++]);
	for (i = 0; i < nh; i++)
		kt_map_head_leaf_hash(&hs.h[i], &h[n++]);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ck_assert_msg(!kt_hash_eq(&h[i], &h[j]), "%zu %zu", i,
			    j);
}
END_TEST

/* ---- invariant refusals -------------------------------------------------- */

/* Writes an update's layout with no validation. */
static void
raw_update(uint8_t kind, uint64_t version, uint64_t prev, uint8_t *out)
{
	struct kt_update u = update(version, prev);

	out[0] = kind;
	memcpy(out + 1, u.index.b, 32);
	for (int i = 0; i < 8; i++) {
		out[33 + i] = (uint8_t)(version >> (56 - 8 * i));
		out[41 + i] = (uint8_t)(prev >> (56 - 8 * i));
	}
	memcpy(out + 49, u.commitment.b, 32);
}

/* Writes a map head's layout with no validation. */
static void
raw_head(uint8_t kind, uint64_t log_size, uint64_t prev, uint64_t count,
    uint8_t *out)
{
	struct kt_map_head h = head(log_size, prev, count);
	const uint64_t f[4] = { h.timestamp_ms, log_size, prev, count };

	out[0] = kind;
	memcpy(out + 1, h.root.b, 32);
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < 8; i++)
			out[33 + 8 * k + i] = (uint8_t)(f[k] >> (56 - 8 * i));
}

/*
 * Refused by encode (out untouched) and by decode (out untouched), and
 * decode says MALFORMED as soon as the bad field is read, before the
 * fields after it arrive. bad_end: the offset where the bad field ends.
 */
static void
check_refused(const struct codec *c, const void *v, const uint8_t *raw,
    size_t bad_end, const char *what)
{
	uint8_t out[KT_UPDATE_LEN];
	union values d, sentinel;
	size_t k;

	memset(out, 0xee, sizeof(out));
	ck_assert_msg(c->encode(v, out) == KT_ERR_MALFORMED, "encode %s", what);
	for (k = 0; k < sizeof(out); k++)
		ck_assert_uint_eq(out[k], 0xee);
	memset(&d, 0x5a, sizeof(d));
	sentinel = d;
	ck_assert_msg(decode_exact(c, raw, c->len, &d) == KT_ERR_MALFORMED,
	    "decode %s", what);
	ck_assert_mem_eq(&d, &sentinel, sizeof(d));
	for (k = 0; k <= c->len; k++)
		ck_assert_msg(decode_exact(c, raw, k, &d) ==
		        (k < bad_end ? KT_ERR_INCOMPLETE : KT_ERR_MALFORMED),
		    "%s cut at %zu", what, k);
}

START_TEST(test_update_invariants)
{
	static const struct {
		const char *what;
		uint64_t version, prev;
		size_t bad_end; /* 41: version is bad; 49: prev_index */
	} cases[] = {
		{ "version 0, no prev", 0, KT_NO_PREV, 41 },
		{ "version 0, prev 5", 0, 5, 41 },
		{ "version 1, prev 0", 1, 0, 49 },
		{ "version 1, prev 2^64-2", 1, UINT64_MAX - 1, 49 },
		{ "version 2, no prev", 2, KT_NO_PREV, 49 },
		{ "version 2^64-1, no prev", UINT64_MAX, KT_NO_PREV, 49 },
	};
	uint8_t raw[KT_UPDATE_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kt_update u = update(cases[i].version, cases[i].prev);

		raw_update(KT_LEAF_UPDATE, cases[i].version, cases[i].prev,
		    raw);
		check_refused(&update_codec, &u, raw, cases[i].bad_end,
		    cases[i].what);
	}
}
END_TEST

START_TEST(test_head_invariants)
{
	static const struct {
		const char *what;
		uint64_t log_size, prev, count;
		size_t bad_end; /* 49 log_size, 57 prev_head, 65 label_count */
	} cases[] = {
		{ "log_size 2^64-1", UINT64_MAX, KT_NO_PREV, 0, 49 },
		{ "log_size 2^64-1, prev", UINT64_MAX, 5, 5, 49 },
		{ "prev_head == log_size", 10, 10, 0, 57 },
		{ "prev_head > log_size", 10, 11, 0, 57 },
		{ "prev_head 0 at log_size 0", 0, 0, 0, 57 },
		{ "prev_head 2^64-2 at log_size 2^64-2", UINT64_MAX - 1,
		    UINT64_MAX - 1, 0, 57 },
		{ "label_count > log_size", 10, 9, 11, 65 },
		{ "label_count 1 at log_size 0", 0, KT_NO_PREV, 1, 65 },
		{ "label_count 2^64-1", 10, KT_NO_PREV, UINT64_MAX, 65 },
	};
	uint8_t raw[KT_MAP_HEAD_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kt_map_head h =
		    head(cases[i].log_size, cases[i].prev, cases[i].count);

		raw_head(KT_LEAF_MAP_HEAD, cases[i].log_size, cases[i].prev,
		    cases[i].count, raw);
		check_refused(&head_codec, &h, raw, cases[i].bad_end,
		    cases[i].what);
	}
}
END_TEST

/* NULL arguments, empty input, and every wrong kind byte. */
static void
check_wrong_kind_and_nulls(const struct codec *c, const struct codec *other)
{
	union values vs, d;
	uint8_t buf[KT_UPDATE_LEN], obuf[KT_UPDATE_LEN];
	unsigned b;

	valid_values(c, &vs);
	ck_assert_int_eq(c->encode(nth(c, &vs, 0), buf), KT_OK);
	for (b = 0; b < 256; b++) {
		if (b == c->kind)
			continue;
		buf[0] = (uint8_t)b;
		ck_assert_msg(decode_exact(c, buf, c->len, &d) ==
		        KT_ERR_MALFORMED,
		    "%s kind %u", c->name, b);
		ck_assert_int_eq(decode_exact(c, buf, 1, &d), KT_ERR_MALFORMED);
	}
	/* A valid leaf of the other kind, cut or whole. */
	valid_values(other, &vs);
	ck_assert_int_eq(other->encode(nth(other, &vs, 0), obuf), KT_OK);
	ck_assert_int_eq(decode_exact(c, obuf, other->len, &d),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(decode_exact(c, obuf, 1, &d), KT_ERR_MALFORMED);

	ck_assert_int_eq(c->decode(NULL, 0, &d), KT_ERR_INCOMPLETE);
	ck_assert_int_eq(c->decode(NULL, 5, &d), KT_ERR_MALFORMED);
	ck_assert_int_eq(c->decode(obuf, other->len, NULL), KT_ERR_MALFORMED);
	ck_assert_int_eq(c->encode(NULL, buf), KT_ERR_MALFORMED);
	valid_values(c, &vs);
	ck_assert_int_eq(c->encode(nth(c, &vs, 0), NULL), KT_ERR_MALFORMED);
}

START_TEST(test_update_wrong_kind)
{
	check_wrong_kind_and_nulls(&update_codec, &head_codec);
}
END_TEST

START_TEST(test_head_wrong_kind)
{
	check_wrong_kind_and_nulls(&head_codec, &update_codec);
}
END_TEST

/* ---- prefixes, extensions, bit flips, byte values ------------------------ */

/* Every proper prefix is INCOMPLETE; every extension is MALFORMED. */
static void
check_truncate_extend(const struct codec *c)
{
	union values vs, d;
	uint8_t buf[KT_UPDATE_LEN + 16];
	size_t i, k, n = valid_values(c, &vs);
	unsigned v;

	for (i = 0; i < n; i++) {
		ck_assert_int_eq(c->encode(nth(c, &vs, i), buf), KT_OK);
		for (k = 0; k < c->len; k++)
			ck_assert_msg(decode_exact(c, buf, k, &d) ==
			        KT_ERR_INCOMPLETE,
			    "%s %zu prefix %zu", c->name, i, k);
		for (k = 1; k <= 16; k++) {
			for (v = 0; v < 256; v += 51) {
				memset(buf + c->len, (int)v, k);
				ck_assert_msg(decode_exact(c, buf, c->len + k,
				                  &d) == KT_ERR_MALFORMED,
				    "%s %zu ext %zu", c->name, i, k);
			}
		}
	}
}

START_TEST(test_update_truncate_extend)
{
	check_truncate_extend(&update_codec);
}
END_TEST

START_TEST(test_head_truncate_extend)
{
	check_truncate_extend(&head_codec);
}
END_TEST

/*
 * One mutated buffer: refused as MALFORMED (every field is present, so
 * never INCOMPLETE), or accepted as a different value that re-encodes to
 * exactly the mutated bytes. Returns 1 if accepted.
 */
static int
check_mutant(const struct codec *c, const void *orig, const uint8_t *buf,
    size_t pos)
{
	union values d;
	uint8_t re[KT_UPDATE_LEN];
	kt_err err = decode_exact(c, buf, c->len, &d);

	if (err != KT_OK) {
		ck_assert_msg(err == KT_ERR_MALFORMED, "%s pos %zu: %d",
		    c->name, pos, err);
		return 0;
	}
	ck_assert_msg(!c->eq(&d, orig), "%s pos %zu", c->name, pos);
	ck_assert_int_eq(c->encode(&d, re), KT_OK);
	ck_assert_mem_eq(re, buf, c->len);
	return 1;
}

/*
 * Every single-bit flip. Flips of the kind byte are always refused; flips
 * of the two hashes (and of a map head's timestamp) always accepted.
 * Returns the number refused.
 */
static size_t
check_bit_flips(const struct codec *c)
{
	union values vs;
	uint8_t buf[KT_UPDATE_LEN];
	size_t i, bit, refused = 0, n = valid_values(c, &vs);

	for (i = 0; i < n; i++) {
		const void *v = nth(c, &vs, i);

		ck_assert_int_eq(c->encode(v, buf), KT_OK);
		for (bit = 0; bit < 8 * c->len; bit++) {
			size_t pos = bit / 8;
			int ok, always_ok;

			buf[pos] ^= (uint8_t)(1u << (bit % 8));
			ok = check_mutant(c, v, buf, pos);
			buf[pos] ^= (uint8_t)(1u << (bit % 8));
			always_ok = (pos >= 1 && pos < 33) ||
			    (c == &update_codec ? pos >= 49 : pos < 41);
			if (pos == 0)
				ck_assert_msg(!ok, "%s kind bit", c->name);
			else if (always_ok)
				ck_assert_msg(ok, "%s %zu bit %zu", c->name, i,
				    bit);
			refused += !ok;
		}
	}
	return refused;
}

START_TEST(test_update_bit_flips)
{
	/* 8 kind bits per update, plus the chain rules. */
	ck_assert_uint_gt(check_bit_flips(&update_codec), 8 * 6);
}
END_TEST

START_TEST(test_head_bit_flips)
{
	ck_assert_uint_gt(check_bit_flips(&head_codec), 8 * 7);
}
END_TEST

/* Every single byte changed to every other value. */
static void
check_byte_values(const struct codec *c)
{
	union values vs;
	uint8_t buf[KT_UPDATE_LEN];
	size_t i, pos, accepted = 0, n = valid_values(c, &vs);
	unsigned b;

	for (i = 0; i < n; i++) {
		const void *v = nth(c, &vs, i);

		ck_assert_int_eq(c->encode(v, buf), KT_OK);
		for (pos = 0; pos < c->len; pos++) {
			uint8_t saved = buf[pos];

			for (b = 0; b < 256; b++) {
				if (b == saved)
					continue;
				buf[pos] = (uint8_t)b;
				accepted +=
				    (size_t)check_mutant(c, v, buf, pos);
			}
			buf[pos] = saved;
		}
	}
	/* At least the two hashes' bytes take any value. */
	ck_assert_uint_gt(accepted, n * 32 * 255);
}

START_TEST(test_update_byte_values)
{
	check_byte_values(&update_codec);
}
END_TEST

START_TEST(test_head_byte_values)
{
	check_byte_values(&head_codec);
}
END_TEST

/* ---- kt_leaf_kind -------------------------------------------------------- */

START_TEST(test_leaf_kind)
{
	uint8_t buf[KT_UPDATE_LEN], kind;
	struct kt_update u = update(2, 41);
	struct kt_map_head h = head(1000, 990, 640);
	unsigned b;

	for (b = 0; b < 256; b++) {
		kind = 0xee;
		buf[0] = (uint8_t)b;
		if (b == KT_LEAF_UPDATE || b == KT_LEAF_MAP_HEAD) {
			ck_assert_int_eq(kt_leaf_kind(buf, 1, &kind), KT_OK);
			ck_assert_uint_eq(kind, b);
		} else {
			ck_assert_int_eq(kt_leaf_kind(buf, 1, &kind),
			    KT_ERR_MALFORMED);
			ck_assert_uint_eq(kind, 0xee);
		}
	}
	ck_assert_int_eq(kt_update_encode(&u, buf), KT_OK);
	ck_assert_int_eq(kt_leaf_kind(buf, sizeof(buf), &kind), KT_OK);
	ck_assert_uint_eq(kind, KT_LEAF_UPDATE);
	ck_assert_int_eq(kt_map_head_encode(&h, buf), KT_OK);
	ck_assert_int_eq(kt_leaf_kind(buf, KT_MAP_HEAD_LEN, &kind), KT_OK);
	ck_assert_uint_eq(kind, KT_LEAF_MAP_HEAD);
	/* Only the first byte is read: a cut leaf still has a kind. */
	ck_assert_int_eq(kt_leaf_kind(buf, 2, &kind), KT_OK);
	/* The plain log's leaf types (0x01 key binding, 0x02 revocation) are
	 * not directory leaves. */
	buf[0] = 0x01;
	ck_assert_int_eq(kt_leaf_kind(buf, 1, &kind), KT_ERR_MALFORMED);
	buf[0] = 0x02;
	ck_assert_int_eq(kt_leaf_kind(buf, 1, &kind), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_leaf_kind(buf, 0, &kind), KT_ERR_INCOMPLETE);
	ck_assert_int_eq(kt_leaf_kind(NULL, 0, &kind), KT_ERR_INCOMPLETE);
	ck_assert_int_eq(kt_leaf_kind(NULL, 1, &kind), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_leaf_kind(buf, 1, NULL), KT_ERR_MALFORMED);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("leaf");

	kt_test_case(s, "kt_update_encode", 0, test_update_known_answers,
	    test_readme_quotes_examples, test_update_roundtrip,
	    test_update_invariants, NULL);
	kt_test_case(s, "kt_update_decode", 120, test_update_wrong_kind,
	    test_update_truncate_extend, test_update_bit_flips,
	    test_update_byte_values, NULL);
	kt_test_case(s, "kt_map_head_encode", 0, test_head_known_answers,
	    test_head_roundtrip, test_head_invariants, NULL);
	kt_test_case(s, "kt_map_head_decode", 120, test_head_wrong_kind,
	    test_head_truncate_extend, test_head_bit_flips,
	    test_head_byte_values, NULL);
	kt_test_case(s, "kt_leaf_kind", 0, test_leaf_kind, NULL);
	kt_test_case(s, "kt_update_leaf_hash", 0, test_leaf_hashes_distinct,
	    NULL);
	return kt_test_run(s);
}
