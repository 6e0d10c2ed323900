/*
 * accept.c: the one place that decides whether a signed checkpoint may
 * replace the stored one, and whether two signed checkpoints can be views
 * of one append-only log.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "verify_internal.h"

static void
cp_info(json_t *o, const char *key, const struct kt_checkpoint *cp)
{
	char root[64];

	sodium_bin2base64(root, sizeof(root), cp->root.b, KT_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL);
	json_object_set_new(o, key,
	    json_pack("{s:I,s:s}", "size", (json_int_t)cp->size, "root", root));
}

/* Stores sc as the newest checkpoint (state file and handle). */
static enum kt_verify_outcome
store_checkpoint(struct kt_verify *v, const struct kt_signed_checkpoint *sc,
    struct kt_vresult *r)
{
	char d[256];
	char *copy;

	if (kt_vstate_write(v->dir, KT_VSTATE_CHECKPOINT, sc->note,
	        sc->note_len, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	copy = malloc(sc->note_len + 1);
	if (copy == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	memcpy(copy, sc->note, sc->note_len);
	copy[sc->note_len] = '\0';
	free(v->stored_buf);
	v->stored_buf = copy;
	v->stored = *sc;
	v->stored.note = copy;
	v->have_stored = 1;
	return KT_VERIFY_OK;
}

/*
 * The log's consistency proof from a to b (a smaller): KT_VERIFY_OK when it
 * verifies between their roots; the evidence the failing proof allows
 * (why says what failed); or why no usable proof was had.
 */
static enum kt_verify_outcome
consistent(struct kt_verify *v, const struct kt_signed_checkpoint *a,
    const struct kt_signed_checkpoint *b, const char *why, struct kt_vresult *r)
{
	struct kt_proof p;
	enum kt_verify_outcome st;

	if ((st = kt_vlog_consistency(v, a->cp.size, b->cp.size, &p, r)) !=
	    KT_VERIFY_OK)
		return st;
	if (kt_merkle_verify_consistency(a->cp.size, b->cp.size, p.h, p.n,
	        &a->cp.root, &b->cp.root) == KT_OK)
		return KT_VERIFY_OK;
	return kt_evidence_fork(v, "fork", a, b, &p, why, r);
}

enum kt_verify_outcome
kt_vrelate(struct kt_verify *v, const struct kt_signed_checkpoint *a,
    const struct kt_signed_checkpoint *b, struct kt_vresult *r)
{
	if (a->cp.size == b->cp.size) {
		if (kt_hash_eq(&a->cp.root, &b->cp.root))
			return KT_VERIFY_OK;
		return kt_evidence_fork(v, "fork", a, b, NULL,
		    "the log signed "
		    "two different trees of the same size",
		    r);
	}
	if (a->cp.size > b->cp.size)
		return kt_vrelate(v, b, a, r);
	return consistent(v, a, b,
	    "the consistency proof between two signed "
	    "checkpoints does not verify (fork or rewritten history)",
	    r);
}

/*
 * The same tree as the stored one: keep the copy with the fresher
 * witnessed time (q: the new copy's), so `view` publishes it and staleness
 * is measured from it.
 */
static enum kt_verify_outcome
same_tree(struct kt_verify *v, const struct kt_signed_checkpoint *sc,
    const struct kt_vquorum *q, struct kt_vresult *r)
{
	struct kt_vquorum sq;
	char d[256];

	if (v->wit.n > 0 &&
	    (kt_vquorum_count(v->stored.note, v->stored.note_len, &v->vk,
	         &v->wit, &sq, d, sizeof(d)) != KT_OK ||
	        sq.valid < v->wit.quorum || sq.witnessed < q->witnessed))
		return store_checkpoint(v, sc, r);
	return KT_VERIFY_OK;
}

enum kt_verify_outcome
kt_vaccept(struct kt_verify *v, const struct kt_signed_checkpoint *sc,
    struct kt_vresult *r)
{
	const struct kt_checkpoint *nc = &sc->cp, *sp = &v->stored.cp;
	struct kt_vquorum q;
	enum kt_verify_outcome st;

	cp_info(r->info, "checkpoint", nc);
	/* With a witness policy, a checkpoint the witnesses did not see is
	 * refused before it can touch the stored view. */
	if ((st = kt_vquorum_check(v, sc, &q, r)) != KT_VERIFY_OK) {
		/* Still signed by the log: the same size as the stored tree
		 * with another root proves a fork whoever cosigned it. */
		if (st == KT_VERIFY_FAILED && q.valid < v->wit.quorum &&
		    v->have_stored && nc->size == sp->size &&
		    !kt_hash_eq(&nc->root, &sp->root))
			return kt_evidence_fork(v, "fork", &v->stored, sc, NULL,
			    "the log signed two different trees of the same "
			    "size (the new one lacks the witness quorum)",
			    r);
		return st;
	}
	/* Trust on first use, after the signature: there is nothing yet to
	 * be consistent with. */
	if (!v->have_stored)
		return store_checkpoint(v, sc, r);
	cp_info(r->info, "stored_checkpoint", sp);
	if (nc->size == sp->size) {
		if (kt_hash_eq(&nc->root, &sp->root))
			return same_tree(v, sc, &q, r);
		return kt_evidence_fork(v, "fork", &v->stored, sc, NULL,
		    "the "
		    "log signed two different trees of the same size",
		    r);
	}
	if (nc->size < sp->size)
		return kt_evidence_fork(v, "rollback", &v->stored, sc, NULL,
		    "the log served a smaller tree than one it signed before "
		    "(rollback)",
		    r);
	if ((st = consistent(v, &v->stored, sc,
	         "the consistency proof from "
	         "the stored checkpoint to the new one does not verify (fork or "
	         "rewritten history)",
	         r)) != KT_VERIFY_OK)
		return st;
	return store_checkpoint(v, sc, r);
}

enum kt_verify_outcome
kt_vaccept_fetch(struct kt_verify *v, struct kt_buf *note,
    struct kt_signed_checkpoint *out, struct kt_vresult *r)
{
	char d[512];
	long status;
	enum kt_verify_outcome st;

	if ((st = kt_vlog_get(v, "/checkpoint", KT_CAP_CHECKPOINT, note,
	         &status, "", r)) != KT_VERIFY_OK)
		return st;
	if (status != 200)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "GET %s/checkpoint: HTTP %ld", v->url, status);
	if (note->len > KT_NOTE_MAX)
		return kt_vres(r, KT_VERIFY_FAILED, "checkpoint too large");
	if (kt_vcheck_checkpoint(note->p, note->len, &v->vk, out, d,
	        sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED, "%s", d);
	return kt_vaccept(v, out, r);
}
