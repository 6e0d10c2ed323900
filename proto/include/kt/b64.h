/*
 * kt/b64.h: canonical standard base64 (RFC 4648 §4, alphabet A-Z a-z 0-9 + /,
 * '=' padding), the only spelling kt reads or writes: in note signatures,
 * keys, checkpoint roots, tlog-proof and witness bodies, and JSON fields.
 *
 * Decoding is strict so that every byte string has exactly one text form
 * (RFC 4648 §3.5): a signed or logged value cannot be re-spelled without
 * its bytes changing.
 */
#ifndef KT_B64_H
#define KT_B64_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"

/* Characters in the padded encoding of n bytes, without the NUL. A constant
 * expression for constant n; n must be below SIZE_MAX / 4 * 3. */
#define KT_B64_LEN(n) ((((size_t)(n) + 2) / 3) * 4)

/*
 * Decodes b64[0..len) (no NUL needed) into out[0..cap) and sets *out_len.
 * Accepts only: len a multiple of 4, characters of the standard alphabet,
 * '=' only as 1 or 2 final padding characters where the data needs them,
 * and zero unused bits in the last data character (canonical). Nothing is
 * skipped: whitespace, line breaks and the URL-safe '-' '_' are errors.
 * len 0 decodes to 0 bytes. out may be NULL only when cap is 0.
 * KT_ERR_TOO_LARGE when the decoded length would exceed cap (checked from
 * len and padding before any character is read), KT_ERR_MALFORMED for
 * anything else; on error out[0..cap) may hold partial output and *out_len
 * is 0.
 */
KT_MUST_CHECK kt_err kt_b64_decode(const char *b64, size_t len, uint8_t *out,
    size_t cap, size_t *out_len);

/*
 * Encodes in[0..len) into buf as padded standard base64 with a NUL, and
 * sets *out_len (optional) to KT_B64_LEN(len), the characters before it.
 * KT_ERR_TOO_LARGE when cap < KT_B64_LEN(len) + 1 (buf then holds "" when
 * cap > 0).
 */
KT_MUST_CHECK kt_err kt_b64_encode(const uint8_t *in, size_t len, char *buf,
    size_t cap, size_t *out_len);

#endif /* KT_B64_H */
