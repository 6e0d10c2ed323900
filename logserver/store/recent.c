/*
 * recent.c: the in-memory multimap of recent index records (recent.h).
 * Nodes live in one array and are named by their position (uint32_t), so a
 * chain or slice link costs 4 bytes and growing the array moves no links.
 * Keys are hash bytes, so their bytes 1..4 make a good bucket hash (byte 0
 * is the slice, shared by a slice's records).
 */
#include <stdlib.h>
#include <string.h>

#include "kt/merkle.h"
#include "store/recent.h"

#define NIL UINT32_MAX
#define MIN_BUCKETS 1024u

static uint32_t
bucket_of(const struct kt_recent *r, const uint8_t *key)
{
	uint32_t h = 0;

	for (size_t i = 1; i < 5 && i < r->keylen; i++)
		h = (h << 8) | key[i];
	return (h * 2654435761u) & (r->nbucket - 1);
}

/* A whole hash (the label map's SHA-256 keys) is compared as a hash, with
 * kt_hash_eq; a shorter key (the leaf map's first 8 bytes of a leaf hash)
 * is only part of one, compared as bytes. */
static int
key_eq(const struct kt_recent *r, const uint8_t *a, const uint8_t *b)
{
	struct kt_hash x, y;

	if (r->keylen != KT_HASH_LEN)
		return memcmp(a, b, r->keylen) == 0;
	memcpy(x.b, a, KT_HASH_LEN);
	memcpy(y.b, b, KT_HASH_LEN);
	return kt_hash_eq(&x, &y);
}

void
kt_recent_init(struct kt_recent *r, size_t keylen)
{
	memset(r, 0, sizeof(*r));
	r->keylen = keylen == 0 || keylen > KT_RECENT_KEY_MAX
	    ? KT_RECENT_KEY_MAX
	    : keylen;
	r->freelist = NIL;
	for (unsigned s = 0; s < KT_RECENT_SLICES; s++)
		r->head[s] = r->tail[s] = NIL;
}

void
kt_recent_free(struct kt_recent *r)
{
	size_t keylen = r->keylen;

	free(r->pool);
	free(r->bucket);
	kt_recent_init(r, keylen);
}

/* Doubles the bucket array and relinks every live node (slice order is
 * kept: only the hash chains change). */
static int
rehash(struct kt_recent *r)
{
	uint32_t nb = r->nbucket ? r->nbucket * 2 : MIN_BUCKETS;
	uint32_t *b = malloc((size_t)nb * sizeof(*b));

	if (b == NULL)
		return -1;
	for (uint32_t i = 0; i < nb; i++)
		b[i] = NIL;
	free(r->bucket);
	r->bucket = b;
	r->nbucket = nb;
	for (unsigned s = 0; s < KT_RECENT_SLICES; s++) {
		for (uint32_t i = r->head[s]; i != NIL; i = r->pool[i].snext) {
			uint32_t h = bucket_of(r, r->pool[i].key);

			r->pool[i].hnext = b[h];
			b[h] = i;
		}
	}
	return 0;
}

kt_err
kt_recent_add(struct kt_recent *r, const uint8_t *key, uint64_t version,
    uint64_t index)
{
	struct kt_recent_node *n;
	unsigned s = key[0];
	uint32_t i, h;

	if (r->count >= NIL - 1)
		return KT_ERR_NOMEM;
	if (r->count >= r->nbucket && rehash(r) != 0)
		return KT_ERR_NOMEM;
	if (r->freelist != NIL) {
		i = r->freelist;
		r->freelist = r->pool[i].snext;
	} else {
		if (r->used == r->cap) {
			uint32_t cap = r->cap ? r->cap * 2 : 1024;
			struct kt_recent_node *p;

			if (cap < r->cap)
				return KT_ERR_NOMEM;
			p = realloc(r->pool, (size_t)cap * sizeof(*p));
			if (p == NULL)
				return KT_ERR_NOMEM;
			r->pool = p;
			r->cap = cap;
		}
		i = r->used++;
	}
	n = &r->pool[i];
	memset(n->key, 0, sizeof(n->key));
	memcpy(n->key, key, r->keylen);
	n->index = index;
	n->version = version;
	n->snext = NIL;
	h = bucket_of(r, key);
	n->hnext = r->bucket[h];
	r->bucket[h] = i;
	if (r->tail[s] == NIL)
		r->head[s] = i;
	else
		r->pool[r->tail[s]].snext = i;
	r->tail[s] = i;
	r->count++;
	return KT_OK;
}

void
kt_recent_find(const struct kt_recent *r, const uint8_t *key, kt_recent_fn fn,
    void *ctx)
{
	if (r->count == 0)
		return;
	for (uint32_t i = r->bucket[bucket_of(r, key)]; i != NIL;
	     i = r->pool[i].hnext) {
		if (key_eq(r, r->pool[i].key, key) && fn(ctx, &r->pool[i]) != 0)
			return;
	}
}

void
kt_recent_slice(const struct kt_recent *r, unsigned slice, uint64_t from,
    kt_recent_fn fn, void *ctx)
{
	if (slice >= KT_RECENT_SLICES)
		return;
	for (uint32_t i = r->head[slice]; i != NIL; i = r->pool[i].snext) {
		if (r->pool[i].index >= from && fn(ctx, &r->pool[i]) != 0)
			return;
	}
}

/* Takes node i out of its hash chain and puts it on the free list. */
static void
release(struct kt_recent *r, uint32_t i)
{
	uint32_t *p = &r->bucket[bucket_of(r, r->pool[i].key)];

	while (*p != i)
		p = &r->pool[*p].hnext;
	*p = r->pool[i].hnext;
	r->pool[i].snext = r->freelist;
	r->freelist = i;
	r->count--;
}

size_t
kt_recent_drop_below(struct kt_recent *r, unsigned slice, uint64_t below)
{
	size_t n = 0;

	if (slice >= KT_RECENT_SLICES)
		return 0;
	while (r->head[slice] != NIL && r->pool[r->head[slice]].index < below) {
		uint32_t i = r->head[slice];

		r->head[slice] = r->pool[i].snext;
		release(r, i);
		n++;
	}
	if (r->head[slice] == NIL)
		r->tail[slice] = NIL;
	return n;
}

void
kt_recent_drop_from(struct kt_recent *r, uint64_t from)
{
	for (unsigned s = 0; s < KT_RECENT_SLICES; s++) {
		uint32_t *p = &r->head[s], last = NIL;

		while (*p != NIL && r->pool[*p].index < from) {
			last = *p;
			p = &r->pool[*p].snext;
		}
		/* *p and everything after it go. */
		while (*p != NIL) {
			uint32_t i = *p;

			*p = r->pool[i].snext;
			release(r, i);
		}
		r->tail[s] = last;
	}
}
