/*
 * read_map.c: the directory map for monitors and auditors, by map index
 * (no label needed).
 *
 * GET /v1/map/<index>: the index's path in the map of a checkpoint (the
 * map head ending it, with its inclusion proof), which proves the index's
 * latest version and chain, or its absence; with ?since=V also the update
 * leaves of versions V+1.. with their inclusion proofs (openings and values
 * come with the label's history: the index alone does not reveal keys).
 *
 * GET /v1/map/audit/<head index>: what a stateless auditor needs to check
 * the batch that map head closes: the previous map head, the batch's
 * update leaves, and the paths, in the previous map, of every index the
 * batch touched (each once). kt_map_apply_proofs then checks the batch and
 * computes the new root from the previous root alone.
 */
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "kt/fmt.h"
#include "kt/leaf.h"
#include "kt/map.h"
#include "store/store_map.h"

/* Updates listed by ?since at most (a page; since moves on). */
#define SINCE_MAX 256

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "/v1/map/<64 lowercase hex digits>" into *index. */
static int
map_index(const struct kt_api_req *req, struct kt_hash *index,
    struct kt_api_resp *resp)
{
	const char *seg = req->path + strlen("/v1/map/");

	if (strlen(seg) != 2 * KT_HASH_LEN)
		goto bad;
	for (size_t i = 0; i < KT_HASH_LEN; i++) {
		int hi = hexval(seg[2 * i]), lo = hexval(seg[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		index->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 1;
bad:
	answer_error(resp, KT_ERR_MALFORMED,
	    "a map index is 64 lowercase hex digits (the first 32 bytes of "
	    "the label's VRF output; lookups answer it as map_index)");
	return 0;
}

/* The map proof p, encoded, as a base64 field value. */
static kt_err
put_map_proof(struct answer *a, const struct kt_map_proof *p)
{
	uint8_t buf[KT_MAP_PROOF_MAX];
	size_t len;

	if (kt_map_proof_encode(p, buf, sizeof(buf), &len) != KT_OK)
		return KT_ERR_INTERNAL;
	answer_b64(a, buf, len);
	return KT_OK;
}

/* "head": the map head ending size, with its inclusion proof. */
static kt_err
put_head(struct snapshot *s, struct answer *a, uint64_t size,
    struct answer_memo *m)
{
	answer_lit(a, "\"head\":{\"index\":");
	answer_u64(a, size - 1);
	answer_lit(a, ",");
	return snapshot_put_entry_at(s, a, size - 1, size, 0, m);
}

/* The update leaves of the index after version `since`, up to the map
 * leaf's version, following links back from the latest; their proofs to
 * the checkpoint of size leaves. */
static kt_err
put_since(struct snapshot *s, struct answer *a, const struct kt_map_leaf *l,
    uint64_t since, uint64_t size, struct answer_memo *m)
{
	uint64_t at[SINCE_MAX], idx = l->update_index, n = 0, v = l->version;
	struct kt_update u;
	const uint8_t *buf;
	size_t len;
	kt_err e;

	/* Oldest first; at most a page, from since + 1. */
	while (v > since) {
		s->what = "update";
		if ((e = kt_store_read_entry(s->r, idx, &buf, &len)) != KT_OK)
			return e;
		if (kt_update_decode(buf, len, &u) != KT_OK)
			return KT_ERR_INTERNAL;
		if (v <= since + SINCE_MAX)
			at[v - since - 1] = idx, n++;
		idx = u.prev_index;
		v--;
	}
	answer_lit(a, ",\"updates\":[");
	for (uint64_t i = 0; i < n; i++) {
		if (i)
			answer_lit(a, ",");
		answer_lit(a, "{\"version\":");
		answer_u64(a, since + 1 + i);
		answer_lit(a, ",\"index\":");
		answer_u64(a, at[i]);
		answer_lit(a, ",");
		if ((e = snapshot_put_entry_at(s, a, at[i], size, 0, m)) !=
		    KT_OK)
			return e;
		answer_lit(a, "}");
	}
	answer_lit(a, "]");
	if (l->version > since + SINCE_MAX) {
		answer_lit(a, ",\"next_since\":");
		answer_u64(a, since + SINCE_MAX);
	}
	return KT_OK;
}

void
read_map_path(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "checkpoint_size" },
		{ .name = "since" } };
	struct snapshot s = { 0 };
	struct answer a = { 0 };
	struct answer_memo memo;
	struct kt_map_proof *p = NULL;
	struct kt_map_head h;
	struct kt_hash index;
	uint64_t size = 0, since = 0;
	int present;
	kt_err e;

	answer_memo_init(&memo);
	if (!map_index(req, &index, resp) || !request_query(req, q, 2, resp) ||
	    (q[0].seen && !request_query_u64(&q[0], &size, resp)) ||
	    (q[1].seen && !request_query_u64(&q[1], &since, resp)))
		goto out;
	if (q[0].seen && size == 0) {
		/* 0 would otherwise mean "the current size" below. */
		answer_error(resp, KT_ERR_RANGE,
		    "checkpoint_size 0 is not a checkpoint of this log (a log "
		    "starts at size 1)");
		goto out;
	}
	if (snapshot_begin(api, &s, resp) != KT_OK)
		goto out;
	if (size == 0)
		size = s.size;
	p = malloc(sizeof(*p));
	if (p == NULL) {
		e = KT_ERR_NOMEM;
		goto fail;
	}
	if ((e = bundle_head(&s, size, &h)) != KT_OK)
		goto fail;
	s.what = "map path";
	e = kt_store_map_prove(s.r, &h.root, &index, p);
	if (e != KT_OK) {
		e = e == KT_ERR_NOT_FOUND ? KT_ERR_EXISTS : e;
		goto fail;
	}
	present = p->has_leaf && kt_hash_eq(&p->leaf.index, &index);
	answer_lit(&a, "{\"map_index\":");
	answer_b64(&a, index.b, KT_HASH_LEN);
	answer_lit(&a, ",\"checkpoint_size\":");
	answer_u64(&a, size);
	answer_lit(&a, ",");
	if ((e = put_head(&s, &a, size, &memo)) != KT_OK)
		goto fail;
	answer_lit(&a, "},\"present\":");
	answer_lit(&a, present ? "true" : "false");
	if (present) {
		answer_lit(&a, ",\"version\":");
		answer_u64(&a, p->leaf.version);
		answer_lit(&a, ",\"update_index\":");
		answer_u64(&a, p->leaf.update_index);
	}
	answer_lit(&a, ",\"map_proof\":");
	if ((e = put_map_proof(&a, p)) != KT_OK)
		goto fail;
	if (present && q[1].seen &&
	    (e = put_since(&s, &a, &p->leaf, since, size, &memo)) != KT_OK)
		goto fail;
	if (size == s.size) {
		answer_lit(&a, ",");
		if ((e = snapshot_put_checkpoint(&s, &a, NULL)) != KT_OK)
			goto fail;
	}
	answer_lit(&a, "}\n");
	answer_json(resp, &a);
	goto out;
fail:
	bundle_error(&s, resp, e, size);
out:
	free(p);
	answer_memo_free(&memo);
	answer_free(&a);
	snapshot_end(&s);
}

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, KT_HASH_LEN);
}

/* The distinct map indexes of the updates in leaves [from, to), sorted
 * (a label's several versions in one batch: its path once). */
static kt_err
audit_indexes(struct snapshot *s, uint64_t from, uint64_t to,
    struct kt_hash *idx, size_t *n)
{
	struct kt_update u;
	const uint8_t *buf;
	size_t len, k = 0, j = 0;
	kt_err e;

	s->what = "update";
	for (uint64_t i = from; i < to; i++) {
		if ((e = kt_store_read_entry(s->r, i, &buf, &len)) != KT_OK)
			return e;
		if (kt_update_decode(buf, len, &u) != KT_OK)
			return KT_ERR_INTERNAL;
		idx[k++] = u.index;
	}
	qsort(idx, k, sizeof(*idx), hash_cmp);
	for (size_t i = 0; i < k; i++)
		if (j == 0 || !kt_hash_eq(&idx[j - 1], &idx[i]))
			idx[j++] = idx[i];
	*n = j;
	return KT_OK;
}

void
read_map_audit(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	const char *seg = req->path + strlen("/v1/map/audit/");
	struct snapshot s = { 0 };
	struct answer a = { 0 };
	struct kt_map_proof *p = NULL;
	struct kt_store_map_prover *pv = NULL;
	struct kt_hash *idx = NULL;
	struct kt_map_head h, prev;
	struct request_param none = { .name = "head" };
	uint64_t at;
	size_t n = 0;
	kt_err e;

	none.seen = 1;
	if (!request_no_query(req, resp))
		goto out;
	if (kt_fmt(none.value, sizeof(none.value), "%s", seg) != KT_OK)
		none.value[0] = 0; /* too long: refused as not a number */
	if (!request_query_u64(&none, &at, resp) ||
	    snapshot_begin(api, &s, resp) != KT_OK)
		goto out;
	if ((e = bundle_head(&s, at + 1, &h)) != KT_OK ||
	    h.prev_head == KT_NO_PREV) {
		answer_error(resp, KT_ERR_RANGE,
		    "leaf %llu is not a map head closing a batch (map heads "
		    "are the last leaf of every checkpoint after the first)",
		    (unsigned long long)at);
		goto out;
	}
	if ((e = bundle_head(&s, h.prev_head + 1, &prev)) != KT_OK)
		goto fail;
	p = malloc(sizeof(*p));
	idx = calloc(at - h.prev_head, sizeof(*idx));
	if (p == NULL || idx == NULL) {
		e = KT_ERR_NOMEM;
		goto fail;
	}
	if ((e = audit_indexes(&s, h.prev_head + 1, at, idx, &n)) != KT_OK)
		goto fail;
	answer_lit(&a, "{\"head_index\":");
	answer_u64(&a, at);
	answer_lit(&a, ",\"prev_head_index\":");
	answer_u64(&a, h.prev_head);
	answer_lit(&a, ",\"prev_root\":");
	answer_b64(&a, prev.root.b, KT_HASH_LEN);
	answer_lit(&a, ",\"root\":");
	answer_b64(&a, h.root.b, KT_HASH_LEN);
	answer_lit(&a, ",\"paths\":[");
	s.what = "map path";
	/* The indexes are sorted: neighbouring paths share their top strata,
	 * which the prover reads and hashes once. */
	e = n > 0 ? kt_store_map_prover_open(s.r, &prev.root, &pv) : KT_OK;
	if (e != KT_OK) {
		e = e == KT_ERR_NOT_FOUND ? KT_ERR_EXISTS : e;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		e = kt_store_map_prover_prove(pv, &idx[i], p);
		if (e != KT_OK) {
			e = e == KT_ERR_NOT_FOUND ? KT_ERR_EXISTS : e;
			goto fail;
		}
		if (i)
			answer_lit(&a, ",");
		if ((e = put_map_proof(&a, p)) != KT_OK)
			goto fail;
	}
	answer_lit(&a, "]}\n");
	answer_json(resp, &a);
	goto out;
fail:
	bundle_error(&s, resp, e, at + 1);
out:
	kt_store_map_prover_close(pv);
	free(idx);
	free(p);
	answer_free(&a);
	snapshot_end(&s);
}
