/*
 * keyfile.h: the log's signer key file. It holds one line, the signed-note
 * signer key "PRIVATE+KEY+<origin>+<id>+<base64>". Created with mode 0600
 * and never overwritten; loaded only when no group or other permission bit
 * is set. The secret lives in sodium_malloc'd memory and is wiped after
 * use; it is never logged.
 */
#ifndef KT_LOGSERVER_KEYFILE_H
#define KT_LOGSERVER_KEYFILE_H

#include <stddef.h>

#include "kt/err.h"
#include "kt/note.h"

/*
 * Generates a new Ed25519 signer for `origin` from randombytes_buf and
 * writes it to `path` (O_CREAT|O_EXCL, mode 0600, fsynced). The verifier
 * key string goes NUL-terminated into vkey (KT_KEY_TEXT_MAX bytes).
 * KT_ERR_EXISTS if path exists, KT_ERR_MALFORMED for a bad origin,
 * KT_ERR_IO; err gets a message.
 */
KT_MUST_CHECK kt_err kt_keyfile_generate(const char *origin, const char *path,
    char vkey[KT_KEY_TEXT_MAX], char *err, size_t errlen);

/*
 * Loads the signer key from path. KT_ERR_PERM if the file is not a regular
 * file or is accessible by group or others, KT_ERR_MALFORMED if it does not
 * hold a valid signer key, KT_ERR_NOT_FOUND, KT_ERR_IO. Free *out with
 * kt_signer_free.
 */
KT_MUST_CHECK kt_err kt_keyfile_load(const char *path, struct kt_signer **out,
    char *err, size_t errlen);

#endif /* KT_LOGSERVER_KEYFILE_H */
