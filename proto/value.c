/*
 * value.c: the rules on the values that commitments hide (kt/commit.h):
 * key types and the keys they name. The byte layout that carries them is
 * in proto/README.md ("Commitments").
 */
#include <string.h>

#include "kt/commit.h"

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
