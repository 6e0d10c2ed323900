/*
 * bundle.c: the key directory's proofs as one store snapshot gives them.
 * A lookup proof (kt/lookup.h) for a label at a checkpoint size: the
 * label's VRF proof, the map head ending that checkpoint with its inclusion
 * proof, the index's path in that map head's map, and (present) the latest
 * update with its inclusion proof, opening, value and the chain before it.
 * The handlers of read_keys.c, read_map.c and write.c answer with them.
 */
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "kt/lookup.h"
#include "store/store_map.h"

/* The step bundle_update names when the value it needs was erased; told
 * apart by address. */
static const char ERASED_VALUE[] = "erased value";

kt_err
bundle_vrf(struct kt_api *api, struct snapshot *s, const char *label,
    size_t len, uint8_t proof[KT_VRF_PROOF_LEN], struct kt_hash *index,
    int *fresh)
{
	uint8_t beta[KT_VRF_OUTPUT_LEN];
	kt_err e;

	s->what = "VRF proof";
	if (fresh != NULL)
		*fresh = 0;
	e = kt_store_read_vrf(s->r, label, len, proof);
	if (e == KT_ERR_NOT_FOUND) {
		if (fresh != NULL)
			*fresh = 1;
		/* Never published: prove now (about 130 µs of this thread). */
		if (api->vrf == NULL)
			return KT_ERR_INTERNAL;
		e = kt_vrf_prove(api->vrf, (const uint8_t *)label, len, proof);
	}
	if (e == KT_OK && kt_vrf_proof_to_hash(proof, beta) != KT_OK)
		e = KT_ERR_INTERNAL;
	if (e == KT_OK)
		memcpy(index->b, beta, KT_HASH_LEN);
	return e;
}

kt_err
bundle_head(struct snapshot *s, uint64_t size, struct kt_map_head *h)
{
	const uint8_t *buf;
	size_t len;
	kt_err e;

	s->what = "map head";
	if (size == 0 || size > s->size)
		return KT_ERR_RANGE;
	e = kt_store_read_entry(s->r, size - 1, &buf, &len);
	if (e != KT_OK)
		return e;
	return kt_map_head_decode(buf, len, h) == KT_OK ? KT_OK : KT_ERR_RANGE;
}

/* The present label's latest update, its proof and secrets into p. */
static kt_err
bundle_update(struct snapshot *s, uint64_t size, struct kt_lookup_proof *p)
{
	struct kt_store_value v;
	const uint8_t *buf;
	size_t len;
	kt_err e;

	s->what = "update";
	e = kt_store_read_entry(s->r, p->map.leaf.update_index, &buf, &len);
	if (e != KT_OK)
		return e;
	if (kt_update_decode(buf, len, &p->update) != KT_OK)
		return KT_ERR_INTERNAL;
	e = snapshot_inclusion(s, p->map.leaf.update_index, size,
	    &p->update_proof);
	if (e != KT_OK)
		return e;
	s->what = "value";
	e = kt_store_read_value(s->r, p->map.leaf.update_index, &v);
	if (e == KT_OK && v.erased) {
		/* Only retired versions are erased, but at an older checkpoint
		 * an erased version can be the latest: that lookup can no
		 * longer be made (bundle_error answers 410 for it). */
		s->what = ERASED_VALUE;
		return KT_ERR_EXISTS;
	}
	if (e != KT_OK)
		return e == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : e;
	memcpy(p->opening, v.opening, KT_OPENING_LEN);
	p->prev_chain = v.prev_chain;
	p->kind = v.kind;
	memcpy(p->key_type, v.key_type, v.key_type_len);
	p->key_type_len = v.key_type_len;
	memcpy(p->key, v.key, v.key_len);
	p->key_len = v.key_len;
	return KT_OK;
}

kt_err
bundle_lookup(struct snapshot *s, const char *label, size_t len,
    const uint8_t vrf[KT_VRF_PROOF_LEN], const struct kt_hash *index,
    uint64_t size, struct kt_lookup_proof *p)
{
	kt_err e;

	memset(p, 0, sizeof(*p));
	if (len == 0 || len > KT_CANON_MAX)
		return KT_ERR_RANGE;
	memcpy(p->label, label, len);
	p->label_len = len;
	memcpy(p->vrf_proof, vrf, KT_VRF_PROOF_LEN);
	e = bundle_head(s, size, &p->head);
	if (e != KT_OK)
		return e;
	e = snapshot_inclusion(s, size - 1, size, &p->head_proof);
	if (e != KT_OK)
		return e;
	s->what = "map path";
	e = kt_store_map_prove(s->r, &p->head.root, index, &p->map);
	if (e != KT_OK)
		return e == KT_ERR_NOT_FOUND ? KT_ERR_EXISTS : e;
	p->present = p->map.has_leaf && kt_hash_eq(&p->map.leaf.index, index);
	return p->present ? bundle_update(s, size, p) : KT_OK;
}

kt_err
bundle_put_lookup(struct answer *a, const struct kt_lookup_proof *p,
    const struct kt_hash *index)
{
	uint8_t *buf;
	size_t n = kt_lookup_len(p), len;

	if (n == 0)
		return KT_ERR_INTERNAL;
	buf = malloc(n);
	if (buf == NULL)
		return KT_ERR_NOMEM;
	if (kt_lookup_encode(p, buf, n, &len) != KT_OK) {
		free(buf);
		return KT_ERR_INTERNAL;
	}
	answer_lit(a, "\"label\":");
	answer_str(a, p->label, p->label_len);
	answer_lit(a, ",\"map_index\":");
	answer_b64(a, index->b, KT_HASH_LEN);
	answer_lit(a, ",\"vrf_proof\":");
	answer_b64(a, p->vrf_proof, KT_VRF_PROOF_LEN);
	answer_lit(a, ",\"present\":");
	answer_lit(a, p->present ? "true" : "false");
	if (p->present) {
		answer_lit(a, ",\"version\":");
		answer_u64(a, p->update.version);
		answer_lit(a, ",\"update_index\":");
		answer_u64(a, p->map.leaf.update_index);
		if (p->kind == KT_VALUE_REVOKE) {
			answer_lit(a, ",\"revoked\":true");
		} else {
			answer_lit(a, ",\"key_type\":");
			answer_str(a, p->key_type, p->key_type_len);
			answer_lit(a, ",\"key\":");
			answer_b64(a, p->key, p->key_len);
		}
	}
	answer_lit(a, ",\"head_index\":");
	answer_u64(a, p->head.log_size);
	answer_lit(a, ",\"head_timestamp_ms\":");
	answer_u64(a, p->head.timestamp_ms);
	answer_lit(a, ",\"lookup_proof\":");
	answer_b64(a, buf, len);
	free(buf);
	return KT_OK;
}

void
bundle_error(struct snapshot *s, struct kt_api_resp *resp, kt_err e,
    uint64_t size)
{
	if (e == KT_ERR_EXISTS && s->what == ERASED_VALUE) {
		answer_status(resp, 410,
		    "at this checkpoint size the label's latest version is one "
		    "whose opening was erased (DELETE /v1/keys/<label>/"
		    "openings): ask at a newer checkpoint");
		return;
	}
	if (e == KT_ERR_EXISTS) {
		answer_status(resp, 410,
		    "the map at this checkpoint size is older than the log "
		    "keeps (map_retention): ask at a newer checkpoint");
		return;
	}
	if (e == KT_ERR_RANGE) {
		answer_error(resp, KT_ERR_RANGE,
		    "checkpoint_size %llu is not a checkpoint of this log "
		    "(its last leaf is not a map head, or it is past the "
		    "current size %llu)",
		    (unsigned long long)size, (unsigned long long)s->size);
		return;
	}
	snapshot_error(s, resp, e);
}
