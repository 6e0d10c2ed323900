/*
 * mirror_map.c: a kt log's directory map rebuilt from its leaves, batch
 * by batch (mirror_map.h).
 */
#include "mirror_map.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "kt/leaf.h"

void
kt_mmap_begin(struct kt_mmap *mm, const struct kt_mstore_map *at)
{
	memset(mm, 0, sizeof(*mm));
	mm->m = *at;
	mm->start = at->size;
	if (at->size == 0) {
		mm->m.head_index = KT_MAP_NO_PREV;
		mm->m.label_count = 0;
		kt_map_empty_root(&mm->m.root);
	}
}

void
kt_mmap_end(struct kt_mmap *mm)
{
	free(mm->u);
	free(mm->dead.h);
	free(mm->deferred.h);
	memset(mm, 0, sizeof(*mm));
}

static kt_err
push(struct kt_hashes *l, const struct kt_hash *h)
{
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 256 : l->cap * 2;
		struct kt_hash *p = realloc(l->h, cap * sizeof(*p));

		if (p == NULL)
			return KT_ERR_NOMEM;
		l->h = p;
		l->cap = cap;
	}
	l->h[l->n++] = *h;
	return KT_OK;
}

/* The first bit in which a and b differ (256: none). */
static unsigned
first_diff(const struct kt_hash *a, const struct kt_hash *b)
{
	for (unsigned bit = 0; bit < KT_MAP_BITS; bit++)
		if (kt_map_bit(a, bit) != kt_map_bit(b, bit))
			return bit;
	return KT_MAP_BITS;
}

/*
 * Notes the nodes of the current map that a change at `index` rewrites:
 * every node down to the index's own leaf; for an index new to the map,
 * the nodes above the bit where it parts from the leaf its path reaches.
 */
static kt_err
note_path(struct kt_mmap *mm, const struct kt_map_reader *r,
    const struct kt_hash *index)
{
	struct {
		struct kt_hash h;
		unsigned bit;
	} path[KT_MAP_MAX_DEPTH];
	struct kt_hash h = mm->m.root, empty;
	struct kt_map_node n;
	size_t np = 0;
	unsigned d;
	kt_err err;

	kt_map_empty_root(&empty);
	if (kt_hash_eq(&h, &empty))
		return KT_OK;
	for (;;) {
		if ((err = r->read(r->ctx, &h, index, (unsigned)np, &n)) !=
		    KT_OK)
			return err == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : err;
		if (n.is_leaf)
			break;
		if (np == KT_MAP_MAX_DEPTH)
			return KT_ERR_INTERNAL;
		path[np].h = h;
		path[np++].bit = n.bit;
		h = n.child[kt_map_bit(index, n.bit)];
	}
	d = first_diff(index, &n.leaf.index);
	if (d == KT_MAP_BITS && (err = push(&mm->dead, &h)) != KT_OK)
		return err;
	for (size_t i = 0; i < np && path[i].bit < d; i++)
		if ((err = push(&mm->dead, &path[i].h)) != KT_OK)
			return err;
	return KT_OK;
}

/* After a batch: its rewritten nodes that the round made go now, the
 * published map's wait for kt_mmap_flush. */
static kt_err
drop_dead(struct kt_mmap *mm, struct kt_mstore_txn *t)
{
	uint64_t stamp;
	kt_err err = KT_OK;

	for (size_t i = 0; i < mm->dead.n && err == KT_OK; i++) {
		err = kt_mstore_node_stamp(t, &mm->dead.h[i], &stamp);
		if (err == KT_ERR_NOT_FOUND)
			err = KT_OK; /* noted twice, gone already */
		else if (err == KT_OK && stamp >= mm->start)
			err = kt_mstore_del_node(t, &mm->dead.h[i]);
		else if (err == KT_OK)
			err = push(&mm->deferred, &mm->dead.h[i]);
	}
	mm->dead.n = 0;
	return err;
}

kt_err
kt_mmap_flush(struct kt_mmap *mm, struct kt_mstore_txn *t)
{
	kt_err err = KT_OK;

	for (size_t i = 0; i < mm->deferred.n && err == KT_OK; i++)
		err = kt_mstore_del_node(t, &mm->deferred.h[i]);
	mm->deferred.n = 0;
	return err;
}

/* An update leaf joins the open batch. */
static kt_err
add_update(struct kt_mmap *mm, uint64_t index, const struct kt_update *u,
    const struct kt_hash *h)
{
	if (mm->n == mm->cap) {
		size_t cap = mm->cap == 0 ? 1024 : mm->cap * 2;
		struct kt_map_update *p = realloc(mm->u, cap * sizeof(*p));

		if (p == NULL)
			return KT_ERR_NOMEM;
		mm->u = p;
		mm->cap = cap;
	}
	mm->u[mm->n++] = (struct kt_map_update){
		.index = u->index,
		.version = u->version,
		.prev_index = u->prev_index,
		.log_index = index,
		.leaf_hash = *h,
	};
	return KT_OK;
}

/* A map head closes the batch: applied, then every field checked. */
static kt_err
close_batch(struct kt_mmap *mm, struct kt_mstore_txn *t, uint64_t index,
    const struct kt_map_head *hd, char *detail, size_t cap)
{
	struct kt_map_reader r;
	struct kt_map_writer w;
	struct kt_map_result res = { 0 };
	kt_err err;

	if (hd->log_size != index || hd->prev_head != mm->m.head_index) {
		kt_msg(detail, cap,
		    "map head %" PRIu64 " says log size %" PRIu64
		    " and previous head %" PRIu64 " (want %" PRIu64
		    " and %" PRIu64 ")",
		    index, hd->log_size, hd->prev_head, index,
		    mm->m.head_index);
		return KT_ERR_VERIFY;
	}
	kt_mstore_map_io(t, index, &r, &w);
	for (size_t i = 0; i < mm->n; i++)
		if ((err = note_path(mm, &r, &mm->u[i].index)) != KT_OK) {
			kt_msg(detail, cap, "reading the map: %s",
			    kt_strerror(err));
			return err;
		}
	err = kt_map_apply(&r, &mm->m.root, mm->u, mm->n, &w, &res);
	if (err == KT_ERR_VERIFY) {
		kt_msg(detail, cap,
		    "the batch map head %" PRIu64 " closes breaks the map's "
		    "rules: %s",
		    index, res.why != NULL ? res.why : "?");
		return err;
	}
	if (err != KT_OK) {
		kt_msg(detail, cap,
		    "applying the batch of map head %" PRIu64 ": %s", index,
		    kt_strerror(err));
		return err;
	}
	if (!kt_hash_eq(&res.root, &hd->root) ||
	    hd->label_count != mm->m.label_count + res.inserted) {
		kt_msg(detail, cap,
		    "map head %" PRIu64 " does not follow from its batch "
		    "(%zu updates): its %s is not the one the batch makes",
		    index, mm->n,
		    kt_hash_eq(&res.root, &hd->root) ? "label count" : "root");
		return KT_ERR_VERIFY;
	}
	mm->m.root = res.root;
	mm->m.head_index = index;
	mm->m.label_count = hd->label_count;
	mm->n = 0;
	if ((err = drop_dead(mm, t)) != KT_OK)
		kt_msg(detail, cap, "pruning the map: %s", kt_strerror(err));
	return err;
}

kt_err
kt_mmap_leaf(struct kt_mmap *mm, struct kt_mstore_txn *t, uint64_t index,
    const uint8_t *entry, size_t len, const struct kt_hash *h, char *detail,
    size_t cap)
{
	struct kt_update u;
	struct kt_map_head hd;
	uint8_t kind;

	if (kt_leaf_kind(entry, len, &kind) == KT_OK &&
	    kind == KT_LEAF_UPDATE && kt_update_decode(entry, len, &u) == KT_OK)
		return add_update(mm, index, &u, h);
	if (kt_leaf_kind(entry, len, &kind) == KT_OK &&
	    kind == KT_LEAF_MAP_HEAD &&
	    kt_map_head_decode(entry, len, &hd) == KT_OK)
		return close_batch(mm, t, index, &hd, detail, cap);
	kt_msg(detail, cap,
	    "entry %" PRIu64 " is neither an update nor a map head leaf "
	    "(is this a kt log? --map is for kt logs only)",
	    index);
	return KT_ERR_MALFORMED;
}

kt_err
kt_mmap_finish(const struct kt_mmap *mm, uint64_t size, char *detail,
    size_t cap)
{
	if (size > 0 && (mm->n != 0 || mm->m.head_index != size - 1)) {
		kt_msg(detail, cap,
		    "the checkpoint of size %" PRIu64
		    " does not end with a map "
		    "head",
		    size);
		return KT_ERR_VERIFY;
	}
	return KT_OK;
}
