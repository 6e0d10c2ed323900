/*
 * lookup.c: `lookup LABEL` (a lookup proof, verified, with pinning; the
 * key history it checks on a change is history.c) and `proof LABEL --out
 * FILE` (the lookup proof as a C2SP tlog-proof).
 *
 * A lookup answer carries a lookup proof (proto's kt/lookup.h): the VRF
 * proof of the label's map index, the map head that is the checkpoint's
 * last leaf with its inclusion proof, the index's path in that map head's
 * map, and for a present label its latest update leaf with its inclusion
 * proof and the commitment's opening. kt_lookup_verify checks all of it
 * against a checkpoint this client accepted and the pinned VRF key, so a
 * verified answer says: version v is the latest and its value is this, or
 * the label has no version at all.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt/fmt.h"
#include "verify_internal.h"

/* A verified lookup: the answer, its checkpoint (sc borrows lk.note or
 * wnote: never copy the struct) and what the proof says. */
struct answer {
	struct kt_vlookup lk;
	struct kt_signed_checkpoint sc;
	struct kt_buf wnote; /* the witnessed checkpoint, with a policy */
	struct kt_lookup_result res;
};

/* GET /v1/keys/{label}[?checkpoint_size=size] into a->lk (200 or 404). */
static enum kt_verify_outcome
get_lookup(struct kt_verify *v, const char *label, uint64_t size,
    struct answer *a, struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	char d[512], esc[KT_LABEL_MAX * 3 + 1], path[KT_LABEL_MAX * 3 + 64];
	long status;
	enum kt_verify_outcome st;
	kt_err e;

	if (kt_fetch_escape(label, strlen(label), esc, sizeof(esc)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "label too long");
	if (size == 0)
		e = kt_fmt(path, sizeof(path), "/v1/keys/%s", esc);
	else
		e = kt_fmt(path, sizeof(path),
		    "/v1/keys/%s?checkpoint_size=%" PRIu64, esc, size);
	if (e != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "internal: request path too long");
	if ((st = kt_vlog_get(v, path, KT_CAP_LOOKUP, &body, &status, "", r)) !=
	    KT_VERIFY_OK)
		goto out;
	if (status != 200 && status != 404) {
		st = kt_vres(r, KT_VERIFY_ERROR, "GET %s%s: HTTP %ld", v->url,
		    path, status);
		goto out;
	}
	if (kt_vparse_lookup(body.p, body.len, status, label, &a->lk, d,
	        sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "lookup response rejected: %s", d);
		goto out;
	}
	if (size != 0 && a->lk.checkpoint_size != size) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "lookup response rejected: made at tree size %" PRIu64
		    ", asked %" PRIu64,
		    a->lk.checkpoint_size, size);
		goto out;
	}
	st = KT_VERIFY_OK;
out:
	kt_buf_free(&body);
	return st;
}

/* The lookup proof against a->sc and the pinned VRF key. */
static enum kt_verify_outcome
verify_proof(struct kt_verify *v, const char *label, struct answer *a,
    struct kt_vresult *r)
{
	if (a->lk.checkpoint_size != a->sc.cp.size)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "lookup response rejected: made at tree size %" PRIu64
		    ", but its checkpoint is of size %" PRIu64,
		    a->lk.checkpoint_size, a->sc.cp.size);
	/* Which part failed stays unsaid, as kt_lookup_verify has it: the
	 * VRF proof, the map head not being the checkpoint's last leaf (an
	 * older map served as the latest), the map path, the update, its
	 * chain or its commitment. */
	if (kt_lookup_verify(&a->lk.p, v->vrf_pk, &a->sc.cp, label,
	        strlen(label), &a->res) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "lookup proof for \"%s\" does NOT verify against the "
		    "signed checkpoint of size %" PRIu64
		    " and the pinned VRF key (a forged VRF proof, a stale "
		    "or hidden version, or a value the log never "
		    "committed to); do not use it",
		    label, a->sc.cp.size);
	return KT_VERIFY_OK;
}

/*
 * Fetches and fully verifies the lookup for label. Without a witness
 * policy: the answer's own checkpoint, signed, accepted against the
 * stored one. With one: the witnessed checkpoint W from /checkpoint
 * (quorum, consistency), the lookup made at W's size; then a probe of the
 * log's newest answer: a later version there, verified against a
 * checkpoint consistent with W, is KT_VERIFY_UNWITNESSED.
 */
static enum kt_verify_outcome
fetch_verified(struct kt_verify *v, const char *label, struct answer *a,
    struct kt_vresult *r)
{
	struct answer *b = NULL;
	char d[512];
	enum kt_verify_outcome st;

	if (v->wit.n > 0) {
		if ((st = kt_vaccept_fetch(v, &a->wnote, &a->sc, r)) !=
		        KT_VERIFY_OK ||
		    (st = get_lookup(v, label, a->sc.cp.size, a, r)) !=
		        KT_VERIFY_OK ||
		    (st = verify_proof(v, label, a, r)) != KT_VERIFY_OK)
			return st;
		json_object_set_new(r->info, "witnessed_size",
		    json_integer((json_int_t)a->sc.cp.size));
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		/* A probe: failures here only mean "cannot tell". */
		if (get_lookup(v, label, 0, b, NULL) == KT_VERIFY_OK &&
		    b->lk.note_len > 0 &&
		    kt_vcheck_checkpoint(b->lk.note, b->lk.note_len, &v->vk,
		        &b->sc, d, sizeof(d)) == KT_OK &&
		    b->sc.cp.size > a->sc.cp.size &&
		    verify_proof(v, label, b, NULL) == KT_VERIFY_OK &&
		    b->res.present &&
		    (!a->res.present ||
		        b->res.leaf.version > a->res.leaf.version) &&
		    kt_vrelate(v, &a->sc, &b->sc, NULL) == KT_VERIFY_OK) {
			json_object_set_new(r->info, "not_yet_witnessed",
			    json_true());
			st = kt_vres(r, KT_VERIFY_UNWITNESSED,
			    "NOT YET WITNESSED: \"%s\" has version %" PRIu64
			    " at tree size %" PRIu64
			    ", newer than at the newest witnessed checkpoint "
			    "(tree size %" PRIu64 "); do not rely on it yet, "
			    "retry after the log's next witness round",
			    label, b->res.leaf.version, b->sc.cp.size,
			    a->sc.cp.size);
			free(b);
			return st;
		}
		free(b);
		return KT_VERIFY_OK;
	}
	if ((st = get_lookup(v, label, 0, a, r)) != KT_VERIFY_OK)
		return st;
	if (a->lk.note_len == 0)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "lookup response rejected: no checkpoint");
	if (kt_vcheck_checkpoint(a->lk.note, a->lk.note_len, &v->vk, &a->sc, d,
	        sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "lookup response rejected: %s", d);
	if ((st = verify_proof(v, label, a, r)) != KT_VERIFY_OK)
		return st;
	return kt_vaccept(v, &a->sc, r);
}

/* ---- pins ---------------------------------------------------------------- */

/* The value a verified present answer shows. */
static void
answer_value(const struct answer *a, struct kt_value *val)
{
	memset(val, 0, sizeof(*val));
	val->kind = a->res.revoked ? KT_VALUE_REVOKE : KT_VALUE_KEY;
	if (!a->res.revoked) {
		val->key_type = a->res.key_type;
		val->key_type_len = a->res.key_type_len;
		val->key = a->res.key;
		val->key_len = a->res.key_len;
	}
}

static json_t *
pin_json(const struct answer *a)
{
	const struct kt_map_leaf *ml = &a->res.leaf;
	json_t *p = json_pack("{s:I,s:I,s:o,s:I,s:s%}", "version",
	    (json_int_t)ml->version, "index", (json_int_t)ml->update_index,
	    "chain", kt_vb64_json(ml->chain.b, KT_HASH_LEN), "head_index",
	    (json_int_t)a->res.head_index, "checkpoint", a->sc.note,
	    a->sc.note_len);

	/* The proof itself, so that a later answer showing fewer versions
	 * can be proven a downgrade (evidence_lookup.c). */
	json_object_set_new(p, "lookup_proof", kt_vlookup_json(&a->lk.p));
	if (!a->res.revoked) {
		json_object_set_new(p, "key_type",
		    json_stringn(a->res.key_type, a->res.key_type_len));
		json_object_set_new(p, "key",
		    kt_vb64_json(a->res.key, a->res.key_len));
	} else {
		json_object_set_new(p, "revoked", json_true());
	}
	return p;
}

/* 1 if the pin names the same value (or the same revoked state). */
static int
pin_matches(const json_t *pin, const struct kt_value *val)
{
	const char *kt = json_string_value(json_object_get(pin, "key_type"));
	json_t *jk = json_object_get(pin, "key");
	uint8_t k[KT_KEY_MAX];
	size_t n;

	if (val->kind == KT_VALUE_REVOKE)
		return json_is_true(json_object_get(pin, "revoked"));
	if (kt == NULL || !json_is_string(jk) ||
	    kt_b64_decode(json_string_value(jk), json_string_length(jk), k,
	        sizeof(k), &n) != KT_OK)
		return 0;
	return strlen(kt) == val->key_type_len &&
	    memcmp(kt, val->key_type, val->key_type_len) == 0 &&
	    n == val->key_len && memcmp(k, val->key, n) == 0;
}

static enum kt_verify_outcome
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
	if (kt_vstate_save_json(v->dir, KT_VSTATE_PINS, pins, d, sizeof(d)) !=
	    KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	return KT_VERIFY_OK;
}

/*
 * A verified answer a that the pin contradicts (why says how): evidence
 * from the pin's signed answer and a's when the pin kept its lookup
 * proof, exit 3; else exit 2 with why.
 */
static enum kt_verify_outcome
downgrade(struct kt_verify *v, const char *label, const json_t *pin,
    const struct answer *a, const char *why, struct kt_vresult *r)
{
	struct kt_vmapstate later = { &a->sc, &a->lk.p, NULL, NULL };
	json_t *jc = json_object_get(pin, "checkpoint");
	json_t *jp = json_object_get(pin, "lookup_proof");
	json_t *earlier = jc != NULL && jp != NULL
	    ? json_pack("{s:O,s:O}", "checkpoint", jc, "lookup_proof", jp)
	    : NULL;
	enum kt_verify_outcome st = kt_evidence_downgrade(v, label,
	    &a->res.index, earlier, kt_vmapstate_json(&later), why, r);

	if (st != KT_VERIFY_FAILED)
		return st;
	return kt_vres(r, st,
	    "%s; refused (no signed answer kept here proves it to others)",
	    why);
}

/* ---- the changes since the pin --------------------------------------------- */

struct changes {
	struct kt_verify *v;
	const char *label;
	const struct answer *a;
	uint64_t upto;           /* the looked-up version */
	struct kt_hash chain_at; /* the chain after it, from the history */
	int reached;
	json_t *list;
};

static enum kt_verify_outcome
change_cb(void *ctx, const struct kt_vversion *ver, struct kt_vresult *r)
{
	struct changes *c = ctx;
	const struct answer *a = c->a;
	struct kt_vleaf *head;
	enum kt_verify_outcome st;

	if (ver->l->u.version > c->upto && ver->l->index > a->res.head_index)
		return KT_VERIFY_OK; /* written since: the next lookup's */
	if (ver->l->u.version > c->upto) {
		/* Logged before the map head the lookup was proven against,
		 * yet not in its map. */
		if ((head = malloc(sizeof(*head))) == NULL)
			return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		st = kt_vlookup_head(&a->lk.p, a->sc.cp.size, head) != KT_OK
		    ? kt_vres(r, KT_VERIFY_ERROR, "internal: map head")
		    : kt_evidence_hidden(c->v, c->label, &a->sc, head,
		          &a->lk.p.map, ver->l, ver->sc, r);
		free(head);
		return st;
	}
	json_array_append_new(c->list,
	    kt_vversion_summary(ver->l->u.version, ver->l->index,
	        ver->erased ? NULL : &ver->val));
	if (ver->l->u.version == c->upto) {
		c->chain_at = ver->chain;
		c->reached = 1;
	}
	return KT_VERIFY_OK;
}

/* The history from the pinned version to the looked-up one: every change
 * verified, and its chain must end at the map's chain for that version. */
static enum kt_verify_outcome
changes_since(struct kt_verify *v, const char *label, const json_t *pin,
    const struct answer *a, json_t *list, struct kt_vresult *r)
{
	struct changes c = { v, label, a, a->res.leaf.version, { { 0 } }, 0,
		list };
	struct kt_hash pchain, last;
	uint64_t pver, pidx, n;
	enum kt_verify_outcome st;

	if (kt_vparse_u64(pin, "version", &pver) != KT_OK ||
	    kt_vparse_u64(pin, "index", &pidx) != KT_OK ||
	    kt_vparse_hash(json_object_get(pin, "chain"), &pchain) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "state file %s/%s is corrupt (pin of \"%s\")", v->dir,
		    KT_VSTATE_PINS, label);
	if ((st = kt_vhistory_walk(v, label, pver + 1, &pchain, pidx, change_cb,
	         &c, &last, &n, r)) != KT_VERIFY_OK)
		return st;
	if (!c.reached || !kt_hash_eq(&c.chain_at, &a->res.leaf.chain))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "the key history from the pinned version %" PRIu64
		    " does not lead to the looked-up version %" PRIu64
		    " and its chain: the log rewrote the label's past",
		    pver, a->res.leaf.version);
	return KT_VERIFY_OK;
}

/* ---- lookup ---------------------------------------------------------------- */

/* A verified answer against the pin (NULL: none). */
static enum kt_verify_outcome
against_pin(struct kt_verify *v, const char *label, json_t *pins,
    const json_t *pin, const struct answer *a, int accept, const char *desc,
    struct kt_vresult *r)
{
	uint64_t ver = a->res.leaf.version, pver = 0, pidx = 0;
	struct kt_value val;
	char why[512];
	json_t *list = NULL;
	enum kt_verify_outcome st;

	answer_value(a, &val);
	if (pin == NULL) {
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			return st;
		json_object_set_new(r->info, "pinned", json_true());
		return kt_vres(r, KT_VERIFY_OK,
		    "%s: version %" PRIu64
		    ", %s (verified at tree size %" PRIu64
		    "; pinned on first use)",
		    label, ver, desc, a->sc.cp.size);
	}
	if (kt_vparse_u64(pin, "version", &pver) != KT_OK ||
	    kt_vparse_u64(pin, "index", &pidx) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "state file %s/%s is corrupt (pin of \"%s\")", v->dir,
		    KT_VSTATE_PINS, label);
	if (ver < pver) {
		/* Versions only grow: the map lost versions the client has
		 * verified. */
		kt_msg(why, sizeof(why),
		    "DOWNGRADE: the log shows version %" PRIu64
		    " of %s at tree size %" PRIu64
		    ", but this client verified version %" PRIu64 " before",
		    ver, label, a->sc.cp.size, pver);
		return downgrade(v, label, pin, a, why, r);
	}
	if (ver == pver) {
		if (!pin_matches(pin, &val) ||
		    pidx != a->res.leaf.update_index) {
			kt_msg(why, sizeof(why),
			    "the log shows version %" PRIu64 " of %s with "
			    "another value or update than this client "
			    "verified before (two values for one version)",
			    ver, label);
			return downgrade(v, label, pin, a, why, r);
		}
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			return st;
		return kt_vres(r, KT_VERIFY_OK,
		    "%s: version %" PRIu64
		    ", %s (verified at tree size %" PRIu64
		    "; matches the pinned state)",
		    label, ver, desc, a->sc.cp.size);
	}
	list = json_array();
	if ((st = changes_since(v, label, pin, a, list, r)) != KT_VERIFY_OK)
		goto out;
	json_object_set_new(r->info, "changes", json_incref(list));
	if (accept || pin_matches(pin, &val)) {
		if ((st = save_pin(v, pins, label, a, r)) != 0)
			goto out;
		json_object_set_new(r->info, "pinned", json_true());
		st = kt_vres(r, KT_VERIFY_OK,
		    "%s: %s version %" PRIu64 ", %s; %zu verified change(s); "
		    "%s pinned",
		    label, accept ? "key changed to" : "same value at", ver,
		    desc, json_array_size(list),
		    accept ? "new key" : "version");
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_KEY_CHANGED,
	    "KEY CHANGED for %s: now version %" PRIu64 ", %s (%zu verified "
	    "change(s) since the pinned version %" PRIu64
	    "); run with --accept to pin it",
	    label, ver, desc, json_array_size(list), pver);
out:
	json_decref(list);
	return st;
}

/* The answer's details in r->info and a description of its value. */
static void
describe(const char *label, const struct answer *a, char *desc, size_t cap,
    struct kt_vresult *r)
{
	char fp[48];

	json_object_set_new(r->info, "label", json_string(label));
	json_object_set_new(r->info, "map_index",
	    kt_vb64_json(a->res.index.b, KT_HASH_LEN));
	json_object_set_new(r->info, "present", json_boolean(a->res.present));
	json_object_set_new(r->info, "checkpoint_size",
	    json_integer((json_int_t)a->sc.cp.size));
	json_object_set_new(r->info, "head_index",
	    json_integer((json_int_t)a->res.head_index));
	if (!a->res.present)
		return;
	json_object_set_new(r->info, "version",
	    json_integer((json_int_t)a->res.leaf.version));
	json_object_set_new(r->info, "update_index",
	    json_integer((json_int_t)a->res.leaf.update_index));
	if (a->res.revoked) {
		json_object_set_new(r->info, "revoked", json_true());
		kt_msg(desc, cap, "REVOKED (no key)");
		return;
	}
	kt_key_fingerprint(a->res.key, a->res.key_len, fp);
	json_object_set_new(r->info, "key_type",
	    json_stringn(a->res.key_type, a->res.key_type_len));
	json_object_set_new(r->info, "key",
	    kt_vb64_json(a->res.key, a->res.key_len));
	json_object_set_new(r->info, "fingerprint", json_string(fp));
	kt_msg(desc, cap, "%.*s key %s", (int)a->res.key_type_len,
	    a->res.key_type, fp);
}

enum kt_verify_outcome
kt_verify_lookup(struct kt_verify *v, const char *typed, int accept,
    struct kt_vresult *r)
{
	char label[KT_CANON_MAX + 1], d[512], desc[KT_KEY_TYPE_MAX + 80] = "";
	struct answer *a = NULL;
	json_t *pins = NULL, *pin;
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_vrf(v, r)) != KT_VERIFY_OK)
		return st;
	if (kt_vcheck_label(typed, label, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	if (kt_vstate_load_json(v->dir, KT_VSTATE_PINS, &pins, d, sizeof(d)) !=
	    KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if ((st = fetch_verified(v, label, a, r)) != KT_VERIFY_OK)
		goto out;
	describe(label, a, desc, sizeof(desc), r);
	pin = json_object_get(json_object_get(pins, "labels"), label);
	if (!a->res.present && pin != NULL) {
		kt_msg(d, sizeof(d),
		    "DOWNGRADE: the log proves \"%s\" absent at tree size "
		    "%" PRIu64 ", but this client verified version %" PRId64
		    " of it before",
		    label, a->sc.cp.size,
		    (int64_t)json_integer_value(
		        json_object_get(pin, "version")));
		st = downgrade(v, label, pin, a, d, r);
	} else if (!a->res.present)
		st = kt_vres(r, KT_VERIFY_ABSENT,
		    "%s: ABSENT, verified: the log's map at tree size %" PRIu64
		    " has no version of this label",
		    label, a->sc.cp.size);
	else
		st = against_pin(v, label, pins, pin, a, accept, desc, r);
out:
	json_decref(pins);
	if (a != NULL)
		kt_buf_free(&a->wnote);
	free(a);
	return kt_vquorum_stale(v, r, st);
}

/* ---- proof ----------------------------------------------------------------- */

enum kt_verify_outcome
kt_verify_proof(struct kt_verify *v, const char *typed, const char *out_path,
    struct kt_vresult *r)
{
	struct answer *a = NULL;
	char *buf = NULL, dir[KT_VERIFY_PATH_MAX], d[512];
	char label[KT_CANON_MAX + 1];
	size_t cap = 2 * KT_LOOKUP_MAX + 2 * KT_NOTE_MAX, len = 0;
	const char *name;
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_vrf(v, r)) != KT_VERIFY_OK)
		return st;
	if (kt_vcheck_label(typed, label, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	a = calloc(1, sizeof(*a));
	buf = malloc(cap);
	if (a == NULL || buf == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if ((st = fetch_verified(v, label, a, r)) != KT_VERIFY_OK)
		goto out;
	if (kt_lookup_tlogproof_format(&a->lk.p, a->sc.note, a->sc.note_len,
	        buf, cap, &len) != KT_OK) {
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
	json_object_set_new(r->info, "present", json_boolean(a->res.present));
	st = kt_vres(r, KT_VERIFY_OK,
	    "wrote tlog-proof of %s (%s%" PRIu64 ", map head %" PRIu64
	    ", tree size %" PRIu64 ") to %s",
	    label, a->res.present ? "version " : "absent, ",
	    a->res.present ? a->res.leaf.version : 0, a->res.head_index,
	    a->sc.cp.size, out_path);
out:
	if (a != NULL)
		kt_buf_free(&a->wnote);
	free(a);
	free(buf);
	return kt_vquorum_stale(v, r, st);
}
