/*
 * guard.h: the connection guard of kt-logd's HTTP server. libmicrohttpd
 * (0.9.75) closes a connection only after a time of inactivity, so a
 * client that sends a header byte now and then keeps its connection for
 * ever, and enough of them leave no connection for anyone else. The guard
 * adds what it lacks, from outside it: an absolute deadline for reading a
 * request (headers and body) and for sending its answer, and room for new
 * clients: while the server is nearly full it cuts the connections that
 * have waited longest without completing a request. A cut is a
 * shutdown(2) of the socket, which the server then sees as a closed
 * connection; the guard never closes a descriptor itself.
 *
 * Independent of the HTTP library: http.c tells it when a connection opens
 * and closes and where each one is in its request. Thread-safe; a request's
 * path costs a few atomic operations, opening and closing one a mutex.
 */
#ifndef KT_LOGSERVER_HTTP_GUARD_H
#define KT_LOGSERVER_HTTP_GUARD_H

#include "kt/err.h"

struct guard;
struct guard_conn;

struct guard_opts {
	unsigned max_conns;   /* the server's connection limit */
	unsigned deadline_ms; /* to read a request, and to send an answer */
	/* Kept free for new clients: above max_conns - reserve, connections
	 * that have waited more than grace_ms for a whole request are cut,
	 * oldest first. */
	unsigned reserve;
	unsigned grace_ms;
	unsigned tick_ms; /* how often the guard looks (also the precision) */
};

/* Starts the guard's thread. KT_ERR_NOMEM, KT_ERR_IO if the thread
 * cannot start. */
KT_MUST_CHECK kt_err guard_start(struct guard **out,
    const struct guard_opts *o);

/* Stops the thread and frees. Every connection must have been closed
 * (guard_close) before. Accepts NULL. */
void guard_stop(struct guard *g);

/*
 * A connection to watch: socket fd, which stays open until guard_close
 * (the caller closes it after that). Its first request's deadline starts
 * now. NULL if out of memory: the connection then goes unguarded (every
 * function below accepts NULL).
 */
struct guard_conn *guard_open(struct guard *g, int fd);

/* The connection is closing: the guard forgets it (and never touches fd
 * again once this returns). */
void guard_close(struct guard *g, struct guard_conn *c);

/* A request is whole (headers and body read): no deadline while it is
 * handled (a write waits for its commit). Returns 0 if the guard has cut
 * the connection already: drop the request, do not act on it. */
int guard_request_read(struct guard_conn *c);

/* Its answer is queued: the deadline for sending it starts now. */
void guard_answer_queued(struct guard_conn *c);

/* The answer was sent: waiting for (or reading) the next request on the
 * connection; the deadline starts again now. */
void guard_answer_sent(struct guard_conn *c);

#endif /* KT_LOGSERVER_HTTP_GUARD_H */
