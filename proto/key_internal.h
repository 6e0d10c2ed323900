/*
 * key_internal.h: what note.c and cosig.c need from key.c beyond the public
 * kt/note.h. Private to proto/: not part of the public contract.
 */
#ifndef KT_KEY_INTERNAL_H
#define KT_KEY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kt/note.h"

/*
 * 1 when type is a signature key type kt knows: KT_KEY_ED25519 or
 * KT_KEY_COSIG (not to be confused with kt_key_type_valid, the key types of
 * log entries).
 */
int kt_key_sig_type_valid(uint8_t type);

/* Ed25519 signature of msg with s's secret key, whatever s's type. */
void kt_signer_sign_raw(const struct kt_signer *s, const uint8_t *msg,
    size_t len, uint8_t sig[KT_SIG_LEN]);

#endif /* KT_KEY_INTERNAL_H */
