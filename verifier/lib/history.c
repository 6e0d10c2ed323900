/*
 * history.c: a label's key history, verified page by page. `monitor` walks
 * it when the map shows versions the owner has not checked yet; `lookup`
 * when the key changed since the pin (exit 4), to list every verified
 * change.
 *
 * GET /v1/keys/{label}/history answers one page: the label's VRF proof and
 * map index, the log's signed checkpoint, and the versions from ?from=V
 * on, each with its update leaf, inclusion proof, the chain before it and
 * its opening and value, with "next" when more follow. Every version is
 * checked against its page's checkpoint; every page's checkpoint is
 * related like any checkpoint seen, so that all pages are views of one
 * tree. The chain (kt_map_chain_next) is rebuilt link by link from the
 * update leaves themselves: the "prev_chain" the log sends is only
 * compared, never believed.
 *
 * A malicious log must not keep the client paging for ever: a page is not
 * empty, its "next" must be the version after its last, and at most
 * KT_HISTORY_MAX versions are read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

/* Where the walk through the pages stands. */
struct hwalk {
	const char *label;
	char esc[KT_LABEL_MAX * 3 + 1]; /* label, escaped for a path */
	int have_index;
	struct kt_hash index; /* VRF(label), verified on the first page */
	uint64_t ver;         /* the next version expected */
	uint64_t prev_index;  /* the previous version's leaf, or KT_NO_PREV */
	struct kt_hash chain; /* after version ver - 1 */
	uint64_t read;        /* versions read, for the bound */
	struct kt_vleaf *l;   /* scratch: one version */
	uint8_t key[KT_KEY_MAX];
	kt_version_cb cb;
	void *ctx;
	int probe; /* kt_vhistory_probe: "no such version" is no news */
};

/* The page's label, VRF proof and map index: the index must be VRF(label)
 * under the pinned key, the same on every page. */
static enum kt_verify_outcome
check_index(struct kt_verify *v, struct hwalk *w, const json_t *o,
    struct kt_vresult *r)
{
	json_t *jl = json_object_get(o, "label");
	uint8_t pi[KT_VRF_PROOF_LEN], beta[KT_VRF_OUTPUT_LEN];
	struct kt_hash idx;

	if (!json_is_string(jl) ||
	    strcmp(json_string_value(jl), w->label) != 0 ||
	    kt_vparse_b64n(o, "map_index", idx.b, KT_HASH_LEN) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history: not for label \"%s\", or no map_index",
		    w->label);
	if (w->have_index)
		return kt_hash_eq(&idx, &w->index)
		    ? KT_VERIFY_OK
		    : kt_vres(r, KT_VERIFY_FAILED,
		          "key history: a page names another map index");
	if (kt_vparse_b64n(o, "vrf_proof", pi, sizeof(pi)) != KT_OK ||
	    kt_vrf_verify(v->vrf_pk, (const uint8_t *)w->label,
	        strlen(w->label), pi, beta) != KT_OK ||
	    memcmp(beta, idx.b, KT_HASH_LEN) != 0)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history: the VRF proof of \"%s\" does not verify "
		    "under the pinned VRF key, or is not for its map index",
		    w->label);
	w->index = idx;
	w->have_index = 1;
	return KT_VERIFY_OK;
}

/* One version's value into ver: erased, a revocation or a key, whose
 * commitment must open to what the log served. */
static enum kt_verify_outcome
check_value(struct hwalk *w, const json_t *o, struct kt_vversion *ver,
    struct kt_vresult *r)
{
	json_t *jt = json_object_get(o, "key_type");
	json_t *jk = json_object_get(o, "key");
	const struct kt_update *u = &w->l->u;

	memset(&ver->val, 0, sizeof(ver->val));
	ver->erased = json_is_true(json_object_get(o, "erased"));
	if (ver->erased)
		return KT_VERIFY_OK;
	if (kt_vparse_b64n(o, "opening", ver->opening, KT_OPENING_LEN) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history, version %" PRIu64 ": no opening", u->version);
	if (json_is_true(json_object_get(o, "revoked"))) {
		ver->val.kind = KT_VALUE_REVOKE;
	} else if (json_is_string(jt) && json_is_string(jk) &&
	    kt_b64_decode(json_string_value(jk), json_string_length(jk), w->key,
	        sizeof(w->key), &ver->val.key_len) == KT_OK) {
		ver->val.kind = KT_VALUE_KEY;
		ver->val.key_type = json_string_value(jt);
		ver->val.key_type_len = json_string_length(jt);
		ver->val.key = w->key;
	} else {
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history, version %" PRIu64
		    ": neither a key, a revocation nor erased",
		    u->version);
	}
	if (kt_commit_verify(ver->opening, w->label, strlen(w->label),
	        u->version, &ver->val, &u->commitment) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history, version %" PRIu64 " (index %" PRIu64
		    "): its commitment does not open to the value the log "
		    "served",
		    u->version, w->l->index);
	return KT_VERIFY_OK;
}

/* One version of a page, checked against the page's checkpoint. */
static enum kt_verify_outcome
check_version(struct hwalk *w, const struct kt_signed_checkpoint *page,
    const json_t *o, struct kt_vresult *r)
{
	struct kt_vleaf *l = w->l;
	struct kt_vversion ver;
	struct kt_hash pc;
	enum kt_verify_outcome st;
	char d[512];

	if (kt_vparse_leaf(o, 1, l, d, sizeof(d)) != KT_OK ||
	    kt_vcheck_inclusion(l, &page->cp, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history, version %" PRIu64 ": %s", w->ver, d);
	if (l->kind != KT_LEAF_UPDATE || l->u.version != w->ver ||
	    !kt_hash_eq(&l->u.index, &w->index) ||
	    l->u.prev_index != w->prev_index ||
	    (w->prev_index != KT_NO_PREV && l->index <= w->prev_index))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history: version %" PRIu64 " (index %" PRIu64
		    ") breaks the chain (not an update of this label's index, "
		    "version order or previous link)",
		    w->ver, l->index);
	if (w->ver > 1 &&
	    (kt_vparse_b64n(o, "prev_chain", pc.b, KT_HASH_LEN) != KT_OK ||
	        !kt_hash_eq(&pc, &w->chain)))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history: version %" PRIu64
		    " names a previous chain other than the one its updates "
		    "make",
		    w->ver);
	memset(&ver, 0, sizeof(ver));
	if ((st = check_value(w, o, &ver, r)) != KT_VERIFY_OK)
		return st;
	kt_map_chain_next(w->ver == 1 ? NULL : &w->chain, &l->leaf_hash,
	    &w->chain);
	ver.l = l;
	ver.chain = w->chain;
	ver.sc = page;
	if (w->cb != NULL && (st = w->cb(w->ctx, &ver, r)) != KT_VERIFY_OK)
		return st;
	w->prev_index = l->index;
	w->ver++;
	return KT_VERIFY_OK;
}

/* GETs the page from w->ver into *o (replaced) and opens its checkpoint
 * into page (borrowing *o). */
static enum kt_verify_outcome
get_page(struct kt_verify *v, const struct hwalk *w, json_t **o,
    struct kt_signed_checkpoint *page, struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	char d[512], path[KT_LABEL_MAX * 3 + 64];
	json_t *jc, *jv;
	long status;
	enum kt_verify_outcome st;

	json_decref(*o);
	*o = NULL;
	if (kt_fmt(path, sizeof(path), "/v1/keys/%s/history?from=%" PRIu64,
	        w->esc, w->ver) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "internal: request path too long");
	if ((st = kt_vlog_get(v, path, KT_CAP_HISTORY, &body, &status,
	         "key history: ", r)) != KT_VERIFY_OK)
		goto out;
	/* A probe asks past what the map shows: "no such label" (404) or
	 * "no such version" (400) on its first page is the honest answer. */
	if (w->probe && w->read == 0 && (status == 404 || status == 400)) {
		st = KT_VERIFY_ABSENT;
		goto out;
	}
	/* Every version asked for is one the verified map (or lookup)
	 * shows: "no such label" (404) or "no such version" (400) is a
	 * lie, not a network error. */
	if (status != 200) {
		st = kt_vres(r,
		    status == 404 || status == 400 ? KT_VERIFY_FAILED
		                                   : KT_VERIFY_ERROR,
		    "key history: GET %s%s: HTTP %ld", v->url, path, status);
		goto out;
	}
	st = KT_VERIFY_FAILED;
	if (kt_vparse_object(body.p, body.len, o, d, sizeof(d)) != KT_OK) {
		kt_vres(r, st, "key history: %s", d);
		goto out;
	}
	jc = json_object_get(*o, "checkpoint");
	jv = json_object_get(*o, "versions");
	if (!json_is_string(jc) || !json_is_array(jv) ||
	    json_array_size(jv) == 0)
		kt_vres(r, st, "key history: missing checkpoint or versions");
	else if (json_array_size(jv) > KT_HISTORY_MAX - w->read)
		kt_vres(r, st,
		    "key history: more than %d versions, more than "
		    "this client checks",
		    KT_HISTORY_MAX);
	else if (kt_vcheck_checkpoint(json_string_value(jc),
	             json_string_length(jc), &v->vk, page, d,
	             sizeof(d)) != KT_OK)
		kt_vres(r, st, "key history: %s", d);
	else
		st = KT_VERIFY_OK;
out:
	kt_buf_free(&body);
	return st;
}

/* Every page in turn, until one has no "next". */
static enum kt_verify_outcome
walk(struct kt_verify *v, struct hwalk *w, struct kt_vresult *r)
{
	struct kt_signed_checkpoint page;
	enum kt_verify_outcome st;
	json_t *o = NULL, *jn, *jv;

	for (;;) {
		if ((st = get_page(v, w, &o, &page, r)) != KT_VERIFY_OK ||
		    (st = check_index(v, w, o, r)) != KT_VERIFY_OK)
			break;
		/* The page's checkpoint, like any checkpoint seen; with a
		 * witness policy (it may not be witnessed yet) related to the
		 * stored one, not stored. */
		st = v->wit.n == 0 || !v->have_stored
		    ? kt_vaccept(v, &page, r)
		    : kt_vrelate(v, &v->stored, &page, r);
		if (st != KT_VERIFY_OK)
			break;
		jv = json_object_get(o, "versions");
		for (size_t i = 0; i < json_array_size(jv); i++, w->read++)
			if ((st = check_version(w, &page, json_array_get(jv, i),
			         r)) != KT_VERIFY_OK)
				goto out;
		if ((jn = json_object_get(o, "next")) == NULL)
			break;
		if (!json_is_integer(jn) || json_integer_value(jn) < 0 ||
		    (uint64_t)json_integer_value(jn) != w->ver) {
			st = kt_vres(r, KT_VERIFY_FAILED,
			    "key history: \"next\" is not %" PRIu64
			    ", the version after the page",
			    w->ver);
			break;
		}
	}
out:
	json_decref(o);
	return st;
}

/* The walk of kt_vhistory_walk and kt_vhistory_probe, w set up. */
static enum kt_verify_outcome
run(struct kt_verify *v, struct hwalk *w, struct kt_hash *last, uint64_t *nver,
    struct kt_vresult *r)
{
	uint64_t from = w->ver;
	enum kt_verify_outcome st;

	if (kt_fetch_escape(w->label, strlen(w->label), w->esc,
	        sizeof(w->esc)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "label too long");
	st = walk(v, w, r);
	if (st == KT_VERIFY_ABSENT && w->probe) {
		*last = w->chain;
		*nver = from - 1;
		return KT_VERIFY_OK;
	}
	if (st != KT_VERIFY_OK)
		return st;
	*last = w->chain;
	*nver = w->ver - 1;
	return KT_VERIFY_OK;
}

/* A walk's state from version `from` (NULL when out of memory). */
static struct hwalk *
hwalk_new(const char *label, uint64_t from, const struct kt_hash *prev_chain,
    uint64_t prev_index, kt_version_cb cb, void *ctx)
{
	struct hwalk *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->l = calloc(1, sizeof(*w->l))) == NULL) {
		free(w);
		return NULL;
	}
	w->label = label;
	w->ver = from;
	w->prev_index = from == 1 ? KT_NO_PREV : prev_index;
	if (from > 1)
		w->chain = *prev_chain;
	w->cb = cb;
	w->ctx = ctx;
	return w;
}

enum kt_verify_outcome
kt_vhistory_walk(struct kt_verify *v, const char *label, uint64_t from,
    const struct kt_hash *prev_chain, uint64_t prev_index, kt_version_cb cb,
    void *ctx, struct kt_hash *last, uint64_t *nver, struct kt_vresult *r)
{
	struct hwalk *w =
	    hwalk_new(label, from, prev_chain, prev_index, cb, ctx);
	enum kt_verify_outcome st;

	if (w == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	st = run(v, w, last, nver, r);
	free(w->l);
	free(w);
	return st;
}

enum kt_verify_outcome
kt_vhistory_probe(struct kt_verify *v, const char *label, uint64_t from,
    const struct kt_hash *prev_chain, uint64_t prev_index, kt_version_cb cb,
    void *ctx, struct kt_hash *last, uint64_t *nver, struct kt_vresult *r)
{
	struct hwalk *w =
	    hwalk_new(label, from, prev_chain, prev_index, cb, ctx);
	enum kt_verify_outcome st;

	if (w == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	w->probe = 1;
	st = run(v, w, last, nver, r);
	free(w->l);
	free(w);
	return st;
}
