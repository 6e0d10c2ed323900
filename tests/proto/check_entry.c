/*
 * check_entry.c: the kt entry (leaf) codec, kt/entry.h.
 *
 * The worked examples in proto/README.md are asserted here byte for byte
 * (encoding and RFC 9162 leaf hash), so the document and the code cannot
 * drift apart. Leaf hashes are computed with libsodium directly, not through
 * kt/merkle.h, so this suite checks the README independently of merkle.c.
 */
#include <check.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/entry.h"

/* ---- helpers ------------------------------------------------------------- */

static uint8_t ed_key[32];
static uint8_t p256_key[65];
static uint8_t big_key[KT_KEY_MAX + 1];

static void
init_keys(void)
{
	size_t i;

	for (i = 0; i < sizeof(ed_key); i++)
		ed_key[i] = (uint8_t)i;
	p256_key[0] = 0x04;
	for (i = 1; i < sizeof(p256_key); i++)
		p256_key[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < sizeof(big_key); i++)
		big_key[i] = (uint8_t)(i * 7);
}

static struct kt_entry
key_entry(const char *label, const char *kt, const uint8_t *key, size_t klen)
{
	struct kt_entry e;

	memset(&e, 0, sizeof(e));
	e.type = KT_ENTRY_KEY;
	e.timestamp_ms = 1700000000000ULL;
	e.label = label;
	e.label_len = strlen(label);
	e.version = 1;
	e.prev_index = KT_NO_PREV;
	e.key_type = kt;
	e.key_type_len = strlen(kt);
	e.key = key;
	e.key_len = klen;
	return e;
}

static struct kt_entry
revoke_entry(const char *label, uint64_t version, uint64_t prev)
{
	struct kt_entry e;

	memset(&e, 0, sizeof(e));
	e.type = KT_ENTRY_REVOKE;
	e.timestamp_ms = 1700000060000ULL;
	e.label = label;
	e.label_len = strlen(label);
	e.version = version;
	e.prev_index = prev;
	return e;
}

static int
entry_eq(const struct kt_entry *a, const struct kt_entry *b)
{
	if (a->type != b->type || a->timestamp_ms != b->timestamp_ms ||
	    a->label_len != b->label_len || a->version != b->version ||
	    a->prev_index != b->prev_index ||
	    a->key_type_len != b->key_type_len || a->key_len != b->key_len)
		return 0;
	if (memcmp(a->label, b->label, a->label_len) != 0)
		return 0;
	if (a->key_type_len != 0 &&
	    memcmp(a->key_type, b->key_type, a->key_type_len) != 0)
		return 0;
	if (a->key_len != 0 && memcmp(a->key, b->key, a->key_len) != 0)
		return 0;
	return 1;
}

static void
to_hex(const uint8_t *b, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

static void
leaf_hash_hex(const uint8_t *b, size_t n, char out[65])
{
	crypto_hash_sha256_state st;
	uint8_t zero = 0, h[32];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &zero, 1);
	crypto_hash_sha256_update(&st, b, n);
	crypto_hash_sha256_final(&st, h);
	to_hex(h, 32, out);
}

/*
 * Writes an entry with no validation at all, so the tests can build every
 * invalid encoding field by field. kt/key NULL means a revocation layout.
 */
static size_t
raw(uint8_t type, uint64_t ts, const char *label, size_t llen, uint64_t ver,
    uint64_t prev, const char *kt, size_t ktlen, const uint8_t *key,
    size_t klen, uint8_t *out)
{
	size_t n = 0;
	int i;

	out[n++] = type;
	for (i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(ts >> (8 * i));
	out[n++] = (uint8_t)llen;
	memcpy(out + n, label, llen);
	n += llen;
	for (i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(ver >> (8 * i));
	for (i = 7; i >= 0; i--)
		out[n++] = (uint8_t)(prev >> (8 * i));
	if (kt != NULL) {
		out[n++] = (uint8_t)ktlen;
		memcpy(out + n, kt, ktlen);
		n += ktlen;
		out[n++] = (uint8_t)(klen >> 8);
		out[n++] = (uint8_t)klen;
		memcpy(out + n, key, klen);
		n += klen;
	}
	return n;
}

/* A set of valid entries covering both types and every key type. */
static size_t
valid_entries(struct kt_entry *es)
{
	size_t n = 0;

	es[n++] = key_entry("alice@example.com", "ed25519", ed_key, 32);
	es[n++] = key_entry("bob", "x25519", ed_key, 32);
	es[n++] = key_entry("carol@example.org", "p256", p256_key, 65);
	es[n++] = key_entry("d", "opaque", ed_key, 1);
	es[n] = key_entry("\xc3\xa9lodie \xf0\x9f\x94\x91", "ml-kem-768",
	    ed_key, 17);
	es[n].version = 7;
	es[n++].prev_index = 123456789;
	es[n++] = revoke_entry("alice@example.com", 3, 41);
	es[n++] = revoke_entry("x", 2, 0);
	es[n++] = revoke_entry("y", UINT64_MAX, UINT64_MAX - 1);
	return n;
}

/* ---- kt_label_valid ------------------------------------------------------ */

START_TEST(test_label_valid)
{
	static const char *good[] = {
		"a",
		"alice@example.com",
		"with space",
		"~",
		"\xc2\xa0",
		"\xc3\xa9",
		"\xe2\x82\xac",
		"\xef\xbf\xbf",
		"\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf",
		"\xee\x80\x80",
	};
	static const char *bad[] = {
		"\x01",
		"a\nb",
		"\t",
		"\x1f",
		"\x7f",
		"\xc2\x80",
		"\xc2\x85",
		"\xc2\x9f",
		"\xc0\xaf",
		"\xc1\xbf",
		"\xe0\x80\xaf",
		"\xe0\x9f\xbf",
		"\xf0\x80\x80\xaf",
		"\xf0\x8f\xbf\xbf",
		"\xed\xa0\x80",
		"\xed\xbf\xbf",
		"\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80",
		"\xff",
		"\xfe",
		"\x80",
		"\xbf",
		"\xe2\x82",
		"\xc3",
		"\xf0\x9f\x94",
		"a\xc3(",
		"\xe2(\xac",
	};
	char longl[KT_LABEL_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(kt_label_valid(good[i], strlen(good[i])),
		    "good label %zu", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!kt_label_valid(bad[i], strlen(bad[i])),
		    "bad label %zu", i);
	ck_assert(!kt_label_valid("a\0b", 3));
	ck_assert(!kt_label_valid("", 0));
	ck_assert(!kt_label_valid(NULL, 0));
	memset(longl, 'a', sizeof(longl));
	ck_assert(kt_label_valid(longl, KT_LABEL_MAX));
	ck_assert(!kt_label_valid(longl, KT_LABEL_MAX + 1));
	/* A 2-byte character must not straddle the 255-byte limit. */
	longl[KT_LABEL_MAX - 1] = '\xc3';
	ck_assert(!kt_label_valid(longl, KT_LABEL_MAX));
	longl[KT_LABEL_MAX] = '\xa9';
	ck_assert(!kt_label_valid(longl, KT_LABEL_MAX + 1));
}
END_TEST

/* ---- kt_key_type_valid --------------------------------------------------- */

START_TEST(test_key_type_valid)
{
	ck_assert(kt_key_type_valid("ed25519", 7));
	ck_assert(kt_key_type_valid("ml-kem-768", 10));
	ck_assert(kt_key_type_valid("a", 1));
	ck_assert(kt_key_type_valid("abcdefghijklmnop", 16));
	ck_assert(!kt_key_type_valid("abcdefghijklmnopq", 17));
	ck_assert(!kt_key_type_valid("", 0));
	ck_assert(!kt_key_type_valid(NULL, 0));
	ck_assert(!kt_key_type_valid("Ed25519", 7));
	ck_assert(!kt_key_type_valid("ed_25519", 8));
	ck_assert(!kt_key_type_valid("ed 25519", 8));
	ck_assert(!kt_key_type_valid("ed.25519", 8));
	ck_assert(!kt_key_type_valid("ed\0", 3));
	ck_assert(!kt_key_type_valid("\xc3\xa9", 2));
}
END_TEST

/* ---- kt_key_check -------------------------------------------------------- */

START_TEST(test_key_check)
{
	uint8_t k[66];

	memset(k, 0x04, sizeof(k));
	ck_assert_int_eq(kt_key_check("ed25519", 7, k, 32), KT_OK);
	ck_assert_int_eq(kt_key_check("x25519", 6, k, 32), KT_OK);
	ck_assert_int_eq(kt_key_check("p256", 4, k, 65), KT_OK);
	ck_assert_int_eq(kt_key_check("opaque", 6, k, 1), KT_OK);
	ck_assert_int_eq(kt_key_check("opaque", 6, big_key, KT_KEY_MAX), KT_OK);
	ck_assert_int_eq(kt_key_check("ed25519", 7, k, 31), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("ed25519", 7, k, 33), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("x25519", 6, k, 31), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("x25519", 6, k, 65), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("p256", 4, k, 64), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("p256", 4, k, 66), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("p256", 4, k, 33), KT_ERR_MALFORMED);
	k[0] = 0x02; /* compressed point: a second encoding of the key */
	ck_assert_int_eq(kt_key_check("p256", 4, k, 65), KT_ERR_MALFORMED);
	k[0] = 0x00;
	ck_assert_int_eq(kt_key_check("p256", 4, k, 65), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("opaque", 6, k, 0), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("opaque", 6, big_key, KT_KEY_MAX + 1),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("opaque", 6, NULL, 3), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("OPAQUE", 6, k, 3), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_key_check("", 0, k, 3), KT_ERR_MALFORMED);
	/* Prefixes of fixed types are just other (opaque) types. */
	ck_assert_int_eq(kt_key_check("ed2551", 6, k, 3), KT_OK);
	ck_assert_int_eq(kt_key_check("p2566", 5, k, 3), KT_OK);
}
END_TEST

/* ---- kt_entry_encoded_len ----------------------------------------------- */

START_TEST(test_encoded_len)
{
	char label[KT_LABEL_MAX];
	struct kt_entry e;

	e = key_entry("bob", "ed25519", ed_key, 32);
	ck_assert_uint_eq(kt_entry_encoded_len(&e),
	    1 + 8 + 1 + 3 + 8 + 8 + 1 + 7 + 2 + 32);
	e = revoke_entry("bob", 2, 0);
	ck_assert_uint_eq(kt_entry_encoded_len(&e), 1 + 8 + 1 + 3 + 8 + 8);

	/* The largest entry is exactly KT_ENTRY_MAX. */
	memset(label, 'l', sizeof(label));
	e = key_entry("x", "abcdefghijklmnop", big_key, KT_KEY_MAX);
	e.label = label;
	e.label_len = KT_LABEL_MAX;
	ck_assert_uint_eq(kt_entry_encoded_len(&e), KT_ENTRY_MAX);

	e = key_entry("bob", "ed25519", ed_key, 31);
	ck_assert_uint_eq(kt_entry_encoded_len(&e), 0);
	e = revoke_entry("bob", 1, KT_NO_PREV);
	ck_assert_uint_eq(kt_entry_encoded_len(&e), 0);
	ck_assert_uint_eq(kt_entry_encoded_len(NULL), 0);
}
END_TEST

/* ---- kt_entry_encode ----------------------------------------------------- */

/*
 * The worked examples of proto/README.md. If you change these, change the
 * README: these strings are copied there.
 */
#define README_KEY_HEX \
	"01" \
	"0000018bcfe56800" \
	"11" \
	"616c696365406578616d706c652e636f6d" \
	"0000000000000001" \
	"ffffffffffffffff" \
	"07" \
	"65643235353139" \
	"0020" \
	"000102030405060708090a0b0c0d0e0f" \
	"101112131415161718191a1b1c1d1e1f"
#define README_KEY_LEAF \
	"9c104ba178d325df714cdab7e3bf34f9c1dae2be5f982d9d18e90036fcaa846d"
#define README_REVOKE_HEX \
	"02" \
	"0000018bcfe65260" \
	"11" \
	"616c696365406578616d706c652e636f6d" \
	"0000000000000003" \
	"0000000000000029"
#define README_REVOKE_LEAF \
	"5f23872cef66b0e96c0cba7fd5cb60f1bcc72a6867ec0979e2d6ba412d76e819"

START_TEST(test_encode_readme)
{
	uint8_t buf[KT_ENTRY_MAX];
	char hex[2 * KT_ENTRY_MAX + 1], leaf[65];
	struct kt_entry e;
	size_t n = 0;

	e = key_entry("alice@example.com", "ed25519", ed_key, 32);
	ck_assert_int_eq(kt_entry_encode(&e, buf, sizeof(buf), &n), KT_OK);
	to_hex(buf, n, hex);
	leaf_hash_hex(buf, n, leaf);
	if (getenv("KT_PRINT_EXAMPLES") != NULL)
		printf("key:    %s\nleaf:   %s\n", hex, leaf);
	ck_assert_str_eq(hex, README_KEY_HEX);
	ck_assert_str_eq(leaf, README_KEY_LEAF);

	e = revoke_entry("alice@example.com", 3, 41);
	ck_assert_int_eq(kt_entry_encode(&e, buf, sizeof(buf), &n), KT_OK);
	to_hex(buf, n, hex);
	leaf_hash_hex(buf, n, leaf);
	if (getenv("KT_PRINT_EXAMPLES") != NULL)
		printf("revoke: %s\nleaf:   %s\n", hex, leaf);
	ck_assert_str_eq(hex, README_REVOKE_HEX);
	ck_assert_str_eq(leaf, README_REVOKE_LEAF);
}
END_TEST

/*
 * proto/README.md must quote the examples exactly. The README is found from
 * this file's compile-time path (relative to the build folder, which is
 * where meson runs tests); run from elsewhere, the check says so and skips.
 */
START_TEST(test_readme_quotes_examples)
{
	static const char *want[] = { README_KEY_HEX, README_KEY_LEAF,
		README_REVOKE_HEX, README_REVOKE_LEAF };
	static char text[65536];
	const char *self = __FILE__, *tail = "tests/proto/check_entry.c";
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
		    "check_entry: %s not found from here; README "
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

START_TEST(test_encode_roundtrip)
{
	struct kt_entry es[16], d;
	uint8_t buf[KT_ENTRY_MAX];
	size_t i, n, ne = valid_entries(es);

	for (i = 0; i < ne; i++) {
		n = 0;
		ck_assert_int_eq(kt_entry_encode(&es[i], buf, sizeof(buf), &n),
		    KT_OK);
		ck_assert_uint_eq(n, kt_entry_encoded_len(&es[i]));
		ck_assert_int_eq(kt_entry_decode(buf, n, &d), KT_OK);
		ck_assert_msg(entry_eq(&es[i], &d), "entry %zu", i);
		/* Decoded pointers borrow from buf. */
		ck_assert_ptr_eq(d.label, (const char *)buf + 10);
		if (d.type == KT_ENTRY_REVOKE) {
			ck_assert_ptr_null(d.key);
			ck_assert_ptr_null(d.key_type);
		}
	}
}
END_TEST

START_TEST(test_encode_max)
{
	char label[KT_LABEL_MAX];
	static uint8_t buf[KT_ENTRY_MAX + 8];
	struct kt_entry e, d;
	size_t n = 0;

	memset(label, 'l', sizeof(label));
	e = key_entry("x", "abcdefghijklmnop", big_key, KT_KEY_MAX);
	e.label = label;
	e.label_len = KT_LABEL_MAX;
	ck_assert_int_eq(kt_entry_encode(&e, buf, KT_ENTRY_MAX, &n), KT_OK);
	ck_assert_uint_eq(n, KT_ENTRY_MAX);
	ck_assert_int_eq(kt_entry_decode(buf, n, &d), KT_OK);
	ck_assert(entry_eq(&e, &d));
	/* Labels and keys one byte too long cannot be expressed at all. */
	e.label_len = KT_LABEL_MAX + 1;
	ck_assert_int_eq(kt_entry_encode(&e, buf, sizeof(buf), &n),
	    KT_ERR_MALFORMED);
	e.label_len = KT_LABEL_MAX;
	e.key_len = KT_KEY_MAX + 1;
	ck_assert_int_eq(kt_entry_encode(&e, buf, sizeof(buf), &n),
	    KT_ERR_MALFORMED);
}
END_TEST

START_TEST(test_encode_short_buffer)
{
	struct kt_entry es[16];
	uint8_t buf[KT_ENTRY_MAX], ref[KT_ENTRY_MAX];
	size_t i, cap, n, full, ne = valid_entries(es);

	for (i = 0; i < ne; i++) {
		ck_assert_int_eq(kt_entry_encode(&es[i], ref, sizeof(ref),
		                     &full),
		    KT_OK);
		for (cap = 0; cap < full; cap++) {
			memset(buf, 0xee, sizeof(buf));
			ck_assert_int_eq(kt_entry_encode(&es[i], buf, cap, &n),
			    KT_ERR_TOO_LARGE);
			/* Nothing written past what the caller gave. */
			ck_assert_uint_eq(buf[cap], 0xee);
		}
		ck_assert_int_eq(kt_entry_encode(&es[i], buf, full, NULL),
		    KT_OK);
		ck_assert_mem_eq(buf, ref, full);
	}
	ck_assert_int_eq(kt_entry_encode(&es[0], NULL, 0, &n),
	    KT_ERR_TOO_LARGE);
}
END_TEST

START_TEST(test_encode_invalid)
{
	uint8_t buf[KT_ENTRY_MAX];
	struct kt_entry e, base = key_entry("bob", "ed25519", ed_key, 32);
	struct kt_entry rbase = revoke_entry("bob", 2, 0);
	size_t n;

#define BAD(stmt) \
	do { \
		e = base; \
		stmt; \
		ck_assert_int_eq(kt_entry_encode(&e, buf, sizeof(buf), &n), \
		    KT_ERR_MALFORMED); \
		ck_assert_uint_eq(kt_entry_encoded_len(&e), 0); \
	} while (0)

	BAD(e.type = 0);
	BAD(e.type = 3);
	BAD(e.label_len = 0);
	BAD(e.label = NULL);
	BAD(e.label = "b\x01"
	              "b");
	BAD(e.label = "b\xc0\xaf"
	              "b");
	BAD(e.version = 0);
	BAD(e.prev_index = 0);
	BAD((e.version = 2, e.prev_index = KT_NO_PREV));
	BAD(e.key_type_len = 0);
	BAD((e.key_type = "ED25519"));
	BAD(e.key_type_len = 17);
	BAD(e.key_len = 31);
	BAD(e.key = NULL);
	BAD((e.key_type = "p256", e.key_type_len = 4, e.key = p256_key,
	    e.key_len = 64));
	BAD((e.key_type = "p256", e.key_type_len = 4, e.key = ed_key,
	    e.key_len = 65));
	base = rbase;
	BAD(e.version = 1);
	BAD((e.version = 1, e.prev_index = KT_NO_PREV));
	BAD(e.prev_index = KT_NO_PREV);
	BAD((e.key_type = "ed25519", e.key_type_len = 7));
	BAD((e.key = ed_key, e.key_len = 32));
	ck_assert_int_eq(kt_entry_encode(NULL, buf, sizeof(buf), &n),
	    KT_ERR_MALFORMED);
#undef BAD
}
END_TEST

/* ---- kt_entry_decode ----------------------------------------------------- */

struct bad_case {
	const char *what;
	uint8_t type;
	const char *label;
	size_t llen;
	uint64_t ver, prev;
	const char *kt; /* NULL: revocation layout */
	size_t ktlen;
	const uint8_t *key;
	size_t klen;
	kt_err want;
};

START_TEST(test_decode_bad_table)
{
	static uint8_t p256_02[65];
	const struct bad_case cases[] = {
		{ "type 0", 0, "bob", 3, 1, KT_NO_PREV, "ed25519", 7, ed_key,
		    32, KT_ERR_MALFORMED },
		{ "type 3", 3, "bob", 3, 1, KT_NO_PREV, "ed25519", 7, ed_key,
		    32, KT_ERR_MALFORMED },
		{ "type 255", 255, "bob", 3, 2, 0, NULL, 0, NULL, 0,
		    KT_ERR_MALFORMED },
		{ "empty label", 1, "", 0, 1, KT_NO_PREV, "ed25519", 7, ed_key,
		    32, KT_ERR_MALFORMED },
		{ "label C0", 1, "b\nb", 3, 1, KT_NO_PREV, "ed25519", 7, ed_key,
		    32, KT_ERR_MALFORMED },
		{ "label NUL", 1, "b\0b", 3, 1, KT_NO_PREV, "ed25519", 7,
		    ed_key, 32, KT_ERR_MALFORMED },
		{ "label DEL", 1, "\x7f", 1, 1, KT_NO_PREV, "ed25519", 7,
		    ed_key, 32, KT_ERR_MALFORMED },
		{ "label C1", 2, "\xc2\x85", 2, 2, 0, NULL, 0, NULL, 0,
		    KT_ERR_MALFORMED },
		{ "label overlong", 1, "\xc0\xaf", 2, 1, KT_NO_PREV, "ed25519",
		    7, ed_key, 32, KT_ERR_MALFORMED },
		{ "label overlong 3", 1, "\xe0\x80\xaf", 3, 1, KT_NO_PREV,
		    "ed25519", 7, ed_key, 32, KT_ERR_MALFORMED },
		{ "label surrogate", 1, "\xed\xa0\x80", 3, 1, KT_NO_PREV,
		    "ed25519", 7, ed_key, 32, KT_ERR_MALFORMED },
		{ "label > U+10FFFF", 1, "\xf4\x90\x80\x80", 4, 1, KT_NO_PREV,
		    "ed25519", 7, ed_key, 32, KT_ERR_MALFORMED },
		{ "label cut UTF-8", 1, "ab\xe2\x82", 4, 1, KT_NO_PREV,
		    "ed25519", 7, ed_key, 32, KT_ERR_MALFORMED },
		{ "version 0", 1, "bob", 3, 0, KT_NO_PREV, "ed25519", 7, ed_key,
		    32, KT_ERR_MALFORMED },
		{ "v1 with prev", 1, "bob", 3, 1, 0, "ed25519", 7, ed_key, 32,
		    KT_ERR_MALFORMED },
		{ "v2 without prev", 1, "bob", 3, 2, KT_NO_PREV, "ed25519", 7,
		    ed_key, 32, KT_ERR_MALFORMED },
		{ "revoke v1", 2, "bob", 3, 1, KT_NO_PREV, NULL, 0, NULL, 0,
		    KT_ERR_MALFORMED },
		{ "revoke v0", 2, "bob", 3, 0, 5, NULL, 0, NULL, 0,
		    KT_ERR_MALFORMED },
		{ "revoke v2 no prev", 2, "bob", 3, 2, KT_NO_PREV, NULL, 0,
		    NULL, 0, KT_ERR_MALFORMED },
		{ "revoke with key", 2, "bob", 3, 2, 0, "ed25519", 7, ed_key,
		    32, KT_ERR_MALFORMED },
		{ "empty key type", 1, "bob", 3, 1, KT_NO_PREV, "", 0, ed_key,
		    32, KT_ERR_MALFORMED },
		{ "key type 17", 1, "bob", 3, 1, KT_NO_PREV,
		    "abcdefghijklmnopq", 17, ed_key, 32, KT_ERR_MALFORMED },
		{ "key type upper", 1, "bob", 3, 1, KT_NO_PREV, "Ed25519", 7,
		    ed_key, 32, KT_ERR_MALFORMED },
		{ "key type space", 1, "bob", 3, 1, KT_NO_PREV, "ed 25519", 8,
		    ed_key, 32, KT_ERR_MALFORMED },
		{ "empty key", 1, "bob", 3, 1, KT_NO_PREV, "opaque", 6, ed_key,
		    0, KT_ERR_MALFORMED },
		{ "ed25519 31", 1, "bob", 3, 1, KT_NO_PREV, "ed25519", 7,
		    ed_key, 31, KT_ERR_MALFORMED },
		{ "ed25519 33", 1, "bob", 3, 1, KT_NO_PREV, "ed25519", 7,
		    p256_key, 33, KT_ERR_MALFORMED },
		{ "x25519 64", 1, "bob", 3, 1, KT_NO_PREV, "x25519", 6,
		    p256_key, 64, KT_ERR_MALFORMED },
		{ "p256 33", 1, "bob", 3, 1, KT_NO_PREV, "p256", 4, p256_key,
		    33, KT_ERR_MALFORMED },
		{ "p256 0x02", 1, "bob", 3, 1, KT_NO_PREV, "p256", 4, p256_02,
		    65, KT_ERR_MALFORMED },
		{ "key too long", 1, "bob", 3, 1, KT_NO_PREV, "opaque", 6,
		    big_key, KT_KEY_MAX + 1, KT_ERR_MALFORMED },
	};
	static uint8_t buf[KT_ENTRY_MAX + 64];
	struct kt_entry d;
	size_t i, n;

	memcpy(p256_02, p256_key, sizeof(p256_02));
	p256_02[0] = 0x02;
	ck_assert_uint_ge(sizeof(cases) / sizeof(cases[0]), 20);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];

		n = raw(c->type, 1700000000000ULL, c->label, c->llen, c->ver,
		    c->prev, c->kt, c->ktlen, c->key, c->klen, buf);
		ck_assert_msg(kt_entry_decode(buf, n, &d) == c->want,
		    "case '%s': got %d", c->what, kt_entry_decode(buf, n, &d));
	}
}
END_TEST

/* Hand-written encodings the field builder cannot express. */
START_TEST(test_decode_bad_hex)
{
	static const struct {
		const char *hex;
		kt_err want;
	} cases[] = {
		{ "", KT_ERR_INCOMPLETE },
		{ "01", KT_ERR_INCOMPLETE },
		{ "00", KT_ERR_MALFORMED },
		{ "ff0000", KT_ERR_MALFORMED },
		/* label length 0 is MALFORMED at once, even with nothing after */
		{ "01000000000000000000", KT_ERR_MALFORMED },
		/* key type length 17: MALFORMED before its bytes arrive */
		{ "010000000000000000016100000000000000010000000000000000"
		  "11",
		    KT_ERR_MALFORMED },
		{ "01000000000000000001610000000000000001ffffffffffffffff"
		  "11",
		    KT_ERR_MALFORMED },
		/* key length 0x1001 (4097) */
		{ "01000000000000000001610000000000000001ffffffffffffffff"
		  "016d1001",
		    KT_ERR_MALFORMED },
		/* ed25519 with key length 33 announced, bytes absent */
		{ "01000000000000000001610000000000000001ffffffffffffffff"
		  "0765643235353139"
		  "0021",
		    KT_ERR_MALFORMED },
		/* ed25519 with key length 32 announced, bytes absent */
		{ "01000000000000000001610000000000000001ffffffffffffffff"
		  "0765643235353139"
		  "0020",
		    KT_ERR_INCOMPLETE },
		/* opaque key of 1 byte: valid, then one trailing byte */
		{ "01000000000000000001610000000000000001ffffffffffffffff"
		  "016d0001aa",
		    KT_OK },
		{ "01000000000000000001610000000000000001ffffffffffffffff"
		  "016d0001aa00",
		    KT_ERR_MALFORMED },
		/* revocation with trailing key fields */
		{ "020000000000000000016100000000000000020000000000000000"
		  "016d0001aa",
		    KT_ERR_MALFORMED },
		{ "020000000000000000016100000000000000020000000000000000",
		    KT_OK },
	};
	uint8_t buf[256];
	struct kt_entry d;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(sodium_hex2bin(buf, sizeof(buf), cases[i].hex,
		                     strlen(cases[i].hex), NULL, &n, NULL),
		    0);
		ck_assert_msg(kt_entry_decode(buf, n, &d) == cases[i].want,
		    "hex case %zu", i);
	}
	ck_assert_int_eq(kt_entry_decode(NULL, 0, &d), KT_ERR_INCOMPLETE);
	ck_assert_int_eq(kt_entry_decode(buf, 1, NULL), KT_ERR_MALFORMED);
}
END_TEST

/* Every proper prefix is INCOMPLETE; every extension is MALFORMED. */
START_TEST(test_decode_truncate_extend)
{
	struct kt_entry es[16], d;
	static uint8_t buf[KT_ENTRY_MAX + 16];
	size_t i, k, n, ne = valid_entries(es);

	for (i = 0; i < ne; i++) {
		ck_assert_int_eq(kt_entry_encode(&es[i], buf, sizeof(buf), &n),
		    KT_OK);
		for (k = 0; k < n; k++)
			ck_assert_msg(kt_entry_decode(buf, k, &d) ==
			        KT_ERR_INCOMPLETE,
			    "entry %zu prefix %zu", i, k);
		for (k = 1; k <= 16; k++) {
			unsigned v;

			for (v = 0; v < 256; v += 51) {
				memset(buf + n, (int)v, k);
				ck_assert_msg(kt_entry_decode(buf, n + k, &d) ==
				        KT_ERR_MALFORMED,
				    "entry %zu ext %zu", i, k);
			}
		}
	}
}
END_TEST

/*
 * Canonicality: change any one byte to any other value; the result either
 * fails to decode, or decodes to a different entry that encodes back to
 * exactly the mutated bytes.
 */
START_TEST(test_decode_mutations)
{
	struct kt_entry es[16], orig, d;
	static uint8_t buf[KT_ENTRY_MAX], re[KT_ENTRY_MAX];
	size_t i, pos, n, rn, ne = valid_entries(es), accepted = 0;
	unsigned v;

	for (i = 0; i < ne; i++) {
		ck_assert_int_eq(kt_entry_encode(&es[i], buf, sizeof(buf), &n),
		    KT_OK);
		ck_assert_int_eq(kt_entry_decode(buf, n, &orig), KT_OK);
		for (pos = 0; pos < n; pos++) {
			uint8_t saved = buf[pos];

			for (v = 0; v < 256; v++) {
				kt_err err;

				if (v == saved)
					continue;
				buf[pos] = (uint8_t)v;
				err = kt_entry_decode(buf, n, &d);
				if (err != KT_OK) {
					ck_assert_msg(err == KT_ERR_MALFORMED ||
					        err == KT_ERR_INCOMPLETE,
					    "entry %zu pos %zu", i, pos);
					continue;
				}
				accepted++;
				ck_assert_int_eq(kt_entry_encode(&d, re,
				                     sizeof(re), &rn),
				    KT_OK);
				ck_assert_uint_eq(rn, n);
				ck_assert_mem_eq(re, buf, n);
			}
			buf[pos] = saved;
		}
		/* The buffer is back to the original: same entry again. */
		ck_assert_int_eq(kt_entry_decode(buf, n, &d), KT_OK);
		ck_assert(entry_eq(&d, &orig));
	}
	/* Timestamps, label bytes, key bytes: many mutations are valid. */
	ck_assert_uint_gt(accepted, 1000);
}
END_TEST

/* Each fixed-type key length is enforced whatever the announced length. */
START_TEST(test_decode_key_lengths)
{
	static uint8_t buf[KT_ENTRY_MAX + 8];
	static const struct {
		const char *kt;
		size_t want;
	} types[] = { { "ed25519", 32 }, { "x25519", 32 }, { "p256", 65 } };
	uint8_t key[101];
	struct kt_entry d;
	size_t t, l, n;

	memset(key, 0x04, sizeof(key));
	for (t = 0; t < 3; t++) {
		for (l = 0; l <= 100; l++) {
			n = raw(1, 0, "k", 1, 1, KT_NO_PREV, types[t].kt,
			    strlen(types[t].kt), key, l, buf);
			ck_assert_int_eq(kt_entry_decode(buf, n, &d),
			    l == types[t].want ? KT_OK : KT_ERR_MALFORMED);
		}
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("entry");

	init_keys();
	kt_test_case(s, "kt_label_valid", 0, test_label_valid, NULL);
	kt_test_case(s, "kt_key_type_valid", 0, test_key_type_valid, NULL);
	kt_test_case(s, "kt_key_check", 0, test_key_check, NULL);
	kt_test_case(s, "kt_entry_encoded_len", 0, test_encoded_len, NULL);
	kt_test_case(s, "kt_entry_encode", 0, test_encode_readme,
	    test_readme_quotes_examples, test_encode_roundtrip, test_encode_max,
	    test_encode_short_buffer, test_encode_invalid, NULL);
	kt_test_case(s, "kt_entry_decode", 120, test_decode_bad_table,
	    test_decode_bad_hex, test_decode_truncate_extend,
	    test_decode_mutations, test_decode_key_lengths, NULL);
	return kt_test_run(s);
}
