/*
 * check_note.c: C2SP signed notes: parsing, verification, opening, signing
 * and signature lines. Keys are check_note_keys.c, tlog-cosignature
 * check_note_cosig.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "harness/exact.h"
#include "harness/runner.h"
#include "kt/note.h"
#include "note_testlib.h"

static kt_err
open_copy(const char *buf, size_t len, const struct kt_verifier *vs, size_t nv,
    uint8_t *ok, uint64_t *times)
{
	struct kt_note n;
	char *c = exact_copy(buf, len);
	kt_err err = kt_note_open(c, len, vs, nv, &n, ok, times);

	free(c);
	return err;
}

/* ---- kt_note_parse ------------------------------------------------------ */

struct bad_note {
	const char *what;
	const char *note;
	kt_err want;
};

#define SIGB64 GO_PETER_B64
static const struct bad_note bad_notes[] = {
	{ "empty", "", KT_ERR_MALFORMED },
	{ "text only", GO_TEXT, KT_ERR_MALFORMED },
	{ "no signature lines", GO_TEXT "\n", KT_ERR_MALFORMED },
	{ "missing final newline", GO_TEXT "\n" EM " PeterNeumann " SIGB64,
	    KT_ERR_MALFORMED },
	{ "no blank line", GO_TEXT GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "two blank lines", GO_TEXT "\n\n" GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "empty text", "\n" GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "text is one empty line", "\n\n" GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "two ASCII hyphens", GO_TEXT "\n-- PeterNeumann " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "hyphen instead of em dash", GO_TEXT "\n- PeterNeumann " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "en dash", GO_TEXT "\n\xe2\x80\x93 PeterNeumann " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "no space after dash", GO_TEXT "\n" EM "PeterNeumann " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "empty name", GO_TEXT "\n" EM "  " SIGB64 "\n", KT_ERR_MALFORMED },
	{ "double space", GO_TEXT "\n" EM " PeterNeumann  " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "tab separator", GO_TEXT "\n" EM " PeterNeumann\t" SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "trailing space", GO_TEXT "\n" EM " PeterNeumann " SIGB64 " \n",
	    KT_ERR_MALFORMED },
	{ "no base64", GO_TEXT "\n" EM " PeterNeumann\n", KT_ERR_MALFORMED },
	{ "empty base64", GO_TEXT "\n" EM " PeterNeumann \n",
	    KT_ERR_MALFORMED },
	{ "name with space", GO_TEXT "\n" EM " Bad Name " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "name with plus", GO_TEXT "\n" EM " Peter+Neumann " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "name with NBSP",
	    GO_TEXT "\n" EM " Peter\xc2\xa0Neumann " SIGB64 "\n",
	    KT_ERR_MALFORMED },
	{ "CR in text", "If you think\r\nso.\n\n" GO_PETER_SIG,
	    KT_ERR_MALFORMED },
	{ "CRLF signature line", GO_TEXT "\n" EM " PeterNeumann " SIGB64 "\r\n",
	    KT_ERR_MALFORMED },
	{ "tab in text", "a\tb\n\n" GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "DEL in text",
	    "a\x7f"
	    "b\n\n" GO_PETER_SIG,
	    KT_ERR_MALFORMED },
	{ "control char", "\x01" GO_TEXT "\n" GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "invalid UTF-8 0xff", "\xff" GO_TEXT "\n" GO_PETER_SIG,
	    KT_ERR_MALFORMED },
	{ "overlong UTF-8", "a\xc0\xaf\n\n" GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "UTF-16 surrogate", "a\xed\xa0\x80\n\n" GO_PETER_SIG,
	    KT_ERR_MALFORMED },
	{ "beyond U+10FFFF", "a\xf4\x90\x80\x80\n\n" GO_PETER_SIG,
	    KT_ERR_MALFORMED },
	{ "truncated UTF-8", "a\xe2\x80\n\n" GO_PETER_SIG, KT_ERR_MALFORMED },
	{ "bad base64 char",
	    GO_TEXT
	    "\n" EM " PeterNeumann x08go/ZJ!uBS9UG/"
	    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
	    "yyBwJnAM=\n",
	    KT_ERR_MALFORMED },
	{ "base64 without padding",
	    GO_TEXT
	    "\n" EM " PeterNeumann x08go/ZJkuBS9U"
	    "G/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
	    "yyBwJnAM\n",
	    KT_ERR_MALFORMED },
	{ "non-canonical base64",
	    GO_TEXT
	    "\n" EM " PeterNeumann x08go/ZJkuBS9UG"
	    "/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
	    "yyBwJnAN=\n",
	    KT_ERR_MALFORMED },
	{ "url-safe base64",
	    GO_TEXT
	    "\n" EM " PeterNeumann x08go_ZJkuBS9UG"
	    "_SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
	    "yyBwJnAM=\n",
	    KT_ERR_MALFORMED },
	{ "signature of only a key ID",
	    GO_TEXT "\n" EM " PeterNeumann AAAAAA==\n", KT_ERR_MALFORMED },
	{ "line after signatures",
	    GO_TEXT "\n" GO_PETER_SIG "Unexpected line.\n", KT_ERR_MALFORMED },
	{ "Go: bad name, no newline", GO_TEXT "\n" EM " Bad Name " SIGB64,
	    KT_ERR_MALFORMED },
};

START_TEST(test_note_parse)
{
	struct kt_note n;
	char *big;
	size_t nb = sizeof(bad_notes) / sizeof(bad_notes[0]);

	ck_assert_uint_ge(nb, 25);
	ck_assert_int_eq(kt_note_parse(go_note, strlen(go_note), &n), KT_OK);
	ck_assert_uint_eq(n.text_len, strlen(GO_TEXT));
	ck_assert_mem_eq(n.text, GO_TEXT, n.text_len);
	ck_assert_uint_eq(n.nsigs, 1);
	ck_assert_uint_eq(n.sigs[0].name_len, 12);
	ck_assert_mem_eq(n.sigs[0].name, "PeterNeumann", 12);
	ck_assert_uint_eq(n.sigs[0].b64_len, strlen(GO_PETER_B64));
	ck_assert_mem_eq(n.sigs[0].b64, GO_PETER_B64, n.sigs[0].b64_len);
	ck_assert_mem_eq(n.sigs[0].id, "\xc7\x4f\x20\xa3", 4);

	/* A blank line inside the text is fine: the last one separates. */
	{
		const char *t = "a\n\nb\n\n" GO_PETER_SIG;

		ck_assert_int_eq(kt_note_parse(t, strlen(t), &n), KT_OK);
		ck_assert_uint_eq(n.text_len, 5);
	}

	for (size_t i = 0; i < nb; i++) {
		const struct bad_note *b = &bad_notes[i];
		kt_err err = kt_note_parse(b->note, strlen(b->note), &n);

		ck_assert_msg(err == b->want, "%s: got %d want %d", b->what,
		    err, b->want);
		ck_assert_uint_eq(n.nsigs, 0);
	}
	/* A NUL byte (strlen-based table entries cannot hold one). */
	{
		char t[] = "a\0b\n\n" GO_PETER_SIG;

		ck_assert_int_eq(kt_note_parse(t, sizeof(t) - 1, &n),
		    KT_ERR_MALFORMED);
	}

	/* Size limit: KT_NOTE_MAX bytes parse, one more is too large. */
	big = malloc(KT_NOTE_MAX + 1);
	{
		size_t sl = strlen(GO_PETER_SIG), tl = KT_NOTE_MAX - sl - 1;

		memset(big, 'x', tl - 1);
		big[tl - 1] = '\n';
		big[tl] = '\n';
		memcpy(big + tl + 1, GO_PETER_SIG, sl);
		ck_assert_int_eq(kt_note_parse(big, KT_NOTE_MAX, &n), KT_OK);
		memmove(big + 1, big, KT_NOTE_MAX);
		ck_assert_int_eq(kt_note_parse(big, KT_NOTE_MAX + 1, &n),
		    KT_ERR_TOO_LARGE);
	}
	free(big);

	/* A signature field longer than KT_NOTE_SIG_B64_MAX. */
	{
		size_t l = 5 + 4 + KT_NOTE_SIG_B64_MAX + 4 + 1, o = 0;

		big = malloc(l);
		memcpy(big, "a\n\n" EM " n ", 9);
		o = 9;
		memset(big + o, 'A', KT_NOTE_SIG_B64_MAX + 4);
		o += KT_NOTE_SIG_B64_MAX + 4;
		big[o++] = '\n';
		ck_assert_int_eq(kt_note_parse(big, o, &n), KT_ERR_TOO_LARGE);
		free(big);
	}

	/* KT_NOTE_MAX_SIGS signature lines parse, one more does not. */
	{
		size_t sl = strlen(GO_PETER_SIG), tl = strlen(GO_TEXT) + 1, o;

		big = malloc(tl + (KT_NOTE_MAX_SIGS + 1) * sl);
		memcpy(big, GO_TEXT "\n", tl);
		o = tl;
		for (int i = 0; i < KT_NOTE_MAX_SIGS + 1; i++, o += sl)
			memcpy(big + o, GO_PETER_SIG, sl);
		ck_assert_int_eq(kt_note_parse(big, o - sl, &n), KT_OK);
		ck_assert_uint_eq(n.nsigs, KT_NOTE_MAX_SIGS);
		ck_assert_int_eq(kt_note_parse(big, o, &n), KT_ERR_TOO_LARGE);
		ck_assert_uint_eq(n.nsigs, 0);
		free(big);
	}

	/* Every truncation is rejected without reading past the end. */
	for (size_t i = 0; i < strlen(go_note); i++) {
		char *c = exact_copy(go_note, i);

		ck_assert_msg(kt_note_parse(c, i, &n) != KT_OK,
		    "truncation to %zu accepted", i);
		free(c);
	}
}
END_TEST

/* ---- kt_note_verify ----------------------------------------------------- */

START_TEST(test_note_verify)
{
	const char *both = GO_TEXT "\n" GO_PETER_SIG GO_ENOCH_SIG;
	struct kt_verifier vs[3];
	struct kt_note n;
	uint8_t ok[3];
	uint64_t times[3];

	vs[0] = vkey(GO_VKEY);
	vs[1] = vkey(GO_ENOCH_VKEY);
	ck_assert_int_eq(kt_note_parse(both, strlen(both), &n), KT_OK);

	/* Go's TestOpen: one known, both known, none known. */
	ck_assert_int_eq(kt_note_verify(&n, vs, 1, ok, times), KT_OK);
	ck_assert_uint_eq(ok[0], 1);
	ck_assert_uint_eq(times[0], 0);
	ck_assert_int_eq(kt_note_verify(&n, vs + 1, 1, ok, NULL), KT_OK);
	ck_assert_uint_eq(ok[0], 1);
	ck_assert_int_eq(kt_note_verify(&n, vs, 2, ok, NULL), KT_OK);
	ck_assert_uint_eq(ok[0], 1);
	ck_assert_uint_eq(ok[1], 1);
	ck_assert_int_eq(kt_note_verify(&n, vs, 0, NULL, NULL),
	    KT_ERR_UNKNOWN_KEY);

	/* A verifier that signed nothing here gets ok = 0. */
	{
		struct kt_signer *s = mk_signer("other", KT_KEY_ED25519, 5);

		kt_signer_verifier(s, &vs[2]);
		ck_assert_int_eq(kt_note_verify(&n, vs, 3, ok, NULL), KT_OK);
		ck_assert_uint_eq(ok[0], 1);
		ck_assert_uint_eq(ok[1], 1);
		ck_assert_uint_eq(ok[2], 0);
		ck_assert_int_eq(kt_note_verify(&n, vs + 2, 1, ok, NULL),
		    KT_ERR_UNKNOWN_KEY);
		ck_assert_uint_eq(ok[0], 0);

		/* Same name as Peter, another key: unknown, not bad. */
		kt_signer_free(s);
		s = mk_signer("PeterNeumann", KT_KEY_ED25519, 5);
		kt_signer_verifier(s, &vs[2]);
		ck_assert_int_eq(kt_note_verify(&n, vs + 2, 1, ok, NULL),
		    KT_ERR_UNKNOWN_KEY);
		kt_signer_free(s);
	}

	/* Known name and key ID but another public key: a bad signature. */
	vs[2] = vs[0];
	vs[2].pub[0] ^= 1;
	ck_assert_int_eq(kt_note_verify(&n, vs + 2, 1, ok, NULL),
	    KT_ERR_VERIFY);
	ck_assert_uint_eq(ok[0], 0);
	ck_assert_int_eq(kt_note_verify(&n, vs, 3, ok, NULL), KT_ERR_VERIFY);

	/* Go's TestOpen "invalid signature": ABCD spliced into Peter's. */
	{
		const char *bad = GO_TEXT
		    "\n" EM " PeterNeumann x08go/ZJkuBS9UG/"
		    "SffcvIAQxVBtiFupLLr8pAcElZInNIABCDuGUgYN1FFYC2pZSNXgKvqfqdngo"
		    "tpRZb6KE6RyyBwJnAM=\n";

		ck_assert_int_eq(kt_note_parse(bad, strlen(bad), &n), KT_OK);
		ck_assert_int_eq(kt_note_verify(&n, vs, 1, ok, NULL),
		    KT_ERR_VERIFY);
		/* Bad but unknown: ignored. */
		ck_assert_int_eq(kt_note_verify(&n, vs + 1, 1, ok, NULL),
		    KT_ERR_UNKNOWN_KEY);
	}

	/* Known key, signature of the wrong length (id || 63 bytes). */
	{
		char line[256], note[512];
		uint8_t sig[63] = { 0 };
		size_t l;

		ck_assert_int_eq(kt_note_sig_line("PeterNeumann", vs[0].id, sig,
		                     sizeof(sig), line, sizeof(line), &l),
		    KT_OK);
		snprintf(note, sizeof(note), "%s\n%s", GO_TEXT, line);
		ck_assert_int_eq(kt_note_parse(note, strlen(note), &n), KT_OK);
		ck_assert_int_eq(kt_note_verify(&n, vs, 1, ok, NULL),
		    KT_ERR_VERIFY);
	}
}
END_TEST

/* 16+ signers (Ed25519 and cosigners) on one note, all verified. */
START_TEST(test_note_verify_many)
{
	enum { NS = 24 };
	struct kt_signer *s[NS];
	struct kt_verifier vs[NS];
	uint8_t ok[NS];
	uint64_t times[NS];
	const char *text = "example.com/log\n42\n"
	                   "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	size_t tl = strlen(text), o;
	char *note = malloc(KT_NOTE_MAX);
	struct kt_note n;

	memcpy(note, text, tl);
	note[tl] = '\n';
	o = tl + 1;
	for (int i = 0; i < NS; i++) {
		char name[32];
		size_t l = 0;

		snprintf(name, sizeof(name), "signer-%d", i);
		s[i] = mk_signer(name, i % 3 ? KT_KEY_ED25519 : KT_KEY_COSIG,
		    (uint8_t)(i * 7));
		kt_signer_verifier(s[i], &vs[i]);
		if (i % 3) {
			char *tmp = malloc(KT_NOTE_MAX);
			struct kt_note one;

			/* Take the signature line from a one-signature note. */
			ck_assert_int_eq(kt_note_sign(s[i], text, tl, tmp,
			                     KT_NOTE_MAX, &l),
			    KT_OK);
			ck_assert_int_eq(kt_note_parse(tmp, l, &one), KT_OK);
			l -= tl + 1;
			memcpy(note + o, tmp + tl + 1, l);
			free(tmp);
		} else {
			ck_assert_int_eq(kt_cosig_sign(s[i], text, tl,
			                     1700000000u + (uint64_t)i,
			                     note + o, KT_NOTE_MAX - o, &l),
			    KT_OK);
		}
		o += l;
	}
	/* Plus an unknown signer's line in the middle of them all. */
	{
		struct kt_signer *u = mk_signer("unknown", KT_KEY_ED25519, 99);
		char *tmp = malloc(KT_NOTE_MAX);
		size_t l = 0;

		ck_assert_int_eq(kt_note_sign(u, text, tl, tmp, KT_NOTE_MAX,
		                     &l),
		    KT_OK);
		memcpy(note + o, tmp + tl + 1, l - tl - 1);
		o += l - tl - 1;
		free(tmp);
		kt_signer_free(u);
	}
	ck_assert_int_eq(kt_note_open(note, o, vs, NS, &n, ok, times), KT_OK);
	ck_assert_uint_eq(n.nsigs, NS + 1);
	for (int i = 0; i < NS; i++) {
		ck_assert_uint_eq(ok[i], 1);
		ck_assert_uint_eq(times[i],
		    i % 3 ? 0 : 1700000000u + (uint64_t)i);
	}
	for (int i = 0; i < NS; i++)
		kt_signer_free(s[i]);
	free(note);
}
END_TEST

/* Every single-byte change to the signed Go note is rejected by verify. */
START_TEST(test_note_verify_mutations)
{
	struct kt_verifier v = vkey(GO_VKEY);
	size_t len = strlen(go_note);
	char *b = malloc(len);
	size_t tried = 0;

	ck_assert_int_eq(open_copy(go_note, len, &v, 1, NULL, NULL), KT_OK);
	memcpy(b, go_note, len);
	for (size_t i = 0; i < len; i++) {
		char orig = b[i];

		for (int x = 0; x < 256; x++) {
			if ((char)x == orig)
				continue;
			b[i] = (char)x;
			ck_assert_msg(open_copy(b, len, &v, 1, NULL, NULL) !=
			        KT_OK,
			    "byte %zu = 0x%02x accepted", i, x);
			tried++;
		}
		b[i] = orig;
	}
	ck_assert_uint_eq(tried, len * 255);
	free(b);
}
END_TEST

/* ---- kt_note_open ------------------------------------------------------- */

START_TEST(test_note_open)
{
	struct kt_verifier v = vkey(GO_VKEY);
	struct kt_note n;
	uint8_t ok = 7;
	size_t len = strlen(go_note);

	/* The published Go example note verifies. */
	ck_assert_int_eq(kt_note_open(go_note, len, &v, 1, &n, &ok, NULL),
	    KT_OK);
	ck_assert_uint_eq(ok, 1);
	ck_assert_mem_eq(n.text, GO_TEXT, n.text_len);
	/* A parse error comes first and clears ok. */
	ck_assert_int_eq(kt_note_open(go_note, len - 1, &v, 1, &n, &ok, NULL),
	    KT_ERR_MALFORMED);
	ck_assert_uint_eq(ok, 0);
	/* Every truncation is rejected without a crash. */
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(open_copy(go_note, i, &v, 1, NULL, NULL) != KT_OK,
		    "truncation to %zu accepted", i);
}
END_TEST

/* ---- kt_note_sign ------------------------------------------------------- */

START_TEST(test_note_sign)
{
	char buf[1024];
	size_t l = 0;
	struct kt_signer *s = NULL, *c;

	/* Ed25519 is deterministic: the Go key over the Go text gives the
	 * published note byte for byte (Go's TestSign). */
	ck_assert_int_eq(kt_signer_parse(GO_SKEY, strlen(GO_SKEY), &s), KT_OK);
	ck_assert_int_eq(kt_note_sign(s, GO_TEXT, strlen(GO_TEXT), buf,
	                     sizeof(buf), &l),
	    KT_OK);
	ck_assert_uint_eq(l, strlen(go_note));
	ck_assert_str_eq(buf, go_note);
	/* Exactly enough room for the NUL, and one byte less. */
	ck_assert_int_eq(kt_note_sign(s, GO_TEXT, strlen(GO_TEXT), buf, l + 1,
	                     NULL),
	    KT_OK);
	ck_assert_int_eq(kt_note_sign(s, GO_TEXT, strlen(GO_TEXT), buf, l,
	                     NULL),
	    KT_ERR_TOO_LARGE);

	/* Bad texts (Go: "abc" without a newline is malformed). */
	ck_assert_int_eq(kt_note_sign(s, "abc", 3, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_note_sign(s, "", 0, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_note_sign(s, "\n", 1, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_note_sign(s, "a\n\n", 3, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_note_sign(s, "a\rb\n", 4, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_note_sign(s, "a\xff\n", 3, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	kt_signer_free(s);

	/* A cosignature key cannot sign plain notes. */
	c = mk_signer("w", KT_KEY_COSIG, 1);
	ck_assert_int_eq(kt_note_sign(c, GO_TEXT, strlen(GO_TEXT), buf,
	                     sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	kt_signer_free(c);
}
END_TEST

/* ---- kt_note_sig_line --------------------------------------------------- */

START_TEST(test_note_sig_line)
{
	char buf[256];
	size_t l = 0;
	uint8_t sig[64];
	const uint8_t id[4] = { 0xc7, 0x4f, 0x20, 0xa3 };
	uint8_t dec[80];
	size_t dl = 0;

	/* Rebuild Go's signature line from its decoded bytes. */
	ck_assert_int_eq(sodium_base642bin(dec, sizeof(dec), GO_PETER_B64,
	                     strlen(GO_PETER_B64), NULL, &dl, NULL,
	                     sodium_base64_VARIANT_ORIGINAL),
	    0);
	ck_assert_uint_eq(dl, 68);
	memcpy(sig, dec + 4, 64);
	ck_assert_int_eq(kt_note_sig_line("PeterNeumann", id, sig, 64, buf,
	                     sizeof(buf), &l),
	    KT_OK);
	ck_assert_str_eq(buf, GO_PETER_SIG);
	ck_assert_uint_eq(l, strlen(GO_PETER_SIG));
	ck_assert_int_eq(kt_note_sig_line("PeterNeumann", id, sig, 64, buf, l,
	                     NULL),
	    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_note_sig_line("Peter Neumann", id, sig, 64, buf,
	                     sizeof(buf), NULL),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_note_sig_line("", id, sig, 64, buf, sizeof(buf),
	                     NULL),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_note_sig_line("a", id, sig, 0, buf, sizeof(buf),
	                     NULL),
	    KT_ERR_MALFORMED);
	/* One byte after the ID is the smallest the parser accepts. */
	ck_assert_int_eq(kt_note_sig_line("a", id, sig, 1, buf, sizeof(buf),
	                     &l),
	    KT_OK);
	ck_assert_str_eq(buf, EM " a x08go/Y=\n");
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int
main(void)
{
	Suite *s = suite_create("note");

	kt_test_case(s, "kt_note_parse", 0, test_note_parse, NULL);
	kt_test_case(s, "kt_note_open", 0, test_note_open, NULL);
	kt_test_case(s, "kt_note_sign", 0, test_note_sign, NULL);
	kt_test_case(s, "kt_note_sig_line", 0, test_note_sig_line, NULL);
	kt_test_case(s, "kt_note_verify", 240, test_note_verify,
	    test_note_verify_many, test_note_verify_mutations, NULL);
	return kt_test_run(s);
}
