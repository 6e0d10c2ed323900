/*
 * kt/leaf.h: the two leaf kinds of the verifiable key directory's log.
 * Fixed-length, big-endian, no optional fields; byte by byte in
 * proto/README.md ("Update and map head leaves").
 *
 *   update (81 bytes):
 *   u8  0x03                 KT_LEAF_UPDATE
 *   32  index                the label's map index, VRF(canonical label)
 *   u64 version              1 for a label's first update, +1 per update
 *   u64 prev_index           leaf index of the label's previous update,
 *                            KT_NO_PREV iff version == 1
 *   32  commitment           kt_commit of (label, version, value)
 *
 *   map head (65 bytes):
 *   u8  0x04                 KT_LEAF_MAP_HEAD
 *   32  root                 the map's root after the updates before it
 *   u64 timestamp_ms         sequencer time, ms since the Unix epoch
 *   u64 log_size             leaves before this one (its own leaf index),
 *                            < 2^64 - 1
 *   u64 prev_head            leaf index of the previous map head,
 *                            KT_NO_PREV for the first, else < log_size
 *   u64 label_count          labels in the map, <= log_size
 *
 * The kind bytes follow the leaf types of kt's earlier plain log (0x01 key
 * binding, 0x02 revocation), which are refused: a leaf says by its first
 * byte which format it is.
 * Leaf hashes are RFC 9162's: SHA-256(0x00 || leaf bytes).
 */
#ifndef KT_LEAF_H
#define KT_LEAF_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"

#define KT_LEAF_UPDATE 0x03
#define KT_LEAF_MAP_HEAD 0x04

#define KT_UPDATE_LEN 81   /* 1 + 32 + 8 + 8 + 32 */
#define KT_MAP_HEAD_LEN 65 /* 1 + 32 + 8 + 8 + 8 + 8 */

/* The prev_index of a label's first update, the prev_head of the first map
 * head: there is no earlier leaf. */
#define KT_NO_PREV UINT64_MAX

/* One label's new version. index and commitment are any 32 bytes. */
struct kt_update {
	struct kt_hash index;
	uint64_t version;
	uint64_t prev_index;
	struct kt_hash commitment;
};

/* The directory map's state after the log's first log_size leaves. */
struct kt_map_head {
	struct kt_hash root;
	uint64_t timestamp_ms;
	uint64_t log_size;
	uint64_t prev_head;
	uint64_t label_count;
};

/*
 * Encodes *u into out. KT_ERR_MALFORMED (out untouched) if u or out is NULL
 * or u breaks a rule above (version 0; prev_index set for version 1 or
 * KT_NO_PREV for a later one): exactly what kt_update_decode refuses.
 */
KT_MUST_CHECK kt_err kt_update_encode(const struct kt_update *u,
    uint8_t out[KT_UPDATE_LEN]);

/*
 * Decodes exactly len bytes, fields in order. KT_ERR_INCOMPLETE if buf ends
 * inside the update (so every proper prefix of a valid one, and len 0),
 * KT_ERR_MALFORMED for a first byte other than KT_LEAF_UPDATE, a field
 * breaking a rule above, bytes after the last field, out NULL, or buf NULL
 * with len > 0. *out is written only on KT_OK. An accepted buffer
 * re-encodes to exactly its bytes.
 */
KT_MUST_CHECK kt_err kt_update_decode(const uint8_t *buf, size_t len,
    struct kt_update *out);

/*
 * Encodes *h into out. KT_ERR_MALFORMED (out untouched) if h or out is NULL
 * or h breaks a rule above (log_size 2^64 - 1; prev_head neither KT_NO_PREV
 * nor < log_size; label_count > log_size): exactly what
 * kt_map_head_decode refuses.
 */
KT_MUST_CHECK kt_err kt_map_head_encode(const struct kt_map_head *h,
    uint8_t out[KT_MAP_HEAD_LEN]);

/* As kt_update_decode, for a map head (first byte KT_LEAF_MAP_HEAD). */
KT_MUST_CHECK kt_err kt_map_head_decode(const uint8_t *buf, size_t len,
    struct kt_map_head *out);

/*
 * The kind of a directory leaf from its first byte: *kind = KT_LEAF_UPDATE
 * or KT_LEAF_MAP_HEAD and KT_OK. KT_ERR_INCOMPLETE for len 0;
 * KT_ERR_MALFORMED for any other first byte (the old entry types 0x01 and
 * 0x02 included), kind NULL, or buf NULL with len > 0. Only the first byte
 * is read: decode the leaf to check the rest.
 */
KT_MUST_CHECK kt_err kt_leaf_kind(const uint8_t *buf, size_t len,
    uint8_t *kind);

/*
 * RFC 9162 leaf hash of the encoding: SHA-256(0x00 || encoding). The value
 * must be one its encode accepts (check that first); the layout of any
 * other is hashed as it stands.
 */
void kt_update_leaf_hash(const struct kt_update *u, struct kt_hash *out);
void kt_map_head_leaf_hash(const struct kt_map_head *h, struct kt_hash *out);

#endif /* KT_LEAF_H */
