/*
 * util.c: results, strict base64, fingerprints, buffers.
 */
#include <stdarg.h>
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

void
kt_vresult_init(struct kt_vresult *r)
{
	r->status = KT_VERIFY_OK;
	r->msg[0] = '\0';
	r->evidence[0] = '\0';
	r->info = json_object();
}

void
kt_vresult_free(struct kt_vresult *r)
{
	if (r == NULL)
		return;
	json_decref(r->info);
	r->info = NULL;
}

int
kt_vres(struct kt_vresult *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->status = status;
	return status;
}

json_t *
kt_vb64_json(const uint8_t *p, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(n);
	json_t *j;

	if (s == NULL)
		return NULL;
	sodium_bin2base64(s, n, p, len, sodium_base64_VARIANT_ORIGINAL);
	j = json_string(s);
	free(s);
	return j;
}

kt_err
kt_vb64_decode(const char *s, size_t slen, uint8_t *out, size_t cap,
    size_t *out_len)
{
	char stackbuf[8192], *re = stackbuf;
	const char *end = NULL;
	size_t n = 0, elen;
	kt_err err = KT_ERR_MALFORMED;

	/* Cheap length bound first: 4 chars per 3 bytes, padded. */
	if (slen % 4 != 0 || slen / 4 * 3 > cap + 2)
		return KT_ERR_MALFORMED;
	if (sodium_base642bin(out, cap, s, slen, NULL, &n, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + slen)
		return KT_ERR_MALFORMED;
	/* Canonical only: re-encoding must give the same text, so no
	 * non-zero padding bits make two spellings of one value. */
	elen = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	if (elen > sizeof(stackbuf)) {
		re = malloc(elen);
		if (re == NULL)
			return KT_ERR_NOMEM;
	}
	sodium_bin2base64(re, elen, out, n, sodium_base64_VARIANT_ORIGINAL);
	if (strlen(re) == slen && memcmp(re, s, slen) == 0) {
		*out_len = n;
		err = KT_OK;
	}
	if (re != stackbuf)
		free(re);
	return err;
}

kt_err
kt_vb64_hash(const char *s, size_t slen, struct kt_hash *out)
{
	size_t n = 0;

	if (slen != 44)
		return KT_ERR_MALFORMED;
	if (kt_vb64_decode(s, slen, out->b, KT_HASH_LEN, &n) != KT_OK ||
	    n != KT_HASH_LEN)
		return KT_ERR_MALFORMED;
	return KT_OK;
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
