/*
 * fuzz_leaf.c: kt_leaf_kind, kt_update_decode and kt_map_head_decode on
 * untrusted bytes (a leaf fetched from a directory log's entry bundles).
 *
 * Both decoders see every input. Beyond "no crash", checks canonicality
 * (whatever decodes re-encodes to exactly the input, and its leaf hash is
 * the RFC 9162 hash of the input, so one value never has two leaf hashes),
 * that at most one decoder accepts, and only the one kt_leaf_kind names,
 * and that every proper prefix of an accepted leaf needs more bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kt/leaf.h"
#include "kt/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
want_refusal(kt_err err)
{
	if (err != KT_ERR_INCOMPLETE && err != KT_ERR_MALFORMED)
		abort();
}

/* The leaf hash of an accepted leaf is SHA-256(0x00 || input). */
static void
check_hash(const struct kt_hash *got, const uint8_t *data, size_t size)
{
	struct kt_hash want;

	kt_hash_leaf(data, size, &want);
	if (!kt_hash_eq(got, &want))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t re[KT_UPDATE_LEN], kind = 0;
	struct kt_update u;
	struct kt_map_head h;
	struct kt_hash lh;
	kt_err ek, eu, eh;

	ek = kt_leaf_kind(data, size, &kind);
	eu = kt_update_decode(data, size, &u);
	eh = kt_map_head_decode(data, size, &h);
	if (ek != KT_OK)
		want_refusal(ek);
	if (eu == KT_OK) {
		if (ek != KT_OK || kind != KT_LEAF_UPDATE || eh == KT_OK ||
		    size != KT_UPDATE_LEN)
			abort();
		if (kt_update_encode(&u, re) != KT_OK ||
		    memcmp(re, data, size) != 0)
			abort();
		kt_update_leaf_hash(&u, &lh);
		check_hash(&lh, data, size);
		if (kt_update_decode(data, size - 1, &u) != KT_ERR_INCOMPLETE)
			abort();
	} else {
		want_refusal(eu);
	}
	if (eh == KT_OK) {
		if (ek != KT_OK || kind != KT_LEAF_MAP_HEAD ||
		    size != KT_MAP_HEAD_LEN)
			abort();
		if (kt_map_head_encode(&h, re) != KT_OK ||
		    memcmp(re, data, size) != 0)
			abort();
		kt_map_head_leaf_hash(&h, &lh);
		check_hash(&lh, data, size);
		if (kt_map_head_decode(data, size - 1, &h) != KT_ERR_INCOMPLETE)
			abort();
	} else {
		want_refusal(eh);
	}
	return 0;
}
