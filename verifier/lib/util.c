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

/* ---- base64 of public bytes -------------------------------------------- */

/* 6-bit values of the standard alphabet; 64 for every other byte. */
/* clang-format off */
static const uint8_t b64_val[256] = {
#define X16 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64
	X16, X16,
	64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64, 64, 63, /* + / */
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64, /* 0-9 */
	64,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, /* A-O */
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 64, /* P-Z */
	64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* a-o */
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 64, 64, 64, 64, 64, /* p-z */
	X16, X16, X16, X16, X16, X16, X16, X16,
#undef X16
};
/* clang-format on */

kt_err
kt_vb64_decode_public(const char *b64, size_t len, uint8_t *out, size_t cap,
    size_t *out_len)
{
	const unsigned char *s = (const unsigned char *)b64;
	size_t pad, full, o = 0;
	unsigned bad = 0, a, b, c, d;

	if (out_len != NULL)
		*out_len = 0;
	if ((b64 == NULL && len != 0) || (out == NULL && cap != 0) ||
	    len % 4 != 0)
		return KT_ERR_MALFORMED;
	if (len == 0)
		return KT_OK;
	pad = (s[len - 1] == '=') + (s[len - 1] == '=' && s[len - 2] == '=');
	if (len / 4 * 3 - pad > cap)
		return KT_ERR_TOO_LARGE;
	/* Every quantum but the last: four alphabet characters. */
	full = pad ? len / 4 - 1 : len / 4;
	for (size_t i = 0; i < full; i++, s += 4, o += 3) {
		a = b64_val[s[0]];
		b = b64_val[s[1]];
		c = b64_val[s[2]];
		d = b64_val[s[3]];
		bad |= a | b | c | d;
		out[o] = (uint8_t)(a << 2 | b >> 4);
		out[o + 1] = (uint8_t)(b << 4 | c >> 2);
		out[o + 2] = (uint8_t)(c << 6 | d);
	}
	if (pad != 0) {
		/* The last quantum: '=' only where the data needs none, and
		 * the unused bits of its last data character zero (canonical,
		 * RFC 4648 §3.5). */
		a = b64_val[s[0]];
		b = b64_val[s[1]];
		c = pad == 1 ? b64_val[s[2]] : 0;
		bad |= a | b | c;
		if ((pad == 2 && (b & 0xf) != 0) ||
		    (pad == 1 && (c & 0x3) != 0))
			return KT_ERR_MALFORMED;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (pad == 1)
			out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	/* 64 has a bit no 6-bit value has: some character was not in the
	 * alphabet (an '=' too early included). */
	if (bad & 64)
		return KT_ERR_MALFORMED;
	if (out_len != NULL)
		*out_len = o;
	return KT_OK;
}
