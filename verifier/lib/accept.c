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
	json_object_set_new(o, key, json_pack("{s:I,s:s}", "size",
	    (json_int_t)cp->size, "root", root));
}

static int
store_checkpoint(struct kt_verify *v, const char *note, size_t len,
    const struct kt_checkpoint *cp, struct kt_vresult *r)
{
	char d[256];
	char *copy;

	if (kt_vstate_write(v->dir, KT_VSTATE_CHECKPOINT, note, len, d,
	    sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	copy = malloc(len + 1);
	if (copy == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	memcpy(copy, note, len);
	copy[len] = '\0';
	free(v->cp_note);
	v->cp_note = copy;
	v->cp_note_len = len;
	v->cp = *cp;
	v->have_cp = 1;
	return KT_VERIFY_OK;
}

/* A consistency proof from a (smaller) to b failed: the strongest
 * evidence available (evidence.c). */
static int
inconsistent(struct kt_verify *v, const char *a_note, size_t a_len,
    const struct kt_checkpoint *a, const char *b_note, size_t b_len,
    const struct kt_checkpoint *b, const struct kt_proof *p,
    const char *why, struct kt_vresult *r)
{
	return kt_evidence_fork_proof(v, "fork", a_note, a_len, a, b_note,
	    b_len, b, p, why, r);
}

int
kt_vrelate(struct kt_verify *v, const char *a_note, size_t a_len,
    const struct kt_checkpoint *a, const char *b_note, size_t b_len,
    const struct kt_checkpoint *b, struct kt_vresult *r)
{
	struct kt_proof proof;
	int bad, st;

	if (a->size == b->size) {
		if (kt_hash_eq(&a->root, &b->root))
			return KT_VERIFY_OK;
		return kt_evidence_fork(v, "fork", a_note, a_len, a, b_note,
		    b_len, b, "the log signed two different trees of the same "
		    "size", r);
	}
	if (a->size > b->size)
		return kt_vrelate(v, b_note, b_len, b, a_note, a_len, a,
		    r);
	if ((st = kt_vlog_consistency(v, a, b, &bad, &proof, r)) != KT_VERIFY_OK)
		return st;
	if (bad)
		return inconsistent(v, a_note, a_len, a, b_note, b_len, b,
		    &proof, "the consistency proof between two signed "
		    "checkpoints does not verify (fork or rewritten history)",
		    r);
	return KT_VERIFY_OK;
}

int
kt_vaccept(struct kt_verify *v, const char *note, size_t len,
    struct kt_checkpoint *out, struct kt_vresult *r)
{
	struct kt_checkpoint nc;
	struct kt_vquorum q, sq;
	struct kt_proof proof;
	char d[512];
	kt_err e;
	int bad, st;

	if ((e = kt_vcheck_checkpoint(note, len, &v->vk, &nc, d, sizeof(d)))
	    != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED, "%s", d);
	cp_info(r->info, "checkpoint", &nc);
	/* With a witness policy, a checkpoint the witnesses did not see is
	 * refused before it can touch the stored view. */
	if ((st = kt_vquorum_check(v, note, len, &q, r)) != KT_VERIFY_OK) {
		/* Still signed by the log: the same size as the stored tree
		 * with another root proves a fork whoever cosigned it. */
		if (st == KT_VERIFY_FAILED && q.valid < v->quorum &&
		    v->have_cp && nc.size == v->cp.size &&
		    !kt_hash_eq(&nc.root, &v->cp.root))
			return kt_evidence_fork(v, "fork", v->cp_note,
			    v->cp_note_len, &v->cp, note, len, &nc, "the log "
			    "signed two different trees of the same size (the "
			    "new one lacks the witness quorum)", r);
		return st;
	}
	if (!v->have_cp) {
		/* Trust on first use, after the signature: there is nothing
		 * yet to be consistent with. */
		if ((st = store_checkpoint(v, note, len, &nc, r)) != 0)
			return st;
		*out = nc;
		return KT_VERIFY_OK;
	}
	cp_info(r->info, "stored_checkpoint", &v->cp);
	if (nc.size == v->cp.size) {
		if (kt_hash_eq(&nc.root, &v->cp.root)) {
			/* Same tree: keep the copy with the fresher witnessed
			 * time, so `view` publishes it and staleness is
			 * measured from it. */
			if (v->nwit > 0 && (kt_vquorum_count(v->cp_note,
			    v->cp_note_len, &v->vk, v->wit, v->nwit, v->quorum,
			    &sq, d, sizeof(d)) != KT_OK || sq.valid < v->quorum
			    || sq.witnessed < q.witnessed) &&
			    (st = store_checkpoint(v, note, len, &nc, r)) != 0)
				return st;
			*out = nc;
			return KT_VERIFY_OK;
		}
		return kt_evidence_fork(v, "fork", v->cp_note, v->cp_note_len,
		    &v->cp, note, len, &nc, "the log signed two different "
		    "trees of the same size", r);
	}
	if (nc.size < v->cp.size)
		return kt_evidence_fork(v, "rollback", v->cp_note,
		    v->cp_note_len, &v->cp, note, len, &nc, "the log served "
		    "a smaller tree than one it signed before (rollback)", r);
	if ((st = kt_vlog_consistency(v, &v->cp, &nc, &bad, &proof, r))
	    != KT_VERIFY_OK)
		return st;
	if (bad)
		return inconsistent(v, v->cp_note, v->cp_note_len, &v->cp,
		    note, len, &nc, &proof, "the consistency proof from the "
		    "stored checkpoint to the new one does not verify (fork "
		    "or rewritten history)", r);
	if ((st = store_checkpoint(v, note, len, &nc, r)) != 0)
		return st;
	*out = nc;
	return KT_VERIFY_OK;
}

int
kt_vaccept_fetch(struct kt_verify *v, char *note_out,
    size_t *note_len, struct kt_checkpoint *out, struct kt_vresult *r)
{
	struct kt_fetch *f;
	struct kt_buf body = {0};
	char d[512];
	long status;
	kt_err e;
	int st;

	if (kt_vlog_fetcher(v, &f, r) != KT_OK)
		return r->status;
	e = kt_fetch_get(f, "/checkpoint", KT_CAP_CHECKPOINT, &body, &status,
	    d, sizeof(d));
	if (e != KT_OK) {
		st = kt_vres(r, e == KT_ERR_NETWORK ? KT_VERIFY_ERROR :
		    KT_VERIFY_FAILED, "%s", d);
		goto out;
	}
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_ERROR, "GET /checkpoint: HTTP %ld",
		    status);
		goto out;
	}
	if (body.len > KT_NOTE_MAX) {
		st = kt_vres(r, KT_VERIFY_FAILED, "checkpoint too large");
		goto out;
	}
	st = kt_vaccept(v, body.p, body.len, out, r);
	if (st == KT_VERIFY_OK && note_out != NULL) {
		memcpy(note_out, body.p, body.len);
		note_out[body.len] = '\0';
		*note_len = body.len;
	}
out:
	kt_buf_free(&body);
	return st;
}
