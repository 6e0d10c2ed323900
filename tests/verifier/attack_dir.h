/*
 * attack_dir.h: the in-memory key directory behind attack_logd (TEST
 * ONLY). A view is one log of update and map head leaves (kt/leaf.h) with
 * the secrets kt-logd keeps beside them (labels, openings, values, chains);
 * the map's nodes live in one node store shared by every view (nodes are
 * addressed by hash, so views that fork share what they had in common).
 * Built on proto/ only: commitments, the VRF, kt_map_apply, kt_map_prove,
 * RFC 9162 proofs and signed checkpoints, as kt-logd makes them, so that
 * an honest view is indistinguishable from kt-logd and every lie the
 * server tells is made of validly signed parts.
 *
 * Everything aborts on out-of-memory: a test server, not a library.
 */
#ifndef KT_TESTS_ATTACK_DIR_H
#define KT_TESTS_ATTACK_DIR_H
#include <stddef.h>
#include <stdint.h>

#include "kt/checkpoint.h"
#include "kt/commit.h"
#include "kt/leaf.h"
#include "kt/lookup.h"
#include "kt/map.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "kt/vrf.h"

/* One leaf, its bytes and what the server keeps beside it. */
struct dleaf {
	uint8_t kind; /* KT_LEAF_UPDATE or KT_LEAF_MAP_HEAD */
	uint8_t bytes[KT_UPDATE_LEN];
	size_t len;
	struct kt_update u;
	struct kt_map_head h;
	/* updates: the secrets and the label's chain before and after */
	char label[KT_CANON_MAX + 1];
	size_t label_len;
	uint8_t opening[KT_OPENING_LEN];
	uint8_t vkind;
	char key_type[KT_KEY_TYPE_MAX];
	size_t key_type_len;
	uint8_t *key; /* malloc'd, key_len bytes */
	size_t key_len;
	struct kt_hash prev_chain, chain;
};

struct view {
	size_t n, cap;
	struct dleaf *l;
	struct kt_hash *lvl[64]; /* complete subtree hashes per level */
	size_t lvl_n[64], lvl_cap[64];
	struct kt_hash map_root; /* what the next map head builds on */
	uint64_t label_count;    /* labels in map_root */
	uint64_t last_head;      /* leaf index of the last map head */
	uint64_t batch_start;    /* first update not yet under a head */
};

/* The directory's two secrets and its identity. */
struct dir_keys {
	char origin[KT_KEY_NAME_MAX + 1];
	struct kt_signer *signer, *other; /* other: same name, another key */
	struct kt_vrf_key *vrf;
	uint8_t vrf_pk[KT_VRF_PUBLIC_LEN];
};

/* Sets up the keys (random) and the shared node store. 0 or -1. */
int dir_init(struct dir_keys *k, const char *origin);
void dir_fini(struct dir_keys *k);

/* A new view: leaf 0 is the empty map's head, as kt-logd starts. */
void view_init(struct view *v, uint64_t ts_ms);
void view_free(struct view *v);
void view_copy(struct view *dst, const struct view *src);

/* RFC 9162 node callback over a view (ctx = struct view *). */
kt_err
view_node(void *ctx, unsigned level, uint64_t index, struct kt_hash *out);

/* The label's VRF proof and map index (canonical label). */
int dir_vrf(const struct dir_keys *k, const char *label, size_t len,
    uint8_t proof[KT_VRF_PROOF_LEN], struct kt_hash *index);

/* Index of the label's newest update among the first size leaves, -1. */
int64_t view_find(const struct view *v, uint64_t size, const char *label);

/*
 * Appends an update of label (canonical) to v: the label's next version
 * linked to its newest update when version is 0, else exactly version and
 * prev (a lie the map step may refuse); value kind and key (borrowed), a
 * fresh random opening, the chain from the prev link. Returns the leaf
 * index, or -1 if the update does not encode.
 */
int64_t view_add(struct view *v, const struct dir_keys *k, const char *label,
    uint8_t vkind, const char *key_type, const uint8_t *key, size_t key_len,
    uint64_t version, uint64_t prev);

/* The lies a map head can tell (struct seal_lie_init: none). */
struct seal_lie {
	const char *omit; /* label whose updates the map step leaves out */
	uint64_t
	    rollback_head;  /* take this earlier map head's root and count */
	int force;          /* a batch breaking the rules keeps the old root */
	const char *change; /* label whose leaf the new map alters (chain) */
	const char *vanish; /* label whose leaf the new map drops */
	uint64_t count;     /* the head's label_count (UINT64_MAX: honest) */
	uint64_t log_size;  /* the head's log_size (UINT64_MAX: honest) */
	uint64_t prev_head; /* the head's link (UINT64_MAX: honest) */
};
void seal_lie_init(struct seal_lie *l);

/*
 * Closes the batch with a map head at time ts_ms. An honest seal applies
 * the batch's updates to the map; the lies are in *lie (NULL: none):
 * omit, rollback_head, change and vanish make a map that is not the one
 * the batch makes (later batches build on it, as a lying log's would);
 * force keeps the old root for a batch that breaks the map's rules (why
 * says which rule); count, log_size and prev_head are written into the
 * head as given. Returns 0, or -1 with *why set.
 */
int view_seal(struct view *v, const struct dir_keys *k, uint64_t ts_ms,
    const struct seal_lie *lie, const char **why);

/*
 * The map under *root with index's leaf changed (its chain altered) or,
 * with vanish, removed: the new root into *out, its nodes stored. 0, or
 * -1 when index has no leaf in that map.
 */
int dir_map_tamper(const struct kt_hash *root, const struct kt_hash *index,
    int vanish, struct kt_hash *out);

/* 1 if size is a checkpoint size of v (its last leaf is a map head). */
int view_is_checkpoint(const struct view *v, uint64_t size);

/* The signed checkpoint note of v at size into buf (KT_NOTE_MAX). */
int view_note(const struct view *v, const struct dir_keys *k, uint64_t size,
    const struct kt_signer *s, char *buf, size_t cap);

/* Inclusion proof of leaf i in the tree of size size. */
int
view_inclusion(struct view *v, uint64_t i, uint64_t size, struct kt_proof *out);

/* The map proof of index under root (from the shared node store). */
int dir_map_prove(const struct kt_hash *root, const struct kt_hash *index,
    struct kt_map_proof *out);

/*
 * The honest lookup proof of label (canonical) at checkpoint size over
 * v, as kt-logd's bundle_lookup makes it. 0 or -1.
 */
int view_lookup(struct view *v, const struct dir_keys *k, const char *label,
    uint64_t size, struct kt_lookup_proof *p);

#endif /* KT_TESTS_ATTACK_DIR_H */
