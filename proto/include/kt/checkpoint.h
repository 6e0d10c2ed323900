/*
 * kt/checkpoint.h: C2SP tlog-checkpoint note bodies.
 *
 *   <origin>\n<tree size, decimal, no leading zeros>\n<base64 root>\n[ext\n...]
 */
#ifndef KT_CHECKPOINT_H
#define KT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"
#include "kt/note.h"

#define KT_CHECKPOINT_EXT_MAX 1024  /* bytes of extension lines kept */
#define KT_CHECKPOINT_TEXT_MAX 2048 /* a formatted checkpoint body */

struct kt_checkpoint {
	char origin[KT_KEY_NAME_MAX + 1]; /* NUL-terminated */
	uint64_t size;
	struct kt_hash root;
	size_t ext_len;                  /* extension lines, each with '\n' */
	char ext[KT_CHECKPOINT_EXT_MAX]; /* not NUL-terminated */
};

/*
 * Formats the checkpoint body into buf, NUL-terminated; *out_len (if
 * non-NULL) gets its length. KT_ERR_MALFORMED for an invalid origin or
 * extension lines, KT_ERR_TOO_LARGE if buf is too small.
 */
KT_MUST_CHECK kt_err kt_checkpoint_format(const struct kt_checkpoint *c,
    char *buf, size_t cap, size_t *out_len);

/*
 * Parses a checkpoint body strictly (the note text, e.g. kt_note.text):
 * origin a valid key name; decimal size without sign, leading zeros (but
 * "0") or overflow; root exactly 32 bytes in canonical padded base64;
 * extension lines non-empty. KT_ERR_MALFORMED or KT_ERR_TOO_LARGE.
 */
KT_MUST_CHECK kt_err kt_checkpoint_parse(const char *text, size_t len,
    struct kt_checkpoint *out);

/*
 * A checkpoint the log signed: the note exactly as received (borrowed, see
 * below) and its parsed body. This one value travels wherever a signed
 * checkpoint does, instead of a (note, length, parsed) triple.
 *
 * Only kt_signed_checkpoint_open makes one, so holding one means the log's
 * key signed cp's body and cp.origin is the key's name. note[0..note_len)
 * is borrowed: whoever fills the struct keeps those bytes alive and
 * unchanged for as long as the value is used (copy both to keep it).
 */
struct kt_signed_checkpoint {
	const char *note;
	size_t note_len;
	struct kt_checkpoint cp;
};

/*
 * Verifies that note[0..len) is a signed note carrying a valid signature of
 * the log key `log` (other signature lines, such as witness cosignatures,
 * are ignored here) and that its text is a checkpoint whose origin is the
 * key's name; fills *out, borrowing note.
 *
 * KT_ERR_MALFORMED (or KT_ERR_TOO_LARGE): not a signed note, or its text is
 * not a checkpoint. KT_ERR_UNKNOWN_KEY: no signature line of the log key.
 * KT_ERR_VERIFY: the log key's signature is invalid, or the origin is not
 * the key's name. *out is unchanged on error.
 */
KT_MUST_CHECK kt_err kt_signed_checkpoint_open(const char *note, size_t len,
    const struct kt_verifier *log, struct kt_signed_checkpoint *out);

#endif /* KT_CHECKPOINT_H */
