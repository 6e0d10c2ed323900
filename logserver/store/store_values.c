/*
 * store_values.c: what the key directory keeps out of the public log. Two
 * databases, never served as they are:
 *
 *   vrf     SHA-256(canonical label) -> the label's 80-byte VRF proof, so
 *           that a lookup or a later version never pays for a VRF prove
 *           again (the map index is the proof's output)
 *   values  u64 BE update leaf index -> the update's secrets:
 *             u8  flags        VALUE_CHAIN: prev_chain follows (absent:
 *                              zero, as for every version 1); VALUE_ERASED:
 *                              nothing after prev_chain
 *             32  prev_chain   the label's chain before this version
 *             32  opening      the commitment's opening
 *             u8  kind         KT_VALUE_KEY or KT_VALUE_REVOKE
 *             u8  T, T bytes   key type
 *             be16 K, K bytes  key
 *           An erased update (kt_store_write_erase) keeps only prev_chain,
 *           so later versions still prove their chain while its key can no
 *           longer be linked to the label.
 *
 * Updates are appended in leaf order, so values are written with
 * MDB_APPEND (one page per batch); VRF proofs are written once per label.
 */
#include <sodium.h>
#include <string.h>

#include "kt/bytes.h"
#include "kt/label.h"
#include "store/internal.h"

#define VALUE_CHAIN 1u
#define VALUE_ERASED 2u
#define VALUE_MAX \
	(1 + KT_HASH_LEN + KT_OPENING_LEN + 4 + KT_KEY_TYPE_MAX + KT_KEY_MAX)

static void
label_key(const char *label, size_t len, uint8_t k[KT_HASH_LEN])
{
	crypto_hash_sha256(k, (const unsigned char *)label, len);
}

/* ---- decoding ------------------------------------------------------------ */

static kt_err
value_decode(const MDB_val *v, struct kt_store_value *out)
{
	const uint8_t *p = v->mv_data;
	size_t n = v->mv_size, t, k;

	memset(out, 0, sizeof(*out));
	if (n < 1 || (p[0] & ~(VALUE_CHAIN | VALUE_ERASED)) != 0)
		return KT_ERR_INTERNAL;
	out->erased = (p[0] & VALUE_ERASED) != 0;
	if (p[0] & VALUE_CHAIN) {
		if (n < 1 + KT_HASH_LEN)
			return KT_ERR_INTERNAL;
		memcpy(out->prev_chain.b, p + 1, KT_HASH_LEN);
		p += KT_HASH_LEN;
		n -= KT_HASH_LEN;
	}
	p++;
	n--;
	if (out->erased)
		return n == 0 ? KT_OK : KT_ERR_INTERNAL;
	if (n < KT_OPENING_LEN + 2)
		return KT_ERR_INTERNAL;
	memcpy(out->opening, p, KT_OPENING_LEN);
	p += KT_OPENING_LEN;
	n -= KT_OPENING_LEN;
	out->kind = p[0];
	t = p[1];
	if (t > KT_KEY_TYPE_MAX || n < 2 + t + 2)
		return KT_ERR_INTERNAL;
	memcpy(out->key_type, p + 2, t);
	out->key_type_len = t;
	k = kt_get_be16(p + 2 + t);
	if (k > KT_KEY_MAX || n != 2 + t + 2 + k)
		return KT_ERR_INTERNAL;
	memcpy(out->key, p + 4 + t, k);
	out->key_len = k;
	return KT_OK;
}

static kt_err
get_value(MDB_txn *txn, MDB_dbi dbi, uint64_t index, struct kt_store_value *out)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	int rc;

	kt_put_be64(k, index);
	rc = mdb_get(txn, dbi, &key, &val);
	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	return value_decode(&val, out);
}

static kt_err
get_vrf(MDB_txn *txn, MDB_dbi dbi, const char *label, size_t len,
    uint8_t proof[KT_VRF_PROOF_LEN])
{
	uint8_t k[KT_HASH_LEN];
	MDB_val key = { KT_HASH_LEN, k }, val;
	int rc;

	if (label == NULL || len == 0 || len > KT_CANON_MAX)
		return KT_ERR_RANGE;
	label_key(label, len, k);
	rc = mdb_get(txn, dbi, &key, &val);
	if (rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (rc != 0)
		return KT_ERR_IO;
	if (val.mv_size != KT_VRF_PROOF_LEN)
		return KT_ERR_INTERNAL;
	memcpy(proof, val.mv_data, KT_VRF_PROOF_LEN);
	return KT_OK;
}

/* ---- reads --------------------------------------------------------------- */

kt_err
kt_store_read_value(struct kt_store_read *r, uint64_t index,
    struct kt_store_value *out)
{
	if (index >= r->size)
		return KT_ERR_NOT_FOUND;
	return get_value(r->txn, r->s->values, index, out);
}

kt_err
kt_store_read_vrf(struct kt_store_read *r, const char *label, size_t len,
    uint8_t proof[KT_VRF_PROOF_LEN])
{
	return get_vrf(r->txn, r->s->vrf, label, len, proof);
}

/* ---- writes -------------------------------------------------------------- */

/* The flags byte and prev_chain (left out when zero) at buf; returns the
 * byte after them. */
static uint8_t *
put_chain(uint8_t *buf, const struct kt_hash *chain, unsigned flags)
{
	static const struct kt_hash zero;

	if (kt_hash_eq(chain, &zero)) {
		buf[0] = (uint8_t)flags;
		return buf + 1;
	}
	buf[0] = (uint8_t)(flags | VALUE_CHAIN);
	memcpy(buf + 1, chain->b, KT_HASH_LEN);
	return buf + 1 + KT_HASH_LEN;
}

kt_err
kt_store_write_value(struct kt_store_txn *w, uint64_t index,
    const struct kt_store_value *v)
{
	uint8_t buf[VALUE_MAX], k[8];
	MDB_val key = { 8, k }, val = { 0, buf };
	uint8_t *p;
	int rc;

	if (w->failed)
		return KT_ERR_INTERNAL;
	if (v->erased || v->key_type_len > KT_KEY_TYPE_MAX ||
	    v->key_len > KT_KEY_MAX)
		return KT_ERR_RANGE;
	p = put_chain(buf, &v->prev_chain, 0);
	memcpy(p, v->opening, KT_OPENING_LEN);
	p += KT_OPENING_LEN;
	p[0] = v->kind;
	p[1] = (uint8_t)v->key_type_len;
	memcpy(p + 2, v->key_type, v->key_type_len);
	kt_put_be16(p + 2 + v->key_type_len, (uint16_t)v->key_len);
	memcpy(p + 4 + v->key_type_len, v->key, v->key_len);
	val.mv_size = (size_t)(p - buf) + 4 + v->key_type_len + v->key_len;
	kt_put_be64(k, index);
	rc = mdb_put(w->txn, w->s->values, &key, &val, MDB_APPEND);
	if (rc != 0)
		return wfail(w, rc, "mdb_put(value)");
	return KT_OK;
}

kt_err
kt_store_write_get_value(struct kt_store_txn *w, uint64_t index,
    struct kt_store_value *out)
{
	kt_err e;

	if (w->failed)
		return KT_ERR_INTERNAL;
	e = get_value(w->txn, w->s->values, index, out);
	if (e == KT_ERR_IO)
		w->failed = 1;
	return e;
}

kt_err
kt_store_write_erase(struct kt_store_txn *w, uint64_t index, int *erased)
{
	struct kt_store_value v;
	uint8_t k[8], buf[1 + KT_HASH_LEN];
	MDB_val key = { 8, k }, val = { 0, buf };
	int rc;
	kt_err e;

	*erased = 0;
	e = kt_store_write_get_value(w, index, &v);
	if (e != KT_OK || v.erased)
		return e;
	kt_put_be64(k, index);
	val.mv_size =
	    (size_t)(put_chain(buf, &v.prev_chain, VALUE_ERASED) - buf);
	rc = mdb_put(w->txn, w->s->values, &key, &val, 0);
	sodium_memzero(&v, sizeof(v));
	if (rc != 0)
		return wfail(w, rc, "mdb_put(erase)");
	*erased = 1;
	return KT_OK;
}

kt_err
kt_store_write_vrf(struct kt_store_txn *w, const char *label, size_t len,
    const uint8_t proof[KT_VRF_PROOF_LEN])
{
	uint8_t k[KT_HASH_LEN];
	MDB_val key = { KT_HASH_LEN, k },
	        val = { KT_VRF_PROOF_LEN, (void *)proof };
	int rc;

	if (w->failed)
		return KT_ERR_INTERNAL;
	if (label == NULL || len == 0 || len > KT_CANON_MAX)
		return KT_ERR_RANGE;
	label_key(label, len, k);
	rc = mdb_put(w->txn, w->s->vrf, &key, &val, 0);
	if (rc != 0)
		return wfail(w, rc, "mdb_put(vrf)");
	return KT_OK;
}

kt_err
kt_store_write_skeleton(struct kt_store_txn *w,
    const uint8_t skel[KT_STORE_SKELETON_LEN])
{
	MDB_val key = { KT_STORE_SKELETON_LEN, (void *)skel }, val = { 0, "" };
	int rc;

	if (w->failed)
		return KT_ERR_INTERNAL;
	rc = mdb_put(w->txn, w->s->skeletons, &key, &val, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return KT_ERR_EXISTS;
	if (rc != 0)
		return wfail(w, rc, "mdb_put(skeletons)");
	return KT_OK;
}

kt_err
kt_store_write_get_vrf(struct kt_store_txn *w, const char *label, size_t len,
    uint8_t proof[KT_VRF_PROOF_LEN])
{
	if (w->failed)
		return KT_ERR_INTERNAL;
	return get_vrf(w->txn, w->s->vrf, label, len, proof);
}
