/*
 * http.c: kt-logd's libmicrohttpd server, the only file that includes
 * microhttpd.h. The daemon, each request's state, what is decided from the
 * headers (framing, admission, the body budget), buffering the body,
 * suspending a write's connection until its commit, and turning a request
 * into a kt_api_req and the kt_api_resp back into an HTTP answer. The
 * connection guard (libktguard, guard/) watches every connection's
 * deadlines.
 */
#include "http/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kt/fmt.h"
#include "kt/guard.h"
#include "log.h"

/* How often the guard looks at the connections, and how long a new one
 * is safe from being cut to make room (a client that sends its request
 * at once needs milliseconds). */
#define GUARD_TICK_MS 100
#define GUARD_GRACE_MS 1000

struct kt_http {
	struct MHD_Daemon *d;
	struct kt_api *api;
	struct kt_metrics *metrics;
	struct kt_limits limits;
	struct kt_guard *guard;
	uint16_t port;
	atomic_int suspended; /* writes parked, waiting for their commit */
	MHD_socket quiesced;  /* listen socket after quiesce; closed at
	                           stop */
	/* Body bytes counted against limits.max_buffered: a write's
	 * announced body from its headers until it is answered. */
	_Atomic size_t buffered;
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
	size_t reserved; /* of h->buffered, given back when answered */
	int chunked;     /* no Content-Length: reserved as it comes */
	struct kt_guard_conn *gc;
	struct kt_api_write *w;
};

static void
drop_body(struct req *q)
{
	free(q->body);
	q->body = NULL;
	q->len = q->cap = 0;
}

/* ---- the body budget -------------------------------------------------- */

/* Counts n more bytes of q's body against max_buffered; 0 if they do not
 * fit (nothing counted then). */
static int
reserve(struct req *q, size_t n)
{
	struct kt_http *h = q->h;
	size_t cur = atomic_load(&h->buffered);

	do {
		if (n > h->limits.max_buffered - cur)
			return 0;
	} while (!atomic_compare_exchange_weak(&h->buffered, &cur, cur + n));
	q->reserved += n;
	return 1;
}

static void
release(struct req *q)
{
	atomic_fetch_sub(&q->h->buffered, q->reserved);
	q->reserved = 0;
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
	/* A 503 (busy, out of room, disk full) comes in floods and says
	 * what the metrics and /healthz already say: debug only. */
	KT_LOG(ar->status >= 500 && ar->status != 503 ? KT_LOG_WARN
	                                              : KT_LOG_DEBUG,
	    "request", kt_log_str("route", kt_metrics_route_name(q->route)),
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
	if (ret == MHD_YES)
		kt_guard_answer_queued(q->gc);
	return ret;
}

/* Answers ar and drops the rest of the request. On the first call
 * (before the body is read) MHD then closes the connection rather than
 * read an upload nobody wants. */
static enum MHD_Result
reject_with(struct req *q, struct kt_api_resp *ar)
{
	atomic_store(&q->phase, PH_REJECTED);
	return send_resp(q, ar);
}

static enum MHD_Result
reject_early(struct req *q, kt_err e, const char *msg)
{
	struct kt_api_resp ar;

	kt_api_error(&ar, e, msg);
	return reject_with(q, &ar);
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

/* ---- the headers ------------------------------------------------------ */

/* What the framing headers say (RFC 9112 sections 3.2 and 6). */
struct framing {
	unsigned cl, te, host;
	const char *cl0, *te0;
	int cl_differ;
};

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->cl++ == 0)
			f->cl0 = value;
		else if (strcmp(value, f->cl0) != 0)
			f->cl_differ = 1;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		if (f->te++ == 0)
			f->te0 = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0) {
		f->host++;
	}
	return MHD_YES;
}

/*
 * NULL if the request's framing is unambiguous, else why not. A proxy in
 * front may read an ambiguous request differently (where its body ends,
 * which host it is for), which is how requests are smuggled past it:
 * refused, and the connection closed. libmicrohttpd 0.9.75 itself takes
 * the first of two Content-Lengths, lets Transfer-Encoding override
 * Content-Length and accepts HTTP/1.1 without Host.
 */
static const char *
ambiguous(struct MHD_Connection *c, const char *version, int *chunked)
{
	struct framing f = { 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	*chunked = f.te > 0;
	if (f.cl_differ)
		return "two different Content-Length headers";
	if (f.cl > 0 && f.te > 0)
		return "both Content-Length and Transfer-Encoding";
	if (f.te > 1 || (f.te == 1 && strcasecmp(f.te0, "chunked") != 0))
		return "a Transfer-Encoding other than one 'chunked'";
	if (f.host > 1)
		return "more than one Host header";
	if (f.host == 0 && strcmp(version, MHD_HTTP_VERSION_1_1) == 0)
		return "an HTTP/1.1 request without a Host header";
	return NULL;
}

static int
content_length_over(struct MHD_Connection *c, size_t max, size_t *len)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long v = 0;

	*len = 0;
	if (cl == NULL)
		return 0;
	for (const char *p = cl; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0; /* MHD itself rejects a bad Content-Length */
		if (v > (unsigned long long)max)
			return 1;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	*len = (size_t)v;
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

static enum MHD_Result
reject_no_room(struct req *q)
{
	struct kt_api_resp ar;
	char msg[200];

	kt_msg(msg, sizeof msg,
	    "the server is holding as many request bodies as it "
	    "takes at once (max_buffered, %zu bytes); retry later",
	    q->h->limits.max_buffered);
	kt_api_error(&ar, KT_ERR_BUSY, msg);
	ar.retry_after = 2;
	return reject_with(q, &ar);
}

/*
 * The first call, with the headers only: everything that can be decided
 * before the body is, so that no body is read for nothing (framing,
 * size, token, a body where none is taken, room in the budget).
 * Otherwise answering here would cost the keep-alive (libmicrohttpd
 * 0.9.75), so a request that is fine so far is answered at its end.
 */
static enum MHD_Result
begin_request(struct kt_http *h, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, void **ctx)
{
	struct req *q = calloc(1, sizeof *q);
	const union MHD_ConnectionInfo *ci;
	struct kt_api_req req = { .method = method, .path = url };
	struct kt_api_resp ar;
	const char *why;
	char msg[160];
	size_t cl;

	if (q == NULL)
		return MHD_NO;
	q->h = h;
	q->c = c;
	q->route = kt_api_route(url);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	q->gc = ci != NULL ? ci->socket_context : NULL;
	*ctx = q;
	if ((why = ambiguous(c, version, &q->chunked)) != NULL) {
		kt_msg(msg, sizeof msg, "ambiguous request: %s", why);
		return reject_early(q, KT_ERR_MALFORMED, msg);
	}
	if (content_length_over(c, h->limits.max_body, &cl))
		return reject_too_large(q);
	req.authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (!kt_api_admit(h->api, &req, cl > 0 || q->chunked, &ar))
		return reject_with(q, &ar);
	/* Admitted with a body: a write. Its announced length counts from
	 * now; a chunked one is counted as it comes (take_body). */
	if (cl > 0 && !reserve(q, cl))
		return reject_no_room(q);
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
	/* A chunked body is counted against max_buffered as it comes; out
	 * of room in the middle of it, libmicrohttpd cannot answer: hang up
	 * (the client sees a reset and may retry). */
	if (q->chunked && n <= max - q->len && !reserve(q, n))
		return MHD_NO;
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

	/* Cut by the guard while the last bytes came in: do not act on it. */
	if (!kt_guard_request_read(q->gc))
		return MHD_NO;
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

	if (q == NULL)
		return begin_request(cls, c, url, method, version, ctx);
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
	release(q);
	/* On a kept connection, the next request's deadline starts now. */
	kt_guard_answer_sent(q->gc);
	free(q->body);
	free(q);
	*ctx = NULL;
}

/* The guard watches every connection from its start to its close. */
static void
connection_event(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	struct kt_http *h = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_ctx =
		    ci != NULL ? kt_guard_open(h->guard, ci->connect_fd) : NULL;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* libmicrohttpd closes the socket after this returns. */
		kt_guard_close(h->guard, *socket_ctx);
		*socket_ctx = NULL;
	}
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
	struct kt_guard_opts gopts;
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
	atomic_init(&h->buffered, 0);
	gopts = (struct kt_guard_opts){
		.max_conns = o->limits->max_connections,
		.deadline_ms = o->limits->request_timeout * 1000u,
		.reserve = o->limits->max_connections / 8,
		.grace_ms = GUARD_GRACE_MS,
		.tick_ms = GUARD_TICK_MS,
	};
	if (kt_guard_start(&h->guard, &gopts) != KT_OK) {
		kt_msg(err, errlen, "cannot start the connection guard");
		freeaddrinfo(ai);
		free(h);
		return KT_ERR_NOMEM;
	}
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(flags, o->port, NULL, NULL, handler, h,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)o->threads, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)o->limits->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->limits->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->limits->conn_timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, (void *)h,
	    MHD_OPTION_NOTIFY_CONNECTION, connection_event, (void *)h,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, (void *)NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, (void *)NULL, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (h->d == NULL) {
		kt_msg(err, errlen,
		    "cannot listen on %s:%u (address in use, "
		    "not local, or no permission)",
		    o->host, (unsigned)o->port);
		kt_guard_stop(h->guard);
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
	kt_guard_stop(h->guard); /* every connection is closed now */
	if (h->quiesced != MHD_INVALID_SOCKET)
		close(h->quiesced);
	free(h);
}
