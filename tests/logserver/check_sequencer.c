/*
 * check_sequencer.c: group commit over a real store in a fresh temporary
 * folder: versions and previous links, idempotence, revocations and
 * conflicts, batch limits, concurrent submitters, shutdown draining, and
 * signed checkpoints that verify and match the store's root.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "kt/checkpoint.h"
#include "kt/entry.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_write.h"

#define ORIGIN "example.com/kt-seq-test"

static char tmpdir[256];
static struct kt_signer *signer;
static struct kt_verifier verifier;
static char vkey[KT_KEY_TEXT_MAX];

static void
setup(void)
{
	uint8_t seed[KT_SEED_LEN];

	ck_assert_int_eq(tmpdir_make("kt-seq", tmpdir, sizeof(tmpdir)), 0);
	for (int i = 0; i < KT_SEED_LEN; i++)
		seed[i] = (uint8_t)(7 * i + 1);
	ck_assert_int_eq(kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, seed,
	                     &signer),
	    KT_OK);
	kt_signer_verifier(signer, &verifier);
	ck_assert_int_eq(kt_verifier_format(&verifier, vkey, sizeof(vkey)),
	    KT_OK);
}

static void
teardown(void)
{
	kt_signer_free(signer);
	signer = NULL;
	(void)tmpdir_remove(tmpdir);
}

static struct kt_store *
open_store(size_t mapsize)
{
	struct kt_store *s = NULL;
	char err[256];

	ck_assert_msg(kt_store_open_mapsize(&s, tmpdir, ORIGIN, vkey, mapsize,
	                  err, sizeof(err)) == KT_OK,
	    "open: %s", err);
	return s;
}

static struct kt_seq *
start(struct kt_store *s, size_t max_batch, size_t max_queue)
{
	struct kt_seq *q = NULL;
	struct kt_seq_opts o = { max_batch, max_queue };

	ck_assert_int_eq(kt_seq_start(&q, s, signer, &o), KT_OK);
	return q;
}

/* ---- a synchronous waiter ------------------------------------------------- */

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int calls;
	kt_err err;
	uint64_t tree_size;
	size_t n;
	struct kt_seq_res res[512];
	/* optional: block inside the callback until released */
	int hold;
	int held;
};

static void
waiter_init(struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
}

static void
on_done(void *arg, kt_err err, uint64_t tree_size, const struct kt_seq_res *res,
    size_t n)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	w->calls++;
	w->err = err;
	w->tree_size = tree_size;
	w->n = n;
	if (res != NULL && n <= 512)
		memcpy(w->res, res, n * sizeof(*res));
	pthread_cond_broadcast(&w->cv);
	if (w->hold) {
		w->held = 1;
		pthread_cond_broadcast(&w->cv);
		while (w->hold)
			pthread_cond_wait(&w->cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

static void
waiter_wait(struct waiter *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->calls == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static struct kt_seq_req
pub(const char *label, const char *key_type, const uint8_t *key, size_t len)
{
	struct kt_seq_req r;

	memset(&r, 0, sizeof(r));
	r.label = label;
	r.label_len = strlen(label);
	r.key_type = key_type;
	r.key_type_len = strlen(key_type);
	r.key = key;
	r.key_len = len;
	return r;
}

static struct kt_seq_req
rev(const char *label)
{
	struct kt_seq_req r;

	memset(&r, 0, sizeof(r));
	r.label = label;
	r.label_len = strlen(label);
	r.revoke = 1;
	return r;
}

/* Submits reqs as one submission and waits for its callback. */
static void
submit_wait(struct kt_seq *q, const struct kt_seq_req *reqs, size_t n,
    struct waiter *w)
{
	waiter_init(w);
	ck_assert_int_eq(kt_seq_submit(q, reqs, n, on_done, w), KT_OK);
	waiter_wait(w);
	ck_assert_int_eq(w->calls, 1);
	ck_assert_uint_eq(w->n, n);
}

/* The store's latest checkpoint verifies under the log key and commits to
 * the store's own root of its size; returns that size. */
static uint64_t
check_checkpoint(struct kt_store *s)
{
	struct kt_store_read *r;
	struct kt_note note;
	struct kt_checkpoint c;
	struct kt_hash root;
	const char *txt;
	size_t len;
	uint8_t ok = 0;
	uint64_t size;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	size = kt_store_read_size(r);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &txt, &len), KT_OK);
	ck_assert_int_eq(kt_note_open(txt, len, &verifier, 1, &note, &ok, NULL),
	    KT_OK);
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(kt_checkpoint_parse(note.text, note.text_len, &c),
	    KT_OK);
	ck_assert_str_eq(c.origin, ORIGIN);
	ck_assert_uint_eq(c.size, size);
	ck_assert_int_eq(kt_store_root(r, size, &root), KT_OK);
	ck_assert_mem_eq(root.b, c.root.b, KT_HASH_LEN);
	kt_store_read_end(r);
	return size;
}

static void
read_entry(struct kt_store *s, uint64_t index, uint8_t *buf, size_t *len,
    struct kt_entry *e)
{
	struct kt_store_read *r;
	const uint8_t *p;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_entry(r, index, &p, len), KT_OK);
	memcpy(buf, p, *len);
	kt_store_read_end(r);
	ck_assert_int_eq(kt_entry_decode(buf, *len, e), KT_OK);
}

/* ---- kt_seq_submit -------------------------------------------------------- */

START_TEST(test_publish_versions_links)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	struct kt_entry e;
	uint8_t k[3][32], buf[KT_ENTRY_MAX];
	size_t len;
	uint64_t idx[3];

	for (int i = 0; i < 3; i++)
		memset(k[i], 0x10 + i, 32);
	for (int i = 0; i < 3; i++) {
		rq = pub("alice@example.com", "ed25519", k[i], 32);
		submit_wait(q, &rq, 1, &w);
		ck_assert_int_eq(w.err, KT_OK);
		ck_assert_int_eq(w.res[0].err, KT_OK);
		ck_assert_int_eq(w.res[0].appended, 1);
		ck_assert_uint_eq(w.res[0].version, (uint64_t)i + 1);
		ck_assert_uint_eq(w.res[0].index, (uint64_t)i);
		ck_assert_uint_eq(w.tree_size, (uint64_t)i + 1);
		idx[i] = w.res[0].index;
		ck_assert_uint_eq(check_checkpoint(s), (uint64_t)i + 1);
	}
	for (int i = 0; i < 3; i++) {
		read_entry(s, idx[i], buf, &len, &e);
		ck_assert_int_eq(e.type, KT_ENTRY_KEY);
		ck_assert_uint_eq(e.version, (uint64_t)i + 1);
		ck_assert_uint_eq(e.prev_index,
		    i == 0 ? KT_NO_PREV : idx[i - 1]);
		ck_assert_uint_eq(e.label_len, 17);
		ck_assert_mem_eq(e.label, "alice@example.com", 17);
		ck_assert_mem_eq(e.key, k[i], 32);
	}
	/* Idempotent: the current key again appends nothing, no checkpoint. */
	{
		struct kt_store_read *r;
		const char *n0, *n1;
		size_t l0, l1;
		char saved[4096];

		ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
		ck_assert_int_eq(kt_store_read_checkpoint(r, &n0, &l0), KT_OK);
		ck_assert_uint_lt(l0, sizeof(saved));
		memcpy(saved, n0, l0);
		kt_store_read_end(r);
		rq = pub("alice@example.com", "ed25519", k[2], 32);
		submit_wait(q, &rq, 1, &w);
		ck_assert_int_eq(w.err, KT_OK);
		ck_assert_int_eq(w.res[0].err, KT_OK);
		ck_assert_int_eq(w.res[0].appended, 0);
		ck_assert_uint_eq(w.res[0].index, idx[2]);
		ck_assert_uint_eq(w.res[0].version, 3);
		ck_assert_uint_eq(w.tree_size, 3);
		ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
		ck_assert_uint_eq(kt_store_read_size(r), 3);
		ck_assert_int_eq(kt_store_read_checkpoint(r, &n1, &l1), KT_OK);
		ck_assert_uint_eq(l1, l0);
		ck_assert_mem_eq(n1, saved, l0);
		kt_store_read_end(r);
	}
	/* An older key is not current: publishing it is a new version. */
	rq = pub("alice@example.com", "ed25519", k[0], 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 4);
	/* Same bytes under another key type are a new version too. */
	rq = pub("alice@example.com", "x25519", k[0], 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 5);
	kt_seq_stop(q);
	check_checkpoint(s);
	kt_store_close(s);
}
END_TEST

START_TEST(test_revocations)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	struct kt_entry e;
	uint8_t k[32], buf[KT_ENTRY_MAX];
	size_t len;

	memset(k, 0x42, sizeof(k));
	/* Never published: 409-style conflict, nothing appended. */
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_int_eq(w.res[0].err, KT_ERR_CONFLICT);
	ck_assert_int_eq(w.res[0].appended, 0);
	ck_assert_uint_eq(w.tree_size, 0);
	rq = pub("bob@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_uint_eq(w.res[0].index, 0);
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_OK);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 2);
	ck_assert_uint_eq(w.res[0].index, 1);
	read_entry(s, 1, buf, &len, &e);
	ck_assert_int_eq(e.type, KT_ENTRY_REVOKE);
	ck_assert_uint_eq(e.prev_index, 0);
	ck_assert_uint_eq(e.version, 2);
	/* Already revoked: conflict again. */
	rq = rev("bob@example.com");
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].err, KT_ERR_CONFLICT);
	ck_assert_uint_eq(w.tree_size, 2);
	/* The revoked key published again is live again (not idempotent). */
	rq = pub("bob@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 3);
	read_entry(s, 2, buf, &len, &e);
	ck_assert_int_eq(e.type, KT_ENTRY_KEY);
	ck_assert_uint_eq(e.prev_index, 1);
	kt_seq_stop(q);
	ck_assert_uint_eq(check_checkpoint(s), 3);
	kt_store_close(s);
}
END_TEST

START_TEST(test_one_submission_one_checkpoint)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq[6];
	uint8_t k1[32], k2[32];

	memset(k1, 1, 32);
	memset(k2, 2, 32);
	/* Requests of one submission see each other, in order. */
	rq[0] = pub("x@example.com", "ed25519", k1, 32);
	rq[1] = pub("x@example.com", "ed25519", k1, 32); /* idempotent */
	rq[2] = rev("y@example.com");                    /* conflict */
	rq[3] = pub("x@example.com", "ed25519", k2, 32); /* version 2 */
	rq[4] = rev("x@example.com");                    /* version 3 */
	rq[5] = pub("y@example.com", "p256", k1, 32);    /* bad key */
	submit_wait(q, rq, 6, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_int_eq(w.res[0].err, KT_OK);
	ck_assert_uint_eq(w.res[0].index, 0);
	ck_assert_int_eq(w.res[1].err, KT_OK);
	ck_assert_int_eq(w.res[1].appended, 0);
	ck_assert_uint_eq(w.res[1].index, 0);
	ck_assert_uint_eq(w.res[1].version, 1);
	ck_assert_int_eq(w.res[2].err, KT_ERR_CONFLICT);
	ck_assert_uint_eq(w.res[3].version, 2);
	ck_assert_uint_eq(w.res[3].index, 1);
	ck_assert_uint_eq(w.res[4].version, 3);
	ck_assert_uint_eq(w.res[4].index, 2);
	ck_assert_int_eq(w.res[5].err, KT_ERR_MALFORMED);
	ck_assert_int_eq(w.res[5].appended, 0);
	ck_assert_uint_eq(w.tree_size, 3);
	ck_assert_uint_eq(check_checkpoint(s), 3);
	/* Out of range submissions are refused without a callback. */
	ck_assert_int_eq(kt_seq_submit(q, rq, 0, on_done, &w), KT_ERR_RANGE);
	kt_seq_stop(q);
	kt_store_close(s);
}
END_TEST

/* A new log gets a signed size-0 checkpoint at start, exactly once. */
START_TEST(test_empty_log_has_checkpoint)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct kt_store_read *r;
	struct kt_hash empty;
	const char *txt;
	size_t len;
	char first[1024];

	kt_seq_stop(q);
	ck_assert_uint_eq(check_checkpoint(s), 0);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &txt, &len), KT_OK);
	ck_assert_uint_lt(len, sizeof(first));
	memcpy(first, txt, len);
	ck_assert_int_eq(kt_store_root(r, 0, &empty), KT_OK);
	kt_store_read_end(r);
	{
		struct kt_hash h;

		kt_hash_empty(&h);
		ck_assert_mem_eq(h.b, empty.b, KT_HASH_LEN);
	}
	/* A restart keeps it (no second size-0 checkpoint is signed). */
	q = start(s, 0, 0);
	kt_seq_stop(q);
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &txt, &len), KT_OK);
	ck_assert_mem_eq(txt, first, len);
	kt_store_read_end(r);
	kt_store_close(s);
}
END_TEST

START_TEST(test_wrong_signer)
{
	struct kt_store *s = open_store(0);
	struct kt_signer *other = NULL;
	struct kt_seq *q = NULL;
	uint8_t seed[KT_SEED_LEN];

	memset(seed, 9, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, seed,
	                     &other),
	    KT_OK);
	ck_assert_int_eq(kt_seq_start(&q, s, other, NULL), KT_ERR_CONFLICT);
	ck_assert_ptr_null(q);
	kt_signer_free(other);
	kt_store_close(s);
}
END_TEST

/* ---- queue limits and shutdown ---------------------------------------------- */

START_TEST(test_queue_full_and_drain)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 4, 10);
	struct waiter first, w[16];
	struct kt_seq_req rq[5];
	uint8_t k[32];
	char labels[16][32];
	int queued = 0;

	memset(k, 7, 32);
	for (int i = 0; i < 5; i++)
		rq[i] = pub("z@example.com", "ed25519", k, 32);
	ck_assert_int_eq(kt_seq_submit(q, rq, 5, on_done, &first),
	    KT_ERR_RANGE); /* more than max_batch */
	/* Hold the writer inside the first callback to fill the queue. */
	waiter_init(&first);
	first.hold = 1;
	ck_assert_int_eq(kt_seq_submit(q, rq, 1, on_done, &first), KT_OK);
	pthread_mutex_lock(&first.mu);
	while (!first.held)
		pthread_cond_wait(&first.cv, &first.mu);
	pthread_mutex_unlock(&first.mu);
	for (int i = 0; i < 16; i++) {
		struct kt_seq_req r;

		snprintf(labels[i], sizeof(labels[i]), "q%d@example.com", i);
		r = pub(labels[i], "ed25519", k, 32);
		waiter_init(&w[i]);
		if (kt_seq_submit(q, &r, 1, on_done, &w[i]) != KT_OK)
			break;
		queued++;
	}
	ck_assert_int_eq(queued, 10); /* max_queue entries */
	/* Stop while the writer is held: it must still drain all ten. */
	pthread_mutex_lock(&first.mu);
	first.hold = 0;
	pthread_cond_broadcast(&first.cv);
	pthread_mutex_unlock(&first.mu);
	kt_seq_stop(q);
	for (int i = 0; i < queued; i++) {
		ck_assert_int_eq(w[i].calls, 1);
		ck_assert_int_eq(w[i].err, KT_OK);
		ck_assert_int_eq(w[i].res[0].appended, 1);
		/* max_batch 4: each batch's checkpoint is at most 4 later. */
		ck_assert_uint_eq(w[i].tree_size,
		    1 + (i < 8 ? 4 * (uint64_t)(i / 4 + 1) : 10));
	}
	ck_assert_uint_eq(check_checkpoint(s), 11);
	kt_store_close(s);
}
END_TEST

/* ---- concurrent submitters --------------------------------------------------- */

#define NTHREADS 4
#define PER_THREAD 300
#define NLABELS 40
#define MAX_BATCH 64

struct tsub {
	int calls;
	kt_err err;
	uint64_t tree_size;
	size_t n;
	struct kt_seq_res res[3];
	struct kt_seq_req rq[3];
	uint8_t key[3][32];
};

struct tctx {
	struct kt_seq *q;
	int id;
	struct tsub *subs;
};

static pthread_mutex_t cb_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_cv = PTHREAD_COND_INITIALIZER;
static int cb_total;
static char label_names[NLABELS][32];

static void
on_tdone(void *arg, kt_err err, uint64_t tree_size,
    const struct kt_seq_res *res, size_t n)
{
	struct tsub *t = arg;

	/* Each submission is touched only by its callback here. */
	t->err = err;
	t->tree_size = tree_size;
	t->n = n;
	memcpy(t->res, res, n * sizeof(*res));
	__atomic_add_fetch(&t->calls, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&cb_mu);
	cb_total++;
	pthread_cond_broadcast(&cb_cv);
	pthread_mutex_unlock(&cb_mu);
}

static void *
submitter(void *arg)
{
	struct tctx *c = arg;
	unsigned seed = (unsigned)c->id * 7919u + 1;

	for (int i = 0; i < PER_THREAD; i++) {
		struct tsub *t = &c->subs[i];
		size_t n = 1 + (size_t)(rand_r(&seed) % 3);

		for (size_t j = 0; j < n; j++) {
			unsigned li = (unsigned)rand_r(&seed) % NLABELS;
			unsigned kind = (unsigned)rand_r(&seed) % 10;

			/* Few distinct keys so that re-publishes are often
			 * idempotent; some revocations. */
			memset(t->key[j], (int)(rand_r(&seed) % 3), 32);
			if (kind == 0)
				t->rq[j] = rev(label_names[li]);
			else
				t->rq[j] = pub(label_names[li], "ed25519",
				    t->key[j], 32);
		}
		while (
		    kt_seq_submit(c->q, t->rq, n, on_tdone, t) == KT_ERR_BUSY)
			usleep(100);
	}
	return NULL;
}

/* Every request of submission t got a result consistent with the entry it
 * names in snapshot r (a conflict only for a revocation). Returns how many
 * of them appended an entry. */
static uint64_t
check_sub_results(struct kt_store_read *r, const struct tsub *t)
{
	uint64_t appended = 0;

	for (size_t k = 0; k < t->n; k++) {
		const struct kt_seq_res *res = &t->res[k];
		const uint8_t *buf;
		size_t len;
		struct kt_entry e;

		if (res->err == KT_ERR_CONFLICT) {
			ck_assert(t->rq[k].revoke);
			continue;
		}
		ck_assert_int_eq(res->err, KT_OK);
		ck_assert_uint_lt(res->index, t->tree_size);
		appended += res->appended ? 1 : 0;
		ck_assert_int_eq(kt_store_read_entry(r, res->index, &buf, &len),
		    KT_OK);
		ck_assert_int_eq(kt_entry_decode(buf, len, &e), KT_OK);
		ck_assert_uint_eq(e.version, res->version);
		ck_assert_uint_eq(e.label_len, t->rq[k].label_len);
		ck_assert_mem_eq(e.label, t->rq[k].label, e.label_len);
		ck_assert_int_eq(e.type,
		    t->rq[k].revoke ? KT_ENTRY_REVOKE : KT_ENTRY_KEY);
		if (!t->rq[k].revoke)
			ck_assert_mem_eq(e.key, t->key[k], 32);
	}
	return appended;
}

/* Versions 1..count per label with previous links; timestamps never
 * decrease (entries [0, size) of snapshot r). */
static void
check_versions_and_links(struct kt_store_read *r, uint64_t size)
{
	uint64_t count[NLABELS] = { 0 }, last_ts = 0;

	for (uint64_t i = 0; i < size; i++) {
		const uint8_t *buf;
		size_t len;
		struct kt_entry e;
		unsigned li;
		uint64_t vidx;

		ck_assert_int_eq(kt_store_read_entry(r, i, &buf, &len), KT_OK);
		ck_assert_int_eq(kt_entry_decode(buf, len, &e), KT_OK);
		ck_assert_uint_ge(e.timestamp_ms, last_ts);
		last_ts = e.timestamp_ms;
		ck_assert_int_eq(sscanf(e.label, "user%u@", &li), 1);
		ck_assert_uint_lt(li, NLABELS);
		ck_assert_uint_eq(e.version, count[li] + 1);
		if (count[li] == 0) {
			ck_assert_uint_eq(e.prev_index, KT_NO_PREV);
		} else {
			ck_assert_int_eq(kt_store_label_version(r, e.label,
			                     e.label_len, count[li], &vidx),
			    KT_OK);
			ck_assert_uint_eq(e.prev_index, vidx);
		}
		count[li]++;
		ck_assert_int_eq(kt_store_label_version(r, e.label, e.label_len,
		                     e.version, &vidx),
		    KT_OK);
		ck_assert_uint_eq(vidx, i);
	}
}

/* Batches never exceed max_batch: consecutive committed sizes seen by
 * callbacks (sizes, sorted here) differ by at most MAX_BATCH. */
static void
check_batch_spacing(uint64_t *sizes, size_t nsizes)
{
	for (size_t i = 1; i < nsizes; i++) {
		for (size_t j = i; j > 0 && sizes[j - 1] > sizes[j]; j--) {
			uint64_t x = sizes[j];

			sizes[j] = sizes[j - 1];
			sizes[j - 1] = x;
		}
	}
	for (size_t i = 1; i < nsizes; i++)
		ck_assert_uint_le(sizes[i] - sizes[i - 1], MAX_BATCH);
	ck_assert_uint_le(sizes[0], MAX_BATCH);
}

START_TEST(test_concurrent_submitters)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, MAX_BATCH, 256);
	struct tctx ctx[NTHREADS];
	pthread_t th[NTHREADS];
	struct kt_seq_stats st;
	struct kt_store_read *r;
	uint64_t size, appended = 0, *sizes;
	size_t nsizes = 0;

	cb_total = 0;
	for (int i = 0; i < NLABELS; i++)
		snprintf(label_names[i], sizeof(label_names[i]),
		    "user%d@example.org", i);
	for (int i = 0; i < NTHREADS; i++) {
		ctx[i].q = q;
		ctx[i].id = i;
		ctx[i].subs = calloc(PER_THREAD, sizeof(struct tsub));
		ck_assert_ptr_nonnull(ctx[i].subs);
		ck_assert_int_eq(pthread_create(&th[i], NULL, submitter,
		                     &ctx[i]),
		    0);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_lock(&cb_mu);
	while (cb_total < NTHREADS * PER_THREAD)
		pthread_cond_wait(&cb_cv, &cb_mu);
	pthread_mutex_unlock(&cb_mu);
	/* Batch sizes (in requests) stay within max_batch: buckets past
	 * [6] (33..64) are empty. */
	kt_seq_stats(q, &st);
	for (int i = 7; i < 16; i++)
		ck_assert_uint_eq(st.batch_size_hist[i], 0);
	ck_assert_uint_gt(st.batches, 0);
	kt_seq_stop(q);
	ck_assert_int_eq(cb_total, NTHREADS * PER_THREAD);

	/* Every callback exactly once, OK; results consistent with entries. */
	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	size = kt_store_read_size(r);
	sizes = calloc(NTHREADS * PER_THREAD, sizeof(*sizes));
	ck_assert_ptr_nonnull(sizes);
	for (int i = 0; i < NTHREADS; i++) {
		for (int j = 0; j < PER_THREAD; j++) {
			struct tsub *t = &ctx[i].subs[j];

			ck_assert_int_eq(t->calls, 1);
			ck_assert_int_eq(t->err, KT_OK);
			ck_assert_uint_le(t->tree_size, size);
			sizes[nsizes++] = t->tree_size;
			appended += check_sub_results(r, t);
		}
	}
	ck_assert_uint_eq(appended, size);
	check_versions_and_links(r, size);
	kt_store_read_end(r);
	check_batch_spacing(sizes, nsizes);
	ck_assert_uint_eq(st.entries_appended, size);
	free(sizes);
	for (int i = 0; i < NTHREADS; i++)
		free(ctx[i].subs);
	ck_assert_uint_eq(check_checkpoint(s), size);
	kt_store_close(s);
}
END_TEST

/* Readers that keep taking snapshots and proving while the map grows. */
struct rctx {
	struct kt_store *s;
	int stop;
	uint64_t reads;
	int bad;
};

static void *
reader(void *arg)
{
	struct rctx *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
		struct kt_store_read *r;
		struct kt_proof p;
		struct kt_hash h;
		uint64_t n;

		if (kt_store_read_begin(c->s, &r) != KT_OK) {
			__atomic_add_fetch(&c->bad, 1, __ATOMIC_SEQ_CST);
			continue;
		}
		n = kt_store_read_size(r);
		if (kt_store_root(r, n, &h) != KT_OK ||
		    (n > 0 && kt_store_inclusion(r, n / 2, n, &p) != KT_OK))
			__atomic_add_fetch(&c->bad, 1, __ATOMIC_SEQ_CST);
		kt_store_read_end(r);
		__atomic_add_fetch(&c->reads, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

START_TEST(test_stats_and_growth)
{
	struct rctx rc;
	pthread_t rth[2];
	/* A tiny map: the sequencer retries batches as the map doubles. */
	struct kt_store *s = open_store(128 * 1024);
	struct kt_seq *q = start(s, 16, 0);
	struct kt_seq_stats st;
	struct waiter w[40];
	struct kt_seq_req rq[40];
	char labels[40][32];
	uint8_t k[32];
	size_t m0 = kt_store_mapsize(s);
	uint64_t sum = 0, nb = 0;

	memset(&rc, 0, sizeof(rc));
	rc.s = s;
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&rth[i], NULL, reader, &rc), 0);
	memset(k, 3, 32);
	for (int i = 0; i < 40; i++) {
		snprintf(labels[i], sizeof(labels[i]), "grow%d@example.com", i);
		rq[i] = pub(labels[i], "ed25519", k, 32);
	}
	for (int round = 0; round < 30; round++) {
		/* 30 rounds of 10 submissions of 1..4 distinct labels, each
		 * round a new key (the requests borrow k until answered, so
		 * it changes only between rounds) */
		memset(k, round, 32);
		for (int i = 0; i < 10; i++) {
			struct kt_seq_req r[4];

			for (int j = 0; j < 4; j++)
				r[j] = rq[(i * 4 + j) % 40];
			waiter_init(&w[i]);
			ck_assert_int_eq(kt_seq_submit(q, r,
			                     1 + (size_t)(i % 4), on_done,
			                     &w[i]),
			    KT_OK);
		}
		for (int i = 0; i < 10; i++) {
			waiter_wait(&w[i]);
			ck_assert_int_eq(w[i].err, KT_OK);
		}
	}
	__atomic_store_n(&rc.stop, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2; i++)
		pthread_join(rth[i], NULL);
	ck_assert_int_eq(rc.bad, 0);
	ck_assert_uint_gt(rc.reads, 0);
	kt_seq_stats(q, &st);
	ck_assert_uint_gt(kt_store_mapsize(s), m0);
	ck_assert_uint_gt(st.batches, 0);
	ck_assert_uint_eq(st.entries_appended, check_checkpoint(s));
	for (int i = 0; i < 16; i++) {
		nb += st.batch_size_hist[i];
		sum += st.commit_us_hist[i];
		if (i > 4) /* max_batch 16: bucket 4 holds 9..16 */
			ck_assert_uint_eq(st.batch_size_hist[i], 0);
	}
	ck_assert_uint_eq(nb, st.batches);
	ck_assert_uint_eq(sum, st.batches);
	ck_assert_uint_gt(st.commit_us_sum, 0);
	kt_seq_stop(q);
	kt_store_close(s);
}
END_TEST

START_TEST(test_restart_continues)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq;
	uint8_t k[32];
	struct kt_entry e;
	uint8_t buf[KT_ENTRY_MAX];
	size_t len;
	uint64_t ts0;

	memset(k, 1, 32);
	rq = pub("carol@example.com", "ed25519", k, 32);
	submit_wait(q, &rq, 1, &w);
	kt_seq_stop(q);
	kt_store_close(s);
	read_entry(s = open_store(0), 0, buf, &len, &e);
	ts0 = e.timestamp_ms;
	q = start(s, 0, 0);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 0);
	memset(k, 2, 32);
	submit_wait(q, &rq, 1, &w);
	ck_assert_int_eq(w.res[0].appended, 1);
	ck_assert_uint_eq(w.res[0].version, 2);
	ck_assert_uint_eq(w.res[0].index, 1);
	kt_seq_stop(q);
	read_entry(s, 1, buf, &len, &e);
	ck_assert_uint_ge(e.timestamp_ms, ts0);
	ck_assert_uint_eq(e.prev_index, 0);
	ck_assert_uint_eq(check_checkpoint(s), 2);
	kt_store_close(s);
}
END_TEST

START_TEST(test_failed_commit_acknowledges_nothing)
{
	struct kt_store *s = open_store(0);
	struct kt_seq *q = start(s, 0, 0);
	struct waiter w;
	struct kt_seq_req rq[300];
	char labels[300][32];
	uint8_t k[32];
	struct kt_entry e;
	uint8_t buf[KT_ENTRY_MAX];
	size_t len;

	memset(k, 5, 32);
	for (int i = 0; i < 300; i++) {
		snprintf(labels[i], sizeof(labels[i]), "f%d@example.com", i);
		rq[i] = pub(labels[i], "ed25519", k, 32);
	}
	submit_wait(q, rq, 10, &w);
	ck_assert_uint_eq(w.tree_size, 10);
	/* A batch that crosses a tile boundary fails to commit: every
	 * submitter hears so, nothing is written... */
	kt_store_test_fail_commits(s, 1);
	submit_wait(q, rq + 10, 290, &w);
	ck_assert_int_eq(w.err, KT_ERR_IO);
	ck_assert_int_eq(w.res[0].err, KT_ERR_IO);
	ck_assert_uint_eq(check_checkpoint(s), 10);
	/* ... and the writer's in-memory tiles were rolled back: the retry
	 * gets the same indexes and a checkpoint whose root is the store's. */
	submit_wait(q, rq + 10, 290, &w);
	ck_assert_int_eq(w.err, KT_OK);
	ck_assert_uint_eq(w.tree_size, 300);
	ck_assert_uint_eq(w.res[0].index, 10);
	ck_assert_uint_eq(w.res[0].version, 1);
	ck_assert_uint_eq(check_checkpoint(s), 300);
	read_entry(s, 299, buf, &len, &e);
	ck_assert_mem_eq(e.label, "f299@example.com", e.label_len);
	kt_seq_stop(q);
	kt_store_close(s);
	/* And after a reopen, the store still agrees with its checkpoint. */
	s = open_store(0);
	ck_assert_uint_eq(check_checkpoint(s), 300);
	kt_store_close(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sequencer");

	/* Each test on a fresh store. */
	kt_test_fixture_case(s, "kt_seq_submit", 120, setup, teardown,
	    test_publish_versions_links, test_revocations,
	    test_one_submission_one_checkpoint, test_concurrent_submitters,
	    test_failed_commit_acknowledges_nothing, NULL);
	kt_test_fixture_case(s, "kt_seq_start", 0, setup, teardown,
	    test_wrong_signer, test_empty_log_has_checkpoint,
	    test_restart_continues, NULL);
	kt_test_fixture_case(s, "kt_seq_stop", 60, setup, teardown,
	    test_queue_full_and_drain, NULL);
	kt_test_fixture_case(s, "kt_seq_stats", 120, setup, teardown,
	    test_stats_and_growth, NULL);
	return kt_test_run(s);
}
