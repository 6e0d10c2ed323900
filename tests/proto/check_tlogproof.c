/*
 * check_tlogproof.c: C2SP tlog-proof text format.
 *
 * Only struct types come from the merkle module: these tests do not depend
 * on proof generation or verification.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "harness/exact.h"
#include "harness/runner.h"
#include "kt/tlogproof.h"

#define HDR "c2sp.org/tlog-proof@v1\n"
#define H0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" /* 32 zero bytes */
#define HE "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" /* SHA-256("") */

static const char cp_text[] = "example.com/log\n12\n" HE "\n";

/* A real signed checkpoint note, made with a fixed test key. */
static size_t
signed_note(char *buf, size_t cap)
{
	uint8_t seed[KT_SEED_LEN] = { 0 };
	struct kt_signer *s = NULL;
	size_t l = 0;

	ck_assert_int_eq(kt_signer_from_seed("example.com/log", KT_KEY_ED25519,
	                     seed, &s),
	    KT_OK);
	ck_assert_int_eq(kt_note_sign(s, cp_text, strlen(cp_text), buf, cap,
	                     &l),
	    KT_OK);
	kt_signer_free(s);
	return l;
}

static struct kt_verifier
note_verifier(void)
{
	uint8_t seed[KT_SEED_LEN] = { 0 };
	struct kt_signer *s = NULL;
	struct kt_verifier v;

	ck_assert_int_eq(kt_signer_from_seed("example.com/log", KT_KEY_ED25519,
	                     seed, &s),
	    KT_OK);
	kt_signer_verifier(s, &v);
	kt_signer_free(s);
	return v;
}

static void
mk_proof(struct kt_proof *p, size_t n, uint8_t seed)
{
	memset(p, 0, sizeof(*p));
	p->n = n;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < KT_HASH_LEN; j++)
			p->h[i].b[j] = (uint8_t)(seed + i * 31 + j);
}

/* Parses a heap copy of exactly len bytes, so ASan sees any over-read.
 * out->note is cleared: it would point into freed memory. */
static kt_err
parse_copy(const char *t, size_t len, struct kt_tlogproof *out)
{
	char *c = exact_copy(t, len);
	kt_err err = kt_tlogproof_parse(c, len, out);

	free(c);
	out->note = NULL;
	return err;
}

static int
same(const struct kt_tlogproof *a, const struct kt_tlogproof *b)
{
	if (a->proof.n != b->proof.n)
		return 0;
	for (size_t i = 0; i < a->proof.n; i++)
		if (!kt_hash_eq(&a->proof.h[i], &b->proof.h[i]))
			return 0;
	return a->extra_len == b->extra_len &&
	    memcmp(a->extra, b->extra, a->extra_len) == 0 &&
	    a->index == b->index && a->note_len == b->note_len;
}

/* ---- kt_tlogproof_format ------------------------------------------------ */

/* Big extras for the round trips and the size limits. */
static uint8_t big[KT_TLOGPROOF_EXTRA_MAX + 1];

/* The exact text kt_tlogproof_format writes, and its buffer limits; buf
 * holds KT_TLOGPROOF_MAX bytes. */
static void
format_exact_text(char *buf)
{
	struct kt_proof p;
	size_t l = 0;
	const uint8_t extra[3] = { 1, 2, 3 };

	mk_proof(&p, 2, 0);
	memset(p.h[0].b, 0, KT_HASH_LEN);
	crypto_hash_sha256(p.h[1].b, NULL, 0);
	ck_assert_int_eq(kt_tlogproof_format(extra, 3, 5, &p, "n\n", 2, buf,
	                     KT_TLOGPROOF_MAX, &l),
	    KT_OK);
	ck_assert_str_eq(buf, HDR "extra AQID\nindex 5\n" H0 "\n" HE "\n\nn\n");
	ck_assert_uint_eq(l, strlen(buf));
	ck_assert_int_eq(kt_tlogproof_format(extra, 3, 5, &p, "n\n", 2, buf,
	                     l + 1, NULL),
	    KT_OK);
	ck_assert_int_eq(kt_tlogproof_format(extra, 3, 5, &p, "n\n", 2, buf, l,
	                     NULL),
	    KT_ERR_TOO_LARGE);
	ck_assert_str_eq(buf, "");
	/* No extra line when extra is NULL or empty. */
	ck_assert_int_eq(kt_tlogproof_format(NULL, 3, 0, &p, "n\n", 2, buf,
	                     KT_TLOGPROOF_MAX, &l),
	    KT_OK);
	ck_assert_str_eq(buf, HDR "index 0\n" H0 "\n" HE "\n\nn\n");
	ck_assert_int_eq(kt_tlogproof_format(extra, 0, 0, &p, "n\n", 2, buf,
	                     KT_TLOGPROOF_MAX, &l),
	    KT_OK);
	ck_assert_str_eq(buf, HDR "index 0\n" H0 "\n" HE "\n\nn\n");
}

/* Proofs of several lengths, indexes and extras round-trip through
 * kt_tlogproof_parse, up to the largest extra (KT_TLOGPROOF_EXTRA_MAX bytes); buf
 * holds KT_TLOGPROOF_MAX bytes. */
static void
format_round_trips(char *buf, const char *note, size_t nl)
{
	static struct kt_tlogproof t;
	struct kt_proof p;
	size_t l = 0;
	const size_t ns[] = { 0, 1, 2, 17, 63 };
	const uint64_t idx[] = { 0, 1, 255, UINT64_MAX };

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		for (size_t j = 0; j < sizeof(idx) / sizeof(idx[0]); j++) {
			size_t el = (i + j) % 3 == 0 ? 0 : 1 + i * 100 + j;

			for (size_t k = 0; k < el; k++)
				big[k] = (uint8_t)(k * 7 + j);
			mk_proof(&p, ns[i], (uint8_t)(i + j));
			ck_assert_int_eq(kt_tlogproof_format(big, el, idx[j],
			                     &p, note, nl, buf,
			                     KT_TLOGPROOF_MAX, &l),
			    KT_OK);
			ck_assert_int_eq(kt_tlogproof_parse(buf, l, &t), KT_OK);
			ck_assert_uint_eq(t.extra_len, el);
			ck_assert_mem_eq(t.extra, big, el);
			ck_assert_uint_eq(t.index, idx[j]);
			ck_assert_uint_eq(t.proof.n, ns[i]);
			ck_assert_mem_eq(t.proof.h, p.h, ns[i] * KT_HASH_LEN);
			ck_assert_uint_eq(t.note_len, nl);
			ck_assert_ptr_eq(t.note, buf + l - nl);
			ck_assert_mem_eq(t.note, note, nl);
		}
	}
	/* The largest extra (KT_TLOGPROOF_EXTRA_MAX bytes) round-trips. */
	memset(big, 0xa5, sizeof(big));
	mk_proof(&p, 63, 9);
	ck_assert_int_eq(kt_tlogproof_format(big, KT_TLOGPROOF_EXTRA_MAX,
	                     UINT64_MAX, &p, note, nl, buf, KT_TLOGPROOF_MAX,
	                     &l),
	    KT_OK);
	ck_assert_int_eq(kt_tlogproof_parse(buf, l, &t), KT_OK);
	ck_assert_uint_eq(t.extra_len, KT_TLOGPROOF_EXTRA_MAX);
}

/* kt_tlogproof_format refuses an extra, proof, note or buffer out of
 * bounds; buf holds KT_TLOGPROOF_MAX bytes. */
static void
format_errors(char *buf, const char *note, size_t nl)
{
	struct kt_proof p;
	size_t l = 0;

	memset(big, 0xa5, sizeof(big));
	mk_proof(&p, 63, 9);
	ck_assert_int_eq(kt_tlogproof_format(big, KT_TLOGPROOF_EXTRA_MAX + 1, 0,
	                     &p, note, nl, buf, KT_TLOGPROOF_MAX, &l),
	    KT_ERR_TOO_LARGE);
	mk_proof(&p, 64, 0);
	ck_assert_int_eq(kt_tlogproof_format(NULL, 0, 0, &p, note, nl, buf,
	                     KT_TLOGPROOF_MAX, &l),
	    KT_ERR_MALFORMED);
	mk_proof(&p, 1, 0);
	ck_assert_int_eq(kt_tlogproof_format(NULL, 0, 0, &p, note, 0, buf,
	                     KT_TLOGPROOF_MAX, &l),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_tlogproof_format(NULL, 0, 0, &p, buf,
	                     KT_NOTE_MAX + 1, buf, KT_TLOGPROOF_MAX, &l),
	    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_tlogproof_format(NULL, 0, 0, &p, note, nl, buf, 0,
	                     &l),
	    KT_ERR_TOO_LARGE);
}

START_TEST(test_tlogproof_format)
{
	char *buf = malloc(KT_TLOGPROOF_MAX + 1);
	char note[1024];
	size_t nl = signed_note(note, sizeof(note));

	format_exact_text(buf);
	format_round_trips(buf, note, nl);
	format_errors(buf, note, nl);
	free(buf);
}
END_TEST

/* ---- kt_tlogproof_parse ------------------------------------------------- */

struct bad_proof {
	const char *what;
	const char *text;
	kt_err want;
};

#define NOTE "n\n\n\xe2\x80\x94 a x08go/Y=\n"
static const struct bad_proof bad_proofs[] = {
	{ "empty", "", KT_ERR_MALFORMED },
	{ "header only", HDR, KT_ERR_MALFORMED },
	{ "wrong version", "c2sp.org/tlog-proof@v2\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "header CRLF", "c2sp.org/tlog-proof@v1\r\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "header leading space", " c2sp.org/tlog-proof@v1\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "header uppercase", "C2SP.org/tlog-proof@v1\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "no index", HDR "\n" NOTE, KT_ERR_MALFORMED },
	{ "index empty", HDR "index \n\n" NOTE, KT_ERR_MALFORMED },
	{ "index leading zero", HDR "index 05\n\n" NOTE, KT_ERR_MALFORMED },
	{ "index plus", HDR "index +5\n\n" NOTE, KT_ERR_MALFORMED },
	{ "index two spaces", HDR "index  5\n\n" NOTE, KT_ERR_MALFORMED },
	{ "index trailing space", HDR "index 5 \n\n" NOTE, KT_ERR_MALFORMED },
	{ "index 2^64", HDR "index 18446744073709551616\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "index tab", HDR "index\t5\n\n" NOTE, KT_ERR_MALFORMED },
	{ "extra empty", HDR "extra \nindex 0\n\n" NOTE, KT_ERR_MALFORMED },
	{ "extra no space", HDR "extraAQID\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "extra bad base64", HDR "extra AQI!\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "extra non-canonical", HDR "extra AQJ=\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "extra unpadded", HDR "extra AQ\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "extra after index", HDR "index 0\nextra AQID\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "two extra lines", HDR "extra AQID\nextra AQID\nindex 0\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "hash 31 bytes",
	    HDR "index 0\n"
	        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuA==\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "hash 33 bytes",
	    HDR "index 0\n"
	        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFVV\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "hash non-canonical",
	    HDR "index 0\n"
	        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "hash unpadded",
	    HDR "index 0\n"
	        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "hash with trailing space", HDR "index 0\n" HE " \n\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "no blank line", HDR "index 0\n" HE "\n", KT_ERR_MALFORMED },
	{ "no blank line, note follows", HDR "index 0\n" NOTE,
	    KT_ERR_MALFORMED },
	{ "empty note", HDR "index 0\n" HE "\n\n", KT_ERR_MALFORMED },
	{ "index without newline", HDR "index 0", KT_ERR_MALFORMED },
};

/* The bounds of kt_tlogproof_parse: 63 hash lines, an extra of
 * KT_TLOGPROOF_EXTRA_MAX bytes, a note of KT_NOTE_MAX bytes and a whole of
 * KT_TLOGPROOF_MAX bytes; buf holds KT_TLOGPROOF_MAX + 2 bytes. */
static void
parse_size_limits(char *buf)
{
	static struct kt_tlogproof t;

	/* 63 hash lines parse, 64 are too many. */
	{
		size_t o = strlen(HDR "index 0\n");

		memcpy(buf, HDR "index 0\n", o);
		for (int i = 0; i < 64; i++, o += 45)
			memcpy(buf + o, HE "\n", 45);
		memcpy(buf + o - 45, "\n" NOTE, strlen(NOTE) + 1);
		ck_assert_int_eq(kt_tlogproof_parse(buf,
		                     o - 45 + strlen(NOTE) + 1, &t),
		    KT_OK);
		ck_assert_uint_eq(t.proof.n, 63);
		memcpy(buf + o - 45, HE "\n", 45);
		memcpy(buf + o, "\n" NOTE, strlen(NOTE) + 1);
		ck_assert_int_eq(kt_tlogproof_parse(buf, o + strlen(NOTE) + 1,
		                     &t),
		    KT_ERR_TOO_LARGE);
		ck_assert_uint_eq(t.proof.n, 0);
	}
	/* An extra of KT_TLOGPROOF_EXTRA_MAX + 1 bytes is too large. */
	{
		uint8_t *big = calloc(1, KT_TLOGPROOF_EXTRA_MAX + 3);
		size_t o = strlen(HDR "extra ");

		memcpy(buf, HDR "extra ", o);
		sodium_bin2base64(buf + o, KT_TLOGPROOF_MAX - o, big,
		    KT_TLOGPROOF_EXTRA_MAX + 1, sodium_base64_VARIANT_ORIGINAL);
		o += strlen(buf + o);
		memcpy(buf + o, "\nindex 0\n\n" NOTE, strlen(NOTE) + 10);
		ck_assert_int_eq(kt_tlogproof_parse(buf, o + strlen(NOTE) + 10,
		                     &t),
		    KT_ERR_TOO_LARGE);
		/* ... by a base64 line longer than any KT_TLOGPROOF_EXTRA_MAX encoding. */
		o = strlen(HDR "extra ");
		sodium_bin2base64(buf + o, KT_TLOGPROOF_MAX - o, big,
		    KT_TLOGPROOF_EXTRA_MAX + 3, sodium_base64_VARIANT_ORIGINAL);
		o += strlen(buf + o);
		memcpy(buf + o, "\nindex 0\n\n" NOTE, strlen(NOTE) + 10);
		ck_assert_int_eq(kt_tlogproof_parse(buf, o + strlen(NOTE) + 10,
		                     &t),
		    KT_ERR_TOO_LARGE);
		free(big);
	}
	/* The note is bounded by KT_NOTE_MAX, the whole by KT_TLOGPROOF_MAX. */
	{
		size_t o = strlen(HDR "index 0\n\n");

		memcpy(buf, HDR "index 0\n\n", o);
		memset(buf + o, 'x', KT_NOTE_MAX + 1);
		ck_assert_int_eq(kt_tlogproof_parse(buf, o + KT_NOTE_MAX, &t),
		    KT_OK);
		ck_assert_int_eq(kt_tlogproof_parse(buf, o + KT_NOTE_MAX + 1,
		                     &t),
		    KT_ERR_TOO_LARGE);
		ck_assert_int_eq(kt_tlogproof_parse(buf, KT_TLOGPROOF_MAX + 1,
		                     &t),
		    KT_ERR_TOO_LARGE);
	}
}

/* buf holds a valid proof t of l bytes whose note (at hl) opens with v:
 * every truncation and every single-byte change is noticed. buf is
 * restored before returning. */
static void
parse_mutations(char *buf, size_t l, size_t hl, const struct kt_tlogproof *t,
    const struct kt_verifier *v)
{
	static struct kt_tlogproof u;
	struct kt_note n;

	/* Every truncation: rejected before the note starts; inside the
	 * note, the proof text parses but the note no longer opens. */
	for (size_t i = 0; i < l; i++) {
		char *c = exact_copy(buf, i);
		kt_err err = kt_tlogproof_parse(c, i, &u);

		if (i <= hl) {
			ck_assert_msg(err != KT_OK, "truncation to %zu", i);
		} else {
			ck_assert_int_eq(err, KT_OK);
			ck_assert_int_ne(kt_note_open(u.note, u.note_len, v, 1,
			                     &n, NULL, NULL),
			    KT_OK);
		}
		free(c);
	}

	/* Every single-byte change before the note is rejected or changes
	 * a parsed value; a bit flip in the note breaks the note. */
	for (size_t i = 0; i < l; i++) {
		char orig = buf[i];
		int o = (unsigned char)orig;

		for (int x = 0; x < 256; x++) {
			kt_err err;

			if (x == o || (i >= hl && x != (o ^ 1)))
				continue;
			buf[i] = (char)x;
			err = kt_tlogproof_parse(buf, l, &u);
			if (i < hl) {
				ck_assert_msg(err != KT_OK || !same(t, &u),
				    "byte %zu = 0x%02x unnoticed", i, x);
			} else {
				ck_assert_int_eq(err, KT_OK);
				ck_assert_int_ne(kt_note_open(u.note,
				                     u.note_len, v, 1, &n, NULL,
				                     NULL),
				    KT_OK);
			}
		}
		buf[i] = orig;
	}
}

START_TEST(test_tlogproof_parse)
{
	static struct kt_tlogproof t;
	struct kt_proof p;
	struct kt_verifier v = note_verifier();
	struct kt_note n;
	char note[1024];
	char *buf = malloc(KT_TLOGPROOF_MAX + 2);
	size_t nl = signed_note(note, sizeof(note)), l = 0, hl;
	const uint8_t extra[5] = { 9, 8, 7, 6, 5 };

	for (size_t i = 0; i < sizeof(bad_proofs) / sizeof(bad_proofs[0]);
	     i++) {
		const struct bad_proof *b = &bad_proofs[i];
		kt_err err = parse_copy(b->text, strlen(b->text), &t);

		ck_assert_msg(err == b->want, "%s: got %d want %d", b->what,
		    err, b->want);
		ck_assert_uint_eq(t.proof.n, 0);
		ck_assert_uint_eq(t.extra_len, 0);
	}
	/* The smallest valid proof. */
	ck_assert_int_eq(parse_copy(HDR "index 0\n\n" NOTE,
	                     strlen(HDR "index 0\n\n" NOTE), &t),
	    KT_OK);
	ck_assert_uint_eq(t.proof.n, 0);
	ck_assert_uint_eq(t.note_len, strlen(NOTE));

	parse_size_limits(buf);

	/* A real proof: its note opens with the log's key. */
	mk_proof(&p, 4, 3);
	ck_assert_int_eq(kt_tlogproof_format(extra, sizeof(extra), 11, &p, note,
	                     nl, buf, KT_TLOGPROOF_MAX, &l),
	    KT_OK);
	ck_assert_int_eq(kt_tlogproof_parse(buf, l, &t), KT_OK);
	ck_assert_int_eq(kt_note_open(t.note, t.note_len, &v, 1, &n, NULL,
	                     NULL),
	    KT_OK);
	ck_assert_mem_eq(n.text, cp_text, n.text_len);
	hl = l - nl;

	parse_mutations(buf, l, hl, &t, &v);
	free(buf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("tlogproof");

	kt_test_case(s, "kt_tlogproof_format", 0, test_tlogproof_format, NULL);
	kt_test_case(s, "kt_tlogproof_parse", 120, test_tlogproof_parse, NULL);
	return kt_test_run(s);
}
