/*
 * verify_testlib.h: fixtures shared by the check_verify*.c suites: two
 * signers, entries, small in-memory trees, temporary folders and the status
 * of evidence files.
 */
#ifndef KT_TESTS_VERIFY_TESTLIB_H
#define KT_TESTS_VERIFY_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "kt/tlogproof.h"
#include "verify_internal.h"

/* The log's signer and its verifier, and another key for the same origin
 * (setup makes them, teardown frees them). */
extern struct kt_signer *signer, *other;
extern struct kt_verifier vk;

struct tree {
	size_t n;
	struct kt_hash leaf[64];
	uint8_t ent[64][128];
	size_t elen[64];
};

/* The kt node source over a struct tree (ctx): perfect subtrees hashed
 * from the leaves on every call. */
kt_err node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out);
/* Encodes an update leaf into buf (128 bytes): index SHA-256(label), the
 * commitment to (label, version, an ed25519 key of 32 bytes of keybyte, or
 * a revocation) under mkopening(keybyte); returns its length. ts is
 * unused (updates carry no time). */
size_t mkentry(uint8_t *buf, const char *label, uint8_t type, uint64_t version,
    uint64_t prev, uint8_t keybyte, uint64_t ts);
/* The opening mkentry commits with for keybyte. */
void mkopening(uint8_t keybyte, uint8_t op[KT_OPENING_LEN]);
/* Appends a map head (empty map's root) with log_size and time ts. */
void addhead(struct tree *t, uint64_t log_size, uint64_t ts);
/* Appends that entry to t. */
void add(struct tree *t, const char *label, uint8_t type, uint64_t version,
    uint64_t prev, uint8_t keybyte, uint64_t ts);
/* n filler entries for labels f0..f(n-1). */
void fill(struct tree *t, size_t n);
/* The checkpoint note of t at size, signed by s (malloc'd). */
char *note_of(struct tree *t, size_t size, struct kt_signer *s);
/* The proof's hashes as a JSON array of base64 strings. */
json_t *hashes(const struct kt_proof *p);
/* {"index","entry","hashes"} with a proof of leaf i in the size tree. */
json_t *leaf_rec(struct tree *t, uint64_t i, uint64_t size);
/* Checked fixture: makes and frees the signers. */
void setup(void);
void teardown(void);
/* A fresh temporary folder (malloc'd name); rmrf removes it. */
char *tmpdir(void);
void rmrf(const char *d);
/* kt_verify_evidence's status for an evidence file's text, against vk. */
int status_of(const char *json_text);
/* status_of for ev, which it consumes. */
int status_ev(json_t *ev);
/* Adds test t as TCase name to s with the setup/teardown fixture and a
 * 60 s timeout. */
void verify_add(Suite *s, const char *name, const TTest *t);

#endif
