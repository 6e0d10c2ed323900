/*
 * logread.c: reading from the log, verified: a consistency proof between
 * two signed sizes, one entry with its inclusion proof, and every entry of
 * a range page by page into a compact frontier (monitor, audit).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify_internal.h"

int
kt_vlog_fetcher(struct kt_verify *v, struct kt_fetch **out,
    struct kt_vresult *r)
{
	kt_err e;

	if (v->fetch == NULL) {
		e = kt_fetch_open(v->url, v->connect_s, v->total_s, &v->fetch);
		if (e != KT_OK)
			return kt_vres(r, KT_VERIFY_ERROR, "HTTP client: %s",
			    kt_strerror(e));
	}
	*out = v->fetch;
	return KT_VERIFY_OK;
}

int
kt_vlog_consistency(struct kt_verify *v, const struct kt_checkpoint *a,
    const struct kt_checkpoint *b, int *bad, struct kt_proof *proof_out,
    struct kt_vresult *r)
{
	struct kt_fetch *f;
	struct kt_buf body = {0};
	struct kt_proof proof;
	json_t *o = NULL;
	char d[512], path[128];
	long status;
	kt_err e;
	int st;

	*bad = 0;
	if ((st = kt_vlog_fetcher(v, &f, r)) != KT_VERIFY_OK)
		return st;
	snprintf(path, sizeof(path), "/v1/proof/consistency?old=%" PRIu64
	    "&new=%" PRIu64, a->size, b->size);
	e = kt_fetch_get(f, path, KT_CAP_PROOF, &body, &status, d, sizeof(d));
	if (e == KT_ERR_NETWORK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "%s", d);
		goto out;
	}
	if (e != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_FAILED, "the log did not give a "
		    "consistency proof from size %" PRIu64 " to %" PRIu64
		    " (HTTP %ld): the new checkpoint is not accepted",
		    a->size, b->size, status);
		goto out;
	}
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK ||
	    (e = kt_vparse_consistency(o, a->size, b->size, &proof, d,
	    sizeof(d))) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "consistency proof: %s", d);
		goto out;
	}
	*bad = kt_merkle_verify_consistency(a->size, b->size, proof.h,
	    proof.n, &a->root, &b->root) != KT_OK;
	*proof_out = proof;
	st = KT_VERIFY_OK;
out:
	json_decref(o);
	kt_buf_free(&body);
	return st;
}

int
kt_vlog_leaf(struct kt_verify *v, uint64_t index,
    const struct kt_checkpoint *cp, struct kt_vleaf *out,
    struct kt_vresult *r)
{
	struct kt_fetch *f;
	struct kt_buf body = {0};
	json_t *o = NULL, *a, *j;
	char d[512], path[160];
	long status;
	kt_err e;
	int st;

	if ((st = kt_vlog_fetcher(v, &f, r)) != KT_VERIFY_OK)
		return st;
	snprintf(path, sizeof(path), "/v1/entries?start=%" PRIu64 "&end=%"
	    PRIu64, index, index + 1);
	e = kt_fetch_get(f, path, KT_CAP_PROOF, &body, &status, d, sizeof(d));
	if (e != KT_OK || status != 200) {
		st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
		    KT_VERIFY_FAILED, "GET entry %" PRIu64 ": %s", index,
		    e != KT_OK ? d : "HTTP error");
		goto out;
	}
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	a = json_object_get(o, "entries");
	j = json_array_get(a, 0);
	if (!json_is_array(a) || json_array_size(a) != 1 ||
	    !json_is_string(j) || kt_b64_decode(json_string_value(j),
	    json_string_length(j), out->entry, sizeof(out->entry),
	    &out->entry_len) != KT_OK ||
	    kt_entry_decode(out->entry, out->entry_len, &out->e) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "entry %" PRIu64 ": not one "
		    "well-formed entry", index);
		goto out;
	}
	out->index = index;
	out->version = out->e.version;
	kt_hash_leaf(out->entry, out->entry_len, &out->leaf_hash);
	json_decref(o);
	o = NULL;
	snprintf(path, sizeof(path), "/v1/proof/inclusion?index=%" PRIu64
	    "&size=%" PRIu64, index, cp->size);
	e = kt_fetch_get(f, path, KT_CAP_PROOF, &body, &status, d, sizeof(d));
	if (e != KT_OK || status != 200) {
		st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
		    KT_VERIFY_FAILED, "GET inclusion proof %" PRIu64 ": %s",
		    index, e != KT_OK ? d : "HTTP error");
		goto out;
	}
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK ||
	    kt_vparse_proof(o, &out->proof, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "inclusion proof: %s", d);
		goto out;
	}
	if (out->proof.index != index ||
	    kt_vcheck_inclusion(out, cp, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "entry %" PRIu64 ": %s",
		    index, out->proof.index != index ? "proof for another "
		    "index" : d);
		goto out;
	}
	st = KT_VERIFY_OK;
out:
	json_decref(o);
	kt_buf_free(&body);
	return st;
}

int
kt_vlog_scan(struct kt_verify *v, uint64_t start, uint64_t end,
    struct kt_frontier *f, kt_entry_cb cb, void *ctx, struct kt_vresult *r)
{
	struct kt_fetch *fe;
	struct kt_buf body = {0};
	uint8_t *entry = NULL;
	json_t *o = NULL;
	char d[512], path[128];
	uint64_t s = start;
	long status;
	kt_err e;
	int st = KT_VERIFY_OK;

	if (f->size != start)
		return kt_vres(r, KT_VERIFY_ERROR, "internal: frontier size");
	if ((st = kt_vlog_fetcher(v, &fe, r)) != KT_VERIFY_OK)
		return st;
	entry = malloc(KT_ENTRY_MAX);
	if (entry == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	while (s < end) {
		uint64_t want = end - s < KT_PAGE ? end - s : KT_PAGE;
		json_t *a;
		size_t n;

		snprintf(path, sizeof(path), "/v1/entries?start=%" PRIu64
		    "&end=%" PRIu64, s, s + want);
		e = kt_fetch_get(fe, path, KT_CAP_ENTRIES, &body, &status, d,
		    sizeof(d));
		if (e != KT_OK) {
			st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
			    KT_VERIFY_FAILED, "%s", d);
			goto out;
		}
		if (status != 200) {
			st = kt_vres(r, KT_VERIFY_ERROR, "GET %s: HTTP %ld",
			    path, status);
			goto out;
		}
		json_decref(o);
		if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d))
		    != KT_OK) {
			st = kt_vres(r, KT_VERIFY_FAILED, "entries %" PRIu64
			    ": %s", s, d);
			goto out;
		}
		a = json_object_get(o, "entries");
		n = json_array_size(a);
		/* A page may be shorter than asked (the server's page limit)
		 * but never empty or longer. */
		if (!json_is_array(a) || n == 0 || n > want) {
			st = kt_vres(r, KT_VERIFY_FAILED, "entries from %"
			    PRIu64 ": the log returned %zu entries for %" PRIu64
			    " asked", s, n, want);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *j = json_array_get(a, i);
			struct kt_entry ent;
			struct kt_hash h;
			size_t len;

			if (!json_is_string(j) ||
			    kt_b64_decode(json_string_value(j),
			    json_string_length(j), entry, KT_ENTRY_MAX, &len)
			    != KT_OK ||
			    kt_entry_decode(entry, len, &ent) != KT_OK) {
				st = kt_vres(r, KT_VERIFY_FAILED, "entry %"
				    PRIu64 " is not a well-formed kt entry",
				    s + i);
				goto out;
			}
			kt_hash_leaf(entry, len, &h);
			if (kt_frontier_append(f, &h) != KT_OK) {
				st = kt_vres(r, KT_VERIFY_FAILED, "tree full");
				goto out;
			}
			if (cb != NULL && (st = cb(ctx, s + i, entry, len, &ent,
			    r)) != KT_VERIFY_OK)
				goto out;
		}
		s += n;
	}
out:
	json_decref(o);
	kt_buf_free(&body);
	free(entry);
	return st;
}
