/*
 * check_witness_e2e.c: the real kt-witness binary on loopback, driven over
 * HTTP with libcurl. The CLI (keygen, usage, key file permissions), every
 * tlog-witness status over the wire, the gossip GET endpoint, and a forked
 * log hammered on both branches while the witness is killed with SIGKILL
 * and restarted mid-stream: it must never cosign both branches, and every
 * cosignature it handed out must have survived the kill.
 *
 * argv[1] is the kt-witness executable. Every server started here is
 * stopped here (SIGTERM, then SIGKILL), also when a check fails.
 */
#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "harness/http.h"
#include "harness/proc.h"
#include "harness/runner.h"
#include "witness.h"
#include "witness_testlib.h"

#define ORIGIN "example.com/e2e-log"
#define TREE 1024
#define FORK 10

static const char *bin;
static char dir[64], keyfile[128], statedir[128], logfile[128];
static char wkey[KT_KEY_TEXT_MAX], lkey[KT_KEY_TEXT_MAX];
static struct kt_verifier wv, lv;
static struct kt_signer *logk;
static struct wt_tree ta, tb; /* tb forks from ta at leaf FORK */

/* ---- processes (tests/harness/proc.h: tracked, always stopped) --------- */

/*
 * Runs bin with args (NULL-terminated), capturing stdout into out (cap,
 * NUL-terminated) and stderr into err (may be NULL). Returns the exit
 * status (256 + signal if killed: it did not exit within 10 s).
 */
static int
run(char *const args[], char *out, size_t cap, char *err, size_t ecap)
{
	return proc_run((const char *const *)args, out, cap, err, ecap, 10);
}

/*
 * Starts "kt-witness serve" on 127.0.0.1:0 and reads the port it prints.
 * Returns the pid; *port gets the port. stderr goes to logfile.
 */
static pid_t
start_server(uint16_t *port)
{
	const char *args[] = { bin, "serve", "--data", statedir, "--key",
		keyfile, "--listen", "127.0.0.1:0", "--log", lkey, NULL };
	char buf[4096];
	const char *l;
	pid_t pid;

	pid = proc_start(args, logfile, "listening on port ", buf, sizeof(buf),
	    10);
	l = strstr(buf, "listening on port ");
	ck_assert_msg(pid > 0 && l != NULL, "kt-witness did not start: %s",
	    buf);
	*port = (uint16_t)atoi(l + 18);
	return pid;
}

/* SIGTERM, and the server must exit 0 within 5 s. */
static void
stop_server(pid_t pid)
{
	int st = proc_stop(pid, 5);

	ck_assert_msg(st == 0,
	    "kt-witness stopped with %d on SIGTERM (%d: "
	    "killed after 5 s)",
	    st, 256 + SIGKILL);
}

/* ---- HTTP --------------------------------------------------------------- */

struct resp {
	long status;
	char type[128];
	char body[16384];
	size_t len;
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
	struct resp *r = ctx;
	size_t n = size * nmemb;

	if (n > sizeof(r->body) - 1 - r->len)
		return 0;
	memcpy(r->body + r->len, p, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* One request; 0 on an HTTP answer, -1 on a transport error. */
static int
http(const char *method, uint16_t port, const char *path, const char *body,
    size_t len, struct resp *r)
{
	CURL *c = curl_easy_init();
	char url[256];
	char *type = NULL;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	if (c == NULL)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) ==
		        CURLE_OK &&
		    type != NULL)
			snprintf(r->type, sizeof(r->type), "%s", type);
	}
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

static char *
origin_path(const char *origin, char *buf, size_t cap)
{
	uint8_t h[KT_HASH_LEN];
	char hex[2 * KT_HASH_LEN + 1];

	crypto_hash_sha256(h, (const uint8_t *)origin, strlen(origin));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(buf, cap, "/%s/checkpoint", hex);
	return buf;
}

/* ---- fixture ------------------------------------------------------------ */

static void
setup(void)
{
	char out[4096];
	char *nl;
	char *args[] = { (char *)bin, "keygen", "--name", "witness.example/e2e",
		"--out", keyfile, NULL };

	ck_assert_int_ge(sodium_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/kt-witness-e2e-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(keyfile, sizeof(keyfile), "%s/witness.key", dir);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	snprintf(logfile, sizeof(logfile), "%s/server.log", dir);
	ck_assert_int_eq(run(args, out, sizeof(out), NULL, 0), 0);
	/* The verifier key is the last stdout line. */
	ck_assert_uint_gt(strlen(out), 1);
	out[strlen(out) - 1] = '\0';
	nl = strrchr(out, '\n');
	{
		const char *last = nl == NULL ? out : nl + 1;
		size_t n = strlen(last);

		ck_assert_uint_lt(n, sizeof(wkey));
		memcpy(wkey, last, n + 1);
	}
	ck_assert_int_eq(kt_verifier_parse(wkey, strlen(wkey), &wv), KT_OK);
	ck_assert_int_eq(wv.type, KT_KEY_COSIG);
	logk = wt_signer(ORIGIN, KT_KEY_ED25519, 0x5a);
	kt_signer_verifier(logk, &lv);
	wt_verifier_string(logk, lkey);
	wt_tree_init(&ta, TREE, 1, TREE);
	wt_tree_init(&tb, TREE, 2, FORK);
}

static void
teardown(void)
{
	proc_stop_all(3);
	kt_signer_free(logk);
	logk = NULL;
	wt_tree_free(&ta);
	wt_tree_free(&tb);
	wt_rmrf(dir);
}

/* ---- CLI ---------------------------------------------------------------- */

START_TEST(test_cli)
{
	char out[8192], err[8192];
	struct stat sb;
	char *again[] = { (char *)bin, "keygen", "--name", "x", "--out",
		keyfile, NULL };
	char *help[] = { (char *)bin, "--help", NULL };
	char *khelp[] = { (char *)bin, "keygen", "--help", NULL };
	char *shelp[] = { (char *)bin, "serve", "--help", NULL };
	char *none[] = { (char *)bin, NULL };
	char *bogus[] = { (char *)bin, "frobnicate", NULL };
	char *kbad[] = { (char *)bin, "keygen", "--name", "a b", "--out",
		"/nonexistent/k", NULL };
	char *kmiss[] = { (char *)bin, "keygen", "--name", NULL };
	char *smiss[] = { (char *)bin, "serve", "--data", statedir, NULL };
	char *sbadlog[] = { (char *)bin, "serve", "--data", statedir, "--key",
		keyfile, "--listen", "127.0.0.1:0", "--log", "nonsense", NULL };
	char *sbadlisten[] = { (char *)bin, "serve", "--data", statedir,
		"--key", keyfile, "--listen", "127.0.0.1", "--log", lkey,
		NULL };
	char *switness[] = { (char *)bin, "serve", "--data", statedir, "--key",
		keyfile, "--listen", "127.0.0.1:0", "--log", wkey, NULL };
	char *sopen[] = { (char *)bin, "serve", "--data", statedir, "--key",
		keyfile, "--listen", "127.0.0.1:0", "--log", lkey, NULL };

	/* keygen wrote a 0600 PRIVATE+KEY file, and never overwrites it. */
	ck_assert_int_eq(stat(keyfile, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(run(again, out, sizeof(out), err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "exists"));

	ck_assert_int_eq(run(help, out, sizeof(out), NULL, 0), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage"));
	ck_assert_int_eq(run(khelp, out, sizeof(out), NULL, 0), 0);
	ck_assert_ptr_nonnull(strstr(out, "keygen"));
	ck_assert_int_eq(run(shelp, out, sizeof(out), NULL, 0), 0);
	ck_assert_ptr_nonnull(strstr(out, "--listen"));
	/* which flags are required: all of them, said in words */
	ck_assert_ptr_nonnull(strstr(out, "required, all four"));
	ck_assert_int_eq(run(none, out, sizeof(out), NULL, 0), 2);
	ck_assert_int_eq(run(bogus, out, sizeof(out), NULL, 0), 2);
	ck_assert_int_eq(run(kbad, out, sizeof(out), NULL, 0), 2);
	ck_assert_int_eq(run(kmiss, out, sizeof(out), NULL, 0), 2);
	ck_assert_int_eq(run(smiss, out, sizeof(out), NULL, 0), 2);
	ck_assert_int_eq(run(sbadlog, out, sizeof(out), NULL, 0), 2);
	ck_assert_int_eq(run(sbadlisten, out, sizeof(out), NULL, 0), 2);
	/* A cosignature key is not a log key. */
	ck_assert_int_eq(run(switness, out, sizeof(out), NULL, 0), 2);

	/* A key file readable by the group is refused before serving. */
	ck_assert_int_eq(chmod(keyfile, 0640), 0);
	ck_assert_int_eq(run(sopen, out, sizeof(out), err, sizeof(err)), 1);
	ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
	ck_assert_int_eq(chmod(keyfile, 0604), 0);
	ck_assert_int_eq(run(sopen, out, sizeof(out), err, sizeof(err)), 1);
	ck_assert_int_eq(chmod(keyfile, 0600), 0);
}
END_TEST

/* ---- the protocol over the wire ----------------------------------------- */

/* add-checkpoint answers 200 for the first checkpoint, 409 with the size,
 * 200 with a consistency proof, 422 for a fork, 400 for nonsense. */
static void
check_add_checkpoint_statuses(uint16_t port)
{
	static char body[WT_BODY_MAX];
	char note[4096];
	struct resp r;
	size_t nl, len;
	uint64_t ts = 0;

	/* 200: the first checkpoint, old 0. */
	nl = wt_checkpoint_note(logk, &ta, 5, note, sizeof(note));
	len = wt_body(0, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	ck_assert(wt_cosig_ok(&wv, note, nl, r.body, r.len, &ts));
	ck_assert_uint_le(ts, (uint64_t)time(NULL));
	ck_assert_uint_ge(ts + 60, (uint64_t)time(NULL));

	/* 409 with the size body and content type. */
	len = wt_body_for(logk, &ta, 0, 12, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(r.type, "text/x.tlog.size");
	ck_assert_str_eq(r.body, "5\n");

	/* 200 following the 409 with a consistency proof. */
	len = wt_body_for(logk, &ta, 5, 12, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 200);

	/* 422: the fork, and a size-12 checkpoint with another root. */
	len = wt_body_for(logk, &tb, 12, 15, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 422);
	len = wt_body_for(logk, &tb, 12, 12, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 422);

	/* 400: old > size, and a malformed body. */
	nl = wt_checkpoint_note(logk, &ta, 12, note, sizeof(note));
	len = wt_body(13, NULL, note, nl, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "larger"));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", "old x\n\n", 7,
	                     &r),
	    0);
	ck_assert_int_eq(r.status, 400);
}

/* 404 for an unknown origin, 403 for a wrong key, 413 for a huge body,
 * 405 for a wrong method and 404 for an unknown path. */
static void
check_refusal_statuses(uint16_t port)
{
	static char body[WT_BODY_MAX];
	struct resp r;
	size_t len;
	struct kt_signer *other;

	/* 404: an unknown origin. 403: the right origin, a wrong key. */
	other = wt_signer("example.com/other", KT_KEY_ED25519, 0x01);
	len = wt_body_for(other, &ta, 0, 3, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 404);
	kt_signer_free(other);
	other = wt_signer(ORIGIN, KT_KEY_ED25519, 0x02);
	len = wt_body_for(other, &ta, 12, 14, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 403);
	kt_signer_free(other);

	/* 413: an announced body larger than any request. */
	{
		size_t big = KT_WITNESS_BODY_MAX + 1;
		char *huge = calloc(1, big);

		ck_assert_ptr_nonnull(huge);
		memset(huge, 'a', big);
		ck_assert_int_eq(http("POST", port, "/add-checkpoint", huge,
		                     big, &r),
		    0);
		ck_assert_int_eq(r.status, 413);
		free(huge);
	}

	/* Wrong method, unknown path. */
	ck_assert_int_eq(http("GET", port, "/add-checkpoint", NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 405);
	ck_assert_int_eq(http("GET", port, "/nothing", NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 404);
}

/* Gossip: the latest cosigned checkpoint (size 12), with both signatures;
 * an unknown origin is 404. */
static void
check_gossip(uint16_t port)
{
	static struct kt_note n;
	struct kt_verifier vs[2] = { lv, wv };
	uint8_t ok[2];
	struct kt_checkpoint cp;
	char path[160];
	struct resp r;

	ck_assert_int_eq(http("GET", port,
	                     origin_path(ORIGIN, path, sizeof(path)), NULL, 0,
	                     &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(kt_note_open(r.body, r.len, vs, 2, &n, ok, NULL),
	    KT_OK);
	ck_assert(ok[0] && ok[1]);
	ck_assert_int_eq(wt_note_checkpoint(r.body, r.len, &cp), 0);
	ck_assert_uint_eq(cp.size, 12);
	ck_assert_int_eq(http("GET", port,
	                     origin_path("example.com/other", path,
	                         sizeof(path)),
	                     NULL, 0, &r),
	    0);
	ck_assert_int_eq(r.status, 404);
}

/* Keep-alive (tlog-witness: witnesses SHOULD support it): a second GET and
 * a POST reuse the first connection. */
static void
check_keep_alive(uint16_t port)
{
	static char body[WT_BODY_MAX];
	CURL *c = curl_easy_init();
	struct resp kr;
	char url[256], path[160];
	long conns = -1, code = 0;
	size_t len;

	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port,
	    origin_path(ORIGIN, path, sizeof(path)));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &kr);
	for (int i = 0; i < 3; i++) {
		memset(&kr, 0, sizeof(kr));
		if (i == 2) {
			snprintf(url, sizeof(url),
			    "http://127.0.0.1:%u/add-checkpoint", port);
			len =
			    wt_body_for(logk, &ta, 12, 12, body, sizeof(body));
			curl_easy_setopt(c, CURLOPT_URL, url);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)len);
		}
		ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		ck_assert_int_eq(code, 200);
		curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
		ck_assert_int_eq(conns, i == 0 ? 1 : 0);
	}
	curl_easy_cleanup(c);
}

START_TEST(test_http_statuses)
{
	static char body[WT_BODY_MAX];
	struct resp r;
	uint16_t port;
	pid_t pid;
	size_t len;

	pid = start_server(&port);
	check_add_checkpoint_statuses(port);
	check_refusal_statuses(port);
	check_gossip(port);
	check_keep_alive(port);

	/* A graceful stop and a restart keep the state. */
	stop_server(pid);
	pid = start_server(&port);
	len = wt_body_for(logk, &ta, 0, 20, body, sizeof(body));
	ck_assert_int_eq(http("POST", port, "/add-checkpoint", body, len, &r),
	    0);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(r.body, "12\n");
	stop_server(pid);
}
END_TEST

/* ---- a forked log against kill -9 --------------------------------------- */

static atomic_uint cur_port;
static atomic_int stop_flag;
static atomic_uint n_answers; /* HTTP answers of any status */
static pthread_mutex_t rec_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t max_cosigned[2];
static unsigned n_cosigned[2], n_refused[2], n_bad_cosig;

struct submitter {
	int branch;
	const struct wt_tree *t;
	unsigned seed;
};

static void *
submit_loop(void *arg)
{
	struct submitter *s = arg;
	static _Thread_local char body[WT_BODY_MAX];
	char note[4096];
	struct kt_proof p;
	uint64_t known = 0;
	struct resp *r = malloc(sizeof(*r));

	if (r == NULL)
		return NULL;
	while (!atomic_load(&stop_flag)) {
		uint16_t port = (uint16_t)atomic_load(&cur_port);
		uint64_t size = known + 1 + (uint64_t)(rand_r(&s->seed) % 3);
		size_t nl, len;

		if (port == 0 || size > TREE) {
			usleep(2000);
			continue;
		}
		nl = wt_checkpoint_note(logk, s->t, size, note, sizeof(note));
		wt_proof(s->t, known, size, &p);
		len = wt_body(known, &p, note, nl, body, sizeof(body));
		if (http("POST", port, "/add-checkpoint", body, len, r) != 0) {
			usleep(2000);
			continue;
		}
		atomic_fetch_add(&n_answers, 1);
		if (r->status == 200) {
			int ok =
			    wt_cosig_ok(&wv, note, nl, r->body, r->len, NULL);

			pthread_mutex_lock(&rec_mu);
			if (!ok)
				n_bad_cosig++;
			n_cosigned[s->branch]++;
			if (size > max_cosigned[s->branch])
				max_cosigned[s->branch] = size;
			pthread_mutex_unlock(&rec_mu);
			known = size;
		} else if (r->status == 409) {
			known = strtoull(r->body, NULL, 10);
		} else {
			pthread_mutex_lock(&rec_mu);
			n_refused[s->branch]++;
			pthread_mutex_unlock(&rec_mu);
			usleep(1000);
		}
	}
	free(r);
	return NULL;
}

START_TEST(test_kill9_forked_log)
{
	struct submitter subs[2] = { { 0, &ta, 1 }, { 1, &tb, 2 } };
	pthread_t th[2];
	unsigned seed = (unsigned)time(NULL);
	struct resp r;
	char path[160];
	uint16_t port;
	pid_t pid;
	struct kt_checkpoint cp;
	struct kt_hash root;
	static struct kt_note n;
	struct kt_verifier vs[2] = { lv, wv };
	uint8_t ok[2];

	atomic_store(&stop_flag, 0);
	atomic_store(&cur_port, 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, submit_loop,
		                     &subs[i]),
		    0);
	/* Kill the witness with SIGKILL at random moments while both
	 * branches of the forked log are being submitted. */
	for (int round = 0; round < 8; round++) {
		unsigned before = atomic_load(&n_answers);

		pid = start_server(&port);
		atomic_store(&cur_port, port);
		/* Let the stream get going (a loaded machine or valgrind can
		 * be slow), then kill at a random moment. */
		for (int t = 0;
		     t < 2000 && atomic_load(&n_answers) < before + 2; t++)
			usleep(5000);
		usleep((useconds_t)(rand_r(&seed) % 200000));
		atomic_store(&cur_port, 0);
		proc_kill(pid);
	}
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);

	fprintf(stderr,
	    "kill -9 stream: branch A cosigned %u (max %llu), "
	    "branch B cosigned %u (max %llu), refused %u + %u\n",
	    n_cosigned[0], (unsigned long long)max_cosigned[0], n_cosigned[1],
	    (unsigned long long)max_cosigned[1], n_refused[0], n_refused[1]);
	ck_assert_uint_eq(n_bad_cosig, 0);
	ck_assert_uint_gt(n_cosigned[0] + n_cosigned[1], 0);
	/* Never both branches past the fork point. */
	ck_assert_msg(!(max_cosigned[0] > FORK && max_cosigned[1] > FORK),
	    "cosigned both branches: A %llu, B %llu",
	    (unsigned long long)max_cosigned[0],
	    (unsigned long long)max_cosigned[1]);

	/* Every cosignature handed out survived: the state is at least as
	 * new as the largest one, on the winning branch. */
	pid = start_server(&port);
	ck_assert_int_eq(http("GET", port,
	                     origin_path(ORIGIN, path, sizeof(path)), NULL, 0,
	                     &r),
	    0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(kt_note_open(r.body, r.len, vs, 2, &n, ok, NULL),
	    KT_OK);
	ck_assert(ok[0] && ok[1]);
	ck_assert_int_eq(wt_note_checkpoint(r.body, r.len, &cp), 0);
	ck_assert_uint_ge(cp.size, max_cosigned[0]);
	ck_assert_uint_ge(cp.size, max_cosigned[1]);
	/* The state is on one branch, and the other branch got nothing
	 * past the fork (a commit may have beaten the kill to the reply, so
	 * the state can be on a branch whose reply was lost). */
	wt_root(&ta, cp.size, &root);
	if (memcmp(root.b, cp.root.b, KT_HASH_LEN) == 0) {
		ck_assert_uint_le(max_cosigned[1],
		    cp.size > FORK ? FORK : cp.size);
	} else {
		wt_root(&tb, cp.size, &root);
		ck_assert_int_eq(memcmp(root.b, cp.root.b, KT_HASH_LEN), 0);
		ck_assert_uint_le(max_cosigned[0], FORK);
	}
	stop_server(pid);
}
END_TEST

static Suite *
e2e_suite(void)
{
	Suite *s = suite_create("witness-e2e");
	TCase *tc;

	tc = tcase_create("cli");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_cli);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_http_statuses);
	suite_add_tcase(s, tc);
	tc = tcase_create("kill9");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_kill9_forked_log);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: check_witness_e2e KT-WITNESS-BINARY\n");
		return 2;
	}
	bin = argv[1];
	http_init(); /* before the threads that drive libcurl */
	return kt_test_run(e2e_suite());
}
