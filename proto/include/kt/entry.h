/*
 * kt/entry.h: the kt log entry (leaf) format. Canonical binary, big-endian,
 * every variable field length-prefixed; byte-by-byte in proto/README.md.
 *
 *   u8  leaf type            1 = key binding, 2 = revocation
 *   u64 timestamp_ms         sequencer time, ms since the Unix epoch
 *   u8  label_len (1..255)   then label: UTF-8, no control characters
 *   u64 version              1 for a label's first entry, +1 per entry
 *   u64 prev_index           leaf index of the label's previous version,
 *                            0xffffffffffffffff (KT_NO_PREV) iff version == 1
 *   type 1 only:
 *   u8  key_type_len (1..16) then key_type: [a-z0-9-], e.g. "ed25519"
 *   u16 key_len (1..4096)    then the key bytes; 32 for ed25519 and x25519,
 *                            65 for p256 (uncompressed SEC1, 0x04 || X || Y)
 *
 * A revocation has version >= 2 (it revokes an existing version).
 */
#ifndef KT_ENTRY_H
#define KT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"

#define KT_ENTRY_KEY 1
#define KT_ENTRY_REVOKE 2

#define KT_LABEL_MAX 255
#define KT_KEY_TYPE_MAX 16
#define KT_KEY_MAX 4096
#define KT_NO_PREV UINT64_MAX
/* 1 + 8 + 1 + 255 + 8 + 8 + 1 + 16 + 2 + 4096 */
#define KT_ENTRY_MAX 4396

/*
 * A decoded entry. Pointer fields borrow: from the buffer given to
 * kt_entry_decode (valid while it is), or from the caller for encode.
 */
struct kt_entry {
	uint8_t type;
	uint64_t timestamp_ms;
	const char *label;
	size_t label_len;
	uint64_t version;
	uint64_t prev_index;
	const char *key_type; /* KT_ENTRY_KEY only */
	size_t key_type_len;
	const uint8_t *key; /* KT_ENTRY_KEY only */
	size_t key_len;
};

/* 1 if label (len bytes) is a valid label: 1..255 bytes of UTF-8 (no
 * overlongs, surrogates or code points past U+10FFFF), no C0/C1 controls
 * or DEL. */
int kt_label_valid(const char *label, size_t len);

/* 1 if key_type is valid: 1..16 bytes of [a-z0-9-]. */
int kt_key_type_valid(const char *key_type, size_t len);

/*
 * Checks a key against its type: ed25519 and x25519 need 32 bytes, p256 65
 * bytes starting 0x04; other types 1..KT_KEY_MAX bytes. KT_OK or
 * KT_ERR_MALFORMED.
 */
KT_MUST_CHECK kt_err kt_key_check(const char *key_type, size_t type_len,
    const uint8_t *key, size_t key_len);

/* Encoded length of e, or 0 if e is invalid. */
size_t kt_entry_encoded_len(const struct kt_entry *e);

/*
 * Encodes e canonically into buf. Validates every field as decode would.
 * KT_ERR_MALFORMED for an invalid entry, KT_ERR_TOO_LARGE if cap is short.
 * A KT_ENTRY_REVOKE entry must have key_type_len == 0 and key_len == 0.
 * out_len may be NULL. Nothing is written past buf[cap).
 */
KT_MUST_CHECK kt_err kt_entry_encode(const struct kt_entry *e, uint8_t *buf,
    size_t cap, size_t *out_len);

/*
 * Decodes exactly len bytes. KT_ERR_INCOMPLETE if buf ends inside the entry,
 * KT_ERR_MALFORMED for an unknown type, invalid field or trailing bytes.
 * Fields are checked in order, so every proper prefix of a valid entry is
 * KT_ERR_INCOMPLETE; a length byte that can never be valid is MALFORMED at
 * once. A decoded revocation has key_type and key NULL, lengths 0.
 */
KT_MUST_CHECK kt_err kt_entry_decode(const uint8_t *buf, size_t len,
    struct kt_entry *out);

#endif /* KT_ENTRY_H */
