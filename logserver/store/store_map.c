/*
 * store_map.c: the directory map in LMDB as strata (store_map.h,
 * strata.h): the batch step, pruning, proofs, statistics.
 *
 * A batch runs proto's kt_map_apply over a reader that loads whole strata
 * (each read once per batch: every node of a loaded stratum goes into the
 * batch's node table, with its hash, and every exit as an exit entry: a
 * hash and the sequence number of a stratum not loaded) and a writer that
 * adds the batch's new nodes to the same table. Then the new map is packed
 * from its root: a node in the table (new, or an old node of a loaded
 * stratum) is packed into new strata by the band rule; an exit entry is
 * the root of a stored stratum, which is reused as an exit. Why that holds: proto
 * builds new nodes only on the paths it walked, and the old nodes a new
 * node points to are nodes it read (in the table) or children of nodes it
 * read, kept under a new parent with the same split bit: inline children
 * of a loaded stratum are in the table, and the others were exits before
 * and stay exits (same parent band).
 *
 * A loaded stratum is superseded when the new map no longer reaches its
 * root as an exit: neither the packing nor an unchanged loaded stratum
 * above it points to it. The strata a batch did not load are all still
 * reached (their parent stratum is unchanged, or was loaded and repacked
 * with the same exit). Superseded strata are listed in mapgc under the
 * batch's map head index and deleted by kt_store_map_prune.
 */
#include <stdlib.h>
#include <string.h>

#include "kt/bytes.h"
#include "kt/map.h"
#include "store/internal.h"
#include "store/store_map.h"
#include "store/strata.h"

/* ---- stratum records ----------------------------------------------------- */

/* Reads and decodes the stratum stored under seq, whose root must hash to
 * *h; KT_ERR_NOT_FOUND, KT_ERR_VERIFY for one that does not decode or hash
 * to *h, or KT_ERR_IO with *rc for LMDB. */
static kt_err
get_stratum(MDB_txn *txn, MDB_dbi dbi, uint64_t seq, const struct kt_hash *h,
    struct stratum *out, int *rc)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val;

	kt_put_be64(k, seq);
	*rc = mdb_get(txn, dbi, &key, &val);
	if (*rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (*rc != 0)
		return KT_ERR_IO;
	if (kt_strata_decode(val.mv_data, val.mv_size, out) != KT_OK ||
	    out->node[0].kind == SN_EXIT || !kt_hash_eq(&out->node[0].h, h))
		return KT_ERR_VERIFY;
	return KT_OK;
}

/* The sequence number of the root stratum of the retained map *root:
 * KT_ERR_NOT_FOUND, or KT_ERR_IO with *rc. */
static kt_err
get_root(MDB_txn *txn, MDB_dbi dbi, const struct kt_hash *root, uint64_t *seq,
    int *rc)
{
	MDB_val key = { KT_HASH_LEN, (void *)root->b }, val;

	*rc = mdb_get(txn, dbi, &key, &val);
	if (*rc == MDB_NOTFOUND)
		return KT_ERR_NOT_FOUND;
	if (*rc != 0)
		return KT_ERR_IO;
	if (val.mv_size != 8)
		return KT_ERR_VERIFY;
	*seq = kt_get_be64(val.mv_data);
	return KT_OK;
}

/* ---- the batch's node table ---------------------------------------------- */

/* A node of the batch, or (exit) only the hash and sequence number of a
 * stored stratum's root that a loaded stratum points to, not loaded yet. */
struct ent {
	struct kt_hash h;
	struct kt_map_node n;
	uint64_t seq; /* exit, or a new stratum's root once packed */
	int32_t st;   /* the loaded stratum it came from; -1: new, or exit */
	uint8_t root; /* the root of that stratum */
	uint8_t exit; /* only h and seq are known */
};

struct loaded {
	struct kt_hash h;
	uint64_t seq;
	int reached; /* 0 superseded, 1 reached, 2 its exits marked too */
};

struct batch {
	struct kt_store_txn *w;
	struct ent *v; /* nodes */
	size_t len, vcap;
	uint32_t *slot; /* 0: empty; else a position in v, plus one */
	size_t cap;     /* power of two */
	struct loaded *ld;
	size_t nld, ldcap;
	struct kt_hash *todo; /* nodes that start a new stratum */
	size_t ntodo, todocap;
	struct stratum *scratch;
	uint64_t next; /* the next stratum's sequence number */
	uint8_t buf[STRATA_MAX_BYTES];
};

static size_t
slot_of(const struct batch *b, const struct kt_hash *h)
{
	uint64_t k;
	size_t i;

	memcpy(&k, h->b, sizeof(k)); /* node hashes are uniform */
	for (i = (size_t)k & (b->cap - 1);; i = (i + 1) & (b->cap - 1))
		if (b->slot[i] == 0 || kt_hash_eq(&b->v[b->slot[i] - 1].h, h))
			return i;
}

static struct ent *
tab_get(const struct batch *b, const struct kt_hash *h)
{
	size_t i;

	if (b->cap == 0)
		return NULL;
	i = slot_of(b, h);
	return b->slot[i] ? &b->v[b->slot[i] - 1] : NULL;
}

static kt_err
grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return KT_OK;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n * size)) == NULL)
		return KT_ERR_NOMEM;
	*p = q;
	*cap = n;
	return KT_OK;
}

static kt_err
tab_rehash(struct batch *b)
{
	size_t cap = b->cap ? b->cap * 2 : 4096, i;
	uint32_t *s = calloc(cap, sizeof(*s));

	if (s == NULL)
		return KT_ERR_NOMEM;
	free(b->slot);
	b->slot = s;
	b->cap = cap;
	for (i = 0; i < b->len; i++)
		b->slot[slot_of(b, &b->v[i].h)] = (uint32_t)(i + 1);
	return KT_OK;
}

/* Adds a node (n; NULL: an exit to the stratum stored under seq). A hash
 * already there is kept as it is, but a node replaces an exit (the stratum
 * it pointed to is loaded). */
static kt_err
tab_put(struct batch *b, const struct kt_hash *h, const struct kt_map_node *n,
    int32_t st, int root, uint64_t seq)
{
	struct ent *e;
	size_t i;
	kt_err err;

	if ((b->len + 1) * 2 > b->cap && (err = tab_rehash(b)) != KT_OK)
		return err;
	if (b->len >= UINT32_MAX - 1)
		return KT_ERR_NOMEM;
	i = slot_of(b, h);
	if (b->slot[i] != 0) {
		e = &b->v[b->slot[i] - 1];
		if (!e->exit || n == NULL)
			return KT_OK;
	} else {
		err = grow((void **)&b->v, &b->vcap, b->len + 1, sizeof(*b->v));
		if (err != KT_OK)
			return err;
		e = &b->v[b->len];
		b->slot[i] = (uint32_t)++b->len;
	}
	memset(e, 0, sizeof(*e));
	e->h = *h;
	if (n != NULL)
		e->n = *n;
	e->seq = seq;
	e->st = st;
	e->root = (uint8_t)root;
	e->exit = n == NULL;
	return KT_OK;
}

static void
batch_free(struct batch *b)
{
	free(b->v);
	free(b->slot);
	free(b->ld);
	free(b->todo);
	free(b->scratch);
	free(b);
}

/* ---- reading the old map, receiving the new nodes ------------------------ */

/* Loads the stratum rooted at *h, stored under seq, into the table: its
 * nodes, and its exits as exit entries. */
static kt_err
load(struct batch *b, const struct kt_hash *h, uint64_t seq)
{
	struct kt_store_txn *w = b->w;
	const struct snode *sn;
	struct kt_map_node node;
	int32_t id = (int32_t)b->nld;
	size_t i;
	int rc;
	kt_err err;

	err = get_stratum(w->txn, w->s->map, seq, h, b->scratch, &rc);
	if (err == KT_ERR_IO)
		return wfail(w, rc, "mdb_get(map)");
	if (err != KT_OK)
		return err;
	err = grow((void **)&b->ld, &b->ldcap, b->nld + 1, sizeof(*b->ld));
	if (err != KT_OK)
		return err;
	b->ld[b->nld].h = *h;
	b->ld[b->nld].seq = seq;
	b->ld[b->nld].reached = 0;
	b->nld++;
	for (i = 0; i < b->scratch->n; i++) {
		sn = &b->scratch->node[i];
		if (sn->kind == SN_EXIT) {
			err = tab_put(b, &sn->h, NULL, -1, 0, sn->seq);
		} else {
			kt_strata_node(b->scratch, i, &node);
			err = tab_put(b, &sn->h, &node, id, i == 0, seq);
		}
		if (err != KT_OK)
			return err;
	}
	return KT_OK;
}

static kt_err
read_batch(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	struct batch *b = ctx;
	struct ent *e = tab_get(b, h);
	kt_err err;

	(void)index;
	(void)depth;
	/* proto reads a node after its parent: every node it reads is in
	 * the table, as a node or (a stratum not loaded yet) as an exit; the
	 * old root was put there as an exit. */
	if (e == NULL)
		return KT_ERR_NOT_FOUND;
	if (e->exit) {
		if ((err = load(b, h, e->seq)) != KT_OK)
			return err;
		e = tab_get(b, h);
	}
	*out = e->n;
	return KT_OK;
}

static kt_err
write_batch(void *ctx, const struct kt_hash *h, const struct kt_map_node *n)
{
	return tab_put(ctx, h, n, -1, 0, 0);
}

/* ---- packing the new map into strata ------------------------------------- */

/*
 * The new strata are written children first, so a parent's exits can hold
 * their sequence numbers: a batch's strata take consecutive numbers after
 * the last one stored and are put with MDB_APPEND, one sequential run of
 * fresh pages (no page of an older stratum is touched).
 */
static kt_err pack_one(struct batch *b, struct ent *e);

/* Packs the new strata below node *h of a stratum of band `band` (-1: h is
 * its root) before the stratum itself. */
static kt_err
prep(struct batch *b, const struct kt_hash *h, int band)
{
	struct ent *e = tab_get(b, h);
	struct kt_hash c0, c1;
	kt_err err;

	if (e == NULL)
		return KT_ERR_INTERNAL; /* neither read nor written */
	if (e->exit || e->n.is_leaf)
		return KT_OK;
	if (band >= 0 && (int)strata_band(e->n.bit) != band)
		return e->root ? KT_OK : pack_one(b, e);
	band = (int)strata_band(e->n.bit);
	c0 = e->n.child[0];
	c1 = e->n.child[1];
	if ((err = prep(b, &c0, band)) != KT_OK)
		return err;
	return prep(b, &c1, band);
}

/* Appends the node *h of a stratum of band `band` (-1: h is its root); the
 * new strata below it are packed (prep). */
static void
emit(struct batch *b, size_t *len, const struct kt_hash *h, int band)
{
	const struct ent *e = tab_get(b, h);
	struct kt_hash c0, c1;

	if (e->exit) { /* a stored stratum's root, unchanged */
		kt_strata_put_exit(b->buf, len, h, e->seq);
		return;
	}
	if (e->n.is_leaf) {
		kt_strata_put_leaf(b->buf, len, &e->n.leaf);
		return;
	}
	if (band >= 0 && (int)strata_band(e->n.bit) != band) {
		if (e->root) {
			b->ld[e->st].reached = 1; /* reused as it is */
			kt_strata_put_exit(b->buf, len, h, b->ld[e->st].seq);
		} else {
			kt_strata_put_exit(b->buf, len, h, e->seq);
		}
		return;
	}
	band = (int)strata_band(e->n.bit);
	kt_strata_put_interior(b->buf, len, e->n.bit);
	c0 = e->n.child[0];
	c1 = e->n.child[1];
	emit(b, len, &c0, band);
	emit(b, len, &c1, band);
}

/* Writes the new stratum rooted at e (after the new strata below it) under
 * the next sequence number, which e->seq becomes. The table does not grow
 * while packing, so e stays valid. */
static kt_err
pack_one(struct batch *b, struct ent *e)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	size_t len = 0;
	int rc;
	kt_err err;

	if ((err = prep(b, &e->h, -1)) != KT_OK)
		return err;
	emit(b, &len, &e->h, -1);
	e->seq = b->next++;
	kt_put_be64(k, e->seq);
	val.mv_size = len;
	val.mv_data = b->buf;
	rc = mdb_put(b->w->txn, b->w->s->map, &key, &val, MDB_APPEND);
	return rc == 0 ? KT_OK : wfail(b->w, rc, "mdb_put(map)");
}

/* Writes the new map's strata and its maproots record; *seq becomes the
 * root stratum's sequence number. */
static kt_err
pack(struct batch *b, const struct kt_hash *root, uint64_t *seq)
{
	struct kt_store_txn *w = b->w;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	struct ent *e = tab_get(b, root);
	uint8_t k[8];
	int rc;
	kt_err err;

	if (e == NULL || e->exit)
		return KT_ERR_INTERNAL;
	if ((rc = mdb_cursor_open(w->txn, w->s->map, &c)) != 0)
		return wfail(w, rc, "mdb_cursor_open(map)");
	rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		b->next = 1;
	else if (rc != 0)
		return wfail(w, rc, "mdb_cursor_get(map)");
	else if (key.mv_size != 8)
		return KT_ERR_VERIFY;
	else
		b->next = kt_get_be64(key.mv_data) + 1;
	if (e->root) { /* an old stratum's root: reused as it is */
		b->ld[e->st].reached = 1;
		*seq = b->ld[e->st].seq;
	} else {
		if ((err = pack_one(b, e)) != KT_OK)
			return err;
		*seq = e->seq;
	}
	kt_put_be64(k, *seq);
	key.mv_size = KT_HASH_LEN;
	key.mv_data = (void *)root->b;
	val.mv_size = 8;
	val.mv_data = k;
	rc = mdb_put(w->txn, w->s->maproots, &key, &val, 0);
	return rc == 0 ? KT_OK : wfail(w, rc, "mdb_put(maproots)");
}

/* Marks the loaded strata that loaded stratum `st`, unchanged, points to:
 * its nodes are in the table; an exit to a loaded stratum is a table
 * entry of another stratum. */
static void mark_node(struct batch *b, const struct kt_hash *h, int32_t st);

static void
mark(struct batch *b, int32_t st)
{
	if (b->ld[st].reached == 2)
		return;
	b->ld[st].reached = 2;
	mark_node(b, &b->ld[st].h, st);
}

static void
mark_node(struct batch *b, const struct kt_hash *h, int32_t st)
{
	const struct ent *e = tab_get(b, h);

	if (e == NULL || e->st < 0)
		return; /* a stratum not loaded */
	if (e->st != st) {
		if (e->root)
			mark(b, e->st);
		return;
	}
	if (!e->n.is_leaf) {
		struct kt_hash c0 = e->n.child[0], c1 = e->n.child[1];

		mark_node(b, &c0, st);
		mark_node(b, &c1, st);
	}
}

/* Lists the old root and the superseded loaded strata under head_index:
 * old_root[32] || n * u64 BE sequence number. */
static kt_err
record_gc(struct batch *b, const struct kt_hash *old_root, uint64_t head_index)
{
	uint8_t k[8];
	MDB_val key = { 8, k }, val;
	size_t i, n = 0;
	uint8_t *p;
	int rc;

	for (i = 0; i < b->nld; i++)
		if (b->ld[i].reached == 1)
			mark(b, (int32_t)i);
	for (i = 0; i < b->nld; i++)
		n += b->ld[i].reached == 0;
	if ((p = malloc(KT_HASH_LEN + n * 8)) == NULL)
		return KT_ERR_NOMEM;
	memcpy(p, old_root->b, KT_HASH_LEN);
	for (i = 0, n = 0; i < b->nld; i++)
		if (b->ld[i].reached == 0)
			kt_put_be64(p + KT_HASH_LEN + 8 * n++, b->ld[i].seq);
	kt_put_be64(k, head_index);
	val.mv_size = KT_HASH_LEN + n * 8;
	val.mv_data = p;
	rc = mdb_put(b->w->txn, b->w->s->mapgc, &key, &val, 0);
	free(p);
	return rc == 0 ? KT_OK : wfail(b->w, rc, "mdb_put(mapgc)");
}

kt_err
kt_store_map_apply(struct kt_store_txn *w, const struct kt_hash *old_root,
    const struct kt_map_update *u, size_t n, uint64_t head_index,
    struct kt_map_result *res)
{
	struct batch *b;
	struct kt_map_reader r;
	struct kt_map_writer wr;
	uint64_t seq;
	int rc;
	kt_err err;

	memset(res, 0, sizeof(*res));
	if (w->failed)
		return KT_ERR_INTERNAL;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->scratch = malloc(sizeof(*b->scratch))) == NULL) {
		free(b);
		return KT_ERR_NOMEM;
	}
	b->w = w;
	r.read = read_batch;
	r.ctx = b;
	r.checked = 1; /* every node was hashed when its stratum decoded */
	wr.write = write_batch;
	wr.ctx = b;
	/* The old root's stratum, as an exit the first read loads (the
	 * empty map's root has none: proto reads no node of it). */
	err = get_root(w->txn, w->s->maproots, old_root, &seq, &rc);
	if (err == KT_OK)
		err = tab_put(b, old_root, NULL, -1, 0, seq);
	else if (err == KT_ERR_NOT_FOUND)
		err = KT_OK;
	else if (err == KT_ERR_IO)
		err = wfail(w, rc, "mdb_get(maproots)");
	if (err == KT_OK)
		err = kt_map_apply(&r, old_root, u, n, &wr, res);
	if (err == KT_OK && !kt_hash_eq(&res->root, old_root)) {
		err = pack(b, &res->root, &seq);
		if (err == KT_OK)
			err = record_gc(b, old_root, head_index);
	}
	batch_free(b);
	return err;
}

/* ---- pruning ------------------------------------------------------------- */

/* Deletes one mapgc record's strata (copied out of LMDB: deleting from
 * `map` may reuse the pages the record was in) and its old root. */
static kt_err
prune_one(struct kt_store_txn *w, const uint8_t *p, size_t len)
{
	MDB_val mk;
	size_t i;
	int rc;

	mk.mv_size = KT_HASH_LEN;
	mk.mv_data = (void *)p;
	rc = mdb_del(w->txn, w->s->maproots, &mk, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return wfail(w, rc, "mdb_del(maproots)");
	for (i = KT_HASH_LEN; i + 8 <= len; i += 8) {
		mk.mv_size = 8;
		mk.mv_data = (void *)(p + i);
		rc = mdb_del(w->txn, w->s->map, &mk, NULL);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return wfail(w, rc, "mdb_del(map)");
	}
	return KT_OK;
}

kt_err
kt_store_map_prune(struct kt_store_txn *w, uint64_t before)
{
	MDB_cursor *c = NULL;
	MDB_val key, val;
	uint8_t *copy = NULL;
	size_t len;
	int rc;
	kt_err err = KT_OK;

	if (w->failed)
		return KT_ERR_INTERNAL;
	if ((rc = mdb_cursor_open(w->txn, w->s->mapgc, &c)) != 0)
		return wfail(w, rc, "mdb_cursor_open(mapgc)");
	while ((rc = mdb_cursor_get(c, &key, &val, MDB_FIRST)) == 0) {
		if (key.mv_size != 8 || kt_get_be64(key.mv_data) >= before)
			break;
		len = val.mv_size;
		if (len < KT_HASH_LEN || (len - KT_HASH_LEN) % 8 != 0) {
			err = KT_ERR_VERIFY;
			goto out;
		}
		free(copy);
		if ((copy = malloc(len)) == NULL) {
			err = KT_ERR_NOMEM;
			goto out;
		}
		memcpy(copy, val.mv_data, len);
		if ((rc = mdb_cursor_del(c, 0)) != 0) {
			err = wfail(w, rc, "mdb_cursor_del(mapgc)");
			goto out;
		}
		if ((err = prune_one(w, copy, len)) != KT_OK)
			goto out;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		err = wfail(w, rc, "mdb_cursor_get(mapgc)");
out:
	free(copy);
	mdb_cursor_close(c);
	return err;
}

/* ---- proofs -------------------------------------------------------------- */

/*
 * kt_map_prove reads a path from the root down: the reader keeps the
 * stratum it is in and the node it returned last, so the next node (a
 * child of that one) is found by comparing two hashes. An exit loads the
 * next stratum by the sequence number it holds (decoding hashes each of
 * its nodes once); the root's comes from maproots.
 */
struct preader {
	struct kt_store_txn *w; /* NULL: a snapshot */
	MDB_txn *txn;
	MDB_dbi dbi;
	struct kt_hash root;
	uint64_t root_seq;
	struct stratum *st;
	size_t last;
	int have;
	/* A prover of many paths (kt_store_map_prover): decoded strata kept
	 * by sequence number, so the strata near the root that sorted paths
	 * share are read and hashed once. NULL: one stratum at a time. */
	struct pcache *cache;
};

#define PCACHE_SLOTS 64 /* direct-mapped by sequence number */

struct pcache {
	uint64_t seq[PCACHE_SLOTS]; /* 0: empty (sequence numbers start at 1) */
	struct stratum st[PCACHE_SLOTS];
};

/* The stratum stored under seq with root *h, decoded, into p->st: from
 * the cache when it holds it (its root's hash checked again), else read
 * (get_stratum) into its slot. */
static kt_err
load_path_stratum(struct preader *p, uint64_t seq, const struct kt_hash *h,
    int *rc)
{
	size_t slot;
	kt_err err;

	if (p->cache == NULL)
		return get_stratum(p->txn, p->dbi, seq, h, p->st, rc);
	slot = (size_t)(seq % PCACHE_SLOTS);
	p->st = &p->cache->st[slot];
	if (p->cache->seq[slot] == seq && kt_hash_eq(&p->st->node[0].h, h))
		return KT_OK;
	p->cache->seq[slot] = 0;
	err = get_stratum(p->txn, p->dbi, seq, h, p->st, rc);
	if (err == KT_OK)
		p->cache->seq[slot] = seq;
	return err;
}

static kt_err
read_path(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	struct preader *p = ctx;
	const struct snode *n;
	uint64_t seq;
	size_t i;
	int rc, d;
	kt_err err;

	(void)depth;
	i = p->have ? p->st->n : 0;
	if (p->have) {
		n = &p->st->node[p->last];
		if (n->kind == SN_INTERIOR) {
			d = kt_map_bit(index, n->bit);
			i = kt_hash_eq(&p->st->node[n->c[d]].h, h) ? n->c[d]
			    : kt_hash_eq(&p->st->node[n->c[!d]].h, h)
			    ? n->c[!d]
			    : p->st->n;
		}
		/* Another pattern: any node of this stratum. */
		if (i == p->st->n)
			for (i = 0; i < p->st->n; i++)
				if (kt_hash_eq(&p->st->node[i].h, h))
					break;
		if (i < p->st->n && p->st->node[i].kind != SN_EXIT)
			goto found;
	}
	if (p->have && i < p->st->n)
		seq = p->st->node[i].seq; /* an exit */
	else if (kt_hash_eq(h, &p->root))
		seq = p->root_seq;
	else
		return KT_ERR_NOT_FOUND;
	p->have = 0;
	err = load_path_stratum(p, seq, h, &rc);
	if (err == KT_ERR_IO && p->w != NULL)
		return wfail(p->w, rc, "mdb_get(map)");
	if (err != KT_OK)
		return err;
	p->have = 1;
	i = 0;
found:
	p->last = i;
	kt_strata_node(p->st, i, out);
	return KT_OK;
}

/* p's root and the sequence number of its stratum (none for the empty
 * map's root). */
static kt_err
set_root(struct preader *p, MDB_dbi roots, const struct kt_hash *root)
{
	struct kt_hash empty;
	int rc;
	kt_err err = KT_OK;

	p->root = *root;
	kt_map_empty_root(&empty);
	if (!kt_hash_eq(root, &empty)) {
		err = get_root(p->txn, roots, root, &p->root_seq, &rc);
		if (err == KT_ERR_IO && p->w != NULL)
			return wfail(p->w, rc, "mdb_get(maproots)");
	}
	return err;
}

/* One path from p's root, once set_root did. */
static kt_err
prove_one(struct preader *p, const struct kt_hash *index,
    struct kt_map_proof *out)
{
	/* checked: get_stratum hashes every node it decodes and checks the
	 * stratum's root against the hash its parent's exit holds. */
	struct kt_map_reader r = { read_path, p, 1 };

	p->have = 0;
	return kt_map_prove(&r, &p->root, index, out);
}

static kt_err
prove(struct preader *p, MDB_dbi roots, const struct kt_hash *root,
    const struct kt_hash *index, struct kt_map_proof *out)
{
	kt_err err;

	if ((err = set_root(p, roots, root)) != KT_OK)
		return err;
	if ((p->st = malloc(sizeof(*p->st))) == NULL)
		return KT_ERR_NOMEM;
	err = prove_one(p, index, out);
	free(p->st);
	return err;
}

struct kt_store_map_prover {
	struct preader p;
	struct pcache cache;
};

kt_err
kt_store_map_prover_open(struct kt_store_read *r, const struct kt_hash *root,
    struct kt_store_map_prover **out)
{
	struct kt_store_map_prover *pv;
	kt_err err;

	*out = NULL;
	if ((pv = malloc(sizeof(*pv))) == NULL)
		return KT_ERR_NOMEM;
	memset(&pv->p, 0, sizeof(pv->p));
	memset(pv->cache.seq, 0, sizeof(pv->cache.seq));
	pv->p.txn = r->txn;
	pv->p.dbi = r->s->map;
	pv->p.cache = &pv->cache;
	if ((err = set_root(&pv->p, r->s->maproots, root)) != KT_OK) {
		free(pv);
		return err;
	}
	*out = pv;
	return KT_OK;
}

kt_err
kt_store_map_prover_prove(struct kt_store_map_prover *pv,
    const struct kt_hash *index, struct kt_map_proof *out)
{
	return prove_one(&pv->p, index, out);
}

void
kt_store_map_prover_close(struct kt_store_map_prover *pv)
{
	free(pv);
}

kt_err
kt_store_map_prove(struct kt_store_read *r, const struct kt_hash *root,
    const struct kt_hash *index, struct kt_map_proof *out)
{
	struct preader p = { 0 };

	p.txn = r->txn;
	p.dbi = r->s->map;
	return prove(&p, r->s->maproots, root, index, out);
}

kt_err
kt_store_map_prove_w(struct kt_store_txn *w, const struct kt_hash *root,
    const struct kt_hash *index, struct kt_map_proof *out)
{
	struct preader p = { 0 };

	if (w->failed)
		return KT_ERR_INTERNAL;
	p.w = w;
	p.txn = w->txn;
	p.dbi = w->s->map;
	return prove(&p, w->s->maproots, root, index, out);
}

/* ---- statistics ---------------------------------------------------------- */

static uint64_t
db_bytes(const MDB_stat *st)
{
	return (uint64_t)(st->ms_branch_pages + st->ms_leaf_pages +
	           st->ms_overflow_pages) *
	    st->ms_psize;
}

kt_err
kt_store_map_stats(struct kt_store_read *r, struct kt_store_map_stats *out)
{
	MDB_cursor *c;
	MDB_val key, val;
	MDB_stat st;
	int rc;

	memset(out, 0, sizeof(*out));
	if (mdb_stat(r->txn, r->s->map, &st) != 0)
		return KT_ERR_IO;
	out->records = st.ms_entries;
	out->bytes = db_bytes(&st);
	if (mdb_stat(r->txn, r->s->mapgc, &st) != 0)
		return KT_ERR_IO;
	out->gc_records = st.ms_entries;
	out->gc_bytes = db_bytes(&st);
	if (mdb_stat(r->txn, r->s->maproots, &st) != 0)
		return KT_ERR_IO;
	out->gc_records += st.ms_entries;
	out->gc_bytes += db_bytes(&st);
	if (mdb_cursor_open(r->txn, r->s->map, &c) != 0)
		return KT_ERR_IO;
	rc = mdb_cursor_get(c, &key, &val, MDB_LAST);
	mdb_cursor_close(c);
	if (rc == 0 && key.mv_size == 8)
		out->last_seq = kt_get_be64(key.mv_data);
	else if (rc != MDB_NOTFOUND)
		return KT_ERR_IO;
	return KT_OK;
}

/* Counts one stratum stored under seq; 0 if an exit does not point to an
 * earlier sequence number (children are written before parents). */
static int
scan_one(const struct stratum *st, uint64_t seq, struct kt_store_map_scan *out)
{
	unsigned children = 0;
	size_t i;

	out->interior += st->interior;
	for (i = 0; i < st->n; i++) {
		if (st->node[i].kind == SN_EXIT && st->node[i].seq >= seq)
			return 0;
		out->leaves += st->node[i].kind == SN_LEAF;
		children += st->node[i].kind != SN_INTERIOR;
	}
	if (st->interior > out->max_interior)
		out->max_interior = st->interior;
	if (children > out->max_children)
		out->max_children = children;
	return 1;
}

kt_err
kt_store_map_scan(struct kt_store_read *r, struct kt_store_map_scan *out)
{
	struct stratum *st = NULL;
	MDB_cursor *c = NULL;
	MDB_val key, val;
	int rc;
	kt_err err = KT_OK;

	memset(out, 0, sizeof(*out));
	if ((st = malloc(sizeof(*st))) == NULL)
		return KT_ERR_NOMEM;
	if (mdb_cursor_open(r->txn, r->s->map, &c) != 0) {
		free(st);
		return KT_ERR_IO;
	}
	for (rc = mdb_cursor_get(c, &key, &val, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &key, &val, MDB_NEXT)) {
		if (key.mv_size != 8) {
			err = KT_ERR_MALFORMED;
			break;
		}
		if ((err = kt_strata_decode(val.mv_data, val.mv_size, st)) !=
		    KT_OK)
			break;
		if (!scan_one(st, kt_get_be64(key.mv_data), out)) {
			err = KT_ERR_VERIFY;
			break;
		}
		out->records++;
		out->value_bytes += val.mv_size;
	}
	if (err == KT_OK && rc != MDB_NOTFOUND)
		err = KT_ERR_IO;
	mdb_cursor_close(c);
	free(st);
	return err;
}
