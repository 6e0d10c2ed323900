#include "http/api.h"
#include "http/internal.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kt/b64.h"
#include "kt/entry.h"
#include "kt/merkle.h"
#include "kt/tile.h"
#include "log.h"
#include "witness_client/witness_client.h"

struct kt_api {
	struct kt_store *store;
	struct kt_limits limits;
	/* Set at start: writes need a token (a tokens file was given). */
	int auth_required;
	/* Writers check tokens under tokens_lock (shared); a reload swaps
	 * the set under it (exclusive). */
	pthread_rwlock_t tokens_lock;
	const struct kt_tokens *tokens;
	int allow_anonymous_writes;
	struct kt_metrics *metrics;
	struct kt_wclient *wclient;     /* NULL without witnesses */
	/* Submitters hold it shared around kt_seq_submit; detaching takes it
	 * exclusively, so no submit can touch a stopped sequencer. */
	pthread_rwlock_t seq_lock;
	struct kt_seq *seq;
};

struct kt_api_write {
	int batch;
	size_t n;
	json_t *json;              /* labels and key types borrow from it */
	uint8_t *keys;             /* decoded keys, one arena */
	struct kt_seq_req *reqs;
	struct kt_seq_res *res;
	kt_err err;                /* of the whole submission */
	int queued;
	uint64_t tree_size;
	struct timespec t0;
	struct kt_metrics *metrics;
	struct kt_wclient *wclient;
	kt_api_wake_fn wake;
	void *wake_arg;
};

/* ---- small parsers ---------------------------------------------------- */

static uint64_t
now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

/* ---- api object ------------------------------------------------------- */

kt_err
kt_api_new(struct kt_api **out, const struct kt_api_opts *opts)
{
	struct kt_api *api = calloc(1, sizeof *api);

	*out = NULL;
	if (api == NULL)
		return KT_ERR_NOMEM;
	api->store = opts->store;
	api->limits = *opts->limits;
	api->tokens = opts->tokens;
	api->auth_required = opts->tokens != NULL;
	api->allow_anonymous_writes = opts->tokens == NULL &&
	    opts->allow_anonymous_writes;
	api->metrics = opts->metrics;
	api->wclient = opts->wclient;
	if (pthread_rwlock_init(&api->seq_lock, NULL) != 0) {
		free(api);
		return KT_ERR_NOMEM;
	}
	if (pthread_rwlock_init(&api->tokens_lock, NULL) != 0) {
		pthread_rwlock_destroy(&api->seq_lock);
		free(api);
		return KT_ERR_NOMEM;
	}
	*out = api;
	return KT_OK;
}

void
kt_api_free(struct kt_api *api)
{
	if (api == NULL)
		return;
	pthread_rwlock_destroy(&api->seq_lock);
	pthread_rwlock_destroy(&api->tokens_lock);
	free(api);
}

void
kt_api_set_tokens(struct kt_api *api, const struct kt_tokens *tokens)
{
	assert(tokens != NULL && api->auth_required);
	pthread_rwlock_wrlock(&api->tokens_lock);
	api->tokens = tokens;
	pthread_rwlock_unlock(&api->tokens_lock);
}

void
kt_api_set_seq(struct kt_api *api, struct kt_seq *seq)
{
	pthread_rwlock_wrlock(&api->seq_lock);
	api->seq = seq;
	pthread_rwlock_unlock(&api->seq_lock);
}

struct kt_seq *
kt_api_detach_seq(struct kt_api *api)
{
	struct kt_seq *seq;

	pthread_rwlock_wrlock(&api->seq_lock);
	seq = api->seq;
	api->seq = NULL;
	pthread_rwlock_unlock(&api->seq_lock);
	return seq;
}

/* ---- reads: shared pieces --------------------------------------------- */

static kt_err
timed_inclusion(struct kt_api *api, struct kt_store_read *r, uint64_t index,
    uint64_t size, struct kt_proof *p)
{
	uint64_t t0 = now_us();
	kt_err e = kt_store_inclusion(r, index, size, p);
	kt_metrics_proof_us(api->metrics, now_us() - t0);
	return e;
}

/*
 * Appends "entry", "leaf_hash" (if with_leaf) and "proof" fields for leaf
 * `index` in the tree of `size` leaves.
 */
static kt_err put_checkpoint(struct answer *b, struct kt_store_read *r,
    struct answer_memo *m);

static kt_err
put_entry_fields(struct kt_api *api, struct answer *b, struct kt_store_read *r,
    uint64_t index, uint64_t size, int with_leaf, int with_cp,
    struct answer_memo *m, const char **what)
{
	const uint8_t *ent;
	size_t elen;
	struct kt_hash leaf;
	struct kt_proof p;
	kt_err e;

	*what = "entry";
	e = kt_store_read_entry(r, index, &ent, &elen);
	if (e != KT_OK)
		return e;
	answer_lit(b, "\"entry\":");
	answer_b64(b, ent, elen);
	if (with_leaf) {
		*what = "leaf hash";
		e = kt_store_read_leaf_hash(r, index, &leaf);
		if (e != KT_OK)
			return e;
		answer_lit(b, ",\"leaf_hash\":");
		answer_b64(b, leaf.b, KT_HASH_LEN);
	}
	if (with_cp) {
		*what = "checkpoint";
		answer_lit(b, ",");
		if ((e = put_checkpoint(b, r, m)) != KT_OK)
			return e;
	}
	*what = "inclusion proof";
	e = timed_inclusion(api, r, index, size, &p);
	if (e != KT_OK)
		return e;
	answer_lit(b, ",\"proof\":{\"index\":");
	answer_u64(b, index);
	answer_lit(b, ",\"size\":");
	answer_u64(b, size);
	answer_lit(b, ",\"hashes\":");
	answer_path(b, &p, index, size, m);
	answer_lit(b, "}");
	return KT_OK;
}

/* The "checkpoint" field; with a memo, escaped once per answer. */
static kt_err
put_checkpoint(struct answer *b, struct kt_store_read *r, struct answer_memo *m)
{
	const char *note;
	size_t len;
	kt_err e;

	if (m != NULL && m->cp.len != 0 && !m->cp.failed) {
		answer_raw(b, m->cp.p, m->cp.len);
		return KT_OK;
	}
	if ((e = kt_store_read_checkpoint(r, &note, &len)) != KT_OK)
		return e;
	if (m == NULL) {
		answer_lit(b, "\"checkpoint\":");
		answer_str(b, note, len);
		return KT_OK;
	}
	answer_lit(&m->cp, "\"checkpoint\":");
	answer_str(&m->cp, note, len);
	if (m->cp.failed)
		return KT_ERR_NOMEM;
	answer_raw(b, m->cp.p, m->cp.len);
	return KT_OK;
}

/* The version field of an entry (decoded from the stored bytes). */
static kt_err
entry_version(struct kt_store_read *r, uint64_t index, uint64_t *version)
{
	const uint8_t *ent;
	size_t elen;
	struct kt_entry e;
	kt_err err = kt_store_read_entry(r, index, &ent, &elen);

	if (err != KT_OK)
		return err;
	err = kt_entry_decode(ent, elen, &e);
	if (err != KT_OK)
		return KT_ERR_INTERNAL;
	*version = e.version;
	return KT_OK;
}

static void
read_end(struct kt_store_read *r)
{
	if (r != NULL)
		kt_store_read_end(r);
}

static kt_err
begin(struct kt_api *api, struct kt_store_read **r, struct kt_api_resp *resp)
{
	kt_err e = kt_store_read_begin(api->store, r);
	if (e != KT_OK)
		answer_store_error(resp, e, "snapshot");
	return e;
}

/* ---- GET /v1/keys/{label} and /history -------------------------------- */

static void
get_key(struct kt_api *api, const struct kt_api_req *req, int history,
    struct kt_api_resp *resp)
{
	char label[KT_LABEL_MAX + 1];
	size_t llen, seglen;
	const char *seg = req->path + strlen("/v1/keys/");
	struct kt_store_read *r = NULL;
	struct request_param q[] = { { .name = "from" } };
	uint64_t count = 0, size, idx, version, from = 1;
	const char *what = "label";
	struct answer_memo memo;
	struct answer b = { 0 };
	kt_err e;

	answer_memo_init(&memo);
	seglen = strlen(seg) - (history ? strlen("/history") : 0);
	if (!request_label(seg, seglen, api->limits.max_label, label, &llen,
	    resp))
		return;
	if (!request_query(req, q, history ? 1 : 0, resp))
		return;
	if (q[0].seen && (!request_query_u64(&q[0], &from, resp)))
		return;
	if (q[0].seen && from == 0) {
		answer_error(resp, KT_ERR_MALFORMED, "'from' is a version: 1 or more");
		return;
	}
	if (begin(api, &r, resp) != KT_OK)
		return;
	size = kt_store_read_size(r);
	e = kt_store_label_count(r, label, llen, &count);
	if (e != KT_OK)
		goto fail;
	if (count == 0) {
		answer_error(resp, KT_ERR_NOT_FOUND, "label '%.*s' has never been "
		    "published", (int)llen, label);
		goto out;
	}
	answer_lit(&b, "{\"label\":");
	answer_str(&b, label, llen);
	if (history) {
		answer_lit(&b, ",");
		what = "checkpoint";
		if ((e = put_checkpoint(&b, r, NULL)) != KT_OK)
			goto fail;
	}
	if (!history) {
		what = "label index";
		if ((e = kt_store_label_version(r, label, llen, count, &idx)) !=
		    KT_OK)
			goto fail;
		what = "entry";
		if ((e = entry_version(r, idx, &version)) != KT_OK)
			goto fail;
		answer_lit(&b, ",\"version\":");
		answer_u64(&b, version);
		answer_lit(&b, ",\"index\":");
		answer_u64(&b, idx);
		answer_lit(&b, ",");
		if ((e = put_entry_fields(api, &b, r, idx, size, 1, 1,
		    NULL, &what)) != KT_OK)
			goto fail;
		answer_lit(&b, "}\n");
	} else {
		uint64_t last = count;
		if (from > count) {
			free(b.p);
			b.p = NULL;
			answer_error(resp, KT_ERR_RANGE, "'from' %llu is past the "
			    "label's %llu versions", (unsigned long long)from,
			    (unsigned long long)count);
			goto out;
		}
		/* Bounded answers: at most a page of versions; "next" says
		 * where to continue. */
		if (last - from + 1 > api->limits.page_size)
			last = from + api->limits.page_size - 1;
		answer_lit(&b, ",\"versions\":[");
		for (uint64_t v = from; v <= last; v++) {
			what = "label index";
			if ((e = kt_store_label_version(r, label, llen, v, &idx))
			    != KT_OK)
				goto fail;
			if (v != from)
				answer_lit(&b, ",");
			answer_lit(&b, "{\"version\":");
			answer_u64(&b, v);
			answer_lit(&b, ",\"index\":");
			answer_u64(&b, idx);
			answer_lit(&b, ",");
			if ((e = put_entry_fields(api, &b, r, idx, size, 0, 0,
			    &memo, &what)) != KT_OK)
				goto fail;
			answer_lit(&b, "}");
		}
		answer_lit(&b, "]");
		if (last < count) {
			answer_lit(&b, ",\"next\":");
			answer_u64(&b, last + 1);
		}
		answer_lit(&b, "}\n");
	}
	answer_json(resp, &b);
	b.p = NULL;
	goto out;
fail:
	answer_store_error(resp, e, what);
out:
	free(b.p);
	answer_memo_free(&memo);
	read_end(r);
}

/* ---- GET /checkpoint -------------------------------------------------- */

static void
get_checkpoint(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct kt_store_read *r = NULL;
	const char *note;
	size_t len;
	char *body;
	kt_err e;

	if (!request_no_query(req, resp))
		return;
	/* With witnesses: the newest checkpoint that has its quorum of
	 * cosignatures, or the log's own until there is one. */
	if (api->wclient != NULL) {
		body = malloc(KT_NOTE_MAX + 1);
		if (body != NULL && kt_wclient_checkpoint(api->wclient, body,
		    KT_NOTE_MAX, &len, NULL) == KT_OK) {
			body[len] = '\0';
			answer_set(resp, 200, "text/plain; charset=utf-8", body,
			    len);
			resp->cache_control = "no-cache";
			return;
		}
		free(body);
	}
	if (begin(api, &r, resp) != KT_OK)
		return;
	e = kt_store_read_checkpoint(r, &note, &len);
	if (e == KT_ERR_NOT_FOUND) {
		kt_api_error(resp, KT_ERR_NOT_FOUND, "the log has no "
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
	read_end(r);
}

/* ---- GET /v1/proof/inclusion ------------------------------------------ */

/* A proof answer: {"<n1>": v1, "<n2>": v2, "hashes": [...]}. */
static void
proof_answer(struct kt_api_resp *resp, const char *n1, uint64_t v1,
    const char *n2, uint64_t v2, const struct kt_proof *p)
{
	struct answer b = { 0 };

	answer_lit(&b, "{\"");
	answer_lit(&b, n1);
	answer_lit(&b, "\":");
	answer_u64(&b, v1);
	answer_lit(&b, ",\"");
	answer_lit(&b, n2);
	answer_lit(&b, "\":");
	answer_u64(&b, v2);
	answer_lit(&b, ",\"hashes\":");
	answer_proof(&b, p);
	answer_lit(&b, "}\n");
	answer_json(resp, &b);
}

static void
get_inclusion(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "index" }, { .name = "size" },
	    { .name = "leaf_hash" } };
	struct kt_store_read *r = NULL;
	uint64_t index = 0, size, cur;
	struct kt_hash leaf;
	struct kt_proof p;
	kt_err e;

	if (!request_query(req, q, 3, resp))
		return;
	if (q[0].seen == q[2].seen) {
		kt_api_error(resp, KT_ERR_MALFORMED, "give exactly one of "
		    "'index' or 'leaf_hash'");
		return;
	}
	if (!request_query_u64(&q[1], &size, resp))
		return;
	if (q[0].seen && !request_query_u64(&q[0], &index, resp))
		return;
	if (q[2].seen) {
		uint8_t tmp[48];
		size_t dl = 0;
		if (request_b64(q[2].value, strlen(q[2].value), tmp, sizeof tmp,
		    KT_HASH_LEN, &dl) != 1 || dl != KT_HASH_LEN) {
			kt_api_error(resp, KT_ERR_MALFORMED, "'leaf_hash' must "
			    "be 32 bytes in standard base64 (percent-encode "
			    "'+' as %2B, '/' as %2F, '=' as %3D)");
			return;
		}
		memcpy(leaf.b, tmp, KT_HASH_LEN);
	}
	if (begin(api, &r, resp) != KT_OK)
		return;
	cur = kt_store_read_size(r);
	if (size == 0 || size > cur) {
		answer_error(resp, KT_ERR_RANGE, "size %llu is not in 1..%llu (the "
		    "current tree size)", (unsigned long long)size,
		    (unsigned long long)cur);
		goto out;
	}
	if (q[2].seen) {
		e = kt_store_find_leaf(r, &leaf, &index);
		if (e == KT_ERR_NOT_FOUND) {
			kt_api_error(resp, KT_ERR_NOT_FOUND, "no entry has this "
			    "leaf hash");
			goto out;
		}
		if (e != KT_OK) {
			answer_store_error(resp, e, "leaf index");
			goto out;
		}
		if (index >= size) {
			answer_error(resp, KT_ERR_NOT_FOUND, "the entry with this leaf "
			    "hash is at index %llu, outside the tree of size "
			    "%llu", (unsigned long long)index,
			    (unsigned long long)size);
			goto out;
		}
	}
	if (index >= size) {
		answer_error(resp, KT_ERR_RANGE, "index %llu is not below size %llu",
		    (unsigned long long)index, (unsigned long long)size);
		goto out;
	}
	e = timed_inclusion(api, r, index, size, &p);
	if (e != KT_OK) {
		answer_store_error(resp, e, "inclusion proof");
		goto out;
	}
	proof_answer(resp, "index", index, "size", size, &p);
out:
	read_end(r);
}

/* ---- GET /v1/proof/consistency ---------------------------------------- */

static void
get_consistency(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "old" }, { .name = "new" } };
	struct kt_store_read *r = NULL;
	uint64_t old, nsize, cur, t0;
	struct kt_proof p;
	kt_err e;

	if (!request_query(req, q, 2, resp) || !request_query_u64(&q[0], &old, resp) ||
	    !request_query_u64(&q[1], &nsize, resp))
		return;
	if (old > nsize) {
		answer_error(resp, KT_ERR_RANGE, "old (%llu) is larger than new "
		    "(%llu)", (unsigned long long)old,
		    (unsigned long long)nsize);
		return;
	}
	if (begin(api, &r, resp) != KT_OK)
		return;
	cur = kt_store_read_size(r);
	if (nsize > cur) {
		answer_error(resp, KT_ERR_RANGE, "new (%llu) is larger than the "
		    "current tree size (%llu)", (unsigned long long)nsize,
		    (unsigned long long)cur);
		goto out;
	}
	t0 = now_us();
	e = kt_store_consistency(r, old, nsize, &p);
	kt_metrics_proof_us(api->metrics, now_us() - t0);
	if (e != KT_OK) {
		answer_store_error(resp, e, "consistency proof");
		goto out;
	}
	proof_answer(resp, "old", old, "new", nsize, &p);
out:
	read_end(r);
}

/* ---- GET /v1/entries -------------------------------------------------- */

static void
get_entries(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "start" }, { .name = "end" } };
	struct kt_store_read *r = NULL;
	uint64_t start, end, cur;
	struct answer b = { 0 };
	kt_err e;

	if (!request_query(req, q, 2, resp) ||
	    !request_query_u64(&q[0], &start, resp) || !request_query_u64(&q[1], &end, resp))
		return;
	if (start >= end) {
		answer_error(resp, KT_ERR_RANGE, "start (%llu) must be below end "
		    "(%llu); end is exclusive", (unsigned long long)start,
		    (unsigned long long)end);
		return;
	}
	if (end - start > api->limits.page_size) {
		answer_error(resp, KT_ERR_RANGE, "at most %zu entries per request "
		    "(asked for %llu)", api->limits.page_size,
		    (unsigned long long)(end - start));
		return;
	}
	if (begin(api, &r, resp) != KT_OK)
		return;
	cur = kt_store_read_size(r);
	if (end > cur) {
		answer_error(resp, KT_ERR_RANGE, "end (%llu) is past the tree size "
		    "(%llu)", (unsigned long long)end,
		    (unsigned long long)cur);
		goto out;
	}
	answer_reserve(&b, (size_t)(end - start) * 160 + 64);
	answer_lit(&b, "{\"entries\":[");
	for (uint64_t i = start; i < end; i++) {
		const uint8_t *ent;
		size_t elen;
		e = kt_store_read_entry(r, i, &ent, &elen);
		if (e != KT_OK) {
			free(b.p);
			answer_store_error(resp, e, "entry");
			goto out;
		}
		if (i != start)
			answer_lit(&b, ",");
		answer_b64(&b, ent, elen);
	}
	answer_lit(&b, "]}\n");
	answer_json(resp, &b);
out:
	read_end(r);
}

/* ---- GET /tile/... ---------------------------------------------------- */

static void
get_tile(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	const char *path = req->path + 1;
	struct kt_store_read *r = NULL;
	struct kt_tile t;
	uint8_t *buf = NULL;
	size_t cap, len = 0;
	kt_err e;

	if (!request_no_query(req, resp))
		return;
	if (strlen(path) > KT_TILE_PATH_MAX ||
	    kt_tile_parse_path(path, strlen(path), &t) != KT_OK) {
		kt_api_error(resp, KT_ERR_NOT_FOUND, "not a tlog-tiles path: "
		    "tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in "
		    "3-digit groups (x001/234)");
		return;
	}
	cap = t.level == KT_TILE_LEVEL_ENTRIES ?
	    (size_t)t.width * (2 + KT_ENTRY_MAX) :
	    (size_t)t.width * KT_HASH_LEN;
	buf = malloc(cap);
	if (buf == NULL) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	if (begin(api, &r, resp) != KT_OK)
		goto out;
	e = kt_store_read_tile(r, &t, buf, cap, &len);
	if (e == KT_ERR_NOT_FOUND) {
		answer_error(resp, KT_ERR_NOT_FOUND, "no such tile in the tree of "
		    "size %llu", (unsigned long long)kt_store_read_size(r));
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
	resp->cache_control = t.width == KT_TILE_WIDTH ?
	    "public, max-age=31536000, immutable" : "no-cache";
out:
	free(buf);
	read_end(r);
}

/* ---- GET /healthz, /metrics ------------------------------------------- */

static void
get_healthz(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct kt_store_read *r = NULL;
	struct answer b = { 0 };

	int writable = kt_store_writable(api->store);

	if (!request_no_query(req, resp) || begin(api, &r, resp) != KT_OK)
		return;
	/* Reads still work when writes have stopped, but the operator (and
	 * a load balancer) must notice: 503. */
	answer_lit(&b, writable ? "{\"status\":\"ok\",\"size\":" :
	    "{\"status\":\"writes stopped\",\"error\":\"a sync of the data "
	    "file failed after a commit; restart kt-logd\",\"size\":");
	answer_u64(&b, kt_store_read_size(r));
	answer_lit(&b, "}\n");
	read_end(r);
	answer_json(resp, &b);
	if (!writable)
		resp->status = 503;
}

/* Appends the witness client's series to a rendered metrics body. */
static void
append_wclient_metrics(struct kt_wclient *wc, char **body, size_t *len)
{
	size_t need = 0, wlen = 0;
	char *nb;

	/* cap 0 only measures; counters may grow between the two calls */
	if (kt_wclient_metrics(wc, NULL, 0, &need) != KT_ERR_TOO_LARGE)
		return;
	need += 256;
	nb = realloc(*body, *len + need + 1);
	if (nb == NULL)
		return;
	*body = nb;
	if (kt_wclient_metrics(wc, nb + *len, need, &wlen) == KT_OK)
		*len += wlen;
	nb[*len] = '\0';
}

static void
get_metrics(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct kt_store_read *r = NULL;
	struct kt_seq_stats st, *stp = NULL;
	uint64_t size;
	char *body;
	size_t len;

	if (!request_no_query(req, resp) || begin(api, &r, resp) != KT_OK)
		return;
	size = kt_store_read_size(r);
	read_end(r);
	pthread_rwlock_rdlock(&api->seq_lock);
	if (api->seq != NULL) {
		kt_seq_stats(api->seq, &st);
		stp = &st;
	}
	pthread_rwlock_unlock(&api->seq_lock);
	if (kt_metrics_render(api->metrics, stp, size,
	    kt_store_disk_bytes(api->store), kt_store_writable(api->store),
	    &body, &len) != KT_OK) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	if (api->wclient != NULL)
		append_wclient_metrics(api->wclient, &body, &len);
	answer_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", body,
	    len);
}

/* ---- writes: parse and validate --------------------------------------- */

static int
authorised(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	const char *tok;
	size_t len;
	int ok;

	if (!api->auth_required) {
		if (api->allow_anonymous_writes)
			return 1;
		answer_status(resp, 403, "writes are disabled: this "
		    "server was started without a tokens file (--tokens)");
		return 0;
	}
	if (req->authorization == NULL) {
		kt_api_error(resp, KT_ERR_PERM, "writes need an "
		    "'Authorization: Bearer <token>' header");
		return 0;
	}
	ok = kt_token_from_header(req->authorization, &tok, &len);
	if (ok) {
		pthread_rwlock_rdlock(&api->tokens_lock);
		ok = kt_tokens_check(api->tokens, tok, len);
		pthread_rwlock_unlock(&api->tokens_lock);
	}
	if (!ok) {
		kt_api_error(resp, KT_ERR_PERM, "the bearer token is not "
		    "valid for this log");
		return 0;
	}
	return 1;
}

/*
 * Validates one publication or revocation object into req (borrowing
 * strings from the json and writing the decoded key at *arena). `where`
 * prefixes messages ("" or "entries[3]: ").
 */
static int
parse_one(struct kt_api *api, json_t *o, const char *where,
    struct kt_seq_req *q, uint8_t **arena, struct kt_api_resp *resp)
{
	json_t *label, *kt, *key, *rv;
	const char *k;
	json_t *v;
	size_t dl = 0;
	int rc;

	if (!json_is_object(o)) {
		answer_error(resp, KT_ERR_MALFORMED, "%sexpected a JSON object",
		    where);
		return 0;
	}
	json_object_foreach(o, k, v) {
		if (strcmp(k, "label") && strcmp(k, "key_type") &&
		    strcmp(k, "key") && strcmp(k, "revoke")) {
			answer_error(resp, KT_ERR_MALFORMED, "%sunknown field "
			    "'%.64s' (expected label, key_type, key or revoke)",
			    where, k);
			return 0;
		}
	}
	label = json_object_get(o, "label");
	kt = json_object_get(o, "key_type");
	key = json_object_get(o, "key");
	rv = json_object_get(o, "revoke");
	if (label == NULL || !json_is_string(label)) {
		answer_error(resp, KT_ERR_MALFORMED, "%s'label' must be a string",
		    where);
		return 0;
	}
	q->label = json_string_value(label);
	q->label_len = json_string_length(label);
	if (q->label_len > api->limits.max_label) {
		answer_error(resp, KT_ERR_TOO_LARGE, "%slabel is %zu bytes; at most "
		    "%zu", where, q->label_len, api->limits.max_label);
		return 0;
	}
	if (!kt_label_valid(q->label, q->label_len)) {
		answer_error(resp, KT_ERR_MALFORMED, "%slabel is not valid: it must "
		    "be 1..255 bytes of UTF-8 without control characters",
		    where);
		return 0;
	}
	if (rv != NULL && !json_is_boolean(rv)) {
		answer_error(resp, KT_ERR_MALFORMED, "%s'revoke' must be true or "
		    "false", where);
		return 0;
	}
	if (rv != NULL && json_is_true(rv)) {
		if (kt != NULL || key != NULL) {
			answer_error(resp, KT_ERR_MALFORMED, "%sa revocation takes "
			    "no 'key_type' or 'key'", where);
			return 0;
		}
		q->revoke = 1;
		return 1;
	}
	if (kt == NULL || !json_is_string(kt) || key == NULL ||
	    !json_is_string(key)) {
		answer_error(resp, KT_ERR_MALFORMED, "%s'key_type' and 'key' must be "
		    "strings (or give \"revoke\": true)", where);
		return 0;
	}
	q->key_type = json_string_value(kt);
	q->key_type_len = json_string_length(kt);
	if (!kt_key_type_valid(q->key_type, q->key_type_len)) {
		answer_error(resp, KT_ERR_MALFORMED, "%skey_type must be 1..16 of "
		    "[a-z0-9-], e.g. \"ed25519\"", where);
		return 0;
	}
	rc = request_b64(json_string_value(key), json_string_length(key),
	    *arena, json_string_length(key) / 4 * 3 + 3, api->limits.max_key,
	    &dl);
	if (rc < 0) {
		answer_error(resp, KT_ERR_TOO_LARGE, "%skey is longer than %zu bytes",
		    where, api->limits.max_key);
		return 0;
	}
	if (rc == 0) {
		answer_error(resp, KT_ERR_MALFORMED, "%skey must be non-empty "
		    "standard base64 with padding", where);
		return 0;
	}
	if (kt_key_check(q->key_type, q->key_type_len, *arena, dl) != KT_OK) {
		answer_error(resp, KT_ERR_MALFORMED, "%skey does not fit key_type "
		    "'%s' (ed25519 and x25519: 32 bytes; p256: 65 bytes "
		    "starting 0x04)", where, q->key_type);
		return 0;
	}
	q->key = *arena;
	q->key_len = dl;
	*arena += dl;
	return 1;
}

static void
write_post(struct kt_api *api, const struct kt_api_req *req, int batch,
    struct kt_api_resp *resp, struct kt_api_write **wout)
{
	struct kt_api_write *w = NULL;
	json_error_t jerr;
	json_t *items = NULL;
	size_t arena_len = 0;
	uint8_t *arena;
	char where[48] = "";

	if (!request_no_query(req, resp) || !authorised(api, req, resp))
		return;
	if (req->content_type != NULL &&
	    strncasecmp(req->content_type, "multipart/", 10) == 0) {
		answer_status(resp, 415, "send the body as "
		    "application/json, not multipart");
		return;
	}
	w = calloc(1, sizeof *w);
	if (w == NULL) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	w->batch = batch;
	w->metrics = api->metrics;
	w->wclient = api->wclient;
	if (req->body_len == 0) {
		kt_api_error(resp, KT_ERR_MALFORMED, "empty body: send a JSON "
		    "object");
		goto fail;
	}
	w->json = json_loadb((const char *)req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (w->json == NULL) {
		answer_error(resp, KT_ERR_MALFORMED, "body is not valid JSON: %s "
		    "(line %d, column %d)", jerr.text, jerr.line, jerr.column);
		goto fail;
	}
	if (!json_is_object(w->json)) {
		kt_api_error(resp, KT_ERR_MALFORMED, "body must be a JSON "
		    "object");
		goto fail;
	}
	if (batch) {
		const char *k;
		json_t *v;
		json_object_foreach(w->json, k, v) {
			if (strcmp(k, "entries") != 0) {
				answer_error(resp, KT_ERR_MALFORMED, "unknown field "
				    "'%.64s' (expected entries)", k);
				goto fail;
			}
		}
		items = json_object_get(w->json, "entries");
		if (!json_is_array(items)) {
			kt_api_error(resp, KT_ERR_MALFORMED, "'entries' must be "
			    "an array of publications or revocations");
			goto fail;
		}
		w->n = json_array_size(items);
		if (w->n == 0) {
			kt_api_error(resp, KT_ERR_MALFORMED, "'entries' is "
			    "empty");
			goto fail;
		}
		if (w->n > api->limits.max_batch) {
			answer_error(resp, KT_ERR_TOO_LARGE, "'entries' has %zu items; "
			    "at most %zu per batch", w->n,
			    api->limits.max_batch);
			goto fail;
		}
	} else {
		w->n = 1;
	}
	/* Decoded keys are shorter than their base64: one arena fits all. */
	for (size_t i = 0; i < w->n; i++) {
		json_t *o = batch ? json_array_get(items, i) : w->json;
		json_t *key = json_is_object(o) ? json_object_get(o, "key") :
		    NULL;
		if (json_is_string(key))
			arena_len += json_string_length(key) + 3;
	}
	w->reqs = calloc(w->n, sizeof *w->reqs);
	w->res = calloc(w->n, sizeof *w->res);
	w->keys = malloc(arena_len + 1);
	if (w->reqs == NULL || w->res == NULL || w->keys == NULL) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		goto fail;
	}
	arena = w->keys;
	for (size_t i = 0; i < w->n; i++) {
		json_t *o = batch ? json_array_get(items, i) : w->json;
		if (batch)
			snprintf(where, sizeof where, "entries[%zu]: ", i);
		if (!parse_one(api, o, where, &w->reqs[i], &arena, resp))
			goto fail;
	}
	*wout = w;
	return;
fail:
	kt_api_write_free(w);
}

/* ---- writes: submit, wake, answer ------------------------------------- */

static void
seq_done(void *arg, kt_err err, uint64_t tree_size,
    const struct kt_seq_res *res, size_t n)
{
	struct kt_api_write *w = arg;
	struct timespec t1;

	w->err = err;
	w->tree_size = tree_size;
	if (err == KT_OK && res != NULL && n == w->n)
		memcpy(w->res, res, n * sizeof *res);
	else if (err == KT_OK)
		w->err = KT_ERR_INTERNAL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kt_metrics_submit_us(w->metrics,
	    (uint64_t)((t1.tv_sec - w->t0.tv_sec) * 1000000 +
	    (t1.tv_nsec - w->t0.tv_nsec) / 1000));
	if (err == KT_OK)
		kt_wclient_notify(w->wclient); /* submit the new checkpoint */
	/* Last touch of w on this thread: the waiter may free it at once. */
	w->wake(w->wake_arg);
}

int
kt_api_submit(struct kt_api *api, struct kt_api_write *w,
    kt_api_wake_fn wake, void *arg)
{
	kt_err e = KT_ERR_BUSY;

	w->wake = wake;
	w->wake_arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	pthread_rwlock_rdlock(&api->seq_lock);
	if (api->seq != NULL)
		e = kt_seq_submit(api->seq, w->reqs, w->n, seq_done, w);
	pthread_rwlock_unlock(&api->seq_lock);
	if (e != KT_OK) {
		if (e == KT_ERR_BUSY)
			atomic_fetch_add_explicit(&api->metrics->busy_rejects,
			    1, memory_order_relaxed);
		w->err = e;
		return 0;
	}
	w->queued = 1;
	return 1;
}

static void
put_result(struct kt_api *api, struct answer *b, struct kt_store_read *r,
    uint64_t size, const struct kt_seq_res *res, struct answer_memo *m,
    const char **what, kt_err *e)
{
	answer_lit(b, "{\"index\":");
	answer_u64(b, res->index);
	answer_lit(b, ",\"version\":");
	answer_u64(b, res->version);
	answer_lit(b, ",");
	*e = put_entry_fields(api, b, r, res->index, size, 1, 1, m, what);
	answer_lit(b, "}");
}

static const char *
result_message(kt_err e)
{
	return e == KT_ERR_CONFLICT ? "the label has no live key to revoke" :
	    kt_strerror(e);
}

void
kt_api_finish(struct kt_api *api, struct kt_api_write *w,
    struct kt_api_resp *resp)
{
	struct kt_store_read *r = NULL;
	const char *what = "snapshot";
	struct answer_memo memo;
	struct answer b = { 0 };
	uint64_t size;
	kt_err e = KT_OK;

	answer_memo_init(&memo);
	if (w->err == KT_ERR_BUSY) {
		kt_api_error(resp, KT_ERR_BUSY, w->queued ? "the log is "
		    "shutting down; retry later" : "the write queue is full "
		    "or the log is stopping; retry later");
		return;
	}
	if (w->err == KT_ERR_NOMEM && !w->queued) {
		/* Refused before it was queued: nothing was written. */
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	if (w->err != KT_OK) {
		kt_log(KT_LOG_ERROR, "write_failed", "{s:s, s:I}", "error",
		    kt_strerror(w->err), "entries", (json_int_t)w->n);
		answer_error(resp, w->err == KT_ERR_IO ? KT_ERR_IO : KT_ERR_INTERNAL,
		    "the write was not committed (%s); retry later (a repeated "
		    "publish of the same key is idempotent)",
		    kt_strerror(w->err));
		return;
	}
	if (!w->batch && w->res[0].err != KT_OK) {
		kt_api_error(resp, w->res[0].err,
		    result_message(w->res[0].err));
		return;
	}
	if (begin(api, &r, resp) != KT_OK)
		return;
	size = kt_store_read_size(r);
	if (size < w->tree_size) {
		e = KT_ERR_INTERNAL;
		goto fail;
	}
	/* About 1.2 KB per result (entry, leaf hash, checkpoint, proof):
	 * reserve once instead of growing a megabyte answer by doubling. */
	answer_reserve(&b, w->n * 1280 + 512);
	if (!w->batch) {
		put_result(api, &b, r, size, &w->res[0], NULL, &what, &e);
		if (e != KT_OK)
			goto fail;
		answer_lit(&b, "\n");
	} else {
		answer_lit(&b, "{\"results\":[");
		for (size_t i = 0; i < w->n; i++) {
			if (i)
				answer_lit(&b, ",");
			if (w->res[i].err != KT_OK) {
				const char *m = result_message(w->res[i].err);
				answer_lit(&b, "{\"error\":");
				answer_str(&b, m, strlen(m));
				answer_lit(&b, ",\"status\":");
				answer_u64(&b, kt_api_status(w->res[i].err));
				answer_lit(&b, "}");
				continue;
			}
			put_result(api, &b, r, size, &w->res[i], &memo, &what,
			    &e);
			if (e != KT_OK)
				goto fail;
		}
		answer_lit(&b, "]}\n");
	}
	answer_json(resp, &b);
	b.p = NULL;
	goto out;
fail:
	free(b.p);
	answer_store_error(resp, e, what);
out:
	answer_memo_free(&memo);
	read_end(r);
}

void
kt_api_write_free(struct kt_api_write *w)
{
	if (w == NULL)
		return;
	json_decref(w->json);
	free(w->keys);
	free(w->reqs);
	free(w->res);
	free(w);
}

/* ---- dispatch --------------------------------------------------------- */

void
kt_api_handle(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp, struct kt_api_write **w, enum kt_route *route)
{
	int get = strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0;
	int post = strcmp(req->method, "POST") == 0;
	enum kt_route rt = kt_api_route(req->path);

	*w = NULL;
	*route = rt;
	switch (rt) {
	case KT_ROUTE_KEYS_POST:
	case KT_ROUTE_KEYS_BATCH:
		if (!post)
			break;
		write_post(api, req, rt == KT_ROUTE_KEYS_BATCH, resp, w);
		return;
	case KT_ROUTE_OTHER:
		answer_error(resp, KT_ERR_NOT_FOUND, "no such endpoint: %.100s "
		    "(see docs/api.md)", req->path);
		return;
	default:
		if (!get)
			break;
		switch (rt) {
		case KT_ROUTE_KEY_GET: get_key(api, req, 0, resp); return;
		case KT_ROUTE_KEY_HISTORY: get_key(api, req, 1, resp); return;
		case KT_ROUTE_CHECKPOINT: get_checkpoint(api, req, resp); return;
		case KT_ROUTE_PROOF_INCLUSION:
			get_inclusion(api, req, resp);
			return;
		case KT_ROUTE_PROOF_CONSISTENCY:
			get_consistency(api, req, resp);
			return;
		case KT_ROUTE_ENTRIES: get_entries(api, req, resp); return;
		case KT_ROUTE_TILE: get_tile(api, req, resp); return;
		case KT_ROUTE_HEALTHZ: get_healthz(api, req, resp); return;
		case KT_ROUTE_METRICS: get_metrics(api, req, resp); return;
		default: break;
		}
		break;
	}
	answer_status(resp, 405, kt_api_route_is_write(rt) ?
	    "this endpoint takes POST" : "this endpoint takes GET or HEAD");
	resp->allow = kt_api_route_is_write(rt) ? "POST" : "GET, HEAD";
}
