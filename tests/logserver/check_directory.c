/*
 * check_directory.c: the key directory end to end below HTTP: the real
 * sequencer and store against proto's reference map (tests/proto/
 * map_testlib.c) over seeded random workloads.
 *
 * Every batch mixes new labels, rotations, revocations (of live keys, and
 * of revoked ones: KT_ERR_CONFLICT), several versions of one label in one
 * submission, idempotent re-publishes and erasures. A model of every label
 * predicts each result; the updates are mirrored into the reference map,
 * whose root after every batch must be the root of the batch's map head.
 * After every batch, the lookup proof of every touched label and of some
 * absent ones is built from a read snapshot (a builder written here from
 * the store's read API, independent of logserver/http/bundle.c) and
 * verified with kt_lookup_verify against the signed checkpoint. Restarts,
 * injected commit and sync failures, map retention, erasure and a kill -9
 * of a process writing from several threads are covered too; the public
 * leaves never show a label or a key.
 */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../proto/map_testlib.h"
#include "harness/runner.h"
#include "kt/commit.h"
#include "kt/leaf.h"
#include "kt/lookup.h"
#include "kt/map.h"
#include "seq_testlib.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_map.h"
#include "store/store_write.h"

#define NL 300    /* labels a workload may publish */
#define NABSENT 8 /* labels it never publishes */
#define MAXREQ 24 /* requests per submission */
#define MAXBATCH 160

static void replay_log(struct kt_store *s);

/* ---- the model ----------------------------------------------------------- */

struct lab {
	char name[48];
	uint64_t version;  /* latest, 0: never published */
	uint64_t latest;   /* leaf index of the latest update */
	int live;          /* the latest is a key */
	uint8_t key[32];   /* that key */
	uint64_t unerased; /* retired versions whose values are kept */
	int touched;       /* by the current batch */
};

struct dir {
	struct kt_store *s;
	struct kt_seq *q;
	struct kt_seq_opts opts;
	struct ref_map ref;
	uint64_t seed;
	struct lab lab[NL];
	char absent[NABSENT][48];
	unsigned used; /* labels 0..used-1 have been drawn */
	uint64_t size; /* the log's size (its last checkpoint's) */
	uint64_t head; /* leaf index of the last map head */
	/* the checkpoint size and map root after each committed batch */
	uint64_t sizes[MAXBATCH];
	struct kt_hash roots[MAXBATCH];
	size_t nb;
	/* the submission being built: requests, their keys, their labels */
	struct kt_seq_req rq[MAXREQ];
	uint8_t keys[MAXREQ][32];
	unsigned who[MAXREQ];
	size_t n;
};

static void
dir_open(struct dir *d, uint64_t seed, uint64_t retention_ms)
{
	memset(d, 0, sizeof(*d));
	d->seed = seed;
	for (unsigned i = 0; i < NL; i++) {
		snprintf(d->lab[i].name, sizeof(d->lab[i].name),
		    "user%u.%llx@dir.example", i, (unsigned long long)seed);
		(void)label_vrf(d->lab[i].name);
	}
	for (unsigned i = 0; i < NABSENT; i++)
		snprintf(d->absent[i], sizeof(d->absent[i]),
		    "nobody%u@dir.example", i);
	d->opts.max_batch = 256;
	d->opts.map_retention_ms = retention_ms;
	d->s = open_store(0);
	d->q = start_opts(d->s, &d->opts);
	d->size = check_checkpoint(d->s);
	ck_assert_uint_eq(d->size, 1);
	d->head = 0;
}

static void
dir_close(struct dir *d)
{
	kt_seq_stop(d->q);
	kt_store_close(d->s);
	ref_free(&d->ref);
}

/* Stops the sequencer, closes and reopens the store, starts again. */
static void
dir_restart(struct dir *d)
{
	kt_seq_stop(d->q);
	kt_store_close(d->s);
	d->s = open_store(0);
	d->q = start_opts(d->s, &d->opts);
	ck_assert_uint_eq(check_checkpoint(d->s), d->size);
}

/* ---- lookups, built from a snapshot and verified ------------------------- */

/*
 * The lookup proof for label at checkpoint size `size` of snapshot r, from
 * the store's read API alone. KT_ERR_NOT_FOUND when the map of that size
 * is no longer kept; KT_ERR_EXISTS when the label's version at that size
 * has been retired and erased since (its opening is gone).
 */
static kt_err
build_lookup(struct kt_store_read *r, const char *label, uint64_t size,
    struct kt_lookup_proof *p)
{
	const struct label_vrf *lv = label_vrf(label);
	struct kt_store_value v;
	const uint8_t *buf;
	size_t len = strlen(label);
	kt_err e;

	memset(p, 0, sizeof(*p));
	memcpy(p->label, label, len);
	p->label_len = len;
	e = kt_store_read_vrf(r, label, len, p->vrf_proof);
	if (e == KT_ERR_NOT_FOUND)
		memcpy(p->vrf_proof, lv->proof, KT_VRF_PROOF_LEN);
	else
		ck_assert_int_eq(e, KT_OK);
	/* Proving is deterministic: the kept proof is the prover's. */
	ck_assert_mem_eq(p->vrf_proof, lv->proof, KT_VRF_PROOF_LEN);
	ck_assert_int_eq(kt_store_read_entry(r, size - 1, &buf, &len), KT_OK);
	ck_assert_int_eq(kt_map_head_decode(buf, len, &p->head), KT_OK);
	ck_assert_int_eq(kt_store_inclusion(r, size - 1, size, &p->head_proof),
	    KT_OK);
	e = kt_store_map_prove(r, &p->head.root, &lv->index, &p->map);
	if (e != KT_OK)
		return e;
	p->present =
	    p->map.has_leaf && kt_hash_eq(&p->map.leaf.index, &lv->index);
	if (!p->present)
		return KT_OK;
	ck_assert_int_eq(kt_store_read_entry(r, p->map.leaf.update_index, &buf,
	                     &len),
	    KT_OK);
	ck_assert_int_eq(kt_update_decode(buf, len, &p->update), KT_OK);
	ck_assert_int_eq(kt_store_inclusion(r, p->map.leaf.update_index, size,
	                     &p->update_proof),
	    KT_OK);
	ck_assert_int_eq(kt_store_read_value(r, p->map.leaf.update_index, &v),
	    KT_OK);
	/* The latest version is never erased, but the one that was latest at
	 * an older size may have been since. */
	if (v.erased)
		return KT_ERR_EXISTS;
	memcpy(p->opening, v.opening, KT_OPENING_LEN);
	p->prev_chain = v.prev_chain;
	p->kind = v.kind;
	memcpy(p->key_type, v.key_type, v.key_type_len);
	p->key_type_len = v.key_type_len;
	memcpy(p->key, v.key, v.key_len);
	p->key_len = v.key_len;
	return KT_OK;
}

/* The signed checkpoint of size `size` in r, verified and parsed. */
static void
checkpoint_at(struct kt_store_read *r, uint64_t size, struct kt_checkpoint *c)
{
	const char *note;
	size_t len;

	ck_assert_int_eq(kt_store_read_checkpoint_at(r, size, &note, &len),
	    KT_OK);
	open_checkpoint(note, len, c);
	ck_assert_uint_eq(c->size, size);
}

/* Proves label at size in r and verifies it (also once encoded and
 * decoded); *out gets what it says. Returns build_lookup's KT_ERR_EXISTS
 * (the value was erased: nothing to verify), else KT_OK. */
static kt_err
prove(struct kt_store_read *r, const char *label, uint64_t size,
    struct kt_lookup_result *out)
{
	static struct kt_lookup_proof p, p2;
	static uint8_t enc[KT_LOOKUP_MAX];
	struct kt_checkpoint c;
	size_t len;

	checkpoint_at(r, size, &c);
	if (build_lookup(r, label, size, &p) == KT_ERR_EXISTS)
		return KT_ERR_EXISTS;
	ck_assert_int_eq(kt_lookup_verify(&p, vrf_pk, &c, label, strlen(label),
	                     out),
	    KT_OK);
	ck_assert_uint_eq(out->head_index, size - 1);
	ck_assert_int_eq(kt_lookup_encode(&p, enc, sizeof(enc), &len), KT_OK);
	ck_assert_int_eq(kt_lookup_decode(enc, len, &p2), KT_OK);
	ck_assert_int_eq(kt_lookup_verify(&p2, vrf_pk, &c, label, strlen(label),
	                     out),
	    KT_OK);
	/* Another label's proof proves nothing about this one. */
	if (p.present) {
		struct kt_lookup_result other;

		ck_assert_int_eq(kt_lookup_verify(&p, vrf_pk, &c, "x@y.example",
		                     11, &other),
		    KT_ERR_VERIFY);
	}
	return KT_OK;
}

/* Label l's lookup at the current size says what the model says. */
static void
check_lookup(struct dir *d, struct kt_store_read *r, const struct lab *l)
{
	struct kt_lookup_result res;

	ck_assert_int_eq(prove(r, l->name, d->size, &res), KT_OK);
	ck_assert_int_eq(res.present, l->version > 0);
	if (l->version == 0)
		return;
	ck_assert_uint_eq(res.leaf.version, l->version);
	ck_assert_uint_eq(res.leaf.update_index, l->latest);
	ck_assert_int_eq(res.revoked, !l->live);
	if (l->live) {
		ck_assert_uint_eq(res.key_len, 32);
		ck_assert_mem_eq(res.key, l->key, 32);
		ck_assert_uint_eq(res.key_type_len, 7);
		ck_assert_mem_eq(res.key_type, "ed25519", 7);
	}
}

/*
 * Label l's history: every version's update is in the log, carries the
 * label's index and links to the one before, every value's prev_chain is
 * the chain of the versions before (erased or not), and the chain of all
 * of them is the reference map's leaf.
 */
static void
check_history(struct dir *d, struct kt_store_read *r, const struct lab *l)
{
	const struct label_vrf *lv = label_vrf(l->name);
	struct kt_map_leaf *leaf = ref_find(&d->ref, &lv->index);
	struct kt_hash chain, lh;
	struct kt_store_value v;
	struct kt_update u;
	const uint8_t *buf;
	size_t len;
	uint64_t idx, prev = KT_NO_PREV, cnt, erased = 0;

	ck_assert_int_eq(kt_store_label_count(r, &lv->index, &cnt), KT_OK);
	ck_assert_uint_eq(cnt, l->version);
	memset(&chain, 0, sizeof(chain));
	for (uint64_t ver = 1; ver <= l->version; ver++) {
		ck_assert_int_eq(kt_store_label_version(r, &lv->index, ver,
		                     &idx),
		    KT_OK);
		ck_assert_int_eq(kt_store_read_entry(r, idx, &buf, &len),
		    KT_OK);
		ck_assert_int_eq(kt_update_decode(buf, len, &u), KT_OK);
		ck_assert(kt_hash_eq(&u.index, &lv->index));
		ck_assert_uint_eq(u.version, ver);
		ck_assert_uint_eq(u.prev_index, prev);
		ck_assert_int_eq(kt_store_read_value(r, idx, &v), KT_OK);
		ck_assert_mem_eq(v.prev_chain.b, chain.b, KT_HASH_LEN);
		erased += (uint64_t)v.erased;
		kt_update_leaf_hash(&u, &lh);
		kt_map_chain_next(ver == 1 ? NULL : &chain, &lh, &chain);
		prev = idx;
	}
	if (l->version > 0)
		ck_assert_uint_eq(prev, l->latest);
	/* Retired versions not erased yet are exactly the model's. */
	if (l->version > 0) {
		ck_assert_uint_eq(l->version - 1 - erased, l->unerased);
		ck_assert_ptr_nonnull(leaf);
		ck_assert(kt_hash_eq(&leaf->chain, &chain));
	} else {
		ck_assert_ptr_null(leaf);
	}
}

/* ---- batches ------------------------------------------------------------- */

/* A label of the workload: now and then one not drawn before. */
static unsigned
draw_label(struct dir *d)
{
	if (d->used < NL && (d->used == 0 || rnd(&d->seed) % 10 < 3))
		return d->used++;
	return (unsigned)(rnd(&d->seed) % d->used);
}

static void
add_req(struct dir *d, enum kt_seq_op op, unsigned li, const uint8_t *key)
{
	size_t j = d->n++;

	ck_assert_uint_le(d->n, MAXREQ);
	d->who[j] = li;
	if (op == KT_SEQ_PUBLISH) {
		if (key != NULL)
			memcpy(d->keys[j], key, 32);
		else
			for (int b = 0; b < 32; b += 8) {
				uint64_t x = rnd(&d->seed);

				memcpy(d->keys[j] + b, &x, 8);
			}
		d->rq[j] = pub(d->lab[li].name, "ed25519", d->keys[j], 32);
	} else if (op == KT_SEQ_REVOKE) {
		d->rq[j] = rev(d->lab[li].name);
	} else {
		d->rq[j] = erase_req(d->lab[li].name);
	}
}

/* A random submission of 1..MAXREQ requests. */
static void
make_batch(struct dir *d)
{
	size_t want = 1 + (size_t)(rnd(&d->seed) % MAXREQ);

	d->n = 0;
	while (d->n < want) {
		unsigned li = draw_label(d),
		         r = (unsigned)(rnd(&d->seed) % 100);
		size_t room = MAXREQ - d->n;

		if (r < 45) {
			add_req(d, KT_SEQ_PUBLISH, li, NULL);
		} else if (r < 55) {
			/* The model's current key: idempotent unless
			 * revoked or changed earlier in this batch. */
			add_req(d, KT_SEQ_PUBLISH, li,
			    d->lab[li].version ? d->lab[li].key : NULL);
		} else if (r < 72) {
			add_req(d, KT_SEQ_REVOKE, li, NULL);
		} else if (r < 78) {
			add_req(d, KT_SEQ_ERASE, li, NULL);
		} else if (r < 94 && room >= 3) {
			/* Several versions of one label in one batch. */
			add_req(d, KT_SEQ_PUBLISH, li, NULL);
			add_req(d, KT_SEQ_PUBLISH, li, NULL);
			if (r & 1)
				add_req(d, KT_SEQ_REVOKE, li, NULL);
		} else if (room >= 2) {
			/* A revocation of a revoked key conflicts. */
			add_req(d, KT_SEQ_REVOKE, li, NULL);
			add_req(d, KT_SEQ_REVOKE, li, NULL);
		}
	}
}

/* Whether request j's label is published again and then erased later in
 * the submission (which erases j's value in the same batch). */
static int
erased_later(const struct dir *d, size_t j)
{
	int newer = 0;

	for (size_t k = j + 1; k < d->n; k++) {
		if (d->who[k] != d->who[j])
			continue;
		if (d->rq[k].op == KT_SEQ_ERASE && newer)
			return 1;
		newer = 1; /* a conflict or idempotent one counts too: loose */
	}
	return 0;
}

/*
 * Walks the submission in order against the model: predicts each result
 * (checked against res when given), reads each appended update from the
 * store and checks it (index, version, link, a commitment that opens to
 * the value), mirrors it into the reference map and the model. Returns
 * the number of updates.
 */
static uint64_t
apply_model(struct dir *d, const struct kt_seq_res *res)
{
	struct kt_store_read *r;
	uint64_t next = d->size;

	ck_assert_int_eq(kt_store_read_begin(d->s, &r), KT_OK);
	for (size_t j = 0; j < d->n; j++) {
		struct lab *l = &d->lab[d->who[j]];
		const struct kt_seq_req *rq = &d->rq[j];
		struct kt_seq_res want;
		struct kt_map_update mu;
		struct kt_update u;
		struct kt_store_value v;
		struct kt_value val;
		const uint8_t *buf;
		size_t len;

		memset(&want, 0, sizeof(want));
		l->touched = 1;
		if (rq->op == KT_SEQ_ERASE) {
			want.err = l->version ? KT_OK : KT_ERR_NOT_FOUND;
			want.index = l->version ? l->latest : 0;
			want.version = l->version;
			want.erased = l->version ? l->unerased : 0;
			l->unerased = 0;
		} else if (rq->op == KT_SEQ_REVOKE && !l->live) {
			want.err = KT_ERR_CONFLICT;
		} else if (rq->op == KT_SEQ_PUBLISH && l->live &&
		    memcmp(l->key, rq->key, 32) == 0) {
			want.index = l->latest;
			want.version = l->version;
		} else {
			want.index = next++;
			want.version = l->version + 1;
			want.appended = 1;
		}
		if (res != NULL) {
			ck_assert_int_eq(res[j].err, want.err);
			ck_assert_int_eq(res[j].appended, want.appended);
			if (want.err == KT_OK) {
				ck_assert_uint_eq(res[j].index, want.index);
				ck_assert_uint_eq(res[j].version, want.version);
			}
			if (rq->op == KT_SEQ_ERASE)
				ck_assert_uint_eq(res[j].erased, want.erased);
		}
		if (!want.appended)
			continue;
		ck_assert_int_eq(kt_store_read_entry(r, want.index, &buf, &len),
		    KT_OK);
		ck_assert_int_eq(kt_update_decode(buf, len, &u), KT_OK);
		ck_assert(kt_hash_eq(&u.index, &rq->index));
		ck_assert_uint_eq(u.version, want.version);
		ck_assert_uint_eq(u.prev_index,
		    l->version ? l->latest : KT_NO_PREV);
		ck_assert_int_eq(kt_store_read_value(r, want.index, &v), KT_OK);
		memset(&val, 0, sizeof(val));
		val.kind =
		    rq->op == KT_SEQ_REVOKE ? KT_VALUE_REVOKE : KT_VALUE_KEY;
		if (val.kind == KT_VALUE_KEY) {
			val.key_type = "ed25519";
			val.key_type_len = 7;
			val.key = rq->key;
			val.key_len = 32;
		}
		if (v.erased) {
			/* Retired and erased later in the same batch. */
			ck_assert(erased_later(d, j));
		} else {
			ck_assert_int_eq(kt_commit_verify(v.opening, rq->label,
			                     rq->label_len, u.version, &val,
			                     &u.commitment),
			    KT_OK);
		}
		mu.index = u.index;
		mu.version = u.version;
		mu.prev_index = l->version ? l->latest : KT_MAP_NO_PREV;
		mu.log_index = want.index;
		kt_update_leaf_hash(&u, &mu.leaf_hash);
		ref_update(&d->ref, &mu);
		if (l->version)
			l->unerased++;
		l->version = u.version;
		l->latest = want.index;
		l->live = val.kind == KT_VALUE_KEY;
		if (l->live)
			memcpy(l->key, rq->key, 32);
	}
	kt_store_read_end(r);
	return next - d->size;
}

/* After a committed batch of `ups` updates: the map head, its root
 * against the reference, and the lookups of the touched labels, some
 * absent ones and one older checkpoint. */
static void
check_batch(struct dir *d, uint64_t ups)
{
	struct kt_store_read *r;
	struct kt_map_head h;
	struct kt_hash want;
	struct kt_lookup_result res;

	if (ups > 0) {
		read_head(d->s, d->size + ups, &h);
		ck_assert_uint_eq(h.prev_head, d->head);
		ck_assert_uint_eq(h.log_size, d->size + ups);
		ck_assert_uint_eq(h.label_count, d->ref.n);
		ref_root(&d->ref, &want);
		ck_assert_msg(kt_hash_eq(&h.root, &want),
		    "map root after batch %zu differs from the reference",
		    d->nb);
		d->head = d->size + ups;
		d->size += ups + 1;
		ck_assert_uint_lt(d->nb, MAXBATCH);
		d->sizes[d->nb] = d->size;
		d->roots[d->nb++] = h.root;
	}
	ck_assert_uint_eq(check_checkpoint(d->s), d->size);
	ck_assert_int_eq(kt_store_read_begin(d->s, &r), KT_OK);
	for (unsigned i = 0; i < d->used; i++) {
		if (!d->lab[i].touched)
			continue;
		d->lab[i].touched = 0;
		check_lookup(d, r, &d->lab[i]);
		check_history(d, r, &d->lab[i]);
	}
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_int_eq(prove(r, d->absent[rnd(&d->seed) % NABSENT],
		                     d->size, &res),
		    KT_OK);
		ck_assert_int_eq(res.present, 0);
	}
	if (d->nb > 1 && d->opts.map_retention_ms == 0) {
		/* An older map, kept (default retention), still proves. */
		size_t k = (size_t)(rnd(&d->seed) % d->nb);
		unsigned li = (unsigned)(rnd(&d->seed) % d->used);

		/* Unless that version was retired and erased since. */
		if (prove(r, d->lab[li].name, d->sizes[k], &res) ==
		    KT_ERR_EXISTS)
			ck_assert_uint_lt(d->lab[li].unerased + 1,
			    d->lab[li].version);
	}
	kt_store_read_end(r);
}

/* Submits the batch built; checks and mirrors it. Returns the error. */
static kt_err
run_batch(struct dir *d, int fail_commit)
{
	struct waiter w;
	uint64_t ups;

	if (fail_commit)
		kt_store_test_fail_commits(d->s, 1);
	submit_wait(d->q, d->rq, d->n, &w);
	if (w.err != KT_OK) {
		/* Nothing acknowledged, nothing written, model unchanged. */
		for (size_t j = 0; j < d->n; j++)
			ck_assert_int_eq(w.res[j].err, w.err);
		ck_assert_uint_eq(w.tree_size, 0);
		ck_assert_uint_eq(check_checkpoint(d->s), d->size);
		return w.err;
	}
	ck_assert(!fail_commit);
	ups = apply_model(d, w.res);
	ck_assert_uint_eq(w.tree_size, d->size + ups + (ups > 0));
	check_batch(d, ups);
	return KT_OK;
}

/* No public leaf holds a label or a key of the model. */
static void
check_leaves_private(struct dir *d)
{
	struct kt_store_read *r;
	const uint8_t *buf;
	size_t len;

	ck_assert_int_eq(kt_store_read_begin(d->s, &r), KT_OK);
	for (uint64_t i = 0; i < d->size; i++) {
		ck_assert_int_eq(kt_store_read_entry(r, i, &buf, &len), KT_OK);
		ck_assert(len == KT_UPDATE_LEN || len == KT_MAP_HEAD_LEN);
		for (unsigned li = 0; li < d->used; li++) {
			const struct lab *l = &d->lab[li];

			ck_assert_ptr_null(
			    memmem(buf, len, l->name, strlen(l->name)));
			/* The user part alone, too ("user12.5eed"). */
			ck_assert_ptr_null(
			    memmem(buf, len, l->name, strcspn(l->name, "@")));
			if (l->version)
				ck_assert_ptr_null(
				    memmem(buf, len, l->key, sizeof(l->key)));
		}
	}
	kt_store_read_end(r);
}

/* ---- the seeded workloads ------------------------------------------------ */

/*
 * 120 random batches over 300 labels, with a restart every 25 batches and
 * an injected commit failure in about one batch in 12. Every root is the
 * reference's, every lookup verifies, and in the end every label's
 * lookup and history hold after one more restart.
 */
START_TEST(test_random_directory)
{
	static struct dir d;
	unsigned failures = 0;

	dir_open(&d, 0x5eed0001u + (uint64_t)_i, 0);
	for (unsigned b = 0; b < 120; b++) {
		int fail = rnd(&d.seed) % 12 == 0;

		make_batch(&d);
		if (run_batch(&d, fail) != KT_OK) {
			failures++;
			/* The next batch goes ahead as if nothing failed. */
			make_batch(&d);
			ck_assert_int_eq(run_batch(&d, 0), KT_OK);
		}
		if (b % 25 == 24)
			dir_restart(&d);
	}
	ck_assert_uint_gt(failures, 3);
	ck_assert_uint_gt(d.used, 200);
	check_leaves_private(&d);
	replay_log(d.s);
	dir_restart(&d);
	{
		struct kt_store_read *r;

		ck_assert_int_eq(kt_store_read_begin(d.s, &r), KT_OK);
		for (unsigned i = 0; i < d.used; i++) {
			check_lookup(&d, r, &d.lab[i]);
			check_history(&d, r, &d.lab[i]);
		}
		kt_store_read_end(r);
	}
	dir_close(&d);
}
END_TEST

/*
 * A failed sync: the batch is reported failed, the store takes no more
 * writes until reopened, and the reopened store holds the batch entirely
 * or not at all (here, the page cache keeps it); the directory goes on
 * from there and every lookup still proves.
 */
START_TEST(test_failed_sync)
{
	static struct dir d;
	struct waiter w;
	uint64_t size;

	dir_open(&d, 0x5eed0100u, 0);
	for (unsigned b = 0; b < 10; b++) {
		make_batch(&d);
		ck_assert_int_eq(run_batch(&d, 0), KT_OK);
	}
	make_batch(&d);
	kt_store_test_fail_syncs(d.s, 1);
	submit_wait(d.q, d.rq, d.n, &w);
	ck_assert_int_eq(w.err, KT_ERR_IO);
	ck_assert_uint_eq(check_checkpoint(d.s), d.size);
	ck_assert_int_eq(kt_store_writable(d.s), 0);
	kt_seq_stop(d.q);
	kt_store_close(d.s);
	d.s = open_store(0);
	d.q = start_opts(d.s, &d.opts);
	size = check_checkpoint(d.s);
	if (size != d.size) {
		uint64_t ups = apply_model(&d, NULL);

		ck_assert_uint_eq(size, d.size + ups + 1);
		check_batch(&d, ups);
	}
	for (unsigned b = 0; b < 10; b++) {
		make_batch(&d);
		ck_assert_int_eq(run_batch(&d, 0), KT_OK);
	}
	replay_log(d.s);
	dir_close(&d);
}
END_TEST

/*
 * map_retention_ms 1: a batch deletes the strata of the maps replaced
 * before the previous one. The latest map always proves; older ones
 * (two batches back and more) are gone (KT_ERR_NOT_FOUND), also across
 * a restart, whose first old-enough head prunes what came before it.
 */
START_TEST(test_retention)
{
	static struct dir d;
	struct kt_store_read *r;
	struct kt_map_proof mp;
	struct timespec ms2 = { 0, 2 * 1000 * 1000 };
	unsigned gone = 0;

	dir_open(&d, 0x5eed0200u, 1);
	for (unsigned b = 0; b < 30; b++) {
		make_batch(&d);
		ck_assert_int_eq(run_batch(&d, 0), KT_OK);
		nanosleep(&ms2, NULL);
		if (b == 14)
			dir_restart(&d);
	}
	/* One more batch after the last sleep prunes up to the one before. */
	make_batch(&d);
	ck_assert_int_eq(run_batch(&d, 0), KT_OK);
	ck_assert_uint_gt(d.nb, 20);
	ck_assert_int_eq(kt_store_read_begin(d.s, &r), KT_OK);
	for (size_t k = 0; k + 2 < d.nb; k++) {
		kt_err e = kt_store_map_prove(r, &d.roots[k],
		    &label_vrf(d.lab[0].name)->index, &mp);

		ck_assert_msg(e == KT_ERR_NOT_FOUND,
		    "map %zu of %zu still proves (%s)", k, d.nb,
		    kt_strerror(e));
		gone++;
	}
	for (size_t k = d.nb - 2; k < d.nb; k++)
		ck_assert_int_eq(kt_store_map_prove(r, &d.roots[k],
		                     &label_vrf(d.lab[0].name)->index, &mp),
		    KT_OK);
	kt_store_read_end(r);
	ck_assert_uint_gt(gone, 10);
	/* The latest map proves every label. */
	ck_assert_int_eq(kt_store_read_begin(d.s, &r), KT_OK);
	for (unsigned i = 0; i < d.used; i++)
		check_lookup(&d, r, &d.lab[i]);
	kt_store_read_end(r);
	dir_close(&d);
}
END_TEST

/* ---- replay of the whole log ------------------------------------------- */

/*
 * Rebuilds the map from the log's update leaves alone, in order, and
 * checks every map head on the way: its root is the reference's, its
 * label count, position and link are right, and every update's link and
 * version continue its label's. The map heads must end the log.
 */
static void
replay_log(struct kt_store *s)
{
	struct ref_map ref;
	struct kt_store_read *r;
	struct kt_hash root;
	uint64_t size, head = KT_NO_PREV;

	memset(&ref, 0, sizeof(ref));
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	size = kt_store_read_size(r);
	for (uint64_t i = 0; i < size; i++) {
		const uint8_t *buf;
		size_t len;
		struct kt_update u;
		struct kt_map_head h;
		struct kt_map_update mu;
		struct kt_map_leaf *l;

		ck_assert_int_eq(kt_store_read_entry(r, i, &buf, &len), KT_OK);
		if (kt_map_head_decode(buf, len, &h) == KT_OK) {
			ref_root(&ref, &root);
			ck_assert(kt_hash_eq(&h.root, &root));
			ck_assert_uint_eq(h.label_count, ref.n);
			ck_assert_uint_eq(h.log_size, i);
			ck_assert_uint_eq(h.prev_head, head);
			head = i;
			continue;
		}
		ck_assert_int_eq(kt_update_decode(buf, len, &u), KT_OK);
		l = ref_find(&ref, &u.index);
		ck_assert_uint_eq(u.version, l != NULL ? l->version + 1 : 1);
		ck_assert_uint_eq(u.prev_index,
		    l != NULL ? l->update_index : KT_NO_PREV);
		mu.index = u.index;
		mu.version = u.version;
		mu.prev_index = l != NULL ? l->update_index : KT_MAP_NO_PREV;
		mu.log_index = i;
		kt_update_leaf_hash(&u, &mu.leaf_hash);
		ref_update(&ref, &mu);
	}
	ck_assert_uint_eq(head, size - 1);
	kt_store_read_end(r);
	ref_free(&ref);
}

/* ---- kill -9 during concurrent writes ------------------------------------ */

#define KILL_LABELS 40
#define KILL_THREADS 3

/* What a child acknowledged: label li's version at leaf index, with key
 * (or a revocation). One write() each, under PIPE_BUF: atomic. */
struct ack {
	uint32_t li;
	uint32_t revoke;
	uint64_t version, index;
	uint8_t key[32];
};

static char kill_names[KILL_LABELS][40];

struct kthread {
	struct kt_seq *q;
	int fd;
	unsigned seed;
};

static void *
kill_writer(void *arg)
{
	struct kthread *t = arg;

	for (;;) {
		struct kt_seq_req rq[3];
		uint8_t key[3][32];
		unsigned li[3];
		size_t n = 1 + (size_t)(rand_r(&t->seed) % 3);
		struct waiter w;

		for (size_t j = 0; j < n; j++) {
			li[j] = (unsigned)rand_r(&t->seed) % KILL_LABELS;
			memset(key[j], rand_r(&t->seed), 32);
			key[j][0] = (uint8_t)rand_r(&t->seed);
			rq[j] = rand_r(&t->seed) % 6 == 0
			    ? rev(kill_names[li[j]])
			    : pub(kill_names[li[j]], "ed25519", key[j], 32);
		}
		waiter_init(&w);
		if (kt_seq_submit(t->q, rq, n, on_done, &w) != KT_OK)
			_exit(3);
		waiter_wait(&w);
		if (w.err != KT_OK)
			_exit(4);
		for (size_t j = 0; j < n; j++) {
			struct ack a;

			if (w.res[j].err != KT_OK)
				continue;
			memset(&a, 0, sizeof(a));
			a.li = li[j];
			a.revoke = rq[j].op == KT_SEQ_REVOKE;
			a.version = w.res[j].version;
			a.index = w.res[j].index;
			memcpy(a.key, key[j], 32);
			if (write(t->fd, &a, sizeof(a)) != (ssize_t)sizeof(a))
				_exit(5);
		}
	}
	return NULL;
}

/* The child: a sequencer and KILL_THREADS writers until killed. */
static void
kill_child(int fd)
{
	struct kt_store *s = NULL;
	struct kt_seq *q = NULL;
	struct kthread t[KILL_THREADS];
	pthread_t th[KILL_THREADS];
	char err[256];

	if (kt_store_open(&s, tmpdir, ORIGIN, vkey, err, sizeof(err)) !=
	        KT_OK ||
	    kt_seq_start(&q, s, signer, NULL) != KT_OK)
		_exit(2);
	for (int i = 0; i < KILL_THREADS; i++) {
		t[i].q = q;
		t[i].fd = fd;
		t[i].seed = 17u * (unsigned)i + 3;
		if (pthread_create(&th[i], NULL, kill_writer, &t[i]) != 0)
			_exit(2);
	}
	for (;;)
		pause();
}

/* Reads acks from fd into a (growing), until EOF or, with a deadline,
 * until it has passed. */
static void
read_acks(int fd, struct ack **a, size_t *n, size_t *cap, double secs)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t got;

		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			*a = realloc(*a, *cap * sizeof(**a));
			ck_assert_ptr_nonnull(*a);
		}
		got = read(fd, &(*a)[*n], sizeof(**a));
		if (got == 0)
			return;
		ck_assert_int_eq(got, (ssize_t)sizeof(**a));
		(*n)++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (secs > 0 &&
		    (double)(now.tv_sec - t0.tv_sec) +
		            (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >
		        secs)
			return;
	}
}

/*
 * A child process writes from three threads through the real sequencer
 * and reports every acknowledged write; it is killed (SIGKILL) in the
 * middle. Reopened, the log replays to every map head's root, and every
 * acknowledged write is in it: its update at the acknowledged index with
 * a commitment to the acknowledged value, and the label's lookup proof
 * verifies with that version or a later one. Writing goes on after.
 */
START_TEST(test_kill9_concurrent)
{
	struct ack *a = NULL;
	size_t n = 0, cap = 0;
	int fds[2], status;
	pid_t pid;
	struct kt_store *s;
	struct kt_store_read *r;
	struct kt_seq *q;
	struct waiter w;
	struct kt_seq_req rq;
	uint8_t key[32];

	for (int i = 0; i < KILL_LABELS; i++) {
		snprintf(kill_names[i], sizeof(kill_names[i]),
		    "k%d@kill.example", i);
		(void)label_vrf(kill_names[i]);
	}
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		kill_child(fds[1]);
	}
	close(fds[1]);
	read_acks(fds[0], &a, &n, &cap, 1.5);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	read_acks(fds[0], &a, &n, &cap, 0);
	close(fds[0]);
	ck_assert_uint_gt(n, 50);

	s = open_store(0);
	ck_assert_uint_gt(check_checkpoint(s), 1);
	replay_log(s);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	for (size_t i = 0; i < n; i++) {
		const char *label = kill_names[a[i].li];
		struct kt_lookup_result res;
		struct kt_store_value v;
		struct kt_update u;
		struct kt_value val;
		const uint8_t *buf;
		size_t len;

		ck_assert_int_eq(kt_store_read_entry(r, a[i].index, &buf, &len),
		    KT_OK);
		ck_assert_int_eq(kt_update_decode(buf, len, &u), KT_OK);
		ck_assert(kt_hash_eq(&u.index, &label_vrf(label)->index));
		ck_assert_uint_eq(u.version, a[i].version);
		ck_assert_int_eq(kt_store_read_value(r, a[i].index, &v), KT_OK);
		memset(&val, 0, sizeof(val));
		val.kind = a[i].revoke ? KT_VALUE_REVOKE : KT_VALUE_KEY;
		if (!a[i].revoke) {
			val.key_type = "ed25519";
			val.key_type_len = 7;
			val.key = a[i].key;
			val.key_len = 32;
		}
		ck_assert_int_eq(kt_commit_verify(v.opening, label,
		                     strlen(label), u.version, &val,
		                     &u.commitment),
		    KT_OK);
		ck_assert_int_eq(prove(r, label, kt_store_read_size(r), &res),
		    KT_OK);
		ck_assert_int_eq(res.present, 1);
		ck_assert_uint_ge(res.leaf.version, a[i].version);
	}
	kt_store_read_end(r);
	free(a);
	/* The directory takes writes again. */
	q = start(s, 0, 0);
	memset(key, 0x77, sizeof(key));
	rq = pub(kill_names[0], "ed25519", key, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_int_eq(w.res[0].appended, 1);
	kt_seq_stop(q);
	replay_log(s);
	kt_store_close(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("directory");
	TCase *tc;

	tc = kt_test_fixture_case(s, "kt_seq_submit", 240, setup, teardown,
	    test_failed_sync, test_retention, NULL);
	tcase_add_loop_test(tc, test_random_directory, 0, 2);
	kt_test_fixture_case(s, "kill", 120, setup, teardown,
	    test_kill9_concurrent, NULL);
	return kt_test_run(s);
}
