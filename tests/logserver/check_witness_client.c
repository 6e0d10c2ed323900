/*
 * check_witness_client.c: kt-logd's witness client against fake witnesses
 * (wclient_fake.c: libmicrohttpd on 127.0.0.1 that checks and cosigns like
 * a C2SP tlog-witness) and, when built, the real kt-witness.
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
#include "witness_client/protocol.h"
#include "witness_client/witness_client.h"

#define MAXW 6

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
sleep_ms(unsigned ms)
{
	usleep(ms * 1000u);
}

/* The value after the first line starting with prefix. */
static uint64_t
metric(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	ck_assert_msg(p != NULL, "no metric %s in:\n%s", prefix, text);
	return strtoull(p + strlen(prefix), NULL, 10);
}

static struct kt_wclient_opts
test_opts(unsigned quorum)
{
	struct kt_wclient_opts o;

	memset(&o, 0, sizeof(o));
	o.interval_ms = 100;
	o.connect_timeout_ms = 300;
	o.timeout_ms = 500;
	o.quorum = quorum;
	return o;
}

static void
cfg_for(struct kt_wclient_cfg *c, const char *url,
    const struct kt_verifier *key)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->url, sizeof(c->url), "%s", url);
	c->key = *key;
}

/*
 * The cosigned checkpoint served now: verifies it against the log key and
 * the witness keys; returns its size and which witnesses cosigned it
 * (ok[1 + i]), or UINT64_MAX if none is served yet.
 */
static uint64_t
served(struct kt_wclient *w, const struct kt_verifier *logkey,
    const struct kt_verifier *wkeys, size_t nw, uint8_t *cosigned,
    size_t *nsigs)
{
	static char buf[KT_NOTE_MAX];
	struct kt_verifier vs[1 + MAXW];
	struct kt_note note;
	struct kt_checkpoint ck;
	uint8_t ok[1 + MAXW];
	uint64_t size = 0;
	size_t len = 0, i;
	kt_err rc;

	rc = kt_wclient_checkpoint(w, buf, sizeof(buf), &len, &size);
	if (rc == KT_ERR_NOT_FOUND)
		return UINT64_MAX;
	ck_assert_int_eq(rc, KT_OK);
	ck_assert_uint_eq(strlen(buf), len);
	vs[0] = *logkey;
	for (i = 0; i < nw; i++)
		vs[1 + i] = wkeys[i];
	/* A valid signed note: the log signed it and every cosignature in it
	 * verifies (kt_note_open rejects a known key's bad signature). */
	rc = kt_note_open(buf, len, vs, 1 + nw, &note, ok, NULL);
	ck_assert_int_eq(rc, KT_OK);
	ck_assert_int_eq(ok[0], 1);
	ck_assert_int_eq(kt_checkpoint_parse(note.text, note.text_len, &ck),
	    KT_OK);
	ck_assert_uint_eq(ck.size, size);
	for (i = 0; i < nw; i++)
		cosigned[i] = ok[1 + i];
	if (nsigs != NULL)
		*nsigs = note.nsigs;
	return size;
}

/* Waits (up to ms) until the served checkpoint has size `size` and is
 * cosigned by every witness i with want[i]; returns the elapsed ms or -1. */
static long
wait_served(struct kt_wclient *w, const struct kt_verifier *logkey,
    const struct kt_verifier *wkeys, size_t nw, const uint8_t *want,
    uint64_t size, unsigned ms)
{
	uint64_t t0 = now_us();
	uint8_t got[MAXW];
	size_t i;

	for (;;) {
		if (served(w, logkey, wkeys, nw, got, NULL) == size) {
			for (i = 0; i < nw; i++)
				if (want[i] && !got[i])
					break;
			if (i == nw)
				return (long)((now_us() - t0) / 1000);
		}
		if (now_us() - t0 > (uint64_t)ms * 1000)
			return -1;
		sleep_ms(10);
	}
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

/* ---- kt_wclient_checkpoint ---------------------------------------------- */

/* Two good witnesses: nothing served before the log has a checkpoint, then
 * the cosigned checkpoint appears, verifies, and follows the log as it grows
 * (each step needs a correct consistency proof, or the fake answers 422). */
START_TEST(test_cosigned)
{
	struct fake_log *log = fake_log_new("log.example/cosigned");
	struct kt_wclient_source src = fake_log_source(log);
	struct fake_witness *fw[2];
	struct kt_wclient_cfg c[2];
	struct kt_verifier keys[2];
	struct kt_wclient_opts o = test_opts(2);
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	char url[64], buf[KT_NOTE_MAX], lognote[KT_NOTE_MAX];
	uint8_t want[2] = { 1, 1 }, got[2];
	size_t i, len, nsigs, lnlen;
	int step;

	for (i = 0; i < 2; i++) {
		fw[i] = fake_witness_start(i == 0 ? "w0.example" : "w1.example",
		    fake_log_key(log), FAKE_OK, 0);
		fake_witness_url(fw[i], url, sizeof(url));
		cfg_for(&c[i], url, fake_witness_key(fw[i]));
		keys[i] = *fake_witness_key(fw[i]);
	}
	ck_assert_int_eq(kt_wclient_start(&w, c, 2, &src, &o), KT_OK);
	sleep_ms(250);
	ck_assert_int_eq(kt_wclient_checkpoint(w, buf, sizeof(buf), &len, NULL),
	    KT_ERR_NOT_FOUND);

	fake_log_append(log, 0); /* the empty tree's checkpoint */
	kt_wclient_notify(w);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), keys, 2, want, 0,
	                     3000),
	    0);

	for (step = 1; step <= 6; step++) {
		fake_log_append(log, (size_t)(step * 7 - 3));
		kt_wclient_notify(w);
		ck_assert_int_ge(wait_served(w, fake_log_key(log), keys, 2,
		                     want, fake_log_size(log), 3000),
		    0);
	}
	/* The served note is the log's note plus exactly two lines. */
	ck_assert_uint_eq(served(w, fake_log_key(log), keys, 2, got, &nsigs),
	    fake_log_size(log));
	ck_assert_uint_eq(nsigs, 3);
	fake_log_note(log, lognote, sizeof(lognote), &lnlen);
	ck_assert_int_eq(kt_wclient_checkpoint(w, buf, sizeof(buf), &len, NULL),
	    KT_OK);
	ck_assert_uint_gt(len, lnlen);
	ck_assert_mem_eq(buf, lognote, lnlen);
	/* too small a buffer */
	ck_assert_int_eq(kt_wclient_checkpoint(w, buf, len, &len, NULL),
	    KT_ERR_TOO_LARGE);

	for (i = 0; i < 2; i++) {
		fake_witness_stats(fw[i], &st);
		ck_assert_uint_eq(st.size, fake_log_size(log));
		ck_assert_uint_eq(st.n422, 0);
		ck_assert_uint_eq(st.n409, 0);
		ck_assert_uint_eq(st.n400 + st.n403 + st.n404, 0);
		ck_assert_uint_ge(st.n200, 7);
	}
	kt_wclient_stop(w);
	for (i = 0; i < 2; i++)
		fake_witness_stop(fw[i]);
	fake_log_free(log);
}
END_TEST

/* An idle log: the unchanged checkpoint is resubmitted every refresh_ms,
 * so the witness's cosignature time keeps advancing; without it the
 * witness would hear from the log only once. */
START_TEST(test_idle_refresh)
{
	struct fake_log *log = fake_log_new("log.example/idle");
	struct kt_wclient_source src = fake_log_source(log);
	struct fake_witness *fw;
	struct kt_wclient_cfg c;
	struct kt_verifier key;
	struct kt_wclient_opts o = test_opts(1);
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	char url[64];
	uint8_t want[1] = { 1 };

	fw = fake_witness_start("w0.example", fake_log_key(log), FAKE_OK, 0);
	fake_witness_url(fw, url, sizeof(url));
	cfg_for(&c, url, fake_witness_key(fw));
	key = *fake_witness_key(fw);
	o.refresh_ms = 300;
	fake_log_append(log, 5);
	ck_assert_int_eq(kt_wclient_start(&w, &c, 1, &src, &o), KT_OK);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), &key, 1, want,
	                     fake_log_size(log), 3000),
	    0);
	sleep_ms(1500);
	fake_witness_stats(fw, &st);
	/* about 5 refreshes in 1.5 s; leave room for a loaded machine */
	ck_assert_uint_ge(st.n200, 3);
	ck_assert_uint_le(st.n200, 8);
	ck_assert_uint_eq(st.n409 + st.n422, 0);
	kt_wclient_stop(w);
	fake_witness_stop(fw);
	fake_log_free(log);
}
END_TEST

/* A busy log (a new checkpoint every 5 ms, each notified): every witness
 * gets at most about one submission per interval, all of them the same
 * checkpoint per round, so the served one keeps all three cosignatures
 * and keeps moving. */
START_TEST(test_busy_log)
{
	struct fake_log *log = fake_log_new("log.example/busy");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(3);
	struct fake_witness *fw[3];
	struct kt_wclient_cfg c[3];
	struct kt_verifier keys[3];
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	char url[64];
	uint8_t want[3] = { 1, 1, 1 }, got[3];
	uint64_t t0, size, last = UINT64_MAX;
	unsigned moves = 0;
	size_t i;

	fake_log_append(log, 1);
	for (i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "busy%zu.example", i);
		fw[i] = fake_witness_start(name, fake_log_key(log), FAKE_OK, 0);
		fake_witness_url(fw[i], url, sizeof(url));
		cfg_for(&c[i], url, fake_witness_key(fw[i]));
		keys[i] = *fake_witness_key(fw[i]);
	}
	ck_assert_int_eq(kt_wclient_start(&w, c, 3, &src, &o), KT_OK);
	t0 = now_us();
	while (now_us() - t0 < 1500000) {
		fake_log_append(log, 1);
		kt_wclient_notify(w);
		size = served(w, fake_log_key(log), keys, 3, got, NULL);
		if (size != UINT64_MAX) {
			/* quorum 3: whatever is served has all three */
			ck_assert(got[0] && got[1] && got[2]);
			if (size != last)
				moves++;
			last = size;
		}
		sleep_ms(5);
	}
	ck_assert_uint_ge(moves, 5);
	for (i = 0; i < 3; i++) {
		fake_witness_stats(fw[i], &st);
		/* 100 ms interval over ~1.5 s (+ the rounds' slack) */
		ck_assert_uint_le(st.requests, 20);
		ck_assert_uint_eq(st.n409 + st.n422 + st.n400 + st.n403, 0);
	}
	/* once the log stops, the last checkpoint gets cosigned */
	ck_assert_int_ge(wait_served(w, fake_log_key(log), keys, 3, want,
	                     fake_log_size(log), 2000),
	    0);
	kt_wclient_stop(w);
	for (i = 0; i < 3; i++)
		fake_witness_stop(fw[i]);
	fake_log_free(log);
}
END_TEST

/* A witness that already holds an older checkpoint of the log: the client
 * starts at old 0, learns the size from the 409 and retries at once with
 * the right old size and proof, in the same round. */
START_TEST(test_409_discovery)
{
	struct fake_log *log = fake_log_new("log.example/409");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(1);
	struct fake_witness *fw;
	struct kt_wclient_cfg c;
	struct kt_verifier key;
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	struct kt_hash root;
	char url[64];
	uint8_t want[1] = { 1 };
	long ms;

	fake_log_append(log, 13);
	fake_log_root(log, 13, &root);
	fake_log_append(log, 30);
	fw = fake_witness_start("w409.example", fake_log_key(log), FAKE_OK, 0);
	fake_witness_set_state(fw, 13, &root);
	fake_witness_url(fw, url, sizeof(url));
	cfg_for(&c, url, fake_witness_key(fw));
	key = *fake_witness_key(fw);
	/* A long interval: success within it shows the retry was immediate. */
	o.interval_ms = 5000;
	ck_assert_int_eq(kt_wclient_start(&w, &c, 1, &src, &o), KT_OK);
	ms = wait_served(w, fake_log_key(log), &key, 1, want, 43, 2000);
	ck_assert_int_ge(ms, 0);
	fake_witness_stats(fw, &st);
	ck_assert_uint_eq(st.n409, 1);
	ck_assert_uint_eq(st.n200, 1);
	ck_assert_uint_eq(st.n422, 0);
	ck_assert_uint_eq(st.size, 43);
	kt_wclient_stop(w);
	fake_witness_stop(fw);
	fake_log_free(log);
}
END_TEST

/* A witness whose history differs (it holds another root at size 13): 422,
 * never cosigned, counted as a conflict; the good one still cosigns. */
START_TEST(test_422_conflict)
{
	struct fake_log *log = fake_log_new("log.example/422");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(1);
	struct fake_witness *fw[2];
	struct kt_wclient_cfg c[2];
	struct kt_verifier keys[2];
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	struct kt_wclient_stats ws;
	struct kt_hash bogus;
	char url[64];
	uint8_t want[2] = { 0, 1 }, got[2];
	size_t i;

	fake_log_append(log, 20);
	memset(bogus.b, 0xab, sizeof(bogus.b));
	for (i = 0; i < 2; i++) {
		fw[i] = fake_witness_start(i == 0 ? "forked.example"
		                                  : "good.example",
		    fake_log_key(log), FAKE_OK, 0);
		fake_witness_url(fw[i], url, sizeof(url));
		cfg_for(&c[i], url, fake_witness_key(fw[i]));
		keys[i] = *fake_witness_key(fw[i]);
	}
	fake_witness_set_state(fw[0], 13, &bogus);
	ck_assert_int_eq(kt_wclient_start(&w, c, 2, &src, &o), KT_OK);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), keys, 2, want, 20,
	                     3000),
	    0);
	sleep_ms(300);
	ck_assert_uint_eq(served(w, fake_log_key(log), keys, 2, got, NULL), 20);
	ck_assert_int_eq(got[0], 0);
	fake_witness_stats(fw[0], &st);
	ck_assert_uint_ge(st.n422, 1);
	ck_assert_uint_eq(st.n200, 0);
	ck_assert_uint_eq(st.size, 13);
	kt_wclient_stats(w, &ws);
	ck_assert_uint_eq(ws.n, 2);
	ck_assert_str_eq(ws.w[0].name, "forked.example");
	ck_assert_str_eq(ws.w[0].url, c[0].url);
	ck_assert_uint_ge(ws.w[0].conflicts, 1);
	ck_assert_uint_eq(ws.w[0].ok, 0);
	ck_assert_uint_eq(ws.w[1].conflicts, 0);
	ck_assert_uint_ge(ws.w[1].ok, 1);
	kt_wclient_stop(w);
	for (i = 0; i < 2; i++)
		fake_witness_stop(fw[i]);
	fake_log_free(log);
}
END_TEST

/* A witness ahead of the log (it holds size 50, the log is at 20): the
 * 409 tells the client, which does not retry; lag is negative. */
START_TEST(test_witness_ahead)
{
	struct fake_log *log = fake_log_new("log.example/ahead");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(1);
	struct fake_witness *fw;
	struct kt_wclient_cfg c;
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	struct kt_wclient_stats ws;
	struct kt_hash root;
	char url[64], buf[KT_NOTE_MAX];
	uint64_t t0;
	size_t len;

	fake_log_append(log, 20);
	memset(root.b, 1, sizeof(root.b));
	fw = fake_witness_start("ahead.example", fake_log_key(log), FAKE_OK, 0);
	fake_witness_set_state(fw, 50, &root);
	fake_witness_url(fw, url, sizeof(url));
	cfg_for(&c, url, fake_witness_key(fw));
	ck_assert_int_eq(kt_wclient_start(&w, &c, 1, &src, &o), KT_OK);
	t0 = now_us();
	do {
		sleep_ms(20);
		fake_witness_stats(fw, &st);
	} while (st.n409 < 2 && now_us() - t0 < 3000000);
	/* one 409 per round: no retry with old 50 > 20 */
	ck_assert_uint_ge(st.n409, 2);
	ck_assert_uint_eq(st.requests, st.n409);
	ck_assert_int_eq(kt_wclient_checkpoint(w, buf, sizeof(buf), &len, NULL),
	    KT_ERR_NOT_FOUND);
	/* (the fake answers 409 text/x.tlog.size "50\n") */
	kt_wclient_stats(w, &ws);
	ck_assert_uint_eq(ws.w[0].size, 50);
	ck_assert_int_eq(ws.w[0].lag, -30);
	ck_assert_int_eq(ws.w[0].up, 0);
	kt_wclient_stop(w);
	fake_witness_stop(fw);
	fake_log_free(log);
}
END_TEST

/* A 409 without the text/x.tlog.size type (older spec versions used 409
 * for conflicts) carries no size: a failure, never retried at once. */
START_TEST(test_409_without_size)
{
	struct fake_log *log = fake_log_new("log.example/old409");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(1);
	struct fake_witness *fw;
	struct kt_wclient_cfg c;
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	struct kt_wclient_stats ws;
	char url[64];
	uint64_t t0;

	fake_log_append(log, 4);
	fw = fake_witness_start("old.example", fake_log_key(log), FAKE_OLD409,
	    0);
	fake_witness_url(fw, url, sizeof(url));
	cfg_for(&c, url, fake_witness_key(fw));
	ck_assert_int_eq(kt_wclient_start(&w, &c, 1, &src, &o), KT_OK);
	t0 = now_us();
	do {
		sleep_ms(20);
		fake_witness_stats(fw, &st);
	} while (st.requests < 3 && now_us() - t0 < 3000000);
	ck_assert_uint_ge(st.requests, 3);
	kt_wclient_stats(w, &ws);
	ck_assert_uint_ge(ws.w[0].fail, 2);
	ck_assert_uint_eq(ws.w[0].size, 0);
	kt_wclient_stop(w);
	fake_witness_stats(fw, &st);
	/* one request per 100 ms round: no immediate retries */
	ck_assert_uint_le(st.requests,
	    (unsigned)((now_us() - t0) / 100000) + 2);
	fake_witness_stop(fw);
	fake_log_free(log);
}
END_TEST

/* Witnesses answering 200 with a bad signature by their key, with
 * garbage, or with a body over the size cap: ignored (no line in the
 * served note), counted as failures. */
START_TEST(test_invalid_cosig)
{
	struct fake_log *log = fake_log_new("log.example/invalid");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(1);
	struct fake_witness *fw[4];
	struct kt_wclient_cfg c[4];
	struct kt_verifier keys[4];
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	enum fake_mode modes[4] = { FAKE_BADSIG, FAKE_GARBAGE, FAKE_HUGE,
		FAKE_OK };
	const char *names[4] = { "bad.example", "junk.example", "huge.example",
		"ok.example" };
	struct kt_wclient_stats ws;
	char url[64];
	uint8_t want[4] = { 0, 0, 0, 1 }, got[4];
	size_t i, nsigs;
	uint64_t t0;

	fake_log_append(log, 5);
	for (i = 0; i < 4; i++) {
		fw[i] = fake_witness_start(names[i], fake_log_key(log),
		    modes[i], 0);
		fake_witness_url(fw[i], url, sizeof(url));
		cfg_for(&c[i], url, fake_witness_key(fw[i]));
		keys[i] = *fake_witness_key(fw[i]);
	}
	ck_assert_int_eq(kt_wclient_start(&w, c, 4, &src, &o), KT_OK);
	ck_assert_int_ge(wait_served(w, fake_log_key(log), keys, 4, want, 5,
	                     3000),
	    0);
	/* let the bad ones answer a few times */
	t0 = now_us();
	do {
		sleep_ms(20);
		fake_witness_stats(fw[0], &st);
	} while (st.n200 < 2 && now_us() - t0 < 3000000);
	ck_assert_uint_ge(st.n200, 2);
	ck_assert_uint_eq(served(w, fake_log_key(log), keys, 4, got, &nsigs),
	    5);
	ck_assert_int_eq(got[0], 0);
	ck_assert_int_eq(got[1], 0);
	ck_assert_int_eq(got[2], 0);
	ck_assert_int_eq(got[3], 1);
	ck_assert_uint_eq(nsigs, 2); /* the log's and ok.example's */
	kt_wclient_stats(w, &ws);
	for (i = 0; i < 3; i++) {
		ck_assert_str_eq(ws.w[i].name, names[i]);
		ck_assert_uint_eq(ws.w[i].ok, 0);
		ck_assert_int_eq(ws.w[i].up, 0);
	}
	ck_assert_int_eq(ws.w[3].up, 1);
	kt_wclient_stop(w);
	for (i = 0; i < 4; i++)
		fake_witness_stop(fw[i]);
	fake_log_free(log);
}
END_TEST

/* A dead witness (closed port) and a slow one (answers after 5 s, the
 * client gives up after 2 s) do not hold back the two good ones, and
 * kt_wclient_checkpoint stays fast while the slow request is in flight. */
START_TEST(test_dead_and_slow)
{
	struct fake_log *log = fake_log_new("log.example/slow");
	struct kt_wclient_source src = fake_log_source(log);
	struct kt_wclient_opts o = test_opts(2);
	struct fake_witness *fw[3];
	struct kt_wclient_cfg c[4];
	struct kt_verifier keys[4];
	struct kt_wclient *w = NULL;
	struct fake_stats st;
	enum fake_mode modes[3] = { FAKE_SLOW, FAKE_OK, FAKE_OK };
	const char *names[3] = { "slow.example", "g1.example", "g2.example" };
	char url[64], buf[KT_NOTE_MAX];
	uint8_t want[4] = { 0, 1, 1, 0 }, got[4];
	uint64_t t0, t, worst = 0;
	size_t i, len;
	long ms;
	int calls = 0;

	fake_log_append(log, 9);
	for (i = 0; i < 3; i++) {
		fw[i] = fake_witness_start(names[i], fake_log_key(log),
		    modes[i], 5000);
		fake_witness_url(fw[i], url, sizeof(url));
		cfg_for(&c[i], url, fake_witness_key(fw[i]));
		keys[i] = *fake_witness_key(fw[i]);
	}
	{
		struct fake_witness *dead = fake_witness_start("dead.example",
		    fake_log_key(log), FAKE_OK, 0);

		keys[3] = *fake_witness_key(dead);
		fake_witness_stop(dead);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u",
		    fake_dead_port());
		cfg_for(&c[3], url, &keys[3]);
	}
	o.timeout_ms = 2000;
	t0 = now_us();
	ck_assert_int_eq(kt_wclient_start(&w, c, 4, &src, &o), KT_OK);
	ms = wait_served(w, fake_log_key(log), keys, 4, want, 9, 2500);
	ck_assert_int_ge(ms, 0);
	ck_assert_int_lt(ms, 1500); /* well before the slow one answers */

	/* Wait until the slow witness is inside its sleep, then hammer the
	 * reader: each call must return in under 10 ms. */
	do {
		fake_witness_stats(fw[0], &st);
		if (st.sleeping == 0)
			sleep_ms(5);
	} while (st.sleeping == 0 && now_us() - t0 < 5000000);
	ck_assert_uint_eq(st.sleeping, 1);
	t0 = now_us();
	while (now_us() - t0 < 300000) {
		t = now_us();
		ck_assert_int_eq(kt_wclient_checkpoint(w, buf, sizeof(buf),
		                     &len, NULL),
		    KT_OK);
		t = now_us() - t;
		if (t > worst)
			worst = t;
		calls++;
		usleep(1000);
	}
	ck_assert_uint_lt(worst, 10000);
	ck_assert_int_gt(calls, 50);

	/* The log grows while the slow one still hangs: the good ones
	 * cosign the new checkpoint promptly. */
	fake_log_append(log, 11);
	kt_wclient_notify(w);
	ms = wait_served(w, fake_log_key(log), keys, 4, want, 20, 2000);
	ck_assert_int_ge(ms, 0);
	ck_assert_int_lt(ms, 1000);
	ck_assert_uint_eq(served(w, fake_log_key(log), keys, 4, got, NULL), 20);
	ck_assert_int_eq(got[3], 0);

	/* Stopping does not wait for the slow witness. */
	fake_witness_stats(fw[0], &st);
	t = now_us();
	kt_wclient_stop(w);
	t = now_us() - t;
	ck_assert_uint_lt(t, 500000);
	for (i = 0; i < 3; i++)
		fake_witness_stop(fw[i]);
	fake_log_free(log);
	fprintf(stderr,
	    "dead_and_slow: reader worst %" PRIu64 " us over %d "
	    "calls; stop took %" PRIu64 " us\n",
	    worst, calls, t);
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
	tc = tcase_create("kt_wclient_checkpoint");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cosigned);
	tcase_add_test(tc, test_busy_log);
	tcase_add_test(tc, test_idle_refresh);
	tcase_add_test(tc, test_409_discovery);
	tcase_add_test(tc, test_422_conflict);
	tcase_add_test(tc, test_witness_ahead);
	tcase_add_test(tc, test_409_without_size);
	tcase_add_test(tc, test_invalid_cosig);
	tcase_add_test(tc, test_dead_and_slow);
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
