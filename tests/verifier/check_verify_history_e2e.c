/*
 * check_verify_history_e2e.c: the real kt-verify against the real kt-logd
 * when a label's history is longer than one page. kt-logd runs with
 * page_size = 3 on a temporary folder and a free loopback port (the
 * harness of tests/logserver/e2e.h, which always stops it); a label gets
 * 8 versions, so GET /v1/keys/{label}/history answers in three pages
 * ("next": 4, then 7) and `kt-verify lookup` must follow them all.
 * Binaries: $KT_LOGD and $KT_VERIFY.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <sodium.h>

#include "kt/verify.h"
#include "../logserver/e2e.h"

#define LABEL "alice@e2e.example"
#define NVERSIONS 8

static struct e2e_server S;

static void
setup(void)
{
	ck_assert_int_eq(e2e_setup(&S, "page_size = 3\n"), 0);
	ck_assert_int_eq(e2e_start(&S, NULL), 0);
}

static void
teardown(void)
{
	/* A clean stop (SIGTERM: exit 0) also means no sanitizer report. */
	int st = e2e_stop(&S);
	e2e_cleanup(&S);
	ck_assert_msg(st == 0 || st == -1, "kt-logd exited with %d", st);
}

/* Runs $KT_VERIFY --state state --json args...; stdout (a JSON object) is
 * parsed into *out (NULL if it was not JSON). Returns the exit status. */
static int
kv(const char *state, const char *const *args, json_t **out)
{
	const char *argv[16];
	char buf[1 << 16];
	size_t n = 0, len = 0;
	int po[2], status;
	ssize_t got;
	pid_t pid;

	argv[n++] = getenv("KT_VERIFY") ? getenv("KT_VERIFY") : "kt-verify";
	argv[n++] = "--state";
	argv[n++] = state;
	argv[n++] = "--json";
	for (size_t i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	*out = NULL;
	ck_assert_int_eq(pipe(po), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		dup2(po[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		close(po[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	while (len < sizeof(buf) - 1 &&
	    (got = read(po[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)got;
	buf[len] = '\0';
	close(po[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*out = json_loads(buf, 0, NULL);
	if (*out == NULL)
		fprintf(stderr, "kt-verify %s: not JSON: %s\n", args[0], buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256;
}

static void
publish(struct e2e_server *s, const uint8_t key[32])
{
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	char body[256];
	struct e2e_resp r;

	sodium_bin2base64(b64, sizeof(b64), key, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(body, sizeof(body), "{\"label\":\"%s\",\"key_type\":"
	    "\"ed25519\",\"key\":\"%s\"}", LABEL, b64);
	ck_assert_int_eq(e2e_post(s, "/v1/keys", body, &r), 200);
	e2e_resp_free(&r);
}

/* The "next" of GET history?from=from, or 0 when the answer has none. */
static json_int_t
history_next(struct e2e_server *s, int from)
{
	char path[128];
	struct e2e_resp r;
	json_t *o;
	json_int_t next;

	snprintf(path, sizeof(path), "/v1/keys/alice%%40e2e.example/history"
	    "?from=%d", from);
	ck_assert_int_eq(e2e_get(s, path, &r), 200);
	o = json_loads(r.body, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_le(json_array_size(json_object_get(o, "versions")), 3);
	next = json_integer_value(json_object_get(o, "next"));
	json_decref(o);
	e2e_resp_free(&r);
	return next;
}

START_TEST(test_lookup_paged_history)
{
	struct e2e_server *s = &S;
	char state[sizeof(S.dir) + 8];
	uint8_t key[NVERSIONS][32];
	json_t *o, *ch;
	const char *init[] = { "init", "--log", NULL, "--key", NULL, NULL };
	const char *lookup[] = { "lookup", LABEL, NULL };
	const char *accept[] = { "lookup", LABEL, "--accept", NULL };

	snprintf(state, sizeof(state), "%.255s/verify", s->dir);
	init[2] = s->url;
	init[4] = s->vkey;
	ck_assert_int_eq(kv(state, init, &o), 0);
	json_decref(o);

	/* Version 1 is pinned on first use. */
	for (int i = 0; i < NVERSIONS; i++)
		randombytes_buf(key[i], sizeof(key[i]));
	publish(s, key[0]);
	ck_assert_int_eq(kv(state, lookup, &o), 0);
	ck_assert(json_is_true(json_object_get(o, "pinned")));
	json_decref(o);

	/* Seven rotations: the history no longer fits one page. */
	for (int i = 1; i < NVERSIONS; i++)
		publish(s, key[i]);
	ck_assert_int_eq(history_next(s, 1), 4);
	ck_assert_int_eq(history_next(s, 4), 7);
	ck_assert_int_eq(history_next(s, 7), 0);

	ck_assert_int_eq(kv(state, lookup, &o), KT_VERIFY_KEY_CHANGED);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o,
	    "entry"), "version")), NVERSIONS);
	ch = json_object_get(o, "changes");
	ck_assert_uint_eq(json_array_size(ch), NVERSIONS - 1);
	for (size_t i = 0; i < json_array_size(ch); i++) {
		json_t *c = json_array_get(ch, i);
		char b64[sodium_base64_ENCODED_LEN(32,
		    sodium_base64_VARIANT_ORIGINAL)];

		sodium_bin2base64(b64, sizeof(b64), key[i + 1], 32,
		    sodium_base64_VARIANT_ORIGINAL);
		ck_assert_int_eq(json_integer_value(json_object_get(c,
		    "version")), (json_int_t)i + 2);
		ck_assert_str_eq(json_string_value(json_object_get(c, "key")),
		    b64);
	}
	json_decref(o);

	ck_assert_int_eq(kv(state, accept, &o), 0);
	ck_assert(json_is_true(json_object_get(o, "pinned")));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "changes")),
	    NVERSIONS - 1);
	json_decref(o);
	ck_assert_int_eq(kv(state, lookup, &o), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(o,
	    "entry"), "version")), NVERSIONS);
	json_decref(o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("verify_history_e2e");
	TCase *tc = tcase_create("kt_verify_lookup_paged");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lookup_paged_history);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
