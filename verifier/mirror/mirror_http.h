/*
 * mirror_http.h: kt-mirror's HTTP server: each mirrored log as tlog-tiles
 * under /<hex SHA-256(origin)>/ (C2SP tlog-mirror's monitoring prefix is
 * the server's root):
 *
 *   GET /<hex>/checkpoint                 the cosigned mirror checkpoint
 *   GET /<hex>/tile/<L>/<N>[.p/<W>]       hash tiles
 *   GET /<hex>/tile/entries/<N>[.p/<W>]   entry bundles
 *
 * Only what the mirror checkpoint's tree holds is served (a narrower
 * partial tile is cut from the stored one); full tiles are immutable.
 * Errors are JSON: {"error": "..."}.
 *
 * mirror_http.c is the only file of kt-mirror that includes microhttpd.h.
 */
#ifndef KT_MIRROR_HTTP_H
#define KT_MIRROR_HTTP_H

#include <stdint.h>
#include <sys/socket.h>

#include "kt/err.h"
#include "mirror_store.h"

struct kt_mirror_http; /* opaque: the running daemon */

/* The defaults of struct kt_mirror_http_limits (as kt-witness's). */
#define KT_MIRROR_HTTP_MAX_CONNECTIONS 128
#define KT_MIRROR_HTTP_MAX_PER_IP 32
#define KT_MIRROR_HTTP_CONN_TIMEOUT 30
#define KT_MIRROR_HTTP_REQUEST_TIMEOUT 30

/* What the server lets clients hold; every field at least 1. */
struct kt_mirror_http_limits {
	unsigned max_connections; /* open at once, one thread each */
	unsigned max_per_ip;      /* open at once from one address */
	unsigned conn_timeout;    /* seconds idle before a close */
	unsigned request_timeout; /* seconds to read a request or send an
	                             answer (libktguard's deadline) */
};

/*
 * Serves the logs of st (borrowed; it must outlive the server) on addr
 * (port 0 picks one) within limits (NULL: the defaults). Only origins
 * whose hashes are in ohs[0..n) (copied) are served.
 * KT_ERR_RANGE (a limit of 0), KT_ERR_NETWORK (cannot listen),
 * KT_ERR_NOMEM, KT_ERR_IO; *out NULL on error, `detail` says why.
 */
KT_MUST_CHECK kt_err kt_mirror_http_start(struct kt_mstore *st,
    const uint8_t (*ohs)[KT_HASH_LEN], size_t n, const struct sockaddr *addr,
    const struct kt_mirror_http_limits *limits, struct kt_mirror_http **out,
    char *detail, size_t cap);

/* The TCP port the server listens on. */
uint16_t kt_mirror_http_port(const struct kt_mirror_http *h);

/* Stops the daemon, waiting for its threads. Accepts NULL. */
void kt_mirror_http_stop(struct kt_mirror_http *h);

#endif /* KT_MIRROR_HTTP_H */
