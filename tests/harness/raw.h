/*
 * raw.h: plain sockets for the tests that speak HTTP as an attacker or a
 * broken client would (floods, trickled headers, ambiguous framing, half
 * closes), where libcurl would refuse or repair the request. Every
 * connection goes to 127.0.0.1; its source may be any other loopback
 * address (127.0.0.0/8 is all local on Linux), so that tests can stand for
 * many clients.
 */
#ifndef KT_TESTS_RAW_H
#define KT_TESTS_RAW_H

#include <stddef.h>
#include <sys/types.h>

/* The port of a base URL "http://127.0.0.1:PORT"; 0 if it has none. */
unsigned raw_port(const char *url);

/*
 * A TCP connection to 127.0.0.1:port from source address src (NULL: the
 * kernel's choice), non-blocking if nonblock. Returns the descriptor, or
 * -1 if the connection could not be made (a non-blocking one may still
 * fail later).
 */
int raw_connect(unsigned port, const char *src, int nonblock);

/* Sends all n bytes of p on a blocking descriptor. 0, or -1 on error. */
int raw_send(int fd, const void *p, size_t n);

/*
 * Reads what the peer sends until it closes the connection or timeout_s
 * passes, into buf (cap bytes, NUL-terminated; more is dropped). Returns
 * the bytes kept when the peer closed (or reset) the connection, -1 if it
 * was still open at the timeout.
 */
long raw_read_until_close(int fd, char *buf, size_t cap, double timeout_s);

/*
 * Reads until one whole answer with a Content-Length body is in buf (cap
 * bytes, NUL-terminated), the peer closes, or timeout_s passes. Returns
 * the bytes read, -1 if nothing complete arrived in time.
 */
long raw_read_answer(int fd, char *buf, size_t cap, double timeout_s);

/* The status of an answer "HTTP/1.x NNN ...", or -1. */
int raw_status(const char *answer);

/* The value of header name in answer (case-insensitive), copied into
 * out (cap bytes); 0, or -1 if it is not there. */
int raw_header(const char *answer, const char *name, char *out, size_t cap);

/* The body of an answer (after the blank line), or "" if none. */
const char *raw_body(const char *answer);

/* A field of /proc/PID/status in KiB ("VmHWM", "VmRSS"), or -1. */
long raw_proc_kib(pid_t pid, const char *field);

#endif /* KT_TESTS_RAW_H */
