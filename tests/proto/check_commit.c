/*
 * check_commit.c: value commitments, kt/commit.h.
 *
 * The known answers below were computed with Python's hashlib from the
 * layout in proto/README.md ("Commitments"), not with kt:
 *
 *   m = bytes([5]) + opening + bytes([len(label)]) + label
 *       + struct.pack('>Q', version) + bytes([kind, len(key_type)])
 *       + key_type + struct.pack('>H', len(key)) + key
 *   hashlib.sha256(m).hexdigest()
 *
 * The README's worked example is asserted here byte for byte, and the
 * README is checked to quote it, so the two cannot drift apart. Beyond the
 * known answers, the layout is rebuilt by hand here and hashed with
 * libsodium directly for many values, and every single-bit change of the
 * opening, the key and the commitment is refused by kt_commit_verify.
 */
#include <check.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/commit.h"
#include "kt/label.h"

/* ---- helpers ------------------------------------------------------------- */

static uint8_t opening[KT_OPENING_LEN]; /* 20 21 .. 3f */
static uint8_t ed_key[32];              /* 00 01 .. 1f */
static uint8_t p256_key[65];
static uint8_t big_key[KT_KEY_MAX + 1];

static void
init_values(void)
{
	size_t i;

	for (i = 0; i < sizeof(opening); i++)
		opening[i] = (uint8_t)(0x20 + i);
	for (i = 0; i < sizeof(ed_key); i++)
		ed_key[i] = (uint8_t)i;
	p256_key[0] = 0x04;
	for (i = 1; i < sizeof(p256_key); i++)
		p256_key[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < sizeof(big_key); i++)
		big_key[i] = (uint8_t)(i * 7);
}

static struct kt_value
key_value(const char *key_type, const uint8_t *key, size_t key_len)
{
	struct kt_value v;

	memset(&v, 0, sizeof(v));
	v.kind = KT_VALUE_KEY;
	v.key_type = key_type;
	v.key_type_len = strlen(key_type);
	v.key = key;
	v.key_len = key_len;
	return v;
}

static struct kt_value
revoke_value(void)
{
	struct kt_value v;

	memset(&v, 0, sizeof(v));
	v.kind = KT_VALUE_REVOKE;
	return v;
}

static void
to_hex(const uint8_t *b, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

/* kt_commit, which must succeed, as hex. */
static void
commit_hex(const uint8_t *op, const char *label, size_t llen, uint64_t version,
    const struct kt_value *v, char out[65])
{
	struct kt_hash c;

	ck_assert_int_eq(kt_commit(op, label, llen, version, v, &c), KT_OK);
	to_hex(c.b, sizeof(c.b), out);
}

/*
 * The README's layout written out by hand, with no validation, and hashed
 * with libsodium in one call: a second implementation to compare with.
 */
static void
reference(const uint8_t *op, const char *label, size_t llen, uint64_t version,
    const struct kt_value *v, struct kt_hash *out)
{
	static uint8_t m[1 + 32 + 1 + 255 + 8 + 2 + 16 + 2 + KT_KEY_MAX];
	size_t n = 0;
	int i;

	m[n++] = 0x05;
	memcpy(m + n, op, KT_OPENING_LEN);
	n += KT_OPENING_LEN;
	m[n++] = (uint8_t)llen;
	memcpy(m + n, label, llen);
	n += llen;
	for (i = 7; i >= 0; i--)
		m[n++] = (uint8_t)(version >> (8 * i));
	m[n++] = v->kind;
	m[n++] = (uint8_t)v->key_type_len;
	if (v->key_type_len > 0)
		memcpy(m + n, v->key_type, v->key_type_len);
	n += v->key_type_len;
	m[n++] = (uint8_t)(v->key_len >> 8);
	m[n++] = (uint8_t)v->key_len;
	if (v->key_len > 0)
		memcpy(m + n, v->key, v->key_len);
	n += v->key_len;
	crypto_hash_sha256(out->b, m, n);
}

#define ALICE "alice@example.com"
#define ALICE_LEN (sizeof(ALICE) - 1)

/* ---- kt_commit ----------------------------------------------------------- */

/*
 * The worked example of proto/README.md ("Commitments"): opening 20..3f,
 * label alice@example.com, version 2, an ed25519 key 00..1f. If you change
 * these, change the README: these strings are copied there.
 */
#define README_COMMIT_INPUT \
	"05" \
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" \
	"11" \
	"616c696365406578616d706c652e636f6d" \
	"0000000000000002" \
	"01" \
	"07" \
	"65643235353139" \
	"0020" \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define README_COMMIT \
	"74dd55109246479750c4bd61d82ee7c0df2d027cd4c88c9d978823f9021202c2"
/* The same label's version 3, a revocation, under the same opening. */
#define README_REVOKE_INPUT \
	"05" \
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" \
	"11" \
	"616c696365406578616d706c652e636f6d" \
	"0000000000000003" \
	"02" \
	"00" \
	"0000"
#define README_REVOKE_COMMIT \
	"fa6c2310fdfd3872f96729cd8d496e16864c91a84c2aab19662b1a09b0065937"
/* Opening 32 x ff, label 255 x 'l', version 2^64-1, key type
 * "abcdefghijklmnop", 4096-byte key with byte i = (7i) mod 256. */
#define BIG_COMMIT \
	"cf18b81364a6e53e62eaa7e6cd3af39117f682dde49f56dce99b78dc1a483cb1"

START_TEST(test_commit_known_answers)
{
	struct kt_value v = key_value("ed25519", ed_key, 32);
	uint8_t ff[KT_OPENING_LEN];
	char label[KT_LABEL_MAX], hex[65];

	commit_hex(opening, ALICE, ALICE_LEN, 2, &v, hex);
	if (getenv("KT_PRINT_EXAMPLES") != NULL)
		printf("commit: %s\n", hex);
	ck_assert_str_eq(hex, README_COMMIT);

	v = revoke_value();
	commit_hex(opening, ALICE, ALICE_LEN, 3, &v, hex);
	if (getenv("KT_PRINT_EXAMPLES") != NULL)
		printf("revoke: %s\n", hex);
	ck_assert_str_eq(hex, README_REVOKE_COMMIT);

	memset(ff, 0xff, sizeof(ff));
	memset(label, 'l', sizeof(label));
	v = key_value("abcdefghijklmnop", big_key, KT_KEY_MAX);
	commit_hex(ff, label, KT_LABEL_MAX, UINT64_MAX, &v, hex);
	ck_assert_str_eq(hex, BIG_COMMIT);
}
END_TEST

/* The README's hash inputs are exactly what reference() builds. */
START_TEST(test_commit_readme_inputs)
{
	struct kt_value v = key_value("ed25519", ed_key, 32);
	static const char *inputs[] = { README_COMMIT_INPUT,
		README_REVOKE_INPUT };
	static const char *commits[] = { README_COMMIT, README_REVOKE_COMMIT };
	uint8_t m[256];
	struct kt_hash c;
	char hex[65];
	size_t i, n;

	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(sodium_hex2bin(m, sizeof(m), inputs[i],
		                     strlen(inputs[i]), NULL, &n, NULL),
		    0);
		crypto_hash_sha256(c.b, m, n);
		to_hex(c.b, sizeof(c.b), hex);
		ck_assert_str_eq(hex, commits[i]);
	}
	reference(opening, ALICE, ALICE_LEN, 2, &v, &c);
	to_hex(c.b, sizeof(c.b), hex);
	ck_assert_str_eq(hex, README_COMMIT);
}
END_TEST

/*
 * proto/README.md must quote the example exactly. It is found from this
 * file's compile-time path (relative to the build folder, where meson runs
 * tests); run from elsewhere, the check says so and skips.
 */
START_TEST(test_readme_quotes_example)
{
	static const char *want[] = { README_COMMIT_INPUT, README_COMMIT,
		README_REVOKE_INPUT, README_REVOKE_COMMIT };
	static char text[262144];
	const char *self = __FILE__, *tail = "tests/proto/check_commit.c";
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
		    "check_commit: %s not found from here; README "
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

/* kt_commit agrees with the hand-written layout across the value space. */
START_TEST(test_commit_matches_layout)
{
	static const uint64_t versions[] = { 2, 3, 255, 256, 0x0102030405060708,
		UINT64_MAX };
	struct kt_value vs[6];
	char label[KT_LABEL_MAX];
	struct kt_hash got, want;
	size_t i, j, llen, checked = 0;

	vs[0] = key_value("ed25519", ed_key, 32);
	vs[1] = key_value("x25519", ed_key, 32);
	vs[2] = key_value("p256", p256_key, 65);
	vs[3] = key_value("opaque", big_key, 1);
	vs[4] = key_value("ml-kem-768", big_key, KT_KEY_MAX);
	vs[5] = revoke_value();
	for (i = 0; i < sizeof(label); i++)
		label[i] = (char)('a' + i % 26);
	for (llen = 1; llen <= KT_LABEL_MAX; llen += 37) {
		for (i = 0; i < 6; i++) {
			for (j = 0; j < sizeof(versions) / sizeof(versions[0]);
			     j++) {
				ck_assert_int_eq(kt_commit(opening, label, llen,
				                     versions[j], &vs[i], &got),
				    KT_OK);
				reference(opening, label, llen, versions[j],
				    &vs[i], &want);
				ck_assert(kt_hash_eq(&got, &want));
				checked++;
			}
		}
	}
	/* Version 1 of a key value, and the longest label. */
	ck_assert_int_eq(kt_commit(opening, label, KT_LABEL_MAX, 1, &vs[0],
	                     &got),
	    KT_OK);
	reference(opening, label, KT_LABEL_MAX, 1, &vs[0], &want);
	ck_assert(kt_hash_eq(&got, &want));
	ck_assert_uint_eq(checked, 7 * 6 * 6);
}
END_TEST

/*
 * Values that a plain concatenation would confuse: the length prefixes put
 * every field boundary into the hash input.
 */
START_TEST(test_commit_injective)
{
	static const uint8_t k3[3] = { 1, 2, 3 };
	struct kt_value a, b;
	struct kt_hash ca, cb;

	/* label "ab" + key type "c" vs label "a" + key type "bc" */
	a = key_value("c", k3, 1);
	b = key_value("bc", k3, 1);
	ck_assert_int_eq(kt_commit(opening, "ab", 2, 1, &a, &ca), KT_OK);
	ck_assert_int_eq(kt_commit(opening, "a", 1, 1, &b, &cb), KT_OK);
	ck_assert(!kt_hash_eq(&ca, &cb));

	/* key type "ab" + key 01 02 vs key type "a" + key 'b' 01 02 */
	{
		static const uint8_t kb[3] = { 'b', 1, 2 };

		a = key_value("ab", k3, 2);
		b = key_value("a", kb, 3);
		ck_assert_int_eq(kt_commit(opening, "x", 1, 1, &a, &ca), KT_OK);
		ck_assert_int_eq(kt_commit(opening, "x", 1, 1, &b, &cb), KT_OK);
		ck_assert(!kt_hash_eq(&ca, &cb));
	}

	/* The label's last byte against the version's first. */
	a = key_value("opaque", k3, 3);
	ck_assert_int_eq(kt_commit(opening, "ab", 2, 2, &a, &ca), KT_OK);
	ck_assert_int_eq(kt_commit(opening, "ab\0", 3, 2, &a, &cb), KT_OK);
	ck_assert(!kt_hash_eq(&ca, &cb));

	/* A revocation against a key whose fields would spell the same. */
	a = revoke_value();
	ck_assert_int_eq(kt_commit(opening, "x", 1, 2, &a, &ca), KT_OK);
	b = key_value("opaque", k3, 1);
	ck_assert_int_eq(kt_commit(opening, "x", 1, 2, &b, &cb), KT_OK);
	ck_assert(!kt_hash_eq(&ca, &cb));

	/* The same value for two versions and two labels. */
	a = key_value("ed25519", ed_key, 32);
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 1, &a, &ca),
	    KT_OK);
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 2, &a, &cb),
	    KT_OK);
	ck_assert(!kt_hash_eq(&ca, &cb));
	ck_assert_int_eq(kt_commit(opening, "bob", 3, 1, &a, &cb), KT_OK);
	ck_assert(!kt_hash_eq(&ca, &cb));
}
END_TEST

/* The label's bytes are hashed as given: no case folding, no UTF-8 check. */
START_TEST(test_commit_label_as_given)
{
	struct kt_value v = key_value("ed25519", ed_key, 32);
	struct kt_hash a, b;

	ck_assert_int_eq(kt_commit(opening, "Alice", 5, 1, &v, &a), KT_OK);
	ck_assert_int_eq(kt_commit(opening, "alice", 5, 1, &v, &b), KT_OK);
	ck_assert(!kt_hash_eq(&a, &b));
	ck_assert_int_eq(kt_commit(opening, "\xff\x00", 2, 1, &v, &a), KT_OK);
	reference(opening, "\xff\x00", 2, 1, &v, &b);
	ck_assert(kt_hash_eq(&a, &b));
}
END_TEST

START_TEST(test_commit_invalid)
{
	char label[KT_LABEL_MAX + 1];
	struct kt_value v, base = key_value("ed25519", ed_key, 32);
	struct kt_hash out, untouched, plain;
	const char *l;
	size_t ll;
	uint64_t ver;
	int cases = 0;

	memset(label, 'l', sizeof(label));
	memset(untouched.b, 0xee, sizeof(untouched.b));
#define BAD(stmt) \
	do { \
		v = base; \
		l = ALICE; \
		ll = ALICE_LEN; \
		ver = 2; \
		stmt; \
		out = untouched; \
		ck_assert_int_eq(kt_commit(opening, l, ll, ver, &v, &out), \
		    KT_ERR_MALFORMED); \
		ck_assert(kt_hash_eq(&out, &untouched)); \
		ck_assert_int_eq(kt_commit_verify(opening, l, ll, ver, &v, \
		                     &untouched), \
		    KT_ERR_MALFORMED); \
		cases++; \
	} while (0)

	BAD(l = NULL);
	BAD(ll = 0);
	BAD((l = label, ll = KT_LABEL_MAX + 1));
	BAD(ver = 0);
	BAD(v.kind = 0);
	BAD(v.kind = 3);
	BAD(v.kind = 0xff);
	BAD(v.key_type = NULL);
	BAD(v.key_type_len = 0);
	BAD(v.key_type = "ED25519");
	BAD((v.key_type = "ed_25519", v.key_type_len = 8));
	BAD((v.key_type = "abcdefghijklmnopq", v.key_type_len = 17));
	BAD(v.key = NULL);
	BAD(v.key_len = 0);
	BAD(v.key_len = 31);
	BAD(v.key_len = 33);
	BAD((v.key_type = "x25519", v.key_type_len = 6, v.key_len = 65));
	BAD((v.key_type = "p256", v.key_type_len = 4, v.key = p256_key,
	    v.key_len = 64));
	/* p256 must be uncompressed SEC1: first byte 0x04 */
	BAD((v.key_type = "p256", v.key_type_len = 4, v.key = big_key,
	    v.key_len = 65));
	BAD((v.key_type = "opaque", v.key_type_len = 6, v.key = big_key,
	    v.key_len = KT_KEY_MAX + 1));
	base = revoke_value();
	BAD(ver = 1);
	BAD(ver = 0);
	BAD((v.key_type = "ed25519", v.key_type_len = 7));
	BAD((v.key = ed_key, v.key_len = 32));
	BAD(v.key_type_len = 1);
	BAD(v.key_len = 1);
#undef BAD
	ck_assert_int_eq(cases, 26);

	/* Revocations ignore the key pointers when the lengths are 0. */
	v = revoke_value();
	v.key_type = "ed25519";
	v.key = ed_key;
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 3, &v, &out),
	    KT_OK);
	v = base;
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 3, &v, &plain),
	    KT_OK);
	ck_assert(kt_hash_eq(&out, &plain));

	v = key_value("ed25519", ed_key, 32);
	ck_assert_int_eq(kt_commit(NULL, ALICE, ALICE_LEN, 1, &v, &out),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 1, NULL, &out),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 1, &v, NULL),
	    KT_ERR_MALFORMED);
	/* The bounds themselves are fine. */
	ck_assert_int_eq(kt_commit(opening, label, KT_LABEL_MAX, 1, &v, &out),
	    KT_OK);
	ck_assert_int_eq(kt_commit(opening, "a", 1, UINT64_MAX, &v, &out),
	    KT_OK);
}
END_TEST

/* ---- kt_commit_verify ---------------------------------------------------- */

/* A fixture every verify test starts from: alice, version 2, ed25519. */
static struct kt_value good_v;
static struct kt_hash good_c;

static void
make_good(void)
{
	good_v = key_value("ed25519", ed_key, 32);
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 2, &good_v,
	                     &good_c),
	    KT_OK);
}

START_TEST(test_verify_ok)
{
	struct kt_value r = revoke_value();
	struct kt_hash c;

	make_good();
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &good_v,
	                     &good_c),
	    KT_OK);
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 3, &r, &c),
	    KT_OK);
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 3, &r, &c),
	    KT_OK);
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &good_v,
	                     NULL),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_commit_verify(NULL, ALICE, ALICE_LEN, 2, &good_v,
	                     &good_c),
	    KT_ERR_MALFORMED);
}
END_TEST

/* Every single-bit change of the opening is refused. */
START_TEST(test_verify_opening_bits)
{
	uint8_t op[KT_OPENING_LEN];
	size_t bit;

	make_good();
	for (bit = 0; bit < 8 * sizeof(op); bit++) {
		memcpy(op, opening, sizeof(op));
		op[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(kt_commit_verify(op, ALICE, ALICE_LEN, 2, &good_v,
		                  &good_c) == KT_ERR_VERIFY,
		    "opening bit %zu", bit);
	}
}
END_TEST

/* Every single-bit change of the commitment is refused. */
START_TEST(test_verify_commitment_bits)
{
	struct kt_hash c;
	size_t bit;

	make_good();
	for (bit = 0; bit < 8 * sizeof(c.b); bit++) {
		c = good_c;
		c.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(kt_commit_verify(opening, ALICE, ALICE_LEN, 2,
		                  &good_v, &c) == KT_ERR_VERIFY,
		    "commitment bit %zu", bit);
	}
}
END_TEST

START_TEST(test_verify_label)
{
	char l[ALICE_LEN + 1];
	size_t bit;

	make_good();
	/* Every bit of every label byte (labels are not validated here). */
	for (bit = 0; bit < 8 * ALICE_LEN; bit++) {
		memcpy(l, ALICE, ALICE_LEN);
		l[bit / 8] = (char)(l[bit / 8] ^ (1 << (bit % 8)));
		ck_assert_msg(kt_commit_verify(opening, l, ALICE_LEN, 2,
		                  &good_v, &good_c) == KT_ERR_VERIFY,
		    "label bit %zu", bit);
	}
	/* Shorter and longer labels. */
	memcpy(l, ALICE "m", ALICE_LEN + 1);
	ck_assert_int_eq(kt_commit_verify(opening, l, ALICE_LEN - 1, 2, &good_v,
	                     &good_c),
	    KT_ERR_VERIFY);
	ck_assert_int_eq(kt_commit_verify(opening, l, ALICE_LEN + 1, 2, &good_v,
	                     &good_c),
	    KT_ERR_VERIFY);
	ck_assert_int_eq(kt_commit_verify(opening, "bob@example.com", 15, 2,
	                     &good_v, &good_c),
	    KT_ERR_VERIFY);
}
END_TEST

START_TEST(test_verify_version)
{
	size_t bit;

	make_good();
	/* Version 2 with one bit flipped: 0 (bit 1) is malformed, the rest
	 * are other versions. */
	for (bit = 0; bit < 64; bit++) {
		uint64_t ver = 2 ^ ((uint64_t)1 << bit);

		ck_assert_msg(kt_commit_verify(opening, ALICE, ALICE_LEN, ver,
		                  &good_v, &good_c) ==
		        (ver == 0 ? KT_ERR_MALFORMED : KT_ERR_VERIFY),
		    "version bit %zu", bit);
	}
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, UINT64_MAX,
	                     &good_v, &good_c),
	    KT_ERR_VERIFY);
}
END_TEST

START_TEST(test_verify_kind_and_type)
{
	struct kt_value v;

	make_good();
	/* A revocation of the same label and version. */
	v = revoke_value();
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &v,
	                     &good_c),
	    KT_ERR_VERIFY);
	/* The same 32 key bytes under another key type. */
	v = key_value("x25519", ed_key, 32);
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &v,
	                     &good_c),
	    KT_ERR_VERIFY);
	v = key_value("ed25518", ed_key, 32);
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &v,
	                     &good_c),
	    KT_ERR_VERIFY);
	v = key_value("opaque", ed_key, 32);
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &v,
	                     &good_c),
	    KT_ERR_VERIFY);
}
END_TEST

/* Every single-bit change of the key is refused. */
START_TEST(test_verify_key_bits)
{
	uint8_t k[32];
	struct kt_value v;
	size_t bit;

	make_good();
	for (bit = 0; bit < 8 * sizeof(k); bit++) {
		memcpy(k, ed_key, sizeof(k));
		k[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		v = key_value("ed25519", k, sizeof(k));
		ck_assert_msg(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &v,
		                  &good_c) == KT_ERR_VERIFY,
		    "key bit %zu", bit);
	}
	/* A shorter opaque key is another value too. */
	v = key_value("opaque", ed_key, 31);
	ck_assert_int_eq(kt_commit(opening, ALICE, ALICE_LEN, 2, &v, &good_c),
	    KT_OK);
	v.key_len = 32;
	ck_assert_int_eq(kt_commit_verify(opening, ALICE, ALICE_LEN, 2, &v,
	                     &good_c),
	    KT_ERR_VERIFY);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("commit");

	init_values();
	kt_test_case(s, "kt_commit", 0, test_commit_known_answers,
	    test_commit_readme_inputs, test_readme_quotes_example,
	    test_commit_matches_layout, test_commit_injective,
	    test_commit_label_as_given, test_commit_invalid, NULL);
	kt_test_case(s, "kt_commit_verify", 0, test_verify_ok,
	    test_verify_opening_bits, test_verify_commitment_bits,
	    test_verify_label, test_verify_version, test_verify_kind_and_type,
	    test_verify_key_bits, NULL);
	return kt_test_run(s);
}
