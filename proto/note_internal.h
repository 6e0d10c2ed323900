/*
 * note_internal.h: the signing primitive cosig.c shares with note.c.
 * Private to proto/: not part of the public contract. Defined in note.c.
 */
#ifndef KT_NOTE_INTERNAL_H
#define KT_NOTE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kt/note.h"

/* Ed25519 signature of msg with s's secret key, whatever s's type. */
void kt_signer_sign_raw(const struct kt_signer *s, const uint8_t *msg,
    size_t len, uint8_t sig[KT_SIG_LEN]);

#endif /* KT_NOTE_INTERNAL_H */
