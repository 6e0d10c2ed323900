/*
 * check_value.c: the rules on committed values, kt/commit.h: key types
 * (kt_key_type_valid) and the keys they name (kt_key_check). The
 * commitment itself is tested in check_commit.c.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/runner.h"
#include "kt/commit.h"

static uint8_t big_key[KT_KEY_MAX + 1];

static void
init_keys(void)
{
	size_t i;

	for (i = 0; i < sizeof(big_key); i++)
		big_key[i] = (uint8_t)(i * 7);
}

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

/* Every byte value as a one-byte type: exactly [a-z0-9-] is accepted. */
START_TEST(test_key_type_valid_bytes)
{
	unsigned c;

	for (c = 0; c < 256; c++) {
		char t[2] = { (char)c, 'a' };
		int want = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-';

		ck_assert_msg(kt_key_type_valid(t, 1) == want, "byte %u", c);
		ck_assert_msg(kt_key_type_valid(t, 2) == want, "byte %u", c);
	}
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
	ck_assert_int_eq(kt_key_check(NULL, 0, k, 3), KT_ERR_MALFORMED);
	/* Prefixes of fixed types are just other (opaque) types. */
	ck_assert_int_eq(kt_key_check("ed2551", 6, k, 3), KT_OK);
	ck_assert_int_eq(kt_key_check("p2566", 5, k, 3), KT_OK);
}
END_TEST

/* Each fixed-type key length is enforced, and only that length passes. */
START_TEST(test_key_check_lengths)
{
	static const struct {
		const char *kt;
		size_t want;
	} types[] = { { "ed25519", 32 }, { "x25519", 32 }, { "p256", 65 } };
	uint8_t key[101];
	size_t t, l;

	memset(key, 0x04, sizeof(key));
	for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
		for (l = 0; l <= 100; l++)
			ck_assert_msg(kt_key_check(types[t].kt,
			                  strlen(types[t].kt), key, l) ==
			        (l == types[t].want ? KT_OK : KT_ERR_MALFORMED),
			    "%s, %zu bytes", types[t].kt, l);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("value");

	init_keys();
	kt_test_case(s, "kt_key_type_valid", 0, test_key_type_valid,
	    test_key_type_valid_bytes, NULL);
	kt_test_case(s, "kt_key_check", 0, test_key_check,
	    test_key_check_lengths, NULL);
	return kt_test_run(s);
}
