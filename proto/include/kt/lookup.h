/*
 * kt/lookup.h: the lookup proof, everything a client needs to learn a
 * label's latest key (or that the label has none) at one checkpoint, as one
 * value checked in one call; and its form as a C2SP tlog-proof, a file a
 * person can hand on and anyone can check offline.
 *
 * What it proves, against a checkpoint of size s and the log's VRF key:
 *   - the label's index is VRF(label) (the VRF proof);
 *   - the map head is leaf s - 1, the checkpoint's last leaf (its inclusion
 *     proof), so it is the directory's state at that checkpoint, not an
 *     older one;
 *   - the index's path in that map head's map (map proof): present with
 *     version v, or absent;
 *   - present: the update leaf at the map leaf's update_index (its inclusion
 *     proof) is the label's version v, the map leaf's chain ends with it,
 *     and its commitment opens to (label, v, the value) with the opening.
 * So "version v is the latest and its key is K", or "no version exists".
 * Byte layout in proto/README.md "Lookup proofs".
 */
#ifndef KT_LOOKUP_H
#define KT_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "kt/checkpoint.h"
#include "kt/commit.h"
#include "kt/err.h"
#include "kt/label.h"
#include "kt/leaf.h"
#include "kt/map.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "kt/vrf.h"

/* The largest encoding: every field at its bound. */
#define KT_LOOKUP_MAX \
	(2 + KT_CANON_MAX + KT_VRF_PROOF_LEN + KT_MAP_HEAD_LEN + 1 + \
	    KT_MAX_PROOF * KT_HASH_LEN + KT_MAP_PROOF_MAX + KT_UPDATE_LEN + \
	    1 + KT_MAX_PROOF * KT_HASH_LEN + KT_OPENING_LEN + KT_HASH_LEN + \
	    4 + KT_KEY_TYPE_MAX + KT_KEY_MAX)

/*
 * A decoded lookup proof. Plain value: every field is a copy, nothing is
 * borrowed. Fields after `map` are meaningful only when present is 1.
 */
struct kt_lookup_proof {
	int present; /* what the proof claims; verification checks it */
	char label[KT_CANON_MAX + 1]; /* canonical, NUL-terminated */
	size_t label_len;
	uint8_t vrf_proof[KT_VRF_PROOF_LEN];
	struct kt_map_head head;
	struct kt_proof head_proof; /* map head leaf in the checkpoint */
	struct kt_map_proof map;    /* the index's path in head.root */
	struct kt_update update;    /* the latest update leaf */
	struct kt_proof update_proof;
	uint8_t opening[KT_OPENING_LEN];
	struct kt_hash
	    prev_chain; /* the chain before this version (zero for 1) */
	uint8_t kind;   /* KT_VALUE_KEY or KT_VALUE_REVOKE */
	char key_type[KT_KEY_TYPE_MAX];
	size_t key_type_len;
	uint8_t key[KT_KEY_MAX];
	size_t key_len;
};

/* What a verified lookup proof says. */
struct kt_lookup_result {
	int present;                /* 0: the label has no version at all */
	struct kt_hash index;       /* VRF(label)'s first 32 bytes */
	struct kt_map_leaf leaf;    /* present: the label's map leaf */
	uint64_t head_index;        /* the map head's leaf index */
	uint64_t head_timestamp_ms; /* the sequencer's time at the map head */
	int revoked;                /* present: the latest version revokes */
	const char *key_type;       /* present, not revoked: borrowed from */
	size_t key_type_len;        /* the proof, valid while it is */
	const uint8_t *key;
	size_t key_len;
};

/*
 * Verifies p against a checkpoint the caller accepts (signature, freshness
 * and consistency are the caller's) and the log's VRF public key, for the
 * canonical label the caller asked about. KT_OK and *out on success;
 * KT_ERR_VERIFY for any false part (with the label, VRF, map head position
 * or inclusion, map path, update, chain or commitment); KT_ERR_MALFORMED for
 * an unusable VRF key. out is zeroed on failure.
 */
KT_MUST_CHECK kt_err kt_lookup_verify(const struct kt_lookup_proof *p,
    const uint8_t vrf_pk[KT_VRF_PUBLIC_LEN], const struct kt_checkpoint *cp,
    const char *label, size_t label_len, struct kt_lookup_result *out);

/* Encoded length of p, 0 if p is not encodable. */
size_t kt_lookup_len(const struct kt_lookup_proof *p);

KT_MUST_CHECK kt_err kt_lookup_encode(const struct kt_lookup_proof *p,
    uint8_t *buf, size_t cap, size_t *out_len);

/*
 * Decodes exactly len bytes, strictly (one encoding per value): every
 * proper prefix of a valid encoding is KT_ERR_INCOMPLETE; a label that is
 * not canonical, an invalid map head, update, map proof or value, proofs
 * over 64 hashes and trailing bytes are KT_ERR_MALFORMED. Decoding does not
 * verify.
 */
KT_MUST_CHECK kt_err kt_lookup_decode(const uint8_t *buf, size_t len,
    struct kt_lookup_proof *out);

/*
 * The C2SP tlog-proof form: `index` is the map head's leaf index and the
 * hash lines its inclusion proof; the `extra` line carries the rest of p
 * (its encoding with an empty map-head proof). note is the signed
 * checkpoint (with any cosignatures) p was made for. buf is NUL-terminated.
 */
KT_MUST_CHECK kt_err kt_lookup_tlogproof_format(const struct kt_lookup_proof *p,
    const char *note, size_t note_len, char *buf, size_t cap, size_t *out_len);

/*
 * Parses a tlog-proof made by kt_lookup_tlogproof_format: *out gets the
 * lookup proof, *note and *note_len the checkpoint note (borrowed from buf).
 * KT_ERR_MALFORMED when it is not a kt lookup tlog-proof (no extra line, an
 * extra that does not decode, or an index that is not the map head's).
 */
KT_MUST_CHECK kt_err kt_lookup_tlogproof_parse(const char *buf, size_t len,
    struct kt_lookup_proof *out, const char **note, size_t *note_len);

#endif /* KT_LOOKUP_H */
