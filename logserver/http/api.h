/*
 * api.h: kt-logd's HTTP API, independent of the HTTP library. http.c turns
 * each request into a kt_api_req and sends back the kt_api_resp; behind
 * this header a request goes one way: routed (route.c), decoded
 * (request.c), authorised and acted on by one handler (read_*.c,
 * write.c), answered (answer.c, which holds the one kt_err -> HTTP status
 * table, kt_api_status).
 *
 * Writes are asynchronous: kt_api_handle parks the caller (it suspends the
 * connection) and queues the write; the sequencer's writer thread wakes
 * the caller once the batch is durable, and the caller then answers with
 * kt_api_finish on its own thread. A read or a refused write is answered
 * by kt_api_handle itself.
 */
#ifndef KT_LOGSERVER_API_H
#define KT_LOGSERVER_API_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "config.h"
#include "metrics.h"
#include "sequencer.h"
#include "store/store.h"
#include "token.h"

#define KT_API_MAX_PARAMS 8

struct kt_api;
struct kt_api_write;

struct kt_api_param {
	const char *name;  /* raw, as sent (not percent-decoded) */
	const char *value; /* raw ('+' already turned into ' '), or NULL */
};

struct kt_api_req {
	const char *method;
	const char *path; /* raw path, not percent-decoded */
	const struct kt_api_param *params;
	size_t nparams;
	int params_overflow;       /* more than KT_API_MAX_PARAMS were sent */
	const char *authorization; /* header value or NULL */
	const char *content_type;  /* header value or NULL */
	const uint8_t *body;
	size_t body_len;
};

struct kt_api_resp {
	unsigned status;
	const char *content_type;  /* static string */
	const char *cache_control; /* static string or NULL */
	const char *allow;         /* for 405: static string, else NULL */
	int www_authenticate;      /* 401: add WWW-Authenticate: Bearer */
	int retry_after;           /* 503: seconds, else 0 */
	char *body;                /* malloc'd; the caller frees it */
	size_t len;
};

struct kt_api_opts {
	struct kt_store *store;         /* must outlive the api */
	const struct kt_limits *limits; /* copied */
	const struct kt_tokens *tokens; /* NULL: no tokens file */
	int allow_anonymous_writes;     /* only when tokens is NULL */
	struct kt_metrics *metrics;     /* must outlive the api */
	struct kt_wclient *wclient;     /* NULL: no witnesses; outlives api */
	/* The log's public identity, answered by GET /v1/log (copied). */
	const char *origin;
	const char *vkey;          /* signed-note verifier key */
	const uint8_t *vrf_public; /* KT_VRF_PUBLIC_LEN bytes */
	/* The VRF key: lookups of new labels and writes prove with it.
	 * Borrowed: must outlive the api. */
	const struct kt_vrf_key *vrf;
	/* A read replica (store opened with kt_store_open_reader): every
	 * write is answered 405 from its headers, naming writer_url (copied;
	 * NULL or "": none). No sequencer is attached. */
	int read_only;
	const char *writer_url;
};

KT_MUST_CHECK kt_err kt_api_new(struct kt_api **out,
    const struct kt_api_opts *opts);
void kt_api_free(struct kt_api *api);

/*
 * Replaces the write tokens (a reload). On return no request uses the old
 * set any more: the caller may free it. KT_ERR_RANGE (nothing replaced)
 * when tokens is NULL or the api was made without tokens: a log that
 * started with open writes does not start checking tokens on a reload.
 */
KT_MUST_CHECK kt_err kt_api_set_tokens(struct kt_api *api,
    const struct kt_tokens *tokens);

/* Attaches the sequencer writes go to (before serving). */
void kt_api_set_seq(struct kt_api *api, struct kt_seq *seq);

/*
 * Detaches the sequencer: waits for submissions in progress, and makes
 * every later write answer 503. Returns the sequencer so the caller can
 * kt_seq_stop it (which completes every queued write).
 */
struct kt_seq *kt_api_detach_seq(struct kt_api *api);

/* The route a raw path maps to (for metrics and early checks). */
enum kt_route kt_api_route(const char *path);

/* 1 if the route takes a request body (POST routes). */
int kt_api_route_is_write(enum kt_route r);

/*
 * How a write waits for its commit. park(arg) is called once, on the
 * caller's thread inside kt_api_handle, just before the write is queued.
 * Then wake(arg) is called exactly once: from the sequencer's writer
 * thread when the write is durable (or failed), or at once, still inside
 * kt_api_handle, when it could not be queued (queue full, shutting down).
 * Neither may block.
 */
struct kt_api_waiter {
	void (*park)(void *arg);
	void (*wake)(void *arg);
	void *arg;
};

/*
 * Decides from the headers alone, before any body is read, whether a
 * request may go on: req has no body yet, and body_announced says whether
 * the headers announce one (a Content-Length above 0, or a
 * Transfer-Encoding). Returns 1 to go on (read the body, then
 * kt_api_handle), or 0 with an answer in *resp to send at once, after
 * which the body is not read: a write to a read replica (405), a write
 * without a valid token (401, 403),
 * or an announced body on a request that will never take it (413 on a
 * route that takes none; 404, 405 for no route or a wrong method). So
 * nobody can make the server hold a body it would not use.
 */
int kt_api_admit(struct kt_api *api, const struct kt_api_req *req,
    int body_announced, struct kt_api_resp *resp);

/*
 * Handles a request: route, decode, authorise, act. A read, or any
 * request refused on the way, is answered in *resp with *w = NULL. A
 * valid, authorised write is parked and queued through wt instead: *w gets
 * the pending write (set before park is called) and *resp is untouched;
 * answer it with kt_api_finish after wake. wt is used only for writes.
 * *route gets the route for metrics.
 */
void kt_api_handle(struct kt_api *api, const struct kt_api_req *req,
    const struct kt_api_waiter *wt, struct kt_api_resp *resp,
    struct kt_api_write **w, enum kt_route *route);

/*
 * Answers a write after its wake (committed, refused or failed) and
 * frees it.
 */
void kt_api_finish(struct kt_api *api, struct kt_api_write *w,
    struct kt_api_resp *resp);

/*
 * Frees a write that will not be answered (its connection closed after
 * wake). Accepts NULL. Never before wake: the writer thread may still
 * use it.
 */
void kt_api_write_free(struct kt_api_write *w);

/* An error answer: status from kt_api_status(e), {"error": msg}. */
void kt_api_error(struct kt_api_resp *resp, kt_err e, const char *msg);

/* The HTTP status for a kt_err: the one mapping table. */
unsigned kt_api_status(kt_err e);

#endif /* KT_LOGSERVER_API_H */
