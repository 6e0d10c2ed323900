/*
 * seq_testlib.c: the fixture and helpers shared by the check_sequencer*.c
 * suites (seq_testlib.h).
 */
#include "seq_testlib.h"

#include <check.h>
#include <string.h>

#include "harness/tmpdir.h"
#include "kt/checkpoint.h"
#include "kt/merkle.h"
#include "store/store_write.h"

char tmpdir[256];
struct kt_signer *signer;
struct kt_verifier verifier;
char vkey[KT_KEY_TEXT_MAX];

void
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

void
teardown(void)
{
	kt_signer_free(signer);
	signer = NULL;
	(void)tmpdir_remove(tmpdir);
}

struct kt_store *
open_store(size_t mapsize)
{
	struct kt_store *s = NULL;
	char err[256];

	ck_assert_msg(kt_store_open_mapsize(&s, tmpdir, ORIGIN, vkey, mapsize,
	                  err, sizeof(err)) == KT_OK,
	    "open: %s", err);
	return s;
}

struct kt_seq *
start(struct kt_store *s, size_t max_batch, size_t max_queue)
{
	struct kt_seq *q = NULL;
	struct kt_seq_opts o = { max_batch, max_queue };

	ck_assert_int_eq(kt_seq_start(&q, s, signer, &o), KT_OK);
	return q;
}

void
waiter_init(struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
}

void
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

void
waiter_wait(struct waiter *w)
{
	pthread_mutex_lock(&w->mu);
	while (w->calls == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

struct kt_seq_req
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

struct kt_seq_req
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
void
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
uint64_t
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

void
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
