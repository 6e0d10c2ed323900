/*
 * audit.c: `audit`, the stateless auditor (map_audit.c) with its position
 * kept in the state folder (audit.json), so each run checks only what the
 * log appended since the last one, and an interrupted run resumes from
 * its last save.
 *
 * audit.json: {"size", "head_index", "head" (base64 map head leaf),
 * "frontier" (one hash per set bit of size, highest first)}. Absent: the
 * audit starts at leaf 0. A file that does not parse is exit 1, never a
 * silent restart (state.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

/* audit.json into *p (absent: before leaf 0). KT_ERR_MALFORMED with a
 * detail naming the file. */
static kt_err
pos_load(const char *dir, struct kt_vaudit_pos *p, char *d, size_t dlen)
{
	json_t *o = NULL;
	uint8_t head[KT_MAP_HEAD_LEN];
	kt_err e;

	kt_vaudit_pos_init(p);
	if ((e = kt_vstate_load_json(dir, KT_VSTATE_AUDIT, &o, d, dlen)) !=
	    KT_OK)
		return e;
	if (json_object_size(o) == 0) {
		json_decref(o);
		return KT_OK;
	}
	e = KT_ERR_MALFORMED;
	if (kt_vparse_u64(o, "size", &p->size) != KT_OK || p->size == 0 ||
	    kt_vparse_u64(o, "head_index", &p->head_index) != KT_OK ||
	    kt_vparse_b64n(o, "head", head, sizeof(head)) != KT_OK ||
	    kt_map_head_decode(head, sizeof(head), &p->head) != KT_OK ||
	    kt_vparse_frontier(json_object_get(o, "frontier"), p->size,
	        &p->frontier, d, dlen) != KT_OK ||
	    p->head_index != p->size - 1 || p->head.log_size != p->head_index)
		kt_msg(d, dlen,
		    "state file %s/%s is corrupt; refusing to continue: "
		    "moving it away restarts the audit from leaf 0",
		    dir, KT_VSTATE_AUDIT);
	else
		e = KT_OK;
	json_decref(o);
	return e;
}

static enum kt_verify_outcome
pos_save(void *ctx, const struct kt_vaudit_pos *p, struct kt_vresult *r)
{
	struct kt_verify *v = ctx;
	uint8_t head[KT_MAP_HEAD_LEN];
	char d[512];
	json_t *o;
	kt_err e;

	if (kt_map_head_encode(&p->head, head) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "internal: map head");
	o = json_pack("{s:I,s:I,s:o,s:o}", "size", (json_int_t)p->size,
	    "head_index", (json_int_t)p->head_index, "head",
	    kt_vb64_json(head, sizeof(head)), "frontier",
	    kt_vfrontier_json(&p->frontier));
	if (o == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	e = kt_vstate_save_json(v->dir, KT_VSTATE_AUDIT, o, d, sizeof(d));
	json_decref(o);
	if (e != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "saving the audit: %s", d);
	return KT_VERIFY_OK;
}

/* The figures kt_vmap_audit left in r->info, as one line. */
static enum kt_verify_outcome
report_ok(const struct kt_vaudit_pos *p, uint64_t from, struct kt_vresult *r)
{
	json_t *i = r->info;
	uint64_t upd =
	    (uint64_t)json_integer_value(json_object_get(i, "updates"));
	uint64_t heads =
	    (uint64_t)json_integer_value(json_object_get(i, "map_heads"));
	uint64_t paths =
	    (uint64_t)json_integer_value(json_object_get(i, "paths"));
	uint64_t bytes =
	    (uint64_t)json_integer_value(json_object_get(i, "bytes"));
	double secs = json_real_value(json_object_get(i, "seconds"));

	if (from == p->size)
		return kt_vres(r, KT_VERIFY_OK,
		    "audit: nothing new; the %" PRIu64 " leaves audited "
		    "before are the signed tree's (%" PRIu64 " labels)",
		    p->size, p->head.label_count);
	return kt_vres(r, KT_VERIFY_OK,
	    "audit: %" PRIu64 " entries replayed (leaves %" PRIu64 "..%" PRIu64
	    ") in %.2f s (%.0f updates/s); tree equals the "
	    "signed root; %" PRIu64 " map heads each equal the map their batch "
	    "makes (%" PRIu64 " updates, %" PRIu64 " map paths, %" PRIu64
	    " labels), links, counts and times in order; %.1f KB fetched "
	    "(%.0f B per update)",
	    p->size - from, from, p->size, secs,
	    secs > 0 ? (double)upd / secs : 0.0, heads, upd, paths,
	    p->head.label_count, (double)bytes / 1024,
	    upd > 0 ? (double)bytes / (double)upd : 0.0);
}

enum kt_verify_outcome
kt_verify_audit(struct kt_verify *v, struct kt_vresult *r)
{
	struct kt_vaudit_pos *p = NULL;
	struct kt_signed_checkpoint sc;
	struct kt_buf note = { 0 };
	uint64_t from;
	char d[1024];
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_config(v, r)) != KT_VERIFY_OK)
		return st;
	if ((p = malloc(sizeof(*p))) == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (pos_load(v->dir, p, d, sizeof(d)) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "%s", d);
		goto out;
	}
	if ((st = kt_vaccept_fetch(v, &note, &sc, r)) != KT_VERIFY_OK)
		goto out;
	from = p->size;
	st = kt_vmap_audit(v, &sc, p, pos_save, v, r);
	if (st == KT_VERIFY_OK) {
		/* The checkpoint's whole tree, for proving a later fork. */
		if (kt_vmaterial_save(v->dir, &sc, &p->frontier) != KT_OK)
			json_object_set_new(r->info, "material_saved",
			    json_false());
		st = report_ok(p, from, r);
	}
out:
	free(p);
	kt_buf_free(&note);
	return kt_vquorum_stale(v, r, st);
}
