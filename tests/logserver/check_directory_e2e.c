/*
 * check_directory_e2e.c: the key directory end to end, with the real
 * kt-logd, every answer checked with proto's verifiers and nothing taken
 * on the server's word.
 *
 * One log gets thousands of writes (batches, one with ?proofs=full,
 * single publications, rotations, revocations, a label twice in one
 * batch), kept in a model here. Then:
 *   - every label's lookup verifies (kt_lookup_verify, the checkpoint's
 *     note signature, the VRF key from /v1/log) and says what the model
 *     says; absent labels answer 404 with a body that proves absence;
 *   - lookups at older checkpoints (?checkpoint_size=N) verify against
 *     the checkpoints seen then, and say what the model said then;
 *   - format=tlog-proof parses (kt_lookup_tlogproof_parse) and verifies;
 *   - histories link (kt_map_chain_next over prev_chain and the update
 *     leaf hashes, ending at the map leaf's chain) and commitments open;
 *   - /v1/map/<hex> proves present or absent (kt_map_verify against the
 *     map head's root, the head included in the checkpoint), and ?since
 *     lists exactly the label's later update leaves;
 *   - for every map head, /v1/map/audit/<head>'s paths and the batch's
 *     update leaves from /v1/entries give exactly the head's root
 *     (kt_map_apply_proofs), and a changed update does not;
 *   - /v1/entries and the entry bundles hold no label and no key bytes.
 * A second case erases openings (DELETE /v1/keys/<label>/openings).
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_testlib.h"
#include "harness/logd.h"
#include "harness/runner.h"
#include "kt/leaf.h"
#include "kt/lookup.h"
#include "kt/map.h"
#include "kt/tile.h"

/* ---- the model ---------------------------------------------------------- */

#define NBATCH 4    /* batches of BATCH new labels */
#define BATCH 500   /* u0..u1999 */
#define NSINGLE 150 /* single rotations of batch labels */
#define NNEW 30     /* single publications of new labels s0..s29 */
#define NREVOKE 20  /* single revocations */
#define NMIXED 100  /* one mixed batch: rotations, a revocation, a twin */
#define NLABELS (NBATCH * BATCH + NNEW)
#define MAXVER 8

struct ver {
	uint64_t index; /* its update leaf */
	char key[48];   /* base64; "" = revoked */
};

struct label {
	char name[32];
	size_t n;
	struct ver v[MAXVER];
};

static struct label *L;
static size_t nl;
/* Checkpoints seen after writes, oldest first. */
#define MAXPAST 512
static struct kt_checkpoint past[MAXPAST];
static size_t npast;

static struct label *
label_add(const char *name)
{
	struct label *l = &L[nl++];

	ck_assert_uint_le(nl, NLABELS);
	snprintf(l->name, sizeof l->name, "%s", name);
	return l;
}

/* The label's version visible in a checkpoint of `size`: 0 for none. */
static size_t
version_at(const struct label *l, uint64_t size)
{
	size_t n = l->n;

	while (n > 0 && l->v[n - 1].index >= size)
		n--;
	return n;
}

static void
random_key(char out[48])
{
	uint8_t k[32];

	randombytes_buf(k, sizeof k);
	sodium_bin2base64(out, 48, k, sizeof k, sodium_base64_VARIANT_ORIGINAL);
}

static void
keep_past(const struct kt_checkpoint *cp)
{
	if (npast == 0 || past[npast - 1].size != cp->size) {
		ck_assert_uint_lt(npast, MAXPAST);
		past[npast++] = *cp;
	}
}

/* ---- writing ------------------------------------------------------------ */

/* One item of a batch: l's next version (key, or a revocation if NULL). */
static void
item(json_t *arr, struct label *l, const char *key)
{
	json_t *o = key != NULL
	    ? json_pack("{s:s,s:s,s:s}", "label", l->name, "key_type",
	          "ed25519", "key", key)
	    : json_pack("{s:s,s:b}", "label", l->name, "revoke", 1);

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_array_append_new(arr, o), 0);
}

/*
 * Posts the batch (labels ls[i], keys keys[i]: NULL a revocation), checks
 * every result against the model and records it. With full, every
 * result's lookup proof verifies at the batch's checkpoint.
 */
static void
post_batch(struct label **ls, char (*keys)[48], size_t n, int full)
{
	json_t *body = json_object(), *arr = json_array(), *j, *res;
	struct kt_checkpoint cp;
	struct http_resp r;
	char *text;

	for (size_t i = 0; i < n; i++)
		item(arr, ls[i], keys[i][0] ? keys[i] : NULL);
	json_object_set_new(body, "entries", arr);
	text = json_dumps(body, JSON_COMPACT);
	ck_assert_int_eq(logd_post(&S,
	                     full ? "/v1/keys:batch?proofs=full"
	                          : "/v1/keys:batch",
	                     text, &r),
	    200);
	free(text);
	json_decref(body);
	j = parse(&r);
	http_resp_free(&r);
	open_cp(j, &cp);
	res = json_object_get(j, "results");
	ck_assert_uint_eq(json_array_size(res), n);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(res, i);
		struct label *l = ls[i];
		struct ver *v = &l->v[l->n++];

		ck_assert_uint_le(l->n, MAXVER);
		ck_assert_uint_eq(jint(o, "version"), l->n);
		ck_assert(jbool(o, "appended"));
		v->index = jint(o, "index");
		ck_assert_uint_lt(v->index, cp.size - 1);
		memcpy(v->key, keys[i], sizeof v->key);
	}
	/* Each lookup proof is made at the batch's checkpoint: it proves the
	 * label's latest version there (a label twice in the batch: its
	 * second). */
	for (size_t i = 0; i < n && full; i++) {
		json_t *o = json_array_get(res, i);
		const struct label *l = ls[i];
		struct kt_lookup_proof *p = malloc(sizeof *p);
		struct kt_lookup_result lr;

		ck_assert_int_eq(logd_check_lookup(&S, jstr(o, "lookup_proof"),
		                     l->name, &cp, p, &lr),
		    0);
		ck_assert_uint_eq(lr.leaf.version, l->n);
		ck_assert_uint_eq(lr.leaf.update_index, l->v[l->n - 1].index);
		free(p);
	}
	json_decref(j);
	keep_past(&cp);
}

/* A single write of l's next version: a new key, or a revocation. */
static void
post_single(struct label *l, int revoke)
{
	struct kt_checkpoint cp;
	struct ver *v = &l->v[l->n];
	json_t *j;

	if (revoke)
		v->key[0] = '\0';
	else
		random_key(v->key);
	j = publish(l->name, revoke ? NULL : v->key, 200);
	check_result(j, l->name, revoke ? NULL : v->key, l->n + 1, &cp, NULL);
	v->index = jint(j, "index");
	l->n++;
	json_decref(j);
	keep_past(&cp);
}

static void
write_all(void)
{
	static struct label *ls[BATCH];
	static char keys[BATCH][48];
	char name[32];

	for (int b = 0; b < NBATCH; b++) {
		for (int i = 0; i < BATCH; i++) {
			snprintf(name, sizeof name, "u%d@example.com",
			    b * BATCH + i);
			ls[i] = label_add(name);
			random_key(keys[i]);
		}
		post_batch(ls, keys, BATCH, b == 1);
	}
	for (int i = 0; i < NSINGLE; i++)
		post_single(&L[(size_t)i * 13 % (NBATCH * BATCH)], 0);
	for (int i = 0; i < NNEW; i++) {
		snprintf(name, sizeof name, "s%d@example.com", i);
		post_single(label_add(name), 0);
	}
	for (int i = 0; i < NREVOKE; i++)
		post_single(&L[(size_t)i * 7 + 1], 1);
	/* Mixed: rotations, one revocation, and u5 twice (two versions of
	 * one label under one map head). */
	for (int i = 0; i < NMIXED; i++) {
		ls[i] = &L[(size_t)i * 17 + 3];
		random_key(keys[i]);
	}
	keys[10][0] = '\0';
	ls[10] = &L[200]; /* a live key: 200 is neither 7k+1 nor revoked */
	ls[NMIXED - 2] = &L[5];
	ls[NMIXED - 1] = &L[5];
	post_batch(ls, keys, NMIXED, 1);
}

/* ---- lookups ------------------------------------------------------------ */

/* GET path; the status; *j the answer's JSON. */
static long
get_json(const char *path, json_t **j)
{
	struct http_resp r;
	long st = logd_get(&S, path, &r);

	*j = parse(&r);
	http_resp_free(&r);
	return st;
}

/* l's lookup at cp (NULL: the current checkpoint, which the answer
 * carries) verifies and says what the model says at cp's size. */
static void
check_label_at(const struct label *l, const struct kt_checkpoint *cp)
{
	struct kt_checkpoint cur;
	char path[128];
	size_t v;
	json_t *j;
	long st;

	if (cp == NULL)
		snprintf(path, sizeof path, "/v1/keys/%s", l->name);
	else
		snprintf(path, sizeof path, "/v1/keys/%s?checkpoint_size=%llu",
		    l->name, (unsigned long long)cp->size);
	st = get_json(path, &j);
	if (cp == NULL) {
		open_cp(j, &cur);
		cp = &cur;
	} else if (json_object_get(j, "checkpoint") == NULL) {
		ck_assert_uint_eq(jint(j, "checkpoint_size"), cp->size);
	}
	v = version_at(l, cp->size);
	ck_assert_int_eq(st, v > 0 ? 200 : 404);
	check_lookup(j, cp, l->name,
	    v > 0 && l->v[v - 1].key[0] ? l->v[v - 1].key : NULL, v, NULL);
	if (v > 0 && l->v[v - 1].key[0] == '\0')
		ck_assert(jbool(j, "revoked"));
	if (v > 0)
		ck_assert_uint_eq(jint(j, "update_index"), l->v[v - 1].index);
	json_decref(j);
}

/* Every label at the current checkpoint; never-published labels. */
static void
check_every_label(void)
{
	struct label absent;
	json_t *j;

	for (size_t i = 0; i < nl; i++)
		check_label_at(&L[i], NULL);
	memset(&absent, 0, sizeof absent);
	for (int i = 0; i < 20; i++) {
		snprintf(absent.name, sizeof absent.name,
		    "nobody%d@example.com", i);
		check_label_at(&absent, NULL);
	}
	/* The 404's body is still an error a client can read. */
	ck_assert_int_eq(get_json("/v1/keys/nobody0@example.com", &j), 404);
	ck_assert_uint_eq(jint(j, "status"), 404);
	ck_assert(strlen(jstr(j, "error")) > 5);
	ck_assert(!jbool(j, "present"));
	json_decref(j);
}

/* Some labels at every older checkpoint seen: each verifies against the
 * checkpoint of then, and says what was true then (absent included). */
static void
check_older_checkpoints(void)
{
	static const size_t pick[] = { 0, 1, 5, 8, 13, 200, 499, 500, 1999,
		NBATCH * BATCH, NLABELS - 1 };

	ck_assert_uint_ge(npast, 10);
	for (size_t c = 0; c < npast; c += 1 + npast / 12)
		for (size_t i = 0; i < sizeof pick / sizeof pick[0]; i++)
			check_label_at(&L[pick[i]], &past[c]);
}

/* format=tlog-proof: a C2SP tlog-proof of the lookup that parses and
 * verifies offline (present and absent). */
static void
check_tlogproof(const char *label, int present)
{
	struct kt_lookup_proof *p = malloc(sizeof *p);
	struct kt_lookup_result res;
	struct kt_checkpoint cp;
	struct http_resp r;
	const char *note;
	size_t note_len;
	char path[128];

	snprintf(path, sizeof path, "/v1/keys/%s?format=tlog-proof", label);
	ck_assert_int_eq(logd_get(&S, path, &r), present ? 200 : 404);
	ck_assert(strncmp(r.ctype, "text/plain", 10) == 0);
	ck_assert(strncmp(r.body, "c2sp.org/tlog-proof@v1\n", 23) == 0);
	ck_assert_int_eq(kt_lookup_tlogproof_parse(r.body, r.len, p, &note,
	                     &note_len),
	    KT_OK);
	ck_assert_int_eq(logd_open_checkpoint(&S, note, note_len, &cp), 0);
	ck_assert_int_eq(kt_lookup_verify(p, S.vrf_pk, &cp, label,
	                     strlen(label), &res),
	    KT_OK);
	ck_assert_int_eq(res.present, present);
	/* Against another label it does not verify. */
	ck_assert_int_ne(kt_lookup_verify(p, S.vrf_pk, &cp, "x@example.com", 13,
	                     &res),
	    KT_OK);
	http_resp_free(&r);
	free(p);
}

/* The history of l verifies link by link, and its chain ends at the one
 * the lookup proof's map leaf holds. */
static void
check_label_history(const struct label *l)
{
	struct kt_lookup_proof *p = malloc(sizeof *p);
	struct kt_lookup_result res;
	struct kt_checkpoint cp;
	struct kt_hash chain;
	char path[128];
	json_t *j, *vs;

	ck_assert_int_eq(logd_lookup(&S, l->name, &cp, p, &res), 200);
	snprintf(path, sizeof path, "/v1/keys/%s/history", l->name);
	ck_assert_int_eq(get_json(path, &j), 200);
	ck_assert_uint_eq(check_history(j, l->name, 1, &chain), l->n);
	ck_assert(kt_hash_eq(&chain, &res.leaf.chain));
	vs = json_object_get(j, "versions");
	for (size_t i = 0; i < l->n; i++) {
		json_t *v = json_array_get(vs, i);
		ck_assert_uint_eq(jint(v, "index"), l->v[i].index);
		if (l->v[i].key[0] != '\0')
			ck_assert_str_eq(jstr(v, "key"), l->v[i].key);
		else
			ck_assert(jbool(v, "revoked"));
	}
	json_decref(j);
	free(p);
}

/* ---- the map, by index -------------------------------------------------- */

/* The label's map index as 64 lowercase hex digits (from its lookup). */
static void
map_hex(const char *label, char hex[65], struct kt_hash *idx)
{
	char path[128];
	json_t *j;

	snprintf(path, sizeof path, "/v1/keys/%s", label);
	(void)get_json(path, &j);
	ck_assert_int_eq(logd_b64(jstr(j, "map_index"), idx->b, KT_HASH_LEN),
	    KT_HASH_LEN);
	sodium_bin2hex(hex, 65, idx->b, KT_HASH_LEN);
	json_decref(j);
}

/* The map head of answer j ("head": {"index","entry","proof"}) included
 * in cp, and decoded. */
static void
check_head(json_t *j, const struct kt_checkpoint *cp, struct kt_map_head *h)
{
	json_t *head = json_object_get(j, "head");
	uint8_t b[KT_MAP_HEAD_LEN + 1];

	ck_assert_uint_eq(jint(head, "index"), cp->size - 1);
	ck_assert_int_eq(logd_check_inclusion(jstr(head, "entry"), cp->size - 1,
	                     json_object_get(head, "proof"), cp),
	    0);
	ck_assert_int_eq(logd_b64(jstr(head, "entry"), b, sizeof b),
	    KT_MAP_HEAD_LEN);
	ck_assert_int_eq(kt_map_head_decode(b, KT_MAP_HEAD_LEN, h), KT_OK);
	ck_assert_uint_eq(h->log_size, cp->size - 1);
}

/* The "map_proof" of j verified against root for idx; returns present. */
static int
check_map_proof(json_t *j, const struct kt_hash *root,
    const struct kt_hash *idx, struct kt_map_leaf *leaf)
{
	static uint8_t buf[KT_MAP_PROOF_MAX + 1];
	struct kt_map_proof *mp = malloc(sizeof *mp);
	int present = -1;
	long n = logd_b64(jstr(j, "map_proof"), buf, sizeof buf);

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(kt_map_proof_decode(buf, (size_t)n, mp), KT_OK);
	ck_assert_int_eq(kt_map_verify(root, idx, mp, &present), KT_OK);
	ck_assert_int_eq(present, jbool(j, "present"));
	if (present)
		*leaf = mp->leaf;
	free(mp);
	return present;
}

/*
 * /v1/map/<hex> for l at cp (NULL: current) proves what the model says;
 * with ?since=s the updates after version s are exactly the label's, in
 * order, included and linked.
 */
static void
check_map_path(const struct label *l, const struct kt_checkpoint *cp,
    uint64_t since)
{
	struct kt_checkpoint cur;
	struct kt_map_head h;
	struct kt_map_leaf leaf;
	struct kt_hash idx;
	char hex[65], path[256];
	size_t v;
	json_t *j, *ups;

	map_hex(l->name, hex, &idx);
	if (cp == NULL)
		snprintf(path, sizeof path, "/v1/map/%s?since=%llu", hex,
		    (unsigned long long)since);
	else
		snprintf(path, sizeof path,
		    "/v1/map/%s?checkpoint_size=%llu&since=%llu", hex,
		    (unsigned long long)cp->size, (unsigned long long)since);
	ck_assert_int_eq(get_json(path, &j), 200);
	if (cp == NULL) {
		open_cp(j, &cur);
		cp = &cur;
	}
	ck_assert_uint_eq(jint(j, "checkpoint_size"), cp->size);
	check_head(j, cp, &h);
	v = version_at(l, cp->size);
	ck_assert_int_eq(check_map_proof(j, &h.root, &idx, &leaf), v > 0);
	if (v == 0) {
		json_decref(j);
		return;
	}
	ck_assert_uint_eq(leaf.version, v);
	ck_assert_uint_eq(leaf.update_index, l->v[v - 1].index);
	ck_assert_uint_eq(jint(j, "version"), v);
	ups = json_object_get(j, "updates");
	ck_assert_uint_eq(json_array_size(ups), v > since ? v - since : 0);
	for (size_t i = 0; i < json_array_size(ups); i++) {
		json_t *o = json_array_get(ups, i);
		struct kt_update u;
		uint64_t ver = since + 1 + i;

		ck_assert_uint_eq(jint(o, "version"), ver);
		ck_assert_uint_eq(jint(o, "index"), l->v[ver - 1].index);
		ck_assert_int_eq(logd_check_inclusion(jstr(o, "entry"),
		                     jint(o, "index"),
		                     json_object_get(o, "proof"), cp),
		    0);
		decode_update(jstr(o, "entry"), &u);
		ck_assert(kt_hash_eq(&u.index, &idx));
		ck_assert_uint_eq(u.version, ver);
		ck_assert_uint_eq(u.prev_index,
		    ver == 1 ? KT_NO_PREV : l->v[ver - 2].index);
	}
	json_decref(j);
}

static void
check_map(void)
{
	struct kt_checkpoint cp;
	struct kt_map_head h;
	struct kt_map_leaf leaf;
	struct kt_hash idx;
	char hex[65], path[128];
	json_t *j;

	for (size_t i = 0; i < nl; i += 97)
		check_map_path(&L[i], NULL, 0);
	/* Labels with several versions, from each since. */
	for (uint64_t s = 0; s <= L[5].n; s++)
		check_map_path(&L[5], NULL, s);
	check_map_path(&L[1], NULL, 1);
	/* At older checkpoints: before and after a label existed. */
	for (size_t c = 0; c < npast; c += 1 + npast / 6) {
		check_map_path(&L[5], &past[c], 0);
		check_map_path(&L[NLABELS - 1], &past[c], 0);
	}
	/* An index nobody has: proved absent. */
	memset(idx.b, 0xab, sizeof idx.b);
	sodium_bin2hex(hex, sizeof hex, idx.b, KT_HASH_LEN);
	snprintf(path, sizeof path, "/v1/map/%s", hex);
	ck_assert_int_eq(get_json(path, &j), 200);
	open_cp(j, &cp);
	check_head(j, &cp, &h);
	ck_assert_int_eq(check_map_proof(j, &h.root, &idx, &leaf), 0);
	ck_assert_ptr_null(json_object_get(j, "version"));
	json_decref(j);
}

/* ---- the whole log: audits and privacy --------------------------------- */

struct leaves {
	size_t n;
	uint8_t (*b)[KT_UPDATE_LEN]; /* each leaf, zero-padded */
	size_t *len;
	char *text; /* every /v1/entries answer, concatenated */
	size_t text_len;
};

/* All leaves of the current tree, from /v1/entries, rechecked against
 * the current checkpoint's root. */
static void
fetch_leaves(struct leaves *lv, struct kt_checkpoint *cp)
{
	struct kt_frontier f;
	struct kt_hash root;
	struct http_resp r;

	ck_assert_int_eq(logd_get(&S, "/checkpoint", &r), 200);
	ck_assert_int_eq(logd_open_checkpoint(&S, r.body, r.len, cp), 0);
	http_resp_free(&r);
	lv->n = cp->size;
	lv->b = calloc(lv->n, sizeof *lv->b);
	lv->len = calloc(lv->n, sizeof *lv->len);
	lv->text = NULL;
	lv->text_len = 0;
	kt_frontier_init(&f);
	for (uint64_t start = 0; start < lv->n; start += 1000) {
		uint64_t end = start + 1000 < lv->n ? start + 1000 : lv->n;
		char path[128];
		json_t *j, *arr;

		snprintf(path, sizeof path, "/v1/entries?start=%llu&end=%llu",
		    (unsigned long long)start, (unsigned long long)end);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		lv->text = realloc(lv->text, lv->text_len + r.len + 1);
		memcpy(lv->text + lv->text_len, r.body, r.len + 1);
		lv->text_len += r.len;
		j = parse(&r);
		http_resp_free(&r);
		arr = json_object_get(j, "entries");
		ck_assert_uint_eq(json_array_size(arr), end - start);
		for (size_t i = 0; i < end - start; i++) {
			size_t k = start + i;
			long n =
			    logd_b64(json_string_value(json_array_get(arr, i)),
			        lv->b[k], KT_UPDATE_LEN);
			struct kt_hash h;

			ck_assert(n == KT_UPDATE_LEN || n == KT_MAP_HEAD_LEN);
			lv->len[k] = (size_t)n;
			kt_hash_leaf(lv->b[k], lv->len[k], &h);
			ck_assert_int_eq(kt_frontier_append(&f, &h), KT_OK);
		}
		json_decref(j);
	}
	kt_frontier_root(&f, &root);
	ck_assert(kt_hash_eq(&root, &cp->root));
}

/* The audit of the map head at leaf `at`: its paths and the batch's
 * updates give its root from the previous head's; a changed update does
 * not. Returns the number of updates in the batch. */
static size_t
check_audit(const struct leaves *lv, uint64_t at)
{
	static uint8_t buf[KT_MAP_PROOF_MAX + 1];
	struct kt_map_head h, prev;
	struct kt_map_proof *paths;
	struct kt_map_update *u;
	struct kt_map_result res;
	struct kt_hash root;
	char path[64];
	size_t np, nu;
	json_t *j, *arr;

	ck_assert_int_eq(kt_map_head_decode(lv->b[at], lv->len[at], &h), KT_OK);
	ck_assert_int_eq(kt_map_head_decode(lv->b[h.prev_head],
	                     lv->len[h.prev_head], &prev),
	    KT_OK);
	snprintf(path, sizeof path, "/v1/map/audit/%llu",
	    (unsigned long long)at);
	ck_assert_int_eq(get_json(path, &j), 200);
	ck_assert_uint_eq(jint(j, "head_index"), at);
	ck_assert_uint_eq(jint(j, "prev_head_index"), h.prev_head);
	ck_assert_int_eq(logd_b64(jstr(j, "prev_root"), root.b, KT_HASH_LEN),
	    KT_HASH_LEN);
	ck_assert(kt_hash_eq(&root, &prev.root));
	ck_assert_int_eq(logd_b64(jstr(j, "root"), root.b, KT_HASH_LEN),
	    KT_HASH_LEN);
	ck_assert(kt_hash_eq(&root, &h.root));
	arr = json_object_get(j, "paths");
	np = json_array_size(arr);
	nu = at - h.prev_head - 1;
	ck_assert_uint_ge(np, 1);
	ck_assert_uint_le(np, nu);
	paths = calloc(np, sizeof *paths);
	u = calloc(nu, sizeof *u);
	for (size_t i = 0; i < np; i++) {
		long n = logd_b64(json_string_value(json_array_get(arr, i)),
		    buf, sizeof buf);
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(kt_map_proof_decode(buf, (size_t)n, &paths[i]),
		    KT_OK);
	}
	/* The updates themselves, from /v1/entries. */
	for (size_t i = 0; i < nu; i++) {
		uint64_t k = h.prev_head + 1 + i;
		struct kt_update up;

		ck_assert_int_eq(kt_update_decode(lv->b[k], lv->len[k], &up),
		    KT_OK);
		u[i] = (struct kt_map_update){ .index = up.index,
			.version = up.version,
			.prev_index = up.prev_index,
			.log_index = k };
		kt_update_leaf_hash(&up, &u[i].leaf_hash);
	}
	ck_assert_int_eq(kt_map_apply_proofs(&prev.root, paths, np, u, nu,
	                     &res),
	    KT_OK);
	ck_assert(kt_hash_eq(&res.root, &h.root));
	/* A changed leaf hash gives another root; a skipped version is
	 * refused. */
	u[0].leaf_hash.b[0] ^= 1;
	ck_assert_int_eq(kt_map_apply_proofs(&prev.root, paths, np, u, nu,
	                     &res),
	    KT_OK);
	ck_assert(!kt_hash_eq(&res.root, &h.root));
	u[0].leaf_hash.b[0] ^= 1;
	u[0].version++;
	ck_assert_int_ne(kt_map_apply_proofs(&prev.root, paths, np, u, nu,
	                     &res),
	    KT_OK);
	free(paths);
	free(u);
	json_decref(j);
	return nu;
}

/* Every map head after the first is audited; together their batches are
 * every update of the log. */
static void
check_audits(const struct leaves *lv)
{
	size_t heads = 0, updates = 0, total = 0;

	for (uint64_t i = 1; i < lv->n; i++) {
		if (lv->b[i][0] == KT_LEAF_UPDATE) {
			total++;
			continue;
		}
		updates += check_audit(lv, i);
		heads++;
	}
	ck_assert_uint_eq(updates, total);
	ck_assert_uint_ge(heads, NBATCH + NSINGLE + NNEW + NREVOKE + 1);
	fprintf(stderr, "audited %zu map heads over %zu updates\n", heads,
	    updates);
}

/* Whether needle occurs in hay. */
static int
has(const void *hay, size_t hl, const void *needle, size_t nlen)
{
	return memmem(hay, hl, needle, nlen) != NULL;
}

/* The entry bundles (/tile/entries/...), concatenated; each entry is the
 * leaf /v1/entries gave. */
static uint8_t *
fetch_bundles(const struct leaves *lv, size_t *out_len)
{
	uint8_t *all = NULL, *grown;
	size_t len = 0;

	for (uint64_t t = 0; t * 256 < lv->n; t++) {
		struct kt_tile tile = { KT_TILE_LEVEL_ENTRIES, t,
			kt_tile_width(lv->n, 0, t) };
		struct http_resp r;
		char path[128];
		size_t off = 0, k = 0, elen;
		const uint8_t *ent;

		ck_assert_int_eq(kt_tile_path(&tile, path + 1, sizeof path - 1),
		    KT_OK);
		path[0] = '/';
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		while (kt_bundle_next((const uint8_t *)r.body, r.len, &off,
		           &ent, &elen) == KT_OK) {
			ck_assert_uint_eq(elen, lv->len[t * 256 + k]);
			ck_assert_mem_eq(ent, lv->b[t * 256 + k], elen);
			k++;
		}
		ck_assert_uint_eq(k, tile.width);
		grown = realloc(all, len + r.len);
		ck_assert_ptr_nonnull(grown);
		all = grown;
		memcpy(all + len, r.body, r.len);
		len += r.len;
		http_resp_free(&r);
	}
	*out_len = len;
	return all;
}

/* No label (as text) and no key (as bytes, or as its base64) appears in
 * the public leaves: the bundles, the decoded leaves, /v1/entries. */
static void
check_no_labels_or_keys(const struct leaves *lv)
{
	size_t blen, rawlen = lv->n * KT_UPDATE_LEN;
	uint8_t *bundles = fetch_bundles(lv, &blen);

	for (size_t i = 0; i < nl; i++) {
		const char *name = L[i].name;
		size_t n = strlen(name);

		ck_assert_msg(!has(bundles, blen, name, n), "label %s", name);
		ck_assert(!has(lv->b, rawlen, name, n));
		ck_assert(!has(lv->text, lv->text_len, name, n));
		for (size_t v = 0; v < L[i].n; v++) {
			uint8_t key[33];
			const char *k = L[i].v[v].key;

			if (k[0] == '\0')
				continue;
			ck_assert_int_eq(logd_b64(k, key, sizeof key), 32);
			ck_assert_msg(!has(bundles, blen, key, 32), "key of %s",
			    name);
			ck_assert(!has(lv->b, rawlen, key, 32));
			ck_assert(!has(lv->text, lv->text_len, k, strlen(k)));
		}
	}
	free(bundles);
}

START_TEST(test_directory)
{
	struct kt_checkpoint cp;
	struct leaves lv;

	L = calloc(NLABELS, sizeof *L);
	nl = npast = 0;
	write_all();
	check_every_label();
	check_older_checkpoints();
	check_tlogproof("u1@example.com", 1);
	check_tlogproof("u8@example.com", 1); /* revoked: still present */
	check_tlogproof("nobody@example.com", 0);
	for (size_t i = 0; i < nl; i += 41)
		check_label_history(&L[i]);
	check_label_history(&L[5]);
	check_map();
	fetch_leaves(&lv, &cp);
	check_audits(&lv);
	check_no_labels_or_keys(&lv);
	free(lv.b);
	free(lv.len);
	free(lv.text);
	free(L);
}
END_TEST

/* ---- erasure ------------------------------------------------------------ */

/* DELETE /v1/keys/<label>/openings with token (or none); the status and
 * the answer's JSON. */
static long
erase(const char *label, const char *token, json_t **j)
{
	struct http_resp r;
	char url[256];

	snprintf(url, sizeof url, "%s/v1/keys/%s/openings", S.url, label);
	ck_assert_int_eq(http_request(NULL, "DELETE", url, token, NULL, NULL, 0,
	                     &r),
	    0);
	*j = parse(&r);
	http_resp_free(&r);
	return r.status;
}

/* The history of label: versions 1..n, those up to `erased` erased. */
static void
check_erased(const char *label, size_t n, size_t erased)
{
	char path[128];
	json_t *j, *vs;

	snprintf(path, sizeof path, "/v1/keys/%s/history", label);
	ck_assert_int_eq(get_json(path, &j), 200);
	ck_assert_uint_eq(check_history(j, label, 1, NULL), n);
	vs = json_object_get(j, "versions");
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(vs, i);
		int gone = json_is_true(json_object_get(v, "erased"));

		ck_assert_int_eq(gone, i < erased);
		/* The update leaf, its proof and the chain stay. */
		ck_assert_ptr_nonnull(json_object_get(v, "entry"));
		ck_assert_ptr_nonnull(json_object_get(v, "proof"));
		ck_assert_ptr_nonnull(json_object_get(v, "prev_chain"));
	}
	json_decref(j);
}

START_TEST(test_erasure)
{
	struct kt_checkpoint cp, before;
	struct http_resp r0, r1;
	uint64_t size;
	json_t *j;

	j = publish("erase@example.com", KEY_A, 200);
	json_decref(j);
	j = publish("keep@example.com", KEY_A, 200);
	json_decref(j);
	j = publish("erase@example.com", KEY_B, 200);
	check_result(j, "erase@example.com", KEY_B, 2, &before, NULL);
	json_decref(j);
	j = publish("keep@example.com", KEY_B, 200);
	json_decref(j);
	j = publish("erase@example.com", KEY_C, 200);
	json_decref(j);
	size = logd_size(&S);
	ck_assert_int_eq(logd_get(&S, "/v1/entries?start=0&end=11", &r0), 200);

	/* Without the token, or for a label never published: nothing. */
	ck_assert_int_eq(erase("erase@example.com", NULL, &j), 401);
	json_decref(j);
	ck_assert_int_eq(erase("erase@example.com", "wrong", &j), 401);
	json_decref(j);
	ck_assert_int_eq(erase("nobody@example.com", S.token, &j), 404);
	ck_assert(strlen(jstr(j, "error")) > 5);
	json_decref(j);
	check_erased("erase@example.com", 3, 0);

	/* Versions 1 and 2 lose their openings and keys. */
	ck_assert_int_eq(erase("Erase@Example.com", S.token, &j), 200);
	ck_assert_str_eq(jstr(j, "label"), "erase@example.com");
	ck_assert_uint_eq(jint(j, "version"), 3);
	ck_assert_uint_eq(jint(j, "erased"), 2);
	json_decref(j);
	check_erased("erase@example.com", 3, 2);
	/* The latest still verifies; the other label is untouched; the log
	 * did not change. */
	ck_assert_int_eq(get_json("/v1/keys/erase@example.com", &j), 200);
	open_cp(j, &cp);
	check_lookup(j, &cp, "erase@example.com", KEY_C, 3, NULL);
	json_decref(j);
	ck_assert_int_eq(get_json("/v1/keys/keep@example.com", &j), 200);
	open_cp(j, &cp);
	check_lookup(j, &cp, "keep@example.com", KEY_B, 2, NULL);
	json_decref(j);
	check_erased("keep@example.com", 2, 0);
	ck_assert_uint_eq(logd_size(&S), size);
	ck_assert_int_eq(logd_get(&S, "/v1/entries?start=0&end=11", &r1), 200);
	ck_assert_str_eq(r0.body, r1.body);
	http_resp_free(&r0);
	http_resp_free(&r1);
	/* The erased keys are nowhere in the answers any more. */
	ck_assert_int_eq(logd_get(&S, "/v1/keys/erase@example.com/history",
	                     &r1),
	    200);
	ck_assert_ptr_null(strstr(r1.body, KEY_A));
	ck_assert_ptr_null(strstr(r1.body, KEY_B));
	http_resp_free(&r1);

	/* Again: nothing more to erase. A new version retires version 3,
	 * which the next erasure takes. */
	ck_assert_int_eq(erase("erase@example.com", S.token, &j), 200);
	ck_assert_uint_eq(jint(j, "erased"), 0);
	json_decref(j);
	j = publish("erase@example.com", NULL, 200);
	json_decref(j);
	ck_assert_int_eq(erase("erase@example.com", S.token, &j), 200);
	ck_assert_uint_eq(jint(j, "version"), 4);
	ck_assert_uint_eq(jint(j, "erased"), 1);
	json_decref(j);
	check_erased("erase@example.com", 4, 3);
	ck_assert_int_eq(get_json("/v1/keys/erase@example.com", &j), 200);
	open_cp(j, &cp);
	check_lookup(j, &cp, "erase@example.com", NULL, 4, NULL);
	json_decref(j);

	/* At a checkpoint where an erased version was the latest, its
	 * opening is gone: the lookup cannot be made (410, in words), and
	 * nothing else breaks. */
	{
		char path[128];
		snprintf(path, sizeof path,
		    "/v1/keys/erase@example.com?checkpoint_size=%llu",
		    (unsigned long long)before.size);
		ck_assert_int_eq(get_json(path, &j), 410);
		ck_assert(strlen(jstr(j, "error")) > 5);
		json_decref(j);
	}
	/* The map by index does not need openings: still proved. */
	{
		static const uint64_t at[] = { 1, 5, 9, 11 };
		struct label l = { .n = 4 };
		snprintf(l.name, sizeof l.name, "erase@example.com");
		for (size_t i = 0; i < 4; i++)
			l.v[i].index = at[i];
		check_map_path(&l, &before, 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd key directory");

	kt_test_fixture_case(s, "directory", 170, setup, teardown,
	    test_directory, NULL);
	kt_test_fixture_case(s, "erasure", 60, setup, teardown, test_erasure,
	    NULL);
	return kt_test_run(s);
}
