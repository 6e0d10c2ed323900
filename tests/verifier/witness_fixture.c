/*
 * witness_fixture.c: the fixture of the check_witness*.c units
 * (witness_fixture.h).
 */
#include "witness_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

char dir[64];
struct kt_signer *log_a, *log_a2, *log_b, *wit;
struct kt_verifier wit_v;
struct kt_witness *w;
struct wt_tree ta, tb; /* tb forks from ta at leaf 5 */
struct kt_witness_answer ans;
char body[WT_BODY_MAX];

void
open_witness(void)
{
	struct kt_verifier logs[3];
	char detail[256];

	kt_signer_verifier(log_a, &logs[0]);
	kt_signer_verifier(log_a2, &logs[1]);
	kt_signer_verifier(log_b, &logs[2]);
	ck_assert_int_eq(kt_witness_open(dir, wit, logs, 3, &w, detail,
	                     sizeof(detail)),
	    KT_OK);
}

void
setup(void)
{
	ck_assert_int_ge(sodium_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/kt-witness-check-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	log_a = wt_signer(ORIGIN_A, KT_KEY_ED25519, 0xa1);
	log_a2 = wt_signer(ORIGIN_A, KT_KEY_ED25519, 0xa2); /* rotated key */
	log_b = wt_signer(ORIGIN_B, KT_KEY_ED25519, 0xb1);
	wit = wt_signer("witness.example/w1", KT_KEY_COSIG, 0x77);
	kt_signer_verifier(wit, &wit_v);
	wt_tree_init(&ta, 64, 1, 64);
	wt_tree_init(&tb, 64, 2, 5);
	open_witness();
}

void
teardown(void)
{
	kt_witness_close(w);
	w = NULL;
	kt_signer_free(log_a);
	kt_signer_free(log_a2);
	kt_signer_free(log_b);
	kt_signer_free(wit);
	wt_tree_free(&ta);
	wt_tree_free(&tb);
	wt_rmrf(dir);
}

/* Submits body[0..len) and returns the code. */
kt_err
submit(size_t len, uint64_t now)
{
	return kt_witness_add_checkpoint(w, body, len, now, &ans);
}

/* Grows log A's witnessed state to `size` from `old` and asserts 200. */
void
cosign_a(uint64_t old, uint64_t size)
{
	size_t len = wt_body_for(log_a, &ta, old, size, body, sizeof(body));

	ck_assert_msg(submit(len, NOW) == KT_OK, "%s", ans.detail);
}

/* The witness's latest size for log A, learnt with an old-0 probe (409),
 * or 0 if the probe is accepted... which only a fresh witness does. */
uint64_t
probe_a(void)
{
	size_t len = wt_body_for(log_a, &ta, 0, 64, body, sizeof(body));
	kt_err err = submit(len, NOW);

	ck_assert_int_eq(err, KT_ERR_CONFLICT);
	return ans.latest_size;
}
