/*
 * lookup.c: `lookup LABEL` (with pinning; the key history it checks on a
 * change is history.c) and `proof LABEL --out FILE` (a C2SP tlog-proof for
 * the latest entry).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/tlogproof.h"
#include "kt/fmt.h"
#include "verify_internal.h"

/*
 * With a witness policy the lookup answer's own checkpoint (the log's
 * newest, possibly not cosigned yet) cannot be accepted. Instead: the
 * witnessed checkpoint W from /checkpoint (quorum checked, consistent with
 * the stored one) must be consistent with the answer's checkpoint, and
 * the entry must be inside W, proven by an inclusion proof to W's size.
 * An entry past W is KT_VERIFY_UNWITNESSED. On OK, the answer carries W and
 * the proof to W (so pins and tlog-proofs hold witnessed material).
 */
static enum kt_verify_outcome
witnessed_leaf(struct kt_verify *v, const char *label, struct kt_vanswer *a,
    struct kt_vresult *r)
{
	struct kt_signed_checkpoint w;
	struct kt_buf wnote = { 0 };
	struct kt_vleaf *l = NULL;
	enum kt_verify_outcome st;

	if ((l = malloc(sizeof(*l))) == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if ((st = kt_vaccept_fetch(v, &wnote, &w, r)) != KT_VERIFY_OK ||
	    (st = kt_vrelate(v, &w, &a->sc, r)) != KT_VERIFY_OK)
		goto out;
	json_object_set_new(r->info, "witnessed_size",
	    json_integer((json_int_t)w.cp.size));
	if (a->lk.leaf.index >= w.cp.size) {
		json_object_set_new(r->info, "not_yet_witnessed", json_true());
		st = kt_vres(r, KT_VERIFY_UNWITNESSED,
		    "NOT YET WITNESSED: the "
		    "latest entry of \"%s\" (version %" PRIu64
		    ", index %" PRIu64
		    ") is newer than the newest witnessed checkpoint "
		    "(tree size %" PRIu64 "); do not rely on it yet, retry "
		    "after the log's next witness round",
		    label, a->lk.leaf.e.version, a->lk.leaf.index, w.cp.size);
		goto out;
	}
	if (w.cp.size != a->sc.cp.size) {
		/* The same entry bytes, proven into W. */
		st = kt_vlog_leaf(v, a->lk.leaf.index, &w.cp, l, r);
		if (st != KT_VERIFY_OK)
			goto out;
		if (!kt_hash_eq(&l->leaf_hash, &a->lk.leaf.leaf_hash)) {
			st = kt_evidence_fork_leaves(v, &a->sc, &a->lk.leaf, &w,
			    l,
			    "the lookup answer and the witnessed tree hold "
			    "different entries at one index",
			    r);
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
static enum kt_verify_outcome
fetch_verified(struct kt_verify *v, const char *label, struct kt_vanswer *a,
    struct kt_vresult *r)
{
	struct kt_vlookup *lk = &a->lk;
	const struct kt_checkpoint *cp = &a->sc.cp;
	struct kt_buf body = { 0 };
	char d[512], esc[KT_LABEL_MAX * 3 + 1], path[KT_LABEL_MAX * 3 + 32];
	long status;
	enum kt_verify_outcome st;

	if (!kt_label_valid(label, strlen(label)))
		return kt_vres(r, KT_VERIFY_ERROR,
		    "\"%s\" is not a valid label", label);
	if (kt_fetch_escape(label, strlen(label), esc, sizeof(esc)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "label too long");
	if (kt_fmt(path, sizeof(path), "/v1/keys/%s", esc) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "internal: request path too "
		    "long"); /* path holds any escaped label */
	if ((st = kt_vlog_get(v, path, KT_CAP_LOOKUP, &body, &status, "", r)) !=
	    KT_VERIFY_OK)
		goto out;
	if (status == 404) {
		st = kt_vres(r, KT_VERIFY_ERROR,
		    "the log says label \"%s\" "
		    "has no entry (absence cannot be verified)",
		    label);
		goto out;
	}
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_ERROR, "GET %s%s: HTTP %ld", v->url,
		    path, status);
		goto out;
	}
	if (kt_vparse_lookup(body.p, body.len, label, lk, d, sizeof(d)) !=
	        KT_OK ||
	    kt_vcheck_checkpoint(lk->note, lk->note_len, &v->vk, &a->sc, d,
	        sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "lookup response rejected: %s", d);
		goto out;
	}
	if (lk->leaf.proof.size != cp->size || lk->leaf.index >= cp->size ||
	    lk->leaf.proof.proof.n !=
	        kt_inclusion_len(lk->leaf.index, cp->size)) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "lookup response rejected: "
		    "the proof is not shaped for index %" PRIu64 " in tree "
		    "size %" PRIu64,
		    lk->leaf.index, cp->size);
		goto out;
	}
	if (kt_vcheck_inclusion(&lk->leaf, cp, d, sizeof(d)) != KT_OK) {
		/* Everything else in the response holds together: a signed
		 * checkpoint, a well-formed entry for this label whose hash
		 * matches, a proof of the right shape; only the path does not
		 * reach the root. That is a key that is not in the log. */
		kt_vres(r, KT_VERIFY_ATTACK,
		    "ATTACK: the key served for \"%s\" "
		    "is NOT in the log: %s (unlogged key substitution); do not "
		    "use it",
		    label, d);
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
pin_json(const struct kt_vanswer *a)
{
	const struct kt_entry *e = &a->lk.leaf.e;
	json_t *p =
	    json_pack("{s:I,s:I,s:s%,s:o}", "version", (json_int_t)e->version,
	        "index", (json_int_t)a->lk.leaf.index, "checkpoint", a->sc.note,
	        a->sc.note_len, "leaf", kt_vleaf_json(&a->lk.leaf));

	if (e->type == KT_ENTRY_KEY) {
		json_object_set_new(p, "key_type",
		    json_stringn(e->key_type, e->key_type_len));
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
	    memcmp(kt, e->key_type, e->key_type_len) == 0 && n == e->key_len &&
	    memcmp(k, e->key, n) == 0;
}

static enum kt_verify_outcome
save_pin(struct kt_verify *v, json_t *pins, const char *label,
    const struct kt_vanswer *a, struct kt_vresult *r)
{
	json_t *labels = json_object_get(pins, "labels");
	char d[512];

	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(pins, "labels", labels);
	}
	json_object_set_new(labels, label, pin_json(a));
	if (kt_vstate_save_json(v->dir, KT_VSTATE_PINS, pins, d, sizeof(d)) !=
	    KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_verify_lookup(struct kt_verify *v, const char *typed, int accept,
    struct kt_vresult *r)
{
	char label[KT_CANON_MAX + 1], ld[256];
	struct kt_vanswer *a = NULL;
	json_t *pins = NULL, *pin, *chain = NULL;
	char d[512], fp[48], desc[KT_KEY_TYPE_MAX + 80];
	const struct kt_entry *e;
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	if (kt_vcheck_label(typed, label, ld, sizeof(ld)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", ld);
	if (kt_vstate_load_json(v->dir, KT_VSTATE_PINS, &pins, d, sizeof(d)) !=
	    KT_OK)
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
	json_object_set_new(r->info, "entry", kt_vleaf_summary(&a->lk.leaf));
	if (e->type == KT_ENTRY_KEY) {
		kt_key_fingerprint(e->key, e->key_len, fp);
		kt_msg(desc, sizeof(desc), "%.*s key %s", (int)e->key_type_len,
		    e->key_type, fp);
	} else {
		kt_msg(desc, sizeof(desc), "REVOKED (no key)");
	}

	pin = json_object_get(json_object_get(pins, "labels"), label);
	if (pin == NULL) {
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			goto out;
		json_object_set_new(r->info, "pinned", json_true());
		st = kt_vres(r, KT_VERIFY_OK,
		    "%s: version %" PRIu64 ", %s "
		    "(verified in tree size %" PRIu64 "; pinned on first use)",
		    label, e->version, desc, a->sc.cp.size);
		goto out;
	}
	if (pin_matches(pin, e)) {
		/* Same key: refresh the stored proof material only. */
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			goto out;
		st = kt_vres(r, KT_VERIFY_OK,
		    "%s: version %" PRIu64 ", %s "
		    "(verified in tree size %" PRIu64 "; matches the pinned "
		    "state)",
		    label, e->version, desc, a->sc.cp.size);
		goto out;
	}
	chain = json_array();
	if ((st = kt_vhistory_verify(v, label, pin, a, chain, r)) != 0)
		goto out;
	json_object_set_new(r->info, "changes", json_incref(chain));
	if (accept) {
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			goto out;
		json_object_set_new(r->info, "pinned", json_true());
		st = kt_vres(r, KT_VERIFY_OK,
		    "%s: key changed to version %" PRIu64
		    ", %s; %zu verified change(s); new key pinned",
		    label, e->version, desc, json_array_size(chain));
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_KEY_CHANGED,
	    "KEY CHANGED for %s: now "
	    "version %" PRIu64 ", %s (%zu verified change(s) since the pinned "
	    "version %" PRId64 "); run with --accept to pin it",
	    label, e->version, desc, json_array_size(chain),
	    (int64_t)json_integer_value(json_object_get(pin, "version")));
out:
	json_decref(chain);
	json_decref(pins);
	free(a);
	return kt_vquorum_stale(v, r, st);
}

enum kt_verify_outcome
kt_verify_proof(struct kt_verify *v, const char *typed, const char *out_path,
    struct kt_vresult *r)
{
	struct kt_vanswer *a = NULL;
	char *buf = NULL, dir[KT_VERIFY_PATH_MAX], d[512];
	char label[KT_CANON_MAX + 1];
	const char *name;
	size_t len = 0;
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	if (kt_vcheck_label(typed, label, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
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
		st =
		    kt_vres(r, KT_VERIFY_ERROR, "cannot format the tlog-proof");
		goto out;
	}
	if (kt_vstate_split(out_path, dir, &name) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "--out path too long");
		goto out;
	}
	if (kt_vstate_write(dir, name, buf, len, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "%s", d);
		goto out;
	}
	json_object_set_new(r->info, "out", json_string(out_path));
	json_object_set_new(r->info, "index",
	    json_integer((json_int_t)a->lk.leaf.index));
	st = kt_vres(r, KT_VERIFY_OK,
	    "wrote tlog-proof of %s version %" PRIu64 " (index %" PRIu64
	    ", tree size %" PRIu64 ") to %s",
	    label, a->lk.leaf.e.version, a->lk.leaf.index, a->sc.cp.size,
	    out_path);
out:
	free(a);
	free(buf);
	return kt_vquorum_stale(v, r, st);
}
