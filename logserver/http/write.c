/*
 * write.c: the write endpoints, POST /v1/keys (one publication or
 * revocation), POST /v1/keys:batch ({"entries": [...]}) and DELETE
 * /v1/keys/<label>/openings (erasure), in the order a write goes:
 * authorise, decode and validate the body, find each label's VRF proof
 * (kept from an earlier version, or proved here on the HTTP thread, so the
 * sequencer never runs the VRF), submit to the sequencer, and answer once
 * the commit that holds it is durable: a publisher gets the lookup proof of
 * its label at the batch's checkpoint, which checks its own write.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kt/label.h"
#include "kt/lookup.h"
#include "kt/fmt.h"
#include "http/internal.h"
#include "log.h"
#include "witness_client/witness_client.h"

struct kt_api_write {
	int batch;
	size_t n;
	json_t *json;  /* labels and key types borrow from it */
	int erase;     /* DELETE .../openings */
	int full;      /* ?proofs=full: a lookup proof per batch result */
	uint8_t *keys; /* decoded keys, one arena */
	uint8_t (*vrf)[KT_VRF_PROOF_LEN];
	struct kt_seq_req *reqs;
	struct kt_seq_res *res;
	kt_err err; /* of the whole submission */
	int queued; /* the sequencer took it */
	uint64_t tree_size;
	struct timespec t0;
	struct kt_metrics *metrics;
	struct kt_wclient *wclient;
	struct kt_api_waiter waiter;
};

/* ---- authorise -------------------------------------------------------- */

int
write_authorised(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	const char *tok;
	size_t len;
	int ok;

	if (!api->auth_required) {
		if (api->allow_anonymous_writes)
			return 1;
		answer_status(resp, 403,
		    "writes are disabled: this server was "
		    "started without a tokens file (--tokens)");
		return 0;
	}
	if (req->authorization == NULL) {
		kt_api_error(resp, KT_ERR_PERM,
		    "writes need an "
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
		kt_api_error(resp, KT_ERR_PERM,
		    "the bearer token is not valid "
		    "for this log");
		return 0;
	}
	return 1;
}

/* ---- decode and validate ---------------------------------------------- */

/* o is an object with no field but label, key_type, key and revoke. */
static int
known_fields(json_t *o, const char *where, struct kt_api_resp *resp)
{
	const char *k;
	json_t *v;

	if (!json_is_object(o)) {
		answer_error(resp, KT_ERR_MALFORMED, "%sexpected a JSON object",
		    where);
		return 0;
	}
	json_object_foreach(o, k, v)
	{
		if (strcmp(k, "label") && strcmp(k, "key_type") &&
		    strcmp(k, "key") && strcmp(k, "revoke")) {
			answer_error(resp, KT_ERR_MALFORMED,
			    "%sunknown field "
			    "'%.64s' (expected label, key_type, key or revoke)",
			    where, k);
			return 0;
		}
	}
	return 1;
}

/*
 * The label in its canonical form (proto/README.md, "Labels"), written at
 * *arena (which moves past it): two strings a person reads as the same
 * name are one label, and a label that cannot be made canonical (mixed
 * scripts, invisible characters, ...) is refused with the rule it breaks.
 */
static int
parse_label(struct kt_api *api, json_t *label, const char *where,
    struct kt_seq_req *q, uint8_t **arena, struct kt_api_resp *resp)
{
	const char *in, *why = NULL;
	size_t len;
	kt_err e;

	if (label == NULL || !json_is_string(label)) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "%s'label' must be a "
		    "string",
		    where);
		return 0;
	}
	in = json_string_value(label);
	len = json_string_length(label);
	e = kt_label_canonical(in, len, (char *)*arena, &q->label_len, NULL,
	    &why);
	if (e == KT_OK && q->label_len > api->limits.max_label) {
		e = KT_ERR_TOO_LARGE;
		why = "longer than the log's max_label";
	}
	if (e != KT_OK) {
		answer_error(resp,
		    e == KT_ERR_TOO_LARGE ? KT_ERR_TOO_LARGE : KT_ERR_MALFORMED,
		    "%slabel '%.64s' is refused: %s", where, in,
		    why != NULL ? why : kt_strerror(e));
		return 0;
	}
	q->label = (const char *)*arena;
	*arena += q->label_len + 1;
	return 1;
}

/* The key type and the key, decoded at *arena (which moves past it). */
static int
parse_key(struct kt_api *api, json_t *kt, json_t *key, const char *where,
    struct kt_seq_req *q, uint8_t **arena, struct kt_api_resp *resp)
{
	size_t dl = 0;
	int rc;

	if (kt == NULL || !json_is_string(kt) || key == NULL ||
	    !json_is_string(key)) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "%s'key_type' and 'key' "
		    "must be strings (or give \"revoke\": true)",
		    where);
		return 0;
	}
	q->key_type = json_string_value(kt);
	q->key_type_len = json_string_length(kt);
	if (!kt_key_type_valid(q->key_type, q->key_type_len)) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "%skey_type must be 1..16 "
		    "of [a-z0-9-], e.g. \"ed25519\"",
		    where);
		return 0;
	}
	rc =
	    request_b64(json_string_value(key), json_string_length(key), *arena,
	        json_string_length(key) / 4 * 3 + 3, api->limits.max_key, &dl);
	if (rc < 0) {
		answer_error(resp, KT_ERR_TOO_LARGE,
		    "%skey is longer than %zu "
		    "bytes",
		    where, api->limits.max_key);
		return 0;
	}
	if (rc == 0) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "%skey must be non-empty "
		    "standard base64 with padding",
		    where);
		return 0;
	}
	if (kt_key_check(q->key_type, q->key_type_len, *arena, dl) != KT_OK) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "%skey does not fit "
		    "key_type '%s' (ed25519 and x25519: 32 bytes; p256: 65 "
		    "bytes starting 0x04)",
		    where, q->key_type);
		return 0;
	}
	q->key = *arena;
	q->key_len = dl;
	*arena += dl;
	return 1;
}

/*
 * Validates one publication or revocation object into q (borrowing
 * strings from the json and writing the decoded key at *arena). `where`
 * prefixes messages ("" or "entries[3]: ").
 */
static int
parse_one(struct kt_api *api, json_t *o, const char *where,
    struct kt_seq_req *q, uint8_t **arena, struct kt_api_resp *resp)
{
	json_t *kt, *key, *rv;

	if (!known_fields(o, where, resp) ||
	    !parse_label(api, json_object_get(o, "label"), where, q, arena,
	        resp))
		return 0;
	kt = json_object_get(o, "key_type");
	key = json_object_get(o, "key");
	rv = json_object_get(o, "revoke");
	if (rv != NULL && !json_is_boolean(rv)) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "%s'revoke' must be true "
		    "or false",
		    where);
		return 0;
	}
	if (rv != NULL && json_is_true(rv)) {
		if (kt != NULL || key != NULL) {
			answer_error(resp, KT_ERR_MALFORMED,
			    "%sa revocation "
			    "takes no 'key_type' or 'key'",
			    where);
			return 0;
		}
		q->op = KT_SEQ_REVOKE;
		return 1;
	}
	return parse_key(api, kt, key, where, q, arena, resp);
}

/* The items of a batch: {"entries": [1..max_batch objects]}. */
static int
batch_items(struct kt_api *api, struct kt_api_write *w, json_t **items,
    struct kt_api_resp *resp)
{
	const char *k;
	json_t *v;

	json_object_foreach(w->json, k, v)
	{
		if (strcmp(k, "entries") != 0) {
			answer_error(resp, KT_ERR_MALFORMED,
			    "unknown field "
			    "'%.64s' (expected entries)",
			    k);
			return 0;
		}
	}
	*items = json_object_get(w->json, "entries");
	if (!json_is_array(*items)) {
		kt_api_error(resp, KT_ERR_MALFORMED,
		    "'entries' must be an "
		    "array of publications or revocations");
		return 0;
	}
	w->n = json_array_size(*items);
	if (w->n == 0) {
		kt_api_error(resp, KT_ERR_MALFORMED, "'entries' is empty");
		return 0;
	}
	if (w->n > api->limits.max_batch) {
		answer_error(resp, KT_ERR_TOO_LARGE,
		    "'entries' has %zu items; "
		    "at most %zu per batch",
		    w->n, api->limits.max_batch);
		return 0;
	}
	return 1;
}

/*
 * An upper bound on the JSON values (object keys included) in p[0..n),
 * without parsing: one more per ',', ':', '[' or '{' outside strings.
 */
static size_t
json_values_max(const uint8_t *p, size_t n)
{
	size_t count = 1;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in_str = 0;
		} else if (p[i] == '"') {
			in_str = 1;
		} else if (p[i] == ',' || p[i] == ':' || p[i] == '[' ||
		    p[i] == '{') {
			count++;
		}
	}
	return count;
}

/* The body as JSON into w->json, and w->n; *items gets a batch's array. */
static int
decode_body(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_write *w, json_t **items, struct kt_api_resp *resp)
{
	/* A batch item is an object of at most 4 fields: 9 values. */
	size_t max_values = (w->batch ? api->limits.max_batch : 1) * 16 + 16;
	json_error_t jerr;

	if (req->body_len == 0) {
		kt_api_error(resp, KT_ERR_MALFORMED,
		    "empty body: send a JSON "
		    "object");
		return 0;
	}
	/* jansson spends ~40 bytes on each value: a body of a million tiny
	 * values ("[1,1,1,...") would cost 40 times its size. */
	if (json_values_max(req->body, req->body_len) > max_values) {
		answer_error(resp, KT_ERR_TOO_LARGE,
		    "body holds more JSON values than %zu (what a %s of "
		    "valid entries needs at most); refused before parsing",
		    max_values, w->batch ? "batch" : "publication");
		return 0;
	}
	w->json = json_loadb((const char *)req->body, req->body_len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (w->json == NULL) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "body is not valid JSON: "
		    "%s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
		return 0;
	}
	if (!json_is_object(w->json)) {
		kt_api_error(resp, KT_ERR_MALFORMED,
		    "body must be a JSON "
		    "object");
		return 0;
	}
	*items = NULL;
	w->n = 1;
	return !w->batch || batch_items(api, w, items, resp);
}

/* Every publication or revocation into w->reqs (keys into w->keys). */
static int
decode_entries(struct kt_api *api, struct kt_api_write *w, json_t *items,
    struct kt_api_resp *resp)
{
	size_t arena_len = 0;
	uint8_t *arena;
	char where[48] = "";

	/* Decoded keys are shorter than their base64, canonical labels at
	 * most KT_CANON_MAX bytes: one arena fits all. */
	for (size_t i = 0; i < w->n; i++) {
		json_t *o = w->batch ? json_array_get(items, i) : w->json;
		json_t *key =
		    json_is_object(o) ? json_object_get(o, "key") : NULL;
		if (json_is_string(key))
			arena_len += json_string_length(key) + 3;
		arena_len += KT_CANON_MAX + 1;
	}
	w->reqs = calloc(w->n, sizeof *w->reqs);
	w->res = calloc(w->n, sizeof *w->res);
	w->vrf = calloc(w->n, sizeof *w->vrf);
	w->keys = malloc(arena_len + 1);
	if (w->reqs == NULL || w->res == NULL || w->vrf == NULL ||
	    w->keys == NULL) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return 0;
	}
	arena = w->keys;
	for (size_t i = 0; i < w->n; i++) {
		json_t *o = w->batch ? json_array_get(items, i) : w->json;
		if (w->batch)
			kt_msg(where, sizeof where, "entries[%zu]: ", i);
		if (!parse_one(api, o, where, &w->reqs[i], &arena, resp))
			return 0;
	}
	return 1;
}

/*
 * The key of a new label's UTS #39 skeleton, which the sequencer checks
 * against the labels held (a confusable one is refused, 400). ICU's work,
 * a few µs, done here with the VRF proof, not in the writer thread.
 */
static kt_err
skeleton_key(struct kt_seq_req *q)
{
	char skel[KT_LABEL_SKELETON_MAX + 1];
	uint8_t h[crypto_hash_sha256_BYTES];
	size_t len;
	kt_err e = kt_label_skeleton(q->label, q->label_len, skel, &len);

	if (e != KT_OK)
		return e == KT_ERR_NOMEM ? e : KT_ERR_INTERNAL;
	crypto_hash_sha256(h, (const unsigned char *)skel, len);
	memcpy(q->skeleton, h, sizeof(q->skeleton));
	q->has_skeleton = 1;
	return KT_OK;
}

/*
 * Each label's VRF proof and map index: the one kept for the label, or a
 * fresh proof (the label's first version; about 130 µs of this thread,
 * which is why it happens here and not in the one writer thread), and a
 * new label's skeleton key.
 */
static int
prove_labels(struct kt_api *api, struct kt_api_write *w,
    struct kt_api_resp *resp)
{
	struct snapshot s;
	kt_err e = KT_OK;

	if (snapshot_begin(api, &s, resp) != KT_OK)
		return 0;
	for (size_t i = 0; i < w->n && e == KT_OK; i++) {
		struct kt_seq_req *q = &w->reqs[i];
		int fresh = 0;

		e = bundle_vrf(api, &s, q->label, q->label_len, w->vrf[i],
		    &q->index, &fresh);
		q->vrf_proof = w->vrf[i];
		if (e == KT_OK && fresh && q->op == KT_SEQ_PUBLISH)
			e = skeleton_key(q);
	}
	if (e != KT_OK)
		snapshot_error(&s, resp, e);
	snapshot_end(&s);
	return e == KT_OK;
}

/* A write decoded from the request, or NULL and an answer. */
static struct kt_api_write *
decode(struct kt_api *api, const struct kt_api_req *req, int batch,
    struct kt_api_resp *resp)
{
	struct kt_api_write *w = calloc(1, sizeof *w);
	json_t *items;

	if (w == NULL) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return NULL;
	}
	w->batch = batch;
	w->metrics = api->metrics;
	w->wclient = api->wclient;
	if (!decode_body(api, req, w, &items, resp) ||
	    !decode_entries(api, w, items, resp) ||
	    !prove_labels(api, w, resp)) {
		kt_api_write_free(w);
		return NULL;
	}
	return w;
}

/* ---- submit ----------------------------------------------------------- */

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
	w->waiter.wake(w->waiter.arg);
}

/*
 * Parks the caller and queues w. The waiter's wake follows exactly once:
 * from seq_done, or here when the sequencer is detached or refuses.
 */
static void
submit(struct kt_api *api, struct kt_api_write *w)
{
	kt_err e = KT_ERR_BUSY;

	w->waiter.park(w->waiter.arg);
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	/* Set before queueing: once queued, w belongs to the writer thread
	 * until wake. */
	w->queued = 1;
	pthread_rwlock_rdlock(&api->seq_lock);
	if (api->seq != NULL)
		e = kt_seq_submit(api->seq, w->reqs, w->n, seq_done, w);
	pthread_rwlock_unlock(&api->seq_lock);
	if (e == KT_OK)
		return;
	if (e == KT_ERR_BUSY)
		atomic_fetch_add_explicit(&api->metrics->busy_rejects, 1,
		    memory_order_relaxed);
	w->queued = 0;
	w->err = e;
	w->waiter.wake(w->waiter.arg);
}

/* The query of a write: none, or for a batch ?proofs=full. */
static int
write_query(const struct kt_api_req *req, int batch, int *full,
    struct kt_api_resp *resp)
{
	struct request_param q[] = { { .name = "proofs" } };

	*full = 0;
	if (!batch)
		return request_no_query(req, resp);
	if (!request_query(req, q, 1, resp))
		return 0;
	if (q[0].seen && strcmp(q[0].value, "full") != 0) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "'proofs' takes one value: full (a lookup proof with "
		    "every result)");
		return 0;
	}
	*full = q[0].seen;
	return 1;
}

void
write_post(struct kt_api *api, const struct kt_api_req *req, int batch,
    const struct kt_api_waiter *wt, struct kt_api_resp *resp,
    struct kt_api_write **w)
{
	int full;

	if (!write_query(req, batch, &full, resp) ||
	    !write_authorised(api, req, resp))
		return;
	if (req->content_type != NULL &&
	    strncasecmp(req->content_type, "multipart/", 10) == 0) {
		answer_status(resp, 415,
		    "send the body as application/json, "
		    "not multipart");
		return;
	}
	if ((*w = decode(api, req, batch, resp)) == NULL)
		return;
	(*w)->full = full;
	(*w)->waiter = *wt;
	submit(api, *w);
}

void
write_erase(struct kt_api *api, const struct kt_api_req *req,
    const struct kt_api_waiter *wt, struct kt_api_resp *resp,
    struct kt_api_write **out)
{
	const char *seg = req->path + strlen("/v1/keys/");
	struct kt_api_write *w;

	if (!request_no_query(req, resp) || !write_authorised(api, req, resp))
		return;
	w = calloc(1, sizeof *w);
	if (w != NULL) {
		w->reqs = calloc(1, sizeof *w->reqs);
		w->res = calloc(1, sizeof *w->res);
		w->vrf = calloc(1, sizeof *w->vrf);
		w->keys = malloc(KT_LABEL_MAX + 1);
	}
	if (w == NULL || w->reqs == NULL || w->res == NULL || w->vrf == NULL ||
	    w->keys == NULL) {
		kt_api_write_free(w);
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	w->n = 1;
	w->erase = 1;
	w->metrics = api->metrics;
	w->wclient = api->wclient;
	w->reqs[0].op = KT_SEQ_ERASE;
	w->reqs[0].label = (const char *)w->keys;
	if (!request_label(seg, strlen(seg) - strlen("/openings"),
	        api->limits.max_label, (char *)w->keys, &w->reqs[0].label_len,
	        resp) ||
	    !prove_labels(api, w, resp)) {
		kt_api_write_free(w);
		return;
	}
	w->waiter = *wt;
	*out = w;
	submit(api, w);
}

/* ---- answer ----------------------------------------------------------- */

static const char *
result_message(kt_err e)
{
	if (e == KT_ERR_CONFLICT)
		return "the label has no live key to revoke";
	if (e == KT_ERR_REFUSED)
		return "the label is confusable with a label the log holds (the "
		       "same UTS #39 skeleton): refused";
	if (e == KT_ERR_NOT_FOUND)
		return "the label has never been published";
	return kt_strerror(e);
}

/*
 * The answer of a write that has no entry to show: not committed (queue
 * full, stopping, out of memory, a failed commit), or a single write the
 * sequencer refused (a revocation with nothing to revoke). 0 otherwise.
 */
static int
refused(const struct kt_api_write *w, struct kt_api_resp *resp)
{
	if (w->err == KT_ERR_BUSY) {
		kt_api_error(resp, KT_ERR_BUSY,
		    w->queued ? "the log is "
		                "shutting down; retry later"
		              : "the write queue is full "
		                "or the log is stopping; retry later");
		return 1;
	}
	if (w->err == KT_ERR_NOMEM && !w->queued) {
		/* Refused before it was queued: nothing was written. */
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return 1;
	}
	if (w->err == KT_ERR_FULL) {
		/* The sequencer logged it (once for many). */
		kt_api_error(resp, KT_ERR_FULL,
		    "no space left: the log's disk or its size limit "
		    "(max_db_size) is full, nothing was written; retry later "
		    "(a repeated publish of the same key is idempotent)");
		return 1;
	}
	if (w->err != KT_OK) {
		/* A queued write's failure was logged by the sequencer, once
		 * for its whole batch. */
		if (!w->queued)
			KT_LOG(KT_LOG_ERROR, "write_failed",
			    kt_log_str("error", kt_strerror(w->err)),
			    kt_log_uint("entries", w->n));
		answer_error(resp,
		    w->err == KT_ERR_IO ? KT_ERR_IO : KT_ERR_INTERNAL,
		    "the write was not committed (%s); retry "
		    "later (a repeated publish of the same key is idempotent)",
		    kt_strerror(w->err));
		return 1;
	}
	if (!w->batch && w->res[0].err != KT_OK) {
		kt_api_error(resp, w->res[0].err,
		    result_message(w->res[0].err));
		return 1;
	}
	return 0;
}

/* "checkpoint_size" and "checkpoint": the batch's checkpoint. */
static kt_err
put_checkpoint_at(struct snapshot *s, struct answer *a, uint64_t size)
{
	const char *note;
	size_t len;
	kt_err e;

	s->what = "checkpoint";
	if ((e = kt_store_read_checkpoint_at(s->r, size, &note, &len)) != KT_OK)
		return e;
	answer_lit(a, "\"checkpoint_size\":");
	answer_u64(a, size);
	answer_lit(a, ",\"checkpoint\":");
	answer_str(a, note, len);
	return KT_OK;
}

/* The lookup proof of request i's label at the batch's checkpoint: as
 * fields of a "lookup" object, or (batch) one "lookup_proof" field. */
static kt_err
put_lookup(struct snapshot *s, struct answer *a, const struct kt_api_write *w,
    size_t i, int object)
{
	const struct kt_seq_req *q = &w->reqs[i];
	struct kt_lookup_proof *p = malloc(sizeof(*p));
	uint8_t *buf = NULL;
	size_t n, len;
	kt_err e;

	if (p == NULL)
		return KT_ERR_NOMEM;
	e = bundle_lookup(s, q->label, q->label_len, q->vrf_proof, &q->index,
	    w->tree_size, p);
	if (e == KT_OK && object) {
		answer_lit(a, ",\"lookup\":{");
		e = bundle_put_lookup(a, p, &q->index);
		answer_lit(a, "}");
	} else if (e == KT_OK) {
		n = kt_lookup_len(p);
		buf = n > 0 ? malloc(n) : NULL;
		e = buf == NULL ? KT_ERR_NOMEM
		                : kt_lookup_encode(p, buf, n, &len);
		if (e == KT_OK) {
			answer_lit(a, ",\"lookup_proof\":");
			answer_b64(a, buf, len);
		}
	}
	free(buf);
	free(p);
	return e;
}

/* One result: {"index", "version", "map_index"} (+ the lookup proof). */
static kt_err
put_result(struct snapshot *s, struct answer *a, const struct kt_api_write *w,
    size_t i)
{
	const struct kt_seq_res *res = &w->res[i];

	answer_lit(a, "\"index\":");
	answer_u64(a, res->index);
	answer_lit(a, ",\"version\":");
	answer_u64(a, res->version);
	answer_lit(a, ",\"appended\":");
	answer_lit(a, res->appended ? "true" : "false");
	answer_lit(a, ",\"map_index\":");
	answer_b64(a, w->reqs[i].index.b, KT_HASH_LEN);
	if (!w->batch)
		return put_lookup(s, a, w, i, 1);
	return w->full ? put_lookup(s, a, w, i, 0) : KT_OK;
}

/* A batch's answer: the checkpoint once, then {"results": [...]}, each a
 * result or an error. */
static kt_err
put_results(struct snapshot *s, struct answer *a, const struct kt_api_write *w)
{
	kt_err e;

	answer_lit(a, "{");
	if ((e = put_checkpoint_at(s, a, w->tree_size)) != KT_OK)
		return e;
	answer_lit(a, ",\"results\":[");
	for (size_t i = 0; i < w->n && e == KT_OK; i++) {
		if (i)
			answer_lit(a, ",");
		if (w->res[i].err != KT_OK) {
			const char *m = result_message(w->res[i].err);
			answer_lit(a, "{\"error\":");
			answer_str(a, m, strlen(m));
			answer_lit(a, ",\"status\":");
			answer_u64(a, kt_api_status(w->res[i].err));
			answer_lit(a, "}");
			continue;
		}
		answer_lit(a, "{");
		e = put_result(s, a, w, i);
		answer_lit(a, "}");
	}
	answer_lit(a, "]}\n");
	return e;
}

/* An erasure's answer: the label, its latest version, openings erased. */
static void
put_erased(struct answer *a, const struct kt_api_write *w)
{
	answer_lit(a, "{\"label\":");
	answer_str(a, w->reqs[0].label, w->reqs[0].label_len);
	answer_lit(a, ",\"version\":");
	answer_u64(a, w->res[0].version);
	answer_lit(a, ",\"erased\":");
	answer_u64(a, w->res[0].erased);
	answer_lit(a, "}\n");
}

void
kt_api_finish(struct kt_api *api, struct kt_api_write *w,
    struct kt_api_resp *resp)
{
	struct snapshot s = { 0 };
	struct answer a = { 0 };
	kt_err e = KT_OK;

	if (refused(w, resp) || snapshot_begin(api, &s, resp) != KT_OK)
		goto out;
	if (s.size < w->tree_size) {
		e = KT_ERR_INTERNAL;
		goto fail;
	}
	/* About 100 bytes per compact result, 3.5 KB per lookup proof:
	 * reserve once instead of growing a megabyte answer by doubling. */
	answer_reserve(&a, w->n * (w->full ? 3600 : 160) + 4096);
	if (w->erase) {
		put_erased(&a, w);
	} else if (w->batch) {
		e = put_results(&s, &a, w);
	} else {
		answer_lit(&a, "{");
		e = put_result(&s, &a, w, 0);
		if (e == KT_OK) {
			answer_lit(&a, ",");
			e = put_checkpoint_at(&s, &a, w->tree_size);
		}
		answer_lit(&a, "}\n");
	}
	if (e != KT_OK)
		goto fail;
	answer_json(resp, &a);
	goto out;
fail:
	bundle_error(&s, resp, e, w->tree_size);
out:
	answer_free(&a);
	snapshot_end(&s);
	kt_api_write_free(w);
}

void
kt_api_write_free(struct kt_api_write *w)
{
	if (w == NULL)
		return;
	json_decref(w->json);
	free(w->keys);
	free(w->vrf);
	free(w->reqs);
	free(w->res);
	free(w);
}
