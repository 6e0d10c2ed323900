/*
 * fuzz_verify_evidence.c: libFuzzer target for `kt-verify evidence`, the
 * offline checker of evidence files and tlog-proofs (untrusted bytes from
 * anyone). Must never crash, leak, or accept without a valid signature:
 * the key below signs nothing, so every input must be refused.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kt/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kt_verifier vk = { "fuzz.example/log",
		KT_KEY_ED25519, { 1, 2, 3, 4 }, { 0 } };
	/* A VRF key too, so that lookup tlog-proofs get past the first check. */
	static const uint8_t vrf_pk[32] = { 5, 6, 7, 8 };
	struct kt_vresult r;

	kt_vresult_init(&r);
	if (kt_verify_evidence((const char *)data, size, &vk, vrf_pk, &r) == 0)
		abort(); /* accepted with no possible signature */
	kt_vresult_free(&r);
	return 0;
}
