/*
 * check.c: checks on data that has parsed, with no I/O: a signed checkpoint
 * against the log key and origin, an inclusion proof against a signed root,
 * the shape of RFC 9162 proofs and the perfect subtrees that fork proofs
 * name. Each returns a kt_err with a detail for the caller to report.
 */
#include <stdio.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

void
kt_vcheck_unsigned(const struct kt_note *n, const struct kt_verifier *vk,
    char *detail, size_t dlen)
{
	const struct kt_note_sig *s = &n->sigs[0];

	/* A note that parsed has at least one signature line; its name is a
	 * valid key name (no spaces or control characters), safe to show. */
	kt_msg(detail, dlen,
	    "checkpoint is not signed by the log key %s+%02x%02x%02x%02x "
	    "(it is signed by %.*s+%02x%02x%02x%02x): most likely the key or "
	    "the URL given at init is not this log's; check the key given "
	    "with 'kt-verify init --key' and the URL given with --log",
	    vk->name, vk->id[0], vk->id[1], vk->id[2], vk->id[3],
	    (int)(s->name_len > 100 ? 100 : s->name_len), s->name, s->id[0],
	    s->id[1], s->id[2], s->id[3]);
}

/*
 * Why note does not open as a checkpoint signed by vk: the same steps as
 * kt_signed_checkpoint_open, one at a time, so the detail names the one
 * that failed. No line of vk's at all is most likely a client set up with
 * another log's key or URL; a line of vk's that does not verify is a
 * forgery or damage on the way: different advice, so different details.
 */
static kt_err
explain_checkpoint(const char *note, size_t len, const struct kt_verifier *vk,
    char *detail, size_t dlen)
{
	struct kt_checkpoint cp;
	struct kt_note n;
	uint8_t ok = 0;
	kt_err err;

	err = kt_note_open(note, len, vk, 1, &n, &ok, NULL);
	if (err == KT_ERR_MALFORMED || err == KT_ERR_TOO_LARGE) {
		kt_msg(detail, dlen,
		    "checkpoint is not a well-formed "
		    "signed note");
		return KT_ERR_MALFORMED;
	}
	if (err == KT_ERR_UNKNOWN_KEY) {
		kt_vcheck_unsigned(&n, vk, detail, dlen);
		return KT_ERR_UNKNOWN_KEY;
	}
	if (err != KT_OK || !ok) {
		kt_msg(detail, dlen,
		    "checkpoint has a signature line of the log key %s that "
		    "does not verify: the note was forged or altered after the "
		    "log signed it",
		    vk->name);
		return KT_ERR_VERIFY;
	}
	if (kt_checkpoint_parse(n.text, n.text_len, &cp) != KT_OK) {
		kt_msg(detail, dlen,
		    "signed note is not a well-formed "
		    "checkpoint");
		return KT_ERR_MALFORMED;
	}
	if (strcmp(cp.origin, vk->name) != 0) {
		kt_msg(detail, dlen,
		    "checkpoint origin \"%s\" is not the "
		    "log's \"%s\"",
		    cp.origin, vk->name);
		return KT_ERR_VERIFY;
	}
	kt_msg(detail, dlen, "checkpoint does not verify");
	return KT_ERR_VERIFY;
}

kt_err
kt_vcheck_checkpoint(const char *note, size_t len, const struct kt_verifier *vk,
    struct kt_signed_checkpoint *out, char *detail, size_t dlen)
{
	if (kt_signed_checkpoint_open(note, len, vk, out) == KT_OK)
		return KT_OK;
	return explain_checkpoint(note, len, vk, detail, dlen);
}

kt_err
kt_vcheck_inclusion(const struct kt_vleaf *l, const struct kt_checkpoint *cp,
    char *detail, size_t dlen)
{
	if (l->proof.size != cp->size) {
		kt_msg(detail, dlen,
		    "inclusion proof is for tree size "
		    "%llu, checkpoint has %llu",
		    (unsigned long long)l->proof.size,
		    (unsigned long long)cp->size);
		return KT_ERR_VERIFY;
	}
	if (kt_merkle_verify_inclusion(&l->leaf_hash, l->index, cp->size,
	        l->proof.proof.h, l->proof.proof.n, &cp->root) != KT_OK) {
		kt_msg(detail, dlen,
		    "inclusion proof of index %llu does "
		    "not verify against the signed root of size %llu",
		    (unsigned long long)l->index, (unsigned long long)cp->size);
		return KT_ERR_VERIFY;
	}
	return KT_OK;
}

size_t
kt_inclusion_len(uint64_t index, uint64_t size)
{
	uint64_t fn = index, sn = size - 1;
	size_t n = 0;

	/* The step count of RFC 9162 §2.1.3.2's loop. */
	while (sn != 0) {
		n++;
		if ((fn & 1) || fn == sn) {
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		}
		fn >>= 1;
		sn >>= 1;
	}
	return n;
}

uint64_t
kt_vsubtree_start(uint64_t size, unsigned k)
{
	return k >= 63 ? 0 : size & ~((UINT64_C(2) << k) - 1);
}

void
kt_vsubtree_node(const struct kt_hash *leaf, const struct kt_hash *p,
    unsigned k, struct kt_hash *out)
{
	*out = *leaf;
	for (unsigned j = 0; j < k; j++)
		kt_hash_node(out, &p[j], out);
}

kt_err
kt_vcheck_label(const char *in, char out[KT_CANON_MAX + 1], char *detail,
    size_t cap)
{
	const char *why = NULL;
	size_t n = 0;
	kt_err e;

	e = kt_label_canonical(in, strlen(in), out, &n, NULL, &why);
	if (e != KT_OK)
		kt_msg(detail, cap, "\"%.64s\" is not a label kt accepts: %s",
		    in, why != NULL ? why : kt_strerror(e));
	return e;
}
