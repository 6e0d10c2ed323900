/*
 * witness_testlib.h: helpers for the kt-witness tests. In-memory Merkle
 * trees (two branches that share a prefix make a forked log), signed test
 * checkpoints made with proto, and add-checkpoint request bodies.
 */
#ifndef KT_WITNESS_TESTLIB_H
#define KT_WITNESS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "kt/checkpoint.h"
#include "kt/merkle.h"
#include "kt/note.h"

#define WT_BODY_MAX (128 * 1024)

/* A tree of n leaves; leaves [0, fork) are shared by every branch, later
 * leaves depend on `branch`. */
struct wt_tree {
	size_t n;
	struct kt_hash *leaf;
};

void wt_tree_init(struct wt_tree *t, size_t n, unsigned branch, size_t fork);
void wt_tree_free(struct wt_tree *t);

/* kt_node_fn over a wt_tree (recursive; small trees only). */
kt_err wt_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out);

/* Root of the first `size` leaves. Aborts on error (test helper). */
void wt_root(const struct wt_tree *t, uint64_t size, struct kt_hash *root);

/* Consistency proof from old to new_size in t. */
void wt_proof(const struct wt_tree *t, uint64_t old, uint64_t new_size,
    struct kt_proof *p);

/* A signer from a seed made of one repeated byte. */
struct kt_signer *wt_signer(const char *name, uint8_t type, uint8_t seed_byte);

/* The verifier key string of s, into buf (KT_KEY_TEXT_MAX). */
void wt_verifier_string(const struct kt_signer *s, char *buf);

/* Checkpoint text for (origin, size, root) into text (NUL-terminated). */
size_t wt_checkpoint_text(const char *origin, uint64_t size,
    const struct kt_hash *root, char *text, size_t cap);

/* A checkpoint note signed by `log` (origin = the signer's name) for the
 * first `size` leaves of t. Returns its length. */
size_t wt_checkpoint_note(const struct kt_signer *log, const struct wt_tree *t,
    uint64_t size, char *buf, size_t cap);

/* An add-checkpoint body: "old N\n", proof lines, "\n", note. */
size_t wt_body(uint64_t old, const struct kt_proof *p, const char *note,
    size_t note_len, char *buf, size_t cap);

/* A complete body for growing t from `old` to `size`, signed by log. */
size_t wt_body_for(const struct kt_signer *log, const struct wt_tree *t,
    uint64_t old, uint64_t size, char *buf, size_t cap);

/*
 * Checks that cosig (a signature line) is a valid cosignature by witness
 * key wv over note's text. Returns 1 and sets *timestamp if so, else 0.
 */
int wt_cosig_ok(const struct kt_verifier *wv, const char *note, size_t note_len,
    const char *cosig, size_t cosig_len, uint64_t *timestamp);

/* The checkpoint (size, root) of a note, or -1 if it does not parse. */
int wt_note_checkpoint(const char *note, size_t len, struct kt_checkpoint *cp);

/* Removes a directory tree (test state folders). */
void wt_rmrf(const char *dir);

#endif /* KT_WITNESS_TESTLIB_H */
