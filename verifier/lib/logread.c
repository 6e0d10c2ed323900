/*
 * logread.c: reading from the log, verified: a consistency proof between
 * two signed sizes, one entry with its inclusion proof, and every entry of
 * a range, entry bundle by entry bundle (tlog-tiles, so any static copy
 * of the log serves it), into a compact frontier (audit).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "kt/tile.h"
#include "verify_internal.h"

/* Lazily opens v->fetch. */
static enum kt_verify_outcome
fetcher(struct kt_verify *v, struct kt_vresult *r)
{
	kt_err e;

	if (v->fetch != NULL)
		return KT_VERIFY_OK;
	e = kt_fetch_open(v->url, v->connect_s, v->total_s, &v->fetch);
	if (e != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "HTTP client: %s",
		    kt_strerror(e));
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_vlog_get(struct kt_verify *v, const char *path, size_t cap,
    struct kt_buf *body, long *status, const char *what, struct kt_vresult *r)
{
	enum kt_verify_outcome st;
	char d[512];
	kt_err e;

	if ((st = fetcher(v, r)) != KT_VERIFY_OK)
		return st;
	e = kt_fetch_get(v->fetch, path, cap, body, status, d, sizeof(d));
	if (e == KT_OK) {
		v->bytes_in += body->len;
		return KT_VERIFY_OK;
	}
	/* A log we cannot reach has said nothing; a log whose answer is
	 * unusable (larger than any honest one) has failed. */
	return kt_vres(r,
	    e == KT_ERR_NETWORK ? KT_VERIFY_ERROR : KT_VERIFY_FAILED, "%s%s",
	    what, d);
}

enum kt_verify_outcome
kt_vlog_consistency(struct kt_verify *v, uint64_t old, uint64_t new_size,
    struct kt_proof *out, struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	json_t *o = NULL;
	char d[512], path[128];
	long status;
	enum kt_verify_outcome st;

	if (kt_fmt(path, sizeof(path),
	        "/v1/proof/consistency?old=%" PRIu64 "&new=%" PRIu64, old,
	        new_size) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR,
		    "internal: request path too "
		    "long");
		goto out;
	}
	if ((st = kt_vlog_get(v, path, KT_CAP_PROOF, &body, &status, "", r)) !=
	    KT_VERIFY_OK)
		goto out;
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "the log did not give a "
		    "consistency proof from size %" PRIu64 " to %" PRIu64
		    " (HTTP %ld): the new checkpoint is not accepted",
		    old, new_size, status);
		goto out;
	}
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK ||
	    kt_vparse_consistency(o, old, new_size, out, d, sizeof(d)) !=
	        KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "consistency proof: %s", d);
		goto out;
	}
	st = KT_VERIFY_OK;
out:
	json_decref(o);
	kt_buf_free(&body);
	return st;
}

/* GET path from the log (a proof-sized answer) that must answer 200;
 * what prefixes the message when it does not. */
static enum kt_verify_outcome
get_ok(struct kt_verify *v, const char *path, const char *what,
    struct kt_buf *body, struct kt_vresult *r)
{
	enum kt_verify_outcome st;
	long status;

	st = kt_vlog_get(v, path, KT_CAP_PROOF, body, &status, what, r);
	if (st == KT_VERIFY_OK && status != 200)
		st = kt_vres(r, KT_VERIFY_FAILED, "%sGET %s%s: HTTP %ld", what,
		    v->url, path, status);
	return st;
}

enum kt_verify_outcome
kt_vlog_leaf(struct kt_verify *v, uint64_t index,
    const struct kt_checkpoint *cp, struct kt_vleaf *out, struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	json_t *o = NULL, *a, *j;
	char d[512], path[160], what[64];
	enum kt_verify_outcome st;

	if (kt_fmt(path, sizeof(path),
	        "/v1/entries?start=%" PRIu64 "&end=%" PRIu64, index,
	        index + 1) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR,
		    "internal: request path too "
		    "long");
		goto out;
	}
	kt_msg(what, sizeof(what), "GET entry %" PRIu64 ": ", index);
	if ((st = get_ok(v, path, what, &body, r)) != KT_VERIFY_OK)
		goto out;
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	a = json_object_get(o, "entries");
	j = json_array_get(a, 0);
	if (!json_is_array(a) || json_array_size(a) != 1 ||
	    !json_is_string(j) ||
	    kt_b64_decode(json_string_value(j), json_string_length(j),
	        out->entry, sizeof(out->entry), &out->entry_len) != KT_OK ||
	    kt_vleaf_decode(out) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "entry %" PRIu64 ": not one "
		    "update or map head leaf",
		    index);
		goto out;
	}
	out->index = index;
	json_decref(o);
	o = NULL;
	if (kt_fmt(path, sizeof(path),
	        "/v1/proof/inclusion?index=%" PRIu64 "&size=%" PRIu64, index,
	        cp->size) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR,
		    "internal: request path too "
		    "long");
		goto out;
	}
	kt_msg(what, sizeof(what), "GET inclusion proof %" PRIu64 ": ", index);
	if ((st = get_ok(v, path, what, &body, r)) != KT_VERIFY_OK)
		goto out;
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK ||
	    kt_vparse_proof(o, &out->proof, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "inclusion proof: %s", d);
		goto out;
	}
	if (out->proof.index != index ||
	    kt_vcheck_inclusion(out, cp, d, sizeof(d)) != KT_OK) {
		st =
		    kt_vres(r, KT_VERIFY_FAILED, "entry %" PRIu64 ": %s", index,
		        out->proof.index != index ? "proof for another "
		                                    "index"
		                                  : d);
		goto out;
	}
	st = KT_VERIFY_OK;
out:
	json_decref(o);
	kt_buf_free(&body);
	return st;
}

/* The leaves of bundle k that [start, end) holds, from its body: a
 * bundle must hold exactly the entries a tree of end leaves has there (or
 * be the full bundle, when the partial one was gone). */
static enum kt_verify_outcome
scan_bundle(const struct kt_buf *body, uint64_t k, uint64_t start, uint64_t end,
    struct kt_vleaf *l, struct kt_frontier *f, kt_entry_cb cb, void *ctx,
    struct kt_vresult *r)
{
	const uint8_t *b = (const uint8_t *)body->p, *e;
	unsigned width = kt_tile_width(end, KT_TILE_LEVEL_ENTRIES, k);
	uint64_t i = k * KT_TILE_WIDTH;
	size_t off = 0, len, n = 0;
	enum kt_verify_outcome st;
	kt_err err;

	while ((err = kt_bundle_next(b, body->len, &off, &e, &len)) == KT_OK)
		n++;
	if (err != KT_ERR_NOT_FOUND || (n != width && n != KT_TILE_WIDTH))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "entry bundle %" PRIu64 " is not %u entries of a tree of "
		    "size %" PRIu64,
		    k, width, end);
	for (off = 0; i < k * KT_TILE_WIDTH + width; i++) {
		if (kt_bundle_next(b, body->len, &off, &e, &len) != KT_OK)
			return kt_vres(r, KT_VERIFY_ERROR, "internal: bundle");
		if (i < start)
			continue;
		if (len > sizeof(l->entry))
			return kt_vres(r, KT_VERIFY_FAILED,
			    "entry %" PRIu64
			    " is not an update or map head leaf",
			    i);
		memcpy(l->entry, e, len);
		l->entry_len = len;
		l->index = i;
		if (kt_vleaf_decode(l) != KT_OK)
			return kt_vres(r, KT_VERIFY_FAILED,
			    "entry %" PRIu64
			    " is not an update or map head leaf",
			    i);
		if (kt_frontier_append(f, &l->leaf_hash) != KT_OK)
			return kt_vres(r, KT_VERIFY_FAILED, "tree full");
		if (cb != NULL && (st = cb(ctx, l, r)) != KT_VERIFY_OK)
			return st;
	}
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_vlog_scan(struct kt_verify *v, struct kt_vprefetch *pf, uint64_t start,
    uint64_t end, struct kt_frontier *f, kt_entry_cb cb, void *ctx,
    struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	struct kt_vleaf *l = NULL;
	long status;
	enum kt_verify_outcome st = KT_VERIFY_OK;

	if (f->size != start)
		return kt_vres(r, KT_VERIFY_ERROR, "internal: frontier size");
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	for (uint64_t k = start / KT_TILE_WIDTH;
	     st == KT_VERIFY_OK && k * KT_TILE_WIDTH < end; k++) {
		st = kt_vprefetch_get(pf, KT_VPREFETCH_BUNDLE, k, &body,
		    &status, r);
		if (st == KT_VERIFY_OK && status != 200)
			st = kt_vres(r, KT_VERIFY_ERROR,
			    "GET %s/tile/entries/ bundle %" PRIu64 ": HTTP %ld",
			    v->url, k, status);
		if (st == KT_VERIFY_OK)
			st =
			    scan_bundle(&body, k, start, end, l, f, cb, ctx, r);
	}
	kt_buf_free(&body);
	free(l);
	return st;
}
