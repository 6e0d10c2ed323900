/*
 * util.c: buffers, strict base64, the JSON forms of hashes, frontiers and
 * leaves (shared by the state files and evidence), key fingerprints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "verify_internal.h"

void
kt_buf_free(struct kt_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

json_t *
kt_vb64_json(const uint8_t *p, size_t len)
{
	size_t cap = KT_B64_LEN(len) + 1;
	char *s = malloc(cap);
	json_t *j = NULL;

	if (s != NULL && kt_b64_encode(p, len, s, cap, NULL) == KT_OK)
		j = json_string(s);
	free(s);
	return j;
}

kt_err
kt_vb64_hash(const char *s, size_t slen, struct kt_hash *out)
{
	size_t n = 0;

	if (slen != KT_B64_LEN(KT_HASH_LEN))
		return KT_ERR_MALFORMED;
	if (kt_b64_decode(s, slen, out->b, KT_HASH_LEN, &n) != KT_OK ||
	    n != KT_HASH_LEN)
		return KT_ERR_MALFORMED;
	return KT_OK;
}

json_t *
kt_vhashes_json(const struct kt_hash *h, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, kt_vb64_json(h[i].b, KT_HASH_LEN));
	return a;
}

json_t *
kt_vfrontier_json(const struct kt_frontier *f)
{
	json_t *a = json_array();

	for (int b = 63; b >= 0; b--)
		if (f->size >> b & 1)
			json_array_append_new(a,
			    kt_vb64_json(f->h[b].b, KT_HASH_LEN));
	return a;
}

json_t *
kt_vleaf_json(const struct kt_vleaf *l)
{
	return json_pack("{s:I,s:o,s:o,s:o}", "index", (json_int_t)l->index,
	    "entry", kt_vb64_json(l->entry, l->entry_len), "leaf_hash",
	    kt_vb64_json(l->leaf_hash.b, KT_HASH_LEN), "hashes",
	    kt_vhashes_json(l->proof.proof.h, l->proof.proof.n));
}

kt_err
kt_vleaf_decode(struct kt_vleaf *l)
{
	if (kt_leaf_kind(l->entry, l->entry_len, &l->kind) != KT_OK)
		return KT_ERR_MALFORMED;
	if (l->kind == KT_LEAF_UPDATE) {
		if (kt_update_decode(l->entry, l->entry_len, &l->u) != KT_OK)
			return KT_ERR_MALFORMED;
		l->version = l->u.version;
	} else {
		if (kt_map_head_decode(l->entry, l->entry_len, &l->h) != KT_OK)
			return KT_ERR_MALFORMED;
		l->version = 0;
	}
	kt_hash_leaf(l->entry, l->entry_len, &l->leaf_hash);
	return KT_OK;
}

json_t *
kt_vversion_summary(uint64_t version, uint64_t index, const struct kt_value *v)
{
	char fp[48];
	json_t *o;

	o = json_pack("{s:I,s:I,s:s}", "version", (json_int_t)version, "index",
	    (json_int_t)index, "type",
	    v == NULL                     ? "erased"
	        : v->kind == KT_VALUE_KEY ? "key"
	                                  : "revocation");
	if (o != NULL && v != NULL && v->kind == KT_VALUE_KEY) {
		kt_key_fingerprint(v->key, v->key_len, fp);
		json_object_set_new(o, "key_type",
		    json_stringn(v->key_type, v->key_type_len));
		json_object_set_new(o, "key", kt_vb64_json(v->key, v->key_len));
		json_object_set_new(o, "fingerprint", json_string(fp));
	}
	return o;
}

void
kt_key_fingerprint(const uint8_t *key, size_t len, char out[48])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t h[crypto_hash_sha256_BYTES];
	size_t o = 0;

	crypto_hash_sha256(h, key, len);
	for (size_t i = 0; i < 16; i++) {
		if (i > 0 && i % 2 == 0)
			out[o++] = ':';
		out[o++] = hex[h[i] >> 4];
		out[o++] = hex[h[i] & 15];
	}
	out[o] = '\0';
}
