/*
 * kt/tlogproof.h: C2SP tlog-proof, a self-contained offline inclusion proof.
 *
 *   c2sp.org/tlog-proof@v1\n
 *   [extra <base64>\n]          kt puts a lookup proof here (kt/lookup.h)
 *   index <N>\n
 *   <base64 hash>\n ...         the inclusion proof, RFC order (0..63 lines)
 *   \n
 *   <signed checkpoint note>    with any cosignatures
 */
#ifndef KT_TLOGPROOF_H
#define KT_TLOGPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"
#include "kt/note.h"

/* The largest extra line kt reads or writes: a lookup proof (kt/lookup.h). */
#define KT_TLOGPROOF_EXTRA_MAX 20480
#define KT_TLOGPROOF_MAX (KT_NOTE_MAX + 32768)

struct kt_tlogproof {
	size_t extra_len; /* 0 when there is no extra line */
	uint8_t extra[KT_TLOGPROOF_EXTRA_MAX];
	uint64_t index;
	struct kt_proof proof;
	const char *note; /* borrows from the parsed buffer */
	size_t note_len;
};

/*
 * Formats a tlog-proof into buf, NUL-terminated. extra may be NULL (or
 * extra_len 0): no extra line. KT_ERR_MALFORMED for proof->n > 63 or an
 * empty note, KT_ERR_TOO_LARGE for extra_len >
 * KT_TLOGPROOF_EXTRA_MAX, note_len >
 * KT_NOTE_MAX or a buf too small.
 */
KT_MUST_CHECK kt_err kt_tlogproof_format(const uint8_t *extra, size_t extra_len,
    uint64_t index, const struct kt_proof *proof, const char *note,
    size_t note_len, char *buf, size_t cap, size_t *out_len);

/* Parses strictly (the note itself is not parsed: use kt_note_open on
 * out->note). Canonical padded base64; an extra line decodes to
 * 1..KT_TLOGPROOF_EXTRA_MAX bytes; at most 63 hash lines; the note is non-empty.
 * KT_ERR_MALFORMED, or KT_ERR_TOO_LARGE (input over KT_TLOGPROOF_MAX, extra
 * over KT_TLOGPROOF_EXTRA_MAX, 64+ hash lines, note over KT_NOTE_MAX). */
KT_MUST_CHECK kt_err kt_tlogproof_parse(const char *buf, size_t len,
    struct kt_tlogproof *out);

#endif /* KT_TLOGPROOF_H */
