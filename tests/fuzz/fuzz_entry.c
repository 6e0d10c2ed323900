/*
 * fuzz_entry.c: kt_entry_decode on untrusted bytes (a leaf fetched from a
 * log, an entry bundle, a tlog-proof's extra line).
 *
 * Beyond "no crash", checks canonicality: whatever decodes re-encodes to
 * exactly the input, so one entry never has two leaf hashes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t re[KT_ENTRY_MAX];
	struct kt_entry e;
	size_t n = 0;
	kt_err err;

	err = kt_entry_decode(data, size, &e);
	if (err != KT_OK) {
		if (err != KT_ERR_INCOMPLETE && err != KT_ERR_MALFORMED)
			abort();
		return 0;
	}
	if (size > KT_ENTRY_MAX)
		abort();
	if (kt_entry_encoded_len(&e) != size)
		abort();
	if (kt_entry_encode(&e, re, sizeof(re), &n) != KT_OK || n != size ||
	    memcmp(re, data, size) != 0)
		abort();
	/* Every proper prefix of a valid entry needs more bytes. */
	if (size > 0 &&
	    kt_entry_decode(data, size - 1, &e) != KT_ERR_INCOMPLETE)
		abort();
	return 0;
}
