#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kt/fmt.h"

static const unsigned status_codes[KT_METRICS_NSTATUS - 1] = {
	200,
	304,
	400,
	401,
	403,
	404,
	405,
	409,
	413,
	415,
	500,
	503,
};

/* Upper bounds of the latency buckets, microseconds (last is +Inf). */
static const uint64_t lat_us[KT_METRICS_NLAT - 1] = {
	10,
	25,
	50,
	100,
	250,
	500,
	1000,
	2000,
	3000,
	5000,
	7500,
	10000,
	20000,
	50000,
	250000,
};

static const char *const route_names[KT_ROUTE_COUNT] = {
	[KT_ROUTE_KEYS_POST] = "keys_post",
	[KT_ROUTE_KEYS_BATCH] = "keys_batch",
	[KT_ROUTE_KEY_GET] = "key_get",
	[KT_ROUTE_KEY_HISTORY] = "key_history",
	[KT_ROUTE_CHECKPOINT] = "checkpoint",
	[KT_ROUTE_PROOF_INCLUSION] = "proof_inclusion",
	[KT_ROUTE_PROOF_CONSISTENCY] = "proof_consistency",
	[KT_ROUTE_ENTRIES] = "entries",
	[KT_ROUTE_TILE] = "tile",
	[KT_ROUTE_HEALTHZ] = "healthz",
	[KT_ROUTE_METRICS] = "metrics",
	[KT_ROUTE_LOG] = "log",
	[KT_ROUTE_KEY_ERASE] = "key_erase",
	[KT_ROUTE_MAP_PATH] = "map_path",
	[KT_ROUTE_MAP_AUDIT] = "map_audit",
	[KT_ROUTE_OTHER] = "other",
};

const char *
kt_metrics_route_name(enum kt_route r)
{
	return r < KT_ROUTE_COUNT ? route_names[r] : "other";
}

void
kt_metrics_init(struct kt_metrics *m)
{
	for (size_t r = 0; r < KT_ROUTE_COUNT; r++)
		for (size_t s = 0; s < KT_METRICS_NSTATUS; s++)
			atomic_init(&m->requests[r][s], 0);
	for (size_t i = 0; i < KT_METRICS_NLAT; i++) {
		atomic_init(&m->proof_hist[i], 0);
		atomic_init(&m->submit_hist[i], 0);
	}
	atomic_init(&m->proof_us_sum, 0);
	atomic_init(&m->submit_us_sum, 0);
	atomic_init(&m->busy_rejects, 0);
	atomic_init(&m->tokens, -1);
	atomic_init(&m->tokens_reload_ok, 1);
}

void
kt_metrics_request(struct kt_metrics *m, enum kt_route route, unsigned status)
{
	size_t s = KT_METRICS_NSTATUS - 1;

	if (route >= KT_ROUTE_COUNT)
		route = KT_ROUTE_OTHER;
	for (size_t i = 0; i < KT_METRICS_NSTATUS - 1; i++)
		if (status_codes[i] == status)
			s = i;
	atomic_fetch_add_explicit(&m->requests[route][s], 1,
	    memory_order_relaxed);
}

static void
observe(atomic_uint_fast64_t *hist, atomic_uint_fast64_t *sum, uint64_t us)
{
	size_t b = KT_METRICS_NLAT - 1;

	for (size_t i = 0; i < KT_METRICS_NLAT - 1; i++)
		if (us <= lat_us[i]) {
			b = i;
			break;
		}
	atomic_fetch_add_explicit(&hist[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(sum, us, memory_order_relaxed);
}

void
kt_metrics_proof_us(struct kt_metrics *m, uint64_t us)
{
	observe(m->proof_hist, &m->proof_us_sum, us);
}

void
kt_metrics_submit_us(struct kt_metrics *m, uint64_t us)
{
	observe(m->submit_hist, &m->submit_us_sum, us);
}

/* ---- rendering -------------------------------------------------------- */

struct out {
	char *p;
	size_t len, cap;
	int failed;
};

/* Makes room for n more bytes and a NUL; 0, or -1 (o failed) without
 * memory. */
static int
grow(struct out *o, size_t n)
{
	size_t ncap;
	char *np;

	if (n < o->cap - o->len)
		return 0;
	ncap = o->cap * 2 + n;
	np = realloc(o->p, ncap);
	if (np == NULL) {
		o->failed = 1;
		return -1;
	}
	o->p = np;
	o->cap = ncap;
	return 0;
}

/* Appends the formatted text, growing the buffer until it fits whole: a
 * metrics body is never cut. A format that fails (vsnprintf < 0) fails o
 * as a failed allocation does. */
static void voutf(struct out *o, const char *fmt, va_list ap) KT_PRINTF(2, 0);

static void
voutf(struct out *o, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (o->failed)
		return;
	for (;;) {
		va_copy(aq, ap);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, aq);
		va_end(aq);
		if (n < 0) {
			o->failed = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len)
			break;
		if (grow(o, (size_t)n) != 0)
			return;
	}
	o->len += (size_t)n;
}

static void outf(struct out *o, const char *fmt, ...) KT_PRINTF(2, 3);

static void
outf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	voutf(o, fmt, ap);
	va_end(ap);
}

/* Appends n bytes of p as they are. */
static void
outn(struct out *o, const char *p, size_t n)
{
	if (o->failed || grow(o, n) != 0)
		return;
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
hist_us(struct out *o, const char *name, const char *help,
    atomic_uint_fast64_t *hist, atomic_uint_fast64_t *sum)
{
	uint64_t cum = 0;

	outf(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (size_t i = 0; i < KT_METRICS_NLAT; i++) {
		cum += atomic_load_explicit(&hist[i], memory_order_relaxed);
		if (i < KT_METRICS_NLAT - 1)
			outf(o, "%s_bucket{le=\"%g\"} %llu\n", name,
			    (double)lat_us[i] / 1e6, (unsigned long long)cum);
		else
			outf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name,
			    (unsigned long long)cum);
	}
	outf(o, "%s_sum %.6f\n%s_count %llu\n", name,
	    (double)atomic_load_explicit(sum, memory_order_relaxed) / 1e6, name,
	    (unsigned long long)cum);
}

static void
render_store(struct out *o, const struct kt_metrics_log *log)
{
	outf(o,
	    "# HELP kt_tree_size Leaves in the latest checkpoint.\n"
	    "# TYPE kt_tree_size gauge\nkt_tree_size %llu\n",
	    (unsigned long long)log->tree_size);
	outf(o,
	    "# HELP kt_replica 1 for a read-only replica (kt-logd serve "
	    "--read-only: it serves the writer's data folder and takes no "
	    "writes), 0 for the writer.\n"
	    "# TYPE kt_replica gauge\nkt_replica %d\n",
	    log->replica ? 1 : 0);
	/* A replica never writes: alerts on these are the writer's. */
	if (!log->replica) {
		outf(o,
		    "# HELP kt_writable 1 while writes are accepted; 0 while "
		    "commits fail for lack of space (back to 1 by itself with "
		    "the next commit that succeeds), or after a failed sync of "
		    "the data file stopped them (restart kt-logd).\n"
		    "# TYPE kt_writable gauge\nkt_writable %d\n",
		    log->writable ? 1 : 0);
		outf(o,
		    "# HELP kt_no_space 1 while commits fail for lack of space "
		    "(a full disk, or the data file at max_db_size).\n"
		    "# TYPE kt_no_space gauge\nkt_no_space %d\n",
		    log->no_space ? 1 : 0);
	}
	outf(o,
	    "# HELP kt_db_bytes Bytes the LMDB environment uses.\n"
	    "# TYPE kt_db_bytes gauge\nkt_db_bytes %llu\n",
	    (unsigned long long)log->disk_bytes);
}

static void
render_seq(struct out *o, const struct kt_seq_stats *seq)
{
	uint64_t cum = 0;

	outf(o,
	    "# HELP kt_entries_appended_total Entries appended since "
	    "start.\n# TYPE kt_entries_appended_total counter\n"
	    "kt_entries_appended_total %llu\n",
	    (unsigned long long)seq->entries_appended);
	outf(o,
	    "# HELP kt_failed_batches_total Group commits that failed "
	    "(nothing of them written or acknowledged).\n"
	    "# TYPE kt_failed_batches_total counter\n"
	    "kt_failed_batches_total %llu\n",
	    (unsigned long long)seq->failed_batches);
	outf(o,
	    "# HELP kt_labels Labels in the key directory's map.\n"
	    "# TYPE kt_labels gauge\nkt_labels %llu\n",
	    (unsigned long long)seq->labels);
	outf(o,
	    "# HELP kt_map_seconds_total Time in the map's batch step (the "
	    "part of kt_commit_seconds that updates the map).\n"
	    "# TYPE kt_map_seconds_total counter\n"
	    "kt_map_seconds_total %.6f\n",
	    (double)seq->map_us_sum / 1e6);
	outf(o,
	    "# HELP kt_batch_size Entries per group commit (sum counts "
	    "appended entries).\n# TYPE kt_batch_size histogram\n");
	for (size_t i = 0; i < 16; i++) {
		cum += seq->batch_size_hist[i];
		if (i < 15)
			outf(o, "kt_batch_size_bucket{le=\"%llu\"} %llu\n",
			    1ull << i, (unsigned long long)cum);
	}
	outf(o,
	    "kt_batch_size_bucket{le=\"+Inf\"} %llu\n"
	    "kt_batch_size_sum %llu\nkt_batch_size_count %llu\n",
	    (unsigned long long)cum, (unsigned long long)seq->entries_appended,
	    (unsigned long long)seq->batches);
	cum = 0;
	outf(o,
	    "# HELP kt_commit_seconds Time of one group commit "
	    "(integrate, sign, durable commit).\n"
	    "# TYPE kt_commit_seconds histogram\n");
	for (size_t i = 0; i < 16; i++) {
		cum += seq->commit_us_hist[i];
		if (i < 15)
			outf(o, "kt_commit_seconds_bucket{le=\"%g\"} %llu\n",
			    50e-6 * (double)(1u << i), (unsigned long long)cum);
	}
	outf(o,
	    "kt_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "kt_commit_seconds_sum %.6f\nkt_commit_seconds_count %llu\n",
	    (unsigned long long)cum, (double)seq->commit_us_sum / 1e6,
	    (unsigned long long)seq->batches);
}

static void
render_writes(struct out *o, struct kt_metrics *m)
{
	outf(o,
	    "# HELP kt_busy_rejects_total Writes refused with 503 "
	    "because the queue was full.\n# TYPE kt_busy_rejects_total "
	    "counter\nkt_busy_rejects_total %llu\n",
	    (unsigned long long)atomic_load_explicit(&m->busy_rejects,
	        memory_order_relaxed));
	if (atomic_load(&m->tokens) < 0)
		return;
	outf(o,
	    "# HELP kt_tokens Write tokens in force.\n"
	    "# TYPE kt_tokens gauge\nkt_tokens %d\n",
	    atomic_load(&m->tokens));
	outf(o,
	    "# HELP kt_tokens_reload_ok 0 if the last reload (SIGHUP) of "
	    "the tokens file failed and the previous tokens stay in force.\n"
	    "# TYPE kt_tokens_reload_ok gauge\nkt_tokens_reload_ok %d\n",
	    atomic_load(&m->tokens_reload_ok));
}

static void
render_requests(struct out *o, struct kt_metrics *m)
{
	uint64_t v;

	outf(o,
	    "# HELP kt_http_requests_total HTTP requests answered, by "
	    "route and status.\n# TYPE kt_http_requests_total counter\n");
	for (size_t r = 0; r < KT_ROUTE_COUNT; r++)
		for (size_t s = 0; s < KT_METRICS_NSTATUS; s++) {
			v = atomic_load_explicit(&m->requests[r][s],
			    memory_order_relaxed);
			if (v == 0)
				continue;
			if (s < KT_METRICS_NSTATUS - 1)
				outf(o,
				    "kt_http_requests_total{route=\"%s\","
				    "status=\"%u\"} %llu\n",
				    route_names[r], status_codes[s],
				    (unsigned long long)v);
			else
				outf(o,
				    "kt_http_requests_total{route=\"%s\","
				    "status=\"other\"} %llu\n",
				    route_names[r], (unsigned long long)v);
		}
}

static void
render_log(struct out *o, struct kt_metrics *m,
    const struct kt_metrics_log *log)
{
	render_store(o, log);
	if (log->seq != NULL)
		render_seq(o, log->seq);
	hist_us(o, "kt_proof_seconds",
	    "Time to compute an inclusion or "
	    "consistency proof.",
	    m->proof_hist, &m->proof_us_sum);
	hist_us(o, "kt_submit_seconds",
	    "Time from submission to durable "
	    "integration (HTTP writes).",
	    m->submit_hist, &m->submit_us_sum);
	render_writes(o, m);
	render_requests(o, m);
}

/* ---- the witness client's series ---------------------------------------- */

/* A label value: the text format escapes '\\', '"' and newline. */
static void
label_value(struct out *o, const char *v)
{
	size_t n;

	for (;;) {
		n = strcspn(v, "\\\"\n");
		outn(o, v, n);
		v += n;
		if (*v == '\0')
			return;
		if (*v == '\n')
			outn(o, "\\n", 2);
		else if (*v == '"')
			outn(o, "\\\"", 2);
		else
			outn(o, "\\\\", 2);
		v++;
	}
}

/* One witness series' line: name{witness="..",url=".."<extra>} value,
 * the value formatted from fmt and what follows it. */
static void witness_line(struct out *o, const char *name,
    const struct kt_wclient_witness_stats *ws, const char *extra,
    const char *fmt, ...) KT_PRINTF(5, 6);

static void
witness_line(struct out *o, const char *name,
    const struct kt_wclient_witness_stats *ws, const char *extra,
    const char *fmt, ...)
{
	va_list ap;

	outf(o, "%s{witness=\"", name);
	label_value(o, ws->name);
	outf(o, "\",url=\"");
	label_value(o, ws->url);
	outf(o, "\"%s} ", extra);
	va_start(ap, fmt);
	voutf(o, fmt, ap);
	va_end(ap);
	outn(o, "\n", 1);
}

static void
render_wclient(struct out *o, const struct kt_wclient_stats *st)
{
	const struct kt_wclient_witness_stats *ws;
	size_t i;

	outf(o,
	    "# HELP kt_witness_requests_total Checkpoint submissions to "
	    "a witness, by outcome.\n"
	    "# TYPE kt_witness_requests_total counter\n");
	for (i = 0; i < st->n; i++) {
		ws = &st->w[i];
		witness_line(o, "kt_witness_requests_total", ws,
		    ",result=\"ok\"", "%" PRIu64, ws->ok);
		witness_line(o, "kt_witness_requests_total", ws,
		    ",result=\"fail\"", "%" PRIu64, ws->fail);
	}
	outf(o,
	    "# HELP kt_witness_conflicts_total 422 answers: the witness "
	    "holds a checkpoint inconsistent with the log's.\n"
	    "# TYPE kt_witness_conflicts_total counter\n");
	for (i = 0; i < st->n; i++)
		witness_line(o, "kt_witness_conflicts_total", &st->w[i], "",
		    "%" PRIu64, st->w[i].conflicts);
	outf(o,
	    "# HELP kt_witness_latency_seconds Duration of the last "
	    "submission.\n# TYPE kt_witness_latency_seconds gauge\n");
	for (i = 0; i < st->n; i++)
		witness_line(o, "kt_witness_latency_seconds", &st->w[i], "",
		    "%.3f", (double)st->w[i].latency_ms / 1000.0);
	outf(o,
	    "# HELP kt_witness_size Tree size the witness last reported "
	    "or cosigned.\n# TYPE kt_witness_size gauge\n");
	for (i = 0; i < st->n; i++)
		witness_line(o, "kt_witness_size", &st->w[i], "", "%" PRIu64,
		    st->w[i].size);
	outf(o,
	    "# HELP kt_witness_lag Log tree size minus the witness's "
	    "size.\n# TYPE kt_witness_lag gauge\n");
	for (i = 0; i < st->n; i++)
		witness_line(o, "kt_witness_lag", &st->w[i], "", "%" PRId64,
		    st->w[i].lag);
	outf(o,
	    "# HELP kt_witness_up 1 if the last submission was "
	    "cosigned.\n# TYPE kt_witness_up gauge\n");
	for (i = 0; i < st->n; i++)
		witness_line(o, "kt_witness_up", &st->w[i], "", "%d",
		    st->w[i].up ? 1 : 0);
	outf(o,
	    "# HELP kt_witness_cosigned_size Tree size of the cosigned "
	    "checkpoint served.\n# TYPE kt_witness_cosigned_size gauge\n"
	    "kt_witness_cosigned_size %" PRIu64 "\n"
	    "# HELP kt_witness_cosignatures Cosignatures on the checkpoint "
	    "served.\n# TYPE kt_witness_cosignatures gauge\n"
	    "kt_witness_cosignatures %zu\n",
	    st->cosigned_size, st->cosignatures);
}

/* ---- the bodies --------------------------------------------------------- */

static kt_err
out_open(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->p = malloc(8192);
	if (o->p == NULL)
		return KT_ERR_NOMEM;
	o->cap = 8192;
	o->p[0] = '\0';
	return KT_OK;
}

/* Hands the text over (*out, *len) or frees it after a failure. */
static kt_err
out_close(struct out *o, char **out, size_t *len)
{
	if (o->failed) {
		free(o->p);
		return KT_ERR_NOMEM;
	}
	*out = o->p;
	*len = o->len;
	return KT_OK;
}

kt_err
kt_metrics_body(struct kt_metrics *m, const struct kt_metrics_log *log,
    struct kt_wclient *wc, char **out, size_t *len)
{
	struct kt_wclient_stats st;
	struct out o;

	*out = NULL;
	*len = 0;
	if (out_open(&o) != KT_OK)
		return KT_ERR_NOMEM;
	render_log(&o, m, log);
	if (wc != NULL) {
		kt_wclient_stats(wc, &st);
		render_wclient(&o, &st);
	}
	return out_close(&o, out, len);
}
