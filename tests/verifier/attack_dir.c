/*
 * attack_dir.c: the in-memory key directory behind attack_logd (TEST
 * ONLY); see attack_dir.h. The log's tree keeps every complete subtree's
 * hash per level (as the old attack_logd did); the map's nodes go to one
 * open-addressing table keyed by node hash, which kt_map_apply writes and
 * kt_map_prove reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "attack_dir.h"

/* ---- the map's node store, shared by every view ------------------------- */

struct snode {
	int used;
	struct kt_hash h;
	struct kt_map_node n;
};

static struct snode *nodes;
static size_t nodes_cap, nodes_len;

static size_t
slot_of(const struct kt_hash *h, size_t cap)
{
	uint64_t x;

	memcpy(&x, h->b, sizeof(x));
	return (size_t)(x & (cap - 1));
}

static void
nodes_grow(void)
{
	size_t cap = nodes_cap ? nodes_cap * 2 : 4096;
	struct snode *t = calloc(cap, sizeof(*t));

	if (t == NULL)
		abort();
	for (size_t i = 0; i < nodes_cap; i++) {
		size_t j;

		if (!nodes[i].used)
			continue;
		for (j = slot_of(&nodes[i].h, cap); t[j].used;)
			j = (j + 1) & (cap - 1);
		t[j] = nodes[i];
	}
	free(nodes);
	nodes = t;
	nodes_cap = cap;
}

static kt_err
node_read(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	(void)ctx;
	(void)index;
	(void)depth;
	if (nodes_cap == 0)
		return KT_ERR_NOT_FOUND;
	for (size_t j = slot_of(h, nodes_cap); nodes[j].used;
	     j = (j + 1) & (nodes_cap - 1))
		if (memcmp(nodes[j].h.b, h->b, KT_HASH_LEN) == 0) {
			*out = nodes[j].n;
			return KT_OK;
		}
	return KT_ERR_NOT_FOUND;
}

static kt_err
node_write(void *ctx, const struct kt_hash *h, const struct kt_map_node *n)
{
	size_t j;

	(void)ctx;
	if ((nodes_len + 1) * 4 > nodes_cap * 3)
		nodes_grow();
	for (j = slot_of(h, nodes_cap); nodes[j].used;
	     j = (j + 1) & (nodes_cap - 1))
		if (memcmp(nodes[j].h.b, h->b, KT_HASH_LEN) == 0)
			return KT_OK;
	nodes[j].used = 1;
	nodes[j].h = *h;
	nodes[j].n = *n;
	nodes_len++;
	return KT_OK;
}

int
dir_map_tamper(const struct kt_hash *root, const struct kt_hash *index,
    int vanish, struct kt_hash *out)
{
	struct kt_map_proof *p = malloc(sizeof(*p));
	struct kt_map_node nd;
	struct kt_hash h;
	size_t top;

	if (p == NULL)
		abort();
	if (dir_map_prove(root, index, p) != 0 || !p->has_leaf ||
	    !kt_hash_eq(&p->leaf.index, index)) {
		free(p);
		return -1;
	}
	memset(&nd, 0, sizeof(nd));
	if (vanish && p->n == 0) {
		kt_map_empty_root(out);
		free(p);
		return 0;
	}
	if (vanish) {
		/* The leaf's sibling takes its parent's place. */
		h = p->step[p->n - 1].sibling;
		top = p->n - 1;
	} else {
		nd.is_leaf = 1;
		nd.leaf = p->leaf;
		nd.leaf.chain.b[0] ^= 1;
		kt_map_node_hash(&nd, &h);
		node_write(NULL, &h, &nd);
		top = p->n;
	}
	for (size_t i = top; i-- > 0;) {
		int dir = kt_map_bit(index, p->step[i].bit);

		memset(&nd, 0, sizeof(nd));
		nd.bit = p->step[i].bit;
		nd.child[dir] = h;
		nd.child[!dir] = p->step[i].sibling;
		kt_map_node_hash(&nd, &h);
		node_write(NULL, &h, &nd);
	}
	*out = h;
	free(p);
	return 0;
}

int
dir_map_prove(const struct kt_hash *root, const struct kt_hash *index,
    struct kt_map_proof *out)
{
	struct kt_map_reader r = { node_read, NULL, 0 };

	return kt_map_prove(&r, root, index, out) == KT_OK ? 0 : -1;
}

/* ---- keys --------------------------------------------------------------- */

int
dir_init(struct dir_keys *k, const char *origin)
{
	uint8_t seed[KT_SEED_LEN], sk[KT_VRF_SECRET_LEN];
	int rc = -1;

	memset(k, 0, sizeof(*k));
	snprintf(k->origin, sizeof(k->origin), "%s", origin);
	randombytes_buf(seed, sizeof(seed));
	if (kt_signer_from_seed(k->origin, KT_KEY_ED25519, seed, &k->signer) !=
	    KT_OK)
		goto out;
	randombytes_buf(seed, sizeof(seed));
	if (kt_signer_from_seed(k->origin, KT_KEY_ED25519, seed, &k->other) !=
	    KT_OK)
		goto out;
	crypto_core_ristretto255_scalar_random(sk);
	if (kt_vrf_key_from_secret(sk, &k->vrf) != KT_OK)
		goto out;
	kt_vrf_public(k->vrf, k->vrf_pk);
	rc = 0;
out:
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

void
dir_fini(struct dir_keys *k)
{
	kt_signer_free(k->signer);
	kt_signer_free(k->other);
	kt_vrf_key_free(k->vrf);
	free(nodes);
	nodes = NULL;
	nodes_cap = nodes_len = 0;
}

int
dir_vrf(const struct dir_keys *k, const char *label, size_t len,
    uint8_t proof[KT_VRF_PROOF_LEN], struct kt_hash *index)
{
	uint8_t beta[KT_VRF_OUTPUT_LEN];

	if (kt_vrf_prove(k->vrf, (const uint8_t *)label, len, proof) != KT_OK ||
	    kt_vrf_proof_to_hash(proof, beta) != KT_OK)
		return -1;
	memcpy(index->b, beta, KT_HASH_LEN);
	return 0;
}

/* ---- the log's tree ----------------------------------------------------- */

static void
push_hash(struct view *v, unsigned l, const struct kt_hash *h)
{
	if (v->lvl_n[l] == v->lvl_cap[l]) {
		v->lvl_cap[l] = v->lvl_cap[l] ? v->lvl_cap[l] * 2 : 64;
		v->lvl[l] =
		    realloc(v->lvl[l], v->lvl_cap[l] * sizeof(**v->lvl));
		if (v->lvl[l] == NULL)
			abort();
	}
	v->lvl[l][v->lvl_n[l]++] = *h;
}

/* Appends d (its key copied) and completes every subtree it closes. */
static void
append(struct view *v, const struct dleaf *d)
{
	struct kt_hash h;
	size_t idx;

	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->l = realloc(v->l, v->cap * sizeof(*v->l));
		if (v->l == NULL)
			abort();
	}
	v->l[v->n] = *d;
	if (d->key_len > 0) {
		v->l[v->n].key = malloc(d->key_len);
		if (v->l[v->n].key == NULL)
			abort();
		memcpy(v->l[v->n].key, d->key, d->key_len);
	}
	v->n++;
	kt_hash_leaf(d->bytes, d->len, &h);
	push_hash(v, 0, &h);
	idx = v->n - 1;
	for (unsigned l = 0; l < 63 && (idx & 1); l++) {
		kt_hash_node(&v->lvl[l][idx - 1], &v->lvl[l][idx], &h);
		push_hash(v, l + 1, &h);
		idx >>= 1;
	}
}

kt_err
view_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct view *v = ctx;

	if (level >= 64 || index >= v->lvl_n[level])
		return KT_ERR_RANGE;
	*out = v->lvl[level][index];
	return KT_OK;
}

int
view_inclusion(struct view *v, uint64_t i, uint64_t size, struct kt_proof *out)
{
	if (size > v->n || i >= size)
		return -1;
	return kt_merkle_inclusion_proof(view_node, v, i, size, out) == KT_OK
	    ? 0
	    : -1;
}

/* ---- views -------------------------------------------------------------- */

/* Appends a map head with the view's map state. */
static int
push_head(struct view *v, uint64_t ts_ms, const struct seal_lie *lie)
{
	struct dleaf d;

	memset(&d, 0, sizeof(d));
	d.kind = KT_LEAF_MAP_HEAD;
	d.h.root = v->map_root;
	d.h.timestamp_ms = ts_ms;
	d.h.log_size = v->n;
	d.h.prev_head = v->n == 0 ? KT_NO_PREV : v->last_head;
	d.h.label_count = v->label_count;
	if (lie != NULL && lie->count != UINT64_MAX)
		d.h.label_count = lie->count;
	if (lie != NULL && lie->log_size != UINT64_MAX)
		d.h.log_size = lie->log_size;
	if (lie != NULL && lie->prev_head != UINT64_MAX)
		d.h.prev_head = lie->prev_head;
	if (kt_map_head_encode(&d.h, d.bytes) != KT_OK)
		return -1;
	d.len = KT_MAP_HEAD_LEN;
	v->last_head = v->n;
	append(v, &d);
	v->batch_start = v->n;
	return 0;
}

void
view_init(struct view *v, uint64_t ts_ms)
{
	memset(v, 0, sizeof(*v));
	kt_map_empty_root(&v->map_root);
	if (push_head(v, ts_ms, NULL) != 0)
		abort();
}

void
view_free(struct view *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->l[i].key);
	free(v->l);
	for (unsigned l = 0; l < 64; l++)
		free(v->lvl[l]);
	memset(v, 0, sizeof(*v));
}

void
view_copy(struct view *dst, const struct view *src)
{
	view_free(dst);
	for (size_t i = 0; i < src->n; i++)
		append(dst, &src->l[i]);
	dst->map_root = src->map_root;
	dst->label_count = src->label_count;
	dst->last_head = src->last_head;
	dst->batch_start = src->batch_start;
}

int64_t
view_find(const struct view *v, uint64_t size, const char *label)
{
	size_t len = strlen(label);

	for (uint64_t i = size < v->n ? size : v->n; i-- > 0;)
		if (v->l[i].kind == KT_LEAF_UPDATE &&
		    v->l[i].label_len == len &&
		    memcmp(v->l[i].label, label, len) == 0)
			return (int64_t)i;
	return -1;
}

int64_t
view_add(struct view *v, const struct dir_keys *k, const char *label,
    uint8_t vkind, const char *key_type, const uint8_t *key, size_t key_len,
    uint64_t version, uint64_t prev)
{
	uint8_t pi[KT_VRF_PROOF_LEN];
	struct kt_value val = { vkind, key_type,
		vkind == KT_VALUE_KEY ? strlen(key_type) : 0, key,
		vkind == KT_VALUE_KEY ? key_len : 0 };
	int64_t last = view_find(v, v->n, label);
	struct kt_hash lh;
	struct dleaf d;

	memset(&d, 0, sizeof(d));
	d.kind = KT_LEAF_UPDATE;
	d.label_len = strlen(label);
	if (d.label_len == 0 || d.label_len > KT_CANON_MAX ||
	    val.key_type_len > KT_KEY_TYPE_MAX || key_len > KT_KEY_MAX)
		return -1;
	memcpy(d.label, label, d.label_len);
	if (version == 0) {
		version = last < 0 ? 1 : v->l[last].u.version + 1;
		prev = last < 0 ? KT_NO_PREV : (uint64_t)last;
	}
	if (dir_vrf(k, label, d.label_len, pi, &d.u.index) != 0)
		return -1;
	d.u.version = version;
	d.u.prev_index = prev;
	randombytes_buf(d.opening, sizeof(d.opening));
	if (kt_commit(d.opening, label, d.label_len, version, &val,
	        &d.u.commitment) != KT_OK ||
	    kt_update_encode(&d.u, d.bytes) != KT_OK)
		return -1;
	d.len = KT_UPDATE_LEN;
	d.vkind = vkind;
	if (vkind == KT_VALUE_KEY) {
		memcpy(d.key_type, key_type, val.key_type_len);
		d.key_type_len = val.key_type_len;
		d.key = (uint8_t *)key;
		d.key_len = key_len;
	}
	/* The chain over the label's updates, as the map's leaf keeps it. */
	if (prev < v->n && v->l[prev].kind == KT_LEAF_UPDATE)
		d.prev_chain = v->l[prev].chain;
	kt_update_leaf_hash(&d.u, &lh);
	kt_map_chain_next(version == 1 ? NULL : &d.prev_chain, &lh, &d.chain);
	append(v, &d);
	return (int64_t)(v->n - 1);
}

void
seal_lie_init(struct seal_lie *l)
{
	memset(l, 0, sizeof(*l));
	l->rollback_head = UINT64_MAX;
	l->count = UINT64_MAX;
	l->log_size = UINT64_MAX;
	l->prev_head = UINT64_MAX;
}

/* The map index of label's newest update in v, or NULL. */
static const struct kt_hash *
label_index(const struct view *v, const char *label)
{
	int64_t i = label != NULL ? view_find(v, v->n, label) : -1;

	return i < 0 ? NULL : &v->l[i].u.index;
}

/* The map lies of *lie on v's new map root. 0 or -1 with *why. */
static int
map_lies(struct view *v, const struct seal_lie *lie, const char **why)
{
	const struct kt_hash *idx;

	if (lie->rollback_head < v->n &&
	    v->l[lie->rollback_head].kind == KT_LEAF_MAP_HEAD) {
		v->map_root = v->l[lie->rollback_head].h.root;
		v->label_count = v->l[lie->rollback_head].h.label_count;
	}
	if (lie->change != NULL &&
	    ((idx = label_index(v, lie->change)) == NULL ||
	        dir_map_tamper(&v->map_root, idx, 0, &v->map_root) != 0)) {
		*why = "change: the label is not in the map";
		return -1;
	}
	if (lie->vanish != NULL &&
	    ((idx = label_index(v, lie->vanish)) == NULL ||
	        dir_map_tamper(&v->map_root, idx, 1, &v->map_root) != 0)) {
		*why = "vanish: the label is not in the map";
		return -1;
	}
	return 0;
}

int
view_seal(struct view *v, const struct dir_keys *k, uint64_t ts_ms,
    const struct seal_lie *lie, const char **why)
{
	struct kt_map_reader r = { node_read, NULL, 0 };
	struct kt_map_writer w = { node_write, NULL };
	struct kt_map_update *u;
	struct kt_map_result res;
	struct seal_lie none;
	const char *omit;
	size_t n = 0;
	kt_err e;

	(void)k;
	*why = NULL;
	if (lie == NULL) {
		seal_lie_init(&none);
		lie = &none;
	}
	omit = lie->omit;
	u = calloc(v->n - v->batch_start + 1, sizeof(*u));
	if (u == NULL)
		abort();
	for (uint64_t i = v->batch_start; i < v->n; i++) {
		const struct dleaf *d = &v->l[i];

		if (omit != NULL && strlen(omit) == d->label_len &&
		    memcmp(omit, d->label, d->label_len) == 0)
			continue; /* the lie: the map never sees it */
		u[n].index = d->u.index;
		u[n].version = d->u.version;
		u[n].prev_index = d->u.prev_index;
		u[n].log_index = i;
		kt_update_leaf_hash(&d->u, &u[n].leaf_hash);
		n++;
	}
	memset(&res, 0, sizeof(res));
	e = kt_map_apply(&r, &v->map_root, u, n, &w, &res);
	free(u);
	if (e != KT_OK && !lie->force) {
		*why = res.why != NULL ? res.why : "the map step failed";
		return -1;
	}
	if (e == KT_OK) {
		v->map_root = res.root;
		v->label_count += res.inserted;
	}
	if (map_lies(v, lie, why) != 0)
		return -1;
	if (push_head(v, ts_ms, lie) != 0) {
		*why = "the map head does not encode (a lie out of range)";
		return -1;
	}
	return 0;
}

int
view_is_checkpoint(const struct view *v, uint64_t size)
{
	return size >= 1 && size <= v->n &&
	    v->l[size - 1].kind == KT_LEAF_MAP_HEAD;
}

int
view_note(const struct view *v, const struct dir_keys *k, uint64_t size,
    const struct kt_signer *s, char *buf, size_t cap)
{
	struct kt_checkpoint c;
	char text[KT_CHECKPOINT_TEXT_MAX];
	size_t tl;

	memset(&c, 0, sizeof(c));
	snprintf(c.origin, sizeof(c.origin), "%s", k->origin);
	c.size = size;
	if (kt_merkle_root(view_node, (void *)v, size, &c.root) != KT_OK ||
	    kt_checkpoint_format(&c, text, sizeof(text), &tl) != KT_OK ||
	    kt_note_sign(s, text, tl, buf, cap, NULL) != KT_OK)
		return -1;
	return 0;
}

int
view_lookup(struct view *v, const struct dir_keys *k, const char *label,
    uint64_t size, struct kt_lookup_proof *p)
{
	struct kt_hash index;
	const struct dleaf *d;

	memset(p, 0, sizeof(*p));
	p->label_len = strlen(label);
	if (p->label_len == 0 || p->label_len > KT_CANON_MAX ||
	    !view_is_checkpoint(v, size))
		return -1;
	memcpy(p->label, label, p->label_len);
	if (dir_vrf(k, label, p->label_len, p->vrf_proof, &index) != 0)
		return -1;
	p->head = v->l[size - 1].h;
	if (view_inclusion(v, size - 1, size, &p->head_proof) != 0 ||
	    dir_map_prove(&p->head.root, &index, &p->map) != 0)
		return -1;
	p->present = p->map.has_leaf && kt_hash_eq(&p->map.leaf.index, &index);
	if (!p->present)
		return 0;
	if (p->map.leaf.update_index >= size)
		return -1;
	d = &v->l[p->map.leaf.update_index];
	p->update = d->u;
	if (view_inclusion(v, p->map.leaf.update_index, size,
	        &p->update_proof) != 0)
		return -1;
	memcpy(p->opening, d->opening, KT_OPENING_LEN);
	p->prev_chain = d->prev_chain;
	p->kind = d->vkind;
	/* A revocation has no key type or key (NULL: memcpy may not take
	 * it, even for 0 bytes). */
	if (d->key_type_len > 0)
		memcpy(p->key_type, d->key_type, d->key_type_len);
	p->key_type_len = d->key_type_len;
	if (d->key_len > 0)
		memcpy(p->key, d->key, d->key_len);
	p->key_len = d->key_len;
	return 0;
}
