/*
 * check_verify_history_e2e.c: a key history longer than one page, with the
 * real binaries.
 *
 * kt_verify_lookup_paged: kt-logd alone (page_size = 3, started by
 * tests/harness/logd.h); a label gets 8 versions, so GET history answers
 * in three pages ("next": 4, then 7), and `kt-verify lookup` must follow
 * them all: exit 4 listing the 7 changes, then --accept exit 0.
 *
 * Under a witness policy,
 * `kt-verify lookup` cannot accept a history page's checkpoint (the log's
 * newest, not witnessed yet); it relates the first page's to the stored
 * witnessed checkpoint and every later page's to the page before, so that
 * all pages are views of one tree (verifier/lib/history.c).
 *
 * kt_verify_lookup_witnessed_pages: kt-logd (page_size = 3) submits its
 * checkpoints to two real kt-witness processes (quorum 2), and the client
 * (policy: both, quorum 2) talks to it through a proxy in this test that
 * makes one write before it forwards each history request, so that every
 * page carries another, larger, not yet witnessed checkpoint. A label
 * with 8 versions (three pages) must verify: exit 4 listing the 7
 * changes, then --accept exit 0. And when the label itself gets a ninth
 * version while its pages are read, the lookup (which stands on the
 * witnessed tree, latest version 8) must not report that unwitnessed
 * version as a verified change.
 *
 * kt_verify_lookup_forked_pages: attack_logd (the test-only malicious key
 * directory, holding the log key and the VRF key) answers the history with
 * the label's true versions (update leaves, openings, chain) under the
 * checkpoint of a forked tree of the same size, on a later page (mode
 * page-fork) or from the first page on (mode history-fork), while a real
 * kt-witness has cosigned the honest branch only. Every version checks
 * against its page; only relating the pages' checkpoints catches it: exit
 * 3 with evidence that `kt-verify evidence` accepts offline, nothing
 * pinned; the honest answer then still verifies (exit 4).
 *
 * Every client pins the log's VRF key at init, from GET /v1/log.
 *
 * Binaries: $KT_LOGD, $KT_VERIFY, $KT_WITNESS, $ATTACK_LOGD. Loopback and
 * kernel-chosen ports only; every process is started and stopped by the
 * harness (tests/harness/proc.h: SIGTERM, a bounded wait, SIGKILL; also at
 * exit and, by PDEATHSIG, if this process dies).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <sodium.h>

#include "kt/verify.h"
#include "harness/logd.h"
#include "harness/proc.h"
#include "harness/runner.h"
#include "harness/tmpdir.h"
#include "harness/witnessd.h"

#define LABEL "alice@e2e.example"
#define NVERSIONS 8
#define PAGE 3
#define NWIT 2

/* Runs $KT_VERIFY --state state --json args...; its JSON answer goes to
 * *out (NULL if it was not JSON). Returns the exit status. */
static int
kv(const char *state, const char *const *args, json_t **out)
{
	const char *argv[24];
	static char buf[1 << 16];
	size_t n = 0;
	int st;

	argv[n++] = proc_bin("KT_VERIFY", "kt-verify");
	argv[n++] = "--state";
	argv[n++] = state;
	argv[n++] = "--json";
	for (size_t i = 0; args[i] != NULL && n < 23; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	st = proc_run(argv, buf, sizeof(buf), NULL, 0, 30);
	*out = json_loads(buf, 0, NULL);
	if (*out == NULL)
		fprintf(stderr, "kt-verify %s: not JSON: %s\n", args[0], buf);
	return st;
}

/* The "message" of a kt-verify answer, for failure reports. */
static const char *
msg(const json_t *o)
{
	const char *m = json_string_value(json_object_get(o, "message"));

	return m != NULL ? m : "(no message)";
}

/* The log's VRF public key from GET base/v1/log into out (the client pins
 * it at init, as its operator would publish it). */
static void
vrf_key(const char *base, char *out, size_t cap)
{
	char url[300];
	struct http_resp r;
	json_t *o;
	const char *k;

	snprintf(url, sizeof(url), "%s/v1/log", base);
	ck_assert_int_eq(http_request(NULL, "GET", url, NULL, NULL, NULL, 0,
	                     &r),
	    0);
	ck_assert_msg(r.status == 200, "GET %s: %ld", url, r.status);
	o = json_loads(r.body, 0, NULL);
	k = json_string_value(json_object_get(o, "vrf_public_key"));
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_lt(strlen(k), cap);
	snprintf(out, cap, "%s", k);
	json_decref(o);
	http_resp_free(&r);
}

/* ---- kt-witness ---------------------------------------------------------- */

/* Makes witness i's key in dir and serves it for the log key logvkey. */
static void
witness_start(struct witnessd *w, const char *dir, int i, const char *logvkey)
{
	char name[32];

	snprintf(name, sizeof(name), "w%d.e2e.example", i);
	ck_assert_int_eq(witnessd_keygen(w,
	                     proc_bin("KT_WITNESS", "kt-witness"), dir, name),
	    0);
	ck_assert_msg(witnessd_start(w, logvkey) == 0,
	    "kt-witness did not start; see %s", w->log);
}

/* ---- a proxy that writes before each history page ------------------------ */

/*
 * One connection at a time (kt-verify asks one thing at a time), answered
 * with "Connection: close". Before it forwards a GET of a key history it
 * publishes a key for another label and waits for the log's answer (the
 * write is then in the tree), so that the page carries a checkpoint larger
 * than the one before. It records each history page's checkpoint size.
 * Failures are counted, not asserted: this runs on its own thread.
 */
struct proxy {
	struct logd *log;
	int fd;
	char url[64];
	pthread_t th;
	atomic_int stop;
	atomic_int failed;
	pthread_mutex_t mu;
	uint64_t sizes[32]; /* checkpoint size of each history page */
	size_t nsizes;
	unsigned writes;
	/* When set: before the history page asked ?from=label_from, also a
	 * new version of LABEL with label_key (once). */
	atomic_uint label_from;
	uint8_t label_key[32];
};

static struct proxy P;

static int
send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A key for label, acknowledged by the log: 0, or the HTTP status. */
static long
publish(struct logd *s, const char *label, const uint8_t key[32])
{
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	char body[256];
	struct http_resp r;
	long st;

	sodium_bin2base64(b64, sizeof(b64), key, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(body, sizeof(body),
	    "{\"label\":\"%s\",\"key_type\":"
	    "\"ed25519\",\"key\":\"%s\"}",
	    label, b64);
	st = logd_post(s, "/v1/keys", body, &r);
	http_resp_free(&r);
	return st == 200 ? 0 : st;
}

/* The tree size of a checkpoint note (its second line), 0 if none. */
static uint64_t
note_size(const char *note)
{
	const char *nl = note != NULL ? strchr(note, '\n') : NULL;

	return nl != NULL ? strtoull(nl + 1, NULL, 10) : 0;
}

static void
proxy_serve(struct proxy *p, int c)
{
	char req[8192], path[4096], url[4200], head[512];
	struct http_resp r;
	size_t n = 0;
	int hist, hl;

	req[0] = '\0';
	while (n < sizeof(req) - 1 && strstr(req, "\r\n\r\n") == NULL) {
		struct pollfd pf = { c, POLLIN, 0 };
		ssize_t got;

		if (poll(&pf, 1, 5000) <= 0 ||
		    (got = recv(c, req + n, sizeof(req) - 1 - n, 0)) <= 0)
			break;
		n += (size_t)got;
		req[n] = '\0';
	}
	if (sscanf(req, "GET %4095s ", path) != 1) {
		atomic_fetch_add(&p->failed, 1);
		return;
	}
	hist = strstr(path, "/history") != NULL;
	if (hist) {
		uint8_t key[32];
		char label[64];

		randombytes_buf(key, sizeof(key));
		snprintf(label, sizeof(label), "pad%u@e2e.example",
		    p->writes++);
		if (publish(p->log, label, key) != 0)
			atomic_fetch_add(&p->failed, 1);
		snprintf(label, sizeof(label), "?from=%u",
		    atomic_load(&p->label_from));
		if (atomic_load(&p->label_from) != 0 &&
		    strstr(path, label) != NULL) {
			if (publish(p->log, LABEL, p->label_key) != 0)
				atomic_fetch_add(&p->failed, 1);
			atomic_store(&p->label_from, 0);
		}
	}
	snprintf(url, sizeof(url), "%s%s", p->log->url, path);
	if (http_request(NULL, "GET", url, NULL, NULL, NULL, 0, &r) != 0) {
		atomic_fetch_add(&p->failed, 1);
		http_resp_free(&r);
		return;
	}
	if (hist) {
		json_t *o = json_loads(r.body, 0, NULL);

		pthread_mutex_lock(&p->mu);
		if (p->nsizes < sizeof(p->sizes) / sizeof(p->sizes[0]))
			p->sizes[p->nsizes++] = note_size(json_string_value(
			    json_object_get(o, "checkpoint")));
		pthread_mutex_unlock(&p->mu);
		json_decref(o);
	}
	hl = snprintf(head, sizeof(head),
	    "HTTP/1.1 %ld Proxied\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n",
	    r.status, r.ctype[0] ? r.ctype : "application/octet-stream", r.len);
	if (send_all(c, head, (size_t)hl) != 0 ||
	    send_all(c, r.body, r.len) != 0)
		atomic_fetch_add(&p->failed, 1);
	http_resp_free(&r);
}

static void *
proxy_main(void *arg)
{
	struct proxy *p = arg;

	while (!atomic_load(&p->stop)) {
		struct pollfd pf = { p->fd, POLLIN, 0 };
		int c;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		if ((c = accept(p->fd, NULL, NULL)) < 0)
			continue;
		proxy_serve(p, c);
		close(c);
	}
	return NULL;
}

static void
proxy_start(struct proxy *p, struct logd *log)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	memset(p, 0, sizeof(*p));
	p->log = log;
	pthread_mutex_init(&p->mu, NULL);
	p->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(p->fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(p->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(p->fd, 8), 0);
	ck_assert_int_eq(getsockname(p->fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%u",
	    (unsigned)ntohs(sa.sin_port));
	ck_assert_int_eq(pthread_create(&p->th, NULL, proxy_main, p), 0);
}

static void
proxy_stop(struct proxy *p)
{
	if (p->fd <= 0)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->th, NULL);
	close(p->fd);
	p->fd = 0;
	pthread_mutex_destroy(&p->mu);
}

/* Copies the recorded page sizes out and forgets them. */
static size_t
proxy_take(struct proxy *p, uint64_t *sizes, size_t cap)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->nsizes < cap ? p->nsizes : cap;
	memcpy(sizes, p->sizes, n * sizeof(*sizes));
	p->nsizes = 0;
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* ---- kt-logd alone: pages without a witness policy ------------------------ */

static struct logd plain;

static void
paged_setup(void)
{
	logd_up(&plain, "page_size = 3\n");
}

static void
paged_teardown(void)
{
	logd_down(&plain);
}

/* The "next" of GET history?from=from, or 0 when the answer has none. */
static json_int_t
history_next(struct logd *s, int from)
{
	char path[128];
	struct http_resp r;
	json_t *o;
	json_int_t next;

	snprintf(path, sizeof(path),
	    "/v1/keys/alice%%40e2e.example/history"
	    "?from=%d",
	    from);
	ck_assert_int_eq(logd_get(s, path, &r), 200);
	o = json_loads(r.body, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_le(json_array_size(json_object_get(o, "versions")),
	    PAGE);
	next = json_integer_value(json_object_get(o, "next"));
	json_decref(o);
	http_resp_free(&r);
	return next;
}

/* The changes a lookup reported must be versions 2..last, key[1..]. */
static void
check_changes(const json_t *o, uint8_t key[][32], int last)
{
	const json_t *ch = json_object_get(o, "changes");

	ck_assert_uint_eq(json_array_size(ch), (size_t)last - 1);
	for (size_t i = 0; i < json_array_size(ch); i++) {
		json_t *c = json_array_get(ch, i);
		char b64[sodium_base64_ENCODED_LEN(32,
		    sodium_base64_VARIANT_ORIGINAL)];

		sodium_bin2base64(b64, sizeof(b64), key[i + 1], 32,
		    sodium_base64_VARIANT_ORIGINAL);
		ck_assert_int_eq(json_integer_value(
		                     json_object_get(c, "version")),
		    (json_int_t)i + 2);
		ck_assert_str_eq(json_string_value(json_object_get(c, "key")),
		    b64);
	}
}

START_TEST(test_lookup_paged_history)
{
	struct logd *s = &plain;
	char state[sizeof(plain.dir) + 8];
	uint8_t key[NVERSIONS][32];
	json_t *o;
	char vrf[64];
	const char *init[] = { "init", "--log", NULL, "--key", NULL,
		"--vrf-key", vrf, NULL };
	const char *lookup[] = { "lookup", LABEL, NULL };
	const char *accept[] = { "lookup", LABEL, "--accept", NULL };

	snprintf(state, sizeof(state), "%.255s/verify", s->dir);
	init[2] = s->url;
	init[4] = s->vkey;
	vrf_key(s->url, vrf, sizeof(vrf));
	ck_assert_int_eq(kv(state, init, &o), 0);
	json_decref(o);

	/* Version 1 is pinned on first use. */
	for (int i = 0; i < NVERSIONS; i++)
		randombytes_buf(key[i], sizeof(key[i]));
	ck_assert_int_eq(publish(s, LABEL, key[0]), 0);
	ck_assert_int_eq(kv(state, lookup, &o), 0);
	ck_assert(json_is_true(json_object_get(o, "pinned")));
	json_decref(o);

	/* Seven rotations: the history no longer fits one page. */
	for (int i = 1; i < NVERSIONS; i++)
		ck_assert_int_eq(publish(s, LABEL, key[i]), 0);
	ck_assert_int_eq(history_next(s, 1), 4);
	ck_assert_int_eq(history_next(s, 4), 7);
	ck_assert_int_eq(history_next(s, 7), 0);

	ck_assert_int_eq(kv(state, lookup, &o), KT_VERIFY_KEY_CHANGED);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")),
	    NVERSIONS);
	check_changes(o, key, NVERSIONS);
	json_decref(o);

	ck_assert_int_eq(kv(state, accept, &o), 0);
	ck_assert(json_is_true(json_object_get(o, "pinned")));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "changes")),
	    NVERSIONS - 1);
	json_decref(o);
	ck_assert_int_eq(kv(state, lookup, &o), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")),
	    NVERSIONS);
	json_decref(o);
}
END_TEST

/* ---- kt-logd with witnesses ---------------------------------------------- */

static struct logd S;
static struct witnessd W[NWIT];

static void
witnessed_setup(void)
{
	char conf[2048];
	size_t n;

	ck_assert_int_eq(logd_setup(&S, NULL), 0);
	for (int i = 0; i < NWIT; i++)
		witness_start(&W[i], S.dir, i, S.vkey);
	/* Witness rounds every 100 ms: the test waits for the quorum. */
	n = (size_t)snprintf(conf, sizeof(conf),
	    "page_size = %d\n"
	    "witness_interval = 100ms\nwitness_quorum = %d\n",
	    PAGE, NWIT);
	for (int i = 0; i < NWIT; i++)
		n += (size_t)snprintf(conf + n, sizeof(conf) - n,
		    "witness = %s=%s\n", W[i].url, W[i].vkey);
	ck_assert_uint_lt(n, sizeof(conf));
	ck_assert_int_eq(tmpdir_write_file(S.conf, conf, 0600), 0);
	ck_assert_int_eq(logd_start(&S, NULL), 0);
	proxy_start(&P, &S);
}

static void
witnessed_teardown(void)
{
	int st, wst[NWIT];

	proxy_stop(&P);
	/* A clean stop (SIGTERM: exit 0) also means no sanitizer report. */
	st = logd_stop(&S);
	for (int i = 0; i < NWIT; i++)
		wst[i] = witnessd_stop(&W[i], 5);
	logd_cleanup(&S);
	ck_assert_msg(st == 0 || st == -1, "kt-logd exited with %d", st);
	for (int i = 0; i < NWIT; i++)
		ck_assert_msg(wst[i] == 0 || wst[i] == -1,
		    "kt-witness %d exited with %d", i, wst[i]);
}

/* Waits (at most 10 s) until kt-logd's /checkpoint, which serves the
 * newest checkpoint with its quorum, covers size entries. */
static int
wait_witnessed(struct logd *s, uint64_t size)
{
	for (int t = 0; t < 10000; t += 20) {
		struct http_resp r;
		long st = logd_get(s, "/checkpoint", &r);
		uint64_t got = st == 200 ? note_size(r.body) : 0;

		http_resp_free(&r);
		if (got >= size)
			return 0;
		proc_sleep_ms(20);
	}
	return -1;
}

/*
 * kt-verify init in a state folder under S.dir (written to state, cap
 * bytes) against the proxy, with both witnesses and quorum NWIT; nkeys
 * random keys; version 1 (key[0]) published, witnessed and pinned by a
 * first lookup.
 */
static void
witnessed_init(char *state, size_t cap, uint8_t key[][32], int nkeys)
{
	char wq[8], vrf[64];
	json_t *o;
	const char *init[] = { "init", "--log", P.url, "--key", S.vkey,
		"--vrf-key", vrf, "--witness", W[0].vkey, "--witness",
		W[1].vkey, "--quorum", wq, NULL };
	const char *lookup[] = { "lookup", LABEL, NULL };
	int st;

	snprintf(state, cap, "%.255s/verify", S.dir);
	snprintf(wq, sizeof(wq), "%d", NWIT);
	vrf_key(S.url, vrf, sizeof(vrf));
	ck_assert_int_eq(kv(state, init, &o), 0);
	json_decref(o);
	for (int i = 0; i < nkeys; i++)
		randombytes_buf(key[i], sizeof(key[i]));
	ck_assert_int_eq(publish(&S, LABEL, key[0]), 0);
	ck_assert_int_eq(wait_witnessed(&S, logd_size(&S)), 0);
	st = kv(state, lookup, &o);
	ck_assert_msg(st == 0, "first lookup: exit %d: %s", st, msg(o));
	ck_assert(json_is_true(json_object_get(o, "pinned")));
	json_decref(o);
}

/* Versions 2..NVERSIONS (key[1..]) published, and witnessed. */
static void
rotate_witnessed(uint8_t key[][32])
{
	for (int i = 1; i < NVERSIONS; i++)
		ck_assert_int_eq(publish(&S, LABEL, key[i]), 0);
	ck_assert_int_eq(wait_witnessed(&S, logd_size(&S)), 0);
}

START_TEST(test_witnessed_pages)
{
	char state[sizeof(S.dir) + 8];
	uint8_t key[NVERSIONS][32];
	uint64_t sizes[32], wsize;
	size_t n;
	json_t *o;
	const char *lookup[] = { "lookup", LABEL, NULL };
	const char *accept[] = { "lookup", LABEL, "--accept", NULL };
	int st;

	/* Version 1, witnessed, is pinned on first use. */
	witnessed_init(state, sizeof(state), key, NVERSIONS);

	/* Seven rotations, witnessed: three pages of history. */
	rotate_witnessed(key);
	(void)proxy_take(&P, sizes, 32);
	st = kv(state, lookup, &o);
	ck_assert_msg(st == KT_VERIFY_KEY_CHANGED, "lookup: exit %d: %s", st,
	    msg(o));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")),
	    NVERSIONS);
	check_changes(o, key, NVERSIONS);
	wsize =
	    (uint64_t)json_integer_value(json_object_get(o, "witnessed_size"));
	json_decref(o);

	/* The client read three pages, each under its own checkpoint, all
	 * past the witnessed one: none of them could have been accepted,
	 * each had to be related to the one before. */
	n = proxy_take(&P, sizes, 32);
	ck_assert_uint_eq(n, (NVERSIONS + PAGE - 1) / PAGE);
	ck_assert_uint_ne(wsize, 0);
	ck_assert_uint_gt(sizes[0], wsize);
	for (size_t i = 1; i < n; i++)
		ck_assert_uint_gt(sizes[i], sizes[i - 1]);
	ck_assert_int_eq(atomic_load(&P.failed), 0);

	st = kv(state, accept, &o);
	ck_assert_msg(st == 0, "accept: exit %d: %s", st, msg(o));
	ck_assert(json_is_true(json_object_get(o, "pinned")));
	check_changes(o, key, NVERSIONS);
	json_decref(o);
	st = kv(state, lookup, &o);
	ck_assert_msg(st == 0, "lookup after accept: exit %d: %s", st, msg(o));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")),
	    NVERSIONS);
	json_decref(o);
	ck_assert_int_eq(atomic_load(&P.failed), 0);
}
END_TEST

/*
 * The label itself gets a new version while its history is read: the
 * proxy publishes version NVERSIONS + 1 before the second page. The lookup
 * stands on the witnessed checkpoint, where the latest version is
 * NVERSIONS; the newer one (on the last page, under a checkpoint nobody
 * witnessed) must not be reported as a verified change. Once witnessed it
 * is.
 */
START_TEST(test_label_written_meanwhile)
{
	char state[sizeof(S.dir) + 8];
	uint8_t key[NVERSIONS + 1][32];
	json_t *o;
	const char *lookup[] = { "lookup", LABEL, NULL };
	const char *accept[] = { "lookup", LABEL, "--accept", NULL };
	int st;

	witnessed_init(state, sizeof(state), key, NVERSIONS + 1);
	rotate_witnessed(key);

	memcpy(P.label_key, key[NVERSIONS], sizeof(P.label_key));
	/* The walk starts after the pinned version 1: pages from 2, then
	 * from 2 + PAGE. */
	atomic_store(&P.label_from, 2 + PAGE);
	st = kv(state, lookup, &o);
	ck_assert_msg(st == KT_VERIFY_KEY_CHANGED, "lookup: exit %d: %s", st,
	    msg(o));
	ck_assert_uint_eq(atomic_load(&P.label_from), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")),
	    NVERSIONS);
	check_changes(o, key, NVERSIONS);
	json_decref(o);

	ck_assert_int_eq(wait_witnessed(&S, logd_size(&S)), 0);
	st = kv(state, accept, &o);
	ck_assert_msg(st == 0, "accept: exit %d: %s", st, msg(o));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "version")),
	    NVERSIONS + 1);
	check_changes(o, key, NVERSIONS + 1);
	json_decref(o);
	ck_assert_int_eq(atomic_load(&P.failed), 0);
}
END_TEST

/* ---- attack_logd: pages of a forked tree --------------------------------- */

static char tdir[256];
static pid_t attack_pid;
static char attack_url[64], attack_vkey[KT_KEY_TEXT_MAX];
static struct witnessd AW;

static void
attack_setup(void)
{
	const char *argv[] = { proc_bin("ATTACK_LOGD", "attack_logd"),
		"--lifetime", "60", NULL };
	char line[1024], errlog[300];
	unsigned port = 0;

	ck_assert_int_eq(tmpdir_make("kt-e2e", tdir, sizeof(tdir)), 0);
	snprintf(errlog, sizeof(errlog), "%.255s/attack.log", tdir);
	/* Its first line: the log's verifier key and its port. */
	attack_pid = proc_start(argv, errlog, NULL, line, sizeof(line), 10);
	ck_assert_msg(attack_pid > 0, "attack_logd did not start");
	ck_assert_int_eq(sscanf(line, "%399s %u", attack_vkey, &port), 2);
	snprintf(attack_url, sizeof(attack_url), "http://127.0.0.1:%u", port);
	witness_start(&AW, tdir, 0, attack_vkey);
}

static void
attack_teardown(void)
{
	int ast = proc_stop(attack_pid, 5), wst = witnessd_stop(&AW, 5);

	attack_pid = 0;
	(void)tmpdir_remove(tdir);
	ck_assert_msg(ast == 0 || ast == -1, "attack_logd exited with %d", ast);
	ck_assert_msg(wst == 0 || wst == -1, "kt-witness exited with %d", wst);
}

/* GET attack_url + path (printf-style); the body must be a 200 answer.
 * The caller frees r. */
static void attack_get(struct http_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
attack_get(struct http_resp *r, const char *fmt, ...)
{
	char url[4096];
	size_t n;
	va_list ap;

	n = (size_t)snprintf(url, sizeof(url), "%s", attack_url);
	va_start(ap, fmt);
	vsnprintf(url + n, sizeof(url) - n, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(http_request(NULL, "GET", url, NULL, NULL, NULL, 0, r),
	    0);
	ck_assert_msg(r->status == 200, "GET %s: %ld %s", url, r->status,
	    r->body);
}

static void
attack_add(int view, const char *label)
{
	uint8_t key[32];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	char *esc;
	struct http_resp r;

	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, 32,
	    sodium_base64_VARIANT_ORIGINAL);
	esc = curl_easy_escape(NULL, b64, 0);
	ck_assert_ptr_nonnull(esc);
	attack_get(&r, "/ctl/add?view=%d&label=%s&key=%s", view, label, esc);
	curl_free(esc);
	http_resp_free(&r);
}

/*
 * The witness cosigns client a's newest checkpoint (view 0), growing from
 * old (0 the first time) with the log's consistency proof, and client a's
 * /checkpoint then serves it with that cosignature only.
 */
static uint64_t
attack_cosign(uint64_t old)
{
	struct http_resp r, cr;
	const char *hdr[] = { "Content-Type: text/plain", NULL };
	char body[8192], url[128], *esc;
	uint64_t size;
	size_t n;
	json_t *o, *h;

	attack_get(&r, "/ctl/cosig?name=a&clear=1");
	http_resp_free(&r);
	attack_get(&cr, "/c/a/checkpoint");
	size = note_size(cr.body);
	n = (size_t)snprintf(body, sizeof(body), "old %" PRIu64 "\n", old);
	if (old > 0) {
		attack_get(&r,
		    "/c/a/v1/proof/consistency?old=%" PRIu64 "&new=%" PRIu64,
		    old, size);
		o = json_loads(r.body, 0, NULL);
		h = json_object_get(o, "hashes");
		ck_assert(json_is_array(h));
		for (size_t i = 0; i < json_array_size(h); i++)
			n += (size_t)snprintf(body + n, sizeof(body) - n,
			    "%s\n", json_string_value(json_array_get(h, i)));
		json_decref(o);
		http_resp_free(&r);
	}
	n += (size_t)snprintf(body + n, sizeof(body) - n, "\n%s", cr.body);
	ck_assert_uint_lt(n, sizeof(body));
	http_resp_free(&cr);
	snprintf(url, sizeof(url), "%s/add-checkpoint", AW.url);
	ck_assert_int_eq(http_request(NULL, "POST", url, NULL, hdr, body, n,
	                     &r),
	    0);
	ck_assert_msg(r.status == 200, "add-checkpoint: %ld %s", r.status,
	    r.body);
	esc = curl_easy_escape(NULL, r.body, (int)r.len);
	ck_assert_ptr_nonnull(esc);
	http_resp_free(&r);
	attack_get(&r, "/ctl/cosig?name=a&size=%" PRIu64 "&line=%s", size, esc);
	curl_free(esc);
	http_resp_free(&r);
	return size;
}

START_TEST(test_forked_pages)
{
	static const char *const modes[] = { "page-fork", "history-fork" };
	char state[sizeof(tdir) + 8], nostate[sizeof(tdir) + 16], vrf[64];
	const char *init[] = { "init", "--log", NULL, "--key", attack_vkey,
		"--vrf-key", vrf, "--witness", AW.vkey, "--quorum", "1", NULL };
	const char *lookup[] = { "lookup", "alice", NULL };
	const char *evidence[] = { "evidence", NULL, "--key", attack_vkey,
		NULL };
	char url[128], *ev;
	struct http_resp r;
	uint64_t size;
	json_t *o;
	int st;

	snprintf(state, sizeof(state), "%.255s/verify", tdir);
	snprintf(nostate, sizeof(nostate), "%.255s/nostate", tdir);
	snprintf(url, sizeof(url), "%s/c/a", attack_url);
	init[2] = url;
	vrf_key(attack_url, vrf, sizeof(vrf));

	/* View 0, the honest branch: alice version 1 after four others,
	 * witnessed and pinned. */
	attack_get(&r, "/ctl/bulk?view=0&n=4&prefix=u");
	http_resp_free(&r);
	attack_add(0, "alice");
	attack_get(&r, "/ctl/client?name=a&view=0&page=%d", PAGE);
	http_resp_free(&r);
	size = attack_cosign(0);
	ck_assert_int_eq(kv(state, init, &o), 0);
	json_decref(o);
	st = kv(state, lookup, &o);
	ck_assert_msg(st == 0, "first lookup: exit %d: %s", st, msg(o));
	json_decref(o);

	/* Seven more versions, then a fork after them: view 1 is view 0 but
	 * for its last entry. Both trees hold the same alice entries; only
	 * their roots differ. The witness cosigns view 0. */
	for (int i = 1; i < NVERSIONS; i++)
		attack_add(0, "alice");
	attack_get(&r, "/ctl/fork?from=0&to=1");
	http_resp_free(&r);
	attack_add(0, "bob");
	attack_add(1, "bob");
	size = attack_cosign(size);

	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		attack_get(&r, "/ctl/client?name=a&view=0&page=%d&mode=%s",
		    PAGE, modes[m]);
		http_resp_free(&r);
		st = kv(state, lookup, &o);
		ck_assert_msg(st == KT_VERIFY_ATTACK, "%s: exit %d: %s",
		    modes[m], st, msg(o));
		ck_assert_msg(strstr(msg(o), "two different trees") != NULL,
		    "%s: %s", modes[m], msg(o));
		ck_assert_ptr_null(json_object_get(o, "changes"));
		ev = strdup(json_string_value(json_object_get(o, "evidence"))
		        ? json_string_value(json_object_get(o, "evidence"))
		        : "");
		json_decref(o);
		ck_assert_msg(ev[0] != '\0', "%s: no evidence file", modes[m]);
		evidence[1] = ev;
		st = kv(nostate, evidence, &o);
		ck_assert_msg(st == 0, "%s: evidence: exit %d: %s", modes[m],
		    st, msg(o));
		json_decref(o);
		free(ev);
	}

	/* Nothing was pinned: the honest answer shows the whole rotation. */
	attack_get(&r, "/ctl/client?name=a&view=0&page=%d", PAGE);
	http_resp_free(&r);
	st = kv(state, lookup, &o);
	ck_assert_msg(st == KT_VERIFY_KEY_CHANGED, "honest: exit %d: %s", st,
	    msg(o));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "changes")),
	    NVERSIONS - 1);
	ck_assert_uint_eq((uint64_t)json_integer_value(
	                      json_object_get(o, "witnessed_size")),
	    size);
	json_decref(o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("verify_history_e2e");

	kt_test_fixture_case(s, "kt_verify_lookup_paged", 60, paged_setup,
	    paged_teardown, test_lookup_paged_history, NULL);
	kt_test_fixture_case(s, "kt_verify_lookup_witnessed_pages", 60,
	    witnessed_setup, witnessed_teardown, test_witnessed_pages,
	    test_label_written_meanwhile, NULL);
	kt_test_fixture_case(s, "kt_verify_lookup_forked_pages", 60,
	    attack_setup, attack_teardown, test_forked_pages, NULL);
	return kt_test_run(s);
}
