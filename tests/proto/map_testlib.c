/*
 * map_testlib.c: the map suites' store, reference map and generator.
 *
 * The reference map recomputes a root from scratch with a direct reading
 * of the definitions: the subtree of a set of leaves is its one leaf, or a
 * node at the first bit where the set splits. It shares no code with
 * proto/map.c, so the two agreeing on thousands of random maps is evidence
 * that map.c computes what the README says.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "map_testlib.h"

/* ---- a node store in memory ---------------------------------------------- */

struct mem_node {
	struct kt_hash h;
	struct kt_map_node node;
};

void
mem_store_init(struct mem_store *s)
{
	memset(s, 0, sizeof(*s));
}

void
mem_store_free(struct mem_store *s)
{
	free(s->n);
	memset(s, 0, sizeof(*s));
}

static kt_err
mem_read(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	struct mem_store *s = ctx;
	size_t i;

	(void)index;
	(void)depth;
	s->reads++;
	for (i = s->len; i-- > 0;)
		if (memcmp(s->n[i].h.b, h->b, KT_HASH_LEN) == 0) {
			*out = s->n[i].node;
			if (s->lie && s->len > 1)
				*out = s->n[(i + 1) % s->len].node;
			return KT_OK;
		}
	return KT_ERR_NOT_FOUND;
}

static kt_err
mem_write(void *ctx, const struct kt_hash *h, const struct kt_map_node *n)
{
	struct mem_store *s = ctx;

	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct mem_node *p = realloc(s->n, cap * sizeof(*p));

		if (p == NULL)
			return KT_ERR_NOMEM;
		s->n = p;
		s->cap = cap;
	}
	s->n[s->len].h = *h;
	s->n[s->len].node = *n;
	s->len++;
	return KT_OK;
}

struct kt_map_reader
mem_reader(struct mem_store *s)
{
	struct kt_map_reader r = { mem_read, s, 0 };

	return r;
}

struct kt_map_writer
mem_writer(struct mem_store *s)
{
	struct kt_map_writer w = { mem_write, s };

	return w;
}

/* ---- the reference map --------------------------------------------------- */

void
ref_free(struct ref_map *m)
{
	free(m->l);
	memset(m, 0, sizeof(*m));
}

struct kt_map_leaf *
ref_find(struct ref_map *m, const struct kt_hash *index)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (memcmp(m->l[i].index.b, index->b, KT_HASH_LEN) == 0)
			return &m->l[i];
	return NULL;
}

static void
chain(const struct kt_hash *prev, const struct kt_hash *u, struct kt_hash *out)
{
	uint8_t buf[65] = { 0x04 };

	if (prev != NULL)
		memcpy(buf + 1, prev->b, 32);
	memcpy(buf + 33, u->b, 32);
	crypto_hash_sha256(out->b, buf, sizeof(buf));
}

void
ref_update(struct ref_map *m, const struct kt_map_update *u)
{
	struct kt_map_leaf *l = ref_find(m, &u->index);
	size_t i;

	if (l == NULL) {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->l = realloc(m->l, m->cap * sizeof(*m->l));
			if (m->l == NULL)
				abort();
		}
		for (i = m->n; i > 0 &&
		     memcmp(m->l[i - 1].index.b, u->index.b, KT_HASH_LEN) > 0;
		     i--)
			m->l[i] = m->l[i - 1];
		l = &m->l[i];
		memset(l, 0, sizeof(*l));
		l->index = u->index;
		m->n++;
	}
	chain(l->version ? &l->chain : NULL, &u->leaf_hash, &l->chain);
	l->version = u->version;
	l->update_index = u->log_index;
}

static int
bit(const struct kt_hash *h, unsigned i)
{
	return (h->b[i / 8] >> (7 - i % 8)) & 1;
}

static void
put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
subtree(const struct kt_map_leaf *l, size_t n, unsigned from,
    struct kt_hash *out)
{
	uint8_t buf[81];
	unsigned b;
	size_t k, ones;

	if (n == 1) {
		buf[0] = 0x02;
		memcpy(buf + 1, l->index.b, 32);
		put64(buf + 33, l->version);
		put64(buf + 41, l->update_index);
		memcpy(buf + 49, l->chain.b, 32);
		crypto_hash_sha256(out->b, buf, 81);
		return;
	}
	for (b = from;; b++) {
		for (ones = 0, k = 0; k < n; k++)
			ones += (size_t)bit(&l[k].index, b);
		if (ones != 0 && ones != n)
			break;
	}
	/* Sorted leaves: the ones with bit b = 0 come first. */
	buf[0] = 0x03;
	buf[1] = (uint8_t)b;
	subtree(l, n - ones, b + 1, (struct kt_hash *)(buf + 2));
	subtree(l + n - ones, ones, b + 1, (struct kt_hash *)(buf + 34));
	crypto_hash_sha256(out->b, buf, 66);
}

void
ref_root(const struct ref_map *m, struct kt_hash *root)
{
	uint8_t d = 0x06;

	if (m->n == 0)
		crypto_hash_sha256(root->b, &d, 1);
	else
		subtree(m->l, m->n, 0, root);
}

/* ---- generator ----------------------------------------------------------- */

uint64_t
rnd(uint64_t *s)
{
	/* splitmix64: small, seeded, reproducible. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
rnd_hash(uint64_t *s, struct kt_hash *h)
{
	size_t i;

	for (i = 0; i < 4; i++)
		put64(h->b + 8 * i, rnd(s));
}

struct kt_map_update
next_update(const struct ref_map *m, const struct kt_hash *index,
    uint64_t log_index, const struct kt_map_update *pending, uint64_t *state)
{
	struct kt_map_update u;
	const struct kt_map_leaf *l = ref_find((struct ref_map *)m, index);

	memset(&u, 0, sizeof(u));
	u.index = *index;
	u.log_index = log_index;
	if (pending != NULL) {
		u.version = pending->version + 1;
		u.prev_index = pending->log_index;
	} else if (l != NULL) {
		u.version = l->version + 1;
		u.prev_index = l->update_index;
	} else {
		u.version = 1;
		u.prev_index = KT_MAP_NO_PREV;
	}
	rnd_hash(state, &u.leaf_hash);
	return u;
}
