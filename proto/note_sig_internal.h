/*
 * note_sig_internal.h: parsing one signature line of a signed note, shared
 * by note.c. Private to proto/: not part of the public contract. Defined in
 * note_sig.c (with the public kt_note_sig_line).
 */
#ifndef KT_NOTE_SIG_INTERNAL_H
#define KT_NOTE_SIG_INTERNAL_H

#include <stddef.h>

#include "kt/err.h"
#include "kt/note.h"

/* The most bytes a signature's base64 (KT_NOTE_SIG_B64_MAX) decodes to. */
#define KT_NOTE_SIG_BIN_MAX (KT_NOTE_SIG_B64_MAX / 4 * 3)

/*
 * Parses one signature line (without its '\n'): the em dash and a space, a
 * valid key name, one space, and canonical base64 of more than
 * KT_KEY_ID_LEN bytes. *sig borrows from line. KT_ERR_MALFORMED, or
 * KT_ERR_TOO_LARGE for a base64 field over KT_NOTE_SIG_B64_MAX bytes.
 */
KT_MUST_CHECK kt_err kt_note_sig_parse(const char *line, size_t len,
    struct kt_note_sig *sig);

#endif /* KT_NOTE_SIG_INTERNAL_H */
