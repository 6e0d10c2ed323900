/* raw.c: see raw.h. */
#include "harness/raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/proc.h"

unsigned
raw_port(const char *url)
{
	const char *p = strrchr(url, ':');

	return p != NULL ? (unsigned)atoi(p + 1) : 0;
}

int
raw_connect(unsigned port, const char *src, int nonblock)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	if (src != NULL) {
		if (inet_pton(AF_INET, src, &sa.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
			close(fd);
			return -1;
		}
	}
	if (nonblock)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
	    !(nonblock && errno == EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

int
raw_send(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads what is there into buf[*len..cap-1); 1 at the peer's close or
 * reset, 0 if it may send more. */
static int
read_some(int fd, char *buf, size_t cap, size_t *len, double deadline)
{
	char sink[4096];
	struct pollfd pf = { fd, POLLIN, 0 };
	int ms = (int)((deadline - proc_now_s()) * 1000);
	ssize_t n;

	if (poll(&pf, 1, ms < 0 ? 0 : (ms > 50 ? 50 : ms)) <= 0)
		return 0;
	if (*len + 1 < cap)
		n = recv(fd, buf + *len, cap - 1 - *len, 0);
	else
		n = recv(fd, sink, sizeof sink, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return 1;
	if (*len + 1 < cap)
		*len += (size_t)n;
	buf[*len] = '\0';
	return 0;
}

long
raw_read_until_close(int fd, char *buf, size_t cap, double timeout_s)
{
	double deadline = proc_now_s() + timeout_s;
	size_t len = 0;

	buf[0] = '\0';
	while (proc_now_s() < deadline)
		if (read_some(fd, buf, cap, &len, deadline))
			return (long)len;
	return -1;
}

/* 1 when buf holds the head and the whole Content-Length body. */
static int
complete(const char *buf, size_t len)
{
	const char *end = strstr(buf, "\r\n\r\n");
	char cl[32];

	if (end == NULL)
		return 0;
	if (raw_header(buf, "Content-Length", cl, sizeof cl) != 0)
		return 0;
	return (size_t)(end + 4 - buf) + strtoul(cl, NULL, 10) <= len;
}

long
raw_read_answer(int fd, char *buf, size_t cap, double timeout_s)
{
	double deadline = proc_now_s() + timeout_s;
	size_t len = 0;

	buf[0] = '\0';
	while (proc_now_s() < deadline) {
		int closed = read_some(fd, buf, cap, &len, deadline);

		if (complete(buf, len))
			return (long)len;
		if (closed)
			return len > 0 ? (long)len : -1;
	}
	return -1;
}

int
raw_status(const char *answer)
{
	if (strncmp(answer, "HTTP/1.", 7) != 0 || answer[8] != ' ')
		return -1;
	return atoi(answer + 9);
}

int
raw_header(const char *answer, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	const char *end = strstr(answer, "\r\n\r\n");

	for (const char *l = strstr(answer, "\r\n"); l != NULL && l < end;
	     l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2;
		size_t n;

		if (strncasecmp(v, name, nl) != 0 || v[nl] != ':')
			continue;
		v += nl + 1;
		while (*v == ' ')
			v++;
		n = strcspn(v, "\r\n");
		if (n >= cap)
			n = cap - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

const char *
raw_body(const char *answer)
{
	const char *end = strstr(answer, "\r\n\r\n");

	return end != NULL ? end + 4 : "";
}

long
raw_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':')
			v = strtol(line + fl + 1, NULL, 10);
	fclose(f);
	return v;
}
