/*
 * http.h: kt-logd's HTTP server (libmicrohttpd; the only file that
 * includes microhttpd.h is http.c). A pool of worker threads, each with
 * its own epoll loop; writes suspend their connection until the sequencer
 * has made them durable, so a worker never blocks waiting for a commit.
 */
#ifndef KT_LOGSERVER_HTTP_H
#define KT_LOGSERVER_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "http/api.h"
#include "config.h"
#include "metrics.h"

struct kt_http;

struct kt_http_opts {
	const char *host;               /* numeric address or "localhost" */
	uint16_t port;                  /* 0: any free port */
	unsigned threads;               /* worker threads */
	const struct kt_limits *limits; /* copied */
	struct kt_api *api;             /* must outlive the server */
	struct kt_metrics *metrics;     /* must outlive the server */
};

/* Starts listening and serving. err gets a message on failure. */
KT_MUST_CHECK kt_err kt_http_start(struct kt_http **out,
    const struct kt_http_opts *opts, char *err, size_t errlen);

/* The port actually bound (useful with port 0). */
uint16_t kt_http_port(const struct kt_http *h);

/* Stops accepting new connections; open ones keep being served. */
void kt_http_quiesce(struct kt_http *h);

/*
 * Waits up to wait_ms for every suspended write to be answered (call after
 * the sequencer has been stopped, so each has been woken), then stops the
 * workers and closes every connection. Accepts NULL.
 */
void kt_http_stop(struct kt_http *h, unsigned wait_ms);

#endif /* KT_LOGSERVER_HTTP_H */
