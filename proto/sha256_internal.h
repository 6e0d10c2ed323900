/*
 * sha256_internal.h: SHA-256 for proto's hot paths (tree and map hashing,
 * commitments): OpenSSL's implementation, which uses the CPU's SHA
 * extensions where it has them. On the machines kt is measured on it hashes
 * an interior node (66 bytes) about 4.8 times as fast as libsodium's
 * portable C (7.6 M/s against 1.6 M/s; ops/bench/proto_bench.c), and
 * hashing is most of the cost of appends, proofs, map batches and audits.
 * The same function either way: the tests check known answers.
 *
 * A plain value on the stack: no allocation, no shared state, so any
 * number of threads hash at once.
 */
#ifndef KT_SHA256_INTERNAL_H
#define KT_SHA256_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Room for OpenSSL's SHA256_CTX (112 bytes; sha256.c checks it fits). */
struct kt_sha256 {
	uint64_t opaque[16];
};

void kt_sha256_init(struct kt_sha256 *s);
void kt_sha256_update(struct kt_sha256 *s, const void *p, size_t n);
void kt_sha256_final(struct kt_sha256 *s, uint8_t out[32]);

/* out = SHA-256(p[0..n)). p may be NULL when n is 0. */
void kt_sha256(uint8_t out[32], const void *p, size_t n);

#endif /* KT_SHA256_INTERNAL_H */
