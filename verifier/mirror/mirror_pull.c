/*
 * mirror_pull.c: following one tlog-tiles log (mirror_pull.h): a round
 * reads the log's checkpoint, hashes the new entry bundles into the right
 * edge of the mirrored tree, and publishes and cosigns the checkpoint
 * when the root it computes is the one the log signed.
 */
#include "mirror_pull.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cosigner.h"
#include "kt/checkpoint.h"
#include "kt/fmt.h"
#include "kt/tile.h"
#include "mirror_map.h"
#include "verify_internal.h"

/* Levels of hash tiles a 64-bit tree has (8 bits each). */
#define LEVELS 8
/* The largest entry bundle: 256 entries of 65,535 bytes and their
 * lengths (C2SP tlog-tiles). */
#define BUNDLE_CAP ((size_t)KT_TILE_WIDTH * (2 + 65535))

struct kt_mpull {
	struct kt_mstore *st;
	const struct kt_signer *cosigner;
	struct kt_verifier key;
	uint8_t oh[KT_HASH_LEN];
	char url[KT_URL_MAX];
	long timeout_s;
	int map;        /* a kt log whose directory map is rebuilt */
	unsigned stage; /* bundles per staging transaction */
	struct kt_fetch *fetch;
};

/*
 * The right edge of the tree while it grows: c[l] hashes at level l so
 * far (the tree's size >> 8l), the last c[l] % 256 of them in row[l]
 * (the level's partial tile).
 */
struct edge {
	uint64_t c[LEVELS];
	struct kt_hash row[LEVELS][KT_TILE_WIDTH];
};

/* One round's work in progress. */
struct round {
	struct kt_mpull *p;
	struct kt_mstore_txn *t; /* the open staging transaction */
	struct edge *e;
	uint64_t old_size, size;
	unsigned staged;   /* bundles in t */
	struct kt_mmap mm; /* p->map: the map being rebuilt */
	/* The first leaf the map refused: reported only if the tree's root
	 * is the signed one (else the bundles are wrong, not the map). */
	kt_err map_err;
	char map_detail[512];
	struct kt_mpull_report *rep;
	char *detail;
	size_t cap;
};

kt_err
kt_mpull_open(struct kt_mstore *st, const struct kt_signer *cosigner,
    const char *url, const struct kt_verifier *key, int map, long timeout_s,
    struct kt_mpull **out, char *detail, size_t cap)
{
	struct kt_mpull *p;
	size_t n = strlen(url);

	*out = NULL;
	if (key->type != KT_KEY_ED25519) {
		kt_msg(detail, cap, "the log key %s is not an Ed25519 key",
		    key->name);
		return KT_ERR_MALFORMED;
	}
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n == 0 || n >= KT_URL_MAX) {
		kt_msg(detail, cap, "bad log URL \"%s\"", url);
		return KT_ERR_MALFORMED;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	p->st = st;
	p->cosigner = cosigner;
	p->key = *key;
	memcpy(p->url, url, n);
	p->timeout_s = timeout_s;
	p->map = map;
	p->stage = KT_MPULL_CHUNK;
	crypto_hash_sha256(p->oh, (const uint8_t *)key->name,
	    strlen(key->name));
	*out = p;
	return KT_OK;
}

void
kt_mpull_close(struct kt_mpull *p)
{
	if (p == NULL)
		return;
	kt_fetch_close(p->fetch);
	free(p);
}

void
kt_mpull_set_stage(struct kt_mpull *p, unsigned bundles)
{
	p->stage = bundles < 1             ? 1
	    : bundles > KT_MPULL_CHUNK_MAX ? KT_MPULL_CHUNK_MAX
	                                   : bundles;
}

const char *
kt_mpull_origin(const struct kt_mpull *p)
{
	return p->key.name;
}

const uint8_t *
kt_mpull_origin_hash(const struct kt_mpull *p)
{
	return p->oh;
}

/* ---- reading the log ---------------------------------------------------- */

/* GET path from the log into body; *status its HTTP status. */
static kt_err
log_get(struct kt_mpull *p, const char *path, size_t cap, struct kt_buf *body,
    long *status, char *detail, size_t dcap)
{
	kt_err err;

	if (p->fetch == NULL &&
	    (err = kt_fetch_open(p->url, 10, p->timeout_s, &p->fetch)) !=
	        KT_OK) {
		kt_msg(detail, dcap, "HTTP client: %s", kt_strerror(err));
		return err;
	}
	err = kt_fetch_get(p->fetch, path, cap, body, status, detail, dcap);
	if (err == KT_ERR_TOO_LARGE)
		return KT_ERR_MALFORMED;
	return err;
}

/* The log's signed checkpoint: note into body, parsed into *sc. */
static kt_err
fetch_checkpoint(struct kt_mpull *p, struct kt_buf *body,
    struct kt_signed_checkpoint *sc, char *detail, size_t cap)
{
	long status;
	kt_err err;

	err = log_get(p, "/checkpoint", KT_NOTE_MAX + 1, body, &status, detail,
	    cap);
	if (err != KT_OK)
		return err;
	if (status != 200) {
		kt_msg(detail, cap, "GET %s/checkpoint: HTTP %ld", p->url,
		    status);
		return KT_ERR_NETWORK;
	}
	err = kt_signed_checkpoint_open(body->p, body->len, &p->key, sc);
	if (err != KT_OK) {
		kt_msg(detail, cap,
		    "GET %s/checkpoint: not a checkpoint signed by %s: %s",
		    p->url, p->key.name, kt_strerror(err));
		return err == KT_ERR_MALFORMED || err == KT_ERR_TOO_LARGE
		    ? KT_ERR_MALFORMED
		    : KT_ERR_VERIFY;
	}
	return KT_OK;
}

/* Bundle k of width w: a staged copy (w, or the full one), else the log's
 * (the full bundle when the partial one is gone). *buf is malloc'd. */
static kt_err
get_bundle(struct round *r, uint64_t k, unsigned w, uint8_t **buf, size_t *len)
{
	struct kt_mpull *p = r->p;
	struct kt_tile t = { KT_TILE_LEVEL_ENTRIES, k, w };
	struct kt_buf body = { 0 };
	char path[KT_TILE_PATH_MAX + 1];
	long status = 0;
	kt_err err;

	err =
	    kt_mstore_get_tile(p->st, p->oh, KT_MSTORE_ENTRIES, k, w, buf, len);
	if (err == KT_ERR_NOT_FOUND && w < KT_TILE_WIDTH)
		err = kt_mstore_get_tile(p->st, p->oh, KT_MSTORE_ENTRIES, k,
		    KT_TILE_WIDTH, buf, len);
	if (err != KT_ERR_NOT_FOUND) {
		r->rep->bundles_cached += err == KT_OK;
		return err;
	}
	for (int full = 0; full < 2; full++) {
		t.width = full ? KT_TILE_WIDTH : w;
		path[0] = '/';
		if ((err = kt_tile_path(&t, path + 1, sizeof(path) - 1)) !=
		        KT_OK ||
		    (err = log_get(p, path, BUNDLE_CAP, &body, &status,
		         r->detail, r->cap)) != KT_OK)
			goto out;
		if (status != 404 || w == KT_TILE_WIDTH)
			break;
	}
	if (status != 200) {
		kt_msg(r->detail, r->cap, "GET %s%s: HTTP %ld", p->url, path,
		    status);
		err = KT_ERR_NETWORK;
		goto out;
	}
	if ((*buf = malloc(body.len > 0 ? body.len : 1)) == NULL) {
		err = KT_ERR_NOMEM;
		goto out;
	}
	memcpy(*buf, body.p, body.len);
	*len = body.len;
	r->rep->bundles_fetched++;
out:
	kt_buf_free(&body);
	return err;
}

/* ---- the right edge ----------------------------------------------------- */

static uint64_t
level_count(uint64_t size, unsigned l)
{
	return l * 8u >= 64 ? 0 : size >> (l * 8u);
}

/* The edge of the mirrored tree of `size` leaves, from its published
 * partial tiles. */
static kt_err
edge_load(struct round *r, uint64_t size)
{
	for (unsigned l = 0; l < LEVELS; l++) {
		uint64_t c = level_count(size, l);
		unsigned w = (unsigned)(c % KT_TILE_WIDTH);
		uint8_t *b = NULL;
		size_t len = 0;
		kt_err err;

		r->e->c[l] = c;
		if (w == 0)
			continue;
		err = kt_mstore_get_tile(r->p->st, r->p->oh, l,
		    c / KT_TILE_WIDTH, w, &b, &len);
		if (err == KT_OK && len != (size_t)w * KT_HASH_LEN)
			err = KT_ERR_INTERNAL;
		if (err == KT_OK)
			memcpy(r->e->row[l], b, len);
		free(b);
		if (err != KT_OK) {
			kt_msg(r->detail, r->cap,
			    "the mirrored tile %u/%" PRIu64 ".p/%u: %s", l,
			    c / KT_TILE_WIDTH, w, kt_strerror(err));
			return err == KT_ERR_NOT_FOUND ? KT_ERR_INTERNAL : err;
		}
	}
	return KT_OK;
}

/* Stages tile (level, index) of width w from a row of hashes. */
static kt_err
stage_row(struct round *r, unsigned l, uint64_t index, unsigned w)
{
	return kt_mstore_put_tile(r->t, r->p->oh, l, index, w,
	    (const uint8_t *)r->e->row[l], (size_t)w * KT_HASH_LEN, r->detail,
	    r->cap);
}

/* Appends hash h at level l: a row that fills is a full tile, staged,
 * whose root goes one level up. */
static kt_err
edge_push(struct round *r, unsigned l, const struct kt_hash *h)
{
	struct edge *e = r->e;
	struct kt_hash root;
	kt_err err;

	if (l >= LEVELS)
		return KT_ERR_RANGE;
	e->row[l][e->c[l] % KT_TILE_WIDTH] = *h;
	e->c[l]++;
	if (e->c[l] % KT_TILE_WIDTH != 0)
		return KT_OK;
	if ((err = stage_row(r, l, e->c[l] / KT_TILE_WIDTH - 1,
	         KT_TILE_WIDTH)) != KT_OK ||
	    (err = kt_tile_subtree(e->row[l], KT_TILE_WIDTH, KT_TILE_HEIGHT, 0,
	         &root)) != KT_OK)
		return err;
	return edge_push(r, l + 1, &root);
}

/* kt_node_fn over the edge: the perfect subtrees a root needs all lie in
 * the partial tiles of the edge. */
static kt_err
edge_node(void *ctx, unsigned height, uint64_t index, struct kt_hash *out)
{
	const struct edge *e = ctx;
	unsigned l = height / KT_TILE_HEIGHT, s = height % KT_TILE_HEIGHT;
	uint64_t pos = index << s;

	if (l >= LEVELS || pos / KT_TILE_WIDTH != e->c[l] / KT_TILE_WIDTH)
		return KT_ERR_INTERNAL;
	return kt_tile_subtree(e->row[l], (unsigned)(e->c[l] % KT_TILE_WIDTH),
	    s, (unsigned)((pos % KT_TILE_WIDTH) >> s), out);
}

/* ---- bundles ------------------------------------------------------------ */

/* Leaf i into the map: a refusal is kept for later (r->map_err), other
 * errors (memory, the store) end the round. */
static kt_err
map_leaf(struct round *r, uint64_t i, const uint8_t *entry, size_t n,
    const struct kt_hash *h)
{
	kt_err err = kt_mmap_leaf(&r->mm, r->t, i, entry, n, h, r->map_detail,
	    sizeof(r->map_detail));

	if (err == KT_ERR_VERIFY || err == KT_ERR_MALFORMED) {
		r->map_err = err;
		return KT_OK;
	}
	return err;
}

/*
 * Hashes the first w entries of bundle k (b[0..len), *len cut to them)
 * into the edge: entries the mirror holds already must hash to its leaf
 * hashes, the others are appended.
 */
static kt_err
scan_bundle(struct round *r, uint64_t k, unsigned w, const uint8_t *b,
    size_t *len)
{
	uint64_t i = k * KT_TILE_WIDTH;
	size_t off = 0, n;
	const uint8_t *entry;
	struct kt_hash h;
	kt_err err = KT_OK;

	for (unsigned j = 0; j < w; j++, i++) {
		err = kt_bundle_next(b, *len, &off, &entry, &n);
		if (err != KT_OK) {
			kt_msg(r->detail, r->cap,
			    "entry bundle %" PRIu64 " holds %u entries, not "
			    "the %u a tree of %" PRIu64 " leaves gives it",
			    k, j, w, r->size);
			return KT_ERR_MALFORMED;
		}
		kt_hash_leaf(entry, n, &h);
		if (i < r->old_size) {
			if (!kt_hash_eq(&h, &r->e->row[0][j])) {
				kt_msg(r->detail, r->cap,
				    "entry %" PRIu64 " is not the one the "
				    "mirror holds: the log rewrote its history",
				    i);
				return KT_ERR_VERIFY;
			}
			continue;
		}
		if ((err = edge_push(r, 0, &h)) != KT_OK)
			return err;
		if (r->p->map && r->map_err == KT_OK &&
		    (err = map_leaf(r, i, entry, n, &h)) != KT_OK)
			return err;
	}
	/* A full bundle served for a partial one: keep its first w. */
	if (off != *len && w < KT_TILE_WIDTH)
		*len = off;
	else if (off != *len) {
		kt_msg(r->detail, r->cap,
		    "entry bundle %" PRIu64 " has bytes after its %u entries",
		    k, w);
		return KT_ERR_MALFORMED;
	}
	return KT_OK;
}

/* Commits the staging transaction and opens the next. */
static kt_err
next_chunk(struct round *r)
{
	kt_err err = kt_mstore_commit(r->t, r->detail, r->cap);

	r->t = NULL;
	r->staged = 0;
	if (err != KT_OK)
		return err;
	return kt_mstore_begin(r->p->st, &r->t, r->detail, r->cap);
}

/* Every bundle from the old edge to r->size, hashed and staged. */
static kt_err
scan_all(struct round *r, const atomic_int *stop)
{
	uint64_t first = r->old_size / KT_TILE_WIDTH;
	uint64_t end = (r->size + KT_TILE_WIDTH - 1) / KT_TILE_WIDTH;
	kt_err err = KT_OK;

	for (uint64_t k = first; k < end && err == KT_OK; k++) {
		unsigned w = kt_tile_width(r->size, KT_TILE_LEVEL_ENTRIES, k);
		uint8_t *b = NULL;
		size_t len = 0;

		if (stop != NULL && atomic_load(stop)) {
			kt_msg(r->detail, r->cap, "stopping");
			return KT_ERR_BUSY;
		}
		if (r->staged == r->p->stage && (err = next_chunk(r)) != KT_OK)
			break;
		if ((err = get_bundle(r, k, w, &b, &len)) == KT_OK &&
		    (err = scan_bundle(r, k, w, b, &len)) == KT_OK)
			err = kt_mstore_put_tile(r->t, r->p->oh,
			    KT_MSTORE_ENTRIES, k, w, b, len, r->detail, r->cap);
		r->staged++;
		free(b);
	}
	return err;
}

/* ---- publishing --------------------------------------------------------- */

/*
 * The new edge's partial tiles staged, the root checked against the
 * checkpoint, and the old edge's partial tiles the new tree no longer
 * publishes deleted.
 */
static kt_err
finish_tree(struct round *r, const struct kt_checkpoint *cp)
{
	struct kt_hash root;
	kt_err err;

	for (unsigned l = 0; l < LEVELS; l++) {
		unsigned w = (unsigned)(r->e->c[l] % KT_TILE_WIDTH);

		if (w != 0 &&
		    (err = stage_row(r, l, r->e->c[l] / KT_TILE_WIDTH, w)) !=
		        KT_OK)
			return err;
	}
	if ((err = kt_merkle_root(edge_node, r->e, r->size, &root)) != KT_OK)
		return err;
	if (!kt_hash_eq(&root, &cp->root)) {
		kt_msg(r->detail, r->cap,
		    "the log's entries do not hash to its checkpoint's root "
		    "at size %" PRIu64 " (a tampered entry bundle, or a tree "
		    "that does not extend the %" PRIu64 " leaves mirrored)",
		    r->size, r->old_size);
		return KT_ERR_VERIFY;
	}
	if (r->map_err != KT_OK) {
		kt_msg(r->detail, r->cap, "%s", r->map_detail);
		return r->map_err;
	}
	if (r->p->map &&
	    (err = kt_mmap_finish(&r->mm, r->size, r->detail, r->cap)) != KT_OK)
		return err;
	for (unsigned l = 0; l <= LEVELS; l++) {
		unsigned lv = l == LEVELS ? KT_MSTORE_ENTRIES : l;
		uint64_t c = level_count(r->old_size, l == LEVELS ? 0 : l);
		uint64_t idx = c / KT_TILE_WIDTH;
		unsigned w = (unsigned)(c % KT_TILE_WIDTH);

		if (w != 0 && kt_tile_width(r->size, lv, idx) != w &&
		    (err = kt_mstore_del_tile(r->t, r->p->oh, lv, idx, w,
		         r->detail, r->cap)) != KT_OK)
			return err;
	}
	return KT_OK;
}

/* The log's note cosigned at `now`, written with the last tiles. */
static kt_err
publish(struct round *r, const struct kt_signed_checkpoint *sc, uint64_t now)
{
	struct kt_mstore_state *st;
	kt_err err;

	if ((st = malloc(sizeof(*st))) == NULL)
		return KT_ERR_NOMEM;
	st->size = sc->cp.size;
	st->root = sc->cp.root;
	err = kt_cosigner_cosign_note(r->p->cosigner, sc->note, sc->note_len,
	    now, st->note, sizeof(st->note), &st->note_len);
	if (err != KT_OK)
		kt_msg(r->detail, r->cap, "cosigning: %s", kt_strerror(err));
	else
		err =
		    kt_mstore_put_state(r->t, r->p->oh, st, r->detail, r->cap);
	if (err == KT_OK && r->p->map) {
		r->mm.m.size = sc->cp.size;
		err = kt_mstore_put_map(r->t, r->p->oh, &r->mm.m, r->detail,
		    r->cap);
		if (err == KT_OK &&
		    (err = kt_mmap_flush(&r->mm, r->t)) != KT_OK)
			kt_msg(r->detail, r->cap, "pruning the map: %s",
			    kt_strerror(err));
	}
	if (err == KT_OK) {
		err = kt_mstore_commit(r->t, r->detail, r->cap);
		r->t = NULL;
	}
	free(st);
	return err;
}

/* With --map, the map at the mirror checkpoint into r->mm. */
static kt_err
map_load(struct round *r)
{
	struct kt_mstore_map m = { 0 };
	kt_err err;

	if (!r->p->map)
		return KT_OK;
	err = kt_mstore_get_map(r->p->st, r->p->oh, &m);
	if (err == KT_ERR_NOT_FOUND && r->old_size == 0)
		err = KT_OK;
	else if (err == KT_ERR_NOT_FOUND)
		kt_msg(r->detail, r->cap,
		    "the mirror holds %" PRIu64 " leaves but no map: it "
		    "followed this log without --map; rebuilding the map needs "
		    "every leaf from 0 (a new --data folder)",
		    r->old_size);
	else if (err == KT_OK && m.size != r->old_size)
		err = KT_ERR_INTERNAL;
	if (err == KT_OK)
		kt_mmap_begin(&r->mm, &m);
	return err;
}

/* Catches the mirror up from r->old_size to the checkpoint sc. */
static kt_err
catch_up(struct round *r, const struct kt_signed_checkpoint *sc, uint64_t now,
    const atomic_int *stop)
{
	kt_err err;

	if ((r->e = calloc(1, sizeof(*r->e))) == NULL)
		return KT_ERR_NOMEM;
	if ((err = map_load(r)) != KT_OK ||
	    (err = edge_load(r, r->old_size)) != KT_OK ||
	    (err = kt_mstore_begin(r->p->st, &r->t, r->detail, r->cap)) !=
	        KT_OK ||
	    (err = scan_all(r, stop)) != KT_OK ||
	    (err = finish_tree(r, &sc->cp)) != KT_OK ||
	    (err = publish(r, sc, now)) != KT_OK) {
		kt_mstore_abort(r->t);
		r->t = NULL;
	}
	free(r->e);
	r->e = NULL;
	kt_mmap_end(&r->mm);
	return err;
}

/* ---- a round ------------------------------------------------------------ */

/* The mirror checkpoint's size and root (0 and H("") when none). */
static kt_err
mirrored(struct kt_mpull *p, uint64_t *size, struct kt_hash *root, int *found,
    char *detail, size_t cap)
{
	struct kt_mstore_state *st = malloc(sizeof(*st));
	kt_err err;

	if (st == NULL)
		return KT_ERR_NOMEM;
	err = kt_mstore_get_state(p->st, p->oh, st);
	*found = err == KT_OK;
	if (err == KT_OK) {
		*size = st->size;
		*root = st->root;
	} else if (err == KT_ERR_NOT_FOUND) {
		*size = 0;
		kt_hash_empty(root);
		err = KT_OK;
	} else {
		kt_msg(detail, cap, "reading the mirror checkpoint: %s",
		    kt_strerror(err));
	}
	free(st);
	return err;
}

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

kt_err
kt_mpull_round(struct kt_mpull *p, uint64_t now, const atomic_int *stop,
    struct kt_mpull_report *rep, char *detail, size_t cap)
{
	struct kt_buf note = { 0 };
	struct kt_signed_checkpoint sc;
	struct kt_hash root;
	struct round r = { .p = p, .rep = rep, .detail = detail, .cap = cap };
	double t0 = now_seconds();
	size_t removed;
	char d2[256];
	int found = 0;
	kt_err err;

	memset(rep, 0, sizeof(*rep));
	detail[0] = '\0';
	if ((err = mirrored(p, &r.old_size, &root, &found, detail, cap)) !=
	        KT_OK ||
	    (err = fetch_checkpoint(p, &note, &sc, detail, cap)) != KT_OK)
		goto out;
	rep->old_size = rep->new_size = r.old_size;
	rep->log_size = r.size = sc.cp.size;
	if (sc.cp.size < r.old_size)
		goto out; /* a lagging replica, say: nothing to do */
	if (sc.cp.size == r.old_size && found) {
		if (!kt_hash_eq(&root, &sc.cp.root)) {
			kt_msg(detail, cap,
			    "the log signed another root for size %" PRIu64
			    " than the mirrored one: a fork",
			    r.old_size);
			err = KT_ERR_VERIFY;
		}
		goto out;
	}
	err = catch_up(&r, &sc, now, stop);
	if (err == KT_OK)
		rep->new_size = sc.cp.size;
	/* Bad data is thrown away; what a round stopped or cut off by the
	 * network staged is read again (and checked) by the next. */
	else if ((err == KT_ERR_VERIFY || err == KT_ERR_MALFORMED) &&
	    kt_mstore_purge(p->st, p->oh, r.old_size, &removed, d2,
	        sizeof(d2)) != KT_OK)
		kt_msg(detail + strlen(detail), cap - strlen(detail),
		    " (removing what was staged failed: %s)", d2);
out:
	rep->seconds = now_seconds() - t0;
	kt_buf_free(&note);
	return err;
}
