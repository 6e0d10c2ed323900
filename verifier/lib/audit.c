/*
 * audit.c: `audit`, a full replay of the key directory from leaf 0
 * (map.md, "Auditors keep the map honest").
 *
 * Recomputes the log's tree from every leaf (it must equal the signed
 * root, itself consistent with the stored checkpoint) and the directory
 * map from every update: the updates between two map heads are one batch,
 * applied with proto's kt_map_apply (which enforces the map's rules:
 * versions step by one, version 1 only for a new index, links to the
 * label's previous update, nothing changes but by its next version), and
 * the result must be the root the next map head carries. Each map head
 * must also give its own leaf index as log_size, link to the previous map
 * head, count the labels in the map and carry a time that never runs
 * backwards; the signed checkpoint's last leaf must be a map head.
 *
 * This is a full auditor: it keeps the whole map in memory (every node
 * any batch made, in a hash table keyed by node hash), so memory grows
 * with the log (about 200 bytes per node, a few dozen nodes per update)
 * and an audit starts again from leaf 0 each run. A stateless auditor
 * (kt_map_apply_proofs over GET /v1/map/audit/<head>) would keep only the
 * last root.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify_internal.h"

/* ---- the map's nodes, in memory ------------------------------------------- */

struct mnode {
	int used;
	struct kt_hash h;
	struct kt_map_node n;
};

struct mstore {
	struct mnode *t;
	size_t cap, len;
};

/* Node hashes are SHA-256 outputs of what the log logged: their first
 * bytes are as good as a random hash key. */
static size_t
slot_of(const struct mstore *s, const struct kt_hash *h)
{
	uint64_t x;

	memcpy(&x, h->b, sizeof(x));
	return (size_t)(x & (s->cap - 1));
}

static kt_err
mgrow(struct mstore *s)
{
	size_t cap = s->cap ? s->cap * 2 : 4096;
	struct mnode *t = calloc(cap, sizeof(*t));
	struct mstore ns = { t, cap, 0 };

	if (t == NULL)
		return KT_ERR_NOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t j;
		if (!s->t[i].used)
			continue;
		for (j = slot_of(&ns, &s->t[i].h); t[j].used;)
			j = (j + 1) & (cap - 1);
		t[j] = s->t[i];
	}
	free(s->t);
	s->t = t;
	s->cap = cap;
	return KT_OK;
}

static kt_err
mread(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	struct mstore *s = ctx;

	(void)index;
	(void)depth;
	if (s->cap == 0)
		return KT_ERR_NOT_FOUND;
	for (size_t j = slot_of(s, h); s->t[j].used; j = (j + 1) & (s->cap - 1))
		if (kt_hash_eq(&s->t[j].h, h)) {
			*out = s->t[j].n;
			return KT_OK;
		}
	return KT_ERR_NOT_FOUND;
}

static kt_err
mwrite(void *ctx, const struct kt_hash *h, const struct kt_map_node *n)
{
	struct mstore *s = ctx;
	size_t j;

	if ((s->len + 1) * 4 > s->cap * 3 && mgrow(s) != KT_OK)
		return KT_ERR_NOMEM;
	for (j = slot_of(s, h); s->t[j].used; j = (j + 1) & (s->cap - 1))
		if (kt_hash_eq(&s->t[j].h, h))
			return KT_OK; /* the same node again */
	s->t[j].used = 1;
	s->t[j].h = *h;
	s->t[j].n = *n;
	s->len++;
	return KT_OK;
}

/* ---- the replay ------------------------------------------------------------ */

struct audit {
	struct mstore st;
	struct kt_hash root; /* the map after the last map head */
	uint64_t label_count;
	uint64_t last_head; /* KT_NO_PREV before the first */
	uint64_t last_ts;
	struct kt_map_update *batch; /* updates since the last map head */
	size_t nbatch, capbatch;
	uint64_t updates, heads;
	int map_lost; /* the replay cannot follow the log's map any more */
	/* first violation */
	const char *rule;
	const char *why;
	uint64_t a, b; /* leaves for the evidence; b == KT_NO_PREV: a alone */
	uint64_t violations;
};

static void
violate(struct audit *au, const char *rule, const char *why, uint64_t a,
    uint64_t b)
{
	if (au->violations++ > 0)
		return;
	au->rule = rule;
	au->why = why;
	au->a = a;
	au->b = b;
}

static enum kt_verify_outcome
add_update(struct audit *au, const struct kt_vleaf *l, struct kt_vresult *r)
{
	struct kt_map_update *u;

	if (au->nbatch == au->capbatch) {
		size_t cap = au->capbatch ? au->capbatch * 2 : 1024;
		struct kt_map_update *nb =
		    realloc(au->batch, cap * sizeof(*nb));
		if (nb == NULL)
			return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		au->batch = nb;
		au->capbatch = cap;
	}
	u = &au->batch[au->nbatch++];
	u->index = l->u.index;
	u->version = l->u.version;
	u->prev_index = l->u.prev_index;
	u->log_index = l->index;
	u->leaf_hash = l->leaf_hash;
	au->updates++;
	return KT_VERIFY_OK;
}

/* A map head: the batch before it applied to the map, and its fields. */
static enum kt_verify_outcome
check_head(struct audit *au, const struct kt_vleaf *l, struct kt_vresult *r)
{
	const struct kt_map_head *h = &l->h;
	struct kt_map_reader rd = { mread, &au->st, 0 };
	struct kt_map_writer wr = { mwrite, &au->st };
	struct kt_map_result res;
	kt_err e;

	au->heads++;
	if (h->log_size != l->index)
		violate(au, "log-size",
		    "a map head's log_size is not its leaf "
		    "index",
		    l->index, KT_NO_PREV);
	if (h->prev_head != au->last_head)
		violate(au, "head-link",
		    "a map head does not link to the map "
		    "head before it",
		    l->index, au->last_head);
	if (au->last_head != KT_NO_PREV && h->timestamp_ms < au->last_ts)
		violate(au, "timestamp", "map head times run backwards",
		    au->last_head, l->index);
	memset(&res, 0, sizeof(res));
	e = kt_map_apply(&rd, &au->root, au->batch, au->nbatch, &wr, &res);
	if (e == KT_ERR_NOMEM)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (e != KT_OK) {
		violate(au, "map-rules",
		    res.why != NULL ? res.why
		                    : "the batch breaks the map's "
		                      "rules",
		    l->index, KT_NO_PREV);
	} else if (!kt_hash_eq(&res.root, &h->root)) {
		violate(au, "map-root",
		    "a map head's root is not the map its "
		    "batch makes",
		    l->index, KT_NO_PREV);
	} else if (h->label_count != au->label_count + res.inserted) {
		violate(au, "label-count",
		    "a map head's label_count is not "
		    "the number of labels in its map",
		    l->index, KT_NO_PREV);
	}
	/* A root the replay cannot reach ends the map check (its nodes are
	 * not in the store), not the tree check. */
	au->map_lost = e != KT_OK || !kt_hash_eq(&res.root, &h->root);
	au->root = res.root;
	au->label_count = h->label_count;
	au->last_head = l->index;
	au->last_ts = h->timestamp_ms;
	au->nbatch = 0;
	return KT_VERIFY_OK;
}

static enum kt_verify_outcome
audit_leaf(void *ctx, const struct kt_vleaf *l, struct kt_vresult *r)
{
	struct audit *au = ctx;

	if (l->kind == KT_LEAF_UPDATE)
		return add_update(au, l, r);
	if (au->map_lost)
		return KT_VERIFY_OK; /* tree only from here */
	return check_head(au, l, r);
}

/* The first violation as evidence: the leaves it names, proven into sc. */
static enum kt_verify_outcome
report(struct kt_verify *v, struct audit *au,
    const struct kt_signed_checkpoint *sc, struct kt_vresult *r)
{
	struct kt_vleaf *l = malloc(sizeof(*l));
	json_t *ents = json_array();
	uint64_t idx[2] = { au->a, au->b };
	int n = au->b == KT_NO_PREV ? 1 : 2, provable;

	if (l == NULL || ents == NULL) {
		free(l);
		json_decref(ents);
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	}
	for (int i = 0; i < n; i++)
		if (kt_vlog_leaf(v, idx[i], &sc->cp, l, NULL) == KT_VERIFY_OK)
			json_array_append_new(ents, kt_vleaf_json(l));
	free(l);
	/* Rules a third party checks from these leaves alone; a map root or
	 * rule needs the batch and the map (left to a compact map-evidence
	 * format). */
	provable = (int)json_array_size(ents) == n &&
	    (strcmp(au->rule, "log-size") == 0 ||
	        strcmp(au->rule, "timestamp") == 0 ||
	        strcmp(au->rule, "head-link") == 0);
	kt_vres(r, KT_VERIFY_ATTACK,
	    "ATTACK: the log breaks rule \"%s\" at leaf %" PRIu64
	    ": %s (%" PRIu64 " violation(s) in %" PRIu64 " leaves)",
	    au->rule, au->a, au->why, au->violations, sc->cp.size);
	return kt_evidence_bad_entries(v, au->rule, sc, ents, provable, r);
}

enum kt_verify_outcome
kt_verify_audit(struct kt_verify *v, struct kt_vresult *r)
{
	struct audit au;
	struct kt_frontier *f = NULL;
	struct kt_signed_checkpoint sc;
	const struct kt_checkpoint *cp = &sc.cp;
	struct kt_buf note = { 0 };
	struct kt_hash root;
	struct timespec t0, t1;
	double secs;
	enum kt_verify_outcome st;

	memset(&au, 0, sizeof(au));
	au.last_head = KT_NO_PREV;
	kt_map_empty_root(&au.root);
	if ((st = kt_verify_need_config(v, r)) != 0)
		return st;
	if ((f = malloc(sizeof(*f))) == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	kt_frontier_init(f);
	if ((st = kt_vaccept_fetch(v, &note, &sc, r)) != KT_VERIFY_OK)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((st = kt_vlog_scan(v, 0, cp->size, f, audit_leaf, &au, r)) !=
	    KT_VERIFY_OK)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	kt_frontier_root(f, &root);
	json_object_set_new(r->info, "entries",
	    json_integer((json_int_t)cp->size));
	json_object_set_new(r->info, "updates",
	    json_integer((json_int_t)au.updates));
	json_object_set_new(r->info, "map_heads",
	    json_integer((json_int_t)au.heads));
	json_object_set_new(r->info, "labels",
	    json_integer((json_int_t)au.label_count));
	json_object_set_new(r->info, "map_nodes",
	    json_integer((json_int_t)au.st.len));
	json_object_set_new(r->info, "seconds", json_real(secs));
	if (!kt_hash_eq(&root, &cp->root)) {
		st = kt_vres(r, KT_VERIFY_FAILED,
		    "the entries the log served do not hash to its signed "
		    "root of size %" PRIu64 ": it is hiding, adding or "
		    "altering entries",
		    cp->size);
		goto out;
	}
	if (kt_vmaterial_save(v->dir, &sc, f) != KT_OK)
		json_object_set_new(r->info, "material_saved", json_false());
	if (au.violations == 0 &&
	    (au.nbatch > 0 || au.last_head != cp->size - 1))
		violate(&au, "checkpoint-at-head",
		    "the signed checkpoint's last leaf is not a map head",
		    cp->size - 1, KT_NO_PREV);
	if (au.violations > 0) {
		st = report(v, &au, &sc, r);
		goto out;
	}
	st = kt_vres(r, KT_VERIFY_OK,
	    "audit: %" PRIu64 " entries replayed in %.2f s (%.0f/s); tree "
	    "equals the signed root; %" PRIu64 " map heads each equal the map "
	    "their batch makes (%" PRIu64 " updates, %" PRIu64 " labels), "
	    "links, counts and times in order",
	    cp->size, secs, secs > 0 ? (double)cp->size / secs : 0.0, au.heads,
	    au.updates, au.label_count);
out:
	free(au.st.t);
	free(au.batch);
	free(f);
	kt_buf_free(&note);
	return kt_vquorum_stale(v, r, st);
}
