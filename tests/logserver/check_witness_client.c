/*
 * check_witness_client.c: kt-logd's witness client: spec and interval
 * parsing, protocol bytes, start, stats, against fake witnesses
 * (wclient_fake.c: libmicrohttpd on 127.0.0.1 that checks and cosigns like
 * a C2SP tlog-witness) and, when built, the real kt-witness. The cosigning loop itself is
 * check_witness_client_cosign.c.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "harness/witnessd.h"
#include "kt/checkpoint.h"
#include "kt/note.h"
#include "log.h"
#include "metrics.h"
#include "wclient_fake.h"
#include "wclient_testlib.h"
#include "witness_client/protocol.h"
#include "witness_client/witness_client.h"

/* The value after the first line starting with prefix. */
static uint64_t
metric(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	ck_assert_msg(p != NULL, "no metric %s in:\n%s", prefix, text);
	return strtoull(p + strlen(prefix), NULL, 10);
}

/* ---- kt_wclient_parse_spec ---------------------------------------------- */

START_TEST(test_parse_spec)
{
	struct kt_signer *s = NULL, *l = NULL;
	struct kt_verifier v, lv;
	struct kt_wclient_cfg c;
	char key[KT_KEY_TEXT_MAX], lkey[KT_KEY_TEXT_MAX], spec[2048];
	uint8_t seed[KT_SEED_LEN];

	memset(seed, 7, sizeof(seed));
	ck_assert_int_eq(kt_signer_from_seed("w1.example", KT_KEY_COSIG, seed,
	                     &s),
	    KT_OK);
	ck_assert_int_eq(kt_signer_from_seed("log.example", KT_KEY_ED25519,
	                     seed, &l),
	    KT_OK);
	kt_signer_verifier(s, &v);
	kt_signer_verifier(l, &lv);
	ck_assert_int_eq(kt_verifier_format(&v, key, sizeof(key)), KT_OK);
	ck_assert_int_eq(kt_verifier_format(&lv, lkey, sizeof(lkey)), KT_OK);

	snprintf(spec, sizeof(spec), "http://127.0.0.1:7380=%s", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c), KT_OK);
	ck_assert_str_eq(c.url, "http://127.0.0.1:7380");
	ck_assert_str_eq(c.key.name, "w1.example");
	ck_assert_int_eq(c.key.type, KT_KEY_COSIG);
	ck_assert_mem_eq(c.key.pub, v.pub, KT_PUBKEY_LEN);

	/* trailing slashes dropped; '=' inside the URL kept */
	snprintf(spec, sizeof(spec), "https://w.example/a?x=1//=%s", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c), KT_OK);
	ck_assert_str_eq(c.url, "https://w.example/a?x=1");

	/* not NUL-terminated at len */
	snprintf(spec, sizeof(spec), "http://h=%sGARBAGE", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec) - 7, &c),
	    KT_OK);

	/* rejected: no key, a signature (0x01) key, bad URLs, truncations */
	snprintf(spec, sizeof(spec), "http://127.0.0.1:7380");
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c),
	    KT_ERR_MALFORMED);
	snprintf(spec, sizeof(spec), "http://127.0.0.1:7380=%s", lkey);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c),
	    KT_ERR_MALFORMED);
	snprintf(spec, sizeof(spec), "ftp://h=%s", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c),
	    KT_ERR_MALFORMED);
	snprintf(spec, sizeof(spec), "http://=%s", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c),
	    KT_ERR_MALFORMED);
	snprintf(spec, sizeof(spec), "http://a b=%s", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c),
	    KT_ERR_MALFORMED);
	snprintf(spec, sizeof(spec), "=%s", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c),
	    KT_ERR_MALFORMED);
	snprintf(spec, sizeof(spec), "http://h=%s", key);
	for (size_t n = 0; n < strlen(spec); n++)
		ck_assert_int_ne(kt_wclient_parse_spec(spec, n, &c), KT_OK);
	memset(spec, 'a', sizeof(spec));
	memcpy(spec, "http://", 7);
	snprintf(spec + 1500, sizeof(spec) - 1500, "=%s", key);
	ck_assert_int_eq(kt_wclient_parse_spec(spec, strlen(spec), &c),
	    KT_ERR_TOO_LARGE);
	kt_signer_free(s);
	kt_signer_free(l);
}
END_TEST

/* ---- kt_wclient_parse_interval ------------------------------------------ */

START_TEST(test_parse_interval)
{
	unsigned ms = 0;

	ck_assert_int_eq(kt_wclient_parse_interval("1s", 2, &ms), KT_OK);
	ck_assert_uint_eq(ms, 1000);
	ck_assert_int_eq(kt_wclient_parse_interval("250ms", 5, &ms), KT_OK);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(kt_wclient_parse_interval("2m", 2, &ms), KT_OK);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(kt_wclient_parse_interval("3", 1, &ms), KT_OK);
	ck_assert_uint_eq(ms, 3000);
	ck_assert_int_eq(kt_wclient_parse_interval("", 0, &ms),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_wclient_parse_interval("s", 1, &ms),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_wclient_parse_interval("1h", 2, &ms),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_wclient_parse_interval("-1s", 3, &ms),
	    KT_ERR_MALFORMED);
	ck_assert_int_eq(kt_wclient_parse_interval("0ms", 3, &ms),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_wclient_parse_interval("2000m", 5, &ms),
	    KT_ERR_RANGE);
	ck_assert_int_eq(kt_wclient_parse_interval("99999999999", 11, &ms),
	    KT_ERR_RANGE);
}
END_TEST

/* ---- protocol.c: request and answer bytes -------------------------------- */

START_TEST(test_wproto_request)
{
	struct kt_proof proof;
	const char note[] = "note\n";
	char *body;
	size_t len;

	proof.n = 0;
	body = kt_wproto_request(note, 5, 0, &proof, &len);
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(memcmp(body, "old 0\n\nnote\n", len), 0);
	free(body);
	proof.n = 2;
	memset(proof.h[0].b, 0, KT_HASH_LEN);
	memset(proof.h[1].b, 0xff, KT_HASH_LEN);
	body =
	    kt_wproto_request(note, 5, 18446744073709551615ull, &proof, &len);
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq(len,
	    strlen("old 18446744073709551615\n") + 2 * 45 + 1 + 5);
	ck_assert_int_eq(
	    memcmp(body,
	        "old 18446744073709551615\n"
	        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	        "//////////////////////////////////////////8=\n\nnote\n",
	        len),
	    0);
	free(body);
}
END_TEST

START_TEST(test_wproto_size)
{
	static const struct {
		const char *ctype, *body;
		int ok;
		uint64_t size;
	} cases[] = {
		{ "text/x.tlog.size", "42\n", 1, 42 },
		{ "text/x.tlog.size; charset=utf-8", "0\n", 1, 0 },
		{ "text/x.tlog.size", "18446744073709551615\n", 1, UINT64_MAX },
		{ "text/x.tlog.size", "18446744073709551616\n", 0, 0 },
		{ "text/x.tlog.size", "042\n", 0, 0 },
		{ "text/x.tlog.size", "-1\n", 0, 0 },
		{ "text/x.tlog.size", "42", 0, 0 },
		{ "text/x.tlog.size", "\n", 0, 0 },
		{ "text/x.tlog.sizes", "42\n", 0, 0 },
		{ "text/plain", "42\n", 0, 0 },
		{ NULL, "42\n", 0, 0 },
	};
	uint64_t size;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size = 7;
		ck_assert_msg(kt_wproto_size(cases[i].ctype, cases[i].body,
		                  strlen(cases[i].body), &size) == cases[i].ok,
		    "case %zu", i);
		if (cases[i].ok)
			ck_assert_uint_eq(size, cases[i].size);
	}
}
END_TEST

/* ---- kt_wclient_start --------------------------------------------------- */

START_TEST(test_start_rejects)
{
	struct fake_log *log = fake_log_new("log.example/start");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_cfg c[2];
	struct kt_wclient *w = (void *)1;
	struct fake_witness *fw;

	fw = fake_witness_start("w.start", fake_log_key(log), FAKE_OK, 0);
	cfg_for(&c[0], "http://127.0.0.1:1", fake_witness_key(fw));
	c[1] = c[0];
	ck_assert_int_eq(kt_wclient_start(&w, c, 0, &src, NULL), KT_ERR_RANGE);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(kt_wclient_start(&w, c, KT_WCLIENT_MAX + 1, &src,
	                     NULL),
	    KT_ERR_RANGE);
	/* a quorum one witness cannot meet is refused, not lowered */
	{
		struct kt_wclient_opts o = test_opts(2);
		ck_assert_int_eq(kt_wclient_start(&w, c, 1, &src, &o),
		    KT_ERR_RANGE);
		ck_assert_ptr_null(w);
	}
	/* the same key twice */
	ck_assert_int_eq(kt_wclient_start(&w, c, 2, &src, NULL),
	    KT_ERR_MALFORMED);
	/* a log (0x01) key is no witness key */
	cfg_for(&c[1], "http://127.0.0.1:1", fake_log_key(log));
	ck_assert_int_eq(kt_wclient_start(&w, c, 2, &src, NULL),
	    KT_ERR_MALFORMED);
	ck_assert_ptr_null(w);
	/* no client (no witnesses configured): nothing to serve, no stats */
	{
		struct kt_wclient_stats ws;
		char buf[16];
		size_t len = 99;

		ck_assert_int_eq(kt_wclient_checkpoint(NULL, buf, sizeof(buf),
		                     &len, NULL),
		    KT_ERR_NOT_FOUND);
		memset(&ws, 0xff, sizeof(ws));
		kt_wclient_stats(NULL, &ws);
		ck_assert_uint_eq(ws.n, 0);
		ck_assert_uint_eq(ws.cosigned_size, 0);
		ck_assert_uint_eq(ws.cosignatures, 0);
		kt_wclient_notify(NULL);
		kt_wclient_stop(NULL);
	}
	fake_witness_stop(fw);
	fake_log_free(log);
}
END_TEST

/* ---- kt_wclient_stats --------------------------------------------------- */

/* The counters of a good and a dead witness, as values (kt_wclient_stats)
 * and as the Prometheus text metrics.c makes of them (kt_metrics_body). */
/* kt_wclient_stats of client w after test_stats's rounds: the good witness
 * (at url) cosigned size 7, the dead one only failed. */
static void
check_stats_values(struct kt_wclient *w, const char *url)
{
	struct kt_wclient_stats ws;

	kt_wclient_stats(w, &ws);
	ck_assert_uint_eq(ws.n, 2);
	ck_assert_str_eq(ws.w[0].name, "quote\"back\\slash");
	ck_assert_str_eq(ws.w[0].url, url);
	ck_assert_uint_ge(ws.w[0].ok, 2);
	ck_assert_uint_eq(ws.w[0].fail, 0);
	ck_assert_uint_eq(ws.w[0].size, 7);
	ck_assert_int_eq(ws.w[0].lag, 0);
	ck_assert_int_eq(ws.w[0].up, 1);
	ck_assert_str_eq(ws.w[1].name, "dead.example");
	ck_assert_uint_eq(ws.w[1].ok, 0);
	ck_assert_uint_ge(ws.w[1].fail, 2);
	ck_assert_uint_eq(ws.w[1].size, 0);
	ck_assert_int_eq(ws.w[1].lag, 7);
	ck_assert_int_eq(ws.w[1].up, 0);
	ck_assert_uint_eq(ws.cosigned_size, 7);
	ck_assert_uint_eq(ws.cosignatures, 1);
}

/* The witness series in the /metrics body m after test_stats's rounds:
 * label values are escaped, the good witness (at url) counts successes,
 * the dead one (at deadurl) failures and lag. */
static void
check_witness_metrics(const char *m, const char *url, const char *deadurl)
{
	char p[512];

	snprintf(p, sizeof(p),
	    "kt_witness_requests_total{witness="
	    "\"quote\\\"back\\\\slash\",url=\"%s\",result=\"ok\"} ",
	    url);
	ck_assert_uint_ge(metric(m, p), 2);
	snprintf(p, sizeof(p),
	    "kt_witness_requests_total{witness="
	    "\"quote\\\"back\\\\slash\",url=\"%s\",result=\"fail\"} ",
	    url);
	ck_assert_uint_eq(metric(m, p), 0);
	snprintf(p, sizeof(p),
	    "kt_witness_requests_total{witness="
	    "\"dead.example\",url=\"%s\",result=\"fail\"} ",
	    deadurl);
	ck_assert_uint_ge(metric(m, p), 2);
	snprintf(p, sizeof(p),
	    "kt_witness_requests_total{witness="
	    "\"dead.example\",url=\"%s\",result=\"ok\"} ",
	    deadurl);
	ck_assert_uint_eq(metric(m, p), 0);
	snprintf(p, sizeof(p),
	    "kt_witness_size{witness=\"dead.example\","
	    "url=\"%s\"} ",
	    deadurl);
	ck_assert_uint_eq(metric(m, p), 0);
	snprintf(p, sizeof(p),
	    "kt_witness_lag{witness=\"dead.example\","
	    "url=\"%s\"} ",
	    deadurl);
	ck_assert_uint_eq(metric(m, p), 7);
	snprintf(p, sizeof(p),
	    "kt_witness_lag{witness="
	    "\"quote\\\"back\\\\slash\",url=\"%s\"} ",
	    url);
	ck_assert_uint_eq(metric(m, p), 0);
	snprintf(p, sizeof(p),
	    "kt_witness_up{witness="
	    "\"quote\\\"back\\\\slash\",url=\"%s\"} ",
	    url);
	ck_assert_uint_eq(metric(m, p), 1);
	ck_assert_uint_eq(metric(m, "\nkt_witness_cosigned_size "), 7);
	ck_assert_uint_eq(metric(m, "\nkt_witness_cosignatures "), 1);
	ck_assert_ptr_nonnull(strstr(m,
	    "# TYPE kt_witness_latency_seconds "
	    "gauge\n"));
	ck_assert_ptr_nonnull(strstr(m,
	    "# TYPE kt_witness_requests_total "
	    "counter\n"));
}

START_TEST(test_stats)
{
	struct fake_log *log = fake_log_new("log.example/metrics");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(1);
	struct fake_witness *fw;
	struct kt_wclient_cfg c[2];
	struct kt_verifier keys[2];
	struct kt_wclient *w = NULL;
	static struct kt_metrics km;
	struct kt_metrics_log kl = { .tree_size = 7, .writable = 1 };
	char url[64], deadurl[64], m[KT_NOTE_MAX], *body = NULL;
	uint8_t want[2] = { 1, 0 };
	size_t len = 0;

	fake_log_append(log, 3);
	fw = fake_witness_start("quote\"back\\slash", fake_log_key(log),
	    FAKE_OK, 0);
	fake_witness_url(fw, url, sizeof(url));
	cfg_for(&c[0], url, fake_witness_key(fw));
	keys[0] = *fake_witness_key(fw);
	{
		struct fake_witness *dead = fake_witness_start("dead.example",
		    fake_log_key(log), FAKE_OK, 0);

		keys[1] = *fake_witness_key(dead);
		fake_witness_stop(dead);
	}
	snprintf(deadurl, sizeof(deadurl), "http://127.0.0.1:%u",
	    fake_dead_port());
	cfg_for(&c[1], deadurl, &keys[1]);
	ck_assert_int_eq(kt_wclient_start(&w, c, 2, &src, &o), KT_OK);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), keys, 2, want, 3,
	                     3000),
	    0);
	fake_log_append(log, 4);
	kt_wclient_notify(w);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), keys, 2, want, 7,
	                     3000),
	    0);
	sleep_ms(250); /* a few failures for the dead one */

	check_stats_values(w, url);

	/* The whole /metrics body: the log's series, then the witnesses'. */
	kt_metrics_init(&km);
	ck_assert_int_eq(kt_metrics_body(&km, &kl, w, &body, &len), KT_OK);
	ck_assert_uint_eq(strlen(body), len);
	ck_assert_uint_eq(metric(body, "\nkt_tree_size "), 7);
	ck_assert_ptr_nonnull(strstr(body, "kt_http_requests_total"));
	ck_assert(strstr(body, "kt_http_requests_total") <
	    strstr(body, "kt_witness_requests_total"));
	ck_assert_uint_lt(len, sizeof(m));
	memcpy(m, body, len + 1);
	free(body);
	check_witness_metrics(m, url, deadurl);

	/* Without a witness client: no witness series. */
	ck_assert_int_eq(kt_metrics_body(&km, &kl, NULL, &body, &len), KT_OK);
	ck_assert_ptr_null(strstr(body, "kt_witness"));
	free(body);

	kt_wclient_stop(w);
	fake_witness_stop(fw);
	fake_log_free(log);
}
END_TEST

/* ---- against the real kt-witness ----------------------------------------- */

#ifdef KT_WITNESS_EXE
START_TEST(test_real_witness)
{
	struct fake_log *log = fake_log_new("log.example/real");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(1);
	struct kt_wclient_cfg c;
	struct kt_verifier key;
	struct kt_wclient *w = NULL;
	struct witnessd wd;
	char dir[256], url[64], logkey[512];
	uint8_t want[1] = { 1 };

	ck_assert_int_eq(tmpdir_make("kt-wclient", dir, sizeof(dir)), 0);
	ck_assert_int_eq(witnessd_keygen(&wd, KT_WITNESS_EXE, dir,
	                     "real.witness"),
	    0);
	key = wd.v;
	ck_assert_int_eq(kt_verifier_format(fake_log_key(log), logkey,
	                     sizeof(logkey)),
	    KT_OK);
	fake_log_append(log, 10);

	/* On a port of its own choosing (127.0.0.1:0). */
	ck_assert_int_eq(witnessd_start(&wd, logkey), 0);
	snprintf(url, sizeof(url), "%s", wd.url);
	cfg_for(&c, url, &key);
	ck_assert_int_eq(kt_wclient_start(&w, &c, 1, &src, &o), KT_OK);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), &key, 1, want, 10,
	                     5000),
	    0);
	fake_log_append(log, 25);
	kt_wclient_notify(w);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), &key, 1, want, 35,
	                     5000),
	    0);
	kt_wclient_stop(w);

	/* A fresh client (size 0 again) against the witness at 35 finds
	 * its size through 409 and cosigns 40. */
	fake_log_append(log, 5);
	ck_assert_int_eq(kt_wclient_start(&w, &c, 1, &src, &o), KT_OK);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), &key, 1, want, 40,
	                     5000),
	    0);
	kt_wclient_stop(w);
	(void)witnessd_stop(&wd, 2);
	ck_assert_int_eq(tmpdir_remove(dir), 0);
	fake_log_free(log);
}
END_TEST
#endif

static Suite *
suite(void)
{
	Suite *s = suite_create("witness_client");
	TCase *tc;

	tc = tcase_create("kt_wclient_parse_spec");
	tcase_add_test(tc, test_parse_spec);
	suite_add_tcase(s, tc);
	tc = tcase_create("kt_wclient_parse_interval");
	tcase_add_test(tc, test_parse_interval);
	suite_add_tcase(s, tc);
	tc = tcase_create("kt_wproto");
	tcase_add_test(tc, test_wproto_request);
	tcase_add_test(tc, test_wproto_size);
	suite_add_tcase(s, tc);
	tc = tcase_create("kt_wclient_start");
	tcase_add_test(tc, test_start_rejects);
	suite_add_tcase(s, tc);
	tc = tcase_create("kt_wclient_stats");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stats);
	suite_add_tcase(s, tc);
#ifdef KT_WITNESS_EXE
	tc = tcase_create("kt-witness");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_real_witness);
	suite_add_tcase(s, tc);
#endif
	return s;
}

int
main(void)
{
	/* The client logs its witnesses' state changes: quiet unless asked. */
	if (getenv("KT_TEST_VERBOSE") == NULL)
		kt_log_set_fd(-1);
	return kt_test_run(suite());
}
