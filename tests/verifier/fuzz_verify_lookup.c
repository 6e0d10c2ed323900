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
	/* 2*B, a valid ristretto255 point (RFC 9496 A.1) */
	static const uint8_t vrf_pk[32] = { 0x6a, 0x49, 0x32, 0x10, 0xf7, 0x49,
		0x9c, 0xd1, 0x7f, 0xec, 0xb5, 0x10, 0xae, 0x0c, 0xea, 0x23,
		0xa1, 0x10, 0xe8, 0xd5, 0xb9, 0x01, 0xf8, 0xac, 0xad, 0xd3,
		0x09, 0x5c, 0x73, 0xa3, 0xb9, 0x19 };
	struct kt_signed_checkpoint sc;
	struct kt_lookup_result res;
	char d[512];

	if (kt_vparse_lookup((const char *)data, size, size % 2 ? 200 : 404,
	        "alice", &lk, d, sizeof(d)) == KT_OK &&
	    kt_vcheck_checkpoint(lk.note, lk.note_len, &vk, &sc, d,
	        sizeof(d)) == KT_OK)
		(void)kt_lookup_verify(&lk.p, vrf_pk, &sc.cp, "alice", 5, &res);
	return 0;
}
