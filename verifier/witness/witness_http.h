/*
 * witness_http.h: the kt-witness HTTP server (C2SP tlog-witness).
 *
 *   POST /add-checkpoint                 kt_witness_add_checkpoint
 *   GET  /<hex SHA-256(origin)>/checkpoint  the latest cosigned checkpoint
 *
 * witness_http.c is the only file of kt-witness that includes microhttpd.h.
 */
#ifndef KT_WITNESS_HTTP_H
#define KT_WITNESS_HTTP_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "kt/err.h"
#include "witness.h"

struct kt_witness_http; /* opaque: the running daemon */

/* The defaults of struct kt_witness_http_limits. A log submits over one
 * connection or a few; a quarter of the connections per address keeps
 * one address from taking them all (behind a proxy, where every client
 * has the proxy's address, set max_per_ip to max_connections). */
#define KT_WITNESS_HTTP_MAX_CONNECTIONS 128
#define KT_WITNESS_HTTP_MAX_PER_IP 32
#define KT_WITNESS_HTTP_CONN_TIMEOUT 30
#define KT_WITNESS_HTTP_REQUEST_TIMEOUT 30

/* What the server lets clients hold (kt-witness serve's options); every
 * field at least 1. */
struct kt_witness_http_limits {
	/* Connections open at once (one thread each); a new one beyond it
	 * is closed at once. Above 7/8 of it, the connections that have
	 * waited longest (over a second) without a whole request are cut,
	 * so that new clients find room. */
	unsigned max_connections;
	unsigned max_per_ip;   /* open at once from one address */
	unsigned conn_timeout; /* seconds idle before a connection closes */
	/* Seconds to read a whole request (from the connection's start or
	 * its last answer), and to send an answer, however busy a client
	 * keeps the connection. */
	unsigned request_timeout;
};

/*
 * Starts serving witness `w` (borrowed; it must outlive the server) on the
 * address addr (IPv4 or IPv6; port 0 picks a free port) with internal
 * threads, within limits (copied; NULL: the defaults above). `log` (may
 * be NULL) gets one line per refused or failed add-checkpoint request.
 * KT_ERR_RANGE if a limit is 0, KT_ERR_NETWORK if the daemon cannot start
 * (port in use...), KT_ERR_NOMEM, KT_ERR_IO if a thread cannot start;
 * *out is NULL on error, `detail` says why.
 */
KT_MUST_CHECK kt_err kt_witness_http_start(struct kt_witness *w,
    const struct sockaddr *addr, socklen_t addrlen,
    const struct kt_witness_http_limits *limits, FILE *log,
    struct kt_witness_http **out, char *detail, size_t cap);

/* The TCP port the server listens on. */
uint16_t kt_witness_http_port(const struct kt_witness_http *h);

/* Stops the daemon, waiting for its threads. Accepts NULL. */
void kt_witness_http_stop(struct kt_witness_http *h);

#endif /* KT_WITNESS_HTTP_H */
