/*
 * map_apply.c: the map's batch step (kt/map.h): from an old root and a
 * batch of updates to the new root, for the sequencer (reading its store,
 * writing the new nodes) and for auditors (reading only proofs).
 *
 * Two passes. First every touched index walks the old map from the root by
 * its bits to the leaf it reaches (its own, or the leaf of the label whose
 * path it shares longest); each node read is hashed and kept in a table, so
 * shared upper nodes are read once. Then the trie is rebuilt bottom-up
 * along those paths only: a node none of the batch's indexes reaches keeps
 * its hash and is never read. The leaf an index reaches gives the bits every
 * node on its path shares, which is how an index that leaves a node's
 * prefix early (an insert) is recognised without reading further.
 */
#include <stdlib.h>
#include <string.h>

#include "kt/map.h"

/* ---- node table: the nodes read, by hash --------------------------------- */

struct slot {
	int used;
	struct kt_hash h;
	struct kt_map_node node;
};

struct table {
	struct slot *s;
	size_t cap; /* power of two */
	size_t len;
};

static size_t
slot_of(const struct table *t, const struct kt_hash *h)
{
	uint64_t k;
	size_t i;

	memcpy(&k, h->b, sizeof(k)); /* node hashes are uniform */
	for (i = (size_t)k & (t->cap - 1);; i = (i + 1) & (t->cap - 1))
		if (!t->s[i].used || kt_hash_eq(&t->s[i].h, h))
			return i;
}

static const struct kt_map_node *
table_get(const struct table *t, const struct kt_hash *h)
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	i = slot_of(t, h);
	return t->s[i].used ? &t->s[i].node : NULL;
}

static kt_err
table_grow(struct table *t)
{
	struct table n = { NULL, t->cap ? t->cap * 2 : 64, 0 };
	size_t i;

	n.s = calloc(n.cap, sizeof(*n.s));
	if (n.s == NULL)
		return KT_ERR_NOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->s[i].used)
			n.s[slot_of(&n, &t->s[i].h)] = t->s[i];
	n.len = t->len;
	free(t->s);
	*t = n;
	return KT_OK;
}

static kt_err
table_put(struct table *t, const struct kt_hash *h, const struct kt_map_node *n)
{
	size_t i;
	kt_err err;

	if ((t->len + 1) * 2 > t->cap && (err = table_grow(t)) != KT_OK)
		return err;
	i = slot_of(t, h);
	if (!t->s[i].used) {
		t->s[i].used = 1;
		t->s[i].h = *h;
		t->s[i].node = *n;
		t->len++;
	}
	return KT_OK;
}

/* ---- one batch ----------------------------------------------------------- */

/* One index the batch touches: its updates, in log order, and its walk. */
struct group {
	const struct kt_hash *index;
	const struct kt_map_update **u;
	size_t n;
	struct kt_map_leaf reached; /* the leaf the index's walk ends at */
};

struct batch {
	const struct kt_map_reader *r; /* NULL: only the table (proofs) */
	const struct kt_map_writer *w;
	struct table t;
	struct kt_map_result *res;
};

/* A subtree to place in a rebuilt trie: a leaf, or an old node's subtree. */
struct item {
	const struct kt_hash *key; /* a leaf index (or one below the subtree) */
	struct kt_hash h;
};

static kt_err
refuse(struct batch *b, const char *why)
{
	b->res->why = why;
	return KT_ERR_VERIFY;
}

static kt_err
read_node(struct batch *b, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, const struct kt_map_node **out)
{
	struct kt_map_node node;
	struct kt_hash got;
	kt_err err;

	if ((*out = table_get(&b->t, h)) != NULL)
		return KT_OK;
	if (b->r == NULL)
		return refuse(b,
		    "the proofs do not cover every index the "
		    "batch touches");
	err = b->r->read(b->r->ctx, h, index, depth, &node);
	if (err != KT_OK)
		return err;
	if (!b->r->checked) {
		kt_map_node_hash(&node, &got);
		if (!kt_hash_eq(&got, h))
			return KT_ERR_VERIFY;
	}
	if (node.is_leaf && node.leaf.version == 0)
		return KT_ERR_VERIFY;
	if ((err = table_put(&b->t, h, &node)) != KT_OK)
		return err;
	*out = table_get(&b->t, h);
	return KT_OK;
}

/* Walks g's index from the root to the leaf it reaches. */
static kt_err
walk(struct batch *b, const struct kt_hash *root, struct group *g)
{
	const struct kt_map_node *node;
	struct kt_hash h = *root;
	unsigned depth = 0;
	int last = -1;
	kt_err err;

	for (;;) {
		if ((err = read_node(b, &h, g->index, depth, &node)) != KT_OK)
			return err;
		if (node->is_leaf)
			break;
		if ((int)node->bit <= last)
			return KT_ERR_VERIFY; /* not a trie: bits must grow */
		last = node->bit;
		h = node->child[kt_map_bit(g->index, node->bit)];
		depth++;
	}
	g->reached = node->leaf;
	return KT_OK;
}

static kt_err
emit(struct batch *b, const struct kt_map_node *n, struct kt_hash *h)
{
	kt_map_node_hash(n, h);
	return b->w != NULL ? b->w->write(b->w->ctx, h, n) : KT_OK;
}

/*
 * The group's new leaf, from the old one (NULL if the index is new) and its
 * updates: the map's rules for a label's history are all checked here.
 */
static kt_err
next_leaf(struct batch *b, const struct group *g, const struct kt_map_leaf *old,
    struct item *it)
{
	struct kt_map_node n = { .is_leaf = 1 };
	struct kt_map_leaf *l = &n.leaf;
	size_t i;

	if (old != NULL) {
		*l = *old;
	} else {
		l->index = *g->index;
		l->update_index = KT_MAP_NO_PREV;
		b->res->inserted++;
	}
	for (i = 0; i < g->n; i++) {
		const struct kt_map_update *u = g->u[i];

		if (u->version == 1 && l->version != 0)
			return refuse(b,
			    "version 1 of an index already in "
			    "the map");
		if (u->version != l->version + 1 || u->version == 0)
			return refuse(b,
			    l->version == 0 ? "the first update of a new "
			                      "index is not version 1"
			                    : "an update skips or repeats a "
			                      "version");
		if (u->prev_index != l->update_index)
			return refuse(b,
			    "an update does not link to the "
			    "label's previous update");
		kt_map_chain_next(l->version ? &l->chain : NULL, &u->leaf_hash,
		    &l->chain);
		l->version = u->version;
		l->update_index = u->log_index;
	}
	it->key = g->index;
	return emit(b, &n, &it->h);
}

/* The first bit in which a and b differ (KT_MAP_BITS if none): a byte at
 * a time, then the bit within the byte (bit 0 is the byte's top bit). */
static int
first_diff(const struct kt_hash *a, const struct kt_hash *b)
{
	unsigned i, x;
	int bit = 0;

	for (i = 0; i < KT_HASH_LEN && a->b[i] == b->b[i]; i++)
		;
	if (i == KT_HASH_LEN)
		return KT_MAP_BITS;
	for (x = (unsigned)(a->b[i] ^ b->b[i]); !(x & 0x80u); x <<= 1)
		bit++;
	return (int)(i * 8) + bit;
}

/*
 * The trie over items[0..n), sorted by key and pairwise splitting before
 * any subtree item's own prefix ends (so a subtree item is one unit).
 */
static kt_err
build(struct batch *b, struct item *it, size_t n, struct kt_hash *out)
{
	struct kt_map_node node = { .is_leaf = 0 };
	size_t mid;
	kt_err err;
	int d;

	if (n == 1) {
		*out = it[0].h;
		return KT_OK;
	}
	d = first_diff(it[0].key, it[n - 1].key);
	for (mid = 1; mid < n && !kt_map_bit(it[mid].key, (unsigned)d);)
		mid++;
	node.bit = (uint8_t)d;
	if ((err = build(b, it, mid, &node.child[0])) != KT_OK ||
	    (err = build(b, it + mid, n - mid, &node.child[1])) != KT_OK)
		return err;
	return emit(b, &node, out);
}

static int
item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *c = y;

	return memcmp(a->key->b, c->key->b, KT_HASH_LEN);
}

/*
 * Rebuilds a subtree from `keep` (an old leaf or subtree none of the groups
 * enters, or NULL) and the groups' new leaves; `old` is the group leaf to
 * continue (its index matches one group), or NULL.
 */
static kt_err
rebuild(struct batch *b, const struct item *keep, const struct kt_map_leaf *old,
    struct group *g, size_t n, struct kt_hash *out)
{
	struct item *it;
	size_t i, k = 0;
	kt_err err = KT_OK;

	if ((it = calloc(n + 1, sizeof(*it))) == NULL)
		return KT_ERR_NOMEM;
	if (keep != NULL)
		it[k++] = *keep;
	for (i = 0; i < n && err == KT_OK; i++) {
		int same = old != NULL && kt_hash_eq(&old->index, g[i].index);

		err = next_leaf(b, &g[i], same ? old : NULL, &it[k++]);
	}
	if (err == KT_OK) {
		qsort(it, k, sizeof(*it), item_cmp);
		err = build(b, it, k, out);
	}
	free(it);
	return err;
}

/* rebuild() with `keep` and the groups outside the run g[lo..hi). */
static kt_err
rebuild_around(struct batch *b, const struct item *keep, const struct group *g,
    size_t lo, size_t hi, size_t n, struct kt_hash *out)
{
	struct group *rest;
	kt_err err;

	if ((rest = calloc(n - (hi - lo), sizeof(*rest))) == NULL)
		return KT_ERR_NOMEM;
	memcpy(rest, g, lo * sizeof(*rest));
	memcpy(rest + lo, g + hi, (n - hi) * sizeof(*rest));
	err = rebuild(b, keep, NULL, rest, n - (hi - lo), out);
	free(rest);
	return err;
}

/* The new hash of the subtree at *h, which groups g[0..n) all reach. */
static kt_err
apply(struct batch *b, const struct kt_hash *h, struct group *g, size_t n,
    struct kt_hash *out)
{
	const struct kt_map_node *node;
	struct kt_map_node nn = { .is_leaf = 0 };
	size_t lo, hi, mid;
	struct item inner;
	kt_err err;

	if (n == 0) {
		*out = *h;
		return KT_OK;
	}
	if ((node = table_get(&b->t, h)) == NULL)
		return KT_ERR_INTERNAL; /* every node on a path was read */
	if (node->is_leaf) {
		int hit = 0;
		struct item keep = { &node->leaf.index, *h };

		for (lo = 0; lo < n; lo++)
			hit |= kt_hash_eq(g[lo].index, &node->leaf.index);
		return rebuild(b, hit ? NULL : &keep, &node->leaf, g, n, out);
	}
	/* Groups sharing the node's prefix are one run of the sorted groups. */
	inner.key = &g[0].reached.index;
	for (lo = 0; lo < n && first_diff(g[lo].index, inner.key) < node->bit;)
		lo++;
	for (hi = lo;
	     hi < n && first_diff(g[hi].index, inner.key) >= node->bit;)
		hi++;
	for (mid = lo; mid < hi && !kt_map_bit(g[mid].index, node->bit);)
		mid++;
	nn.bit = node->bit;
	if ((err = apply(b, &node->child[0], g + lo, mid - lo, &nn.child[0])) !=
	        KT_OK ||
	    (err = apply(b, &node->child[1], g + mid, hi - mid,
	         &nn.child[1])) != KT_OK)
		return err;
	if (hi - lo == 0)
		inner.h = *h;
	else if ((err = emit(b, &nn, &inner.h)) != KT_OK)
		return err;
	if (lo == 0 && hi == n) {
		*out = inner.h;
		return KT_OK;
	}
	/* Indexes that leave the prefix above this node are new leaves. */
	return rebuild_around(b, &inner, g, lo, hi, n, out);
}

/* ---- entry points -------------------------------------------------------- */

static int
update_cmp(const void *x, const void *y)
{
	const struct kt_map_update *a = *(const struct kt_map_update *const *)x;
	const struct kt_map_update *c = *(const struct kt_map_update *const *)y;
	int d = memcmp(a->index.b, c->index.b, KT_HASH_LEN);

	if (d != 0)
		return d;
	return a->log_index < c->log_index ? -1 : a->log_index > c->log_index;
}

/* Sorts the batch by index (log order within one index) into groups. */
static kt_err
group_updates(struct batch *b, const struct kt_map_update *u, size_t n,
    const struct kt_map_update ***order, struct group **groups, size_t *ng)
{
	const struct kt_map_update **p;
	struct group *g;
	size_t i, k = 0;

	for (i = 1; i < n; i++)
		if (u[i].log_index <= u[i - 1].log_index)
			return refuse(b, "updates are not in log order");
	p = calloc(n, sizeof(*p));
	g = calloc(n, sizeof(*g));
	if (p == NULL || g == NULL) {
		free(p);
		free(g);
		return KT_ERR_NOMEM;
	}
	for (i = 0; i < n; i++)
		p[i] = &u[i];
	qsort(p, n, sizeof(*p), update_cmp);
	for (i = 0; i < n; i++) {
		if (i == 0 || !kt_hash_eq(&p[i]->index, &p[i - 1]->index)) {
			g[k].index = &p[i]->index;
			g[k].u = &p[i];
			k++;
		}
		g[k - 1].n++;
	}
	*order = p;
	*groups = g;
	*ng = k;
	return KT_OK;
}

static kt_err
run(struct batch *b, const struct kt_hash *old_root,
    const struct kt_map_update *u, size_t n)
{
	const struct kt_map_update **order = NULL;
	struct group *g = NULL;
	struct kt_hash empty;
	size_t ng = 0, i;
	kt_err err;

	b->res->root = *old_root;
	if (n == 0)
		return KT_OK;
	if ((err = group_updates(b, u, n, &order, &g, &ng)) != KT_OK)
		return err;
	kt_map_empty_root(&empty);
	if (kt_hash_eq(old_root, &empty)) {
		err = rebuild(b, NULL, NULL, g, ng, &b->res->root);
		goto out;
	}
	for (i = 0; i < ng; i++)
		if ((err = walk(b, old_root, &g[i])) != KT_OK)
			goto out;
	err = apply(b, old_root, g, ng, &b->res->root);
out:
	free(order);
	free(g);
	return err;
}

kt_err
kt_map_apply(const struct kt_map_reader *r, const struct kt_hash *old_root,
    const struct kt_map_update *u, size_t n, const struct kt_map_writer *w,
    struct kt_map_result *res)
{
	struct batch b = { r, w, { NULL, 0, 0 }, NULL };
	kt_err err;

	memset(res, 0, sizeof(*res));
	b.res = res;
	err = run(&b, old_root, u, n);
	free(b.t.s);
	return err;
}

/* Puts the nodes of one verified proof into the table. */
static kt_err
table_put_proof(struct table *t, const struct kt_map_proof *p)
{
	struct kt_map_node node = { .is_leaf = 1 };
	struct kt_hash h;
	size_t i;
	kt_err err;

	node.leaf = p->leaf;
	kt_map_node_hash(&node, &h);
	if ((err = table_put(t, &h, &node)) != KT_OK)
		return err;
	for (i = p->n; i-- > 0;) {
		int dir = kt_map_bit(&p->leaf.index, p->step[i].bit);

		node.is_leaf = 0;
		node.bit = p->step[i].bit;
		node.child[dir] = h;
		node.child[!dir] = p->step[i].sibling;
		kt_map_node_hash(&node, &h);
		if ((err = table_put(t, &h, &node)) != KT_OK)
			return err;
	}
	return KT_OK;
}

kt_err
kt_map_apply_proofs(const struct kt_hash *old_root,
    const struct kt_map_proof *p, size_t np, const struct kt_map_update *u,
    size_t n, struct kt_map_result *res)
{
	struct batch b = { NULL, NULL, { NULL, 0, 0 }, NULL };
	size_t i;
	kt_err err = KT_OK;

	memset(res, 0, sizeof(*res));
	b.res = res;
	for (i = 0; i < np && err == KT_OK; i++) {
		/* A proof is checked along its own leaf's path. */
		if (p[i].has_leaf &&
		    kt_map_verify(old_root, &p[i].leaf.index, &p[i], NULL) !=
		        KT_OK)
			err = refuse(&b,
			    "a map proof does not match the old "
			    "map root");
		else if (!p[i].has_leaf &&
		    kt_map_verify(old_root, old_root, &p[i], NULL) != KT_OK)
			err = refuse(&b,
			    "an empty-map proof for a map that "
			    "is not empty");
		else if (p[i].has_leaf)
			err = table_put_proof(&b.t, &p[i]);
	}
	if (err == KT_OK)
		err = run(&b, old_root, u, n);
	free(b.t.s);
	return err;
}

kt_err
kt_map_root(const struct kt_map_leaf *l, size_t n,
    const struct kt_map_writer *w, struct kt_hash *root)
{
	struct kt_map_result res;
	struct batch b = { NULL, w, { NULL, 0, 0 }, &res };
	struct kt_map_node node = { .is_leaf = 1 };
	struct item *it;
	size_t i;
	kt_err err = KT_OK;

	if (n == 0) {
		kt_map_empty_root(root);
		return KT_OK;
	}
	if ((it = calloc(n, sizeof(*it))) == NULL)
		return KT_ERR_NOMEM;
	for (i = 0; i < n && err == KT_OK; i++) {
		if (l[i].version == 0)
			err = KT_ERR_MALFORMED;
		node.leaf = l[i];
		it[i].key = &l[i].index;
		if (err == KT_OK)
			err = emit(&b, &node, &it[i].h);
	}
	if (err == KT_OK) {
		qsort(it, n, sizeof(*it), item_cmp);
		for (i = 1; i < n && err == KT_OK; i++)
			if (kt_hash_eq(it[i].key, it[i - 1].key))
				err = KT_ERR_MALFORMED;
	}
	if (err == KT_OK)
		err = build(&b, it, n, root);
	free(it);
	return err;
}
