/*
 * text_internal.h: the text rules shared by proto/'s line-based formats
 * (signed notes, checkpoints, tlog-proof). Private to proto/: not part of
 * the public contract. Defined in text.c, which calls only utf8.c.
 */
#ifndef KT_TEXT_INTERNAL_H
#define KT_TEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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
int kt_text_note_valid(const char *t, size_t len);

/*
 * The next line of [*p, end) without its '\n' in *line, *len, and *p moved
 * past the '\n'; 0 (nothing changed) if there is no '\n'. *p <= end.
 */
int kt_text_next_line(const char **p, const char *end, const char **line,
    size_t *len);

/* A decimal uint64 without sign or leading zeros (but "0"). 1 if valid. */
int kt_text_parse_u64(const char *p, size_t len, uint64_t *out);

#endif /* KT_TEXT_INTERNAL_H */
