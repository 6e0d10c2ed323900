/*
 * check_witness_client_cosign.c: kt-logd's witness client getting
 * checkpoints cosigned by fake witnesses (wclient_fake.c): quorum, idle
 * refresh, a busy log, 409 and 422 answers, witnesses ahead, invalid
 * cosignatures, dead and slow witnesses.
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

static Suite *
suite(void)
{
	Suite *s = suite_create("witness_client_cosign");
	TCase *tc;

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
