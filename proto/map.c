/*
 * map.c: the directory map's hashing, proofs and proof codec (kt/map.h).
 * The batch step is in map_apply.c.
 *
 * Why a verifier may trust a path: every node's preimage is unambiguous
 * (leaf and interior preimages differ in their first byte and length), so a
 * root fixes each node below it. Walking from the root by an index's bits
 * is then deterministic: two valid proofs for one index and one root reach
 * the same leaf, so a map cannot show one client a label and another its
 * absence, or two clients two versions. The checks below make a path
 * self-consistent (bits increase; the leaf reached takes the same turns as
 * the index at every split), so a path cannot end at a leaf that sits on
 * another index's branch: the prefix confusion CONIKS once had.
 */
#include <string.h>

#include "kt/bytes.h"
#include "kt/map.h"
#include "sha256_internal.h"

#define DOM_LEAF 0x02
#define DOM_NODE 0x03
#define DOM_CHAIN 0x04
#define DOM_EMPTY 0x06

/* ---- hashing ------------------------------------------------------------- */

int
kt_map_bit(const struct kt_hash *index, unsigned bit)
{
	return (index->b[bit >> 3] >> (7 - (bit & 7))) & 1;
}

void
kt_map_leaf_hash(const struct kt_map_leaf *l, struct kt_hash *out)
{
	uint8_t buf[1 + KT_MAP_LEAF_LEN];

	buf[0] = DOM_LEAF;
	memcpy(buf + 1, l->index.b, KT_HASH_LEN);
	kt_put_be64(buf + 33, l->version);
	kt_put_be64(buf + 41, l->update_index);
	memcpy(buf + 49, l->chain.b, KT_HASH_LEN);
	kt_sha256(out->b, buf, sizeof(buf));
}

static void
interior_hash(uint8_t bit, const struct kt_hash *left,
    const struct kt_hash *right, struct kt_hash *out)
{
	uint8_t buf[2 + 2 * KT_HASH_LEN];

	buf[0] = DOM_NODE;
	buf[1] = bit;
	memcpy(buf + 2, left->b, KT_HASH_LEN);
	memcpy(buf + 2 + KT_HASH_LEN, right->b, KT_HASH_LEN);
	kt_sha256(out->b, buf, sizeof(buf));
}

void
kt_map_node_hash(const struct kt_map_node *n, struct kt_hash *out)
{
	if (n->is_leaf)
		kt_map_leaf_hash(&n->leaf, out);
	else
		interior_hash(n->bit, &n->child[0], &n->child[1], out);
}

void
kt_map_empty_root(struct kt_hash *out)
{
	uint8_t d = DOM_EMPTY;

	kt_sha256(out->b, &d, 1);
}

void
kt_map_chain_next(const struct kt_hash *prev,
    const struct kt_hash *update_leaf_hash, struct kt_hash *out)
{
	uint8_t buf[1 + 2 * KT_HASH_LEN];

	buf[0] = DOM_CHAIN;
	if (prev != NULL)
		memcpy(buf + 1, prev->b, KT_HASH_LEN);
	else
		memset(buf + 1, 0, KT_HASH_LEN);
	memcpy(buf + 1 + KT_HASH_LEN, update_leaf_hash->b, KT_HASH_LEN);
	kt_sha256(out->b, buf, sizeof(buf));
}

/* ---- proofs -------------------------------------------------------------- */

kt_err
kt_map_prove(const struct kt_map_reader *r, const struct kt_hash *root,
    const struct kt_hash *index, struct kt_map_proof *out)
{
	struct kt_hash h, empty, got;
	struct kt_map_node node;
	kt_err err;

	memset(out, 0, sizeof(*out));
	kt_map_empty_root(&empty);
	if (kt_hash_eq(root, &empty))
		return KT_OK;
	h = *root;
	for (;;) {
		err = r->read(r->ctx, &h, index, (unsigned)out->n, &node);
		if (err != KT_OK)
			return err;
		if (!r->checked) {
			kt_map_node_hash(&node, &got);
			if (!kt_hash_eq(&got, &h))
				return KT_ERR_VERIFY;
		}
		if (node.is_leaf)
			break;
		/* A store's node must continue a valid path. */
		if (out->n == KT_MAP_MAX_DEPTH ||
		    (out->n > 0 && node.bit <= out->step[out->n - 1].bit))
			return KT_ERR_VERIFY;
		int dir = kt_map_bit(index, node.bit);

		out->step[out->n].bit = node.bit;
		out->step[out->n].sibling = node.child[!dir];
		out->n++;
		h = node.child[dir];
	}
	out->has_leaf = 1;
	out->leaf = node.leaf;
	return KT_OK;
}

kt_err
kt_map_verify(const struct kt_hash *root, const struct kt_hash *index,
    const struct kt_map_proof *p, int *present)
{
	struct kt_hash h;
	size_t i;

	if (present != NULL)
		*present = 0;
	if (!p->has_leaf) {
		kt_map_empty_root(&h);
		return p->n == 0 && kt_hash_eq(&h, root) ? KT_OK
		                                         : KT_ERR_VERIFY;
	}
	if (p->n > KT_MAP_MAX_DEPTH || p->leaf.version == 0)
		return KT_ERR_VERIFY;
	for (i = 0; i < p->n; i++) {
		unsigned bit = p->step[i].bit;

		if (i > 0 && bit <= p->step[i - 1].bit)
			return KT_ERR_VERIFY;
		if (kt_map_bit(&p->leaf.index, bit) != kt_map_bit(index, bit))
			return KT_ERR_VERIFY;
	}
	kt_map_leaf_hash(&p->leaf, &h);
	for (i = p->n; i-- > 0;) {
		const struct kt_map_step *s = &p->step[i];

		if (kt_map_bit(index, s->bit))
			interior_hash(s->bit, &s->sibling, &h, &h);
		else
			interior_hash(s->bit, &h, &s->sibling, &h);
	}
	if (!kt_hash_eq(&h, root))
		return KT_ERR_VERIFY;
	if (present != NULL)
		*present = kt_hash_eq(&p->leaf.index, index);
	return KT_OK;
}

/* ---- proof codec --------------------------------------------------------- */

size_t
kt_map_proof_len(const struct kt_map_proof *p)
{
	return 2 + p->n * (1 + KT_HASH_LEN) + 1 +
	    (p->has_leaf ? KT_MAP_LEAF_LEN : 0);
}

static int
proof_valid(const struct kt_map_proof *p)
{
	size_t i;

	if (p->n > KT_MAP_MAX_DEPTH || (!p->has_leaf && p->n != 0))
		return 0;
	if (p->has_leaf && p->leaf.version == 0)
		return 0;
	for (i = 1; i < p->n; i++)
		if (p->step[i].bit <= p->step[i - 1].bit)
			return 0;
	return 1;
}

kt_err
kt_map_proof_encode(const struct kt_map_proof *p, uint8_t *buf, size_t cap,
    size_t *out_len)
{
	size_t len, i, off = 0;

	if (!proof_valid(p))
		return KT_ERR_MALFORMED;
	len = kt_map_proof_len(p);
	if (len > cap)
		return KT_ERR_TOO_LARGE;
	kt_put_be16(buf, (uint16_t)p->n);
	off = 2;
	for (i = 0; i < p->n; i++) {
		buf[off] = p->step[i].bit;
		memcpy(buf + off + 1, p->step[i].sibling.b, KT_HASH_LEN);
		off += 1 + KT_HASH_LEN;
	}
	buf[off++] = p->has_leaf ? 1 : 0;
	if (p->has_leaf) {
		memcpy(buf + off, p->leaf.index.b, KT_HASH_LEN);
		kt_put_be64(buf + off + 32, p->leaf.version);
		kt_put_be64(buf + off + 40, p->leaf.update_index);
		memcpy(buf + off + 48, p->leaf.chain.b, KT_HASH_LEN);
		off += KT_MAP_LEAF_LEN;
	}
	if (out_len != NULL)
		*out_len = off;
	return KT_OK;
}

/*
 * Fields in order, each first checked for presence (INCOMPLETE) and then
 * for validity (MALFORMED), so every proper prefix of a valid proof is
 * INCOMPLETE.
 */
kt_err
kt_map_proof_decode(const uint8_t *buf, size_t len, struct kt_map_proof *out)
{
	size_t off, i;

	memset(out, 0, sizeof(*out));
	if (len < 2)
		return KT_ERR_INCOMPLETE;
	out->n = kt_get_be16(buf);
	if (out->n > KT_MAP_MAX_DEPTH)
		return KT_ERR_MALFORMED;
	off = 2;
	for (i = 0; i < out->n; i++) {
		if (len - off < 1 + KT_HASH_LEN)
			return KT_ERR_INCOMPLETE;
		out->step[i].bit = buf[off];
		if (i > 0 && out->step[i].bit <= out->step[i - 1].bit)
			return KT_ERR_MALFORMED;
		memcpy(out->step[i].sibling.b, buf + off + 1, KT_HASH_LEN);
		off += 1 + KT_HASH_LEN;
	}
	if (len - off < 1)
		return KT_ERR_INCOMPLETE;
	if (buf[off] > 1 || (buf[off] == 0 && out->n != 0))
		return KT_ERR_MALFORMED;
	out->has_leaf = buf[off++];
	if (out->has_leaf) {
		if (len - off < KT_MAP_LEAF_LEN)
			return KT_ERR_INCOMPLETE;
		memcpy(out->leaf.index.b, buf + off, KT_HASH_LEN);
		out->leaf.version = kt_get_be64(buf + off + 32);
		out->leaf.update_index = kt_get_be64(buf + off + 40);
		memcpy(out->leaf.chain.b, buf + off + 48, KT_HASH_LEN);
		if (out->leaf.version == 0)
			return KT_ERR_MALFORMED;
		off += KT_MAP_LEAF_LEN;
	}
	return off == len ? KT_OK : KT_ERR_MALFORMED;
}
