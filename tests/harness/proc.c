/* proc.c: see proc.h. pipe2, memmem and prctl are Linux (GNU) calls. */
#define _GNU_SOURCE
#include "harness/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the children started here ----------------------------------------- */

#define MAX_CHILDREN 32
static pid_t children[MAX_CHILDREN];
/* Which process started each: a forked test inherits this table, and must
 * not stop its parent's children when it exits. */
static pid_t owner[MAX_CHILDREN];

/* At exit nothing may be left: a failed check must not leave a server
 * holding a port or a folder. */
static void
kill_all(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0 && owner[i] == getpid()) {
			kill(children[i], SIGKILL);
			(void)waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
}

static int *
slot(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			return &children[i];
	return NULL;
}

static int
forget(pid_t pid)
{
	int *p = slot(pid);

	if (p == NULL)
		return -1;
	*p = 0;
	return 0;
}

double
proc_now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void
proc_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

const char *
proc_bin(const char *env, const char *fallback)
{
	const char *p = getenv(env);

	return p != NULL && p[0] != '\0' ? p : fallback;
}

/*
 * The one place a child is forked. out_fd and err_fd (-1: inherited)
 * become its stdout and stderr; every other descriptor of the test is
 * close-on-exec. Returns the pid (tracked), or -1.
 */
static pid_t
spawn(const char *const *argv, int out_fd, int err_fd)
{
	static int atexit_set;
	int *free_slot = slot(0);
	pid_t pid;

	if (!atexit_set) {
		atexit(kill_all);
		atexit_set = 1;
	}
	if (free_slot == NULL)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		sigset_t none;

		/* Only async-signal-safe calls: the test may have threads. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (out_fd >= 0)
			dup2(out_fd, 1);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	*free_slot = pid;
	owner[free_slot - children] = getpid();
	return pid;
}

static int
exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

/* Waits for pid until deadline: its exit code, -1 if it is not a child,
 * or -2 while it still runs. A reaped pid is forgotten. */
static int
reap_by(pid_t pid, double deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			(void)forget(pid);
			return exit_code(status);
		}
		if (r < 0 && errno != EINTR) {
			(void)forget(pid);
			return -1;
		}
		if (proc_now_s() >= deadline)
			return -2;
		proc_sleep_ms(5);
	}
}

void
proc_kill(pid_t pid)
{
	if (pid <= 0 || slot(pid) == NULL)
		return;
	kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
	(void)forget(pid);
}

int
proc_stop(pid_t pid, unsigned wait_s)
{
	int st;

	if (pid <= 0 || slot(pid) == NULL)
		return -1;
	kill(pid, SIGTERM);
	st = reap_by(pid, proc_now_s() + wait_s);
	if (st != -2)
		return st;
	proc_kill(pid);
	return 256 + SIGKILL;
}

void
proc_stop_all(unsigned wait_s)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0 && owner[i] == getpid())
			(void)proc_stop(children[i], wait_s);
}

/* ---- running to completion --------------------------------------------- */

struct sink {
	char *buf; /* NULL: dropped */
	size_t cap, len;
};

/* Reads what fd has; returns 0 at end of file (or an error), else 1. */
static int
drain(int fd, struct sink *k)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0)
		return 0;
	if (k->buf != NULL && k->cap > 0) {
		size_t room = k->cap - 1 - k->len;
		size_t c = (size_t)n < room ? (size_t)n : room;

		memcpy(k->buf + k->len, tmp, c);
		k->len += c;
		k->buf[k->len] = '\0';
	}
	return 1;
}

/* Drains both pipes until both are at end of file or the deadline. */
static void
drain_all(int fd_out, int fd_err, struct sink *out, struct sink *err,
    double deadline)
{
	struct pollfd p[2] = { { fd_out, POLLIN, 0 }, { fd_err, POLLIN, 0 } };
	struct sink *k[2] = { out, err };

	while ((p[0].fd >= 0 || p[1].fd >= 0) && proc_now_s() < deadline) {
		if (poll(p, 2, 200) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (p[i].fd >= 0 && p[i].revents != 0 &&
			    !drain(p[i].fd, k[i]))
				p[i].fd = -1; /* closed by the caller */
	}
}

int
proc_run(const char *const *argv, char *out, size_t outcap, char *err,
    size_t errcap, unsigned timeout_s)
{
	struct sink so = { out, outcap, 0 }, se = { err, errcap, 0 };
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, ret = -1;
	double deadline = proc_now_s() + timeout_s;
	pid_t pid;

	if (out != NULL && outcap > 0)
		out[0] = '\0';
	if (err != NULL && errcap > 0)
		err[0] = '\0';
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0)
		goto out;
	pid = spawn(argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (pid < 0)
		goto out;
	drain_all(po[0], pe[0], &so, &se, deadline);
	ret = reap_by(pid, deadline);
	if (ret == -2) { /* hung: never wait forever */
		proc_kill(pid);
		ret = 256 + SIGKILL;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return ret;
}

/* ---- servers ------------------------------------------------------------ */

/* Whether buf holds a whole line containing ready (any, if NULL). */
static int
has_line(const char *buf, const char *ready)
{
	const char *line = buf, *nl;

	while ((nl = strchr(line, '\n')) != NULL) {
		if (ready == NULL ||
		    memmem(line, (size_t)(nl - line), ready, strlen(ready)) !=
		        NULL)
			return 1;
		line = nl + 1;
	}
	return 0;
}

pid_t
proc_start(const char *const *argv, const char *errlog, const char *ready,
    char *out, size_t cap, unsigned timeout_s)
{
	struct sink k = { out, cap, 0 };
	double deadline = proc_now_s() + timeout_s;
	int po[2], lfd = -1;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(po, O_CLOEXEC) != 0)
		return -1;
	if (errlog != NULL)
		lfd = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0600);
	pid = errlog == NULL || lfd >= 0 ? spawn(argv, po[1], lfd) : -1;
	close(po[1]);
	if (lfd >= 0)
		close(lfd);
	while (pid > 0 && !has_line(out, ready) && k.len + 1 < cap &&
	    proc_now_s() < deadline) {
		struct pollfd p = { po[0], POLLIN, 0 };

		if (poll(&p, 1, 200) > 0 && !drain(po[0], &k))
			break;
	}
	close(po[0]);
	if (pid > 0 && !has_line(out, ready)) {
		proc_kill(pid);
		pid = -1;
	}
	return pid;
}

/* ---- small things ------------------------------------------------------- */

char *
proc_last_line(char *s)
{
	size_t n = strlen(s);
	char *nl;

	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	nl = strrchr(s, '\n');
	return nl != NULL ? nl + 1 : s;
}

unsigned
proc_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	unsigned port = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	close(fd); /* never listened: connections are refused */
	return port;
}
