/* nftw(3) is an X/Open function. */
#define _XOPEN_SOURCE 700
#include "e2e.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- registry: no server outlives the test process -------------------- */

#define MAX_LIVE 16
static pid_t live[MAX_LIVE];
static int atexit_set;

static void
kill_live(void)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
}

static int
reg(pid_t p)
{
	if (!atexit_set) {
		atexit(kill_live);
		atexit_set = 1;
	}
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] == 0) {
			live[i] = p;
			return 0;
		}
	return -1;
}

static void
unreg(pid_t p)
{
	for (int i = 0; i < MAX_LIVE; i++)
		if (live[i] == p)
			live[i] = 0;
}

static const char *
logd_path(void)
{
	const char *p = getenv("KT_LOGD");
	return p ? p : "kt-logd";
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- running the binary ----------------------------------------------- */

static size_t
drain(int fd, char *buf, size_t cap, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof tmp);
	if (n <= 0)
		return 0;
	if (buf != NULL && cap > 0) {
		size_t room = cap - 1 - *len;
		size_t k = (size_t)n < room ? (size_t)n : room;
		memcpy(buf + *len, tmp, k);
		*len += k;
		buf[*len] = '\0';
	}
	return (size_t)n;
}

int
e2e_run(const char *const *args, char *out, size_t outcap, char *err,
    size_t errcap)
{
	const char *argv[32];
	int po[2], pe[2], status;
	size_t n = 0, ol = 0, el = 0;
	pid_t pid;

	argv[n++] = logd_path();
	for (; args[n - 1] != NULL && n < 31; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	if (out && outcap)
		out[0] = '\0';
	if (err && errcap)
		err[0] = '\0';
	if (pipe(po) != 0 || pipe(pe) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	{
		struct pollfd p[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
		int open = 2;
		double t0 = now_s();
		while (open > 0 && now_s() - t0 < 30) {
			if (poll(p, 2, 1000) <= 0)
				continue;
			for (int i = 0; i < 2; i++)
				if (p[i].fd >= 0 && p[i].revents) {
					size_t got = i == 0 ?
					    drain(p[i].fd, out, outcap, &ol) :
					    drain(p[i].fd, err, errcap, &el);
					if (got == 0) {
						close(p[i].fd);
						p[i].fd = -1;
						open--;
					}
				}
		}
		for (int i = 0; i < 2; i++)
			if (p[i].fd >= 0)
				close(p[i].fd);
		/* Still running after the deadline (hung): never wait forever,
		 * the caller sees 256 + SIGKILL. */
		if (open > 0)
			kill(pid, SIGKILL);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	size_t n = strlen(text);
	if (fd < 0)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int
e2e_setup(struct e2e_server *s, const char *config_text)
{
	char out[2048], err[2048], *nl;
	const char *tmp = getenv("TMPDIR");
	static unsigned seq;

	memset(s, 0, sizeof *s);
	snprintf(s->dir, sizeof s->dir, "%s/kt-e2e-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(s->dir) == NULL)
		return -1;
	snprintf(s->data, sizeof s->data, "%s/data", s->dir);
	snprintf(s->key, sizeof s->key, "%s/log.key", s->dir);
	snprintf(s->tokens, sizeof s->tokens, "%s/tokens", s->dir);
	snprintf(s->conf, sizeof s->conf, "%s/kt-logd.conf", s->dir);
	snprintf(s->log, sizeof s->log, "%s/stderr.log", s->dir);
	snprintf(s->origin, sizeof s->origin, "e2e.example/log%u-%d", seq++,
	    (int)getpid());
	{
		const char *a[] = { "keygen", "--origin", s->origin, "--out",
		    s->key, NULL };
		if (e2e_run(a, out, sizeof out, err, sizeof err) != 0) {
			fprintf(stderr, "keygen failed: %s\n", err);
			return -1;
		}
	}
	/* The verifier key is the last line. */
	while ((nl = strrchr(out, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	nl = strrchr(out, '\n');
	snprintf(s->vkey, sizeof s->vkey, "%.399s", nl ? nl + 1 : out);
	if (kt_verifier_parse(s->vkey, strlen(s->vkey), &s->v) != KT_OK) {
		fprintf(stderr, "bad verifier key '%s'\n", s->vkey);
		return -1;
	}
	{
		const char *a[] = { "token", NULL };
		char line2[128];
		if (e2e_run(a, out, sizeof out, err, sizeof err) != 0 ||
		    sscanf(out, "%127s %127s", s->token, line2) != 2)
			return -1;
		strcat(line2, "\n");
		if (write_file(s->tokens, line2, 0600) != 0)
			return -1;
	}
	return write_file(s->conf, config_text ? config_text : "", 0600);
}

int
e2e_start(struct e2e_server *s, const char *const *extra)
{
	const char *argv[32];
	size_t n = 0;
	int po[2], lfd;
	char line[1024];
	size_t ll = 0;
	double t0;
	pid_t pid;
	char *p;

	argv[n++] = logd_path();
	argv[n++] = "serve";
	argv[n++] = "--data";
	argv[n++] = s->data;
	argv[n++] = "--key";
	argv[n++] = s->key;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	if (extra == NULL) {
		argv[n++] = "--tokens";
		argv[n++] = s->tokens;
		argv[n++] = "--config";
		argv[n++] = s->conf;
	} else {
		for (size_t i = 0; extra[i] != NULL && n < 30; i++)
			argv[n++] = extra[i];
	}
	argv[n] = NULL;
	if (pipe(po) != 0)
		return -1;
	lfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(po[1], 1);
		if (lfd >= 0)
			dup2(lfd, 2);
		close(po[0]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(po[1]);
	if (lfd >= 0)
		close(lfd);
	if (e2e_track(pid) != 0) { /* killed: no server left untracked */
		close(po[0]);
		return -1;
	}
	s->pid = pid;
	/* The start-up line: kt-logd: origin=.. vkey=.. listen=H:P size=N */
	t0 = now_s();
	line[0] = '\0';
	while (strchr(line, '\n') == NULL && now_s() - t0 < 20) {
		struct pollfd pf = { po[0], POLLIN, 0 };
		ssize_t r;
		if (poll(&pf, 1, 500) <= 0)
			continue;
		r = read(po[0], line + ll, sizeof line - 1 - ll);
		if (r <= 0)
			break;
		ll += (size_t)r;
		line[ll] = '\0';
	}
	close(po[0]);
	p = strstr(line, " listen=127.0.0.1:");
	if (p == NULL || strstr(line, s->vkey) == NULL) {
		fprintf(stderr, "kt-logd did not start (line '%s'); see %s\n",
		    line, s->log);
		e2e_kill9(s);
		return -1;
	}
	snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d",
	    atoi(p + strlen(" listen=127.0.0.1:")));
	p = strstr(line, " size=");
	s->startup_size = p ? (unsigned)atoi(p + 6) : 0;
	while (now_s() - t0 < 20) {
		struct e2e_resp r;
		long st = e2e_get(s, "/healthz", &r);
		e2e_resp_free(&r);
		if (st == 200)
			return 0;
		sleep_ms(20);
	}
	e2e_kill9(s);
	return -1;
}

int
e2e_track(pid_t pid)
{
	if (reg(pid) == 0)
		return 0;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

int
e2e_stop_pid(pid_t pid, unsigned wait_s)
{
	int status;
	double t0 = now_s();

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	while (now_s() - t0 < wait_s) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			unreg(pid);
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			    256 + WTERMSIG(status);
		}
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unreg(pid);
	return 256 + SIGKILL;
}

int
e2e_stop(struct e2e_server *s)
{
	int st = e2e_stop_pid(s->pid, 10);

	s->pid = 0;
	return st;
}

void
e2e_kill9(struct e2e_server *s)
{
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	unreg(s->pid);
	s->pid = 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
e2e_cleanup(struct e2e_server *s)
{
	if (s->pid > 0)
		e2e_stop(s);
	if (s->dir[0] != '\0' && getenv("KT_E2E_KEEP") == NULL)
		nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	s->dir[0] = '\0';
}

/* ---- HTTP ------------------------------------------------------------- */

struct sink {
	char *p;
	size_t len, cap;
};

static size_t
on_body(char *data, size_t sz, size_t nm, void *arg)
{
	struct sink *k = arg;
	size_t n = sz * nm;

	if (k->len + n + 1 > k->cap) {
		size_t nc = (k->cap ? k->cap * 2 : 4096) + n;
		char *np = realloc(k->p, nc);
		if (np == NULL)
			return 0;
		k->p = np;
		k->cap = nc;
	}
	memcpy(k->p + k->len, data, n);
	k->len += n;
	k->p[k->len] = '\0';
	return n;
}

static void
header_value(const char *line, size_t n, const char *name, char *out,
    size_t cap)
{
	size_t nl = strlen(name);
	if (n > nl + 1 && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
		const char *v = line + nl + 1;
		size_t vl = n - nl - 1;
		while (vl && (*v == ' '))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		if (vl >= cap)
			vl = cap - 1;
		memcpy(out, v, vl);
		out[vl] = '\0';
	}
}

static size_t
on_header(char *data, size_t sz, size_t nm, void *arg)
{
	struct e2e_resp *r = arg;
	size_t n = sz * nm;

	header_value(data, n, "Content-Type", r->ctype, sizeof r->ctype);
	header_value(data, n, "Cache-Control", r->cache, sizeof r->cache);
	header_value(data, n, "Allow", r->allow, sizeof r->allow);
	header_value(data, n, "WWW-Authenticate", r->www_auth,
	    sizeof r->www_auth);
	return n;
}

int
e2e_http(CURL *h, const char *method, const char *url, const char *token,
    const char *const *headers, const void *body, size_t len,
    struct e2e_resp *r)
{
	struct curl_slist *hl = NULL;
	struct sink k = { 0 };
	char auth[600];
	int own = 0, rc = -1;
	CURLcode cc;

	memset(r, 0, sizeof *r);
	if (h == NULL) {
		h = curl_easy_init();
		own = 1;
	} else {
		curl_easy_reset(h);
	}
	if (h == NULL)
		return -1;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	if (token != NULL) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		hl = curl_slist_append(hl, auth);
	}
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
		hl = curl_slist_append(hl, headers[i]);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		if (headers == NULL)
			hl = curl_slist_append(hl,
			    "Content-Type: application/json");
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (hl != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		rc = 0;
	} else {
		r->status = -1;
	}
	if (k.p == NULL) {
		k.p = calloc(1, 1);
	}
	r->body = k.p;
	r->len = k.len;
	curl_slist_free_all(hl);
	if (own)
		curl_easy_cleanup(h);
	else
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	return rc;
}

void
e2e_resp_free(struct e2e_resp *r)
{
	free(r->body);
	r->body = NULL;
}

long
e2e_get(struct e2e_server *s, const char *path, struct e2e_resp *r)
{
	char url[4096];
	snprintf(url, sizeof url, "%s%s", s->url, path);
	e2e_http(NULL, "GET", url, NULL, NULL, NULL, 0, r);
	return r->status;
}

long
e2e_post(struct e2e_server *s, const char *path, const char *json,
    struct e2e_resp *r)
{
	char url[4096];
	snprintf(url, sizeof url, "%s%s", s->url, path);
	e2e_http(NULL, "POST", url, s->token, NULL, json, strlen(json), r);
	return r->status;
}

uint64_t
e2e_size(struct e2e_server *s)
{
	struct e2e_resp r;
	uint64_t size = UINT64_MAX;
	json_t *j;

	if (e2e_get(s, "/healthz", &r) == 200 &&
	    (j = json_loads(r.body, 0, NULL)) != NULL) {
		json_t *v = json_object_get(j, "size");
		if (json_is_integer(v))
			size = (uint64_t)json_integer_value(v);
		json_decref(j);
	}
	e2e_resp_free(&r);
	return size;
}

int
e2e_open_checkpoint(const struct e2e_server *s, const char *note, size_t len,
    struct kt_checkpoint *cp)
{
	struct kt_note n;
	uint8_t ok[1];

	if (kt_note_open(note, len, &s->v, 1, &n, ok, NULL) != KT_OK || !ok[0])
		return -1;
	if (kt_checkpoint_parse(n.text, n.text_len, cp) != KT_OK)
		return -1;
	if (strcmp(cp->origin, s->origin) != 0)
		return -1;
	return 0;
}

long
e2e_b64(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (sodium_base642bin(out, cap, s, strlen(s), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (long)n;
}

int
e2e_check_inclusion(const char *entry_b64, uint64_t index, json_t *proof,
    const struct kt_checkpoint *cp)
{
	uint8_t ent[8192];
	struct kt_hash leaf, hs[KT_MAX_PROOF];
	json_t *hashes = json_object_get(proof, "hashes");
	long el = e2e_b64(entry_b64, ent, sizeof ent);
	size_t n;

	if (el < 0 || !json_is_array(hashes))
		return -1;
	if ((uint64_t)json_integer_value(json_object_get(proof, "index")) !=
	    index || (uint64_t)json_integer_value(json_object_get(proof,
	    "size")) != cp->size)
		return -1;
	n = json_array_size(hashes);
	if (n > KT_MAX_PROOF)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (e2e_b64(json_string_value(json_array_get(hashes, i)),
		    hs[i].b, KT_HASH_LEN) != KT_HASH_LEN)
			return -1;
	kt_hash_leaf(ent, (size_t)el, &leaf);
	return kt_merkle_verify_inclusion(&leaf, index, cp->size, hs, n,
	    &cp->root) == KT_OK ? 0 : -1;
}
