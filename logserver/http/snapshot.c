/*
 * snapshot.c: what read and write answers draw from one store snapshot:
 * the fields of a logged entry (the entry, its leaf hash, the checkpoint,
 * its inclusion proof) and proofs timed for
 * /metrics. Each step names itself in s->what, so the handler that gets a
 * store error answers it once, saying which step failed.
 */
#include <time.h>

#include "http/internal.h"

static uint64_t
now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

kt_err
snapshot_begin(struct kt_api *api, struct snapshot *s, struct kt_api_resp *resp)
{
	kt_err e;

	*s = (struct snapshot){ .metrics = api->metrics, .what = "snapshot" };
	e = kt_store_read_begin(api->store, &s->r);
	if (e != KT_OK) {
		s->r = NULL;
		answer_store_error(resp, e, s->what);
		return e;
	}
	s->size = kt_store_read_size(s->r);
	return KT_OK;
}

void
snapshot_end(struct snapshot *s)
{
	if (s->r != NULL)
		kt_store_read_end(s->r);
	s->r = NULL;
}

void
snapshot_error(const struct snapshot *s, struct kt_api_resp *resp, kt_err e)
{
	answer_store_error(resp, e, s->what);
}

kt_err
snapshot_inclusion(struct snapshot *s, uint64_t index, uint64_t size,
    struct kt_proof *p)
{
	uint64_t t0 = now_us();
	kt_err e;

	s->what = "inclusion proof";
	e = kt_store_inclusion(s->r, index, size, p);
	kt_metrics_proof_us(s->metrics, now_us() - t0);
	return e;
}

kt_err
snapshot_consistency(struct snapshot *s, uint64_t old, uint64_t new_size,
    struct kt_proof *p)
{
	uint64_t t0 = now_us();
	kt_err e;

	s->what = "consistency proof";
	e = kt_store_consistency(s->r, old, new_size, p);
	kt_metrics_proof_us(s->metrics, now_us() - t0);
	return e;
}

kt_err
snapshot_put_checkpoint(struct snapshot *s, struct answer *a,
    struct answer_memo *m)
{
	const char *note;
	size_t len;
	kt_err e;

	s->what = "checkpoint";
	if (m != NULL && m->cp.len != 0 && !m->cp.failed) {
		answer_raw(a, m->cp.p, m->cp.len);
		return KT_OK;
	}
	if ((e = kt_store_read_checkpoint(s->r, &note, &len)) != KT_OK)
		return e;
	if (m == NULL) {
		answer_lit(a, "\"checkpoint\":");
		answer_str(a, note, len);
		return KT_OK;
	}
	answer_lit(&m->cp, "\"checkpoint\":");
	answer_str(&m->cp, note, len);
	if (m->cp.failed)
		return KT_ERR_NOMEM;
	answer_raw(a, m->cp.p, m->cp.len);
	return KT_OK;
}

kt_err
snapshot_put_entry(struct snapshot *s, struct answer *a, uint64_t index,
    unsigned with, struct answer_memo *m)
{
	return snapshot_put_entry_at(s, a, index, s->size, with, m);
}

kt_err
snapshot_put_entry_at(struct snapshot *s, struct answer *a, uint64_t index,
    uint64_t size, unsigned with, struct answer_memo *m)
{
	const uint8_t *ent;
	size_t elen;
	struct kt_hash leaf;
	struct kt_proof p;
	kt_err e;

	s->what = "entry";
	e = kt_store_read_entry(s->r, index, &ent, &elen);
	if (e != KT_OK)
		return e;
	answer_lit(a, "\"entry\":");
	answer_b64(a, ent, elen);
	if (with & SNAPSHOT_LEAF_HASH) {
		s->what = "leaf hash";
		e = kt_store_read_leaf_hash(s->r, index, &leaf);
		if (e != KT_OK)
			return e;
		answer_lit(a, ",\"leaf_hash\":");
		answer_b64(a, leaf.b, KT_HASH_LEN);
	}
	if (with & SNAPSHOT_CHECKPOINT) {
		answer_lit(a, ",");
		if ((e = snapshot_put_checkpoint(s, a, m)) != KT_OK)
			return e;
	}
	if ((e = snapshot_inclusion(s, index, size, &p)) != KT_OK)
		return e;
	answer_lit(a, ",\"proof\":{\"index\":");
	answer_u64(a, index);
	answer_lit(a, ",\"size\":");
	answer_u64(a, size);
	answer_lit(a, ",\"hashes\":");
	answer_path(a, &p, index, size, m);
	answer_lit(a, "}");
	return KT_OK;
}
