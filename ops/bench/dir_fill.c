/*
 * dir_fill.c: fills a kt-logd data folder with a key directory of N labels
 * through the real store and sequencer (no HTTP), then reports what the
 * folder costs per label and how fast the sequencer integrates batches.
 *
 *   dir_fill KEYFILE DATADIR LABELS REAL [BATCH]
 *
 * KEYFILE is a key made by `kt-logd keygen` (KEYFILE.vrf beside it), so
 * `kt-logd serve --key KEYFILE --data DATADIR` serves the folder after.
 * REAL labels "r<i>@example.com" get real VRF proofs (proved on two
 * threads), so lookups of them work; the other LABELS - REAL labels get a
 * uniformly random map index (the distribution of VRF outputs) and random
 * proof bytes, which costs the store exactly as much as a real one while
 * sparing 130 µs of proving each: this is what makes 10^7 labels
 * measurable here. Each label gets one version (a 32-byte ed25519 key).
 * Then ROT batches of rotations of real labels time the steady state.
 *
 * Output: labels, data file bytes (LMDB pages in use) per label, the map's
 * share, µs per label for inserts and rotations, the machine. Only the
 * newest map is kept unless DIR_FILL_RETENTION_MS says how long older ones
 * stay (as kt-logd's map_retention).
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "keyfile.h"
#include "kt/vrf.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_map.h"

#define ROT_BATCHES 20

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int inflight;
	int failed;
};

struct label {
	char s[32];
	size_t len;
	uint8_t proof[KT_VRF_PROOF_LEN];
	struct kt_hash index;
	uint8_t key[32];
};

struct prover {
	struct label *l;
	size_t from, to;
	const struct kt_vrf_key *k;
};

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *
prove_range(void *arg)
{
	struct prover *p = arg;
	uint8_t beta[KT_VRF_OUTPUT_LEN];

	for (size_t i = p->from; i < p->to; i++) {
		struct label *l = &p->l[i];

		if (kt_vrf_prove(p->k, (const uint8_t *)l->s, l->len,
		        l->proof) != KT_OK ||
		    kt_vrf_proof_to_hash(l->proof, beta) != KT_OK)
			abort();
		memcpy(l->index.b, beta, KT_HASH_LEN);
	}
	return NULL;
}

static void
done(void *arg, kt_err err, uint64_t tree_size, const struct kt_seq_res *res,
    size_t n)
{
	struct waiter *w = arg;

	(void)tree_size;
	pthread_mutex_lock(&w->mu);
	if (err != KT_OK)
		w->failed = 1;
	for (size_t i = 0; i < n; i++)
		if (res[i].err != KT_OK)
			w->failed = 1;
	w->inflight--;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Waits until at most `max` submissions are in flight. */
static void
wait_inflight(struct waiter *w, int max)
{
	pthread_mutex_lock(&w->mu);
	while (w->inflight > max)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

/* Submits labels l[0..n) as publications, batch by batch, two in flight
 * (one integrating, one queued) so the writer never waits for us. */
static void
submit_all(struct kt_seq *q, struct waiter *w, struct label *l, size_t n,
    size_t batch, struct kt_seq_req *reqs)
{
	for (size_t at = 0; at < n; at += batch) {
		size_t k = n - at < batch ? n - at : batch;

		wait_inflight(w, 1);
		for (size_t i = 0; i < k; i++) {
			struct label *x = &l[at + i];

			reqs[i] = (struct kt_seq_req){ .op = KT_SEQ_PUBLISH,
				.label = x->s,
				.label_len = x->len,
				.vrf_proof = x->proof,
				.index = x->index,
				.key_type = "ed25519",
				.key_type_len = 7,
				.key = x->key,
				.key_len = 32 };
		}
		pthread_mutex_lock(&w->mu);
		w->inflight++;
		pthread_mutex_unlock(&w->mu);
		/* reqs is reused: the sequencer copies the array, and the
		 * strings it borrows live in l. */
		if (kt_seq_submit(q, reqs, k, done, w) != KT_OK)
			abort();
		if (w->failed) {
			fprintf(stderr, "dir_fill: a batch failed\n");
			exit(1);
		}
	}
	wait_inflight(w, 0);
}

static void
report_size(struct kt_store *s, uint64_t labels, const char *dir)
{
	struct kt_store_read *r;
	struct kt_store_map_stats ms;
	struct kt_store_bytes b;
	uint64_t bytes = kt_store_disk_bytes(s);

	if (kt_store_read_begin(s, &r) != KT_OK ||
	    kt_store_map_stats(r, &ms) != KT_OK)
		abort();
	printf("labels %llu, tree size %llu, folder %s\n",
	    (unsigned long long)labels,
	    (unsigned long long)kt_store_read_size(r), dir);
	printf("  data file (LMDB pages in use): %llu bytes = %.0f B/label\n",
	    (unsigned long long)bytes, (double)bytes / (double)labels);
	printf("  map: %llu strata, %llu bytes = %.0f B/label; mapgc %llu "
	       "bytes\n",
	    (unsigned long long)ms.records, (unsigned long long)ms.bytes,
	    (double)ms.bytes / (double)labels, (unsigned long long)ms.gc_bytes);
	if (kt_store_live_bytes(r, &b) != KT_OK)
		abort();
	printf("  pages in use, B/label: total %.0f = leaves %.0f + tiles %.0f "
	       "+ indexes %.0f + checkpoints %.0f + vrf %.0f + values %.0f + "
	       "map %.0f\n",
	    (double)b.total / (double)labels, (double)b.leaves / (double)labels,
	    (double)b.tiles / (double)labels,
	    (double)b.indexes / (double)labels,
	    (double)b.checkpoints / (double)labels,
	    (double)b.vrf / (double)labels, (double)b.values / (double)labels,
	    (double)b.map / (double)labels);
	kt_store_read_end(r);
}

int
main(int argc, char **argv)
{
	struct kt_signer *signer = NULL;
	struct kt_vrf_key *vrf = NULL;
	struct kt_store *s = NULL;
	struct kt_seq *q = NULL;
	struct waiter w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
		0, 0 };
	struct kt_verifier v;
	struct kt_seq_opts so = { 0 };
	struct label *l;
	struct kt_seq_req *reqs;
	char err[512], vkey[KT_KEY_TEXT_MAX];
	size_t n, real, batch = 1000;
	double t0, t1;
	pthread_t th[2];
	struct prover pv[2];

	if (argc < 5 || argc > 6) {
		fprintf(stderr,
		    "usage: dir_fill KEYFILE DATADIR LABELS REAL [BATCH]\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 10);
	real = strtoul(argv[4], NULL, 10);
	if (argc == 6)
		batch = strtoul(argv[5], NULL, 10);
	if (n == 0 || real > n || batch == 0 || sodium_init() < 0)
		return 2;
	if (kt_keyfile_load(argv[1], &signer, err, sizeof(err)) != KT_OK ||
	    kt_keyfile_load_vrf(argv[1], kt_signer_name(signer), &vrf, err,
	        sizeof(err)) != KT_OK) {
		fprintf(stderr, "dir_fill: %s\n", err);
		return 1;
	}
	kt_signer_verifier(signer, &v);
	if (kt_verifier_format(&v, vkey, sizeof(vkey)) != KT_OK ||
	    kt_store_open(&s, argv[2], kt_signer_name(signer), vkey, err,
	        sizeof(err)) != KT_OK) {
		fprintf(stderr, "dir_fill: %s\n", err);
		return 1;
	}
	/* Only the newest map is kept: the bytes are what a label costs,
	 * not what the retention window holds. DIR_FILL_RETENTION_MS keeps
	 * older maps (an audit from leaf 0 needs every one). */
	so.map_retention_ms = getenv("DIR_FILL_RETENTION_MS") != NULL
	    ? strtoull(getenv("DIR_FILL_RETENTION_MS"), NULL, 10)
	    : 1;
	so.max_batch = batch;
	so.max_queue = 4 * batch;
	if (kt_seq_start(&q, s, signer, &so) != KT_OK)
		return 1;
	l = calloc(n, sizeof(*l));
	reqs = calloc(batch, sizeof(*reqs));
	if (l == NULL || reqs == NULL)
		return 1;
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(l[i].s, sizeof(l[i].s), "%c%zu@example.com",
		    i < real ? 'r' : 'f', i);
		l[i].len = (size_t)len;
		randombytes_buf(l[i].key, sizeof(l[i].key));
		if (i >= real) {
			randombytes_buf(l[i].proof, sizeof(l[i].proof));
			randombytes_buf(l[i].index.b, KT_HASH_LEN);
		}
	}
	t0 = now_s();
	for (int i = 0; i < 2; i++) {
		pv[i] = (struct prover){ l, real * (size_t)i / 2,
			real * (size_t)(i + 1) / 2, vrf };
		pthread_create(&th[i], NULL, prove_range, &pv[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	printf("VRF proofs of %zu real labels on 2 threads: %.0f /s\n", real,
	    real ? (double)real / (t1 - t0) : 0.0);
	t0 = now_s();
	submit_all(q, &w, l, n, batch, reqs);
	t1 = now_s();
	printf("inserts: %zu labels in batches of %zu: %.2f us/label "
	       "(%.0f /s)\n",
	    n, batch, (t1 - t0) * 1e6 / (double)n, (double)n / (t1 - t0));
	if (real >= batch) {
		size_t rot = 0;

		t0 = now_s();
		for (int b = 0; b < ROT_BATCHES; b++) {
			size_t from = ((size_t)b * batch) % (real - batch + 1);

			for (size_t i = 0; i < batch; i++)
				randombytes_buf(l[from + i].key, 32);
			submit_all(q, &w, l + from, batch, batch, reqs);
			rot += batch;
		}
		t1 = now_s();
		printf("rotations: %zu in batches of %zu: %.2f us/update "
		       "(%.0f /s)\n",
		    rot, batch, (t1 - t0) * 1e6 / (double)rot,
		    (double)rot / (t1 - t0));
	}
	kt_seq_stop(q);
	report_size(s, n, argv[2]);
	printf("machine: %ld cores\n", sysconf(_SC_NPROCESSORS_ONLN));
	kt_store_close(s);
	kt_vrf_key_free(vrf);
	kt_signer_free(signer);
	free(l);
	free(reqs);
	return 0;
}
