/*
 * mirror_pull.h: following one tlog-tiles log (C2SP tlog-mirror, "Mirror
 * Checkpoint", by pulling).
 *
 * A round reads the log's /checkpoint, checks the log's signature, and if
 * the tree grew past the mirror checkpoint, reads the entry bundles from
 * the mirror checkpoint's right edge to the new size. Every entry is
 * hashed into the right edge of the tree the mirror holds (the partial
 * tile of each level at the mirror checkpoint, read from the store), which
 * makes the new hash tiles, full and partial; the round publishes the new
 * checkpoint only if the root so computed is the checkpoint's. That one
 * comparison proves every new bundle and tile against the signed root and
 * the new tree consistent with the mirrored one (its left part is the
 * mirrored tree's own hashes). Entries already mirrored (the first ones of
 * the edge's bundle) must hash to the stored leaf hashes.
 *
 * Tiles and bundles are staged in transactions of KT_MPULL_CHUNK bundles
 * (never served: mirror_store.h); the last one also writes the cosigned
 * checkpoint. A round that finds bad data (KT_ERR_VERIFY,
 * KT_ERR_MALFORMED) removes what was staged; one that is stopped, cut off
 * by the network or killed (kill -9) leaves staged bundles that the next
 * round reads instead of downloading them, and checks like any other.
 *
 * Memory: the right edge (8 levels of 256 hashes) and one bundle at a time.
 */
#ifndef KT_MIRROR_PULL_H
#define KT_MIRROR_PULL_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>

#include "kt/err.h"
#include "kt/note.h"
#include "mirror_store.h"

/* Bundles staged per write transaction by default (kt_mpull_set_stage):
 * more is faster (the map's pages are copied once per transaction), fewer
 * lets a killed catch-up resume from closer. */
#define KT_MPULL_CHUNK 256
#define KT_MPULL_CHUNK_MAX 4096

struct kt_mpull; /* one followed log: its URL, key, HTTP client */

/* What one round did. */
struct kt_mpull_report {
	uint64_t old_size; /* the mirror checkpoint before the round */
	uint64_t log_size; /* the log's checkpoint */
	uint64_t new_size; /* the mirror checkpoint after it */
	uint64_t bundles_fetched, bundles_cached;
	double seconds;
};

/*
 * A follower of the log at `url` (its tlog-tiles prefix, no trailing
 * slash) signed by `key` (an Ed25519 note key whose name is the origin),
 * writing into st and cosigning with `cosigner` (KT_KEY_COSIG); all three
 * borrowed. map: the log is a kt log whose directory map the mirror
 * rebuilds and checks (mirror_map.h); its map heads that do not follow
 * are refused as tampered entries are (KT_ERR_VERIFY). timeout_s bounds each HTTP request.
 * KT_ERR_MALFORMED (a key of the wrong type), KT_ERR_NOMEM; `detail`.
 */
KT_MUST_CHECK kt_err kt_mpull_open(struct kt_mstore *st,
    const struct kt_signer *cosigner, const char *url,
    const struct kt_verifier *key, int map, long timeout_s,
    struct kt_mpull **out, char *detail, size_t cap);

/* Frees. Accepts NULL. */
void kt_mpull_close(struct kt_mpull *p);

/* Bundles staged per write transaction: 1..KT_MPULL_CHUNK_MAX (others
 * are clamped). Before the first round. */
void kt_mpull_set_stage(struct kt_mpull *p, unsigned bundles);

/* The origin (the key's name) and SHA-256 of it. */
const char *kt_mpull_origin(const struct kt_mpull *p);
const uint8_t *kt_mpull_origin_hash(const struct kt_mpull *p);

/*
 * One round at time `now` (the cosignature's timestamp). KT_OK: the mirror
 * checkpoint is the log's (or the log is behind it); *rep says what was
 * done. Errors (nothing is published; after bad data, what was staged is
 * removed):
 *   KT_ERR_NETWORK   the log did not answer, or not 200
 *   KT_ERR_MALFORMED the checkpoint or a bundle does not parse, or a
 *                    bundle holds fewer entries than the tree gives it
 *   KT_ERR_VERIFY    the log's signature fails; the same size as the
 *                    mirror checkpoint with another root; the entries do
 *                    not hash to the checkpoint's root (a tampered tile
 *                    or bundle, or a tree inconsistent with the mirrored
 *                    one); entries already mirrored changed
 *   KT_ERR_BUSY      *stop was set during the round
 *   KT_ERR_IO, KT_ERR_FULL, KT_ERR_NOMEM, KT_ERR_INTERNAL
 * `detail` says which, in words an operator can act on.
 */
KT_MUST_CHECK kt_err kt_mpull_round(struct kt_mpull *p, uint64_t now,
    const atomic_int *stop, struct kt_mpull_report *rep, char *detail,
    size_t cap);

#endif /* KT_MIRROR_PULL_H */
