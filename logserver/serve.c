#include "serve.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "http/api.h"
#include "http/http.h"
#include "keyfile.h"
#include "log.h"
#include "metrics.h"
#include "sequencer.h"
#include "store/store.h"
#include "token.h"
#include "witness_client/witness_client.h"

/* ---- the witness client reads the log through these (its own thread) -- */

static kt_err
wc_latest(void *ctx, char *buf, size_t cap, size_t *len)
{
	struct kt_store_read *r = NULL;
	const char *note;
	kt_err e = kt_store_read_begin(ctx, &r);

	if (e != KT_OK)
		return e;
	e = kt_store_read_checkpoint(r, &note, len);
	if (e == KT_OK && *len > cap)
		e = KT_ERR_TOO_LARGE;
	if (e == KT_OK)
		memcpy(buf, note, *len); /* borrowed until read_end */
	kt_store_read_end(r);
	return e;
}

static kt_err
wc_consistency(void *ctx, uint64_t old, uint64_t new_size,
    struct kt_proof *out)
{
	struct kt_store_read *r = NULL;
	kt_err e = kt_store_read_begin(ctx, &r);

	if (e != KT_OK)
		return e;
	e = kt_store_consistency(r, old, new_size, out);
	kt_store_read_end(r);
	return e;
}

/*
 * SIGHUP: reads the tokens file again. A file that cannot be used keeps
 * the tokens in force (and says why, in the log and in
 * kt_tokens_reload_ok); one without a token line revokes them all. The
 * key, the listen address and the limits are read at start only.
 */
static void
reload_tokens(const struct kt_config *c, struct kt_api *api,
    struct kt_metrics *m, struct kt_tokens **tokens)
{
	struct kt_tokens *nt = NULL;
	char err[512];
	kt_err e;

	if (*tokens == NULL) {
		kt_log(KT_LOG_WARN, "sighup_ignored", "{s:s}", "reason",
		    "no tokens file to reload (the key and settings are read "
		    "at start only)");
		return;
	}
	e = kt_tokens_load(c->tokens, 1, &nt, err, sizeof err);
	if (e != KT_OK) {
		atomic_store(&m->tokens_reload_ok, 0);
		kt_log(KT_LOG_ERROR, "tokens_reload_failed", "{s:s, s:i}",
		    "error", err, "tokens_in_force",
		    (int)kt_tokens_count(*tokens));
		return;
	}
	kt_api_set_tokens(api, nt);
	kt_tokens_free(*tokens);
	*tokens = nt;
	atomic_store(&m->tokens, (int)kt_tokens_count(nt));
	atomic_store(&m->tokens_reload_ok, 1);
	kt_log(KT_LOG_INFO, "tokens_reloaded", "{s:i}", "tokens",
	    (int)kt_tokens_count(nt));
}

kt_err
kt_serve(const struct kt_config *c, FILE *out, char *err, size_t errlen)
{
	struct kt_signer *signer = NULL;
	struct kt_tokens *tokens = NULL;
	struct kt_store *store = NULL;
	struct kt_seq *seq = NULL;
	struct kt_api *api = NULL;
	struct kt_http *http = NULL;
	struct kt_wclient *wc = NULL;
	struct kt_store_read *r = NULL;
	static struct kt_metrics metrics;
	struct kt_verifier v;
	char vkey[KT_KEY_TEXT_MAX], host[256];
	uint16_t port;
	uint64_t size = 0;
	sigset_t sigs;
	int sig = 0;
	kt_err e;

	if (c->log_debug)
		kt_log_set_level(KT_LOG_DEBUG);
	/* Block the stop signals before any thread starts, so every thread
	 * inherits the mask and only sigwait below sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP); /* its default would kill the log */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	e = kt_config_split_listen(c->listen, host, sizeof host, &port);
	if (e != KT_OK) {
		snprintf(err, errlen, "listen address '%s' is not HOST:PORT",
		    c->listen);
		goto out;
	}
	e = kt_keyfile_load(c->key, &signer, err, errlen);
	if (e != KT_OK)
		goto out;
	kt_signer_verifier(signer, &v);
	e = kt_verifier_format(&v, vkey, sizeof vkey);
	if (e != KT_OK) {
		snprintf(err, errlen, "cannot format the verifier key");
		goto out;
	}
	if (c->tokens[0] != '\0') {
		/* No token line is allowed (every write is then refused)
		 * so that a log whose tokens were all revoked by a reload
		 * still starts; it is warned about below. */
		e = kt_tokens_load(c->tokens, 1, &tokens, err, errlen);
		if (e != KT_OK)
			goto out;
	}
	if (mkdir(c->data, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", c->data, strerror(errno));
		e = KT_ERR_IO;
		goto out;
	}
	e = kt_store_open(&store, c->data, kt_signer_name(signer), vkey, err,
	    errlen);
	if (e != KT_OK)
		goto out;
	{
		struct kt_seq_opts so = {
			.max_batch = c->seq_max_batch,
			.max_queue = c->seq_max_queue,
		};
		e = kt_seq_start(&seq, store, signer, &so);
		if (e != KT_OK) {
			snprintf(err, errlen, "cannot start the sequencer: %s",
			    kt_strerror(e));
			goto out;
		}
	}
	if (c->nwitnesses > 0) {
		struct kt_wclient_source src = { wc_latest, wc_consistency,
			store };
		struct kt_wclient_opts wo = {
			.interval_ms = c->witness_interval_ms,
			.quorum = c->witness_quorum,
		};
		e = kt_wclient_start(&wc, c->witnesses, c->nwitnesses, &src,
		    &wo);
		if (e != KT_OK) {
			snprintf(err, errlen, "cannot start the witness "
			    "client: %s", kt_strerror(e));
			goto out;
		}
	}
	kt_metrics_init(&metrics);
	if (tokens != NULL)
		atomic_store(&metrics.tokens, (int)kt_tokens_count(tokens));
	{
		struct kt_api_opts ao = {
			.store = store,
			.limits = &c->limits,
			.tokens = tokens,
			.allow_anonymous_writes = c->allow_anonymous_writes,
			.metrics = &metrics,
			.wclient = wc,
		};
		e = kt_api_new(&api, &ao);
		if (e != KT_OK) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	kt_api_set_seq(api, seq);
	{
		struct kt_http_opts ho = {
			.host = host,
			.port = port,
			.threads = c->threads,
			.limits = &c->limits,
			.api = api,
			.metrics = &metrics,
		};
		e = kt_http_start(&http, &ho, err, errlen);
		if (e != KT_OK)
			goto out;
	}
	e = kt_store_read_begin(store, &r);
	if (e != KT_OK) {
		snprintf(err, errlen, "cannot read the store: %s",
		    kt_strerror(e));
		goto out;
	}
	size = kt_store_read_size(r);
	kt_store_read_end(r);
	{
		char listen[300];
		if (strchr(host, ':') != NULL)
			snprintf(listen, sizeof listen, "[%s]:%u", host,
			    (unsigned)kt_http_port(http));
		else
			snprintf(listen, sizeof listen, "%s:%u", host,
			    (unsigned)kt_http_port(http));
		fprintf(out, "kt-logd: origin=%s vkey=%s listen=%s size=%llu\n",
		    kt_signer_name(signer), vkey, listen,
		    (unsigned long long)size);
		fflush(out);
		kt_log(KT_LOG_INFO, "start", "{s:s, s:s, s:s, s:I, s:b, s:i}",
		    "origin", kt_signer_name(signer), "vkey", vkey, "listen",
		    listen, "size", (json_int_t)size, "auth", tokens != NULL,
		    "tokens", (int)kt_tokens_count(tokens));
		if (tokens == NULL)
			kt_log(KT_LOG_WARN, c->allow_anonymous_writes ?
			    "anonymous_writes" : "writes_disabled", NULL);
		if (c->nwitnesses == 0 && c->witness_quorum > 1)
			kt_log(KT_LOG_WARN, "witness_quorum_unused", "{s:i}",
			    "witness_quorum", (int)c->witness_quorum);
		if (tokens != NULL && kt_tokens_count(tokens) == 0)
			kt_log(KT_LOG_WARN, "no_tokens", "{s:s}", "hint",
			    "the tokens file holds no token: every write is "
			    "refused (401) until one is added and kt-logd gets "
			    "SIGHUP");
	}

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		reload_tokens(c, api, &metrics, &tokens);
	}
	kt_log(KT_LOG_INFO, "stopping", "{s:s}", "signal",
	    sig == SIGINT ? "SIGINT" : "SIGTERM");
	e = KT_OK;
out:
	/* Order matters: stop accepting; detach and stop the sequencer (it
	 * commits what is queued and wakes every parked write); let those
	 * writes be answered; only then stop HTTP and close the store. */
	kt_http_quiesce(http);
	if (api != NULL)
		seq = kt_api_detach_seq(api);
	kt_seq_stop(seq);
	kt_http_stop(http, 5000);
	kt_wclient_stop(wc); /* its thread reads the store */
	kt_api_free(api);
	kt_store_close(store);
	kt_tokens_free(tokens);
	kt_signer_free(signer);
	if (e == KT_OK)
		kt_log(KT_LOG_INFO, "stopped", NULL);
	return e;
}
