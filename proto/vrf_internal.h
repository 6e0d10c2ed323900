/*
 * vrf_internal.h: the intermediate values of c2sp.org/vrf-r255, exposed so
 * that tests/proto/check_vrf.c can assert each one against the spec's test
 * vector. Private to proto/ and its tests: not part of the public contract.
 */
#ifndef KT_VRF_INTERNAL_H
#define KT_VRF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kt/vrf.h"

/*
 * Every value the spec's test vector lists, named as there. Scalars are
 * little-endian (int_to_string), elements ristretto255-encoded. k_string
 * and k are secret: a trace is for tests only.
 */
struct kt_vrf_trace {
	uint8_t hash_string[64]; /* encode_to_curve's SHA-512 output */
	uint8_t h[32];           /* H = one_way_map(hash_string) */
	uint8_t k_string[64];    /* prover only */
	uint8_t k[32];           /* prover only: the nonce */
	uint8_t gamma[32];       /* Gamma = x*H */
	uint8_t u[32];           /* U = k*B (prover), s*B - c*Y (verifier) */
	uint8_t v[32];        /* V = k*H (prover), s*H - c*Gamma (verifier) */
	uint8_t c_string[64]; /* challenge's SHA-512 output */
	uint8_t c[16];        /* c_string's first 16 bytes */
	uint8_t s[32];        /* s = k + c*x mod q */
};

/* kt_vrf_prove, also filling *t (when not NULL) on success. */
KT_MUST_CHECK kt_err kt_vrf_prove_trace(const struct kt_vrf_key *k,
    const uint8_t *alpha, size_t alpha_len, uint8_t pi[KT_VRF_PROOF_LEN],
    struct kt_vrf_trace *t);

/*
 * kt_vrf_verify, also filling *t (when not NULL) with what the verifier
 * computed (hash_string, h, gamma, u, v, c_string, c, s; k_string and k
 * zero) whenever pk and pi decode, whether the proof holds or not.
 */
KT_MUST_CHECK kt_err kt_vrf_verify_trace(const uint8_t pk[KT_VRF_PUBLIC_LEN],
    const uint8_t *alpha, size_t alpha_len, const uint8_t pi[KT_VRF_PROOF_LEN],
    uint8_t beta[KT_VRF_OUTPUT_LEN], struct kt_vrf_trace *t);

#endif /* KT_VRF_INTERNAL_H */
