/*
 * kt/json.h: the one JSON string escaper of kt (RFC 8259 section 7), for
 * code that writes JSON text without a DOM (kt-logd's answers and log
 * lines). Whatever bytes it is given, what it writes is valid JSON: a
 * string from a client (a request path, say) can never break an answer.
 */
#ifndef KT_JSON_H
#define KT_JSON_H

#include <stddef.h>

/* Most bytes one input character takes once escaped ("\u001f"). */
#define KT_JSON_CHAR_MAX 6

/*
 * Writes the JSON text of the character at p (n > 0 bytes left) into out
 * and returns its length (1..KT_JSON_CHAR_MAX); *used gets the input bytes
 * it stands for. '"' and '\\' are escaped; '\n', '\r', '\t', '\b' and '\f'
 * take their short forms; other control characters and DEL become \u00XX;
 * a well-formed UTF-8 sequence (RFC 3629: no overlong forms, surrogates or
 * code points above U+10FFFF) is copied; a byte that starts none stands
 * for itself alone and becomes \ufffd (U+FFFD, the replacement character).
 */
size_t kt_json_escape_char(const unsigned char *p, size_t n,
    char out[KT_JSON_CHAR_MAX], size_t *used);

/*
 * Writes s[0..n) escaped as above, without the surrounding quotes, into
 * out, which must hold KT_JSON_CHAR_MAX * n bytes; returns the bytes
 * written (no NUL is added).
 */
size_t kt_json_escape(const char *s, size_t n, char *out);

#endif /* KT_JSON_H */
