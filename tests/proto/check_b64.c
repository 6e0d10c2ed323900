/*
 * check_b64.c: canonical standard padded base64 (kt/b64.h).
 * Reference: RFC 4648 §4 (alphabet, padding), §3.5 (canonical encoding),
 * §10 test vectors; libsodium's sodium_bin2base64 as an independent encoder.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "harness/exact.h"
#include "harness/runner.h"
#include "kt/b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decodes a heap copy of exactly len bytes, so ASan sees any over-read. */
static kt_err
dec(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	char *c = exact_copy(s, len);
	kt_err err = kt_b64_decode(c, len, out, cap, out_len);

	free(c);
	return err;
}

static kt_err
dec_str(const char *s, uint8_t *out, size_t cap, size_t *out_len)
{
	return dec(s, strlen(s), out, cap, out_len);
}

/* ---- KT_B64_LEN --------------------------------------------------------- */

START_TEST(test_b64_len)
{
	ck_assert_uint_eq(KT_B64_LEN(0), 0);
	ck_assert_uint_eq(KT_B64_LEN(1), 4);
	ck_assert_uint_eq(KT_B64_LEN(2), 4);
	ck_assert_uint_eq(KT_B64_LEN(3), 4);
	ck_assert_uint_eq(KT_B64_LEN(4), 8);
	ck_assert_uint_eq(KT_B64_LEN(32), 44);
	for (size_t n = 0; n < 1000; n++)
		ck_assert_uint_eq(KT_B64_LEN(n) + 1,
		    sodium_base64_encoded_len(n,
		        sodium_base64_VARIANT_ORIGINAL));
}
END_TEST

/* ---- kt_b64_encode ------------------------------------------------------ */

START_TEST(test_encode_rfc4648)
{
	/* RFC 4648 §10. */
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char buf[16];
	size_t n = 99;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(kt_b64_encode((const uint8_t *)v[i].in,
		                     strlen(v[i].in), buf, sizeof(buf), &n),
		    KT_OK);
		ck_assert_str_eq(buf, v[i].out);
		ck_assert_uint_eq(n, strlen(v[i].out));
	}
}
END_TEST

START_TEST(test_encode_matches_libsodium)
{
	uint8_t in[300];
	char mine[KT_B64_LEN(300) + 1], ref[KT_B64_LEN(300) + 1];
	size_t n;

	for (size_t len = 0; len <= sizeof(in); len++) {
		randombytes_buf(in, len);
		ck_assert_int_eq(kt_b64_encode(in, len, mine, sizeof(mine), &n),
		    KT_OK);
		sodium_bin2base64(ref, sizeof(ref), in, len,
		    sodium_base64_VARIANT_ORIGINAL);
		ck_assert_str_eq(mine, ref);
		ck_assert_uint_eq(n, KT_B64_LEN(len));
		ck_assert_uint_eq(strlen(mine), n);
	}
}
END_TEST

START_TEST(test_encode_cap)
{
	uint8_t in[7] = { 1, 2, 3, 4, 5, 6, 7 };
	char buf[13];
	size_t n = 99;

	/* 7 bytes need 12 characters and a NUL: 12 is one short. */
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(kt_b64_encode(in, 7, buf, 12, &n), KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(kt_b64_encode(in, 7, buf, 0, NULL), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_b64_encode(in, 7, NULL, 0, NULL), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_b64_encode(in, 1, buf, 4, NULL), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_b64_encode(in, 0, buf, 0, NULL), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_b64_encode(in, 0, buf, 1, &n), KT_OK);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(kt_b64_encode(in, 7, buf, 13, &n), KT_OK);
	ck_assert_str_eq(buf, "AQIDBAUGBw==");
	/* A length whose encoding cannot be counted in size_t. */
	ck_assert_int_eq(kt_b64_encode(in, SIZE_MAX / 4 * 3 + 1, buf,
	                     sizeof(buf), NULL),
	    KT_ERR_TOO_LARGE);
}
END_TEST

/* ---- kt_b64_decode ------------------------------------------------------ */

START_TEST(test_decode_round_trip)
{
	uint8_t in[300], out[300];
	char txt[KT_B64_LEN(300) + 1];
	size_t n, out_len;

	for (size_t len = 0; len <= sizeof(in); len++) {
		randombytes_buf(in, len);
		ck_assert_int_eq(kt_b64_encode(in, len, txt, sizeof(txt), &n),
		    KT_OK);
		/* Exact cap, and a larger one. */
		out_len = 999;
		ck_assert_int_eq(dec(txt, n, out, len, &out_len), KT_OK);
		ck_assert_uint_eq(out_len, len);
		ck_assert(memcmp(in, out, len) == 0);
		memset(out, 0, sizeof(out));
		ck_assert_int_eq(dec(txt, n, out, sizeof(out), &out_len),
		    KT_OK);
		ck_assert_uint_eq(out_len, len);
		ck_assert(memcmp(in, out, len) == 0);
		/* One byte short of the output. */
		if (len > 0)
			ck_assert_int_eq(dec(txt, n, out, len - 1, &out_len),
			    KT_ERR_TOO_LARGE);
	}
}
END_TEST

START_TEST(test_decode_rfc4648)
{
	uint8_t out[8];
	size_t n;

	ck_assert_int_eq(dec_str("", out, 0, &n), KT_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(kt_b64_decode(NULL, 0, NULL, 0, &n), KT_OK);
	ck_assert_int_eq(dec_str("Zm9vYmE=", out, sizeof(out), &n), KT_OK);
	ck_assert_uint_eq(n, 5);
	ck_assert(memcmp(out, "fooba", 5) == 0);
	ck_assert_int_eq(dec_str("Zm9vYg==", out, sizeof(out), &n), KT_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert(memcmp(out, "foob", 4) == 0);
}
END_TEST

/*
 * Every last data character other than the canonical one is rejected:
 * with "==" only values with low 4 bits zero are canonical (AQgw), with "="
 * only those with low 2 bits zero.
 */
START_TEST(test_decode_non_canonical)
{
	uint8_t out[8];
	char s[9];
	size_t n, ok2 = 0, ok1 = 0;

	for (unsigned v = 0; v < 64; v++) {
		/* One byte: "Q?==". */
		memcpy(s, "Q?==", 5);
		s[1] = alphabet[v];
		n = 99;
		if ((v & 0xf) == 0) {
			ck_assert_int_eq(dec_str(s, out, sizeof(out), &n),
			    KT_OK);
			ck_assert_uint_eq(n, 1);
			ck_assert_uint_eq(out[0], (16u << 2) | (v >> 4));
			ok2++;
		} else {
			ck_assert_msg(dec_str(s, out, sizeof(out), &n) ==
			        KT_ERR_MALFORMED,
			    "accepted %s", s);
			ck_assert_uint_eq(n, 0);
		}
		/* Two bytes: "AAA?=" after a full group. */
		memcpy(s, "AAAAAA?=", 9);
		s[6] = alphabet[v];
		if ((v & 0x3) == 0) {
			ck_assert_int_eq(dec_str(s, out, sizeof(out), &n),
			    KT_OK);
			ck_assert_uint_eq(n, 5);
			ok1++;
		} else {
			ck_assert_msg(dec_str(s, out, sizeof(out), &n) ==
			        KT_ERR_MALFORMED,
			    "accepted %s", s);
		}
	}
	ck_assert_uint_eq(ok2, 4);
	ck_assert_uint_eq(ok1, 16);
}
END_TEST

START_TEST(test_decode_bad_padding)
{
	static const char *bad[] = {
		"====",
		"A===",
		"AA=A",
		"A=AA",
		"=AAA",
		"AAA==AAA",
		"AA==AAAA",
		"AA==AA==",
		"AAAA====",
		"AAA=AAA=",
		"AA=\0",
		"AAAA=",
		/* Padding that the data does not need, or too little of it. */
		"AAA==",
		"AA",
		"AAA",
		"AA=",
		"AAAA==",
		"AAAAA===",
	};
	uint8_t out[16];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = i == 10 ? 4 : strlen(bad[i]);

		ck_assert_msg(dec(bad[i], len, out, sizeof(out), &n) ==
		        KT_ERR_MALFORMED,
		    "accepted \"%s\"", bad[i]);
	}
}
END_TEST

START_TEST(test_decode_bad_length)
{
	uint8_t out[16];
	size_t n;

	for (size_t len = 1; len <= 11; len++) {
		char s[12];

		if (len % 4 == 0)
			continue;
		memset(s, 'A', len);
		ck_assert_int_eq(dec(s, len, out, sizeof(out), &n),
		    KT_ERR_MALFORMED);
	}
	/* b64 NULL with a length. */
	ck_assert_int_eq(kt_b64_decode(NULL, 4, out, sizeof(out), &n),
	    KT_ERR_MALFORMED);
}
END_TEST

START_TEST(test_decode_alphabet)
{
	uint8_t out[8];
	char s[9];
	size_t n, accepted = 0;

	/* Every byte value in every position of a full 8-character input. */
	for (unsigned c = 0; c < 256; c++) {
		int in_alpha = c != 0 && strchr(alphabet, (int)c) != NULL;

		for (size_t pos = 0; pos < 8; pos++) {
			memcpy(s, "AAAAAAAA", 9);
			s[pos] = (char)c;
			if (in_alpha) {
				ck_assert_int_eq(dec(s, 8, out, sizeof(out),
				                     &n),
				    KT_OK);
				accepted++;
			} else if (c == '=' && pos == 7) {
				/* "AAAAAAA=": 5 zero bytes, canonical. */
				ck_assert_int_eq(dec(s, 8, out, sizeof(out),
				                     &n),
				    KT_OK);
				ck_assert_uint_eq(n, 5);
			} else {
				ck_assert_msg(dec(s, 8, out, sizeof(out), &n) ==
				        KT_ERR_MALFORMED,
				    "accepted byte %u at %zu", c, pos);
			}
		}
	}
	ck_assert_uint_eq(accepted, 64 * 8);
}
END_TEST

START_TEST(test_decode_whitespace)
{
	static const char *bad[] = {
		"Zm9v Yg==",
		"Zm9v\nYg==",
		"Zm9vYg==\n",
		" Zm9vYg=",
		"Zm9v\tYg=",
		"Zm9vYg=\r",
		"Zm9v\r\nYg==",
		"Zm9vYg= ",
		"Zm\n9v",
	};
	uint8_t out[16];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(dec_str(bad[i], out, sizeof(out), &n) ==
		        KT_ERR_MALFORMED,
		    "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_decode_urlsafe)
{
	uint8_t in[3] = { 0xfb, 0xff, 0xbf }, out[8];
	char url[8];
	size_t n;

	/* Standard "+/+/" is URL-safe "-_-_": only the former is accepted. */
	sodium_bin2base64(url, sizeof(url), in, 3,
	    sodium_base64_VARIANT_URLSAFE);
	ck_assert_str_eq(url, "-_-_");
	ck_assert_int_eq(dec_str(url, out, sizeof(out), &n), KT_ERR_MALFORMED);
	ck_assert_int_eq(dec_str("-AAA", out, sizeof(out), &n),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(dec_str("_AAA", out, sizeof(out), &n),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(dec_str("+/+/", out, sizeof(out), &n), KT_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert(memcmp(out, in, 3) == 0);
	/* Unpadded (URL-safe-no-padding style) input is rejected too. */
	ck_assert_int_eq(dec_str("Zm8", out, sizeof(out), &n),
	    KT_ERR_MALFORMED);
}
END_TEST

START_TEST(test_decode_cap)
{
	uint8_t out[32];
	size_t n = 99;

	/* Checked from the length before any character: junk of the wrong
	 * size is TOO_LARGE, and nothing is written. */
	memset(out, 0xee, sizeof(out));
	ck_assert_int_eq(dec_str("Zm9vYmFy", out, 5, &n), KT_ERR_TOO_LARGE);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(out[0], 0xee);
	ck_assert_int_eq(dec_str("Zm9vYmE=", out, 4, &n), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(dec_str("Zm9vYg==", out, 3, &n), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(dec_str("Zm9vYg==", out, 4, &n), KT_OK);
	ck_assert_int_eq(dec_str("Zg==", NULL, 0, &n), KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_b64_decode("Zg==", 4, NULL, 1, &n),
	    KT_ERR_MALFORMED);
	/* A long input: no limit beyond cap. */
	{
		size_t len = 100000;
		uint8_t *in = malloc(len), *back = malloc(len);
		char *txt = malloc(KT_B64_LEN(len) + 1);
		size_t tl;

		ck_assert(in != NULL && back != NULL && txt != NULL);
		randombytes_buf(in, len);
		ck_assert_int_eq(kt_b64_encode(in, len, txt,
		                     KT_B64_LEN(len) + 1, &tl),
		    KT_OK);
		ck_assert_int_eq(kt_b64_decode(txt, tl, back, len, &n), KT_OK);
		ck_assert_uint_eq(n, len);
		ck_assert(memcmp(in, back, len) == 0);
		ck_assert_int_eq(kt_b64_decode(txt, tl, back, len - 1, &n),
		    KT_ERR_TOO_LARGE);
		free(in);
		free(back);
		free(txt);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("b64");

	kt_test_case(s, "KT_B64_LEN", 0, test_b64_len, NULL);
	kt_test_case(s, "kt_b64_encode", 0, test_encode_rfc4648,
	    test_encode_matches_libsodium, test_encode_cap, NULL);
	kt_test_case(s, "kt_b64_decode", 0, test_decode_round_trip,
	    test_decode_rfc4648, test_decode_non_canonical,
	    test_decode_bad_padding, test_decode_bad_length,
	    test_decode_alphabet, test_decode_whitespace, test_decode_urlsafe,
	    test_decode_cap, NULL);
	return kt_test_run(s);
}
