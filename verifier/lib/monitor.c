/*
 * monitor.c: the key owner's `monitor LABEL` check, in O(log n) bytes when
 * nothing changed (map.md, "Owner monitoring").
 *
 * The monitor keeps, per label, its map index (VRF(label), verified once),
 * the newest version it checked, that version's update leaf index and the
 * chain over every update up to it. Each run accepts the log's checkpoint
 * (as any command does) and fetches the index's map path at that
 * checkpoint (GET /v1/map/<hex index>): the map head, proven to be the
 * checkpoint's last leaf, and the path from its root to the index. When
 * the map shows the version and chain kept, nothing changed: done. When it
 * shows more, the history from the next version is walked (history.c:
 * inclusion, chain link by link, commitments opened) and each key compared
 * with the owner's list in order; the walk must arrive exactly at the
 * map's version, update and chain, so no version can be hidden from the
 * owner while the map, which lookups are proven against, shows it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "verify_internal.h"

#define MAX_GHOST_EVIDENCE 16

/* The state of one label's monitoring, as kept in monitor.json. */
struct cursor {
	int have_index;
	struct kt_hash index;
	uint64_t version; /* 0: nothing checked yet */
	uint64_t update_index;
	struct kt_hash chain;
	uint64_t pos; /* expected keys used so far (the next may not be
	                 earlier in the list: a retired key stays retired) */
};

struct mon {
	const char *label;
	uint8_t (*keys)[KT_KEY_MAX];
	size_t *key_lens;
	size_t nkeys;
	json_t *expected; /* keys as JSON, for the state and evidence */
	json_t *seen;     /* versions checked in this run */
	struct cursor c;  /* as loaded */
	/* the map at the accepted checkpoint */
	struct kt_buf note;
	struct kt_signed_checkpoint sc; /* borrows note */
	int present;
	struct kt_map_leaf ml;
	struct kt_vleaf *head;   /* the map head, proven into sc */
	struct kt_map_proof *mp; /* the index's path in head's map */
	/* the walk */
	uint64_t pos;
	size_t nghosts;
	json_t *files;
	enum kt_verify_outcome ev_st; /* KT_VERIFY_ERROR if a file failed */
};

/* ---- state ------------------------------------------------------------------ */

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

static enum kt_verify_outcome
load_cursor(struct kt_verify *v, const json_t *rec, struct cursor *c,
    struct kt_vresult *r)
{
	memset(c, 0, sizeof(*c));
	if (json_object_get(rec, "index") == NULL)
		return KT_VERIFY_OK;
	if (kt_vparse_hash(json_object_get(rec, "index"), &c->index) != KT_OK ||
	    kt_vparse_u64(rec, "version", &c->version) != KT_OK ||
	    kt_vparse_u64(rec, "pos", &c->pos) != KT_OK ||
	    (c->version > 0 &&
	        (kt_vparse_u64(rec, "update_index", &c->update_index) !=
	                KT_OK ||
	            kt_vparse_hash(json_object_get(rec, "chain"), &c->chain) !=
	                KT_OK)))
		return kt_vres(r, KT_VERIFY_ERROR,
		    "state file %s/%s is corrupt (bad monitoring cursor); "
		    "refusing to continue",
		    v->dir, KT_VSTATE_MONITOR);
	c->have_index = 1;
	return KT_VERIFY_OK;
}

/* The owner's statement of the keys they published, in order: from the
 * command line (and then remembered), else as remembered in rec. */
static enum kt_verify_outcome
load_expected(struct kt_verify *v, struct mon *m, const json_t *rec,
    const struct kt_vkey *expect, size_t nexpect, struct kt_vresult *r)
{
	json_t *jx = json_object_get(rec, "expected");

	m->nkeys = nexpect > 0 ? nexpect : json_array_size(jx);
	if (m->nkeys == 0)
		return kt_vres(r, KT_VERIFY_ERROR,
		    "no expected keys for %s: give --expect-b64 KEY or "
		    "--expect FILE",
		    m->label);
	m->keys = malloc(m->nkeys * sizeof(*m->keys));
	m->key_lens = calloc(m->nkeys, sizeof(*m->key_lens));
	m->expected = json_array();
	if (m->keys == NULL || m->key_lens == NULL || m->expected == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	for (size_t i = 0; i < m->nkeys; i++) {
		json_t *j = json_array_get(jx, i);

		if (nexpect == 0) {
			if (!json_is_string(j) ||
			    kt_b64_decode(json_string_value(j),
			        json_string_length(j), m->keys[i], KT_KEY_MAX,
			        &m->key_lens[i]) != KT_OK)
				return kt_vres(r, KT_VERIFY_ERROR,
				    "state file %s/%s is corrupt (expected "
				    "keys)",
				    v->dir, KT_VSTATE_MONITOR);
		} else {
			if (expect[i].len == 0 || expect[i].len > KT_KEY_MAX)
				return kt_vres(r, KT_VERIFY_ERROR,
				    "expected key %zu has a bad length", i + 1);
			memcpy(m->keys[i], expect[i].key, expect[i].len);
			m->key_lens[i] = expect[i].len;
		}
		json_array_append_new(m->expected,
		    kt_vb64_json(m->keys[i], m->key_lens[i]));
	}
	return KT_VERIFY_OK;
}

/* ---- the map index and path -------------------------------------------------- */

/* VRF(label), from the VRF proof of a lookup answer at the accepted size,
 * verified under the pinned key: the label's index for its lifetime. */
static enum kt_verify_outcome
find_index(struct kt_verify *v, struct mon *m, struct kt_vresult *r)
{
	struct kt_buf body = { 0 };
	struct kt_vlookup *lk = malloc(sizeof(*lk));
	char esc[KT_LABEL_MAX * 3 + 1], path[KT_LABEL_MAX * 3 + 64], d[512];
	uint8_t beta[KT_VRF_OUTPUT_LEN];
	long status;
	enum kt_verify_outcome st;

	if (lk == NULL)
		return kt_vres(r, KT_VERIFY_ERROR, "out of memory");
	if (kt_fetch_escape(m->label, strlen(m->label), esc, sizeof(esc)) !=
	        KT_OK ||
	    kt_fmt(path, sizeof(path), "/v1/keys/%s?checkpoint_size=%" PRIu64,
	        esc, m->sc.cp.size) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "label too long");
		goto out;
	}
	if ((st = kt_vlog_get(v, path, KT_CAP_LOOKUP, &body, &status,
	         "map index: ", r)) != KT_VERIFY_OK)
		goto out;
	st = KT_VERIFY_FAILED;
	if (status != 200 && status != 404)
		kt_vres(r, KT_VERIFY_ERROR, "GET %s%s: HTTP %ld", v->url, path,
		    status);
	else if (kt_vparse_lookup(body.p, body.len, status, m->label, lk, d,
	             sizeof(d)) != KT_OK)
		kt_vres(r, st, "map index: %s", d);
	else if (kt_vrf_verify(v->vrf_pk, (const uint8_t *)m->label,
	             strlen(m->label), lk->p.vrf_proof, beta) != KT_OK)
		kt_vres(r, st,
		    "the VRF proof of \"%s\" does not verify under the pinned "
		    "VRF key",
		    m->label);
	else
		st = KT_VERIFY_OK;
	if (st == KT_VERIFY_OK) {
		memcpy(m->c.index.b, beta, KT_HASH_LEN);
		m->c.have_index = 1;
	}
out:
	kt_buf_free(&body);
	free(lk);
	return st;
}

/* The "head" of a map answer: the map head leaf, proven to be the last
 * leaf of the accepted checkpoint. */
static enum kt_verify_outcome
check_head(const struct mon *m, const json_t *jh, struct kt_vleaf *l,
    struct kt_vresult *r)
{
	const struct kt_checkpoint *cp = &m->sc.cp;
	char d[512];

	if (kt_vparse_leaf(jh, 1, l, d, sizeof(d)) != KT_OK ||
	    kt_vcheck_inclusion(l, cp, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_FAILED, "map path: head: %s", d);
	if (l->kind != KT_LEAF_MAP_HEAD || l->index != cp->size - 1 ||
	    l->h.log_size != l->index)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "map path: the head is not a map head at the checkpoint's "
		    "last leaf (%" PRIu64 ")",
		    cp->size - 1);
	return KT_VERIFY_OK;
}

/* GET /v1/map/<index>?checkpoint_size=S, verified: m->present, m->ml,
 * m->head and m->mp (kept for evidence and the cursor). */
static enum kt_verify_outcome
map_path(struct kt_verify *v, struct mon *m, struct kt_vresult *r)
{
	static const char hex[] = "0123456789abcdef";
	struct kt_buf body = { 0 };
	struct kt_vleaf *l = m->head = malloc(sizeof(*l));
	struct kt_map_proof *p = m->mp = malloc(sizeof(*p));
	uint8_t *buf = malloc(KT_MAP_PROOF_MAX);
	char path[2 * KT_HASH_LEN + 64], hx[2 * KT_HASH_LEN + 1], d[512];
	json_t *o = NULL, *jp;
	struct kt_hash idx;
	uint64_t size;
	size_t n;
	long status;
	enum kt_verify_outcome st;

	if (l == NULL || p == NULL || buf == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < KT_HASH_LEN; i++) {
		hx[2 * i] = hex[m->c.index.b[i] >> 4];
		hx[2 * i + 1] = hex[m->c.index.b[i] & 15];
	}
	hx[2 * KT_HASH_LEN] = '\0';
	if (kt_fmt(path, sizeof(path), "/v1/map/%s?checkpoint_size=%" PRIu64,
	        hx, m->sc.cp.size) != KT_OK) {
		st = kt_vres(r, KT_VERIFY_ERROR, "internal: path too long");
		goto out;
	}
	if ((st = kt_vlog_get(v, path, KT_CAP_MAP, &body, &status,
	         "map path: ", r)) != KT_VERIFY_OK)
		goto out;
	if (status != 200) {
		st = kt_vres(r, KT_VERIFY_ERROR, "GET %s%s: HTTP %ld", v->url,
		    path, status);
		goto out;
	}
	st = KT_VERIFY_FAILED;
	if (kt_vparse_object(body.p, body.len, &o, d, sizeof(d)) != KT_OK) {
		kt_vres(r, st, "map path: %s", d);
		goto out;
	}
	jp = json_object_get(o, "map_proof");
	if (kt_vparse_b64n(o, "map_index", idx.b, KT_HASH_LEN) != KT_OK ||
	    !kt_hash_eq(&idx, &m->c.index) ||
	    kt_vparse_u64(o, "checkpoint_size", &size) != KT_OK ||
	    size != m->sc.cp.size) {
		kt_vres(r, st,
		    "map path: not for this label's index at tree size "
		    "%" PRIu64,
		    m->sc.cp.size);
		goto out;
	}
	if ((st = check_head(m, json_object_get(o, "head"), l, r)) !=
	    KT_VERIFY_OK)
		goto out;
	st = KT_VERIFY_FAILED;
	if (!json_is_string(jp) ||
	    kt_b64_decode(json_string_value(jp), json_string_length(jp), buf,
	        KT_MAP_PROOF_MAX, &n) != KT_OK ||
	    kt_map_proof_decode(buf, n, p) != KT_OK ||
	    kt_map_verify(&l->h.root, &m->c.index, p, &m->present) != KT_OK) {
		kt_vres(r, st,
		    "map path: the path does not verify against the root of "
		    "map head %" PRIu64,
		    l->index);
		goto out;
	}
	if (m->present)
		m->ml = p->leaf;
	st = KT_VERIFY_OK;
out:
	json_decref(o);
	kt_buf_free(&body);
	free(buf);
	return st;
}

/* ---- the new versions -------------------------------------------------------- */

/* A version whose key is not the owner's next: evidence, at most
 * MAX_GHOST_EVIDENCE files. */
static void
ghost(struct kt_verify *v, struct mon *m, const struct kt_vversion *ver,
    struct kt_vresult *r)
{
	if (m->nghosts++ >= MAX_GHOST_EVIDENCE || m->ev_st != KT_VERIFY_ATTACK)
		return;
	m->ev_st = kt_evidence_ghost(v, m->label, m->expected, ver->sc, ver->l,
	    ver->opening, &ver->val, r);
	if (m->ev_st == KT_VERIFY_ATTACK)
		json_array_append_new(m->files, json_string(r->evidence));
}

struct walkctx {
	struct kt_verify *v;
	struct mon *m;
	int reached;
	struct kt_hash chain_at;
	uint64_t index_at;
};

static enum kt_verify_outcome
version_cb(void *ctx, const struct kt_vversion *ver, struct kt_vresult *r)
{
	struct walkctx *w = ctx;
	struct mon *m = w->m;
	const struct kt_value *val = &ver->val;
	uint64_t vn = ver->l->u.version;
	size_t k;
	int expected = 1;
	char fp[48];
	const char *shown = "(revocation)";

	if (vn > m->ml.version && ver->l->index > m->head->index)
		return KT_VERIFY_OK; /* written since the checkpoint */
	if (vn > m->ml.version)
		/* Logged before the map head, yet not in its map. */
		return kt_evidence_hidden(w->v, m->label, &m->sc, m->head,
		    m->mp, ver->l, ver->sc, r);
	if (vn == m->ml.version) {
		w->reached = 1;
		w->chain_at = ver->chain;
		w->index_at = ver->l->index;
	}
	if (ver->erased)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "version %" PRIu64 " of %s was erased before this client "
		    "checked it: its key cannot be compared",
		    vn, m->label);
	if (val->kind == KT_VALUE_KEY) {
		/* The next expected key at or after the last one used: an
		 * earlier (retired) key coming back is a ghost too. */
		for (k = m->pos > 0 ? m->pos - 1 : 0; k < m->nkeys; k++)
			if (m->key_lens[k] == val->key_len &&
			    memcmp(m->keys[k], val->key, val->key_len) == 0)
				break;
		expected = k < m->nkeys;
		if (expected)
			m->pos = k + 1;
		kt_key_fingerprint(val->key, val->key_len, fp);
		shown = fp;
	}
	json_array_append_new(m->seen,
	    json_pack("{s:I,s:I,s:s,s:b}", "version", (json_int_t)vn, "index",
	        (json_int_t)ver->l->index, "fingerprint", shown, "expected",
	        expected));
	if (!expected)
		ghost(w->v, m, ver, r);
	return KT_VERIFY_OK;
}

/* Versions c.version + 1 .. ml.version from the history, checked. */
static enum kt_verify_outcome
check_new(struct kt_verify *v, struct mon *m, struct kt_vresult *r)
{
	struct walkctx w = { v, m, 0, { { 0 } }, 0 };
	struct kt_hash last;
	uint64_t n;
	enum kt_verify_outcome st;

	m->pos = m->c.pos;
	st = kt_vhistory_walk(v, m->label, m->c.version + 1, &m->c.chain,
	    m->c.update_index, version_cb, &w, &last, &n, r);
	if (st != KT_VERIFY_OK)
		return st;
	if (!w.reached || !kt_hash_eq(&w.chain_at, &m->ml.chain) ||
	    w.index_at != m->ml.update_index)
		return kt_vres(r, KT_VERIFY_FAILED,
		    "the history of %s does not arrive at the map's version "
		    "%" PRIu64 " (update %" PRIu64 ") and chain: the log "
		    "hides or rewrites versions",
		    m->label, m->ml.version, m->ml.update_index);
	return KT_VERIFY_OK;
}

/* ---- monitor ------------------------------------------------------------------ */

/* A clean pass: only now does the cursor move. */
static enum kt_verify_outcome
save_cursor(struct kt_verify *v, struct mon *m, const json_t *mon, json_t *rec,
    struct kt_vresult *r)
{
	char d[512];

	json_object_set_new(rec, "index",
	    kt_vb64_json(m->c.index.b, KT_HASH_LEN));
	json_object_set_new(rec, "version",
	    json_integer((json_int_t)(m->present ? m->ml.version : 0)));
	if (m->present) {
		json_object_set_new(rec, "update_index",
		    json_integer((json_int_t)m->ml.update_index));
		json_object_set_new(rec, "chain",
		    kt_vb64_json(m->ml.chain.b, KT_HASH_LEN));
	}
	json_object_set_new(rec, "pos", json_integer((json_int_t)m->pos));
	json_object_set_new(rec, "checkpoint_size",
	    json_integer((json_int_t)m->sc.cp.size));
	/* The signed state checked, so that a later map showing fewer
	 * versions can be proven a downgrade (evidence_lookup.c). */
	json_object_set_new(rec, "checkpoint",
	    json_stringn(m->sc.note, m->sc.note_len));
	json_object_set_new(rec, "head", kt_vleaf_json(m->head));
	json_object_set_new(rec, "map_proof", kt_vmap_proof_json(m->mp));
	json_object_set_new(rec, "expected", json_incref(m->expected));
	if (kt_vstate_save_json(v->dir, KT_VSTATE_MONITOR, mon, d, sizeof(d)) !=
	    KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	return KT_VERIFY_OK;
}

/*
 * The map contradicts the cursor (why says how): evidence from the signed
 * state the cursor kept and the map just verified, exit 3; else (a cursor
 * kept by an older kt-verify) exit 2 with why.
 */
static enum kt_verify_outcome
downgrade(struct kt_verify *v, struct mon *m, const json_t *rec,
    const char *why, struct kt_vresult *r)
{
	struct kt_vmapstate later = { &m->sc, NULL, m->head, m->mp };
	json_t *jc = json_object_get(rec, "checkpoint");
	json_t *jh = json_object_get(rec, "head");
	json_t *jp = json_object_get(rec, "map_proof");
	json_t *earlier = jc != NULL && jh != NULL && jp != NULL
	    ? json_pack("{s:O,s:O,s:O}", "checkpoint", jc, "head", jh,
	          "map_proof", jp)
	    : NULL;
	enum kt_verify_outcome st = kt_evidence_downgrade(v, m->label,
	    &m->c.index, earlier, kt_vmapstate_json(&later), why, r);

	if (st != KT_VERIFY_FAILED)
		return st;
	return kt_vres(r, st, "%s", why);
}

/*
 * Nothing new in the map: the history past the cursor's version must be
 * empty too, or hold only versions logged after the map head. A version
 * logged before it is one the map hides (a rotation or revocation kept
 * from lookups), found here by the owner. An honest log answers "past
 * the label's versions" (or "never published") in a few hundred bytes.
 */
static enum kt_verify_outcome
probe_hidden(struct kt_verify *v, struct mon *m, struct kt_vresult *r)
{
	struct walkctx w = { v, m, 0, { { 0 } }, 0 };
	struct kt_hash last;
	uint64_t n;

	return kt_vhistory_probe(v, m->label, m->c.version + 1, &m->c.chain,
	    m->c.update_index, version_cb, &w, &last, &n, r);
}

/* The map's version against the cursor, then the versions in between. */
static enum kt_verify_outcome
compare(struct kt_verify *v, struct mon *m, const json_t *rec,
    struct kt_vresult *r)
{
	uint64_t ver = m->present ? m->ml.version : 0;
	char why[512];

	if (ver < m->c.version) {
		kt_msg(why, sizeof(why),
		    "DOWNGRADE: the map at tree size %" PRIu64 " shows %" PRIu64
		    " version(s) of %s, but this client checked %" PRIu64
		    " before",
		    m->sc.cp.size, ver, m->label, m->c.version);
		return downgrade(v, m, rec, why, r);
	}
	if (ver == m->c.version) {
		if (ver > 0 &&
		    (!kt_hash_eq(&m->ml.chain, &m->c.chain) ||
		        m->ml.update_index != m->c.update_index)) {
			kt_msg(why, sizeof(why),
			    "the map at tree size %" PRIu64 " shows version "
			    "%" PRIu64 " of %s with another update or chain "
			    "than this client checked: the log rewrote its "
			    "history",
			    m->sc.cp.size, ver, m->label);
			return downgrade(v, m, rec, why, r);
		}
		m->pos = m->c.pos;
		return probe_hidden(v, m, r);
	}
	return check_new(v, m, r);
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
	m.ev_st = KT_VERIFY_ATTACK;
	if ((st = kt_verify_need_vrf(v, r)) != KT_VERIFY_OK)
		return st;
	if (kt_vcheck_label(typed, label, d, sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	if (kt_vstate_load_json(v->dir, KT_VSTATE_MONITOR, &mon, d,
	        sizeof(d)) != KT_OK)
		return kt_vres(r, KT_VERIFY_ERROR, "%s", d);
	rec = monitor_record(mon, label);
	m.label = label;
	m.seen = json_array();
	m.files = json_array();
	if (m.seen == NULL || m.files == NULL) {
		st = kt_vres(r, KT_VERIFY_ERROR, "out of memory");
		goto out;
	}
	v->bytes_in = 0;
	if ((st = load_expected(v, &m, rec, expect, nexpect, r)) !=
	        KT_VERIFY_OK ||
	    (st = load_cursor(v, rec, &m.c, r)) != KT_VERIFY_OK ||
	    (st = kt_vaccept_fetch(v, &m.note, &m.sc, r)) != KT_VERIFY_OK ||
	    (!m.c.have_index && (st = find_index(v, &m, r)) != KT_VERIFY_OK) ||
	    (st = map_path(v, &m, r)) != KT_VERIFY_OK ||
	    (st = compare(v, &m, rec, r)) != KT_VERIFY_OK)
		goto out;
	json_object_set_new(r->info, "label", json_string(label));
	json_object_set_new(r->info, "checkpoint_size",
	    json_integer((json_int_t)m.sc.cp.size));
	json_object_set_new(r->info, "version",
	    json_integer((json_int_t)(m.present ? m.ml.version : 0)));
	json_object_set_new(r->info, "versions", json_incref(m.seen));
	json_object_set_new(r->info, "bytes",
	    json_integer((json_int_t)v->bytes_in));
	if (m.nghosts > 0) {
		json_object_set_new(r->info, "evidence_files",
		    json_incref(m.files));
		if (m.ev_st != KT_VERIFY_ATTACK) {
			st = m.ev_st;
			goto out;
		}
		if (json_array_size(m.files) > 0 &&
		    kt_fmt(r->evidence, sizeof(r->evidence), "%s",
		        json_string_value(json_array_get(m.files, 0))) != KT_OK)
			r->evidence[0] = '\0';
		st = kt_vres(r, KT_VERIFY_ATTACK,
		    "ATTACK: %zu version(s) of %s carry a key its owner did "
		    "not publish (or a retired key again); cursor not "
		    "advanced",
		    m.nghosts, label);
		goto out;
	}
	if ((st = save_cursor(v, &m, mon, rec, r)) != KT_VERIFY_OK)
		goto out;
	st = kt_vres(r, KT_VERIFY_OK,
	    "%s: %s at tree size %" PRIu64 " (%zu new version(s) checked); "
	    "every key expected; %" PRIu64 " bytes fetched",
	    label,
	    !m.present                        ? "never published"
	        : json_array_size(m.seen) > 0 ? "checked up to its latest "
	                                        "version"
	                                      : "unchanged",
	    m.sc.cp.size, json_array_size(m.seen), v->bytes_in);
out:
	json_decref(m.seen);
	json_decref(m.files);
	json_decref(m.expected);
	json_decref(mon);
	free(m.keys);
	free(m.key_lens);
	free(m.head);
	free(m.mp);
	kt_buf_free(&m.note);
	return kt_vquorum_stale(v, r, st);
}
