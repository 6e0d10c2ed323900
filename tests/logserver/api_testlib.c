/*
 * api_testlib.c: helpers shared by the key directory's end-to-end suites
 * (api_testlib.h). Every check goes through proto's verifiers: notes with
 * the log's verifier key, lookups with kt_lookup_verify, inclusion with
 * kt_merkle_verify_inclusion, commitments with kt_commit_verify.
 */
#include "api_testlib.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/commit.h"
#include "kt/map.h"

struct logd S;

struct kt_checkpoint seen[MAX_CP];
size_t nseen;

void
remember(const struct kt_checkpoint *cp)
{
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].size == cp->size) {
			ck_assert_msg(kt_hash_eq(&seen[i].root, &cp->root),
			    "two roots for size %llu",
			    (unsigned long long)cp->size);
			return;
		}
	if (nseen < MAX_CP)
		seen[nseen++] = *cp;
}

/* Whether the KT_HASH_LEN bytes at p (an answer's raw bytes) are h. */
int
bytes_are_hash(const void *p, const struct kt_hash *h)
{
	struct kt_hash got;

	memcpy(got.b, p, KT_HASH_LEN);
	return kt_hash_eq(&got, h);
}

json_t *
parse(const struct http_resp *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	ck_assert_msg(j != NULL, "not JSON: %s", r->body);
	return j;
}

const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	ck_assert_msg(json_is_string(v), "field %s missing", k);
	return json_string_value(v);
}

uint64_t
jint(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	ck_assert_msg(json_is_integer(v), "field %s missing", k);
	return (uint64_t)json_integer_value(v);
}

int
jbool(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	ck_assert_msg(json_is_boolean(v), "field %s missing", k);
	return json_is_true(v);
}

void
open_cp(json_t *o, struct kt_checkpoint *cp)
{
	const char *note = jstr(o, "checkpoint");

	ck_assert_int_eq(logd_open_checkpoint(&S, note, strlen(note), cp), 0);
	if (json_object_get(o, "checkpoint_size") != NULL)
		ck_assert_uint_eq(jint(o, "checkpoint_size"), cp->size);
	remember(cp);
}

void
decode_update(const char *b64, struct kt_update *u)
{
	uint8_t leaf[KT_UPDATE_LEN + 1];
	long n = logd_b64(b64, leaf, sizeof leaf);

	ck_assert_int_eq(n, KT_UPDATE_LEN);
	ck_assert_int_eq(kt_update_decode(leaf, (size_t)n, u), KT_OK);
}

/* The JSON fields of lk agree with the verified result. */
static void
check_fields(json_t *lk, const struct kt_lookup_proof *p,
    const struct kt_lookup_result *res)
{
	uint8_t idx[KT_HASH_LEN + 1];

	ck_assert_uint_eq(strlen(jstr(lk, "label")), p->label_len);
	ck_assert_mem_eq(jstr(lk, "label"), p->label, p->label_len);
	ck_assert_int_eq(logd_b64(jstr(lk, "map_index"), idx, sizeof idx),
	    KT_HASH_LEN);
	ck_assert(bytes_are_hash(idx, &res->index));
	ck_assert_int_eq(jbool(lk, "present"), res->present);
	ck_assert_uint_eq(jint(lk, "head_index"), res->head_index);
	ck_assert_uint_eq(jint(lk, "head_timestamp_ms"),
	    res->head_timestamp_ms);
	if (!res->present) {
		ck_assert_ptr_null(json_object_get(lk, "version"));
		ck_assert_ptr_null(json_object_get(lk, "key"));
		return;
	}
	ck_assert_uint_eq(jint(lk, "version"), res->leaf.version);
	ck_assert_uint_eq(jint(lk, "update_index"), res->leaf.update_index);
	if (res->revoked) {
		ck_assert(jbool(lk, "revoked"));
		ck_assert_ptr_null(json_object_get(lk, "key"));
		return;
	}
	ck_assert_uint_eq(strlen(jstr(lk, "key_type")), res->key_type_len);
	ck_assert_mem_eq(jstr(lk, "key_type"), res->key_type,
	    res->key_type_len);
}

void
check_lookup(json_t *lk, const struct kt_checkpoint *cp, const char *label,
    const char *key_b64, uint64_t version, struct kt_update *u)
{
	struct kt_lookup_proof *p = malloc(sizeof *p);
	struct kt_lookup_result res;
	uint8_t key[128];
	long kl;

	ck_assert_ptr_nonnull(p);
	ck_assert_msg(logd_check_lookup(&S, jstr(lk, "lookup_proof"), label, cp,
	                  p, &res) == 0,
	    "the lookup proof of '%s' does not verify", label);
	ck_assert_uint_eq(res.head_index, cp->size - 1);
	ck_assert_int_eq(res.present, version > 0);
	check_fields(lk, p, &res);
	if (version > 0) {
		ck_assert_uint_eq(res.leaf.version, version);
		ck_assert_uint_eq(p->update.version, version);
		ck_assert_int_eq(res.revoked, key_b64 == NULL);
	}
	if (version > 0 && key_b64 != NULL) {
		kl = logd_b64(key_b64, key, sizeof key);
		ck_assert_int_gt(kl, 0);
		ck_assert_uint_eq(res.key_len, (size_t)kl);
		ck_assert_mem_eq(res.key, key, res.key_len);
		ck_assert_uint_eq(res.key_type_len, 7);
		ck_assert_mem_eq(res.key_type, "ed25519", 7);
		ck_assert_str_eq(jstr(lk, "key"), key_b64);
	}
	if (u != NULL)
		*u = p->update;
	free(p);
}

void
check_result(json_t *o, const char *label, const char *key_b64,
    uint64_t version, struct kt_checkpoint *cp, struct kt_update *u)
{
	json_t *lk = json_object_get(o, "lookup");
	struct kt_update up;

	open_cp(o, cp);
	ck_assert_uint_eq(jint(o, "version"), version);
	ck_assert(json_is_boolean(json_object_get(o, "appended")));
	ck_assert_msg(json_is_object(lk), "no lookup in the answer");
	ck_assert_str_eq(jstr(o, "map_index"), jstr(lk, "map_index"));
	check_lookup(lk, cp, label, key_b64, version, &up);
	/* The write's update is the latest: the lookup proves it. */
	ck_assert_uint_eq(jint(o, "index"), jint(lk, "update_index"));
	if (u != NULL)
		*u = up;
}

/* Checks one history version v (with its update u) and its value. */
static void
check_version(json_t *v, const char *label, const struct kt_update *u)
{
	struct kt_value val = { 0 };
	uint8_t opening[KT_OPENING_LEN + 1], key[128];
	long n;

	if (json_is_true(json_object_get(v, "erased"))) {
		ck_assert_ptr_null(json_object_get(v, "opening"));
		ck_assert_ptr_null(json_object_get(v, "key"));
		return;
	}
	ck_assert_int_eq(logd_b64(jstr(v, "opening"), opening, sizeof opening),
	    KT_OPENING_LEN);
	if (json_is_true(json_object_get(v, "revoked"))) {
		val.kind = KT_VALUE_REVOKE;
	} else {
		n = logd_b64(jstr(v, "key"), key, sizeof key);
		ck_assert_int_gt(n, 0);
		val.kind = KT_VALUE_KEY;
		val.key_type = jstr(v, "key_type");
		val.key_type_len = strlen(val.key_type);
		val.key = key;
		val.key_len = (size_t)n;
	}
	ck_assert_msg(kt_commit_verify(opening, label, strlen(label),
	                  u->version, &val, &u->commitment) == KT_OK,
	    "version %llu of %s: the commitment does not open",
	    (unsigned long long)u->version, label);
}

size_t
check_history(json_t *h, const char *label, uint64_t from,
    struct kt_hash *chain)
{
	json_t *vs = json_object_get(h, "versions");
	struct kt_checkpoint cp;
	struct kt_hash c, pc, lh;
	uint64_t prev_index = 0;
	size_t n = json_array_size(vs);

	open_cp(h, &cp);
	ck_assert_str_eq(jstr(h, "label"), label);
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(vs, i);
		uint64_t ver = from + i, idx = jint(v, "index");
		struct kt_update u;
		uint8_t b[KT_HASH_LEN + 1];

		ck_assert_uint_eq(jint(v, "version"), ver);
		ck_assert_int_eq(logd_check_inclusion(jstr(v, "entry"), idx,
		                     json_object_get(v, "proof"), &cp),
		    0);
		decode_update(jstr(v, "entry"), &u);
		ck_assert_uint_eq(u.version, ver);
		ck_assert_int_eq(logd_b64(jstr(h, "map_index"), b, sizeof b),
		    KT_HASH_LEN);
		ck_assert(bytes_are_hash(b, &u.index));
		if (ver == 1)
			ck_assert_uint_eq(u.prev_index, KT_NO_PREV);
		else if (i > 0)
			ck_assert_uint_eq(u.prev_index, prev_index);
		prev_index = idx;
		ck_assert_int_eq(logd_b64(jstr(v, "prev_chain"), pc.b,
		                     sizeof pc.b),
		    KT_HASH_LEN);
		if (i > 0)
			ck_assert(kt_hash_eq(&pc, &c));
		kt_update_leaf_hash(&u, &lh);
		if (ver == 1) {
			struct kt_hash zero = { { 0 } };
			ck_assert(kt_hash_eq(&pc, &zero));
			kt_map_chain_next(NULL, &lh, &c);
		} else {
			kt_map_chain_next(&pc, &lh, &c);
		}
		check_version(v, label, &u);
	}
	if (chain != NULL)
		*chain = c;
	return n;
}

json_t *
publish(const char *label, const char *key, long want)
{
	char body[1024];
	struct http_resp r;
	json_t *j;

	if (key)
		snprintf(body, sizeof body,
		    "{\"label\":\"%s\",\"key_type\":"
		    "\"ed25519\",\"key\":\"%s\"}",
		    label, key);
	else
		snprintf(body, sizeof body,
		    "{\"label\":\"%s\",\"revoke\":true}", label);
	ck_assert_int_eq(logd_post(&S, "/v1/keys", body, &r), want);
	j = parse(&r);
	http_resp_free(&r);
	if (want != 200)
		ck_assert(json_is_string(json_object_get(j, "error")));
	return j;
}

void
setup(void)
{
	nseen = 0;
	logd_up(&S, NULL);
}

void
teardown(void)
{
	logd_down(&S);
}
