/*
 * seq_testlib.h: the fixture and helpers shared by the check_sequencer*.c
 * suites: a log key, a store in a fresh temporary folder, a synchronous
 * waiter for submissions, and checks of the store's checkpoint and
 * entries.
 */
#ifndef KT_TESTS_SEQ_TESTLIB_H
#define KT_TESTS_SEQ_TESTLIB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kt/entry.h"
#include "kt/note.h"
#include "sequencer.h"
#include "store/store.h"

#define ORIGIN "example.com/kt-seq-test"

/* The test's folder, the log's signer and its verifier key (setup). */
extern char tmpdir[256];
extern struct kt_signer *signer;
extern struct kt_verifier verifier;
extern char vkey[KT_KEY_TEXT_MAX];

/* Checked fixture: a fresh folder and the log key; teardown removes them. */
void setup(void);
void teardown(void);
/* Opens the store in tmpdir with the given map size (asserting it opens). */
struct kt_store *open_store(size_t mapsize);
/* Starts a sequencer over s signing with signer. */
struct kt_seq *start(struct kt_store *s, size_t max_batch, size_t max_queue);

/* ---- a synchronous waiter ------------------------------------------------- */

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int calls;
	kt_err err;
	uint64_t tree_size;
	size_t n;
	struct kt_seq_res res[512];
	/* optional: block inside the callback until released */
	int hold;
	int held;
};

void waiter_init(struct waiter *w);
/* The kt_seq_done callback: records the outcome in the waiter (arg) and,
 * while w->hold, blocks inside the callback. */
void on_done(void *arg, kt_err err, uint64_t tree_size,
    const struct kt_seq_res *res, size_t n);
/* Waits for the first callback. */
void waiter_wait(struct waiter *w);
/* A publish request and a revoke request for label. */
struct kt_seq_req
pub(const char *label, const char *key_type, const uint8_t *key, size_t len);
struct kt_seq_req rev(const char *label);
/* Submits reqs as one submission and waits for its callback. */
void submit_wait(struct kt_seq *q, const struct kt_seq_req *reqs, size_t n,
    struct waiter *w);
/* The store's latest checkpoint verifies under the log key and commits to
 * the store's own root of its size; returns that size. */
uint64_t check_checkpoint(struct kt_store *s);
/* Entry index of the store, copied into buf and decoded into e. */
void read_entry(struct kt_store *s, uint64_t index, uint8_t *buf, size_t *len,
    struct kt_entry *e);

#endif
