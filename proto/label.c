/*
 * label.c: the canonical form of a label (kt/label.h). The rule is defined
 * in proto/README.md, "Labels"; this file is its entry point and its ASCII
 * kinds (phone numbers, account identifiers, e-mail local parts).
 * E-mail domains are label_domain.c's, Unicode properties
 * label_unicode.c's.
 */
#include <string.h>

#include "kt/label.h"
#include "label_internal.h"

/* E.164 allows 15 digits; 7 is the shortest in use (Niue, Tokelau: a
 * 3-digit country code and a 4-digit number). */
#define PHONE_DIGITS_MIN 7
#define PHONE_DIGITS_MAX 15
#define ACCOUNT_MAX 64
/* RFC 5321 §4.5.3.1.1 and §4.5.3.1.3 (a 256-octet path less its "<>"). */
#define LOCAL_MAX 64
#define EMAIL_MAX 254

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ---- phone numbers ------------------------------------------------------ */

/*
 * in[0] is '+'. Writes '+' and the digits to out (at most 16 bytes), the
 * visual separators dropped. NULL, or the sentence that refuses in.
 */
static const char *
phone(const char *in, size_t len, char *out, size_t *n)
{
	size_t d = 0;

	out[0] = '+';
	for (size_t i = 1; i < len; i++) {
		char c = in[i];

		if (is_digit(c)) {
			if (d == PHONE_DIGITS_MAX)
				return "phone number has more than 15 digits "
				       "(E.164)";
			out[1 + d++] = c;
		} else if (c == '\0' || memchr(" -.()", c, 5) == NULL) {
			return "phone number has a character other than ASCII "
			       "digits and the separators space, '-', '.', "
			       "'(' and ')'";
		}
	}
	if (d < PHONE_DIGITS_MIN)
		return "phone number has fewer than 7 digits";
	if (out[1] == '0')
		return "phone number's country code starts with 0";
	*n = 1 + d;
	return NULL;
}

/* ---- account identifiers ------------------------------------------------ */

static int
is_separator(char c)
{
	return c == '.' || c == '_' || c == '-';
}

/* Lower-cases in into out (len bytes). NULL, or the refusing sentence. */
static const char *
account(const char *in, size_t len, char *out)
{
	if (len > ACCOUNT_MAX)
		return "account identifier is longer than 64 characters";
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (is_alnum(c)) {
			out[i] = lower(c);
			continue;
		}
		if (!is_separator(c))
			return "account identifier has a character other than "
			       "ASCII letters, digits, '.', '_' and '-'";
		if (i == 0 || i == len - 1)
			return "account identifier starts or ends with '.', "
			       "'_' or '-'";
		if (is_separator(in[i - 1]))
			return "account identifier has two separators in a row";
		out[i] = c;
	}
	return NULL;
}

/* ---- e-mail addresses --------------------------------------------------- */

/* RFC 5322 §3.2.3 atext. */
static int
is_atext(char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Lower-cases the local part in into out (len bytes): RFC 5322 dot-atom,
 * ASCII only. NULL, or the refusing sentence. */
static const char *
local_part(const char *in, size_t len, char *out)
{
	if (len == 0)
		return "e-mail local part is empty";
	/* Unicode local parts (RFC 6531) are where confusables live, and
	 * how a server compares them is its own affair: refused. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			return "e-mail local part is not ASCII (SMTPUTF8 local "
			       "parts are not accepted)";
	if (len > LOCAL_MAX)
		return "e-mail local part is longer than 64 characters";
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '"')
			return "e-mail local part is quoted (quoted local "
			       "parts are not accepted)";
		if (c == '.' && (i == 0 || i == len - 1 || in[i - 1] == '.'))
			return "e-mail local part starts or ends with '.' or "
			       "has '..'";
		if (c != '.' && !is_atext(c))
			return "e-mail local part has a character outside RFC "
			       "5322 dot-atom";
		out[i] = lower(c);
	}
	return NULL;
}

/* in (len bytes) has its first '@' at at. */
static kt_err
email(const char *in, size_t len, const char *at, char out[KT_CANON_MAX + 1],
    size_t *n, const char **why)
{
	size_t ln = (size_t)(at - in), dn = 0;
	const char *d = at + 1;
	size_t dlen = len - ln - 1;
	char domain[KT_LABEL_DOMAIN_MAX + 1];
	char local[LOCAL_MAX];
	kt_err err;

	if (memchr(d, '@', dlen) != NULL) {
		*why = "e-mail address has more than one '@'";
		return KT_ERR_MALFORMED;
	}
	*why = local_part(in, ln, local);
	if (*why != NULL)
		return KT_ERR_MALFORMED;
	err = kt_label_domain_canonical(d, dlen, domain, &dn, why);
	if (err != KT_OK)
		return err;
	if (ln + 1 + dn > EMAIL_MAX) {
		*why = "e-mail address is longer than 254 characters";
		return KT_ERR_MALFORMED;
	}
	memcpy(out, local, ln);
	out[ln] = '@';
	memcpy(out + ln + 1, domain, dn);
	*n = ln + 1 + dn;
	return KT_OK;
}

/* ---- the rule ----------------------------------------------------------- */

kt_err
kt_label_canonical(const char *in, size_t len, char out[KT_CANON_MAX + 1],
    size_t *out_len, enum kt_label_kind *kind, const char **why)
{
	const char *w = NULL, *at;
	enum kt_label_kind k;
	kt_err err = KT_ERR_MALFORMED;
	size_t n = 0;

	*out_len = 0;
	out[0] = '\0';
	if (len > KT_LABEL_INPUT_MAX) {
		w = "label is longer than 1024 bytes";
		err = KT_ERR_TOO_LARGE;
		goto out;
	}
	if (len == 0) {
		w = "label is empty";
		goto out;
	}
	/* Anywhere, whatever the kind: UTF-8, no controls, bidi controls,
	 * invisibles, non-ASCII spaces or code points past Unicode 12.0. */
	w = kt_label_unicode_scan(in, len);
	if (w != NULL)
		goto out;
	/* The kind, from syntax alone: the kinds are disjoint. */
	if (in[0] == '+') {
		k = KT_LABEL_PHONE;
		w = phone(in, len, out, &n);
	} else if ((at = memchr(in, '@', len)) != NULL) {
		k = KT_LABEL_EMAIL;
		err = email(in, len, at, out, &n, &w);
		if (err != KT_OK)
			goto out;
	} else {
		k = KT_LABEL_ACCOUNT;
		w = account(in, len, out);
		n = len;
	}
	if (w != NULL) {
		err = KT_ERR_MALFORMED;
		goto out;
	}
	out[n] = '\0';
	*out_len = n;
	if (kind != NULL)
		*kind = k;
	err = KT_OK;
out:
	if (err != KT_OK)
		out[0] = '\0';
	if (why != NULL)
		*why = w;
	return err;
}

int
kt_label_is_canonical(const char *label, size_t len)
{
	char out[KT_CANON_MAX + 1];
	size_t n;

	if (len > KT_CANON_MAX || (label == NULL && len > 0))
		return 0;
	if (kt_label_canonical(label, len, out, &n, NULL, NULL) != KT_OK)
		return 0;
	return n == len && memcmp(out, label, len) == 0;
}

const char *
kt_label_kind_name(enum kt_label_kind k)
{
	switch (k) {
	case KT_LABEL_EMAIL:
		return "email";
	case KT_LABEL_PHONE:
		return "phone";
	case KT_LABEL_ACCOUNT:
		return "account";
	}
	return "unknown";
}

/* ---- skeletons ---------------------------------------------------------- */

kt_err
kt_label_skeleton(const char *label, size_t len,
    char out[KT_LABEL_SKELETON_MAX + 1], size_t *out_len)
{
	/* An e-mail address as a person sees it: domain in Unicode. */
	char canon[KT_CANON_MAX + 1],
	    shown[LOCAL_MAX + 1 + KT_LABEL_DOMAIN_UNICODE_MAX + 1];
	enum kt_label_kind k = KT_LABEL_ACCOUNT;
	size_t n = 0, sn = 0;
	const char *at;
	kt_err err;

	*out_len = 0;
	out[0] = '\0';
	err = kt_label_canonical(label, len, canon, &n, &k, NULL);
	if (err == KT_ERR_NOMEM || err == KT_ERR_INTERNAL)
		return err;
	if (err != KT_OK || n != len || memcmp(canon, label, len) != 0)
		return KT_ERR_MALFORMED;
	if (k == KT_LABEL_PHONE) {
		memcpy(out, canon, n + 1);
		*out_len = n;
		return KT_OK;
	}
	memcpy(shown, canon, n + 1);
	sn = n;
	at = memchr(canon, '@', n);
	if (k == KT_LABEL_EMAIL && at != NULL) {
		size_t ln = (size_t)(at - canon) + 1, dn = 0;

		err = kt_label_domain_unicode(at + 1, n - ln, shown + ln,
		    sizeof(shown) - ln, &dn);
		if (err != KT_OK)
			return err;
		sn = ln + dn;
	}
	return kt_label_unicode_skeleton(shown, sn, out,
	    KT_LABEL_SKELETON_MAX + 1, out_len);
}
