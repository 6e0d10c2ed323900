/*
 * api.h: kt-logd's HTTP API, independent of the HTTP library. http.c turns
 * each request into a kt_api_req and sends back the kt_api_resp; this file
 * routes, validates every input, builds the JSON and maps kt_err to HTTP
 * status codes in one table (kt_api_status).
 *
 * Writes are asynchronous: kt_api_handle returns a pending kt_api_write;
 * the caller parks the request (suspends the connection), then calls
 * kt_api_submit, whose wake callback runs on the sequencer's writer thread
 * once the batch is durable; the caller then builds the answer with
 * kt_api_finish on its own thread.
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
	const char *name;   /* raw, as sent (not percent-decoded) */
	const char *value;  /* raw ('+' already turned into ' '), or NULL */
};

struct kt_api_req {
	const char *method;
	const char *path;          /* raw path, not percent-decoded */
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
	const char *content_type;   /* static string */
	const char *cache_control;  /* static string or NULL */
	const char *allow;          /* for 405: static string, else NULL */
	int www_authenticate;       /* 401: add WWW-Authenticate: Bearer */
	int retry_after;            /* 503: seconds, else 0 */
	char *body;                 /* malloc'd; the caller frees it */
	size_t len;
};

struct kt_api_opts {
	struct kt_store *store;          /* must outlive the api */
	const struct kt_limits *limits;  /* copied */
	const struct kt_tokens *tokens;  /* NULL: no tokens file */
	int allow_anonymous_writes;      /* only when tokens is NULL */
	struct kt_metrics *metrics;      /* must outlive the api */
	struct kt_wclient *wclient;      /* NULL: no witnesses; outlives api */
};

KT_MUST_CHECK kt_err kt_api_new(struct kt_api **out,
    const struct kt_api_opts *opts);
void kt_api_free(struct kt_api *api);

/*
 * Replaces the write tokens (a reload; tokens must not be NULL, and the api
 * must have been made with tokens). On return no request uses the old set
 * any more: the caller may free it.
 */
void kt_api_set_tokens(struct kt_api *api, const struct kt_tokens *tokens);

/* Attaches the sequencer writes go to (before serving). */
void kt_api_set_seq(struct kt_api *api, struct kt_seq *seq);

/*
 * Detaches the sequencer: waits for submissions in progress, and makes
 * every later write answer 503. Returns the sequencer so the caller can
 * kt_seq_stop it (which completes every queued write).
 */
struct kt_seq *kt_api_detach_seq(struct kt_api *api);

/* The route a method and raw path map to (for metrics and early checks). */
enum kt_route kt_api_route(const char *path);

/* 1 if the route takes a request body (POST routes). */
int kt_api_route_is_write(enum kt_route r);

/*
 * Handles a request. Either fills *resp and sets *w = NULL, or (a valid,
 * authorised write) sets *w to a pending write and leaves *resp untouched.
 * *route gets the route for metrics.
 */
void kt_api_handle(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp, struct kt_api_write **w, enum kt_route *route);

typedef void (*kt_api_wake_fn)(void *arg);

/*
 * Submits a pending write. Returns 1 if queued: wake(arg) will be called
 * exactly once, from the writer thread, when it is durable (or failed).
 * Returns 0 if it could not be queued (queue full, shutting down): wake is
 * not called and kt_api_finish gives the 503.
 */
int kt_api_submit(struct kt_api *api, struct kt_api_write *w,
    kt_api_wake_fn wake, void *arg);

/* Builds the answer of a write after wake (or after kt_api_submit gave 0). */
void kt_api_finish(struct kt_api *api, struct kt_api_write *w,
    struct kt_api_resp *resp);

/* Frees a pending write (accepts NULL). Not while it is queued. */
void kt_api_write_free(struct kt_api_write *w);

/* An error answer: status from kt_api_status(e), {"error": msg}. */
void kt_api_error(struct kt_api_resp *resp, kt_err e, const char *msg);

/* The HTTP status for a kt_err: the one mapping table. */
unsigned kt_api_status(kt_err e);

#endif /* KT_LOGSERVER_API_H */
