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

#define KT_CHECKPOINT_EXT_MAX 1024   /* bytes of extension lines kept */
#define KT_CHECKPOINT_TEXT_MAX 2048  /* a formatted checkpoint body */

struct kt_checkpoint {
	char origin[KT_KEY_NAME_MAX + 1]; /* NUL-terminated */
	uint64_t size;
	struct kt_hash root;
	size_t ext_len;                    /* extension lines, each with '\n' */
	char ext[KT_CHECKPOINT_EXT_MAX];   /* not NUL-terminated */
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

#endif /* KT_CHECKPOINT_H */
