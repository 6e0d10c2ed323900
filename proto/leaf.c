/*
 * leaf.c: the update and map head leaf codecs (kt/leaf.h; byte layout and
 * worked examples in proto/README.md, "Update and map head leaves").
 *
 * Decoding is picohttpparser-style: fields are read in order; for each one
 * we first ask whether its bytes are there (KT_ERR_INCOMPLETE if not) and
 * only then whether it is valid (KT_ERR_MALFORMED). Every proper prefix of
 * a valid leaf is therefore INCOMPLETE, and anything else that fails is
 * MALFORMED. Encode and decode share one validity rule per kind, and both
 * layouts are fixed-width with nothing optional, so an accepted leaf
 * re-encodes to exactly its bytes: one value, one leaf hash.
 */
#include <string.h>

#include "kt/bytes.h"
#include "kt/leaf.h"

/* ---- validity ----------------------------------------------------------- */

/* A label's first update has no predecessor; every later one has one. */
static int
update_chain_valid(uint64_t version, uint64_t prev_index)
{
	if (version == 0)
		return 0;
	if (version == 1)
		return prev_index == KT_NO_PREV;
	return prev_index != KT_NO_PREV;
}

/*
 * log_size is the head's own leaf index: a tree size is at most 2^64 - 1,
 * so the last leaf index is 2^64 - 2.
 */
static int
log_size_valid(uint64_t log_size)
{
	return log_size != UINT64_MAX;
}

/* The previous head is an earlier leaf, or there is none. */
static int
prev_head_valid(uint64_t prev_head, uint64_t log_size)
{
	return prev_head == KT_NO_PREV || prev_head < log_size;
}

/* Each label in the map has at least one update leaf before the head. */
static int
label_count_valid(uint64_t label_count, uint64_t log_size)
{
	return label_count <= log_size;
}

static int
map_head_valid(const struct kt_map_head *h)
{
	return log_size_valid(h->log_size) &&
	    prev_head_valid(h->prev_head, h->log_size) &&
	    label_count_valid(h->label_count, h->log_size);
}

/* ---- layouts (no validation) -------------------------------------------- */

static void
put_update(const struct kt_update *u, uint8_t out[KT_UPDATE_LEN])
{
	out[0] = KT_LEAF_UPDATE;
	memcpy(out + 1, u->index.b, KT_HASH_LEN);
	kt_put_be64(out + 33, u->version);
	kt_put_be64(out + 41, u->prev_index);
	memcpy(out + 49, u->commitment.b, KT_HASH_LEN);
}

static void
put_map_head(const struct kt_map_head *h, uint8_t out[KT_MAP_HEAD_LEN])
{
	out[0] = KT_LEAF_MAP_HEAD;
	memcpy(out + 1, h->root.b, KT_HASH_LEN);
	kt_put_be64(out + 33, h->timestamp_ms);
	kt_put_be64(out + 41, h->log_size);
	kt_put_be64(out + 49, h->prev_head);
	kt_put_be64(out + 57, h->label_count);
}

/* ---- encode -------------------------------------------------------------- */

kt_err
kt_update_encode(const struct kt_update *u, uint8_t out[KT_UPDATE_LEN])
{
	if (u == NULL || out == NULL ||
	    !update_chain_valid(u->version, u->prev_index))
		return KT_ERR_MALFORMED;
	put_update(u, out);
	return KT_OK;
}

kt_err
kt_map_head_encode(const struct kt_map_head *h, uint8_t out[KT_MAP_HEAD_LEN])
{
	if (h == NULL || out == NULL || !map_head_valid(h))
		return KT_ERR_MALFORMED;
	put_map_head(h, out);
	return KT_OK;
}

/* ---- decode -------------------------------------------------------------- */

/*
 * The reader answers "are the bytes there?"; the callers answer "are they
 * valid?". Each get returns 0 when fewer than the field's bytes are left.
 */
struct reader {
	const uint8_t *p;
	size_t left;
};

static int
get_hash(struct reader *r, struct kt_hash *h)
{
	if (r->left < KT_HASH_LEN)
		return 0;
	memcpy(h->b, r->p, KT_HASH_LEN);
	r->p += KT_HASH_LEN;
	r->left -= KT_HASH_LEN;
	return 1;
}

static int
get_u64(struct reader *r, uint64_t *v)
{
	if (r->left < 8)
		return 0;
	*v = kt_get_be64(r->p);
	r->p += 8;
	r->left -= 8;
	return 1;
}

/* Reads the kind byte: KT_OK if it is want, else INCOMPLETE or MALFORMED. */
static kt_err
start(struct reader *r, const uint8_t *buf, size_t len, uint8_t want)
{
	r->p = buf;
	r->left = len;
	if (len == 0)
		return KT_ERR_INCOMPLETE;
	if (buf[0] != want)
		return KT_ERR_MALFORMED;
	r->p++;
	r->left--;
	return KT_OK;
}

kt_err
kt_update_decode(const uint8_t *buf, size_t len, struct kt_update *out)
{
	struct reader r;
	struct kt_update u;
	kt_err err;

	if (out == NULL || (buf == NULL && len != 0))
		return KT_ERR_MALFORMED;
	err = start(&r, buf, len, KT_LEAF_UPDATE);
	if (err != KT_OK)
		return err;
	if (!get_hash(&r, &u.index))
		return KT_ERR_INCOMPLETE;
	if (!get_u64(&r, &u.version))
		return KT_ERR_INCOMPLETE;
	if (u.version == 0)
		return KT_ERR_MALFORMED;
	if (!get_u64(&r, &u.prev_index))
		return KT_ERR_INCOMPLETE;
	if (!update_chain_valid(u.version, u.prev_index))
		return KT_ERR_MALFORMED;
	if (!get_hash(&r, &u.commitment))
		return KT_ERR_INCOMPLETE;
	if (r.left != 0)
		return KT_ERR_MALFORMED;
	*out = u;
	return KT_OK;
}

kt_err
kt_map_head_decode(const uint8_t *buf, size_t len, struct kt_map_head *out)
{
	struct reader r;
	struct kt_map_head h;
	kt_err err;

	if (out == NULL || (buf == NULL && len != 0))
		return KT_ERR_MALFORMED;
	err = start(&r, buf, len, KT_LEAF_MAP_HEAD);
	if (err != KT_OK)
		return err;
	if (!get_hash(&r, &h.root))
		return KT_ERR_INCOMPLETE;
	if (!get_u64(&r, &h.timestamp_ms))
		return KT_ERR_INCOMPLETE;
	if (!get_u64(&r, &h.log_size))
		return KT_ERR_INCOMPLETE;
	if (!log_size_valid(h.log_size))
		return KT_ERR_MALFORMED;
	if (!get_u64(&r, &h.prev_head))
		return KT_ERR_INCOMPLETE;
	if (!prev_head_valid(h.prev_head, h.log_size))
		return KT_ERR_MALFORMED;
	if (!get_u64(&r, &h.label_count))
		return KT_ERR_INCOMPLETE;
	if (!label_count_valid(h.label_count, h.log_size))
		return KT_ERR_MALFORMED;
	if (r.left != 0)
		return KT_ERR_MALFORMED;
	*out = h;
	return KT_OK;
}

kt_err
kt_leaf_kind(const uint8_t *buf, size_t len, uint8_t *kind)
{
	if (kind == NULL || (buf == NULL && len != 0))
		return KT_ERR_MALFORMED;
	if (len == 0)
		return KT_ERR_INCOMPLETE;
	if (buf[0] != KT_LEAF_UPDATE && buf[0] != KT_LEAF_MAP_HEAD)
		return KT_ERR_MALFORMED;
	*kind = buf[0];
	return KT_OK;
}

/* ---- leaf hashes --------------------------------------------------------- */

void
kt_update_leaf_hash(const struct kt_update *u, struct kt_hash *out)
{
	uint8_t b[KT_UPDATE_LEN];

	put_update(u, b);
	kt_hash_leaf(b, sizeof(b), out);
}

void
kt_map_head_leaf_hash(const struct kt_map_head *h, struct kt_hash *out)
{
	uint8_t b[KT_MAP_HEAD_LEN];

	put_map_head(h, b);
	kt_hash_leaf(b, sizeof(b), out);
}
