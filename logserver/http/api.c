/*
 * api.c: the api object and dispatch. A request is routed (route.c),
 * its method checked, and handed to one handler: a read (read_*.c) answers
 * at once; a write (write.c) is authorised, decoded and submitted, and
 * answered after its commit.
 */
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"

#include "http/internal.h"

/* ---- api object ------------------------------------------------------- */

kt_err
kt_api_new(struct kt_api **out, const struct kt_api_opts *opts)
{
	struct kt_api *api = calloc(1, sizeof *api);

	*out = NULL;
	if (api == NULL)
		return KT_ERR_NOMEM;
	api->store = opts->store;
	api->limits = *opts->limits;
	api->tokens = opts->tokens;
	api->auth_required = opts->tokens != NULL;
	api->allow_anonymous_writes =
	    opts->tokens == NULL && opts->allow_anonymous_writes;
	api->metrics = opts->metrics;
	api->wclient = opts->wclient;
	if (opts->origin != NULL &&
	    (kt_fmt(api->origin, sizeof api->origin, "%s", opts->origin) !=
	            KT_OK ||
	        kt_fmt(api->vkey, sizeof api->vkey, "%s", opts->vkey) !=
	            KT_OK)) {
		free(api);
		return KT_ERR_TOO_LARGE;
	}
	if (opts->vrf_public != NULL)
		memcpy(api->vrf_public, opts->vrf_public,
		    sizeof api->vrf_public);
	api->vrf = opts->vrf;
	api->read_only = opts->read_only;
	if (opts->writer_url != NULL &&
	    kt_fmt(api->writer_url, sizeof api->writer_url, "%s",
	        opts->writer_url) != KT_OK) {
		free(api);
		return KT_ERR_TOO_LARGE;
	}
	if (pthread_rwlock_init(&api->seq_lock, NULL) != 0) {
		free(api);
		return KT_ERR_NOMEM;
	}
	if (pthread_rwlock_init(&api->tokens_lock, NULL) != 0) {
		pthread_rwlock_destroy(&api->seq_lock);
		free(api);
		return KT_ERR_NOMEM;
	}
	*out = api;
	return KT_OK;
}

void
kt_api_free(struct kt_api *api)
{
	if (api == NULL)
		return;
	pthread_rwlock_destroy(&api->seq_lock);
	pthread_rwlock_destroy(&api->tokens_lock);
	free(api);
}

kt_err
kt_api_set_tokens(struct kt_api *api, const struct kt_tokens *tokens)
{
	if (tokens == NULL || !api->auth_required)
		return KT_ERR_RANGE;
	pthread_rwlock_wrlock(&api->tokens_lock);
	api->tokens = tokens;
	pthread_rwlock_unlock(&api->tokens_lock);
	return KT_OK;
}

void
kt_api_set_seq(struct kt_api *api, struct kt_seq *seq)
{
	pthread_rwlock_wrlock(&api->seq_lock);
	api->seq = seq;
	pthread_rwlock_unlock(&api->seq_lock);
}

struct kt_seq *
kt_api_detach_seq(struct kt_api *api)
{
	struct kt_seq *seq;

	pthread_rwlock_wrlock(&api->seq_lock);
	seq = api->seq;
	api->seq = NULL;
	pthread_rwlock_unlock(&api->seq_lock);
	return seq;
}

/* ---- dispatch --------------------------------------------------------- */

typedef void (*read_fn)(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp);

static const read_fn readers[KT_ROUTE_COUNT] = {
	[KT_ROUTE_KEY_GET] = read_keys_get,
	[KT_ROUTE_KEY_HISTORY] = read_keys_history,
	[KT_ROUTE_CHECKPOINT] = read_log_checkpoint,
	[KT_ROUTE_PROOF_INCLUSION] = read_log_inclusion,
	[KT_ROUTE_PROOF_CONSISTENCY] = read_log_consistency,
	[KT_ROUTE_ENTRIES] = read_log_entries,
	[KT_ROUTE_TILE] = read_log_tile,
	[KT_ROUTE_HEALTHZ] = read_ops_healthz,
	[KT_ROUTE_METRICS] = read_ops_metrics,
	[KT_ROUTE_LOG] = read_ops_log,
	[KT_ROUTE_MAP_PATH] = read_map_path,
	[KT_ROUTE_MAP_AUDIT] = read_map_audit,
};

/*
 * A write to a read replica: 405 whatever the method, since no write can
 * succeed on this server; the message names the writer. Allow would be
 * empty (no method works here), which libmicrohttpd does not send.
 */
static void
refuse_write(const struct kt_api *api, struct kt_api_resp *resp)
{
	char msg[400];

	if (kt_fmt(msg, sizeof msg,
	        "this kt-logd is a read-only replica: send writes to the "
	        "log's writer%s%s",
	        api->writer_url[0] != '\0' ? ", " : "",
	        api->writer_url) != KT_OK)
		msg[0] = '\0'; /* cannot happen: the URL has 255 bytes */
	answer_status(resp, 405, msg);
}

/* 1 if some handler takes req's path and method; else 0 and an answer. */
static int
routed(const struct kt_api *api, const struct kt_api_req *req, enum kt_route rt,
    struct kt_api_resp *resp)
{
	if (rt == KT_ROUTE_OTHER ||
	    (!kt_api_route_is_write(rt) && readers[rt] == NULL)) {
		answer_error(resp, KT_ERR_NOT_FOUND,
		    "no such endpoint: "
		    "%.100s (see docs/api.md)",
		    req->path);
		return 0;
	}
	if (api->read_only && kt_api_route_is_write(rt)) {
		refuse_write(api, resp);
		return 0;
	}
	if (!route_takes(rt, req->method)) {
		answer_status(resp, 405,
		    rt == KT_ROUTE_KEY_ERASE ? "this endpoint takes DELETE"
		        : kt_api_route_is_write(rt)
		        ? "this endpoint takes POST"
		        : "this endpoint takes GET or HEAD");
		resp->allow = route_methods(rt);
		return 0;
	}
	return 1;
}

int
kt_api_admit(struct kt_api *api, const struct kt_api_req *req,
    int body_announced, struct kt_api_resp *resp)
{
	enum kt_route rt = kt_api_route(req->path);
	struct kt_api_resp ignored = { 0 };

	if (!routed(api, req, rt, body_announced ? resp : &ignored)) {
		/* Without a body, kt_api_handle answers it as usual (and the
		 * connection may be kept). */
		if (!body_announced)
			free(ignored.body);
		return !body_announced;
	}
	if (kt_api_route_is_write(rt))
		return write_authorised(api, req, resp);
	if (body_announced) {
		answer_error(resp, KT_ERR_TOO_LARGE,
		    "%.100s takes no request "
		    "body; send the request without one",
		    req->path);
		return 0;
	}
	return 1;
}

void
kt_api_handle(struct kt_api *api, const struct kt_api_req *req,
    const struct kt_api_waiter *wt, struct kt_api_resp *resp,
    struct kt_api_write **w, enum kt_route *route)
{
	enum kt_route rt = kt_api_route(req->path);

	*w = NULL;
	*route = rt;
	if (!routed(api, req, rt, resp))
		return;
	if (rt == KT_ROUTE_KEY_ERASE)
		write_erase(api, req, wt, resp, w);
	else if (kt_api_route_is_write(rt))
		write_post(api, req, rt == KT_ROUTE_KEYS_BATCH, wt, resp, w);
	else
		readers[rt](api, req, resp);
}
