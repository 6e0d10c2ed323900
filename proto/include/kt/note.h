/*
 * kt/note.h: C2SP signed-note keys and notes, and C2SP tlog-cosignature.
 *
 * Keys are Ed25519 (libsodium). A verifier key is a small value type; a signer
 * keeps its secret in sodium_malloc'd memory (guarded, locked, wiped on free).
 *
 * Key ID = SHA-256(name || 0x0A || type || public key)[:4], where type is
 * KT_KEY_ED25519 (0x01, plain note signatures) or KT_KEY_COSIG (0x04,
 * timestamped cosignatures, C2SP tlog-cosignature).
 *
 * Text formats:
 *   verifier key:  name+<8 hex key ID>+base64(type || 32-byte public key)
 *   signer key:    PRIVATE+KEY+name+<8 hex key ID>+base64(type || 32-byte seed)
 * (For type 0x01 these are the Go golang.org/x/mod/sumdb/note formats.)
 */
#ifndef KT_NOTE_H
#define KT_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"

#define KT_KEY_ED25519 0x01
#define KT_KEY_COSIG 0x04

#define KT_KEY_NAME_MAX 255 /* bytes in a key name (and a log origin) */
#define KT_KEY_ID_LEN 4
#define KT_PUBKEY_LEN 32
#define KT_SEED_LEN 32
#define KT_SIG_LEN 64
#define KT_COSIG_LEN 76     /* key ID (4) || timestamp (8) || signature (64) */
#define KT_KEY_TEXT_MAX 400 /* any key string, with its NUL */

#define KT_NOTE_MAX 65536   /* bytes in a whole note (text + signatures) */
#define KT_NOTE_MAX_SIGS 64 /* signature lines accepted (spec: at least 16) */
#define KT_NOTE_SIG_B64_MAX \
	4096 /* base64 bytes in one signature (unknown types) */

struct kt_verifier {
	char name[KT_KEY_NAME_MAX + 1]; /* NUL-terminated */
	uint8_t type;                   /* KT_KEY_ED25519 or KT_KEY_COSIG */
	uint8_t id[KT_KEY_ID_LEN];
	uint8_t pub[KT_PUBKEY_LEN];
};

struct kt_signer; /* opaque: name, type, key ID, public key, guarded secret */

/* ---- keys --------------------------------------------------------------- */

/*
 * A key name is valid when non-empty, at most KT_KEY_NAME_MAX bytes, UTF-8
 * without spaces, '+' or control characters.
 */
int kt_key_name_valid(const char *name, size_t len);

/*
 * Makes a signer from a 32-byte seed (the caller draws it from
 * randombytes_buf; proto has no randomness of its own). type is
 * KT_KEY_ED25519 or KT_KEY_COSIG. KT_ERR_MALFORMED for a bad name or type,
 * KT_ERR_NOMEM. On error *out is NULL. Free with kt_signer_free.
 */
KT_MUST_CHECK kt_err kt_signer_from_seed(const char *name, uint8_t type,
    const uint8_t seed[KT_SEED_LEN], struct kt_signer **out);

/*
 * Parses a PRIVATE+KEY+... string (no trailing newline, or one). The hex ID
 * must be 8 lowercase digits equal to the ID of the derived public key, the
 * base64 canonical, the type byte 0x01 or 0x04. KT_ERR_MALFORMED,
 * KT_ERR_TOO_LARGE (KT_KEY_TEXT_MAX or more bytes), KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_signer_parse(const char *text, size_t len,
    struct kt_signer **out);

/* Formats the PRIVATE+KEY+... string (secret!) NUL-terminated into buf.
 * KT_ERR_TOO_LARGE if it does not fit (buf is then wiped). */
KT_MUST_CHECK kt_err kt_signer_format(const struct kt_signer *s, char *buf,
    size_t cap);

/* Frees and wipes. Accepts NULL. */
void kt_signer_free(struct kt_signer *s);

/* The public half of s. */
void kt_signer_verifier(const struct kt_signer *s, struct kt_verifier *out);

/* The signer's name (valid while s lives). */
const char *kt_signer_name(const struct kt_signer *s);

/* Parses a verifier key string (no trailing newline, or one); checks that
 * the hex ID (8 lowercase digits) matches the key and that the type byte is
 * 0x01 or 0x04. KT_ERR_MALFORMED or KT_ERR_TOO_LARGE. */
KT_MUST_CHECK kt_err kt_verifier_parse(const char *text, size_t len,
    struct kt_verifier *out);

/* Formats the verifier key string NUL-terminated into buf. */
KT_MUST_CHECK kt_err kt_verifier_format(const struct kt_verifier *v, char *buf,
    size_t cap);

/* ---- notes -------------------------------------------------------------- */

struct kt_note_sig {
	const char
	    *name; /* points into the parsed buffer, not NUL-terminated */
	size_t name_len;
	const char *b64; /* the base64 signature field, not decoded */
	size_t b64_len;
	uint8_t id[KT_KEY_ID_LEN]; /* the first 4 decoded bytes */
};

struct kt_note {
	const char *text; /* the signed text, including its final newline */
	size_t text_len;
	size_t nsigs;
	struct kt_note_sig sigs[KT_NOTE_MAX_SIGS];
};

/*
 * Parses a signed note strictly (C2SP signed-note): valid UTF-8, no control
 * characters but '\n', text non-empty and newline-terminated, then exactly
 * one blank line, then 1..KT_NOTE_MAX_SIGS lines "— <name> <base64>\n" (em
 * dash U+2014, single spaces, valid key name, base64 that decodes to more
 * than 4 bytes), the whole at most KT_NOTE_MAX bytes and ending in '\n'.
 * Pointers in *out borrow from buf. KT_ERR_MALFORMED or KT_ERR_TOO_LARGE
 * (over KT_NOTE_MAX bytes, over KT_NOTE_MAX_SIGS signature lines, or a
 * base64 field over KT_NOTE_SIG_B64_MAX bytes). Base64 must be canonical
 * standard padded base64.
 */
KT_MUST_CHECK kt_err kt_note_parse(const char *buf, size_t len,
    struct kt_note *out);

/*
 * Verifies a parsed note against known keys vs[0..nv). A signature line is
 * "known" when its name and key ID match a verifier. For each known line the
 * signature is checked: Ed25519 over the text for KT_KEY_ED25519, the
 * tlog-cosignature message for KT_KEY_COSIG. ok[i] (if ok != NULL) is set to
 * 1 when vs[i] signed validly, else 0; times[i] (if non-NULL) gets the
 * cosignature timestamp for KT_KEY_COSIG keys that signed, else 0.
 *
 * KT_ERR_VERIFY if any known key's signature is invalid (bad length or bad
 * signature); KT_ERR_UNKNOWN_KEY if no known key signed; else KT_OK.
 * Unknown signature lines are ignored.
 */
KT_MUST_CHECK kt_err kt_note_verify(const struct kt_note *note,
    const struct kt_verifier *vs, size_t nv, uint8_t *ok, uint64_t *times);

/* kt_note_parse then kt_note_verify. */
KT_MUST_CHECK kt_err kt_note_open(const char *buf, size_t len,
    const struct kt_verifier *vs, size_t nv, struct kt_note *out, uint8_t *ok,
    uint64_t *times);

/*
 * Signs `text` (which must be valid note text: non-empty, newline-terminated,
 * no control characters) with a KT_KEY_ED25519 signer and writes the whole
 * note (text, blank line, one signature line) into buf, NUL-terminated;
 * *out_len (if non-NULL) gets its length without the NUL.
 * KT_ERR_MALFORMED for bad text or a signer of the wrong type,
 * KT_ERR_TOO_LARGE if buf is too small.
 */
KT_MUST_CHECK kt_err kt_note_sign(const struct kt_signer *s, const char *text,
    size_t text_len, char *buf, size_t cap, size_t *out_len);

/*
 * Formats one signature line "— <name> <base64(id || sig)>\n" for signature
 * bytes sig (sig_len bytes, without the key ID), NUL-terminated into buf.
 */
KT_MUST_CHECK kt_err kt_note_sig_line(const char *name,
    const uint8_t id[KT_KEY_ID_LEN], const uint8_t *sig, size_t sig_len,
    char *buf, size_t cap, size_t *out_len);

/* ---- cosignatures (C2SP tlog-cosignature) ------------------------------- */

/*
 * Cosigns a checkpoint's text (the note text only, no signature lines) at
 * `timestamp` (seconds since the epoch) with a KT_KEY_COSIG signer: signs
 * "cosignature/v1\ntime <timestamp>\n" || text and writes the signature line
 * "— <name> <base64(id || timestamp_be64 || sig)>\n" NUL-terminated into buf.
 * KT_ERR_MALFORMED for bad text or a signer that is not KT_KEY_COSIG,
 * KT_ERR_TOO_LARGE, KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_cosig_sign(const struct kt_signer *s, const char *text,
    size_t text_len, uint64_t timestamp, char *buf, size_t cap,
    size_t *out_len);

/*
 * Verifies a decoded 76-byte cosignature (id || time || sig) by v (type
 * KT_KEY_COSIG) over text. *timestamp (if non-NULL) gets the signed time on
 * success, else 0. KT_ERR_VERIFY (wrong key type or ID, bad signature),
 * KT_ERR_TOO_LARGE (text over KT_NOTE_MAX), KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_cosig_verify(const struct kt_verifier *v,
    const char *text, size_t text_len, const uint8_t sig[KT_COSIG_LEN],
    uint64_t *timestamp);

#endif /* KT_NOTE_H */
