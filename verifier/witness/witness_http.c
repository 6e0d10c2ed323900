/*
 * witness_http.c: HTTP front of kt-witness over libmicrohttpd.
 *
 * Thread per connection: an add-checkpoint request waits for LMDB's writer
 * lock and an fsync, and must not stall the other connections while it does.
 * The number of connections is bounded, in all and per address, and so is
 * every request body. libmicrohttpd's timeout is one of inactivity only, so
 * the connection guard (libktguard, shared with kt-logd) adds an absolute
 * deadline for each request and keeps room for new clients.
 */
#include "witness_http.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "kt/fmt.h"
#include "kt/guard.h"

/* How often the guard looks at the connections, and how long a new one
 * is safe from being cut to make room (a client that sends its request
 * at once needs milliseconds). */
#define GUARD_TICK_MS 100
#define GUARD_GRACE_MS 1000

struct kt_witness_http {
	struct MHD_Daemon *d;
	struct kt_witness *w;
	struct kt_guard *guard;
	FILE *log;
	uint16_t port;
};

/* Per-request state of a POST /add-checkpoint while its body arrives. */
struct upload {
	char *buf;
	size_t len;
	size_t cap;
};

static const char ADD_PATH[] = "/add-checkpoint";
static const char get_marker; /* *req_cls of a GET in progress */
static const char TEXT[] = "text/plain; charset=utf-8";

/*
 * The one table from kt_err to HTTP status (C2SP tlog-witness names 400,
 * 403, 404, 409 and 422; 413 and 5xx are ours). No default: a new kt_err
 * must be placed here by hand.
 */
static unsigned
http_status(kt_err e)
{
	switch (e) {
	case KT_OK:
		return MHD_HTTP_OK;
	case KT_ERR_INCOMPLETE:
		return MHD_HTTP_BAD_REQUEST;
	case KT_ERR_MALFORMED:
		return MHD_HTTP_BAD_REQUEST;
	case KT_ERR_RANGE:
		return MHD_HTTP_BAD_REQUEST;
	case KT_ERR_UNKNOWN_KEY:
		return MHD_HTTP_FORBIDDEN;
	case KT_ERR_PERM:
		return MHD_HTTP_FORBIDDEN;
	case KT_ERR_NOT_FOUND:
		return MHD_HTTP_NOT_FOUND;
	case KT_ERR_CONFLICT:
		return MHD_HTTP_CONFLICT;
	case KT_ERR_REFUSED:
		return MHD_HTTP_FORBIDDEN;
	case KT_ERR_TOO_LARGE:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	case KT_ERR_VERIFY:
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case KT_ERR_BUSY:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case KT_ERR_FULL:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case KT_ERR_EXISTS:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	case KT_ERR_NOMEM:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	case KT_ERR_IO:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	case KT_ERR_NETWORK:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	case KT_ERR_INTERNAL:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* The guard's record of connection c (NULL: unguarded). */
static struct kt_guard_conn *
guarded(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    const char *body, size_t len, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) !=
	        MHD_YES ||
	    (allow != NULL &&
	        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) !=
	            MHD_YES) ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	        "no-store") != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (ret == MHD_YES)
		kt_guard_answer_queued(guarded(c));
	return ret;
}

static enum MHD_Result
reply_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char buf[KT_WITNESS_DETAIL_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "%s\n", msg);

	if (n < 0)
		return MHD_NO;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	return reply(c, status, TEXT, buf, (size_t)n, NULL);
}

/* ---- POST /add-checkpoint ----------------------------------------------- */

static enum MHD_Result
add_checkpoint(struct kt_witness_http *h, struct MHD_Connection *c,
    const struct upload *u)
{
	struct kt_witness_answer *ans;
	enum MHD_Result ret;
	kt_err err;
	unsigned status;

	/* A few hundred bytes with the cosignature: keep it off the stack. */
	ans = malloc(sizeof(*ans));
	if (ans == NULL)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	err = kt_witness_add_checkpoint(h->w, u->buf == NULL ? "" : u->buf,
	    u->len, (uint64_t)time(NULL), ans);
	status = http_status(err);
	if (err == KT_OK) {
		ret = reply(c, status, TEXT, ans->cosig, ans->cosig_len, NULL);
	} else if (err == KT_ERR_CONFLICT) {
		/* tlog-witness: the latest size, newline, this type. */
		char size[32];
		int n = snprintf(size, sizeof(size), "%llu\n",
		    (unsigned long long)ans->latest_size);

		ret =
		    reply(c, status, "text/x.tlog.size", size, (size_t)n, NULL);
	} else {
		if (h->log != NULL)
			fprintf(h->log, "kt-witness: add-checkpoint: %u: %s\n",
			    status, ans->detail);
		ret = reply_text(c, status, ans->detail);
	}
	free(ans);
	return ret;
}

/* ---- GET /<hex>/checkpoint ---------------------------------------------- */

static enum MHD_Result
get_checkpoint(struct kt_witness_http *h, struct MHD_Connection *c,
    const uint8_t hash[KT_HASH_LEN])
{
	char *buf;
	size_t len = 0;
	enum MHD_Result ret;
	kt_err err;

	buf = malloc(KT_WITNESS_NOTE_MAX + 1);
	if (buf == NULL)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
	err = kt_witness_get_checkpoint(h->w, hash, buf,
	    KT_WITNESS_NOTE_MAX + 1, &len);
	if (err == KT_OK)
		ret = reply(c, MHD_HTTP_OK, TEXT, buf, len, NULL);
	else if (err == KT_ERR_NOT_FOUND)
		ret = reply_text(c, MHD_HTTP_NOT_FOUND,
		    "this witness has "
		    "cosigned no checkpoint for that origin hash");
	else
		ret = reply_text(c, http_status(err), kt_strerror(err));
	free(buf);
	return ret;
}

/* ---- dispatch ----------------------------------------------------------- */

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **req_cls)
{
	struct kt_witness_http *h = cls;
	struct upload *u = *req_cls;
	uint8_t hash[KT_HASH_LEN];

	(void)version;
	if (strcmp(url, ADD_PATH) == 0) {
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT,
			    "use POST\n", 9, "POST");
		if (u == NULL) {
			/* Headers only: refuse an announced oversized body
			 * before reading it (MHD then closes the
			 * connection). */
			const char *cl = MHD_lookup_connection_value(c,
			    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

			if (cl != NULL &&
			    strtoull(cl, NULL, 10) > KT_WITNESS_BODY_MAX)
				return reply_text(c, MHD_HTTP_CONTENT_TOO_LARGE,
				    "the body is too large for a checkpoint");
			u = calloc(1, sizeof(*u));
			if (u == NULL)
				return MHD_NO;
			*req_cls = u;
			return MHD_YES;
		}
		if (*upload_data_size > 0) {
			size_t n = *upload_data_size;

			/* A body larger than any valid request (chunked, or
			 * longer than announced): drop the connection. */
			if (n > KT_WITNESS_BODY_MAX - u->len)
				return MHD_NO;
			if (u->len + n > u->cap) {
				size_t cap = u->cap == 0 ? 4096 : u->cap;
				char *p;

				while (cap < u->len + n)
					cap *= 2;
				if (cap > KT_WITNESS_BODY_MAX)
					cap = KT_WITNESS_BODY_MAX;
				p = realloc(u->buf, cap);
				if (p == NULL)
					return MHD_NO;
				u->buf = p;
				u->cap = cap;
			}
			memcpy(u->buf + u->len, upload_data, n);
			u->len += n;
			*upload_data_size = 0;
			return MHD_YES;
		}
		/* Cut by the guard while the last bytes came in: do not
		 * act on it. */
		if (!kt_guard_request_read(guarded(c)))
			return MHD_NO;
		return add_checkpoint(h, c, u);
	}
	if (url[0] == '/' &&
	    kt_witness_parse_get_path(url + 1, strlen(url + 1), hash) ==
	        KT_OK) {
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT,
			    "use GET\n", 8, "GET, HEAD");
		/* Answer once the request is complete: a response queued at
		 * the headers-only first call makes MHD drop keep-alive. */
		if (*req_cls == NULL) {
			*req_cls = (void *)&get_marker;
			return MHD_YES;
		}
		if (*upload_data_size > 0) {
			*upload_data_size = 0; /* a body is not ours: skip it */
			return MHD_YES;
		}
		if (!kt_guard_request_read(guarded(c)))
			return MHD_NO;
		return get_checkpoint(h, c, hash);
	}
	return reply_text(c, MHD_HTTP_NOT_FOUND,
	    "no such endpoint: use "
	    "POST /add-checkpoint or GET /<hex SHA-256 of origin>/checkpoint");
}

static void
completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode code)
{
	struct upload *u = *req_cls;

	(void)cls;
	(void)code;
	/* On a kept connection, the next request's deadline starts now. */
	kt_guard_answer_sent(guarded(c));
	if (u != NULL && *req_cls != (void *)&get_marker) {
		free(u->buf);
		free(u);
		*req_cls = NULL;
	}
}

/* The guard watches every connection from its start to its close. */
static void
connection_event(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct kt_witness_http *h = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_ctx =
		    ci != NULL ? kt_guard_open(h->guard, ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* libmicrohttpd closes the socket after this returns (at the
		 * end of the connection's thread). */
		kt_guard_close(h->guard, *socket_ctx);
		*socket_ctx = NULL;
	}
}

/* ---- start / stop ------------------------------------------------------- */

kt_err
kt_witness_http_start(struct kt_witness *w, const struct sockaddr *addr,
    socklen_t addrlen, const struct kt_witness_http_limits *limits, FILE *log,
    struct kt_witness_http **out, char *detail, size_t cap)
{
	static const struct kt_witness_http_limits defaults = {
		.max_connections = KT_WITNESS_HTTP_MAX_CONNECTIONS,
		.max_per_ip = KT_WITNESS_HTTP_MAX_PER_IP,
		.conn_timeout = KT_WITNESS_HTTP_CONN_TIMEOUT,
		.request_timeout = KT_WITNESS_HTTP_REQUEST_TIMEOUT,
	};
	const struct kt_witness_http_limits *l =
	    limits != NULL ? limits : &defaults;
	struct kt_witness_http *h;
	const union MHD_DaemonInfo *info;
	struct kt_guard_opts gopts;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
	kt_err err;

	*out = NULL;
	(void)addrlen;
	if (l->max_connections == 0 || l->max_per_ip == 0 ||
	    l->conn_timeout == 0 || l->request_timeout == 0 ||
	    l->request_timeout > UINT_MAX / 1000) {
		kt_msg(detail, cap,
		    "a connection limit or timeout is 0 or too large");
		return KT_ERR_RANGE;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	h->w = w;
	h->log = log;
	gopts = (struct kt_guard_opts){
		.max_conns = l->max_connections,
		.deadline_ms = l->request_timeout * 1000u,
		.reserve = l->max_connections / 8,
		.grace_ms = GUARD_GRACE_MS,
		.tick_ms = GUARD_TICK_MS,
	};
	err = kt_guard_start(&h->guard, &gopts);
	if (err != KT_OK) {
		kt_msg(detail, cap, "cannot start the connection guard: %s",
		    kt_strerror(err));
		free(h);
		return err;
	}
	if (addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
	    MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT,
	    l->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    l->max_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, l->conn_timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, (void *)NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, connection_event, (void *)h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		kt_msg(detail, cap,
		    "cannot start the HTTP server "
		    "(address in use or not available?)");
		kt_guard_stop(h->guard);
		free(h);
		return KT_ERR_NETWORK;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : 0;
	*out = h;
	return KT_OK;
}

uint16_t
kt_witness_http_port(const struct kt_witness_http *h)
{
	return h->port;
}

void
kt_witness_http_stop(struct kt_witness_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	kt_guard_stop(h->guard); /* every connection is closed now */
	free(h);
}
