/*
 * verify_bench.c: kt-verify benchmarks (ops/bench/verify_bench.sh runs them).
 *
 *   verify_bench proofs [TREE_SIZE]   inclusion proof verifications per
 *                                     second on one core (default 10^7)
 *   verify_bench populate URL TOKEN N publish N keys to a kt-logd with
 *                                     POST /v1/keys:batch, 1000 per batch
 *   verify_bench lookups VKEY VRFKEY FILE...
 *                                     lookup proof verifications per
 *                                     second on one core, beside the
 *                                     vrf-r255 verifications of the same
 *                                     proofs' VRF parts alone
 *
 * The proofs are for random leaves of a tree of TREE_SIZE leaves whose
 * perfect subtrees are synthetic (a hash of their coordinates), so a 10^7
 * tree needs no 10^7 leaf hashes; each proof's root is folded once before
 * timing, and every timed verification must succeed.
 *
 * `lookups` reads answers of GET /v1/keys/<label> saved in FILEs (each
 * with its checkpoint), opens each checkpoint with the log key VKEY once,
 * then times kt_lookup_verify over all of them (what a client does per
 * lookup once it holds the checkpoint) and kt_vrf_verify of the same VRF
 * proofs alone, alternating rounds of about a second each, and prints the
 * medians and their ratio. Every timed verification must succeed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "kt/b64.h"
#include "kt/checkpoint.h"
#include "kt/fmt.h"
#include "kt/lookup.h"
#include "kt/merkle.h"
#include "kt/note.h"

#define NPROOFS 1024

static kt_err
synthetic(void *ctx, unsigned level, uint64_t index, struct kt_hash *out)
{
	uint8_t in[16];

	(void)ctx;
	memcpy(in, &index, 8);
	memset(in + 8, (int)level, 8);
	crypto_hash_sha256(out->b, in, sizeof(in));
	return KT_OK;
}

/* RFC 9162 §2.1.3.2's fold, to learn the root each proof leads to. */
static void
fold(const struct kt_hash *leaf, uint64_t fn, uint64_t sn,
    const struct kt_proof *p, struct kt_hash *root)
{
	*root = *leaf;
	for (size_t i = 0; i < p->n; i++) {
		if ((fn & 1) || fn == sn) {
			kt_hash_node(&p->h[i], root, root);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			kt_hash_node(root, &p->h[i], root);
		}
		fn >>= 1;
		sn >>= 1;
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench_proofs(uint64_t size)
{
	struct kt_proof *p = malloc(NPROOFS * sizeof(*p));
	struct kt_hash *leaf = malloc(NPROOFS * sizeof(*leaf));
	struct kt_hash *root = malloc(NPROOFS * sizeof(*root));
	uint64_t *idx = malloc(NPROOFS * sizeof(*idx));
	size_t total_len = 0;
	double t0, t1;
	long n = 0;

	if (p == NULL || leaf == NULL || root == NULL || idx == NULL)
		return 1;
	for (int i = 0; i < NPROOFS; i++) {
		idx[i] = ((uint64_t)randombytes_random() << 32 |
		             randombytes_random()) %
		    size;
		if (synthetic(NULL, 0, idx[i], &leaf[i]) != KT_OK ||
		    kt_merkle_inclusion_proof(synthetic, NULL, idx[i], size,
		        &p[i]) != KT_OK)
			return 1;
		fold(&leaf[i], idx[i], size - 1, &p[i], &root[i]);
		total_len += p[i].n;
	}
	t0 = now();
	do {
		for (int i = 0; i < NPROOFS; i++, n++)
			if (kt_merkle_verify_inclusion(&leaf[i], idx[i], size,
			        p[i].h, p[i].n, &root[i]) != KT_OK) {
				fprintf(stderr, "proof %d failed\n", i);
				return 1;
			}
		t1 = now();
	} while (t1 - t0 < 3.0);
	printf("inclusion proof verification: tree size %" PRIu64 ", %.1f "
	       "hashes per proof: %.0f verifications/s on one core\n",
	    size, (double)total_len / NPROOFS, (double)n / (t1 - t0));
	free(p);
	free(leaf);
	free(root);
	free(idx);
	return 0;
}

static size_t
sink(char *ptr, size_t size, size_t nmemb, void *ud)
{
	(void)ptr;
	(void)ud;
	return size * nmemb;
}

static int
populate(const char *url, const char *token, uint64_t n)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hd = NULL;
	char auth[512], full[1024], *body = malloc(1000 * 160 + 64);
	double t0 = now();
	uint64_t done = 0;
	int rc = 1;

	if (h == NULL || body == NULL)
		goto out;
	if (kt_fmt(auth, sizeof(auth), "Authorization: Bearer %s", token) !=
	        KT_OK ||
	    kt_fmt(full, sizeof(full), "%s/v1/keys:batch", url) != KT_OK) {
		fprintf(stderr, "populate: token or URL too long\n");
		goto out;
	}
	hd = curl_slist_append(hd, auth);
	hd = curl_slist_append(hd, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	while (done < n) {
		uint64_t m = n - done < 1000 ? n - done : 1000;
		size_t o = 0;
		long status = 0;

		o += (size_t)sprintf(body + o, "{\"entries\":[");
		for (uint64_t i = 0; i < m; i++) {
			uint8_t key[32];
			char b64[64];
			uint64_t x = done + i;
			memset(key, 0, sizeof(key));
			memcpy(key, &x, sizeof(x));
			sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
			    sodium_base64_VARIANT_ORIGINAL);
			o += (size_t)sprintf(body + o,
			    "%s{\"label\":\"bench%" PRIu64
			    "@kt.example\",\"key_type\":\"ed25519\","
			    "\"key\":\"%s\"}",
			    i ? "," : "", x, b64);
		}
		o += (size_t)sprintf(body + o, "]}");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)o);
		if (curl_easy_perform(h) != CURLE_OK)
			goto out;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			fprintf(stderr, "batch: HTTP %ld\n", status);
			goto out;
		}
		done += m;
	}
	printf("populated %" PRIu64 " entries in %.1f s\n", n, now() - t0);
	rc = 0;
out:
	curl_slist_free_all(hd);
	if (h != NULL)
		curl_easy_cleanup(h);
	free(body);
	return rc;
}

/* ---- lookups ------------------------------------------------------------- */

#define MAXLOOKUPS 256
#define ROUNDS 5

struct saved {
	struct kt_lookup_proof p;
	char *note; /* the answer's checkpoint note, kept for cp */
	struct kt_signed_checkpoint sc;
};

/* One saved answer: its checkpoint opened with the log key, its proof
 * decoded. 0 on success. */
static int
load_answer(const char *path, const struct kt_verifier *log, struct saved *a)
{
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	const char *note, *lp;
	uint8_t *buf = NULL;
	size_t n;
	int rc = 1;

	if (o == NULL ||
	    (note = json_string_value(json_object_get(o, "checkpoint"))) ==
	        NULL ||
	    (lp = json_string_value(json_object_get(o, "lookup_proof"))) ==
	        NULL) {
		fprintf(stderr, "%s: no checkpoint or lookup_proof\n", path);
		goto out;
	}
	if ((a->note = strdup(note)) == NULL ||
	    (buf = malloc(KT_LOOKUP_MAX)) == NULL)
		goto out;
	if (kt_signed_checkpoint_open(a->note, strlen(a->note), log, &a->sc) !=
	        KT_OK ||
	    kt_b64_decode(lp, strlen(lp), buf, KT_LOOKUP_MAX, &n) != KT_OK ||
	    kt_lookup_decode(buf, n, &a->p) != KT_OK) {
		fprintf(stderr, "%s: checkpoint or proof does not open\n",
		    path);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	json_decref(o);
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Verifications per second of all n answers, repeated for about a second:
 * the whole lookup proof (vrf_only 0) or only its VRF proof. -1 if one
 * fails. */
static double
lookup_round(const struct saved *a, size_t n, const uint8_t *vrf_pk,
    int vrf_only)
{
	struct kt_lookup_result res;
	uint8_t beta[KT_VRF_OUTPUT_LEN];
	double t0 = now(), t;
	uint64_t count = 0;

	do {
		for (size_t i = 0; i < n; i++) {
			const struct kt_lookup_proof *p = &a[i].p;
			kt_err e = vrf_only
			    ? kt_vrf_verify(vrf_pk, (const uint8_t *)p->label,
			          p->label_len, p->vrf_proof, beta)
			    : kt_lookup_verify(p, vrf_pk, &a[i].sc.cp, p->label,
			          p->label_len, &res);
			if (e != KT_OK)
				return -1;
		}
		count += n;
		t = now() - t0;
	} while (t < 1.0);
	return (double)count / t;
}

static int
bench_lookups(const char *vkey, const char *vrf_b64, char **files, size_t n)
{
	static struct saved a[MAXLOOKUPS];
	struct kt_verifier log;
	uint8_t vrf_pk[KT_VRF_PUBLIC_LEN];
	double lk[ROUNDS], vrf[ROUNDS];
	size_t len, i, present = 0;

	if (n == 0 || n > MAXLOOKUPS ||
	    kt_verifier_parse(vkey, strlen(vkey), &log) != KT_OK ||
	    kt_b64_decode(vrf_b64, strlen(vrf_b64), vrf_pk, sizeof(vrf_pk),
	        &len) != KT_OK ||
	    len != sizeof(vrf_pk)) {
		fprintf(stderr,
		    "lookups: bad log key, VRF key or file count "
		    "(1..256)\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (load_answer(files[i], &log, &a[i]) != 0)
			return 1;
		present += a[i].p.present != 0;
	}
	for (i = 0; i < ROUNDS; i++) {
		lk[i] = lookup_round(a, n, vrf_pk, 0);
		vrf[i] = lookup_round(a, n, vrf_pk, 1);
		if (lk[i] < 0 || vrf[i] < 0) {
			fprintf(stderr, "lookups: a proof did not verify\n");
			return 1;
		}
	}
	qsort(lk, ROUNDS, sizeof(double), cmp_double);
	qsort(vrf, ROUNDS, sizeof(double), cmp_double);
	printf("lookup proof verifications: %.0f/s on one core (%zu answers, "
	       "%zu present; median of %d rounds)\n",
	    lk[ROUNDS / 2], n, present, ROUNDS);
	printf("vrf-r255 verifications alone: %.0f/s; lookup/vrf = %.2f\n",
	    vrf[ROUNDS / 2], lk[ROUNDS / 2] / vrf[ROUNDS / 2]);
	for (i = 0; i < n; i++)
		free(a[i].note);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc >= 2 && strcmp(argv[1], "proofs") == 0)
		return bench_proofs(
		    argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000);
	if (argc == 5 && strcmp(argv[1], "populate") == 0)
		return populate(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	if (argc >= 5 && strcmp(argv[1], "lookups") == 0)
		return bench_lookups(argv[2], argv[3], argv + 4,
		    (size_t)(argc - 4));
	fprintf(stderr,
	    "usage: verify_bench proofs [SIZE] | populate URL "
	    "TOKEN N | lookups VKEY VRFKEY FILE...\n");
	return 2;
}
