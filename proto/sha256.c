/*
 * sha256.c: kt's SHA-256 over OpenSSL's SHA256_CTX functions. They are
 * deprecated in OpenSSL 3.0 in favour of EVP, but EVP needs a context
 * allocated per hash (or per thread) and costs 1.5 to 2.7 times as much
 * per interior node here; these functions take a context on the stack and
 * run the same assembly. The one file that includes OpenSSL.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "sha256_internal.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(struct kt_sha256),
    "struct kt_sha256 must hold an OpenSSL SHA256_CTX");
_Static_assert(_Alignof(SHA256_CTX) <= _Alignof(struct kt_sha256),
    "struct kt_sha256 must be aligned for an OpenSSL SHA256_CTX");

void
kt_sha256_init(struct kt_sha256 *s)
{
	SHA256_Init((SHA256_CTX *)s);
}

void
kt_sha256_update(struct kt_sha256 *s, const void *p, size_t n)
{
	if (n > 0)
		SHA256_Update((SHA256_CTX *)s, p, n);
}

void
kt_sha256_final(struct kt_sha256 *s, uint8_t out[32])
{
	SHA256_Final(out, (SHA256_CTX *)s);
}

void
kt_sha256(uint8_t out[32], const void *p, size_t n)
{
	struct kt_sha256 s;

	kt_sha256_init(&s);
	kt_sha256_update(&s, p, n);
	kt_sha256_final(&s, out);
}
