/*
 * metrics.h: kt-logd's counters and all of its Prometheus text: the log's
 * own series and the witness client's (from kt_wclient_stats).
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
#include "witness_client/witness_client.h"

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
	KT_ROUTE_LOG,
	KT_ROUTE_KEY_ERASE,
	KT_ROUTE_MAP_PATH,
	KT_ROUTE_MAP_AUDIT,
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
	atomic_uint_fast64_t busy_rejects; /* 503 because the queue was full */
	/* write tokens in force, and whether the last reload (SIGHUP) could
	 * use the file; -1 tokens: no tokens file (not rendered) */
	atomic_int tokens;
	atomic_int tokens_reload_ok;
};

void kt_metrics_init(struct kt_metrics *m);

/* Counts one answered request. */
void
kt_metrics_request(struct kt_metrics *m, enum kt_route route, unsigned status);

/* Records one proof generation / one submission, in microseconds. */
void kt_metrics_proof_us(struct kt_metrics *m, uint64_t us);
void kt_metrics_submit_us(struct kt_metrics *m, uint64_t us);

/* The route's name as used in the "route" label. */
const char *kt_metrics_route_name(enum kt_route r);

/* What the log reports at render time, besides the counters. */
struct kt_metrics_log {
	const struct kt_seq_stats *seq; /* NULL: no sequencer (stopping);
					   its series are left out */
	uint64_t tree_size;             /* leaves in the latest checkpoint */
	uint64_t disk_bytes;            /* see kt_store_disk_bytes */
	int writable;                   /* 0 while writes fail (see
					   kt_store_write_state) */
	int no_space;                   /* 1 while commits fail for lack
					   of space (KT_ERR_FULL) */
	int replica;                    /* a read-only replica: kt_replica
					   1, no kt_writable or kt_no_space */
};

/*
 * Renders the complete /metrics body, Prometheus text format 0.0.4, into a
 * malloc'd NUL-terminated buffer (*out, *len; free() it): the log's series
 * (kt_tree_size, kt_replica, kt_writable and kt_no_space (not on a
 * replica), kt_db_bytes, the sequencer's, kt_proof_seconds,
 * kt_submit_seconds, kt_busy_rejects_total, kt_tokens and
 * kt_tokens_reload_ok when there is a tokens file, kt_http_requests_total),
 * then, when wc is not NULL, the witness client's, each labelled
 * witness="<key name>",url="<url>" (escaped as the text format requires):
 *   kt_witness_requests_total{...,result="ok"|"fail"}  counter
 *   kt_witness_conflicts_total{...}   counter: 422 answers
 *   kt_witness_latency_seconds{...}   gauge: the last request's duration
 *   kt_witness_size{...}              gauge: the witness's tree size
 *   kt_witness_lag{...}               gauge: log tree size - witness size
 *   kt_witness_up{...}                gauge: 1 if the last one succeeded
 *   kt_witness_cosigned_size, kt_witness_cosignatures  gauges: the served
 *       cosigned checkpoint's tree size and cosignature count
 * (see struct kt_wclient_witness_stats). KT_ERR_NOMEM; *out is then NULL.
 */
KT_MUST_CHECK kt_err kt_metrics_body(struct kt_metrics *m,
    const struct kt_metrics_log *log, struct kt_wclient *wc, char **out,
    size_t *len);

#endif /* KT_LOGSERVER_METRICS_H */
