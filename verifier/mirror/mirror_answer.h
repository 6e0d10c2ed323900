/*
 * mirror_answer.h: the JSON answers of kt-mirror beyond tlog-tiles: a kt
 * log's map path, GET /<hex>/v1/map/<index>, in kt-logd's format
 * (docs/api.md), so kt-verify monitor reads it from a mirror as from the
 * log. No HTTP here: mirror_http.c sends what this builds.
 */
#ifndef KT_MIRROR_ANSWER_H
#define KT_MIRROR_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"
#include "mirror_store.h"

/*
 * The answer for map index `hex` (64 lowercase hex digits, untrusted) of
 * log oh at the mirror checkpoint; size_param (NULL if absent) is the
 * request's checkpoint_size, which must be the mirror checkpoint's size.
 * *body (malloc'd, *len bytes) is {"map_index", "checkpoint_size",
 * "head": {"index", "entry", "proof": {"index", "size", "hashes"}},
 * "present", ["version", "update_index",] "map_proof", "checkpoint"}.
 * KT_ERR_MALFORMED (a bad index or size: 400), KT_ERR_NOT_FOUND (no map
 * of that log here, or another size: 404), KT_ERR_NOMEM, store errors;
 * `detail` says which.
 */
KT_MUST_CHECK kt_err kt_mirror_map_answer(struct kt_mstore *st,
    const uint8_t oh[KT_HASH_LEN], const char *hex, const char *size_param,
    char **body, size_t *len, char *detail, size_t cap);

#endif /* KT_MIRROR_ANSWER_H */
