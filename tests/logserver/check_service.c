/*
 * check_service.c: units of kt-logd's service layer that need no server:
 * config parsing and checks, bearer tokens, the key file, metrics
 * rendering and the kt_err -> HTTP status table.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "http/api.h"
#include "config.h"
#include "keyfile.h"
#include "metrics.h"
#include "token.h"

static char dir[256];
static char err[1024];

static void
mkdir_tmp(void)
{
	ck_assert_int_eq(tmpdir_make("kt-svc", dir, sizeof dir), 0);
}

static void
rm_tmp(void)
{
	ck_assert_int_eq(tmpdir_remove(dir), 0);
}

static void
write_file(const char *name, const char *text, mode_t mode, char *path,
    size_t cap)
{
	FILE *f;
	snprintf(path, cap, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(test_kt_config_set)
{
	struct kt_config c;

	kt_config_defaults(&c);
	ck_assert_uint_eq(c.limits.max_batch, 1000);
	ck_assert_uint_eq(c.limits.page_size, 1000);
	ck_assert_uint_eq(c.threads, 2);
	ck_assert_int_eq(kt_config_set(&c, "max_batch", "10", err, sizeof err),
	    KT_OK);
	ck_assert_uint_eq(c.limits.max_batch, 10);
	ck_assert_int_eq(kt_config_set(&c, "max_batch", "0", err, sizeof err),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_config_set(&c, "max_batch", "-1", err, sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_set(&c, "max_batch", "1e3", err,
	    sizeof err), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_set(&c, "max_batch",
	    "99999999999999999999999", err, sizeof err), KT_ERR_RANGE);
	ck_assert(strstr(err, "max_batch") != NULL);
	ck_assert_int_eq(kt_config_set(&c, "max_label", "256", err,
	    sizeof err), KT_ERR_RANGE);
	ck_assert_int_eq(kt_config_set(&c, "max_key", "4097", err, sizeof err),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_config_set(&c, "nope", "1", err, sizeof err),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(kt_config_set(&c, "allow_anonymous_writes", "yes",
	    err, sizeof err), KT_OK);
	ck_assert_int_eq(c.allow_anonymous_writes, 1);
	ck_assert_int_eq(kt_config_set(&c, "allow_anonymous_writes", "maybe",
	    err, sizeof err), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_set(&c, "data", "", err, sizeof err),
	    KT_ERR_MALFORMED);
}
END_TEST

START_TEST(test_kt_config_load)
{
	struct kt_config c;
	char path[400];

	mkdir_tmp();
	kt_config_defaults(&c);
	write_file("a.conf", "# comment\n\n  page_size = 7  \nlisten=[::1]:0\n"
	    "data = /x y/z\n", 0600, path, sizeof path);
	ck_assert_int_eq(kt_config_load(&c, path, err, sizeof err), KT_OK);
	ck_assert_uint_eq(c.limits.page_size, 7);
	ck_assert_str_eq(c.listen, "[::1]:0");
	ck_assert_str_eq(c.data, "/x y/z");
	write_file("b.conf", "page_size\n", 0600, path, sizeof path);
	ck_assert_int_eq(kt_config_load(&c, path, err, sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert(strstr(err, ":1:") != NULL);
	write_file("c.conf", "threads = 2\nthreads = x\n", 0600, path,
	    sizeof path);
	ck_assert_int_eq(kt_config_load(&c, path, err, sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert(strstr(err, ":2:") != NULL);
	snprintf(path, sizeof path, "%s/missing", dir);
	ck_assert_int_eq(kt_config_load(&c, path, err, sizeof err),
	    KT_ERR_NOT_FOUND);
	rm_tmp();

	/* The shipped example loads, passes the start-up checks, and says
	 * the defaults it claims to show. */
	{
		const char *ex = getenv("KT_CONF_EXAMPLE");
		struct kt_config d;
		ck_assert_msg(ex != NULL, "KT_CONF_EXAMPLE is not set");
		kt_config_defaults(&c);
		kt_config_defaults(&d);
		ck_assert_msg(kt_config_load(&c, ex, err, sizeof err) == KT_OK,
		    "%s", err);
		ck_assert_msg(kt_config_check(&c, err, sizeof err) == KT_OK,
		    "%s", err);
		ck_assert_uint_eq(c.limits.max_body, d.limits.max_body);
		ck_assert_uint_eq(c.limits.max_batch, d.limits.max_batch);
		ck_assert_uint_eq(c.limits.page_size, d.limits.page_size);
		ck_assert_uint_eq(c.seq_max_batch, d.seq_max_batch);
		ck_assert_uint_eq(c.seq_max_queue, d.seq_max_queue);
		ck_assert_uint_eq(c.threads, d.threads);
		ck_assert_uint_eq(c.witness_quorum, d.witness_quorum);
		ck_assert_uint_eq(c.witness_interval_ms,
		    d.witness_interval_ms);
		ck_assert_uint_eq(c.nwitnesses, 0);
	}
}
END_TEST

START_TEST(test_kt_config_check)
{
	struct kt_config c;
	char host[256];
	uint16_t port;

	ck_assert_int_eq(kt_config_split_listen("127.0.0.1:8080", host,
	    sizeof host, &port), KT_OK);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 8080);
	ck_assert_int_eq(kt_config_split_listen("[::1]:0", host, sizeof host,
	    &port), KT_OK);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(kt_config_split_listen("::1:80", host, sizeof host,
	    &port), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen("h:", host, sizeof host,
	    &port), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen(":80", host, sizeof host,
	    &port), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen("h:65536", host, sizeof host,
	    &port), KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen("[::1]80", host, sizeof host,
	    &port), KT_ERR_MALFORMED);
	ck_assert(kt_config_host_is_loopback("127.0.0.1"));
	ck_assert(kt_config_host_is_loopback("127.5.6.7"));
	ck_assert(kt_config_host_is_loopback("::1"));
	ck_assert(kt_config_host_is_loopback("localhost"));
	ck_assert(!kt_config_host_is_loopback("0.0.0.0"));
	ck_assert(!kt_config_host_is_loopback("::"));
	ck_assert(!kt_config_host_is_loopback("10.0.0.1"));

	kt_config_defaults(&c);
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err),
	    KT_ERR_MALFORMED);   /* no data folder */
	strcpy(c.data, "/d");
	strcpy(c.key, "/k");
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_OK);
	c.allow_anonymous_writes = 1;
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_OK);
	strcpy(c.listen, "0.0.0.0:8080");
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_ERR_PERM);
	strcpy(c.listen, "127.0.0.1:8080");
	strcpy(c.tokens, "/t");
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err),
	    KT_ERR_MALFORMED);
	c.allow_anonymous_writes = 0;
	c.seq_max_batch = 10;
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_ERR_RANGE);

	/* A witness quorum the witnesses given cannot meet. */
	kt_config_defaults(&c);
	strcpy(c.data, "/d");
	strcpy(c.key, "/k");
	c.witness_quorum = 2;
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_OK);
	ck_assert_int_eq(kt_config_set(&c, "witness", "http://127.0.0.1:1="
	    "w1.example+085eb085+BMcKtUoJAcRjLZcRyaEd40IZJ96W6RXqNWdRaIzTRgiX",
	    err, sizeof err), KT_OK);
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_ERR_RANGE);
	ck_assert(strstr(err, "witness_quorum (2)") != NULL);
	c.witness_quorum = 1;
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_OK);
}
END_TEST

START_TEST(test_kt_tokens)
{
	char tok[KT_TOKEN_LEN + 1], line[KT_TOKEN_LINE_LEN + 1];
	char tok2[KT_TOKEN_LEN + 1], line2[KT_TOKEN_LINE_LEN + 1];
	char text[512], path[400], again[KT_TOKEN_LINE_LEN + 1];
	struct kt_tokens *t = NULL;
	const char *p;
	size_t n;

	mkdir_tmp();
	kt_token_new(tok, line);
	kt_token_new(tok2, line2);
	ck_assert_uint_eq(strlen(tok), KT_TOKEN_LEN);
	ck_assert_str_ne(tok, tok2);
	kt_token_line(tok, strlen(tok), again);
	ck_assert_str_eq(again, line);
	snprintf(text, sizeof text, "# writers\n\n%s\n%s  \r\n", line, line2);
	write_file("tokens", text, 0600, path, sizeof path);
	ck_assert_int_eq(kt_tokens_load(path, 0, &t, err, sizeof err), KT_OK);
	ck_assert_uint_eq(kt_tokens_count(t), 2);
	ck_assert(kt_tokens_check(t, tok, strlen(tok)));
	ck_assert(kt_tokens_check(t, tok2, strlen(tok2)));
	ck_assert(!kt_tokens_check(t, tok, strlen(tok) - 1));
	ck_assert(!kt_tokens_check(t, line, strlen(line)));
	ck_assert(!kt_tokens_check(t, "", 0));
	kt_tokens_free(t);
	/* Refusals. */
	write_file("t2", "sha256:ABCDEF\n", 0600, path, sizeof path);
	ck_assert_int_eq(kt_tokens_load(path, 0, &t, err, sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(t);
	write_file("t3", "# nothing\n", 0600, path, sizeof path);
	ck_assert_int_eq(kt_tokens_load(path, 0, &t, err, sizeof err),
	    KT_ERR_NOT_FOUND);
	/* ... except on a reload, where it revokes every token. */
	ck_assert_int_eq(kt_tokens_load(path, 1, &t, err, sizeof err), KT_OK);
	ck_assert_uint_eq(kt_tokens_count(t), 0);
	ck_assert(!kt_tokens_check(t, tok, strlen(tok)));
	kt_tokens_free(t);
	t = NULL;
	snprintf(text, sizeof text, "%s\n", line);
	write_file("t4", text, 0622, path, sizeof path);
	ck_assert_int_eq(kt_tokens_load(path, 0, &t, err, sizeof err),
	    KT_ERR_PERM);
	/* Header parsing. */
	ck_assert(kt_token_from_header("Bearer abc", &p, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert(kt_token_from_header("bearer  abc ", &p, &n));
	ck_assert_uint_eq(n, 3);
	ck_assert(!kt_token_from_header("Bearer ", &p, &n));
	ck_assert(!kt_token_from_header("Bearer a b", &p, &n));
	ck_assert(!kt_token_from_header("Basic abc", &p, &n));
	ck_assert(!kt_token_from_header("Bearerabc", &p, &n));
	ck_assert(!kt_token_from_header(NULL, &p, &n));
	rm_tmp();
}
END_TEST

START_TEST(test_kt_keyfile)
{
	char path[400], vkey[KT_KEY_TEXT_MAX], vkey2[KT_KEY_TEXT_MAX];
	struct kt_signer *s = NULL;
	struct kt_verifier v;
	struct stat st;

	mkdir_tmp();
	snprintf(path, sizeof path, "%s/k", dir);
	ck_assert_int_eq(kt_keyfile_generate("kt.example/log", path, vkey, err,
	    sizeof err), KT_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(kt_keyfile_generate("kt.example/log", path, vkey2,
	    err, sizeof err), KT_ERR_EXISTS);
	ck_assert_int_eq(kt_keyfile_load(path, &s, err, sizeof err), KT_OK);
	ck_assert_str_eq(kt_signer_name(s), "kt.example/log");
	kt_signer_verifier(s, &v);
	ck_assert_int_eq(kt_verifier_format(&v, vkey2, sizeof vkey2), KT_OK);
	ck_assert_str_eq(vkey, vkey2);
	kt_signer_free(s);
	s = NULL;
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(kt_keyfile_load(path, &s, err, sizeof err),
	    KT_ERR_PERM);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(chmod(path, 0600), 0);
	write_file("junk", "PRIVATE+KEY+nonsense\n", 0600, path, sizeof path);
	ck_assert_int_eq(kt_keyfile_load(path, &s, err, sizeof err),
	    KT_ERR_MALFORMED);
	snprintf(path, sizeof path, "%s/none", dir);
	ck_assert_int_eq(kt_keyfile_load(path, &s, err, sizeof err),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(kt_keyfile_generate("bad origin", path, vkey, err,
	    sizeof err), KT_ERR_MALFORMED);
	ck_assert_int_ne(access(path, F_OK), 0);
	rm_tmp();
}
END_TEST

START_TEST(test_kt_metrics_render)
{
	static struct kt_metrics m;
	struct kt_seq_stats st;
	char *out;
	size_t len;

	kt_metrics_init(&m);
	kt_metrics_request(&m, KT_ROUTE_KEYS_POST, 200);
	kt_metrics_request(&m, KT_ROUTE_KEYS_POST, 200);
	kt_metrics_request(&m, KT_ROUTE_TILE, 404);
	kt_metrics_request(&m, KT_ROUTE_TILE, 418);
	kt_metrics_proof_us(&m, 7);
	kt_metrics_proof_us(&m, 300);
	kt_metrics_proof_us(&m, 10000000);
	memset(&st, 0, sizeof st);
	st.entries_appended = 5;
	st.batches = 2;
	st.batch_size_hist[0] = 1;
	st.batch_size_hist[2] = 1;
	st.commit_us_hist[3] = 2;
	ck_assert_int_eq(kt_metrics_render(&m, &st, 5, 4096, 1, &out, &len),
	    KT_OK);
	ck_assert_uint_eq(strlen(out), len);
	ck_assert(strstr(out, "kt_tree_size 5\n") != NULL);
	ck_assert(strstr(out, "kt_writable 1\n") != NULL);
	ck_assert(strstr(out, "kt_db_bytes 4096\n") != NULL);
	ck_assert(strstr(out, "kt_http_requests_total{route=\"keys_post\","
	    "status=\"200\"} 2\n") != NULL);
	ck_assert(strstr(out, "kt_http_requests_total{route=\"tile\","
	    "status=\"404\"} 1\n") != NULL);
	ck_assert(strstr(out, "kt_http_requests_total{route=\"tile\","
	    "status=\"other\"} 1\n") != NULL);
	ck_assert(strstr(out, "kt_proof_seconds_bucket{le=\"1e-05\"} 1\n") !=
	    NULL);
	ck_assert(strstr(out, "kt_proof_seconds_bucket{le=\"0.0005\"} 2\n") !=
	    NULL);
	ck_assert(strstr(out, "kt_proof_seconds_bucket{le=\"+Inf\"} 3\n") !=
	    NULL);
	ck_assert(strstr(out, "kt_batch_size_bucket{le=\"2\"} 1\n") != NULL);
	ck_assert(strstr(out, "kt_batch_size_bucket{le=\"4\"} 2\n") != NULL);
	ck_assert(strstr(out, "kt_commit_seconds_count 2\n") != NULL);
	ck_assert(strstr(out, "kt_entries_appended_total 5\n") != NULL);
	free(out);
}
END_TEST

START_TEST(test_kt_api_status)
{
	ck_assert_uint_eq(kt_api_status(KT_OK), 200);
	ck_assert_uint_eq(kt_api_status(KT_ERR_MALFORMED), 400);
	ck_assert_uint_eq(kt_api_status(KT_ERR_RANGE), 400);
	ck_assert_uint_eq(kt_api_status(KT_ERR_TOO_LARGE), 413);
	ck_assert_uint_eq(kt_api_status(KT_ERR_NOT_FOUND), 404);
	ck_assert_uint_eq(kt_api_status(KT_ERR_CONFLICT), 409);
	ck_assert_uint_eq(kt_api_status(KT_ERR_PERM), 401);
	ck_assert_uint_eq(kt_api_status(KT_ERR_BUSY), 503);
	ck_assert_uint_eq(kt_api_status(KT_ERR_IO), 500);
	ck_assert_uint_eq(kt_api_status(KT_ERR_INTERNAL), 500);
	ck_assert_int_eq(kt_api_route("/v1/keys"), KT_ROUTE_KEYS_POST);
	ck_assert_int_eq(kt_api_route("/v1/keys:batch"), KT_ROUTE_KEYS_BATCH);
	ck_assert_int_eq(kt_api_route("/v1/keys/a"), KT_ROUTE_KEY_GET);
	ck_assert_int_eq(kt_api_route("/v1/keys/a/history"),
	    KT_ROUTE_KEY_HISTORY);
	ck_assert_int_eq(kt_api_route("/v1/keys/history"), KT_ROUTE_KEY_GET);
	ck_assert_int_eq(kt_api_route("/tile/0/000"), KT_ROUTE_TILE);
	ck_assert_int_eq(kt_api_route("/checkpoint/"), KT_ROUTE_OTHER);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd service");

	kt_test_case(s, "service", 0, test_kt_config_set, test_kt_config_load,
	    test_kt_config_check, test_kt_tokens, test_kt_keyfile,
	    test_kt_metrics_render, test_kt_api_status, NULL);
	return kt_test_run(s);
}
