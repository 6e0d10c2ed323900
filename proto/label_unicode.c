/*
 * label_unicode.c: the Unicode properties and UTS #39 checks of the label
 * rule (see label_internal.h; the rule is proto/README.md, "Labels").
 *
 * Every property comes from ICU: Default_Ignorable_Code_Point,
 * Bidi_Control, White_Space, General_Category, Age (UAX #44), and UTS #39's
 * identifier profile, restriction levels and confusables. The
 * USpoofChecker is made per call: uspoof_open plus its settings cost
 * ~0.7 µs, against ~10 µs for the IDNA processing of the label that needs
 * it, and a checker per call needs no shared state between threads.
 */
#include <unicode/uchar.h>
#include <unicode/uspoof.h>

#include "kt/label.h"
#include "label_internal.h"
#include "utf8_internal.h"

/* ---- code points -------------------------------------------------------- */

/* 1 if cp is unassigned or a noncharacter in the pinned Unicode version. */
static int
too_new(uint32_t cp)
{
	UVersionInfo age;

	if (u_charType((UChar32)cp) == U_UNASSIGNED)
		return 1; /* Cn: unassigned in ICU's version, or noncharacter */
	u_charAge((UChar32)cp, age);
	return age[0] > KT_LABEL_UNICODE_MAJOR ||
	    (age[0] == KT_LABEL_UNICODE_MAJOR &&
	        age[1] > KT_LABEL_UNICODE_MINOR);
}

const char *
kt_label_unicode_refusal(uint32_t cp)
{
	UChar32 c = (UChar32)cp;

	/* C0, DEL and C1: they can hide or rewrite text shown to a person. */
	if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
		return "label has a control character";
	if (cp < 0x80)
		return NULL;
	/* U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069. */
	if (u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL))
		return "label has a bidi control character (override, "
		       "embedding, isolate or mark)";
	/* ZWSP, ZWNJ, ZWJ, soft hyphen, word joiner, BOM, variation
	 * selectors...: UTS #46 would delete or keep them unseen. */
	if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
		return "label has an invisible character (zero-width, soft "
		       "hyphen, variation selector or other default-ignorable "
		       "code point)";
	if (u_isUWhiteSpace(c))
		return "label has a non-ASCII space";
	if (too_new(cp))
		return "label has a code point that is unassigned in Unicode "
		       "12.0 (kt's pinned version) or a noncharacter";
	return NULL;
}

const char *
kt_label_unicode_scan(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = kt_utf8_next(p + i, len - i, &cp);
		const char *why;

		if (n == 0)
			return "label is not well-formed UTF-8 (RFC 3629)";
		why = kt_label_unicode_refusal(cp);
		if (why != NULL)
			return why;
		i += n;
	}
	return NULL;
}

/* ---- UTS #39 ------------------------------------------------------------ */

static kt_err
icu_err(UErrorCode st, const char **why)
{
	if (st == U_MEMORY_ALLOCATION_ERROR) {
		*why = "out of memory";
		return KT_ERR_NOMEM;
	}
	*why = "Unicode data (ICU) failed; the installation is broken";
	return KT_ERR_INTERNAL;
}

/* 1 if the NUL-terminated s is all ASCII. */
static int
all_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/*
 * NULL, or the sentence refusing a U-label (len bytes of UTF-8) in which a
 * letter wears a mark that it looks the same with or without, which UTS #39
 * does not catch: COMBINING DOT ABOVE after a soft-dotted letter (i, j,
 * ...) or l (NFC "İ" lower-cased is "i" + U+0307, which shows as "i"), and
 * any combining mark after dotless ı or ȷ ("ı" + U+0307 is "i").
 */
static const char *
dotted_refusal(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t prev = 0, cp;

	for (size_t i = 0, n; i < len; i += n, prev = cp) {
		n = kt_utf8_next(p + i, len - i, &cp);
		if (n == 0)
			return "label is not well-formed UTF-8 (RFC 3629)";
		if (cp == 0x0307 &&
		    (prev == 'l' ||
		        u_hasBinaryProperty((UChar32)prev, UCHAR_SOFT_DOTTED)))
			return "e-mail domain has a dot above i, j or l (it "
			       "looks like the plain letter)";
		if ((prev == 0x0131 || prev == 0x0237) &&
		    u_charType((UChar32)cp) == U_NON_SPACING_MARK)
			return "e-mail domain has a mark on dotless i or j (it "
			       "looks like i or j)";
	}
	return NULL;
}

/* The sentence for uspoof_check2's result bits (not 0). */
static const char *
spoof_refusal(int32_t bad)
{
	if (bad & USPOOF_CHAR_LIMIT)
		return "e-mail domain has a character outside the UTS #39 "
		       "identifier profile (historic, technical or symbol)";
	if (bad & USPOOF_RESTRICTION_LEVEL)
		return "e-mail domain mixes scripts (UTS #39 highly "
		       "restrictive)";
	if (bad & USPOOF_INVISIBLE)
		return "e-mail domain repeats a combining mark (UTS #39 "
		       "invisible characters)";
	if (bad & USPOOF_MIXED_NUMBERS)
		return "e-mail domain mixes digits of different number "
		       "systems (UTS #39)";
	return "e-mail domain fails a UTS #39 spoof check";
}

kt_err
kt_label_unicode_spoof_check(const char *label, size_t len, int vs_ascii,
    const char **why)
{
	/* A U-label is at most 63 code points of the identifier profile,
	 * whose prototypes are a few characters long: 1024 bytes is ample,
	 * and a longer skeleton is not taken for an ASCII one. */
	char skel[1024];
	UErrorCode st = U_ZERO_ERROR;
	USpoofChecker *sc = NULL;
	int32_t bad;

	sc = uspoof_open(&st);
	if (U_FAILURE(st))
		goto failed;
	uspoof_setChecks(sc,
	    USPOOF_RESTRICTION_LEVEL | USPOOF_CHAR_LIMIT | USPOOF_INVISIBLE |
	        USPOOF_MIXED_NUMBERS,
	    &st);
	uspoof_setRestrictionLevel(sc, USPOOF_HIGHLY_RESTRICTIVE);
	/* The identifier profile: UTS #39 Identifier_Status=Allowed. */
	uspoof_setAllowedChars(sc, uspoof_getRecommendedSet(&st), &st);
	if (U_FAILURE(st))
		goto failed;
	bad = uspoof_check2UTF8(sc, label, (int32_t)len, NULL, &st);
	if (U_FAILURE(st))
		goto failed;
	if (bad != 0 || (*why = dotted_refusal(label, len)) != NULL) {
		uspoof_close(sc);
		if (bad != 0)
			*why = spoof_refusal(bad);
		return KT_ERR_MALFORMED;
	}
	if (vs_ascii) {
		uspoof_getSkeletonUTF8(sc, 0, label, (int32_t)len, skel,
		    (int32_t)sizeof(skel), &st);
		if (st == U_BUFFER_OVERFLOW_ERROR ||
		    st == U_STRING_NOT_TERMINATED_WARNING) {
			st = U_ZERO_ERROR; /* long, so not ASCII-like */
			skel[0] = '\x80';
			skel[1] = '\0';
		}
		if (U_FAILURE(st))
			goto failed;
		if (all_ascii(skel)) {
			uspoof_close(sc);
			*why =
			    "e-mail domain label is confusable with an ASCII "
			    "label (UTS #39 skeleton)";
			return KT_ERR_MALFORMED;
		}
	}
	uspoof_close(sc);
	return KT_OK;
failed:
	uspoof_close(sc);
	return icu_err(st, why);
}

kt_err
kt_label_unicode_skeleton(const char *s, size_t len, char *out, size_t cap,
    size_t *out_len)
{
	UErrorCode st = U_ZERO_ERROR;
	USpoofChecker *sc = uspoof_open(&st);
	const char *why;
	int32_t n;

	*out_len = 0;
	if (cap > 0)
		out[0] = '\0';
	if (U_FAILURE(st)) {
		uspoof_close(sc);
		return icu_err(st, &why);
	}
	n = uspoof_getSkeletonUTF8(sc, 0, s, (int32_t)len, out, (int32_t)cap,
	    &st);
	uspoof_close(sc);
	/* A skeleton of exactly cap bytes fits but has no NUL. */
	if (st == U_BUFFER_OVERFLOW_ERROR ||
	    st == U_STRING_NOT_TERMINATED_WARNING) {
		if (cap > 0)
			out[0] = '\0';
		return KT_ERR_TOO_LARGE;
	}
	if (U_FAILURE(st))
		return icu_err(st, &why);
	*out_len = (size_t)n;
	return KT_OK;
}
