/*
 * fuzz_lookup.c: kt_lookup_decode and kt_lookup_tlogproof_parse on
 * untrusted bytes (a lookup answer, an offline proof file), then
 * kt_lookup_verify of whatever decodes against a fixed VRF key and
 * checkpoint.
 *
 * Checks canonicality (decode ok => re-encode == input), that every proper
 * prefix of an accepted input is INCOMPLETE, and that a verification of
 * fuzzed bytes fails cleanly (the checkpoint's root is one no proof hashes
 * to) with the result zeroed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt/lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_verify(const struct kt_lookup_proof *p)
{
	static const uint8_t zero[sizeof(struct kt_lookup_result)];
	struct kt_lookup_result r;
	struct kt_checkpoint cp;
	uint8_t pk[KT_VRF_PUBLIC_LEN], one[32] = { 1 };

	crypto_scalarmult_ristretto255_base(pk, one);
	memset(&cp, 0, sizeof(cp));
	cp.size = p->head.log_size + 1;
	memset(cp.root.b, 0x5a, sizeof(cp.root.b));
	if (kt_lookup_verify(p, pk, &cp, p->label, p->label_len, &r) !=
	        KT_ERR_VERIFY ||
	    memcmp(&r, zero, sizeof(r)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_lookup_proof p;
	static uint8_t re[KT_LOOKUP_MAX];
	const char *note;
	size_t n = 0, note_len;
	kt_err err;

	if (sodium_init() < 0)
		abort();
	err = kt_lookup_decode(data, size, &p);
	if (err == KT_OK) {
		if (kt_lookup_len(&p) != size ||
		    kt_lookup_encode(&p, re, sizeof(re), &n) != KT_OK ||
		    n != size || memcmp(re, data, size) != 0)
			abort();
		check_verify(&p);
		if (kt_lookup_decode(data, size - 1, &p) != KT_ERR_INCOMPLETE)
			abort();
	} else if (err != KT_ERR_INCOMPLETE && err != KT_ERR_MALFORMED) {
		abort();
	}
	/* The same bytes as an offline proof file. */
	err = kt_lookup_tlogproof_parse((const char *)data, size, &p, &note,
	    &note_len);
	if (err == KT_OK) {
		if (note < (const char *)data ||
		    note + note_len > (const char *)data + size)
			abort();
		check_verify(&p);
	} else if (err != KT_ERR_MALFORMED && err != KT_ERR_TOO_LARGE &&
	    err != KT_ERR_NOMEM) {
		abort();
	}
	return 0;
}
