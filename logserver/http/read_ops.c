/*
 * read_ops.c: the operator's endpoints. GET /healthz (200, or 503 once
 * writes have stopped; a read replica says "read_only") and GET /metrics
 * (Prometheus text).
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
	kt_err state = kt_store_write_state(api->store);

	if (!request_no_query(req, resp) ||
	    snapshot_begin(api, &s, resp) != KT_OK)
		return;
	/* Reads still work when writes fail, but the operator (and a load
	 * balancer) must notice: 503, naming why. */
	if (state == KT_OK)
		answer_lit(&a, "{\"status\":\"ok\",\"size\":");
	else if (state == KT_ERR_FULL)
		answer_lit(&a,
		    "{\"status\":\"writes failing\",\"error\":\"no space "
		    "left: the disk or the size limit (max_db_size) is full, "
		    "so commits fail; free space or raise the limit, and "
		    "writes resume with the next commit that succeeds\","
		    "\"size\":");
	else
		answer_lit(&a,
		    "{\"status\":\"writes stopped\",\"error\":\"a sync of "
		    "the data file failed after a commit; restart "
		    "kt-logd\",\"size\":");
	answer_u64(&a, s.size);
	/* A load balancer or an operator tells replicas apart. */
	answer_lit(&a, api->read_only ? ",\"read_only\":true}\n" : "}\n");
	snapshot_end(&s);
	answer_json(resp, &a);
	if (state != KT_OK && resp->status == 200) {
		resp->status = 503;
		resp->retry_after = state == KT_ERR_FULL ? 10 : 0;
	}
}

/* The log's public identity: what a client pins at init (from a source
 * it trusts; this answer lets it compare). */
void
read_ops_log(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct answer a = { 0 };

	if (!request_no_query(req, resp))
		return;
	answer_lit(&a, "{\"origin\":");
	answer_str(&a, api->origin, strlen(api->origin));
	answer_lit(&a, ",\"verifier_key\":");
	answer_str(&a, api->vkey, strlen(api->vkey));
	answer_lit(&a, ",\"vrf_public_key\":");
	answer_b64(&a, api->vrf_public, sizeof api->vrf_public);
	answer_lit(&a, "}\n");
	answer_json(resp, &a);
}

void
read_ops_metrics(struct kt_api *api, const struct kt_api_req *req,
    struct kt_api_resp *resp)
{
	struct snapshot s;
	struct kt_seq_stats st, *stp = NULL;
	struct kt_metrics_log log;
	uint64_t size;
	char *body;
	size_t len;

	if (!request_no_query(req, resp) ||
	    snapshot_begin(api, &s, resp) != KT_OK)
		return;
	size = s.size;
	snapshot_end(&s);
	pthread_rwlock_rdlock(&api->seq_lock);
	if (api->seq != NULL) {
		kt_seq_stats(api->seq, &st);
		stp = &st;
	}
	pthread_rwlock_unlock(&api->seq_lock);
	log.seq = stp;
	log.tree_size = size;
	log.disk_bytes = kt_store_disk_bytes(api->store);
	log.writable = kt_store_writable(api->store);
	log.no_space = kt_store_write_state(api->store) == KT_ERR_FULL;
	log.replica = api->read_only;
	if (kt_metrics_body(api->metrics, &log, api->wclient, &body, &len) !=
	    KT_OK) {
		kt_api_error(resp, KT_ERR_NOMEM, "out of memory; retry later");
		return;
	}
	answer_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", body,
	    len);
}
