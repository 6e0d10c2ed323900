/*
 * transport.h: the witness client's HTTP transport. transport.c is the only
 * file of kt-logd that includes curl/curl.h.
 *
 * One libcurl multi handle drives one easy handle per witness (a "slot"),
 * so a slow witness ties up only its own slot; a slot has at most one POST
 * in flight. Every request has a connect and a total timeout and a cap on
 * the answer's size. Only the client's thread calls these functions, except
 * kt_wtransport_wakeup.
 */
#ifndef KT_LOGSERVER_WITNESS_CLIENT_TRANSPORT_H
#define KT_LOGSERVER_WITNESS_CLIENT_TRANSPORT_H

#include <stddef.h>

#include "kt/err.h"

#define KT_WTRANSPORT_RESP_MAX 16384 /* bytes of an answer that are read */

struct kt_wtransport;

/* How one request ended. The pointers stay valid until the slot's next
 * kt_wtransport_send or kt_wtransport_close. */
struct kt_wtransport_done {
	size_t slot;
	const char *error;        /* NULL: an HTTP answer arrived; else why
				     not (network, timeout, answer too
				     large), a static string */
	long status;              /* the HTTP status (error NULL) */
	const char *content_type; /* its Content-Type, or NULL */
	const char *body;         /* the answer's body_len bytes */
	size_t body_len;
};

/*
 * Opens a transport with n slots; slot i POSTs to urls[i] (copied) with
 * "Content-Type: text/plain; charset=utf-8", over http or https only.
 * Calls curl_global_init. KT_ERR_NOMEM, KT_ERR_INTERNAL (libcurl refused).
 * On error *out is NULL.
 */
KT_MUST_CHECK kt_err kt_wtransport_open(struct kt_wtransport **out,
    const char *const *urls, size_t n, unsigned connect_ms,
    unsigned timeout_ms);

/*
 * Starts a POST of body (len bytes, borrowed: it must stay valid until the
 * request ends) on an idle slot. The answer arrives through
 * kt_wtransport_next_done. KT_ERR_BUSY (the slot has a request in flight),
 * KT_ERR_INTERNAL (libcurl refused).
 */
KT_MUST_CHECK kt_err kt_wtransport_send(struct kt_wtransport *t, size_t slot,
    const char *body, size_t len);

/* Moves every transfer on as far as it can without waiting. */
void kt_wtransport_perform(struct kt_wtransport *t);

/* Takes the next ended request (its slot is idle again): 1 and *out
 * filled, or 0 if none ended since the last call. */
int kt_wtransport_next_done(struct kt_wtransport *t,
    struct kt_wtransport_done *out);

/* Waits up to ms for socket activity, a libcurl timer or
 * kt_wtransport_wakeup. */
void kt_wtransport_wait(struct kt_wtransport *t, unsigned ms);

/* Ends a kt_wtransport_wait at once, from any thread. Accepts NULL. */
void kt_wtransport_wakeup(struct kt_wtransport *t);

/* Abandons requests in flight, frees, calls curl_global_cleanup. Accepts
 * NULL. */
void kt_wtransport_close(struct kt_wtransport *t);

#endif /* KT_LOGSERVER_WITNESS_CLIENT_TRANSPORT_H */
