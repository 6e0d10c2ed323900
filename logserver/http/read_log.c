/*
 * read_log.c: the log's read endpoints. GET /checkpoint, the proofs
 * (/v1/proof/inclusion, /v1/proof/consistency), a page of entries
 * (/v1/entries) and tlog-tiles (/tile/...). Each decodes its query,
 * reads one store snapshot and answers.
 */
#include <stdlib.h>
#include <string.h>

#include "kt/tile.h"
#include "http/internal.h"
#include "witness_client/witness_client.h"

/* ---- GET /checkpoint -------------------------------------------------- */

/* The newest checkpoint with its witnesses' quorum of cosignatures; 0 if
 * there is none yet (or no witnesses). */
static int
cosigned_checkpoint(struct kt_api *api, struct kt_api_resp *resp)
{
	char *body;
	size_t len;

	if (api->wclient == NULL)
		return 0;
	body = malloc(KT_NOTE_MAX + 1);
	if (body == NULL ||
	    kt_wclient_checkpoint(api->wclient, body, KT_NOTE_MAX, &len,
	        NULL) != KT_OK) {
		free(body);
		return 0;
	}
	body[len] = '\0';
	answer_set(resp, 200, "text/plain; charset=utf-8", body, len);
	resp->cache_control = "no-cache";
	return 1;
}

void
read_log_checkpoint(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct snapshot s;
	const char *note;
	size_t len;
	char *body;
	kt_err e;

	if (!request_no_query(req, resp))
		return;
	/* With witnesses: the newest checkpoint that has its quorum of
	 * cosignatures, or the log's own until there is one. */
	if (cosigned_checkpoint(api, resp))
		return;
	if (snapshot_begin(api, &s, resp) != KT_OK)
		return;
	e = kt_store_read_checkpoint(s.r, &note, &len);
	if (e == KT_ERR_NOT_FOUND) {
		kt_api_error(resp, KT_ERR_NOT_FOUND,
		    "the log has no "
		    "checkpoint yet");
		goto out;
	}
	if (e != KT_OK) {
		answer_store_error(resp, e, "checkpoint");
		goto out;
	}
	body = malloc(len + 1);
	if (body == NULL) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		goto out;
	}
	memcpy(body, note, len);
	body[len] = '\0';
	answer_set(resp, 200, "text/plain; charset=utf-8", body, len);
	/* tlog-tiles: clients may cache a checkpoint a few seconds at most. */
	resp->cache_control = "no-cache";
out:
	snapshot_end(&s);
}

/* ---- GET /v1/proof/inclusion, /v1/proof/consistency ------------------- */

/* A proof answer: {"<n1>": v1, "<n2>": v2, "hashes": [...]}. */
static void
proof_answer(struct kt_api_resp *resp, const char *n1, uint64_t v1,
    const char *n2, uint64_t v2, const struct kt_proof *p)
{
	struct answer a = { 0 };

	answer_lit(&a, "{\"");
	answer_lit(&a, n1);
	answer_lit(&a, "\":");
	answer_u64(&a, v1);
	answer_lit(&a, ",\"");
	answer_lit(&a, n2);
	answer_lit(&a, "\":");
	answer_u64(&a, v2);
	answer_lit(&a, ",\"hashes\":");
	answer_proof(&a, p);
	answer_lit(&a, "}\n");
	answer_json(resp, &a);
}

/* The index of the entry with this leaf hash, below size; 0 and an
 * answer if there is none. */
static int
leaf_index(struct snapshot *s, const struct kt_hash *leaf, uint64_t size,
    uint64_t *index, struct kt_api_resp *resp)
{
	kt_err e = kt_store_find_leaf(s->r, leaf, index);

	if (e == KT_ERR_NOT_FOUND) {
		kt_api_error(resp, KT_ERR_NOT_FOUND,
		    "no entry has this leaf "
		    "hash");
		return 0;
	}
	if (e != KT_OK) {
		answer_store_error(resp, e, "leaf index");
		return 0;
	}
	if (*index >= size) {
		answer_error(resp, KT_ERR_NOT_FOUND,
		    "the entry with this "
		    "leaf hash is at index %llu, outside the tree of size %llu",
		    (unsigned long long)*index, (unsigned long long)size);
		return 0;
	}
	return 1;
}

/* The query of an inclusion proof: size, and index or leaf_hash. */
static int
inclusion_query(const struct kt_api_req *req, uint64_t *index, uint64_t *size,
    struct kt_hash *leaf, int *by_leaf, struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "index" }, { .name = "size" },
		{ .name = "leaf_hash" } };
	uint8_t tmp[48];
	size_t dl = 0;

	if (!request_query(req, q, 3, resp))
		return 0;
	if (q[0].seen == q[2].seen) {
		kt_api_error(resp, KT_ERR_MALFORMED,
		    "give exactly one of "
		    "'index' or 'leaf_hash'");
		return 0;
	}
	if (!request_query_u64(&q[1], size, resp))
		return 0;
	if (q[0].seen && !request_query_u64(&q[0], index, resp))
		return 0;
	*by_leaf = q[2].seen;
	if (!*by_leaf)
		return 1;
	if (request_b64(q[2].value, strlen(q[2].value), tmp, sizeof tmp,
	        KT_HASH_LEN, &dl) != 1 ||
	    dl != KT_HASH_LEN) {
		kt_api_error(resp, KT_ERR_MALFORMED,
		    "'leaf_hash' must be 32 "
		    "bytes in standard base64 (percent-encode '+' as %2B, '/' "
		    "as %2F, '=' as %3D)");
		return 0;
	}
	memcpy(leaf->b, tmp, KT_HASH_LEN);
	return 1;
}

void
read_log_inclusion(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct snapshot s;
	uint64_t index = 0, size;
	struct kt_hash leaf;
	struct kt_proof p;
	int by_leaf;
	kt_err e;

	if (!inclusion_query(req, &index, &size, &leaf, &by_leaf, resp))
		return;
	if (snapshot_begin(api, &s, resp) != KT_OK)
		return;
	if (size == 0 || size > s.size) {
		answer_error(resp, KT_ERR_RANGE,
		    "size %llu is not in 1..%llu "
		    "(the current tree size)",
		    (unsigned long long)size, (unsigned long long)s.size);
		goto out;
	}
	if (by_leaf && !leaf_index(&s, &leaf, size, &index, resp))
		goto out;
	if (index >= size) {
		answer_error(resp, KT_ERR_RANGE,
		    "index %llu is not below size "
		    "%llu",
		    (unsigned long long)index, (unsigned long long)size);
		goto out;
	}
	if ((e = snapshot_inclusion(&s, index, size, &p)) != KT_OK) {
		snapshot_error(&s, resp, e);
		goto out;
	}
	proof_answer(resp, "index", index, "size", size, &p);
out:
	snapshot_end(&s);
}

void
read_log_consistency(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "old" }, { .name = "new" } };
	struct snapshot s;
	uint64_t old, nsize;
	struct kt_proof p;
	kt_err e;

	if (!request_query(req, q, 2, resp) ||
	    !request_query_u64(&q[0], &old, resp) ||
	    !request_query_u64(&q[1], &nsize, resp))
		return;
	if (old > nsize) {
		answer_error(resp, KT_ERR_RANGE,
		    "old (%llu) is larger than "
		    "new (%llu)",
		    (unsigned long long)old, (unsigned long long)nsize);
		return;
	}
	if (snapshot_begin(api, &s, resp) != KT_OK)
		return;
	if (nsize > s.size) {
		answer_error(resp, KT_ERR_RANGE,
		    "new (%llu) is larger than "
		    "the current tree size (%llu)",
		    (unsigned long long)nsize, (unsigned long long)s.size);
		goto out;
	}
	if ((e = snapshot_consistency(&s, old, nsize, &p)) != KT_OK) {
		snapshot_error(&s, resp, e);
		goto out;
	}
	proof_answer(resp, "old", old, "new", nsize, &p);
out:
	snapshot_end(&s);
}

/* ---- GET /v1/entries -------------------------------------------------- */

/* The query of a page of entries: start and end (exclusive), at most a
 * page apart. */
static int
entries_query(struct kt_api *api, const struct kt_api_req *req, uint64_t *start,
    uint64_t *end, struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "start" }, { .name = "end" } };

	if (!request_query(req, q, 2, resp) ||
	    !request_query_u64(&q[0], start, resp) ||
	    !request_query_u64(&q[1], end, resp))
		return 0;
	if (*start >= *end) {
		answer_error(resp, KT_ERR_RANGE,
		    "start (%llu) must be below "
		    "end (%llu); end is exclusive",
		    (unsigned long long)*start, (unsigned long long)*end);
		return 0;
	}
	if (*end - *start > api->limits.page_size) {
		answer_error(resp, KT_ERR_RANGE,
		    "at most %zu entries per "
		    "request (asked for %llu)",
		    api->limits.page_size, (unsigned long long)(*end - *start));
		return 0;
	}
	return 1;
}

void
read_log_entries(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct snapshot s;
	uint64_t start, end;
	struct answer a = { 0 };
	const uint8_t *ent;
	size_t elen;
	kt_err e;

	if (!entries_query(api, req, &start, &end, resp))
		return;
	if (snapshot_begin(api, &s, resp) != KT_OK)
		return;
	if (end > s.size) {
		answer_error(resp, KT_ERR_RANGE,
		    "end (%llu) is past the tree "
		    "size (%llu)",
		    (unsigned long long)end, (unsigned long long)s.size);
		goto out;
	}
	answer_reserve(&a, (size_t)(end - start) * 160 + 64);
	answer_lit(&a, "{\"entries\":[");
	for (uint64_t i = start; i < end; i++) {
		e = kt_store_read_entry(s.r, i, &ent, &elen);
		if (e != KT_OK) {
			answer_store_error(resp, e, "entry");
			goto out;
		}
		if (i != start)
			answer_lit(&a, ",");
		answer_b64(&a, ent, elen);
	}
	answer_lit(&a, "]}\n");
	answer_json(resp, &a);
out:
	answer_free(&a);
	snapshot_end(&s);
}

/* ---- GET /tile/... ---------------------------------------------------- */

void
read_log_tile(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	const char *path = req->path + 1;
	struct snapshot s = { 0 };
	struct kt_tile t;
	uint8_t *buf = NULL;
	size_t cap, len = 0;
	kt_err e;

	if (!request_no_query(req, resp))
		return;
	if (strlen(path) > KT_TILE_PATH_MAX ||
	    kt_tile_parse_path(path, strlen(path), &t) != KT_OK) {
		kt_api_error(resp, KT_ERR_NOT_FOUND,
		    "not a tlog-tiles path: "
		    "tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in "
		    "3-digit groups (x001/234)");
		return;
	}
	/* A bundle entry is a u16 length and a leaf; an update is the
	 * larger leaf. */
	cap = t.level == KT_TILE_LEVEL_ENTRIES
	    ? (size_t)t.width * (2 + KT_UPDATE_LEN)
	    : (size_t)t.width * KT_HASH_LEN;
	buf = malloc(cap);
	if (buf == NULL) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	if (snapshot_begin(api, &s, resp) != KT_OK)
		goto out;
	e = kt_store_read_tile(s.r, &t, buf, cap, &len);
	if (e == KT_ERR_NOT_FOUND) {
		answer_error(resp, KT_ERR_NOT_FOUND,
		    "no such tile in the tree "
		    "of size %llu",
		    (unsigned long long)s.size);
		goto out;
	}
	if (e != KT_OK) {
		answer_store_error(resp, e, "tile");
		goto out;
	}
	answer_set(resp, 200, "application/octet-stream", (char *)buf, len);
	buf = NULL;
	/* tlog-tiles: a full tile never changes. A partial one is served for
	 * every width up to the current one (each a prefix that never changes
	 * either); no-cache keeps caches simple while partial tiles may be
	 * dropped once the full tile exists. */
	resp->cache_control = t.width == KT_TILE_WIDTH
	    ? "public, max-age=31536000, immutable"
	    : "no-cache";
out:
	free(buf);
	snapshot_end(&s);
}
