/*
 * fuzz_bundle.c: kt_bundle_next over an untrusted entry bundle
 * (tile/entries/<N>), and kt_entry_decode on each entry in it, as a client
 * or mirror reading a bundle does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kt/entry.h"
#include "kt/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *e;
	size_t off = 0, el, prev = 0;
	struct kt_entry d;
	kt_err err;

	while ((err = kt_bundle_next(data, size, &off, &e, &el)) == KT_OK) {
		/* Progress, and the entry lies inside the bundle. */
		if (off != prev + 2 + el || off > size || e != data + prev + 2)
			abort();
		prev = off;
		(void)kt_entry_decode(e, el, &d);
	}
	if (off != prev)
		abort();
	if (err == KT_ERR_NOT_FOUND ? off != size : err != KT_ERR_INCOMPLETE)
		abort();
	return 0;
}
