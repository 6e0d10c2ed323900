/*
 * bloom.c: the blocked, growable Bloom filter of bloom.h. Keys are hash
 * outputs, so their bytes are used directly: bytes 8..15 pick the block,
 * bytes 16..31 give eight 9-bit positions inside its 512 bits (about 1%
 * false positives at 10 bits per key).
 */
#include <stdlib.h>
#include <string.h>

#include "store/bloom.h"
#include "kt/bytes.h"

#define BLOCK_WORDS 8 /* 512 bits, one cache line */
#define BITS_PER_KEY 10
#define FIRST_CAP ((uint64_t)1 << 20)

struct kt_bloom_part {
	uint64_t *bits; /* nblocks * BLOCK_WORDS words */
	uint64_t nblocks;
	uint64_t cap; /* keys before the next part is started */
	uint64_t count;
};

void
kt_bloom_init(struct kt_bloom *b)
{
	b->parts = NULL;
	b->nparts = 0;
}

void
kt_bloom_free(struct kt_bloom *b)
{
	for (size_t i = 0; i < b->nparts; i++)
		free(b->parts[i].bits);
	free(b->parts);
	kt_bloom_init(b);
}

static uint64_t *
block_of(const struct kt_bloom_part *p, const uint8_t key[KT_HASH_LEN])
{
	return p->bits + (kt_get_be64(key + 8) % p->nblocks) * BLOCK_WORDS;
}

/* The k-th 9-bit position (0..511) of key in its block. */
static unsigned
pos_of(const uint8_t key[KT_HASH_LEN], unsigned k)
{
	unsigned bit = 9 * k; /* within key[16..31], 72 of 128 bits */
	unsigned v = ((unsigned)key[16 + bit / 8] << 8) | key[17 + bit / 8];

	return (v >> (7 - bit % 8)) & 511;
}

kt_err
kt_bloom_add(struct kt_bloom *b, const uint8_t key[KT_HASH_LEN])
{
	struct kt_bloom_part *p;
	uint64_t *blk;

	if (b->nparts == 0 ||
	    b->parts[b->nparts - 1].count >= b->parts[b->nparts - 1].cap) {
		uint64_t cap =
		    b->nparts ? b->parts[b->nparts - 1].cap * 2 : FIRST_CAP;
		uint64_t nblocks = cap * BITS_PER_KEY / (BLOCK_WORDS * 64);
		struct kt_bloom_part *np;
		uint64_t *bits;

		if (b->nparts >= 40)
			return KT_ERR_NOMEM;
		bits = calloc(nblocks * BLOCK_WORDS, sizeof(*bits));
		if (bits == NULL)
			return KT_ERR_NOMEM;
		np = realloc(b->parts, (b->nparts + 1) * sizeof(*np));
		if (np == NULL) {
			free(bits);
			return KT_ERR_NOMEM;
		}
		b->parts = np;
		b->parts[b->nparts].bits = bits;
		b->parts[b->nparts].nblocks = nblocks;
		b->parts[b->nparts].cap = cap;
		b->parts[b->nparts].count = 0;
		b->nparts++;
	}
	p = &b->parts[b->nparts - 1];
	blk = block_of(p, key);
	for (unsigned k = 0; k < 8; k++) {
		unsigned pos = pos_of(key, k);

		blk[pos / 64] |= (uint64_t)1 << (pos % 64);
	}
	p->count++;
	return KT_OK;
}

int
kt_bloom_maybe(const struct kt_bloom *b, const uint8_t key[KT_HASH_LEN])
{
	for (size_t i = 0; i < b->nparts; i++) {
		const uint64_t *blk = block_of(&b->parts[i], key);
		unsigned k;

		for (k = 0; k < 8; k++) {
			unsigned pos = pos_of(key, k);

			if ((blk[pos / 64] & ((uint64_t)1 << (pos % 64))) == 0)
				break;
		}
		if (k == 8)
			return 1;
	}
	return 0;
}
