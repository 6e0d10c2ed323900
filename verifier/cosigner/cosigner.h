/*
 * cosigner.h: the cosigner key that kt-witness and kt-mirror share: making
 * one (keygen), loading it for serving, and cosigning a signed checkpoint
 * (C2SP tlog-cosignature, Ed25519, key type 0x04).
 *
 * The secret lives in sodium_malloc'd memory (struct kt_signer, proto's
 * key.c) and every buffer that held its text form is wiped. Nothing here
 * prints or exits: errors come back as kt_err with a sentence in `detail`
 * that the caller prints after its program's name.
 */
#ifndef KT_COSIGNER_H
#define KT_COSIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/note.h"

/*
 * Makes a new cosignature key named `name` from fresh random bytes and
 * writes its signer string (PRIVATE+KEY+..., then a newline) to `path`,
 * which must not exist (O_EXCL, created with mode 0600, fsync'd). The
 * verifier key string goes to vkey (NUL-terminated).
 *
 * KT_ERR_MALFORMED: not a valid key name (non-empty, no spaces or '+').
 * KT_ERR_IO: the file could not be created or written (an existing file
 * is never touched; a half-written one is removed). KT_ERR_NOMEM.
 * `detail` (cap bytes) says what failed, naming the file.
 */
KT_MUST_CHECK kt_err kt_cosigner_keygen(const char *name, const char *path,
    char vkey[KT_KEY_TEXT_MAX], char *detail, size_t cap);

/*
 * Reads the signer key file at `path`, refusing a file that is not a
 * regular file, or that group or others may access (a key others can read
 * is not secret any more), and parses it. *out is freed with
 * kt_signer_free. The key may be of either type: callers that need a
 * cosignature key check kt_signer_verifier's type.
 *
 * KT_ERR_IO (cannot open or read), KT_ERR_PERM (mode too open),
 * KT_ERR_MALFORMED (not a PRIVATE+KEY string), KT_ERR_NOMEM; *out is NULL
 * on error and `detail` says why, naming the file.
 */
KT_MUST_CHECK kt_err kt_cosigner_load(const char *path, struct kt_signer **out,
    char *detail, size_t cap);

/*
 * Cosigns the signed checkpoint note[0..len) at time `now` (seconds since
 * the epoch) with the KT_KEY_COSIG signer s: writes the note with s's
 * cosignature line appended into buf (NUL-terminated; *out_len gets its
 * length). The note must parse as a signed note (its signatures are not
 * checked here: the caller verified them); a line already there by s
 * (same name and key ID) is dropped, so cosigning again replaces it.
 *
 * KT_ERR_MALFORMED (not a signed note, or s is not a cosignature key),
 * KT_ERR_TOO_LARGE (buf too small), KT_ERR_NOMEM.
 */
KT_MUST_CHECK kt_err kt_cosigner_cosign_note(const struct kt_signer *s,
    const char *note, size_t len, uint64_t now, char *buf, size_t cap,
    size_t *out_len);

#endif /* KT_COSIGNER_H */
