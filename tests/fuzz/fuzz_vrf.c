/*
 * fuzz_vrf.c: kt_vrf_verify on untrusted bytes (a VRF proof and public key
 * from a lookup answer, a tlog-proof's extra line, a client's pinned key).
 *
 * Input: pk (32) || pi (80) || alpha (the rest). Beyond "no crash", checks
 * the three decoders agree: kt_vrf_public_check refuses exactly the pk that
 * make verify MALFORMED before pi is read; kt_vrf_proof_to_hash decodes
 * exactly the pi verify decodes and, when the proof holds, gives the same
 * beta; a failed verify leaves beta zero.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt/vrf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t beta[KT_VRF_OUTPUT_LEN], beta2[KT_VRF_OUTPUT_LEN];
	const uint8_t *pk = data, *pi = data + KT_VRF_PUBLIC_LEN;
	const uint8_t *alpha = pi + KT_VRF_PROOF_LEN;
	size_t alpha_len;
	kt_err err, herr;
	int pk_ok;

	if (size < KT_VRF_PUBLIC_LEN + KT_VRF_PROOF_LEN)
		return 0;
	alpha_len = size - KT_VRF_PUBLIC_LEN - KT_VRF_PROOF_LEN;
	pk_ok = kt_vrf_public_check(pk) == KT_OK;
	memset(beta, 0xaa, sizeof(beta));
	err = kt_vrf_verify(pk, alpha, alpha_len, pi, beta);
	herr = kt_vrf_proof_to_hash(pi, beta2);
	if (herr != KT_OK && herr != KT_ERR_MALFORMED)
		abort();
	switch (err) {
	case KT_OK:
		if (!pk_ok || herr != KT_OK ||
		    memcmp(beta, beta2, sizeof(beta)) != 0)
			abort();
		break;
	case KT_ERR_VERIFY:
		/* Both decoded: only the proof's truth is in question. */
		if (!pk_ok || herr != KT_OK ||
		    !sodium_is_zero(beta, sizeof(beta)))
			abort();
		break;
	case KT_ERR_MALFORMED:
		if ((pk_ok && herr == KT_OK) ||
		    !sodium_is_zero(beta, sizeof(beta)))
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
