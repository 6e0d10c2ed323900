/*
 * seq_testlib.c: the fixture and helpers shared by the sequencer suites
 * (seq_testlib.h).
 */
#include "seq_testlib.h"

#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "harness/tmpdir.h"
#include "kt/checkpoint.h"
#include "kt/label.h"
#include "kt/merkle.h"
#include "store/store_write.h"

char tmpdir[256];
struct kt_signer *signer;
struct kt_verifier verifier;
char vkey[KT_KEY_TEXT_MAX];
struct kt_vrf_key *vrf;
uint8_t vrf_pk[KT_VRF_PUBLIC_LEN];

/* ---- VRF proofs of labels, proved once ----------------------------------- */

#define VRF_SLOTS 16384 /* labels per test, at most (open addressing) */

struct vrf_slot {
	char label[KT_CANON_MAX + 1];
	struct label_vrf v;
};

static struct vrf_slot *vrf_table;
static size_t vrf_used;
static pthread_mutex_t vrf_mu = PTHREAD_MUTEX_INITIALIZER;

const struct label_vrf *
label_vrf(const char *label)
{
	size_t len = strlen(label), i;
	uint8_t beta[KT_VRF_OUTPUT_LEN], h[8];
	struct vrf_slot *sl;

	ck_assert_uint_gt(len, 0);
	ck_assert_uint_le(len, KT_CANON_MAX);
	crypto_generichash(h, sizeof(h), (const uint8_t *)label, len, NULL, 0);
	pthread_mutex_lock(&vrf_mu);
	for (i = (((size_t)h[0] << 8) | h[1]) % VRF_SLOTS;;
	     i = (i + 1) % VRF_SLOTS) {
		sl = &vrf_table[i];
		if (sl->label[0] == '\0' || strcmp(sl->label, label) == 0)
			break;
	}
	if (sl->label[0] == '\0') {
		ck_assert_uint_lt(++vrf_used, VRF_SLOTS / 2);
		ck_assert_int_eq(kt_vrf_prove(vrf, (const uint8_t *)label, len,
		                     sl->v.proof),
		    KT_OK);
		ck_assert_int_eq(kt_vrf_verify(vrf_pk, (const uint8_t *)label,
		                     len, sl->v.proof, beta),
		    KT_OK);
		memcpy(sl->v.index.b, beta, KT_HASH_LEN);
		memcpy(sl->label, label, len + 1);
	}
	pthread_mutex_unlock(&vrf_mu);
	return &sl->v;
}

/* ---- fixture ------------------------------------------------------------- */

void
setup(void)
{
	uint8_t seed[KT_SEED_LEN], sk[KT_VRF_SECRET_LEN];

	ck_assert_int_eq(tmpdir_make("kt-seq", tmpdir, sizeof(tmpdir)), 0);
	for (int i = 0; i < KT_SEED_LEN; i++)
		seed[i] = (uint8_t)(7 * i + 1);
	ck_assert_int_eq(kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, seed,
	                     &signer),
	    KT_OK);
	kt_signer_verifier(signer, &verifier);
	ck_assert_int_eq(kt_verifier_format(&verifier, vkey, sizeof(vkey)),
	    KT_OK);
	crypto_core_ristretto255_scalar_random(sk);
	ck_assert_int_eq(kt_vrf_key_from_secret(sk, &vrf), KT_OK);
	sodium_memzero(sk, sizeof(sk));
	kt_vrf_public(vrf, vrf_pk);
	vrf_table = calloc(VRF_SLOTS, sizeof(*vrf_table));
	ck_assert_ptr_nonnull(vrf_table);
	vrf_used = 0;
}

void
teardown(void)
{
	kt_signer_free(signer);
	signer = NULL;
	kt_vrf_key_free(vrf);
	vrf = NULL;
	free(vrf_table);
	vrf_table = NULL;
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
start_opts(struct kt_store *s, const struct kt_seq_opts *o)
{
	struct kt_seq *q = NULL;

	ck_assert_int_eq(kt_seq_start(&q, s, signer, o), KT_OK);
	return q;
}

struct kt_seq *
start(struct kt_store *s, size_t max_batch, size_t max_queue)
{
	struct kt_seq_opts o;

	memset(&o, 0, sizeof(o));
	o.max_batch = max_batch;
	o.max_queue = max_queue;
	return start_opts(s, &o);
}

/* ---- the waiter ---------------------------------------------------------- */

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

/* ---- requests ------------------------------------------------------------ */

static struct kt_seq_req
req(enum kt_seq_op op, const char *label)
{
	const struct label_vrf *v = label_vrf(label);
	struct kt_seq_req r;

	memset(&r, 0, sizeof(r));
	r.op = op;
	r.label = label;
	r.label_len = strlen(label);
	r.vrf_proof = v->proof;
	r.index = v->index;
	return r;
}

struct kt_seq_req
pub(const char *label, const char *key_type, const uint8_t *key, size_t len)
{
	struct kt_seq_req r = req(KT_SEQ_PUBLISH, label);

	r.key_type = key_type;
	r.key_type_len = strlen(key_type);
	r.key = key;
	r.key_len = len;
	return r;
}

struct kt_seq_req
rev(const char *label)
{
	return req(KT_SEQ_REVOKE, label);
}

struct kt_seq_req
erase_req(const char *label)
{
	return req(KT_SEQ_ERASE, label);
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

/* ---- checks of the store ------------------------------------------------- */

void
open_checkpoint(const char *txt, size_t len, struct kt_checkpoint *c)
{
	struct kt_note note;
	uint8_t ok = 0;

	ck_assert_int_eq(kt_note_open(txt, len, &verifier, 1, &note, &ok, NULL),
	    KT_OK);
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(kt_checkpoint_parse(note.text, note.text_len, c),
	    KT_OK);
	ck_assert_str_eq(c->origin, ORIGIN);
}

uint64_t
check_checkpoint(struct kt_store *s)
{
	struct kt_store_read *r;
	struct kt_checkpoint c;
	struct kt_map_head h;
	struct kt_hash root;
	const uint8_t *buf;
	const char *txt;
	size_t len;
	uint64_t size;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	size = kt_store_read_size(r);
	ck_assert_int_eq(kt_store_read_checkpoint(r, &txt, &len), KT_OK);
	open_checkpoint(txt, len, &c);
	ck_assert_uint_eq(c.size, size);
	ck_assert_int_eq(kt_store_root(r, size, &root), KT_OK);
	ck_assert_mem_eq(root.b, c.root.b, KT_HASH_LEN);
	/* Every checkpoint ends with a map head. */
	ck_assert_uint_gt(size, 0);
	ck_assert_int_eq(kt_store_read_entry(r, size - 1, &buf, &len), KT_OK);
	ck_assert_int_eq(kt_map_head_decode(buf, len, &h), KT_OK);
	ck_assert_uint_eq(h.log_size, size - 1);
	kt_store_read_end(r);
	return size;
}

void
read_update(struct kt_store *s, uint64_t index, struct kt_update *u)
{
	struct kt_store_read *r;
	const uint8_t *p;
	size_t len;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_entry(r, index, &p, &len), KT_OK);
	ck_assert_int_eq(kt_update_decode(p, len, u), KT_OK);
	kt_store_read_end(r);
}

void
read_head(struct kt_store *s, uint64_t index, struct kt_map_head *h)
{
	struct kt_store_read *r;
	const uint8_t *p;
	size_t len;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_entry(r, index, &p, &len), KT_OK);
	ck_assert_int_eq(kt_map_head_decode(p, len, h), KT_OK);
	kt_store_read_end(r);
}

void
read_value(struct kt_store *s, uint64_t index, struct kt_store_value *v)
{
	struct kt_store_read *r;

	ck_assert_int_eq(kt_store_read_begin(s, &r), KT_OK);
	ck_assert_int_eq(kt_store_read_value(r, index, v), KT_OK);
	kt_store_read_end(r);
}
