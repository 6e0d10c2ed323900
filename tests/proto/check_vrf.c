/*
 * check_vrf.c: c2sp.org/vrf-r255 (ECVRF-RISTRETTO255-SHA512), kt/vrf.h.
 *
 * The known answer is the specification's own test vector (c2sp.org/vrf-r255,
 * "Test vector"), read at run time from $KT_VECTORS/vrf-r255/vector-1.txt with
 * every intermediate value; vrf_internal.h exposes the steps so each one is
 * checked, on the prover's side and the verifier's. One vector cannot show
 * much, so the rest is properties: round trips on many random keys, and every
 * rejection the spec and proto/README.md ("The VRF") list. The invalid
 * ristretto255 encodings are RFC 9496 appendix A.2's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "harness/runner.h"
#include "kt/vrf.h"
/* proto/'s private header; the test sits two folders below the root. */
#include "../../proto/vrf_internal.h"

/* ---- the specification's vector ---------------------------------------- */

#define ALPHA_MAX 256

struct vector {
	uint8_t sk[32], pk[32], alpha[ALPHA_MAX];
	size_t alpha_len;
	struct kt_vrf_trace t;
	uint8_t pi[KT_VRF_PROOF_LEN], beta[KT_VRF_OUTPUT_LEN];
};

static struct vector vec;

/* q and p = 2^255 - 19, little-endian. */
static const uint8_t q_le[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12,
	0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 };
static const uint8_t p_le[32] = { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x7f };

/* The ristretto255 generator B (RFC 9496 A.1, B's multiple 1). */
static const char base_hex[] =
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76";

static void
unhex(const char *hex, uint8_t *out, size_t len)
{
	size_t n = 0;

	ck_assert_uint_eq(strlen(hex), 2 * len);
	ck_assert_int_eq(sodium_hex2bin(out, len, hex, 2 * len, NULL, &n, NULL),
	    0);
	ck_assert_uint_eq(n, len);
}

/*
 * Reads "NAME = hex" lines; '#' lines are comments. Every field once. The
 * setup of every test case (a checked fixture, so a failure here fails the
 * test rather than the runner).
 */
static void
load_vector(void)
{
	const struct {
		const char *name;
		uint8_t *p;
		size_t len; /* 0: alpha, any length up to ALPHA_MAX */
	} fields[] = {
		{ "SK", vec.sk, 32 },
		{ "PK", vec.pk, 32 },
		{ "alpha", vec.alpha, 0 },
		{ "hash_string", vec.t.hash_string, 64 },
		{ "H", vec.t.h, 32 },
		{ "k_string", vec.t.k_string, 64 },
		{ "k", vec.t.k, 32 },
		{ "Gamma", vec.t.gamma, 32 },
		{ "U", vec.t.u, 32 },
		{ "V", vec.t.v, 32 },
		{ "c_string", vec.t.c_string, 64 },
		{ "c", vec.t.c, 16 },
		{ "s", vec.t.s, 32 },
		{ "pi", vec.pi, KT_VRF_PROOF_LEN },
		{ "beta", vec.beta, KT_VRF_OUTPUT_LEN },
	};
	enum { NFIELDS = sizeof(fields) / sizeof(fields[0]) };
	int seen[NFIELDS] = { 0 };
	const char *root = getenv("KT_VECTORS");
	char path[4096], line[1024];
	FILE *f;
	size_t i;
	int known;

	memset(&vec, 0, sizeof(vec));
	ck_assert_msg(root != NULL && root[0] != '\0',
	    "KT_VECTORS is not set: the spec's vector must be read");
	snprintf(path, sizeof(path), "%s/vrf-r255/vector-1.txt", root);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq, *hex;
		size_t nlen;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		eq = strstr(line, " = ");
		ck_assert_msg(eq != NULL, "bad line: %s", line);
		nlen = (size_t)(eq - line);
		hex = eq + 3;
		known = 0;
		for (i = 0; i < NFIELDS; i++) {
			if (strlen(fields[i].name) != nlen ||
			    memcmp(fields[i].name, line, nlen) != 0)
				continue;
			ck_assert_msg(!seen[i], "field twice: %s", line);
			seen[i] = known = 1;
			if (fields[i].len == 0) {
				vec.alpha_len = strlen(hex) / 2;
				ck_assert_uint_le(vec.alpha_len, ALPHA_MAX);
				unhex(hex, vec.alpha, vec.alpha_len);
			} else {
				unhex(hex, fields[i].p, fields[i].len);
			}
		}
		ck_assert_msg(known, "unknown field: %s", line);
	}
	fclose(f);
	for (i = 0; i < NFIELDS; i++)
		ck_assert_msg(seen[i], "field missing: %s", fields[i].name);
}

static struct kt_vrf_key *
vector_key(void)
{
	struct kt_vrf_key *k = NULL;

	ck_assert_int_eq(kt_vrf_key_from_secret(vec.sk, &k), KT_OK);
	return k;
}

static struct kt_vrf_key *
random_key(void)
{
	uint8_t sk[32];
	struct kt_vrf_key *k = NULL;

	crypto_core_ristretto255_scalar_random(sk);
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_OK);
	sodium_memzero(sk, sizeof(sk));
	return k;
}

/* r = a + b and r = a - b on 256-bit little-endian integers (mod 2^256). */
static void
add256(const uint8_t a[32], const uint8_t b[32], uint8_t r[32])
{
	unsigned carry = 0;

	for (int i = 0; i < 32; i++) {
		carry += (unsigned)a[i] + b[i];
		r[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

static void
sub256(const uint8_t a[32], const uint8_t b[32], uint8_t r[32])
{
	unsigned borrow = 0;

	for (int i = 0; i < 32; i++) {
		unsigned d = (unsigned)a[i] - b[i] - borrow;

		r[i] = (uint8_t)d;
		borrow = (d >> 8) & 1;
	}
}

/* Verification of pi that must fail: returns the error, checks beta is 0. */
static kt_err
verify_fails(const uint8_t pk[32], const uint8_t *alpha, size_t alpha_len,
    const uint8_t pi[KT_VRF_PROOF_LEN])
{
	uint8_t beta[KT_VRF_OUTPUT_LEN];
	kt_err err;

	memset(beta, 0xaa, sizeof(beta));
	err = kt_vrf_verify(pk, alpha, alpha_len, pi, beta);
	ck_assert_msg(err == KT_ERR_MALFORMED || err == KT_ERR_VERIFY,
	    "verify returned %d", (int)err);
	ck_assert(sodium_is_zero(beta, sizeof(beta)));
	return err;
}

/* ---- kt_vrf_key_from_secret --------------------------------------------- */

START_TEST(test_key_vector)
{
	struct kt_vrf_key *k = vector_key();
	uint8_t pk[32];

	kt_vrf_public(k, pk);
	ck_assert_mem_eq(pk, vec.pk, 32);
	kt_vrf_key_free(k);
	kt_vrf_key_free(NULL);
}
END_TEST

/* The spec's SK is the scalar x in [0, q): kt takes exactly 0 < x < q. */
START_TEST(test_key_refusals)
{
	static const uint8_t small[] = { 1, 2, 19, 0xff };
	uint8_t sk[32], pk[32], want[32];
	struct kt_vrf_key *k;
	size_t i;

	memset(sk, 0, sizeof(sk));
	k = (struct kt_vrf_key *)&k;
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_ERR_MALFORMED);
	ck_assert_ptr_null(k);
	k = (struct kt_vrf_key *)&k;
	ck_assert_int_eq(kt_vrf_key_from_secret(NULL, &k), KT_ERR_MALFORMED);
	ck_assert_ptr_null(k);
	/* q, q + small and 2^256 - 1: never reduced, refused. */
	ck_assert_int_eq(kt_vrf_key_from_secret(q_le, &k), KT_ERR_MALFORMED);
	for (i = 0; i < sizeof(small); i++) {
		uint8_t d[32] = { 0 };

		d[0] = small[i];
		add256(q_le, d, sk);
		ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k),
		    KT_ERR_MALFORMED);
	}
	memset(sk, 0xff, sizeof(sk));
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_ERR_MALFORMED);
	/* The vector's SK with its top bit set is >= q. */
	memcpy(sk, vec.sk, 32);
	sk[31] |= 0x80;
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_ERR_MALFORMED);
	/* 1 gives B; q - 1 gives -B. Both are keys. */
	memset(sk, 0, sizeof(sk));
	sk[0] = 1;
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_OK);
	kt_vrf_public(k, pk);
	unhex(base_hex, want, 32);
	ck_assert_mem_eq(pk, want, 32);
	kt_vrf_key_free(k);
	sub256(q_le, sk, sk);
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_OK);
	kt_vrf_public(k, pk);
	memset(sk, 0, sizeof(sk));
	ck_assert_int_eq(crypto_core_ristretto255_sub(want, sk, want), 0);
	ck_assert_mem_eq(pk, want, 32);
	kt_vrf_key_free(k);
}
END_TEST

/* 32 random bytes are a key exactly when below q and not zero. */
START_TEST(test_key_random_bytes)
{
	uint8_t sk[32], wide[64], red[32];
	struct kt_vrf_key *k;
	unsigned accepted = 0, i;

	for (i = 0; i < 2000; i++) {
		kt_err err;

		randombytes_buf(sk, sizeof(sk));
		if (i % 2)
			sk[31] &= 0x1f; /* near q: half of these are below */
		memset(wide, 0, sizeof(wide));
		memcpy(wide, sk, 32);
		crypto_core_ristretto255_scalar_reduce(red, wide);
		err = kt_vrf_key_from_secret(sk, &k);
		if (memcmp(red, sk, 32) == 0) {
			ck_assert_int_eq(err, KT_OK);
			accepted++;
			kt_vrf_key_free(k);
		} else {
			ck_assert_int_eq(err, KT_ERR_MALFORMED);
			ck_assert_ptr_null(k);
		}
	}
	ck_assert_uint_gt(accepted, 300);
	ck_assert_uint_lt(accepted, 1000);
}
END_TEST

/* ---- kt_vrf_prove -------------------------------------------------------- */

START_TEST(test_prove_vector)
{
	struct kt_vrf_key *k = vector_key();
	struct kt_vrf_trace t;
	uint8_t pi[KT_VRF_PROOF_LEN], pi2[KT_VRF_PROOF_LEN];

	ck_assert_int_eq(kt_vrf_prove_trace(k, vec.alpha, vec.alpha_len, pi,
	                     &t),
	    KT_OK);
	ck_assert_mem_eq(t.hash_string, vec.t.hash_string, 64);
	ck_assert_mem_eq(t.h, vec.t.h, 32);
	ck_assert_mem_eq(t.k_string, vec.t.k_string, 64);
	ck_assert_mem_eq(t.k, vec.t.k, 32);
	ck_assert_mem_eq(t.gamma, vec.t.gamma, 32);
	ck_assert_mem_eq(t.u, vec.t.u, 32);
	ck_assert_mem_eq(t.v, vec.t.v, 32);
	ck_assert_mem_eq(t.c_string, vec.t.c_string, 64);
	ck_assert_mem_eq(t.c, vec.t.c, 16);
	ck_assert_mem_eq(t.s, vec.t.s, 32);
	ck_assert_mem_eq(pi, vec.pi, KT_VRF_PROOF_LEN);
	/* The public entry point, twice: deterministic. */
	ck_assert_int_eq(kt_vrf_prove(k, vec.alpha, vec.alpha_len, pi2), KT_OK);
	ck_assert_mem_eq(pi2, vec.pi, KT_VRF_PROOF_LEN);
	ck_assert_int_eq(kt_vrf_prove(k, vec.alpha, vec.alpha_len, pi2), KT_OK);
	ck_assert_mem_eq(pi2, vec.pi, KT_VRF_PROOF_LEN);
	/* pi is Gamma || c || s. */
	ck_assert_mem_eq(vec.pi, vec.t.gamma, 32);
	ck_assert_mem_eq(vec.pi + 32, vec.t.c, 16);
	ck_assert_mem_eq(vec.pi + 48, vec.t.s, 32);
	ck_assert_mem_eq(vec.t.c, vec.t.c_string, 16);
	kt_vrf_key_free(k);
}
END_TEST

START_TEST(test_prove_alpha_args)
{
	struct kt_vrf_key *k = vector_key();
	uint8_t pi[KT_VRF_PROOF_LEN], pi2[KT_VRF_PROOF_LEN];
	const uint8_t empty[1] = { 0 };

	memset(pi, 0xaa, sizeof(pi));
	ck_assert_int_eq(kt_vrf_prove(k, NULL, 1, pi), KT_ERR_MALFORMED);
	ck_assert(sodium_is_zero(pi, sizeof(pi)));
	/* The empty input, spelled NULL or not, is one input. */
	ck_assert_int_eq(kt_vrf_prove(k, NULL, 0, pi), KT_OK);
	ck_assert_int_eq(kt_vrf_prove(k, empty, 0, pi2), KT_OK);
	ck_assert_mem_eq(pi, pi2, sizeof(pi));
	ck_assert_int_eq(kt_vrf_verify(vec.pk, NULL, 1, pi, pi2),
	    KT_ERR_MALFORMED);
	kt_vrf_key_free(k);
}
END_TEST

#define THREADS 4
#define PER_THREAD 25

struct prover {
	pthread_t th;
	const struct kt_vrf_key *k;
	unsigned first;
	uint8_t pi[PER_THREAD][KT_VRF_PROOF_LEN];
	int ok;
};

static void *
prove_many(void *arg)
{
	struct prover *p = arg;
	unsigned i;

	p->ok = 1;
	for (i = 0; i < PER_THREAD; i++) {
		unsigned a = p->first + i;

		if (kt_vrf_prove(p->k, (const uint8_t *)&a, sizeof(a),
		        p->pi[i]) != KT_OK)
			p->ok = 0;
	}
	return NULL;
}

/* One read-only key, many threads proving at once: same proofs as alone. */
START_TEST(test_prove_concurrent)
{
	static struct prover ps[THREADS];
	struct kt_vrf_key *k = random_key();
	uint8_t pi[KT_VRF_PROOF_LEN];
	unsigned t, i;

	for (t = 0; t < THREADS; t++) {
		ps[t].k = k;
		ps[t].first = t * PER_THREAD;
		ck_assert_int_eq(pthread_create(&ps[t].th, NULL, prove_many,
		                     &ps[t]),
		    0);
	}
	for (t = 0; t < THREADS; t++) {
		ck_assert_int_eq(pthread_join(ps[t].th, NULL), 0);
		ck_assert(ps[t].ok);
		for (i = 0; i < PER_THREAD; i++) {
			unsigned a = ps[t].first + i;

			ck_assert_int_eq(kt_vrf_prove(k, (const uint8_t *)&a,
			                     sizeof(a), pi),
			    KT_OK);
			ck_assert_mem_eq(pi, ps[t].pi[i], sizeof(pi));
		}
	}
	kt_vrf_key_free(k);
}
END_TEST

/* ---- kt_vrf_verify ------------------------------------------------------- */

START_TEST(test_verify_vector)
{
	struct kt_vrf_trace t;
	uint8_t beta[KT_VRF_OUTPUT_LEN];

	ck_assert_int_eq(kt_vrf_verify_trace(vec.pk, vec.alpha, vec.alpha_len,
	                     vec.pi, beta, &t),
	    KT_OK);
	ck_assert_mem_eq(beta, vec.beta, KT_VRF_OUTPUT_LEN);
	/* The verifier's own U = s*B - c*Y and V = s*H - c*Gamma. */
	ck_assert_mem_eq(t.hash_string, vec.t.hash_string, 64);
	ck_assert_mem_eq(t.h, vec.t.h, 32);
	ck_assert_mem_eq(t.gamma, vec.t.gamma, 32);
	ck_assert_mem_eq(t.u, vec.t.u, 32);
	ck_assert_mem_eq(t.v, vec.t.v, 32);
	ck_assert_mem_eq(t.c_string, vec.t.c_string, 64);
	ck_assert_mem_eq(t.c, vec.t.c, 16);
	ck_assert_mem_eq(t.s, vec.t.s, 32);
	ck_assert(sodium_is_zero(t.k, 32));
	memset(beta, 0, sizeof(beta));
	ck_assert_int_eq(kt_vrf_verify(vec.pk, vec.alpha, vec.alpha_len, vec.pi,
	                     beta),
	    KT_OK);
	ck_assert_mem_eq(beta, vec.beta, KT_VRF_OUTPUT_LEN);
}
END_TEST

/* 200 random keys and inputs: prove, verify, proof_to_hash agree. */
START_TEST(test_verify_roundtrip)
{
	uint8_t alpha[301], pi[KT_VRF_PROOF_LEN], pk[32], other_pk[32];
	uint8_t beta[KT_VRF_OUTPUT_LEN], beta2[KT_VRF_OUTPUT_LEN];
	uint8_t prev_beta[KT_VRF_OUTPUT_LEN];
	struct kt_vrf_key *k, *other = random_key();
	unsigned i;

	kt_vrf_public(other, other_pk);
	memset(prev_beta, 0, sizeof(prev_beta));
	for (i = 0; i < 200; i++) {
		size_t len = randombytes_uniform(sizeof(alpha));

		k = random_key();
		kt_vrf_public(k, pk);
		ck_assert_int_eq(kt_vrf_public_check(pk), KT_OK);
		randombytes_buf(alpha, sizeof(alpha));
		ck_assert_int_eq(kt_vrf_prove(k, alpha, len, pi), KT_OK);
		ck_assert_int_eq(kt_vrf_verify(pk, alpha, len, pi, beta),
		    KT_OK);
		ck_assert_int_eq(kt_vrf_proof_to_hash(pi, beta2), KT_OK);
		ck_assert_mem_eq(beta, beta2, sizeof(beta));
		ck_assert_mem_ne(beta, prev_beta, sizeof(beta));
		memcpy(prev_beta, beta, sizeof(beta));
		/* Another key's proof, or another input: false. */
		ck_assert_int_eq(verify_fails(other_pk, alpha, len, pi),
		    KT_ERR_VERIFY);
		alpha[len] ^= 1;
		ck_assert_int_eq(verify_fails(pk, alpha, len + 1, pi),
		    KT_ERR_VERIFY);
		if (len > 0) {
			ck_assert_int_eq(verify_fails(pk, alpha, len - 1, pi),
			    KT_ERR_VERIFY);
			alpha[0] ^= 0x80;
			ck_assert_int_eq(verify_fails(pk, alpha, len, pi),
			    KT_ERR_VERIFY);
		}
		kt_vrf_key_free(k);
	}
	kt_vrf_key_free(other);
}
END_TEST

/* Every one of pi's 640 bits matters. */
START_TEST(test_verify_bit_flips)
{
	uint8_t pi[KT_VRF_PROOF_LEN], beta[KT_VRF_OUTPUT_LEN];
	unsigned bit, malformed = 0, false_proof = 0;

	for (bit = 0; bit < 8 * KT_VRF_PROOF_LEN; bit++) {
		kt_err err, herr;

		memcpy(pi, vec.pi, sizeof(pi));
		pi[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		err = verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi);
		if (err == KT_ERR_MALFORMED)
			malformed++;
		else
			false_proof++;
		/* Bit 255 of Gamma: libsodium 1.0.18 alone would accept it. */
		if (bit == 255)
			ck_assert_int_eq(err, KT_ERR_MALFORMED);
		herr = kt_vrf_proof_to_hash(pi, beta);
		ck_assert_int_eq(herr,
		    err == KT_ERR_MALFORMED ? KT_ERR_MALFORMED : KT_OK);
		/* beta depends on Gamma alone: c and s bits leave it be. */
		if (herr == KT_OK && bit >= 8 * 32)
			ck_assert_mem_eq(beta, vec.beta, sizeof(beta));
		else if (herr == KT_OK)
			ck_assert_mem_ne(beta, vec.beta, sizeof(beta));
	}
	ck_assert_uint_gt(malformed, 0);
	ck_assert_uint_gt(false_proof, 0);
	ck_assert_uint_eq(malformed + false_proof, 640);
}
END_TEST

START_TEST(test_verify_wrong_alpha)
{
	uint8_t alpha[ALPHA_MAX + 1];
	size_t i;

	memcpy(alpha, vec.alpha, vec.alpha_len);
	for (i = 0; i < vec.alpha_len; i++) {
		alpha[i] ^= 0x20;
		ck_assert_int_eq(verify_fails(vec.pk, alpha, vec.alpha_len,
		                     vec.pi),
		    KT_ERR_VERIFY);
		alpha[i] ^= 0x20;
		ck_assert_int_eq(verify_fails(vec.pk, alpha, i, vec.pi),
		    KT_ERR_VERIFY);
	}
	alpha[vec.alpha_len] = 0;
	ck_assert_int_eq(verify_fails(vec.pk, alpha, vec.alpha_len + 1, vec.pi),
	    KT_ERR_VERIFY);
	ck_assert_int_eq(verify_fails(vec.pk, NULL, 0, vec.pi), KT_ERR_VERIFY);
}
END_TEST

START_TEST(test_verify_wrong_pk)
{
	uint8_t pk[32], zero[32] = { 0 };
	struct kt_vrf_key *k;
	unsigned i;

	/* -PK and B are valid keys, just not this proof's. */
	ck_assert_int_eq(crypto_core_ristretto255_sub(pk, zero, vec.pk), 0);
	ck_assert_int_eq(verify_fails(pk, vec.alpha, vec.alpha_len, vec.pi),
	    KT_ERR_VERIFY);
	unhex(base_hex, pk, 32);
	ck_assert_int_eq(verify_fails(pk, vec.alpha, vec.alpha_len, vec.pi),
	    KT_ERR_VERIFY);
	for (i = 0; i < 20; i++) {
		k = random_key();
		kt_vrf_public(k, pk);
		ck_assert_int_eq(verify_fails(pk, vec.alpha, vec.alpha_len,
		                     vec.pi),
		    KT_ERR_VERIFY);
		kt_vrf_key_free(k);
	}
}
END_TEST

/* RFC 9496 A.2: encodings every ristretto255 decoder must refuse. */
static const char *const bad_encodings[] = {
	/* Non-canonical field encodings. */
	"00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	/* Negative field elements. */
	"0100000000000000000000000000000000000000000000000000000000000000",
	"01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
	"c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
	"c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
	"47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
	"f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
	"87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
	/* Non-square x^2. */
	"26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
	"4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
	"de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
	"bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
	"2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
	"f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
	"8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
	"2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
	/* Negative xy value. */
	"3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
	"a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
	"d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
	"8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
	"32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
	"227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
	"5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
	"445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
	/* s = -1, which causes y = 0. */
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};
#define NBAD (sizeof(bad_encodings) / sizeof(bad_encodings[0]))

/*
 * Other spellings of a valid encoding e, both of which must be refused: bit
 * 255 set, and p - e (the odd, "negative" representative of -e, which
 * decoders must not take for e's element or its negation). e + p, the other
 * non-canonical spelling, fits below 2^255 only for e < 19: the RFC 9496
 * list above covers it (p itself spells 0).
 */
static void
respellings(const uint8_t e[32], uint8_t out[2][32])
{
	memcpy(out[0], e, 32);
	out[0][31] |= 0x80;
	sub256(p_le, e, out[1]);
}

static void
expect_bad_pk(const uint8_t pk[32])
{
	ck_assert_int_eq(kt_vrf_public_check(pk), KT_ERR_MALFORMED);
	ck_assert_int_eq(verify_fails(pk, vec.alpha, vec.alpha_len, vec.pi),
	    KT_ERR_MALFORMED);
}

static void
expect_bad_gamma(const uint8_t gamma[32])
{
	uint8_t pi[KT_VRF_PROOF_LEN], beta[KT_VRF_OUTPUT_LEN];

	memcpy(pi, vec.pi, sizeof(pi));
	memcpy(pi, gamma, 32);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_MALFORMED);
	memset(beta, 0xaa, sizeof(beta));
	ck_assert_int_eq(kt_vrf_proof_to_hash(pi, beta), KT_ERR_MALFORMED);
	ck_assert(sodium_is_zero(beta, sizeof(beta)));
}

START_TEST(test_verify_noncanonical)
{
	uint8_t e[32], alt[2][32];
	size_t i, j;

	for (i = 0; i < NBAD; i++) {
		unhex(bad_encodings[i], e, 32);
		expect_bad_pk(e);
		expect_bad_gamma(e);
	}
	/* The identity: 32 zero bytes (its only canonical encoding). */
	memset(e, 0, sizeof(e));
	expect_bad_pk(e);
	expect_bad_gamma(e);
	/* The vector's own PK and Gamma, and B, spelled otherwise. */
	respellings(vec.pk, alt);
	for (j = 0; j < 2; j++)
		expect_bad_pk(alt[j]);
	respellings(vec.t.gamma, alt);
	for (j = 0; j < 2; j++)
		expect_bad_gamma(alt[j]);
	unhex(base_hex, e, 32);
	respellings(e, alt);
	for (j = 0; j < 2; j++) {
		expect_bad_pk(alt[j]);
		expect_bad_gamma(alt[j]);
	}
}
END_TEST

/* s must be below q: s + q (the same scalar) would make a second proof. */
START_TEST(test_verify_s_range)
{
	static const uint8_t small[] = { 1, 2, 3, 19, 0xff };
	uint8_t pi[KT_VRF_PROOF_LEN], d[32], beta[KT_VRF_OUTPUT_LEN];
	size_t i;

	memcpy(pi, vec.pi, sizeof(pi));
	memcpy(pi + 48, q_le, 32);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_MALFORMED);
	for (i = 0; i < sizeof(small); i++) {
		memset(d, 0, sizeof(d));
		d[0] = small[i];
		add256(q_le, d, pi + 48);
		ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len,
		                     pi),
		    KT_ERR_MALFORMED);
	}
	memset(pi + 48, 0xff, 32);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_MALFORMED);
	add256(vec.t.s, q_le, pi + 48);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_vrf_proof_to_hash(pi, beta), KT_ERR_MALFORMED);
	/* q - 1 and 0 decode: the proof is then merely false. */
	memset(d, 0, sizeof(d));
	d[0] = 1;
	sub256(q_le, d, pi + 48);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_VERIFY);
	memset(pi + 48, 0, 32);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_VERIFY);
}
END_TEST

/* c and s exchanged, both ways the 48 bytes can be read. */
START_TEST(test_verify_c_s_swapped)
{
	uint8_t pi[KT_VRF_PROOF_LEN];

	/* c' = s's first 16 bytes, s' = c padded with zeros (< q). */
	memcpy(pi, vec.pi, 32);
	memcpy(pi + 32, vec.t.s, 16);
	memcpy(pi + 48, vec.t.c, 16);
	memset(pi + 64, 0, 16);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_VERIFY);
	/* Gamma || s || c: read back as c' = s[0..16), s' = s[16..32) || c. */
	memcpy(pi + 32, vec.t.s, 32);
	memcpy(pi + 64, vec.t.c, 16);
	verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi);
}
END_TEST

/* A proof stays tied to its Gamma: -Gamma and other elements fail. */
START_TEST(test_verify_other_gamma)
{
	uint8_t pi[KT_VRF_PROOF_LEN], zero[32] = { 0 };

	memcpy(pi, vec.pi, sizeof(pi));
	ck_assert_int_eq(crypto_core_ristretto255_sub(pi, zero, vec.t.gamma),
	    0);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_VERIFY);
	unhex(base_hex, pi, 32);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_VERIFY);
	/* H itself as Gamma (what x = 1 would give). */
	memcpy(pi, vec.t.h, 32);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_VERIFY);
}
END_TEST

/* ---- kt_vrf_proof_to_hash ----------------------------------------------- */

START_TEST(test_proof_to_hash_vector)
{
	uint8_t beta[KT_VRF_OUTPUT_LEN], pi[KT_VRF_PROOF_LEN];

	ck_assert_int_eq(kt_vrf_proof_to_hash(vec.pi, beta), KT_OK);
	ck_assert_mem_eq(beta, vec.beta, KT_VRF_OUTPUT_LEN);
	/* Not a verification: a false c still yields Gamma's hash. */
	memcpy(pi, vec.pi, sizeof(pi));
	pi[40] ^= 1;
	ck_assert_int_eq(kt_vrf_proof_to_hash(pi, beta), KT_OK);
	ck_assert_mem_eq(beta, vec.beta, KT_VRF_OUTPUT_LEN);
	ck_assert_int_eq(verify_fails(vec.pk, vec.alpha, vec.alpha_len, pi),
	    KT_ERR_VERIFY);
}
END_TEST

/* ---- kt_vrf_public_check ------------------------------------------------ */

START_TEST(test_public_check)
{
	uint8_t pk[32];
	size_t i;

	ck_assert_int_eq(kt_vrf_public_check(vec.pk), KT_OK);
	unhex(base_hex, pk, 32);
	ck_assert_int_eq(kt_vrf_public_check(pk), KT_OK);
	/* B with bit 255 set (libsodium 1.0.18's is_valid_point takes it). */
	pk[31] |= 0x80;
	ck_assert_int_eq(kt_vrf_public_check(pk), KT_ERR_MALFORMED);
	memcpy(pk, vec.pk, 32);
	pk[31] |= 0x80;
	ck_assert_int_eq(kt_vrf_public_check(pk), KT_ERR_MALFORMED);
	memset(pk, 0, sizeof(pk));
	ck_assert_int_eq(kt_vrf_public_check(pk), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_vrf_public_check(NULL), KT_ERR_MALFORMED);
	for (i = 0; i < NBAD; i++) {
		unhex(bad_encodings[i], pk, 32);
		ck_assert_int_eq(kt_vrf_public_check(pk), KT_ERR_MALFORMED);
	}
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

int
main(void)
{
	Suite *s = suite_create("vrf");

	kt_test_fixture_case(s, "kt_vrf_key_from_secret", 0, load_vector, NULL,
	    test_key_vector, test_key_refusals, test_key_random_bytes, NULL);
	kt_test_fixture_case(s, "kt_vrf_prove", 60, load_vector, NULL,
	    test_prove_vector, test_prove_alpha_args, test_prove_concurrent,
	    NULL);
	kt_test_fixture_case(s, "kt_vrf_verify", 120, load_vector, NULL,
	    test_verify_vector, test_verify_roundtrip, test_verify_bit_flips,
	    test_verify_wrong_alpha, test_verify_wrong_pk,
	    test_verify_noncanonical, test_verify_s_range,
	    test_verify_c_s_swapped, test_verify_other_gamma, NULL);
	kt_test_fixture_case(s, "kt_vrf_proof_to_hash", 0, load_vector, NULL,
	    test_proof_to_hash_vector, NULL);
	kt_test_fixture_case(s, "kt_vrf_public_check", 0, load_vector, NULL,
	    test_public_check, NULL);
	return kt_test_run(s);
}
