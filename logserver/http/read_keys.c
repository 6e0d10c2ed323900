/*
 * read_keys.c: key lookup. GET /v1/keys/<label> answers a lookup proof of
 * the label's latest version at a checkpoint (200), or of its absence
 * (404, with the proof in the body); GET /v1/keys/<label>/history a page
 * of its versions, each with its update leaf, inclusion proof, opening and
 * value, so an owner can check its chain link by link.
 */
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "kt/lookup.h"

/* A label from the path, its VRF proof and map index, and the snapshot it
 * is looked up in. */
struct key {
	char label[KT_LABEL_MAX + 1];
	size_t len;
	uint8_t vrf[KT_VRF_PROOF_LEN];
	struct kt_hash index;
	struct snapshot s;
};

/* Decodes the label of "/v1/keys/<label>" followed by suffix_len bytes. */
static int
key_label(struct kt_api *api, const struct kt_api_req *req, size_t suffix_len,
    struct key *k, struct kt_api_resp *resp)
{
	const char *seg = req->path + strlen("/v1/keys/");

	k->s = (struct snapshot){ 0 };
	return request_label(seg, strlen(seg) - suffix_len,
	    api->limits.max_label, k->label, &k->len, resp);
}

/* Opens the snapshot and finds the label's VRF proof and index. */
static int
key_open(struct kt_api *api, struct key *k, struct kt_api_resp *resp)
{
	kt_err e;

	if (snapshot_begin(api, &k->s, resp) != KT_OK)
		return 0;
	e = bundle_vrf(api, &k->s, k->label, k->len, k->vrf, &k->index, NULL);
	if (e != KT_OK) {
		snapshot_error(&k->s, resp, e);
		return 0;
	}
	return 1;
}

/* The query of a lookup: checkpoint_size (default: the snapshot's) and
 * format (json, or tlog-proof for the C2SP tlog-proof file). */
static int
lookup_query(const struct kt_api_req *req, uint64_t *size, int *tlogproof,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "checkpoint_size" },
		{ .name = "format" } };

	*size = 0;
	*tlogproof = 0;
	if (!request_query(req, q, 2, resp))
		return 0;
	if (q[0].seen && !request_query_u64(&q[0], size, resp))
		return 0;
	if (q[0].seen && *size == 0) {
		/* 0 would otherwise mean "the current size" below. */
		answer_error(resp, KT_ERR_RANGE,
		    "checkpoint_size 0 is not a checkpoint of this log (a log "
		    "starts at size 1)");
		return 0;
	}
	if (q[1].seen) {
		if (strcmp(q[1].value, "tlog-proof") == 0) {
			*tlogproof = 1;
		} else if (strcmp(q[1].value, "json") != 0) {
			answer_error(resp, KT_ERR_MALFORMED,
			    "'format' is json or tlog-proof");
			return 0;
		}
	}
	return 1;
}

/* The lookup as a C2SP tlog-proof (text/plain), at the snapshot's size. */
static kt_err
answer_tlogproof(struct key *k, const struct kt_lookup_proof *p,
    struct kt_api_resp *resp)
{
	const char *note;
	size_t nlen, len, cap = KT_LOOKUP_MAX * 2 + 8192;
	char *buf;
	kt_err e;

	k->s.what = "checkpoint";
	e = kt_store_read_checkpoint(k->s.r, &note, &nlen);
	if (e != KT_OK)
		return e;
	buf = malloc(cap);
	if (buf == NULL)
		return KT_ERR_NOMEM;
	e = kt_lookup_tlogproof_format(p, note, nlen, buf, cap, &len);
	if (e != KT_OK) {
		free(buf);
		return KT_ERR_INTERNAL;
	}
	answer_set(resp, p->present ? 200 : 404, "text/plain; charset=utf-8",
	    buf, len);
	return KT_OK;
}

void
read_keys_get(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct key k;
	struct answer a = { 0 };
	struct kt_lookup_proof *p = NULL;
	uint64_t size;
	int tlogproof;
	kt_err e = KT_OK;

	if (!key_label(api, req, 0, &k, resp) ||
	    !lookup_query(req, &size, &tlogproof, resp) ||
	    !key_open(api, &k, resp))
		goto out;
	if (size == 0)
		size = k.s.size;
	if (tlogproof && size != k.s.size) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "format=tlog-proof is made at the current checkpoint: "
		    "leave out checkpoint_size");
		goto out;
	}
	p = malloc(sizeof(*p));
	if (p == NULL) {
		e = KT_ERR_NOMEM;
		goto fail;
	}
	e = bundle_lookup(&k.s, k.label, k.len, k.vrf, &k.index, size, p);
	if (e != KT_OK)
		goto fail;
	if (tlogproof) {
		e = answer_tlogproof(&k, p, resp);
		if (e != KT_OK)
			goto fail;
		goto out;
	}
	answer_lit(&a, "{");
	if (!p->present) {
		answer_lit(&a, "\"error\":\"label has never been published\",");
		answer_lit(&a, "\"status\":404,");
	}
	if ((e = bundle_put_lookup(&a, p, &k.index)) != KT_OK)
		goto fail;
	answer_lit(&a, ",\"checkpoint_size\":");
	answer_u64(&a, size);
	if (size == k.s.size) {
		answer_lit(&a, ",");
		if ((e = snapshot_put_checkpoint(&k.s, &a, NULL)) != KT_OK)
			goto fail;
	}
	answer_lit(&a, "}\n");
	answer_json(resp, &a);
	if (!p->present && resp->status == 200)
		resp->status = 404;
	goto out;
fail:
	bundle_error(&k.s, resp, e, size);
out:
	free(p);
	answer_free(&a);
	snapshot_end(&k.s);
}

/* The "from" query of a history page: a version, 1 if not given. */
static int
history_from(const struct kt_api_req *req, uint64_t *from,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "from" } };

	*from = 1;
	if (!request_query(req, q, 1, resp))
		return 0;
	if (q[0].seen && !request_query_u64(&q[0], from, resp))
		return 0;
	if (q[0].seen && *from == 0) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "'from' is a version: 1 "
		    "or more");
		return 0;
	}
	return 1;
}

/* One version's value: opening and key (or revoked), or erased. */
static void
put_value(struct answer *a, const struct kt_store_value *v)
{
	answer_lit(a, ",\"prev_chain\":");
	answer_b64(a, v->prev_chain.b, KT_HASH_LEN);
	if (v->erased) {
		answer_lit(a, ",\"erased\":true");
		return;
	}
	answer_lit(a, ",\"opening\":");
	answer_b64(a, v->opening, KT_OPENING_LEN);
	if (v->kind == KT_VALUE_REVOKE) {
		answer_lit(a, ",\"revoked\":true");
		return;
	}
	answer_lit(a, ",\"key_type\":");
	answer_str(a, v->key_type, v->key_type_len);
	answer_lit(a, ",\"key\":");
	answer_b64(a, v->key, v->key_len);
}

/* Versions from..last of the label, each with its proof and value. */
static kt_err
history_versions(struct key *k, struct answer *a, uint64_t from, uint64_t last)
{
	struct answer_memo memo;
	struct kt_store_value *v;
	uint64_t idx;
	kt_err e = KT_OK;

	v = malloc(sizeof(*v));
	if (v == NULL)
		return KT_ERR_NOMEM;
	answer_memo_init(&memo);
	answer_lit(a, ",\"versions\":[");
	for (uint64_t ver = from; ver <= last; ver++) {
		k->s.what = "label index";
		if ((e = kt_store_label_version(k->s.r, &k->index, ver,
		         &idx)) != KT_OK)
			break;
		k->s.what = "value";
		if ((e = kt_store_read_value(k->s.r, idx, v)) != KT_OK)
			break;
		if (ver != from)
			answer_lit(a, ",");
		answer_lit(a, "{\"version\":");
		answer_u64(a, ver);
		answer_lit(a, ",\"index\":");
		answer_u64(a, idx);
		answer_lit(a, ",");
		if ((e = snapshot_put_entry(&k->s, a, idx, 0, &memo)) != KT_OK)
			break;
		put_value(a, v);
		answer_lit(a, "}");
	}
	answer_lit(a, "]");
	answer_memo_free(&memo);
	free(v);
	return e;
}

void
read_keys_history(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct key k;
	struct answer a = { 0 };
	uint64_t from, last, count = 0;
	kt_err e;

	if (!key_label(api, req, strlen("/history"), &k, resp) ||
	    !history_from(req, &from, resp) || !key_open(api, &k, resp))
		goto out;
	k.s.what = "label index";
	if ((e = kt_store_label_count(k.s.r, &k.index, &count)) != KT_OK)
		goto fail;
	if (count == 0) {
		answer_error(resp, KT_ERR_NOT_FOUND,
		    "label '%.*s' has never been published (GET "
		    "/v1/keys/<label> proves its absence)",
		    (int)k.len, k.label);
		goto out;
	}
	if (from > count) {
		answer_error(resp, KT_ERR_RANGE,
		    "'from' %llu is past the "
		    "label's %llu versions",
		    (unsigned long long)from, (unsigned long long)count);
		goto out;
	}
	answer_lit(&a, "{\"label\":");
	answer_str(&a, k.label, k.len);
	answer_lit(&a, ",\"map_index\":");
	answer_b64(&a, k.index.b, KT_HASH_LEN);
	answer_lit(&a, ",\"vrf_proof\":");
	answer_b64(&a, k.vrf, KT_VRF_PROOF_LEN);
	answer_lit(&a, ",\"checkpoint_size\":");
	answer_u64(&a, k.s.size);
	answer_lit(&a, ",");
	if ((e = snapshot_put_checkpoint(&k.s, &a, NULL)) != KT_OK)
		goto fail;
	/* Bounded answers: at most a page of versions; "next" says where to
	 * continue. */
	last = count;
	if (last - from + 1 > api->limits.page_size)
		last = from + api->limits.page_size - 1;
	if ((e = history_versions(&k, &a, from, last)) != KT_OK)
		goto fail;
	if (last < count) {
		answer_lit(&a, ",\"next\":");
		answer_u64(&a, last + 1);
	}
	answer_lit(&a, "}\n");
	answer_json(resp, &a);
	goto out;
fail:
	snapshot_error(&k.s, resp, e);
out:
	answer_free(&a);
	snapshot_end(&k.s);
}
