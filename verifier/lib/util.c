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
