/*
 * check_note_keys.c: C2SP signed-note keys: names, signers and verifier
 * keys.
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

/* ---- kt_key_name_valid -------------------------------------------------- */

START_TEST(test_key_name_valid)
{
	char longname[KT_KEY_NAME_MAX + 2];

	ck_assert(kt_key_name_valid("PeterNeumann", 12));
	ck_assert(kt_key_name_valid("example.com/log", 15));
	ck_assert(kt_key_name_valid("caf\xc3\xa9", 5)); /* UTF-8 é */
	ck_assert(!kt_key_name_valid("", 0));
	ck_assert(!kt_key_name_valid("a b", 3));
	ck_assert(!kt_key_name_valid("a+b", 3));
	ck_assert(!kt_key_name_valid("a\tb", 3));
	ck_assert(!kt_key_name_valid("a\nb", 3));
	ck_assert(!kt_key_name_valid("a\x7f", 2));
	ck_assert(!kt_key_name_valid("a\0b", 3));
	ck_assert(!kt_key_name_valid("a\xc2\xa0"
	                             "b",
	    4)); /* NBSP */
	ck_assert(!kt_key_name_valid("a\xe3\x80\x80"
	                             "b",
	    5)); /* U+3000 */
	ck_assert(!kt_key_name_valid("a\xe2\x80\x8a"
	                             "b",
	    5)); /* U+200A */
	ck_assert(!kt_key_name_valid("a\xff", 2));
	ck_assert(!kt_key_name_valid("a\xc0\xaf", 3));     /* overlong '/' */
	ck_assert(!kt_key_name_valid("a\xed\xa0\x80", 4)); /* surrogate */
	ck_assert(!kt_key_name_valid("a\xe2\x80", 3));     /* truncated */
	memset(longname, 'a', sizeof(longname));
	ck_assert(kt_key_name_valid(longname, KT_KEY_NAME_MAX));
	ck_assert(!kt_key_name_valid(longname, KT_KEY_NAME_MAX + 1));
}
END_TEST

/* ---- kt_signer_from_seed ------------------------------------------------ */

START_TEST(test_signer_from_seed)
{
	uint8_t seed[KT_SEED_LEN] = { 0 };
	struct kt_signer *s = (struct kt_signer *)&s;
	struct kt_verifier v;
	uint8_t h[crypto_hash_sha256_BYTES];
	uint8_t pre[64];
	size_t n;

	/* Key ID = SHA-256(name || 0x0A || type || pub)[:4], computed here
	 * independently from the public key. */
	for (int t = 0; t < 2; t++) {
		uint8_t type = t ? KT_KEY_COSIG : KT_KEY_ED25519;

		ck_assert_int_eq(kt_signer_from_seed("log.example/x", type,
		                     seed, &s),
		    KT_OK);
		kt_signer_verifier(s, &v);
		ck_assert_uint_eq(v.type, type);
		n = 0;
		memcpy(pre, "log.example/x\n", 14);
		n += 14;
		pre[n++] = type;
		memcpy(pre + n, v.pub, 32);
		n += 32;
		crypto_hash_sha256(h, pre, n);
		ck_assert_mem_eq(v.id, h, 4);
		kt_signer_free(s);
	}
	/* Same seed and name, other type: another key ID. */
	{
		struct kt_signer *a = mk_signer("n", KT_KEY_ED25519, 1);
		struct kt_signer *b = mk_signer("n", KT_KEY_COSIG, 1);
		struct kt_verifier va, vb;

		kt_signer_verifier(a, &va);
		kt_signer_verifier(b, &vb);
		ck_assert_mem_eq(va.pub, vb.pub, 32);
		ck_assert(memcmp(va.id, vb.id, 4) != 0);
		kt_signer_free(a);
		kt_signer_free(b);
	}
	s = (struct kt_signer *)&s;
	ck_assert_int_eq(kt_signer_from_seed("", KT_KEY_ED25519, seed, &s),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(s);
	s = (struct kt_signer *)&s;
	ck_assert_int_eq(kt_signer_from_seed("a+b", KT_KEY_ED25519, seed, &s),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(kt_signer_from_seed("a b", KT_KEY_ED25519, seed, &s),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_signer_from_seed("ab", 0x05, seed, &s),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_signer_from_seed("ab", 0x00, seed, &s),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(s);
}
END_TEST

/* ---- kt_signer_parse ---------------------------------------------------- */

START_TEST(test_signer_parse)
{
	const char *skey = GO_SKEY;
	size_t len = strlen(skey);
	struct kt_signer *s = NULL;
	struct kt_verifier v, want = vkey(GO_VKEY);
	char *b;

	/* The Go signer key derives the Go verifier key. */
	ck_assert_int_eq(kt_signer_parse(skey, len, &s), KT_OK);
	kt_signer_verifier(s, &v);
	ck_assert_str_eq(v.name, "PeterNeumann");
	ck_assert_mem_eq(v.id, "\xc7\x4f\x20\xa3", 4);
	ck_assert_mem_eq(&v, &want, sizeof(v));
	kt_signer_free(s);

	/* One trailing newline (a key file) is accepted. */
	b = malloc(len + 2);
	memcpy(b, skey, len);
	b[len] = '\n';
	ck_assert_int_eq(kt_signer_parse(b, len + 1, &s), KT_OK);
	kt_signer_free(s);
	b[len + 1] = '\n';
	ck_assert_int_eq(kt_signer_parse(b, len + 2, &s), KT_ERR_MALFORMED);
	ck_assert_ptr_null(s);
	free(b);

	/* Go's TestNewSigner manglings: every proper substring and every
	 * single-byte increment is rejected. */
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i + 1; j <= len; j++) {
			if (i == 0 && j == len)
				continue;
			b = exact_copy(skey + i, j - i);
			s = (struct kt_signer *)&s;
			ck_assert_msg(kt_signer_parse(b, j - i, &s) != KT_OK,
			    "substring %zu..%zu accepted", i, j);
			ck_assert_ptr_null(s);
			free(b);
		}
	}
	b = exact_copy(skey, len);
	for (size_t i = 0; i < len; i++) {
		b[i]++;
		ck_assert_msg(kt_signer_parse(b, len, &s) != KT_OK,
		    "increment at %zu accepted", i);
		b[i]--;
	}
	free(b);

	/* Uppercase hex is not the canonical form. */
	ck_assert_int_eq(
	    kt_signer_parse(
	        "PRIVATE+KEY+PeterNeumann+C74F20A3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
	        len, &s),
	    KT_ERR_MALFORMED);
}
END_TEST

/* ---- kt_signer_format --------------------------------------------------- */

START_TEST(test_signer_format)
{
	char buf[KT_KEY_TEXT_MAX];
	struct kt_signer *s = NULL, *s2 = NULL;
	struct kt_verifier v1, v2;

	ck_assert_int_eq(kt_signer_parse(GO_SKEY, strlen(GO_SKEY), &s), KT_OK);
	ck_assert_int_eq(kt_signer_format(s, buf, sizeof(buf)), KT_OK);
	ck_assert_str_eq(buf, GO_SKEY);
	ck_assert_int_eq(kt_signer_format(s, buf, strlen(GO_SKEY)),
	    KT_ERR_TOO_LARGE);
	ck_assert_int_eq(kt_signer_format(s, buf, strlen(GO_SKEY) + 1), KT_OK);
	kt_signer_free(s);

	/* Round trip of a cosignature (type 0x04) signer. */
	s = mk_signer("witness.example/w1", KT_KEY_COSIG, 7);
	ck_assert_int_eq(kt_signer_format(s, buf, sizeof(buf)), KT_OK);
	ck_assert_int_eq(strncmp(buf, "PRIVATE+KEY+witness.example/w1+", 31),
	    0);
	ck_assert_int_eq(kt_signer_parse(buf, strlen(buf), &s2), KT_OK);
	kt_signer_verifier(s, &v1);
	kt_signer_verifier(s2, &v2);
	ck_assert_mem_eq(&v1, &v2, sizeof(v1));
	kt_signer_free(s);
	kt_signer_free(s2);
}
END_TEST

/* ---- kt_signer_free ----------------------------------------------------- */

START_TEST(test_signer_free)
{
	kt_signer_free(NULL);
	kt_signer_free(mk_signer("a", KT_KEY_ED25519, 0));
}
END_TEST

/* ---- kt_signer_verifier ------------------------------------------------- */

START_TEST(test_signer_verifier)
{
	struct kt_signer *s = mk_signer("log.example", KT_KEY_ED25519, 3);
	struct kt_verifier v;
	uint8_t seed[KT_SEED_LEN], pk[32], sk[64];

	kt_signer_verifier(s, &v);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(3 + i);
	crypto_sign_seed_keypair(pk, sk, seed);
	ck_assert_mem_eq(v.pub, pk, 32);
	ck_assert_str_eq(v.name, "log.example");
	ck_assert_uint_eq(v.type, KT_KEY_ED25519);
	kt_signer_free(s);
}
END_TEST

/* ---- kt_signer_name ----------------------------------------------------- */

START_TEST(test_signer_name)
{
	struct kt_signer *s = mk_signer("example.com/foo", KT_KEY_ED25519, 0);

	ck_assert_str_eq(kt_signer_name(s), "example.com/foo");
	kt_signer_free(s);
}
END_TEST

/* ---- kt_verifier_parse -------------------------------------------------- */

START_TEST(test_verifier_parse)
{
	const char *vk = GO_VKEY;
	size_t len = strlen(vk);
	struct kt_verifier v;
	char *b;

	ck_assert_int_eq(kt_verifier_parse(vk, len, &v), KT_OK);
	ck_assert_str_eq(v.name, "PeterNeumann");
	ck_assert_uint_eq(v.type, KT_KEY_ED25519);
	ck_assert_mem_eq(v.id, "\xc7\x4f\x20\xa3", 4);
	v = vkey(GO_ENOCH_VKEY);
	ck_assert_mem_eq(v.id, "\xaf\x0c\xfe\x78", 4);

	ck_assert_int_eq(kt_verifier_parse(GO_BAD_VKEY_LEN,
	                     strlen(GO_BAD_VKEY_LEN), &v),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_verifier_parse(GO_BAD_VKEY_ALG,
	                     strlen(GO_BAD_VKEY_ALG), &v),
	    KT_ERR_MALFORMED);

	/* Go's TestNewVerifier manglings. */
	for (size_t i = 0; i <= len; i++) {
		for (size_t j = i + 1; j <= len; j++) {
			if (i == 0 && j == len)
				continue;
			b = exact_copy(vk + i, j - i);
			ck_assert_msg(kt_verifier_parse(b, j - i, &v) != KT_OK,
			    "substring %zu..%zu accepted", i, j);
			free(b);
		}
	}
	b = exact_copy(vk, len);
	for (size_t i = 0; i < len; i++) {
		b[i]++;
		ck_assert_msg(kt_verifier_parse(b, len, &v) != KT_OK,
		    "increment at %zu accepted", i);
		b[i]--;
	}
	free(b);

	/* Wrong ID, non-canonical base64, too long. */
	ck_assert_int_eq(
	    kt_verifier_parse(
	        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	        len, &v),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(
	    kt_verifier_parse(
	        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
	        len, &v),
	    KT_ERR_MALFORMED);
	b = malloc(KT_KEY_TEXT_MAX + 10);
	memset(b, 'a', KT_KEY_TEXT_MAX + 10);
	ck_assert_int_eq(kt_verifier_parse(b, KT_KEY_TEXT_MAX + 10, &v),
	    KT_ERR_TOO_LARGE);
	free(b);
}
END_TEST

/* ---- kt_verifier_format ------------------------------------------------- */

START_TEST(test_verifier_format)
{
	char buf[KT_KEY_TEXT_MAX];
	struct kt_verifier v = vkey(GO_VKEY), v2;
	struct kt_signer *s = mk_signer("w", KT_KEY_COSIG, 9);

	ck_assert_int_eq(kt_verifier_format(&v, buf, sizeof(buf)), KT_OK);
	ck_assert_str_eq(buf, GO_VKEY);
	ck_assert_int_eq(kt_verifier_format(&v, buf, strlen(GO_VKEY)),
	    KT_ERR_TOO_LARGE);
	kt_signer_verifier(s, &v);
	ck_assert_int_eq(kt_verifier_format(&v, buf, sizeof(buf)), KT_OK);
	ck_assert_int_eq(kt_verifier_parse(buf, strlen(buf), &v2), KT_OK);
	ck_assert_mem_eq(&v, &v2, sizeof(v));
	/* "w+<8 hex>+": the type byte 0x04 puts 'B' first in the base64. */
	ck_assert_int_eq(buf[1], '+');
	ck_assert_int_eq(buf[10], '+');
	ck_assert_int_eq(buf[11], 'B');
	v.type = 0x05;
	ck_assert_int_eq(kt_verifier_format(&v, buf, sizeof(buf)),
	    KT_ERR_MALFORMED);
	kt_signer_free(s);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int
main(void)
{
	Suite *s = suite_create("note_keys");

	kt_test_case(s, "kt_key_name_valid", 0, test_key_name_valid, NULL);
	kt_test_case(s, "kt_signer_from_seed", 0, test_signer_from_seed, NULL);
	kt_test_case(s, "kt_signer_parse", 0, test_signer_parse, NULL);
	kt_test_case(s, "kt_signer_format", 0, test_signer_format, NULL);
	kt_test_case(s, "kt_signer_free", 0, test_signer_free, NULL);
	kt_test_case(s, "kt_signer_verifier", 0, test_signer_verifier, NULL);
	kt_test_case(s, "kt_signer_name", 0, test_signer_name, NULL);
	kt_test_case(s, "kt_verifier_parse", 0, test_verifier_parse, NULL);
	kt_test_case(s, "kt_verifier_format", 0, test_verifier_format, NULL);
	return kt_test_run(s);
}
