/*
 * label_domain.c: the canonical form of an e-mail domain (see
 * label_internal.h; the rule is proto/README.md, "Labels", domain steps).
 *
 * Two implementations must agree: libidn2 (IDNA2008 lookup, RFC 5891 §5,
 * after UTS #46 non-transitional mapping) gives the canonical A-label form,
 * and ICU's UTS #46 (with STD3 rules, CheckBidi, CheckJoiners, and
 * CONTEXTO) must accept the same input and give the same bytes. Each
 * catches what the other lets through: libidn2 2.3.3 accepts U+00B7 outside
 * "l·l" and, without STD3, "≠"; ICU knows nothing of IDNA2008's
 * disallowed symbols. Then this file's own checks (LDH, lengths, labels),
 * and for each A-label: the code point rule on its U-label, the round trip
 * U-label -> A-label, and the UTS #39 spoof checks.
 */
#include <string.h>

#include <idn2.h>
#include <unicode/uidna.h>

#include "kt/label.h"
#include "label_internal.h"

#if IDN2_VERSION_NUMBER < 0x02030003
#error "kt's label rule needs libidn2 >= 2.3.3 (its IDNA2008 tables)"
#endif

/*
 * Not IDN2_USE_STD3_ASCII_RULES: with it, libidn2 2.3.3 (and 2.3.8 still)
 * deletes disallowed_STD3_* characters instead of refusing them ("a_b"
 * becomes "ab", "exa mple" "example"). STD3 is applied after mapping
 * instead, as UTS #46 itself does since Unicode 16: ldh_check below and
 * ICU's UIDNA_USE_STD3_RULES.
 */
#define IDN2_FLAGS (IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT)
#define UTS46_OPTIONS \
	(UIDNA_USE_STD3_RULES | UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | \
	    UIDNA_CHECK_CONTEXTO | UIDNA_NONTRANSITIONAL_TO_ASCII | \
	    UIDNA_NONTRANSITIONAL_TO_UNICODE)
#define LABEL_MAX 63

static const char no_memory[] = "out of memory";

/* ---- libidn2 ------------------------------------------------------------ */

/* The sentence for a libidn2 error other than IDN2_MALLOC. */
static const char *
idn2_refusal(int rc)
{
	switch (rc) {
	case IDN2_TOO_BIG_DOMAIN:
		return "e-mail domain is longer than 253 characters";
	case IDN2_TOO_BIG_LABEL:
		return "e-mail domain has a label longer than 63 characters";
	case IDN2_DISALLOWED:
	case IDN2_UNASSIGNED:
		return "e-mail domain has a character IDNA2008 disallows "
		       "(RFC 5892)";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTO_NO_RULE:
		return "e-mail domain breaks an IDNA2008 contextual rule "
		       "(RFC 5892 appendix A)";
	case IDN2_BIDI:
		return "e-mail domain breaks the IDNA bidi rule (RFC 5893)";
	case IDN2_2HYPHEN:
		return "e-mail domain label has '--' in positions 3 and 4";
	case IDN2_HYPHEN_STARTEND:
		return "e-mail domain label starts or ends with '-'";
	case IDN2_LEADING_COMBINING:
		return "e-mail domain label starts with a combining mark";
	case IDN2_PUNYCODE_BAD_INPUT:
	case IDN2_PUNYCODE_BIG_OUTPUT:
	case IDN2_PUNYCODE_OVERFLOW:
	case IDN2_INVALID_ALABEL:
	case IDN2_UALABEL_MISMATCH:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
	case IDN2_INVALID_NONTRANSITIONAL:
	case IDN2_NOT_NFC:
		return "e-mail domain has an invalid A-label (xn--)";
	default:
		return "e-mail domain is refused by IDNA2008 processing";
	}
}

/* libidn2's lookup of the NUL-terminated s into *a (idn2_free it). */
static kt_err
lookup(const char *s, uint8_t **a, const char **why)
{
	int rc = idn2_lookup_u8((const uint8_t *)s, a, IDN2_FLAGS);

	if (rc == IDN2_OK)
		return KT_OK;
	*a = NULL;
	if (rc == IDN2_MALLOC) {
		*why = no_memory;
		return KT_ERR_NOMEM;
	}
	*why = idn2_refusal(rc);
	return KT_ERR_MALFORMED;
}

/* ---- the A-label form --------------------------------------------------- */

static int
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The sentence for one label l (n bytes) of the A-label form, or NULL. */
static const char *
label_refusal(const char *l, size_t n)
{
	if (n == 0)
		return "e-mail domain has an empty label";
	if (n > LABEL_MAX)
		return "e-mail domain has a label longer than 63 characters";
	for (size_t i = 0; i < n; i++)
		if (!is_ldh(l[i]))
			return "e-mail domain has a character other than "
			       "letters, digits and '-' (STD3 rules)";
	if (l[0] == '-' || l[n - 1] == '-')
		return "e-mail domain label starts or ends with '-'";
	/* RFC 5891 §4.2.3.1: "??--" is reserved, "xn--" is an A-label. */
	if (n >= 4 && l[2] == '-' && l[3] == '-' &&
	    !(l[0] == 'x' && l[1] == 'n'))
		return "e-mail domain label has '--' in positions 3 and 4";
	return NULL;
}

/*
 * The structure of a's A-label form (n bytes, not necessarily
 * NUL-terminated): what libidn2 leaves to its
 * caller (empty labels, a final dot, STD3) and kt's own rules (two labels
 * at least, a last label that is not all digits). NULL if it holds.
 */
static const char *
ldh_check(const char *a, size_t n)
{
	size_t start = 0, labels = 0, digits = 1;

	if (n > KT_LABEL_DOMAIN_MAX)
		return "e-mail domain is longer than 253 characters";
	if (n > 0 && a[n - 1] == '.')
		return "e-mail domain ends with '.'";
	for (size_t i = 0; i <= n; i++) {
		const char *why;

		if (i < n && a[i] != '.')
			continue;
		why = label_refusal(a + start, i - start);
		if (why != NULL)
			return why;
		labels++;
		/* Bounded by the label: a need not be NUL-terminated. */
		digits = 1;
		for (size_t k = start; k < i; k++)
			digits &= a[k] >= '0' && a[k] <= '9';
		start = i + 1;
	}
	if (labels < 2)
		return "e-mail domain has a single label (a '.' is needed)";
	if (digits)
		return "e-mail domain's last label is all digits (an IP "
		       "address is not a domain)";
	return NULL;
}

/* ---- ICU's UTS #46 ------------------------------------------------------ */

static const char *
uts46_refusal(uint32_t errors)
{
	if (errors & UIDNA_ERROR_DISALLOWED)
		return "e-mail domain has a character UTS #46 disallows (STD3 "
		       "rules: letters, digits and '-' only)";
	if (errors & UIDNA_ERROR_BIDI)
		return "e-mail domain breaks the IDNA bidi rule (RFC 5893)";
	if (errors &
	    (UIDNA_ERROR_CONTEXTJ | UIDNA_ERROR_CONTEXTO_PUNCTUATION |
	        UIDNA_ERROR_CONTEXTO_DIGITS))
		return "e-mail domain breaks an IDNA2008 contextual rule "
		       "(RFC 5892 appendix A)";
	if (errors & (UIDNA_ERROR_PUNYCODE | UIDNA_ERROR_INVALID_ACE_LABEL))
		return "e-mail domain has an invalid A-label (xn--)";
	if (errors & UIDNA_ERROR_LEADING_COMBINING_MARK)
		return "e-mail domain label starts with a combining mark";
	return "e-mail domain is refused by UTS #46 processing";
}

/*
 * ICU's UTS #46 ToASCII of the input (len bytes) must succeed without
 * errors and give a (n bytes) exactly.
 */
static kt_err
uts46_agree(const char *in, size_t len, const char *a, size_t n,
    const char **why)
{
	UErrorCode st = U_ZERO_ERROR;
	UIDNAInfo info = UIDNA_INFO_INITIALIZER;
	char o[KT_LABEL_DOMAIN_MAX + 1];
	UIDNA *idna;
	int32_t on;

	idna = uidna_openUTS46(UTS46_OPTIONS, &st);
	if (U_FAILURE(st)) {
		uidna_close(idna);
		goto icu_failed;
	}
	on = uidna_nameToASCII_UTF8(idna, in, (int32_t)len, o,
	    (int32_t)sizeof(o), &info, &st);
	uidna_close(idna);
	if (st == U_BUFFER_OVERFLOW_ERROR ||
	    st == U_STRING_NOT_TERMINATED_WARNING)
		goto differ; /* longer than a, which fits */
	if (U_FAILURE(st))
		goto icu_failed;
	if (info.errors != 0) {
		*why = uts46_refusal(info.errors);
		return KT_ERR_MALFORMED;
	}
	if ((size_t)on != n || memcmp(o, a, n) != 0)
		goto differ;
	return KT_OK;
differ:
	*why = "e-mail domain is processed differently by IDNA2008 "
	       "(libidn2) and UTS #46 (ICU)";
	return KT_ERR_MALFORMED;
icu_failed:
	if (st == U_MEMORY_ALLOCATION_ERROR) {
		*why = no_memory;
		return KT_ERR_NOMEM;
	}
	*why = "Unicode data (ICU) failed; the installation is broken";
	return KT_ERR_INTERNAL;
}

/* ---- U-labels ----------------------------------------------------------- */

kt_err
kt_label_domain_unicode(const char *domain, size_t len, char *out, size_t cap,
    size_t *out_len)
{
	char a[KT_LABEL_DOMAIN_MAX + 1];
	char *u = NULL;
	size_t n;
	int rc;

	*out_len = 0;
	if (cap > 0)
		out[0] = '\0';
	if (len > KT_LABEL_DOMAIN_MAX || memchr(domain, '\0', len) != NULL)
		return KT_ERR_MALFORMED;
	memcpy(a, domain, len);
	a[len] = '\0';
	rc = idn2_to_unicode_8z8z(a, &u, 0);
	if (rc == IDN2_MALLOC)
		return KT_ERR_NOMEM;
	if (rc != IDN2_OK)
		return KT_ERR_MALFORMED;
	n = strlen(u);
	if (n >= cap) {
		idn2_free(u);
		return KT_ERR_TOO_LARGE;
	}
	memcpy(out, u, n + 1);
	*out_len = n;
	idn2_free(u);
	return KT_OK;
}

/*
 * For a canonical A-label form a (n bytes) with at least one xn-- label:
 * its Unicode form passes the code point rule, is the input that gives
 * back a (so one domain has one canonical form however it is written), and
 * each of its U-labels passes the UTS #39 checks.
 */
static kt_err
ulabels_check(const char *a, size_t n, const char **why)
{
	char u[KT_LABEL_DOMAIN_UNICODE_MAX + 1];
	uint8_t *back = NULL;
	size_t un, as = 0, us = 0;
	kt_err err;

	err = kt_label_domain_unicode(a, n, u, sizeof(u), &un);
	if (err == KT_ERR_NOMEM) {
		*why = no_memory;
		return err;
	}
	if (err != KT_OK) {
		*why = "e-mail domain has an invalid A-label (xn--)";
		return KT_ERR_MALFORMED;
	}
	*why = kt_label_unicode_scan(u, un);
	if (*why != NULL)
		return KT_ERR_MALFORMED;
	err = lookup(u, &back, why);
	if (err == KT_OK && strcmp((const char *)back, a) != 0) {
		*why = "e-mail domain has an A-label that is not the "
		       "canonical form of its Unicode label";
		err = KT_ERR_MALFORMED;
	}
	idn2_free(back);
	/* Labels correspond one to one: neither form has a '.' in a label. */
	while (err == KT_OK && as <= n && us <= un) {
		size_t al = strcspn(a + as, "."), ul = strcspn(u + us, ".");

		/* The last label (the TLD) is exempt from the ASCII
		 * confusable test: IDN TLDs such as "рус" are delegated
		 * only after ICANN's own confusability review. */
		if (al >= 4 && memcmp(a + as, "xn--", 4) == 0)
			err = kt_label_unicode_spoof_check(u + us, ul,
			    as + al < n, why);
		as += al + 1;
		us += ul + 1;
	}
	return err;
}

/* ---- the domain --------------------------------------------------------- */

/* 1 if the UTF-8 at in (len bytes) holds U+1E9E (E1 BA 9E). */
static int
has_capital_sharp_s(const char *in, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++)
		if (memcmp(in + i, "\xe1\xba\x9e", 3) == 0)
			return 1;
	return 0;
}

/* 1 if some label of the NUL-terminated domain a starts with "xn--". */
static int
has_alabel(const char *a)
{
	for (const char *l = a;; l++) {
		if (strncmp(l, "xn--", 4) == 0)
			return 1;
		l = strchr(l, '.');
		if (l == NULL)
			return 0;
	}
}

/*
 * 1 if in[0..len) holds only lower-case letters, digits, '-' and '.' and no
 * label starts with "xn--": UTS #46 maps such a domain to itself (every
 * character is valid and already mapped, no bidi or contextual rule
 * applies), so its canonical form is itself if kt's structure rules hold.
 */
static int
plain_ldh(const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '-' || c == '.'))
			return 0;
		if ((i == 0 || in[i - 1] == '.') && len - i >= 4 &&
		    memcmp(in + i, "xn--", 4) == 0)
			return 0;
	}
	return 1;
}

kt_err
kt_label_domain_canonical(const char *in, size_t len,
    char out[KT_LABEL_DOMAIN_MAX + 1], size_t *out_len, const char **why)
{
	/* Most addresses: about 30 times cheaper than libidn2's lookup. */
	if (len > 0 && len <= KT_LABEL_DOMAIN_MAX && plain_ldh(in, len) &&
	    ldh_check(in, len) == NULL) {
		memcpy(out, in, len);
		out[len] = '\0';
		*out_len = len;
		return KT_OK;
	}
	return kt_label_domain_canonical_full(in, len, out, out_len, why);
}

kt_err
kt_label_domain_canonical_full(const char *in, size_t len,
    char out[KT_LABEL_DOMAIN_MAX + 1], size_t *out_len, const char **why)
{
	char s[KT_LABEL_INPUT_MAX + 1];
	uint8_t *a = NULL;
	size_t n = 0;
	kt_err err;

	*out_len = 0;
	out[0] = '\0';
	if (len == 0) {
		*why = "e-mail domain is empty";
		return KT_ERR_MALFORMED;
	}
	if (len > KT_LABEL_INPUT_MAX || memchr(in, '\0', len) != NULL) {
		*why = "label has a control character";
		return KT_ERR_MALFORMED;
	}
	/* Built against 2.3.3's tables; refuse to run on an older library. */
	if (idn2_check_version("2.3.3") == NULL) {
		*why = "libidn2 is older than 2.3.3; the installation is "
		       "broken";
		return KT_ERR_INTERNAL;
	}
	/* UTS #46 maps U+1E9E to "ss" up to Unicode 15.0 and to "ß" since
	 * 15.1: a library upgrade would move the label. */
	if (has_capital_sharp_s(in, len)) {
		*why = "e-mail domain has capital sharp s (U+1E9E), whose UTS "
		       "#46 mapping changed in Unicode 15.1";
		return KT_ERR_MALFORMED;
	}
	memcpy(s, in, len);
	s[len] = '\0';
	err = lookup(s, &a, why);
	if (err != KT_OK)
		goto out;
	n = strlen((const char *)a);
	*why = ldh_check((const char *)a, n);
	if (*why != NULL) {
		err = KT_ERR_MALFORMED;
		goto out;
	}
	err = uts46_agree(in, len, (const char *)a, n, why);
	if (err != KT_OK)
		goto out;
	if (has_alabel((const char *)a)) {
		err = ulabels_check((const char *)a, n, why);
		if (err != KT_OK)
			goto out;
	}
	memcpy(out, a, n + 1);
	*out_len = n;
out:
	idn2_free(a);
	return err;
}
