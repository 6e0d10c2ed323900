/*
 * kt/label.h: the one canonical form of a label, the bytes the log's VRF
 * hashes. A label is an e-mail address, an E.164 phone number or an account
 * identifier; its kind follows from its syntax alone (first byte '+': phone;
 * else an '@': e-mail; else: account), so the kinds are disjoint.
 *
 * The rule is defined byte by byte in proto/README.md ("Labels") and pinned
 * by tests/proto/vectors/labels.txt. It can never change for a deployed log:
 * a changed rule moves labels to other VRF indexes, which is a new log.
 *
 * Every canonical label is printable ASCII: phones and account identifiers
 * are ASCII by rule, e-mail local parts must be ASCII, and an e-mail domain
 * is kept in its A-label form (xn--...). Unicode enters only through e-mail
 * domains, which go through IDNA2008 and UTS #46 (libidn2 and ICU, both of
 * which must agree), then through the UTS #39 spoof checks (ICU).
 *
 * Pure computation (libidn2, ICU). Every function here is thread-safe: it
 * keeps no state between calls (ICU objects are made per call; that costs
 * under 1 µs, see proto/README.md).
 */
#ifndef KT_LABEL_H
#define KT_LABEL_H

#include <stddef.h>

#include "kt/err.h"

enum kt_label_kind {
	KT_LABEL_EMAIL = 1,
	KT_LABEL_PHONE = 2,
	KT_LABEL_ACCOUNT = 3,
};

/* The longest input looked at; longer is KT_ERR_TOO_LARGE. */
#define KT_LABEL_INPUT_MAX 1024
/* Room for any canonical label (the longest is a 254-byte e-mail). */
#define KT_CANON_MAX 255
/* The longest label a commitment can hold (its length is one byte,
 * proto/README.md "Commitments"); kt-logd's max_label may set less. */
#define KT_LABEL_MAX 255
/*
 * The Unicode version kt's rule is pinned to: a code point unassigned in
 * it is refused, whatever a newer library knows, so that a newer build can
 * never accept a label an older one refused. 12.0 is the version of
 * libidn2 2.3.3's IDNA2008 tables (IANA idna-tables-12.0.0).
 */
#define KT_LABEL_UNICODE_MAJOR 12
#define KT_LABEL_UNICODE_MINOR 0
/* Room for any skeleton of a canonical label (see kt_label_skeleton). */
#define KT_LABEL_SKELETON_MAX 4096

/*
 * Canonicalises the len bytes at in (untrusted; in may be NULL when len is
 * 0). On KT_OK, out holds the canonical label, NUL-terminated, *out_len
 * its length without the NUL (1..254), and *kind its kind.
 *
 * Errors, each with *why set to a static English sentence that names the
 * rule broken (e.g. "e-mail domain mixes scripts (UTS #39 highly
 * restrictive)"), fit for an HTTP 400 body:
 *   KT_ERR_TOO_LARGE  len > KT_LABEL_INPUT_MAX;
 *   KT_ERR_MALFORMED  any rule of proto/README.md "Labels" is broken;
 *   KT_ERR_NOMEM      libidn2 or ICU could not allocate;
 *   KT_ERR_INTERNAL   ICU's data is missing, or the libidn2 loaded at run
 *                     time is older than 2.3.3: a broken installation, not
 *                     a label.
 * On KT_OK *why is NULL. On any error out is "" and *out_len 0; *kind is
 * left alone. kind and why may be NULL; out and out_len may not.
 */
KT_MUST_CHECK kt_err kt_label_canonical(const char *in, size_t len,
    char out[KT_CANON_MAX + 1], size_t *out_len, enum kt_label_kind *kind,
    const char **why);

/*
 * 1 if the len bytes at label are a canonical label (kt_label_canonical
 * accepts them and gives them back byte for byte), 0 otherwise, also when
 * canonicalising fails for want of memory.
 */
int kt_label_is_canonical(const char *label, size_t len);

/* "email", "phone" or "account"; "unknown" for any other value. */
const char *kt_label_kind_name(enum kt_label_kind k);

/*
 * The UTS #39 skeleton of a canonical label, for a server that refuses a
 * new label confusable with one it already holds (two labels are
 * confusable when their skeletons are equal). It is the skeleton of the
 * label as a person sees it: an e-mail address with its domain's A-labels
 * decoded to Unicode. A phone number is its own skeleton. Not part of the
 * VRF input, and not stable across ICU versions (UTS #39's confusable data
 * grows): a server that stores skeletons recomputes them all when ICU
 * changes.
 *
 * On KT_OK, out holds the skeleton (UTF-8, NUL-terminated, *out_len bytes).
 * KT_ERR_MALFORMED if label is not canonical (kt_label_is_canonical),
 * KT_ERR_TOO_LARGE if the skeleton exceeds KT_LABEL_SKELETON_MAX bytes (a
 * bound about four times the longest Unicode form of a canonical label;
 * not expected for any), KT_ERR_NOMEM, KT_ERR_INTERNAL as above. On error
 * out is "" and *out_len 0.
 */
KT_MUST_CHECK kt_err kt_label_skeleton(const char *label, size_t len,
    char out[KT_LABEL_SKELETON_MAX + 1], size_t *out_len);

#endif /* KT_LABEL_H */
