/*
 * lookup.c: `lookup LABEL` (with pinning and verified key history) and
 * `proof LABEL --out FILE` (a C2SP tlog-proof for the latest entry).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kt/tlogproof.h"
#include "verify_internal.h"

static void
iso_ms(uint64_t ms, char *buf, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
leaf_summary(const struct kt_vleaf *l)
{
	char ts[32], fp[48];
	json_t *o;

	iso_ms(l->e.timestamp_ms, ts, sizeof(ts));
	o = json_pack("{s:I,s:I,s:s,s:s}", "version", (json_int_t)l->e.version,
	    "index", (json_int_t)l->index, "timestamp", ts, "type",
	    l->e.type == KT_ENTRY_KEY ? "key" : "revocation");
	if (l->e.type == KT_ENTRY_KEY) {
		kt_key_fingerprint(l->e.key, l->e.key_len, fp);
		json_object_set_new(o, "key_type", json_stringn(l->e.key_type,
		    l->e.key_type_len));
		json_object_set_new(o, "key", kt_vb64_json(l->e.key,
		    l->e.key_len));
		json_object_set_new(o, "fingerprint", json_string(fp));
	}
	return o;
}

/* A lookup answer as verified: its leaf and the signed checkpoint the leaf
 * is proven into. sc borrows lk.note, in the same (never copied) struct. */
struct answer {
	struct kt_vlookup lk;
	struct kt_signed_checkpoint sc;
};

/*
 * With a witness policy the lookup answer's own checkpoint (the log's
 * newest, possibly not cosigned yet) cannot be accepted. Instead: the
 * witnessed checkpoint W from /checkpoint (quorum checked, consistent with
 * the stored one) must be consistent with the answer's checkpoint, and
 * the entry must be inside W, proven by an inclusion proof to W's size.
 * An entry past W is KT_VERIFY_UNWITNESSED. On OK, the answer carries W and
 * the proof to W (so pins and tlog-proofs hold witnessed material).
 */
static int
witnessed_leaf(struct kt_verify *v, const char *label, struct answer *a,
    struct kt_vresult *r)
{
	struct kt_signed_checkpoint w;
	struct kt_buf wnote = {0};
	struct kt_vleaf *l = NULL;
	int st;

	if ((l = malloc(sizeof(*l))) == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if ((st = kt_vaccept_fetch(v, &wnote, &w, r)) != KT_VERIFY_OK ||
	    (st = kt_vrelate(v, &w, &a->sc, r)) != KT_VERIFY_OK)
		goto out;
	json_object_set_new(r->info, "witnessed_size", json_integer(
	    (json_int_t)w.cp.size));
	if (a->lk.leaf.index >= w.cp.size) {
		json_object_set_new(r->info, "not_yet_witnessed", json_true());
		st = kt_vres(r, KT_VERIFY_UNWITNESSED, "NOT YET WITNESSED: the "
		    "latest entry of \"%s\" (version %" PRIu64 ", index %"
		    PRIu64 ") is newer than the newest witnessed checkpoint "
		    "(tree size %" PRIu64 "); do not rely on it yet, retry "
		    "after the log's next witness round", label,
		    a->lk.leaf.e.version, a->lk.leaf.index, w.cp.size);
		goto out;
	}
	if (w.cp.size != a->sc.cp.size) {
		/* The same entry bytes, proven into W. */
		st = kt_vlog_leaf(v, a->lk.leaf.index, &w.cp, l, r);
		if (st != KT_VERIFY_OK)
			goto out;
		if (!kt_hash_eq(&l->leaf_hash, &a->lk.leaf.leaf_hash)) {
			st = kt_evidence_fork_leaves(v, &a->sc, &a->lk.leaf, &w,
			    l, "the lookup answer and the witnessed tree hold "
			    "different entries at one index", r);
			goto out;
		}
		a->lk.leaf.proof = l->proof;
	}
	/* W, copied into the answer: the same bytes, so still what the log
	 * signed. */
	memcpy(a->lk.note, w.note, w.note_len);
	a->lk.note[w.note_len] = '\0';
	a->lk.note_len = w.note_len;
	a->sc = w;
	a->sc.note = a->lk.note;
	st = KT_VERIFY_OK;
out:
	kt_buf_free(&wnote);
	free(l);
	return st;
}

/*
 * Fetches and fully verifies the latest entry for label: response shape,
 * entry decoding, label, leaf hash, proof index and size, inclusion in the
 * signed checkpoint, and that checkpoint's consistency with the stored one.
 */
static int
fetch_verified(struct kt_verify *v, const char *label, struct answer *a,
    struct kt_vresult *r)
{
	struct kt_vlookup *lk = &a->lk;
	const struct kt_checkpoint *cp = &a->sc.cp;
	struct kt_fetch *f;
	struct kt_buf body = {0};
	char d[512], esc[KT_LABEL_MAX * 3 + 1], path[KT_LABEL_MAX * 3 + 32];
	long status;
	kt_err e;
	int st;

	if (!kt_label_valid(label, strlen(label)))
		return kt_vres(r, KT_VERIFY_ERROR, "\"%s\" is not a valid label",
		    label);
	if ((st = kt_vlog_fetcher(v, &f, r)) != KT_VERIFY_OK)
		return st;
	if (kt_fetch_escape(label, strlen(label), esc, sizeof(esc)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "label too long");
	snprintf(path, sizeof(path), "/v1/keys/%s", esc);
	e = kt_fetch_get(f, path, KT_CAP_LOOKUP, &body, &status, d, sizeof(d));
	if (e != KT_OK) {
		st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
		    KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	if (status == 404) {
		st = kt_vres(r, KT_VERIFY_ERROR, "the log says label \"%s\" "
		    "has no entry (absence cannot be verified)", label);
		goto out;
	}
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_ERROR, "GET %s: HTTP %ld", path,
		    status);
		goto out;
	}
	if (kt_vparse_lookup(body.p, body.len, label, lk, d, sizeof(d))
	    != KT_OK || kt_vcheck_checkpoint(lk->note, lk->note_len, &v->vk,
	    &a->sc, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED, "lookup response rejected: %s",
		    d);
		goto out;
	}
	if (lk->leaf.proof.size != cp->size || lk->leaf.index >= cp->size ||
	    lk->leaf.proof.proof.n != kt_inclusion_len(lk->leaf.index,
	    cp->size)) {
		st = kt_vres(r, KT_VERIFY_FAILED, "lookup response rejected: "
		    "the proof is not shaped for index %" PRIu64 " in tree "
		    "size %" PRIu64, lk->leaf.index, cp->size);
		goto out;
	}
	if (kt_vcheck_inclusion(&lk->leaf, cp, d, sizeof(d)) != KT_OK) {
		/* Everything else in the response holds together: a signed
		 * checkpoint, a well-formed entry for this label whose hash
		 * matches, a proof of the right shape; only the path does not
		 * reach the root. That is a key that is not in the log. */
		kt_vres(r, KT_VERIFY_ATTACK, "ATTACK: the key served for \"%s\" "
		    "is NOT in the log: %s (unlogged key substitution); do not "
		    "use it", label, d);
		st = kt_evidence_unlogged(v, label, &a->sc, &lk->leaf, r);
		goto out;
	}
	if (v->wit.n == 0)
		st = kt_vaccept(v, &a->sc, r);
	else
		st = witnessed_leaf(v, label, a, r);
out:
	kt_buf_free(&body);
	return st;
}

/* ---- pins ---------------------------------------------------------------- */

static json_t *
pin_json(const struct answer *a)
{
	const struct kt_entry *e = &a->lk.leaf.e;
	json_t *p = json_pack("{s:I,s:I,s:s%,s:o}", "version",
	    (json_int_t)e->version, "index", (json_int_t)a->lk.leaf.index,
	    "checkpoint", a->sc.note, a->sc.note_len,
	    "leaf", kt_vleaf_json(&a->lk.leaf));

	if (e->type == KT_ENTRY_KEY) {
		json_object_set_new(p, "key_type", json_stringn(e->key_type,
		    e->key_type_len));
		json_object_set_new(p, "key", kt_vb64_json(e->key, e->key_len));
	} else {
		json_object_set_new(p, "revoked", json_true());
	}
	return p;
}

/* 1 if the pin names the same key (or the same revoked state). */
static int
pin_matches(const json_t *pin, const struct kt_entry *e)
{
	const char *kt = json_string_value(json_object_get(pin, "key_type"));
	json_t *jk = json_object_get(pin, "key");
	uint8_t k[KT_KEY_MAX];
	size_t n;

	if (e->type == KT_ENTRY_REVOKE)
		return json_is_true(json_object_get(pin, "revoked"));
	if (kt == NULL || !json_is_string(jk) ||
	    kt_b64_decode(json_string_value(jk), json_string_length(jk), k,
	    sizeof(k), &n) != KT_OK)
		return 0;
	return strlen(kt) == e->key_type_len &&
	    memcmp(kt, e->key_type, e->key_type_len) == 0 &&
	    n == e->key_len && memcmp(k, e->key, n) == 0;
}

static int
save_pin(struct kt_verify *v, json_t *pins, const char *label,
    const struct answer *a, struct kt_vresult *r)
{
	json_t *labels = json_object_get(pins, "labels");
	char d[512];

	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(pins, "labels", labels);
	}
	json_object_set_new(labels, label, pin_json(a));
	if (kt_vstate_save_json(v->dir, KT_VSTATE_PINS, pins, d, sizeof(d))
	    != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	return KT_VERIFY_OK;
}

/* ---- key history --------------------------------------------------------- */

/* Where the walk through the pages of a label's history stands. */
struct hwalk {
	const char *label;
	const json_t *pin;
	const struct kt_vleaf *pl;    /* the pinned leaf, when pin_version */
	uint64_t pin_version;         /* 0: no usable pin */
	const struct answer *a;
	json_t *chain;
	uint64_t ver;                 /* the next version expected, from 1 */
	uint64_t prev_index;          /* KT_NO_PREV before version 1 */
	uint8_t prev_type;
	struct kt_vleaf *l;           /* scratch: one version */
};

/*
 * Verifies one page of the history, the versions jv, each against the
 * page's own signed checkpoint: decoding, label, versions
 * w->ver, w->ver + 1, … with previous-version links, inclusion, agreement
 * with the pinned and the looked-up leaf. Appends the versions after the
 * pin, up to the looked-up one, to w->chain and moves w past the page.
 */
static int
history_page(struct kt_verify *v, struct hwalk *w,
    const struct kt_signed_checkpoint *page, const json_t *jv,
    struct kt_vresult *r)
{
	const struct kt_vlookup *lk = &w->a->lk;
	const struct kt_checkpoint *cp = &page->cp;
	const struct kt_vleaf *pl = w->pl;
	struct kt_vleaf *l = w->l;
	char d[512];

	for (size_t i = 0; i < json_array_size(jv); i++, w->ver++) {
		if (kt_vparse_leaf(json_array_get(jv, i), 1, l, d, sizeof(d))
		    != KT_OK || kt_vcheck_inclusion(l, cp, d, sizeof(d))
		    != KT_OK)
			return kt_vres(r, KT_VERIFY_FAILED, "key history, "
			    "version %" PRIu64 ": %s", w->ver, d);
		if (l->e.label_len != strlen(w->label) ||
		    memcmp(l->e.label, w->label, l->e.label_len) != 0 ||
		    l->e.version != w->ver || l->e.prev_index != w->prev_index ||
		    (w->ver > 1 && l->index <= w->prev_index) ||
		    (w->prev_type == KT_ENTRY_REVOKE &&
		    l->e.type == KT_ENTRY_REVOKE))
			return kt_vres(r, KT_VERIFY_FAILED, "key history: "
			    "version %" PRIu64 " (index %" PRIu64 ") breaks the "
			    "chain (label, version order, previous link or "
			    "revocation rule)", w->ver, l->index);
		/* The same index in two signed trees with different bytes
		 * is a fork we can prove. */
		if (l->index == lk->leaf.index &&
		    !kt_hash_eq(&l->leaf_hash, &lk->leaf.leaf_hash))
			return kt_evidence_fork_leaves(v, &w->a->sc, &lk->leaf,
			    page, l, "history and lookup disagree on an entry",
			    r);
		if (w->pin_version != 0 && l->index == pl->index &&
		    !kt_hash_eq(&l->leaf_hash, &pl->leaf_hash)) {
			json_t *pn = json_object_get(w->pin, "checkpoint");
			struct kt_signed_checkpoint psc;
			if (json_is_string(pn) && kt_vcheck_checkpoint(
			    json_string_value(pn), json_string_length(pn),
			    &v->vk, &psc, d, sizeof(d)) == KT_OK)
				return kt_evidence_fork_leaves(v, &psc, pl, page,
				    l, "the log rewrote the pinned version of "
				    "the label", r);
		}
		if (w->pin_version == l->e.version && l->index != pl->index)
			return kt_vres(r, KT_VERIFY_FAILED, "key history puts "
			    "version %" PRIu64 " at index %" PRIu64 ", but it "
			    "was pinned at index %" PRIu64 " (two values for "
			    "one version)", l->e.version, l->index, pl->index);
		/* The looked-up version must be the very entry the lookup
		 * showed (same index; same bytes is checked above), or the
		 * log holds two values for it. */
		if (l->e.version == lk->leaf.e.version &&
		    l->index != lk->leaf.index)
			return kt_vres(r, KT_VERIFY_FAILED, "key history puts "
			    "version %" PRIu64 " at index %" PRIu64 ", but the "
			    "lookup shows it at index %" PRIu64 " (two values for "
			    "one version)", l->e.version, l->index,
			    lk->leaf.index);
		/* A version after the looked-up one was written since the
		 * lookup's checkpoint (with a witness policy: not witnessed
		 * yet). It is checked with the chain, not reported as a
		 * change to the key this lookup shows or pins. */
		if (l->e.version > w->pin_version &&
		    l->e.version <= lk->leaf.e.version)
			json_array_append_new(w->chain, leaf_summary(l));
		w->prev_index = l->index;
		w->prev_type = l->e.type;
	}
	return KT_VERIFY_OK;
}

/*
 * GET history, page by page ("next": V continues with ?from=V), and verify
 * every version (history_page) against the checkpoint of its page. Each
 * page's checkpoint is related like any checkpoint seen: accepted against
 * the stored one, or with a witness policy consistent with the stored
 * (witnessed) one for the first page and with the previous page's after
 * that, so that every page is a view of one tree. The history must reach
 * the looked-up version. Fills *chain with the versions after the pin, up
 * to the looked-up one (later ones, written meanwhile, are checked but
 * left for the next lookup).
 *
 * A malicious log must not keep the client paging for ever: a page is not
 * empty, its "next" must be the version after its last, and at most
 * KT_HISTORY_MAX versions are read. Each page is freed before the next is
 * fetched; what grows is *chain.
 */
static int
verify_history(struct kt_verify *v, const char *label, const json_t *pin,
    const struct answer *a, json_t *chain, struct kt_vresult *r)
{
	struct hwalk w = { .label = label, .pin = pin, .a = a,
	    .chain = chain, .ver = 1, .prev_index = KT_NO_PREV };
	const struct kt_vlookup *lk = &a->lk;
	struct kt_fetch *f;
	struct kt_buf body = {0};
	struct kt_signed_checkpoint page, prev = v->stored;
	struct kt_vleaf *l = NULL, *pl = NULL;
	json_t *o = NULL, *pjc = NULL, *jc, *jv, *jn;
	char d[512], esc[KT_LABEL_MAX * 3 + 1], path[KT_LABEL_MAX * 3 + 64];
	long status;
	kt_err e;
	int st;

	if ((st = kt_vlog_fetcher(v, &f, r)) != KT_VERIFY_OK)
		return st;
	l = malloc(sizeof(*l));
	pl = calloc(1, sizeof(*pl));
	if (l == NULL || pl == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	w.l = l;
	w.pl = pl;
	if (pin != NULL && kt_vparse_stored_leaf(json_object_get(pin, "leaf"),
	    pl) == KT_OK)
		w.pin_version = pl->e.version;
	if (kt_fetch_escape(label, strlen(label), esc, sizeof(esc)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "label too long");
		goto out;
	}
	for (;;) {
		if (w.ver == 1)
			snprintf(path, sizeof(path), "/v1/keys/%s/history", esc);
		else
			snprintf(path, sizeof(path), "/v1/keys/%s/history?from=%"
			    PRIu64, esc, w.ver);
		e = kt_fetch_get(f, path, KT_CAP_HISTORY, &body, &status, d,
		    sizeof(d));
		if (e != KT_OK || status != 200) {
			st = kt_vres(r, e == KT_ERR_NETWORK || e == KT_OK ?
			    KT_VERIFY_ERROR : KT_VERIFY_FAILED, "key history: %s",
			    e != KT_OK ? d : "HTTP error");
			goto out;
		}
		json_decref(o);
		o = NULL;
		if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d))
		    != KT_OK) {
			st = kt_vres(r, KT_VERIFY_FAILED, "key history: %s", d);
			goto out;
		}
		jc = json_object_get(o, "checkpoint");
		jv = json_object_get(o, "versions");
		jn = json_object_get(o, "next");
		if (!json_is_string(jc) || !json_is_array(jv) ||
		    json_array_size(jv) == 0) {
			st = kt_vres(r, KT_VERIFY_FAILED, "key history: missing "
			    "checkpoint or versions");
			goto out;
		}
		if (json_array_size(jv) > KT_HISTORY_MAX - (w.ver - 1)) {
			st = kt_vres(r, KT_VERIFY_FAILED, "key history: more "
			    "than %d versions, more than this client checks",
			    KT_HISTORY_MAX);
			goto out;
		}
		if (kt_vcheck_checkpoint(json_string_value(jc),
		    json_string_length(jc), &v->vk, &page, d, sizeof(d))
		    != KT_OK) {
			st = kt_vres(r, KT_VERIFY_FAILED, "key history: %s", d);
			goto out;
		}
		if ((st = history_page(v, &w, &page, jv, r)) != KT_VERIFY_OK)
			goto out;
		if (v->wit.n > 0) {
			/* The page's checkpoint is the log's newest, maybe not
			 * witnessed: it is related, not stored. */
			st = kt_vrelate(v, &prev, &page, r);
			json_decref(pjc);
			pjc = json_incref(jc);
			prev = page;
		} else {
			st = kt_vaccept(v, &page, r);
		}
		if (st != KT_VERIFY_OK)
			goto out;
		if (jn == NULL)
			break;
		if (!json_is_integer(jn) || json_integer_value(jn) < 0 ||
		    (uint64_t)json_integer_value(jn) != w.ver) {
			st = kt_vres(r, KT_VERIFY_FAILED, "key history: \"next\" "
			    "is not %" PRIu64 ", the version after the page",
			    w.ver);
			goto out;
		}
	}
	if (w.prev_index < lk->leaf.index || w.ver - 1 < lk->leaf.e.version) {
		st = kt_vres(r, KT_VERIFY_FAILED, "key history ends before "
		    "the looked-up version %" PRIu64, lk->leaf.e.version);
		goto out;
	}
	st = KT_VERIFY_OK;
out:
	json_decref(pjc);
	json_decref(o);
	kt_buf_free(&body);
	free(l);
	free(pl);
	return st;
}

int
kt_verify_lookup(struct kt_verify *v, const char *label, int accept,
    struct kt_vresult *r)
{
	struct answer *a = NULL;
	json_t *pins = NULL, *pin, *chain = NULL;
	char d[512], fp[48], desc[KT_KEY_TYPE_MAX + 80];
	const struct kt_entry *e;
	int st;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	if (kt_vstate_load_json(v->dir, KT_VSTATE_PINS, &pins, d, sizeof(d))
	    != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	a = malloc(sizeof(*a));
	if (a == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if ((st = fetch_verified(v, label, a, r)) != KT_VERIFY_OK)
		goto out;
	e = &a->lk.leaf.e;
	json_object_set_new(r->info, "label", json_string(label));
	json_object_set_new(r->info, "entry", leaf_summary(&a->lk.leaf));
	if (e->type == KT_ENTRY_KEY) {
		kt_key_fingerprint(e->key, e->key_len, fp);
		snprintf(desc, sizeof(desc), "%.*s key %s",
		    (int)e->key_type_len, e->key_type, fp);
	} else {
		snprintf(fp, sizeof(fp), "(revoked)");
		snprintf(desc, sizeof(desc), "REVOKED (no key)");
	}

	pin = json_object_get(json_object_get(pins, "labels"), label);
	if (pin == NULL) {
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			goto out;
		json_object_set_new(r->info, "pinned", json_true());
		st = kt_vres(r, KT_VERIFY_OK, "%s: version %" PRIu64 ", %s "
		    "(verified in tree size %" PRIu64 "; pinned on first use)",
		    label, e->version, desc, a->sc.cp.size);
		goto out;
	}
	if (pin_matches(pin, e)) {
		/* Same key: refresh the stored proof material only. */
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			goto out;
		st = kt_vres(r, KT_VERIFY_OK, "%s: version %" PRIu64 ", %s "
		    "(verified in tree size %" PRIu64 "; matches the pinned "
		    "state)", label, e->version, desc, a->sc.cp.size);
		goto out;
	}
	chain = json_array();
	if ((st = verify_history(v, label, pin, a, chain, r)) != 0)
		goto out;
	json_object_set_new(r->info, "changes", json_incref(chain));
	if (accept) {
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			goto out;
		json_object_set_new(r->info, "pinned", json_true());
		st = kt_vres(r, KT_VERIFY_OK, "%s: key changed to version %"
		    PRIu64 ", %s; %zu verified change(s); new key pinned",
		    label, e->version, desc, json_array_size(chain));
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_KEY_CHANGED, "KEY CHANGED for %s: now "
	    "version %" PRIu64 ", %s (%zu verified change(s) since the pinned "
	    "version %" PRId64 "); run with --accept to pin it", label,
	    e->version, desc, json_array_size(chain),
	    (int64_t)json_integer_value(json_object_get(pin, "version")));
out:
	json_decref(chain);
	json_decref(pins);
	free(a);
	return kt_vquorum_stale(v, r, st);
}

int
kt_verify_proof(struct kt_verify *v, const char *label, const char *out_path,
    struct kt_vresult *r)
{
	struct answer *a = NULL;
	char *buf = NULL, dir[KT_VERIFY_PATH_MAX], d[512];
	const char *slash, *name;
	size_t len = 0;
	int st;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	a = malloc(sizeof(*a));
	buf = malloc(KT_TLOGPROOF_MAX);
	if (a == NULL || buf == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if ((st = fetch_verified(v, label, a, r)) != KT_VERIFY_OK)
		goto out;
	if (kt_tlogproof_format(a->lk.leaf.entry, a->lk.leaf.entry_len,
	    a->lk.leaf.index, &a->lk.leaf.proof.proof, a->sc.note,
	    a->sc.note_len, buf, KT_TLOGPROOF_MAX, &len) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "cannot format the tlog-proof");
		goto out;
	}
	slash = strrchr(out_path, '/');
	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		name = out_path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - out_path),
		    slash == out_path ? "/" : out_path);
		if (slash == out_path)
			snprintf(dir, sizeof(dir), "/");
		name = slash + 1;
	}
	if (kt_vstate_write(dir, name, buf, len, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "%s", d);
		goto out;
	}
	json_object_set_new(r->info, "out", json_string(out_path));
	json_object_set_new(r->info, "index", json_integer(
	    (json_int_t)a->lk.leaf.index));
	st = kt_vres(r, KT_VERIFY_OK, "wrote tlog-proof of %s version %"
	    PRIu64 " (index %" PRIu64 ", tree size %" PRIu64 ") to %s", label,
	    a->lk.leaf.e.version, a->lk.leaf.index, a->sc.cp.size, out_path);
out:
	free(a);
	free(buf);
	return kt_vquorum_stale(v, r, st);
}
