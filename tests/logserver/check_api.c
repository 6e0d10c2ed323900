/*
 * check_api.c: end-to-end tests of kt-logd's HTTP API with the real binary:
 * publish, batch, lookup, history, proofs, entries, checkpoint, tiles,
 * metrics; restart. Authorisation and malformed requests are
 * check_api_errors.c.
 * Every proof and checkpoint is verified with proto (kt_merkle_verify_*,
 * kt_note_open with the log's verifier key).
 */
#include <check.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_testlib.h"
#include "harness/logd.h"
#include "harness/runner.h"
#include "kt/b64.h"
#include "kt/leaf.h"
#include "kt/merkle.h"
#include "kt/tile.h"
#include "kt/vrf.h"

/* A leaf of the log: an update or a map head, valid; leaf 0 and the last
 * leaf of the tree are map heads. */
static void
check_leaf(const uint8_t *ent, size_t len, uint64_t i, uint64_t size)
{
	struct kt_update u;
	struct kt_map_head h;
	uint8_t kind = 0;

	ck_assert_int_eq(kt_leaf_kind(ent, len, &kind), KT_OK);
	if (kind == KT_LEAF_UPDATE) {
		ck_assert_int_eq(kt_update_decode(ent, len, &u), KT_OK);
		ck_assert(i != 0 && i != size - 1);
		return;
	}
	ck_assert_int_eq(kt_map_head_decode(ent, len, &h), KT_OK);
	ck_assert_uint_eq(h.log_size, i);
	if (i == 0)
		ck_assert_uint_eq(h.prev_head, KT_NO_PREV);
	else
		ck_assert_uint_lt(h.prev_head, i);
}

/* Recomputes the root of entries [0, size) fetched with /v1/entries, and
 * checks tiles against them. */
static void
check_entries_and_tiles(uint64_t size, const struct kt_checkpoint *cp)
{
	struct kt_hash *leaves = calloc(size, sizeof *leaves);
	struct kt_frontier f;
	struct kt_hash root;
	uint64_t start = 0;
	char path[128];
	struct http_resp r;

	kt_frontier_init(&f);
	while (start < size) {
		uint64_t end = start + 1000 < size ? start + 1000 : size;
		json_t *j, *arr;
		snprintf(path, sizeof path, "/v1/entries?start=%llu&end=%llu",
		    (unsigned long long)start, (unsigned long long)end);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		j = parse(&r);
		http_resp_free(&r);
		arr = json_object_get(j, "entries");
		ck_assert_uint_eq(json_array_size(arr), end - start);
		for (size_t i = 0; i < json_array_size(arr); i++) {
			uint8_t ent[KT_UPDATE_LEN + 1];
			long el =
			    logd_b64(json_string_value(json_array_get(arr, i)),
			        ent, sizeof ent);
			ck_assert_int_gt(el, 0);
			check_leaf(ent, (size_t)el, start + i, size);
			kt_hash_leaf(ent, (size_t)el, &leaves[start + i]);
			ck_assert_int_eq(kt_frontier_append(&f,
			                     &leaves[start + i]),
			    KT_OK);
		}
		json_decref(j);
		start = end;
	}
	kt_frontier_root(&f, &root);
	ck_assert_uint_eq(f.size, cp->size);
	ck_assert(kt_hash_eq(&root, &cp->root));

	/* Level-0 tiles hold the leaf hashes; the level-1 tile's first hash
	 * is the root of the first 256 leaves. */
	for (uint64_t n = 0; n * 256 < size; n++) {
		struct kt_tile t = { 0, n, kt_tile_width(size, 0, n) };
		ck_assert_int_eq(kt_tile_path(&t, path + 1, sizeof path - 1),
		    KT_OK);
		path[0] = '/';
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		ck_assert_uint_eq(r.len, (size_t)t.width * 32);
		ck_assert_str_eq(r.ctype, "application/octet-stream");
		if (t.width == 256)
			ck_assert(strstr(r.cache, "immutable") != NULL);
		for (unsigned i = 0; i < t.width; i++)
			ck_assert(bytes_are_hash(r.body + i * 32,
			    &leaves[n * 256 + i]));
		http_resp_free(&r);
		/* The entry bundle of the same tile. */
		t.level = KT_TILE_LEVEL_ENTRIES;
		ck_assert_int_eq(kt_tile_path(&t, path + 1, sizeof path - 1),
		    KT_OK);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		{
			size_t off = 0, k = 0, elen;
			const uint8_t *ent;
			while (kt_bundle_next((const uint8_t *)r.body, r.len,
			           &off, &ent, &elen) == KT_OK) {
				struct kt_hash h;
				kt_hash_leaf(ent, elen, &h);
				ck_assert(kt_hash_eq(&h, &leaves[n * 256 + k]));
				k++;
			}
			ck_assert_uint_eq(k, t.width);
		}
		http_resp_free(&r);
	}
	if (size >= 256) {
		struct kt_frontier f2;
		struct kt_hash r256;
		kt_frontier_init(&f2);
		for (int i = 0; i < 256; i++)
			ck_assert_int_eq(kt_frontier_append(&f2, &leaves[i]),
			    KT_OK);
		kt_frontier_root(&f2, &r256);
		struct kt_tile t = { 1, 0, kt_tile_width(size, 1, 0) };
		ck_assert_int_eq(kt_tile_path(&t, path + 1, sizeof path - 1),
		    KT_OK);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		ck_assert(bytes_are_hash(r.body, &r256));
		http_resp_free(&r);
	}
	/* A tile past the tree, and a width that is not the current one. */
	snprintf(path, sizeof path, "/tile/0/%03llu",
	    (unsigned long long)(size / 256 + 5));
	ck_assert_int_eq(logd_get(&S, path, &r), 404);
	http_resp_free(&r);
	free(leaves);
}

/* First publication (leaf 1: leaf 0 is the empty map's head), then an
 * idempotent republish (nothing appended), then a rotation whose version 2
 * links to version 1. Each write adds its update and a map head. */
static void
step_publish_and_rotate(void)
{
	struct kt_checkpoint cp;
	struct kt_update u;
	json_t *j;

	ck_assert_uint_eq(logd_size(&S), 1);
	j = publish("alice@example.com", KEY_A, 200);
	check_result(j, "alice@example.com", KEY_A, 1, &cp, &u);
	ck_assert_uint_eq(jint(j, "index"), 1);
	ck_assert(jbool(j, "appended"));
	ck_assert_uint_eq(cp.size, 3);
	ck_assert_uint_eq(u.prev_index, KT_NO_PREV);
	json_decref(j);
	j = publish("alice@example.com", KEY_A, 200);
	check_result(j, "alice@example.com", KEY_A, 1, &cp, NULL);
	ck_assert_uint_eq(jint(j, "index"), 1);
	ck_assert(!jbool(j, "appended"));
	ck_assert_uint_eq(cp.size, 3);
	json_decref(j);
	ck_assert_uint_eq(logd_size(&S), 3);

	j = publish("alice@example.com", KEY_B, 200);
	check_result(j, "alice@example.com", KEY_B, 2, &cp, &u);
	ck_assert_uint_eq(jint(j, "index"), 3);
	ck_assert_uint_eq(u.prev_index, 1);
	ck_assert_uint_eq(cp.size, 5);
	json_decref(j);
}

/* A batch of 300 with ?proofs=full: one checkpoint for all, consecutive
 * indexes, and every result's lookup proof verifies at it. */
static void
step_batch(void)
{
	static char body[65536];
	struct kt_checkpoint cp2;
	struct http_resp r;
	json_t *j, *res;
	char *p;

	p = body + sprintf(body, "{\"entries\":[");
	for (int i = 0; i < 299; i++)
		p += sprintf(p,
		    "{\"label\":\"user%d@example.com\",\"key_type\":"
		    "\"ed25519\",\"key\":\"%s\"},",
		    i, i % 2 ? KEY_A : KEY_B);
	p += sprintf(p,
	    "{\"label\":\"alice@example.com\",\"key_type\":"
	    "\"ed25519\",\"key\":\"%s\"}]}",
	    KEY_C);
	ck_assert_int_eq(logd_post(&S, "/v1/keys:batch?proofs=full", body, &r),
	    200);
	j = parse(&r);
	http_resp_free(&r);
	open_cp(j, &cp2);
	ck_assert_uint_eq(cp2.size, 306);
	res = json_object_get(j, "results");
	ck_assert_uint_eq(json_array_size(res), 300);
	for (size_t i = 0; i < 300; i++) {
		json_t *o = json_array_get(res, i);
		char label[64];
		int alice = i == 299;
		snprintf(label, sizeof label, "user%zu@example.com", i);
		ck_assert_uint_eq(jint(o, "index"), 5 + i);
		ck_assert_uint_eq(jint(o, "version"), alice ? 3 : 1);
		ck_assert(jbool(o, "appended"));
		ck_assert_ptr_null(json_object_get(o, "checkpoint"));
		/* The compact "lookup_proof" of ?proofs=full. */
		{
			struct kt_lookup_proof *lp = malloc(sizeof *lp);
			struct kt_lookup_result lr;
			ck_assert_int_eq(logd_check_lookup(&S,
			                     jstr(o, "lookup_proof"),
			                     alice ? "alice@example.com"
			                           : label,
			                     &cp2, lp, &lr),
			    0);
			ck_assert_uint_eq(lr.leaf.version, alice ? 3 : 1);
			ck_assert_uint_eq(lr.leaf.update_index, 5 + i);
			free(lp);
		}
	}
	json_decref(j);
}

/* Revocation, and revoking again is a conflict. */
static void
step_revoke(void)
{
	struct kt_checkpoint cp;
	uint64_t size;
	json_t *j;

	j = publish("alice@example.com", NULL, 200);
	check_result(j, "alice@example.com", NULL, 4, &cp, NULL);
	ck_assert_uint_eq(jint(j, "index"), 306);
	json_decref(j);
	size = logd_size(&S);
	ck_assert_uint_eq(size, 308);
	j = publish("alice@example.com", NULL, 409);
	json_decref(j);
	j = publish("nobody@example.com", NULL, 409);
	json_decref(j);
	ck_assert_uint_eq(logd_size(&S), size);
}

/* Lookup and history of alice, lookup of others. */
static void
step_lookup_history(void)
{
	static const uint64_t idx[] = { 1, 3, 304, 306 };
	struct kt_checkpoint cp;
	struct kt_hash chain;
	struct http_resp r;
	json_t *j, *vs;

	ck_assert_int_eq(logd_get(&S, "/v1/keys/alice@example.com", &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	open_cp(j, &cp);
	check_lookup(j, &cp, "alice@example.com", NULL, 4, NULL);
	ck_assert_str_eq(jstr(j, "label"), "alice@example.com");
	ck_assert_uint_eq(jint(j, "update_index"), 306);
	json_decref(j);
	ck_assert_int_eq(logd_get(&S, "/v1/keys/alice%40example.com/history",
	                     &r),
	    200);
	j = parse(&r);
	http_resp_free(&r);
	ck_assert_uint_eq(check_history(j, "alice@example.com", 1, &chain), 4);
	vs = json_object_get(j, "versions");
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(jint(json_array_get(vs, i), "index"), idx[i]);
	ck_assert(jbool(json_array_get(vs, 3), "revoked"));
	json_decref(j);
	ck_assert_int_eq(logd_get(&S, "/v1/keys/user7%40example.com", &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	open_cp(j, &cp);
	check_lookup(j, &cp, "user7@example.com", KEY_A, 1, NULL);
	json_decref(j);
	/* Absent: 404, and the body proves it. */
	ck_assert_int_eq(logd_get(&S, "/v1/keys/nobody@example.com", &r), 404);
	j = parse(&r);
	http_resp_free(&r);
	ck_assert(json_is_string(json_object_get(j, "error")));
	open_cp(j, &cp);
	check_lookup(j, &cp, "nobody@example.com", NULL, 0, NULL);
	json_decref(j);
}

/*
 * Labels are canonical (proto/README.md, "Labels"): a publication under
 * another spelling of a name is the same label, in the log and in the
 * path; a label that cannot be made canonical is refused with its rule.
 */
static void
step_canonical_labels(void)
{
	struct http_resp r;
	json_t *j;

	struct kt_checkpoint cp;

	j = publish("Carol@Example.COM", KEY_A, 200);
	check_result(j, "carol@example.com", KEY_A, 1, &cp, NULL);
	json_decref(j);
	j = publish("+1 (555) 010-9999", KEY_A, 200);
	check_result(j, "+15550109999", KEY_A, 1, &cp, NULL);
	json_decref(j);
	/* The path is percent-decoded, then canonicalised. */
	ck_assert_int_eq(logd_get(&S, "/v1/keys/CAROL%40example.com", &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	ck_assert_str_eq(jstr(j, "label"), "carol@example.com");
	ck_assert_uint_eq(json_integer_value(json_object_get(j, "version")), 1);
	json_decref(j);
	ck_assert_int_eq(logd_get(&S, "/v1/keys/%2B1-555-010-9999", &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	ck_assert_str_eq(jstr(j, "label"), "+15550109999");
	json_decref(j);
	/* Refused: a Cyrillic a among Latin letters, a zero-width space,
	 * a space; in writes and in paths alike. */
	j = publish("\\u0430lice@example.com", KEY_A, 400);
	ck_assert_ptr_nonnull(strstr(jstr(j, "error"), "refused"));
	json_decref(j);
	j = publish("ali\\u200bce@example.com", KEY_A, 400);
	json_decref(j);
	j = publish("a b", KEY_A, 400);
	json_decref(j);
	ck_assert_int_eq(logd_get(&S, "/v1/keys/a%20b", &r), 400);
	http_resp_free(&r);
}

/*
 * /v1/log is the log's public identity: its origin, the verifier key
 * keygen printed, and the public key of the VRF key in <key>.vrf
 * (recomputed here from the file's secret).
 */
static void
step_log_identity(void)
{
	struct http_resp r;
	struct kt_vrf_key *k = NULL;
	uint8_t pk[KT_VRF_PUBLIC_LEN], got[KT_VRF_PUBLIC_LEN], sk[64];
	char path[320], line[256], *b64;
	size_t n = 0;
	json_t *j;
	FILE *f;

	ck_assert_int_eq(logd_get(&S, "/v1/log", &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	ck_assert_str_eq(jstr(j, "origin"), S.origin);
	ck_assert_str_eq(jstr(j, "verifier_key"), S.vkey);
	b64 = (char *)jstr(j, "vrf_public_key");
	ck_assert_int_eq(kt_b64_decode(b64, strlen(b64), got, sizeof got, &n),
	    KT_OK);
	ck_assert_uint_eq(n, KT_VRF_PUBLIC_LEN);
	snprintf(path, sizeof path, "%s.vrf", S.key);
	f = fopen(path, "r");
	ck_assert(f != NULL && fgets(line, sizeof line, f) != NULL);
	fclose(f);
	/* PRIVATE+VRF-R255+<origin>+<base64> (the base64 may hold '+') */
	ck_assert(strncmp(line, "PRIVATE+VRF-R255+", 17) == 0);
	b64 = line + 17 + strlen(S.origin) + 1;
	ck_assert_int_eq(kt_b64_decode(b64, 44, sk, sizeof sk, &n), KT_OK);
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &k), KT_OK);
	kt_vrf_public(k, pk);
	kt_vrf_key_free(k);
	sodium_memzero(sk, sizeof sk);
	ck_assert_mem_eq(got, pk, sizeof pk);
	json_decref(j);
	/* No query, no other method. */
	ck_assert_int_eq(logd_get(&S, "/v1/log?x=1", &r), 400);
	http_resp_free(&r);
}

/* /checkpoint is the latest note (of the given size), signed by the log;
 * HEAD answers too. */
static void
step_checkpoint(uint64_t size, struct kt_checkpoint *cp)
{
	struct http_resp r, h;
	char url[128];

	ck_assert_int_eq(logd_get(&S, "/checkpoint", &r), 200);
	ck_assert(strncmp(r.ctype, "text/plain", 10) == 0);
	ck_assert_int_eq(logd_open_checkpoint(&S, r.body, r.len, cp), 0);
	ck_assert_uint_eq(cp->size, size);
	remember(cp);
	http_resp_free(&r);
	snprintf(url, sizeof url, "%s/checkpoint", S.url);
	ck_assert_int_eq(http_request(NULL, "HEAD", url, NULL, NULL, NULL, 0,
	                     &h),
	    0);
	ck_assert_int_eq(h.status, 200);
	http_resp_free(&h);
}

/* The inclusion proof of leaf i in checkpoint cp, fetched by index, checks
 * against the entry from /v1/entries; fetched by leaf hash it is the same
 * proof. */
static void
check_inclusion_by_index_and_leaf(uint64_t i, const struct kt_checkpoint *cp)
{
	struct http_resp r;
	char path[256];
	json_t *j, *ej;
	const char *eb;
	uint8_t ent[KT_UPDATE_LEN + 1];
	struct kt_hash lh;
	char b64[64], enc[128] = "";
	char *o = enc;
	long el;

	snprintf(path, sizeof path,
	    "/v1/proof/inclusion?index="
	    "%llu&size=%llu",
	    (unsigned long long)i, (unsigned long long)cp->size);
	ck_assert_int_eq(logd_get(&S, path, &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	snprintf(path, sizeof path,
	    "/v1/entries?start=%llu&end="
	    "%llu",
	    (unsigned long long)i, (unsigned long long)i + 1);
	ck_assert_int_eq(logd_get(&S, path, &r), 200);
	ej = parse(&r);
	eb = json_string_value(
	    json_array_get(json_object_get(ej, "entries"), 0));
	el = logd_b64(eb, ent, sizeof ent);
	ck_assert_int_eq(logd_check_inclusion(eb, i, j, cp), 0);
	/* The same proof by leaf hash. */
	kt_hash_leaf(ent, (size_t)el, &lh);
	sodium_bin2base64(b64, sizeof b64, lh.b, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	for (char *c = b64; *c; c++)
		o += *c == '+'  ? sprintf(o, "%%2B")
		    : *c == '/' ? sprintf(o, "%%2F")
		    : *c == '=' ? sprintf(o, "%%3D")
		                : sprintf(o, "%c", *c);
	json_decref(ej);
	http_resp_free(&r);
	snprintf(path, sizeof path,
	    "/v1/proof/inclusion?"
	    "leaf_hash=%s&size=%llu",
	    enc, (unsigned long long)cp->size);
	ck_assert_int_eq(logd_get(&S, path, &r), 200);
	ej = parse(&r);
	ck_assert(json_equal(ej, j));
	json_decref(ej);
	http_resp_free(&r);
	json_decref(j);
}

/* The consistency proof from checkpoint a to checkpoint b verifies. */
static void
check_consistency_between(const struct kt_checkpoint *a,
    const struct kt_checkpoint *b)
{
	struct kt_hash hs[KT_MAX_PROOF];
	struct http_resp r;
	char path[128];
	json_t *j, *arr;

	snprintf(path, sizeof path,
	    "/v1/proof/consistency?old="
	    "%llu&new=%llu",
	    (unsigned long long)a->size, (unsigned long long)b->size);
	ck_assert_int_eq(logd_get(&S, path, &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	arr = json_object_get(j, "hashes");
	for (size_t k = 0; k < json_array_size(arr); k++)
		ck_assert_int_eq(logd_b64(json_string_value(
		                              json_array_get(arr, k)),
		                     hs[k].b, 32),
		    32);
	ck_assert_int_eq(kt_merkle_verify_consistency(a->size, b->size, hs,
	                     json_array_size(arr), &a->root, &b->root),
	    KT_OK);
	json_decref(j);
}

/* Inclusion proofs at older sizes, by index and by leaf hash, and
 * consistency between every two checkpoints seen. */
static void
step_proofs_between_seen(void)
{
	for (size_t a = 0; a < nseen; a++) {
		for (uint64_t i = 0; i < seen[a].size; i += 37)
			check_inclusion_by_index_and_leaf(i, &seen[a]);
		for (size_t b = 0; b < nseen; b++) {
			if (seen[a].size > seen[b].size)
				continue;
			check_consistency_between(&seen[a], &seen[b]);
		}
	}
	ck_assert_uint_ge(nseen, 4);
}

/* Metrics count what happened. */
static void
step_metrics(uint64_t size)
{
	struct http_resp r;
	char want[64];

	ck_assert_int_eq(logd_get(&S, "/metrics", &r), 200);
	snprintf(want, sizeof want, "kt_tree_size %llu\n",
	    (unsigned long long)size);
	ck_assert_msg(strstr(r.body, want) != NULL, "%s", r.body);
	ck_assert(strstr(r.body,
	              "kt_http_requests_total{route=\"keys_post\","
	              "status=\"200\"}") != NULL);
	ck_assert(strstr(r.body,
	              "kt_http_requests_total{route=\"keys_post\","
	              "status=\"409\"} 2") != NULL);
	ck_assert(strstr(r.body, "kt_commit_seconds_bucket") != NULL);
	ck_assert(strstr(r.body, "kt_proof_seconds_count") != NULL);
	ck_assert(strstr(r.body, "kt_batch_size_bucket") != NULL);
	http_resp_free(&r);
}

START_TEST(test_publish_lookup_proofs)
{
	struct kt_checkpoint cp;
	uint64_t size;

	step_log_identity();
	step_publish_and_rotate();
	step_batch();
	step_revoke();
	step_lookup_history();
	step_canonical_labels();
	size = logd_size(&S);
	step_checkpoint(size, &cp);
	step_proofs_between_seen();
	check_entries_and_tiles(size, &cp);
	step_metrics(size);
}
END_TEST

/* ---- restart ---------------------------------------------------------- */

START_TEST(test_restart)
{
	struct http_resp r, cp0;
	struct kt_checkpoint cp;
	char body[8192], *p;
	json_t *j;

	/* r0..r19 at leaves 1..20, their map head at 21; r3's version 2 at
	 * 22, its map head at 23. */
	p = body + sprintf(body, "{\"entries\":[");
	for (int i = 0; i < 20; i++)
		p += sprintf(p,
		    "%s{\"label\":\"r%d\",\"key_type\":\"ed25519\","
		    "\"key\":\"%s\"}",
		    i ? "," : "", i, KEY_A);
	sprintf(p, "]}");
	ck_assert_int_eq(logd_post(&S, "/v1/keys:batch", body, &r), 200);
	http_resp_free(&r);
	j = publish("r3", KEY_B, 200);
	json_decref(j);
	ck_assert_int_eq(logd_get(&S, "/checkpoint", &cp0), 200);

	ck_assert_int_eq(logd_stop(&S), 0);
	ck_assert_int_eq(logd_start(&S, NULL), 0);
	ck_assert_uint_eq(S.startup_size, 24);
	ck_assert_uint_eq(logd_size(&S), 24);
	ck_assert_int_eq(logd_get(&S, "/checkpoint", &r), 200);
	ck_assert_str_eq(r.body, cp0.body);
	http_resp_free(&r);
	http_resp_free(&cp0);

	ck_assert_int_eq(logd_get(&S, "/v1/keys/r3", &r), 200);
	j = parse(&r);
	http_resp_free(&r);
	open_cp(j, &cp);
	check_lookup(j, &cp, "r3", KEY_B, 2, NULL);
	ck_assert_uint_eq(jint(j, "update_index"), 22);
	json_decref(j);
	/* Appends continue where they were; versions too. */
	j = publish("r3", KEY_C, 200);
	check_result(j, "r3", KEY_C, 3, &cp, NULL);
	ck_assert_uint_eq(jint(j, "index"), 24);
	json_decref(j);
	j = publish("r4", KEY_A, 200); /* idempotent across the restart */
	ck_assert_uint_eq(jint(j, "index"), 5);
	ck_assert(!jbool(j, "appended"));
	json_decref(j);
	ck_assert_uint_eq(logd_size(&S), 26);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd api");

	/* Each case on a fresh server. */
	kt_test_fixture_case(s, "publish_lookup_proofs", 120, setup, teardown,
	    test_publish_lookup_proofs, NULL);
	kt_test_fixture_case(s, "restart", 60, setup, teardown, test_restart,
	    NULL);
	return kt_test_run(s);
}
