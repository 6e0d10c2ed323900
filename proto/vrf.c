/*
 * vrf.c: c2sp.org/vrf-r255 (ECVRF-RISTRETTO255-SHA512): the RFC 9381 ECVRF
 * (section 5) with the ciphersuite the C2SP document defines, on
 * libsodium's ristretto255 and SHA-512. The only proto/ file that holds a
 * VRF secret.
 *
 * Every SHA-512 input starts with suite_string = 0xFF || "c2sp.org/vrf-r255"
 * and a one-byte domain separator: 0x02 challenge (RFC 9381 5.4.3), 0x03
 * proof_to_hash (5.2), 0x81 nonce and 0x82 encode_to_curve (the C2SP
 * document).
 */
#include <string.h>

#include <sodium.h>

#include "kt/vrf.h"
#include "vrf_internal.h"

#define POINT_LEN 32  /* ptLen */
#define SCALAR_LEN 32 /* qLen */
#define C_LEN 16      /* cLen */
#define HASH_LEN 64   /* hLen */

struct kt_vrf_key {
	uint8_t x[SCALAR_LEN]; /* SK = x */
	uint8_t pk[POINT_LEN]; /* Y = x*B, encoded */
};

static const uint8_t suite_string[] = { 0xff, 'c', '2', 's', 'p', '.', 'o', 'r',
	'g', '/', 'v', 'r', 'f', '-', 'r', '2', '5', '5' };

enum {
	DS_CHALLENGE = 0x02,
	DS_PROOF_TO_HASH = 0x03,
	DS_NONCE = 0x81,
	DS_ENCODE_TO_CURVE = 0x82,
};

/* q = 2^252 + 27742317777372353535851937790883648493, little-endian. */
static const uint8_t q_le[SCALAR_LEN] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63,
	0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };

/* ---- scalars and elements ----------------------------------------------- */

/*
 * 1 if the little-endian s is below q, else 0: the borrow out of s - q. In
 * constant time, since SK goes through it.
 */
static int
scalar_canonical(const uint8_t s[SCALAR_LEN])
{
	unsigned borrow = 0;
	size_t i;

	for (i = 0; i < SCALAR_LEN; i++)
		borrow = (((unsigned)s[i] - q_le[i] - borrow) >> 8) & 1;
	return (int)borrow;
}

/*
 * The spec's string_to_point plus validate_key: a canonical encoding that
 * is not the identity. libsodium's decode refuses field elements >= p,
 * negative (odd) s and the non-square cases, but 1.0.18 ignores bit 255 (it
 * decodes B with bit 255 set as B): RFC 9496 section 4.3.1 requires
 * refusing it, so kt checks it first.
 */
static int
point_usable(const uint8_t p[POINT_LEN])
{
	return (p[POINT_LEN - 1] & 0x80) == 0 &&
	    crypto_core_ristretto255_is_valid_point(p) == 1 &&
	    !sodium_is_zero(p, POINT_LEN);
}

/*
 * r = n*P and r = n*B for a valid encoding P. libsodium returns -1 when the
 * product is the identity (it refuses that result for key exchange): here
 * the identity is a value like any other, encoded as 32 zero bytes.
 */
static void
mul(uint8_t r[POINT_LEN], const uint8_t n[SCALAR_LEN],
    const uint8_t p[POINT_LEN])
{
	if (crypto_scalarmult_ristretto255(r, n, p) != 0)
		memset(r, 0, POINT_LEN);
}

static void
mul_base(uint8_t r[POINT_LEN], const uint8_t n[SCALAR_LEN])
{
	if (crypto_scalarmult_ristretto255_base(r, n) != 0)
		memset(r, 0, POINT_LEN);
}

/* ---- the suite's hashes ------------------------------------------------- */

static void
hash_start(crypto_hash_sha512_state *st, uint8_t domain)
{
	crypto_hash_sha512_init(st);
	crypto_hash_sha512_update(st, suite_string, sizeof(suite_string));
	crypto_hash_sha512_update(st, &domain, 1);
}

/*
 * ECVRF_encode_to_curve with encode_to_curve_salt = PK_string:
 * hash_string = Hash(suite_string || 0x82 || PK || alpha), H = the
 * ristretto255 one-way map of hash_string.
 */
static void
encode_to_curve(const uint8_t pk[POINT_LEN], const uint8_t *alpha,
    size_t alpha_len, uint8_t hash_string[HASH_LEN], uint8_t h[POINT_LEN])
{
	crypto_hash_sha512_state st;

	hash_start(&st, DS_ENCODE_TO_CURVE);
	crypto_hash_sha512_update(&st, pk, POINT_LEN);
	if (alpha_len > 0)
		crypto_hash_sha512_update(&st, alpha, alpha_len);
	crypto_hash_sha512_final(&st, hash_string);
	/* Cannot fail: any 64 bytes map to an element. */
	(void)crypto_core_ristretto255_from_hash(h, hash_string);
}

/*
 * ECVRF_nonce_generation: k_string = Hash(suite_string || 0x81 ||
 * int_to_string(SK, 32) || h_string), k = k_string mod q.
 */
static void
nonce_generation(const uint8_t x[SCALAR_LEN], const uint8_t h[POINT_LEN],
    uint8_t k_string[HASH_LEN], uint8_t k[SCALAR_LEN])
{
	crypto_hash_sha512_state st;

	hash_start(&st, DS_NONCE);
	crypto_hash_sha512_update(&st, x, SCALAR_LEN);
	crypto_hash_sha512_update(&st, h, POINT_LEN);
	crypto_hash_sha512_final(&st, k_string);
	sodium_memzero(&st, sizeof(st));
	crypto_core_ristretto255_scalar_reduce(k, k_string);
}

/*
 * ECVRF_challenge_generation(Y, H, Gamma, U, V): c_string =
 * Hash(suite_string || 0x02 || Y || H || Gamma || U || V || 0x00); c is
 * its first cLen = 16 bytes.
 */
static void
challenge_generation(const uint8_t y[POINT_LEN], const uint8_t h[POINT_LEN],
    const uint8_t gamma[POINT_LEN], const uint8_t u[POINT_LEN],
    const uint8_t v[POINT_LEN], uint8_t c_string[HASH_LEN])
{
	crypto_hash_sha512_state st;
	const uint8_t back = 0x00;

	hash_start(&st, DS_CHALLENGE);
	crypto_hash_sha512_update(&st, y, POINT_LEN);
	crypto_hash_sha512_update(&st, h, POINT_LEN);
	crypto_hash_sha512_update(&st, gamma, POINT_LEN);
	crypto_hash_sha512_update(&st, u, POINT_LEN);
	crypto_hash_sha512_update(&st, v, POINT_LEN);
	crypto_hash_sha512_update(&st, &back, 1);
	crypto_hash_sha512_final(&st, c_string);
}

/*
 * ECVRF_proof_to_hash's last step (cofactor 1): beta =
 * Hash(suite_string || 0x03 || Gamma || 0x00).
 */
static void
gamma_to_hash(const uint8_t gamma[POINT_LEN], uint8_t beta[HASH_LEN])
{
	crypto_hash_sha512_state st;
	const uint8_t back = 0x00;

	hash_start(&st, DS_PROOF_TO_HASH);
	crypto_hash_sha512_update(&st, gamma, POINT_LEN);
	crypto_hash_sha512_update(&st, &back, 1);
	crypto_hash_sha512_final(&st, beta);
}

/*
 * ECVRF_decode_proof: pi = Gamma (32) || c (16) || s (32). Gamma must
 * decode and (kt's rule, see proto/README.md) not be the identity; s must
 * be below q. c is returned zero-padded to a 32-byte scalar (c < 2^128 < q).
 */
static kt_err
decode_proof(const uint8_t pi[KT_VRF_PROOF_LEN], uint8_t gamma[POINT_LEN],
    uint8_t c[SCALAR_LEN], uint8_t s[SCALAR_LEN])
{
	memcpy(gamma, pi, POINT_LEN);
	memset(c, 0, SCALAR_LEN);
	memcpy(c, pi + POINT_LEN, C_LEN);
	memcpy(s, pi + POINT_LEN + C_LEN, SCALAR_LEN);
	if (!point_usable(gamma) || !scalar_canonical(s))
		return KT_ERR_MALFORMED;
	return KT_OK;
}

/* ---- keys --------------------------------------------------------------- */

kt_err
kt_vrf_key_from_secret(const uint8_t sk[KT_VRF_SECRET_LEN],
    struct kt_vrf_key **out)
{
	struct kt_vrf_key *k;

	*out = NULL;
	if (sk == NULL)
		return KT_ERR_MALFORMED;
	/* The spec's SK is x itself, an integer in [0, q): never reduced. Zero
	 * would make PK the identity, which every verifier refuses. */
	if (!scalar_canonical(sk) || sodium_is_zero(sk, KT_VRF_SECRET_LEN))
		return KT_ERR_MALFORMED;
	/* Idempotent and thread-safe; sodium_malloc needs it. */
	if (sodium_init() < 0)
		return KT_ERR_INTERNAL;
	k = sodium_malloc(sizeof(*k));
	if (k == NULL)
		return KT_ERR_NOMEM;
	memcpy(k->x, sk, SCALAR_LEN);
	if (crypto_scalarmult_ristretto255_base(k->pk, k->x) != 0) {
		sodium_free(k);
		return KT_ERR_INTERNAL;
	}
	/* Read-only from here on: a stray write faults instead of corrupting,
	 * and concurrent provers only ever read. */
	(void)sodium_mprotect_readonly(k);
	*out = k;
	return KT_OK;
}

void
kt_vrf_key_free(struct kt_vrf_key *k)
{
	/* sodium_free makes the pages writable and wipes them before release. */
	if (k != NULL)
		sodium_free(k);
}

void
kt_vrf_public(const struct kt_vrf_key *k, uint8_t pk[KT_VRF_PUBLIC_LEN])
{
	memcpy(pk, k->pk, KT_VRF_PUBLIC_LEN);
}

kt_err
kt_vrf_public_check(const uint8_t pk[KT_VRF_PUBLIC_LEN])
{
	if (pk == NULL || !point_usable(pk))
		return KT_ERR_MALFORMED;
	return KT_OK;
}

/* ---- proving ------------------------------------------------------------ */

/* ECVRF_prove (RFC 9381 5.1), Y and PK_string precomputed in k. */
kt_err
kt_vrf_prove_trace(const struct kt_vrf_key *k, const uint8_t *alpha,
    size_t alpha_len, uint8_t pi[KT_VRF_PROOF_LEN], struct kt_vrf_trace *t)
{
	uint8_t hash_string[HASH_LEN], h[POINT_LEN], gamma[POINT_LEN];
	uint8_t k_string[HASH_LEN], nonce[SCALAR_LEN], cx[SCALAR_LEN];
	uint8_t u[POINT_LEN], v[POINT_LEN], c_string[HASH_LEN];
	uint8_t c[SCALAR_LEN], s[SCALAR_LEN];
	kt_err err = KT_ERR_INTERNAL;

	memset(pi, 0, KT_VRF_PROOF_LEN);
	if (alpha == NULL && alpha_len > 0)
		return KT_ERR_MALFORMED;
	encode_to_curve(k->pk, alpha, alpha_len, hash_string, h);
	/* Gamma = x*H. Fails only if H is the identity, whose proof every
	 * verifier refuses: finding such an alpha breaks SHA-512. */
	if (crypto_scalarmult_ristretto255(gamma, k->x, h) != 0)
		goto out;
	nonce_generation(k->x, h, k_string, nonce);
	/* U = k*B, V = k*H: identities only for k = 0 (probability 2^-252). */
	if (crypto_scalarmult_ristretto255_base(u, nonce) != 0 ||
	    crypto_scalarmult_ristretto255(v, nonce, h) != 0)
		goto out;
	challenge_generation(k->pk, h, gamma, u, v, c_string);
	memset(c, 0, sizeof(c));
	memcpy(c, c_string, C_LEN);
	/* s = (k + c*x) mod q */
	crypto_core_ristretto255_scalar_mul(cx, c, k->x);
	crypto_core_ristretto255_scalar_add(s, nonce, cx);
	memcpy(pi, gamma, POINT_LEN);
	memcpy(pi + POINT_LEN, c, C_LEN);
	memcpy(pi + POINT_LEN + C_LEN, s, SCALAR_LEN);
	if (t != NULL) {
		memcpy(t->hash_string, hash_string, HASH_LEN);
		memcpy(t->h, h, POINT_LEN);
		memcpy(t->k_string, k_string, HASH_LEN);
		memcpy(t->k, nonce, SCALAR_LEN);
		memcpy(t->gamma, gamma, POINT_LEN);
		memcpy(t->u, u, POINT_LEN);
		memcpy(t->v, v, POINT_LEN);
		memcpy(t->c_string, c_string, HASH_LEN);
		memcpy(t->c, c, C_LEN);
		memcpy(t->s, s, SCALAR_LEN);
	}
	err = KT_OK;
out:
	/* The nonce, and c*x beside a public s, would each reveal x. */
	sodium_memzero(k_string, sizeof(k_string));
	sodium_memzero(nonce, sizeof(nonce));
	sodium_memzero(cx, sizeof(cx));
	return err;
}

kt_err
kt_vrf_prove(const struct kt_vrf_key *k, const uint8_t *alpha, size_t alpha_len,
    uint8_t pi[KT_VRF_PROOF_LEN])
{
	return kt_vrf_prove_trace(k, alpha, alpha_len, pi, NULL);
}

/* ---- verifying ---------------------------------------------------------- */

/* ECVRF_verify (RFC 9381 5.3) with validate_key = TRUE. */
kt_err
kt_vrf_verify_trace(const uint8_t pk[KT_VRF_PUBLIC_LEN], const uint8_t *alpha,
    size_t alpha_len, const uint8_t pi[KT_VRF_PROOF_LEN],
    uint8_t beta[KT_VRF_OUTPUT_LEN], struct kt_vrf_trace *t)
{
	uint8_t gamma[POINT_LEN], c[SCALAR_LEN], s[SCALAR_LEN];
	uint8_t hash_string[HASH_LEN], h[POINT_LEN], c_string[HASH_LEN];
	uint8_t u[POINT_LEN], v[POINT_LEN], p1[POINT_LEN], p2[POINT_LEN];

	memset(beta, 0, KT_VRF_OUTPUT_LEN);
	if (pk == NULL || pi == NULL || (alpha == NULL && alpha_len > 0))
		return KT_ERR_MALFORMED;
	if (kt_vrf_public_check(pk) != KT_OK)
		return KT_ERR_MALFORMED;
	if (decode_proof(pi, gamma, c, s) != KT_OK)
		return KT_ERR_MALFORMED;
	encode_to_curve(pk, alpha, alpha_len, hash_string, h);
	/* U = s*B - c*Y and V = s*H - c*Gamma; every operand is a valid
	 * encoding, so the subtractions cannot fail. */
	mul_base(p1, s);
	mul(p2, c, pk);
	if (crypto_core_ristretto255_sub(u, p1, p2) != 0)
		return KT_ERR_INTERNAL;
	mul(p1, s, h);
	mul(p2, c, gamma);
	if (crypto_core_ristretto255_sub(v, p1, p2) != 0)
		return KT_ERR_INTERNAL;
	challenge_generation(pk, h, gamma, u, v, c_string);
	if (t != NULL) {
		memset(t, 0, sizeof(*t));
		memcpy(t->hash_string, hash_string, HASH_LEN);
		memcpy(t->h, h, POINT_LEN);
		memcpy(t->gamma, gamma, POINT_LEN);
		memcpy(t->u, u, POINT_LEN);
		memcpy(t->v, v, POINT_LEN);
		memcpy(t->c_string, c_string, HASH_LEN);
		memcpy(t->c, c, C_LEN);
		memcpy(t->s, s, SCALAR_LEN);
	}
	if (sodium_memcmp(c_string, c, C_LEN) != 0)
		return KT_ERR_VERIFY;
	gamma_to_hash(gamma, beta);
	return KT_OK;
}

kt_err
kt_vrf_verify(const uint8_t pk[KT_VRF_PUBLIC_LEN], const uint8_t *alpha,
    size_t alpha_len, const uint8_t pi[KT_VRF_PROOF_LEN],
    uint8_t beta[KT_VRF_OUTPUT_LEN])
{
	return kt_vrf_verify_trace(pk, alpha, alpha_len, pi, beta, NULL);
}

kt_err
kt_vrf_proof_to_hash(const uint8_t pi[KT_VRF_PROOF_LEN],
    uint8_t beta[KT_VRF_OUTPUT_LEN])
{
	uint8_t gamma[POINT_LEN], c[SCALAR_LEN], s[SCALAR_LEN];

	memset(beta, 0, KT_VRF_OUTPUT_LEN);
	if (pi == NULL || decode_proof(pi, gamma, c, s) != KT_OK)
		return KT_ERR_MALFORMED;
	gamma_to_hash(gamma, beta);
	return KT_OK;
}
