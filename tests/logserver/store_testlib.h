/*
 * store_testlib.h: the reference model and store helpers shared by the
 * check_store*.c suites.
 *
 * Reference model: update leaves (kt/leaf.h) and their hashes kept in
 * memory; roots of every size from kt_frontier (appended one leaf at a time); proofs from proto's generator
 * over an in-memory node function (every perfect subtree hashed naively from
 * the leaves), and each store proof also verified against the frontier's
 * root. Each test case uses a fresh temporary folder, removed afterwards.
 */
#ifndef KT_TESTS_STORE_TESTLIB_H
#define KT_TESTS_STORE_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "kt/merkle.h"
#include "store/store.h"

#define ORIGIN "example.com/kt-test"
#define VKEY \
	"example.com/kt-test+01234567+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define MAXN 4096

/* The test case's temporary folder (tmp_setup makes it). */
extern char tmpdir[64];

/* Checked fixture: a fresh temporary folder in tmpdir, removed after. */
void tmp_setup(void);
void tmp_teardown(void);

struct model {
	uint64_t n;
	struct kt_hash leaf[MAXN];
	struct kt_hash root[MAXN + 1]; /* root of every size */
	uint8_t enc[MAXN][200];
	size_t enc_len[MAXN];
	uint64_t label_count[97];
	uint64_t label_last[97];
	struct kt_frontier f;
	/* all perfect subtrees: lv[l][i] for l <= 12 */
	struct kt_hash *lv[13];
	uint64_t lv_n[13];
};

/* The model of the running test (model_init to model_free). */
extern struct model *M;

/* Allocates an empty model in M. */
void model_init(void);
/* Frees M. */
void model_free(void);
/* The map index the store tests give a label: SHA-256 of its bytes (the
 * store takes any 32 bytes; the sequencer's are VRF outputs). */
void test_index(const char *label, struct kt_hash *out);
/* Label number li of the model, "user-<li>@example.com", into buf, and its
 * map index. */
void model_label(unsigned li, char *buf, size_t cap, struct kt_hash *index);
/* Builds leaf number i of the model: an update (kt/leaf.h) of label
 * "user-<i % 97>", its next version, linked to its previous update. */
void model_make(uint64_t i);

/* Opens the store in tmpdir (asserting it opens). */
struct kt_store *open_store(void);
/* Appends model entries [from, to) in one transaction with a dummy
 * checkpoint; retries (as the sequencer does) when the map was grown. */
void append_range(struct kt_store *s, uint64_t from, uint64_t to);
/* Everything the store says at its current size agrees with the model:
 * roots, leaves, labels and proofs; inclusion proofs of every leaf at every
 * size up to 300 when all_pairs, sampled otherwise. */
void check_all(struct kt_store *s, int all_pairs);
/*
 * Checks a snapshot's label and leaf lookups against the model at its
 * size: model_make gives label i % 97 to entry i, so label li's version v
 * is entry li + 97 (v - 1).
 */
void check_indexes(struct kt_store_read *r);

#endif
