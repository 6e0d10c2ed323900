/*
 * request.c: decoding what a client sent, strictly. http.c hands over the
 * path and query exactly as they came (libmicrohttpd's own unescaping
 * leaves bad escapes in place instead of refusing them); here they are
 * percent-decoded, checked against what each endpoint allows, and turned
 * into numbers, labels and bytes. Every refusal is an answer saying what
 * was wrong.
 */
#include <stdio.h>
#include <string.h>

#include "kt/label.h"
#include "kt/b64.h"
#include "http/internal.h"

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Strict percent-decoding of n bytes into out (cap bytes). In a path
 * segment only RFC 3986 pchar may appear raw; in a query value also '/',
 * '?' and ' ' (MHD turned '+' into ' ' already). Returns the decoded length
 * or -1 for a bad escape, a forbidden raw byte or overflow.
 */
static long
pct_decode(const char *s, size_t n, int query, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o >= cap)
			return -1;
		if (c == '%') {
			int h, l;
			if (i + 2 >= n)
				return -1;
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			out[o++] = (char)(h << 4 | l);
			i += 2;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~!$&'()*+,;=:@", c))
			out[o++] = (char)c;
		else if (query && (c == '/' || c == '?' || c == ' '))
			out[o++] = (char)c;
		else
			return -1;
	}
	return (long)o;
}

/* Strict decimal: digits only, no sign, no leading zeros, no overflow. */
static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 1;
}

int
request_b64(const char *s, size_t n, uint8_t *out, size_t cap, size_t maxlen,
    size_t *outlen)
{
	kt_err e =
	    kt_b64_decode(s, n, out, cap < maxlen ? cap : maxlen, outlen);

	if (e == KT_ERR_TOO_LARGE)
		return -1;
	return e == KT_OK && *outlen > 0;
}

/* ---- query parameters ------------------------------------------------- */

int
request_query(const struct kt_api_req *req, struct request_param *q, size_t nq,
    struct kt_api_resp *resp)
{
	if (req->params_overflow) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "too many query "
		    "parameters (at most %d)",
		    KT_API_MAX_PARAMS);
		return 0;
	}
	for (size_t i = 0; i < req->nparams; i++) {
		const struct kt_api_param *p = &req->params[i];
		struct request_param *s = NULL;
		long n;

		for (size_t j = 0; j < nq; j++)
			if (strcmp(p->name, q[j].name) == 0)
				s = &q[j];
		if (s == NULL) {
			answer_error(resp, KT_ERR_MALFORMED,
			    "unknown query "
			    "parameter '%.64s'",
			    p->name);
			return 0;
		}
		if (s->seen) {
			answer_error(resp, KT_ERR_MALFORMED,
			    "query parameter "
			    "'%s' given twice",
			    s->name);
			return 0;
		}
		s->seen = 1;
		if (p->value == NULL || p->value[0] == '\0') {
			answer_error(resp, KT_ERR_MALFORMED,
			    "query parameter "
			    "'%s' has no value",
			    s->name);
			return 0;
		}
		/* Decoded with room for the NUL: pct_decode writes none. */
		memset(s->value, 0, sizeof s->value);
		n = pct_decode(p->value, strlen(p->value), 1, s->value,
		    sizeof s->value - 1);
		/* A NUL (%00) would end the value early without a word. */
		if (n < 0 || memchr(s->value, '\0', (size_t)n) != NULL) {
			answer_error(resp, KT_ERR_MALFORMED,
			    "query parameter "
			    "'%s' is badly percent-encoded or too long",
			    s->name);
			return 0;
		}
	}
	return 1;
}

int
request_no_query(const struct kt_api_req *req, struct kt_api_resp *resp)
{
	return request_query(req, NULL, 0, resp);
}

int
request_query_u64(const struct request_param *q, uint64_t *v,
    struct kt_api_resp *resp)
{
	if (!q->seen) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "missing query parameter "
		    "'%s'",
		    q->name);
		return 0;
	}
	if (!parse_u64(q->value, v)) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "query parameter '%s' "
		    "must be a decimal number without sign or leading zeros, "
		    "got '%.40s'",
		    q->name, q->value);
		return 0;
	}
	return 1;
}

/* ---- labels in the path ----------------------------------------------- */

int
request_label(const char *seg, size_t n, size_t max_label,
    char out[KT_LABEL_MAX + 1], size_t *outlen, struct kt_api_resp *resp)
{
	char raw[KT_LABEL_INPUT_MAX + 1];
	const char *why = NULL;
	long len;
	kt_err e;

	if (memchr(seg, '/', n) != NULL) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "a label in the path must "
		    "be one segment: percent-encode '/' as %%2F");
		return 0;
	}
	len = pct_decode(seg, n, 0, raw, sizeof raw - 1);
	if (len >= 0)
		raw[len] = '\0';
	if (len < 0) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "label in the path is "
		    "badly percent-encoded (use %%XX for bytes outside "
		    "[A-Za-z0-9-._~!$&'()*+,;=:@]) or longer than %d bytes",
		    KT_LABEL_INPUT_MAX);
		return 0;
	}
	/* The label as the log holds it: its canonical form, so that
	 * Alice@Example.COM finds alice@example.com. */
	e = kt_label_canonical(raw, (size_t)len, out, outlen, NULL, &why);
	if (e == KT_OK && *outlen > max_label) {
		e = KT_ERR_MALFORMED;
		why = "longer than the log's max_label";
	}
	if (e != KT_OK) {
		answer_error(resp, KT_ERR_MALFORMED,
		    "label '%.64s' is refused: %s", raw,
		    why != NULL ? why : kt_strerror(e));
		return 0;
	}
	return 1;
}
