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
 * The next line of [*p, end) without its '\n' in *line, *len, and *p moved
 * past the '\n'; 0 (nothing changed) if there is no '\n'. *p <= end.
 */
int kt_next_line(const char **p, const char *end, const char **line,
    size_t *len);

/* A decimal uint64 without sign or leading zeros (but "0"). 1 if valid. */
int kt_parse_u64(const char *p, size_t len, uint64_t *out);

/* Ed25519 signature of msg with s's secret key, whatever s's type. */
void kt_signer_sign_raw(const struct kt_signer *s, const uint8_t *msg,
    size_t len, uint8_t sig[KT_SIG_LEN]);

#endif /* KT_NOTE_INTERNAL_H */
