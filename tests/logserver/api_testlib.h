/*
 * api_testlib.h: the server, the checkpoints seen and the JSON,
 * publication and proof-checking helpers shared by the end-to-end suites
 * of the key directory (check_api*.c, check_directory_e2e.c).
 */
#ifndef KT_TESTS_API_TESTLIB_H
#define KT_TESTS_API_TESTLIB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/logd.h"
#include "kt/checkpoint.h"
#include "kt/leaf.h"
#include "kt/lookup.h"
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
/* Field k of o, asserting it is a string / an integer / a boolean. */
const char *jstr(json_t *o, const char *k);
uint64_t jint(json_t *o, const char *k);
int jbool(json_t *o, const char *k);
/* Opens note (field "checkpoint" of o) with the log's key into *cp and
 * remembers it; asserts o's "checkpoint_size" is its size when present. */
void open_cp(json_t *o, struct kt_checkpoint *cp);

/*
 * Checks the lookup fields of lk (a lookup answer, or the "lookup" object
 * of a publication) for label at cp: its lookup_proof verifies with
 * kt_lookup_verify (the log's VRF key) and says what the fields say and
 * what the caller expects: version 0 = absent; key_b64 NULL = revoked,
 * else an ed25519 key. *u (may be NULL) gets the latest update leaf.
 */
void check_lookup(json_t *lk, const struct kt_checkpoint *cp, const char *label,
    const char *key_b64, uint64_t version, struct kt_update *u);
/* Checks a single publication's answer o (its checkpoint and lookup);
 * returns the checkpoint and (u may be NULL) the update leaf. */
void check_result(json_t *o, const char *label, const char *key_b64,
    uint64_t version, struct kt_checkpoint *cp, struct kt_update *u);
/*
 * Checks a label's history answer h (one page, opened against its own
 * checkpoint): versions from `from` on, each update leaf included at its
 * index, linked to the one before, its commitment opened by its opening
 * and value (or "erased":true, then neither), prev_chain the chain of the
 * versions before it. Returns the number of versions in the page and, in
 * *chain, the chain through the page's last version.
 */
size_t check_history(json_t *h, const char *label, uint64_t from,
    struct kt_hash *chain);
/* The decoded leaf (base64 b64) as an update; asserts it is one. */
void decode_update(const char *b64, struct kt_update *u);

/* POSTs a publication of key (or a revocation if key is NULL) for label,
 * asserts the status want, and returns the answer's JSON. */
json_t *publish(const char *label, const char *key, long want);
/* Checked fixture: a fresh server; teardown stops it. */
void setup(void);
void teardown(void);

#endif
