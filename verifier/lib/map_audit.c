/*
 * map_audit.c: the stateless auditor (map.md, "Auditors keep the map
 * honest"), shared by `kt-verify audit` (audit.c) and kt-witness --audit.
 *
 * It keeps no map. Its position (struct kt_vaudit_pos) is the number of
 * leaves checked, the compact range of their tree and the last map head.
 * A run streams the leaves from there to a signed checkpoint's size
 * (tlog-tiles entry bundles), gathering each batch's updates (at most
 * KT_VAUDIT_BATCH_MAX); at each map head it takes GET /v1/map/audit/<head>
 * (the paths, in the previous map, of the indexes the batch touched) and
 * judges the head with kt_vmap_judge (evidence_map.c). Fetch threads
 * (prefetch.c) read the bundles and audit answers a few batches ahead, so
 * the log's work and the network overlap the judging. Paths that do not
 * verify against the previous root, or do not cover the batch, are the
 * log's bad answer (KT_VERIFY_FAILED); a broken rule (log_size, the link
 * to the previous head, times, the map's rules, the root, the label count)
 * is an attack, written as "wrong-map" evidence. Memory is a batch's
 * updates and paths, whatever the size of the log or the map.
 *
 * A position is saved only once its leaves are known to be the signed
 * tree's: at the end, when every leaf read hashes to the signed root, or
 * on the way (every save_every leaves, and before reporting an attack),
 * by a consistency proof from the position's size to the checkpoint's
 * that verifies from the position's own root.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kt/bytes.h"
#include "kt/fmt.h"
#include "verify_internal.h"

/* ---- positions ------------------------------------------------------------ */

void
kt_vaudit_pos_init(struct kt_vaudit_pos *p)
{
	memset(p, 0, sizeof(*p));
	kt_frontier_init(&p->frontier);
	p->head_index = KT_NO_PREV;
}

static unsigned
popcount64(uint64_t x)
{
	unsigned n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

kt_err
kt_vaudit_pos_encode(const struct kt_vaudit_pos *p, uint8_t *buf, size_t cap,
    size_t *len)
{
	size_t n = 16 + KT_MAP_HEAD_LEN + popcount64(p->size) * KT_HASH_LEN;
	uint8_t *q = buf + 16 + KT_MAP_HEAD_LEN;

	if (cap < n)
		return KT_ERR_TOO_LARGE;
	if (p->frontier.size != p->size)
		return KT_ERR_MALFORMED;
	kt_put_be64(buf, p->size);
	kt_put_be64(buf + 8, p->head_index);
	memset(buf + 16, 0, KT_MAP_HEAD_LEN);
	if (p->size > 0 && kt_map_head_encode(&p->head, buf + 16) != KT_OK)
		return KT_ERR_MALFORMED;
	for (int k = 63; k >= 0; k--)
		if (p->size >> k & 1) {
			memcpy(q, p->frontier.h[k].b, KT_HASH_LEN);
			q += KT_HASH_LEN;
		}
	*len = n;
	return KT_OK;
}

/* What every position must hold: size 0 with no head, or the map head at
 * size - 1 whose own log_size says so. */
static kt_err
pos_check(const struct kt_vaudit_pos *p)
{
	if (p->size == 0)
		return p->head_index == KT_NO_PREV ? KT_OK : KT_ERR_MALFORMED;
	if (p->head_index != p->size - 1 || p->head.log_size != p->head_index)
		return KT_ERR_MALFORMED;
	return KT_OK;
}

kt_err
kt_vaudit_pos_decode(const uint8_t *buf, size_t len, struct kt_vaudit_pos *p)
{
	const uint8_t *q = buf + 16 + KT_MAP_HEAD_LEN;
	static const uint8_t zero[KT_MAP_HEAD_LEN];

	kt_vaudit_pos_init(p);
	if (len < 16 + KT_MAP_HEAD_LEN)
		return KT_ERR_MALFORMED;
	p->size = kt_get_be64(buf);
	p->head_index = kt_get_be64(buf + 8);
	if (len != 16 + KT_MAP_HEAD_LEN + popcount64(p->size) * KT_HASH_LEN)
		return KT_ERR_MALFORMED;
	if (p->size == 0 ? memcmp(buf + 16, zero, sizeof(zero)) != 0
	                 : kt_map_head_decode(buf + 16, KT_MAP_HEAD_LEN,
	                       &p->head) != KT_OK)
		return KT_ERR_MALFORMED;
	p->frontier.size = p->size;
	for (int k = 63; k >= 0; k--)
		if (p->size >> k & 1) {
			memcpy(p->frontier.h[k].b, q, KT_HASH_LEN);
			q += KT_HASH_LEN;
		}
	return pos_check(p);
}

/* ---- a run ------------------------------------------------------------------ */

struct run {
	struct kt_verify *v;
	const struct kt_signed_checkpoint *sc;
	struct kt_vaudit_pos cur; /* after the last map head that followed */
	uint64_t saved;           /* cur.size when last saved */
	struct kt_frontier f;     /* every leaf read */
	struct kt_map_update *u;  /* the batch: KT_VAUDIT_BATCH_MAX */
	size_t n;
	struct kt_vpath *p; /* its paths, decoded into pbuf */
	size_t pcap;
	uint8_t *pbuf;
	size_t pbuf_cap;
	struct kt_vpaths *t;     /* the judge's scratch */
	struct kt_vprefetch *pf; /* the fetch threads */
	struct kt_buf body;
	kt_vaudit_save_fn save;
	void *ctx;
	uint64_t save_every;
	/* figures */
	uint64_t updates, heads, paths;
	/* an attack: the rule the head at bad_head breaks, and the paths the
	 * log served for it (NULL when none were needed) */
	const char *rule, *why;
	uint64_t bad_head;
	json_t *bad_paths;
};

/* Room for np paths in a->p and for the bytes of the base64 strings of
 * jp in a->pbuf. */
static kt_err
paths_room(struct run *a, const json_t *jp, size_t np)
{
	struct kt_vpath *p;
	uint8_t *b;
	size_t need = 0;

	for (size_t i = 0; i < np; i++)
		need += json_string_length(json_array_get(jp, i)) / 4 * 3;
	if (np > a->pcap) {
		if ((p = realloc(a->p, np * sizeof(*p))) == NULL)
			return KT_ERR_NOMEM;
		a->p = p;
		a->pcap = np;
	}
	if (need > a->pbuf_cap) {
		if ((b = realloc(a->pbuf, need)) == NULL)
			return KT_ERR_NOMEM;
		a->pbuf = b;
		a->pbuf_cap = need;
	}
	return KT_OK;
}

/* Checks the fields of a /v1/map/audit answer against the heads the
 * auditor holds; the paths into a->p. */
static enum kt_verify_outcome
audit_answer(struct run *a, const json_t *o, const struct kt_vleaf *l,
    size_t *np, struct kt_vresult *r)
{
	const json_t *jp = json_object_get(o, "paths");
	struct kt_hash prev_root, root;
	uint64_t hi, phi;
	size_t len, off = 0;

	if (kt_vparse_u64(o, "head_index", &hi) != KT_OK ||
	    kt_vparse_u64(o, "prev_head_index", &phi) != KT_OK ||
	    kt_vparse_hash(json_object_get(o, "prev_root"), &prev_root) !=
	        KT_OK ||
	    kt_vparse_hash(json_object_get(o, "root"), &root) != KT_OK ||
	    !json_is_array(jp))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "map audit of head %" PRIu64 ": a field is missing or "
		    "malformed",
		    l->index);
	if (hi != l->index || phi != a->cur.head_index ||
	    !kt_hash_eq(&prev_root, &a->cur.head.root) ||
	    !kt_hash_eq(&root, &l->h.root))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "map audit of head %" PRIu64 ": the answer is about other "
		    "map heads than the log's leaves",
		    l->index);
	*np = json_array_size(jp);
	if (*np > a->n || paths_room(a, jp, *np) != KT_OK)
		return kt_vres(r,
		    *np > a->n ? KT_VERIFY_FAILED : KT_VERIFY_ERROR,
		    "map audit of head %" PRIu64 ": %s", l->index,
		    *np > a->n ? "more paths than updates" : "out of memory");
	for (size_t i = 0; i < *np; i++) {
		const json_t *j = json_array_get(jp, i);

		/* Paths are public: the table-driven decoder. */
		if (!json_is_string(j) ||
		    kt_vb64_decode_public(json_string_value(j),
		        json_string_length(j), a->pbuf + off, a->pbuf_cap - off,
		        &len) != KT_OK)
			return kt_vres(r, KT_VERIFY_FAILED,
			    "map audit of head %" PRIu64 ": path %zu is not a "
			    "map proof",
			    l->index, i);
		a->p[i].b = a->pbuf + off;
		a->p[i].len = len;
		off += len;
	}
	return KT_VERIFY_OK;
}

/* GET /v1/map/audit/<head>: the batch's paths into a->p (*np), the answer's
 * JSON array into *paths (a new reference). */
static enum kt_verify_outcome
fetch_paths(struct run *a, const struct kt_vleaf *l, size_t *np, json_t **paths,
    struct kt_vresult *r)
{
	char path[64], d[512];
	json_t *o = NULL;
	long status;
	enum kt_verify_outcome st;

	if (kt_fmt(path, sizeof(path), "/v1/map/audit/%" PRIu64, l->index) !=
	    KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "internal: path too long");
	if ((st = kt_vprefetch_get(a->pf, KT_VPREFETCH_AUDIT, l->index,
	         &a->body, &status, r)) != KT_VERIFY_OK)
		return st;
	if (status == 410) /* not a lie: the log no longer keeps that map */
		return kt_vres(r, KT_VERIFY_ERROR,
		    "GET %s%s: HTTP 410: the log no longer keeps the map "
		    "before map head %" PRIu64 " (its map_retention), so this "
		    "batch cannot be audited; an auditor must keep up with "
		    "the log (docs/verify.md, audit)",
		    a->v->url, path, l->index);
	if (status != 200)
		return kt_vres(r, KT_VERIFY_FAILED, "GET %s%s: HTTP %ld",
		    a->v->url, path, status);
	if (kt_vparse_object(a->body.p, a->body.len, &o, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED, "GET %s%s: %s", a->v->url,
		    path, d);
	st = audit_answer(a, o, l, np, r);
	if (st == KT_VERIFY_OK)
		*paths = json_incref(json_object_get(o, "paths"));
	json_decref(o);
	return st;
}

/* An attack at map head l: kept for the evidence, which is written once
 * the scan has stopped. */
static enum kt_verify_outcome
attack(struct run *a, const struct kt_vleaf *l, const char *rule,
    const char *why, json_t *paths, struct kt_vresult *r)
{
	a->rule = rule;
	a->why = why;
	a->bad_head = l->index;
	a->bad_paths = paths != NULL ? paths : json_array();
	return kt_vres(r, KT_VERIFY_ATTACK,
	    "ATTACK: the log breaks rule \"%s\" at map head %" PRIu64 ": %s",
	    rule, l->index, why);
}

/* Saves a->cur once its leaves are proven to be the signed tree's. */
static enum kt_verify_outcome
save_progress(struct run *a, struct kt_vresult *r)
{
	const struct kt_checkpoint *cp = &a->sc->cp;
	struct kt_hash root;
	struct kt_proof p;
	enum kt_verify_outcome st;

	if (a->save == NULL || a->cur.size == a->saved || a->cur.size == 0)
		return KT_VERIFY_OK;
	kt_frontier_root(&a->cur.frontier, &root);
	if (a->cur.size < cp->size) {
		if ((st = kt_vlog_consistency(a->v, a->cur.size, cp->size, &p,
		         r)) != KT_VERIFY_OK)
			return st;
		if (kt_merkle_verify_consistency(a->cur.size, cp->size, p.h,
		        p.n, &root, &cp->root) != KT_OK)
			return kt_vres(r, KT_VERIFY_FAILED,
			    "the %" PRIu64 " leaves the log served are not "
			    "the first leaves of its signed tree of size "
			    "%" PRIu64 ": it is hiding, adding or altering "
			    "entries",
			    a->cur.size, cp->size);
	} else if (!kt_hash_eq(&root, &cp->root)) {
		return kt_vres(r, KT_VERIFY_FAILED,
		    "the entries the log served do not hash to its signed "
		    "root of size %" PRIu64,
		    cp->size);
	}
	if ((st = a->save(a->ctx, &a->cur, r)) == KT_VERIFY_OK)
		a->saved = a->cur.size;
	return st;
}

/* A map head: the batch before it judged, then the position moves. */
static enum kt_verify_outcome
on_head(struct run *a, const struct kt_vleaf *l, struct kt_vresult *r)
{
	const struct kt_map_head *prev = a->cur.size ? &a->cur.head : NULL;
	struct kt_vmap_verdict vd;
	json_t *paths = NULL;
	size_t np = 0;
	const char *why;
	enum kt_verify_outcome st;
	kt_err e;

	a->heads++;
	vd.rule =
	    kt_vmap_head_rules(prev, a->cur.head_index, &l->h, l->index, &why);
	if (vd.rule != NULL)
		return attack(a, l, vd.rule, why, NULL, r);
	/* Before the first map head the map is empty and needs no paths;
	 * an empty batch touches none. */
	if (prev != NULL && a->n > 0 &&
	    (st = fetch_paths(a, l, &np, &paths, r)) != KT_VERIFY_OK)
		return st;
	a->paths += np;
	e = kt_vmap_judge(a->t, prev, a->cur.head_index, &l->h, l->index, a->u,
	    a->n, a->p, np, &vd);
	if (e == KT_ERR_NOMEM) {
		json_decref(paths);
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	if (e != KT_OK) {
		json_decref(paths);
		return kt_vres(r, KT_VERIFY_FAILED,
		    "map audit of head %" PRIu64 ": the log's paths do not "
		    "verify against the previous map head's root, or do not "
		    "cover every index of the batch",
		    l->index);
	}
	if (vd.rule != NULL)
		return attack(a, l, vd.rule, vd.why, paths, r);
	json_decref(paths);
	a->cur.size = l->index + 1;
	a->cur.frontier = a->f;
	a->cur.head_index = l->index;
	a->cur.head = l->h;
	a->n = 0;
	if (a->save != NULL && a->cur.size - a->saved >= a->save_every)
		return save_progress(a, r);
	return KT_VERIFY_OK;
}

static enum kt_verify_outcome
on_leaf(void *ctx, const struct kt_vleaf *l, struct kt_vresult *r)
{
	struct run *a = ctx;
	struct kt_map_update *u;

	if (l->kind == KT_LEAF_MAP_HEAD)
		return on_head(a, l, r);
	if (a->n == KT_VAUDIT_BATCH_MAX)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "the batch after leaf %" PRIu64 " has more than %d "
		    "updates, more than this auditor takes",
		    a->cur.head_index, KT_VAUDIT_BATCH_MAX);
	u = &a->u[a->n++];
	u->index = l->u.index;
	u->version = l->u.version;
	u->prev_index = l->u.prev_index;
	u->log_index = l->index;
	u->leaf_hash = l->leaf_hash;
	a->updates++;
	return KT_VERIFY_OK;
}

/* The end of a scan that found nothing: the tree and the checkpoint's
 * last leaf. */
static enum kt_verify_outcome
finish(struct run *a, struct kt_vresult *r)
{
	const struct kt_signed_checkpoint *sc = a->sc;
	struct kt_hash root;
	struct kt_vleaf *l;
	json_t *ents;
	enum kt_verify_outcome st;

	kt_frontier_root(&a->f, &root);
	if (!kt_hash_eq(&root, &sc->cp.root))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "the entries the log served do not hash to its signed "
		    "root of size %" PRIu64 ": it is hiding, adding or "
		    "altering entries",
		    sc->cp.size);
	if (a->cur.size == sc->cp.size)
		return save_progress(a, r);
	/* Leaves after the last map head: the checkpoint is not at one. */
	if ((st = save_progress(a, r)) != KT_VERIFY_OK)
		return st;
	if ((l = malloc(sizeof(*l))) == NULL || (ents = json_array()) == NULL) {
		free(l);
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	st = kt_vlog_leaf(a->v, sc->cp.size - 1, &sc->cp, l, r);
	if (st == KT_VERIFY_OK)
		json_array_append_new(ents, kt_vleaf_json(l));
	free(l);
	if (st != KT_VERIFY_OK) {
		json_decref(ents);
		return st;
	}
	kt_vres(r, KT_VERIFY_ATTACK,
	    "ATTACK: the log breaks rule \"checkpoint-at-head\": the signed "
	    "checkpoint's last leaf %" PRIu64 " is not a map head",
	    sc->cp.size - 1);
	return kt_evidence_bad_entries(a->v, "checkpoint-at-head", sc, ents, 1,
	    r);
}

static void
figures(const struct run *a, uint64_t from, uint64_t bytes, double secs,
    struct kt_vresult *r)
{
	json_t *i = r->info;

	json_object_set_new(i, "from", json_integer((json_int_t)from));
	json_object_set_new(i, "to", json_integer((json_int_t)a->f.size));
	json_object_set_new(i, "checkpoint_size",
	    json_integer((json_int_t)a->sc->cp.size));
	json_object_set_new(i, "audited_size",
	    json_integer((json_int_t)a->cur.size));
	json_object_set_new(i, "updates", json_integer((json_int_t)a->updates));
	json_object_set_new(i, "map_heads", json_integer((json_int_t)a->heads));
	json_object_set_new(i, "paths", json_integer((json_int_t)a->paths));
	json_object_set_new(i, "labels",
	    json_integer((json_int_t)a->cur.head.label_count));
	json_object_set_new(i, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(i, "seconds", json_real(secs));
}

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Runs the scan from a->cur to the checkpoint and reports what it found. */
static enum kt_verify_outcome
scan(struct run *a, struct kt_vresult *r)
{
	enum kt_verify_outcome st;

	st = kt_vlog_scan(a->v, a->pf, a->cur.size, a->sc->cp.size, &a->f,
	    on_leaf, a, r);
	if (st == KT_VERIFY_OK)
		return finish(a, r);
	if (st != KT_VERIFY_ATTACK || a->rule == NULL)
		return st;
	/* The heads before the bad one followed: keep them (proven first). */
	{
		char msg[KT_VERIFY_MSG_MAX];

		memcpy(msg, r->msg, sizeof(msg));
		if ((st = save_progress(a, r)) != KT_VERIFY_OK)
			return st;
		memcpy(r->msg, msg, sizeof(msg));
	}
	return kt_evidence_wrong_map(a->v, a->sc, a->cur.head_index,
	    a->bad_head, a->bad_paths, a->rule, r);
}

enum kt_verify_outcome
kt_vmap_audit(struct kt_verify *v, const struct kt_signed_checkpoint *sc,
    struct kt_vaudit_pos *pos, kt_vaudit_save_fn save, void *ctx,
    struct kt_vresult *r)
{
	struct run *a = calloc(1, sizeof(*a));
	uint64_t from = pos->size, bytes0 = v->bytes_in;
	double t0 = now_s();
	enum kt_verify_outcome st;

	if (a == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (pos_check(pos) != KT_OK || pos->frontier.size != pos->size) {
		st = kt_vres(r, KT_VERIFY_ERROR, "internal: audit position");
		goto out;
	}
	a->v = v;
	a->sc = sc;
	a->cur = *pos;
	a->saved = pos->size;
	a->f = pos->frontier;
	a->save = save;
	a->ctx = ctx;
	a->save_every = v->audit_save ? v->audit_save : KT_VAUDIT_SAVE_EVERY;
	if (pos->size > sc->cp.size) {
		st = kt_vres(r, KT_VERIFY_ERROR,
		    "the audit is at size %" PRIu64 ", past the checkpoint "
		    "of size %" PRIu64,
		    pos->size, sc->cp.size);
		goto out;
	}
	a->u = malloc(KT_VAUDIT_BATCH_MAX * sizeof(*a->u));
	if (a->u == NULL || kt_vpaths_open(&a->t) != KT_OK ||
	    kt_vprefetch_open(v, pos->size, sc->cp.size, 1, &a->pf) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	st = scan(a, r);
	if (st == KT_VERIFY_OK || st == KT_VERIFY_ATTACK)
		*pos = a->cur;
	figures(a, from, v->bytes_in - bytes0, now_s() - t0, r);
out:
	kt_vprefetch_close(a->pf);
	kt_vpaths_close(a->t);
	json_decref(a->bad_paths);
	kt_buf_free(&a->body);
	free(a->u);
	free(a->p);
	free(a->pbuf);
	free(a);
	return st;
}

enum kt_verify_outcome
kt_verify_audit_to(struct kt_verify *v, const char *note, size_t len,
    struct kt_vaudit_pos *pos, struct kt_vresult *r)
{
	struct kt_signed_checkpoint sc;
	char d[512];
	enum kt_verify_outcome st;

	if ((st = kt_verify_need_config(v, r)) != KT_VERIFY_OK)
		return st;
	if (kt_vcheck_checkpoint(note, len, &v->vk, &sc, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED, "checkpoint: %s", d);
	return kt_vmap_audit(v, &sc, pos, NULL, NULL, r);
}

void
kt_verify_set_audit_save(struct kt_verify *v, uint64_t leaves)
{
	v->audit_save = leaves;
}
