/*
 * check_fmt.c: checked formatting into fixed buffers (kt/fmt.h).
 */
#include <stdarg.h>
#include <string.h>
#include <wchar.h>

#include <check.h>

#include "kt/fmt.h"

/* A wide character the "C" locale cannot encode: %ls of it is an encoding
 * error (EILSEQ), the one way to make snprintf itself fail cheaply. */
static const wchar_t unencodable[] = { 0x263a, 0 };

static kt_err
vfmt_through(char *buf, size_t cap, const char *fmt, ...) KT_PRINTF(3, 4);
static void
vmsg_through(char *buf, size_t cap, const char *fmt, ...) KT_PRINTF(3, 4);

/* kt_vfmt and kt_vmsg, reached the way a function with a format of its own
 * reaches them. */
static kt_err
vfmt_through(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	kt_err e;

	va_start(ap, fmt);
	e = kt_vfmt(buf, cap, fmt, ap);
	va_end(ap);
	return e;
}

static void
vmsg_through(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kt_vmsg(buf, cap, fmt, ap);
	va_end(ap);
}

/* ---- kt_fmt ------------------------------------------------------------- */

START_TEST(test_fmt_fits)
{
	char buf[16];

	ck_assert_int_eq(kt_fmt(buf, sizeof(buf), "%s/%u", "dir", 42u), KT_OK);
	ck_assert_str_eq(buf, "dir/42");
	/* Exact fit: six characters and the NUL in 7 bytes. */
	ck_assert_int_eq(kt_fmt(buf, 7, "%s/%u", "dir", 42u), KT_OK);
	ck_assert_str_eq(buf, "dir/42");
	ck_assert_int_eq(kt_fmt(buf, 1, "%s", ""), KT_OK);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_fmt_too_large)
{
	char buf[16];

	/* One byte short: no room for the NUL. Nothing cut is left. */
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(kt_fmt(buf, 6, "%s/%u", "dir", 42u), KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(buf[1], 'i'); /* written by snprintf, past the NUL */
	ck_assert_int_eq(kt_fmt(buf, 1, "%c", 'a'), KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");
	/* cap 0: nothing fits and nothing is written. */
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(kt_fmt(buf, 0, "%s", "a"), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_int_eq(kt_fmt(NULL, 0, "%s", "a"), KT_ERR_TOO_LARGE);
}
END_TEST

START_TEST(test_fmt_format_error)
{
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(kt_fmt(buf, sizeof(buf), "a%lsb", unencodable),
	    KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_vfmt)
{
	char buf[8];

	ck_assert_int_eq(vfmt_through(buf, sizeof(buf), "%d-%d", 12, 34),
	    KT_OK);
	ck_assert_str_eq(buf, "12-34");
	ck_assert_int_eq(vfmt_through(buf, 5, "%d-%d", 12, 34),
	    KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(vfmt_through(buf, sizeof(buf), "%ls", unencodable),
	    KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* ---- kt_msg ------------------------------------------------------------- */

START_TEST(test_msg_fits)
{
	char buf[16];

	kt_msg(buf, sizeof(buf), "%s: %d", "open", 2);
	ck_assert_str_eq(buf, "open: 2");
	/* Exact fit: whole, no mark. */
	kt_msg(buf, 8, "%s: %d", "open", 2);
	ck_assert_str_eq(buf, "open: 2");
}
END_TEST

START_TEST(test_msg_cut)
{
	char buf[16];

	/* One byte short: the end becomes "...". */
	kt_msg(buf, 7, "%s: %d", "open", 2);
	ck_assert_str_eq(buf, "ope...");
	kt_msg(buf, sizeof(buf), "%s", "a long message that does not fit");
	ck_assert_str_eq(buf, "a long messa...");
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	/* Small buffers: as many dots as fit. */
	kt_msg(buf, 4, "%s", "abcd");
	ck_assert_str_eq(buf, "...");
	kt_msg(buf, 3, "%s", "abcd");
	ck_assert_str_eq(buf, "..");
	kt_msg(buf, 2, "%s", "abcd");
	ck_assert_str_eq(buf, ".");
	kt_msg(buf, 1, "%s", "abcd");
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_msg_utf8)
{
	char buf[8];

	/* cap 8 keeps at most 4 bytes before "...": here byte 4 is the
	 * second of U+00E9's two bytes, so the whole character goes. */
	kt_msg(buf, sizeof(buf), "abc\xc3\xa9xyz");
	ck_assert_str_eq(buf, "abc...");
	/* U+00E9 ends at byte 4: it stays. */
	kt_msg(buf, sizeof(buf), "ab\xc3\xa9xyzw");
	ck_assert_str_eq(buf, "ab\xc3\xa9...");
	/* A cut inside U+263A (three bytes): the whole character goes. */
	kt_msg(buf, sizeof(buf), "ab\xe2\x98\xbaxyz");
	ck_assert_str_eq(buf, "ab...");
}
END_TEST

START_TEST(test_msg_none)
{
	char buf[4] = "abc";

	/* cap 0 and NULL: nothing written, nothing read. */
	kt_msg(buf, 0, "%s", "x");
	ck_assert_str_eq(buf, "abc");
	kt_msg(NULL, 0, "%s", "x");
	kt_msg(NULL, 16, "%s", "x");
}
END_TEST

START_TEST(test_msg_format_error)
{
	char buf[16];

	memset(buf, 'x', sizeof(buf));
	kt_msg(buf, sizeof(buf), "a%lsb", unencodable);
	ck_assert_str_eq(buf, "...");
	kt_msg(buf, 2, "a%lsb", unencodable);
	ck_assert_str_eq(buf, ".");
}
END_TEST

START_TEST(test_vmsg)
{
	char buf[8];

	vmsg_through(buf, sizeof(buf), "%d-%d", 12, 34);
	ck_assert_str_eq(buf, "12-34");
	vmsg_through(buf, sizeof(buf), "%d-%d", 1234, 5678);
	ck_assert_str_eq(buf, "1234...");
	vmsg_through(buf, sizeof(buf), "%ls", unencodable);
	ck_assert_str_eq(buf, "...");
	vmsg_through(NULL, 0, "%d", 1);
}
END_TEST

START_TEST(test_msg_append)
{
	char buf[16] = "first";

	/* The idiom the header gives for adding to a message. */
	kt_msg(buf + strlen(buf), sizeof(buf) - strlen(buf), "; %s", "then");
	ck_assert_str_eq(buf, "first; then");
	kt_msg(buf + strlen(buf), sizeof(buf) - strlen(buf), "; %s", "more");
	ck_assert_str_eq(buf, "first; then;...");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("kt_fmt");
	tcase_add_test(tc, test_fmt_fits);
	tcase_add_test(tc, test_fmt_too_large);
	tcase_add_test(tc, test_fmt_format_error);
	suite_add_tcase(s, tc);
	tc = tcase_create("kt_vfmt");
	tcase_add_test(tc, test_vfmt);
	suite_add_tcase(s, tc);
	tc = tcase_create("kt_msg");
	tcase_add_test(tc, test_msg_fits);
	tcase_add_test(tc, test_msg_cut);
	tcase_add_test(tc, test_msg_utf8);
	tcase_add_test(tc, test_msg_none);
	tcase_add_test(tc, test_msg_format_error);
	tcase_add_test(tc, test_msg_append);
	suite_add_tcase(s, tc);
	tc = tcase_create("kt_vmsg");
	tcase_add_test(tc, test_vmsg);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
