/*
 * mirror_http.c: kt-mirror's HTTP front over libmicrohttpd
 * (mirror_http.h). GET only, no bodies; thread per connection with
 * libktguard's absolute deadlines and room for new clients, as
 * kt-witness.
 */
#include "mirror_http.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "kt/fmt.h"
#include "kt/guard.h"
#include "kt/json.h"
#include "kt/tile.h"
#include "mirror_answer.h"

#define GUARD_TICK_MS 100
#define GUARD_GRACE_MS 1000
#define HEX_LEN (2 * KT_HASH_LEN)
/* The longest path served: "/<hex>/" and a tile path or a map path. */
#define PATH_MAX_LEN (1 + HEX_LEN + 1 + KT_TILE_PATH_MAX)
static const char MAP_PREFIX[] = "v1/map/";

struct kt_mirror_http {
	struct MHD_Daemon *d;
	struct kt_mstore *st;
	struct kt_guard *guard;
	uint8_t (*ohs)[KT_HASH_LEN];
	size_t n;
	uint16_t port;
};

static const char request_marker; /* *req_cls once the headers are in */
static const char IMMUTABLE[] = "public, max-age=31536000, immutable";

/* The guard's record of connection c (NULL: unguarded). */
static struct kt_guard_conn *
guarded(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* Queues body[0..len) (copied) with its type and caching. */
static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    const void *body, size_t len, const char *cache)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) !=
	        MHD_YES ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache) !=
	        MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW,
	            "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		kt_guard_answer_queued(guarded(c));
	return ret;
}

/* {"error": msg} with status. */
static enum MHD_Result
reply_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char body[16 + KT_JSON_CHAR_MAX * 256];
	size_t n = strlen(msg), off;

	if (n > 256)
		n = 256;
	memcpy(body, "{\"error\":\"", 10);
	off = 10 + kt_json_escape(msg, n, body + 10);
	memcpy(body + off, "\"}\n", 3);
	return reply(c, status, "application/json", body, off + 3, "no-store");
}

/* The status of a store error. No default: a new kt_err is placed here. */
static unsigned
http_status(kt_err e)
{
	switch (e) {
	case KT_OK:
		return MHD_HTTP_OK;
	case KT_ERR_NOT_FOUND:
		return MHD_HTTP_NOT_FOUND;
	case KT_ERR_INCOMPLETE:
	case KT_ERR_MALFORMED:
	case KT_ERR_RANGE:
		return MHD_HTTP_BAD_REQUEST;
	case KT_ERR_BUSY:
	case KT_ERR_FULL:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case KT_ERR_VERIFY:
	case KT_ERR_UNKNOWN_KEY:
	case KT_ERR_TOO_LARGE:
	case KT_ERR_NOMEM:
	case KT_ERR_EXISTS:
	case KT_ERR_CONFLICT:
	case KT_ERR_REFUSED:
	case KT_ERR_PERM:
	case KT_ERR_IO:
	case KT_ERR_NETWORK:
	case KT_ERR_INTERNAL:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* ---- answers ------------------------------------------------------------ */

static enum MHD_Result
get_checkpoint(struct kt_mirror_http *h, struct MHD_Connection *c,
    const uint8_t oh[KT_HASH_LEN])
{
	struct kt_mstore_state *st = malloc(sizeof(*st));
	enum MHD_Result ret;
	kt_err err;

	if (st == NULL)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	err = kt_mstore_get_state(h->st, oh, st);
	if (err == KT_OK)
		/* tlog-tiles: cache the checkpoint a few seconds at most. */
		ret = reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8",
		    st->note, st->note_len, "no-store");
	else if (err == KT_ERR_NOT_FOUND)
		ret = reply_error(c, MHD_HTTP_NOT_FOUND,
		    "this mirror has no checkpoint of that log yet");
	else
		ret = reply_error(c, http_status(err), kt_strerror(err));
	free(st);
	return ret;
}

/* The length of the first w entries of bundle b[0..len) (0: fewer). */
static size_t
bundle_prefix(const uint8_t *b, size_t len, unsigned w)
{
	size_t off = 0, n;
	const uint8_t *e;

	for (unsigned i = 0; i < w; i++)
		if (kt_bundle_next(b, len, &off, &e, &n) != KT_OK)
			return 0;
	return off;
}

/*
 * Tile t of log oh: the published tile (level, index) if the mirror
 * checkpoint's tree holds it at t's width or wider, cut to t's width.
 */
static enum MHD_Result
get_tile(struct kt_mirror_http *h, struct MHD_Connection *c,
    const uint8_t oh[KT_HASH_LEN], const struct kt_tile *t)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	unsigned have = 0;
	enum MHD_Result ret;
	kt_err err;

	err = kt_mstore_served_tile(h->st, oh, t->level, t->index, &have, &buf,
	    &len);
	if (err == KT_OK && have < t->width)
		err = KT_ERR_NOT_FOUND;
	if (err == KT_OK && t->width < have)
		len = t->level == KT_TILE_LEVEL_ENTRIES
		    ? bundle_prefix(buf, len, t->width)
		    : (size_t)t->width * KT_HASH_LEN;
	if (err == KT_OK && len == 0)
		err = KT_ERR_INTERNAL;
	if (err == KT_OK)
		ret = reply(c, MHD_HTTP_OK, "application/octet-stream", buf,
		    len, t->width == KT_TILE_WIDTH ? IMMUTABLE : "no-cache");
	else if (err == KT_ERR_NOT_FOUND)
		ret = reply_error(c, MHD_HTTP_NOT_FOUND,
		    "the mirror checkpoint's tree holds no such tile");
	else
		ret = reply_error(c, http_status(err), kt_strerror(err));
	free(buf);
	return ret;
}

/* GET /<hex>/v1/map/<index>[?checkpoint_size=S] of a kt log. */
static enum MHD_Result
get_map(struct kt_mirror_http *h, struct MHD_Connection *c,
    const uint8_t oh[KT_HASH_LEN], const char *hex)
{
	const char *size = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
	    "checkpoint_size");
	char *body = NULL, detail[256];
	size_t len = 0;
	enum MHD_Result ret;
	kt_err err;

	err = kt_mirror_map_answer(h->st, oh, hex, size, &body, &len, detail,
	    sizeof(detail));
	if (err == KT_OK)
		ret = reply(c, MHD_HTTP_OK, "application/json", body, len,
		    "no-store");
	else
		ret = reply_error(c, http_status(err), detail);
	free(body);
	return ret;
}

/* ---- dispatch ----------------------------------------------------------- */

/* The configured log whose hash is the lowercase hex at p (64 chars). */
static int
find_log(const struct kt_mirror_http *h, const char *p, uint8_t oh[KT_HASH_LEN])
{
	for (size_t i = 0; i < HEX_LEN; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		        (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	if (sodium_hex2bin(oh, KT_HASH_LEN, p, HEX_LEN, NULL, NULL, NULL) != 0)
		return 0;
	for (size_t i = 0; i < h->n; i++)
		if (memcmp(h->ohs[i], oh, KT_HASH_LEN) == 0)
			return 1;
	return 0;
}

/* A whole GET or HEAD request for url. */
static enum MHD_Result
route(struct kt_mirror_http *h, struct MHD_Connection *c, const char *url)
{
	size_t n = strlen(url);
	uint8_t oh[KT_HASH_LEN];
	struct kt_tile t;
	const char *rest = url + 1 + HEX_LEN + 1;

	if (n > PATH_MAX_LEN || n < 2 + HEX_LEN || url[0] != '/' ||
	    url[1 + HEX_LEN] != '/')
		return reply_error(c, MHD_HTTP_NOT_FOUND,
		    "no such endpoint: use GET /<hex SHA-256 of the "
		    "origin>/checkpoint or /<hex>/tile/...");
	if (!find_log(h, url + 1, oh))
		return reply_error(c, MHD_HTTP_NOT_FOUND,
		    "this mirror does not mirror a log whose origin hashes "
		    "to that");
	if (strcmp(rest, "checkpoint") == 0)
		return get_checkpoint(h, c, oh);
	if (kt_tile_parse_path(rest, strlen(rest), &t) == KT_OK)
		return get_tile(h, c, oh, &t);
	if (strncmp(rest, MAP_PREFIX, sizeof(MAP_PREFIX) - 1) == 0)
		return get_map(h, c, oh, rest + sizeof(MAP_PREFIX) - 1);
	return reply_error(c, MHD_HTTP_NOT_FOUND,
	    "no such endpoint under the log: checkpoint, "
	    "tile/<L>/<N>[.p/<W>], tile/entries/<N>[.p/<W>] or "
	    "v1/map/<index>");
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **req_cls)
{
	(void)version;
	(void)upload_data;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "a mirror is read with GET");
	/* Answer once the request is complete: a response queued at the
	 * headers-only first call makes MHD drop keep-alive. */
	if (*req_cls == NULL) {
		*req_cls = (void *)&request_marker;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0; /* a body is not ours: skip it */
		return MHD_YES;
	}
	/* Cut by the guard while the request came in: do not answer. */
	if (!kt_guard_request_read(guarded(c)))
		return MHD_NO;
	return route(cls, c, url);
}

static void
completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)code;
	*req_cls = NULL;
	/* On a kept connection, the next request's deadline starts now. */
	kt_guard_answer_sent(guarded(c));
}

/* The guard watches every connection from its start to its close. */
static void
connection_event(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct kt_mirror_http *h = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_ctx =
		    ci != NULL ? kt_guard_open(h->guard, ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		kt_guard_close(h->guard, *socket_ctx);
		*socket_ctx = NULL;
	}
}

/* ---- start / stop ------------------------------------------------------- */

static kt_err
start_daemon(struct kt_mirror_http *h, const struct sockaddr *addr,
    const struct kt_mirror_http_limits *l, char *detail, size_t cap)
{
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;

	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
	    MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT,
	    l->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    l->max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, l->conn_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, (void *)NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, connection_event, (void *)h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		kt_msg(detail, cap,
		    "cannot start the HTTP server (address in use or not "
		    "available?)");
		return KT_ERR_NETWORK;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : 0;
	return KT_OK;
}

kt_err
kt_mirror_http_start(struct kt_mstore *st, const uint8_t (*ohs)[KT_HASH_LEN],
    size_t n, const struct sockaddr *addr,
    const struct kt_mirror_http_limits *limits, struct kt_mirror_http **out,
    char *detail, size_t cap)
{
	static const struct kt_mirror_http_limits defaults = {
		.max_connections = KT_MIRROR_HTTP_MAX_CONNECTIONS,
		.max_per_ip = KT_MIRROR_HTTP_MAX_PER_IP,
		.conn_timeout = KT_MIRROR_HTTP_CONN_TIMEOUT,
		.request_timeout = KT_MIRROR_HTTP_REQUEST_TIMEOUT,
	};
	const struct kt_mirror_http_limits *l =
	    limits != NULL ? limits : &defaults;
	struct kt_mirror_http *h;
	struct kt_guard_opts gopts;
	kt_err err;

	*out = NULL;
	if (l->max_connections == 0 || l->max_per_ip == 0 ||
	    l->conn_timeout == 0 || l->request_timeout == 0 ||
	    l->request_timeout > UINT_MAX / 1000) {
		kt_msg(detail, cap,
		    "a connection limit or timeout is 0 or too large");
		return KT_ERR_RANGE;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->ohs = calloc(n > 0 ? n : 1, KT_HASH_LEN)) == NULL) {
		free(h);
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	h->st = st;
	h->n = n;
	memcpy(h->ohs, ohs, n * KT_HASH_LEN);
	gopts = (struct kt_guard_opts){
		.max_conns = l->max_connections,
		.deadline_ms = l->request_timeout * 1000u,
		.reserve = l->max_connections / 8,
		.grace_ms = GUARD_GRACE_MS,
		.tick_ms = GUARD_TICK_MS,
	};
	if ((err = kt_guard_start(&h->guard, &gopts)) != KT_OK) {
		kt_msg(detail, cap, "cannot start the connection guard: %s",
		    kt_strerror(err));
		h->guard = NULL;
	} else if ((err = start_daemon(h, addr, l, detail, cap)) != KT_OK) {
		kt_guard_stop(h->guard);
		h->guard = NULL;
	}
	if (err != KT_OK) {
		free(h->ohs);
		free(h);
		return err;
	}
	*out = h;
	return KT_OK;
}

uint16_t
kt_mirror_http_port(const struct kt_mirror_http *h)
{
	return h->port;
}

void
kt_mirror_http_stop(struct kt_mirror_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	kt_guard_stop(h->guard); /* every connection is closed now */
	free(h->ohs);
	free(h);
}
