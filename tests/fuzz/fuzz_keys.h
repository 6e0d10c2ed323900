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
	static const struct {
		const char *name;
		uint8_t type, seed_byte;
	} keys[2] = {
		{ FUZZ_LOG_NAME, KT_KEY_ED25519, 0x01 },
		{ FUZZ_WITNESS_NAME, KT_KEY_COSIG, 0x02 },
	};
	uint8_t seed[KT_SEED_LEN];
	struct kt_signer *s = NULL;

	if (sodium_init() < 0)
		abort();
	for (size_t i = 0; i < 2; i++) {
		memset(seed, keys[i].seed_byte, sizeof(seed));
		if (kt_signer_from_seed(keys[i].name, keys[i].type, seed, &s) !=
		    KT_OK)
			abort();
		kt_signer_verifier(s, &fuzz_vs[i]);
		kt_signer_free(s);
	}
}

/* libFuzzer calls this once before the first input: the keys above. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keys_init();
	return 0;
}

#endif /* KT_FUZZ_KEYS_H */
