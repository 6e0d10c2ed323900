/*
 * store_bench: kt-logd's storage and group commit, without HTTP.
 *
 * Publishes N new labels through the real sequencer (one submission of B
 * requests per batch, two in flight, durable commits: B update leaves, the
 * map's step, one map head and a signed checkpoint per batch) into a fresh
 * store, then reports:
 *   - published labels/s (the submitting thread proves each label's VRF
 *     while the sequencer commits the other submission; its share is
 *     printed),
 *   - DB bytes per label (pages in use, and the data.mdb file), and the
 *     map's strata,
 *   - inclusion-proof and map-proof generation rates and latencies at that
 *     size (each proof in its own read snapshot, as an HTTP handler would
 *     do it).
 *
 * Each request: a fresh random label of 43 bytes, a p256 key (65 bytes);
 * the log gets an 81-byte update leaf for it.
 *
 *   ninja -C build logserver/store_bench
 *   build/logserver/store_bench -n 1000000 -b 4096 [-d DIR] [-k] [-p SECONDS]
 *
 * Without -d it works in a new folder under $TMPDIR (default /tmp) and
 * removes it after (-k keeps it). Labels come from a fixed seed: appending
 * to a kept folder needs another -s SEED, or every publication is an
 * idempotent repeat.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "kt/fmt.h"
#include "kt/leaf.h"
#include "kt/map.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "kt/vrf.h"
#include "sequencer.h"
#include "store/store.h"
#include "store/store_map.h"
#include "store/store_write.h"

#define ORIGIN "bench.example.com/kt"
#define LABEL_LEN 43
#define KEY_LEN 65
#define INFLIGHT 2

struct slot {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int busy;
	kt_err err;
	size_t n;
	struct kt_seq_req *rq;
	char (*label)[LABEL_LEN + 1];
	uint8_t (*key)[KEY_LEN];
	uint8_t (*vrf)[KT_VRF_PROOF_LEN];
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rnd(uint64_t *s)
{
	/* splitmix64: reproducible labels and keys */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
on_done(void *arg, kt_err err, uint64_t tree_size, const struct kt_seq_res *res,
    size_t n)
{
	struct slot *sl = arg;

	(void)tree_size;
	(void)res;
	(void)n;
	pthread_mutex_lock(&sl->mu);
	sl->err = err;
	for (size_t i = 0; i < n && err == KT_OK; i++)
		if (res[i].err != KT_OK)
			sl->err = res[i].err;
	sl->busy = 0;
	pthread_cond_signal(&sl->cv);
	pthread_mutex_unlock(&sl->mu);
}

static int
slot_wait(struct slot *sl)
{
	kt_err e;

	pthread_mutex_lock(&sl->mu);
	while (sl->busy)
		pthread_cond_wait(&sl->cv, &sl->mu);
	e = sl->err;
	sl->err = KT_OK;
	pthread_mutex_unlock(&sl->mu);
	if (e != KT_OK) {
		fprintf(stderr, "store_bench: batch failed: %s\n",
		    kt_strerror(e));
		return -1;
	}
	return 0;
}

static int
rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: store_bench [-n entries] [-b batch] [-d dir] "
	    "[-k] [-p proof_seconds] [-s seed]\n");
	exit(2);
}

/* One run: the options, then what it opened. */
struct bench {
	uint64_t n, b, seed;
	double proof_s;
	const char *dir;
	int keep;
	char dirbuf[4096];
	struct kt_signer *signer;
	struct kt_vrf_key *vrf;
	double vrf_s; /* time the submitting thread spent proving */
	struct kt_hash sample[1024]; /* map indexes of some published labels */
	size_t nsample;
	struct kt_store *s;
	struct kt_seq *q;
	struct slot slots[INFLIGHT];
	uint64_t total; /* the tree size after the appends */
};

static void
parse_args(struct bench *bn, int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "n:b:d:kp:s:")) != -1) {
		switch (c) {
		case 'n':
			bn->n = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			bn->b = strtoull(optarg, NULL, 10);
			break;
		case 'd':
			bn->dir = optarg;
			break;
		case 'k':
			bn->keep = 1;
			break;
		case 'p':
			bn->proof_s = atof(optarg);
			break;
		case 's':
			bn->seed = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (bn->n == 0 || bn->b == 0 || bn->b > 65536 || optind != argc)
		usage();
}

/* A new folder under $TMPDIR (default /tmp) when -d gave none. */
static int
make_dir(struct bench *bn)
{
	const char *tmp = getenv("TMPDIR");

	if (bn->dir != NULL)
		return 0;
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (kt_fmt(bn->dirbuf, sizeof(bn->dirbuf), "%s/kt-bench-XXXXXX", tmp) !=
	    KT_OK) {
		fprintf(stderr, "store_bench: TMPDIR path too long\n");
		return -1;
	}
	if (mkdtemp(bn->dirbuf) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	bn->dir = bn->dirbuf;
	return 0;
}

/* The folder, the log key, the store, the sequencer and the slots. */
static int
bench_open(struct bench *bn)
{
	uint8_t sd[KT_SEED_LEN];
	char err[256], vkey[KT_KEY_TEXT_MAX];
	struct kt_verifier v;
	struct kt_seq_opts o;

	if (make_dir(bn) != 0)
		return -1;
	memset(sd, 0x33, sizeof(sd));
	if (kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, sd, &bn->signer) !=
	    KT_OK)
		return -1;
	/* A fixed VRF key: any canonical scalar will do. */
	memset(sd, 0, sizeof(sd));
	sd[0] = 0x35;
	if (kt_vrf_key_from_secret(sd, &bn->vrf) != KT_OK)
		return -1;
	kt_signer_verifier(bn->signer, &v);
	if (kt_verifier_format(&v, vkey, sizeof(vkey)) != KT_OK)
		return -1;
	if (kt_store_open(&bn->s, bn->dir, ORIGIN, vkey, err, sizeof(err)) !=
	    KT_OK) {
		fprintf(stderr, "store_bench: %s\n", err);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.max_batch = bn->b;
	o.max_queue = bn->b * (INFLIGHT + 1);
	if (kt_seq_start(&bn->q, bn->s, bn->signer, &o) != KT_OK)
		return -1;
	for (int i = 0; i < INFLIGHT; i++) {
		struct slot *sl = &bn->slots[i];

		pthread_mutex_init(&sl->mu, NULL);
		pthread_cond_init(&sl->cv, NULL);
		sl->busy = 0;
		sl->err = KT_OK;
		sl->rq = calloc(bn->b, sizeof(*sl->rq));
		sl->label = calloc(bn->b, sizeof(*sl->label));
		sl->key = calloc(bn->b, sizeof(*sl->key));
		sl->vrf = calloc(bn->b, sizeof(*sl->vrf));
		if (!sl->rq || !sl->label || !sl->key || !sl->vrf)
			return -1;
	}
	return 0;
}

/* Fills sl with m requests for new random labels with p256 keys, each
 * with its VRF proof and map index. */
static int
fill_slot(struct bench *bn, struct slot *sl, size_t m)
{
	uint8_t beta[KT_VRF_OUTPUT_LEN];
	double t0 = now_s();

	for (size_t i = 0; i < m; i++) {
		/* Exactly LABEL_LEN characters, as label_len says. */
		if (kt_fmt(sl->label[i], LABEL_LEN + 1,
		        "user-%016llx@messaging.example.com",
		        (unsigned long long)rnd(&bn->seed)) != KT_OK)
			return -1;
		sl->key[i][0] = 4;
		for (int j = 1; j < KEY_LEN; j += 8) {
			uint64_t r = rnd(&bn->seed);

			memcpy(sl->key[i] + j, &r,
			    KEY_LEN - j < 8 ? (size_t)(KEY_LEN - j) : 8);
		}
		memset(&sl->rq[i], 0, sizeof(sl->rq[i]));
		if (kt_vrf_prove(bn->vrf, (const uint8_t *)sl->label[i],
		        LABEL_LEN, sl->vrf[i]) != KT_OK ||
		    kt_vrf_proof_to_hash(sl->vrf[i], beta) != KT_OK)
			return -1;
		memcpy(sl->rq[i].index.b, beta, KT_HASH_LEN);
		if (bn->nsample < 1024 && rnd(&bn->seed) % 64 == 0)
			bn->sample[bn->nsample++] = sl->rq[i].index;
		sl->rq[i].op = KT_SEQ_PUBLISH;
		sl->rq[i].label = sl->label[i];
		sl->rq[i].label_len = LABEL_LEN;
		sl->rq[i].vrf_proof = sl->vrf[i];
		sl->rq[i].key_type = "p256";
		sl->rq[i].key_type_len = 4;
		sl->rq[i].key = sl->key[i];
		sl->rq[i].key_len = KEY_LEN;
	}
	bn->vrf_s += now_s() - t0;
	return 0;
}

/*
 * Appends n entries, INFLIGHT submissions of b at a time, and stops the
 * sequencer once all are durable; *secs gets the time the appends took.
 */
static int
append_all(struct bench *bn, double *secs)
{
	uint64_t done = 0, n = bn->n, b = bn->b;
	struct kt_seq_stats sst;
	double t0 = now_s();

	for (uint64_t k = 0; done < n; k++) {
		struct slot *sl = &bn->slots[k % INFLIGHT];
		size_t m = n - done < b ? (size_t)(n - done) : (size_t)b;

		if (slot_wait(sl) != 0 || fill_slot(bn, sl, m) != 0)
			return -1;
		sl->busy = 1;
		sl->n = m;
		if (kt_seq_submit(bn->q, sl->rq, m, on_done, sl) != KT_OK) {
			fprintf(stderr, "store_bench: submit refused\n");
			return -1;
		}
		done += m;
		if (done % (b * 256) < b)
			fprintf(stderr,
			    "  %llu entries, %.0f/s overall, "
			    "%.0f B/entry\n",
			    (unsigned long long)done,
			    (double)done / (now_s() - t0),
			    (double)kt_store_disk_bytes(bn->s) / (double)done);
	}
	for (int i = 0; i < INFLIGHT; i++)
		if (slot_wait(&bn->slots[i]) != 0)
			return -1;
	*secs = now_s() - t0;
	kt_seq_stats(bn->q, &sst);
	printf("batches %llu, mean integration+commit %.2f ms (map step "
	       "%.2f ms); VRF proving %.2f s on the submitting thread\n",
	    (unsigned long long)sst.batches,
	    sst.batches
	        ? (double)sst.commit_us_sum / 1000.0 / (double)sst.batches
	        : 0.0,
	    sst.batches ? (double)sst.map_us_sum / 1000.0 / (double)sst.batches
	                : 0.0,
	    bn->vrf_s);
	kt_seq_stop(bn->q);
	bn->q = NULL;
	return 0;
}

/* Prints the append rate, the entry size and the bytes per entry. */
static int
report_size(struct bench *bn, double secs)
{
	struct kt_store_read *r;
	struct kt_store_map_stats ms;
	struct stat st;
	const uint8_t *e;
	char path[4200];
	uint64_t bytes, entry_bytes = 0, n = bn->n;
	size_t len;

	if (kt_store_read_begin(bn->s, &r) != KT_OK)
		return -1;
	bn->total = kt_store_read_size(r);
	kt_store_read_end(r);
	bytes = kt_store_disk_bytes(bn->s);
	if (kt_fmt(path, sizeof(path), "%s/data.mdb", bn->dir) != KT_OK) {
		fprintf(stderr, "store_bench: %s: folder path too long\n",
		    bn->dir);
		return -1;
	}
	if (stat(path, &st) != 0)
		st.st_size = 0;
	if (kt_store_read_begin(bn->s, &r) != KT_OK)
		return -1;
	for (uint64_t i = 0; i < 1000 && i < n; i++) {
		if (kt_store_read_entry(r, (i * 7919) % n, &e, &len) != KT_OK) {
			kt_store_read_end(r);
			return -1;
		}
		entry_bytes += len;
	}
	kt_store_read_end(r);
	printf("labels %llu, batch %llu: %.0f labels/s (%.2f s)\n",
	    (unsigned long long)n, (unsigned long long)bn->b, (double)n / secs,
	    secs);
	printf("leaf size ~%.0f B; tree size %llu: DB %.1f B/label in use, "
	       "data.mdb %.1f B/label\n",
	    (double)entry_bytes / (double)(n < 1000 ? n : 1000),
	    (unsigned long long)bn->total, (double)bytes / (double)n,
	    (double)st.st_size / (double)n);
	if (kt_store_read_begin(bn->s, &r) != KT_OK)
		return -1;
	if (kt_store_map_stats(r, &ms) != KT_OK) {
		kt_store_read_end(r);
		return -1;
	}
	kt_store_read_end(r);
	printf("map: %llu strata, %.1f B/label (mapgc %llu records)\n",
	    (unsigned long long)ms.records, (double)ms.bytes / (double)n,
	    (unsigned long long)ms.gc_records);
	return 0;
}

/* Inclusion proofs at the final size for proof_s seconds, one snapshot
 * each, as an HTTP handler takes them. */
static int
measure_proofs(struct bench *bn)
{
	size_t cap = 1 << 20, np = 0;
	double *lat = malloc(cap * sizeof(double)), start, t;
	uint64_t ps = 7, total = bn->total;

	if (lat == NULL)
		return -1;
	start = now_s();
	do {
		struct kt_store_read *r;
		struct kt_proof p;
		uint64_t idx = rnd(&ps) % total;

		t = now_s();
		if (kt_store_read_begin(bn->s, &r) != KT_OK ||
		    kt_store_inclusion(r, idx, kt_store_read_size(r), &p) !=
		        KT_OK) {
			fprintf(stderr, "store_bench: proof failed\n");
			free(lat);
			return -1;
		}
		kt_store_read_end(r);
		if (np < cap)
			lat[np++] = now_s() - t;
	} while (now_s() - start < bn->proof_s);
	t = now_s() - start;
	qsort(lat, np, sizeof(double), cmp_double);
	printf("inclusion proofs at size %llu: %.0f/s (1 thread), "
	       "p50 %.1f us, p99 %.1f us\n",
	    (unsigned long long)total, (double)np / t, lat[np / 2] * 1e6,
	    lat[np * 99 / 100] * 1e6);
	free(lat);
	return 0;
}

/* Map proofs at the latest map head for proof_s seconds, one snapshot
 * each: published labels' indexes (present) and random ones (absent). */
static int
measure_map_proofs(struct bench *bn)
{
	static struct kt_map_proof mp;
	size_t cap = 1 << 20, np = 0;
	double *lat = malloc(cap * sizeof(double)), start, t;
	uint64_t ps = 11, depth = 0;

	if (lat == NULL || bn->nsample == 0) {
		free(lat);
		return lat == NULL ? -1 : 0;
	}
	start = now_s();
	do {
		struct kt_store_read *r;
		struct kt_map_head h;
		struct kt_hash idx;
		const uint8_t *buf;
		size_t len;
		int present;
		kt_err e;

		if (np % 2 == 0) {
			idx = bn->sample[rnd(&ps) % bn->nsample];
		} else {
			for (int j = 0; j < 32; j += 8) {
				uint64_t x = rnd(&ps);

				memcpy(idx.b + j, &x, 8);
			}
		}
		t = now_s();
		if (kt_store_read_begin(bn->s, &r) != KT_OK)
			break;
		e = kt_store_read_entry(r, kt_store_read_size(r) - 1, &buf,
		    &len);
		if (e == KT_OK && kt_map_head_decode(buf, len, &h) != KT_OK)
			e = KT_ERR_INTERNAL;
		if (e == KT_OK)
			e = kt_store_map_prove(r, &h.root, &idx, &mp);
		kt_store_read_end(r);
		if (e != KT_OK ||
		    kt_map_verify(&h.root, &idx, &mp, &present) != KT_OK ||
		    present != (np % 2 == 0)) {
			fprintf(stderr, "store_bench: map proof failed\n");
			free(lat);
			return -1;
		}
		depth += mp.n;
		if (np < cap)
			lat[np++] = now_s() - t;
	} while (now_s() - start < bn->proof_s);
	t = now_s() - start;
	qsort(lat, np, sizeof(double), cmp_double);
	printf("map proofs: %.0f/s (1 thread), p50 %.1f us, p99 %.1f us, "
	       "%.1f steps\n",
	    (double)np / t, lat[np / 2] * 1e6, lat[np * 99 / 100] * 1e6,
	    (double)depth / (double)np);
	free(lat);
	return 0;
}

static void
bench_close(struct bench *bn)
{
	kt_seq_stop(bn->q); /* first: no callback may touch a slot after */
	for (int i = 0; i < INFLIGHT; i++) {
		free(bn->slots[i].rq);
		free(bn->slots[i].label);
		free(bn->slots[i].key);
		free(bn->slots[i].vrf);
	}
	kt_vrf_key_free(bn->vrf);
	kt_store_close(bn->s);
	kt_signer_free(bn->signer);
	if (!bn->keep && bn->dir == bn->dirbuf)
		nftw(bn->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(int argc, char **argv)
{
	struct bench bn;
	double secs = 0;
	int rc = 1;

	memset(&bn, 0, sizeof(bn));
	bn.n = 100000;
	bn.b = 4096;
	bn.seed = 42;
	bn.proof_s = 2.0;
	parse_args(&bn, argc, argv);
	if (bench_open(&bn) == 0 && append_all(&bn, &secs) == 0 &&
	    report_size(&bn, secs) == 0 && measure_proofs(&bn) == 0 &&
	    measure_map_proofs(&bn) == 0)
		rc = 0;
	bench_close(&bn);
	return rc;
}
