/*
 * fuzz_verify_lookup.c: libFuzzer target for kt-verify's parser of the
 * log's GET /v1/keys/{label} response (untrusted JSON), then the checkpoint
 * and inclusion checks on whatever parses. Must never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_vlookup lk;
	static const struct kt_verifier vk = { "fuzz.example/log",
		KT_KEY_ED25519, { 1, 2, 3, 4 }, { 0 } };
	struct kt_signed_checkpoint sc;
	char d[512];

	if (kt_vparse_lookup((const char *)data, size, "alice", &lk, d,
	        sizeof(d)) == KT_OK &&
	    kt_vcheck_checkpoint(lk.note, lk.note_len, &vk, &sc, d,
	        sizeof(d)) == KT_OK)
		(void)kt_vcheck_inclusion(&lk.leaf, &sc.cp, d, sizeof(d));
	return 0;
}
