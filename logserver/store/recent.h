/*
 * recent.h: an in-memory multimap for the store's index records that are
 * not yet in LMDB: key (a hash, or the first bytes of one) -> (version,
 * leaf index). No I/O, no locking: the store decides who may read while
 * the writer changes it (store_index.c).
 *
 * Records are grouped in 256 slices by their key's first byte. Within a
 * slice they are kept in the order they were added, which the store makes
 * increasing leaf-index order, so "everything below index N" is a prefix
 * and "everything from index N" a suffix of each slice.
 */
#ifndef KT_LOGSERVER_RECENT_H
#define KT_LOGSERVER_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"

#define KT_RECENT_SLICES 256
#define KT_RECENT_KEY_MAX 32

struct kt_recent {
	size_t keylen; /* bytes of key compared, 1..KT_RECENT_KEY_MAX */
	struct kt_recent_node *pool;
	uint32_t cap;  /* nodes in pool */
	uint32_t used; /* nodes ever handed out (free ones reused) */
	uint32_t freelist;
	uint32_t *bucket; /* chain heads, nbucket a power of two */
	uint32_t nbucket;
	uint32_t head[KT_RECENT_SLICES], tail[KT_RECENT_SLICES];
	size_t count; /* live records */
};

/* One record; the iteration callbacks see these. */
struct kt_recent_node {
	uint32_t hnext; /* next in the hash chain */
	uint32_t snext; /* next in the slice, in order of addition */
	uint64_t index;
	uint64_t version;
	uint8_t key[KT_RECENT_KEY_MAX];
};

/* Called for each matching record; return nonzero to stop. */
typedef int (*kt_recent_fn)(void *ctx, const struct kt_recent_node *n);

/* An empty map comparing keylen bytes of key (1..KT_RECENT_KEY_MAX). */
void kt_recent_init(struct kt_recent *r, size_t keylen);
/* Frees everything; r is then empty and usable again. */
void kt_recent_free(struct kt_recent *r);

/* Adds a record at the end of slice key[0]. KT_ERR_NOMEM leaves r as it
 * was. */
KT_MUST_CHECK kt_err kt_recent_add(struct kt_recent *r, const uint8_t *key,
    uint64_t version, uint64_t index);

/* Every record with this key, in order of addition, until fn says stop. */
void kt_recent_find(const struct kt_recent *r, const uint8_t *key,
    kt_recent_fn fn, void *ctx);

/* The records of one slice with index >= from, in order, until fn says
 * stop. */
void kt_recent_slice(const struct kt_recent *r, unsigned slice, uint64_t from,
    kt_recent_fn fn, void *ctx);

/* Removes the records of one slice with index < below (a prefix of it);
 * returns how many. */
size_t
kt_recent_drop_below(struct kt_recent *r, unsigned slice, uint64_t below);

/* Removes every record with index >= from (a suffix of every slice). */
void kt_recent_drop_from(struct kt_recent *r, uint64_t from);

#endif /* KT_LOGSERVER_RECENT_H */
