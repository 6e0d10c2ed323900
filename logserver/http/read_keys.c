/*
 * read_keys.c: key lookup. GET /v1/keys/<label> answers the label's
 * newest version with its proof; GET /v1/keys/<label>/history a page of
 * its versions, each with a proof to one checkpoint.
 */
#include <string.h>

#include "http/internal.h"

/* A label from the path, and the snapshot it is looked up in. */
struct key {
	char label[KT_LABEL_MAX + 1];
	size_t len;
	uint64_t count; /* versions published */
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

/* Opens the snapshot and counts the label's versions. 0 and an answer if
 * that fails or the label was never published; close k->s either way. */
static int
key_find(struct kt_api *api, struct key *k, struct kt_api_resp *resp)
{
	kt_err e;

	if (snapshot_begin(api, &k->s, resp) != KT_OK)
		return 0;
	k->s.what = "label";
	e = kt_store_label_count(k->s.r, k->label, k->len, &k->count);
	if (e != KT_OK) {
		snapshot_error(&k->s, resp, e);
		return 0;
	}
	if (k->count == 0) {
		answer_error(resp, KT_ERR_NOT_FOUND,
		    "label '%.*s' has never "
		    "been published",
		    (int)k->len, k->label);
		return 0;
	}
	return 1;
}

void
read_keys_get(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct key k;
	struct answer a = { 0 };
	uint64_t idx, version;
	kt_err e;

	if (!key_label(api, req, 0, &k, resp) || !request_no_query(req, resp) ||
	    !key_find(api, &k, resp))
		goto out;
	answer_lit(&a, "{\"label\":");
	answer_str(&a, k.label, k.len);
	k.s.what = "label index";
	if ((e = kt_store_label_version(k.s.r, k.label, k.len, k.count,
	         &idx)) != KT_OK)
		goto fail;
	if ((e = snapshot_entry_version(&k.s, idx, &version)) != KT_OK)
		goto fail;
	answer_lit(&a, ",\"version\":");
	answer_u64(&a, version);
	answer_lit(&a, ",\"index\":");
	answer_u64(&a, idx);
	answer_lit(&a, ",");
	if ((e = snapshot_put_entry(&k.s, &a, idx,
	         SNAPSHOT_LEAF_HASH | SNAPSHOT_CHECKPOINT, NULL)) != KT_OK)
		goto fail;
	answer_lit(&a, "}\n");
	answer_json(resp, &a);
	goto out;
fail:
	snapshot_error(&k.s, resp, e);
out:
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

/* Versions from..last of the label, each with its proof. */
static kt_err
history_versions(struct key *k, struct answer *a, uint64_t from, uint64_t last)
{
	struct answer_memo memo;
	uint64_t idx;
	kt_err e = KT_OK;

	answer_memo_init(&memo);
	answer_lit(a, ",\"versions\":[");
	for (uint64_t v = from; v <= last; v++) {
		k->s.what = "label index";
		if ((e = kt_store_label_version(k->s.r, k->label, k->len, v,
		         &idx)) != KT_OK)
			break;
		if (v != from)
			answer_lit(a, ",");
		answer_lit(a, "{\"version\":");
		answer_u64(a, v);
		answer_lit(a, ",\"index\":");
		answer_u64(a, idx);
		answer_lit(a, ",");
		if ((e = snapshot_put_entry(&k->s, a, idx, 0, &memo)) != KT_OK)
			break;
		answer_lit(a, "}");
	}
	answer_lit(a, "]");
	answer_memo_free(&memo);
	return e;
}

void
read_keys_history(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct key k;
	struct answer a = { 0 };
	uint64_t from, last;
	kt_err e;

	if (!key_label(api, req, strlen("/history"), &k, resp) ||
	    !history_from(req, &from, resp) || !key_find(api, &k, resp))
		goto out;
	answer_lit(&a, "{\"label\":");
	answer_str(&a, k.label, k.len);
	answer_lit(&a, ",");
	if ((e = snapshot_put_checkpoint(&k.s, &a, NULL)) != KT_OK)
		goto fail;
	if (from > k.count) {
		answer_error(resp, KT_ERR_RANGE,
		    "'from' %llu is past the "
		    "label's %llu versions",
		    (unsigned long long)from, (unsigned long long)k.count);
		goto out;
	}
	/* Bounded answers: at most a page of versions; "next" says where to
	 * continue. */
	last = k.count;
	if (last - from + 1 > api->limits.page_size)
		last = from + api->limits.page_size - 1;
	if ((e = history_versions(&k, &a, from, last)) != KT_OK)
		goto fail;
	if (last < k.count) {
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
