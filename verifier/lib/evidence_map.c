/*
 * evidence_map.c: "wrong-map" evidence, a map head that does not follow
 * from the map head before it and the batch between them (map.md,
 * "Auditors keep the map honest": compact evidence).
 *
 * The judge below is the one statement of a map head's rules, shared by
 * the stateless auditor (map_audit.c) and by `evidence`, so what the
 * auditor calls an attack is exactly what a third party can recompute.
 * The file carries a signed checkpoint; the two map heads and every leaf
 * between them, each with its inclusion proof to that checkpoint (so the
 * batch is complete: no leaf can be left out or added); and the paths,
 * in the older map, of every index the batch touches. From these alone
 * the new root is recomputed (kt_map_apply_proofs): the log signed a tree
 * holding a map head that its own batch does not make.
 *
 * Soundness: the paths are checked against the older head's root before
 * anything else, one per distinct index of the batch, each for its index;
 * paths that do not verify or do not cover the batch prove nothing
 * (anyone can write a wrong path) and the file is refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

/* ---- the judge ------------------------------------------------------------ */

static int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, KT_HASH_LEN);
}

/* The distinct indexes of u[0..n), sorted, into *out (malloc'd). */
static kt_err
distinct_indexes(const struct kt_map_update *u, size_t n, struct kt_hash **out,
    size_t *nout)
{
	struct kt_hash *idx = malloc((n ? n : 1) * sizeof(*idx));
	size_t k = 0;

	if (idx == NULL)
		return KT_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		idx[i] = u[i].index;
	qsort(idx, n, sizeof(*idx), hash_cmp);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || memcmp(idx[k - 1].b, idx[i].b, KT_HASH_LEN) != 0)
			idx[k++] = idx[i];
	*out = idx;
	*nout = k;
	return KT_OK;
}

/* The rules a map head keeps by itself and with the head before it. */
const char *
kt_vmap_head_rules(const struct kt_map_head *prev, uint64_t prev_index,
    const struct kt_map_head *h, uint64_t h_index, const char **why)
{
	if (h->log_size != h_index) {
		*why = "a map head's log_size is not its leaf index";
		return "log-size";
	}
	if (h->prev_head != prev_index) {
		*why = "a map head does not link to the map head before it";
		return "head-link";
	}
	if (prev != NULL && h->timestamp_ms < prev->timestamp_ms) {
		*why = "map head times run backwards";
		return "timestamp";
	}
	return NULL;
}

kt_err
kt_vmap_judge(struct kt_vpaths *t, const struct kt_map_head *prev,
    uint64_t prev_index, const struct kt_map_head *h, uint64_t h_index,
    const struct kt_map_update *u, size_t n, const struct kt_vpath *p,
    size_t np, struct kt_vmap_verdict *out)
{
	struct kt_hash old_root, empty, *idx = NULL;
	struct kt_map_result res;
	struct kt_map_reader rd;
	uint64_t count = prev != NULL ? prev->label_count : 0;
	size_t k;
	kt_err e;

	memset(out, 0, sizeof(*out));
	if ((out->rule = kt_vmap_head_rules(prev, prev_index, h, h_index,
	         &out->why)) != NULL)
		return KT_OK;
	kt_map_empty_root(&empty);
	old_root = prev != NULL ? prev->root : empty;
	/* The paths first: one per distinct index, in order, each proving
	 * its index (present or absent) in the older map, each hashed once
	 * (map_paths.c). The empty map needs none (kt_map_apply builds on
	 * it alone). */
	if ((e = distinct_indexes(u, n, &idx, &k)) != KT_OK)
		return e;
	e = np == k || (np == 0 && kt_hash_eq(&old_root, &empty))
	    ? KT_OK
	    : KT_ERR_VERIFY;
	kt_vpaths_reset(t);
	for (size_t i = 0; i < np && e == KT_OK; i++)
		e = kt_vpaths_add(t, &old_root, &idx[i], p[i].b, p[i].len);
	free(idx);
	if (e != KT_OK)
		return e == KT_ERR_NOMEM ? e : KT_ERR_VERIFY;
	/* Every node the batch step reads is one of those paths' (a path
	 * proves its index, so the index's walk follows it). */
	kt_vpaths_reader(t, &rd);
	memset(&res, 0, sizeof(res));
	e = kt_map_apply(&rd, &old_root, u, n, NULL, &res);
	if (e == KT_ERR_NOT_FOUND)
		return KT_ERR_VERIFY;
	if (e == KT_ERR_VERIFY) {
		out->rule = "map-rules";
		out->why = res.why != NULL ? res.why
		                           : "the batch breaks the map's rules";
		return KT_OK;
	}
	if (e != KT_OK)
		return e;
	out->inserted = res.inserted;
	if (!kt_hash_eq(&res.root, &h->root)) {
		out->rule = "map-root";
		out->why = "a map head's root is not the map its batch makes";
	} else if (h->label_count != count + res.inserted) {
		out->rule = "label-count";
		out->why = "a map head's label_count is not the number of "
		           "labels in its map";
	}
	return KT_OK;
}

/* ---- the file, parsed ------------------------------------------------------ */

/* A wrong-map file's contents, verified against its checkpoint. */
struct wm {
	struct kt_signed_checkpoint sc;
	int have_prev;
	struct kt_vleaf prev, head;
	struct kt_map_update *u;
	size_t n;
	struct kt_vpath *p; /* into pbuf */
	uint8_t *pbuf;
	size_t np;
};

static void
wm_free(struct wm *w)
{
	free(w->u);
	free(w->p);
	free(w->pbuf);
}

/* A leaf record proven into cp; leaf_hash, when given, must be its hash. */
static kt_err
wm_leaf(const json_t *o, const struct kt_checkpoint *cp, struct kt_vleaf *l,
    char *d, size_t dlen)
{
	json_t *jh = json_object_get(o, "leaf_hash");
	struct kt_hash h;

	memset(l, 0, sizeof(*l));
	if (kt_vparse_stored_leaf(o, l) != KT_OK ||
	    (jh != NULL &&
	        (kt_vparse_hash(jh, &h) != KT_OK ||
	            !kt_hash_eq(&h, &l->leaf_hash)))) {
		kt_msg(d, dlen, "a leaf record is malformed");
		return KT_ERR_MALFORMED;
	}
	l->proof.size = cp->size;
	return kt_vcheck_inclusion(l, cp, d, dlen);
}

/* The batch: every leaf between the two heads, updates, in order. */
static kt_err
wm_updates(const json_t *a, struct wm *w, uint64_t start, char *d, size_t dlen)
{
	struct kt_vleaf *l = malloc(sizeof(*l));
	kt_err e = KT_OK;

	if (l == NULL)
		return KT_ERR_NOMEM;
	w->n = json_array_size(a);
	if (!json_is_array(a) || w->n != w->head.index - start ||
	    w->n > KT_VAUDIT_BATCH_MAX) {
		kt_msg(d, dlen,
		    "updates must be every leaf between the two map "
		    "heads (at most %d)",
		    KT_VAUDIT_BATCH_MAX);
		free(l);
		return KT_ERR_MALFORMED;
	}
	w->u = calloc(w->n ? w->n : 1, sizeof(*w->u));
	if (w->u == NULL)
		e = KT_ERR_NOMEM;
	for (size_t i = 0; i < w->n && e == KT_OK; i++) {
		e = wm_leaf(json_array_get(a, i), &w->sc.cp, l, d, dlen);
		if (e == KT_OK &&
		    (l->index != start + i || l->kind != KT_LEAF_UPDATE)) {
			kt_msg(d, dlen,
			    "leaf %zu of the batch is not the update at "
			    "index %" PRIu64,
			    i, start + i);
			e = KT_ERR_MALFORMED;
		}
		if (e != KT_OK)
			break;
		w->u[i].index = l->u.index;
		w->u[i].version = l->u.version;
		w->u[i].prev_index = l->u.prev_index;
		w->u[i].log_index = l->index;
		w->u[i].leaf_hash = l->leaf_hash;
	}
	free(l);
	return e;
}

/* The paths: base64 of kt_map_proof_encode, decoded strictly (the judge
 * decodes the bytes). */
static kt_err
wm_paths(const json_t *a, struct wm *w, char *d, size_t dlen)
{
	size_t len, off = 0, cap = 1;

	w->np = json_array_size(a);
	if (!json_is_array(a) || w->np > w->n) {
		kt_msg(d, dlen, "paths must be an array, one per index");
		return KT_ERR_MALFORMED;
	}
	for (size_t i = 0; i < w->np; i++)
		cap += json_string_length(json_array_get(a, i)) / 4 * 3;
	w->p = malloc((w->np ? w->np : 1) * sizeof(*w->p));
	w->pbuf = malloc(cap);
	if (w->p == NULL || w->pbuf == NULL)
		return KT_ERR_NOMEM;
	for (size_t i = 0; i < w->np; i++) {
		const json_t *j = json_array_get(a, i);

		if (!json_is_string(j) ||
		    kt_b64_decode(json_string_value(j), json_string_length(j),
		        w->pbuf + off, cap - off, &len) != KT_OK) {
			kt_msg(d, dlen, "path %zu is not base64", i);
			return KT_ERR_MALFORMED;
		}
		w->p[i].b = w->pbuf + off;
		w->p[i].len = len;
		off += len;
	}
	return KT_OK;
}

static kt_err
wm_parse(const json_t *ev, const struct kt_verifier *vk, struct wm *w, char *d,
    size_t dlen)
{
	json_t *jn = json_object_get(ev, "checkpoint");
	json_t *jp = json_object_get(ev, "previous");
	uint64_t start;
	kt_err e;

	memset(w, 0, sizeof(*w));
	if (!json_is_string(jn) || json_string_length(jn) > KT_NOTE_MAX) {
		kt_msg(d, dlen, "the checkpoint is missing");
		return KT_ERR_MALFORMED;
	}
	if ((e = kt_vcheck_checkpoint(json_string_value(jn),
	         json_string_length(jn), vk, &w->sc, d, dlen)) != KT_OK)
		return e;
	if ((e = wm_leaf(json_object_get(ev, "head"), &w->sc.cp, &w->head, d,
	         dlen)) != KT_OK)
		return e;
	w->have_prev = jp != NULL && !json_is_null(jp);
	if (w->have_prev &&
	    (e = wm_leaf(jp, &w->sc.cp, &w->prev, d, dlen)) != KT_OK)
		return e;
	if (w->head.kind != KT_LEAF_MAP_HEAD ||
	    (w->have_prev &&
	        (w->prev.kind != KT_LEAF_MAP_HEAD ||
	            w->prev.index >= w->head.index))) {
		kt_msg(d, dlen,
		    "head and previous must be map heads, previous "
		    "first");
		return KT_ERR_MALFORMED;
	}
	start = w->have_prev ? w->prev.index + 1 : 0;
	if ((e = wm_updates(json_object_get(ev, "updates"), w, start, d,
	         dlen)) != KT_OK)
		return e;
	return wm_paths(json_object_get(ev, "paths"), w, d, dlen);
}

/* ---- the offline check ----------------------------------------------------- */

enum kt_verify_outcome
kt_vevidence_wrong_map(const json_t *ev, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	const char *rule = json_string_value(json_object_get(ev, "rule"));
	struct wm *w = malloc(sizeof(*w));
	struct kt_vpaths *t = NULL;
	struct kt_vmap_verdict vd;
	char d[512];
	enum kt_verify_outcome st;
	kt_err e;

	if (w == NULL || kt_vpaths_open(&t) != KT_OK) {
		free(w);
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	if ((e = wm_parse(ev, vk, w, d, sizeof(d))) != KT_OK) {
		st = e == KT_ERR_NOMEM
		    ? kt_vres(r, KT_VERIFY_ERROR, "out of memory")
		    : kt_vres(r, KT_VERIFY_FAILED, "wrong-map evidence: %s", d);
		goto out;
	}
	e = kt_vmap_judge(t, w->have_prev ? &w->prev.h : NULL,
	    w->have_prev ? w->prev.index : KT_NO_PREV, &w->head.h,
	    w->head.index, w->u, w->n, w->p, w->np, &vd);
	if (e == KT_ERR_NOMEM) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if (e != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "wrong-map evidence proves nothing: its paths do not "
		    "verify against the previous map head's root, or do not "
		    "cover every index of the batch");
		goto out;
	}
	if (vd.rule == NULL) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "wrong-map evidence proves nothing: map head %" PRIu64
		    " follows from the batch before it",
		    w->head.index);
		goto out;
	}
	if (rule == NULL || strcmp(rule, vd.rule) != 0) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "wrong-map evidence: it names rule \"%s\", the data "
		    "breaks \"%s\"",
		    rule != NULL ? rule : "(none)", vd.rule);
		goto out;
	}
	json_object_set_new(r->info, "rule", json_string(vd.rule));
	st = kt_vres(r, KT_VERIFY_OK,
	    "PROVEN: the log's signed tree of size %" PRIu64
	    " holds map head %" PRIu64 " that does not follow from %s and the "
	    "%zu updates between them (rule \"%s\": %s)",
	    w->sc.cp.size, w->head.index,
	    w->have_prev ? "the map head before it" : "the empty map", w->n,
	    vd.rule, vd.why);
out:
	kt_vpaths_close(t);
	wm_free(w);
	free(w);
	return st;
}

/* ---- writing ---------------------------------------------------------------- */

/* Leaves [from, to) proven into sc, as a JSON array, into *out. */
static enum kt_verify_outcome
proven_leaves(struct kt_verify *v, const struct kt_signed_checkpoint *sc,
    uint64_t from, uint64_t to, json_t *out, struct kt_vresult *r)
{
	struct kt_vleaf *l = malloc(sizeof(*l));
	enum kt_verify_outcome st = KT_VERIFY_OK;

	if (l == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	for (uint64_t i = from; i < to && st == KT_VERIFY_OK; i++) {
		st = kt_vlog_leaf(v, i, &sc->cp, l, r);
		if (st == KT_VERIFY_OK &&
		    json_array_append_new(out, kt_vleaf_json(l)) != 0)
			st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	free(l);
	return st;
}

enum kt_verify_outcome
kt_evidence_wrong_map(struct kt_verify *v,
    const struct kt_signed_checkpoint *sc, uint64_t prev_index,
    uint64_t h_index, const json_t *paths, const char *rule,
    struct kt_vresult *r)
{
	json_t *ev = json_object(), *prev = json_array(), *head = json_array();
	json_t *upd = json_array();
	char msg[KT_VERIFY_MSG_MAX];
	struct kt_vresult chk;
	uint64_t start = prev_index == KT_NO_PREV ? 0 : prev_index + 1;
	enum kt_verify_outcome st;

	memcpy(msg, r->msg, sizeof(msg));
	kt_vresult_init(&chk);
	if (ev == NULL || prev == NULL || head == NULL || upd == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if ((prev_index != KT_NO_PREV &&
	        (st = proven_leaves(v, sc, prev_index, prev_index + 1, prev,
	             r)) != KT_VERIFY_OK) ||
	    (st = proven_leaves(v, sc, h_index, h_index + 1, head, r)) !=
	        KT_VERIFY_OK ||
	    (st = proven_leaves(v, sc, start, h_index, upd, r)) != KT_VERIFY_OK)
		goto out;
	json_object_set_new(ev, "type", json_string("wrong-map"));
	json_object_set_new(ev, "provable", json_true());
	json_object_set_new(ev, "summary",
	    json_string("a map head that does not follow from the map head "
	                "before it and the updates between them"));
	json_object_set_new(ev, "rule", json_string(rule));
	json_object_set_new(ev, "checkpoint",
	    json_stringn(sc->note, sc->note_len));
	json_object_set(ev, "previous",
	    prev_index == KT_NO_PREV ? json_null() : json_array_get(prev, 0));
	json_object_set(ev, "head", json_array_get(head, 0));
	json_object_set(ev, "updates", upd);
	json_object_set_new(ev, "paths", json_deep_copy(paths));
	/* Checked as a third party will check it, before it is written: the
	 * log's leaves, proofs and paths must agree with what the audit saw. */
	if (kt_vevidence_wrong_map(ev, &v->vk, &chk) != KT_VERIFY_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "the log's answers disagree with each other (%s)", chk.msg);
		goto out;
	}
	memcpy(r->msg, msg, sizeof(msg));
	st = kt_evidence_write(v, ev, r);
	ev = NULL;
out:
	kt_vresult_free(&chk);
	json_decref(ev);
	json_decref(prev);
	json_decref(head);
	json_decref(upd);
	return st;
}
