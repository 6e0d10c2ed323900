/*
 * fuzz_map.c: kt_map_proof_decode on untrusted bytes (a map path in a
 * lookup answer or an auditor's batch), then kt_map_verify of whatever
 * decodes, against a fixed root and index.
 *
 * Checks canonicality (decode ok => re-encode == input), that every proper
 * prefix of an accepted input is INCOMPLETE, and that verification of a
 * random path against the fixed root fails without a crash.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_map_proof p;
	static uint8_t re[KT_MAP_PROOF_MAX];
	struct kt_hash root, index;
	size_t n = 0;
	kt_err err;
	int present = -1;

	err = kt_map_proof_decode(data, size, &p);
	if (err != KT_OK) {
		if (err != KT_ERR_INCOMPLETE && err != KT_ERR_MALFORMED)
			abort();
		return 0;
	}
	if (kt_map_proof_len(&p) != size ||
	    kt_map_proof_encode(&p, re, sizeof(re), &n) != KT_OK || n != size ||
	    memcmp(re, data, size) != 0)
		abort();
	if (kt_map_proof_decode(data, size - 1, &p) != KT_ERR_INCOMPLETE)
		abort();
	if (kt_map_proof_decode(data, size, &p) != KT_OK)
		abort();
	/* A fuzzed path cannot reach a root nobody built. */
	memset(root.b, 0x5a, sizeof(root.b));
	index = p.has_leaf ? p.leaf.index : root;
	if (kt_map_verify(&root, &index, &p, &present) != KT_ERR_VERIFY ||
	    present != 0)
		abort();
	return 0;
}
