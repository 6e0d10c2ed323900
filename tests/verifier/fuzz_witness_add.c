/*
 * fuzz_witness_add.c: kt-witness's add-checkpoint request body (C2SP
 * tlog-witness), untrusted bytes from any client, through
 * kt_witness_add_checkpoint on a witness state in a temporary folder.
 *
 * Beyond "no crash": the result is one of the documented codes, the
 * detail is a NUL-terminated sentence on every error, and a cosignature
 * is returned only with KT_OK. The seed is a valid first submission, so
 * the fuzzer starts from a body that is cosigned.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "../fuzz/fuzz_keys.h"
#include "witness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kt_witness *w;
static struct kt_signer *signer; /* outlives the witness */
static char dir[] = "/tmp/kt-fuzz-witness.XXXXXX";

/* The state folder goes when the fuzzer exits. */
static void
remove_witness(void)
{
	char path[sizeof(dir) + 16];

	kt_witness_close(w);
	kt_signer_free(signer);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
}

static void
open_witness(void)
{
	uint8_t seed[KT_SEED_LEN];

	fuzz_keys_init();
	memset(seed, 0x02, sizeof(seed));
	if (kt_signer_from_seed(FUZZ_WITNESS_NAME, KT_KEY_COSIG, seed,
	        &signer) != KT_OK ||
	    mkdtemp(dir) == NULL ||
	    kt_witness_open(dir, signer, &fuzz_vs[0], 1, &w, NULL, 0) != KT_OK)
		abort();
	atexit(remove_witness);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kt_witness_answer ans;
	kt_err e;

	if (w == NULL)
		open_witness();
	memset(&ans, 0x5a, sizeof(ans));
	e = kt_witness_add_checkpoint(w, (const char *)data, size, 1700000000,
	    &ans);
	switch (e) {
	case KT_OK:
		if (ans.cosig_len == 0 ||
		    memchr(ans.cosig, '\0', sizeof(ans.cosig)) == NULL ||
		    strlen(ans.cosig) != ans.cosig_len)
			abort();
		break;
	case KT_ERR_MALFORMED:
	case KT_ERR_TOO_LARGE:
	case KT_ERR_NOT_FOUND:
	case KT_ERR_UNKNOWN_KEY:
	case KT_ERR_PERM:
	case KT_ERR_RANGE:
	case KT_ERR_CONFLICT:
	case KT_ERR_VERIFY:
		if (memchr(ans.detail, '\0', sizeof(ans.detail)) == NULL ||
		    ans.detail[0] == '\0')
			abort();
		break;
	default:
		abort(); /* I/O errors cannot come from a body */
	}
	return 0;
}
