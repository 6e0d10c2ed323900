/*
 * map_testlib.h: what the map suites share: a node store in memory behind
 * kt_map_reader/kt_map_writer, a naive reference map that computes roots
 * from the definitions alone (no code from map.c), and a seeded generator.
 */
#ifndef KT_TESTS_MAP_TESTLIB_H
#define KT_TESTS_MAP_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "kt/map.h"

/* ---- a node store in memory ---------------------------------------------- */

struct mem_store {
	struct mem_node *n;
	size_t len, cap;
	unsigned reads;
	int lie; /* 1: read returns a node of another hash */
};

void mem_store_init(struct mem_store *s);
void mem_store_free(struct mem_store *s);
struct kt_map_reader mem_reader(struct mem_store *s);
struct kt_map_writer mem_writer(struct mem_store *s);

/* ---- the reference map --------------------------------------------------- */

/* A map as a plain list of leaves, kept sorted by index. */
struct ref_map {
	struct kt_map_leaf *l;
	size_t n, cap;
};

void ref_free(struct ref_map *m);
/* The leaf for index, or NULL. */
struct kt_map_leaf *ref_find(struct ref_map *m, const struct kt_hash *index);
/* Applies one update as the rules say (the caller makes it valid). */
void ref_update(struct ref_map *m, const struct kt_map_update *u);
/* The root from the definitions in kt/map.h, with libsodium only. */
void ref_root(const struct ref_map *m, struct kt_hash *root);

/* ---- generator ----------------------------------------------------------- */

uint64_t rnd(uint64_t *state);
void rnd_hash(uint64_t *state, struct kt_hash *h);

/*
 * A valid update for index at log position log_index, continuing m's
 * leaf for it (version 1 if absent), with a leaf hash drawn from state.
 * `pending` is the same index's previous update in the same batch, or NULL.
 */
struct kt_map_update
next_update(const struct ref_map *m, const struct kt_hash *index,
    uint64_t log_index, const struct kt_map_update *pending, uint64_t *state);

#endif /* KT_TESTS_MAP_TESTLIB_H */
