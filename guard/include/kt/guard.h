/*
 * guard.h: the connection guard of kt's HTTP servers (kt-logd and
 * kt-witness). libmicrohttpd (0.9.75) closes a connection only after a
 * time of inactivity, so a client that sends a header byte now and then
 * keeps its connection for ever, and enough of them leave no connection
 * for anyone else. The guard adds what it lacks, from outside it: an
 * absolute deadline for reading a request (headers and body) and for
 * sending its answer, and room for new clients: while the server is
 * nearly full it cuts the connections that have waited longest without
 * completing a request. A cut is a shutdown(2) of the socket, which the
 * server then sees as a closed connection; the guard never closes a
 * descriptor itself.
 *
 * Independent of the HTTP library: the server tells it when a connection
 * opens and closes and where each one is in its request, by descriptor.
 * It may run threads and shut sockets down, and uses nothing of
 * logserver/ or verifier/. Thread-safe; a request's path costs a few
 * atomic operations, opening and closing a connection a mutex.
 *
 * The server's one duty: it closes a descriptor only after kt_guard_close
 * for it has returned (libmicrohttpd's MHD_CONNECTION_NOTIFY_CLOSED comes
 * before its close, in every threading mode), so the guard never shuts
 * down a number already reused for another connection.
 */
#ifndef KT_GUARD_H
#define KT_GUARD_H

#include "kt/err.h"

struct kt_guard;
struct kt_guard_conn;

struct kt_guard_opts {
	unsigned max_conns;   /* the server's connection limit */
	unsigned deadline_ms; /* to read a request, and to send an answer */
	/* Kept free for new clients: above max_conns - reserve, connections
	 * that have waited more than grace_ms for a whole request are cut,
	 * oldest first. */
	unsigned reserve;
	unsigned grace_ms;
	unsigned tick_ms; /* how often the guard looks (also the precision) */
};

/* Starts the guard's thread. KT_ERR_RANGE if max_conns or tick_ms is 0
 * or reserve is not below max_conns, KT_ERR_NOMEM, KT_ERR_IO if the
 * thread cannot start; *out is NULL on error. */
KT_MUST_CHECK kt_err kt_guard_start(struct kt_guard **out,
    const struct kt_guard_opts *o);

/* Stops the thread and frees. Every connection must have been closed
 * (kt_guard_close) before. Accepts NULL. */
void kt_guard_stop(struct kt_guard *g);

/*
 * A connection to watch: socket fd, which stays open until kt_guard_close
 * (the caller closes it after that). Its first request's deadline starts
 * now. NULL if out of memory: the connection then goes unguarded (every
 * function below accepts NULL).
 */
struct kt_guard_conn *kt_guard_open(struct kt_guard *g, int fd);

/* The connection is closing: the guard forgets it (and never touches fd
 * again once this returns). */
void kt_guard_close(struct kt_guard *g, struct kt_guard_conn *c);

/* A request is whole (headers and body read): no deadline while it is
 * handled (a write waits for its commit). Returns 0 if the guard has cut
 * the connection already: drop the request, do not act on it. */
int kt_guard_request_read(struct kt_guard_conn *c);

/* Its answer is queued: the deadline for sending it starts now. */
void kt_guard_answer_queued(struct kt_guard_conn *c);

/* The answer was sent: waiting for (or reading) the next request on the
 * connection; the deadline starts again now. */
void kt_guard_answer_sent(struct kt_guard_conn *c);

#endif /* KT_GUARD_H */
