/*
 * check_checkpoint.c: C2SP tlog-checkpoint bodies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "harness/exact.h"
#include "harness/runner.h"
#include "kt/checkpoint.h"

/* Base64 of SHA-256("") = e3b0c442...b855, the empty tree's root (RFC 9162). */
#define EMPTY_ROOT "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

static void
fill(struct kt_checkpoint *c, const char *origin, uint64_t size, uint8_t seed,
    const char *ext)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
	c->size = size;
	for (int i = 0; i < KT_HASH_LEN; i++)
		c->root.b[i] = (uint8_t)(seed + i * 13);
	c->ext_len = strlen(ext);
	memcpy(c->ext, ext, c->ext_len);
}

/* Parses a heap copy of exactly len bytes, so ASan sees any over-read. */
static kt_err
parse_copy(const char *t, size_t len, struct kt_checkpoint *out)
{
	char *c = exact_copy(t, len);
	kt_err err = kt_checkpoint_parse(c, len, out);

	free(c);
	return err;
}

/* ---- kt_checkpoint_format ----------------------------------------------- */

START_TEST(test_checkpoint_format)
{
	struct kt_checkpoint c, d;
	char buf[KT_CHECKPOINT_TEXT_MAX];
	size_t l = 0;
	const uint64_t sizes[] = { 0, 1, 9, 10, 255, 256, 1000000,
		UINT64_MAX - 1, UINT64_MAX };
	const char *exts[] = { "", "ext\n",
		"a b c\nsecond line \xe2\x80\x94 ok\n" };

	/* Empty tree: the exact expected text. */
	fill(&c, "example.com/log", 0, 0, "");
	crypto_hash_sha256(c.root.b, NULL, 0);
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l), KT_OK);
	ck_assert_str_eq(buf, "example.com/log\n0\n" EMPTY_ROOT "\n");
	ck_assert_uint_eq(l, strlen(buf));
	/* The buffer must hold the NUL too. */
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, l + 1, NULL), KT_OK);
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, l, NULL),
	    KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");

	/* Round trips. */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (size_t j = 0; j < sizeof(exts) / sizeof(exts[0]); j++) {
			fill(&c, "log.example/x", sizes[i], (uint8_t)(i + j),
			    exts[j]);
			ck_assert_int_eq(kt_checkpoint_format(&c, buf,
			                     sizeof(buf), &l),
			    KT_OK);
			ck_assert_int_eq(kt_checkpoint_parse(buf, l, &d),
			    KT_OK);
			ck_assert_mem_eq(&c, &d, sizeof(c));
		}
	}
	{
		char want[64];

		fill(&c, "o", UINT64_MAX, 0, "");
		ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
		    KT_OK);
		snprintf(want, sizeof(want), "o\n%" PRIu64 "\n", UINT64_MAX);
		ck_assert_int_eq(strncmp(buf, want, strlen(want)), 0);
		ck_assert_int_eq(strncmp(buf, "o\n18446744073709551615\n", 23),
		    0);
	}

	/* Errors. */
	fill(&c, "", 1, 0, "");
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	fill(&c, "a b", 1, 0, "");
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	fill(&c, "a+b", 1, 0, "");
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	memset(c.origin, 'a', sizeof(c.origin)); /* no NUL */
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	fill(&c, "o", 1, 0, "no newline");
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	fill(&c, "o", 1, 0, "a\n\nb\n");
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	fill(&c, "o", 1, 0, "\n");
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	fill(&c, "o", 1, 0, "a\tb\n");
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_MALFORMED);
	fill(&c, "o", 1, 0, "");
	c.ext_len = KT_CHECKPOINT_EXT_MAX + 1;
	ck_assert_int_eq(kt_checkpoint_format(&c, buf, sizeof(buf), &l),
	    KT_ERR_TOO_LARGE);
}
END_TEST

/* ---- kt_checkpoint_parse ------------------------------------------------ */

struct bad_cp {
	const char *what;
	const char *text;
	kt_err want;
};

#define O "example.com/log\n"
#define O_NAME "example.com/log"
static const struct bad_cp bad_cps[] = {
	{ "empty", "", KT_ERR_MALFORMED },
	{ "origin only", O, KT_ERR_MALFORMED },
	{ "no root", O "5\n", KT_ERR_MALFORMED },
	{ "missing final newline", O "5\n" EMPTY_ROOT, KT_ERR_MALFORMED },
	{ "leading zeros", O "05\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "zero with leading zero", O "00\n" EMPTY_ROOT "\n",
	    KT_ERR_MALFORMED },
	{ "plus sign", O "+5\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "minus sign", O "-1\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "space before size", O " 5\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "space after size", O "5 \n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "hex size", O "0x5\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "empty size", O "\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "size 2^64", O "18446744073709551616\n" EMPTY_ROOT "\n",
	    KT_ERR_MALFORMED },
	{ "size 10^20", O "100000000000000000000\n" EMPTY_ROOT "\n",
	    KT_ERR_MALFORMED },
	{ "root 31 bytes",
	    O "5\n"
	      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA==\n",
	    KT_ERR_MALFORMED },
	{ "root 33 bytes",
	    O "5\n"
	      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFVV\n",
	    KT_ERR_MALFORMED },
	{ "root 30 bytes",
	    O "5\n"
	      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hS\n",
	    KT_ERR_MALFORMED },
	{ "root non-canonical",
	    O "5\n"
	      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n",
	    KT_ERR_MALFORMED },
	{ "root unpadded",
	    O "5\n"
	      "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",
	    KT_ERR_MALFORMED },
	{ "root url-safe",
	    O "5\n"
	      "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	    KT_ERR_MALFORMED },
	{ "root with space",
	    O "5\n"
	      " 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	    KT_ERR_MALFORMED },
	{ "root in hex",
	    O
	    "5\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
	    KT_ERR_MALFORMED },
	{ "empty extension line", O "5\n" EMPTY_ROOT "\n\n", KT_ERR_MALFORMED },
	{ "empty line between extensions", O "5\n" EMPTY_ROOT "\na\n\nb\n",
	    KT_ERR_MALFORMED },
	{ "extension without newline", O "5\n" EMPTY_ROOT "\next",
	    KT_ERR_MALFORMED },
	{ "extension with tab", O "5\n" EMPTY_ROOT "\na\tb\n",
	    KT_ERR_MALFORMED },
	{ "extension with bad UTF-8", O "5\n" EMPTY_ROOT "\na\xff\n",
	    KT_ERR_MALFORMED },
	{ "CRLF", "example.com/log\r\n5\r\n" EMPTY_ROOT "\r\n",
	    KT_ERR_MALFORMED },
	{ "origin with space", "example.com log\n5\n" EMPTY_ROOT "\n",
	    KT_ERR_MALFORMED },
	{ "origin with plus", "example.com+log\n5\n" EMPTY_ROOT "\n",
	    KT_ERR_MALFORMED },
	{ "empty origin", "\n5\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
	{ "blank first line", "\n" O "5\n" EMPTY_ROOT "\n", KT_ERR_MALFORMED },
};

START_TEST(test_checkpoint_parse)
{
	struct kt_checkpoint c;
	const char *ok = O "18446744073709551615\n" EMPTY_ROOT "\n";
	uint8_t empty[32];
	static char big[KT_CHECKPOINT_TEXT_MAX + 2];

	crypto_hash_sha256(empty, NULL, 0);
	ck_assert_int_eq(kt_checkpoint_parse(ok, strlen(ok), &c), KT_OK);
	ck_assert_str_eq(c.origin, "example.com/log");
	ck_assert_uint_eq(c.size, UINT64_MAX);
	ck_assert_mem_eq(c.root.b, empty, 32);
	ck_assert_uint_eq(c.ext_len, 0);

	/* Extension lines are kept verbatim. */
	{
		const char *t =
		    O "0\n" EMPTY_ROOT "\nfoo bar\n\xe2\x80\x94 x\n";

		ck_assert_int_eq(kt_checkpoint_parse(t, strlen(t), &c), KT_OK);
		ck_assert_uint_eq(c.size, 0);
		ck_assert_uint_eq(c.ext_len, 14);
		ck_assert_mem_eq(c.ext, "foo bar\n\xe2\x80\x94 x\n", 14);
	}

	for (size_t i = 0; i < sizeof(bad_cps) / sizeof(bad_cps[0]); i++) {
		const struct bad_cp *b = &bad_cps[i];
		kt_err err = parse_copy(b->text, strlen(b->text), &c);

		ck_assert_msg(err == b->want, "%s: got %d want %d", b->what,
		    err, b->want);
		ck_assert_uint_eq(c.size, 0);
		ck_assert_str_eq(c.origin, "");
	}
	/* A NUL in the origin. */
	{
		const char t[] = "exa\0mple\n5\n" EMPTY_ROOT "\n";

		ck_assert_int_eq(kt_checkpoint_parse(t, sizeof(t) - 1, &c),
		    KT_ERR_MALFORMED);
	}

	/* An origin of KT_KEY_NAME_MAX bytes parses; one more does not. */
	{
		size_t o;

		memset(big, 'a', KT_KEY_NAME_MAX + 1);
		o = KT_KEY_NAME_MAX;
		memcpy(big + o, "\n1\n" EMPTY_ROOT "\n", 48);
		ck_assert_int_eq(kt_checkpoint_parse(big, o + 48, &c), KT_OK);
		ck_assert_uint_eq(strlen(c.origin), KT_KEY_NAME_MAX);
		memset(big, 'a', KT_KEY_NAME_MAX + 1);
		o = KT_KEY_NAME_MAX + 1;
		memcpy(big + o, "\n1\n" EMPTY_ROOT "\n", 48);
		ck_assert_int_eq(kt_checkpoint_parse(big, o + 48, &c),
		    KT_ERR_MALFORMED);
	}
	/* Extension bytes: KT_CHECKPOINT_EXT_MAX fit, one more is too large. */
	{
		size_t hl = strlen(O "1\n" EMPTY_ROOT "\n");

		memcpy(big, O "1\n" EMPTY_ROOT "\n", hl);
		memset(big + hl, 'e', KT_CHECKPOINT_EXT_MAX + 1);
		big[hl + KT_CHECKPOINT_EXT_MAX - 1] = '\n';
		ck_assert_int_eq(kt_checkpoint_parse(big,
		                     hl + KT_CHECKPOINT_EXT_MAX, &c),
		    KT_OK);
		ck_assert_uint_eq(c.ext_len, KT_CHECKPOINT_EXT_MAX);
		big[hl + KT_CHECKPOINT_EXT_MAX - 1] = 'e';
		big[hl + KT_CHECKPOINT_EXT_MAX] = '\n';
		ck_assert_int_eq(kt_checkpoint_parse(big,
		                     hl + KT_CHECKPOINT_EXT_MAX + 1, &c),
		    KT_ERR_TOO_LARGE);
		ck_assert_uint_eq(c.ext_len, 0);
	}
	memset(big, 'a', KT_CHECKPOINT_TEXT_MAX + 1);
	ck_assert_int_eq(kt_checkpoint_parse(big, KT_CHECKPOINT_TEXT_MAX + 1,
	                     &c),
	    KT_ERR_TOO_LARGE);

	/* Every truncation of a checkpoint without extensions is rejected. */
	for (size_t i = 0; i < strlen(ok); i++)
		ck_assert_msg(parse_copy(ok, i, &c) != KT_OK,
		    "truncation to %zu accepted", i);
	/* With extensions, a prefix parses only at a line boundary after
	 * the root, and then keeps exactly the lines it has. */
	{
		const char *t = O "3\n" EMPTY_ROOT "\nab\ncd\n";
		size_t hl = strlen(O "3\n" EMPTY_ROOT "\n");

		for (size_t i = 0; i <= strlen(t); i++) {
			kt_err err = parse_copy(t, i, &c);
			int boundary = i >= hl && t[i - 1] == '\n';

			ck_assert_int_eq(err == KT_OK, boundary);
			if (boundary)
				ck_assert_uint_eq(c.ext_len, i - hl);
		}
	}
}
END_TEST

/* ---- kt_signed_checkpoint_open ----------------------------------------- */

/* A note over `text` signed by a log key named `name` from seed byte `sb`. */
static void
signed_note(const char *name, uint8_t sb, const char *text, char *buf,
    size_t cap, size_t *len, struct kt_verifier *v)
{
	uint8_t seed[KT_SEED_LEN];
	struct kt_signer *s = NULL;

	memset(seed, sb, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed(name, KT_KEY_ED25519, seed, &s),
	    KT_OK);
	ck_assert_int_eq(kt_note_sign(s, text, strlen(text), buf, cap, len),
	    KT_OK);
	kt_signer_verifier(s, v);
	kt_signer_free(s);
}

START_TEST(test_signed_checkpoint_open)
{
	const char *body = O "3\n" EMPTY_ROOT "\n";
	char note[1024], other[1024];
	size_t len, olen;
	struct kt_verifier v, w;
	struct kt_signed_checkpoint sc;

	signed_note(O_NAME, 1, body, note, sizeof(note), &len, &v);
	memset(&sc, 0x5a, sizeof(sc));
	ck_assert_int_eq(kt_signed_checkpoint_open(note, len, &v, &sc), KT_OK);
	ck_assert_ptr_eq(sc.note, note);
	ck_assert_uint_eq(sc.note_len, len);
	ck_assert_str_eq(sc.cp.origin, O_NAME);
	ck_assert_uint_eq(sc.cp.size, 3);

	/* Signed by another key of the same name: the log's signature line
	 * is absent (its key ID differs). */
	signed_note(O_NAME, 2, body, other, sizeof(other), &olen, &w);
	ck_assert_int_eq(kt_signed_checkpoint_open(other, olen, &v, &sc),
	    KT_ERR_UNKNOWN_KEY);
	/* A flipped signature byte: the log's line is there but false. */
	note[len - 3] = note[len - 3] == 'A' ? 'B' : 'A';
	ck_assert_int_ne(kt_signed_checkpoint_open(note, len, &v, &sc), KT_OK);
	/* Signed by the log key, but the body's origin is another log. */
	signed_note(O_NAME, 1, "other.example/log\n3\n" EMPTY_ROOT "\n", other,
	    sizeof(other), &olen, &w);
	ck_assert_int_eq(kt_signed_checkpoint_open(other, olen, &v, &sc),
	    KT_ERR_VERIFY);
	/* Signed, but not a checkpoint. */
	signed_note(O_NAME, 1, "hello\n", other, sizeof(other), &olen, &w);
	ck_assert_int_eq(kt_signed_checkpoint_open(other, olen, &v, &sc),
	    KT_ERR_MALFORMED);
	/* Not a note at all, and every truncation of a good one. */
	ck_assert_int_eq(kt_signed_checkpoint_open("x", 1, &v, &sc),
	    KT_ERR_MALFORMED);
	signed_note(O_NAME, 1, body, note, sizeof(note), &len, &v);
	for (size_t i = 0; i < len; i++)
		ck_assert_int_ne(kt_signed_checkpoint_open(note, i, &v, &sc),
		    KT_OK);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("checkpoint");

	kt_test_case(s, "kt_checkpoint_format", 0, test_checkpoint_format,
	    NULL);
	kt_test_case(s, "kt_checkpoint_parse", 0, test_checkpoint_parse, NULL);
	kt_test_case(s, "kt_signed_checkpoint_open", 0,
	    test_signed_checkpoint_open, NULL);
	return kt_test_run(s);
}
