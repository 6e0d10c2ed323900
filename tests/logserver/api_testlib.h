/*
 * api_testlib.h: the server, the checkpoints seen and the JSON and
 * publication helpers shared by the check_api*.c suites.
 */
#ifndef KT_TESTS_API_TESTLIB_H
#define KT_TESTS_API_TESTLIB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/logd.h"
#include "kt/checkpoint.h"
#include "kt/merkle.h"

#define KEY_A "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define KEY_B "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="
#define KEY_C "Bv8Hc8Yr7Jd4sQp5mXb4nK9zT3fW1aE6gL2hU0iR5o8="

/* The kt-logd under test (setup starts it, teardown stops it). */
extern struct logd S;

/* Checkpoints seen by this client: size -> root. */
#define MAX_CP 64
extern struct kt_checkpoint seen[MAX_CP];
extern size_t nseen;

/* Records cp in seen, asserting one root per size. */
void remember(const struct kt_checkpoint *cp);
/* Whether the KT_HASH_LEN bytes at p (an answer's raw bytes) are h. */
int bytes_are_hash(const void *p, const struct kt_hash *h);
/* The answer's body as JSON (asserting it is JSON). */
json_t *parse(const struct http_resp *r);
/* Field k of o, asserting it is a string / an integer. */
const char *jstr(json_t *o, const char *k);
uint64_t jint(json_t *o, const char *k);
/* Checks one publication result; returns its checkpoint. */
void check_result(json_t *o, const char *label, const char *key_b64,
    uint64_t version, struct kt_checkpoint *cp);
/* POSTs a publication of key (or a revocation if key is NULL) for label,
 * asserts the status want, and returns the answer's JSON. */
json_t *publish(const char *label, const char *key, long want);
/* Checked fixture: a fresh server; teardown stops it. */
void setup(void);
void teardown(void);

#endif
