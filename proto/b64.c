/*
 * b64.c: canonical standard padded base64 over libsodium's constant-time
 * codec (no lookup tables indexed by secret bytes: signer keys pass here).
 */
#include <stdint.h>

#include <sodium.h>

#include "kt/b64.h"

/*
 * Comparison masks as in libsodium's codec: 0xff when true, 0 when false,
 * for operands 0..255, without branches (private keys' base64 passes here).
 */
#define GT(x, y) ((((unsigned)(y) - (unsigned)(x)) >> 8) & 0xffu)
#define GE(x, y) (GT(y, x) ^ 0xffu)
#define LE(x, y) GE(y, x)
#define EQ(x, y) \
	((((0u - ((unsigned)(x) ^ (unsigned)(y))) >> 8) & 0xffu) ^ 0xffu)

/* 0xff when c is in the standard alphabet, else 0. */
static unsigned
b64_member(unsigned char c)
{
	unsigned x = c;

	return (GE(x, 'A') & LE(x, 'Z')) | (GE(x, 'a') & LE(x, 'z')) |
	    (GE(x, '0') & LE(x, '9')) | EQ(x, '+') | EQ(x, '/');
}

/* The 6-bit value of a character that b64_member accepted. */
static unsigned
b64_value(unsigned char c)
{
	unsigned x = c;

	return (GE(x, 'A') & LE(x, 'Z') & (x - 'A')) |
	    (GE(x, 'a') & LE(x, 'z') & (x - ('a' - 26))) |
	    (GE(x, '0') & LE(x, '9') & (x + (52 - '0'))) | (EQ(x, '+') & 62u) |
	    (EQ(x, '/') & 63u);
}

kt_err
kt_b64_decode(const char *b64, size_t len, uint8_t *out, size_t cap,
    size_t *out_len)
{
	const char *end = NULL;
	size_t bin_len = 0, pad;
	unsigned unused_mask, bad = 0;

	if (out_len != NULL)
		*out_len = 0;
	if ((b64 == NULL && len != 0) || (out == NULL && cap != 0))
		return KT_ERR_MALFORMED;
	/* Padded base64 always has a length that is a multiple of 4. */
	if (len % 4 != 0)
		return KT_ERR_MALFORMED;
	if (len == 0)
		return KT_OK;
	pad = (b64[len - 1] == '=') +
	    (b64[len - 1] == '=' && b64[len - 2] == '=');
	if (len / 4 * 3 - pad > cap)
		return KT_ERR_TOO_LARGE;
	/*
	 * libsodium 1.0.18 decodes every byte 0x80..0xff as '/' (found by
	 * check_b64), so "AAA\x80" would be a second spelling of "AAA/":
	 * check the alphabet ourselves, without branching on the bytes.
	 */
	for (size_t i = 0; i < len - pad; i++)
		bad |= b64_member((unsigned char)b64[i]) ^ 0xffu;
	if (bad != 0)
		return KT_ERR_MALFORMED;
	/* ignore = NULL: no whitespace or other characters are skipped. */
	if (sodium_base642bin(out, cap, b64, len, NULL, &bin_len, &end,
	        sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + len || bin_len != len / 4 * 3 - pad)
		return KT_ERR_MALFORMED;
	/*
	 * Canonical (RFC 4648 §3.5): the bits of the last data character that
	 * fall past the data must be zero, else "AB==" and "AA==" would both
	 * spell 0x00. One '=' leaves 2 such bits (18 - 16), two leave 4
	 * (12 - 8). Checked here rather than trusting the libsodium version.
	 */
	unused_mask = pad == 1 ? 0x3u : pad == 2 ? 0xfu : 0u;
	if ((b64_value((unsigned char)b64[len - 1 - pad]) & unused_mask) != 0)
		return KT_ERR_MALFORMED;
	if (out_len != NULL)
		*out_len = bin_len;
	return KT_OK;
}

kt_err
kt_b64_encode(const uint8_t *in, size_t len, char *buf, size_t cap,
    size_t *out_len)
{
	size_t n;

	if (out_len != NULL)
		*out_len = 0;
	if (buf != NULL && cap > 0)
		buf[0] = '\0';
	if (in == NULL && len != 0)
		return KT_ERR_MALFORMED;
	/* KT_B64_LEN(len) + 1 must not wrap. */
	if (len > (SIZE_MAX - 4) / 4 * 3)
		return KT_ERR_TOO_LARGE;
	n = KT_B64_LEN(len);
	if (buf == NULL || cap < n + 1)
		return KT_ERR_TOO_LARGE;
	if (len == 0)
		return KT_OK;
	sodium_bin2base64(buf, cap, in, len, sodium_base64_VARIANT_ORIGINAL);
	if (out_len != NULL)
		*out_len = n;
	return KT_OK;
}
