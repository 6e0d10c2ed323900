/*
 * answer.c: how kt-logd answers. The JSON writer every answer is built
 * with (no DOM: answers of a thousand entries with proofs are written
 * straight into one buffer), the error answers, and the one table from
 * kt_err to an HTTP status.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"
#include "kt/json.h"
#include "http/internal.h"
#include "log.h"

/* ---- the status table ------------------------------------------------- */

/* No default: a new kt_err must get a status here (compiler warns). */
unsigned
kt_api_status(kt_err e)
{
	switch (e) {
	case KT_OK:
		return 200;
	case KT_ERR_INCOMPLETE:
		return 400;
	case KT_ERR_MALFORMED:
		return 400;
	case KT_ERR_VERIFY:
		return 400;
	case KT_ERR_UNKNOWN_KEY:
		return 400;
	case KT_ERR_RANGE:
		return 400;
	case KT_ERR_TOO_LARGE:
		return 413;
	case KT_ERR_NOMEM:
		return 503;
	case KT_ERR_NOT_FOUND:
		return 404;
	case KT_ERR_EXISTS:
		return 409;
	case KT_ERR_CONFLICT:
		return 409;
	case KT_ERR_REFUSED:
		return 400;
	case KT_ERR_PERM:
		return 401;
	case KT_ERR_IO:
		return 500;
	case KT_ERR_NETWORK:
		return 502;
	case KT_ERR_BUSY:
		return 503;
	case KT_ERR_FULL:
		return 503;
	case KT_ERR_INTERNAL:
		return 500;
	}
	return 500;
}

/* ---- the JSON writer -------------------------------------------------- */

int
answer_grow(struct answer *a, size_t n)
{
	size_t ncap;
	char *np;

	if (a->failed)
		return 0;
	if (a->cap - a->len >= n)
		return 1;
	ncap = a->cap ? a->cap : 512;
	while (ncap - a->len < n)
		ncap *= 2;
	np = realloc(a->p, ncap);
	if (np == NULL) {
		a->failed = 1;
		return 0;
	}
	a->p = np;
	a->cap = ncap;
	return 1;
}

void
answer_u64(struct answer *a, uint64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof t, "%llu", (unsigned long long)v);

	answer_raw(a, t, (size_t)n);
}

void
answer_str(struct answer *a, const char *s, size_t n)
{
	char *o;

	if (!answer_reserve(a, n * KT_JSON_CHAR_MAX + 3))
		return;
	o = a->p + a->len;
	*o++ = '"';
	o += kt_json_escape(s, n, o);
	*o++ = '"';
	*o = '\0';
	a->len = (size_t)(o - a->p);
}

/*
 * Standard base64 with padding, the same text kt/b64.h's kt_b64_encode
 * writes. That one is constant-time because signing keys pass through it;
 * everything encoded here is public (entries, hashes), and a plain table
 * lookup is several times faster: measured on the answer path, libsodium's
 * encoder made a page of 1000 entries 2.6 times slower to build, a page of
 * history 1.5 times and a batch answer 1.6 times.
 */
static size_t
b64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o = out;
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = '=';
	}
	return (size_t)(o - out);
}

void
answer_b64(struct answer *a, const uint8_t *bin, size_t n)
{
	size_t elen = (n + 2) / 3 * 4;

	if (!answer_reserve(a, elen + 3))
		return;
	a->p[a->len++] = '"';
	a->len += b64_encode(bin, n, a->p + a->len);
	a->p[a->len++] = '"';
	a->p[a->len] = '\0';
}

void
answer_memo_init(struct answer_memo *m)
{
	m->cp = (struct answer){ 0 };
	m->n = 0;
}

void
answer_memo_free(struct answer_memo *m)
{
	answer_free(&m->cp);
}

void
answer_proof(struct answer *a, const struct kt_proof *p)
{
	/* '[', each hash as ,"<44>" (at most 47 bytes), ']' and the NUL. */
	if (!answer_reserve(a, 3 + p->n * (ANSWER_HASH_B64 + 3)))
		return;
	a->p[a->len++] = '[';
	for (size_t i = 0; i < p->n; i++) {
		char *o = a->p + a->len;
		if (i)
			*o++ = ',';
		*o++ = '"';
		o += b64_encode(p->h[i].b, KT_HASH_LEN, o);
		*o++ = '"';
		a->len = (size_t)(o - a->p);
	}
	a->p[a->len++] = ']';
	a->p[a->len] = '\0';
}

/*
 * The subtrees whose hashes make the inclusion proof of leaf index in the
 * tree of size leaves, in the proof's order (leaf first): RFC 9162 §2.1.3.1
 * PATH(m, D[n]) splits D[n] at k, the largest power of two below n, and
 * ends with the hash of the half that does not hold m. Returns how many.
 */
static size_t
path_nodes(uint64_t index, uint64_t size, struct answer_node out[KT_MAX_PROOF])
{
	struct answer_node down[KT_MAX_PROOF];
	uint64_t lo = 0, hi = size, k;
	size_t n = 0;

	while (hi - lo > 1 && n < KT_MAX_PROOF) {
		k = (uint64_t)1 << (63 - __builtin_clzll(hi - lo - 1));
		if (index < lo + k) {
			down[n++] = (struct answer_node){ lo + k, hi };
			hi = lo + k;
		} else {
			down[n++] = (struct answer_node){ lo, lo + k };
			lo += k;
		}
	}
	for (size_t i = 0; i < n; i++)
		out[i] = down[n - 1 - i];
	return n;
}

void
answer_path(struct answer *a, const struct kt_proof *p, uint64_t index,
    uint64_t size, struct answer_memo *m)
{
	struct answer_node node[KT_MAX_PROOF];

	/*
	 * The memo is keyed by the subtree each hash stands for, not by the
	 * hash: a subtree of an append-only log always has the same hash, so
	 * no hash needs comparing (and finding the subtrees costs a few
	 * shifts per proof).
	 */
	if (m == NULL || path_nodes(index, size, node) != p->n) {
		answer_proof(a, p);
		return;
	}
	if (!answer_reserve(a, 3 + p->n * (ANSWER_HASH_B64 + 3)))
		return;
	a->p[a->len++] = '[';
	for (size_t i = 0; i < p->n; i++) {
		char *o = a->p + a->len;
		if (i)
			*o++ = ',';
		*o++ = '"';
		if (i >= m->n || m->node[i].lo != node[i].lo ||
		    m->node[i].hi != node[i].hi) {
			b64_encode(p->h[i].b, KT_HASH_LEN, m->text[i]);
			m->node[i] = node[i];
		}
		memcpy(o, m->text[i], ANSWER_HASH_B64);
		o += ANSWER_HASH_B64;
		*o++ = '"';
		a->len = (size_t)(o - a->p);
	}
	if (m->n < p->n)
		m->n = p->n;
	a->p[a->len++] = ']';
	a->p[a->len] = '\0';
}

void
answer_free(struct answer *a)
{
	free(a->p);
	*a = (struct answer){ 0 };
}

/* ---- answers ---------------------------------------------------------- */

void
answer_set(struct kt_api_resp *resp, unsigned status, const char *ctype,
    char *body, size_t len)
{
	memset(resp, 0, sizeof *resp);
	resp->status = status;
	resp->content_type = ctype;
	resp->body = body;
	resp->len = len;
	resp->cache_control = "no-store";
}

void
answer_json(struct kt_api_resp *resp, struct answer *a)
{
	if (a->failed) {
		answer_free(a);
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	answer_set(resp, 200, "application/json", a->p, a->len);
	*a = (struct answer){ 0 };
}

void
answer_status(struct kt_api_resp *resp, unsigned status, const char *msg)
{
	struct answer a = { 0 };

	answer_lit(&a, "{\"error\":");
	answer_str(&a, msg, strlen(msg));
	answer_lit(&a, "}\n");
	if (a.failed) {
		answer_free(&a);
		/* Last resort: an empty body with the status. */
		answer_set(resp, status, "application/json", NULL, 0);
		return;
	}
	answer_set(resp, status, "application/json", a.p, a.len);
}

void
kt_api_error(struct kt_api_resp *resp, kt_err e, const char *msg)
{
	answer_status(resp, kt_api_status(e), msg);
	if (e == KT_ERR_BUSY || e == KT_ERR_NOMEM)
		resp->retry_after = 1;
	/* Space comes back when an operator makes it: not in a second. */
	if (e == KT_ERR_FULL)
		resp->retry_after = 10;
	if (e == KT_ERR_PERM)
		resp->www_authenticate = 1;
}

void
answer_error(struct kt_api_resp *resp, kt_err e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	kt_vmsg(msg, sizeof msg, fmt, ap);
	va_end(ap);
	kt_api_error(resp, e, msg);
}

void
answer_store_error(struct kt_api_resp *resp, kt_err e, const char *what)
{
	KT_LOG(KT_LOG_ERROR, "store_error", kt_log_str("op", what),
	    kt_log_str("error", kt_strerror(e)));
	answer_error(resp, e == KT_ERR_NOMEM ? KT_ERR_NOMEM : KT_ERR_INTERNAL,
	    "internal error while reading the log (%s); retry later", what);
}
