/*
 * http.h: the small libcurl client the end-to-end tests drive servers
 * with: one request, its status, body and the headers the tests check.
 */
#ifndef KT_TESTS_HTTP_H
#define KT_TESTS_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "kt/err.h"

struct http_resp {
	long status; /* -1 on a transport error */
	char *body;  /* NUL-terminated, free with http_resp_free */
	size_t len;
	char ctype[128];      /* Content-Type */
	char cache[128];      /* Cache-Control */
	char allow[64];       /* Allow */
	char www_auth[64];    /* WWW-Authenticate */
	char retry_after[16]; /* Retry-After */
};

/* libcurl's global set-up, once (the requests below call it; a test that
 * drives libcurl itself calls it before starting threads). Cleaned up at
 * exit. */
void http_init(void);

/*
 * One request with h (reset first) or, if h is NULL, a handle of its own.
 * method: GET, HEAD, POST or any other (sent as is). token: a bearer
 * token, or NULL for no Authorization header. headers: extra header lines
 * (NULL-terminated) or NULL; a POST without them is sent as
 * application/json. Times out after 30 s. Returns 0 when an HTTP answer
 * came (any status), -1 on a transport error; r is filled either way and
 * must be freed.
 */
int http_request(CURL *h, const char *method, const char *url,
    const char *token, const char *const *headers, const void *body, size_t len,
    struct http_resp *r);

void http_resp_free(struct http_resp *r);

/* GET url into r; returns the status (or -1). */
long http_get(const char *url, struct http_resp *r);

/* Asks GET url every 20 ms until the status is want, at most timeout_ms.
 * Returns 0 once it is, -1 if it never was. */
KT_MUST_CHECK int http_wait(const char *url, long want, unsigned timeout_ms);

#endif /* KT_TESTS_HTTP_H */
