/*
 * transport.c: the witness client's POSTs over libcurl (multi interface).
 */
#include "witness_client/transport.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	struct kt_wtransport *t;
	size_t idx;
	CURL *easy;
	int busy;
	char resp[KT_WTRANSPORT_RESP_MAX];
	size_t resp_len;
	int resp_over;
};

struct kt_wtransport {
	CURLM *multi;
	struct curl_slist *hdrs; /* shared by every slot */
	int curl_inited;
	size_t n;
	struct slot *slots;
};

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct slot *s = arg;
	size_t n = size * nmemb;

	if (n > KT_WTRANSPORT_RESP_MAX - s->resp_len) {
		s->resp_over = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	memcpy(s->resp + s->resp_len, p, n);
	s->resp_len += n;
	return n;
}

static kt_err
setup_slot(struct kt_wtransport *t, size_t i, const char *url,
    unsigned connect_ms, unsigned timeout_ms)
{
	struct slot *s = &t->slots[i];
	CURL *e;

	s->t = t;
	s->idx = i;
	s->easy = e = curl_easy_init();
	if (e == NULL)
		return KT_ERR_NOMEM;
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	        CURLE_OK ||
#endif
	    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->hdrs) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms) !=
	        CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) !=
	        CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, s) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, s) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "kt-logd") != CURLE_OK)
		return KT_ERR_INTERNAL;
	return KT_OK;
}

kt_err
kt_wtransport_open(struct kt_wtransport **out, const char *const *urls,
    size_t n, unsigned connect_ms, unsigned timeout_ms)
{
	struct kt_wtransport *t;
	kt_err rc = KT_ERR_NOMEM;
	size_t i;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return KT_ERR_NOMEM;
	t->n = n;
	t->slots = calloc(n, sizeof(*t->slots));
	if (t->slots == NULL)
		goto fail;
	rc = KT_ERR_INTERNAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	t->curl_inited = 1;
	t->multi = curl_multi_init();
	if (t->multi == NULL)
		goto fail;
	rc = KT_ERR_NOMEM;
	t->hdrs =
	    curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	if (t->hdrs != NULL)
		/* no "Expect: 100-continue" round trip for larger bodies */
		t->hdrs = curl_slist_append(t->hdrs, "Expect:");
	if (t->hdrs == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		rc = setup_slot(t, i, urls[i], connect_ms, timeout_ms);
		if (rc != KT_OK)
			goto fail;
	}
	*out = t;
	return KT_OK;
fail:
	kt_wtransport_close(t);
	return rc;
}

kt_err
kt_wtransport_send(struct kt_wtransport *t, size_t slot, const char *body,
    size_t len)
{
	struct slot *s = &t->slots[slot];

	if (s->busy)
		return KT_ERR_BUSY;
	s->resp_len = 0;
	s->resp_over = 0;
	if (curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	        (curl_off_t)len) != CURLE_OK ||
	    curl_multi_add_handle(t->multi, s->easy) != CURLM_OK)
		return KT_ERR_INTERNAL;
	s->busy = 1;
	return KT_OK;
}

void
kt_wtransport_perform(struct kt_wtransport *t)
{
	int running;

	curl_multi_perform(t->multi, &running);
}

int
kt_wtransport_next_done(struct kt_wtransport *t, struct kt_wtransport_done *out)
{
	struct slot *s;
	CURLMsg *msg;
	CURLcode res;
	char *priv, *ctype;
	int left;

	while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		s = (void *)priv;
		if (s == NULL)
			continue;
		res = msg->data.result; /* msg dies with the handle's removal */
		curl_multi_remove_handle(t->multi, s->easy);
		s->busy = 0;
		memset(out, 0, sizeof(*out));
		out->slot = s->idx;
		out->body = s->resp;
		out->body_len = s->resp_len;
		if (res != CURLE_OK) {
			out->error = s->resp_over ? "answer too large"
			                          : curl_easy_strerror(res);
			return 1;
		}
		ctype = NULL;
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE,
		    &out->status);
		curl_easy_getinfo(s->easy, CURLINFO_CONTENT_TYPE, &ctype);
		out->content_type = ctype;
		return 1;
	}
	return 0;
}

void
kt_wtransport_wait(struct kt_wtransport *t, unsigned ms)
{
	/* Returns early on socket activity, curl's own timers (a handle
	 * just added fires at once), and curl_multi_wakeup. */
	curl_multi_poll(t->multi, NULL, 0, (int)ms, NULL);
}

void
kt_wtransport_wakeup(struct kt_wtransport *t)
{
	if (t != NULL)
		curl_multi_wakeup(t->multi);
}

void
kt_wtransport_close(struct kt_wtransport *t)
{
	struct slot *s;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; t->slots != NULL && i < t->n; i++) {
		s = &t->slots[i];
		if (s->easy == NULL)
			continue;
		if (s->busy)
			curl_multi_remove_handle(t->multi, s->easy);
		curl_easy_cleanup(s->easy);
	}
	if (t->multi != NULL)
		curl_multi_cleanup(t->multi);
	curl_slist_free_all(t->hdrs);
	if (t->curl_inited)
		curl_global_cleanup();
	free(t->slots);
	free(t);
}
