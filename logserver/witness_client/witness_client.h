/*
 * witness_client.h: kt-logd's witness client (C2SP tlog-witness, client
 * side). Its files: parse.c (the "--witness" and interval values),
 * protocol.c (the tlog-witness request and answer bytes), transport.c (the
 * HTTP requests; the only logserver file that includes curl/curl.h) and
 * witness_client.c (the rounds, the cosigned checkpoint).
 *
 * One thread submits the log's newest checkpoint to every configured witness
 * with POST <url>/add-checkpoint, all witnesses in parallel, tracks each
 * witness's tree size so that it sends the right consistency proof, follows
 * 409 answers ("old" was not the witness's size: it learns the size from
 * the body and retries once at once), verifies every cosignature it gets
 * back against that witness's key, and keeps the newest checkpoint that has
 * enough cosignatures, with the cosignature lines appended after the log's
 * signature (still a valid C2SP signed note).
 *
 * Timing: the source is polled every interval_ms, and at once after
 * kt_wclient_notify. Submissions go in rounds, at most one round per
 * interval: a round takes the newest checkpoint and sends it once to every
 * witness that has not cosigned it (a witness still busy with an earlier
 * request gets it when that ends), so all witnesses cosign the same
 * checkpoint and a busy log does not flood them; after an idle spell a new
 * checkpoint goes out at once. A failed submission is retried in the next
 * round. Every request has a connect and a total timeout and a response
 * size cap: a slow or dead witness delays only itself. The thread holds no
 * lock during I/O or while calling the source; readers
 * (kt_wclient_checkpoint, kt_wclient_stats) take one mutex for a short
 * copy and never wait for the network.
 *
 * State changes (a witness starts or stops failing, a 422 that may reveal a
 * split view) go to kt-logd's log (log.h) as "witness" events.
 */
#ifndef KT_LOGSERVER_WITNESS_CLIENT_H
#define KT_LOGSERVER_WITNESS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "kt/merkle.h"
#include "kt/note.h"

#define KT_WCLIENT_MAX 32       /* witnesses per log (note holds 64 sigs) */
#define KT_WCLIENT_URL_MAX 1024 /* bytes in a witness URL, with its NUL */

struct kt_wclient;

/* One witness: where to submit, and the key its cosignatures must verify
 * under (type KT_KEY_COSIG). */
struct kt_wclient_cfg {
	char url[KT_WCLIENT_URL_MAX]; /* http(s) prefix, NUL-terminated, no
					 trailing '/'; requests go to
					 url + "/add-checkpoint" */
	struct kt_verifier key;
};

/*
 * Parses a "--witness" argument "URL=VERIFIERKEY" (len bytes, no NUL
 * needed), e.g. "http://127.0.0.1:7380=witness1+1a2b3c4d+BAB...". The URL
 * must start with http:// or https:// and hold no spaces or control
 * characters; a trailing '/' is dropped. The key must be a cosignature
 * verifier key (type 0x04). URL and key are split at the first '=' after
 * which a valid verifier key follows, so a URL may itself contain '='.
 * KT_ERR_MALFORMED (bad URL or key, or key of another type),
 * KT_ERR_TOO_LARGE (URL too long).
 */
KT_MUST_CHECK kt_err kt_wclient_parse_spec(const char *spec, size_t len,
    struct kt_wclient_cfg *out);

/*
 * Parses a duration for "--witness-interval": decimal digits followed by
 * "ms", "s" or "m" (e.g. "500ms", "1s", "2m"); a bare number is seconds.
 * Result in milliseconds, 1 ms to 24 h. KT_ERR_MALFORMED or KT_ERR_RANGE.
 */
KT_MUST_CHECK kt_err kt_wclient_parse_interval(const char *text, size_t len,
    unsigned *ms);

/*
 * The log the client witnesses. Both callbacks are called from the client's
 * thread only, never with a client lock held; they may block briefly (a
 * store read) but should not wait on the network.
 *
 * latest: writes the log's newest signed checkpoint note (exact C2SP text,
 * signed by the log) into buf (cap bytes); *len gets its length. Return
 * KT_ERR_NOT_FOUND if the log has no checkpoint yet (nothing is submitted),
 * another error to skip this poll. cap is KT_NOTE_MAX.
 *
 * consistency: the RFC 9162 consistency proof from tree size old to
 * new_size (old <= new_size <= the size of a note `latest` returned; old may
 * be 0 or equal new_size, giving an empty proof).
 */
typedef kt_err (
    *kt_wclient_latest_fn)(void *ctx, char *buf, size_t cap, size_t *len);
typedef kt_err (*kt_wclient_consistency_fn)(void *ctx, uint64_t old,
    uint64_t new_size, struct kt_proof *out);

struct kt_wclient_source {
	kt_wclient_latest_fn latest;
	kt_wclient_consistency_fn consistency;
	void *ctx;
};

struct kt_wclient_opts {
	unsigned interval_ms;        /* poll/submit interval; 0: 1000 */
	unsigned connect_timeout_ms; /* per request; 0: 2000 */
	unsigned timeout_ms;         /* whole request; 0: 5000 */
	/*
	 * Cosignatures a NEWER checkpoint needs before it replaces the one
	 * being served (0: 1; more than the witnesses: KT_ERR_RANGE). Set it
	 * to the clients' quorum so that
	 * kt_wclient_checkpoint never moves to a checkpoint they would refuse;
	 * cosignatures arriving later for the served checkpoint are added.
	 */
	unsigned quorum;
	/*
	 * An unchanged checkpoint is resubmitted to a witness whose
	 * cosignature is older than this (0: 60000), so cosignature times
	 * keep advancing while the log is idle and clients that bound their
	 * age (kt-verify --max-age) keep accepting it.
	 */
	unsigned refresh_ms;
};

/*
 * Starts the client thread for n (1..KT_WCLIENT_MAX) witnesses ws[0..n)
 * (copied). src (copied; src->ctx must outlive the client) supplies
 * checkpoints and proofs; opts may be NULL for the defaults. Calls
 * curl_global_init. KT_ERR_RANGE (n), KT_ERR_MALFORMED (a key not of type
 * KT_KEY_COSIG, a NULL callback), KT_ERR_NOMEM, KT_ERR_INTERNAL (curl or
 * thread start failed). On error *out is NULL.
 */
KT_MUST_CHECK kt_err kt_wclient_start(struct kt_wclient **out,
    const struct kt_wclient_cfg *ws, size_t n,
    const struct kt_wclient_source *src, const struct kt_wclient_opts *opts);

/*
 * Wakes the client to poll the source now (e.g. after a commit). Cheap,
 * thread-safe, never blocks; calls while a wake-up is pending coalesce.
 * Accepts NULL.
 */
void kt_wclient_notify(struct kt_wclient *w);

/*
 * Copies the newest cosigned checkpoint into buf (cap bytes; KT_NOTE_MAX is
 * always enough), NUL-terminated; *len (if non-NULL) gets its length
 * without the NUL; *size (if non-NULL) gets its tree size. It is the log's
 * note with one verified cosignature line per witness that cosigned it
 * appended. KT_ERR_NOT_FOUND if no checkpoint has reached the quorum yet,
 * KT_ERR_TOO_LARGE if cap is too small. Thread-safe; a short mutex copy.
 * w may be NULL (no witnesses configured): KT_ERR_NOT_FOUND.
 */
KT_MUST_CHECK kt_err kt_wclient_checkpoint(struct kt_wclient *w, char *buf,
    size_t cap, size_t *len, uint64_t *size);

/* One witness's counters, as of one kt_wclient_stats call. */
struct kt_wclient_witness_stats {
	const char *name;    /* its key name; valid until kt_wclient_stop */
	const char *url;     /* as configured; valid until kt_wclient_stop */
	uint64_t ok;         /* submissions that ended in a verified
				 cosignature */
	uint64_t fail;       /* submissions that did not (network, timeout,
				 HTTP error, invalid answer; a 409 followed
				 by a retry counts once) */
	uint64_t conflicts;  /* 422 answers: the witness holds a checkpoint
				 inconsistent with ours (investigate) */
	uint64_t latency_ms; /* duration of the last submission */
	uint64_t size;       /* the witness's tree size, as last reported or
				 cosigned */
	int64_t lag;         /* the log's tree size minus size (0 while the
				 log's size is not known yet) */
	int up;              /* 1 if the last submission was cosigned */
};

struct kt_wclient_stats {
	size_t n; /* witnesses, in configuration order */
	struct kt_wclient_witness_stats w[KT_WCLIENT_MAX];
	uint64_t cosigned_size; /* tree size of the cosigned checkpoint
				     served (0: none yet) */
	size_t cosignatures;    /* cosignatures on it */
};

/*
 * Copies the counters into *out (metrics.c renders them as Prometheus
 * text). Thread-safe; a short mutex copy. w may be NULL (no witnesses):
 * out->n is 0 and every value 0.
 */
void kt_wclient_stats(struct kt_wclient *w, struct kt_wclient_stats *out);

/* Stops the thread (abandons requests in flight at once), frees. Accepts
 * NULL. Calls curl_global_cleanup. */
void kt_wclient_stop(struct kt_wclient *w);

#endif /* KT_LOGSERVER_WITNESS_CLIENT_H */
