/*
 * floor: what kt-logd's write path costs before kt does any work of its
 * own, on this machine. Like shared/bench/ceiling.c (same libmicrohttpd
 * pool of 2 epoll threads, same 127.0.0.1 binding), but each mode adds one
 * thing the API requires of every write:
 *
 *   suspend  POST: suspend the connection, hand it to a "writer" thread
 *            that resumes everything queued at once (no work, no disk),
 *            answer the small body on the resumed call. This is the
 *            "an HTTP worker never blocks while waiting" hand-off alone.
 *   batch    POST /v1/keys:batch shape: read the body, parse it with
 *            jansson, and answer one result per entry shaped like kt's
 *            (entry, leaf hash, checkpoint note, 21 proof hashes, all
 *            base64 of fixed bytes): JSON in and the answer's bytes out,
 *            no hashing, no store, no hand-off.
 *   commit   as suspend, but the writer first appends one 200-byte record
 *            per request to an LMDB environment in DIR and commits durably
 *            (LMDB's default two syncs), once per hand-off batch: the
 *            least a log stored in LMDB must do per write.
 *   parse    as batch, but answers the small body: jansson alone.
 *
 * Build: cc -O2 -o floor floor.c $(pkg-config --cflags --libs libmicrohttpd jansson lmdb) -lpthread
 * Run:   ./floor suspend|batch|parse PORT, ./floor commit PORT DIR
 *        (127.0.0.1 only; stops on SIGTERM/SIGINT)
 * ops/bench/http_bench.sh runs it beside kt-logd and the ceiling.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <lmdb.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (4u << 20)

struct req {
	struct MHD_Connection *c;
	struct req *next;
	int ready;
	char *body;
	size_t len;
};

static const char post_body[] = "{\"index\":123456,\"version\":1}";
static const char checkpoint[] =
    "bench.example/log\\n4455239\\n"
    "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0xc=\\n\\n"
    "\\u2014 bench.example/log Az3gbFpqM1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8"
    "l9z0xcvbnmq1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0xcvbnm==\\n";
static const char hash64[] = "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6j7k8l9z0xcA=";
static const char entry64[] =
    "AAEAF3UxMjM0NTY3ODktMTIzNEBleGFtcGxlLmNvbQAA"
    "AAAAAAABAAAAAAAAAAAHZWQyNTUxOQAg1dqYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaP"
    "cHURo=";

enum mode { SUSPEND, COMMIT, BATCH, PARSE };
static enum mode mode;
static MDB_env *env;
static MDB_dbi dbi;
static uint64_t next_key;

/* One durable transaction appending n records of 200 bytes. */
static void
commit(size_t n)
{
	static char val[200];
	MDB_txn *txn;

	if (mdb_txn_begin(env, NULL, 0, &txn) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		uint64_t k = __builtin_bswap64(next_key++);
		MDB_val key = { sizeof k, &k }, v = { sizeof val, val };
		if (mdb_put(txn, dbi, &key, &v, MDB_APPEND) != 0)
			abort();
	}
	if (mdb_txn_commit(txn) != 0)
		abort();
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct req *queue;
static int stopping;

static void *
writer(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		while (queue == NULL && !stopping)
			pthread_cond_wait(&cv, &mu);
		if (queue == NULL) /* stopping, and nothing left to resume */
			break;
		struct req *all = queue;
		queue = NULL;
		pthread_mutex_unlock(&mu);
		if (mode == COMMIT) {
			size_t n = 0;
			for (struct req *q = all; q != NULL; q = q->next)
				n++;
			commit(n);
		}
		while (all != NULL) {
			struct req *q = all;
			all = q->next;
			__atomic_store_n(&q->ready, 1, __ATOMIC_RELEASE);
			MHD_resume_connection(q->c);
		}
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static enum MHD_Result
queue_body(struct MHD_Connection *c, char *body, size_t len,
    enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void
put(char **p, const char *s)
{
	size_t n = strlen(s);
	memcpy(*p, s, n);
	*p += n;
}

/* One answer per entry, the size and shape of kt-logd's batch results. */
static enum MHD_Result
answer_batch(struct MHD_Connection *c, struct req *q)
{
	json_error_t err;
	json_t *root = json_loadb(q->body, q->len, 0, &err);
	json_t *items = json_object_get(root, "entries");
	size_t n = json_array_size(items);
	char *out, *p;

	if (root == NULL)
		return MHD_NO;
	if (mode == PARSE) {
		for (size_t i = 0; i < n; i++) {
			json_t *o = json_array_get(items, i);
			if (json_string_value(json_object_get(o, "label")) ==
			    NULL)
				break;
		}
		json_decref(root);
		return queue_body(c, (char *)post_body, sizeof post_body - 1,
		    MHD_RESPMEM_PERSISTENT);
	}
	if ((p = out = malloc(64 + n * 2048)) == NULL) {
		json_decref(root);
		return MHD_NO;
	}
	put(&p, "{\"results\":[");
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(items, i);
		/* Read the fields kt reads, so the parse is not wasted. */
		if (json_string_value(json_object_get(o, "label")) == NULL ||
		    json_string_value(json_object_get(o, "key")) == NULL)
			break;
		p += sprintf(p, "%s{\"index\":%zu,\"version\":1,\"entry\":\"",
		    i ? "," : "", 4455239 + i);
		put(&p, entry64);
		put(&p, "\",\"leaf_hash\":\"");
		put(&p, hash64);
		put(&p, "\",\"checkpoint\":\"");
		put(&p, checkpoint);
		p += sprintf(p,
		    "\",\"proof\":{\"index\":%zu,\"size\":%zu,"
		    "\"hashes\":[",
		    4455239 + i, (size_t)4456239);
		for (int h = 0; h < 21; h++) {
			put(&p, h ? ",\"" : "\"");
			put(&p, hash64);
			put(&p, "\"");
		}
		put(&p, "]}}");
	}
	put(&p, "]}\n");
	json_decref(root);
	return queue_body(c, out, (size_t)(p - out), MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	int batch = mode == BATCH || mode == PARSE;
	struct req *q = *state;
	(void)cls;
	(void)url;
	(void)version;

	if (strcmp(method, "POST") != 0)
		return MHD_NO;
	if (q == NULL) { /* first call: headers only */
		if ((q = calloc(1, sizeof *q)) == NULL)
			return MHD_NO;
		q->c = c;
		*state = q;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (batch) {
			if (q->len + *upload_size > MAX_BODY)
				return MHD_NO;
			char *b = realloc(q->body, q->len + *upload_size);
			if (b == NULL)
				return MHD_NO;
			memcpy(b + q->len, upload, *upload_size);
			q->body = b;
			q->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (batch)
		return answer_batch(c, q);
	if (__atomic_load_n(&q->ready, __ATOMIC_ACQUIRE))
		return queue_body(c, (char *)post_body, sizeof post_body - 1,
		    MHD_RESPMEM_PERSISTENT);
	MHD_suspend_connection(c);
	pthread_mutex_lock(&mu);
	q->next = queue;
	queue = q;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	return MHD_YES;
}

static void
completed(void *cls, struct MHD_Connection *c, void **state,
    enum MHD_RequestTerminationCode toe)
{
	struct req *q = *state;
	(void)cls;
	(void)c;
	(void)toe;

	if (q != NULL) {
		free(q->body);
		free(q);
		*state = NULL;
	}
}

int
main(int argc, char **argv)
{
	pthread_t w;

	if (argc == 3 && strcmp(argv[1], "suspend") == 0)
		mode = SUSPEND;
	else if (argc == 4 && strcmp(argv[1], "commit") == 0)
		mode = COMMIT;
	else if (argc == 3 && strcmp(argv[1], "batch") == 0)
		mode = BATCH;
	else if (argc == 3 && strcmp(argv[1], "parse") == 0)
		mode = PARSE;
	else {
		fprintf(stderr,
		    "usage: floor suspend|batch|parse PORT | "
		    "floor commit PORT DIR\n");
		return 2;
	}
	if (mode == COMMIT) {
		MDB_txn *txn;
		if (mdb_env_create(&env) != 0 ||
		    mdb_env_set_mapsize(env, (size_t)8 << 30) != 0 ||
		    mdb_env_open(env, argv[3], 0, 0600) != 0 ||
		    mdb_txn_begin(env, NULL, 0, &txn) != 0 ||
		    mdb_dbi_open(txn, NULL, 0, &dbi) != 0 ||
		    mdb_txn_commit(txn) != 0) {
			fprintf(stderr, "floor: cannot open LMDB in %s\n",
			    argv[3]);
			return 1;
		}
	}
	int port = atoi(argv[2]);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);

	sigset_t set;
	int sig;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL); /* the threads inherit it */
	if (pthread_create(&w, NULL, writer, NULL) != 0)
		return 1;
	struct MHD_Daemon *d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	            MHD_ALLOW_SUSPEND_RESUME,
	        (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
	        &sa, MHD_OPTION_THREAD_POOL_SIZE, 2,
	        MHD_OPTION_CONNECTION_TIMEOUT, 30, MHD_OPTION_NOTIFY_COMPLETED,
	        completed, NULL, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "floor: cannot start on 127.0.0.1:%d\n", port);
		return 1;
	}
	sigwait(&set, &sig);
	pthread_mutex_lock(&mu);
	stopping = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(w, NULL);
	MHD_stop_daemon(d);
	return 0;
}
