/*
 * monitor.c: reading entries page by page (shared with audit) and the key
 * owner's `monitor LABEL` check.
 *
 * The monitor keeps, per label, a cursor: the signed checkpoint it last
 * checked cleanly and the compact frontier of that tree (one hash per set
 * bit of its size). It reads every entry after the cursor, extends the
 * frontier and requires the result to equal the newly verified signed
 * root: the log cannot leave an entry out, add one or alter one without
 * the root changing. The frontier also lets this client prove a fork later
 * (evidence_write.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kt/fmt.h"
#include "verify_internal.h"

#define MAX_GHOST_EVIDENCE 16

/* ---- cursor (de)serialisation --------------------------------------------- */

/* Restores a cursor: its checkpoint must verify and its frontier fold to
 * that checkpoint's root, else the state file is corrupt. */
static enum kt_verify_outcome
load_cursor(struct kt_verify *v, const json_t *rec, struct kt_frontier *f,
    struct kt_vresult *r)
{
	json_t *jn = json_object_get(rec, "checkpoint");
	struct kt_signed_checkpoint sc;
	struct kt_hash root;
	char d[256];

	kt_frontier_init(f);
	if (jn == NULL || json_is_null(jn))
		return KT_VERIFY_OK; /* never ran: start at 0 */
	if (json_is_string(jn) &&
	    kt_vcheck_checkpoint(json_string_value(jn), json_string_length(jn),
	        &v->vk, &sc, d, sizeof(d)) == KT_OK &&
	    kt_vparse_frontier(json_object_get(rec, "frontier"), sc.cp.size, f,
	        d, sizeof(d)) == KT_OK) {
		kt_frontier_root(f, &root);
		if (kt_hash_eq(&root, &sc.cp.root))
			return KT_VERIFY_OK;
	}
	return kt_vres(r, KT_VERIFY_ERROR,
	    "state file %s/%s is corrupt (bad "
	    "monitoring cursor); refusing to continue",
	    v->dir, KT_VSTATE_MONITOR);
}

/* ---- proving a ghost without the server's help ------------------------------ */

/*
 * If the log will not give an inclusion proof for a ghost entry, build it
 * here: every left sibling on the path of a leaf at or after the cursor is
 * either one of the cursor frontier's subtrees or made of leaves after the
 * cursor (which a second read provides), so the proof needs nothing the
 * log can withhold once it has served the entries.
 */
#define LOCAL_MAX_LEAVES (UINT64_C(1) << 23) /* 256 MiB of leaf hashes */

struct local {
	uint64_t c;             /* the cursor: first leaf kept */
	struct kt_frontier f0;  /* the cursor's frontier */
	struct kt_hash *leaves; /* leaves [c, c + n) */
	uint64_t n;
	const uint64_t *want; /* ghost indices whose bytes to keep */
	size_t nwant;
	struct kt_vleaf *got;
};

static enum kt_verify_outcome
local_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len,
    const struct kt_entry *e, struct kt_vresult *r)
{
	struct local *lo = ctx;

	(void)e;
	(void)r;
	kt_hash_leaf(entry, len, &lo->leaves[index - lo->c]);
	for (size_t i = 0; i < lo->nwant; i++)
		if (lo->want[i] == index) {
			memcpy(lo->got[i].entry, entry, len);
			lo->got[i].entry_len = len;
		}
	return KT_VERIFY_OK;
}

static kt_err
local_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	struct local *lo = ctx;
	struct kt_hash l, rt;
	uint64_t a, b;

	if (level >= 63)
		return KT_ERR_RANGE;
	a = index << level;
	b = a + (UINT64_C(1) << level);
	if (b <= lo->c) {
		if ((lo->c >> level & 1) &&
		    a == (lo->c & ~((UINT64_C(2) << level) - 1))) {
			*out = lo->f0.h[level];
			return KT_OK;
		}
		return KT_ERR_RANGE; /* inside a frontier subtree: unknown */
	}
	if (level == 0) {
		if (a - lo->c >= lo->n)
			return KT_ERR_RANGE;
		*out = lo->leaves[a - lo->c];
		return KT_OK;
	}
	if (local_node(ctx, level - 1, 2 * index, &l) != KT_OK ||
	    local_node(ctx, level - 1, 2 * index + 1, &rt) != KT_OK)
		return KT_ERR_RANGE;
	kt_hash_node(&l, &rt, out);
	return KT_OK;
}

/* Fills got[i] (entry, decoded, leaf hash, proof to cp) for want[i]; a
 * leaf it cannot prove keeps entry_len 0. */
static void
local_proofs(struct kt_verify *v, const struct kt_frontier *f0,
    const struct kt_checkpoint *cp, const uint64_t *want, size_t nwant,
    struct kt_vleaf *got)
{
	struct local lo;
	struct kt_frontier *f = malloc(sizeof(*f));
	char d[256];

	memset(&lo, 0, sizeof(lo));
	lo.c = f0->size;
	lo.f0 = *f0;
	lo.n = cp->size - f0->size;
	lo.want = want;
	lo.nwant = nwant;
	lo.got = got;
	for (size_t i = 0; i < nwant; i++)
		got[i].entry_len = 0;
	if (f == NULL || lo.n > LOCAL_MAX_LEAVES ||
	    (lo.leaves = malloc(lo.n * sizeof(*lo.leaves))) == NULL)
		goto out;
	*f = *f0;
	if (kt_vlog_scan(v, lo.c, cp->size, f, local_entry, &lo, NULL) !=
	    KT_VERIFY_OK) {
		for (size_t i = 0; i < nwant; i++)
			got[i].entry_len = 0;
		goto out;
	}
	for (size_t i = 0; i < nwant; i++) {
		struct kt_vleaf *l = &got[i];
		if (l->entry_len == 0 ||
		    kt_entry_decode(l->entry, l->entry_len, &l->e) != KT_OK ||
		    kt_merkle_inclusion_proof(local_node, &lo, want[i],
		        cp->size, &l->proof.proof) != KT_OK) {
			l->entry_len = 0;
			continue;
		}
		l->index = want[i];
		l->version = l->e.version;
		l->proof.index = want[i];
		l->proof.size = cp->size;
		kt_hash_leaf(l->entry, l->entry_len, &l->leaf_hash);
		if (kt_vcheck_inclusion(l, cp, d, sizeof(d)) != KT_OK)
			l->entry_len = 0; /* the served entries changed */
	}
out:
	free(lo.leaves);
	free(f);
}

/* ---- monitor ---------------------------------------------------------------- */

struct mon {
	const char *label;
	size_t label_len;
	uint8_t (*keys)[KT_KEY_MAX];
	size_t *key_lens;
	size_t nkeys;
	json_t *seen; /* versions of the label seen */
	uint64_t ghosts[MAX_GHOST_EVIDENCE];
	size_t nghosts; /* may exceed MAX_GHOST_EVIDENCE */
	/* the pass: from the cursor's frontier f0 to the checkpoint sc */
	struct kt_frontier f0;
	struct kt_frontier *f; /* f0 extended with every new entry */
	struct kt_buf note;
	struct kt_signed_checkpoint sc; /* borrows note */
	double secs; /* reading and hashing the new entries */
};

static enum kt_verify_outcome
mon_entry(void *ctx, uint64_t index, const uint8_t *entry, size_t len,
    const struct kt_entry *e, struct kt_vresult *r)
{
	struct mon *m = ctx;
	int expected = 0;
	char fp[48];
	const char *shown = "(revocation)";

	(void)entry;
	(void)len;
	(void)r;
	if (e->label_len != m->label_len ||
	    memcmp(e->label, m->label, m->label_len) != 0)
		return KT_VERIFY_OK;
	if (e->type == KT_ENTRY_KEY) {
		for (size_t i = 0; i < m->nkeys && !expected; i++)
			expected = m->key_lens[i] == e->key_len &&
			    memcmp(m->keys[i], e->key, e->key_len) == 0;
		kt_key_fingerprint(e->key, e->key_len, fp);
		shown = fp;
	} else {
		expected = 1; /* revocations are reported, not alarmed on */
	}
	json_array_append_new(m->seen,
	    json_pack("{s:I,s:I,s:s,s:b}", "version", (json_int_t)e->version,
	        "index", (json_int_t)index, "fingerprint", shown, "expected",
	        expected));
	if (!expected) {
		if (m->nghosts < MAX_GHOST_EVIDENCE)
			m->ghosts[m->nghosts] = index;
		m->nghosts++;
	}
	return KT_VERIFY_OK;
}

static json_t *
keys_json(const struct mon *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->nkeys; i++)
		json_array_append_new(a,
		    kt_vb64_json(m->keys[i], m->key_lens[i]));
	return a;
}

/* label's record in monitor.json (an object), made when missing. */
static json_t *
monitor_record(json_t *mon, const char *label)
{
	json_t *labels = json_object_get(mon, "labels"), *rec;

	if (labels == NULL) {
		labels = json_object();
		json_object_set_new(mon, "labels", labels);
	}
	rec = json_object_get(labels, label);
	if (rec == NULL) {
		rec = json_object();
		json_object_set_new(labels, label, rec);
	}
	return rec;
}

/* The owner's statement of the keys they published: from the command
 * line (and then remembered), else as remembered in rec. */
static enum kt_verify_outcome
load_expected(struct kt_verify *v, struct mon *m, const json_t *rec,
    const struct kt_vkey *expect, size_t nexpect, struct kt_vresult *r)
{
	json_t *jx = json_object_get(rec, "expected");

	m->nkeys = nexpect > 0 ? nexpect : json_array_size(jx);
	if (m->nkeys == 0)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "no expected keys for %s: "
		    "give --expect-b64 KEY or --expect FILE",
		    m->label);
	m->keys = malloc(m->nkeys * sizeof(*m->keys));
	m->key_lens = calloc(m->nkeys, sizeof(*m->key_lens));
	if (m->keys == NULL || m->key_lens == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	for (size_t i = 0; i < m->nkeys; i++) {
		json_t *j = json_array_get(jx, i);

		if (nexpect == 0) {
			if (!json_is_string(j) ||
			    kt_b64_decode(json_string_value(j),
			        json_string_length(j), m->keys[i], KT_KEY_MAX,
			        &m->key_lens[i]) != KT_OK)
				return kt_vres(r, KT_VERIFY_ERROR,
				    "state file "
				    "%s/%s is corrupt (expected keys)",
				    v->dir, KT_VSTATE_MONITOR);
			continue;
		}
		if (expect[i].len == 0 || expect[i].len > KT_KEY_MAX)
			return kt_vres(r, KT_VERIFY_ERROR,
			    "expected key %zu "
			    "has a bad length",
			    i + 1);
		memcpy(m->keys[i], expect[i].key, expect[i].len);
		m->key_lens[i] = expect[i].len;
	}
	return KT_VERIFY_OK;
}

/*
 * The log's checkpoint (accepted as any checkpoint is), then every entry
 * after the cursor read into m->f: the result must be the signed root.
 * The tree's material is saved whatever the entries show.
 */
static enum kt_verify_outcome
check_new(struct kt_verify *v, struct mon *m, struct kt_vresult *r)
{
	const struct kt_checkpoint *cp = &m->sc.cp;
	uint64_t from = m->f0.size;
	struct timespec t0, t1;
	struct kt_hash root;
	enum kt_verify_outcome st;

	if ((st = kt_vaccept_fetch(v, &m->note, &m->sc, r)) != KT_VERIFY_OK)
		return st;
	if (cp->size < from)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "checkpoint size %" PRIu64
		    " is below the monitoring cursor %" PRIu64,
		    cp->size, from);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((st = kt_vlog_scan(v, from, cp->size, m->f, mon_entry, m, r)) !=
	    KT_VERIFY_OK)
		return st;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	m->secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	kt_frontier_root(m->f, &root);
	json_object_set_new(r->info, "label", json_string(m->label));
	json_object_set_new(r->info, "from", json_integer((json_int_t)from));
	json_object_set_new(r->info, "to", json_integer((json_int_t)cp->size));
	json_object_set_new(r->info, "seconds", json_real(m->secs));
	json_object_set_new(r->info, "versions", json_incref(m->seen));
	if (!kt_hash_eq(&root, &cp->root))
		return kt_vres(r, KT_VERIFY_FAILED,
		    "the entries the log served "
		    "for [%" PRIu64 ", %" PRIu64 ") do not hash to its signed "
		    "root: it is hiding, adding or altering entries",
		    from, cp->size);
	if (kt_vmaterial_save(v->dir, &m->sc, m->f) != KT_OK)
		json_object_set_new(r->info, "material_saved", json_false());
	return KT_VERIFY_OK;
}

/*
 * Ghost i's entry with its inclusion proof to the checkpoint, into l: from
 * the log, else built here (local_proofs, once for every ghost, into
 * *local). KT_VERIFY_OK when l holds it.
 */
static enum kt_verify_outcome
prove_ghost(struct kt_verify *v, const struct mon *m, size_t i,
    struct kt_vleaf *l, struct kt_vleaf **local)
{
	size_t nev =
	    m->nghosts < MAX_GHOST_EVIDENCE ? m->nghosts : MAX_GHOST_EVIDENCE;

	if (kt_vlog_leaf(v, m->ghosts[i], &m->sc.cp, l, NULL) == KT_VERIFY_OK)
		return KT_VERIFY_OK;
	if (*local == NULL && (*local = calloc(nev, sizeof(**local))) != NULL)
		local_proofs(v, &m->f0, &m->sc.cp, m->ghosts, nev, *local);
	if (*local == NULL || (*local)[i].entry_len == 0)
		return KT_VERIFY_FAILED;
	*l = (*local)[i];
	l->e.label = NULL; /* pointed into local[i]: decoded again */
	return kt_entry_decode(l->entry, l->entry_len, &l->e) == KT_OK
	    ? KT_VERIFY_OK
	    : KT_VERIFY_FAILED;
}

/* One ghost-key evidence file per unexpected key (at most
 * MAX_GHOST_EVIDENCE); the cursor stays. */
static enum kt_verify_outcome
report_ghosts(struct kt_verify *v, const struct mon *m, struct kt_vresult *r)
{
	size_t nev =
	    m->nghosts < MAX_GHOST_EVIDENCE ? m->nghosts : MAX_GHOST_EVIDENCE;
	struct kt_vleaf *l = malloc(sizeof(*l)), *local = NULL;
	json_t *files = json_array(), *keys = keys_json(m);
	char first[KT_VERIFY_PATH_MAX] = "";
	enum kt_verify_outcome st = KT_VERIFY_ATTACK;

	kt_vres(r, KT_VERIFY_ATTACK,
	    "ATTACK: %zu version(s) of %s carry a "
	    "key its owner did not publish",
	    m->nghosts, m->label);
	for (size_t i = 0; l != NULL && i < nev; i++) {
		int proven = prove_ghost(v, m, i, l, &local) == KT_VERIFY_OK;

		st = kt_evidence_ghost(v, m->label, keys, &m->sc,
		    proven ? l : NULL, m->ghosts[i], r);
		if (st != KT_VERIFY_ATTACK)
			break;
		json_array_append_new(files, json_string(r->evidence));
		/* first is as large as r->evidence: cannot fail */
		if (first[0] == '\0' &&
		    kt_fmt(first, sizeof(first), "%s", r->evidence) != KT_OK) {
			st = kt_vres(r, KT_VERIFY_ERROR,
			    "internal: evidence "
			    "path too long");
			break;
		}
	}
	free(l);
	free(local);
	json_decref(keys);
	json_object_set_new(r->info, "evidence_files", files);
	/* The first file is the one named as the evidence. */
	if (first[0] != '\0' &&
	    kt_fmt(r->evidence, sizeof(r->evidence), "%s", first) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "internal: evidence path "
		    "too long");
	if (st != KT_VERIFY_ATTACK)
		return st;
	return kt_vres(r, KT_VERIFY_ATTACK,
	    "ATTACK: %zu version(s) of %s "
	    "carry a key its owner did not publish (first at index %" PRIu64
	    "); cursor not advanced",
	    m->nghosts, m->label, m->ghosts[0]);
}

/* A clean pass: only now does the cursor move. */
static enum kt_verify_outcome
advance_cursor(struct kt_verify *v, const struct mon *m, const json_t *mon,
    json_t *rec, struct kt_vresult *r)
{
	uint64_t from = m->f0.size, to = m->sc.cp.size;
	char d[512];

	json_object_set_new(rec, "checkpoint",
	    json_stringn(m->sc.note, m->sc.note_len));
	json_object_set_new(rec, "frontier", kt_vfrontier_json(m->f));
	json_object_set_new(rec, "expected", keys_json(m));
	if (kt_vstate_save_json(v->dir, KT_VSTATE_MONITOR, mon, d, sizeof(d)) !=
	    KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	return kt_vres(r, KT_VERIFY_OK,
	    "%s: checked entries %" PRIu64 "..%" PRIu64
	    " against the signed root (%.0f entries/s); %zu version(s) "
	    "of the label seen, every key expected",
	    m->label, from, to,
	    m->secs > 0 ? (double)(to - from) / m->secs : 0.0,
	    json_array_size(m->seen));
}

enum kt_verify_outcome
kt_verify_monitor(struct kt_verify *v, const char *typed,
    const struct kt_vkey *expect, size_t nexpect, struct kt_vresult *r)
{
	json_t *mon = NULL, *rec;
	struct mon m;
	char d[512], label[KT_CANON_MAX + 1];
	enum kt_verify_outcome st;

	memset(&m, 0, sizeof(m));
	if ((st = kt_verify_need_config(v, r)) != KT_VERIFY_OK)
		return st;
	if (kt_vcheck_label(typed, label, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	if (kt_vstate_load_json(v->dir, KT_VSTATE_MONITOR, &mon, d,
	        sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	rec = monitor_record(mon, label);
	m.label = label;
	m.label_len = strlen(label);
	m.f = malloc(sizeof(*m.f));
	m.seen = json_array();
	if (m.f == NULL || m.seen == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	if ((st = load_expected(v, &m, rec, expect, nexpect, r)) !=
	        KT_VERIFY_OK ||
	    (st = load_cursor(v, rec, m.f, r)) != KT_VERIFY_OK)
		goto out;
	m.f0 = *m.f;
	if ((st = check_new(v, &m, r)) != KT_VERIFY_OK)
		goto out;
	if (m.nghosts > 0)
		st = report_ghosts(v, &m, r);
	else
		st = advance_cursor(v, &m, mon, rec, r);
out:
	json_decref(m.seen);
	json_decref(mon);
	free(m.keys);
	free(m.key_lens);
	free(m.f);
	kt_buf_free(&m.note);
	return kt_vquorum_stale(v, r, st);
}
