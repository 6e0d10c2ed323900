/*
 * map_paths.c: the older map's nodes that a batch's paths show, each path
 * verified once (kt_vmap_judge, evidence_map.c).
 *
 * A stateless auditor gets, for each batch, the path in the older map of
 * every index the batch touches (GET /v1/map/audit). Each path is decoded
 * and hashed from its leaf up to the older root, and its nodes are kept by
 * hash; the batch step (kt_map_apply) then reads the older map from this
 * table through a `checked` reader, so no node is hashed twice.
 *
 * Paths come sorted by index, so neighbours share their upper nodes: a
 * node whose bit and two children are those of the previous path's node
 * at the same depth has that node's hash, already computed (equal bytes,
 * equal hash), and is not hashed again. Only the nodes below where two
 * paths part are hashed.
 */
#include <stdlib.h>
#include <string.h>

#include "kt/bytes.h"
#include "verify_internal.h"

struct slot {
	uint32_t gen; /* == table's gen: in use */
	struct kt_hash h;
	struct kt_map_node node;
};

/* A node of the previous path, at its depth: its bit, children, hash. */
struct memo {
	uint8_t bit;
	struct kt_hash child[2];
	struct kt_hash h;
};

struct kt_vpaths {
	struct slot *s;
	size_t cap; /* power of two */
	size_t len;
	uint32_t gen;
	struct kt_map_proof p; /* the path being added (decoded) */
	struct memo memo[KT_MAP_MAX_DEPTH];
	size_t memo_n;
	struct kt_map_leaf memo_leaf;
	struct kt_hash memo_leaf_h;
	int memo_ok;
};

kt_err
kt_vpaths_open(struct kt_vpaths **out)
{
	struct kt_vpaths *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return KT_ERR_NOMEM;
	t->gen = 1;
	*out = t;
	return KT_OK;
}

void
kt_vpaths_close(struct kt_vpaths *t)
{
	if (t == NULL)
		return;
	free(t->s);
	free(t);
}

void
kt_vpaths_reset(struct kt_vpaths *t)
{
	t->len = 0;
	t->memo_ok = 0;
	/* A new generation empties every slot without touching them. */
	if (++t->gen == 0) {
		memset(t->s, 0, t->cap * sizeof(*t->s));
		t->gen = 1;
	}
}

static size_t
slot_of(const struct kt_vpaths *t, const struct kt_hash *h)
{
	uint64_t k;
	size_t i;

	memcpy(&k, h->b, sizeof(k)); /* node hashes are uniform */
	/* memcmp: node hashes are public. */
	for (i = (size_t)k & (t->cap - 1);; i = (i + 1) & (t->cap - 1))
		if (t->s[i].gen != t->gen ||
		    memcmp(t->s[i].h.b, h->b, KT_HASH_LEN) == 0)
			return i;
}

static kt_err
grow(struct kt_vpaths *t)
{
	struct kt_vpaths n = { .cap = t->cap ? t->cap * 2 : 1024, .gen = 1 };

	if ((n.s = calloc(n.cap, sizeof(*n.s))) == NULL)
		return KT_ERR_NOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct slot *d;

		if (t->s[i].gen != t->gen)
			continue;
		d = &n.s[slot_of(&n, &t->s[i].h)];
		*d = t->s[i];
		d->gen = n.gen;
	}
	free(t->s);
	t->s = n.s;
	t->cap = n.cap;
	t->gen = 1;
	return KT_OK;
}

static kt_err
put(struct kt_vpaths *t, const struct kt_hash *h, const struct kt_map_node *n)
{
	size_t i;
	kt_err e;

	if ((t->len + 1) * 2 > t->cap && (e = grow(t)) != KT_OK)
		return e;
	i = slot_of(t, h);
	if (t->s[i].gen != t->gen) {
		t->s[i].gen = t->gen;
		t->s[i].h = *h;
		t->s[i].node = *n;
		t->len++;
	}
	return KT_OK;
}

/* The leaf's hash, from the previous path's when it is the same leaf. */
static kt_err
leaf_node(struct kt_vpaths *t, const struct kt_map_leaf *l, struct kt_hash *h)
{
	struct kt_map_node node = { .is_leaf = 1 };

	if (t->memo_ok &&
	    memcmp(&t->memo_leaf.index, &l->index, KT_HASH_LEN) == 0 &&
	    t->memo_leaf.version == l->version &&
	    t->memo_leaf.update_index == l->update_index &&
	    memcmp(&t->memo_leaf.chain, &l->chain, KT_HASH_LEN) == 0) {
		*h = t->memo_leaf_h;
		return KT_OK;
	}
	node.leaf = *l;
	kt_map_leaf_hash(l, h);
	t->memo_leaf = *l;
	t->memo_leaf_h = *h;
	return put(t, h, &node);
}

/* Hashes p (decoded, structurally checked) from its leaf up into *root,
 * keeping its nodes and remembering them for the next path. */
static kt_err
climb(struct kt_vpaths *t, const struct kt_map_proof *p, struct kt_hash *root)
{
	struct kt_map_node node = { .is_leaf = 0 };
	struct kt_hash h;
	size_t i;
	kt_err e;

	if ((e = leaf_node(t, &p->leaf, &h)) != KT_OK)
		return e;
	for (i = p->n; i-- > 0;) {
		const struct kt_map_step *s = &p->step[i];
		struct memo *m = &t->memo[i];
		int dir = kt_map_bit(&p->leaf.index, s->bit);

		node.bit = s->bit;
		node.child[dir] = h;
		node.child[!dir] = s->sibling;
		if (t->memo_ok && i < t->memo_n && m->bit == node.bit &&
		    memcmp(m->child, node.child, sizeof(m->child)) == 0) {
			h = m->h;
			continue;
		}
		kt_map_node_hash(&node, &h);
		if ((e = put(t, &h, &node)) != KT_OK)
			return e;
		m->bit = node.bit;
		memcpy(m->child, node.child, sizeof(m->child));
		m->h = h;
	}
	*root = h;
	return KT_OK;
}

kt_err
kt_vpaths_add(struct kt_vpaths *t, const struct kt_hash *root,
    const struct kt_hash *index, const uint8_t *enc, size_t len)
{
	struct kt_map_proof *p = &t->p;
	struct kt_hash got, empty;
	kt_err e;

	if (kt_map_proof_decode(enc, len, p) != KT_OK)
		return KT_ERR_MALFORMED;
	if (!p->has_leaf) {
		/* The empty map's claim: no nodes to keep. */
		kt_map_empty_root(&empty);
		return p->n == 0 && kt_hash_eq(&empty, root) ? KT_OK
		                                             : KT_ERR_VERIFY;
	}
	/* The path is index's (kt_map_verify): every turn of the leaf's
	 * index is the index's own; decoding checked the bits increase and
	 * the leaf's version. */
	for (size_t i = 0; i < p->n; i++)
		if (kt_map_bit(&p->leaf.index, p->step[i].bit) !=
		    kt_map_bit(index, p->step[i].bit))
			return KT_ERR_VERIFY;
	e = climb(t, p, &got);
	/* The memo holds this path's nodes below the first reused one and
	 * the previous path's above, which are equal to this path's. */
	t->memo_n = p->n;
	t->memo_ok = e == KT_OK;
	if (e != KT_OK)
		return e;
	return kt_hash_eq(&got, root) ? KT_OK : KT_ERR_VERIFY;
}

static kt_err
read_node(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	const struct kt_vpaths *t = ctx;
	size_t i;

	(void)index;
	(void)depth;
	if (t->cap == 0)
		return KT_ERR_NOT_FOUND;
	i = slot_of(t, h);
	if (t->s[i].gen != t->gen)
		return KT_ERR_NOT_FOUND;
	*out = t->s[i].node;
	return KT_OK;
}

void
kt_vpaths_reader(struct kt_vpaths *t, struct kt_map_reader *r)
{
	r->read = read_node;
	r->ctx = t;
	/* Every node was hashed into the table under its own hash. */
	r->checked = 1;
}
