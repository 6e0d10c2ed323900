/*
 * seq_testlib.h: the fixture and helpers shared by the sequencer suites
 * (check_sequencer*.c, check_directory.c): a log key and a VRF key, a store
 * in a fresh temporary folder, requests with their VRF proofs, a
 * synchronous waiter for submissions, and checks of the store's checkpoint
 * and leaves.
 */
#ifndef KT_TESTS_SEQ_TESTLIB_H
#define KT_TESTS_SEQ_TESTLIB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kt/checkpoint.h"
#include "kt/leaf.h"
#include "kt/note.h"
#include "kt/vrf.h"
#include "sequencer.h"
#include "store/store.h"

#define ORIGIN "example.com/kt-seq-test"

/* The test's folder, the log's signer and verifier key, and its VRF key
 * and public key (setup). */
extern char tmpdir[256];
extern struct kt_signer *signer;
extern struct kt_verifier verifier;
extern char vkey[KT_KEY_TEXT_MAX];
extern struct kt_vrf_key *vrf;
extern uint8_t vrf_pk[KT_VRF_PUBLIC_LEN];

/* Checked fixture: a fresh folder, the log key and a random VRF key;
 * teardown removes them. */
void setup(void);
void teardown(void);
/* Opens the store in tmpdir with the given map size (asserting it opens). */
struct kt_store *open_store(size_t mapsize);
/* Starts a sequencer over s signing with signer (0: the defaults). */
struct kt_seq *start(struct kt_store *s, size_t max_batch, size_t max_queue);
/* The same with every option given. */
struct kt_seq *start_opts(struct kt_store *s, const struct kt_seq_opts *o);

/*
 * The VRF proof and map index of a canonical label under the fixture's
 * VRF key, proved once per label and kept until teardown (any thread).
 * The pointer stays valid until teardown.
 */
struct label_vrf {
	uint8_t proof[KT_VRF_PROOF_LEN];
	struct kt_hash index;
};
const struct label_vrf *label_vrf(const char *label);

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
/* A publish, a revoke and an erase request for label, with its VRF proof
 * and map index (label and key borrowed). */
struct kt_seq_req
pub(const char *label, const char *key_type, const uint8_t *key, size_t len);
struct kt_seq_req rev(const char *label);
struct kt_seq_req erase_req(const char *label);
/* Submits reqs as one submission and waits for its callback. */
void submit_wait(struct kt_seq *q, const struct kt_seq_req *reqs, size_t n,
    struct waiter *w);
/* The store's latest checkpoint verifies under the log key and commits to
 * the store's own root of its size, and the last leaf is a map head whose
 * log_size is its index; returns that size. */
uint64_t check_checkpoint(struct kt_store *s);
/* Parses and verifies a signed checkpoint note into *c (asserting). */
void open_checkpoint(const char *note, size_t len, struct kt_checkpoint *c);
/* The update leaf, the map head leaf and the value at index (asserting). */
void read_update(struct kt_store *s, uint64_t index, struct kt_update *u);
void read_head(struct kt_store *s, uint64_t index, struct kt_map_head *h);
void read_value(struct kt_store *s, uint64_t index, struct kt_store_value *v);

#endif
