/*
 * note_internal.h: helpers shared by note.c, cosig.c, checkpoint.c and
 * tlogproof.c. Private to proto/: not part of the public contract.
 * All are defined in note.c.
 */
#ifndef KT_NOTE_INTERNAL_H
#define KT_NOTE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/note.h"

/*
 * 1 when p[0..len) is well-formed UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF) without ASCII control characters other than '\n'
 * (DEL included: C2SP signed-note forbids ASCII controls).
 */
int kt_text_chars_ok(const char *p, size_t len);

/*
 * 1 when t is valid note text: non-empty, kt_text_chars_ok, ends in '\n',
 * and its last line is not empty (otherwise the blank line that separates
 * text from signatures would be ambiguous).
 */
int kt_note_text_valid(const char *t, size_t len);

/*
 * Canonical standard padded base64 (RFC 4648 §4) into out[0..cap).
 * Rejects characters outside the alphabet, missing or extra padding and
 * non-zero trailing bits (re-encoding must give the input back).
 * KT_ERR_MALFORMED, or KT_ERR_TOO_LARGE when the result exceeds cap.
 */
KT_MUST_CHECK kt_err kt_b64_decode(const char *b64, size_t len, uint8_t *out,
    size_t cap, size_t *out_len);

/* A decimal uint64 without sign or leading zeros (but "0"). 1 if valid. */
int kt_parse_u64(const char *p, size_t len, uint64_t *out);

/* Ed25519 signature of msg with s's secret key, whatever s's type. */
void kt_signer_sign_raw(const struct kt_signer *s, const uint8_t *msg,
    size_t len, uint8_t sig[KT_SIG_LEN]);

#endif /* KT_NOTE_INTERNAL_H */
