/*
 * fetch.c: HTTP GETs to the log. The only file that includes curl/curl.h.
 *
 * One easy handle per kt_fetch so pages of entries reuse one keep-alive
 * connection. Every response is untrusted: the body is capped while it
 * streams in (a server cannot make us allocate more than `cap`), requests
 * have connect and total timeouts, redirects are not followed and only
 * http/https are allowed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <curl/curl.h>

#include "kt/fmt.h"
#include "verify_internal.h"

struct kt_fetch {
	CURL *h;
	char base[KT_URL_MAX];
	struct kt_buf *body;
	size_t cap;
	int over;
};

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct kt_fetch *f = ud;
	struct kt_buf *b = f->body;
	size_t n = size * nmemb;

	if (n > f->cap - b->len) {
		f->over = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n + 1)
			nc *= 2;
		if (nc > f->cap + 1)
			nc = f->cap + 1;
		char *np = realloc(b->p, nc);
		if (np == NULL)
			return 0;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* libcurl's global state, set up once per process whatever the threads. */
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

kt_err
kt_fetch_open(const char *base_url, long connect_s, long total_s,
    struct kt_fetch **out)
{
	struct kt_fetch *f = NULL;

	*out = NULL;
	if (strlen(base_url) >= KT_URL_MAX)
		return KT_ERR_TOO_LARGE;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return KT_ERR_INTERNAL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return KT_ERR_NOMEM;
	f->h = curl_easy_init();
	if (f->h == NULL) {
		free(f);
		return KT_ERR_NOMEM;
	}
	if (kt_fmt(f->base, sizeof(f->base), "%s", base_url) != KT_OK) {
		kt_fetch_close(f); /* cannot happen: length checked above */
		return KT_ERR_INTERNAL;
	}
	/*
	 * Each option is a defence against a hostile log (no redirects, no
	 * file:// or other schemes, bounded time, no decompression bomb): a
	 * libcurl that refuses one must not leave us running without it.
	 */
	if (curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_data) !=
	        CURLE_OK ||
	    curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f) != CURLE_OK ||
	    curl_easy_setopt(f->h, CURLOPT_CONNECTTIMEOUT, connect_s) !=
	        CURLE_OK ||
	    curl_easy_setopt(f->h, CURLOPT_TIMEOUT, total_s) != CURLE_OK ||
	    curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(f->h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(f->h, CURLOPT_PROTOCOLS_STR, "http,https") !=
	        CURLE_OK ||
	    curl_easy_setopt(f->h, CURLOPT_USERAGENT, "kt-verify/0.1") !=
	        CURLE_OK ||
	    /* No transparent decompression: a small gzip body could expand
	     * past the cap before the write callback sees it counted. */
	    curl_easy_setopt(f->h, CURLOPT_ACCEPT_ENCODING, NULL) != CURLE_OK) {
		kt_fetch_close(f);
		return KT_ERR_INTERNAL;
	}
	*out = f;
	return KT_OK;
}

void
kt_fetch_close(struct kt_fetch *f)
{
	if (f == NULL)
		return;
	curl_easy_cleanup(f->h);
	free(f);
}

kt_err
kt_fetch_get(struct kt_fetch *f, const char *path, size_t cap,
    struct kt_buf *body, long *status, char *detail, size_t dlen)
{
	char url[KT_URL_MAX * 2];
	CURLcode rc;

	*status = 0;
	body->len = 0;
	if (body->p != NULL)
		body->p[0] = '\0';
	if (kt_fmt(url, sizeof(url), "%s%s", f->base, path) != KT_OK) {
		kt_msg(detail, dlen, "URL too long");
		return KT_ERR_TOO_LARGE;
	}
	f->body = body;
	f->cap = cap;
	f->over = 0;
	/* The details name the whole URL: a log that cannot be reached is
	 * most often a URL mistyped at init, and the URL shows it. */
	if ((rc = curl_easy_setopt(f->h, CURLOPT_URL, url)) != CURLE_OK ||
	    (rc = curl_easy_setopt(f->h, CURLOPT_MAXFILESIZE_LARGE,
	         (curl_off_t)cap)) != CURLE_OK) {
		f->body = NULL;
		kt_msg(detail, dlen, "GET %s: %s", url, curl_easy_strerror(rc));
		return KT_ERR_INTERNAL;
	}
	rc = curl_easy_perform(f->h);
	f->body = NULL;
	if (f->over || rc == CURLE_FILESIZE_EXCEEDED) {
		kt_msg(detail, dlen, "GET %s: response larger than %zu bytes",
		    url, cap);
		return KT_ERR_TOO_LARGE;
	}
	if (rc != CURLE_OK) {
		kt_msg(detail, dlen, "GET %s: %s", url, curl_easy_strerror(rc));
		return KT_ERR_NETWORK;
	}
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, status);
	if (body->p == NULL) {
		body->p = malloc(1);
		if (body->p == NULL)
			return KT_ERR_NOMEM;
		body->p[0] = '\0';
		body->cap = 1;
	}
	return KT_OK;
}

kt_err
kt_fetch_escape(const char *s, size_t len, char *buf, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	/* RFC 3986 unreserved characters pass; everything else, including
	 * '/', is percent-encoded so a label is always one path segment. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~';
		if (o + (plain ? 1 : 3) + 1 > cap)
			return KT_ERR_TOO_LARGE;
		if (plain) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (o + 1 > cap)
		return KT_ERR_TOO_LARGE;
	buf[o] = '\0';
	return KT_OK;
}
