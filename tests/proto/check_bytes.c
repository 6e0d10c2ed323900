/*
 * check_bytes.c: big-endian helpers (kt/bytes.h).
 */
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "harness/runner.h"
#include "kt/bytes.h"

START_TEST(test_be64)
{
	uint8_t b[10];
	static const uint8_t want[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
		0xcd, 0xef };

	memset(b, 0xee, sizeof(b));
	kt_put_be64(b + 1, 0x0123456789abcdefu);
	ck_assert(memcmp(b + 1, want, 8) == 0);
	/* Exactly 8 bytes written. */
	ck_assert_uint_eq(b[0], 0xee);
	ck_assert_uint_eq(b[9], 0xee);
	ck_assert(kt_get_be64(want) == 0x0123456789abcdefu);
	kt_put_be64(b, UINT64_MAX);
	ck_assert(kt_get_be64(b) == UINT64_MAX);
	kt_put_be64(b, 0);
	ck_assert(kt_get_be64(b) == 0);
	for (unsigned i = 0; i < 64; i++) {
		uint64_t v = (uint64_t)1 << i;

		kt_put_be64(b, v);
		ck_assert(kt_get_be64(b) == v);
		ck_assert_uint_eq(b[7 - i / 8], 1u << (i % 8));
	}
}
END_TEST

START_TEST(test_be16)
{
	uint8_t b[4];

	memset(b, 0xee, sizeof(b));
	kt_put_be16(b + 1, 0xabcd);
	ck_assert_uint_eq(b[0], 0xee);
	ck_assert_uint_eq(b[1], 0xab);
	ck_assert_uint_eq(b[2], 0xcd);
	ck_assert_uint_eq(b[3], 0xee);
	ck_assert_uint_eq(kt_get_be16(b + 1), 0xabcd);
	for (uint32_t v = 0; v <= 0xffff; v++) {
		kt_put_be16(b, (uint16_t)v);
		ck_assert_uint_eq(kt_get_be16(b), v);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bytes");

	kt_test_case(s, "kt_put_be64/kt_get_be64", 0, test_be64, NULL);
	kt_test_case(s, "kt_put_be16/kt_get_be16", 0, test_be16, NULL);
	return kt_test_run(s);
}
