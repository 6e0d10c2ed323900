/*
 * utf8_internal.h: the one strict UTF-8 decoder of proto/ (note text, key
 * names, entry labels). Private to proto/: not part of the public contract.
 */
#ifndef KT_UTF8_INTERNAL_H
#define KT_UTF8_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes one UTF-8 sequence at p (n >= 1 bytes available). Returns its
 * length and the code point in *cp, or 0 when malformed (RFC 3629 §4 table:
 * no overlongs, no surrogates, nothing above U+10FFFF) or cut short.
 */
size_t kt_utf8_next(const unsigned char *p, size_t n, uint32_t *cp);

#endif /* KT_UTF8_INTERNAL_H */
