/*
 * label_internal.h: the parts of kt/label.h's rule that need Unicode data.
 * Private to proto/. Calls go one way: label.c (the rule's entry point and
 * its ASCII kinds) calls label_domain.c (e-mail domains: IDNA2008, UTS #46)
 * and label_unicode.c (code point properties, UTS #39); label_domain.c
 * calls label_unicode.c.
 */
#ifndef KT_LABEL_INTERNAL_H
#define KT_LABEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"

/* The longest canonical e-mail domain (RFC 1035: 255 octets on the wire,
 * 253 characters written without the final dot). */
#define KT_LABEL_DOMAIN_MAX 253
/* The longest Unicode form of a canonical domain: libidn2's decoder gives
 * at most 255 code points, each at most 4 bytes of UTF-8. */
#define KT_LABEL_DOMAIN_UNICODE_MAX 1020

/* ---- label_domain.c ----------------------------------------------------- */

/*
 * The canonical form of the e-mail domain at in (len bytes of well-formed
 * UTF-8 that passed kt_label_unicode_refusal, no '@'): lower-case A-labels,
 * at least two labels, no final dot (proto/README.md, "Labels"). On KT_OK
 * out holds it NUL-terminated, *out_len bytes. Otherwise KT_ERR_MALFORMED
 * with *why, KT_ERR_NOMEM or KT_ERR_INTERNAL (with *why too).
 */
kt_err kt_label_domain_canonical(const char *in, size_t len,
    char out[KT_LABEL_DOMAIN_MAX + 1], size_t *out_len, const char **why);

/*
 * The same without the fast path for a domain that is canonical already
 * (lower-case LDH labels, no A-label), which kt_label_domain_canonical
 * answers without libidn2 and ICU: the tests check the two always agree.
 */
kt_err kt_label_domain_canonical_full(const char *in, size_t len,
    char out[KT_LABEL_DOMAIN_MAX + 1], size_t *out_len, const char **why);

/*
 * The Unicode form of a canonical domain: each xn-- label decoded (RFC
 * 3492), the others copied. out (cap bytes) gets it NUL-terminated, *out_len
 * bytes. KT_ERR_MALFORMED if an A-label does not decode, KT_ERR_TOO_LARGE
 * if out is short, KT_ERR_NOMEM.
 */
kt_err kt_label_domain_unicode(const char *domain, size_t len, char *out,
    size_t cap, size_t *out_len);

/* ---- label_unicode.c ---------------------------------------------------- */

/*
 * NULL if code point cp may appear in a label as far as its properties go;
 * otherwise the sentence that refuses it: a control, a bidi control, a
 * default-ignorable (invisible) code point, a non-ASCII space, or a code
 * point unassigned (or a noncharacter) in Unicode KT_LABEL_UNICODE_MAJOR.
 * KT_LABEL_UNICODE_MINOR.
 */
const char *kt_label_unicode_refusal(uint32_t cp);

/*
 * The same over the len bytes at s, which must be well-formed UTF-8 (else
 * the sentence for malformed UTF-8).
 */
const char *kt_label_unicode_scan(const char *s, size_t len);

/*
 * UTS #39 checks of one U-label (len bytes of UTF-8): the identifier
 * profile, restriction level highly restrictive, invisible characters and
 * mixed numbers; and if vs_ascii, that its skeleton is not all ASCII (the
 * label would be confusable with an ASCII label, such as Cyrillic
 * "аррӏе" with "apple"). KT_OK, KT_ERR_MALFORMED with *why, KT_ERR_NOMEM
 * or KT_ERR_INTERNAL (with *why).
 */
kt_err kt_label_unicode_spoof_check(const char *label, size_t len, int vs_ascii,
    const char **why);

/*
 * The UTS #39 skeleton of the len bytes of UTF-8 at s into out (cap bytes),
 * NUL-terminated, *out_len bytes. KT_ERR_TOO_LARGE if out is short,
 * KT_ERR_NOMEM, KT_ERR_INTERNAL.
 */
kt_err kt_label_unicode_skeleton(const char *s, size_t len, char *out,
    size_t cap, size_t *out_len);

#endif /* KT_LABEL_INTERNAL_H */
