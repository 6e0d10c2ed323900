/*
 * check_limits.c: every configurable limit of kt-logd, end to end, on a
 * server started with small limits: body size (Content-Length and chunked),
 * batch size, label and key sizes, page size (entries and history),
 * connection count (room kept for a new client), idle timeout, and 503
 * when the write queue is full. Rejected writes leave the tree unchanged.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/logd.h"
#include "harness/proc.h"
#include "harness/runner.h"

#define KEY_A "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define KEY_B "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="

static const char config[] = "# small limits for the test\n"
                             "max_body = 4096\n"
                             "max_batch = 5\n"
                             "max_label = 32\n"
                             "max_key = 64\n"
                             "page_size = 10\n"
                             "max_connections = 8\n"
                             "connection_timeout = 2\n"
                             "seq_max_batch = 5\n"
                             "seq_max_queue = 5\n"
                             "threads = 2\n";

static struct logd S;

static void
setup(void)
{
	logd_up(&S, config);
}

static void
teardown(void)
{
	logd_down(&S);
}

static long
post(const char *path, const char *body)
{
	struct http_resp r;
	long st = logd_post(&S, path, body, &r);
	if (st != 200 && st > 0)
		ck_assert_msg(strstr(r.body, "\"error\"") != NULL, "%s",
		    r.body);
	http_resp_free(&r);
	return st;
}

static int
connect_local(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	const char *p = strrchr(S.url, ':');

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(p + 1));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert(fd >= 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

/* Reads until the peer closes or timeout; returns bytes read, -1 if the
 * connection is still open at the timeout. */
static long
read_until_close(int fd, char *buf, size_t cap, double timeout)
{
	size_t len = 0;
	double t0 = proc_now_s();

	while (proc_now_s() - t0 < timeout) {
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0) {
			buf[len] = '\0';
			return (long)len;
		}
		len += (size_t)n;
		if (len >= cap - 1)
			break;
	}
	buf[len] = '\0';
	return -1;
}

START_TEST(test_body_size)
{
	char body[8192], url[128];
	struct http_resp r;
	int n;

	/* Exactly the limit is fine (padded with JSON whitespace). */
	n = snprintf(body, sizeof body,
	    "{\"label\":\"pad\",\"key_type\":"
	    "\"ed25519\",\"key\":\"%s\"",
	    KEY_A);
	memset(body + n, ' ', 4095 - (size_t)n);
	body[4095] = '}';
	body[4096] = '\0';
	ck_assert_int_eq(post("/v1/keys", body), 200);
	/* One byte more is refused before the body is read. */
	memmove(body + 1, body, 4097);
	body[0] = ' ';
	snprintf(url, sizeof url, "%s/v1/keys", S.url);
	ck_assert_int_eq(http_request(NULL, "POST", url, S.token, NULL, body,
	                     4097, &r),
	    0);
	ck_assert_int_eq(r.status, 413);
	ck_assert(strstr(r.body, "4096") != NULL);
	http_resp_free(&r);
	/* A chunked upload without Content-Length is cut off at the limit. */
	{
		int fd = connect_local();
		char req[512], chunk[1100], resp[4096];
		int k = snprintf(req, sizeof req,
		    "POST /v1/keys HTTP/1.1\r\n"
		    "Host: x\r\nAuthorization: Bearer %s\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		    S.token);
		ck_assert_int_eq(send(fd, req, (size_t)k, MSG_NOSIGNAL), k);
		memset(chunk, ' ', sizeof chunk);
		k = snprintf(chunk, sizeof chunk, "400\r\n");
		chunk[k + 1024] = '\r';
		chunk[k + 1025] = '\n';
		for (int i = 0; i < 6; i++)
			if (send(fd, chunk, (size_t)k + 1026, MSG_NOSIGNAL) < 0)
				break;
		send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
		ck_assert_int_ge(read_until_close(fd, resp, sizeof resp, 5), 0);
		ck_assert_msg(strncmp(resp, "HTTP/1.1 413", 12) == 0, "%s",
		    resp);
		close(fd);
	}
	ck_assert_uint_eq(logd_size(&S), 3);
}
END_TEST

static void
batch_body(char *buf, int n, const char *prefix)
{
	char *p = buf + sprintf(buf, "{\"entries\":[");
	for (int i = 0; i < n; i++)
		p += sprintf(p,
		    "%s{\"label\":\"%s%d\",\"key_type\":\"ed25519\","
		    "\"key\":\"%s\"}",
		    i ? "," : "", prefix, i, KEY_A);
	sprintf(p, "]}");
}

START_TEST(test_batch_label_key_sizes)
{
	char body[4096], label[64], key[200];
	uint8_t raw[80];

	batch_body(body, 6, "b");
	ck_assert_int_eq(post("/v1/keys:batch", body), 413);
	ck_assert_uint_eq(logd_size(&S), 1);
	batch_body(body, 5, "b");
	ck_assert_int_eq(post("/v1/keys:batch", body), 200);
	ck_assert_uint_eq(logd_size(&S), 7); /* 5 updates and a map head */

	memset(label, 'l', 33);
	label[33] = '\0';
	snprintf(body, sizeof body,
	    "{\"label\":\"%s\",\"key_type\":"
	    "\"ed25519\",\"key\":\"%s\"}",
	    label, KEY_A);
	ck_assert_int_eq(post("/v1/keys", body), 413);
	{
		struct http_resp r;
		char path[128];
		snprintf(path, sizeof path, "/v1/keys/%s", label);
		ck_assert_int_eq(logd_get(&S, path, &r), 400);
		http_resp_free(&r);
	}
	label[32] = '\0';
	snprintf(body, sizeof body,
	    "{\"label\":\"%s\",\"key_type\":"
	    "\"ed25519\",\"key\":\"%s\"}",
	    label, KEY_A);
	ck_assert_int_eq(post("/v1/keys", body), 200);
	ck_assert_uint_eq(logd_size(&S), 9);

	memset(raw, 7, sizeof raw);
	sodium_bin2base64(key, sizeof key, raw, 65,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(body, sizeof body,
	    "{\"label\":\"k\",\"key_type\":\"other\","
	    "\"key\":\"%s\"}",
	    key);
	ck_assert_int_eq(post("/v1/keys", body), 413);
	sodium_bin2base64(key, sizeof key, raw, 64,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(body, sizeof body,
	    "{\"label\":\"k\",\"key_type\":\"other\","
	    "\"key\":\"%s\"}",
	    key);
	ck_assert_int_eq(post("/v1/keys", body), 200);
	ck_assert_uint_eq(logd_size(&S), 11);
}
END_TEST

START_TEST(test_page_size)
{
	char body[512], path[128];
	struct http_resp r;
	json_t *j;

	/* 12 versions of one label. */
	for (int i = 0; i < 12; i++) {
		snprintf(body, sizeof body,
		    "{\"label\":\"rot\",\"key_type\":"
		    "\"ed25519\",\"key\":\"%s\"}",
		    i % 2 ? KEY_B : KEY_A);
		ck_assert_int_eq(post("/v1/keys", body), 200);
	}
	ck_assert_int_eq(logd_get(&S, "/v1/entries?start=0&end=11", &r), 400);
	ck_assert(strstr(r.body, "10") != NULL);
	http_resp_free(&r);
	ck_assert_int_eq(logd_get(&S, "/v1/entries?start=2&end=12", &r), 200);
	j = json_loads(r.body, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "entries")), 10);
	json_decref(j);
	http_resp_free(&r);

	ck_assert_int_eq(logd_get(&S, "/v1/keys/rot/history", &r), 200);
	j = json_loads(r.body, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "versions")), 10);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "next")), 11);
	json_decref(j);
	http_resp_free(&r);
	snprintf(path, sizeof path, "/v1/keys/rot/history?from=11");
	ck_assert_int_eq(logd_get(&S, path, &r), 200);
	j = json_loads(r.body, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "versions")), 2);
	ck_assert_int_eq(json_integer_value(
	                     json_object_get(json_array_get(json_object_get(j,
	                                                        "versions"),
	                                         0),
	                         "version")),
	    11);
	ck_assert_ptr_null(json_object_get(j, "next"));
	json_decref(j);
	http_resp_free(&r);
	ck_assert_int_eq(logd_get(&S, "/v1/keys/rot/history?from=13", &r), 400);
	http_resp_free(&r);
	ck_assert_int_eq(logd_get(&S, "/v1/keys/rot/history?from=0", &r), 400);
	http_resp_free(&r);
}
END_TEST

START_TEST(test_connections_and_timeout)
{
	int held[8], extra;
	char buf[4096];
	double t0;
	long n;
	static const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	                          "Connection: close\r\n\r\n";

	/* With 8 idle connections open (the limit), a 9th is still served:
	 * the guard keeps room by closing the connections that have waited
	 * longest (over a second) without sending a request. */
	for (int i = 0; i < 8; i++)
		held[i] = connect_local();
	usleep(200 * 1000);
	extra = connect_local();
	t0 = proc_now_s();
	ck_assert_int_eq(send(extra, get, sizeof get - 1, MSG_NOSIGNAL),
	    (ssize_t)sizeof get - 1);
	n = read_until_close(extra, buf, sizeof buf, 4);
	ck_assert_msg(n > 0 && strstr(buf, "200 OK") != NULL,
	    "a 9th connection was not served: %s", buf);
	ck_assert_msg(proc_now_s() - t0 < 3, "served after %.2f s",
	    proc_now_s() - t0);
	for (int i = 0; i < 8; i++)
		close(held[i]);
	close(extra);
	/* An idle connection is closed after connection_timeout (2 s). */
	extra = connect_local();
	t0 = proc_now_s();
	n = read_until_close(extra, buf, sizeof buf, 6);
	ck_assert_int_eq(n, 0);
	ck_assert_msg(proc_now_s() - t0 >= 1.5 && proc_now_s() - t0 <= 5.5,
	    "closed after %.2f s", proc_now_s() - t0);
	close(extra);
	/* So is one that sends half a request and stalls. */
	extra = connect_local();
	ck_assert_int_eq(send(extra, "GET /heal", 9, MSG_NOSIGNAL), 9);
	t0 = proc_now_s();
	n = read_until_close(extra, buf, sizeof buf, 6);
	ck_assert_int_ge(n, 0);
	ck_assert(proc_now_s() - t0 <= 5.5);
	close(extra);
}
END_TEST

/* ---- queue full: 503 -------------------------------------------------- */

struct burst {
	int id, round;
	long status;
	int retry_after;
};

static void *
burst_one(void *arg)
{
	struct burst *b = arg;
	char body[2048], url[128], prefix[32];
	struct http_resp r;

	snprintf(prefix, sizeof prefix, "q%d-%d-", b->round, b->id);
	batch_body(body, 5, prefix);
	snprintf(url, sizeof url, "%s/v1/keys:batch", S.url);
	http_request(NULL, "POST", url, S.token, NULL, body, strlen(body), &r);
	b->status = r.status;
	if (r.status == 503)
		b->retry_after = strstr(r.body, "retry") != NULL;
	http_resp_free(&r);
	return NULL;
}

START_TEST(test_queue_full)
{
	int ok = 0, busy = 0;

	for (int round = 0; round < 40 && busy == 0; round++) {
		pthread_t th[6];
		struct burst b[6];
		for (int i = 0; i < 6; i++) {
			b[i] = (struct burst){ .id = i, .round = round };
			ck_assert_int_eq(pthread_create(&th[i], NULL, burst_one,
			                     &b[i]),
			    0);
		}
		for (int i = 0; i < 6; i++) {
			pthread_join(th[i], NULL);
			ck_assert_msg(b[i].status == 200 || b[i].status == 503,
			    "status %ld", b[i].status);
			if (b[i].status == 200)
				ok++;
			else {
				busy++;
				ck_assert(b[i].retry_after);
			}
		}
	}
	ck_assert_int_gt(busy, 0);
	/* Exactly the accepted batches are in the log (the sequencer may
	 * close several under one map head: count the updates). */
	ck_assert_uint_eq(logd_count_updates(&S, logd_size(&S)),
	    (uint64_t)ok * 5);
	{
		struct http_resp r;
		ck_assert_int_eq(logd_get(&S, "/metrics", &r), 200);
		ck_assert(strstr(r.body, "kt_busy_rejects_total 0\n") == NULL);
		ck_assert(strstr(r.body,
		              "route=\"keys_batch\",status=\"503\"") != NULL);
		http_resp_free(&r);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kt-logd limits");

	kt_test_fixture_case(s, "limits", 90, setup, teardown, test_body_size,
	    test_batch_label_key_sizes, test_page_size,
	    test_connections_and_timeout, test_queue_full, NULL);
	return kt_test_run(s);
}
