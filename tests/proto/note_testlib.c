/*
 * note_testlib.c: known answers and helpers shared by the check_note*.c
 * suites (note_testlib.h).
 */
#include "note_testlib.h"

#include <stddef.h>
#include <string.h>

#include <check.h>

const char go_note[] = GO_TEXT "\n" GO_PETER_SIG;

struct kt_signer *
mk_signer(const char *name, uint8_t type, uint8_t fill)
{
	uint8_t seed[KT_SEED_LEN];
	struct kt_signer *s = NULL;

	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(fill + i);
	ck_assert_int_eq(kt_signer_from_seed(name, type, seed, &s), KT_OK);
	ck_assert_ptr_nonnull(s);
	return s;
}

struct kt_verifier
vkey(const char *text)
{
	struct kt_verifier v;

	ck_assert_int_eq(kt_verifier_parse(text, strlen(text), &v), KT_OK);
	return v;
}
