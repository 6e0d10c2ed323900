/*
 * check_full.c: kt-logd when its storage is full, end to end. The data
 * file is capped small (max_db_size), which fills LMDB's map without
 * needing a small filesystem: writes then get 503 with Retry-After and a
 * JSON error that says so, /healthz answers 503 naming the reason and
 * /metrics has kt_writable 0 and kt_no_space 1, failed batches are logged
 * a line per ten seconds at most, nothing acknowledged is lost, and
 * writes resume by themselves when a commit fits again (a smaller one
 * here, more space in life) and after a restart with a larger limit.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/logd.h"
#include "harness/proc.h"
#include "harness/runner.h"
#include "harness/tmpdir.h"

#define KEY_A "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define BATCH 50

static const char small[] = "max_db_size = 2097152\n"
                            "max_batch = 100\n";

static struct logd S;

static void
setup(void)
{
	logd_up(&S, small);
}

static void
teardown(void)
{
	logd_down(&S);
}

/* A batch of BATCH publications of distinct 4 KiB keys; status in r. */
static long
big_batch(int round, struct http_resp *r)
{
	static char body[BATCH * 6000 + 64];
	uint8_t raw[4096];
	char key[5600], url[128];
	char *p = body + sprintf(body, "{\"entries\":[");

	for (int i = 0; i < BATCH; i++) {
		memset(raw, 0, sizeof raw);
		memcpy(raw, &round, sizeof round);
		memcpy(raw + sizeof round, &i, sizeof i);
		sodium_bin2base64(key, sizeof key, raw, sizeof raw,
		    sodium_base64_VARIANT_ORIGINAL);
		p += sprintf(p,
		    "%s{\"label\":\"full-%d-%d\",\"key_type\":\"other\","
		    "\"key\":\"%s\"}",
		    i ? "," : "", round, i, key);
	}
	sprintf(p, "]}");
	snprintf(url, sizeof url, "%s/v1/keys:batch", S.url);
	(void)http_request(NULL, "POST", url, S.token, NULL, body, strlen(body),
	    r);
	return r->status;
}

static long
small_write(int i)
{
	struct http_resp r;
	char body[256];
	long st;

	snprintf(body, sizeof body,
	    "{\"label\":\"small-%d\",\"key_type\":\"ed25519\",\"key\":\"%s\"}",
	    i, KEY_A);
	st = logd_post(&S, "/v1/keys", body, &r);
	http_resp_free(&r);
	return st;
}

/*
 * The first and last label of each of the `rounds` acknowledged batches
 * are proved present (version 1) by a verified lookup; the first label of
 * the refused batch is proved absent.
 */
static void
check_rounds_prove(int rounds)
{
	struct kt_lookup_proof *p = malloc(sizeof *p);
	struct kt_lookup_result res;
	struct kt_checkpoint cp;
	char label[64];

	ck_assert_ptr_nonnull(p);
	for (int round = 0; round < rounds; round++)
		for (int i = 0; i < BATCH; i += BATCH - 1) {
			snprintf(label, sizeof label, "full-%d-%d", round, i);
			ck_assert_int_eq(logd_lookup(&S, label, &cp, p, &res),
			    200);
			ck_assert_uint_eq(res.leaf.version, 1);
		}
	snprintf(label, sizeof label, "full-%d-0", rounds);
	ck_assert_int_eq(logd_lookup(&S, label, &cp, p, &res), 404);
	free(p);
}

/* The /metrics line of name, as its value; -1 if it is not there. */
static long
metric(const char *name)
{
	struct http_resp r;
	char pat[64];
	const char *p;
	long v = -1;

	snprintf(pat, sizeof pat, "\n%s ", name);
	if (logd_get(&S, "/metrics", &r) == 200 &&
	    (p = strstr(r.body, pat)) != NULL)
		v = strtol(p + strlen(pat), NULL, 10);
	http_resp_free(&r);
	return v;
}

/* The tree size /healthz reports, whatever its status. */
static uint64_t
size_now(void)
{
	struct http_resp r;
	const char *p;
	uint64_t size = UINT64_MAX;

	(void)logd_get(&S, "/healthz", &r);
	if ((p = strstr(r.body, "\"size\":")) != NULL)
		size = strtoull(p + 7, NULL, 10);
	http_resp_free(&r);
	return size;
}

static int
log_lines(const char *event)
{
	char pat[64], line[4096];
	int n = 0;
	FILE *f = fopen(S.log, "r");

	if (f == NULL)
		return -1;
	snprintf(pat, sizeof pat, "\"event\":\"%s\"", event);
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, pat) != NULL;
	fclose(f);
	return n;
}

START_TEST(test_map_full)
{
	struct http_resp r;
	uint64_t acked = 0;
	int round, resumed = 0;

	/* Fill it until a batch no longer fits. */
	for (round = 0; round < 60; round++) {
		long st = big_batch(round, &r);
		if (st != 200)
			break;
		acked += BATCH;
		http_resp_free(&r);
	}
	ck_assert_msg(r.status == 503, "status %ld after %d batches: %s",
	    r.status, round, r.body);
	ck_assert_int_ge(atoi(r.retry_after), 1);
	ck_assert_ptr_nonnull(strstr(r.body, "{\"error\":\"no space left"));
	ck_assert_ptr_nonnull(strstr(r.body, "max_db_size"));
	http_resp_free(&r);
	fprintf(stderr, "map full: %llu entries in 2 MiB, then 503\n",
	    (unsigned long long)acked);

	/* The operator's view says why. */
	ck_assert_int_eq(logd_get(&S, "/healthz", &r), 503);
	ck_assert_ptr_nonnull(strstr(r.body, "\"writes failing\""));
	ck_assert_ptr_nonnull(strstr(r.body, "no space left"));
	http_resp_free(&r);
	ck_assert_int_eq(metric("kt_writable"), 0);
	ck_assert_int_eq(metric("kt_no_space"), 1);

	/* Many more failures: their log lines are few. */
	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(big_batch(1000 + i, &r), 503);
		http_resp_free(&r);
	}
	ck_assert_int_ge(metric("kt_failed_batches_total"), 21);
	ck_assert_int_le(log_lines("batch_failed"), 2);
	ck_assert_int_eq(log_lines("request"), 0);
	ck_assert_int_eq(log_lines("write_failed"), 0);
	/* Nothing acknowledged was lost, nothing refused was written: the
	 * updates are the acknowledged ones, and their lookups prove them. */
	ck_assert_uint_eq(logd_count_updates(&S, size_now()), acked);
	check_rounds_prove(round);

	/* A commit that fits (here a small one) clears it by itself. */
	for (int i = 0; i < 20 && !resumed; i++)
		if (small_write(i) == 200) {
			acked++;
			resumed = 1;
		}
	ck_assert_msg(resumed, "no small write fitted");
	ck_assert_int_eq(logd_get(&S, "/healthz", &r), 200);
	http_resp_free(&r);
	ck_assert_int_eq(metric("kt_writable"), 1);
	ck_assert_int_eq(metric("kt_no_space"), 0);
	ck_assert_int_eq(log_lines("writes_resumed"), 1);

	/* A larger limit after a restart: big batches fit again. */
	ck_assert_int_eq(logd_stop(&S), 0);
	ck_assert_int_eq(tmpdir_write_file(S.conf,
	                     "max_db_size = 8388608\nmax_batch = 100\n", 0600),
	    0);
	ck_assert_int_eq(logd_start(&S, NULL), 0);
	ck_assert_uint_eq(logd_count_updates(&S, logd_size(&S)), acked);
	ck_assert_int_eq(big_batch(2000, &r), 200);
	http_resp_free(&r);
	ck_assert_uint_eq(logd_count_updates(&S, logd_size(&S)), acked + BATCH);
	check_rounds_prove(round);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd with full storage");

	kt_test_fixture_case(s, "map_full", 120, setup, teardown, test_map_full,
	    NULL);
	return kt_test_run(s);
}
