/*
 * check_witness_flood.c: kt-witness against slow clients, end to end. A
 * connection trickling header bytes is cut off at the request deadline
 * (--request-timeout), however busy it looks; a flood of trickling
 * connections from many addresses, more than the witness's connection
 * limit, leaves room for a well-behaved client, who is answered within a
 * bound; one address holds no more than --max-connections-per-ip; the
 * options that set these are checked.
 *
 * The kt-witness binary is $KT_WITNESS. Every witness started here is
 * stopped here (harness/witnessd.h), also when a check fails; every
 * connection goes to 127.0.0.1, from sources in 127.0.0.0/8.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/proc.h"
#include "harness/raw.h"
#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "harness/witnessd.h"
#include "witness_testlib.h"

#define ORIGIN "example.com/flood-log"

static struct witnessd W;

/* A witness for one log, serving with the options extra (NULL: none). */
static void
witness_up(const char *const *extra)
{
	struct kt_signer *log = wt_signer(ORIGIN, KT_KEY_ED25519, 0x5a);
	char dir[256], lkey[KT_KEY_TEXT_MAX];

	ck_assert_ptr_nonnull(log);
	wt_verifier_string(log, lkey);
	kt_signer_free(log);
	ck_assert_int_eq(tmpdir_make("kt-witness-flood", dir, sizeof dir), 0);
	ck_assert_int_eq(witnessd_keygen(&W,
	                     proc_bin("KT_WITNESS", "kt-witness"), dir, "w1"),
	    0);
	ck_assert_msg(witnessd_start_with(&W, lkey, extra) == 0,
	    "kt-witness did not start with these options");
}

static void
teardown(void)
{
	(void)witnessd_stop(&W, 5);
}

/* A GET that the witness answers 404 (it has cosigned nothing for this
 * origin hash): any answer shows that a handler ran. */
static const char probe_get[] =
    "GET /0000000000000000000000000000000000000000000000000000000000000000"
    "/checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/* The start of a request that never ends. */
static const char slow_head[] = "GET /0000000000000000000000000000000000000000"
                                "000000000000000000000000/checkpoint "
                                "HTTP/1.1\r\nHost: x\r\n";

/* ---- the request deadline --------------------------------------------- */

static void
setup_deadline(void)
{
	static const char *const opts[] = { "--request-timeout", "3", NULL };

	witness_up(opts);
}

/* A connection that sends a header byte every 250 ms (never idle for the
 * 30 s inactivity timeout) is closed at the 3 s request deadline. */
START_TEST(test_request_deadline)
{
	int fd = raw_connect(W.port, NULL, 0);
	double t0 = proc_now_s(), closed = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(raw_send(fd, slow_head, sizeof slow_head - 1), 0);
	while (proc_now_s() - t0 < 8) {
		char b[64];
		proc_sleep_ms(250);
		if (send(fd, "a", 1, MSG_NOSIGNAL) != 1 ||
		    raw_read_until_close(fd, b, sizeof b, 0.01) >= 0) {
			closed = proc_now_s() - t0;
			break;
		}
	}
	close(fd);
	fprintf(stderr,
	    "kt-witness, trickled headers: closed after %.2f s "
	    "(0: not within 8 s)\n",
	    closed);
	ck_assert_msg(closed > 2 && closed < 5,
	    "closed after %.2f s (0: not within 8 s)", closed);
}
END_TEST

/* ---- a flood of slow connections, at the default settings ------------- */

static void
setup_default(void)
{
	witness_up(NULL);
}

/* Opens n slow connections from sources 127.0.<net>.<1..n> (or all from
 * 127.0.<net>.1), each having sent the start of a request. */
static void
open_slow(int *fds, int n, int net, int one_source)
{
	for (int i = 0; i < n; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.0.%d.%d", net,
		    one_source ? 1 : 1 + i % 250);
		fds[i] = raw_connect(W.port, src, 1);
		if (fds[i] >= 0)
			(void)send(fds[i], slow_head, sizeof slow_head - 1,
			    MSG_NOSIGNAL);
	}
}

/* One more header byte on each slow connection still open. */
static void
trickle(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0 && send(fds[i], "X", 1, MSG_NOSIGNAL) != 1) {
			close(fds[i]);
			fds[i] = -1;
		}
}

/* How many of the n connections are still open (as far as we know). */
static int
open_count(const int *fds, int n)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += fds[i] >= 0;
	return k;
}

static void
close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* A well-behaved client from its own address: seconds to its answer (a
 * whole 404), or -1 if none came within 5 s. */
static double
probe_latency(const char *src)
{
	char buf[4096];
	double t0 = proc_now_s();
	int fd = raw_connect(W.port, src, 0);
	long n;

	if (fd < 0)
		return -1;
	if (raw_send(fd, probe_get, sizeof probe_get - 1) != 0) {
		close(fd);
		return -1;
	}
	n = raw_read_answer(fd, buf, sizeof buf, 5);
	close(fd);
	return n > 0 && raw_status(buf) == 404 ? proc_now_s() - t0 : -1;
}

/*
 * 16 slow connections from one address, then 120 from 120 others (136,
 * more than the 128 kt-witness takes at once), each trickling a header
 * byte every 250 ms, at the default settings (a 30 s request deadline, so
 * only the room kept for new clients can serve them): the probes of
 * clients that come during the attack must be answered within 2 s.
 */
START_TEST(test_slowloris)
{
	int one[16], many[120];
	double worst = 0, t0;
	int probes = 0;

	open_slow(one, 16, 1, 1);
	open_slow(many, 120, 2, 0);
	t0 = proc_now_s();
	while (proc_now_s() - t0 < 6) {
		trickle(one, 16);
		trickle(many, 120);
		proc_sleep_ms(250);
		if (proc_now_s() - t0 > 1.5 + probes * 1.5) {
			char src[32];
			double l;
			snprintf(src, sizeof src, "127.0.3.%d", probes + 1);
			int slow = open_count(one, 16) + open_count(many, 120);
			l = probe_latency(src);
			fprintf(stderr,
			    "kt-witness, slowloris: probe %d at %.1f s, "
			    "%d slow connections open, answered in %.3f s "
			    "(-1: not in 5 s)\n",
			    probes, proc_now_s() - t0, slow, l);
			if (l < 0 || l > worst)
				worst = l < 0 ? 99 : l;
			probes++;
		}
	}
	close_all(one, 16);
	close_all(many, 120);
	ck_assert_int_ge(probes, 3);
	ck_assert_msg(worst < 2, "slowest probe: %.2f s (99: unanswered)",
	    worst);
}
END_TEST

/* ---- connections per address ------------------------------------------ */

static void
setup_per_ip(void)
{
	static const char *const opts[] = { "--max-connections-per-ip", "4",
		NULL };

	witness_up(opts);
}

/* Six connections from one address against a limit of four: the last two
 * are closed at once, the first four stay open, and another address is
 * still served. */
START_TEST(test_per_ip_limit)
{
	int fds[6], closed = 0;
	double l;

	for (int i = 0; i < 6; i++) {
		fds[i] = raw_connect(W.port, "127.0.4.1", 0);
		ck_assert_int_ge(fds[i], 0);
		(void)send(fds[i], slow_head, sizeof slow_head - 1,
		    MSG_NOSIGNAL);
		/* In order: the server accepts them one after the other. */
		proc_sleep_ms(50);
	}
	proc_sleep_ms(300);
	for (int i = 0; i < 6; i++) {
		char b[256];
		int c = raw_read_until_close(fds[i], b, sizeof b, 0.05) >= 0;

		ck_assert_msg(c == (i >= 4), "connection %d %s", i,
		    c ? "closed" : "still open");
		closed += c;
	}
	l = probe_latency("127.0.4.2");
	close_all(fds, 6);
	fprintf(stderr,
	    "kt-witness, per address: %d of 6 closed, probe from "
	    "another address answered in %.3f s\n",
	    closed, l);
	ck_assert_msg(l >= 0 && l < 2, "probe: %.2f s (-1: unanswered)", l);
}
END_TEST

/* ---- the options ------------------------------------------------------ */

/* A connection option out of its range, not a number, or without its
 * value is a usage error (exit 2) that names the option; nothing is
 * served. */
START_TEST(test_limit_options)
{
	static const char *const bad[][2] = {
		{ "--max-connections", "0" },
		{ "--max-connections", "10001" },
		{ "--max-connections-per-ip", "-1" },
		{ "--connection-timeout", "30s" },
		{ "--request-timeout", "86401" },
		{ "--request-timeout", NULL },
	};
	struct kt_signer *log = wt_signer(ORIGIN, KT_KEY_ED25519, 0x5a);
	char lkey[KT_KEY_TEXT_MAX], err[2048];

	wt_verifier_string(log, lkey);
	kt_signer_free(log);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *argv[] = { proc_bin("KT_WITNESS", "kt-witness"),
			"serve", "--data", "/nonexistent/kt-witness",
			"--listen", "127.0.0.1:0", "--key", "/nonexistent/key",
			"--log", lkey, bad[i][0], bad[i][1], NULL };
		int st = proc_run(argv, NULL, 0, err, sizeof err, 10);

		ck_assert_msg(st == 2 && strstr(err, bad[i][0]) != NULL,
		    "%s %s: exit %d: %s", bad[i][0],
		    bad[i][1] ? bad[i][1] : "(none)", st, err);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-witness under floods");

	kt_test_fixture_case(s, "request_deadline", 60, setup_deadline,
	    teardown, test_request_deadline, NULL);
	kt_test_fixture_case(s, "slow_clients", 60, setup_default, teardown,
	    test_slowloris, NULL);
	kt_test_fixture_case(s, "per_address", 60, setup_per_ip, teardown,
	    test_per_ip_limit, NULL);
	kt_test_case(s, "options", 30, test_limit_options, NULL);
	return kt_test_run(s);
}
