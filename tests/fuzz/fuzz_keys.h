/*
 * fuzz_keys.h: the fixed keys the note fuzz targets verify against. The seed
 * corpus (corpus/note, corpus/tlogproof) was signed with these seeds, so the
 * fuzzer starts from notes whose signatures check and explores from there.
 */
#ifndef KT_FUZZ_KEYS_H
#define KT_FUZZ_KEYS_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "kt/note.h"

#define FUZZ_LOG_NAME "example.com/log"
#define FUZZ_WITNESS_NAME "witness.example"

static struct kt_verifier fuzz_vs[2];

static void
fuzz_keys_init(void)
{
	uint8_t seed[KT_SEED_LEN];
	struct kt_signer *s = NULL;

	if (sodium_init() < 0)
		abort();
	memset(seed, 0x01, sizeof(seed));
	if (kt_signer_from_seed(FUZZ_LOG_NAME, KT_KEY_ED25519, seed, &s) !=
	    KT_OK)
		abort();
	kt_signer_verifier(s, &fuzz_vs[0]);
	kt_signer_free(s);
	memset(seed, 0x02, sizeof(seed));
	if (kt_signer_from_seed(FUZZ_WITNESS_NAME, KT_KEY_COSIG, seed, &s) !=
	    KT_OK)
		abort();
	kt_signer_verifier(s, &fuzz_vs[1]);
	kt_signer_free(s);
}

#endif /* KT_FUZZ_KEYS_H */
