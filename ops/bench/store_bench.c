/*
 * store_bench: kt-logd's storage and group commit, without HTTP.
 *
 * Appends N entries through the real sequencer (one submission of B
 * requests per batch, two in flight, durable commits, a signed checkpoint
 * per batch) into a fresh store, then reports:
 *   - appended entries/s,
 *   - DB bytes per entry (pages in use, and the data.mdb file),
 *   - inclusion-proof generation rate and latency at that size (each proof
 *     in its own read snapshot, as an HTTP handler would do it).
 *
 * Entries are ~140 bytes: a fresh random label of 43 bytes, a p256 key.
 *
 *   ninja -C build logserver/store_bench
 *   build/logserver/store_bench -n 1000000 -b 4096 [-d DIR] [-k] [-p SECONDS]
 *
 * Without -d it works in a new folder under /tmp and removes it after
 * (-k keeps it). Labels come from a fixed seed: appending to a kept folder
 * needs another -s SEED, or every publication is an idempotent repeat.
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

#include "kt/entry.h"
#include "kt/fmt.h"
#include "kt/merkle.h"
#include "kt/note.h"
#include "sequencer.h"
#include "store/store.h"
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
on_done(void *arg, kt_err err, uint64_t tree_size,
    const struct kt_seq_res *res, size_t n)
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
	fprintf(stderr, "usage: store_bench [-n entries] [-b batch] [-d dir] "
	    "[-k] [-p proof_seconds] [-s seed]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t n = 100000, b = 4096, seed = 42, done = 0, total = 0;
	double proof_s = 2.0, t0, t1;
	char dirbuf[64], err[256], vkey[KT_KEY_TEXT_MAX], path[600];
	const char *dir = NULL;
	int keep = 0, c, rc = 1;
	struct kt_signer *signer = NULL;
	struct kt_verifier v;
	struct kt_store *s = NULL;
	struct kt_seq *q = NULL;
	struct kt_seq_opts o;
	struct slot slots[INFLIGHT];
	uint8_t sd[KT_SEED_LEN];
	uint64_t bytes = 0, entry_bytes = 0;
	struct stat st;

	while ((c = getopt(argc, argv, "n:b:d:kp:s:")) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'b': b = strtoull(optarg, NULL, 10); break;
		case 'd': dir = optarg; break;
		case 'k': keep = 1; break;
		case 'p': proof_s = atof(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (n == 0 || b == 0 || b > 65536 || optind != argc)
		usage();
	if (dir == NULL) {
		if (kt_fmt(dirbuf, sizeof(dirbuf), "/tmp/kt-bench-XXXXXX") !=
		    KT_OK || mkdtemp(dirbuf) == NULL) {
			perror("mkdtemp");
			return 1;
		}
		dir = dirbuf;
	}
	memset(sd, 0x33, sizeof(sd));
	if (kt_signer_from_seed(ORIGIN, KT_KEY_ED25519, sd, &signer) != KT_OK)
		goto out;
	kt_signer_verifier(signer, &v);
	if (kt_verifier_format(&v, vkey, sizeof(vkey)) != KT_OK)
		goto out;
	if (kt_store_open(&s, dir, ORIGIN, vkey, err, sizeof(err)) != KT_OK) {
		fprintf(stderr, "store_bench: %s\n", err);
		goto out;
	}
	o.max_batch = b;
	o.max_queue = b * (INFLIGHT + 1);
	if (kt_seq_start(&q, s, signer, &o) != KT_OK)
		goto out;
	for (int i = 0; i < INFLIGHT; i++) {
		pthread_mutex_init(&slots[i].mu, NULL);
		pthread_cond_init(&slots[i].cv, NULL);
		slots[i].busy = 0;
		slots[i].err = KT_OK;
		slots[i].rq = calloc(b, sizeof(*slots[i].rq));
		slots[i].label = calloc(b, sizeof(*slots[i].label));
		slots[i].key = calloc(b, sizeof(*slots[i].key));
		if (!slots[i].rq || !slots[i].label || !slots[i].key)
			goto out;
	}

	/* ---- appends ---- */
	t0 = now_s();
	for (uint64_t k = 0; done < n; k++) {
		struct slot *sl = &slots[k % INFLIGHT];
		size_t m = n - done < b ? (size_t)(n - done) : (size_t)b;

		if (slot_wait(sl) != 0)
			goto out;
		for (size_t i = 0; i < m; i++) {
			/* Exactly LABEL_LEN characters, as label_len says. */
			if (kt_fmt(sl->label[i], LABEL_LEN + 1,
			    "user-%016llx@messaging.example.com",
			    (unsigned long long)rnd(&seed)) != KT_OK)
				goto out;
			sl->key[i][0] = 4;
			for (int j = 1; j < KEY_LEN; j += 8) {
				uint64_t r = rnd(&seed);

				memcpy(sl->key[i] + j, &r, KEY_LEN - j < 8 ?
				    (size_t)(KEY_LEN - j) : 8);
			}
			memset(&sl->rq[i], 0, sizeof(sl->rq[i]));
			sl->rq[i].label = sl->label[i];
			sl->rq[i].label_len = LABEL_LEN;
			sl->rq[i].key_type = "p256";
			sl->rq[i].key_type_len = 4;
			sl->rq[i].key = sl->key[i];
			sl->rq[i].key_len = KEY_LEN;
		}
		sl->busy = 1;
		sl->n = m;
		if (kt_seq_submit(q, sl->rq, m, on_done, sl) != KT_OK) {
			fprintf(stderr, "store_bench: submit refused\n");
			goto out;
		}
		done += m;
		if (done % (b * 256) < b)
			fprintf(stderr, "  %llu entries, %.0f/s overall, "
			    "%.0f B/entry\n", (unsigned long long)done,
			    (double)done / (now_s() - t0),
			    (double)kt_store_disk_bytes(s) / (double)done);
	}
	for (int i = 0; i < INFLIGHT; i++)
		if (slot_wait(&slots[i]) != 0)
			goto out;
	t1 = now_s();
	{
		struct kt_seq_stats sst;

		kt_seq_stats(q, &sst);
		printf("batches %llu, mean integration+commit %.2f ms\n",
		    (unsigned long long)sst.batches, sst.batches ?
		    (double)sst.commit_us_sum / 1000.0 / (double)sst.batches :
		    0.0);
	}
	kt_seq_stop(q);
	q = NULL;
	{
		struct kt_store_read *r;

		if (kt_store_read_begin(s, &r) != KT_OK)
			goto out;
		total = kt_store_read_size(r);
		kt_store_read_end(r);
	}
	bytes = kt_store_disk_bytes(s);
	if (kt_fmt(path, sizeof(path), "%s/data.mdb", dir) != KT_OK) {
		fprintf(stderr, "store_bench: %s: folder path too long\n", dir);
		goto out;
	}
	if (stat(path, &st) != 0)
		st.st_size = 0;
	{
		struct kt_store_read *r;
		const uint8_t *e;
		size_t len;

		if (kt_store_read_begin(s, &r) != KT_OK)
			goto out;
		for (uint64_t i = 0; i < 1000 && i < n; i++) {
			if (kt_store_read_entry(r, (i * 7919) % n, &e, &len) !=
			    KT_OK) {
				kt_store_read_end(r);
				goto out;
			}
			entry_bytes += len;
		}
		kt_store_read_end(r);
	}
	printf("entries %llu, batch %llu: %.0f entries/s (%.2f s)\n",
	    (unsigned long long)n, (unsigned long long)b,
	    (double)n / (t1 - t0), t1 - t0);
	printf("entry size ~%.0f B; tree size %llu: DB %.1f B/entry in use, "
	    "data.mdb %.1f B/entry\n", (double)entry_bytes /
	    (double)(n < 1000 ? n : 1000), (unsigned long long)total,
	    (double)bytes / (double)total, (double)st.st_size / (double)total);

	/* ---- inclusion proofs at size n, one snapshot each ---- */
	{
		size_t cap = 1 << 20, np = 0;
		double *lat = malloc(cap * sizeof(double)), start, t;
		uint64_t ps = 7;

		if (lat == NULL)
			goto out;
		start = now_s();
		do {
			struct kt_store_read *r;
			struct kt_proof p;
			uint64_t idx = rnd(&ps) % total;

			t = now_s();
			if (kt_store_read_begin(s, &r) != KT_OK ||
			    kt_store_inclusion(r, idx, kt_store_read_size(r),
			    &p) != KT_OK) {
				fprintf(stderr, "store_bench: proof failed\n");
				free(lat);
				goto out;
			}
			kt_store_read_end(r);
			if (np < cap)
				lat[np++] = now_s() - t;
		} while (now_s() - start < proof_s);
		t = now_s() - start;
		qsort(lat, np, sizeof(double), cmp_double);
		printf("inclusion proofs at size %llu: %.0f/s (1 thread), "
		    "p50 %.1f us, p99 %.1f us\n", (unsigned long long)total,
		    (double)np / t, lat[np / 2] * 1e6, lat[np * 99 / 100] * 1e6);
		free(lat);
	}
	rc = 0;
out:
	kt_seq_stop(q);
	kt_store_close(s);
	kt_signer_free(signer);
	if (!keep && dir == dirbuf)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
