/*
 * logread.c: reading from the log, verified: a consistency proof between
 * two signed sizes, one entry with its inclusion proof, and every entry of
 * a range page by page into a compact frontier (monitor, audit).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
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

enum kt_verify_outcome
kt_vlog_scan(struct kt_verify *v, uint64_t start, uint64_t end,
    struct kt_frontier *f, kt_entry_cb cb, void *ctx, struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	struct kt_vleaf *l = NULL;
	json_t *o = NULL;
	char d[512], path[128];
	uint64_t s = start;
	long status;
	enum kt_verify_outcome st = KT_VERIFY_OK;

	if (f->size != start)
		return kt_vres(r, KT_VERIFY_ERROR, "internal: frontier size");
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	while (s < end) {
		uint64_t want = end - s < KT_PAGE ? end - s : KT_PAGE;
		json_t *a;
		size_t n;

		if (kt_fmt(path, sizeof(path),
		        "/v1/entries?start=%" PRIu64 "&end=%" PRIu64, s,
		        s + want) != KT_OK) {
			st = kt_vres(r, KT_VERIFY_ERROR,
			    "internal: request "
			    "path too long");
			goto out;
		}
		if ((st = kt_vlog_get(v, path, KT_CAP_ENTRIES, &body, &status,
		         "", r)) != KT_VERIFY_OK)
			goto out;
		if (status != 200) {
			st = kt_vres(r, KT_VERIFY_ERROR, "GET %s%s: HTTP %ld",
			    v->url, path, status);
			goto out;
		}
		json_decref(o);
		if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) !=
		    KT_OK) {
			st = kt_vres(r, KT_VERIFY_FAILED,
			    "entries %" PRIu64 ": %s", s, d);
			goto out;
		}
		a = json_object_get(o, "entries");
		n = json_array_size(a);
		/* A page may be shorter than asked (the server's page limit)
		 * but never empty or longer. */
		if (!json_is_array(a) || n == 0 || n > want) {
			st = kt_vres(r, KT_VERIFY_FAILED,
			    "entries from %" PRIu64
			    ": the log returned %zu entries for %" PRIu64
			    " asked",
			    s, n, want);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *j = json_array_get(a, i);

			if (!json_is_string(j) ||
			    kt_b64_decode(json_string_value(j),
			        json_string_length(j), l->entry,
			        sizeof(l->entry), &l->entry_len) != KT_OK ||
			    kt_vleaf_decode(l) != KT_OK) {
				st = kt_vres(r, KT_VERIFY_FAILED,
				    "entry %" PRIu64
				    " is not an update or map head leaf",
				    s + i);
				goto out;
			}
			l->index = s + i;
			if (kt_frontier_append(f, &l->leaf_hash) != KT_OK) {
				st = kt_vres(r, KT_VERIFY_FAILED, "tree full");
				goto out;
			}
			if (cb != NULL && (st = cb(ctx, l, r)) != KT_VERIFY_OK)
				goto out;
		}
		s += n;
	}
out:
	json_decref(o);
	kt_buf_free(&body);
	free(l);
	return st;
}
