/*
 * read_ops.c: the operator's endpoints. GET /healthz (200, or 503 once
 * writes have stopped) and GET /metrics (Prometheus text).
 */
#include <pthread.h>
#include <stdlib.h>

#include "http/internal.h"
#include "witness_client/witness_client.h"

void
read_ops_healthz(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct snapshot s;
	struct answer a = { 0 };
	int writable = kt_store_writable(api->store);

	if (!request_no_query(req, resp) || snapshot_begin(api, &s, resp) !=
	    KT_OK)
		return;
	/* Reads still work when writes have stopped, but the operator (and
	 * a load balancer) must notice: 503. */
	answer_lit(&a, writable ? "{\"status\":\"ok\",\"size\":" :
	    "{\"status\":\"writes stopped\",\"error\":\"a sync of the data "
	    "file failed after a commit; restart kt-logd\",\"size\":");
	answer_u64(&a, s.size);
	answer_lit(&a, "}\n");
	snapshot_end(&s);
	answer_json(resp, &a);
	if (!writable)
		resp->status = 503;
}

/* Appends the witness client's series to a rendered metrics body. */
static void
append_wclient_metrics(struct kt_wclient *wc, char **body, size_t *len)
{
	size_t need = 0, wlen = 0;
	char *nb;

	/* cap 0 only measures; counters may grow between the two calls */
	if (kt_wclient_metrics(wc, NULL, 0, &need) != KT_ERR_TOO_LARGE)
		return;
	need += 256;
	nb = realloc(*body, *len + need + 1);
	if (nb == NULL)
		return;
	*body = nb;
	if (kt_wclient_metrics(wc, nb + *len, need, &wlen) == KT_OK)
		*len += wlen;
	nb[*len] = '\0';
}

/*
 * The Prometheus text: kt-logd's own series, then the witness client's.
 * The one place /metrics calls into the code that writes them.
 */
static kt_err
metrics_text(struct kt_api *api, const struct kt_seq_stats *st,
    uint64_t size, char **body, size_t *len)
{
	kt_err e;

	e = kt_metrics_render(api->metrics, st, size,
	    kt_store_disk_bytes(api->store), kt_store_writable(api->store),
	    body, len);
	if (e == KT_OK && api->wclient != NULL)
		append_wclient_metrics(api->wclient, body, len);
	return e;
}

void
read_ops_metrics(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct snapshot s;
	struct kt_seq_stats st, *stp = NULL;
	uint64_t size;
	char *body;
	size_t len;

	if (!request_no_query(req, resp) || snapshot_begin(api, &s, resp) !=
	    KT_OK)
		return;
	size = s.size;
	snapshot_end(&s);
	pthread_rwlock_rdlock(&api->seq_lock);
	if (api->seq != NULL) {
		kt_seq_stats(api->seq, &st);
		stp = &st;
	}
	pthread_rwlock_unlock(&api->seq_lock);
	if (metrics_text(api, stp, size, &body, &len) != KT_OK) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	answer_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", body,
	    len);
}
