/*
 * check_json.c: kt/json.h, the JSON string escaper. Every output, put
 * between quotes, must parse with jansson (an independent parser) to the
 * expected string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "harness/runner.h"
#include "kt/json.h"

/* Escapes s[0..n) into a heap buffer of exactly the documented size (so
 * ASan sees any overrun), quotes it, parses it back. */
static json_t *
round_trip(const char *s, size_t n, char *text, size_t cap)
{
	char *out = malloc(n * KT_JSON_CHAR_MAX + 1);
	size_t len;
	json_t *j;
	json_error_t err;

	ck_assert_ptr_nonnull(out);
	len = kt_json_escape(s, n, out);
	ck_assert_uint_le(len, n * KT_JSON_CHAR_MAX);
	ck_assert_uint_lt(len + 3, cap);
	text[0] = '"';
	memcpy(text + 1, out, len);
	text[len + 1] = '"';
	text[len + 2] = '\0';
	free(out);
	j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	ck_assert_msg(j != NULL, "not JSON: %s (%s)", text, err.text);
	ck_assert(json_is_string(j));
	return j;
}

static const struct {
	const char *in;
	size_t n;
	const char *escaped; /* exact output */
	const char *decoded; /* what a JSON parser reads back */
} cases[] = {
	{ "plain", 5, "plain", "plain" },
	{ "", 0, "", "" },
	{ "a\"b\\c", 5, "a\\\"b\\\\c", "a\"b\\c" },
	{ "\n\r\t\b\f", 5, "\\n\\r\\t\\b\\f", "\n\r\t\b\f" },
	{ "\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f", "\x01\x1f\x7f" },
	{ "a\0b", 3, "a\\u0000b", NULL },
	/* well-formed UTF-8 passes as it is: é, €, U+10FFFF */
	{ "\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf", 9,
	    "\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf",
	    "\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf" },
	/* each byte that starts no well-formed sequence: U+FFFD */
	{ "x\xff", 2, "x\\ufffd", "x\xef\xbf\xbd" },
	{ "\xc0\xaf", 2, "\\ufffd\\ufffd", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd",
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xe2\x82", 2, "\\ufffd\\ufffd", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\x80z", 2, "\\ufffdz", "\xef\xbf\xbdz" },
};

START_TEST(test_json_escape_table)
{
	char text[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j =
		    round_trip(cases[i].in, cases[i].n, text, sizeof(text));

		text[strlen(text) - 1] = '\0';
		ck_assert_msg(strcmp(text + 1, cases[i].escaped) == 0,
		    "case %zu: %s", i, text + 1);
		if (cases[i].decoded != NULL)
			ck_assert_str_eq(json_string_value(j),
			    cases[i].decoded);
		else
			ck_assert_mem_eq(json_string_value(j), cases[i].in,
			    cases[i].n);
		json_decref(j);
	}
}
END_TEST

/* Every 1- and 2-byte input, and 3-byte inputs over a spread of lead
 * bytes: always valid JSON, never more than the documented size. */
START_TEST(test_json_escape_any_bytes)
{
	char in[3], text[64];

	for (unsigned a = 0; a < 256; a++) {
		in[0] = (char)a;
		json_decref(round_trip(in, 1, text, sizeof(text)));
		for (unsigned b = 0; b < 256; b++) {
			in[1] = (char)b;
			json_decref(round_trip(in, 2, text, sizeof(text)));
			if (a < 0xc0 && a % 17 != 0)
				continue;
			for (unsigned c = 0; c < 256; c += 3) {
				in[2] = (char)c;
				json_decref(
				    round_trip(in, 3, text, sizeof(text)));
			}
		}
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("json");

	kt_test_case(s, "kt_json_escape", 0, test_json_escape_table,
	    test_json_escape_any_bytes, NULL);
	return kt_test_run(s);
}
