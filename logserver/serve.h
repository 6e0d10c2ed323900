/*
 * serve.h: runs the log (kt-logd serve): loads the key and tokens, opens
 * the store, starts the sequencer and the HTTP server, prints one start-up
 * line, and on SIGTERM/SIGINT stops accepting, commits what is queued and
 * returns. main.c turns the result into the exit status.
 */
#ifndef KT_LOGSERVER_SERVE_H
#define KT_LOGSERVER_SERVE_H

#include <stdio.h>

#include "kt/err.h"
#include "config.h"

/*
 * Serves until SIGTERM or SIGINT. The start-up line goes to `out`:
 *   kt-logd: origin=<origin> vkey=<verifier key> listen=<host:port> size=<n>
 * Returns KT_OK after a clean stop; otherwise an error with a message in
 * err (nothing was served, or serving failed).
 */
KT_MUST_CHECK kt_err kt_serve(const struct kt_config *c, FILE *out, char *err,
    size_t errlen);

#endif /* KT_LOGSERVER_SERVE_H */
