/*
 * check_label.c: the canonical form of a label (kt/label.h), the rule of
 * proto/README.md "Labels".
 *
 * Known answers come from tests/proto/vectors/labels.txt (format and
 * provenance in tests/proto/VECTORS.md); every accepted vector is checked
 * for idempotence and kt_label_is_canonical. Property tests sweep every
 * code point and every ASCII byte in each kind, every length around each
 * bound, and concurrent calls.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>
#include <unicode/uchar.h>

#include "harness/exact.h"
#include "harness/runner.h"
#include "kt/label.h"
#include "../../proto/label_internal.h"

/* Canonicalises a heap copy of exactly len bytes, so ASan sees any
 * over-read. */
static kt_err
canon(const char *in, size_t len, char out[KT_CANON_MAX + 1], size_t *n,
    enum kt_label_kind *k, const char **why)
{
	char *c = exact_copy(in, len);
	kt_err err = kt_label_canonical(c, len, out, n, k, why);

	free(c);
	return err;
}

static int
is_canon(const char *in, size_t len)
{
	char *c = exact_copy(in, len);
	int r = kt_label_is_canonical(c, len);

	free(c);
	return r;
}

/*
 * What every accepted label must satisfy: printable ASCII without spaces,
 * NUL-terminated, canonical, and its own canonical form (same kind).
 */
static void
assert_canonical_output(const char *out, size_t n, enum kt_label_kind k)
{
	char again[KT_CANON_MAX + 1];
	enum kt_label_kind k2 = 0;
	size_t n2 = 0;

	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, 254);
	ck_assert_int_eq(out[n], '\0');
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(out[i] > ' ' && out[i] < 0x7f, "byte %zu of %s",
		    i, out);
	ck_assert_int_eq(canon(out, n, again, &n2, &k2, NULL), KT_OK);
	ck_assert_uint_eq(n2, n);
	ck_assert(memcmp(again, out, n) == 0);
	ck_assert_int_eq(k2, k);
	ck_assert(is_canon(out, n));
}

/* ---- the vector file ---------------------------------------------------- */

#define NVEC_MAX 400
#define FIELD_MAX 2048

struct vec {
	int ok;             /* 1 accepted, 0 refused */
	char kind[16];      /* ok: "email", "phone", "account" */
	kt_err err;         /* no: KT_ERR_MALFORMED or KT_ERR_TOO_LARGE */
	char in[FIELD_MAX]; /* decoded input */
	size_t in_len;
	char want[FIELD_MAX]; /* ok: canonical; no: the sentence */
	size_t want_len;
	unsigned line;
};

static struct vec vecs[NVEC_MAX];
static size_t nvecs;

static size_t
put_utf8(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decodes one field (VECTORS.md: \\ \xHH \u{H...} \*N{text}) into o
 * (FIELD_MAX bytes). Returns its length; fails the test on bad syntax.
 */
static size_t
unescape(const char *s, size_t len, char *o, unsigned line)
{
	size_t n = 0, i = 0;

	while (i < len) {
		char buf[8];
		size_t bn = 0;
		unsigned long v;
		char *end;

		ck_assert_msg(n + 8 < FIELD_MAX, "line %u: field too long",
		    line);
		if (s[i] != '\\') {
			o[n++] = s[i++];
			continue;
		}
		ck_assert_msg(i + 1 < len, "line %u: lone '\\'", line);
		switch (s[i + 1]) {
		case '\\':
			o[n++] = '\\';
			i += 2;
			break;
		case 'x':
			ck_assert_msg(i + 4 <= len, "line %u: \\x", line);
			memcpy(buf, s + i + 2, 2);
			buf[2] = '\0';
			v = strtoul(buf, &end, 16);
			ck_assert_msg(*end == '\0', "line %u: \\x%s", line,
			    buf);
			o[n++] = (char)v;
			i += 4;
			break;
		case 'u':
			ck_assert_msg(s[i + 2] == '{', "line %u: \\u", line);
			v = strtoul(s + i + 3, &end, 16);
			ck_assert_msg(*end == '}' && v <= 0x10ffff,
			    "line %u: \\u", line);
			n += put_utf8((uint32_t)v, o + n);
			i = (size_t)(end - s) + 1;
			break;
		case '*':
			v = strtoul(s + i + 2, &end, 10);
			ck_assert_msg(*end == '{', "line %u: \\*", line);
			bn = strcspn(end + 1, "}\\");
			ck_assert_msg(end[1 + bn] == '}', "line %u: \\*", line);
			for (unsigned long r = 0; r < v; r++) {
				ck_assert_msg(n + bn < FIELD_MAX,
				    "line %u: field too long", line);
				memcpy(o + n, end + 1, bn);
				n += bn;
			}
			i = (size_t)(end + 1 + bn - s) + 1;
			break;
		default:
			ck_abort_msg("line %u: unknown escape", line);
		}
	}
	return n;
}

static void
load_vectors(void)
{
	const char *dir = getenv("KT_PROTO_TESTDATA");
	char path[1024], line[8192];
	unsigned ln = 0;
	FILE *f;

	if (nvecs > 0)
		return;
	ck_assert_msg(dir != NULL, "KT_PROTO_TESTDATA is not set");
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/vectors/labels.txt",
	                     dir),
	    (int)sizeof(path));
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[4], *p = line;
		size_t len = strlen(line);
		struct vec *v;

		ln++;
		ck_assert_msg(len > 0 && line[len - 1] == '\n',
		    "line %u: too long or no newline", ln);
		line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		for (int i = 0; i < 4; i++) {
			fld[i] = p;
			p = strchr(p, '\t');
			ck_assert_msg((p != NULL) == (i < 3),
			    "line %u: needs 4 tab-separated fields", ln);
			if (p != NULL)
				*p++ = '\0';
		}
		ck_assert_uint_lt(nvecs, NVEC_MAX);
		v = &vecs[nvecs++];
		v->line = ln;
		if (strcmp(fld[0], "ok") == 0) {
			v->ok = 1;
			ck_assert_uint_lt(strlen(fld[1]), sizeof(v->kind));
			strcpy(v->kind, fld[1]);
		} else {
			ck_assert_msg(strcmp(fld[0], "no") == 0, "line %u", ln);
			ck_assert_msg(strcmp(fld[1], "malformed") == 0 ||
			        strcmp(fld[1], "too-large") == 0,
			    "line %u: error %s", ln, fld[1]);
			v->err = strcmp(fld[1], "malformed") == 0
			    ? KT_ERR_MALFORMED
			    : KT_ERR_TOO_LARGE;
		}
		v->in_len = unescape(fld[2], strlen(fld[2]), v->in, ln);
		v->want_len = unescape(fld[3], strlen(fld[3]), v->want, ln);
		v->want[v->want_len] = '\0';
	}
	ck_assert(!ferror(f));
	ck_assert_int_eq(fclose(f), 0);
	/* So that a cut or missing file cannot pass. */
	ck_assert_uint_ge(nvecs, 170);
}

/* 1 if v's outcome is what kt gives now (messages go to *msg). */
static int
run_vector(const struct vec *v, char *msg, size_t cap)
{
	char out[KT_CANON_MAX + 1];
	enum kt_label_kind k = 0;
	const char *why = NULL;
	size_t n = 99;
	kt_err err = canon(v->in, v->in_len, out, &n, &k, &why);

	if (v->ok) {
		if (err == KT_OK && n == v->want_len &&
		    memcmp(out, v->want, n) == 0 &&
		    strcmp(kt_label_kind_name(k), v->kind) == 0)
			return 1;
		snprintf(msg, cap, "line %u: want %s %s, got %d %s [%s] (%s)",
		    v->line, v->kind, v->want, err, kt_label_kind_name(k), out,
		    why ? why : "");
		return 0;
	}
	if (err == v->err && n == 0 && out[0] == '\0' && why != NULL &&
	    strcmp(why, v->want) == 0)
		return 1;
	snprintf(msg, cap,
	    "line %u: want refusal %d \"%s\", got %d [%s] \"%s\"", v->line,
	    v->err, v->want, err, out, why ? why : "(null)");
	return 0;
}

START_TEST(test_vectors)
{
	unsigned ok = 0, no = 0, bad = 0;

	load_vectors();
	for (size_t i = 0; i < nvecs; i++) {
		const struct vec *v = &vecs[i];
		char msg[4096];

		if (!run_vector(v, msg, sizeof(msg))) {
			fprintf(stderr, "%s\n", msg);
			bad++;
			continue;
		}
		if (v->ok) {
			enum kt_label_kind k = 0;
			char out[KT_CANON_MAX + 1];
			size_t n;

			ok++;
			ck_assert_int_eq(canon(v->in, v->in_len, out, &n, &k,
			                     NULL),
			    KT_OK);
			assert_canonical_output(out, n, k);
			/* The input is canonical iff it is its own form. */
			ck_assert_int_eq(is_canon(v->in, v->in_len),
			    v->in_len == n && memcmp(v->in, out, n) == 0);
		} else {
			no++;
			ck_assert(!is_canon(v->in, v->in_len));
		}
	}
	ck_assert_msg(bad == 0, "%u vectors differ (listed above)", bad);
	ck_assert_uint_ge(ok, 60);
	ck_assert_uint_ge(no, 100);
}
END_TEST

/* ---- kt_label_canonical: contract --------------------------------------- */

START_TEST(test_contract)
{
	char out[KT_CANON_MAX + 1];
	enum kt_label_kind k = KT_LABEL_PHONE;
	const char *why = "x";
	size_t n = 7;
	char big[KT_LABEL_INPUT_MAX + 2];

	/* kind and why may be NULL; in may be NULL when len is 0. */
	ck_assert_int_eq(kt_label_canonical("Bob", 3, out, &n, NULL, NULL),
	    KT_OK);
	ck_assert_str_eq(out, "bob");
	ck_assert_int_eq(kt_label_canonical(NULL, 0, out, &n, &k, &why),
	    KT_ERR_MALFORMED);
	ck_assert_str_eq(why, "label is empty");
	ck_assert_int_eq(k, KT_LABEL_PHONE); /* left alone on error */
	/* On error out is "" and *out_len 0, whatever was there. */
	memset(out, 'z', sizeof(out));
	n = 7;
	ck_assert_int_eq(kt_label_canonical("a__b", 4, out, &n, &k, &why),
	    KT_ERR_MALFORMED);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(n, 0);
	/* An error found after output was written still leaves "". */
	memset(out, 'z', sizeof(out));
	ck_assert_int_eq(kt_label_canonical("abc_", 4, out, &n, &k, &why),
	    KT_ERR_MALFORMED);
	ck_assert_str_eq(out, "");
	/* Too large is decided by length alone, before any byte. */
	memset(big, 0xff, sizeof(big));
	ck_assert_int_eq(canon(big, KT_LABEL_INPUT_MAX + 1, out, &n, &k, &why),
	    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(canon(big, KT_LABEL_INPUT_MAX, out, &n, &k, &why),
	    KT_ERR_MALFORMED);
	ck_assert_str_eq(why, "label is not well-formed UTF-8 (RFC 3629)");
	/* A successful call clears a stale why. */
	ck_assert_int_eq(kt_label_canonical("+1 555 123 4567", 15, out, &n, &k,
	                     &why),
	    KT_OK);
	ck_assert_ptr_null(why);
	ck_assert_int_eq(k, KT_LABEL_PHONE);
	ck_assert_str_eq(out, "+15551234567");
	ck_assert_uint_eq(n, 12);
}
END_TEST

/* ---- kt_label_canonical: bounds ----------------------------------------- */

/* The outcome for s (NUL-terminated); the canonical form in out. */
static kt_err
try(const char *s, char out[KT_CANON_MAX + 1])
{
	size_t n;
	enum kt_label_kind k;

	return canon(s, strlen(s), out, &n, &k, NULL);
}

START_TEST(test_lengths)
{
	char s[2048], out[KT_CANON_MAX + 1];

	/* Account identifiers: 1..64. */
	for (size_t len = 1; len <= 70; len++) {
		memset(s, 'Q', len);
		s[len] = '\0';
		ck_assert_int_eq(try(s, out) == KT_OK, len <= 64);
	}
	/* Local parts: 1..64. */
	for (size_t len = 0; len <= 70; len++) {
		memset(s, 'q', len);
		strcpy(s + len, "@example.com");
		ck_assert_int_eq(try(s, out) == KT_OK, len >= 1 && len <= 64);
	}
	/* Domain labels: 1..63, also when the label is an A-label. */
	for (size_t len = 0; len <= 70; len++) {
		strcpy(s, "a@");
		memset(s + 2, 'd', len);
		strcpy(s + 2 + len, ".com");
		ck_assert_int_eq(try(s, out) == KT_OK, len >= 1 && len <= 63);
	}
	/* The same bound on an A-label: "ü" + k letters is "xn--" + k
	 * letters + "-" + 3 more, k + 8 bytes (a single non-ASCII code point
	 * at the front costs a 3-digit delta up to this length). */
	for (size_t k = 40; k <= 70; k++) {
		strcpy(s, "a@\xc3\xbc");
		memset(s + 4, 'd', k);
		strcpy(s + 4 + k, ".com");
		ck_assert_int_eq(try(s, out) == KT_OK, k + 8 <= 63);
		if (k + 8 <= 63)
			ck_assert_uint_eq(strcspn(out + 2, "."), k + 8);
	}
	/* Phone numbers: 7..15 digits. */
	for (size_t d = 0; d <= 20; d++) {
		s[0] = '+';
		memset(s + 1, '7', d);
		s[1 + d] = '\0';
		ck_assert_int_eq(try(s, out) == KT_OK, d >= 7 && d <= 15);
	}
	/* E-mail: 254 bytes in all, domain 253. */
	for (size_t local = 1; local <= 64; local++) {
		size_t dlen = 254 - local - 1; /* the longest that fits */

		memset(s, 'l', local);
		s[local] = '@';
		for (size_t i = 0; i < dlen; i++)
			s[local + 1 + i] =
			    (i % 50 == 49 && i + 2 < dlen) ? '.' : 'd';
		s[local + 1 + dlen] = '\0';
		ck_assert_msg(try(s, out) == KT_OK, "local %zu", local);
		ck_assert_uint_eq(strlen(out), 254);
		s[local + 1 + dlen] = 'e';
		s[local + 1 + dlen + 1] = '\0';
		ck_assert_int_eq(try(s, out), KT_ERR_MALFORMED);
	}
}
END_TEST

/* ---- kt_label_canonical: every ASCII byte in every place ---------------- */

START_TEST(test_ascii_bytes)
{
	char s[64], out[KT_CANON_MAX + 1];
	size_t n;

	for (int c = 0; c < 0x80; c++) {
		int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z');
		int sep = c == '.' || c == '_' || c == '-';
		int atext =
		    alnum || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
		char lc = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);

		/* Account: inside an identifier. */
		memcpy(s, "ab?cd", 6);
		s[2] = (char)c;
		ck_assert_int_eq(canon(s, 5, out, &n, NULL, NULL) == KT_OK,
		    alnum || sep);
		if (alnum)
			ck_assert_int_eq(out[2], lc);
		/* Local part. '@' makes two; '.' is allowed here. */
		memcpy(s, "ab?cd@example.com", 18);
		s[2] = (char)c;
		ck_assert_int_eq(canon(s, 17, out, &n, NULL, NULL) == KT_OK,
		    atext || c == '.');
		/* Domain: letters, digits, '-' (in the middle), '.' makes two
		 * labels. */
		memcpy(s, "a@ab?cd.com", 12);
		s[4] = (char)c;
		ck_assert_int_eq(canon(s, 11, out, &n, NULL, NULL) == KT_OK,
		    alnum || c == '-' || c == '.');
		if (alnum)
			ck_assert_int_eq(out[4], lc);
		/* Phone: digits and the five separators. */
		memcpy(s, "+1555?1234567", 14);
		s[5] = (char)c;
		ck_assert_int_eq(canon(s, 13, out, &n, NULL, NULL) == KT_OK,
		    (c >= '0' && c <= '9') || (c != 0 && strchr(" -.()", c)));
	}
}
END_TEST

/* ---- kt_label_canonical: every code point ------------------------------- */

/* 1 if ICU says cp is one kt refuses anywhere (independent of label.c's
 * own order of checks). */
static int
refused_anywhere(UChar32 cp)
{
	UVersionInfo age;

	u_charAge(cp, age);
	return u_charType(cp) == U_UNASSIGNED ||
	    u_charType(cp) == U_CONTROL_CHAR ||
	    u_hasBinaryProperty(cp, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
	    u_hasBinaryProperty(cp, UCHAR_BIDI_CONTROL) ||
	    u_isUWhiteSpace(cp) || age[0] > 12 || (age[0] == 12 && age[1] > 0);
}

/* A plain check for hot loops: a ck_assert records a mark point each time. */
#define CHECK(cond, ...) \
	do { \
		if (!(cond)) \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

START_TEST(test_code_points)
{
	unsigned accepted = 0;

	for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
		char s[32], out[KT_CANON_MAX + 1], again[KT_CANON_MAX + 1];
		enum kt_label_kind k = 0;
		size_t n = 0, n2 = 0, e;
		kt_err err;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		/* In the middle of a domain label. */
		memcpy(s, "a@x", 3);
		e = 3 + put_utf8(cp, s + 3);
		memcpy(s + e, "y.com", 5);
		err = canon(s, e + 5, out, &n, &k, NULL);
		CHECK(err == KT_OK || err == KT_ERR_MALFORMED, "U+%04X: %d", cp,
		    err);
		if (err == KT_OK) {
			accepted++;
			CHECK(!refused_anywhere((UChar32)cp), "U+%04X accepted",
			    cp);
			CHECK(strspn(out,
			          "abcdefghijklmnopqrstuvwxyz0123456789"
			          "-.@") == n,
			    "U+%04X: %s", cp, out);
			CHECK(canon(out, n, again, &n2, &k, NULL) == KT_OK &&
			        n2 == n && memcmp(again, out, n) == 0 &&
			        k == KT_LABEL_EMAIL,
			    "U+%04X: %s not idempotent", cp, out);
		}
		/* Nowhere else: account, local part, phone. */
		e = put_utf8(cp, s);
		CHECK(canon(s, e, out, &n, &k, NULL) == KT_ERR_MALFORMED,
		    "U+%04X account", cp);
		memcpy(s + e, "@example.com", 12);
		CHECK(canon(s, e + 12, out, &n, &k, NULL) == KT_ERR_MALFORMED,
		    "U+%04X local part", cp);
		s[0] = '+';
		e = 1 + put_utf8(cp, s + 1);
		memcpy(s + e, "15551234567", 11);
		CHECK(canon(s, e + 11, out, &n, &k, NULL) == KT_ERR_MALFORMED,
		    "U+%04X phone", cp);
	}
	/* Latin, Greek, Cyrillic, CJK, ...: 102684 with ICU 72 and libidn2
	 * 2.3.3, each giving the A-label kjd/idna 3.13 gives. */
	ck_assert_uint_gt(accepted, 100000);
}
END_TEST

/* ---- kt_label_is_canonical ---------------------------------------------- */

START_TEST(test_is_canonical)
{
	char long_label[300];

	ck_assert(is_canon("alice@example.com", 17));
	ck_assert(!is_canon("Alice@example.com", 17));
	ck_assert(is_canon("a@xn--bcher-kva.de", 18));
	ck_assert(!is_canon("a@b\xc3\xbc"
	                    "cher.de",
	    12));
	ck_assert(is_canon("+15551234567", 12));
	ck_assert(!is_canon("+1 5551234567", 13));
	ck_assert(!is_canon("alice\0", 6));
	ck_assert(!is_canon("", 0));
	ck_assert(!kt_label_is_canonical(NULL, 0));
	ck_assert(!kt_label_is_canonical(NULL, 5));
	memset(long_label, 'a', sizeof(long_label));
	ck_assert(!is_canon(long_label, sizeof(long_label)));
	ck_assert(is_canon(long_label, 64));
}
END_TEST

/* ---- kt_label_kind_name ------------------------------------------------- */

START_TEST(test_kind_name)
{
	ck_assert_str_eq(kt_label_kind_name(KT_LABEL_EMAIL), "email");
	ck_assert_str_eq(kt_label_kind_name(KT_LABEL_PHONE), "phone");
	ck_assert_str_eq(kt_label_kind_name(KT_LABEL_ACCOUNT), "account");
	ck_assert_str_eq(kt_label_kind_name((enum kt_label_kind)0), "unknown");
	ck_assert_str_eq(kt_label_kind_name((enum kt_label_kind)4), "unknown");
}
END_TEST

/* ---- kt_label_skeleton -------------------------------------------------- */

static void
skel(const char *label, char out[KT_LABEL_SKELETON_MAX + 1])
{
	size_t n = 0;

	ck_assert_msg(kt_label_skeleton(label, strlen(label), out, &n) == KT_OK,
	    "%s", label);
	ck_assert_uint_eq(n, strlen(out));
}

START_TEST(test_skeleton)
{
	char a[KT_LABEL_SKELETON_MAX + 1], b[KT_LABEL_SKELETON_MAX + 1];
	size_t n = 9;

	/* ASCII confusables: rn/m, l/1/I, O/0. */
	skel("modern", a);
	skel("rnodern", b);
	ck_assert_str_eq(a, b);
	skel("alice@example.com", a);
	skel("alice@exarnple.com", b);
	ck_assert_str_eq(a, b);
	skel("paypal.l", a);
	skel("paypa1.1", b);
	ck_assert_str_eq(a, b);
	/* A domain is compared as shown, in Unicode: "bücher" is not
	 * "bucher". */
	skel("a@xn--bcher-kva.de", a);
	ck_assert_str_eq(a,
	    "a@bu\xcc\x88"
	    "cher.de");
	skel("a@bucher.de", b);
	ck_assert_str_ne(a, b);
	/* A whole-script Greek label next to a Latin look-alike. */
	skel("a@xn--0xaaff.gr", a); /* οροσ with final sigma */
	ck_assert_ptr_nonnull(strstr(a, "opo"));
	/* A phone number is its own skeleton. */
	skel("+15551234567", a);
	ck_assert_str_eq(a, "+15551234567");
	/* Only canonical labels. */
	memset(a, 'z', 8);
	ck_assert_int_eq(kt_label_skeleton("Alice", 5, a, &n),
	    KT_ERR_MALFORMED);
	ck_assert_str_eq(a, "");
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(kt_label_skeleton("a__b", 4, a, &n), KT_ERR_MALFORMED);
}
END_TEST

/* ---- concurrency -------------------------------------------------------- */

static void *
worker(void *arg)
{
	uintptr_t bad = 0;

	(void)arg;
	for (int round = 0; round < 5; round++)
		for (size_t i = 0; i < nvecs; i++) {
			char msg[4096];

			bad += !run_vector(&vecs[i], msg, sizeof(msg));
		}
	return (void *)bad;
}

/* kt-logd's HTTP workers call kt_label_canonical concurrently. */
START_TEST(test_threads)
{
	pthread_t t[4];

	load_vectors();
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *bad;

		ck_assert_int_eq(pthread_join(t[i], &bad), 0);
		ck_assert_ptr_null(bad);
	}
}
END_TEST

/* ---- cost (printed, not asserted: shared machines vary) ----------------- */

static double
us_per_call(const char *label, int calls)
{
	struct timespec a, b;
	char out[KT_CANON_MAX + 1];
	size_t n, len = strlen(label);
	int bad = 0;

	/* No ck_assert in the loop: each one records a mark point. */
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &a), 0);
	for (int i = 0; i < calls; i++)
		bad |= kt_label_canonical(label, len, out, &n, NULL, NULL) !=
		    KT_OK;
	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &b), 0);
	ck_assert_int_eq(bad, 0);
	return ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	           (double)(b.tv_nsec - a.tv_nsec)) /
	    calls / 1e3;
}

START_TEST(test_cost)
{
	printf("kt_label_canonical: %.2f µs ASCII e-mail, %.2f µs IDN "
	       "e-mail, %.2f µs phone, %.2f µs account\n",
	    us_per_call("Alice.Smith@Example.com", 20000),
	    us_per_call("alice@b\xc3\xbc"
	                "cher.example",
	        20000),
	    us_per_call("+1 (555) 123-4567", 20000),
	    us_per_call("Alice.Smith", 20000));
}
END_TEST

/*
 * The fast path for domains that are canonical already must answer exactly
 * as the full path (libidn2, then ICU): the same bytes, or both a refusal.
 * Random domains over lower-case letters, digits, '-' and '.', with now and
 * then an "xn--" label, an upper-case letter or a long label.
 */
START_TEST(test_domain_fast_path)
{
	static const char alpha[] = "abcxyz0129-.";
	char in[80], a[KT_LABEL_DOMAIN_MAX + 1], b[KT_LABEL_DOMAIN_MAX + 1];
	const char *wa = NULL, *wb = NULL;
	uint64_t seed = 12345;
	size_t na, nb, fast = 0;

	for (int round = 0; round < 200000; round++) {
		size_t len;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 1 + (size_t)(seed >> 59) % 24;
		if (round % 500 == 0)
			len = 64 + (size_t)(seed >> 40) % 12;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 6364136223846793005ULL +
			    1442695040888963407ULL;
			in[i] = alpha[(seed >> 33) % (sizeof(alpha) - 1)];
		}
		if (round % 7 == 0 && len > 6)
			memcpy(in + (seed >> 20) % (len - 5), "xn--", 4);
		if (round % 11 == 0)
			in[(seed >> 10) % len] = 'Q';
		in[len] = '\0';
		kt_err ea = kt_label_domain_canonical(in, len, a, &na, &wa);
		kt_err eb =
		    kt_label_domain_canonical_full(in, len, b, &nb, &wb);

		ck_assert_msg(ea == eb, "%s: fast %d, full %d", in, ea, eb);
		if (ea == KT_OK) {
			ck_assert_uint_eq(na, nb);
			ck_assert_str_eq(a, b);
			fast++;
		}
	}
	ck_assert_uint_gt(fast, 1000); /* the comparison saw accepted ones */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("label");

	kt_test_case(s, "vectors", 60, test_vectors, NULL);
	kt_test_case(s, "kt_label_canonical", 600, test_contract, test_lengths,
	    test_ascii_bytes, test_code_points, test_threads, test_cost, NULL);
	kt_test_case(s, "kt_label_is_canonical", 0, test_is_canonical, NULL);
	kt_test_case(s, "kt_label_kind_name", 0, test_kind_name, NULL);
	kt_test_case(s, "kt_label_skeleton", 0, test_skeleton, NULL);
	kt_test_case(s, "kt_label_domain_canonical", 300, test_domain_fast_path,
	    NULL);
	return kt_test_run(s);
}
