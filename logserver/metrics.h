/*
 * metrics.h: kt-logd's counters and their Prometheus text rendering.
 * Counters are C11 atomics updated with relaxed ordering: HTTP workers and
 * the writer thread never take a lock to count.
 */
#ifndef KT_LOGSERVER_METRICS_H
#define KT_LOGSERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kt/err.h"
#include "sequencer.h"

enum kt_route {
	KT_ROUTE_KEYS_POST = 0,
	KT_ROUTE_KEYS_BATCH,
	KT_ROUTE_KEY_GET,
	KT_ROUTE_KEY_HISTORY,
	KT_ROUTE_CHECKPOINT,
	KT_ROUTE_PROOF_INCLUSION,
	KT_ROUTE_PROOF_CONSISTENCY,
	KT_ROUTE_ENTRIES,
	KT_ROUTE_TILE,
	KT_ROUTE_HEALTHZ,
	KT_ROUTE_METRICS,
	KT_ROUTE_OTHER,
	KT_ROUTE_COUNT
};

#define KT_METRICS_NSTATUS 13 /* status codes counted, plus "other" */
#define KT_METRICS_NLAT 16    /* latency histogram buckets (last: +Inf) */

struct kt_metrics {
	atomic_uint_fast64_t requests[KT_ROUTE_COUNT][KT_METRICS_NSTATUS];
	/* proof generation time (inclusion, consistency, proofs in answers) */
	atomic_uint_fast64_t proof_hist[KT_METRICS_NLAT];
	atomic_uint_fast64_t proof_us_sum;
	/* submission to durable integration, as the HTTP layer sees it */
	atomic_uint_fast64_t submit_hist[KT_METRICS_NLAT];
	atomic_uint_fast64_t submit_us_sum;
	atomic_uint_fast64_t busy_rejects;  /* 503 because the queue was full */
	/* write tokens in force, and whether the last reload (SIGHUP) could
	 * use the file; -1 tokens: no tokens file (not rendered) */
	atomic_int tokens;
	atomic_int tokens_reload_ok;
};

void kt_metrics_init(struct kt_metrics *m);

/* Counts one answered request. */
void kt_metrics_request(struct kt_metrics *m, enum kt_route route,
    unsigned status);

/* Records one proof generation / one submission, in microseconds. */
void kt_metrics_proof_us(struct kt_metrics *m, uint64_t us);
void kt_metrics_submit_us(struct kt_metrics *m, uint64_t us);

/* The route's name as used in the "route" label. */
const char *kt_metrics_route_name(enum kt_route r);

/*
 * Renders everything in Prometheus text format 0.0.4 into a malloc'd
 * NUL-terminated buffer (*out, *len; free() it). seq may be NULL;
 * writable is 0 once writes stopped (see kt_store_writable).
 */
KT_MUST_CHECK kt_err kt_metrics_render(struct kt_metrics *m,
    const struct kt_seq_stats *seq, uint64_t tree_size, uint64_t disk_bytes,
    int writable, char **out, size_t *len);

#endif /* KT_LOGSERVER_METRICS_H */
