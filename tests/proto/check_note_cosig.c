/*
 * check_note_cosig.c: C2SP tlog-cosignature: signing and verifying
 * cosignatures.
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

/* ---- kt_cosig_sign ------------------------------------------------------ */

static const char cp_text[] = "example.com/log\n7\n"
                              "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";

START_TEST(test_cosig_sign)
{
	struct kt_signer *w = mk_signer("witness.example/w", KT_KEY_COSIG, 11);
	struct kt_verifier v;
	char line[256], msg[256];
	uint8_t dec[128];
	size_t l = 0, dl = 0, tl = strlen(cp_text), ml;
	const char *b64;
	uint64_t ts = 1733000000;

	kt_signer_verifier(w, &v);
	ck_assert_int_eq(kt_cosig_sign(w, cp_text, tl, ts, line, sizeof(line),
	                     &l),
	    KT_OK);
	ck_assert_uint_eq(l, strlen(line));
	ck_assert_int_eq(strncmp(line, EM " witness.example/w ", 22), 0);
	ck_assert_int_eq(line[l - 1], '\n');

	/* Check the C2SP tlog-cosignature layout independently: 76 bytes of
	 * id || u64be time || Ed25519 over "cosignature/v1\ntime T\n" text. */
	b64 = line + 22;
	ck_assert_int_eq(sodium_base642bin(dec, sizeof(dec), b64, l - 22 - 1,
	                     NULL, &dl, NULL, sodium_base64_VARIANT_ORIGINAL),
	    0);
	ck_assert_uint_eq(dl, KT_COSIG_LEN);
	ck_assert_mem_eq(dec, v.id, 4);
	ck_assert_mem_eq(dec + 4, "\x00\x00\x00\x00\x67\x4b\x7b\x40", 8);
	ml = (size_t)snprintf(msg, sizeof(msg),
	    "cosignature/v1\ntime %" PRIu64 "\n%s", ts, cp_text);
	ck_assert_int_eq(crypto_sign_verify_detached(dec + 12,
	                     (const uint8_t *)msg, ml, v.pub),
	    0);
	/* Not a plain signature over the text. */
	ck_assert_int_ne(crypto_sign_verify_detached(dec + 12,
	                     (const uint8_t *)cp_text, tl, v.pub),
	    0);

	/* Errors. */
	ck_assert_int_eq(kt_cosig_sign(w, cp_text, tl, ts, line, l, NULL),
	    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_cosig_sign(w, "abc", 3, ts, line, sizeof(line),
	                     NULL),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_cosig_sign(w, "a\0\n", 3, ts, line, sizeof(line),
	                     NULL),
	    KT_ERR_MALFORMED);
	kt_signer_free(w);
	w = mk_signer("log", KT_KEY_ED25519, 11);
	ck_assert_int_eq(kt_cosig_sign(w, cp_text, tl, ts, line, sizeof(line),
	                     NULL),
	    KT_ERR_MALFORMED);
	kt_signer_free(w);
}
END_TEST

/* ---- kt_cosig_verify ---------------------------------------------------- */

static void
cosig_bytes(struct kt_signer *w, uint64_t ts, uint8_t out[KT_COSIG_LEN])
{
	char line[256];
	size_t l = 0, dl = 0;
	const char *sp;

	ck_assert_int_eq(kt_cosig_sign(w, cp_text, strlen(cp_text), ts, line,
	                     sizeof(line), &l),
	    KT_OK);
	sp = strchr(line + 4, ' ');
	ck_assert_int_eq(sodium_base642bin(out, KT_COSIG_LEN, sp + 1,
	                     (size_t)(line + l - 1 - (sp + 1)), NULL, &dl, NULL,
	                     sodium_base64_VARIANT_ORIGINAL),
	    0);
	ck_assert_uint_eq(dl, KT_COSIG_LEN);
}

START_TEST(test_cosig_verify)
{
	struct kt_signer *w = mk_signer("w1", KT_KEY_COSIG, 21);
	struct kt_signer *log =
	    mk_signer("example.com/log", KT_KEY_ED25519, 22);
	struct kt_verifier v, lv, vs[2];
	uint8_t sig[KT_COSIG_LEN];
	uint64_t t = 1, stamps[] = { 0, 1, 1733000000, UINT64_MAX };
	size_t tl = strlen(cp_text);

	kt_signer_verifier(w, &v);
	kt_signer_verifier(log, &lv);
	for (size_t i = 0; i < sizeof(stamps) / sizeof(stamps[0]); i++) {
		cosig_bytes(w, stamps[i], sig);
		ck_assert_int_eq(kt_cosig_verify(&v, cp_text, tl, sig, &t),
		    KT_OK);
		ck_assert_uint_eq(t, stamps[i]);
	}

	cosig_bytes(w, 1733000000, sig);
	/* Another time, another text, another key, a flipped bit. */
	sig[11] ^= 1;
	ck_assert_int_eq(kt_cosig_verify(&v, cp_text, tl, sig, &t),
	    KT_ERR_VERIFY);
	ck_assert_uint_eq(t, 0);
	sig[11] ^= 1;
	ck_assert_int_eq(kt_cosig_verify(&v, cp_text, tl - 1, sig, &t),
	    KT_ERR_VERIFY);
	sig[0] ^= 1;
	ck_assert_int_eq(kt_cosig_verify(&v, cp_text, tl, sig, &t),
	    KT_ERR_VERIFY);
	sig[0] ^= 1;
	for (size_t i = 12; i < KT_COSIG_LEN; i += 7) {
		sig[i] ^= 0x20;
		ck_assert_int_eq(kt_cosig_verify(&v, cp_text, tl, sig, NULL),
		    KT_ERR_VERIFY);
		sig[i] ^= 0x20;
	}
	/* A plain Ed25519 verifier of the same key never takes a cosig. */
	{
		struct kt_verifier p = v;

		p.type = KT_KEY_ED25519;
		ck_assert_int_eq(kt_cosig_verify(&p, cp_text, tl, sig, &t),
		    KT_ERR_VERIFY);
	}
	ck_assert_int_eq(kt_cosig_verify(&v, cp_text, tl, sig, NULL), KT_OK);

	/* In a note: the log's signature plus the cosignature. */
	{
		char note[1024], line[256];
		size_t l = 0, cl = 0;
		struct kt_note n;
		uint8_t ok[2];
		uint64_t times[2];

		ck_assert_int_eq(kt_note_sign(log, cp_text, tl, note,
		                     sizeof(note), &l),
		    KT_OK);
		ck_assert_int_eq(kt_cosig_sign(w, cp_text, tl, 1733000000, line,
		                     sizeof(line), &cl),
		    KT_OK);
		memcpy(note + l, line, cl + 1);
		vs[0] = lv;
		vs[1] = v;
		ck_assert_int_eq(kt_note_open(note, l + cl, vs, 2, &n, ok,
		                     times),
		    KT_OK);
		ck_assert_uint_eq(ok[0], 1);
		ck_assert_uint_eq(ok[1], 1);
		ck_assert_uint_eq(times[0], 0);
		ck_assert_uint_eq(times[1], 1733000000);
		/* Only the witness known: still fine. */
		ck_assert_int_eq(kt_note_open(note, l + cl, vs + 1, 1, &n, ok,
		                     times),
		    KT_OK);
		ck_assert_uint_eq(times[0], 1733000000);
		/* A cosignature line is bound to its text. */
		note[0] = 'E';
		ck_assert_int_eq(kt_note_open(note, l + cl, vs + 1, 1, &n, ok,
		                     times),
		    KT_ERR_VERIFY);
		ck_assert_uint_eq(times[0], 0);
	}
	kt_signer_free(w);
	kt_signer_free(log);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int
main(void)
{
	Suite *s = suite_create("note_cosig");

	kt_test_case(s, "kt_cosig_sign", 0, test_cosig_sign, NULL);
	kt_test_case(s, "kt_cosig_verify", 0, test_cosig_verify, NULL);
	return kt_test_run(s);
}
