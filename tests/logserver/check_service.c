/*
 * check_service.c: units of kt-logd's service layer that need no server:
 * config parsing and checks, bearer tokens, the key file, metrics
 * rendering, the kt_err -> HTTP status table and the logger's lines.
 */
#include <check.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "kt/b64.h"
#include "http/api.h"
#include "config.h"
#include "keyfile.h"
#include "log.h"
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
	ck_assert_int_eq(kt_config_set(&c, "max_batch", "1e3", err, sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_set(&c, "max_batch",
	                     "99999999999999999999999", err, sizeof err),
	    KT_ERR_RANGE);
	ck_assert(strstr(err, "max_batch") != NULL);
	ck_assert_int_eq(kt_config_set(&c, "max_label", "256", err, sizeof err),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_config_set(&c, "max_key", "4097", err, sizeof err),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_config_set(&c, "nope", "1", err, sizeof err),
	    KT_ERR_NOT_FOUND);
	ck_assert_int_eq(kt_config_set(&c, "allow_anonymous_writes", "yes", err,
	                     sizeof err),
	    KT_OK);
	ck_assert_int_eq(c.allow_anonymous_writes, 1);
	ck_assert_int_eq(kt_config_set(&c, "allow_anonymous_writes", "maybe",
	                     err, sizeof err),
	    KT_ERR_MALFORMED);
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
	write_file("a.conf",
	    "# comment\n\n  page_size = 7  \nlisten=[::1]:0\n"
	    "data = /x y/z\n",
	    0600, path, sizeof path);
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
		ck_assert_uint_eq(c.limits.max_buffered, d.limits.max_buffered);
		ck_assert_uint_eq(c.limits.max_per_ip, d.limits.max_per_ip);
		ck_assert_uint_eq(c.limits.request_timeout,
		    d.limits.request_timeout);
		ck_assert_uint_eq(c.max_db_size, d.max_db_size);
		ck_assert_uint_eq(c.seq_max_batch, d.seq_max_batch);
		ck_assert_uint_eq(c.seq_max_queue, d.seq_max_queue);
		ck_assert_uint_eq(c.threads, d.threads);
		ck_assert_uint_eq(c.witness_quorum, d.witness_quorum);
		ck_assert_uint_eq(c.witness_interval_ms, d.witness_interval_ms);
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
	                     sizeof host, &port),
	    KT_OK);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 8080);
	ck_assert_int_eq(kt_config_split_listen("[::1]:0", host, sizeof host,
	                     &port),
	    KT_OK);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(kt_config_split_listen("::1:80", host, sizeof host,
	                     &port),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen("h:", host, sizeof host, &port),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen(":80", host, sizeof host,
	                     &port),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen("h:65536", host, sizeof host,
	                     &port),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_config_split_listen("[::1]80", host, sizeof host,
	                     &port),
	    KT_ERR_MALFORMED);
	ck_assert(kt_config_host_is_loopback("127.0.0.1"));
	ck_assert(kt_config_host_is_loopback("127.5.6.7"));
	ck_assert(kt_config_host_is_loopback("::1"));
	ck_assert(kt_config_host_is_loopback("localhost"));
	ck_assert(!kt_config_host_is_loopback("0.0.0.0"));
	ck_assert(!kt_config_host_is_loopback("::"));
	ck_assert(!kt_config_host_is_loopback("10.0.0.1"));

	kt_config_defaults(&c);
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err),
	    KT_ERR_MALFORMED); /* no data folder */
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

	/* A read replica: no anonymous writes, no witnesses; the writer's
	 * URL is printable ASCII without quotes (it goes in a JSON message). */
	kt_config_defaults(&c);
	strcpy(c.data, "/d");
	strcpy(c.key, "/k");
	ck_assert_int_eq(kt_config_set(&c, "read_only", "true", err,
	                     sizeof err),
	    KT_OK);
	ck_assert_int_eq(kt_config_set(&c, "writer_url",
	                     "https://kt.example.com", err, sizeof err),
	    KT_OK);
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_OK);
	c.allow_anonymous_writes = 1;
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "--read-only"));
	c.allow_anonymous_writes = 0;
	strcpy(c.writer_url, "http://a\"b");
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err),
	    KT_ERR_MALFORMED);
	strcpy(c.writer_url, "http://a b");
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err),
	    KT_ERR_MALFORMED);
	c.writer_url[0] = '\0';
	ck_assert_int_eq(kt_config_set(&c, "witness",
	                     "http://127.0.0.1:1="
	                     "w1.example+085eb085+"
	                     "BMcKtUoJAcRjLZcRyaEd40IZJ96W6RXqNWdRaIzTRgiX",
	                     err, sizeof err),
	    KT_OK);
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_nonnull(strstr(err, "--witness"));

	/* A witness quorum the witnesses given cannot meet. */
	kt_config_defaults(&c);
	strcpy(c.data, "/d");
	strcpy(c.key, "/k");
	c.witness_quorum = 2;
	ck_assert_int_eq(kt_config_check(&c, err, sizeof err), KT_OK);
	ck_assert_int_eq(
	    kt_config_set(&c, "witness",
	        "http://127.0.0.1:1="
	        "w1.example+085eb085+BMcKtUoJAcRjLZcRyaEd40IZJ96W6RXqNWdRaIzTRgiX",
	        err, sizeof err),
	    KT_OK);
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
	char path[400], vpath[420], vkey[KT_KEY_TEXT_MAX],
	    vkey2[KT_KEY_TEXT_MAX];
	char pub[KT_VRF_PUBLIC_B64_LEN], pub2[KT_VRF_PUBLIC_B64_LEN];
	uint8_t pk[KT_VRF_PUBLIC_LEN];
	struct kt_signer *s = NULL;
	struct kt_vrf_key *k = NULL;
	struct kt_verifier v;
	struct stat st;

	mkdir_tmp();
	snprintf(path, sizeof path, "%s/k", dir);
	snprintf(vpath, sizeof vpath, "%s/k.vrf", dir);
	ck_assert_int_eq(kt_keyfile_generate("kt.example/log", path, vkey, pub,
	                     err, sizeof err),
	    KT_OK);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(vpath, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(kt_keyfile_generate("kt.example/log", path, vkey2,
	                     pub2, err, sizeof err),
	    KT_ERR_EXISTS);
	ck_assert_int_eq(kt_keyfile_load(path, &s, err, sizeof err), KT_OK);
	ck_assert_str_eq(kt_signer_name(s), "kt.example/log");
	kt_signer_verifier(s, &v);
	ck_assert_int_eq(kt_verifier_format(&v, vkey2, sizeof vkey2), KT_OK);
	ck_assert_str_eq(vkey, vkey2);
	kt_signer_free(s);
	s = NULL;

	/* The VRF key: its public key is the one keygen printed. */
	ck_assert_int_eq(kt_keyfile_load_vrf(path, "kt.example/log", &k, err,
	                     sizeof err),
	    KT_OK);
	kt_vrf_public(k, pk);
	ck_assert_int_eq(kt_b64_encode(pk, sizeof pk, pub2, sizeof pub2, NULL),
	    KT_OK);
	ck_assert_str_eq(pub, pub2);
	kt_vrf_key_free(k);
	k = NULL;
	/* Another log's VRF key, a readable one, a missing one. */
	ck_assert_int_eq(kt_keyfile_load_vrf(path, "other.example/log", &k, err,
	                     sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(k);
	ck_assert_int_eq(chmod(vpath, 0640), 0);
	ck_assert_int_eq(kt_keyfile_load_vrf(path, "kt.example/log", &k, err,
	                     sizeof err),
	    KT_ERR_PERM);
	ck_assert_ptr_nonnull(strstr(err, "VRF key"));
	ck_assert_int_eq(unlink(vpath), 0);
	ck_assert_int_eq(kt_keyfile_load_vrf(path, "kt.example/log", &k, err,
	                     sizeof err),
	    KT_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err, "make a new log"));
	/* A scalar the VRF refuses (zero), and a truncated line. */
	write_file("k.vrf",
	    "PRIVATE+VRF-R255+kt.example/log+"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	    0600, vpath, sizeof vpath);
	ck_assert_int_eq(kt_keyfile_load_vrf(path, "kt.example/log", &k, err,
	                     sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(unlink(vpath), 0);
	write_file("k.vrf", "PRIVATE+VRF-R255+kt.example/log+AAAA\n", 0600,
	    vpath, sizeof vpath);
	ck_assert_int_eq(kt_keyfile_load_vrf(path, "kt.example/log", &k, err,
	                     sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(k);

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
	ck_assert_int_eq(kt_keyfile_generate("bad origin", path, vkey, pub, err,
	                     sizeof err),
	    KT_ERR_MALFORMED);
	ck_assert_int_ne(access(path, F_OK), 0);
	/* Both files or neither: an existing .vrf stops keygen first. */
	snprintf(path, sizeof path, "%s/half", dir);
	write_file("half.vrf", "x\n", 0600, vpath, sizeof vpath);
	ck_assert_int_eq(kt_keyfile_generate("kt.example/log", path, vkey, pub,
	                     err, sizeof err),
	    KT_ERR_EXISTS);
	ck_assert_int_ne(access(path, F_OK), 0);
	rm_tmp();
}
END_TEST

START_TEST(test_kt_metrics_body)
{
	static struct kt_metrics m;
	struct kt_seq_stats st;
	struct kt_metrics_log log;
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
	log.seq = &st;
	log.tree_size = 5;
	log.disk_bytes = 4096;
	log.writable = 1;
	log.no_space = 0;
	log.replica = 0;
	st.failed_batches = 3;
	ck_assert_int_eq(kt_metrics_body(&m, &log, NULL, &out, &len), KT_OK);
	ck_assert_uint_eq(strlen(out), len);
	ck_assert(strstr(out, "kt_tree_size 5\n") != NULL);
	ck_assert(strstr(out, "kt_replica 0\n") != NULL);
	ck_assert(strstr(out, "kt_writable 1\n") != NULL);
	ck_assert(strstr(out, "kt_no_space 0\n") != NULL);
	ck_assert(strstr(out, "kt_failed_batches_total 3\n") != NULL);
	ck_assert(strstr(out, "kt_db_bytes 4096\n") != NULL);
	ck_assert(strstr(out,
	              "kt_http_requests_total{route=\"keys_post\","
	              "status=\"200\"} 2\n") != NULL);
	ck_assert(strstr(out,
	              "kt_http_requests_total{route=\"tile\","
	              "status=\"404\"} 1\n") != NULL);
	ck_assert(strstr(out,
	              "kt_http_requests_total{route=\"tile\","
	              "status=\"other\"} 1\n") != NULL);
	ck_assert(
	    strstr(out, "kt_proof_seconds_bucket{le=\"1e-05\"} 1\n") != NULL);
	ck_assert(
	    strstr(out, "kt_proof_seconds_bucket{le=\"0.0005\"} 2\n") != NULL);
	ck_assert(
	    strstr(out, "kt_proof_seconds_bucket{le=\"+Inf\"} 3\n") != NULL);
	ck_assert(strstr(out, "kt_batch_size_bucket{le=\"2\"} 1\n") != NULL);
	ck_assert(strstr(out, "kt_batch_size_bucket{le=\"4\"} 2\n") != NULL);
	ck_assert(strstr(out, "kt_commit_seconds_count 2\n") != NULL);
	ck_assert(strstr(out, "kt_entries_appended_total 5\n") != NULL);
	/* kt_metrics_body without a witness client renders the same */
	{
		struct kt_metrics_log log = { .seq = &st,
			.tree_size = 5,
			.disk_bytes = 4096,
			.writable = 1 };
		char *body;
		size_t blen;

		ck_assert_int_eq(kt_metrics_body(&m, &log, NULL, &body, &blen),
		    KT_OK);
		ck_assert_uint_eq(blen, len);
		ck_assert_str_eq(body, out);
		free(body);
		/* no sequencer (stopping): its series are left out */
		log.seq = NULL;
		ck_assert_int_eq(kt_metrics_body(&m, &log, NULL, &body, &blen),
		    KT_OK);
		ck_assert(strstr(body, "kt_batch_size") == NULL);
		ck_assert(strstr(body, "kt_tree_size 5\n") != NULL);
		free(body);
		/* a read replica says so, and has no write state to alert on */
		log.replica = 1;
		ck_assert_int_eq(kt_metrics_body(&m, &log, NULL, &body, &blen),
		    KT_OK);
		ck_assert(strstr(body, "kt_replica 1\n") != NULL);
		ck_assert(strstr(body, "kt_writable") == NULL);
		ck_assert(strstr(body, "kt_no_space") == NULL);
		ck_assert(strstr(body, "kt_tree_size 5\n") != NULL);
		free(body);
	}
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

/* An error answer is valid JSON whatever bytes its message holds: the 404
 * for a path echoes the path as the client sent it. */
START_TEST(test_kt_api_error_json)
{
	struct kt_api_resp r;
	json_t *j;
	json_error_t err;

	memset(&r, 0, sizeof r);
	kt_api_error(&r, KT_ERR_NOT_FOUND, "no such endpoint: /x\xff\xfe\"\n");
	ck_assert_uint_eq(r.status, 404);
	j = json_loadb(r.body, r.len, 0, &err);
	ck_assert_msg(j != NULL, "%s", err.text);
	ck_assert_str_eq(json_string_value(json_object_get(j, "error")),
	    "no such endpoint: /x\xef\xbf\xbd\xef\xbf\xbd\"\n");
	json_decref(j);
	free(r.body);
}
END_TEST

/* ---- the logger --------------------------------------------------------- */

/* The line kt_log_format makes (fixed timestamp "T"), NUL-terminated. */
static size_t
fmt_line(char line[KT_LOG_LINE_MAX + 1], enum kt_log_level level,
    const char *event, const struct kt_log_field *f, size_t n)
{
	size_t len = kt_log_format(line, "T", level, event, f, n);

	ck_assert_uint_le(len, KT_LOG_LINE_MAX);
	line[len] = '\0';
	return len;
}

/* The line parsed as JSON: it must be one object and end in a newline. */
static json_t *
parse_line(const char *line, size_t len)
{
	json_error_t e;
	json_t *j;

	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_null(memchr(line, '\n', len - 1));
	j = json_loadb(line, len, 0, &e);
	ck_assert_msg(j != NULL, "not JSON (%s): %s", e.text, line);
	ck_assert(json_is_object(j));
	return j;
}

static const char *
str_of(json_t *j, const char *key)
{
	json_t *v = json_object_get(j, key);

	ck_assert_msg(json_is_string(v), "no string %s", key);
	return json_string_value(v);
}

START_TEST(test_kt_log_format)
{
	char line[KT_LOG_LINE_MAX + 1];
	struct kt_log_field f[] = {
		kt_log_str("s", "v"),
		kt_log_int("i", -3),
		kt_log_uint("u", UINT64_MAX),
		kt_log_bool("b", 7),
		kt_log_bool("f", 0),
		kt_log_str("n", NULL),
		kt_log_strn("part", "abcdef", 3),
	};

	fmt_line(line, KT_LOG_WARN, "start", f, sizeof f / sizeof f[0]);
	ck_assert_str_eq(line,
	    "{\"ts\":\"T\",\"level\":\"warn\",\"event\":"
	    "\"start\",\"s\":\"v\",\"i\":-3,\"u\":18446744073709551615,"
	    "\"b\":true,\"f\":false,\"n\":null,\"part\":\"abc\"}\n");
	fmt_line(line, KT_LOG_DEBUG, "stopped", NULL, 0);
	ck_assert_str_eq(line,
	    "{\"ts\":\"T\",\"level\":\"debug\",\"event\":"
	    "\"stopped\"}\n");
	/* fields never override the line's own keys */
	{
		struct kt_log_field r[] = {
			kt_log_str("ts", "forged"),
			kt_log_str("level", "error"),
			kt_log_str("event", "other"),
			kt_log_int("x", 1),
		};

		fmt_line(line, KT_LOG_ERROR, "e", r, 4);
		ck_assert_str_eq(line,
		    "{\"ts\":\"T\",\"level\":\"error\","
		    "\"event\":\"e\",\"x\":1}\n");
	}
}
END_TEST

/* Quotes, backslashes and every control character are escaped, in values,
 * keys and the event name: no value can end the line or add a field. */
START_TEST(test_kt_log_escaping)
{
	char line[KT_LOG_LINE_MAX + 1], all[32];
	size_t len, i;
	json_t *j;
	struct kt_log_field f[3];

	f[0] = kt_log_str("v", "a\"b\\c\n\r\t\b\f\x01\x1f\x7f/z");
	f[1] = kt_log_str("k\"\n", "x\",\"forged\":\"1");
	f[2] = kt_log_strn("nul", "a\0b", 3);
	fmt_line(line, KT_LOG_INFO, "ev\"il\n", f, 3);
	ck_assert_str_eq(line,
	    "{\"ts\":\"T\",\"level\":\"info\",\"event\":"
	    "\"ev\\\"il\\n\",\"v\":\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f"
	    "\\u007f/z\",\"k\\\"\\n\":\"x\\\",\\\"forged\\\":\\\"1\","
	    "\"nul\":\"a\\u0000b\"}\n");
	/* every control character round-trips through a JSON parser */
	for (i = 0; i < 31; i++)
		all[i] = (char)(i + 1);
	all[31] = '\0';
	f[0] = kt_log_str("all", all);
	len = fmt_line(line, KT_LOG_INFO, "e", f, 1);
	j = parse_line(line, len);
	ck_assert_str_eq(str_of(j, "all"), all);
	ck_assert_ptr_null(json_object_get(j, "forged"));
	json_decref(j);
}
END_TEST

/* Bytes that are not UTF-8 become U+FFFD, one per byte; valid UTF-8
 * (2, 3 and 4 bytes) is kept as it is. */
START_TEST(test_kt_log_invalid_utf8)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\xff"
		  "b",
		    "a\\ufffdb" },
		{ "\x80", "\\ufffd" },                       /* continuation */
		{ "\xc0\xaf", "\\ufffd\\ufffd" },            /* overlong '/' */
		{ "\xe0\x80\xaf", "\\ufffd\\ufffd\\ufffd" }, /* overlong */
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" }, /* surrogate */
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },
		{ "\xf5\x80", "\\ufffd\\ufffd" },   /* > U+10FFFF */
		{ "x\xe2\x82", "x\\ufffd\\ufffd" }, /* cut short */
		{ "\xc3(", "\\ufffd(" },            /* not continued */
	};
	char line[KT_LOG_LINE_MAX + 1], want[256];
	struct kt_log_field f;
	size_t i, len;
	json_t *j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		f = kt_log_str("v", cases[i].in);
		len = fmt_line(line, KT_LOG_INFO, "e", &f, 1);
		snprintf(want, sizeof want,
		    "{\"ts\":\"T\",\"level\":\"info\","
		    "\"event\":\"e\",\"v\":\"%s\"}\n",
		    cases[i].want);
		ck_assert_msg(strcmp(line, want) == 0, "case %zu: %s", i, line);
		j = parse_line(line, len); /* jansson refuses bad UTF-8 */
		json_decref(j);
	}
	/* in the event name and in keys too */
	f = kt_log_str("k\xff", "v");
	len = fmt_line(line, KT_LOG_INFO, "e\xfe", &f, 1);
	j = parse_line(line, len);
	ck_assert_str_eq(str_of(j, "event"), "e\xef\xbf\xbd");
	ck_assert_str_eq(str_of(j, "k\xef\xbf\xbd"), "v");
	json_decref(j);
}
END_TEST

/* A long value is cut at a character boundary (never inside an escape or
 * a UTF-8 sequence) and ends in U+2026; too many fields are left out and
 * the line says so. A line never exceeds KT_LOG_LINE_MAX. */
START_TEST(test_kt_log_long_values)
{
	static const char *const units[] = { "a", "\xc3\xa9", "\x01",
		"\xe2\x82\xac", "\"", "\xff" };
	char line[KT_LOG_LINE_MAX + 1], *big;
	struct kt_log_field f[12];
	size_t u, i, len, n, vlen;
	const char *v;
	json_t *j;

	big = malloc(20000);
	ck_assert_ptr_nonnull(big);
	for (u = 0; u < sizeof units / sizeof units[0]; u++) {
		for (n = 0; n + strlen(units[u]) < 20000;)
			for (i = 0; units[u][i] != '\0'; i++)
				big[n++] = units[u][i];
		big[n] = '\0';
		f[0] = kt_log_str("big", big);
		f[1] = kt_log_int("after", 1);
		len = fmt_line(line, KT_LOG_INFO, "e", f, 2);
		j = parse_line(line, len);
		v = str_of(j, "big");
		vlen = strlen(v);
		ck_assert_uint_ge(vlen, 3);
		ck_assert_str_eq(v + vlen - 3, "\xe2\x80\xa6");
		/* the escaped value, quotes aside, fits KT_LOG_VALUE_MAX */
		ck_assert_ptr_nonnull(strstr(line, "\"big\":\""));
		ck_assert_uint_le(strstr(line, ",\"after\":") -
		        (strstr(line, "\"big\":\"") + 7) - 1,
		    KT_LOG_VALUE_MAX);
		ck_assert_int_eq(json_integer_value(
		                     json_object_get(j, "after")),
		    1);
		ck_assert_ptr_null(json_object_get(j, "truncated"));
		json_decref(j);
	}
	/* exactly KT_LOG_VALUE_MAX bytes: kept whole */
	memset(big, 'b', KT_LOG_VALUE_MAX);
	big[KT_LOG_VALUE_MAX] = '\0';
	f[0] = kt_log_str("v", big);
	len = fmt_line(line, KT_LOG_INFO, "e", f, 1);
	j = parse_line(line, len);
	ck_assert_str_eq(str_of(j, "v"), big);
	json_decref(j);
	/* twelve long fields cannot all fit one line */
	memset(big, 'c', 1500);
	big[1500] = '\0';
	for (i = 0; i < 12; i++)
		f[i] = kt_log_str(i % 2 ? "odd" : "even", big);
	len = fmt_line(line, KT_LOG_INFO, "e", f, 12);
	ck_assert_uint_le(len, KT_LOG_LINE_MAX);
	j = parse_line(line, len);
	ck_assert(json_is_true(json_object_get(j, "truncated")));
	ck_assert_ptr_nonnull(json_object_get(j, "even"));
	json_decref(j);
	free(big);
}
END_TEST

/* Reads what the logger wrote into the pipe (one line per call). */
static size_t
read_line(int fd, char *buf, size_t cap)
{
	ssize_t n = read(fd, buf, cap - 1);

	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	return (size_t)n;
}

/* The logger's own writes: one line per call, level filter, the
 * pack-format form with its supported subset. */
START_TEST(test_kt_log_write)
{
	char buf[KT_LOG_LINE_MAX + 1];
	int p[2];
	size_t len;
	json_t *j;

	ck_assert_int_eq(pipe(p), 0);
	kt_log_set_fd(p[1]);
	kt_log_set_level(KT_LOG_INFO);
	ck_assert_int_eq(kt_log_enabled(KT_LOG_DEBUG), 0);
	ck_assert_int_eq(kt_log_enabled(KT_LOG_WARN), 1);
	KT_LOG(KT_LOG_DEBUG, "dropped", kt_log_int("x", 1));
	KT_LOG(KT_LOG_INFO, "tokens_reloaded", kt_log_int("tokens", 2));
	len = read_line(p[0], buf, sizeof buf);
	j = parse_line(buf, len);
	ck_assert_str_eq(str_of(j, "event"), "tokens_reloaded");
	ck_assert_str_eq(str_of(j, "level"), "info");
	ck_assert_uint_eq(strlen(str_of(j, "ts")), 24);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "tokens")), 2);
	json_decref(j);

	KT_LOG(KT_LOG_ERROR, "store_error", kt_log_str("op", "read\xff"),
	    kt_log_int("n", -4), kt_log_int("big", (int64_t)1 << 40),
	    kt_log_bool("ok", 1));
	len = read_line(p[0], buf, sizeof buf);
	j = parse_line(buf, len);
	ck_assert_str_eq(str_of(j, "op"), "read\xef\xbf\xbd");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "n")), -4);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "big")),
	    (json_int_t)1 << 40);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	json_decref(j);

	kt_log_write(KT_LOG_WARN, "plain", NULL, 0);
	len = read_line(p[0], buf, sizeof buf);
	ck_assert_ptr_nonnull(strstr(buf, "\"event\":\"plain\"}\n"));

	kt_log_set_fd(-1);
	ck_assert_int_eq(kt_log_enabled(KT_LOG_ERROR), 0);
	kt_log_set_fd(2);
	close(p[0]);
	close(p[1]);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd service");

	kt_test_case(s, "service", 0, test_kt_config_set, test_kt_config_load,
	    test_kt_config_check, test_kt_tokens, test_kt_keyfile,
	    test_kt_metrics_body, test_kt_api_status, test_kt_api_error_json,
	    NULL);
	kt_test_case(s, "kt_log", 0, test_kt_log_format, test_kt_log_escaping,
	    test_kt_log_invalid_utf8, test_kt_log_long_values,
	    test_kt_log_write, NULL);
	return kt_test_run(s);
}
