/*
 * fuzz_bundle.c: kt_bundle_next over an untrusted entry bundle
 * (tile/entries/<N>), and each entry in it decoded as a directory leaf (its
 * kind from kt_leaf_kind, then kt_update_decode or kt_map_head_decode), as
 * a client or mirror reading a bundle does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kt/leaf.h"
#include "kt/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A leaf decodes only as the kind its first byte names, at that kind's
 * length. */
static void
leaf(const uint8_t *e, size_t el)
{
	struct kt_update u;
	struct kt_map_head h;
	uint8_t kind;

	if (kt_leaf_kind(e, el, &kind) != KT_OK)
		return;
	if (kind == KT_LEAF_UPDATE) {
		if (kt_update_decode(e, el, &u) == KT_OK && el != KT_UPDATE_LEN)
			abort();
	} else if (kind == KT_LEAF_MAP_HEAD) {
		if (kt_map_head_decode(e, el, &h) == KT_OK &&
		    el != KT_MAP_HEAD_LEN)
			abort();
	} else {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *e;
	size_t off = 0, el, prev = 0;
	kt_err err;

	while ((err = kt_bundle_next(data, size, &off, &e, &el)) == KT_OK) {
		/* Progress, and the entry lies inside the bundle. */
		if (off != prev + 2 + el || off > size || e != data + prev + 2)
			abort();
		prev = off;
		leaf(e, el);
	}
	if (off != prev)
		abort();
	if (err == KT_ERR_NOT_FOUND ? off != size : err != KT_ERR_INCOMPLETE)
		abort();
	return 0;
}
