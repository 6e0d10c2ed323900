/*
 * api_testlib.c: helpers shared by the check_api*.c suites
 * (api_testlib.h).
 */
#include "api_testlib.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "kt/entry.h"

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

/* Checks one publication result; returns its checkpoint. */
void
check_result(json_t *o, const char *label, const char *key_b64,
    uint64_t version, struct kt_checkpoint *cp)
{
	const char *note = jstr(o, "checkpoint");
	uint8_t ent[KT_ENTRY_MAX], key[64];
	struct kt_entry e;
	struct kt_hash leaf;
	uint8_t lh[40];
	long el;
	uint64_t index = jint(o, "index");

	ck_assert_int_eq(logd_open_checkpoint(&S, note, strlen(note), cp), 0);
	remember(cp);
	ck_assert_uint_eq(jint(o, "version"), version);
	ck_assert_int_eq(logd_check_inclusion(jstr(o, "entry"), index,
	                     json_object_get(o, "proof"), cp),
	    0);
	el = logd_b64(jstr(o, "entry"), ent, sizeof ent);
	ck_assert_int_gt(el, 0);
	ck_assert_int_eq(kt_entry_decode(ent, (size_t)el, &e), KT_OK);
	ck_assert_uint_eq(e.label_len, strlen(label));
	ck_assert(memcmp(e.label, label, e.label_len) == 0);
	ck_assert_uint_eq(e.version, version);
	if (key_b64 != NULL) {
		long kl = logd_b64(key_b64, key, sizeof key);
		ck_assert_int_eq(e.type, KT_ENTRY_KEY);
		ck_assert_uint_eq(e.key_len, (size_t)kl);
		ck_assert(memcmp(e.key, key, e.key_len) == 0);
	} else {
		ck_assert_int_eq(e.type, KT_ENTRY_REVOKE);
	}
	kt_hash_leaf(ent, (size_t)el, &leaf);
	ck_assert_int_eq(logd_b64(jstr(o, "leaf_hash"), lh, sizeof lh), 32);
	ck_assert(bytes_are_hash(lh, &leaf));
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
