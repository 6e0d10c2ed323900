/*
 * view.c: `checkpoint` (fetch, verify and store the log's newest
 * checkpoint) and `view` (publish the stored one for other monitors).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "verify_internal.h"

enum kt_verify_outcome
kt_verify_checkpoint(struct kt_verify *v, struct kt_vresult *r)
{
	struct kt_signed_checkpoint sc;
	struct kt_buf note = { 0 };
	uint64_t before, size;
	enum kt_verify_outcome st;
	int had;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	had = v->have_stored;
	before = v->stored.cp.size;
	st = kt_vaccept_fetch(v, &note, &sc, r);
	kt_buf_free(&note);
	if (st != KT_VERIFY_OK)
		return st;
	size = sc.cp.size;
	if (!had)
		kt_vres(r, KT_VERIFY_OK,
		    "first checkpoint verified and "
		    "stored: tree size %" PRIu64 " (signature%s checked; "
		    "nothing earlier to be consistent with)",
		    size, v->wit.n > 0 ? " and witness quorum" : "");
	else if (size == before)
		kt_vres(r, KT_VERIFY_OK,
		    "checkpoint verified: tree size "
		    "%" PRIu64 ", unchanged",
		    size);
	else
		kt_vres(r, KT_VERIFY_OK,
		    "checkpoint verified: tree size %" PRIu64 " -> %" PRIu64
		    ", consistent",
		    before, size);
	return kt_vquorum_stale(v, r, KT_VERIFY_OK);
}

enum kt_verify_outcome
kt_verify_view(struct kt_verify *v, const char *out_path, struct kt_vresult *r)
{
	char dir[KT_VERIFY_PATH_MAX], d[512];
	const char *name;
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	if (!v->have_stored)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "no stored checkpoint yet "
		    "(run kt-verify checkpoint)");
	if (kt_vstate_split(out_path, dir, &name) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "--out path too long");
	if (name[0] == '\0')
		return kt_vres(r, KT_VERIFY_ERROR, "--out names a folder");
	if (kt_vstate_write(dir, name, v->stored.note, v->stored.note_len, d,
	        sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	json_object_set_new(r->info, "out", json_string(out_path));
	json_object_set_new(r->info, "size",
	    json_integer((json_int_t)v->stored.cp.size));
	return kt_vres(r, KT_VERIFY_OK,
	    "wrote this client's view (signed "
	    "checkpoint of tree size %" PRIu64 ") to %s",
	    v->stored.cp.size, out_path);
}
