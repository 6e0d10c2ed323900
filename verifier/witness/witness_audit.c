/*
 * witness_audit.c: kt-witness --audit, libktverify's stateless auditor
 * behind the witness's add-checkpoint (witness_audit.h).
 */
#include "witness_audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "kt/fmt.h"
#include "kt/verify.h"

_Static_assert(KT_WITNESS_POS_MAX >= KT_VAUDIT_POS_MAX,
    "the witness's record holds an audit position");

struct alog {
	char origin[KT_KEY_NAME_MAX + 1];
	struct kt_verify *v;
	pthread_mutex_t mu;
};

struct kt_witness_auditor {
	size_t n;
	struct alog logs[]; /* flexible: n entries */
};

static struct alog *
find(struct kt_witness_auditor *a, const char *origin)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->logs[i].origin, origin) == 0)
			return &a->logs[i];
	return NULL;
}

/* The kt-verify state folder of one log: <data>/audit/<hex of the first
 * 16 bytes of SHA-256(origin "\n" url)>, so another URL is another folder
 * (kt-verify refuses to re-point a state at another log). */
static kt_err
log_dir(const char *data, const char *origin, const char *url, char *buf,
    size_t cap)
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[33];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)origin, strlen(origin));
	crypto_hash_sha256_update(&st, (const uint8_t *)"\n", 1);
	crypto_hash_sha256_update(&st, (const uint8_t *)url, strlen(url));
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(hex, sizeof(hex), h, 16);
	return kt_fmt(buf, cap, "%s/audit/%s", data, hex);
}

/* One log's kt-verify state, configured with its URL and key. */
static kt_err
open_log(struct alog *l, const char *data, const struct kt_verifier *vk,
    const char *url, long timeout_s, char *detail, size_t cap)
{
	char dir[KT_VERIFY_PATH_MAX], key[KT_KEY_TEXT_MAX], err[512];
	struct kt_vresult r;
	kt_err e = KT_ERR_INTERNAL;

	if (kt_fmt(l->origin, sizeof(l->origin), "%s", vk->name) != KT_OK ||
	    kt_verifier_format(vk, key, sizeof(key)) != KT_OK ||
	    log_dir(data, vk->name, url, dir, sizeof(dir)) != KT_OK) {
		kt_msg(detail, cap, "--log-url %s: path too long", url);
		return KT_ERR_RANGE;
	}
	if ((e = kt_verify_open(dir, 1, &l->v, err, sizeof(err))) != KT_OK) {
		kt_msg(detail, cap, "audit state %s: %s", dir, err);
		return e;
	}
	kt_verify_set_timeouts(l->v, 10, timeout_s);
	kt_vresult_init(&r);
	if (kt_verify_init(l->v, url, key, NULL, &r) != KT_VERIFY_OK) {
		kt_msg(detail, cap, "--log-url %s: %s", url, r.msg);
		kt_vresult_free(&r);
		return KT_ERR_MALFORMED;
	}
	kt_vresult_free(&r);
	return KT_OK;
}

kt_err
kt_witness_auditor_open(const char *data, const struct kt_verifier *logs,
    const char *const *urls, size_t n, long timeout_s,
    struct kt_witness_auditor **out, char *detail, size_t cap)
{
	struct kt_witness_auditor *a;
	char dir[KT_VERIFY_PATH_MAX];
	kt_err e = KT_OK;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a) + n * sizeof(a->logs[0]))) == NULL) {
		kt_msg(detail, cap, "out of memory");
		return KT_ERR_NOMEM;
	}
	if (kt_fmt(dir, sizeof(dir), "%s/audit", data) != KT_OK ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST)) {
		kt_msg(detail, cap, "%s/audit: %s", data, strerror(errno));
		free(a);
		return KT_ERR_IO;
	}
	for (size_t i = 0; i < n && e == KT_OK; i++) {
		struct alog *l;

		if (urls[i] == NULL || find(a, logs[i].name) != NULL)
			continue;
		l = &a->logs[a->n];
		if ((e = open_log(l, data, &logs[i], urls[i], timeout_s, detail,
		         cap)) != KT_OK) {
			kt_verify_close(l->v);
			break;
		}
		pthread_mutex_init(&l->mu, NULL);
		a->n++;
	}
	if (e == KT_OK && a->n == 0) {
		kt_msg(detail, cap, "--audit needs a --log-url for a --log");
		e = KT_ERR_RANGE;
	}
	if (e != KT_OK) {
		kt_witness_auditor_close(a);
		return e;
	}
	*out = a;
	return KT_OK;
}

void
kt_witness_auditor_close(struct kt_witness_auditor *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		kt_verify_close(a->logs[i].v);
		pthread_mutex_destroy(&a->logs[i].mu);
	}
	free(a);
}

static int
audits(void *ctx, const char *origin)
{
	return find(ctx, origin) != NULL;
}

/* The audit of one checkpoint, under the log's mutex. */
static kt_err
audit(void *ctx, const char *origin, const char *note, size_t len,
    const uint8_t *pos_in, size_t pos_len, uint8_t *pos_out, size_t *out_len,
    char *detail, size_t cap)
{
	struct alog *l = find(ctx, origin);
	struct kt_vaudit_pos pos;
	struct kt_vresult r;
	enum kt_verify_outcome st;
	kt_err e = KT_ERR_INTERNAL;

	if (l == NULL)
		return KT_ERR_INTERNAL;
	if (pos_len == 0)
		kt_vaudit_pos_init(&pos);
	else if (kt_vaudit_pos_decode(pos_in, pos_len, &pos) != KT_OK) {
		kt_msg(detail, cap,
		    "the stored audit position of \"%s\" is corrupt", origin);
		return KT_ERR_IO;
	}
	kt_vresult_init(&r);
	pthread_mutex_lock(&l->mu);
	st = kt_verify_audit_to(l->v, note, len, &pos, &r);
	pthread_mutex_unlock(&l->mu);
	switch (st) {
	case KT_VERIFY_OK:
		e = kt_vaudit_pos_encode(&pos, pos_out, KT_WITNESS_POS_MAX,
		    out_len);
		if (e != KT_OK)
			kt_msg(detail, cap, "audit position: %s",
			    kt_strerror(e));
		break;
	case KT_VERIFY_ATTACK:
		/* The evidence is what the operator needs: name it. */
		kt_msg(detail, cap,
		    "the log's map heads do not follow (evidence: %s): %s",
		    r.evidence, r.msg);
		e = KT_ERR_VERIFY;
		break;
	case KT_VERIFY_FAILED:
	case KT_VERIFY_ERROR:
	case KT_VERIFY_KEY_CHANGED:
	case KT_VERIFY_STALE:
	case KT_VERIFY_UNWITNESSED:
	case KT_VERIFY_ABSENT:
		kt_msg(detail, cap, "cannot audit the log now: %s", r.msg);
		e = KT_ERR_BUSY;
		break;
	}
	kt_vresult_free(&r);
	return e;
}

void
kt_witness_auditor_ops(struct kt_witness_auditor *a,
    struct kt_witness_audit_ops *ops)
{
	ops->audits = audits;
	ops->audit = audit;
	ops->ctx = a;
}
