/* http.c: see http.h. */
#include "harness/http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/proc.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
global_cleanup(void)
{
	curl_global_cleanup();
}

static void
global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(global_cleanup);
}

void
http_init(void)
{
	pthread_once(&once, global_init);
}

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
	struct http_resp *r = arg;
	size_t n = sz * nm;

	header_value(data, n, "Content-Type", r->ctype, sizeof r->ctype);
	header_value(data, n, "Cache-Control", r->cache, sizeof r->cache);
	header_value(data, n, "Allow", r->allow, sizeof r->allow);
	header_value(data, n, "WWW-Authenticate", r->www_auth,
	    sizeof r->www_auth);
	header_value(data, n, "Retry-After", r->retry_after,
	    sizeof r->retry_after);
	return n;
}

/* The method and the header list (returned, to be freed) on h. */
static struct curl_slist *
set_method(CURL *h, const char *method, const char *token,
    const char *const *headers, const void *body, size_t len)
{
	struct curl_slist *hl = NULL;
	char auth[600];

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
	return hl;
}

int
http_request(CURL *h, const char *method, const char *url, const char *token,
    const char *const *headers, const void *body, size_t len,
    struct http_resp *r)
{
	struct curl_slist *hl;
	struct sink k = { 0 };
	int own = 0, rc = -1;

	memset(r, 0, sizeof *r);
	r->status = -1;
	http_init();
	if (h == NULL) {
		h = curl_easy_init();
		own = 1;
	} else {
		curl_easy_reset(h);
	}
	if (h == NULL) {
		r->body = calloc(1, 1);
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &k);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	hl = set_method(h, method, token, headers, body, len);
	if (curl_easy_perform(h) == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		rc = 0;
	}
	r->body = k.p != NULL ? k.p : calloc(1, 1);
	r->len = k.len;
	curl_slist_free_all(hl);
	if (own)
		curl_easy_cleanup(h);
	else
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	return rc;
}

void
http_resp_free(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
}

long
http_get(const char *url, struct http_resp *r)
{
	(void)http_request(NULL, "GET", url, NULL, NULL, NULL, 0, r);
	return r->status;
}

int
http_wait(const char *url, long want, unsigned timeout_ms)
{
	double deadline = proc_now_s() + timeout_ms / 1e3;

	do {
		struct http_resp r;
		long st = http_get(url, &r);

		http_resp_free(&r);
		if (st == want)
			return 0;
		proc_sleep_ms(20);
	} while (proc_now_s() < deadline);
	return -1;
}
