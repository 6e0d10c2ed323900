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
	mm->u = NULL;
	mm->n = mm->cap = 0;
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
	kt_mstore_map_io(t, &r, &w);
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
	return KT_OK;
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
