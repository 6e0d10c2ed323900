/*
 * bloom.h: a growable Bloom filter over SHA-256 outputs, so that the writer
 * can tell most new labels from known ones without descending the label
 * index (a B-tree of random keys: several cache misses per lookup). "No"
 * is certain, "maybe" is wrong for about 1% of absent keys. No I/O.
 *
 * Blocked layout: a key sets 8 bits in one 64-byte block, so a query costs
 * one cache line per part. The filter grows by adding parts (each twice
 * the capacity of the last, ~10 bits per key) instead of rebuilding, so an
 * insert never stalls; a query asks every part (about log2(keys / 2^20)).
 */
#ifndef KT_LOGSERVER_BLOOM_H
#define KT_LOGSERVER_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"

struct kt_bloom_part;

struct kt_bloom {
	struct kt_bloom_part *parts;
	size_t nparts;
};

/* An empty filter (no memory until the first add). */
void kt_bloom_init(struct kt_bloom *b);
/* Frees everything; b is then empty and usable again. */
void kt_bloom_free(struct kt_bloom *b);

/* Adds a key (uniformly random bytes, e.g. a SHA-256 output).
 * KT_ERR_NOMEM leaves b as it was. */
KT_MUST_CHECK kt_err kt_bloom_add(struct kt_bloom *b,
    const uint8_t key[KT_HASH_LEN]);

/* 0 if key was certainly never added, 1 if it may have been. */
int kt_bloom_maybe(const struct kt_bloom *b, const uint8_t key[KT_HASH_LEN]);

#endif /* KT_LOGSERVER_BLOOM_H */
