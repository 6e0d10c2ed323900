/*
 * keyfile.h: the log's two secrets, each in its own file.
 *
 *   KEYFILE      the signed-note signer key, one line
 *                "PRIVATE+KEY+<origin>+<id>+<base64>" (any signed-note tool
 *                reads it as it is)
 *   KEYFILE.vrf  the VRF key (c2sp.org/vrf-r255), one line
 *                "PRIVATE+VRF-R255+<origin>+<base64 of the 32-byte SK>"
 *
 * kt-logd keygen writes both; kt-logd serve --key KEYFILE finds the VRF
 * key by that rule. Both are created with mode 0600 and never overwritten,
 * and loaded only when no group or other permission bit is set. Secrets
 * live in sodium_malloc'd memory and are wiped after use; never logged.
 */
#ifndef KT_LOGSERVER_KEYFILE_H
#define KT_LOGSERVER_KEYFILE_H

#include <stddef.h>

#include "kt/err.h"
#include "kt/note.h"
#include "kt/vrf.h"

#define KT_VRF_KEYFILE_SUFFIX ".vrf"
/* base64 of the 32-byte VRF public key, and its NUL */
#define KT_VRF_PUBLIC_B64_LEN 45

/*
 * Generates a new Ed25519 signer and a new VRF key for `origin` and writes
 * them to `path` and path + ".vrf" (O_CREAT|O_EXCL, mode 0600, fsynced;
 * both or neither). The verifier key string goes NUL-terminated into vkey,
 * the VRF public key in base64 into vrf_pub. KT_ERR_EXISTS if either file
 * exists, KT_ERR_MALFORMED for a bad origin, KT_ERR_IO; err gets a message.
 */
KT_MUST_CHECK kt_err kt_keyfile_generate(const char *origin, const char *path,
    char vkey[KT_KEY_TEXT_MAX], char vrf_pub[KT_VRF_PUBLIC_B64_LEN], char *err,
    size_t errlen);

/* out = path + ".vrf"; KT_ERR_TOO_LARGE if it does not fit. */
KT_MUST_CHECK kt_err kt_keyfile_vrf_path(const char *path, char *out,
    size_t cap);

/*
 * Loads the signer key from path. KT_ERR_PERM if the file is not a regular
 * file or is accessible by group or others, KT_ERR_MALFORMED if it does not
 * hold a valid signer key, KT_ERR_NOT_FOUND, KT_ERR_IO. Free *out with
 * kt_signer_free.
 */
KT_MUST_CHECK kt_err kt_keyfile_load(const char *path, struct kt_signer **out,
    char *err, size_t errlen);

/*
 * Loads the VRF key beside the signer key at path (path + ".vrf"), which
 * must name `origin`. Errors as kt_keyfile_load; KT_ERR_NOT_FOUND says the
 * log has no VRF key (a log made before kt had one: make a new log). Free
 * *out with kt_vrf_key_free.
 */
KT_MUST_CHECK kt_err kt_keyfile_load_vrf(const char *path, const char *origin,
    struct kt_vrf_key **out, char *err, size_t errlen);

#endif /* KT_LOGSERVER_KEYFILE_H */
