/*
 * kt/commit.h: value commitments. An update leaf in the log carries a
 * commitment C to (label, version, value) instead of the label and key
 * themselves; the server keeps the random opening and reveals it with a
 * lookup answer, so the log's tiles and entry bundles show no label and no
 * key. Byte by byte, with the security argument, in proto/README.md
 * ("Commitments").
 *
 *   C = SHA-256(0x05 || opening (32) || u8 L || label (L) || be64 version
 *               || u8 kind || u8 T || key_type (T) || be16 K || key (K))
 *
 * 0x05 is the commitment's domain-separation byte (the table in the README
 * lists every such byte in kt). A revocation commits to T = K = 0.
 *
 * Pure code: the caller draws the opening (32 uniformly random bytes, e.g.
 * randombytes_buf) and keeps it secret until it is revealed; nothing here
 * allocates or keeps a copy.
 */
#ifndef KT_COMMIT_H
#define KT_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"

#define KT_OPENING_LEN 32

/* The value kinds: a key binding, or the revocation of the label's key. */
#define KT_VALUE_KEY 1
#define KT_VALUE_REVOKE 2

/* Bounds on a key binding's key type and key (kt_key_check). */
#define KT_KEY_TYPE_MAX 16
#define KT_KEY_MAX 4096

/*
 * A committed value. Pointers borrow from the caller for the duration of
 * the call. KT_VALUE_KEY: key_type and key obey kt_key_check.
 * KT_VALUE_REVOKE: key_type_len and key_len are 0 (the pointers are not
 * read).
 */
struct kt_value {
	uint8_t kind;
	const char *key_type;
	size_t key_type_len;
	const uint8_t *key;
	size_t key_len;
};

/*
 * Computes the commitment to (label, version, *v) under opening into *out.
 * label is the canonical label, 1..KT_LABEL_MAX bytes, hashed exactly as
 * given (it is neither checked as UTF-8 nor re-canonicalised here).
 * version >= 1; a KT_VALUE_REVOKE value needs version >= 2.
 * KT_OK, or KT_ERR_MALFORMED (and *out untouched) if any pointer is NULL,
 * the label length is out of range, the version or kind is invalid, or the
 * value breaks the rules above.
 */
KT_MUST_CHECK kt_err kt_commit(const uint8_t opening[KT_OPENING_LEN],
    const char *label, size_t label_len, uint64_t version,
    const struct kt_value *v, struct kt_hash *out);

/*
 * Recomputes the commitment and compares it with *c in constant time
 * (kt_hash_eq). KT_OK if they are equal, KT_ERR_VERIFY if not (it says
 * only "no", never which field differs), KT_ERR_MALFORMED for inputs
 * kt_commit refuses or c NULL.
 */
KT_MUST_CHECK kt_err kt_commit_verify(const uint8_t opening[KT_OPENING_LEN],
    const char *label, size_t label_len, uint64_t version,
    const struct kt_value *v, const struct kt_hash *c);

/* 1 if key_type is valid: 1..KT_KEY_TYPE_MAX bytes of [a-z0-9-]. */
int kt_key_type_valid(const char *key_type, size_t len);

/*
 * Checks a key against its type: ed25519 and x25519 need 32 bytes, p256 65
 * bytes starting 0x04 (uncompressed SEC1, 0x04 || X || Y); other types
 * 1..KT_KEY_MAX opaque bytes. KT_OK, or KT_ERR_MALFORMED for an invalid
 * key type, key NULL, or a key breaking its type's rule.
 */
KT_MUST_CHECK kt_err kt_key_check(const char *key_type, size_t type_len,
    const uint8_t *key, size_t key_len);

#endif /* KT_COMMIT_H */
