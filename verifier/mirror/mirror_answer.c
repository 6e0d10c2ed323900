/*
 * mirror_answer.c: a kt log's map path as JSON, in kt-logd's format
 * (mirror_answer.h).
 */
#include "mirror_answer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kt/b64.h"
#include "kt/fmt.h"
#include "kt/json.h"
#include "kt/map.h"

/* A bounded text buffer; a write that does not fit sets `over`. */
struct out {
	char *p;
	size_t len, cap;
	int over;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->over || n >= o->cap - o->len) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
lit(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
u64(struct out *o, uint64_t v)
{
	char b[24];

	if (kt_fmt(b, sizeof(b), "%" PRIu64, v) != KT_OK)
		o->over = 1;
	else
		put(o, b, strlen(b));
}

/* "<base64 of p[0..n)>" */
static void
b64(struct out *o, const uint8_t *p, size_t n)
{
	size_t l = 0;

	put(o, "\"", 1);
	if (o->over ||
	    kt_b64_encode(p, n, o->p + o->len, o->cap - o->len, &l) != KT_OK)
		o->over = 1;
	else
		o->len += l;
	put(o, "\"", 1);
}

/* 64 lowercase hex digits into *index. */
static int
parse_index(const char *hex, struct kt_hash *index)
{
	if (strlen(hex) != 2 * KT_HASH_LEN)
		return -1;
	for (size_t i = 0; i < 2 * KT_HASH_LEN; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0'
		    : c >= 'a' && c <= 'f'   ? c - 'a' + 10
		                             : -1;

		if (v < 0)
			return -1;
		index->b[i / 2] =
		    (uint8_t)(i % 2 ? index->b[i / 2] | v : v << 4);
	}
	return 0;
}

/* The JSON of path p for index at its checkpoint. */
static void
write_answer(struct out *o, const struct kt_mstore_path *p,
    const struct kt_hash *index)
{
	uint64_t size = p->st.size;
	uint8_t proof[KT_MAP_PROOF_MAX];
	size_t plen = 0, n;
	int present =
	    p->proof.has_leaf && kt_hash_eq(&p->proof.leaf.index, index);

	lit(o, "{\"map_index\":");
	b64(o, index->b, KT_HASH_LEN);
	lit(o, ",\"checkpoint_size\":");
	u64(o, size);
	lit(o, ",\"head\":{\"index\":");
	u64(o, size - 1);
	lit(o, ",\"entry\":");
	b64(o, p->head, p->head_len);
	lit(o, ",\"proof\":{\"index\":");
	u64(o, size - 1);
	lit(o, ",\"size\":");
	u64(o, size);
	lit(o, ",\"hashes\":[");
	for (size_t i = 0; i < p->head_proof.n; i++) {
		if (i)
			lit(o, ",");
		b64(o, p->head_proof.h[i].b, KT_HASH_LEN);
	}
	lit(o, "]}},\"present\":");
	lit(o, present ? "true" : "false");
	if (present) {
		lit(o, ",\"version\":");
		u64(o, p->proof.leaf.version);
		lit(o, ",\"update_index\":");
		u64(o, p->proof.leaf.update_index);
	}
	lit(o, ",\"map_proof\":");
	if (kt_map_proof_encode(&p->proof, proof, sizeof(proof), &plen) !=
	    KT_OK)
		o->over = 1;
	b64(o, proof, plen);
	lit(o, ",\"checkpoint\":\"");
	if (!o->over && KT_JSON_CHAR_MAX * p->st.note_len < o->cap - o->len) {
		n = kt_json_escape(p->st.note, p->st.note_len, o->p + o->len);
		o->len += n;
	} else {
		o->over = 1;
	}
	lit(o, "\"}\n");
}

kt_err
kt_mirror_map_answer(struct kt_mstore *st, const uint8_t oh[KT_HASH_LEN],
    const char *hex, const char *size_param, char **body, size_t *len,
    char *detail, size_t cap)
{
	struct kt_mstore_path *p = NULL;
	struct kt_hash index;
	struct out o = { 0 };
	uint64_t want = 0;
	char *end;
	kt_err err;

	*body = NULL;
	*len = 0;
	if (parse_index(hex, &index) != 0) {
		kt_msg(detail, cap,
		    "a map index is 64 lowercase hex digits (the first 32 "
		    "bytes of the label's VRF output)");
		return KT_ERR_MALFORMED;
	}
	if (size_param != NULL) {
		errno = 0;
		want = strtoull(size_param, &end, 10);
		if (size_param[0] < '0' || size_param[0] > '9' ||
		    *end != '\0' || errno != 0) {
			kt_msg(detail, cap, "checkpoint_size is not a number");
			return KT_ERR_MALFORMED;
		}
	}
	if ((p = malloc(sizeof(*p))) == NULL)
		return KT_ERR_NOMEM;
	err = kt_mstore_map_path(st, oh, &index, p);
	if (err == KT_OK && size_param != NULL && want != p->st.size) {
		kt_msg(detail, cap,
		    "this mirror answers map paths at its checkpoint only "
		    "(size %" PRIu64 ")",
		    p->st.size);
		err = KT_ERR_NOT_FOUND;
	} else if (err == KT_ERR_NOT_FOUND) {
		kt_msg(detail, cap,
		    "this mirror holds no map of that log (not a kt log "
		    "followed with --map, or nothing mirrored yet)");
	} else if (err != KT_OK) {
		kt_msg(detail, cap, "map path: %s", kt_strerror(err));
	}
	if (err == KT_OK) {
		o.cap = 4096 + 2 * KT_MAP_PROOF_MAX +
		    KT_JSON_CHAR_MAX * p->st.note_len;
		if ((o.p = malloc(o.cap)) == NULL)
			err = KT_ERR_NOMEM;
	}
	if (err == KT_OK) {
		write_answer(&o, p, &index);
		if (o.over) {
			kt_msg(detail, cap, "internal: the answer overflowed");
			err = KT_ERR_INTERNAL;
			free(o.p);
		} else {
			*body = o.p;
			*len = o.len;
		}
	}
	free(p);
	return err;
}
