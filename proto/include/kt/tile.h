/*
 * kt/tile.h: C2SP tlog-tiles coordinates, paths and entry bundles.
 *
 * Tile height 8: a full tile holds 256 hashes. Hash i of tile n at level l is
 * the root of leaves [(n*256+i) * 256^l, (n*256+i+1) * 256^l).
 */
#ifndef KT_TILE_H
#define KT_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"

#define KT_TILE_HEIGHT 8
#define KT_TILE_WIDTH 256
#define KT_TILE_LEVEL_ENTRIES 255 /* kt_tile.level for tile/entries/ bundles */
#define KT_TILE_PATH_MAX 96

struct kt_tile {
	unsigned level; /* 0..63, or KT_TILE_LEVEL_ENTRIES */
	uint64_t index; /* N */
	unsigned width; /* 1..256; 256 means full (no .p/ suffix) */
};

/* Path "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]", N written in
 * 3-digit groups ("x001/x234/067"), NUL-terminated into buf.
 * KT_ERR_MALFORMED for a level or width out of range, KT_ERR_TOO_LARGE if
 * the path and its NUL do not fit in cap (KT_TILE_PATH_MAX always does). */
KT_MUST_CHECK kt_err kt_tile_path(const struct kt_tile *t, char *buf,
    size_t cap);

/* Parses such a path (without a leading '/'), strictly: canonical digits
 * only, width 1..255 after .p/. KT_ERR_MALFORMED. */
KT_MUST_CHECK kt_err kt_tile_parse_path(const char *path, size_t len,
    struct kt_tile *out);

/* Width of tile `index` at `level` in a tree of `size` leaves: 256 for a
 * full tile, 1..255 for the partial one, 0 if it has no hashes yet.
 * KT_TILE_LEVEL_ENTRIES gives the width of entry bundle `index` (as level
 * 0); other levels above 63 give 0. */
unsigned kt_tile_width(uint64_t size, unsigned level, uint64_t index);

/*
 * The root of the perfect subtree of height `sublevel` (0..8) at position
 * `idx` inside a tile whose hashes are row[0..width): hashes
 * [idx << sublevel, (idx+1) << sublevel) of the row. KT_ERR_RANGE if they are
 * not all within width.
 */
KT_MUST_CHECK kt_err kt_tile_subtree(const struct kt_hash *row, unsigned width,
    unsigned sublevel, unsigned idx, struct kt_hash *out);

/* ---- entry bundles ------------------------------------------------------ */

/* Appends one entry (big-endian u16 length, then bytes) to a bundle buffer at
 * *off. KT_ERR_TOO_LARGE if len > 65535 or the buffer is short. */
KT_MUST_CHECK kt_err kt_bundle_append(uint8_t *buf, size_t cap, size_t *off,
    const uint8_t *entry, size_t len);

/* Reads the next entry at *off of bundle buf[0..len). *entry borrows from buf.
 * KT_ERR_NOT_FOUND at the end; KT_ERR_INCOMPLETE on truncation (*off is
 * advanced only on KT_OK); KT_ERR_RANGE if *off > len. */
KT_MUST_CHECK kt_err kt_bundle_next(const uint8_t *buf, size_t len, size_t *off,
    const uint8_t **entry, size_t *entry_len);

#endif /* KT_TILE_H */
