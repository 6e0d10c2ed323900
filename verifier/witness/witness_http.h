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

/*
 * Starts serving witness `w` (borrowed; it must outlive the server) on the
 * address addr (IPv4 or IPv6; port 0 picks a free port) with internal
 * threads. `log` (may be NULL) gets one line per refused or failed
 * add-checkpoint request. KT_ERR_NETWORK if the daemon cannot start (port
 * in use...), KT_ERR_NOMEM; *out is NULL on error, `detail` says why.
 */
KT_MUST_CHECK kt_err kt_witness_http_start(struct kt_witness *w,
    const struct sockaddr *addr, socklen_t addrlen, FILE *log,
    struct kt_witness_http **out, char *detail, size_t cap);

/* The TCP port the server listens on. */
uint16_t kt_witness_http_port(const struct kt_witness_http *h);

/* Stops the daemon, waiting for its threads. Accepts NULL. */
void kt_witness_http_stop(struct kt_witness_http *h);

#endif /* KT_WITNESS_HTTP_H */
