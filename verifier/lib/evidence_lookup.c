/*
 * evidence_lookup.c: evidence of what `lookup` and `monitor` find about a
 * label's versions, written here and checked offline here
 * (docs/verify.md, "What each type proves"):
 *
 *   downgrade       two signed states of one map index, the later
 *                   checkpoint no smaller, the later state with fewer
 *                   versions (or none), or with the same version and
 *                   another update or chain. Each state is a lookup proof
 *                   (checked with the VRF key, which binds the label) or
 *                   a map head with the index's path (no VRF key needed).
 *   hidden-version  one signed checkpoint holding an update of version k
 *                   for an index, logged before a map head whose map
 *                   shows that index with a version below k, or not at
 *                   all: a map head holds every update before it.
 *
 * Everything either type relies on is signed by the log: the checkpoints
 * with the log key, map heads and updates through inclusion proofs to
 * them, map leaves through paths to the heads' roots. A writer checks its
 * file with the offline checker before it writes it, so a file here is
 * always one `kt-verify evidence` accepts; material that proves nothing
 * (a state kept by an older kt-verify) writes nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

/* What one signed state says about the index. */
struct mstate {
	struct kt_signed_checkpoint sc; /* borrows the evidence's note */
	int present;
	struct kt_map_leaf leaf; /* present */
};

static enum kt_verify_outcome
fail(struct kt_vresult *r, const char *what, const char *detail)
{
	return kt_vres(r, KT_VERIFY_FAILED, "%s evidence: %s", what, detail);
}

/* ---- JSON forms ------------------------------------------------------------ */

json_t *
kt_vlookup_json(const struct kt_lookup_proof *p)
{
	size_t n = kt_lookup_len(p);
	uint8_t *buf = n > 0 ? malloc(n) : NULL;
	json_t *j = NULL;

	if (buf != NULL && kt_lookup_encode(p, buf, n, &n) == KT_OK)
		j = kt_vb64_json(buf, n);
	free(buf);
	return j;
}

json_t *
kt_vmap_proof_json(const struct kt_map_proof *mp)
{
	uint8_t *buf = malloc(KT_MAP_PROOF_MAX);
	json_t *j = NULL;
	size_t n;

	if (buf != NULL &&
	    kt_map_proof_encode(mp, buf, KT_MAP_PROOF_MAX, &n) == KT_OK)
		j = kt_vb64_json(buf, n);
	free(buf);
	return j;
}

kt_err
kt_vlookup_head(const struct kt_lookup_proof *p, uint64_t size,
    struct kt_vleaf *out)
{
	memset(out, 0, sizeof(*out));
	if (kt_map_head_encode(&p->head, out->entry) != KT_OK)
		return KT_ERR_MALFORMED;
	out->entry_len = KT_MAP_HEAD_LEN;
	if (kt_vleaf_decode(out) != KT_OK)
		return KT_ERR_MALFORMED;
	out->index = p->head.log_size;
	out->proof.index = out->index;
	out->proof.size = size;
	out->proof.proof = p->head_proof;
	return KT_OK;
}

json_t *
kt_vmapstate_json(const struct kt_vmapstate *s)
{
	json_t *o = json_object(), *a, *b;

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "checkpoint",
	    json_stringn(s->sc->note, s->sc->note_len));
	if (s->lp != NULL) {
		if ((a = kt_vlookup_json(s->lp)) == NULL)
			goto bad;
		json_object_set_new(o, "lookup_proof", a);
		return o;
	}
	a = kt_vleaf_json(s->head);
	b = kt_vmap_proof_json(s->mp);
	if (a == NULL || b == NULL) {
		json_decref(a);
		json_decref(b);
		goto bad;
	}
	json_object_set_new(o, "head", a);
	json_object_set_new(o, "map_proof", b);
	return o;
bad:
	json_decref(o);
	return NULL;
}

/* ---- offline checks ---------------------------------------------------------- */

/* A base64 field of at most cap bytes into a new buffer (*out, *len). */
static kt_err
ev_b64(const json_t *o, const char *key, size_t cap, uint8_t **out, size_t *len)
{
	json_t *j = json_object_get(o, key);

	*out = NULL;
	if (!json_is_string(j) || (*out = malloc(cap)) == NULL ||
	    kt_b64_decode(json_string_value(j), json_string_length(j), *out,
	        cap, len) != KT_OK) {
		free(*out);
		*out = NULL;
		return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

/* A signed checkpoint of the log (vk); sc borrows the JSON string. */
static kt_err
ev_note(const json_t *j, const struct kt_verifier *vk,
    struct kt_signed_checkpoint *sc, char *d, size_t dlen)
{
	if (!json_is_string(j) || json_string_length(j) > KT_NOTE_MAX) {
		kt_msg(d, dlen, "a checkpoint is missing or not a string");
		return KT_ERR_MALFORMED;
	}
	return kt_vcheck_checkpoint(json_string_value(j), json_string_length(j),
	    vk, sc, d, dlen);
}

/* A leaf record (kt_vleaf_json) proven into cp. */
static kt_err
ev_leaf(const json_t *o, const struct kt_checkpoint *cp, struct kt_vleaf *l,
    const char *what, char *d, size_t dlen)
{
	memset(l, 0, sizeof(*l));
	if (kt_vparse_stored_leaf(o, l) != KT_OK) {
		kt_msg(d, dlen, "the %s leaf record is malformed", what);
		return KT_ERR_MALFORMED;
	}
	l->proof.size = cp->size;
	if (kt_vcheck_inclusion(l, cp, d, dlen) != KT_OK) {
		kt_msg(d, dlen,
		    "the %s leaf's inclusion proof does not verify "
		    "against the signed checkpoint",
		    what);
		return KT_ERR_VERIFY;
	}
	return KT_OK;
}

/*
 * o's "head" (a map head proven into cp; the checkpoint's last leaf when
 * last is set) and "map_proof" (index's path in its map): *present and
 * leaf. The head's log_size must be its own index, so that "before the
 * head" means the leaves before it.
 */
static kt_err
ev_map_path(const json_t *o, const struct kt_checkpoint *cp,
    const struct kt_hash *index, int last, struct kt_vleaf *head, int *present,
    struct kt_map_leaf *leaf, char *d, size_t dlen)
{
	struct kt_map_proof *mp = malloc(sizeof(*mp));
	uint8_t *buf = NULL;
	size_t n;
	kt_err e;

	if (mp == NULL)
		return KT_ERR_NOMEM;
	if ((e = ev_leaf(json_object_get(o, "head"), cp, head, "map head", d,
	         dlen)) != KT_OK)
		goto out;
	e = KT_ERR_VERIFY;
	if (head->kind != KT_LEAF_MAP_HEAD || head->h.log_size != head->index ||
	    (last && head->index != cp->size - 1)) {
		kt_msg(d, dlen,
		    "the head is not a map head%s whose log_size is its "
		    "index",
		    last ? " at the checkpoint's last leaf" : "");
		goto out;
	}
	if (ev_b64(o, "map_proof", KT_MAP_PROOF_MAX, &buf, &n) != KT_OK ||
	    kt_map_proof_decode(buf, n, mp) != KT_OK) {
		kt_msg(d, dlen, "the map_proof is malformed");
		e = KT_ERR_MALFORMED;
		goto out;
	}
	if (kt_map_verify(&head->h.root, index, mp, present) != KT_OK) {
		kt_msg(d, dlen,
		    "the map path does not verify against map head "
		    "%" PRIu64 "'s root for the index",
		    head->index);
		goto out;
	}
	if (*present)
		*leaf = mp->leaf;
	e = KT_OK;
out:
	free(buf);
	free(mp);
	return e;
}

/* A lookup proof made at cp for label: verified with the VRF key, which
 * must give index. */
static kt_err
ev_lookup(const json_t *o, const struct kt_checkpoint *cp,
    const uint8_t *vrf_pk, const char *label, const struct kt_hash *index,
    struct mstate *s, char *d, size_t dlen)
{
	struct kt_lookup_proof *p = malloc(sizeof(*p));
	struct kt_lookup_result res;
	uint8_t *buf = NULL;
	size_t n;
	kt_err e = KT_ERR_MALFORMED;

	if (p == NULL)
		return KT_ERR_NOMEM;
	if (vrf_pk == NULL) {
		kt_msg(d, dlen,
		    "checking a lookup proof needs the log's VRF key "
		    "(--vrf-key, or a state folder that pins it)");
		goto out;
	}
	if (ev_b64(o, "lookup_proof", KT_LOOKUP_MAX, &buf, &n) != KT_OK ||
	    kt_lookup_decode(buf, n, p) != KT_OK) {
		kt_msg(d, dlen, "a lookup_proof is malformed");
		goto out;
	}
	e = KT_ERR_VERIFY;
	if (kt_lookup_verify(p, vrf_pk, cp, label, strlen(label), &res) !=
	        KT_OK ||
	    !kt_hash_eq(&res.index, index)) {
		kt_msg(d, dlen,
		    "a lookup proof does not verify for \"%s\" and the map "
		    "index against its signed checkpoint and the VRF key",
		    label);
		goto out;
	}
	s->present = res.present;
	if (res.present)
		s->leaf = res.leaf;
	e = KT_OK;
out:
	free(buf);
	free(p);
	return e;
}

/* One state of a downgrade file: a lookup proof or a map head and path. */
static kt_err
ev_state(const json_t *o, const struct kt_verifier *vk, const uint8_t *vrf_pk,
    const char *label, const struct kt_hash *index, struct mstate *s, char *d,
    size_t dlen)
{
	struct kt_vleaf *head;
	kt_err e;

	memset(s, 0, sizeof(*s));
	if (!json_is_object(o)) {
		kt_msg(d, dlen, "needs the objects earlier and later");
		return KT_ERR_MALFORMED;
	}
	if ((e = ev_note(json_object_get(o, "checkpoint"), vk, &s->sc, d,
	         dlen)) != KT_OK)
		return e;
	if (json_object_get(o, "lookup_proof") != NULL)
		return ev_lookup(o, &s->sc.cp, vrf_pk, label, index, s, d,
		    dlen);
	if ((head = malloc(sizeof(*head))) == NULL)
		return KT_ERR_NOMEM;
	e = ev_map_path(o, &s->sc.cp, index, 1, head, &s->present, &s->leaf, d,
	    dlen);
	free(head);
	return e;
}

enum kt_verify_outcome
kt_vevidence_downgrade(const json_t *ev, const struct kt_verifier *vk,
    const uint8_t *vrf_pk, struct kt_vresult *r)
{
	const char *label = json_string_value(json_object_get(ev, "label"));
	struct mstate s[2];
	struct kt_hash index;
	uint64_t v0, v1;
	char d[512];
	kt_err e;

	if (label == NULL ||
	    kt_vparse_hash(json_object_get(ev, "map_index"), &index) != KT_OK)
		return fail(r, "downgrade", "needs label and map_index");
	for (size_t i = 0; i < 2; i++)
		if ((e = ev_state(json_object_get(ev, i ? "later" : "earlier"),
		         vk, vrf_pk, label, &index, &s[i], d, sizeof(d))) !=
		    KT_OK)
			return e == KT_ERR_NOMEM
			    ? kt_vres(r, KT_VERIFY_ERROR, "out of memory")
			    : fail(r, "downgrade", d);
	/* A smaller tree may show fewer versions: the same two answers
	 * the other way round are a rollback, a record and no proof. */
	if (s[1].sc.cp.size < s[0].sc.cp.size)
		return fail(r, "downgrade",
		    "the later checkpoint is smaller than the earlier one: "
		    "that is a rollback, which proves nothing by itself");
	v0 = s[0].present ? s[0].leaf.version : 0;
	v1 = s[1].present ? s[1].leaf.version : 0;
	json_object_set_new(r->info, "earlier_version",
	    json_integer((json_int_t)v0));
	json_object_set_new(r->info, "later_version",
	    json_integer((json_int_t)v1));
	if (v1 < v0)
		return kt_vres(r, KT_VERIFY_OK,
		    "PROVEN: the log signed a map showing version %" PRIu64
		    " of \"%s\" at tree size %" PRIu64 " and then %s at "
		    "tree size %" PRIu64 ": versions only grow (a downgrade)",
		    v0, label, s[0].sc.cp.size,
		    s[1].present ? "a lower one" : "no version",
		    s[1].sc.cp.size);
	if (v1 == v0 && v0 > 0 &&
	    (s[0].leaf.update_index != s[1].leaf.update_index ||
	        !kt_hash_eq(&s[0].leaf.chain, &s[1].leaf.chain)))
		return kt_vres(r, KT_VERIFY_OK,
		    "PROVEN: the log signed maps showing version %" PRIu64
		    " of \"%s\" with two different updates or chains (tree "
		    "sizes %" PRIu64 " and %" PRIu64 "): a version, once "
		    "in the map, never changes (a rewritten history)",
		    v0, label, s[0].sc.cp.size, s[1].sc.cp.size);
	return fail(r, "downgrade",
	    "proves nothing: the later map does not show fewer versions, or "
	    "another update or chain for the same version");
}

enum kt_verify_outcome
kt_vevidence_hidden(const json_t *ev, const struct kt_verifier *vk,
    struct kt_vresult *r)
{
	struct kt_signed_checkpoint sc;
	struct kt_vleaf *l = calloc(2, sizeof(*l)); /* head, update */
	struct kt_map_leaf leaf;
	char d[512];
	int present = 0;
	enum kt_verify_outcome st;
	kt_err e;

	if (l == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (ev_note(json_object_get(ev, "checkpoint"), vk, &sc, d, sizeof(d)) !=
	        KT_OK ||
	    ev_leaf(json_object_get(ev, "update"), &sc.cp, &l[1], "update", d,
	        sizeof(d)) != KT_OK) {
		st = fail(r, "hidden-version", d);
		goto out;
	}
	if (l[1].kind != KT_LEAF_UPDATE) {
		st = fail(r, "hidden-version", "the update is not an update");
		goto out;
	}
	if ((e = ev_map_path(ev, &sc.cp, &l[1].u.index, 0, &l[0], &present,
	         &leaf, d, sizeof(d))) != KT_OK) {
		st = e == KT_ERR_NOMEM
		    ? kt_vres(r, KT_VERIFY_ERROR, "out of memory")
		    : fail(r, "hidden-version", d);
		goto out;
	}
	if (l[1].index >= l[0].index) {
		st = fail(r, "hidden-version",
		    "proves nothing: the update is not before the map head");
		goto out;
	}
	if (present && leaf.version >= l[1].u.version) {
		st = fail(r, "hidden-version",
		    "proves nothing: the map head's map shows the update's "
		    "version or a later one");
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_OK,
	    "PROVEN: the log's signed tree of size %" PRIu64 " holds an "
	    "update of version %" PRIu64 " (index %" PRIu64 ") before map "
	    "head %" PRIu64 ", whose map shows %s for that label's map "
	    "index: a map head holds every update before it (a hidden "
	    "version)",
	    sc.cp.size, l[1].u.version, l[1].index, l[0].index,
	    present ? "an older version" : "no version");
out:
	free(l);
	return st;
}

/* ---- writing ----------------------------------------------------------------- */

/* Checks ev with chk before writing it: a file is written only when it
 * proves what it says. KT_VERIFY_FAILED (ev released, r untouched) when
 * it does not. */
static enum kt_verify_outcome
check_write(struct kt_verify *v, json_t *ev, const char *why,
    enum kt_verify_outcome (*chk)(const json_t *, const struct kt_verifier *,
        const uint8_t *, struct kt_vresult *),
    struct kt_vresult *r)
{
	struct kt_vresult t;
	enum kt_verify_outcome st;

	kt_vresult_init(&t);
	st = chk(ev, &v->vk, v->have_vrf ? v->vrf_pk : NULL, &t);
	if (st != KT_VERIFY_OK) {
		kt_vresult_free(&t);
		json_decref(ev);
		return KT_VERIFY_FAILED;
	}
	kt_vres(r, KT_VERIFY_ATTACK, "ATTACK: %s; %s", why, t.msg);
	kt_vresult_free(&t);
	return kt_evidence_write(v, ev, r);
}

enum kt_verify_outcome
kt_evidence_downgrade(struct kt_verify *v, const char *label,
    const struct kt_hash *index, json_t *earlier, json_t *later,
    const char *why, struct kt_vresult *r)
{
	json_t *ev;

	if (earlier == NULL || later == NULL) {
		json_decref(earlier);
		json_decref(later);
		return KT_VERIFY_FAILED;
	}
	ev = json_pack("{s:s,s:b,s:s,s:s,s:o,s:o,s:o}", "type", "downgrade",
	    "provable", 1, "summary", why, "label", label, "map_index",
	    kt_vb64_json(index->b, KT_HASH_LEN), "earlier", earlier, "later",
	    later);
	if (ev == NULL)
		return KT_VERIFY_FAILED;
	return check_write(v, ev, why, kt_vevidence_downgrade, r);
}

static enum kt_verify_outcome
check_hidden(const json_t *ev, const struct kt_verifier *vk,
    const uint8_t *vrf_pk, struct kt_vresult *r)
{
	(void)vrf_pk;
	return kt_vevidence_hidden(ev, vk, r);
}

/* The hidden-version file, or KT_VERIFY_FAILED as check_write. */
static enum kt_verify_outcome
write_hidden(struct kt_verify *v, const char *label,
    const struct kt_signed_checkpoint *sc, const struct kt_vleaf *head,
    const struct kt_map_proof *mp, const struct kt_vleaf *update,
    const char *why, struct kt_vresult *r)
{
	json_t *ev = json_pack("{s:s,s:b,s:s,s:s,s:s%,s:o,s:o,s:o}", "type",
	    "hidden-version", "provable", 1, "summary", why, "label", label,
	    "checkpoint", sc->note, sc->note_len, "head", kt_vleaf_json(head),
	    "map_proof", kt_vmap_proof_json(mp), "update",
	    kt_vleaf_json(update));

	if (ev == NULL)
		return KT_VERIFY_FAILED;
	return check_write(v, ev, why, check_hidden, r);
}

enum kt_verify_outcome
kt_evidence_hidden(struct kt_verify *v, const char *label,
    const struct kt_signed_checkpoint *sc, const struct kt_vleaf *head,
    const struct kt_map_proof *mp, const struct kt_vleaf *update,
    const struct kt_signed_checkpoint *usc, struct kt_vresult *r)
{
	struct kt_vleaf *l = NULL;
	char why[512];
	int present = 0;
	enum kt_verify_outcome st;

	if (kt_map_verify(&head->h.root, &update->u.index, mp, &present) !=
	    KT_OK)
		present = 0;
	kt_msg(why, sizeof(why),
	    "HIDDEN VERSION: the log shows version %" PRIu64 " of %s "
	    "(update %" PRIu64 "), logged before map head %" PRIu64
	    ", but that map head's map at tree size %" PRIu64 " shows %s",
	    update->u.version, label, update->index, head->index, sc->cp.size,
	    present ? "an older version" : "no version");
	/* The update as proven into the map's own checkpoint: the history
	 * page's may be another (related) one. */
	if (usc->cp.size != sc->cp.size ||
	    !kt_hash_eq(&usc->cp.root, &sc->cp.root)) {
		if ((l = malloc(sizeof(*l))) == NULL)
			return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		if (kt_vlog_leaf(v, update->index, &sc->cp, l, NULL) !=
		        KT_VERIFY_OK ||
		    !kt_hash_eq(&l->leaf_hash, &update->leaf_hash)) {
			free(l);
			return kt_vres(r, KT_VERIFY_FAILED,
			    "%s; the log does not prove that update in the "
			    "map's checkpoint",
			    why);
		}
		update = l;
	}
	st = write_hidden(v, label, sc, head, mp, update, why, r);
	free(l);
	if (st == KT_VERIFY_FAILED)
		return kt_vres(r, st, "%s", why);
	return st;
}
