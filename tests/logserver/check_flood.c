/*
 * check_flood.c: kt-logd against hostile clients, end to end. Bodies are
 * refused from the headers when nobody wants them (no token, a route that
 * takes none, no room left in the buffer budget); a flood of 8 MiB uploads
 * keeps the server's memory bounded (its peak RSS, from /proc) and a probe
 * answered; trickled headers are cut off at the request deadline; a flood
 * of slow connections from many addresses leaves room for a well-behaved
 * client, who is answered within a bound.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
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

static struct logd S;

static void
teardown(void)
{
	logd_down(&S);
}

/* ---- bodies refused from the headers ---------------------------------- */

static const char small_budget[] = "# room for one 1 MiB body at a time\n"
                                   "max_body = 1048576\n"
                                   "max_buffered = 1048576\n";

static void
setup_small_budget(void)
{
	logd_up(&S, small_budget);
}

/*
 * Sends head (a request announcing a body it never sends) and expects an
 * answer with status at once, JSON, and the connection closed.
 */
static void
refused_at_once(const char *head, int status, const char *words)
{
	char buf[4096];
	int fd = raw_connect(raw_port(S.url), NULL, 0);
	double t0 = proc_now_s();

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(raw_send(fd, head, strlen(head)), 0);
	ck_assert_msg(raw_read_until_close(fd, buf, sizeof buf, 3) >= 0,
	    "no answer before the body: %s", buf);
	ck_assert_msg(raw_status(buf) == status, "%s", buf);
	ck_assert_msg(strstr(raw_body(buf), "{\"error\":") != NULL, "%s", buf);
	ck_assert_msg(strstr(raw_body(buf), words) != NULL, "%s", buf);
	ck_assert(proc_now_s() - t0 < 2);
	close(fd);
}

START_TEST(test_body_refused_from_headers)
{
	char head[512];
	char buf[4096];
	int holder;

	/* A route that takes no body. */
	refused_at_once("GET /checkpoint HTTP/1.1\r\nHost: x\r\n"
	                "Content-Length: 1000000\r\n\r\n",
	    413, "takes no request body");
	refused_at_once("GET /healthz HTTP/1.1\r\nHost: x\r\n"
	                "Transfer-Encoding: chunked\r\n\r\n",
	    413, "takes no request body");
	/* A write without a valid token: 401 before the body. */
	refused_at_once("POST /v1/keys HTTP/1.1\r\nHost: x\r\n"
	                "Content-Length: 1000000\r\n\r\n",
	    401, "Authorization");
	refused_at_once("POST /v1/keys:batch HTTP/1.1\r\nHost: x\r\n"
	                "Authorization: Bearer nope\r\n"
	                "Content-Length: 1000000\r\n\r\n",
	    401, "not valid");
	/* The budget: one connection holds it all, the next gets 503. */
	snprintf(head, sizeof head,
	    "POST /v1/keys:batch HTTP/1.1\r\nHost: x\r\n"
	    "Authorization: Bearer %s\r\nContent-Length: 1000000\r\n\r\n{",
	    S.token);
	holder = raw_connect(raw_port(S.url), NULL, 0);
	ck_assert_int_ge(holder, 0);
	ck_assert_int_eq(raw_send(holder, head, strlen(head)), 0);
	proc_sleep_ms(200);
	{
		int fd = raw_connect(raw_port(S.url), NULL, 0);
		char ra[16];

		ck_assert_int_eq(raw_send(fd, head, strlen(head)), 0);
		ck_assert_int_ge(raw_read_until_close(fd, buf, sizeof buf, 3),
		    0);
		ck_assert_msg(raw_status(buf) == 503, "%s", buf);
		ck_assert_int_eq(raw_header(buf, "Retry-After", ra, sizeof ra),
		    0);
		ck_assert_int_ge(atoi(ra), 1);
		ck_assert_msg(strstr(raw_body(buf), "max_buffered") != NULL,
		    "%s", buf);
		close(fd);
	}
	/* Once the holder is gone, its room is free again. */
	close(holder);
	proc_sleep_ms(300);
	{
		struct http_resp r;
		char body[256];

		snprintf(body, sizeof body,
		    "{\"label\":\"after\",\"key_type\":"
		    "\"ed25519\",\"key\":\"%s\"}",
		    "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
		ck_assert_int_eq(logd_post(&S, "/v1/keys", body, &r), 200);
		http_resp_free(&r);
	}
}
END_TEST

/*
 * A write body of a million JSON values would cost jansson ~40 bytes each:
 * refused before it is parsed.
 */
START_TEST(test_json_values_bounded)
{
	size_t n = 900000;
	char *body = malloc(n + 64), url[128];
	struct http_resp r;
	size_t len;

	ck_assert_ptr_nonnull(body);
	len = (size_t)sprintf(body, "{\"entries\":[");
	for (size_t i = 0; i < (n - 64) / 2; i++) {
		body[len++] = '1';
		body[len++] = ',';
	}
	len += (size_t)sprintf(body + len, "1]}");
	snprintf(url, sizeof url, "%s/v1/keys:batch", S.url);
	ck_assert_int_eq(http_request(NULL, "POST", url, S.token, NULL, body,
	                     len, &r),
	    0);
	ck_assert_msg(r.status == 413, "%ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "JSON values"));
	http_resp_free(&r);
	free(body);
}
END_TEST

/* ---- a flood of 8 MiB uploads ----------------------------------------- */

/* Connections in the flood: 200 here; $KT_FLOOD_CONNECTIONS (up to
 * FLOODERS_MAX) for a longer run by hand. */
#define FLOODERS_MAX 1000
#define FLOODERS_DEFAULT 200
#define FLOOD_BODY (8u << 20)

struct flooder {
	int fd;
	char head[512];
	size_t hlen, sent, total;
	int done;
};

struct probe {
	const char *url;
	double start_after, latency;
	long status;
};

static void *
probe_run(void *arg)
{
	struct probe *p = arg;
	struct http_resp r;
	double t0;

	proc_sleep_ms((unsigned)(p->start_after * 1000));
	t0 = proc_now_s();
	(void)http_get(p->url, &r);
	p->latency = proc_now_s() - t0;
	p->status = r.status;
	http_resp_free(&r);
	return NULL;
}

/*
 * The peak RSS the flood may cause. Under a sanitizer (the kt-logd under
 * test is built the same way as this test) memory is inflated: ASan keeps
 * freed memory in a 256 MiB quarantine and adds redzones and shadow, TSan
 * shadows every byte several times. There the bound only says memory is
 * not unbounded; the plain build checks the real one.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_BOUND_KIB (640 * 1024)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RSS_BOUND_KIB (640 * 1024)
#endif
#endif
#ifndef RSS_BOUND_KIB
#define RSS_BOUND_KIB (160 * 1024)
#endif

/* The body bytes: "{"entries":[1,1,1,..." (costly for a JSON parser). */
static const char *
flood_bytes(size_t off, size_t *n)
{
	static char chunk[65536];

	if (chunk[0] == '\0')
		for (size_t i = 0; i < sizeof chunk; i += 2)
			memcpy(chunk + i, "1,", 2);
	*n = sizeof chunk;
	if (off == 0) {
		static char first[65536];
		memcpy(first, chunk, sizeof first);
		memcpy(first, "{\"entries\":[", 12);
		return first;
	}
	return chunk;
}

/* Pushes what f can send now; marks it done at the end or an error. */
static void
flood_step(struct flooder *f, short revents)
{
	char sink[4096];

	if (revents & POLLIN) {
		ssize_t k = recv(f->fd, sink, sizeof sink, MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN)) {
			f->done = 1;
			return;
		}
	}
	if (revents & (POLLERR | POLLHUP)) {
		f->done = 1;
		return;
	}
	if (!(revents & POLLOUT) || f->sent >= f->hlen + f->total)
		return;
	while (f->sent < f->hlen + f->total) {
		const char *p;
		size_t n;
		ssize_t k;

		if (f->sent < f->hlen) {
			p = f->head + f->sent;
			n = f->hlen - f->sent;
		} else {
			size_t off = f->sent - f->hlen;
			/* n is set by flood_bytes: call it before using n. */
			p = flood_bytes(off, &n);
			p += off % n;
			n -= off % n;
			if (n > f->total - off)
				n = f->total - off;
		}
		k = send(f->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0) {
			if (errno != EAGAIN)
				f->done = 1;
			return;
		}
		f->sent += (size_t)k;
	}
}

/*
 * nf connections each announce an 8 MiB body and push it as fast as
 * the server reads: a quarter without a token, a quarter to GET
 * /checkpoint, a quarter with the token (Content-Length), a quarter with
 * the token (chunked). kt-logd's peak RSS must stay bounded, and a probe
 * sent during the flood must be answered.
 */
START_TEST(test_body_flood)
{
	static struct flooder f[FLOODERS_MAX];
	static struct pollfd pf[FLOODERS_MAX];
	const char *env = getenv("KT_FLOOD_CONNECTIONS");
	int nf = env != NULL ? atoi(env) : FLOODERS_DEFAULT;
	struct probe pr = { .start_after = 1.0 };
	char url[128];
	pthread_t th;
	double t0 = proc_now_s();
	long hwm, base = raw_proc_kib(S.pid, "VmHWM");
	size_t bytes = 0;
	int left;

	if (nf < 4 || nf > FLOODERS_MAX)
		nf = FLOODERS_DEFAULT;
	snprintf(url, sizeof url, "%s/checkpoint", S.url);
	pr.url = url;
	for (int i = 0; i < nf; i++) {
		const char *kind[] = {
			"POST /v1/keys:batch HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: %u\r\n\r\n",
			"GET /checkpoint HTTP/1.1\r\nHost: x\r\n"
			"Content-Length: %u\r\n\r\n",
			"POST /v1/keys:batch HTTP/1.1\r\nHost: x\r\n"
			"Authorization: Bearer %s\r\nContent-Length: %u\r\n\r\n",
		};
		f[i] = (struct flooder){ .total = FLOOD_BODY };
		switch (i % 4) {
		case 0:
		case 1:
			f[i].hlen = (size_t)snprintf(f[i].head,
			    sizeof f[i].head, kind[i % 4], FLOOD_BODY);
			break;
		case 2:
			f[i].hlen = (size_t)snprintf(f[i].head,
			    sizeof f[i].head, kind[2], S.token, FLOOD_BODY);
			break;
		case 3:
			/* Chunked: the body goes as it is (one endless
			 * chunk of 8 MiB announced in hex). */
			f[i].hlen =
			    (size_t)snprintf(f[i].head, sizeof f[i].head,
			        "POST /v1/keys:batch HTTP/1.1\r\nHost: x\r\n"
			        "Authorization: Bearer %s\r\n"
			        "Transfer-Encoding: chunked\r\n\r\n%x\r\n",
			        S.token, FLOOD_BODY);
			break;
		}
		f[i].fd = raw_connect(raw_port(S.url), NULL, 1);
		ck_assert_int_ge(f[i].fd, 0);
	}
	ck_assert_int_eq(pthread_create(&th, NULL, probe_run, &pr), 0);
	do {
		left = 0;
		for (int i = 0; i < nf; i++) {
			pf[i].fd = f[i].done ? -1 : f[i].fd;
			pf[i].events = POLLIN | POLLOUT;
			pf[i].revents = 0;
			left += !f[i].done;
		}
		if (poll(pf, (nfds_t)nf, 100) > 0)
			for (int i = 0; i < nf; i++)
				if (pf[i].revents)
					flood_step(&f[i], pf[i].revents);
	} while (left > 0 && proc_now_s() - t0 < 8);
	hwm = raw_proc_kib(S.pid, "VmHWM");
	pthread_join(th, NULL);
	for (int i = 0; i < nf; i++) {
		bytes += f[i].sent;
		close(f[i].fd);
	}
	fprintf(stderr,
	    "body flood: %d connections x 8 MiB, %.0f MiB sent in %.1f s; "
	    "VmHWM %ld KiB (at start %ld KiB); probe %ld in %.3f s\n",
	    nf, bytes / 1048576.0, proc_now_s() - t0, hwm, base, pr.status,
	    pr.latency);
	ck_assert_int_gt(hwm, 0);
	ck_assert_msg(hwm < RSS_BOUND_KIB, "peak RSS %ld KiB", hwm);
	ck_assert_int_eq(pr.status, 200);
	ck_assert_msg(pr.latency < 5, "probe took %.1f s", pr.latency);
	ck_assert_int_eq(http_wait(url, 200, 5000), 0);
}
END_TEST

static void
setup_default(void)
{
	logd_up(&S, "");
}

/* ---- slow clients ------------------------------------------------------- */

static const char slow_config[] = "max_connections = 64\n"
                                  "max_connections_per_ip = 16\n"
                                  "request_timeout = 3\n"
                                  "connection_timeout = 30\n";

static void
setup_slow(void)
{
	logd_up(&S, slow_config);
}

/* A connection that keeps sending a header byte now and then is cut off
 * at the request deadline, however busy it looks. */
START_TEST(test_request_deadline)
{
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-a: ";
	int fd = raw_connect(raw_port(S.url), NULL, 0);
	double t0 = proc_now_s(), closed = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(raw_send(fd, head, sizeof head - 1), 0);
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
	fprintf(stderr, "trickled headers: closed after %.2f s\n", closed);
	ck_assert_msg(closed > 2 && closed < 5,
	    "closed after %.2f s (0: never)", closed);
}
END_TEST

/* Opens n slow connections from sources 127.0.<net>.<1..n>, each having
 * sent the start of a request. */
static void
open_slow(int *fds, int n, int net, int one_source)
{
	static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";

	for (int i = 0; i < n; i++) {
		char src[32];
		snprintf(src, sizeof src, "127.0.%d.%d", net,
		    one_source ? 1 : 1 + i % 250);
		fds[i] = raw_connect(raw_port(S.url), src, 1);
		if (fds[i] >= 0)
			(void)send(fds[i], head, sizeof head - 1, MSG_NOSIGNAL);
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

/* A well-behaved client from its own address: seconds to its answer, or
 * -1 if none came within 5 s. */
static double
probe_latency(const char *src)
{
	static const char get[] = "GET /checkpoint HTTP/1.1\r\nHost: x\r\n"
	                          "Connection: close\r\n\r\n";
	char buf[4096];
	double t0 = proc_now_s();
	int fd = raw_connect(raw_port(S.url), src, 0);
	long n;

	if (fd < 0)
		return -1;
	if (raw_send(fd, get, sizeof get - 1) != 0) {
		close(fd);
		return -1;
	}
	n = raw_read_answer(fd, buf, sizeof buf, 5);
	close(fd);
	return n > 0 && raw_status(buf) == 200 ? proc_now_s() - t0 : -1;
}

/*
 * 40 slow connections from one address, then 120 from 120 others (more
 * than max_connections), each trickling a header byte every 250 ms: the
 * probes of clients that come during the attack must be answered within
 * 2 s.
 */
START_TEST(test_slowloris)
{
	int one[40], many[120];
	double worst = 0, t0;
	int probes = 0;

	open_slow(one, 40, 1, 1);
	open_slow(many, 120, 2, 0);
	t0 = proc_now_s();
	while (proc_now_s() - t0 < 6) {
		trickle(one, 40);
		trickle(many, 120);
		proc_sleep_ms(250);
		if (proc_now_s() - t0 > 1 + probes * 1.5) {
			char src[32];
			double l;
			snprintf(src, sizeof src, "127.0.3.%d", probes + 1);
			l = probe_latency(src);
			fprintf(stderr,
			    "slowloris: probe %d answered in "
			    "%.3f s (-1: not in 5 s)\n",
			    probes, l);
			if (l < 0 || l > worst)
				worst = l < 0 ? 99 : l;
			probes++;
		}
	}
	for (int i = 0; i < 40; i++)
		if (one[i] >= 0)
			close(one[i]);
	for (int i = 0; i < 120; i++)
		if (many[i] >= 0)
			close(many[i]);
	ck_assert_int_ge(probes, 3);
	ck_assert_msg(worst < 2, "slowest probe: %.2f s", worst);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd under floods");

	kt_test_fixture_case(s, "bodies", 60, setup_small_budget, teardown,
	    test_body_refused_from_headers, test_json_values_bounded, NULL);
	kt_test_fixture_case(s, "body_flood", 90, setup_default, teardown,
	    test_body_flood, NULL);
	kt_test_fixture_case(s, "slow_clients", 60, setup_slow, teardown,
	    test_request_deadline, test_slowloris, NULL);
	return kt_test_run(s);
}
