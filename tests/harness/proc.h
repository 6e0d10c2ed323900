/*
 * proc.h: starting the real binaries (kt-logd, kt-witness, kt-verify, the
 * test servers) from a test, and always stopping them.
 *
 * Every child is tracked from the moment it is forked: it gets SIGKILL if
 * the thread that started it dies (PR_SET_PDEATHSIG), proc_stop_all()
 * stops whatever a test left running (call it in a teardown), and anything
 * still running when the process that started it exits is killed then. A child
 * starts with the default SIGPIPE action, as it would from a shell, and
 * inherits no descriptor of the test but the ones given to it.
 *
 * Not thread-safe: start and stop children from one thread.
 */
#ifndef KT_TESTS_PROC_H
#define KT_TESTS_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "kt/err.h"

/* $env if it is set and not empty, else fallback: the path of a binary
 * under test (meson passes the built ones in the environment). */
const char *proc_bin(const char *env, const char *fallback);

/*
 * Runs argv (argv[0] is the path; NULL-terminated) to completion. Its
 * stdout goes into out and its stderr into err (each up to cap - 1 bytes,
 * NUL-terminated; more is read and dropped; either may be NULL: not kept).
 * A child still running after timeout_s seconds is killed. Returns the
 * exit status (0..255), 256 + the signal that ended it, or -1 if it could
 * not be started.
 */
KT_MUST_CHECK int proc_run(const char *const *argv, char *out, size_t outcap,
    char *err, size_t errcap, unsigned timeout_s);

/*
 * Starts argv as a server. Its stderr is appended to errlog (NULL: the
 * test's stderr); its stdout is read until a whole line containing ready
 * (NULL: any whole line) arrives, for at most timeout_s seconds, then
 * closed. out gets what stdout said until then (cap bytes, NUL-
 * terminated). Returns the pid, or -1 (nothing left running) if the line
 * did not come.
 */
KT_MUST_CHECK pid_t proc_start(const char *const *argv, const char *errlog,
    const char *ready, char *out, size_t cap, unsigned timeout_s);

/*
 * SIGTERM, up to wait_s seconds for the exit, then SIGKILL; reaps pid and
 * forgets it. Returns the exit status (0..255), 256 + the signal that
 * ended it (256 + SIGKILL when it had to be killed), or -1 if pid is not a
 * running child started here (e.g. 0, or stopped already).
 */
int proc_stop(pid_t pid, unsigned wait_s);

/* SIGKILL at once (a crash), reaps pid and forgets it. */
void proc_kill(pid_t pid);

/* proc_stop(pid, wait_s) for every child this process started that still
 * runs (a forked test leaves its parent's children alone). */
void proc_stop_all(unsigned wait_s);

/*
 * The last line of s (the verifier key that keygen commands print last):
 * trailing newlines are cut off s, and the text after the newline before
 * them is returned (s itself if it has one line).
 */
char *proc_last_line(char *s);

/* A 127.0.0.1 port that was free a moment ago: bound, never listened on,
 * closed, so connections to it are refused. 0 if none was found. */
unsigned proc_free_port(void);

/* Sleeps ms milliseconds (signals do not cut it short). */
void proc_sleep_ms(unsigned ms);

/* Seconds on the monotonic clock, for deadlines. */
double proc_now_s(void);

#endif /* KT_TESTS_PROC_H */
