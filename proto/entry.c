/*
 * entry.c: the kt log entry (leaf) codec. The byte layout is in kt/entry.h
 * and, with examples, in proto/README.md.
 *
 * Decoding is picohttpparser-style: fields are read in order, and for each
 * one we first ask whether the bytes are there (KT_ERR_INCOMPLETE if not) and
 * only then whether they are valid (KT_ERR_MALFORMED). A length byte that can
 * never be valid (0, or above its bound) is MALFORMED at once, since no
 * amount of further input could make it parse. Every prefix of a valid
 * encoding is therefore INCOMPLETE, and anything else that fails is
 * MALFORMED. There is exactly one encoding per entry: fixed-width integers,
 * no optional fields, no padding, nothing after the last field.
 */
#include <string.h>

#include "kt/bytes.h"
#include "kt/entry.h"
#include "utf8_internal.h"

/* ---- field validity ------------------------------------------------------ */

/*
 * Strict UTF-8 (RFC 3629 §4 table): no overlong forms, no UTF-16 surrogates
 * (U+D800..U+DFFF), nothing past U+10FFFF. Labels are names people read and
 * compare, so C0 controls, DEL and C1 controls (U+0080..U+009F) are refused
 * too: they can hide or reorder text on a terminal.
 */
int
kt_label_valid(const char *label, size_t len)
{
	const unsigned char *p = (const unsigned char *)label;
	size_t i = 0;

	if (label == NULL || len == 0 || len > KT_LABEL_MAX)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t n = kt_utf8_next(p + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += n;
	}
	return 1;
}

int
kt_key_type_valid(const char *key_type, size_t len)
{
	size_t i;

	if (key_type == NULL || len == 0 || len > KT_KEY_TYPE_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = key_type[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		        c == '-'))
			return 0;
	}
	return 1;
}

static int
type_is(const char *key_type, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len == n && memcmp(key_type, name, n) == 0;
}

/*
 * The length a key type fixes, or 0 if it fixes none. Types not listed here
 * are opaque to kt: any 1..KT_KEY_MAX bytes.
 */
static size_t
fixed_key_len(const char *key_type, size_t len)
{
	if (type_is(key_type, len, "ed25519") ||
	    type_is(key_type, len, "x25519"))
		return 32;
	if (type_is(key_type, len, "p256"))
		return 65;
	return 0;
}

kt_err
kt_key_check(const char *key_type, size_t type_len, const uint8_t *key,
    size_t key_len)
{
	size_t want;

	if (!kt_key_type_valid(key_type, type_len))
		return KT_ERR_MALFORMED;
	if (key == NULL || key_len == 0 || key_len > KT_KEY_MAX)
		return KT_ERR_MALFORMED;
	want = fixed_key_len(key_type, type_len);
	if (want != 0 && key_len != want)
		return KT_ERR_MALFORMED;
	/* SEC1 §2.3.3: 0x04 marks the uncompressed form; compressed points
	 * (0x02/0x03) would give a second encoding of the same key. */
	if (type_is(key_type, type_len, "p256") && key[0] != 0x04)
		return KT_ERR_MALFORMED;
	return KT_OK;
}

/* The version/prev rules shared by encode and decode. */
static int
chain_valid(uint8_t type, uint64_t version, uint64_t prev)
{
	if (version == 0)
		return 0;
	if (type == KT_ENTRY_REVOKE && version < 2)
		return 0;
	if (version == 1)
		return prev == KT_NO_PREV;
	return prev != KT_NO_PREV;
}

static int
entry_valid(const struct kt_entry *e)
{
	if (e == NULL)
		return 0;
	if (e->type != KT_ENTRY_KEY && e->type != KT_ENTRY_REVOKE)
		return 0;
	if (!kt_label_valid(e->label, e->label_len))
		return 0;
	if (!chain_valid(e->type, e->version, e->prev_index))
		return 0;
	if (e->type == KT_ENTRY_KEY)
		return kt_key_check(e->key_type, e->key_type_len, e->key,
		           e->key_len) == KT_OK;
	/* A revocation carries no key: refuse a caller who thinks it does
	 * rather than silently dropping the bytes. */
	return e->key_type_len == 0 && e->key_len == 0;
}

/* ---- encode --------------------------------------------------------------- */

size_t
kt_entry_encoded_len(const struct kt_entry *e)
{
	size_t n;

	if (!entry_valid(e))
		return 0;
	n = 1 + 8 + 1 + e->label_len + 8 + 8;
	if (e->type == KT_ENTRY_KEY)
		n += 1 + e->key_type_len + 2 + e->key_len;
	return n;
}

static uint8_t *
put_u64(uint8_t *p, uint64_t v)
{
	kt_put_be64(p, v);
	return p + 8;
}

kt_err
kt_entry_encode(const struct kt_entry *e, uint8_t *buf, size_t cap,
    size_t *out_len)
{
	size_t n = kt_entry_encoded_len(e);
	uint8_t *p = buf;

	if (n == 0)
		return KT_ERR_MALFORMED;
	if (buf == NULL || cap < n)
		return KT_ERR_TOO_LARGE;
	*p++ = e->type;
	p = put_u64(p, e->timestamp_ms);
	*p++ = (uint8_t)e->label_len;
	memcpy(p, e->label, e->label_len);
	p += e->label_len;
	p = put_u64(p, e->version);
	p = put_u64(p, e->prev_index);
	if (e->type == KT_ENTRY_KEY) {
		*p++ = (uint8_t)e->key_type_len;
		memcpy(p, e->key_type, e->key_type_len);
		p += e->key_type_len;
		kt_put_be16(p, (uint16_t)e->key_len);
		p += 2;
		memcpy(p, e->key, e->key_len);
		p += e->key_len;
	}
	if ((size_t)(p - buf) != n)
		return KT_ERR_INTERNAL;
	if (out_len != NULL)
		*out_len = n;
	return KT_OK;
}

/* ---- decode --------------------------------------------------------------- */

struct reader {
	const uint8_t *p;
	size_t left;
};

static int
get_u8(struct reader *r, uint8_t *v)
{
	if (r->left < 1)
		return 0;
	*v = r->p[0];
	r->p++;
	r->left--;
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

static int
get_bytes(struct reader *r, size_t n, const uint8_t **v)
{
	if (r->left < n)
		return 0;
	*v = r->p;
	r->p += n;
	r->left -= n;
	return 1;
}

kt_err
kt_entry_decode(const uint8_t *buf, size_t len, struct kt_entry *out)
{
	struct reader r;
	struct kt_entry e;
	const uint8_t *b;
	uint8_t u8;

	if (out == NULL || (buf == NULL && len != 0))
		return KT_ERR_MALFORMED;
	memset(&e, 0, sizeof(e));
	r.p = buf;
	r.left = len;

	if (!get_u8(&r, &e.type))
		return KT_ERR_INCOMPLETE;
	if (e.type != KT_ENTRY_KEY && e.type != KT_ENTRY_REVOKE)
		return KT_ERR_MALFORMED;
	if (!get_u64(&r, &e.timestamp_ms))
		return KT_ERR_INCOMPLETE;

	if (!get_u8(&r, &u8))
		return KT_ERR_INCOMPLETE;
	if (u8 == 0)
		return KT_ERR_MALFORMED;
	e.label_len = u8;
	if (!get_bytes(&r, e.label_len, &b))
		return KT_ERR_INCOMPLETE;
	e.label = (const char *)b;
	if (!kt_label_valid(e.label, e.label_len))
		return KT_ERR_MALFORMED;

	if (!get_u64(&r, &e.version))
		return KT_ERR_INCOMPLETE;
	if (e.version == 0 || (e.type == KT_ENTRY_REVOKE && e.version < 2))
		return KT_ERR_MALFORMED;
	if (!get_u64(&r, &e.prev_index))
		return KT_ERR_INCOMPLETE;
	if (!chain_valid(e.type, e.version, e.prev_index))
		return KT_ERR_MALFORMED;

	if (e.type == KT_ENTRY_KEY) {
		size_t want;

		if (!get_u8(&r, &u8))
			return KT_ERR_INCOMPLETE;
		if (u8 == 0 || u8 > KT_KEY_TYPE_MAX)
			return KT_ERR_MALFORMED;
		e.key_type_len = u8;
		if (!get_bytes(&r, e.key_type_len, &b))
			return KT_ERR_INCOMPLETE;
		e.key_type = (const char *)b;
		if (!kt_key_type_valid(e.key_type, e.key_type_len))
			return KT_ERR_MALFORMED;

		if (!get_bytes(&r, 2, &b))
			return KT_ERR_INCOMPLETE;
		e.key_len = kt_get_be16(b);
		if (e.key_len == 0 || e.key_len > KT_KEY_MAX)
			return KT_ERR_MALFORMED;
		/* A wrong length for a fixed-length type can never parse. */
		want = fixed_key_len(e.key_type, e.key_type_len);
		if (want != 0 && e.key_len != want)
			return KT_ERR_MALFORMED;
		if (!get_bytes(&r, e.key_len, &e.key))
			return KT_ERR_INCOMPLETE;
		if (kt_key_check(e.key_type, e.key_type_len, e.key,
		        e.key_len) != KT_OK)
			return KT_ERR_MALFORMED;
	}

	if (r.left != 0)
		return KT_ERR_MALFORMED;
	*out = e;
	return KT_OK;
}
