/*
 * history.c: a label's key history, verified page by page. `lookup` walks
 * it when the key changed since the pin (exit 4), to list every verified
 * change and to prove a rewritten pin.
 *
 * GET /v1/keys/{label}/history answers one page: the versions from ?from=V
 * on, with the log's signed checkpoint they are proven into and "next"
 * when more follow. Every version is checked against its own page's
 * checkpoint; every page's checkpoint is related like any checkpoint seen,
 * so that all pages are views of one tree.
 *
 * A malicious log must not keep the client paging for ever: a page is not
 * empty, its "next" must be the version after its last, and at most
 * KT_HISTORY_MAX versions are read. Each page is freed before the next is
 * fetched; what grows is the chain of changes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

/* Where the walk through the pages of a label's history stands. */
struct hwalk {
	const char *label;
	char esc[KT_LABEL_MAX * 3 + 1]; /* label, escaped for a path */
	const json_t *pin;
	struct kt_vleaf *pl;        /* the pinned leaf, when pin_version */
	uint64_t pin_version;       /* 0: no usable pin */
	const struct kt_vanswer *a; /* the lookup answer */
	json_t *chain;
	uint64_t ver;        /* the next version expected, from 1 */
	uint64_t prev_index; /* KT_NO_PREV before version 1 */
	uint8_t prev_type;
	struct kt_vleaf *l; /* scratch: one version */
	/* with a witness policy, the checkpoint each page is related to:
	 * the stored (witnessed) one, its note copied into stored_note so the
	 * walk owns it, then the page before (its note held by prev_jc) */
	struct kt_signed_checkpoint prev;
	char *stored_note;
	json_t *prev_jc;
};

/* A leaf of the history (l) at the same index as the pinned leaf or the
 * looked-up one, in another signed tree (page): the same bytes, or a fork
 * this client can prove. */
static enum kt_verify_outcome
same_leaves(struct kt_verify *v, const struct hwalk *w,
    const struct kt_signed_checkpoint *page, const struct kt_vleaf *l,
    struct kt_vresult *r)
{
	const struct kt_vleaf *pl = w->pl, *ll = &w->a->lk.leaf;
	struct kt_signed_checkpoint psc;
	json_t *pn;
	char d[512];

	if (l->index == ll->index && !kt_hash_eq(&l->leaf_hash, &ll->leaf_hash))
		return kt_evidence_fork_leaves(v, &w->a->sc, ll, page, l,
		    "history and lookup disagree on an entry", r);
	if (w->pin_version == 0 || l->index != pl->index ||
	    kt_hash_eq(&l->leaf_hash, &pl->leaf_hash))
		return KT_VERIFY_OK;
	/* The pin's checkpoint was verified when it was pinned; a state file
	 * in which it no longer opens proves nothing. */
	pn = json_object_get(w->pin, "checkpoint");
	if (json_is_string(pn) &&
	    kt_vcheck_checkpoint(json_string_value(pn), json_string_length(pn),
	        &v->vk, &psc, d, sizeof(d)) == KT_OK)
		return kt_evidence_fork_leaves(v, &psc, pl, page, l,
		    "the log "
		    "rewrote the pinned version of the label",
		    r);
	return KT_VERIFY_OK;
}

/*
 * One version l, at w->ver: its label, version, previous-version link and
 * the revocation rule; then one value per version, as the pin and the
 * lookup saw it.
 */
static enum kt_verify_outcome
check_version(struct kt_verify *v, struct hwalk *w,
    const struct kt_signed_checkpoint *page, const struct kt_vleaf *l,
    struct kt_vresult *r)
{
	const struct kt_vleaf *pl = w->pl, *ll = &w->a->lk.leaf;
	enum kt_verify_outcome st;

	if (l->e.label_len != strlen(w->label) ||
	    memcmp(l->e.label, w->label, l->e.label_len) != 0 ||
	    l->e.version != w->ver || l->e.prev_index != w->prev_index ||
	    (w->ver > 1 && l->index <= w->prev_index) ||
	    (w->prev_type == KT_ENTRY_REVOKE && l->e.type == KT_ENTRY_REVOKE))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history: version %" PRIu64 " (index %" PRIu64
		    ") breaks the chain (label, "
		    "version order, previous link or revocation rule)",
		    w->ver, l->index);
	if ((st = same_leaves(v, w, page, l, r)) != KT_VERIFY_OK)
		return st;
	if (w->pin_version == l->e.version && l->index != pl->index)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history puts version %" PRIu64 " at index %" PRIu64
		    ", but it was pinned at index %" PRIu64
		    " (two values for one version)",
		    l->e.version, l->index, pl->index);
	/* The looked-up version must be the very entry the lookup showed
	 * (same index; same bytes is checked above), or the log holds two
	 * values for it. */
	if (l->e.version == ll->e.version && l->index != ll->index)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "key history puts version %" PRIu64 " at index %" PRIu64
		    ", but the lookup shows it at "
		    "index %" PRIu64 " (two values for one version)",
		    l->e.version, l->index, ll->index);
	return KT_VERIFY_OK;
}

/*
 * Verifies one page of the history, the versions jv, each against the
 * page's own signed checkpoint: decoding, inclusion, then check_version.
 * Appends the versions after the pin, up to the looked-up one, to
 * w->chain and moves w past the page.
 */
static enum kt_verify_outcome
check_page(struct kt_verify *v, struct hwalk *w,
    const struct kt_signed_checkpoint *page, const json_t *jv,
    struct kt_vresult *r)
{
	struct kt_vleaf *l = w->l;
	enum kt_verify_outcome st;
	char d[512];

	for (size_t i = 0; i < json_array_size(jv); i++, w->ver++) {
		if (kt_vparse_leaf(json_array_get(jv, i), 1, l, d, sizeof(d)) !=
		        KT_OK ||
		    kt_vcheck_inclusion(l, &page->cp, d, sizeof(d)) != KT_OK)
			return kt_vres(r, KT_VERIFY_FAILED,
			    "key history, "
			    "version %" PRIu64 ": %s",
			    w->ver, d);
		if ((st = check_version(v, w, page, l, r)) != KT_VERIFY_OK)
			return st;
		/* A version after the looked-up one was written since the
		 * lookup's checkpoint (with a witness policy: not witnessed
		 * yet). It is checked with the chain, not reported as a
		 * change to the key this lookup shows or pins. */
		if (l->e.version > w->pin_version &&
		    l->e.version <= w->a->lk.leaf.e.version)
			json_array_append_new(w->chain, kt_vleaf_summary(l));
		w->prev_index = l->index;
		w->prev_type = l->e.type;
	}
	return KT_VERIFY_OK;
}

/*
 * GETs the page from version w->ver into *o (replaced) and opens its
 * checkpoint into page (borrowing *o): the page's shape, the bound on
 * versions, the log's signature.
 */
static enum kt_verify_outcome
get_page(struct kt_verify *v, const struct hwalk *w, json_t **o,
    struct kt_signed_checkpoint *page, struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	char d[512], path[KT_LABEL_MAX * 3 + 64];
	json_t *jc, *jv;
	long status;
	enum kt_verify_outcome st;
	kt_err e;

	if (w->ver == 1)
		e = kt_fmt(path, sizeof(path), "/v1/keys/%s/history", w->esc);
	else
		e = kt_fmt(path, sizeof(path),
		    "/v1/keys/%s/history?from=%" PRIu64, w->esc, w->ver);
	if (e != KT_OK) {
		/* path holds any escaped label: cannot happen */
		st = kt_vres(r, KT_VERIFY_ERROR,
		    "internal: request path too "
		    "long");
		goto out;
	}
	json_decref(*o);
	*o = NULL;
	if ((st = kt_vlog_get(v, path, KT_CAP_HISTORY, &body, &status,
	         "key history: ", r)) != KT_VERIFY_OK)
		goto out;
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_ERROR,
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
	else if (json_array_size(jv) > KT_HISTORY_MAX - (w->ver - 1))
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

/*
 * A page's checkpoint, like any checkpoint seen: accepted against the
 * stored one; with a witness policy (it is the log's newest, maybe not
 * witnessed) related, not stored, to the stored one for the first page
 * and to the page before after that.
 */
static enum kt_verify_outcome
relate_page(struct kt_verify *v, struct hwalk *w, json_t *o,
    const struct kt_signed_checkpoint *page, struct kt_vresult *r)
{
	enum kt_verify_outcome st;

	if (v->wit.n == 0)
		return kt_vaccept(v, page, r);
	st = kt_vrelate(v, &w->prev, page, r);
	json_decref(w->prev_jc);
	w->prev_jc = json_incref(json_object_get(o, "checkpoint"));
	w->prev = *page;
	return st;
}

/* Every page in turn, until one has no "next". */
static enum kt_verify_outcome
walk(struct kt_verify *v, struct hwalk *w, struct kt_vresult *r)
{
	struct kt_signed_checkpoint page;
	enum kt_verify_outcome st;
	json_t *o = NULL, *jn;

	for (;;) {
		if ((st = get_page(v, w, &o, &page, r)) != KT_VERIFY_OK ||
		    (st = check_page(v, w, &page,
		         json_object_get(o, "versions"), r)) != KT_VERIFY_OK ||
		    (st = relate_page(v, w, o, &page, r)) != KT_VERIFY_OK)
			break;
		if ((jn = json_object_get(o, "next")) == NULL)
			break;
		if (!json_is_integer(jn) || json_integer_value(jn) < 0 ||
		    (uint64_t)json_integer_value(jn) != w->ver) {
			st = kt_vres(r, KT_VERIFY_FAILED,
			    "key history: "
			    "\"next\" is not %" PRIu64 ", the version after "
			    "the page",
			    w->ver);
			break;
		}
	}
	json_decref(o);
	return st;
}

enum kt_verify_outcome
kt_vhistory_verify(struct kt_verify *v, const char *label, const json_t *pin,
    const struct kt_vanswer *a, json_t *chain, struct kt_vresult *r)
{
	const struct kt_vleaf *ll = &a->lk.leaf;
	struct hwalk *w = calloc(1, sizeof(*w));
	enum kt_verify_outcome st;

	if (w == NULL || (w->l = malloc(sizeof(*w->l))) == NULL ||
	    (w->pl = calloc(1, sizeof(*w->pl))) == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	w->label = label;
	w->pin = pin;
	w->a = a;
	w->chain = chain;
	w->ver = 1;
	w->prev_index = KT_NO_PREV;
	if (v->wit.n > 0 && v->stored.note != NULL) {
		if ((w->stored_note = malloc(v->stored.note_len)) == NULL) {
			st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
			goto out;
		}
		memcpy(w->stored_note, v->stored.note, v->stored.note_len);
		w->prev = v->stored;
		w->prev.note = w->stored_note;
	}
	if (pin != NULL &&
	    kt_vparse_stored_leaf(json_object_get(pin, "leaf"), w->pl) == KT_OK)
		w->pin_version = w->pl->e.version;
	if (kt_fetch_escape(label, strlen(label), w->esc, sizeof(w->esc)) !=
	    KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "label too long");
		goto out;
	}
	if ((st = walk(v, w, r)) != KT_VERIFY_OK)
		goto out;
	if (w->prev_index < ll->index || w->ver - 1 < ll->e.version)
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "key history ends before the "
		    "looked-up version %" PRIu64,
		    ll->e.version);
out:
	if (w != NULL) {
		json_decref(w->prev_jc);
		free(w->stored_note);
		free(w->l);
		free(w->pl);
	}
	free(w);
	return st;
}
