/*
 * fuzz_tile_path.c: kt_tile_parse_path on an untrusted request path (the
 * logserver's tile handler, a mirror, a client following links).
 *
 * Checks that each tile has one path: whatever parses formats back to the
 * exact input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/tile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[KT_TILE_PATH_MAX];
	struct kt_tile t;

	if (kt_tile_parse_path((const char *)data, size, &t) != KT_OK)
		return 0;
	if (kt_tile_path(&t, buf, sizeof(buf)) != KT_OK)
		abort();
	if (strlen(buf) != size || memcmp(buf, data, size) != 0)
		abort();
	return 0;
}
