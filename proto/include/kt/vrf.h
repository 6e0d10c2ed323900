/*
 * kt/vrf.h: the c2sp.org/vrf-r255 verifiable random function
 * (ECVRF-RISTRETTO255-SHA512, the RFC 9381 ECVRF over ristretto255).
 *
 * kt hides labels behind it: a label's map index is the first 32 bytes of
 * the VRF output of its canonical form (proto/README.md, "The VRF"). The
 * holder of the secret key proves (kt_vrf_prove) what the output of an
 * input is; anyone with the public key checks the proof and gets the output
 * (kt_vrf_verify). Nobody else can compute an output, and no key can give
 * one input two outputs.
 *
 * Built on libsodium's ristretto255 and SHA-512. Pure: no randomness (the
 * caller draws the secret), no I/O. Proving is deterministic: the same key
 * and input always give the same proof.
 */
#ifndef KT_VRF_H
#define KT_VRF_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"

#define KT_VRF_SECRET_LEN 32 /* SK: the secret scalar x, little-endian */
#define KT_VRF_PUBLIC_LEN 32 /* PK: x*B, ristretto255-encoded */
#define KT_VRF_PROOF_LEN 80  /* pi: Gamma (32) || c (16) || s (32) */
#define KT_VRF_OUTPUT_LEN 64 /* beta: SHA-512 output */

/*
 * A VRF secret key: the scalar and its public key, in sodium_malloc'd
 * memory made read-only once set up. Opaque; any number of threads may call
 * kt_vrf_prove and kt_vrf_public on one key at once.
 */
struct kt_vrf_key;

/*
 * Makes a key from SK, the secret scalar x as 32 little-endian bytes (the
 * spec has SK equal to x). SK must be canonical: 0 < x < q, q = 2^252 +
 * 27742317777372353535851937790883648493. Random bytes are not a key as
 * they are (15 in 16 of them are >= q): draw SK with
 * crypto_core_ristretto255_scalar_random(), or reduce 64 random bytes with
 * crypto_core_ristretto255_scalar_reduce() (as the spec suggests), then
 * check it is not zero. sk is copied; the caller wipes its own copy.
 * On success *out owns the key (free it with kt_vrf_key_free); on failure
 * *out is NULL.
 * Errors: KT_ERR_MALFORMED (sk NULL, zero, or >= q: never reduced here, a
 * key file holding another value is damaged), KT_ERR_NOMEM, KT_ERR_INTERNAL
 * (libsodium could not start).
 */
KT_MUST_CHECK kt_err kt_vrf_key_from_secret(const uint8_t sk[KT_VRF_SECRET_LEN],
    struct kt_vrf_key **out);

/* Wipes and frees k. NULL is allowed. */
void kt_vrf_key_free(struct kt_vrf_key *k);

/* Writes k's public key PK (it always passes kt_vrf_public_check). */
void kt_vrf_public(const struct kt_vrf_key *k, uint8_t pk[KT_VRF_PUBLIC_LEN]);

/*
 * Writes the proof pi that alpha (alpha_len bytes; NULL allowed when
 * alpha_len is 0) maps to its output under k. The output itself is
 * kt_vrf_proof_to_hash(pi). Deterministic; thread-safe on a shared k.
 * Errors (pi zeroed): KT_ERR_MALFORMED (alpha NULL with alpha_len > 0),
 * KT_ERR_INTERNAL (a libsodium call failed, or alpha hashed to the
 * identity element, which takes a SHA-512 preimage attack to find).
 */
KT_MUST_CHECK kt_err kt_vrf_prove(const struct kt_vrf_key *k,
    const uint8_t *alpha, size_t alpha_len, uint8_t pi[KT_VRF_PROOF_LEN]);

/*
 * Checks that pi proves alpha's output under the public key pk and, if so,
 * writes that output to beta. alpha may be NULL when alpha_len is 0.
 * Returns KT_OK and beta, or (beta zeroed):
 *   KT_ERR_MALFORMED: pk or Gamma (pi's first 32 bytes) is not a canonical
 *     ristretto255 encoding or is the identity, s (pi's last 32 bytes) is
 *     not below q, or alpha is NULL with alpha_len > 0;
 *   KT_ERR_VERIFY: everything decodes, but the proof is false (another
 *     key, another input, or a forged or damaged proof).
 */
KT_MUST_CHECK kt_err kt_vrf_verify(const uint8_t pk[KT_VRF_PUBLIC_LEN],
    const uint8_t *alpha, size_t alpha_len, const uint8_t pi[KT_VRF_PROOF_LEN],
    uint8_t beta[KT_VRF_OUTPUT_LEN]);

/*
 * Decodes pi and writes the output beta it carries, checking nothing else:
 * NOT a verification. For the prover, to learn the output of a proof it has
 * just made; anyone else must call kt_vrf_verify, which writes the same
 * beta for a proof that holds. Errors (beta zeroed): KT_ERR_MALFORMED (pi
 * does not decode, by the rules of kt_vrf_verify).
 */
KT_MUST_CHECK kt_err kt_vrf_proof_to_hash(const uint8_t pi[KT_VRF_PROOF_LEN],
    uint8_t beta[KT_VRF_OUTPUT_LEN]);

/*
 * KT_OK if pk is a public key a client may pin: a canonical ristretto255
 * encoding that is not the identity (the spec's validate_key). Else
 * KT_ERR_MALFORMED.
 */
KT_MUST_CHECK kt_err kt_vrf_public_check(const uint8_t pk[KT_VRF_PUBLIC_LEN]);

#endif /* KT_VRF_H */
