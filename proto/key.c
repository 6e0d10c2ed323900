/*
 * key.c: C2SP signed-note keys (c2sp.org/signed-note): key names, key IDs,
 * signers and verifiers, and the Go golang.org/x/mod/sumdb/note key string
 * formats. The only proto/ file that holds a secret key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt/b64.h"
#include "kt/note.h"
#include "key_internal.h"
#include "utf8_internal.h"

struct kt_signer {
	char name[KT_KEY_NAME_MAX + 1];
	uint8_t type;
	uint8_t id[KT_KEY_ID_LEN];
	uint8_t pub[KT_PUBKEY_LEN];
	unsigned char *sk; /* crypto_sign_SECRETKEYBYTES, sodium_malloc'd */
};

static const char priv_prefix[] = "PRIVATE+KEY+";
#define PRIV_PREFIX_LEN 12

/* ---- key names ---------------------------------------------------------- */

/* Unicode White_Space, as Go's unicode.IsSpace (the sumdb/note name rule). */
static int
is_space(uint32_t cp)
{
	switch (cp) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

int
kt_key_name_valid(const char *name, size_t len)
{
	const unsigned char *u = (const unsigned char *)name;
	size_t i = 0;

	if (name == NULL || len == 0 || len > KT_KEY_NAME_MAX)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t n = kt_utf8_next(u + i, len - i, &cp);

		if (n == 0 || cp < 0x20 || cp == 0x7f || cp == '+' ||
		    is_space(cp))
			return 0;
		i += n;
	}
	return 1;
}

/* ---- key IDs and signers ------------------------------------------------ */

/* Key ID = SHA-256(name || 0x0A || type || pub)[:4] (C2SP signed-note). */
static void
key_id(const char *name, size_t name_len, uint8_t type,
    const uint8_t pub[KT_PUBKEY_LEN], uint8_t id[KT_KEY_ID_LEN])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	const uint8_t nl = 0x0a;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, name_len);
	crypto_hash_sha256_update(&st, &nl, 1);
	crypto_hash_sha256_update(&st, &type, 1);
	crypto_hash_sha256_update(&st, pub, KT_PUBKEY_LEN);
	crypto_hash_sha256_final(&st, h);
	memcpy(id, h, KT_KEY_ID_LEN);
}

int
kt_key_sig_type_valid(uint8_t type)
{
	return type == KT_KEY_ED25519 || type == KT_KEY_COSIG;
}

static kt_err
signer_new(const char *name, size_t name_len, uint8_t type,
    const uint8_t seed[KT_SEED_LEN], struct kt_signer **out)
{
	struct kt_signer *s = NULL;
	kt_err err;

	*out = NULL;
	if (!kt_key_name_valid(name, name_len) || !kt_key_sig_type_valid(type))
		return KT_ERR_MALFORMED;
	/* Idempotent and thread-safe; sodium_malloc needs it. */
	if (sodium_init() < 0)
		return KT_ERR_INTERNAL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return KT_ERR_NOMEM;
	s->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (s->sk == NULL) {
		err = KT_ERR_NOMEM;
		goto out;
	}
	memcpy(s->name, name, name_len);
	s->name[name_len] = '\0';
	s->type = type;
	if (crypto_sign_seed_keypair(s->pub, s->sk, seed) != 0) {
		err = KT_ERR_INTERNAL;
		goto out;
	}
	/* Read-only from here on: a stray write faults instead of corrupting. */
	(void)sodium_mprotect_readonly(s->sk);
	key_id(s->name, name_len, type, s->pub, s->id);
	*out = s;
	return KT_OK;
out:
	kt_signer_free(s);
	return err;
}

kt_err
kt_signer_from_seed(const char *name, uint8_t type,
    const uint8_t seed[KT_SEED_LEN], struct kt_signer **out)
{
	if (name == NULL || seed == NULL) {
		*out = NULL;
		return KT_ERR_MALFORMED;
	}
	return signer_new(name, strnlen(name, KT_KEY_NAME_MAX + 1), type, seed,
	    out);
}

void
kt_signer_free(struct kt_signer *s)
{
	if (s == NULL)
		return;
	/* sodium_free wipes the secret before releasing its guarded pages. */
	if (s->sk != NULL)
		sodium_free(s->sk);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

void
kt_signer_verifier(const struct kt_signer *s, struct kt_verifier *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->name, s->name, sizeof(out->name));
	out->type = s->type;
	memcpy(out->id, s->id, KT_KEY_ID_LEN);
	memcpy(out->pub, s->pub, KT_PUBKEY_LEN);
}

const char *
kt_signer_name(const struct kt_signer *s)
{
	return s->name;
}

void
kt_signer_sign_raw(const struct kt_signer *s, const uint8_t *msg, size_t len,
    uint8_t sig[KT_SIG_LEN])
{
	(void)crypto_sign_detached(sig, NULL, msg, len, s->sk);
}

/* ---- key strings -------------------------------------------------------- */

/* Exactly 8 lowercase hex digits (the form the Go implementation writes). */
static int
parse_hex_id(const char *p, size_t len, uint8_t id[KT_KEY_ID_LEN])
{
	size_t bin_len = 0;

	if (len != 2 * KT_KEY_ID_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		        (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return sodium_hex2bin(id, KT_KEY_ID_LEN, p, len, NULL, &bin_len,
	           NULL) == 0 &&
	    bin_len == KT_KEY_ID_LEN;
}

/*
 * Splits "name+<hex>+<base64>" (the part after PRIVATE+KEY+ for signers).
 * The base64 alphabet has '+', so only the first two '+' separate fields.
 */
static int
split_key(const char *p, size_t len, size_t *name_len,
    uint8_t id[KT_KEY_ID_LEN], const char **b64, size_t *b64_len)
{
	const char *plus1, *plus2;

	plus1 = memchr(p, '+', len);
	if (plus1 == NULL)
		return 0;
	plus2 = memchr(plus1 + 1, '+', len - (size_t)(plus1 + 1 - p));
	if (plus2 == NULL)
		return 0;
	*name_len = (size_t)(plus1 - p);
	if (!kt_key_name_valid(p, *name_len))
		return 0;
	if (!parse_hex_id(plus1 + 1, (size_t)(plus2 - plus1 - 1), id))
		return 0;
	*b64 = plus2 + 1;
	*b64_len = len - (size_t)(plus2 + 1 - p);
	return 1;
}

/* A key string may arrive with the newline of the file it was read from. */
static size_t
chomp(const char *text, size_t len)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	return len;
}

kt_err
kt_signer_parse(const char *text, size_t len, struct kt_signer **out)
{
	uint8_t key[1 + KT_SEED_LEN];
	uint8_t id[KT_KEY_ID_LEN];
	const char *b64;
	size_t name_len, b64_len, key_len = 0;
	kt_err err = KT_ERR_MALFORMED;

	*out = NULL;
	if (text == NULL)
		return KT_ERR_MALFORMED;
	len = chomp(text, len);
	if (len >= KT_KEY_TEXT_MAX)
		return KT_ERR_TOO_LARGE;
	if (len < PRIV_PREFIX_LEN || memcmp(text, priv_prefix, PRIV_PREFIX_LEN))
		return KT_ERR_MALFORMED;
	text += PRIV_PREFIX_LEN;
	len -= PRIV_PREFIX_LEN;
	if (!split_key(text, len, &name_len, id, &b64, &b64_len))
		return KT_ERR_MALFORMED;
	if (kt_b64_decode(b64, b64_len, key, sizeof(key), &key_len) != KT_OK ||
	    key_len != sizeof(key) || !kt_key_sig_type_valid(key[0]))
		goto out;
	err = signer_new(text, name_len, key[0], key + 1, out);
	if (err != KT_OK)
		goto out;
	/* The ID names the public key: it can only be checked once derived. */
	if (sodium_memcmp((*out)->id, id, KT_KEY_ID_LEN) != 0) {
		kt_signer_free(*out);
		*out = NULL;
		err = KT_ERR_MALFORMED;
	}
out:
	sodium_memzero(key, sizeof(key));
	return err;
}

kt_err
kt_signer_format(const struct kt_signer *s, char *buf, size_t cap)
{
	uint8_t key[1 + KT_SEED_LEN];
	char hex[2 * KT_KEY_ID_LEN + 1];
	char b64[64];
	int n;

	if (cap > 0)
		buf[0] = '\0';
	key[0] = s->type;
	/* libsodium's secret key is seed || public key. */
	memcpy(key + 1, s->sk, KT_SEED_LEN);
	sodium_bin2hex(hex, sizeof(hex), s->id, KT_KEY_ID_LEN);
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(buf, cap, "%s%s+%s+%s", priv_prefix, s->name, hex, b64);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(b64, sizeof(b64));
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			sodium_memzero(buf, cap);
		return KT_ERR_TOO_LARGE;
	}
	return KT_OK;
}

kt_err
kt_verifier_parse(const char *text, size_t len, struct kt_verifier *out)
{
	uint8_t key[1 + KT_PUBKEY_LEN];
	uint8_t id[KT_KEY_ID_LEN], want[KT_KEY_ID_LEN];
	const char *b64;
	size_t name_len, b64_len, key_len = 0;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return KT_ERR_MALFORMED;
	len = chomp(text, len);
	if (len >= KT_KEY_TEXT_MAX)
		return KT_ERR_TOO_LARGE;
	if (!split_key(text, len, &name_len, id, &b64, &b64_len))
		return KT_ERR_MALFORMED;
	if (kt_b64_decode(b64, b64_len, key, sizeof(key), &key_len) != KT_OK ||
	    key_len != sizeof(key) || !kt_key_sig_type_valid(key[0]))
		return KT_ERR_MALFORMED;
	key_id(text, name_len, key[0], key + 1, want);
	if (sodium_memcmp(id, want, KT_KEY_ID_LEN) != 0)
		return KT_ERR_MALFORMED;
	memcpy(out->name, text, name_len);
	out->name[name_len] = '\0';
	out->type = key[0];
	memcpy(out->id, id, KT_KEY_ID_LEN);
	memcpy(out->pub, key + 1, KT_PUBKEY_LEN);
	return KT_OK;
}

kt_err
kt_verifier_format(const struct kt_verifier *v, char *buf, size_t cap)
{
	uint8_t key[1 + KT_PUBKEY_LEN];
	char hex[2 * KT_KEY_ID_LEN + 1];
	char b64[64];
	size_t name_len = strnlen(v->name, sizeof(v->name));
	int n;

	if (cap > 0)
		buf[0] = '\0';
	if (!kt_key_name_valid(v->name, name_len) ||
	    !kt_key_sig_type_valid(v->type))
		return KT_ERR_MALFORMED;
	key[0] = v->type;
	memcpy(key + 1, v->pub, KT_PUBKEY_LEN);
	sodium_bin2hex(hex, sizeof(hex), v->id, KT_KEY_ID_LEN);
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(buf, cap, "%s+%s+%s", v->name, hex, b64);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return KT_ERR_TOO_LARGE;
	}
	return KT_OK;
}
