/*
 * proto_bench.c: the key directory's costs in proto/, on one core
 * (ops/bench/proto_bench.sh runs it and prints the machine).
 *
 *   vrf      kt_vrf_prove and kt_vrf_verify per second, beside libsodium's
 *            own ristretto255 scalar multiplication (the floor: a prove
 *            costs about three, a verify about four) in the same run
 *   map N    a map of N labels (default 10^6) in memory: map proof
 *            verifications per second, the lookup proof's bytes (measured
 *            at N, computed for 10^9), and the batch step's cost per label
 *            for batches of 1, 64 and 4096 updates
 *
 * Medians of 5 runs of each measurement. Not a test: nothing here is timed
 * against a threshold.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "kt/lookup.h"
#include "kt/map.h"
#include "kt/vrf.h"

#define RUNS 5

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(*v), dcmp);
	return v[RUNS / 2];
}

/* ---- vrf ----------------------------------------------------------------- */

static void
bench_vrf(void)
{
	uint8_t sk[KT_VRF_SECRET_LEN], pk[KT_VRF_PUBLIC_LEN],
	    pi[KT_VRF_PROOF_LEN];
	uint8_t beta[KT_VRF_OUTPUT_LEN], q[32], n[32], p[32];
	const char *alpha = "alice@example.com";
	double prove[RUNS], ver[RUNS], mul[RUNS], t;
	struct kt_vrf_key *k;
	int r, i, iters = 2000;

	crypto_core_ristretto255_scalar_random(sk); /* 0 < x < q */
	if (kt_vrf_key_from_secret(sk, &k) != KT_OK) {
		fprintf(stderr, "proto_bench: kt_vrf_key_from_secret failed\n");
		exit(1);
	}
	kt_vrf_public(k, pk);
	crypto_core_ristretto255_scalar_random(n);
	crypto_scalarmult_ristretto255_base(p, n);
	for (r = 0; r < RUNS; r++) {
		t = now();
		for (i = 0; i < iters; i++)
			if (kt_vrf_prove(k, (const uint8_t *)alpha,
			        strlen(alpha), pi) != KT_OK)
				exit(1);
		prove[r] = iters / (now() - t);
		t = now();
		for (i = 0; i < iters; i++)
			if (kt_vrf_verify(pk, (const uint8_t *)alpha,
			        strlen(alpha), pi, beta) != KT_OK)
				exit(1);
		ver[r] = iters / (now() - t);
		t = now();
		for (i = 0; i < iters; i++)
			if (crypto_scalarmult_ristretto255(q, n, p) != 0)
				exit(1);
		mul[r] = iters / (now() - t);
	}
	printf("vrf: prove %.0f/s, verify %.0f/s; libsodium scalar "
	       "multiplication %.0f/s (prove = %.1f, verify = %.1f "
	       "multiplications)\n",
	    median(prove), median(ver), median(mul),
	    median(mul) / median(prove), median(mul) / median(ver));
	kt_vrf_key_free(k);
}

/* ---- a node store in memory, by hash ------------------------------------- */

struct slot {
	struct kt_hash h;
	struct kt_map_node n;
	int used;
};

static struct slot *tab;
static size_t tab_cap;

static struct slot *
slot_of(const struct kt_hash *h)
{
	uint64_t k;
	size_t i;

	memcpy(&k, h->b, 8);
	for (i = k & (tab_cap - 1);; i = (i + 1) & (tab_cap - 1))
		if (!tab[i].used || kt_hash_eq(&tab[i].h, h))
			return &tab[i];
}

static kt_err
st_write(void *ctx, const struct kt_hash *h, const struct kt_map_node *n)
{
	struct slot *s = slot_of(h);

	(void)ctx;
	s->used = 1;
	s->h = *h;
	s->n = *n;
	return KT_OK;
}

static kt_err
st_read(void *ctx, const struct kt_hash *h, const struct kt_hash *index,
    unsigned depth, struct kt_map_node *out)
{
	struct slot *s = slot_of(h);

	(void)ctx;
	(void)index;
	(void)depth;
	if (!s->used)
		return KT_ERR_NOT_FOUND;
	*out = s->n;
	return KT_OK;
}

/* ---- map ----------------------------------------------------------------- */

static struct kt_map_leaf *
random_leaves(size_t n)
{
	struct kt_map_leaf *l = calloc(n, sizeof(*l));
	size_t i;

	if (l == NULL)
		exit(1);
	for (i = 0; i < n; i++) {
		randombytes_buf(l[i].index.b, KT_HASH_LEN);
		randombytes_buf(l[i].chain.b, KT_HASH_LEN);
		l[i].version = 1;
		l[i].update_index = i;
	}
	return l;
}

static void
bench_proofs(const struct kt_map_reader *r, const struct kt_hash *root,
    const struct kt_map_leaf *l, size_t n)
{
	static struct kt_map_proof p[256];
	double v[RUNS], t, depth = 0;
	int r_, i, j, iters = 20;

	for (i = 0; i < 256; i++) {
		if (kt_map_prove(r, root, &l[(size_t)i * 7919 % n].index,
		        &p[i]) != KT_OK)
			exit(1);
		depth += (double)p[i].n;
	}
	for (r_ = 0; r_ < RUNS; r_++) {
		t = now();
		for (j = 0; j < iters; j++)
			for (i = 0; i < 256; i++)
				if (kt_map_verify(root,
				        &l[(size_t)i * 7919 % n].index, &p[i],
				        NULL) != KT_OK)
					exit(1);
		v[r_] = iters * 256 / (now() - t);
	}
	printf("map of %zu labels: mean depth %.1f, map proof %.0f bytes; "
	       "%.0f verifications/s\n",
	    n, depth / 256, 83 + 33 * depth / 256, median(v));
}

/* A lookup proof as the log would serve it at n labels (and n updates). */
static void
lookup_bytes(const struct kt_map_reader *r, const struct kt_hash *root,
    const struct kt_map_leaf *l, size_t n)
{
	static struct kt_lookup_proof p;
	double log_size = (double)n * 2, d9;

	memset(&p, 0, sizeof(p));
	memcpy(p.label, "alice@example.com", 17);
	p.label_len = 17;
	p.present = 1;
	if (kt_map_prove(r, root, &l[0].index, &p.map) != KT_OK)
		exit(1);
	/* Inclusion proofs in a log of 2n leaves: ceil(log2) hashes. */
	p.head_proof.n = (size_t)ceil(log2(log_size));
	p.update_proof.n = p.head_proof.n;
	p.head.log_size = (uint64_t)log_size - 1;
	p.head.prev_head = KT_NO_PREV;
	p.update.version = 1;
	p.update.prev_index = KT_NO_PREV;
	p.kind = KT_VALUE_KEY;
	memcpy(p.key_type, "ed25519", 7);
	p.key_type_len = 7;
	p.key_len = 32;
	printf("lookup proof at %zu labels: %zu bytes measured (map path "
	       "%zu steps, log proofs %zu hashes)\n",
	    n, kt_lookup_len(&p), p.map.n, p.head_proof.n);
	/* 10^9 labels: map depth ~ log2(n) + 1.3, log of ~2*10^9 leaves. */
	d9 = log2(1e9) + 1.3;
	p.map.n = (size_t)lround(d9);
	p.head_proof.n = p.update_proof.n = (size_t)ceil(log2(2e9));
	printf("lookup proof at 10^9 labels: %zu bytes computed (map path "
	       "%zu steps, log proofs %zu hashes)\n",
	    kt_lookup_len(&p), p.map.n, p.head_proof.n);
}

static void
bench_batches(const struct kt_map_reader *r, const struct kt_hash *root,
    size_t n)
{
	static const size_t sizes[] = { 1, 64, 4096 };
	struct kt_map_writer w = { st_write, NULL };
	struct kt_map_result res;
	size_t s, i;

	for (s = 0; s < 3; s++) {
		size_t k = sizes[s];
		struct kt_map_update *u = calloc(k, sizeof(*u));
		double v[RUNS], t;
		int r_;

		if (u == NULL)
			exit(1);
		for (r_ = 0; r_ < RUNS; r_++) {
			for (i = 0; i < k; i++) {
				randombytes_buf(u[i].index.b, KT_HASH_LEN);
				randombytes_buf(u[i].leaf_hash.b, KT_HASH_LEN);
				u[i].version = 1;
				u[i].prev_index = KT_MAP_NO_PREV;
				u[i].log_index = 2 * n + i;
			}
			t = now();
			if (kt_map_apply(r, root, u, k, &w, &res) != KT_OK)
				exit(1);
			v[r_] = (now() - t) / (double)k * 1e6;
		}
		printf("batch of %zu into %zu labels: %.2f us per label "
		       "(new root and nodes, reads in memory)\n",
		    k, n, median(v));
		free(u);
	}
}

static void
bench_map(size_t n)
{
	struct kt_map_writer w = { st_write, NULL };
	struct kt_map_reader r = { st_read, NULL, 0 };
	struct kt_map_leaf *l = random_leaves(n);
	struct kt_hash root;
	double t;

	for (tab_cap = 1; tab_cap < 4 * n + 1024 * 1024;)
		tab_cap *= 2;
	if ((tab = calloc(tab_cap, sizeof(*tab))) == NULL)
		exit(1);
	t = now();
	if (kt_map_root(l, n, &w, &root) != KT_OK)
		exit(1);
	printf("map of %zu labels built in %.2f s\n", n, now() - t);
	bench_proofs(&r, &root, l, n);
	lookup_bytes(&r, &root, l, n);
	bench_batches(&r, &root, n);
	free(tab);
	free(l);
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc >= 2 && strcmp(argv[1], "vrf") == 0) {
		bench_vrf();
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "map") == 0) {
		bench_map(
		    argc >= 3 ? (size_t)strtoull(argv[2], NULL, 10) : 1000000);
		return 0;
	}
	fprintf(stderr, "usage: proto_bench vrf | map [N]\n");
	return 2;
}
