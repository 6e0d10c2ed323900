/*
 * check_cli.c: kt-logd's command line with the real binary: usage errors
 * (exit 2), --help (exit 0), keygen (mode 0600, never overwrites, verifier
 * key last), token (hash line), serve's refusals (unsafe key file, another
 * log's folder, anonymous writes off loopback, bad config), writes without
 * tokens, tokens reloaded on SIGHUP, and clean stops on SIGTERM and
 * SIGINT.
 */
#include <check.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/logd.h"
#include "harness/runner.h"

#define KEY_A "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define PUBLISH \
	"{\"label\":\"x\",\"key_type\":\"ed25519\",\"key\":\"" KEY_A "\"}"

static struct logd S;
static char out[8192], err[8192];

/* kt-logd with args; its stdout and stderr in out and err. */
static int
run(const char *const *args)
{
	return logd_run(args, out, sizeof out, err, sizeof err);
}

static void
setup(void)
{
	ck_assert_int_eq(logd_setup(&S, NULL), 0);
}

static void
teardown(void)
{
	logd_down(&S);
}

START_TEST(test_usage)
{
	static const char *const cases[][8] = {
		{ NULL },
		{ "bogus", NULL },
		{ "keygen", NULL },
		{ "keygen", "--origin", "x.example/log", NULL },
		{ "keygen", "--out", "/nonexistent/k", NULL },
		{ "keygen", "--origin", NULL },
		{ "keygen", "--bogus", NULL },
		{ "keygen", "--origin", "a", "--out", "b", "extra", NULL },
		{ "token", "extra", NULL },
		{ "serve", NULL },
		{ "serve", "--bogus", NULL },
		{ "serve", "--key", "k", NULL },
		{ "serve", "--data", "d", NULL },
		{ "serve", "--data", "d", "--key", "k", "--listen", "nocolon",
		    NULL },
		{ "serve", "--data", "d", "--key", "k", "--threads", "0",
		    NULL },
		{ "serve", "--data", "d", "--key", "k", "--config",
		    "/nonexistent/conf", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int st = run(cases[i]);
		ck_assert_msg(st == 2, "case %zu: exit %d, stderr %s", i, st,
		    err);
		ck_assert_msg(strlen(err) > 10, "case %zu: no message", i);
	}
	{
		static const char *const helps[][3] = {
			{ "--help", NULL },
			{ "keygen", "--help", NULL },
			{ "token", "--help", NULL },
			{ "serve", "--help", NULL },
		};
		for (size_t i = 0; i < 4; i++) {
			ck_assert_int_eq(run(helps[i]), 0);
			ck_assert(strstr(out, "usage") != NULL);
		}
	}
	{
		/* serve --help says which flags are required and which are
		 * optional: each optional flag first appears under
		 * "optional", not in the synopsis line as if required. */
		static const char *const help[] = { "serve", "--help", NULL };
		static const char *const required[] = { "--data", "--key" };
		static const char *const optional[] = { "--listen", "--tokens",
			"--config", "--threads", "--allow-anonymous-writes",
			"--witness", "--witness-interval", "--witness-quorum" };
		const char *req, *opt;

		ck_assert_int_eq(run(help), 0);
		req = strstr(out, "\nrequired");
		opt = strstr(out, "\noptional");
		ck_assert_msg(req != NULL && opt != NULL && req < opt,
		    "no required and optional sections: %s", out);
		for (size_t i = 0; i < 2; i++) {
			const char *p = strstr(req, required[i]);
			ck_assert_msg(p != NULL && p < opt, "%s not required",
			    required[i]);
		}
		for (size_t i = 0; i < 8; i++)
			ck_assert_msg(strstr(out, optional[i]) > opt,
			    "%s not under optional", optional[i]);
	}
}
END_TEST

START_TEST(test_keygen)
{
	char path[400], before[512];
	struct stat st;
	struct kt_verifier v;
	FILE *f;
	char *last;

	snprintf(path, sizeof path, "%s/k2.key", S.dir);
	{
		const char *a[] = { "keygen", "--origin", "kt.example/x",
			"--out", path, NULL };
		ck_assert_int_eq(run(a), 0);
	}
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	f = fopen(path, "r");
	ck_assert(f != NULL && fgets(before, sizeof before, f) != NULL);
	fclose(f);
	ck_assert(strncmp(before, "PRIVATE+KEY+kt.example/x+", 25) == 0);
	/* The VRF key beside it, private too, named for the same log. */
	{
		char vpath[420], vline[256];

		snprintf(vpath, sizeof vpath, "%s.vrf", path);
		ck_assert_int_eq(stat(vpath, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
		f = fopen(vpath, "r");
		ck_assert(f != NULL && fgets(vline, sizeof vline, f) != NULL);
		fclose(f);
		ck_assert(
		    strncmp(vline, "PRIVATE+VRF-R255+kt.example/x+", 30) == 0);
		ck_assert(strstr(out, "VRF public key: ") != NULL);
	}
	/* The verifier key is the last stdout line and is never the secret. */
	out[strlen(out) - 1] = '\0';
	last = strrchr(out, '\n');
	last = last ? last + 1 : out;
	ck_assert_int_eq(kt_verifier_parse(last, strlen(last), &v), KT_OK);
	ck_assert_str_eq(v.name, "kt.example/x");
	ck_assert(strstr(out, "PRIVATE") == NULL);
	/* Refuses to overwrite. */
	{
		const char *a[] = { "keygen", "--origin", "kt.example/y",
			"--out", path, NULL };
		char now[512];
		ck_assert_int_eq(run(a), 1);
		ck_assert(strstr(err, "overwrite") != NULL);
		f = fopen(path, "r");
		ck_assert(f != NULL && fgets(now, sizeof now, f) != NULL);
		fclose(f);
		ck_assert_str_eq(now, before);
	}
	/* A bad origin. */
	{
		char p2[400];
		const char *a[] = { "keygen", "--origin", "has space", "--out",
			p2, NULL };
		snprintf(p2, sizeof p2, "%s/k3.key", S.dir);
		ck_assert_int_eq(run(a), 1);
		ck_assert_int_ne(access(p2, F_OK), 0);
	}
}
END_TEST

START_TEST(test_token)
{
	const char *a[] = { "token", NULL };
	char tok[128], line[128], want[128];
	uint8_t h[32];

	ck_assert_int_eq(run(a), 0);
	ck_assert_int_eq(sscanf(out, "%127s %127s", tok, line), 2);
	ck_assert_uint_ge(strlen(tok), 32);
	crypto_hash_sha256(h, (const uint8_t *)tok, strlen(tok));
	strcpy(want, "sha256:");
	sodium_bin2hex(want + 7, sizeof want - 7, h, 32);
	ck_assert_str_eq(line, want);
	/* Two tokens differ. */
	{
		char tok2[128];
		ck_assert_int_eq(run(a), 0);
		ck_assert_int_eq(sscanf(out, "%127s", tok2), 1);
		ck_assert_str_ne(tok, tok2);
	}
	/* --check reads a tokens file as a reload would. */
	{
		const char *c[] = { "token", "--check", S.tokens, NULL };
		const char *c2[] = { "token", "--check", NULL };
		FILE *f = fopen(S.tokens, "w");
		ck_assert(f != NULL);
		fprintf(f, "# one\n%s\n", line);
		ck_assert_int_eq(fclose(f), 0);
		ck_assert_int_eq(chmod(S.tokens, 0600), 0);
		ck_assert_int_eq(run(c), 0);
		ck_assert(strstr(out, "1 token(s)") != NULL);
		ck_assert_int_eq(chmod(S.tokens, 0666), 0);
		ck_assert_int_eq(run(c), 1);
		ck_assert(strstr(err, "writable by group or others") != NULL);
		f = fopen(S.tokens, "w");
		ck_assert(f != NULL);
		fprintf(f, "sha256:nothex\n");
		ck_assert_int_eq(fclose(f), 0);
		ck_assert_int_eq(chmod(S.tokens, 0600), 0);
		ck_assert_int_eq(run(c), 1);
		ck_assert(strstr(err, ":1:") != NULL);
		ck_assert_int_eq(run(c2), 2);
	}
}
END_TEST

static int
serve_status(const char *const *extra)
{
	const char *a[24] = { "serve", "--data", S.data, "--key", S.key,
		"--listen", "127.0.0.1:0" };
	size_t n = 7;
	for (size_t i = 0; extra[i] != NULL; i++)
		a[n++] = extra[i];
	a[n] = NULL;
	return run(a);
}

START_TEST(test_serve_refusals)
{
	/* Key readable by the group. */
	ck_assert_int_eq(chmod(S.key, 0640), 0);
	{
		const char *x[] = { "--tokens", S.tokens, NULL };
		ck_assert_int_eq(serve_status(x), 1);
		ck_assert_msg(strstr(err, "chmod 600") != NULL, "%s", err);
	}
	ck_assert_int_eq(chmod(S.key, 0600), 0);
	/* Anonymous writes only on loopback, and not with tokens. */
	{
		const char *a[] = { "serve", "--data", S.data, "--key", S.key,
			"--listen", "0.0.0.0:0", "--allow-anonymous-writes",
			NULL };
		ck_assert_int_eq(run(a), 2);
		ck_assert(strstr(err, "loopback") != NULL);
	}
	{
		const char *x[] = { "--tokens", S.tokens,
			"--allow-anonymous-writes", NULL };
		ck_assert_int_eq(serve_status(x), 2);
	}
	/* A bad config value names the setting. */
	{
		FILE *f = fopen(S.conf, "w");
		const char *x[] = { "--config", S.conf, NULL };
		fputs("# comment\nmax_batch = lots\n", f);
		fclose(f);
		ck_assert_int_eq(serve_status(x), 2);
		ck_assert(strstr(err, "max_batch") != NULL);
		f = fopen(S.conf, "w");
		fputs("no_such_setting = 1\n", f);
		fclose(f);
		ck_assert_int_eq(serve_status(x), 2);
		f = fopen(S.conf, "w");
		fputs("max_batch = 10 # inline comments are not allowed\n", f);
		fclose(f);
		ck_assert_int_eq(serve_status(x), 2);
		f = fopen(S.conf, "w");
		fputs("  # fine\n\nmax_batch = 10\nthreads=1\n", f);
		fclose(f);
	}
	/* A tokens file with a bad line, or writable by others. */
	{
		char bad[400];
		const char *x[] = { "--tokens", bad, NULL };
		FILE *f;
		snprintf(bad, sizeof bad, "%s/badtokens", S.dir);
		f = fopen(bad, "w");
		fputs("sha256:xyz\n", f);
		fclose(f);
		ck_assert_int_eq(serve_status(x), 1);
		ck_assert_int_eq(chmod(S.tokens, 0666), 0);
		x[1] = S.tokens;
		ck_assert_int_eq(serve_status(x), 1);
		ck_assert_int_eq(chmod(S.tokens, 0600), 0);
	}
	/* A folder of another log is refused. */
	{
		struct logd other;
		ck_assert_int_eq(logd_start(&S, NULL), 0);
		ck_assert_int_eq(logd_stop(&S), 0);
		ck_assert_int_eq(logd_setup(&other, NULL), 0);
		const char *a[] = { "serve", "--data", S.data, "--key",
			other.key, "--listen", "127.0.0.1:0", NULL };
		ck_assert_int_eq(run(a), 1);
		ck_assert(strlen(err) > 10);
		logd_cleanup(&other);
	}
}
END_TEST

/*
 * A FIFO (or other special file) given as the key or the tokens file is
 * refused at once: opening it for reading must not block kt-logd, which
 * at that point already ignores SIGTERM (the stop signals are blocked for
 * sigwait), so a hang could only be ended with SIGKILL.
 */
START_TEST(test_serve_refuses_fifo)
{
	char fifo[400];

	snprintf(fifo, sizeof fifo, "%s/fifo", S.dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	{
		const char *a[] = { "serve", "--data", S.data, "--key", fifo,
			"--listen", "127.0.0.1:0", "--tokens", S.tokens, NULL };
		ck_assert_int_eq(run(a), 1);
		ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s",
		    err);
	}
	{
		const char *x[] = { "--tokens", fifo, NULL };
		ck_assert_int_eq(serve_status(x), 1);
		ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s",
		    err);
	}
}
END_TEST

START_TEST(test_writes_without_tokens)
{
	struct http_resp r;
	char url[128];

	/* No --tokens: writes are refused, reads work. */
	{
		const char *x[] = { NULL };
		ck_assert_int_eq(logd_start(&S, x), 0);
	}
	snprintf(url, sizeof url, "%s/v1/keys", S.url);
	ck_assert_int_eq(http_request(NULL, "POST", url, NULL, NULL, PUBLISH,
	                     strlen(PUBLISH), &r),
	    0);
	ck_assert_int_eq(r.status, 403);
	ck_assert(strstr(r.body, "--tokens") != NULL);
	http_resp_free(&r);
	ck_assert_int_eq(http_request(NULL, "POST", url, "anything", NULL,
	                     PUBLISH, strlen(PUBLISH), &r),
	    0);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);
	/* Erasure is a write too. */
	snprintf(url, sizeof url, "%s/v1/keys/alice/openings", S.url);
	ck_assert_int_eq(http_request(NULL, "DELETE", url, "anything", NULL,
	                     NULL, 0, &r),
	    0);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);
	snprintf(url, sizeof url, "%s/v1/keys", S.url);
	ck_assert_uint_eq(logd_size(&S), 1); /* the empty map's head only */
	ck_assert_int_eq(logd_stop(&S), 0);

	/* Explicit anonymous writes on loopback. */
	{
		const char *x[] = { "--allow-anonymous-writes", NULL };
		ck_assert_int_eq(logd_start(&S, x), 0);
	}
	snprintf(url, sizeof url, "%s/v1/keys", S.url);
	ck_assert_int_eq(http_request(NULL, "POST", url, NULL, NULL, PUBLISH,
	                     strlen(PUBLISH), &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	ck_assert_uint_eq(logd_size(&S), 3); /* an update and its map head */
	/* Without a tokens file SIGHUP reloads nothing, and must not kill
	 * the log. */
	kill(S.pid, SIGHUP);
	ck_assert_uint_eq(logd_size(&S), 3);
	ck_assert_int_eq(logd_get(&S, "/healthz", &r), 200);
	http_resp_free(&r);
	/* SIGINT stops cleanly too. */
	kill(S.pid, SIGINT);
	{
		int st;
		ck_assert_int_eq(waitpid(S.pid, &st, 0), S.pid);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		S.pid = 0;
	}
	/* Structured logs: one JSON object per line on stderr. */
	{
		FILE *f = fopen(S.log, "r");
		char line[4096];
		int n = 0, stopped = 0, hup = 0;
		ck_assert(f != NULL);
		while (fgets(line, sizeof line, f) != NULL) {
			json_t *j = json_loads(line, 0, NULL);
			ck_assert_msg(j != NULL, "not JSON: %s", line);
			ck_assert(json_is_string(json_object_get(j, "event")));
			ck_assert(json_is_string(json_object_get(j, "ts")));
			if (strcmp(json_string_value(
			               json_object_get(j, "event")),
			        "stopped") == 0)
				stopped = 1;
			if (strcmp(json_string_value(
			               json_object_get(j, "event")),
			        "sighup_ignored") == 0)
				hup = 1;
			ck_assert(strstr(line, "PRIVATE") == NULL);
			json_decref(j);
			n++;
		}
		fclose(f);
		ck_assert_int_ge(n, 4);
		ck_assert(stopped);
		ck_assert(hup);
	}
}
END_TEST
/* The status of a publication with this bearer token. */
static long
post_as(const char *token)
{
	struct http_resp r;
	char url[128];
	long st;

	snprintf(url, sizeof url, "%s/v1/keys", S.url);
	ck_assert_int_eq(http_request(NULL, "POST", url, token, NULL, PUBLISH,
	                     strlen(PUBLISH), &r),
	    0);
	st = r.status;
	http_resp_free(&r);
	return st;
}

/* How many log lines of kt-logd name this event. */
static int
log_events(const char *event)
{
	char line[4096], want[96];
	int n = 0;
	FILE *f = fopen(S.log, "r");

	if (f == NULL)
		return 0;
	snprintf(want, sizeof want, "\"event\":\"%s\"", event);
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, want) != NULL;
	fclose(f);
	return n;
}

/* Sends SIGHUP and waits (10 s at most) until the reload it causes is
 * logged: one more tokens_reloaded or tokens_reload_failed line. */
static void
hup(void)
{
	int before =
	    log_events("tokens_reloaded") + log_events("tokens_reload_failed");

	kill(S.pid, SIGHUP);
	for (int i = 0; i < 500; i++) {
		if (log_events("tokens_reloaded") +
		        log_events("tokens_reload_failed") >
		    before)
			return;
		usleep(20000);
	}
	ck_abort_msg("kt-logd did not log the reload");
}

/* The value of one /metrics series, or -1. */
static long
metric(const char *name)
{
	struct http_resp r;
	char want[96];
	const char *p;
	long v = -1;

	ck_assert_int_eq(logd_get(&S, "/metrics", &r), 200);
	snprintf(want, sizeof want, "\n%s ", name);
	if ((p = strstr(r.body, want)) != NULL)
		v = strtol(p + strlen(want), NULL, 10);
	http_resp_free(&r);
	return v;
}

static void
put_tokens(const char *text, mode_t mode)
{
	FILE *f = fopen(S.tokens, "w");
	ck_assert(f != NULL);
	ck_assert(fputs(text, f) >= 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(S.tokens, mode), 0);
}

START_TEST(test_token_reload)
{
	static const char tok_b[] = "reload-test-token-b";
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex_a[2 * sizeof h + 1], hex_b[2 * sizeof h + 1], text[256];

	crypto_hash_sha256(h, (const uint8_t *)S.token, strlen(S.token));
	sodium_bin2hex(hex_a, sizeof hex_a, h, sizeof h);
	crypto_hash_sha256(h, (const uint8_t *)tok_b, strlen(tok_b));
	sodium_bin2hex(hex_b, sizeof hex_b, h, sizeof h);
	ck_assert_int_eq(logd_start(&S, NULL), 0);
	ck_assert_int_eq(post_as(S.token), 200);
	ck_assert_int_eq(post_as(tok_b), 401);
	ck_assert_int_eq(metric("kt_tokens"), 1);

	/* Replace token A by token B: A is revoked, B works. */
	snprintf(text, sizeof text, "# rotated\nsha256:%s\n", hex_b);
	put_tokens(text, 0600);
	hup();
	ck_assert_int_eq(post_as(S.token), 401);
	ck_assert_int_eq(post_as(tok_b), 200);
	ck_assert_int_eq(metric("kt_tokens_reload_ok"), 1);

	/* A broken file changes nothing, and says so. */
	put_tokens("sha256:not-hex\n", 0600);
	hup();
	ck_assert_int_eq(post_as(tok_b), 200);
	ck_assert_int_eq(post_as(S.token), 401);
	ck_assert_int_eq(metric("kt_tokens_reload_ok"), 0);

	/* Nor does a file others may write, even if it names token A. */
	snprintf(text, sizeof text, "sha256:%s\n", hex_a);
	put_tokens(text, 0666);
	hup();
	ck_assert_int_eq(post_as(S.token), 401);
	ck_assert_int_eq(post_as(tok_b), 200);

	/* Nor a missing file. */
	ck_assert_int_eq(unlink(S.tokens), 0);
	hup();
	ck_assert_int_eq(post_as(tok_b), 200);
	ck_assert_int_eq(log_events("tokens_reload_failed"), 3);

	/* No token line left: every token is revoked, reads go on. */
	put_tokens("# nobody may write\n", 0600);
	hup();
	ck_assert_int_eq(post_as(tok_b), 401);
	ck_assert_int_eq(post_as(S.token), 401);
	ck_assert_int_eq(metric("kt_tokens"), 0);
	ck_assert_int_eq(metric("kt_tokens_reload_ok"), 1);
	{
		struct http_resp r;
		ck_assert_int_eq(logd_get(&S, "/healthz", &r), 200);
		http_resp_free(&r);
	}

	/* Such a log still starts again (and warns), writes refused. */
	ck_assert_int_eq(logd_stop(&S), 0);
	ck_assert_int_eq(logd_start(&S, NULL), 0);
	ck_assert_int_eq(post_as(tok_b), 401);
	ck_assert_int_ge(log_events("no_tokens"), 1);
	ck_assert_int_eq(log_events("tokens_reloaded"), 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd cli");

	kt_test_fixture_case(s, "cli", 60, setup, teardown, test_usage,
	    test_keygen, test_token, test_serve_refusals,
	    test_serve_refuses_fifo, test_writes_without_tokens,
	    test_token_reload, NULL);
	return kt_test_run(s);
}
