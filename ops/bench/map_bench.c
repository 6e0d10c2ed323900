/*
 * map_bench: the directory map in kt-logd's store (store/store_map.h),
 * without the log or HTTP.
 *
 * Inserts N labels (random indexes, version 1) in batches of B updates,
 * one write transaction and durable commit per batch, pruning so that the
 * last 64 maps stay readable; then reports:
 *   - the `map` database's bytes per label (its pages only), its records
 *     (strata) and their mean size,
 *   - microseconds per update for inserts (the map step alone, and the
 *     whole batch with prune and commit),
 *   - the same for rotation batches (existing indexes, next version),
 *   - proofs per second on one core (each in its own read snapshot, as an
 *     HTTP handler does it) and the median proof length.
 *
 *   ninja -C build logserver/map_bench
 *   nice build/logserver/map_bench -n 1000000 [-b 1000] [-r 20] [-d DIR]
 *
 * Without -d it works in a new folder under /tmp and removes it after.
 * The strata's band width is the build's STRATA_B (store/strata.h).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kt/map.h"
#include "store/store.h"
#include "store/store_map.h"
#include "store/store_write.h"
#include "store/strata.h"

#define ORIGIN "bench.example.com/kt"
#define VKEY \
	"bench.example.com/kt+01234567+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define KEEP 64

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Label i's index: a fixed function of i, so none is kept in memory. */
static void
label_index(uint64_t i, struct kt_hash *h)
{
	for (unsigned k = 0; k < 4; k++) {
		uint64_t v = mix(i * 4 + k + 1);

		for (unsigned j = 0; j < 8; j++)
			h->b[8 * k + j] = (uint8_t)(v >> (56 - 8 * j));
	}
}

struct bench {
	struct kt_store *s;
	struct kt_hash root;
	uint64_t log_size;
	uint64_t *upd; /* per label: log index of its latest update */
	uint32_t *ver; /* per label: latest version */
	uint64_t heads[KEEP];
	uint64_t nbatch;
	double t_apply, t_batch;
};

/* One batch: apply, prune, commit; retried when the LMDB map grew. */
static void
batch(struct bench *b, struct kt_map_update *u, size_t n)
{
	struct kt_store_txn *w;
	struct kt_map_result res;
	uint64_t head = b->log_size + n;
	double t0, t1;
	kt_err e;

	for (;;) {
		t0 = now_s();
		if (kt_store_write_begin(b->s, &w) != KT_OK) {
			fprintf(stderr, "begin: %s\n",
			    kt_store_write_errmsg(b->s));
			exit(1);
		}
		e = kt_store_map_apply(w, &b->root, u, n, head, &res);
		t1 = now_s();
		if (e == KT_OK && b->nbatch >= KEEP)
			e = kt_store_map_prune(w, b->heads[b->nbatch % KEEP]);
		if (e != KT_OK) {
			kt_store_write_abort(w);
		} else {
			e = kt_store_write_commit(w);
		}
		if (e == KT_OK)
			break;
		if (e != KT_ERR_BUSY) {
			fprintf(stderr, "batch: %s (%s)\n", kt_strerror(e),
			    kt_store_write_errmsg(b->s));
			exit(1);
		}
	}
	b->t_apply += t1 - t0;
	b->t_batch += now_s() - t0;
	b->root = res.root;
	b->heads[b->nbatch % KEEP] = head;
	b->nbatch++;
	b->log_size = head + 1;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void
machine(void)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	printf("machine: %ld cores", sysconf(_SC_NPROCESSORS_ONLN));
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "model name", 10) == 0) {
			printf(", %s", strchr(line, ':') + 2);
			break;
		}
	if (f != NULL)
		fclose(f);
	printf("strata: band of %d bits\n", STRATA_B);
}

static void
report_size(struct bench *b, uint64_t n)
{
	struct kt_store_read *r;
	struct kt_store_map_stats st;
	struct kt_store_map_scan sc;

	if (kt_store_read_begin(b->s, &r) != KT_OK ||
	    kt_store_map_stats(r, &st) != KT_OK ||
	    kt_store_map_scan(r, &sc) != KT_OK) {
		fprintf(stderr, "stats failed\n");
		exit(1);
	}
	kt_store_read_end(r);
	printf("map: %.1f bytes/label (%llu pages bytes), %llu strata, "
	       "mean stratum %.0f bytes (%.1f leaves, %.1f interior), "
	       "max %u interior; mapgc %llu records %.1f MB\n",
	    (double)st.bytes / (double)n, (unsigned long long)st.bytes,
	    (unsigned long long)st.records,
	    (double)sc.value_bytes / (double)sc.records,
	    (double)sc.leaves / (double)sc.records,
	    (double)sc.interior / (double)sc.records, sc.max_interior,
	    (unsigned long long)st.gc_records, (double)st.gc_bytes / 1e6);
	printf("  (retained: %llu leaves in all strata for %llu labels)\n",
	    (unsigned long long)sc.leaves, (unsigned long long)n);
}

static void
proofs(struct bench *b, uint64_t n, size_t count)
{
	struct kt_store_read *r;
	struct kt_map_proof p;
	struct kt_hash idx;
	size_t *len = malloc(count * sizeof(*len)), i;
	double t0 = now_s(), t;

	for (i = 0; i < count; i++) {
		label_index(mix(i ^ 0xabcdef) % n, &idx);
		if (kt_store_read_begin(b->s, &r) != KT_OK ||
		    kt_store_map_prove(r, &b->root, &idx, &p) != KT_OK) {
			fprintf(stderr, "prove failed\n");
			exit(1);
		}
		kt_store_read_end(r);
		len[i] = p.n;
	}
	t = now_s() - t0;
	qsort(len, count, sizeof(*len), cmp_size);
	printf("proofs: %.0f/s on one core (%.1f us each), median %zu steps "
	       "(%zu bytes encoded)\n",
	    (double)count / t, t / (double)count * 1e6, len[count / 2],
	    2 + len[count / 2] * 33 + 1 + KT_MAP_LEAF_LEN);
	free(len);
}

int
main(int argc, char **argv)
{
	struct bench b;
	uint64_t n = 100000, bs = 1000, rounds = 20, i, k;
	struct kt_map_update *u;
	char dir[256] = "", err[256];
	int c, own = 0;
	double t0;

	while ((c = getopt(argc, argv, "n:b:r:d:")) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (c == 'b')
			bs = strtoull(optarg, NULL, 10);
		else if (c == 'r')
			rounds = strtoull(optarg, NULL, 10);
		else if (c == 'd')
			snprintf(dir, sizeof(dir), "%s", optarg);
		else
			return 2;
	}
	if (dir[0] == 0) {
		snprintf(dir, sizeof(dir), "/tmp/kt-map-bench-XXXXXX");
		if (mkdtemp(dir) == NULL)
			return 1;
		own = 1;
	}
	machine();
	memset(&b, 0, sizeof(b));
	kt_map_empty_root(&b.root);
	b.upd = calloc(n, sizeof(*b.upd));
	b.ver = calloc(n, sizeof(*b.ver));
	u = calloc(bs, sizeof(*u));
	if (b.upd == NULL || b.ver == NULL || u == NULL)
		return 1;
	if (kt_store_open(&b.s, dir, ORIGIN, VKEY, err, sizeof(err)) != KT_OK) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	/* Inserts. */
	t0 = now_s();
	for (i = 0; i < n; i += k) {
		for (k = 0; k < bs && i + k < n; k++) {
			struct kt_map_update *x = &u[k];

			label_index(i + k, &x->index);
			x->version = 1;
			x->prev_index = KT_MAP_NO_PREV;
			x->log_index = b.log_size + k;
			label_index(~(i + k), &x->leaf_hash);
			b.upd[i + k] = x->log_index;
			b.ver[i + k] = 1;
		}
		batch(&b, u, k);
		if ((b.nbatch & 1023) == 0)
			fprintf(stderr, "%llu labels, %.0f s\n",
			    (unsigned long long)(i + k), now_s() - t0);
	}
	printf("inserts: %llu labels in batches of %llu: %.2f us/update "
	       "(map step), %.2f us/update (with prune and commit), %.0f s\n",
	    (unsigned long long)n, (unsigned long long)bs,
	    b.t_apply / (double)n * 1e6, b.t_batch / (double)n * 1e6,
	    now_s() - t0);
	report_size(&b, n);
	/* Rotations: existing labels, next version. */
	b.t_apply = b.t_batch = 0;
	for (uint64_t rd = 0; rd < rounds; rd++) {
		for (k = 0; k < bs; k++) {
			struct kt_map_update *x = &u[k];
			uint64_t l = mix(rd * bs + k + 0x5151) % n;

			label_index(l, &x->index);
			x->version = ++b.ver[l];
			x->prev_index = b.upd[l];
			x->log_index = b.log_size + k;
			label_index(~l ^ (rd << 40), &x->leaf_hash);
			b.upd[l] = x->log_index;
		}
		batch(&b, u, bs);
	}
	printf("rotations: %llu batches of %llu: %.2f us/update (map step), "
	       "%.2f us/update (with prune and commit)\n",
	    (unsigned long long)rounds, (unsigned long long)bs,
	    b.t_apply / (double)(rounds * bs) * 1e6,
	    b.t_batch / (double)(rounds * bs) * 1e6);
	report_size(&b, n);
	proofs(&b, n, 100000);
	/* The current map alone: every older one pruned. */
	{
		struct kt_store_txn *w;

		if (kt_store_write_begin(b.s, &w) != KT_OK ||
		    kt_store_map_prune(w, UINT64_MAX) != KT_OK ||
		    kt_store_write_commit(w) != KT_OK)
			return 1;
		printf("after pruning every older map:\n");
		report_size(&b, n);
	}
	kt_store_close(b.s);
	if (own)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(b.upd);
	free(b.ver);
	free(u);
	return 0;
}
