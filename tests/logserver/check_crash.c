/*
 * check_crash.c: kill -9 during a stream of concurrent writes. Several
 * threads publish single keys and batches over keep-alive connections and
 * record every acknowledged answer; the server is killed with SIGKILL
 * mid-stream and restarted on the same folder. Every acknowledgement's
 * lookup proof verifies at its checkpoint when it comes (kt_lookup_verify).
 * After the restart every acknowledged update leaf must be present, byte
 * for byte, at its acknowledged index; every label's lookup must PROVE
 * (kt_lookup_verify at the new checkpoint) a version at least the last
 * acknowledged one (the same key when equal), and its history must carry
 * every acknowledged version at its index with a commitment that opens to
 * the acknowledged key; the tree recomputed from all leaves must match the
 * new checkpoint; and every checkpoint any client saw must be a prefix of
 * it (recomputed roots, and the server's consistency proofs). The same
 * after a SIGTERM in mid-stream, which must also exit 0.
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_testlib.h"
#include "harness/logd.h"
#include "harness/runner.h"
#include "kt/leaf.h"
#include "kt/lookup.h"

#define NTHREADS 4

struct ack {
	uint64_t index, version;
	char *entry; /* base64 of the update leaf its lookup proof proved */
	char *label;
	char key[64]; /* base64 */
};

struct cp_seen {
	char *note;
	struct kt_checkpoint cp;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct ack *acks;
static size_t nacks, capacks;
static struct cp_seen *cps;
static size_t ncps, capcps;
static atomic_int stop;
static atomic_int bad_answers;

static void
record_cp(const char *note)
{
	for (size_t i = ncps; i-- > 0 && i + 8 >= ncps;)
		if (strcmp(cps[i].note, note) == 0)
			return;
	if (ncps == capcps) {
		void *n;

		capcps = capcps ? capcps * 2 : 256;
		n = realloc(cps, capcps * sizeof *cps);
		ck_assert_ptr_nonnull(n);
		cps = n;
	}
	cps[ncps++].note = strdup(note);
}

/* A bad acknowledgement: counted (Check cannot fail from a thread). */
static void
bad(const char *what, const char *label)
{
	fprintf(stderr, "bad acknowledgement of %s: %s\n", label, what);
	atomic_fetch_add(&bad_answers, 1);
}

/*
 * Records one acknowledged write o (a single answer, or a batch result
 * with ?proofs=full) of key for label, after checking its lookup proof
 * (proof_b64) at its checkpoint (note): it proves this version, at this
 * index, with this key.
 */
static void
record(json_t *o, const char *label, const char *key, const char *note,
    const char *proof_b64)
{
	struct kt_lookup_proof *p = malloc(sizeof *p);
	struct kt_lookup_result res;
	struct kt_checkpoint cp;
	uint8_t leaf[KT_UPDATE_LEN], k[64];
	char b64[160];
	uint64_t index =
	    (uint64_t)json_integer_value(json_object_get(o, "index"));
	uint64_t version =
	    (uint64_t)json_integer_value(json_object_get(o, "version"));
	long kl = logd_b64(key, k, sizeof k);

	if (p == NULL || note == NULL || proof_b64 == NULL) {
		bad("no checkpoint or lookup proof", label);
		goto out;
	}
	if (logd_open_checkpoint(&S, note, strlen(note), &cp) != 0 ||
	    logd_check_lookup(&S, proof_b64, label, &cp, p, &res) != 0) {
		bad("its lookup proof does not verify", label);
		goto out;
	}
	if (res.leaf.version != version || res.leaf.update_index != index ||
	    res.revoked || kl != 32 || res.key_len != 32 ||
	    memcmp(res.key, k, 32) != 0 ||
	    kt_update_encode(&p->update, leaf) != KT_OK) {
		bad("its lookup proves another version or key", label);
		goto out;
	}
	sodium_bin2base64(b64, sizeof b64, leaf, sizeof leaf,
	    sodium_base64_VARIANT_ORIGINAL);
	pthread_mutex_lock(&mu);
	if (nacks == capacks) {
		void *n;

		capacks = capacks ? capacks * 2 : 4096;
		n = realloc(acks, capacks * sizeof *acks);
		ck_assert_ptr_nonnull(n);
		acks = n;
	}
	acks[nacks].index = index;
	acks[nacks].version = version;
	acks[nacks].entry = strdup(b64);
	acks[nacks].label = strdup(label);
	snprintf(acks[nacks].key, sizeof acks[nacks].key, "%s", key);
	nacks++;
	record_cp(note);
	pthread_mutex_unlock(&mu);
out:
	free(p);
}

/* The acknowledged answer r of a write (batch or not) of labels[i],
 * keys[i], recorded. */
static void
record_answer(const struct http_resp *r, int batch, char labels[][32],
    char keys[][64])
{
	json_t *j = json_loads(r->body, 0, NULL), *res, *o;
	const char *note;

	if (j == NULL) {
		bad("not JSON", labels[0]);
		return;
	}
	note = json_string_value(json_object_get(j, "checkpoint"));
	if (!batch) {
		o = json_object_get(j, "lookup");
		record(j, labels[0], keys[0], note,
		    json_string_value(json_object_get(o, "lookup_proof")));
	} else {
		res = json_object_get(j, "results");
		if (json_array_size(res) != 20)
			bad("not 20 results", labels[0]);
		for (size_t k = 0; k < json_array_size(res) && k < 20; k++) {
			o = json_array_get(res, k);
			record(o, labels[k], keys[k], note,
			    json_string_value(
			        json_object_get(o, "lookup_proof")));
		}
	}
	json_decref(j);
}

static void
random_key(char *out, size_t cap)
{
	uint8_t k[32];
	randombytes_buf(k, sizeof k);
	sodium_bin2base64(out, cap, k, sizeof k,
	    sodium_base64_VARIANT_ORIGINAL);
}

static void *
writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	CURL *h = curl_easy_init();
	char url[128], urlb[128], body[16384];
	char labels[20][32], keys[20][64];

	snprintf(url, sizeof url, "%s/v1/keys", S.url);
	snprintf(urlb, sizeof urlb, "%s/v1/keys:batch?proofs=full", S.url);
	for (unsigned i = 0; !atomic_load(&stop); i++) {
		struct http_resp r;
		int batch = id == 0 && i % 2 == 1;

		if (!batch) {
			/* Labels repeat, so versions and links grow too. */
			random_key(keys[0], sizeof keys[0]);
			snprintf(labels[0], sizeof labels[0], "w%d-%u", id,
			    i % 40);
			snprintf(body, sizeof body,
			    "{\"label\":\"%s\","
			    "\"key_type\":\"ed25519\",\"key\":\"%s\"}",
			    labels[0], keys[0]);
		} else {
			char *p = body + sprintf(body, "{\"entries\":[");
			for (int k = 0; k < 20; k++) {
				random_key(keys[k], sizeof keys[k]);
				snprintf(labels[k], sizeof labels[k], "b%u-%d",
				    i % 7, k);
				p += sprintf(p,
				    "%s{\"label\":\"%s\","
				    "\"key_type\":\"ed25519\",\"key\":\"%s\"}",
				    k ? "," : "", labels[k], keys[k]);
			}
			sprintf(p, "]}");
		}
		if (http_request(h, "POST", batch ? urlb : url, S.token, NULL,
		        body, strlen(body), &r) != 0) {
			http_resp_free(&r);
			break; /* the server is gone */
		}
		if (r.status == 200) {
			record_answer(&r, batch, labels, keys);
		} else if (r.status != 503) {
			/* Check cannot fail from this thread: count it. */
			fprintf(stderr, "unexpected status %ld: %s\n", r.status,
			    r.body);
			atomic_fetch_add(&bad_answers, 1);
		}
		http_resp_free(&r);
	}
	curl_easy_cleanup(h);
	return NULL;
}

static int
cmp_cp(const void *a, const void *b)
{
	const struct cp_seen *x = a, *y = b;
	return x->cp.size < y->cp.size ? -1 : x->cp.size > y->cp.size;
}

static void
reset(void)
{
	for (size_t i = 0; i < nacks; i++) {
		free(acks[i].entry);
		free(acks[i].label);
	}
	for (size_t i = 0; i < ncps; i++)
		free(cps[i].note);
	nacks = ncps = 0;
	atomic_store(&stop, 0);
}

/*
 * Starts kt-logd and NTHREADS writers, lets them run for `ms` milliseconds,
 * then stops the server: kill -9 (crash) or SIGTERM (clean stop, which must
 * exit 0). Joins the writers; every answer they saw was expected and more
 * than 100 entries were acknowledged.
 */
static void
run_writers_then_stop(unsigned ms, int crash)
{
	pthread_t th[NTHREADS];
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	reset();
	logd_up(&S, NULL);
	for (intptr_t i = 0; i < NTHREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, writer,
		                     (void *)i),
		    0);
	nanosleep(&ts, NULL);
	if (crash)
		logd_kill9(&S); /* mid-stream: writers are still posting */
	else
		ck_assert_int_eq(logd_stop(&S), 0);
	atomic_store(&stop, 1);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(atomic_load(&bad_answers), 0);
	ck_assert_uint_gt(nacks, 100);
}

/*
 * Fetches all `size` entries of the restarted log, folding their leaf hashes
 * into f, and checks that every checkpoint seen (opened and sorted here) is
 * a prefix of that tree. Returns the entries (base64, each malloc'd).
 */
static char **
fetch_tree(uint64_t size, struct kt_frontier *f)
{
	struct http_resp r;
	size_t c = 0;
	char **entries = calloc(size, sizeof *entries);

	kt_frontier_init(f);
	for (size_t i = 0; i < ncps; i++)
		ck_assert_int_eq(logd_open_checkpoint(&S, cps[i].note,
		                     strlen(cps[i].note), &cps[i].cp),
		    0);
	qsort(cps, ncps, sizeof *cps, cmp_cp);
	while (c < ncps && cps[c].cp.size == 0)
		c++;
	for (uint64_t start = 0; start < size; start += 1000) {
		uint64_t end = start + 1000 < size ? start + 1000 : size;
		char path[128];
		json_t *j, *arr;
		snprintf(path, sizeof path, "/v1/entries?start=%llu&end=%llu",
		    (unsigned long long)start, (unsigned long long)end);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		j = json_loads(r.body, 0, NULL);
		http_resp_free(&r);
		arr = json_object_get(j, "entries");
		ck_assert_uint_eq(json_array_size(arr), end - start);
		for (size_t k = 0; k < end - start; k++) {
			const char *b =
			    json_string_value(json_array_get(arr, k));
			uint8_t ent[KT_UPDATE_LEN + 1];
			long el = logd_b64(b, ent, sizeof ent);
			struct kt_hash leaf, root;
			ck_assert_int_gt(el, 0);
			entries[start + k] = strdup(b);
			kt_hash_leaf(ent, (size_t)el, &leaf);
			ck_assert_int_eq(kt_frontier_append(f, &leaf), KT_OK);
			/* Every checkpoint seen is a prefix of this tree. */
			while (c < ncps && cps[c].cp.size == f->size) {
				kt_frontier_root(f, &root);
				ck_assert_msg(kt_hash_eq(&root,
				                  &cps[c].cp.root),
				    "checkpoint %llu is not a prefix",
				    (unsigned long long)cps[c].cp.size);
				c++;
			}
		}
		json_decref(j);
	}
	ck_assert_uint_eq(c, ncps);
	return entries;
}

/* The server's consistency proofs from the checkpoints seen to `last` (of
 * the given size) agree (every checkpoint seen, or 400 of them spread
 * evenly). */
static void
check_consistency_to(uint64_t size, const struct kt_checkpoint *last)
{
	struct http_resp r;

	for (size_t i = 0; i < ncps; i += ncps / 400 + 1) {
		char path[128];
		struct kt_hash hs[KT_MAX_PROOF];
		json_t *j, *arr;
		snprintf(path, sizeof path,
		    "/v1/proof/consistency?old=%llu&new="
		    "%llu",
		    (unsigned long long)cps[i].cp.size,
		    (unsigned long long)size);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		j = json_loads(r.body, 0, NULL);
		http_resp_free(&r);
		arr = json_object_get(j, "hashes");
		for (size_t k = 0; k < json_array_size(arr); k++)
			ck_assert_int_eq(logd_b64(json_string_value(
			                              json_array_get(arr, k)),
			                     hs[k].b, 32),
			    32);
		ck_assert_int_eq(kt_merkle_verify_consistency(cps[i].cp.size,
		                     size, hs, json_array_size(arr),
		                     &cps[i].cp.root, &last->root),
		    KT_OK);
		json_decref(j);
	}
}

static int
cmp_ack(const void *a, const void *b)
{
	const struct ack *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	if (c != 0)
		return c;
	return x->version < y->version ? -1 : x->version > y->version;
}

/*
 * Every acknowledged label's lookup at the restarted log's checkpoint
 * proves (kt_lookup_verify) its last acknowledged version or a later one
 * (a write the crash cut off before its answer may have committed); its
 * history (chain, inclusion, commitments: check_history) holds every
 * acknowledged version at its index, opening to the acknowledged key.
 * Sorts acks by label and version.
 */
static void
check_labels_prove(void)
{
	struct kt_lookup_proof *p = malloc(sizeof *p);
	size_t labels = 0;

	ck_assert_ptr_nonnull(p);
	qsort(acks, nacks, sizeof *acks, cmp_ack);
	for (size_t i = 0; i < nacks;) {
		size_t end = i;
		const struct ack *last;
		struct kt_lookup_result res;
		struct kt_checkpoint cp;
		struct http_resp r;
		char path[128];
		json_t *j, *vs;

		while (
		    end < nacks && strcmp(acks[end].label, acks[i].label) == 0)
			end++;
		last = &acks[end - 1];
		snprintf(path, sizeof path, "/v1/keys/%s", last->label);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		j = parse(&r);
		http_resp_free(&r);
		open_cp(j, &cp);
		ck_assert_int_eq(logd_check_lookup(&S, jstr(j, "lookup_proof"),
		                     last->label, &cp, p, &res),
		    0);
		ck_assert_uint_ge(res.leaf.version, last->version);
		if (res.leaf.version == last->version) {
			ck_assert_uint_eq(res.leaf.update_index, last->index);
			ck_assert_str_eq(jstr(j, "key"), last->key);
		}
		json_decref(j);
		snprintf(path, sizeof path, "/v1/keys/%s/history", last->label);
		ck_assert_int_eq(logd_get(&S, path, &r), 200);
		j = parse(&r);
		http_resp_free(&r);
		ck_assert_uint_eq(check_history(j, last->label, 1, NULL),
		    res.leaf.version);
		vs = json_object_get(j, "versions");
		for (size_t k = i; k < end; k++) {
			json_t *v = json_array_get(vs, acks[k].version - 1);
			ck_assert_uint_eq(jint(v, "index"), acks[k].index);
			ck_assert_str_eq(jstr(v, "key"), acks[k].key);
		}
		json_decref(j);
		labels++;
		i = end;
	}
	ck_assert_uint_gt(labels, 10);
	free(p);
}

/* Versions continue after the restart: a new key for the last acknowledged
 * label lands at index `size` with a higher version. */
static void
check_versions_continue(uint64_t size)
{
	struct http_resp r;
	char body[256], key[64];
	json_t *j;

	random_key(key, sizeof key);
	snprintf(body, sizeof body,
	    "{\"label\":\"%s\",\"key_type\":"
	    "\"ed25519\",\"key\":\"%s\"}",
	    acks[nacks - 1].label, key);
	ck_assert_int_eq(logd_post(&S, "/v1/keys", body, &r), 200);
	j = json_loads(r.body, 0, NULL);
	http_resp_free(&r);
	ck_assert_uint_eq((uint64_t)json_integer_value(
	                      json_object_get(j, "index")),
	    size);
	ck_assert_uint_gt((uint64_t)json_integer_value(
	                      json_object_get(j, "version")),
	    acks[nacks - 1].version);
	json_decref(j);
}

/*
 * Runs the writers for `ms` milliseconds, then stops the server: kill -9
 * (crash) or SIGTERM (clean stop, which must exit 0 after committing and
 * answering what was queued). Then restarts it and checks everything that
 * was acknowledged.
 */
static void
writes_then_stop(unsigned ms, int crash)
{
	uint64_t size, maxidx = 0;
	char **entries;
	struct kt_frontier f;
	struct kt_checkpoint last;
	struct http_resp r;

	run_writers_then_stop(ms, crash);

	ck_assert_int_eq(logd_start(&S, NULL), 0);
	size = logd_size(&S);
	for (size_t i = 0; i < nacks; i++)
		if (acks[i].index > maxidx)
			maxidx = acks[i].index;
	ck_assert_uint_gt(size, maxidx);

	/* All entries, and the tree they make. */
	entries = fetch_tree(size, &f);
	/* Every acknowledged entry at its acknowledged index. */
	for (size_t i = 0; i < nacks; i++)
		ck_assert_msg(strcmp(entries[acks[i].index], acks[i].entry) ==
		        0,
		    "ack %zu: entry %llu changed", i,
		    (unsigned long long)acks[i].index);
	/* The restarted log's checkpoint is this tree. */
	ck_assert_int_eq(logd_get(&S, "/checkpoint", &r), 200);
	ck_assert_int_eq(logd_open_checkpoint(&S, r.body, r.len, &last), 0);
	http_resp_free(&r);
	ck_assert_uint_eq(last.size, size);
	{
		struct kt_hash root;
		kt_frontier_root(&f, &root);
		ck_assert(kt_hash_eq(&root, &last.root));
	}
	check_consistency_to(size, &last);
	check_labels_prove();
	check_versions_continue(size);
	fprintf(stderr,
	    "%s: %zu acknowledged entries, %zu checkpoints "
	    "seen, tree size %llu after restart\n",
	    crash ? "kill -9" : "SIGTERM", nacks, ncps,
	    (unsigned long long)size);
	for (uint64_t i = 0; i < size; i++)
		free(entries[i]);
	free(entries);
	ck_assert_int_eq(logd_stop(&S), 0);
	logd_cleanup(&S);
}

/* Rounds of kill -9, each on a fresh log: 1 here, $KT_CRASH_ROUNDS in
 * the long run (ops/stress). */
static unsigned
crash_rounds(void)
{
	const char *env = getenv("KT_CRASH_ROUNDS");
	unsigned long n = env != NULL ? strtoul(env, NULL, 10) : 1;

	return n >= 1 && n <= 1000 ? (unsigned)n : 1;
}

START_TEST(test_kill9_during_writes)
{
	unsigned n = crash_rounds();

	for (unsigned i = 0; i < n; i++) {
		if (n > 1)
			fprintf(stderr, "kill -9 round %u of %u\n", i + 1, n);
		writes_then_stop(1200, 1);
	}
}
END_TEST

START_TEST(test_sigterm_during_writes)
{
	writes_then_stop(600, 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd crash");

	kt_test_case(s, "kill9", 120.0 + 30.0 * crash_rounds(),
	    test_kill9_during_writes, test_sigterm_during_writes, NULL);
	/* Threads and a child process: run in this process. */
	return kt_test_run_in_process(s);
}
