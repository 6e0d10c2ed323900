/*
 * strata.c: encoding and decoding of the map's strata (strata.h). Pure: no
 * LMDB, no allocation.
 */
#include <string.h>

#include "store/strata.h"

/* ---- encoding ------------------------------------------------------------ */

static size_t
put_uv(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void
kt_strata_put_interior(uint8_t *buf, size_t *len, uint8_t bit)
{
	buf[(*len)++] = SN_INTERIOR;
	buf[(*len)++] = bit;
}

void
kt_strata_put_leaf(uint8_t *buf, size_t *len, const struct kt_map_leaf *l)
{
	uint8_t *p = buf + *len;
	size_t n = 0;

	p[n++] = SN_LEAF;
	memcpy(p + n, l->index.b, KT_HASH_LEN);
	n += KT_HASH_LEN;
	n += put_uv(p + n, l->version);
	n += put_uv(p + n, l->update_index);
	memcpy(p + n, l->chain.b, KT_HASH_LEN);
	n += KT_HASH_LEN;
	*len += n;
}

void
kt_strata_put_exit(uint8_t *buf, size_t *len, const struct kt_hash *h,
    uint64_t seq)
{
	buf[(*len)++] = SN_EXIT;
	memcpy(buf + *len, h->b, KT_HASH_LEN);
	*len += KT_HASH_LEN;
	*len += put_uv(buf + *len, seq);
}

/* ---- decoding ------------------------------------------------------------ */

struct dec {
	const uint8_t *p;
	size_t len, off;
	struct stratum *s;
};

/* A minimal LEB128 varint of at most 64 bits. */
static int
get_uv(struct dec *d, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	for (;;) {
		uint8_t b;

		if (d->off == d->len || shift > 63)
			return 0;
		b = d->p[d->off++];
		if (shift == 63 && (b & 0x7e) != 0)
			return 0; /* past 64 bits */
		*v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return b != 0 || shift == 0; /* no trailing zero byte */
		shift += 7;
	}
}

/*
 * Parses one node at d->off into position *at. `last` is the parent's bit
 * (-1 at the root), `band` the stratum's band (-1 until the root fixes it).
 */
static int
parse(struct dec *d, int last, int band, uint16_t *at)
{
	struct snode *n;
	uint8_t tag;

	if (d->off == d->len || d->s->n == STRATA_MAX_NODES)
		return 0;
	*at = (uint16_t)d->s->n;
	n = &d->s->node[d->s->n++];
	tag = d->p[d->off++];
	n->kind = tag;
	switch (tag) {
	case SN_INTERIOR:
		if (d->off == d->len)
			return 0;
		n->bit = d->p[d->off++];
		if ((int)n->bit <= last ||
		    (band >= 0 && (int)strata_band(n->bit) != band) ||
		    ++d->s->interior > STRATA_MAX_INTERIOR)
			return 0;
		band = (int)strata_band(n->bit);
		return parse(d, n->bit, band, &n->c[0]) &&
		    parse(d, n->bit, band, &n->c[1]);
	case SN_LEAF:
		if (d->len - d->off < KT_HASH_LEN)
			return 0;
		memcpy(n->leaf.index.b, d->p + d->off, KT_HASH_LEN);
		d->off += KT_HASH_LEN;
		if (!get_uv(d, &n->leaf.version) ||
		    !get_uv(d, &n->leaf.update_index) || n->leaf.version == 0 ||
		    d->len - d->off < KT_HASH_LEN)
			return 0;
		memcpy(n->leaf.chain.b, d->p + d->off, KT_HASH_LEN);
		d->off += KT_HASH_LEN;
		return 1;
	case SN_EXIT:
		if (last < 0 || d->len - d->off < KT_HASH_LEN)
			return 0;
		memcpy(n->h.b, d->p + d->off, KT_HASH_LEN);
		d->off += KT_HASH_LEN;
		return get_uv(d, &n->seq);
	default:
		return 0;
	}
}

void
kt_strata_node(const struct stratum *s, size_t i, struct kt_map_node *out)
{
	const struct snode *n = &s->node[i];

	memset(out, 0, sizeof(*out));
	if (n->kind == SN_LEAF) {
		out->is_leaf = 1;
		out->leaf = n->leaf;
		return;
	}
	out->bit = n->bit;
	out->child[0] = s->node[n->c[0]].h;
	out->child[1] = s->node[n->c[1]].h;
}

kt_err
kt_strata_decode(const uint8_t *buf, size_t len, struct stratum *out)
{
	struct dec d = { buf, len, 0, out };
	struct kt_map_node node;
	uint16_t root;
	size_t i;

	out->n = 0;
	out->interior = 0;
	if (!parse(&d, -1, -1, &root) || d.off != len)
		return KT_ERR_MALFORMED;
	/* Preorder puts children after their parent: hash from the end. */
	for (i = out->n; i-- > 0;) {
		if (out->node[i].kind == SN_EXIT)
			continue;
		kt_strata_node(out, i, &node);
		kt_map_node_hash(&node, &out->node[i].h);
	}
	return KT_OK;
}
