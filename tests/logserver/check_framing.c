/*
 * check_framing.c: kt-logd and requests whose framing is ambiguous or
 * broken, end to end over plain sockets. Ambiguous framing (request
 * smuggling material behind a proxy) is refused with a JSON 400 and the
 * connection closed; the answers libmicrohttpd makes itself, which kt
 * cannot turn into JSON (docs/api.md lists them), keep their status and
 * close the connection; a client that half-closes after its write loses
 * nothing that was acknowledged.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/logd.h"
#include "harness/proc.h"
#include "harness/raw.h"
#include "harness/runner.h"

#define KEY_A "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

static struct logd S;

static void
setup(void)
{
	logd_up(&S, "");
}

static void
teardown(void)
{
	logd_down(&S);
}

/* Sends req (with %s for the token, if any) and reads until the server
 * closes; returns the status, the answer in buf. */
static int
exchange(const char *req, char *buf, size_t cap)
{
	char full[4096];
	int fd = raw_connect(raw_port(S.url), NULL, 0);
	long n;

	ck_assert_int_ge(fd, 0);
	snprintf(full, sizeof full, req, S.token);
	ck_assert_int_eq(raw_send(fd, full, strlen(full)), 0);
	n = raw_read_until_close(fd, buf, cap, 5);
	close(fd);
	ck_assert_msg(n >= 0, "the connection was left open: %s", buf);
	return raw_status(buf);
}

static void
refused(const char *req, const char *words)
{
	char buf[4096];

	ck_assert_msg(exchange(req, buf, sizeof buf) == 400, "%s", buf);
	ck_assert_msg(strstr(raw_body(buf), "{\"error\":\"ambiguous") != NULL,
	    "%s", buf);
	ck_assert_msg(strstr(raw_body(buf), words) != NULL, "%s", buf);
}

#define PUB \
	"{\"label\":\"smuggled\",\"key_type\":\"ed25519\",\"key\":\"" KEY_A \
	"\"}"

START_TEST(test_ambiguous_framing)
{
	char buf[4096];

	refused("POST /v1/keys HTTP/1.1\r\nHost: x\r\n"
	        "Authorization: Bearer %s\r\n"
	        "Content-Length: 84\r\nContent-Length: 5\r\n\r\n" PUB,
	    "two different Content-Length");
	refused("POST /v1/keys HTTP/1.1\r\nHost: x\r\n"
	        "Authorization: Bearer %s\r\nContent-Length: 5\r\n"
	        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	    "both Content-Length and Transfer-Encoding");
	refused("POST /v1/keys HTTP/1.1\r\nHost: x\r\n"
	        "Authorization: Bearer %s\r\n"
	        "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
	    "other than one 'chunked'");
	refused("GET /healthz HTTP/1.1\r\n\r\n", "without a Host");
	refused("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	    "more than one Host");
	/* Nothing of it was written (leaf 0 is the empty map's head). */
	ck_assert_uint_eq(logd_size(&S), 1);
	/* What is not ambiguous goes through: one Content-Length given
	 * twice alike, HTTP/1.0 without Host. */
	ck_assert_int_eq(exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n"
	                          "Content-Length: 0\r\nContent-Length: 0\r\n"
	                          "Connection: close\r\n\r\n",
	                     buf, sizeof buf),
	    200);
	ck_assert_int_eq(exchange("GET /healthz HTTP/1.0\r\n\r\n", buf,
	                     sizeof buf),
	    200);
}
END_TEST

/*
 * Errors libmicrohttpd 0.9.75 answers before kt sees the request (no hook
 * lets kt write their bodies, which are its own HTML): each keeps its
 * status and closes the connection, as docs/api.md says.
 */
START_TEST(test_library_errors)
{
	static const struct {
		int status;
		const char *head, *tail;
	} cases[] = {
		{ 414, "GET /", " HTTP/1.1\r\nHost: x\r\n\r\n" },
		{ 431,
		    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: ", "\r\n\r\n" },
		{ 505, "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", "" },
		{ 413,
		    "GET /healthz HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: 99999999999999999999999\r\n\r\n",
		    "" },
		{ 400,
		    "GET /healthz HTTP/1.1\r\nHost: x\r\n"
		    "Content-Length: 1x\r\n\r\n",
		    "" },
		{ 400, "GET /healthz HTTP/1.1\r\nHost: x\r\nBad header\r\n\r\n",
		    "" },
	};
	static char big[70000], req[sizeof big + 256], buf[8192];

	memset(big, 'a', sizeof big - 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *fill = cases[i].tail[0] != '\0' ? big : "";
		int fd = raw_connect(raw_port(S.url), NULL, 0);

		snprintf(req, sizeof req, "%s%s%s", cases[i].head, fill,
		    cases[i].tail);
		ck_assert_int_ge(fd, 0);
		(void)raw_send(fd, req, strlen(req));
		ck_assert_msg(raw_read_until_close(fd, buf, sizeof buf, 5) >= 0,
		    "case %zu: left open", i);
		ck_assert_msg(raw_status(buf) == cases[i].status,
		    "case %zu: %s", i, buf);
		close(fd);
	}
	/* A chunked body with a bad chunk size: kt has admitted the write
	 * (the token is valid) but libmicrohttpd answers the bad chunk. */
	ck_assert_int_eq(exchange("POST /v1/keys HTTP/1.1\r\nHost: x\r\n"
	                          "Authorization: Bearer %s\r\n"
	                          "Transfer-Encoding: chunked\r\n\r\n"
	                          "zz\r\nabc\r\n0\r\n\r\n",
	                     buf, sizeof buf),
	    400);
	/* Those kt makes from the same requests are JSON. */
	ck_assert_int_eq(exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n"
	                          "Content-Length: 999999999999999\r\n\r\n",
	                     buf, sizeof buf),
	    413);
	ck_assert(strncmp(raw_body(buf), "{\"error\":", 9) == 0);
	ck_assert_uint_eq(logd_size(&S), 1);
}
END_TEST

/* ---- half-closed clients ---------------------------------------------- */

#define HALF 20

struct half {
	int id;
	int answered;
};

static void *
half_close_one(void *arg)
{
	struct half *hc = arg;
	char body[256], req[1024], buf[8192];
	int fd = raw_connect(raw_port(S.url), NULL, 0);
	int n;

	if (fd < 0)
		return NULL;
	n = snprintf(body, sizeof body,
	    "{\"label\":\"half%d\",\"key_type\":\"ed25519\",\"key\":\"%s\"}",
	    hc->id, KEY_A);
	snprintf(req, sizeof req,
	    "POST /v1/keys HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s",
	    S.token, n, body);
	if (raw_send(fd, req, strlen(req)) == 0 && shutdown(fd, SHUT_WR) == 0 &&
	    raw_read_until_close(fd, buf, sizeof buf, 10) > 0)
		hc->answered = raw_status(buf) == 200;
	close(fd);
	return NULL;
}

/*
 * HALF clients at once each send a write and half-close. libmicrohttpd
 * 0.9.75 closes a connection that reads end-of-input when it resumes after
 * the commit, so some answers are lost (docs/api.md): what is tested is
 * that every write was committed (a retry is idempotent) and nothing else.
 */
START_TEST(test_half_closed_writes)
{
	pthread_t th[HALF];
	struct half hc[HALF];
	int answered = 0;

	for (int i = 0; i < HALF; i++) {
		hc[i] = (struct half){ .id = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, half_close_one,
		                     &hc[i]),
		    0);
	}
	for (int i = 0; i < HALF; i++) {
		pthread_join(th[i], NULL);
		answered += hc[i].answered;
	}
	fprintf(stderr,
	    "half-closed writes: %d of %d answered, %llu in the "
	    "log\n",
	    answered, HALF,
	    (unsigned long long)logd_count_updates(&S, logd_size(&S)));
	ck_assert_uint_eq(logd_count_updates(&S, logd_size(&S)), HALF);
	/* Each write is there, proved by its lookup. */
	for (int i = 0; i < HALF; i++) {
		struct kt_lookup_proof *p = malloc(sizeof *p);
		struct kt_lookup_result res;
		struct kt_checkpoint cp;
		char label[32];

		ck_assert_ptr_nonnull(p);
		snprintf(label, sizeof label, "half%d", i);
		ck_assert_int_eq(logd_lookup(&S, label, &cp, p, &res), 200);
		ck_assert_uint_eq(res.leaf.version, 1);
		free(p);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd framing");

	kt_test_fixture_case(s, "framing", 60, setup, teardown,
	    test_ambiguous_framing, test_library_errors,
	    test_half_closed_writes, NULL);
	return kt_test_run(s);
}
