/*
 * http.c: kt-logd's libmicrohttpd server, the only file that includes
 * microhttpd.h. The daemon, each request's state, buffering the body,
 * suspending a write's connection until its commit, and turning a request
 * into a kt_api_req and the kt_api_resp back into an HTTP answer.
 */
#include "http/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kt/fmt.h"
#include "log.h"

struct kt_http {
	struct MHD_Daemon *d;
	struct kt_api *api;
	struct kt_metrics *metrics;
	struct kt_limits limits;
	uint16_t port;
	atomic_int suspended; /* writes parked, waiting for their commit */
	MHD_socket quiesced;  /* listen socket after quiesce; closed at
	                           stop */
};

enum phase {
	PH_NEW = 0,  /* headers seen, maybe reading a body */
	PH_REJECTED, /* an answer was queued early; drop the rest */
	PH_WAITING,  /* suspended until the sequencer wakes us */
	PH_READY,    /* woken (or submission refused): answer now */
	PH_ANSWERED, /* the answer was handed to MHD */
};

/* One request's state (MHD's per-request context pointer). */
struct req {
	struct kt_http *h;
	struct MHD_Connection *c;
	atomic_int phase;
	enum kt_route route;
	uint8_t *body;
	size_t len, cap;
	int too_large; /* body passed the limit: answer 413 */
	size_t discarded;
	struct kt_api_write *w;
};

static void
drop_body(struct req *q)
{
	free(q->body);
	q->body = NULL;
	q->len = q->cap = 0;
}

/*
 * Keep the path and query exactly as sent: request.c decodes them strictly
 * (MHD's own unescaping leaves bad escapes in place instead of refusing).
 */
static size_t
unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	kt_vmsg(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0'; /* libmicrohttpd ends its lines */
	KT_LOG(KT_LOG_WARN, "http", kt_log_str("message", msg));
}

static enum MHD_Result
send_resp(struct req *q, struct kt_api_resp *ar)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char ra[16];

	kt_metrics_request(q->h->metrics, q->route, ar->status);
	KT_LOG(ar->status >= 500 ? KT_LOG_WARN : KT_LOG_DEBUG, "request",
	    kt_log_str("route", kt_metrics_route_name(q->route)),
	    kt_log_uint("status", ar->status));
	r = MHD_create_response_from_buffer(ar->len, ar->body,
	    MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(ar->body);
		return MHD_NO;
	}
	ar->body = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    ar->content_type ? ar->content_type : "application/json");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* Reads are public: let browser-based monitors fetch them. */
	if (!kt_api_route_is_write(q->route))
		MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	if (ar->cache_control != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		    ar->cache_control);
	if (ar->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ar->allow);
	if (ar->www_authenticate)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer");
	if (ar->retry_after > 0 &&
	    kt_fmt(ra, sizeof ra, "%d", ar->retry_after) == KT_OK)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	ret = MHD_queue_response(q->c, ar->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Answers and drops the rest of the request. On the first call (before
 * the body is read) MHD then closes the connection rather than read an
 * upload nobody wants. */
static enum MHD_Result
reject_early(struct req *q, kt_err e, const char *msg)
{
	struct kt_api_resp ar;

	kt_api_error(&ar, e, msg);
	atomic_store(&q->phase, PH_REJECTED);
	return send_resp(q, &ar);
}

/* Parks a write until its commit (kt_api_waiter.park). */
static void
park(void *arg)
{
	struct req *q = arg;

	atomic_store(&q->phase, PH_WAITING);
	atomic_fetch_add(&q->h->suspended, 1);
	MHD_suspend_connection(q->c);
}

/* Its commit is done, or it was refused (kt_api_waiter.wake). */
static void
wake(void *arg)
{
	struct req *q = arg;

	/* Runs on the writer thread (or inside kt_api_handle when the write
	 * was refused); q stays valid until the resumed connection is
	 * answered or closed, which happens after this. */
	atomic_store(&q->phase, PH_READY);
	MHD_resume_connection(q->c);
}

static int
content_length_over(struct MHD_Connection *c, size_t max)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long v = 0;

	if (cl == NULL)
		return 0;
	for (const char *p = cl; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0; /* MHD itself rejects a bad Content-Length */
		if (v > (unsigned long long)max)
			return 1;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	return v > (unsigned long long)max;
}

static enum MHD_Result
reject_too_large(struct req *q)
{
	char msg[128];

	kt_msg(msg, sizeof msg, "request body is larger than %zu bytes",
	    q->h->limits.max_body);
	return reject_early(q, KT_ERR_TOO_LARGE, msg);
}

/*
 * The first call, with the headers only. Answering here would cost the
 * keep-alive (libmicrohttpd 0.9.75), so only refuse bodies that announce
 * they are too large.
 */
static enum MHD_Result
begin_request(struct kt_http *h, struct MHD_Connection *c, const char *url,
    void **ctx)
{
	struct req *q = calloc(1, sizeof *q);

	if (q == NULL)
		return MHD_NO;
	q->h = h;
	q->c = c;
	q->route = kt_api_route(url);
	*ctx = q;
	if (content_length_over(c, h->limits.max_body))
		return reject_too_large(q);
	return MHD_YES;
}

/* Buffers n more bytes of the body, up to the limit. */
static enum MHD_Result
take_body(struct req *q, const char *upload, size_t n)
{
	size_t max = q->h->limits.max_body, ncap;
	uint8_t *nb;

	if (atomic_load(&q->phase) == PH_REJECTED)
		return MHD_YES;
	if (q->too_large) {
		/* libmicrohttpd 0.9.75 cannot answer in the middle of an
		 * upload: swallow a bounded amount so the 413 can be sent at
		 * its end, and hang up on anything longer. */
		q->discarded += n;
		return q->discarded > 4 * max ? MHD_NO : MHD_YES;
	}
	if (n > max - q->len) {
		q->too_large = 1;
		q->discarded = q->len + n;
		drop_body(q);
		return MHD_YES;
	}
	if (q->len + n > q->cap) {
		ncap = q->cap ? q->cap : 4096;
		while (ncap < q->len + n)
			ncap *= 2;
		if (ncap > max)
			ncap = max;
		nb = realloc(q->body, ncap);
		if (nb == NULL)
			return MHD_NO;
		q->body = nb;
		q->cap = ncap;
	}
	memcpy(q->body + q->len, upload, n);
	q->len += n;
	return MHD_YES;
}

/* The query parameters, as sent (at most KT_API_MAX_PARAMS). */
struct params {
	struct kt_api_param p[KT_API_MAX_PARAMS];
	size_t n;
	int overflow;
};

static enum MHD_Result
collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct params *ps = cls;

	(void)kind;
	if (ps->n == KT_API_MAX_PARAMS) {
		ps->overflow = 1;
		return MHD_NO;
	}
	ps->p[ps->n].name = key;
	ps->p[ps->n].value = value;
	ps->n++;
	return MHD_YES;
}

/* The whole request is in: hand it to the api, answer or park. */
static enum MHD_Result
handle(struct req *q, const char *method, const char *url)
{
	struct params ps = { .n = 0 };
	struct kt_api_req req = {
		.method = method,
		.path = url,
		.params = ps.p,
		.authorization = MHD_lookup_connection_value(q->c,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		.content_type = MHD_lookup_connection_value(q->c,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = q->body,
		.body_len = q->len,
	};
	struct kt_api_waiter wt = { park, wake, q };
	struct kt_api_resp ar;

	if (q->too_large)
		return reject_too_large(q);
	MHD_get_connection_values(q->c, MHD_GET_ARGUMENT_KIND, collect_param,
	    &ps);
	req.nparams = ps.n;
	req.params_overflow = ps.overflow;
	kt_api_handle(q->h->api, &req, &wt, &ar, &q->w, &q->route);
	if (q->w != NULL) {
		/* Parked: the write holds what it needs of the body. */
		drop_body(q);
		return MHD_YES;
	}
	atomic_store(&q->phase, PH_ANSWERED);
	return send_resp(q, &ar);
}

/* A parked write was woken: answer it. */
static enum MHD_Result
finish(struct req *q)
{
	struct kt_api_resp ar;

	kt_api_finish(q->h->api, q->w, &ar);
	q->w = NULL;
	atomic_fetch_sub(&q->h->suspended, 1);
	atomic_store(&q->phase, PH_ANSWERED);
	return send_resp(q, &ar);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **ctx)
{
	struct req *q = *ctx;
	size_t n = *upload_size;

	(void)version;
	if (q == NULL)
		return begin_request(cls, c, url, ctx);
	if (n != 0) {
		*upload_size = 0;
		return take_body(q, upload, n);
	}
	switch (atomic_load(&q->phase)) {
	case PH_NEW:
		return handle(q, method, url);
	case PH_REJECTED:
		return MHD_YES;
	case PH_WAITING:
		/* Not woken yet (spurious call): stay parked. */
		return MHD_YES;
	case PH_READY:
		return finish(q);
	case PH_ANSWERED:
		/* Called again: the answer could not be queued (the daemon is
		 * stopping). Never handle a request twice; drop the link. */
		return MHD_NO;
	}
	return MHD_NO;
}

static void
completed(void *cls, struct MHD_Connection *c, void **ctx,
    enum MHD_RequestTerminationCode toe)
{
	struct req *q = *ctx;

	(void)cls;
	(void)c;
	(void)toe;
	if (q == NULL)
		return;
	if (q->w != NULL) {
		/* Closed after being woken but before answering. */
		atomic_fetch_sub(&q->h->suspended, 1);
		kt_api_write_free(q->w);
	}
	free(q->body);
	free(q);
	*ctx = NULL;
}

kt_err
kt_http_start(struct kt_http **out, const struct kt_http_opts *o, char *err,
    size_t errlen)
{
	struct kt_http *h = NULL;
	struct addrinfo hints, *ai = NULL;
	char portstr[8];
	unsigned flags;
	const union MHD_DaemonInfo *info;
	int rc;

	*out = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (kt_fmt(portstr, sizeof portstr, "%u", (unsigned)o->port) != KT_OK) {
		kt_msg(err, errlen, "port %u does not fit its buffer",
		    (unsigned)o->port);
		return KT_ERR_INTERNAL;
	}
	rc = getaddrinfo(o->host, portstr, &hints, &ai);
	if (rc != 0) {
		kt_msg(err, errlen, "listen address '%s': %s", o->host,
		    gai_strerror(rc));
		return KT_ERR_MALFORMED;
	}
	h = calloc(1, sizeof *h);
	if (h == NULL) {
		freeaddrinfo(ai);
		return KT_ERR_NOMEM;
	}
	h->quiesced = MHD_INVALID_SOCKET;
	h->api = o->api;
	h->metrics = o->metrics;
	h->limits = *o->limits;
	atomic_init(&h->suspended, 0);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, o->port, NULL, NULL, handler, h,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)o->threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)o->limits->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)o->limits->conn_timeout, MHD_OPTION_NOTIFY_COMPLETED,
	    completed, (void *)h, MHD_OPTION_UNESCAPE_CALLBACK, unescape_none,
	    (void *)NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)NULL,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (h->d == NULL) {
		kt_msg(err, errlen,
		    "cannot listen on %s:%u (address in use, "
		    "not local, or no permission)",
		    o->host, (unsigned)o->port);
		free(h);
		return KT_ERR_IO;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : o->port;
	*out = h;
	return KT_OK;
}

uint16_t
kt_http_port(const struct kt_http *h)
{
	return h->port;
}

void
kt_http_quiesce(struct kt_http *h)
{
	MHD_socket fd;

	if (h == NULL || h->d == NULL)
		return;
	/* The workers may still use the listen socket until the daemon is
	 * stopped (libmicrohttpd's rule): close it only after that. */
	fd = MHD_quiesce_daemon(h->d);
	if (fd != MHD_INVALID_SOCKET)
		h->quiesced = fd;
}

void
kt_http_stop(struct kt_http *h, unsigned wait_ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (h == NULL)
		return;
	/* Stopping the daemon with suspended connections is undefined in
	 * libmicrohttpd: let every woken write be answered first. */
	for (unsigned waited = 0;
	     atomic_load(&h->suspended) > 0 && waited < wait_ms; waited += 10)
		nanosleep(&ts, NULL);
	if (atomic_load(&h->suspended) > 0)
		KT_LOG(KT_LOG_WARN, "stop_with_pending_writes",
		    kt_log_int("pending", atomic_load(&h->suspended)));
	MHD_stop_daemon(h->d);
	if (h->quiesced != MHD_INVALID_SOCKET)
		close(h->quiesced);
	free(h);
}
