/*
 * lookup.c: the lookup proof's verification, codec and tlog-proof form
 * (kt/lookup.h).
 *
 * Layout (proto/README.md "Lookup proofs"):
 *   u8 present (0/1) | u8 L | label | vrf proof (80) | map head leaf (65)
 *   | u8 n | n hashes | map proof
 *   present only: update leaf (81) | u8 n | n hashes | opening (32)
 *   | previous chain (32) | u8 kind | kind 1: u8 T | key type | be16 K | key
 */
#include <stdlib.h>
#include <string.h>

#include "kt/b64.h"
#include "kt/bytes.h"
#include "kt/lookup.h"
#include "kt/tlogproof.h"

/* ---- verification -------------------------------------------------------- */

static void
value_of(const struct kt_lookup_proof *p, struct kt_value *v)
{
	memset(v, 0, sizeof(*v));
	v->kind = p->kind;
	if (p->kind == KT_VALUE_KEY) {
		v->key_type = p->key_type;
		v->key_type_len = p->key_type_len;
		v->key = p->key;
		v->key_len = p->key_len;
	}
}

/* The present case: update leaf, its inclusion, the chain, the opening. */
static kt_err
verify_update(const struct kt_lookup_proof *p, const struct kt_checkpoint *cp,
    const struct kt_lookup_result *r)
{
	const struct kt_map_leaf *l = &p->map.leaf;
	struct kt_hash u, chain, zero;
	struct kt_value v;

	memset(&zero, 0, sizeof(zero));
	if (!kt_hash_eq(&p->update.index, &r->index) ||
	    p->update.version != l->version ||
	    l->update_index >= p->head.log_size)
		return KT_ERR_VERIFY;
	kt_update_leaf_hash(&p->update, &u);
	if (kt_merkle_verify_inclusion(&u, l->update_index, cp->size,
	        p->update_proof.h, p->update_proof.n, &cp->root) != KT_OK)
		return KT_ERR_VERIFY;
	if (l->version == 1 && !kt_hash_eq(&p->prev_chain, &zero))
		return KT_ERR_VERIFY;
	kt_map_chain_next(l->version == 1 ? NULL : &p->prev_chain, &u, &chain);
	if (!kt_hash_eq(&chain, &l->chain))
		return KT_ERR_VERIFY;
	value_of(p, &v);
	if (kt_commit_verify(p->opening, p->label, p->label_len, l->version, &v,
	        &p->update.commitment) != KT_OK)
		return KT_ERR_VERIFY;
	return KT_OK;
}

static kt_err
verify(const struct kt_lookup_proof *p, const uint8_t *vrf_pk,
    const struct kt_checkpoint *cp, const char *label, size_t label_len,
    struct kt_lookup_result *r)
{
	uint8_t beta[KT_VRF_OUTPUT_LEN];
	struct kt_hash h;
	int present;
	kt_err err;

	if (label_len != p->label_len || memcmp(label, p->label, label_len))
		return KT_ERR_VERIFY;
	if ((err = kt_vrf_public_check(vrf_pk)) != KT_OK)
		return KT_ERR_MALFORMED;
	if (kt_vrf_verify(vrf_pk, (const uint8_t *)label, label_len,
	        p->vrf_proof, beta) != KT_OK)
		return KT_ERR_VERIFY;
	memcpy(r->index.b, beta, KT_HASH_LEN);
	/* The map head must be the checkpoint's last leaf: the newest state. */
	if (cp->size == 0 || p->head.log_size != cp->size - 1)
		return KT_ERR_VERIFY;
	kt_map_head_leaf_hash(&p->head, &h);
	if (kt_merkle_verify_inclusion(&h, p->head.log_size, cp->size,
	        p->head_proof.h, p->head_proof.n, &cp->root) != KT_OK)
		return KT_ERR_VERIFY;
	if (kt_map_verify(&p->head.root, &r->index, &p->map, &present) !=
	        KT_OK ||
	    present != p->present)
		return KT_ERR_VERIFY;
	r->present = present;
	r->head_index = p->head.log_size;
	r->head_timestamp_ms = p->head.timestamp_ms;
	if (!present)
		return KT_OK;
	if ((err = verify_update(p, cp, r)) != KT_OK)
		return err;
	r->leaf = p->map.leaf;
	r->revoked = p->kind == KT_VALUE_REVOKE;
	if (!r->revoked) {
		r->key_type = p->key_type;
		r->key_type_len = p->key_type_len;
		r->key = p->key;
		r->key_len = p->key_len;
	}
	return KT_OK;
}

kt_err
kt_lookup_verify(const struct kt_lookup_proof *p,
    const uint8_t vrf_pk[KT_VRF_PUBLIC_LEN], const struct kt_checkpoint *cp,
    const char *label, size_t label_len, struct kt_lookup_result *out)
{
	kt_err err;

	memset(out, 0, sizeof(*out));
	err = verify(p, vrf_pk, cp, label, label_len, out);
	if (err != KT_OK)
		memset(out, 0, sizeof(*out));
	return err;
}

/* ---- encoding ------------------------------------------------------------ */

struct out {
	uint8_t *p;
	size_t cap,
	    len; /* len may run past cap: then nothing more is written */
};

static void
put(struct out *o, const void *b, size_t n)
{
	if (o->len <= o->cap && n <= o->cap - o->len && n > 0)
		memcpy(o->p + o->len, b, n);
	o->len += n;
}

static void
put_u8(struct out *o, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(o, &b, 1);
}

static void
put_proof(struct out *o, const struct kt_proof *pr)
{
	size_t i;

	put_u8(o, (unsigned)pr->n);
	for (i = 0; i < pr->n; i++)
		put(o, pr->h[i].b, KT_HASH_LEN);
}

/*
 * 1 if p's value is one a commitment can hold at its update's version:
 * a revocation from version 2 on, a key that fits its type. The rules
 * kt_commit applies, without hashing.
 */
static int
value_valid(const struct kt_lookup_proof *p)
{
	if (p->kind == KT_VALUE_REVOKE)
		return p->update.version >= 2;
	return p->kind == KT_VALUE_KEY &&
	    kt_key_type_valid(p->key_type, p->key_type_len) &&
	    kt_key_check(p->key_type, p->key_type_len, p->key, p->key_len) ==
	    KT_OK;
}

/* 1 if p's fields are each within their rules (what decode accepts). */
static int
encodable(const struct kt_lookup_proof *p)
{
	if ((p->present != 0 && p->present != 1) ||
	    !kt_label_is_canonical(p->label, p->label_len) ||
	    p->head_proof.n > KT_MAX_PROOF ||
	    kt_map_proof_len(&p->map) > KT_MAP_PROOF_MAX)
		return 0;
	if (!p->present)
		return 1;
	return p->update_proof.n <= KT_MAX_PROOF && value_valid(p);
}

static kt_err
encode(const struct kt_lookup_proof *p, const struct kt_proof *head_proof,
    struct out *o)
{
	uint8_t b[KT_UPDATE_LEN];
	size_t n;
	kt_err err;

	if (!encodable(p) || head_proof->n > KT_MAX_PROOF)
		return KT_ERR_MALFORMED;
	put_u8(o, (unsigned)p->present);
	put_u8(o, (unsigned)p->label_len);
	put(o, p->label, p->label_len);
	put(o, p->vrf_proof, KT_VRF_PROOF_LEN);
	if ((err = kt_map_head_encode(&p->head, b)) != KT_OK)
		return err;
	put(o, b, KT_MAP_HEAD_LEN);
	put_proof(o, head_proof);
	n = kt_map_proof_len(&p->map);
	if (o->len <= o->cap && n <= o->cap - o->len) {
		if ((err = kt_map_proof_encode(&p->map, o->p + o->len,
		         o->cap - o->len, NULL)) != KT_OK)
			return err;
	}
	o->len += n;
	if (!p->present)
		return KT_OK;
	if ((err = kt_update_encode(&p->update, b)) != KT_OK)
		return err;
	put(o, b, KT_UPDATE_LEN);
	put_proof(o, &p->update_proof);
	put(o, p->opening, KT_OPENING_LEN);
	put(o, p->prev_chain.b, KT_HASH_LEN);
	put_u8(o, p->kind);
	if (p->kind == KT_VALUE_KEY) {
		uint8_t k[2];

		put_u8(o, (unsigned)p->key_type_len);
		put(o, p->key_type, p->key_type_len);
		kt_put_be16(k, (uint16_t)p->key_len);
		put(o, k, 2);
		put(o, p->key, p->key_len);
	}
	return KT_OK;
}

size_t
kt_lookup_len(const struct kt_lookup_proof *p)
{
	struct out o = { NULL, 0, 0 };

	return encode(p, &p->head_proof, &o) == KT_OK ? o.len : 0;
}

kt_err
kt_lookup_encode(const struct kt_lookup_proof *p, uint8_t *buf, size_t cap,
    size_t *out_len)
{
	struct out o = { buf, cap, 0 };
	kt_err err;

	if ((err = encode(p, &p->head_proof, &o)) != KT_OK)
		return err;
	if (o.len > cap)
		return KT_ERR_TOO_LARGE;
	if (out_len != NULL)
		*out_len = o.len;
	return KT_OK;
}

/* ---- decoding ------------------------------------------------------------ */

struct in {
	const uint8_t *p;
	size_t len, off;
};

/* KT_OK with the next n bytes at *b, or KT_ERR_INCOMPLETE. */
static kt_err
take(struct in *in, size_t n, const uint8_t **b)
{
	if (in->len - in->off < n)
		return KT_ERR_INCOMPLETE;
	*b = in->p + in->off;
	in->off += n;
	return KT_OK;
}

static kt_err
take_proof(struct in *in, struct kt_proof *pr)
{
	const uint8_t *b;
	size_t i;
	kt_err err;

	if ((err = take(in, 1, &b)) != KT_OK)
		return err;
	pr->n = b[0];
	if (pr->n > KT_MAX_PROOF)
		return KT_ERR_MALFORMED;
	for (i = 0; i < pr->n; i++) {
		if ((err = take(in, KT_HASH_LEN, &b)) != KT_OK)
			return err;
		memcpy(pr->h[i].b, b, KT_HASH_LEN);
	}
	return KT_OK;
}

/*
 * A fixed-size leaf (map head or update) decoded with its own decoder,
 * which checks field by field: a leaf cut short is MALFORMED as soon as a
 * field it holds breaks a rule, else INCOMPLETE.
 */
static kt_err
take_leaf(struct in *in, size_t n, const uint8_t **b,
    kt_err (*decode)(const uint8_t *, size_t, void *), void *out)
{
	size_t rest = in->len - in->off;

	if (rest < n)
		return decode(in->p + in->off, rest, out) == KT_ERR_MALFORMED
		    ? KT_ERR_MALFORMED
		    : KT_ERR_INCOMPLETE;
	if (take(in, n, b) != KT_OK)
		return KT_ERR_INTERNAL;
	return decode(*b, n, out);
}

static kt_err
decode_head(const uint8_t *b, size_t n, void *out)
{
	return kt_map_head_decode(b, n, out);
}

static kt_err
decode_update_leaf(const uint8_t *b, size_t n, void *out)
{
	return kt_update_decode(b, n, out);
}

/* The map proof is self-delimiting: find its length, then decode it. */
static kt_err
take_map_proof(struct in *in, struct kt_map_proof *mp)
{
	const uint8_t *s = in->p + in->off;
	size_t rest = in->len - in->off, n, len;

	if (rest < 2)
		return KT_ERR_INCOMPLETE;
	n = kt_get_be16(s);
	if (n > KT_MAP_MAX_DEPTH)
		return KT_ERR_MALFORMED;
	len = 2 + n * (1 + KT_HASH_LEN) + 1;
	if (rest >= len && s[len - 1] == 1)
		len += KT_MAP_LEAF_LEN;
	if (rest < len)
		return kt_map_proof_decode(s, rest, mp) == KT_ERR_MALFORMED
		    ? KT_ERR_MALFORMED
		    : KT_ERR_INCOMPLETE;
	in->off += len;
	return kt_map_proof_decode(s, len, mp);
}

static const uint8_t key_probe[KT_KEY_MAX] = { 0x04 };

static kt_err
take_value(struct in *in, struct kt_lookup_proof *out)
{
	const uint8_t *b;
	kt_err err;

	if ((err = take(in, 1, &b)) != KT_OK)
		return err;
	out->kind = b[0];
	/* A revocation revokes an earlier version: never version 1. */
	if (out->kind == KT_VALUE_REVOKE)
		return out->update.version >= 2 ? KT_OK : KT_ERR_MALFORMED;
	if (out->kind != KT_VALUE_KEY)
		return KT_ERR_MALFORMED;
	if ((err = take(in, 1, &b)) != KT_OK)
		return err;
	out->key_type_len = b[0];
	if (out->key_type_len == 0 || out->key_type_len > KT_KEY_TYPE_MAX)
		return KT_ERR_MALFORMED;
	if ((err = take(in, out->key_type_len, &b)) != KT_OK)
		return err;
	memcpy(out->key_type, b, out->key_type_len);
	if (!kt_key_type_valid(out->key_type, out->key_type_len))
		return KT_ERR_MALFORMED;
	if ((err = take(in, 2, &b)) != KT_OK)
		return err;
	out->key_len = kt_get_be16(b);
	/* The length the type fixes, checked before the key's bytes arrive
	 * (the probe's first byte is what a p256 key must start with). */
	if (out->key_len == 0 || out->key_len > KT_KEY_MAX ||
	    kt_key_check(out->key_type, out->key_type_len, key_probe,
	        out->key_len) != KT_OK)
		return KT_ERR_MALFORMED;
	if ((err = take(in, out->key_len, &b)) != KT_OK)
		return err;
	memcpy(out->key, b, out->key_len);
	return KT_OK;
}

static kt_err
decode_update(struct in *in, struct kt_lookup_proof *out)
{
	const uint8_t *b;
	kt_err err;

	if ((err = take_leaf(in, KT_UPDATE_LEN, &b, decode_update_leaf,
	         &out->update)) != KT_OK ||
	    (err = take_proof(in, &out->update_proof)) != KT_OK ||
	    (err = take(in, KT_OPENING_LEN, &b)) != KT_OK)
		return err;
	memcpy(out->opening, b, KT_OPENING_LEN);
	if ((err = take(in, KT_HASH_LEN, &b)) != KT_OK)
		return err;
	memcpy(out->prev_chain.b, b, KT_HASH_LEN);
	if ((err = take_value(in, out)) != KT_OK)
		return err;
	return value_valid(out) ? KT_OK : KT_ERR_MALFORMED;
}

static kt_err
decode(struct in *in, struct kt_lookup_proof *out)
{
	const uint8_t *b;
	kt_err err;

	if ((err = take(in, 1, &b)) != KT_OK)
		return err;
	if (b[0] > 1)
		return KT_ERR_MALFORMED;
	out->present = b[0];
	if ((err = take(in, 1, &b)) != KT_OK)
		return err;
	out->label_len = b[0];
	if (out->label_len == 0)
		return KT_ERR_MALFORMED;
	if ((err = take(in, out->label_len, &b)) != KT_OK)
		return err;
	memcpy(out->label, b, out->label_len);
	out->label[out->label_len] = '\0';
	if (!kt_label_is_canonical(out->label, out->label_len))
		return KT_ERR_MALFORMED;
	if ((err = take(in, KT_VRF_PROOF_LEN, &b)) != KT_OK)
		return err;
	memcpy(out->vrf_proof, b, KT_VRF_PROOF_LEN);
	if ((err = take_leaf(in, KT_MAP_HEAD_LEN, &b, decode_head,
	         &out->head)) != KT_OK ||
	    (err = take_proof(in, &out->head_proof)) != KT_OK ||
	    (err = take_map_proof(in, &out->map)) != KT_OK)
		return err;
	/* The claim must be one the map proof can make. */
	if (out->present && !out->map.has_leaf)
		return KT_ERR_MALFORMED;
	if (out->present && (err = decode_update(in, out)) != KT_OK)
		return err;
	return in->off == in->len ? KT_OK : KT_ERR_MALFORMED;
}

kt_err
kt_lookup_decode(const uint8_t *buf, size_t len, struct kt_lookup_proof *out)
{
	struct in in = { buf, len, 0 };

	memset(out, 0, sizeof(*out));
	return decode(&in, out);
}

/* ---- the tlog-proof form ------------------------------------------------- */

kt_err
kt_lookup_tlogproof_format(const struct kt_lookup_proof *p, const char *note,
    size_t note_len, char *buf, size_t cap, size_t *out_len)
{
	static const struct kt_proof none = { 0 };
	uint8_t *extra;
	struct out o;
	kt_err err;

	/* The tlog-proof's own lines carry the map head's inclusion proof. */
	if ((extra = malloc(KT_LOOKUP_MAX)) == NULL)
		return KT_ERR_NOMEM;
	o.p = extra;
	o.cap = KT_LOOKUP_MAX;
	o.len = 0;
	err = encode(p, &none, &o);
	if (err == KT_OK && o.len > o.cap)
		err = KT_ERR_TOO_LARGE;
	if (err == KT_OK)
		err = kt_tlogproof_format(extra, o.len, p->head.log_size,
		    &p->head_proof, note, note_len, buf, cap, out_len);
	free(extra);
	return err;
}

kt_err
kt_lookup_tlogproof_parse(const char *buf, size_t len,
    struct kt_lookup_proof *out, const char **note, size_t *note_len)
{
	struct kt_tlogproof *tp;
	kt_err err;

	memset(out, 0, sizeof(*out));
	if ((tp = malloc(sizeof(*tp))) == NULL)
		return KT_ERR_NOMEM;
	err = kt_tlogproof_parse(buf, len, tp);
	if (err == KT_OK && tp->extra_len == 0)
		err = KT_ERR_MALFORMED;
	if (err == KT_OK)
		err = kt_lookup_decode(tp->extra, tp->extra_len, out);
	if (err == KT_ERR_INCOMPLETE)
		err = KT_ERR_MALFORMED; /* the extra line is all there is */
	if (err == KT_OK &&
	    (out->head_proof.n != 0 || tp->index != out->head.log_size))
		err = KT_ERR_MALFORMED;
	if (err == KT_OK) {
		out->head_proof = tp->proof;
		*note = tp->note;
		*note_len = tp->note_len;
	} else {
		memset(out, 0, sizeof(*out));
	}
	free(tp);
	return err;
}

_Static_assert(KT_LOOKUP_MAX <= KT_TLOGPROOF_EXTRA_MAX,
    "a lookup proof must fit a tlog-proof's extra line");
