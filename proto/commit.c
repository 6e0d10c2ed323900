/*
 * commit.c: value commitments (kt/commit.h; byte layout and security
 * argument in proto/README.md, "Commitments").
 *
 * The hash input is written field by field into one SHA-256 state, each
 * variable field after its length, so the input is an injective encoding
 * of (opening, label, version, value): two different tuples never hash the
 * same bytes, and binding reduces to SHA-256's collision resistance.
 */
#include <string.h>

#include <sodium.h>

#include "kt/bytes.h"
#include "kt/commit.h"
#include "kt/label.h"
#include "sha256_internal.h"

/* The commitment's domain-separation byte (proto/README.md's table). */
#define COMMIT_PREFIX 0x05

/* The rules of kt/commit.h on everything but the opening and out. */
static int
inputs_valid(const char *label, size_t label_len, uint64_t version,
    const struct kt_value *v)
{
	if (label == NULL || label_len == 0 || label_len > KT_LABEL_MAX)
		return 0;
	if (v == NULL || version == 0)
		return 0;
	if (v->kind == KT_VALUE_KEY)
		return kt_key_check(v->key_type, v->key_type_len, v->key,
		           v->key_len) == KT_OK;
	/* A revocation revokes an earlier version and carries no key: refuse
	 * a caller who thinks it does rather than drop the bytes. */
	if (v->kind == KT_VALUE_REVOKE)
		return version >= 2 && v->key_type_len == 0 && v->key_len == 0;
	return 0;
}

static void
absorb(struct kt_sha256 *st, const void *p, size_t n)
{
	if (n > 0)
		kt_sha256_update(st, p, n);
}

kt_err
kt_commit(const uint8_t opening[KT_OPENING_LEN], const char *label,
    size_t label_len, uint64_t version, const struct kt_value *v,
    struct kt_hash *out)
{
	struct kt_sha256 st;
	uint8_t b[8];

	if (opening == NULL || out == NULL ||
	    !inputs_valid(label, label_len, version, v))
		return KT_ERR_MALFORMED;
	kt_sha256_init(&st);
	b[0] = COMMIT_PREFIX;
	absorb(&st, b, 1);
	absorb(&st, opening, KT_OPENING_LEN);
	b[0] = (uint8_t)label_len;
	absorb(&st, b, 1);
	absorb(&st, label, label_len);
	kt_put_be64(b, version);
	absorb(&st, b, 8);
	b[0] = v->kind;
	b[1] = (uint8_t)v->key_type_len;
	absorb(&st, b, 2);
	absorb(&st, v->key_type, v->key_type_len);
	kt_put_be16(b, (uint16_t)v->key_len);
	absorb(&st, b, 2);
	absorb(&st, v->key, v->key_len);
	kt_sha256_final(&st, out->b);
	/* The state has held the opening, which stays secret until the
	 * server reveals it (and is gone for good after an erasure). */
	sodium_memzero(&st, sizeof(st));
	return KT_OK;
}

kt_err
kt_commit_verify(const uint8_t opening[KT_OPENING_LEN], const char *label,
    size_t label_len, uint64_t version, const struct kt_value *v,
    const struct kt_hash *c)
{
	struct kt_hash want;
	kt_err err;

	if (c == NULL)
		return KT_ERR_MALFORMED;
	err = kt_commit(opening, label, label_len, version, v, &want);
	if (err != KT_OK)
		return err;
	return kt_hash_eq(&want, c) ? KT_OK : KT_ERR_VERIFY;
}
